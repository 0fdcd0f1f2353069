// SPDX-License-Identifier: BSD-3-Clause
// VMO objects and their families: the COW tree.
//
// A VMO is one of four kinds:
//   ROOT      made by zx_vmo_create;
//   SNAPSHOT  a copy-on-write child that behaves as an eager copy (SNAPSHOT and
//             SNAPSHOT_AT_LEAST_ON_WRITE of an ordinary VMO);
//   ONEWAY    a copy-on-write child that keeps seeing its parent's pages until it
//             writes them (zx_vmo_clone, and SNAPSHOT_AT_LEAST_ON_WRITE of a one-way
//             VMO);
//   SLICE     a window onto the pages of a non-slice VMO (its `root`). A reference
//             (ZX_VMO_CHILD_REFERENCE, `reference` set) is a slice at offset 0 whose
//             size, resizability and content size are its root's, always.
//
// Pages. Every non-slice VMO owns a page map (`map`). All maps of a family use one
// index space: page i of a VMO is index `base + i`, and a child's base is its
// parent's base plus the child's offset in pages, so maps can share subtrees at the
// same positions. A VMO's view at index i is: its own map's page; else, for ONEWAY,
// if i < cut, its backing VMO's view at i; else zero. A zero marker (g_zero_page) in
// a one-way map hides the backing without holding memory.
//
// Invariants (checked by vmo_check_family):
//   - every page in a map lies inside its owner's window [base, base + size/PAGE),
//     and, if the owner is dead (kept only for its slices), inside some slice's window;
//     so no page is held that no VMO can read. Exception: a dead VMO still `pending`
//     (its settling ran out of metadata memory, see vmo.c "Death") keeps its map and
//     one-way children until the next exclusive operation on the family settles it;
//   - node and page reference counts equal the references found by walking the family;
//   - `backing` is alive (or pending, or dead and kept for its slices, or a pager VMO
//     kept for its children), lists this VMO among its one-way children, and
//     base <= cut <= backing's window end (or cut == base: nothing shows through);
//   - user tree: `parent` is alive and lists this VMO; num_children is the length of
//     `children`; ZX_VMO_ZERO_CHILDREN is asserted iff num_children == 0;
//   - a reference is a slice at offset 0 with its root's size and resizability, and
//     the root's `nrefs` counts them;
//   - a discardable VMO is a root without children of any kind; it is locked iff
//     UNRECLAIMABLE, and holds no page while DISCARDED (vmo_discard.c).
//
// Families. A family is every VMO descended from one zx_vmo_create. Its rwlock
// guards every (f) field of its VMOs, their maps, nodes and pages. Readers of page
// contents take it shared; anything that changes a map, a size or a link takes it
// exclusive. Families never merge or split, so a VMO's family is constant.
//
// Lock order: family lock -> object lock (object.h, leaf) and family lock -> pool lock
// (page_pool.c, leaf). The handle table's shard locks are never held while taking a
// family lock.
//
// Legend: (c) constant after creation, (f) family lock, (a) atomic.
#ifndef ZXVMO_SRC_VMO_H_
#define ZXVMO_SRC_VMO_H_

#include <pthread.h>

#include <zircon/syscalls-next.h>

#include "object.h"
#include "page_map.h"
#include "rwlock.h"
#include "zero_ranges.h"

typedef enum vmo_kind { VMO_ROOT, VMO_SNAPSHOT, VMO_ONEWAY, VMO_SLICE } vmo_kind_t;

typedef struct vmo vmo_t;

// A VMO's ZX_INFO_VMO attribution figures (docs/behavior.md §10) and the number of
// nodes of its page map, as cached by vmo_attribution.c.
typedef struct vmo_attr {
  uint64_t committed, priv, scaled, frac, nodes;
} vmo_attr_t;

