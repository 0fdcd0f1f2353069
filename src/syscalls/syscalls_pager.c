// SPDX-License-Identifier: BSD-3-Clause
// The pager syscalls: argument and rights checks in Zircon's order (docs/behavior.md
// §14), then the pager object (pager.h) and the VM side (vmo_pager.c).
#include <zircon/syscalls-next.h>
#include <zircon/syscalls.h>

#include "handle.h"
#include "os.h"
#include "pager.h"
#include "user_copy.h"
#include "vmo.h"

#define PAGER_VMO_OPTIONS (ZX_VMO_RESIZABLE | ZX_VMO_TRAP_DIRTY | ZX_VMO_UNBOUNDED)

ZX_API zx_status_t zx_pager_create(uint32_t options, zx_handle_t* out) {
  if (process_forked()) return ZX_ERR_BAD_STATE;  // docs/behavior.md §17
  if (options != 0) return ZX_ERR_INVALID_ARGS;
  if (!out) return ZX_ERR_INVALID_ARGS;
  pager_t* p = pager_create();
  if (!p) return ZX_ERR_NO_MEMORY;
  zx_handle_t h;
  zx_status_t st = handle_create(pager_obj(p), ZX_DEFAULT_PAGER_RIGHTS, &h);
  object_unref(pager_obj(p));  // the handle holds its own; on failure this frees it
  return st == ZX_OK ? user_put_handle(out, h) : st;
}

static zx_status_t get_pager(zx_handle_t h, zx_rights_t rights, pager_t** out) {
  zx_object_t* obj;
  zx_status_t st = handle_get(h, ZX_OBJ_TYPE_PAGER, rights, &obj, NULL);
  if (st == ZX_OK) *out = pager_from_obj(obj);
  return st;
}

// Looks up `vmo_h` (with `rights`) as one of p's VMOs: INVALID_ARGS for any other VMO
// (a plain one, another pager's, a child or slice of a pager VMO).
static zx_status_t get_pager_vmo(pager_t* p, zx_handle_t vmo_h, zx_rights_t rights,
                                 vmo_t** out) {
  zx_object_t* obj;
  zx_status_t st = handle_get(vmo_h, ZX_OBJ_TYPE_VMO, rights, &obj, NULL);
  if (st != ZX_OK) return st;
  if (!pager_owns_vmo(p, vmo_from_obj(obj))) {
    object_unref(obj);
    return ZX_ERR_INVALID_ARGS;
  }
  *out = vmo_from_obj(obj);
  return ZX_OK;
}

// The pager and one of its VMOs, as most pager calls begin.
static zx_status_t get_pager_and_vmo(zx_handle_t pager, zx_rights_t pager_rights,
                                     zx_handle_t vmo, zx_rights_t vmo_rights, pager_t** p,
                                     vmo_t** v) {
  zx_status_t st = get_pager(pager, pager_rights, p);
  if (st != ZX_OK) return st;
  st = get_pager_vmo(*p, vmo, vmo_rights, v);
  if (st != ZX_OK) object_unref(pager_obj(*p));
  return st;
}

static void put_pager_and_vmo(pager_t* p, vmo_t* v) {
  object_unref(&v->obj);
  object_unref(pager_obj(p));
}

