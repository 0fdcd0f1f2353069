// SPDX-License-Identifier: BSD-3-Clause
// The VMO properties stored in the VMO itself: ZX_PROP_VMO_CONTENT_SIZE.
#include "vmo.h"

zx_status_t vmo_get_content_size(zx_object_t* obj, uint64_t* out) {
  vmo_t* v = vmo_from_obj(obj);
  family_rdlock(v->fam);
  *out = v->content_size;
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
  if (st == ZX_OK) v->content_size = size;
  vmo_after_op_locked(v->fam);
  family_unlock(v->fam);
  return st;
}