typedef struct family {
  rw_lock_t lock;              // phase-fair: see rwlock.h
#if ZXVMO_CHECKS
  pthread_t writer;            // (lock) the thread holding `lock` exclusively
  bool has_writer;             // (lock)
#endif
  _Atomic uint64_t refs;       // (a) VMO structs of the family not yet destroyed
  vmo_t* members;              // (f) VMOs whose map is live (content holders)
  vmo_t* pending;              // (f) dead members not yet settled, via `pd` (vmo.c)
  vmo_t* drops;                // (f) VMOs with references to drop, via `drop_next`
  uint64_t member_count;       // (f)
  uint64_t epoch;              // (f) scratch generation for walkers
  uint64_t ops_since_check;    // (f)
  // (f, written exclusively) bumped by every operation that takes the lock exclusively
  // (vmo_after_op_locked): a value read under the lock identifies the family's state.
  uint64_t gen;
  // ZX_INFO_VMO (vmo_attribution.c) runs with `lock` held shared; info_lock, taken on
  // its write side only (a mutex), serialises queries among themselves, and with
  // `lock` shared guards the walkers' scratch (see family_walk.h), which readers of
  // contents never touch. All-zero is unlocked and it holds no resource, so
  // family_new's zeroed allocation is all it needs and family_release nothing.
  rw_lock_t info_lock;
  struct home* homes;          // (f) homes of the family's mapped VMOs (home.h)
  // (c) Pager-backed families: the page source of the root, the pager VMO, whose page
  // offsets are the family's indices (page_source.h, vmo_pager.c). NULL otherwise.
  struct page_source* source;
  bool pager_modified;         // (f) the pager VMO was written or resized since reset
  zr_set_t zr;                 // (f) the pager VMO's zero ranges (zero_ranges.h)
  uint64_t clock_hand;         // (f) where the evictor looks next (vmo_pager.c)
  struct family* pg_next;      // (pager registry lock) pager families, for eviction
  struct family* pg_prev;
  struct family* g_next;       // (global family list lock)
  struct family* g_prev;
} family_t;

// Doubly linked list link.
typedef struct vlink {
  vmo_t* next;
  vmo_t* prev;
} vlink_t;

struct vmo {
  zx_object_t obj;
  family_t* fam;               // (c)
  vmo_kind_t kind;             // (c)
  bool resizable;              // (c)
  bool legacy;                 // (c) made by zx_vmo_clone: DECOMMIT reveals the parent
  bool immutable;              // (c) SNAPSHOT | NO_WRITE
  bool alive;                  // (f) has open handles
  bool member;                 // (f) in fam->members: its map may hold pages
  bool pending;                // (f) dead and not yet settled: on fam->pending
  // (c) A SLICE made by ZX_VMO_CHILD_REFERENCE: offset 0, `size` kept equal to its
  // root's by every resize (vmo_set_size), `resizable` its root's; its content size
  // is its root's (vmo_csm). Invariant: reference => kind == SLICE && slice_off == 0
  // && size == root->size && resizable == root->resizable.
  bool reference;

  // User tree: live parent and live children (re-homed when a VMO dies).
  vmo_t* parent;               // (f)
  vmo_t* children;             // (f) list head, linked through `sib`
  vlink_t sib;                 // (f)
  uint64_t num_children;       // (f)

  uint64_t size;               // (f) bytes, a multiple of PAGE_SIZE
  uint64_t content_size;       // (f) bytes

  // Content of non-slice VMOs.
  pmap_t map;                  // (f)
  uint64_t base;               // (c) index of page 0 in the family's index space
  vmo_t* backing;              // (f) ONEWAY: the VMO seen through, holds a reference
  uint64_t cut;                // (f) ONEWAY: indices >= cut never show `backing`
  vmo_t* oneway_children;      // (f) VMOs whose backing is this one, via `ow`
  vlink_t ow;                  // (f)
  vmo_t* slices;               // (f) slices windowing this VMO, via `sl`
  vlink_t sl;                  // (f)
  uint64_t nrefs;              // (f) live references among `slices`
  vlink_t fm;                  // (f) fam->members link
  vlink_t pd;                  // (f) fam->pending link
  uint64_t drops;              // (f) references to drop once settling is done
  vmo_t* drop_next;            // (f) fam->drops link while drops > 0