ZX_API zx_status_t zx_pager_create_vmo(zx_handle_t pager, uint32_t options, zx_handle_t port,
                                       uint64_t key, uint64_t size, zx_handle_t* out) {
  pager_t* p;
  zx_status_t st = get_pager(pager, ZX_RIGHT_ATTACH_VMO, &p);
  if (st != ZX_OK) return st;
  zx_object_t* port_o;
  st = handle_get(port, ZX_OBJ_TYPE_PORT, ZX_RIGHT_WRITE, &port_o, NULL);
  if (st != ZX_OK) goto out_pager;
  uint64_t rounded;
  if ((options & ZX_VMO_RESIZABLE) && (options & ZX_VMO_UNBOUNDED)) {
    st = ZX_ERR_INVALID_ARGS;
  } else if (!round_up_page(size, &rounded) || rounded > VMO_MAX_SIZE) {
    st = ZX_ERR_OUT_OF_RANGE;
  } else if (options & ~PAGER_VMO_OPTIONS) {
    st = ZX_ERR_INVALID_ARGS;
  } else if (!out) {
    st = ZX_ERR_INVALID_ARGS;
  }
  if (st != ZX_OK) goto out_port;
  bool resizable = (options & ZX_VMO_RESIZABLE) != 0;
  // UNBOUNDED: the VMO spans the largest size; `size` is only its content size.
  if (options & ZX_VMO_UNBOUNDED) rounded = VMO_MAX_SIZE;
  vmo_t* v;
  st = pager_create_vmo(p, port_from_obj(port_o), key, rounded, size, resizable,
                        (options & ZX_VMO_TRAP_DIRTY) != 0, &v);
  if (st == ZX_OK) {
    zx_handle_t h;
    zx_rights_t rights = ZX_DEFAULT_VMO_RIGHTS | (resizable ? ZX_RIGHT_RESIZE : 0);
    st = handle_create(&v->obj, rights, &h);
    if (st != ZX_OK) v->obj.ops->on_zero_handles(&v->obj);  // as if never made
    object_unref(&v->obj);
    if (st == ZX_OK) st = user_put_handle(out, h);
  }
out_port:
  object_unref(port_o);
out_pager:
  object_unref(pager_obj(p));
  return st;
}

ZX_API zx_status_t zx_pager_detach_vmo(zx_handle_t pager, zx_handle_t vmo) {
  pager_t* p;
  vmo_t* v;
  zx_status_t st = get_pager_and_vmo(pager, ZX_RIGHT_ATTACH_VMO | ZX_RIGHT_MANAGE_VMO, vmo,
                                     ZX_RIGHT_WRITE, &p, &v);
  if (st != ZX_OK) return st;
  pager_detach_vmo(p, v);
  put_pager_and_vmo(p, v);
  return ZX_OK;
}

ZX_API zx_status_t zx_pager_supply_pages(zx_handle_t pager, zx_handle_t pager_vmo,
                                         uint64_t offset, uint64_t length,
                                         zx_handle_t aux_vmo, uint64_t aux_offset) {
  if (!page_aligned(offset) || !page_aligned(length) || !page_aligned(aux_offset)) {
    return ZX_ERR_INVALID_ARGS;
  }
  pager_t* p;
  vmo_t* v;
  zx_status_t st =
      get_pager_and_vmo(pager, ZX_RIGHT_MANAGE_VMO, pager_vmo, ZX_RIGHT_WRITE, &p, &v);
  if (st != ZX_OK) return st;
  zx_object_t* aux;
  st = handle_get(aux_vmo, ZX_OBJ_TYPE_VMO, ZX_RIGHT_READ | ZX_RIGHT_WRITE, &aux, NULL);
  if (st == ZX_OK) {
    st = vmo_supply_pages(v, offset, length, vmo_from_obj(aux), aux_offset);
    object_unref(aux);
  }
  put_pager_and_vmo(p, v);
  return st;
}

// The statuses a pager may fail a request with (Zircon's list).
static bool valid_failure(int64_t s) {
  return s == ZX_ERR_IO || s == ZX_ERR_IO_DATA_INTEGRITY || s == ZX_ERR_BAD_STATE ||
         s == ZX_ERR_NO_SPACE || s == ZX_ERR_BUFFER_TOO_SMALL;
}

