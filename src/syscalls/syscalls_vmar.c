// SPDX-License-Identifier: BSD-3-Clause
// The VMAR syscalls: argument and rights checks in the order of Zircon's
// sys_vmar_* and VmAddressRegionDispatcher (docs/behavior.md §12), then the VMAR layer
// (vmar_tree.h), which checks what depends on the tree's state.
//
// Rights. A mapping's protection needs, for each ZX_VM_PERM_*, the matching right on
// both the VMAR handle and the VMO handle (which also needs ZX_RIGHT_MAP); the VMAR's
// CAN_MAP_* bits are reflected in its handle's rights when it is made, and checked
// again by the layer. What both handles allowed is kept with the mapping as the limit of
// later zx_vmar_protect calls. OP_CHILDREN on the handle lets unmap, protect and
// op_range reach into sub-VMARs.
//
// Out pointers. A NULL `mapped_addr` (or `child_vmar`, `child_addr`) is INVALID_ARGS
// after every other check, where Zircon's copy-out would fail, and changes nothing.
#include <zircon/syscalls.h>

#include "handle.h"
#include "user_copy.h"
#include "vmar_tree.h"

// Option bits Zircon's flag splitter knows; the alignment lives above them.
#define VM_KNOWN                                                                          \
  (VM_PERMS | ZX_VM_COMPACT | ZX_VM_SPECIFIC | ZX_VM_SPECIFIC_OVERWRITE |                 \
   ZX_VM_CAN_MAP_SPECIFIC | VMAR_CAN_MAP_RWX | ZX_VM_REQUIRE_NON_RESIZABLE |              \
   ZX_VM_ALLOW_FAULTS | ZX_VM_OFFSET_IS_UPPER_LIMIT | ZX_VM_PERM_READ_IF_XOM_UNSUPPORTED | \
   ZX_VM_FAULT_BEYOND_STREAM_SIZE)
#define VM_ALIGN_MASK (~(((zx_vm_option_t)1 << ZX_VM_ALIGN_BASE) - 1))

// Splits the alignment out of `options` (log2, 0 for none). INVALID_ARGS for unknown
// bits below the alignment field or an alignment outside 1 KiB..4 GiB.
static zx_status_t split_align(zx_vm_option_t options, uint8_t* align_pow2) {
  if (options & ~VM_ALIGN_MASK & ~VM_KNOWN) return ZX_ERR_INVALID_ARGS;
  uint32_t a = options >> ZX_VM_ALIGN_BASE;
  if ((a != 0 && a < 10) || a > 32) return ZX_ERR_INVALID_ARGS;
  *align_pow2 = (uint8_t)a;
  return ZX_OK;
}

// No execute-only mappings on this host: READ_IF_XOM_UNSUPPORTED always means READ.
static zx_vm_option_t resolve_xom(zx_vm_option_t options) {
  if (options & ZX_VM_PERM_READ_IF_XOM_UNSUPPORTED) {
    options = (options & ~ZX_VM_PERM_READ_IF_XOM_UNSUPPORTED) | ZX_VM_PERM_READ;
  }
  return options;
}

// Writable or executable mappings must be readable.
static bool valid_protection(zx_vm_option_t options) {
  return (options & ZX_VM_PERM_READ) || !(options & (ZX_VM_PERM_WRITE | ZX_VM_PERM_EXECUTE));
}

// The handle rights each ZX_VM_PERM_* (or CAN_MAP_*, shifted down) requires.
static zx_rights_t rights_for_perms(uint32_t perms) {
  zx_rights_t r = 0;
  if (perms & ZX_VM_PERM_READ) r |= ZX_RIGHT_READ;
  if (perms & ZX_VM_PERM_WRITE) r |= ZX_RIGHT_WRITE;
  if (perms & ZX_VM_PERM_EXECUTE) r |= ZX_RIGHT_EXECUTE;
  return r;
}

