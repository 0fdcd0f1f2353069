// SPDX-License-Identifier: BSD-3-Clause
// The VMO syscalls: argument and rights checks, in the order docs/behavior.md gives, and the
// translation to the VMO layer (vmo.h), which assumes valid input.
#include <string.h>

#include <zircon/syscalls.h>

#include "handle.h"
#include "resource.h"
#include "os.h"
#include "user_copy.h"
#include "vmo.h"

#define VMO_CREATE_KNOWN (ZX_VMO_RESIZABLE | ZX_VMO_DISCARDABLE | ZX_VMO_UNBOUNDED)

// Hands `v` (whose only reference the caller owns) to a new handle in *out.
zx_status_t vmo_publish(vmo_t* v, zx_rights_t rights, zx_handle_t* out) {
  zx_handle_t h;
  zx_status_t st = handle_create(&v->obj, rights, &h);
  if (st != ZX_OK) {
    // Nobody saw it: let it die as if its last handle were closed.
    v->obj.ops->on_zero_handles(&v->obj);
  }
  object_unref(&v->obj);
  return st == ZX_OK ? user_put_handle(out, h) : st;
}

ZX_API zx_status_t zx_vmo_create(uint64_t size, uint32_t options, zx_handle_t* out) {
  if (process_forked()) return ZX_ERR_BAD_STATE;  // docs/behavior.md §17
  if ((options & ZX_VMO_RESIZABLE) && (options & ZX_VMO_UNBOUNDED)) return ZX_ERR_INVALID_ARGS;
  uint64_t rounded;
  if (!round_up_page(size, &rounded) || rounded > VMO_MAX_SIZE) return ZX_ERR_OUT_OF_RANGE;
  if (options & ~VMO_CREATE_KNOWN) return ZX_ERR_INVALID_ARGS;
  if (!out) return ZX_ERR_INVALID_ARGS;
  bool resizable = (options & ZX_VMO_RESIZABLE) != 0;
  // UNBOUNDED: the VMO spans the largest size; `size` is only its content size.
  if (options & ZX_VMO_UNBOUNDED) rounded = VMO_MAX_SIZE;
  vmo_t* v;
  zx_status_t st = vmo_create(rounded, size, resizable, &v);
  if (st != ZX_OK) return st;
  // Not yet published, but the invariant checker walks every family: under its lock.
  family_wrlock(v->fam);
  v->discardable = (options & ZX_VMO_DISCARDABLE) != 0;
  family_unlock(v->fam);
  zx_rights_t rights = ZX_DEFAULT_VMO_RIGHTS | (resizable ? ZX_RIGHT_RESIZE : 0);
  return vmo_publish(v, rights, out);
}

// Looks up a VMO handle needing `required` rights. The caller drops the reference.
static zx_status_t get_vmo(zx_handle_t h, zx_rights_t required, vmo_t** v, zx_rights_t* rights) {
  zx_object_t* obj;
  zx_rights_t r;
  zx_status_t st = handle_get(h, ZX_OBJ_TYPE_VMO, required, &obj, &r);
  if (st != ZX_OK) return st;
  *v = vmo_from_obj(obj);
  if (rights) *rights = r;
  return ZX_OK;
}

// zx_vmo_read / zx_vmo_write / ZERO of driver memory, as on Zircon: physical VMOs have
// no such calls, and uncached memory is not touched through the cache.
static zx_status_t driver_rw_check(const vmo_t* v) {
  if (v->physical) return ZX_ERR_NOT_SUPPORTED;
  if (v->cache_policy != ZX_CACHE_POLICY_CACHED) return ZX_ERR_BAD_STATE;
  return ZX_OK;
}

ZX_API zx_status_t zx_vmo_read(zx_handle_t handle, void* buffer, uint64_t offset,
                               size_t buffer_size) {
  vmo_t* v;
  zx_status_t st = get_vmo(handle, ZX_RIGHT_READ, &v, NULL);
  if (st != ZX_OK) return st;
  if ((st = driver_rw_check(v)) != ZX_OK) {
    // Physical or uncached memory: reached through mappings and pins only.
  } else if (!buffer && buffer_size > 0) {
    // The range is checked before any byte moves, so it decides first.
    st = vmo_check_range(v, offset, buffer_size);
    if (st == ZX_OK) st = ZX_ERR_INVALID_ARGS;
  } else {
    st = vmo_read_user(v, buffer, offset, buffer_size);
  }
  object_unref(&v->obj);
  return st;
}