  // Scratch for the checker: stamped when found in a parent's / backing's list.
  uint64_t mark_sib;           // (f)
  uint64_t mark_ow;            // (f)
  // Scratch for attribution: what a one-way VMO sees through its backing, sorted.
  struct vis_entry* through;   // (f)
  size_t through_n;            // (f)
  // Attribution cache (vmo_attribution.c; fam->info_lock): this VMO's figures, valid
  // while attr_gen == fam->gen + 1 (0: never computed).
  uint64_t attr_gen;
  vmo_attr_t attr;

  // Mappings (src/vmar/mapping.c).
  struct home* home;           // (f) non-slice VMOs once mapped: where mapped pages live
  uint64_t mapping_count;      // (f) mappings of this VMO (num_mappings)

  // Slices.
  vmo_t* root;                 // (c) non-slice VMO whose pages this windows; holds a reference
  uint64_t slice_off;          // (c) in pages, relative to root's page 0

  // Driver memory (vmo_driver.c). A physical VMO is a slice of the hidden VMO that
  // holds the emulated physical memory, with no user parent (`phys_top`); its slices
  // are physical too. A contiguous VMO is a root, committed whole at creation. Both
  // have an emulated physical address for their page 0 (slices: of theirs).
  bool physical;               // (c)
  bool phys_top;               // (c) made by zx_vmo_create_physical
  bool contiguous;             // (c)
  uint64_t paddr;              // (c) physical and contiguous VMOs
  // ZX_CACHE_POLICY_*: changed under the family lock (exclusive), read without it by
  // the syscall layer's checks.
  _Atomic uint32_t cache_policy;
  // Content owners: the pins on their pages (vmo_pin_t, family indices).
  struct vmo_pin* pins;        // (f)

  // Discardable VMOs (ZX_VMO_DISCARDABLE, vmo_discard.c): always roots with no child.
  bool discardable;            // (c)
  // (f, and the discard list lock to change) DISC_*: UNSET until first unlocked;
  // RECLAIMABLE iff on the discard list (unlocked, lock_count == 0); UNRECLAIMABLE
  // while locked; DISCARDED: its pages were dropped, accesses fail until LOCK.
  uint8_t dstate;
  uint32_t lock_count;         // (f) outstanding ZX_VMO_OP_LOCKs
  vlink_t dl;                  // (discard list lock) LRU list of reclaimable VMOs
  uint64_t dl_pass;            // (discard list lock) the last discarding pass that saw it
};

enum { DISC_UNSET, DISC_RECLAIMABLE, DISC_UNRECLAIMABLE, DISC_DISCARDED };
// True if accesses to content `c`'s pages must fail: discarded and not locked since.
static inline bool vmo_discarded(const vmo_t* c) { return c->dstate == DISC_DISCARDED; }

// A pinned range of a content owner's pages, [lo, hi) in family indices, linked on
// the owner (`pins`) while the pin lasts: its pages cannot be decommitted, evicted or
// cut, and no snapshot of the owner can be made (vmo_driver.c).
typedef struct vmo_pin {
  uint64_t lo, hi;
  vmo_t* owner;                // the content owner, NULL while not linked
  struct vmo_pin* next;        // (owner's family lock)
} vmo_pin_t;

static inline vmo_t* vmo_from_obj(zx_object_t* o) { return (vmo_t*)o; }