static uint32_t perms_for_rights(zx_rights_t r) {
  uint32_t p = 0;
  if (r & ZX_RIGHT_READ) p |= ZX_VM_PERM_READ;
  if (r & ZX_RIGHT_WRITE) p |= ZX_VM_PERM_WRITE;
  if (r & ZX_RIGHT_EXECUTE) p |= ZX_VM_PERM_EXECUTE;
  return p;
}

static zx_status_t get_vmar(zx_handle_t h, zx_rights_t required, vmar_t** v,
                            zx_rights_t* rights) {
  zx_object_t* obj;
  zx_status_t st = handle_get(h, ZX_OBJ_TYPE_VMAR, required, &obj, rights);
  if (st == ZX_OK) *v = vmar_from_obj(obj);
  return st;
}

static zx_status_t map_checked(vmar_t* v, zx_rights_t vr, zx_vm_option_t options,
                               uint64_t vmar_offset, vmo_t* vmo, zx_rights_t mr,
                               uint64_t vmo_offset, uint64_t len, zx_vaddr_t* mapped_addr) {
  if (!(mr & ZX_RIGHT_MAP)) return ZX_ERR_ACCESS_DENIED;
  options = resolve_xom(options);
  if (!valid_protection(options)) return ZX_ERR_INVALID_ARGS;
  bool map_range = (options & ZX_VM_MAP_RANGE) != 0;
  options &= ~ZX_VM_MAP_RANGE;
  if (map_range && (options & ZX_VM_SPECIFIC_OVERWRITE)) return ZX_ERR_INVALID_ARGS;
  if (options & VMAR_CAN_MAP_RWX) return ZX_ERR_INVALID_ARGS;
  uint32_t allowed = perms_for_rights(vr) & perms_for_rights(mr);
  if (options & VM_PERMS & ~allowed) return ZX_ERR_ACCESS_DENIED;
  if ((options & ZX_VM_FAULT_BEYOND_STREAM_SIZE) && !(options & ZX_VM_ALLOW_FAULTS)) {
    return ZX_ERR_INVALID_ARGS;
  }
  uint8_t align_pow2;
  zx_status_t st = split_align(options, &align_pow2);
  if (st != ZX_OK) return st;
  if ((options & ZX_VM_REQUIRE_NON_RESIZABLE) && vmo->resizable) return ZX_ERR_NOT_SUPPORTED;
  // ALLOW_FAULTS is required only for discardable VMOs, which zxvmo does not make
  // (docs/behavior.md §12); it is accepted and has no further effect.
  options &= ~(ZX_VM_REQUIRE_NON_RESIZABLE | ZX_VM_ALLOW_FAULTS | VM_ALIGN_MASK);
  if (options & ~(VM_PERMS | ZX_VM_SPECIFIC | ZX_VM_SPECIFIC_OVERWRITE |
                  ZX_VM_OFFSET_IS_UPPER_LIMIT | ZX_VM_FAULT_BEYOND_STREAM_SIZE)) {
    return ZX_ERR_INVALID_ARGS;  // COMPACT and CAN_MAP_SPECIFIC are for VMARs
  }
  // Faulting past the stream size needs a stream-size manager zxvmo does not have:
  // refused once the flags are known valid (docs/behavior.md §12).
  if (options & ZX_VM_FAULT_BEYOND_STREAM_SIZE) return ZX_ERR_NOT_SUPPORTED;
  if (!page_aligned(vmo_offset)) return ZX_ERR_INVALID_ARGS;
  uint64_t rounded;
  if (!round_up_page(len, &rounded)) return ZX_ERR_OUT_OF_RANGE;
  if (vmo_offset > UINT64_MAX - rounded) return ZX_ERR_OUT_OF_RANGE;
  vmar_map_args_t a = {
      .options = options,
      .max_perms = allowed,
      .align_pow2 = align_pow2,
      .map_range = map_range,
      .vmar_offset = vmar_offset,
      .len = rounded,
      .vmo = vmo,
      .vmo_offset = vmo_offset,
      .dry_run = mapped_addr == NULL,
  };
  uintptr_t addr;
  st = vmar_map(v, &a, &addr);
  // An address nobody can be told is a mapping nobody can use: undone (user_copy.h).
  if (st == ZX_OK && user_copy_out(mapped_addr, &addr, sizeof(addr)) != ZX_OK) {
    (void)vmar_unmap(v, addr, rounded, false);
    st = ZX_ERR_INVALID_ARGS;
  }
  return st;
}