ZX_API zx_status_t zx_pager_op_range(zx_handle_t pager, uint32_t op, zx_handle_t pager_vmo,
                                     uint64_t offset, uint64_t length, uint64_t data) {
  if (!page_aligned(offset) || !page_aligned(length)) return ZX_ERR_INVALID_ARGS;
  pager_t* p;
  vmo_t* v;
  zx_status_t st =
      get_pager_and_vmo(pager, ZX_RIGHT_MANAGE_VMO, pager_vmo, ZX_RIGHT_WRITE, &p, &v);
  if (st != ZX_OK) return st;
  switch (op) {
    case ZX_PAGER_OP_FAIL: {
      int64_t s = (int64_t)data;
      if (s < INT32_MIN || s > INT32_MAX || !valid_failure(s)) {
        st = ZX_ERR_INVALID_ARGS;
      } else {
        st = vmo_pager_fail(v, offset, length, (zx_status_t)s);
      }
      break;
    }
    case ZX_PAGER_OP_DIRTY:
      st = data != 0 ? ZX_ERR_INVALID_ARGS : vmo_pager_op_dirty(v, offset, length);
      break;
    case ZX_PAGER_OP_WRITEBACK_BEGIN:
      st = (data & ~ZX_VMO_DIRTY_RANGE_IS_ZERO) != 0
               ? ZX_ERR_INVALID_ARGS
               : vmo_pager_writeback(v, offset, length, true, data != 0);
      break;
    case ZX_PAGER_OP_WRITEBACK_END:
      st = data != 0 ? ZX_ERR_INVALID_ARGS
                     : vmo_pager_writeback(v, offset, length, false, false);
      break;
    default:
      st = ZX_ERR_NOT_SUPPORTED;
  }
  put_pager_and_vmo(p, v);
  return st;
}

ZX_API zx_status_t zx_pager_query_dirty_ranges(zx_handle_t pager, zx_handle_t pager_vmo,
                                               uint64_t offset, uint64_t length,
                                               void* buffer, size_t buffer_size,
                                               size_t* actual, size_t* avail) {
  pager_t* p;
  vmo_t* v;
  zx_status_t st =
      get_pager_and_vmo(pager, ZX_RIGHT_MANAGE_VMO, pager_vmo, ZX_RIGHT_READ, &p, &v);
  if (st != ZX_OK) return st;
  // Gathered under the family lock into our own memory, then copied out (user_copy.h).
  size_t cap = buffer_size / sizeof(zx_vmo_dirty_range_t);
  zx_vmo_dirty_range_t* ranges = NULL;
  if (cap > 0) {
    // Only as many entries as there can be ranges: one per two pages at most.
    uint64_t most = length / (2 * PAGE_SIZE) + 2;
    if (cap > most) cap = most;
    ranges = os_calloc(cap, sizeof(*ranges));
    if (!ranges) st = ZX_ERR_NO_MEMORY;
  }
  size_t n = 0, total = 0;
  if (st == ZX_OK) st = vmo_pager_dirty_ranges(v, offset, length, ranges, cap, &n, &total);
  if (st == ZX_OK && n > 0) {
    st = buffer ? user_copy_out(buffer, ranges, n * sizeof(*ranges)) : ZX_ERR_INVALID_ARGS;
  }
  if (st == ZX_OK && actual) st = user_copy_out(actual, &n, sizeof(n));
  if (st == ZX_OK && avail) st = user_copy_out(avail, &total, sizeof(total));
  os_free(ranges);
  put_pager_and_vmo(p, v);
  return st;
}

ZX_API zx_status_t zx_pager_query_vmo_stats(zx_handle_t pager, zx_handle_t pager_vmo,
                                            uint32_t options, void* buffer,
                                            size_t buffer_size) {
  pager_t* p;
  vmo_t* v;
  zx_status_t st =
      get_pager_and_vmo(pager, ZX_RIGHT_MANAGE_VMO, pager_vmo, ZX_RIGHT_READ, &p, &v);
  if (st != ZX_OK) return st;
  bool modified = false;
  if (buffer_size < sizeof(zx_pager_vmo_stats_t)) {
    st = ZX_ERR_BUFFER_TOO_SMALL;
  } else if (options & ~ZX_PAGER_RESET_VMO_STATS) {
    st = ZX_ERR_INVALID_ARGS;
  } else {
    // Reset as part of the query: lost even if the copy below fails, as on Zircon.
    st = vmo_pager_stats(v, (options & ZX_PAGER_RESET_VMO_STATS) != 0, &modified);
  }
  if (st == ZX_OK) {
    zx_pager_vmo_stats_t stats = {.modified = modified ? ZX_PAGER_VMO_STATS_MODIFIED : 0};
    st = buffer ? user_copy_out(buffer, &stats, sizeof(stats)) : ZX_ERR_INVALID_ARGS;
  }
  put_pager_and_vmo(p, v);
  return st;
}
