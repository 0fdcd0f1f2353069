// SPDX-License-Identifier: BSD-3-Clause
// The driver-memory syscalls (docs/behavior.md §15): resources, physical and
// contiguous VMOs, IOMMUs, BTIs and PMTs, and the device-side extras of <zxvmo.h>.
// Arguments and rights are checked here, in Zircon's order; resource.c, bti.c and
// vmo_driver.c assume valid input.
#include <string.h>

#include <zircon/syscalls.h>
#include <zxvmo.h>

#include "bti.h"
#include "handle.h"
#include "resource.h"
#include "user_copy.h"
#include "vmo.h"

// Makes a handle with `rights` to `obj`, whose one reference the caller gives up (on
// failure the object goes), and stores it in *out.
static zx_status_t publish_obj(zx_object_t* obj, zx_rights_t rights, zx_handle_t* out) {
  zx_handle_t h;
  zx_status_t st = handle_create(obj, rights, &h);
  object_unref(obj);
  return st == ZX_OK ? user_put_handle(out, h) : st;
}

static zx_status_t get_resource(zx_handle_t h, zx_rights_t rights, resource_t** out) {
  zx_object_t* obj;
  zx_status_t st = handle_get(h, ZX_OBJ_TYPE_RESOURCE, rights, &obj, NULL);
  if (st == ZX_OK) *out = resource_from_obj(obj);
  return st;
}

ZX_API zx_handle_t zxvmo_root_resource(void) {
  resource_t* r = process_forked() ? NULL : resource_root();
  if (!r) return ZX_HANDLE_INVALID;
  // The root never dies (it has nothing to do when its last handle goes), so a new
  // handle is always to a live object.
  zx_handle_t h;
  return handle_create(&r->base, ZX_DEFAULT_RESOURCE_RIGHTS, &h) == ZX_OK
             ? h
             : ZX_HANDLE_INVALID;
}

ZX_API zx_status_t zx_resource_create(zx_handle_t parent_rsrc, uint32_t options, uint64_t base,
                                      size_t size, const char* name, size_t name_size,
                                      zx_handle_t* resource_out) {
  resource_t* parent;
  zx_status_t st = get_resource(parent_rsrc, ZX_RIGHT_WRITE, &parent);
  if (st != ZX_OK) return st;
  uint32_t kind = ZX_RSRC_EXTRACT_KIND(options);
  uint32_t flags = ZX_RSRC_EXTRACT_FLAGS(options);
  char copied[ZX_MAX_NAME_LEN] = {0};
  size_t name_len = name_size < ZX_MAX_NAME_LEN - 1 ? name_size : ZX_MAX_NAME_LEN - 1;
  resource_t* r = NULL;
  if (kind >= ZX_RSRC_KIND_COUNT || (flags & ~ZX_RSRC_FLAGS_MASK)) {
    st = ZX_ERR_INVALID_ARGS;
  } else if (name_len > 0 && (!name || user_copy_in(copied, name, name_len) != ZX_OK)) {
    st = ZX_ERR_INVALID_ARGS;
  } else if (!resource_out) {
    st = ZX_ERR_INVALID_ARGS;
  } else {
    st = resource_create(parent, options, base, size, copied, name_len, &r);
  }
  object_unref(&parent->base);
  return st == ZX_OK ? publish_obj(&r->base, ZX_DEFAULT_RESOURCE_RIGHTS, resource_out) : st;
}

ZX_API zx_status_t zx_vmo_create_physical(zx_handle_t resource, zx_paddr_t paddr, size_t size,
                                          zx_handle_t* out) {
  resource_t* r;
  zx_status_t st = get_resource(resource, ZX_RIGHT_NONE, &r);
  if (st != ZX_OK) return st;
  // The resource decides before the arguments are looked at, as on Zircon.
  st = resource_check_range(r, ZX_RSRC_KIND_MMIO, paddr, size);
  object_unref(&r->base);
  if (st != ZX_OK) return st;
  uint64_t rounded;
  if (!round_up_page(size, &rounded) || rounded > VMO_MAX_SIZE) return ZX_ERR_OUT_OF_RANGE;
  if (!page_aligned(paddr) || size == 0 || paddr > UINT64_MAX - (size - 1)) {
    return ZX_ERR_INVALID_ARGS;
  }
  if (!out) return ZX_ERR_INVALID_ARGS;
  vmo_t* v;
  st = vmo_create_physical(paddr, rounded, &v);
  if (st != ZX_OK) return st;
  return vmo_publish(v, ZX_DEFAULT_VMO_RIGHTS, out);
}