ZX_API zx_status_t zx_vmo_write(zx_handle_t handle, const void* buffer, uint64_t offset,
                                size_t buffer_size) {
  vmo_t* v;
  zx_status_t st = get_vmo(handle, ZX_RIGHT_WRITE, &v, NULL);
  if (st != ZX_OK) return st;
  if ((st = driver_rw_check(v)) != ZX_OK) {
  } else if (!buffer && buffer_size > 0) {
    st = vmo_check_range(v, offset, buffer_size);
    if (st == ZX_OK) st = ZX_ERR_INVALID_ARGS;
  } else {
    // Over the page budget, clean pages of pager VMOs make room (then try again).
    while ((st = vmo_write_user(v, buffer, offset, buffer_size)) == ZX_ERR_NO_MEMORY &&
           vmo_evict_for_budget()) {
    }
  }
  object_unref(&v->obj);
  return st;
}

ZX_API zx_status_t zx_vmo_get_size(zx_handle_t handle, uint64_t* size) {
  vmo_t* v;
  zx_status_t st = get_vmo(handle, ZX_RIGHT_NONE, &v, NULL);
  if (st != ZX_OK) return st;
  if (!size) {
    st = ZX_ERR_INVALID_ARGS;
  } else {
    uint64_t n = 0;
    st = vmo_get_size(v, &n);
    if (st == ZX_OK) st = user_copy_out(size, &n, sizeof(n));
  }
  object_unref(&v->obj);
  return st;
}

ZX_API zx_status_t zx_vmo_set_size(zx_handle_t handle, uint64_t size) {
  vmo_t* v;
  zx_rights_t rights;
  zx_status_t st = get_vmo(handle, ZX_RIGHT_WRITE, &v, &rights);
  if (st != ZX_OK) return st;
  uint64_t rounded;
  if (v->resizable && !(rights & ZX_RIGHT_RESIZE)) {
    st = ZX_ERR_ACCESS_DENIED;
  } else if (!round_up_page(size, &rounded)) {
    st = ZX_ERR_OUT_OF_RANGE;
  } else if (v->physical) {
    st = ZX_ERR_NOT_SUPPORTED;  // Zircon's physical VMOs have no resize at all
  } else if (!v->resizable) {
    st = ZX_ERR_UNAVAILABLE;
  } else if (rounded > VMO_MAX_SIZE) {
    st = ZX_ERR_OUT_OF_RANGE;
  } else {
    st = vmo_set_size(v, size);
  }
  object_unref(&v->obj);
  return st;
}

ZX_API zx_status_t zx_vmo_set_stream_size(zx_handle_t handle, uint64_t stream_size) {
  vmo_t* v;
  zx_status_t st = get_vmo(handle, ZX_RIGHT_WRITE, &v, NULL);
  if (st != ZX_OK) return st;
  if (v->physical || v->contiguous) {
    st = ZX_ERR_NOT_SUPPORTED;  // Zircon keeps no stream size for driver memory
  } else {
    bool uncached = v->cache_policy != ZX_CACHE_POLICY_CACHED;
    // Zeroing part of a page may need one: over the page budget, eviction makes room.
    while ((st = vmo_set_stream_size(v, stream_size, uncached)) == ZX_ERR_NO_MEMORY &&
           vmo_evict_for_budget()) {
    }
  }
  object_unref(&v->obj);
  return st;
}

// Cache maintenance: nothing to do on coherent memory, but the arguments are checked.
static zx_status_t cache_op(vmo_t* v, uint64_t offset, uint64_t size) {
  if (size == 0) return ZX_ERR_INVALID_ARGS;
  return vmo_check_range(v, offset, size);
}