// The family lock. Functions ending in _locked expect it held (exclusively if they
// change anything); in checking builds, family_assert_exclusive() verifies that the
// calling thread is the exclusive holder. It is not recursive: a thread holding it
// (either side) must not take it again, not even the read side (rwlock.h); checking
// builds assert this.
static inline void family_wrlock(family_t* f) {
  rw_wrlock(&f->lock);
#if ZXVMO_CHECKS
  f->writer = pthread_self();
  f->has_writer = true;
#endif
}
static inline void family_rdlock(family_t* f) { rw_rdlock(&f->lock); }
static inline void family_unlock(family_t* f) {
#if ZXVMO_CHECKS
  // Readers never see has_writer set: no writer holds the lock while they do.
  if (f->has_writer) f->has_writer = false;
#endif
  rw_unlock(&f->lock);
}
static inline void family_assert_exclusive(const family_t* f) {
#if ZXVMO_CHECKS
  ZX_ASSERT(f->has_writer && pthread_equal(f->writer, pthread_self()));
#else
  (void)f;
#endif
}
static inline uint64_t vmo_pages(const vmo_t* v) { return v->size >> PAGE_SHIFT; }
// The pager VMO of a pager-backed family: the only VMO whose missing pages come from
// a pager rather than reading as zero.
static inline bool vmo_is_pager_root(const vmo_t* v) {
  return v->fam->source != NULL && v->kind == VMO_ROOT;
}

// ---- vmo.c: lifecycle and the tree ----
// Creates a root VMO of `size` bytes (page multiple) with `content_size`.
// The caller owns the single reference. ZX_ERR_NO_MEMORY on allocation failure.
zx_status_t vmo_create(uint64_t size, uint64_t content_size, bool resizable, vmo_t** out);

typedef struct vmo_child_args {
  vmo_kind_t kind;       // SNAPSHOT, ONEWAY or SLICE (SNAPSHOT may become ONEWAY)
  bool reference;        // with SLICE: ZX_VMO_CHILD_REFERENCE (offset and size 0)
  bool legacy;           // zx_vmo_clone
  bool resizable;
  bool no_write;
  bool copy_name;        // parent handle had GET_PROPERTY
  bool at_least_on_write;  // SNAPSHOT_AT_LEAST_ON_WRITE (or an alias) was asked for
  bool modified;           // SNAPSHOT_MODIFIED was asked for
  bool out_is_null;      // the caller's out pointer is NULL: check everything, create nothing
  uint64_t offset;       // bytes, page aligned
  uint64_t size;         // bytes, page multiple
  uint64_t content_size;
} vmo_child_args_t;
// Creates a child of `parent` per docs/behavior.md §4-§5. Checks that depend on the
// parent's state are made under the family lock: NOT_SUPPORTED, INVALID_ARGS (slice
// containment, accumulated offset), BAD_HANDLE if the parent died meanwhile.
zx_status_t vmo_create_child(vmo_t* parent, const vmo_child_args_t* a, vmo_t** out);
extern const object_ops_t g_vmo_ops;
// A slice of non-slice, non-resizable `r` at page `off_pages`, `size` bytes, with no
// user parent (physical VMOs, vmo_driver.c). The caller owns the one reference.
zx_status_t vmo_create_window(vmo_t* r, uint64_t off_pages, uint64_t size, vmo_t** out);

// Resolves the content behind `v` for page-level access: the VMO owning the map and
// the family index of v's page 0.
static inline vmo_t* vmo_content(vmo_t* v, uint64_t* idx0) {
  if (v->kind == VMO_SLICE) {
    *idx0 = v->root->base + v->slice_off;
    return v->root;
  }
  *idx0 = v->base;
  return v;
}

// The VMO holding v's size and content size: a reference's root, else v itself.
static inline vmo_t* vmo_csm(vmo_t* v) { return v->reference ? v->root : v; }

struct page_request;

