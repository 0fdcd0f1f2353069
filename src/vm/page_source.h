// SPDX-License-Identifier: BSD-3-Clause
// Page sources: where the pages of a pager-backed VMO come from (zx_pager_*).
//
// A page source belongs to one pager VMO, the root of its family (family_t.source):
// the family's index space is the pager VMO's page offsets. An access that needs a
// page the root does not hold (an "absent" page) asks the source for it and blocks
// until the pager supplies it or fails it; TRAP_DIRTY writes ask the same way before
// dirtying a clean page.
//
// Requests. A request covers a page range [lo, hi) for one command (READ or DIRTY).
// The first access to need an absent page that no outstanding request of its command
// covers creates one and queues its packet on the pager's port; later accesses that
// need a page inside it wait on it instead (a range is never requested twice while
// outstanding). A request stays outstanding until it is resolved: every page it
// covers is supplied (or, for DIRTY, dirtied) or gone (past the VMO's size), the
// pager fails a range overlapping it, or the source is detached. Waiters then retry
// their access from the start, under the family lock again; what they find decides.
//
// Lifetimes. A source is counted: the root VMO holds one reference, its pager's list
// one, each request one. A request is counted too: each waiter holds one, and its
// packet one while it sits in the port.
//
// Locking. `lock` (a mutex) guards the request list and the state; it is taken with
// or without the family lock held (family lock -> source lock), and the port's lock is
// taken inside it (source lock -> port lock). Waiters sleep with no family lock held:
// a pager that never answers blocks its waiters, never anyone else.
#ifndef ZXVMO_SRC_PAGE_SOURCE_H_
#define ZXVMO_SRC_PAGE_SOURCE_H_

#include "object.h"
#include "port.h"

typedef struct page_source page_source_t;
typedef struct page_request page_request_t;

// A new source of the pager with koid `pager`, sending its packets to `port` with
// `key` (it takes a reference on the port). NULL if memory ran out. The caller holds
// the one reference.
page_source_t* source_create(zx_koid_t pager, port_t* port, uint64_t key, bool trap_dirty);
// The koid of the pager the source belongs to.
zx_koid_t source_pager(const page_source_t* s);
void source_ref(page_source_t* s);
void source_unref(page_source_t* s);
bool source_trap_dirty(const page_source_t* s);
// Detached: no request will be made again; absent pages fail (source_request_locked
// gives ZX_ERR_BAD_STATE).
bool source_detached(page_source_t* s);

// An access (with the family lock held, either side) needs pages [lo, hi) for
// `command` (ZX_PAGER_VMO_READ or ZX_PAGER_VMO_DIRTY), lo being the first page it
// lacks and hi the end of the run it lacks. Returns ZX_OK and a request to wait on
// with source_wait once the family lock is dropped; or ZX_ERR_BAD_STATE (detached),
// ZX_ERR_NO_MEMORY (no memory for a new request: nothing was sent).
zx_status_t source_request_locked(page_source_t* s, uint32_t command, uint64_t lo,
                                  uint64_t hi, page_request_t** out);
// Blocks (no family lock held) until `r` is resolved and drops the caller's
// reference. ZX_OK: retry the access. Otherwise the status the access fails with.
zx_status_t source_wait(page_request_t* r);

// Resolves, with ZX_OK, every outstanding request of `command` (0: of either
// command) overlapping [lo, hi)
// whose every page satisfies `done(ctx, page)`. The caller holds the family lock
// exclusively and has just made pages of [lo, hi) present (supply), dirty (OP_DIRTY)
// or gone (a shrink).
void source_resolve_locked(page_source_t* s, uint32_t command, uint64_t lo, uint64_t hi,
                           bool (*done)(void* ctx, uint64_t page), void* ctx);
// ZX_PAGER_OP_FAIL: every outstanding request (READ or DIRTY) that starts in [lo, hi)
// fails with `status`; those that merely overlap it are resolved with ZX_OK (their
// waiters ask again for what is still missing, as Zircon does).
void source_fail(page_source_t* s, uint64_t lo, uint64_t hi, zx_status_t status);
// Detaches the source: every outstanding request is resolved (its waiters look again
// and fail with ZX_ERR_BAD_STATE where pages are missing), packets the pager has not
// read are taken back and, if `complete`, one ZX_PAGER_VMO_COMPLETE packet is queued.
// The source lets go of its port. Idempotent (later calls do nothing).
void source_detach(page_source_t* s, bool complete);

#endif  // ZXVMO_SRC_PAGE_SOURCE_H_