ZX_API zx_status_t zx_vmar_map(zx_handle_t handle, zx_vm_option_t options, size_t vmar_offset,
                               zx_handle_t vmo, uint64_t vmo_offset, size_t len,
                               zx_vaddr_t* mapped_addr) {
  vmar_t* v;
  zx_rights_t vr;
  zx_status_t st = get_vmar(handle, ZX_RIGHT_NONE, &v, &vr);
  if (st != ZX_OK) return st;
  zx_object_t* obj;
  zx_rights_t mr;
  st = handle_get(vmo, ZX_OBJ_TYPE_VMO, ZX_RIGHT_NONE, &obj, &mr);
  if (st == ZX_OK) {
    st = map_checked(v, vr, options, vmar_offset, vmo_from_obj(obj), mr, vmo_offset, len,
                     mapped_addr);
    object_unref(obj);
  }
  object_unref(&v->obj);
  return st;
}

ZX_API zx_status_t zx_vmar_unmap(zx_handle_t handle, zx_vaddr_t addr, size_t len) {
  vmar_t* v;
  zx_rights_t vr;
  zx_status_t st = get_vmar(handle, ZX_RIGHT_NONE, &v, &vr);
  if (st != ZX_OK) return st;
  uint64_t rounded;
  if (!page_aligned(addr) || !round_up_page(len, &rounded) || rounded == 0) {
    st = ZX_ERR_INVALID_ARGS;
  } else {
    st = vmar_unmap(v, addr, rounded, (vr & ZX_RIGHT_OP_CHILDREN) != 0);
  }
  object_unref(&v->obj);
  return st;
}

ZX_API zx_status_t zx_vmar_protect(zx_handle_t handle, zx_vm_option_t options, zx_vaddr_t addr,
                                   size_t len) {
  options = resolve_xom(options);
  vmar_t* v;
  zx_rights_t vr;
  zx_status_t st = get_vmar(handle, rights_for_perms(options), &v, &vr);
  if (st != ZX_OK) return st;
  uint8_t align_pow2 = 0;
  uint64_t rounded;
  if (!valid_protection(options) || !page_aligned(addr)) {
    st = ZX_ERR_INVALID_ARGS;
  } else if ((st = split_align(options, &align_pow2)) != ZX_OK) {
  } else if ((options & ~VM_PERMS) != 0) {
    st = ZX_ERR_INVALID_ARGS;  // no VMAR flag and no alignment here
  } else if (!round_up_page(len, &rounded) || rounded == 0) {
    st = ZX_ERR_INVALID_ARGS;
  } else {
    st = vmar_protect(v, addr, rounded, options, (vr & ZX_RIGHT_OP_CHILDREN) != 0);
  }
  object_unref(&v->obj);
  return st;
}