static zx_status_t op_range(vmo_t* v, zx_rights_t rights, uint32_t op, uint64_t offset,
                            uint64_t size, void* buffer, size_t buffer_size) {
  switch (op) {
    case ZX_VMO_OP_COMMIT: {
      if (!(rights & ZX_RIGHT_WRITE)) return ZX_ERR_ACCESS_DENIED;
      zx_status_t st = vmo_driver_op_check(v, op);
      if (st != ZX_OK) return st;
      // Whole pages covering the range; the rounded range must lie in the VMO.
      if (size > UINT64_MAX - offset) return ZX_ERR_OUT_OF_RANGE;
      uint64_t end;
      if (!round_up_page(offset + size, &end)) return ZX_ERR_OUT_OF_RANGE;
      uint64_t start = offset & ~PAGE_MASK;
      return vmo_commit(v, start, end - start);
    }
    case ZX_VMO_OP_DECOMMIT: {
      if (!(rights & ZX_RIGHT_WRITE)) return ZX_ERR_ACCESS_DENIED;
      zx_status_t st = vmo_driver_op_check(v, op);
      return st == ZX_OK ? vmo_decommit(v, offset, size) : st;
    }
    case ZX_VMO_OP_ZERO: {
      if (!(rights & ZX_RIGHT_WRITE)) return ZX_ERR_ACCESS_DENIED;
      zx_status_t st = vmo_driver_op_check(v, op);
      return st == ZX_OK ? vmo_zero(v, offset, size) : st;
    }
    case ZX_VMO_OP_LOCK: {
      if (!(rights & (ZX_RIGHT_READ | ZX_RIGHT_WRITE))) return ZX_ERR_ACCESS_DENIED;
      zx_vmo_lock_state_t ls;
      zx_status_t st = vmo_lock_op(v, op, offset, size, &ls);
      if (st != ZX_OK) return st;
      // The buffer is judged after the lock is taken, which is then undone, as on
      // Zircon.
      if (buffer_size < sizeof(ls) || !buffer) {
        st = ZX_ERR_INVALID_ARGS;  // NULL: where Zircon's copy-out would fault
      } else {
        st = user_copy_out(buffer, &ls, sizeof(ls));
      }
      if (st != ZX_OK) vmo_lock_undo(v);
      return st;
    }
    case ZX_VMO_OP_TRY_LOCK:
    case ZX_VMO_OP_UNLOCK:
      if (!(rights & (ZX_RIGHT_READ | ZX_RIGHT_WRITE))) return ZX_ERR_ACCESS_DENIED;
      return vmo_lock_op(v, op, offset, size, NULL);
    case ZX_VMO_OP_CACHE_SYNC:
    case ZX_VMO_OP_CACHE_CLEAN:
    case ZX_VMO_OP_CACHE_CLEAN_INVALIDATE:
      if (!(rights & ZX_RIGHT_READ)) return ZX_ERR_ACCESS_DENIED;
      return cache_op(v, offset, size);
    case ZX_VMO_OP_CACHE_INVALIDATE:
      if (!(rights & ZX_RIGHT_WRITE)) return ZX_ERR_ACCESS_DENIED;
      return cache_op(v, offset, size);
    case ZX_VMO_OP_PREFETCH:
      if (!(rights & ZX_RIGHT_READ)) return ZX_ERR_ACCESS_DENIED;
      return vmo_check_range(v, offset, size);
    case ZX_VMO_OP_DONT_NEED:
    case ZX_VMO_OP_ALWAYS_NEED:
      return vmo_check_range(v, offset, size);
    case ZX_VMO_OP_LOOKUP: {
      if (!buffer) return ZX_ERR_INVALID_ARGS;
      uint64_t end;
      if (size > UINT64_MAX - offset || !round_up_page(offset + size, &end)) {
        return ZX_ERR_OUT_OF_RANGE;
      }
      uint64_t pages = (end - (offset & ~PAGE_MASK)) >> PAGE_SHIFT;
      size_t n = buffer_size / sizeof(zx_paddr_t);
      if (pages > n) return ZX_ERR_BUFFER_TOO_SMALL;
      if (size == 0) return ZX_ERR_INVALID_ARGS;
      if (!user_buffer_mapped(buffer, pages * sizeof(zx_paddr_t))) {
        return vmo_lookup(v, offset, size, buffer, n);
      }
      // Filled under the family lock: through a bounce if it may fault (user_copy.h).
      zx_paddr_t* bounce = os_malloc(pages * sizeof(zx_paddr_t));
      if (!bounce) return ZX_ERR_NO_MEMORY;
      zx_status_t st = vmo_lookup(v, offset, size, bounce, pages);
      if (st == ZX_OK) st = user_copy_out(buffer, bounce, pages * sizeof(zx_paddr_t));
      os_free(bounce);
      return st;
    }
    default:
      return ZX_ERR_INVALID_ARGS;
  }
}

ZX_API zx_status_t zx_vmo_op_range(zx_handle_t handle, uint32_t op, uint64_t offset,
                                   uint64_t size, void* buffer, size_t buffer_size) {
  vmo_t* v;
  zx_rights_t rights;
  zx_status_t st = get_vmo(handle, ZX_RIGHT_NONE, &v, &rights);
  if (st != ZX_OK) return st;
  while ((st = op_range(v, rights, op, offset, size, buffer, buffer_size)) ==
             ZX_ERR_NO_MEMORY &&
         vmo_evict_for_budget()) {
  }
  object_unref(&v->obj);
  return st;
}

