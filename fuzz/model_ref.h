// SPDX-License-Identifier: BSD-3-Clause
// The reference model of §16 of docs/behavior.md for the differential driver (format 5,
// driver_ref.c): discardable VMOs (§16.2), zx_vmo_set_stream_size (§16.3) and the
// checks of ZX_VMO_CHILD_REFERENCE (§16.1). Like model.c it is written from the
// reference alone and shares nothing with src/.
//
// Discardable VMOs are roots with `discardable` set (model.h). Their lock count, whether
// they are reclaimable (unlocked to zero since their last LOCK) and when that happened
// (`unlocked_at`, a counter), and whether they are discarded. Discarding needs memory
// pressure, which the reference defines as the page budget (D60): the driver makes it
// deterministic by one operation (m_disc_pressure) that sets the budget to the pages in
// use exactly and then writes one byte into a fresh one-page VMO, so that the write needs
// exactly one page more than the budget allows.
//
// A REFERENCE child is a slice (model.h, MK_SLICE with `ref`) over the whole of the
// non-reference VMO it shares pages with: every access goes to that VMO's slots as for
// a slice, and its size, content size and resizability are copied from that VMO
// whenever they change (m_ref_sync), whichever side changed them. References of
// pager-backed VMOs are checked, then closed by the driver (not modelled).
#ifndef ZXVMO_FUZZ_MODEL_REF_H_
#define ZXVMO_FUZZ_MODEL_REF_H_

#include <zircon/syscalls.h>

#include "model.h"

// ---- hooks for model.c ----
// §16.2 LOCK, TRY_LOCK, UNLOCK on v (rights of the handle as given); `buf_bad`: LOCK's
// buffer is NULL or too small. *ls (if not NULL) receives LOCK's answer.
zx_status_t m_disc_op(model_t* m, mvmo_t* v, zx_rights_t rights, uint32_t op, uint64_t off,
                      uint64_t len, bool buf_bad, zx_vmo_lock_state_t* ls);
// §16.1 checks 2-6 for a REFERENCE child of p once §4 rules 1-6 passed: the status
// (ZX_OK: the model makes it), or M_UNMODELLED when the library must succeed but the
// model does not keep it (a pager-backed parent: its pager serving references after
// the pager VMO's death is not modelled).
zx_status_t m_ref_child(model_t* m, mvmo_t* p, uint32_t options, uint64_t offset,
                        uint64_t size, bool out_null);

// The VMO whose pages, size and content size v shares: its root if v is a reference.
mvmo_t* m_ref_target(model_t* m, mvmo_t* v);
// t's size, content size or resizability changed: its references follow.
void m_ref_sync(model_t* m, mvmo_t* t);

// ---- entry points ----
// LOCK, TRY_LOCK, UNLOCK through zx_vmo_op_range(h, ...).
zx_status_t m_vmo_lock_op(model_t* m, int h, uint32_t op, uint64_t off, uint64_t len,
                          bool buf_bad, zx_vmo_lock_state_t* ls);
// The rights of a REFERENCE child's handle made from a parent handle with `prights`
// (§2).
zx_rights_t m_ref_rights(zx_rights_t prights, uint32_t options);
// §16.3 zx_vmo_set_stream_size.
zx_status_t m_set_stream_size(model_t* m, int h, uint64_t stream_size);
// An operation needed one page more than the budget allows (D60): reclaimable
// discardable VMOs without a pinned page are discarded whole, the least recently
// unlocked first, until one frees a page. ZX_OK if one did (the operation then gets
// its page), ZX_ERR_NO_MEMORY if none did.
zx_status_t m_disc_pressure(model_t* m);
// Whether some VMO would be evicted from or asked pages under pressure (a pager VMO):
// the driver makes no pressure then (eviction order is the library's, D47).
bool m_has_pager_pages(const model_t* m);

#endif  // ZXVMO_FUZZ_MODEL_REF_H_