ZX_API zx_status_t zx_vmo_create_contiguous(zx_handle_t bti, size_t size, uint32_t alignment_log2,
                                            zx_handle_t* out) {
  if (size == 0) return ZX_ERR_INVALID_ARGS;
  if (alignment_log2 == 0) alignment_log2 = PAGE_SHIFT;
  if (alignment_log2 < PAGE_SHIFT || alignment_log2 >= 64) return ZX_ERR_INVALID_ARGS;
  zx_object_t* obj;
  zx_status_t st = handle_get(bti, ZX_OBJ_TYPE_BTI, ZX_RIGHT_MAP, &obj, NULL);
  if (st != ZX_OK) return st;
  object_unref(obj);  // the BTI's state is not consulted, as on Zircon
  uint64_t rounded;
  if (!round_up_page(size, &rounded) || rounded > VMO_MAX_SIZE) return ZX_ERR_OUT_OF_RANGE;
  if (!out) return ZX_ERR_INVALID_ARGS;
  vmo_t* v;
  while ((st = vmo_create_contiguous(rounded, size, alignment_log2, &v)) == ZX_ERR_NO_MEMORY &&
         vmo_evict_for_budget()) {
  }
  if (st != ZX_OK) return st;
  return vmo_publish(v, ZX_DEFAULT_VMO_RIGHTS, out);
}

ZX_API zx_status_t zx_iommu_create(zx_handle_t resource, uint32_t type, const void* desc,
                                   size_t desc_size, zx_handle_t* out) {
  resource_t* r;
  zx_status_t st = get_resource(resource, ZX_RIGHT_NONE, &r);
  if (st != ZX_OK) return st;
  st = resource_check_system(r, ZX_RSRC_SYSTEM_IOMMU_BASE);
  object_unref(&r->base);
  if (st != ZX_OK) return st;
  if (desc_size > ZX_IOMMU_MAX_DESC_LEN) return ZX_ERR_INVALID_ARGS;
  uint8_t copied[ZX_IOMMU_MAX_DESC_LEN];
  if (desc_size > 0 && (!desc || user_copy_in(copied, desc, desc_size) != ZX_OK)) {
    return ZX_ERR_INVALID_ARGS;
  }
  // Only the dummy IOMMU exists on the emulated machine.
  if (type != ZX_IOMMU_TYPE_DUMMY) return ZX_ERR_NOT_SUPPORTED;
  if (desc_size != sizeof(zx_iommu_desc_dummy_t)) return ZX_ERR_INVALID_ARGS;
  if (!out) return ZX_ERR_INVALID_ARGS;
  zx_object_t* iommu = iommu_create();
  if (!iommu) return ZX_ERR_NO_MEMORY;
  return publish_obj(iommu, ZX_DEFAULT_IOMMU_RIGHTS, out);
}

ZX_API zx_status_t zx_bti_create(zx_handle_t iommu, uint32_t options, uint64_t bti_id,
                                 zx_handle_t* out) {
  if (options != 0) return ZX_ERR_INVALID_ARGS;
  zx_object_t* io;
  zx_status_t st = handle_get(iommu, ZX_OBJ_TYPE_IOMMU, ZX_RIGHT_NONE, &io, NULL);
  if (st != ZX_OK) return st;
  bti_t* b = NULL;
  if (!out) {
    st = ZX_ERR_INVALID_ARGS;
  } else if (!(b = bti_create(io, bti_id))) {
    st = ZX_ERR_NO_MEMORY;
  }
  object_unref(io);
  return st == ZX_OK ? publish_obj(bti_obj(b), ZX_DEFAULT_BTI_RIGHTS, out) : st;
}

#define BTI_PERMS (ZX_BTI_PERM_READ | ZX_BTI_PERM_WRITE | ZX_BTI_PERM_EXECUTE)
// At most this many addresses per pin: Zircon's bound (64 pages' worth of addresses).
#define BTI_MAX_ADDRS (PAGE_SIZE * 64 / sizeof(zx_paddr_t))

// The checks of zx_bti_pin on the VMO and the options, after its handle lookup.
static zx_status_t pin_options_check(vmo_t* v, zx_rights_t rights, uint32_t options) {
  if ((options & ZX_BTI_PERM_READ) && !(rights & ZX_RIGHT_READ)) return ZX_ERR_ACCESS_DENIED;
  if ((options & ZX_BTI_PERM_WRITE) && !(rights & ZX_RIGHT_WRITE)) return ZX_ERR_ACCESS_DENIED;
  // Execution by a device is reading, as Zircon sees it.
  if ((options & ZX_BTI_PERM_EXECUTE) && !(rights & ZX_RIGHT_READ)) return ZX_ERR_ACCESS_DENIED;
  uint32_t rest = options & ~BTI_PERMS;
  bool compress = (rest & ZX_BTI_COMPRESS) != 0, contiguous = (rest & ZX_BTI_CONTIGUOUS) != 0;
  // The two exclude each other; CONTIGUOUS needs memory that is.
  if (compress && !contiguous) rest &= ~ZX_BTI_COMPRESS;
  if (contiguous && !compress && (v->physical || v->contiguous)) rest &= ~ZX_BTI_CONTIGUOUS;
  return rest ? ZX_ERR_INVALID_ARGS : ZX_OK;
}

// How many addresses a pin of `size` bytes hands out with `options`.
static uint64_t pin_addr_count(uint32_t options, uint64_t size) {
  if (options & ZX_BTI_CONTIGUOUS) return 1;
  return size >> PAGE_SHIFT;  // also with COMPRESS: the minimum contiguity is a page
}