ZX_API zx_status_t zx_vmar_allocate(zx_handle_t parent_vmar, zx_vm_option_t options,
                                    size_t offset, size_t size, zx_handle_t* child_vmar,
                                    zx_vaddr_t* child_addr) {
  // The parent's handle must hold the rights the child's CAN_MAP_* would give.
  zx_rights_t need = rights_for_perms(vmar_perms_of(options));
  vmar_t* v;
  zx_status_t st = get_vmar(parent_vmar, need, &v, NULL);
  if (st != ZX_OK) return st;
  uint8_t align_pow2 = 0;
  // READ_IF_XOM_UNSUPPORTED means nothing for a VMAR: Zircon's flag splitter drops it.
  options &= ~ZX_VM_PERM_READ_IF_XOM_UNSUPPORTED;
  if ((st = split_align(options, &align_pow2)) != ZX_OK) {
  } else if (options & VM_PERMS) {
    st = ZX_ERR_INVALID_ARGS;
  } else if (!page_aligned(size)) {
    st = ZX_ERR_INVALID_ARGS;
  } else if (options & ~VM_ALIGN_MASK &
             ~(ZX_VM_SPECIFIC | ZX_VM_CAN_MAP_SPECIFIC | ZX_VM_COMPACT | VMAR_CAN_MAP_RWX |
               ZX_VM_OFFSET_IS_UPPER_LIMIT)) {
    st = ZX_ERR_INVALID_ARGS;
  } else {
    vmar_t* c;
    st = vmar_allocate(v, options & ~VM_ALIGN_MASK, align_pow2, offset, size,
                       child_vmar == NULL || child_addr == NULL, &c);
    if (st == ZX_OK) {
      zx_rights_t rights = ZX_DEFAULT_VMAR_RIGHTS | rights_for_perms(vmar_perms_of(c->flags));
      zx_handle_t h;
      st = handle_create(&c->obj, rights, &h);
      uintptr_t base = c->base;
      // Out pointers that fault (user_copy.h): the handle goes, and the VMAR with it
      // below, as for any VMAR nobody was told of.
      if (st == ZX_OK && user_copy_out(child_addr, &base, sizeof(base)) != ZX_OK) {
        handle_close(h);
        st = ZX_ERR_INVALID_ARGS;
      } else if (st == ZX_OK && user_put_handle(child_vmar, h) != ZX_OK) {
        st = ZX_ERR_INVALID_ARGS;
      }
      if (st != ZX_OK) {
        // Nobody saw it: take it out again, so the failed call changed nothing.
        aspace_wrlock();
        vmar_destroy_locked(c);
        aspace_unlock();
      }
      object_unref(&c->obj);
    }
  }
  object_unref(&v->obj);
  return st;
}

ZX_API zx_status_t zx_vmar_destroy(zx_handle_t handle) {
  vmar_t* v;
  zx_status_t st = get_vmar(handle, ZX_RIGHT_OP_CHILDREN, &v, NULL);
  if (st != ZX_OK) return st;
  st = vmar_destroy(v);
  object_unref(&v->obj);
  return st;
}

ZX_API zx_status_t zx_vmar_op_range(zx_handle_t handle, uint32_t op, zx_vaddr_t address,
                                    size_t size, void* buffer, size_t buffer_size) {
  vmar_t* v;
  zx_rights_t vr;
  zx_status_t st = get_vmar(handle, ZX_RIGHT_NONE, &v, &vr);
  if (st != ZX_OK) return st;
  uint64_t rounded;
  switch (op) {
    case ZX_VMAR_OP_COMMIT:
    case ZX_VMAR_OP_DECOMMIT:
      // vmar_op_range.md: both need WRITE on the VMAR handle (each mapping's own
      // limit is checked by the layer).
      if (!(vr & ZX_RIGHT_WRITE)) {
        st = ZX_ERR_ACCESS_DENIED;
        break;
      }
      // fallthrough
    case ZX_VMAR_OP_MAP_RANGE:
    case ZX_VMAR_OP_ZERO:
    case ZX_VMAR_OP_PREFETCH:
    case ZX_VMAR_OP_DONT_NEED:
    case ZX_VMAR_OP_ALWAYS_NEED:
      if (buffer != NULL || buffer_size != 0) {
        st = ZX_ERR_INVALID_ARGS;
      } else if (!round_up_page(size, &rounded) || rounded == 0 || !page_aligned(address)) {
        st = ZX_ERR_INVALID_ARGS;
      } else {
        st = vmar_op_range(v, op, address, rounded, (vr & ZX_RIGHT_OP_CHILDREN) != 0);
      }
      break;
    default:
      st = ZX_ERR_INVALID_ARGS;
      break;
  }
  object_unref(&v->obj);
  return st;
}