// ---- vmo_pages.c: contents (callers hold a reference; each takes the family lock) ----
zx_status_t vmo_read(vmo_t* v, void* buf, uint64_t off, uint64_t len);
zx_status_t vmo_write(vmo_t* v, const void* buf, uint64_t off, uint64_t len);
zx_status_t vmo_get_size(vmo_t* v, uint64_t* size);
// `size` is the requested byte size; the VMO becomes round_up(size) bytes.
zx_status_t vmo_set_size(vmo_t* v, uint64_t size);
zx_status_t vmo_commit(vmo_t* v, uint64_t off, uint64_t len);
// vmo_commit that does not wait for a pager: ZX_ERR_SHOULD_WAIT with *req (to wait on
// with source_wait, then call again) if a pager must supply pages first. For callers
// that hold other locks (the address space's) and must drop them to wait.
zx_status_t vmo_commit_or_ask(vmo_t* v, uint64_t off, uint64_t len,
                              struct page_request** req);
zx_status_t vmo_decommit(vmo_t* v, uint64_t off, uint64_t len);
zx_status_t vmo_zero(vmo_t* v, uint64_t off, uint64_t len);
// Takes v's family lock exclusively, first having a pager supply (and agree to
// dirty) the pages that zeroing [off, off + len) writes only in part, waiting as
// needed. ZX_OK with the lock held; otherwise the error, lock released.
zx_status_t vmo_wrlock_for_zero(vmo_t* v, uint64_t off, uint64_t len);
// vmo_zero with the family lock held exclusively (pager pages prepared).
zx_status_t vmo_zero_locked(vmo_t* v, uint64_t off, uint64_t len);
zx_status_t vmo_lookup(vmo_t* v, uint64_t off, uint64_t len, zx_paddr_t* out, size_t n);
// ZX_ERR_OUT_OF_RANGE unless [off, off+len) lies inside the VMO.
zx_status_t vmo_check_range(vmo_t* v, uint64_t off, uint64_t len);
// The page visible at family index `idx` of content `c` (NULL: zero).
page_t* vmo_view_locked(vmo_t* c, uint64_t idx);

// Makes the leaf of every index in [lo, hi) of `m` exclusive (creating missing ones),
// so that setting pages there allocates nothing. False if metadata memory ran out;
// then the map reads as before and holds no empty node. Family lock held exclusively.
bool vmo_prepare_leaves_locked(pmap_t* m, uint64_t lo, uint64_t hi);
// Frees the nodes vmo_prepare_leaves_locked created in [lo, hi) and left empty.
void vmo_unprepare_leaves_locked(pmap_t* m, uint64_t lo, uint64_t hi);

// ---- vmo_pager.c: pager-backed families (page_source.h) ----
// Creates a pager VMO: a root whose missing pages are asked of `src` (the new VMO
// takes over the caller's reference on it, also on failure).
zx_status_t vmo_create_pager(uint64_t size, uint64_t content_size, bool resizable,
                             struct page_source* src, vmo_t** out);
// The pages of content `c` in family indices [lo, hi) that a READ request must bring
// in first: ZX_OK if none (always, outside pager-backed families). Otherwise asks the
// source for the first absent run (which may extend to `run_max`, the end of the
// whole access, when the caller works in chunks) and returns ZX_ERR_SHOULD_WAIT with
// *req, on which
// the caller waits with source_wait() after dropping the family lock, then retries;
// or the error the access fails with (ZX_ERR_BAD_STATE once detached, NO_MEMORY).
// With `req` NULL nothing is asked: ZX_ERR_SHOULD_WAIT only tells that something
// would be. Family lock held, either side.
zx_status_t vmo_pager_need_locked(vmo_t* c, uint64_t lo, uint64_t hi, uint64_t run_max,
                                  struct page_request** req);
// The same for a write to pages [lo, hi) of the pager root itself when it traps
// dirtying: the first run of pages not yet dirty gets a DIRTY request (for a
// `commit`, only pages of zero ranges, which a commit turns into dirty pages).
zx_status_t vmo_pager_need_dirty_locked(vmo_t* c, uint64_t lo, uint64_t hi, bool commit,
                                        struct page_request** req);