// The rights of a child's handle (docs/behavior.md §2).
static zx_rights_t child_rights(zx_rights_t parent, bool resizable, bool no_write, bool cow) {
  zx_rights_t r = (parent & ~ZX_RIGHT_RESIZE) | ZX_RIGHT_GET_PROPERTY | ZX_RIGHT_SET_PROPERTY;
  if (resizable) r |= ZX_RIGHT_RESIZE;
  if (no_write) {
    r &= ~ZX_RIGHT_WRITE;
  } else if (cow) {
    r = (r | ZX_RIGHT_WRITE) & ~ZX_RIGHT_EXECUTE;
  }
  return r;
}

ZX_API zx_status_t zx_vmo_create_child(zx_handle_t handle, uint32_t options, uint64_t offset,
                                       uint64_t size, zx_handle_t* out) {
  uint64_t rounded;
  if (!round_up_page(size, &rounded) || rounded > VMO_MAX_SIZE) return ZX_ERR_OUT_OF_RANGE;
  if ((options & ZX_VMO_CHILD_NO_WRITE) && (options & ZX_VMO_CHILD_RESIZABLE)) {
    return ZX_ERR_INVALID_ARGS;
  }
  vmo_t* p;
  zx_rights_t prights;
  zx_status_t st = get_vmo(handle, ZX_RIGHT_DUPLICATE | ZX_RIGHT_READ, &p, &prights);
  if (st != ZX_OK) return st;
  if (p->discardable) {
    // Discardable VMOs have no children of any kind, whatever the options say.
    object_unref(&p->obj);
    return ZX_ERR_NOT_SUPPORTED;
  }

  vmo_child_args_t a;
  memset(&a, 0, sizeof(a));
  a.no_write = (options & ZX_VMO_CHILD_NO_WRITE) != 0;
  a.resizable = (options & ZX_VMO_CHILD_RESIZABLE) != 0;
  a.copy_name = (prights & ZX_RIGHT_GET_PROPERTY) != 0;
  a.offset = offset;
  a.size = rounded;
  a.content_size = size;
  a.out_is_null = out == NULL;
  uint32_t rest = options & ~ZX_VMO_CHILD_NO_WRITE;
  if (rest & ZX_VMO_CHILD_SLICE) {
    if (rest != ZX_VMO_CHILD_SLICE) {
      st = ZX_ERR_INVALID_ARGS;
      goto out;
    }
    if (!page_aligned(offset)) {
      st = ZX_ERR_INVALID_ARGS;
      goto out;
    }
    a.kind = VMO_SLICE;
  } else if (rest & ZX_VMO_CHILD_REFERENCE) {
    // Only RESIZABLE (and NO_WRITE, taken above) may come with REFERENCE; the range
    // and the parent are judged by the VMO layer, in Zircon's order.
    if (rest & ~(ZX_VMO_CHILD_REFERENCE | ZX_VMO_CHILD_RESIZABLE)) {
      st = ZX_ERR_INVALID_ARGS;
      goto out;
    }
    a.kind = VMO_SLICE;
    a.reference = true;
    a.offset = offset;
    a.size = size;  // must be 0, unrounded
  } else {
    if (rest & ZX_VMO_CHILD_SNAPSHOT) {
      rest &= ~ZX_VMO_CHILD_SNAPSHOT;
    } else if (rest & ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE) {
      rest &= ~ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE;
      a.at_least_on_write = true;
    } else if (rest & ZX_VMO_CHILD_SNAPSHOT_MODIFIED) {
      rest &= ~ZX_VMO_CHILD_SNAPSHOT_MODIFIED;
      a.modified = true;
    } else {
      st = ZX_ERR_INVALID_ARGS;
      goto out;
    }
    if (rest & ~ZX_VMO_CHILD_RESIZABLE) {
      st = ZX_ERR_INVALID_ARGS;
      goto out;
    }
    if (!page_aligned(offset)) {
      st = ZX_ERR_INVALID_ARGS;
      goto out;
    }
    if (offset > UINT64_MAX - rounded) {
      st = ZX_ERR_OUT_OF_RANGE;
      goto out;
    }
    a.kind = VMO_SNAPSHOT;
  }
  vmo_t* c;
  st = vmo_create_child(p, &a, &c);
  if (st == ZX_OK) {
    st = vmo_publish(c, child_rights(prights, a.resizable, a.no_write, a.kind != VMO_SLICE), out);
  }
out:
  object_unref(&p->obj);
  return st;
}

