// SPDX-License-Identifier: BSD-3-Clause
// The VMO properties stored in the VMO itself: ZX_PROP_VMO_CONTENT_SIZE, and the same
// size as zx_vmo_set_stream_size sets it (Zircon's content size is its stream size).
#include "vmo.h"

zx_status_t vmo_get_content_size(zx_object_t* obj, uint64_t* out) {
  vmo_t* v = vmo_from_obj(obj);
  family_rdlock(v->fam);
  *out = vmo_csm(v)->content_size;  // a reference shares its root's
  family_unlock(v->fam);
  return ZX_OK;
}

zx_status_t vmo_set_content_size(zx_object_t* obj, uint64_t size) {
  vmo_t* v = vmo_from_obj(obj);
  // Driver memory has no content size to set, as on Zircon (docs/behavior.md §10, §15):
  // cutting it would zero, or drop, memory a device owns. Both flags are fixed at
  // creation.
  if (v->physical || v->contiguous) return ZX_ERR_NOT_SUPPORTED;
  // A pager VMO's page cut in the middle must be supplied before its tail is zeroed.
  uint64_t tail_len = (size & PAGE_MASK) ? PAGE_SIZE - (size & PAGE_MASK) : 0;
  zx_status_t st = vmo_wrlock_for_zero(v, size, tail_len);
  if (st != ZX_OK) return st;
  if (st == ZX_OK && !v->alive) st = ZX_ERR_BAD_HANDLE;
  // Zircon allows a content size past the VMO's size; one below it zeroes the rest.
  if (st == ZX_OK && size < v->size) st = vmo_zero_locked(v, size, v->size - size);
  if (st == ZX_OK) vmo_csm(v)->content_size = size;
  vmo_after_op_locked(v->fam);
  family_unlock(v->fam);
  return st;
}

zx_status_t vmo_set_stream_size(vmo_t* v, uint64_t size, bool uncached) {
  family_t* fam = v->fam;
  for (;;) {
    // What to zero depends on the current stream size: read it, prepare the pager's
    // partial page for that range, and start again if it changed meanwhile.
    family_rdlock(fam);
    bool alive = v->alive;
    uint64_t old = vmo_csm(v)->content_size, vsize = v->size;
    family_unlock(fam);
    if (!alive) return ZX_ERR_BAD_HANDLE;
    if (size == old) return ZX_OK;
    if (size > vsize) return ZX_ERR_OUT_OF_RANGE;  // the VMO is never resized
    uint64_t from = min_u64(size, old);
    // Refused before a pager is asked for the partial page: nothing changes (§16.3).
    if (uncached && from < vsize) return ZX_ERR_BAD_STATE;
    zx_status_t st = vmo_wrlock_for_zero(v, from, vsize - from);
    if (st != ZX_OK) return st;
    if (!v->alive) {
      st = ZX_ERR_BAD_HANDLE;
    } else if (vmo_csm(v)->content_size != old || v->size != vsize) {
      family_unlock(fam);
      continue;
    } else if (from < vsize) {
      // Everything past the smaller of the two sizes reads as zero afterwards.
      st = uncached ? ZX_ERR_BAD_STATE : vmo_zero_locked(v, from, vsize - from);
    }
    if (st == ZX_OK) vmo_csm(v)->content_size = size;
    vmo_after_op_locked(fam);
    family_unlock(fam);
    return st;
  }
}