// Content c's pages [lo, hi) are about to be written (or committed), which may take
// them out of the pager VMO's zero ranges: makes room for that. False: no memory.
bool vmo_pager_reserve_locked(vmo_t* c);
// Content c's pages [lo, hi) were written (or, with `commit`, committed): on the
// pager VMO they are dirty pages now, out of any zero range (and a write counts as a
// modification). Needs vmo_pager_reserve_locked first.
void vmo_pager_written_locked(vmo_t* c, uint64_t lo, uint64_t hi, bool commit);
// The pager VMO v was resized from old_end to new_end pages: growth is a dirty zero
// range, and what a shrink cut is gone (requests for it are over). Needs
// vmo_pager_reserve_locked first.
void vmo_pager_resized_locked(vmo_t* v, uint64_t old_end, uint64_t new_end);
// Whole pages [lo, hi) of the pager VMO were zeroed (their pages dropped): they are a
// dirty zero range, and requests for them are answered. Needs the reservation.
void vmo_pager_zeroed_locked(vmo_t* c, uint64_t lo, uint64_t hi);
// zx_pager_supply_pages: moves the pages of `aux` at [aux_off, aux_off + len) into
// pager VMO `v` at [off, off + len) where v lacks them (pages v has are kept; aux's
// are dropped), and leaves aux without its own pages there. A page aux cannot give
// away (shared, mapped) is copied; where aux shows no page, v gets zeros. Ranges are
// page aligned (checked by the caller); ZX_ERR_OUT_OF_RANGE if one does not lie
// inside its VMO, ZX_ERR_BAD_STATE once v is detached. Takes each family's lock in
// turn, aux's first: on a later failure aux has lost its pages there (as Zircon
// allows), v is unchanged.
zx_status_t vmo_supply_pages(vmo_t* v, uint64_t off, uint64_t len, vmo_t* aux,
                             uint64_t aux_off);
// Eviction: with a page budget set, drops clean pages of pager VMOs that were not read
// since the last look (a clock per family), so that an operation that failed for the
// budget can be retried. Called with no family lock held. True if it freed any page.
bool vmo_evict_for_budget(void);
// Marks the pager VMO's pages [lo, hi) as recently read (the evictor spares them once).
// Family lock held, either side.
void vmo_pager_touch_locked(vmo_t* c, uint64_t lo, uint64_t hi);
// Registry of pager families (vmo_pager.c): a family leaves it when released.
void vmo_pager_unregister(family_t* fam);
// zx_pager_detach_vmo: detaches v's source (page_source.h) and drops its clean pages.
void vmo_pager_detach(vmo_t* v);
// The checks every pager op on v's byte range makes first: ZX_OK, or BAD_HANDLE,
// OUT_OF_RANGE, BAD_STATE (detached, when `attached` is asked for). Lock held.
zx_status_t vmo_pager_op_check_locked(vmo_t* v, uint64_t off, uint64_t len, bool attached);
// ---- vmo_pager_dirty.c: dirty tracking and write-back ----
// zx_pager_op_range on pager VMO v, the range page aligned (checked by the caller):
// FAIL fails the requests starting in the range with `status`; DIRTY dirties supplied
// pages (ZX_ERR_NOT_FOUND if one is absent); WRITEBACK_BEGIN / END move dirty pages to
// awaiting-clean / awaiting-clean pages to clean, and dirty zero ranges to awaiting /
// awaiting zero ranges to absent (with `only_zero`, BEGIN leaves pages alone).
zx_status_t vmo_pager_fail(vmo_t* v, uint64_t off, uint64_t len, zx_status_t status);
zx_status_t vmo_pager_op_dirty(vmo_t* v, uint64_t off, uint64_t len);
zx_status_t vmo_pager_writeback(vmo_t* v, uint64_t off, uint64_t len, bool begin,
                                bool only_zero);
// zx_pager_query_dirty_ranges: fills out[0 .. cap) with the first dirty ranges of the
// pages covering [off, off + len), *actual how many, *avail how many in all.
zx_status_t vmo_pager_dirty_ranges(vmo_t* v, uint64_t off, uint64_t len,
                                   zx_vmo_dirty_range_t* out, size_t cap, size_t* actual,
                                   size_t* avail);