ZX_API zx_status_t zx_vmo_clone(zx_handle_t handle, uint32_t options, uint64_t offset,
                                uint64_t size, zx_handle_t* out) {
  uint64_t rounded;
  if (!round_up_page(size, &rounded) || rounded > VMO_MAX_SIZE) return ZX_ERR_OUT_OF_RANGE;
  vmo_t* p;
  zx_rights_t prights;
  zx_status_t st = get_vmo(handle, ZX_RIGHT_DUPLICATE | ZX_RIGHT_READ, &p, &prights);
  if (st != ZX_OK) return st;
  if (p->discardable) {
    st = ZX_ERR_NOT_SUPPORTED;
  } else if (!(options & ZX_VMO_CLONE_COPY_ON_WRITE) ||
      (options & ~(ZX_VMO_CLONE_COPY_ON_WRITE | ZX_VMO_CLONE_NON_RESIZEABLE))) {
    st = ZX_ERR_INVALID_ARGS;
  } else if (!page_aligned(offset)) {
    st = ZX_ERR_INVALID_ARGS;
  } else if (offset > UINT64_MAX - rounded) {
    st = ZX_ERR_OUT_OF_RANGE;
  } else {
    vmo_child_args_t a;
    memset(&a, 0, sizeof(a));
    a.kind = VMO_ONEWAY;
    a.legacy = true;
    a.resizable = !(options & ZX_VMO_CLONE_NON_RESIZEABLE);
    a.copy_name = (prights & ZX_RIGHT_GET_PROPERTY) != 0;
    a.offset = offset;
    a.size = rounded;
    a.content_size = size;
    a.out_is_null = out == NULL;
    vmo_t* c;
    st = vmo_create_child(p, &a, &c);
    if (st == ZX_OK) {
      zx_rights_t r = (prights & ~ZX_RIGHT_RESIZE) | ZX_RIGHT_WRITE | ZX_RIGHT_GET_PROPERTY |
                      ZX_RIGHT_SET_PROPERTY | (a.resizable ? ZX_RIGHT_RESIZE : 0);
      st = vmo_publish(c, r, out);
    }
  }
  object_unref(&p->obj);
  return st;
}

ZX_API zx_status_t zx_vmo_set_cache_policy(zx_handle_t handle, uint32_t cache_policy) {
  if (cache_policy & ~ZX_CACHE_POLICY_MASK) return ZX_ERR_INVALID_ARGS;
  vmo_t* v;
  zx_status_t st = get_vmo(handle, ZX_RIGHT_MAP, &v, NULL);
  if (st != ZX_OK) return st;
  st = vmo_set_cache_policy(v, cache_policy);
  object_unref(&v->obj);
  return st;
}

ZX_API zx_status_t zx_vmo_replace_as_executable(zx_handle_t handle, zx_handle_t vmex,
                                                zx_handle_t* out) {
  // The VMEX resource is judged first, but the VMO handle is consumed whatever it
  // says, as on Zircon. ZX_HANDLE_INVALID stands for the ambient permission, which the
  // one process zxvmo serves always has.
  zx_status_t vmex_st = ZX_OK;
  if (vmex != ZX_HANDLE_INVALID) {
    zx_object_t* r;
    vmex_st = handle_get(vmex, ZX_OBJ_TYPE_RESOURCE, ZX_RIGHT_NONE, &r, NULL);
    if (vmex_st == ZX_OK) {
      vmex_st = resource_check_range(resource_from_obj(r), ZX_RSRC_KIND_SYSTEM,
                                     ZX_RSRC_SYSTEM_VMEX_BASE, 1);
      object_unref(r);
    }
  }
  zx_object_t* obj;
  zx_rights_t rights;
  zx_status_t st = handle_get(handle, ZX_OBJ_TYPE_NONE, ZX_RIGHT_NONE, &obj, &rights);
  if (st != ZX_OK) return ZX_ERR_BAD_HANDLE;
  bool is_vmo = obj->ops->type == ZX_OBJ_TYPE_VMO;
  object_unref(obj);
  if (!is_vmo || vmex_st != ZX_OK || !out) {
    handle_close(handle);
    return !is_vmo ? ZX_ERR_BAD_HANDLE : vmex_st != ZX_OK ? vmex_st : ZX_ERR_INVALID_ARGS;
  }
  zx_handle_t h;
  st = handle_replace(handle, rights | ZX_RIGHT_EXECUTE, &h);
  return st == ZX_OK ? user_put_handle(out, h) : st;
}