ZX_API zx_status_t zx_bti_pin(zx_handle_t handle, uint32_t options, zx_handle_t vmo,
                              uint64_t offset, uint64_t size, zx_paddr_t* addrs,
                              size_t num_addrs, zx_handle_t* pmt) {
  zx_object_t* bo;
  zx_status_t st = handle_get(handle, ZX_OBJ_TYPE_BTI, ZX_RIGHT_MAP, &bo, NULL);
  if (st != ZX_OK) return st;
  bti_t* b = bti_from_obj(bo);
  zx_object_t* vo = NULL;
  zx_rights_t vrights;
  pmt_t* p = NULL;
  uint64_t dev = 0;
  if (!page_aligned(offset) || !page_aligned(size) || num_addrs > BTI_MAX_ADDRS) {
    st = ZX_ERR_INVALID_ARGS;
    goto out;
  }
  st = handle_get(vmo, ZX_OBJ_TYPE_VMO, ZX_RIGHT_MAP, &vo, &vrights);
  if (st != ZX_OK) goto out;
  vmo_t* v = vmo_from_obj(vo);
  st = pin_options_check(v, vrights, options);
  if (st == ZX_OK && size == 0) st = ZX_ERR_INVALID_ARGS;
  if (st == ZX_OK && (offset > v->size || size > v->size - offset)) st = ZX_ERR_OUT_OF_RANGE;
  if (st != ZX_OK) goto out;
  st = bti_pin(b, v, offset, size, options & BTI_PERMS, &p, &dev);
  if (st != ZX_OK) goto out;
  // Checked once pinned, as Zircon's IOMMU does; a failure undoes the pin.
  if (!(options & BTI_PERMS) || pin_addr_count(options, size) != num_addrs || !pmt) {
    st = ZX_ERR_INVALID_ARGS;
  } else if (!addrs) {
    st = ZX_ERR_INVALID_ARGS;
  } else {
    for (size_t i = 0; i < num_addrs && st == ZX_OK; i++) {
      zx_paddr_t a = (zx_paddr_t)(dev + ((uint64_t)i << PAGE_SHIFT));
      st = user_copy_out(&addrs[i], &a, sizeof(a));
    }
  }
  if (st == ZX_OK) {
    object_ref(pmt_obj(p));  // kept for the release should the handle fail
    st = publish_obj(pmt_obj(p), ZX_DEFAULT_PMT_RIGHTS, pmt);
    if (st != ZX_OK) pmt_release(p);
    object_unref(pmt_obj(p));
  } else {
    pmt_release(p);
    object_unref(pmt_obj(p));
  }
out:
  if (vo) object_unref(vo);
  object_unref(bo);
  return st;
}

ZX_API zx_status_t zx_pmt_unpin(zx_handle_t handle) {
  zx_object_t* obj;
  zx_status_t st = handle_get(handle, ZX_OBJ_TYPE_NONE, ZX_RIGHT_NONE, &obj, NULL);
  if (st != ZX_OK) return st;
  if (obj->ops->type != ZX_OBJ_TYPE_PMT) {
    // Consumed all the same, as on Zircon.
    handle_close(handle);
    object_unref(obj);
    return ZX_ERR_WRONG_TYPE;
  }
  pmt_t* p = (pmt_t*)obj;
  pmt_unpin_begin(p);
  bool closed = handle_close(handle) == ZX_OK;
  pmt_unpin_end(p, closed);
  object_unref(obj);
  return closed ? ZX_OK : ZX_ERR_BAD_HANDLE;
}

ZX_API zx_status_t zx_bti_release_quarantine(zx_handle_t handle) {
  zx_object_t* obj;
  zx_status_t st = handle_get(handle, ZX_OBJ_TYPE_BTI, ZX_RIGHT_WRITE, &obj, NULL);
  if (st != ZX_OK) return st;
  bti_release_quarantine(bti_from_obj(obj));
  object_unref(obj);
  return ZX_OK;
}

static zx_status_t dma(zx_handle_t bti, zx_paddr_t addr, void* buf, size_t len, bool write) {
  zx_object_t* obj;
  zx_status_t st = handle_get(bti, ZX_OBJ_TYPE_BTI, ZX_RIGHT_NONE, &obj, NULL);
  if (st != ZX_OK) return st;
  st = !buf && len > 0 ? ZX_ERR_INVALID_ARGS : bti_dma(bti_from_obj(obj), addr, buf, len, write);
  object_unref(obj);
  return st;
}

ZX_API zx_status_t zxvmo_dma_read(zx_handle_t bti, zx_paddr_t addr, void* buf, size_t len) {
  return dma(bti, addr, buf, len, false);
}

ZX_API zx_status_t zxvmo_dma_write(zx_handle_t bti, zx_paddr_t addr, const void* buf,
                                   size_t len) {
  // bti_dma only reads `buf` when writing.
  return dma(bti, addr, (void*)(uintptr_t)buf, len, true);
}