// zx_pager_query_vmo_stats: whether v was modified since the last reset.
zx_status_t vmo_pager_stats(vmo_t* v, bool reset, bool* modified);
// Drops the family lock, waits for `req` and returns what source_wait() says.
zx_status_t vmo_pager_wait(family_t* fam, struct page_request* req);

// ---- vmo_driver.c: physical and contiguous VMOs, pins ----
// The emulated physical address space physical VMOs can window: [0, PHYS_SPACE).
#define PHYS_SPACE ((uint64_t)1 << 40)
// A physical VMO over [paddr, paddr + size) (page aligned, inside PHYS_SPACE): two
// over the same range show the same bytes, which persist for the process's life.
zx_status_t vmo_create_physical(uint64_t paddr, uint64_t size, vmo_t** out);
// A contiguous VMO of `size` bytes (page multiple, > 0), committed, at an emulated
// physical address aligned to 1 << align_log2. ZX_ERR_NO_MEMORY.
zx_status_t vmo_create_contiguous(uint64_t size, uint64_t content_size, uint32_t align_log2,
                                  vmo_t** out);
// Syscall layer (syscalls_vmo.c): hands new VMO `v` (whose only reference the caller
// owns) to a new handle with `rights` in *out; on failure v dies unseen.
zx_status_t vmo_publish(vmo_t* v, zx_rights_t rights, zx_handle_t* out);
// Commits [off, off + len) of v (page aligned, inside v; waiting for a pager as
// needed) and links `pin` on v's content owner. ZX_ERR_OUT_OF_RANGE if v shrank
// meanwhile, ZX_ERR_BAD_HANDLE if it died, NO_MEMORY, or a pager's failure.
zx_status_t vmo_pin(vmo_t* v, uint64_t off, uint64_t len, vmo_pin_t* pin);
// Undoes vmo_pin: the pages may be decommitted again.
void vmo_unpin(vmo_pin_t* pin);
// True if any page of content owner c in [lo, hi) is pinned. Family lock held.
bool vmo_pinned_locked(const vmo_t* c, uint64_t lo, uint64_t hi);
// zx_vmo_set_cache_policy's state checks and change: ZX_ERR_BAD_STATE (see there).
zx_status_t vmo_set_cache_policy(vmo_t* v, uint32_t policy);
// `size` bytes of emulated RAM addresses, aligned to 1 << align_log2: never handed out
// twice, above PHYS_SPACE (device addresses of pins of ordinary VMOs). 0 (never a RAM
// address) when no such range is left below 2^64: the caller fails with NO_MEMORY, as
// Zircon does when no memory is aligned as asked.
uint64_t vmo_ram_alloc(uint64_t size, uint32_t align_log2);
// The device address of byte `off` of a physical or contiguous VMO.
static inline uint64_t vmo_paddr(const vmo_t* v, uint64_t off) { return v->paddr + off; }
// What driver memory refuses of page operation `op` (COMMIT, DECOMMIT, ZERO: the same
// numbers as ZX_VMO_OP_* and ZX_VMAR_OP_*), whether asked of the VMO or through a
// mapping: physical memory is neither committed, dropped nor zeroed (NOT_SUPPORTED),
// and uncached memory is not zeroed through the cache (BAD_STATE). ZX_OK otherwise.
zx_status_t vmo_driver_op_check(const vmo_t* v, uint32_t op);

// ---- vmo_discard.c: discardable VMOs ----
// ZX_VMO_OP_LOCK / TRY_LOCK / UNLOCK on v past the rights check, in Zircon's order:
// NOT_SUPPORTED (not discardable), OUT_OF_RANGE (not exactly the whole VMO), then
// TRY_LOCK's UNAVAILABLE (discarded) or UNLOCK's BAD_STATE (not locked). LOCK fills
// *ls (offset, size, and the discarded range: all of it, or 0 and 0).
zx_status_t vmo_lock_op(vmo_t* v, uint32_t op, uint64_t off, uint64_t len,
                        zx_vmo_lock_state_t* ls);
// Undoes a successful ZX_VMO_OP_LOCK of v whose result could not be handed back
// (as Zircon does: a discarded VMO locked and unlocked so is discarded no more).
void vmo_lock_undo(vmo_t* v);
// Takes dying v off the discard list. Family lock held exclusively.
void vmo_discard_unlist_locked(vmo_t* v);
// Discards the least recently unlocked discardable VMOs that are reclaimable and
// have no pinned page, until one freed pages. Called with no family lock held. True
// if any page was freed.
bool vmo_discard_for_budget(void);

// ---- vmo_attribution.c: ZX_INFO_VMO ----
zx_status_t vmo_get_info(zx_object_t* obj, zx_rights_t rights, uint32_t topic, void* buffer,
                         size_t buffer_size, size_t* actual, size_t* avail);
// ---- vmo_property.c ----
zx_status_t vmo_get_content_size(zx_object_t* obj, uint64_t* out);
zx_status_t vmo_set_content_size(zx_object_t* obj, uint64_t size);
// zx_vmo_set_stream_size past its syscall checks: ZX_OK at once if `size` is the
// stream size already, ZX_ERR_OUT_OF_RANGE past the VMO's size, else zeroes from the
// smaller of the old and new stream sizes to the VMO's end (ZX_ERR_BAD_STATE instead
// if that is not empty and `uncached`) and sets it. ZX_ERR_NO_MEMORY changes nothing.
zx_status_t vmo_set_stream_size(vmo_t* v, uint64_t size, bool uncached);
// ---- vmo_check.c ----
// Verifies every invariant of the family; prints the first violation and returns
// ZX_ERR_INTERNAL, or ZX_ERR_NO_MEMORY if it had no memory to check. Caller holds
// the family lock exclusively.
zx_status_t vmo_check_family_locked(family_t* fam);
// In checking builds, runs the checker after an operation (amortised for very large
// families) and aborts on a violation. Caller holds the lock exclusively.
void vmo_after_op_locked(family_t* fam);

// Settles the family's dead VMOs as far as memory allows and drops the references
// that frees (vmo.c, "Death"). Run by vmo_after_op_locked. The caller holds a
// reference on some VMO of the family.
void family_settle_locked(family_t* fam);

// Global family list, for zxvmo_check_invariants and stats.
void family_list_add(family_t* fam);
void family_list_remove(family_t* fam);
// Locks every family exclusively at once (in list order, under the global list lock:
// no other code holds two family locks), runs fn on each until one fails, then
// `all` (if not NULL and all passed) while everything is still locked.
typedef zx_status_t (*family_visit_fn)(family_t* fam, void* ctx);
zx_status_t family_list_visit(family_visit_fn fn, zx_status_t (*all)(void* ctx), void* ctx);
uint64_t vmo_count_alive(void);
// Takes (releases) the global list lock and every family lock, for fork(): the child
// then sees every family between operations.
void family_list_lock_all(void);
void family_list_unlock_all(void);

// List helpers.
#define VLIST_PUSH(head, v, field)         \
  do {                                     \
    (v)->field.prev = NULL;                \
    (v)->field.next = (head);              \
    if (head) (head)->field.prev = (v);    \
    (head) = (v);                          \
  } while (0)
#define VLIST_REMOVE(head, v, field)                                 \
  do {                                                               \
    if ((v)->field.prev) {                                           \
      (v)->field.prev->field.next = (v)->field.next;                 \
    } else {                                                         \
      (head) = (v)->field.next;                                      \
    }                                                                \
    if ((v)->field.next) (v)->field.next->field.prev = (v)->field.prev; \
    (v)->field.next = (v)->field.prev = NULL;                        \
  } while (0)

#endif  // ZXVMO_SRC_VMO_H_
