// SPDX-License-Identifier: BSD-3-Clause
// zxvmo: Fuchsia's fzl::VmoMapper: maps a VMO (one it creates, or one given) into the
// root VMAR or a VmarManager's region, and unmaps it when destroyed. It does not own
// the VMO: the mapping keeps the VMO's memory alive by itself. Move-only.
//
// Errors, in this order, as on Fuchsia: ZX_ERR_BAD_STATE if already mapped;
// ZX_ERR_INVALID_ARGS for a manager without a region (or, for CreateAndMap, size 0;
// for Map, an invalid VMO); then the status of the failing system call.
#ifndef LIB_FZL_VMO_MAPPER_H_
#define LIB_FZL_VMO_MAPPER_H_

#include <fbl/macros.h>
#include <fbl/ref_ptr.h>
#include <lib/fzl/vmar-manager.h>
#include <lib/zx/vmar.h>
#include <lib/zx/vmo.h>
#include <zircon/assert.h>
#include <zircon/compiler.h>

#include <utility>

namespace fzl {

class VmoMapper {
 public:
  VmoMapper() = default;
  ~VmoMapper() { Unmap(); }
  DISALLOW_COPY_AND_ASSIGN_ALLOW_MOVE(VmoMapper);

  VmoMapper(VmoMapper&& other) { MoveFromOther(&other); }
  VmoMapper& operator=(VmoMapper&& other) {
    Unmap();
    MoveFromOther(&other);
    return *this;
  }

  // Creates a VMO of `size` bytes (vmo_options), applies `cache_policy` if non-zero
  // (zx_vmo_set_cache_policy, before anything is mapped), and maps all of it with
  // `map_flags`. If vmo_out is given it receives the VMO, with `vmo_rights` unless
  // ZX_RIGHT_SAME_RIGHTS (a failure to reduce the rights undoes the mapping);
  // otherwise the VMO handle is closed and only the mapping holds it.
  zx_status_t CreateAndMap(uint64_t size,
                           zx_vm_option_t map_flags = ZX_VM_PERM_READ | ZX_VM_PERM_WRITE,
                           fbl::RefPtr<VmarManager> vmar_manager = nullptr,
                           zx::vmo* vmo_out = nullptr,
                           zx_rights_t vmo_rights = ZX_RIGHT_SAME_RIGHTS,
                           uint32_t cache_policy = 0, uint32_t vmo_options = 0) {
    if (size == 0) {
      return ZX_ERR_INVALID_ARGS;
    }
    zx_status_t status = CheckReadyToMap(vmar_manager);
    if (status != ZX_OK) {
      return status;
    }
    zx::vmo vmo;
    status = zx::vmo::create(size, vmo_options, &vmo);
    if (status != ZX_OK) {
      return status;
    }
    if (cache_policy != 0) {
      status = vmo.set_cache_policy(cache_policy);
      if (status != ZX_OK) {
        return status;
      }
    }
    status = InternalMap(vmo, 0, size, map_flags, std::move(vmar_manager));
    if (status != ZX_OK) {
      return status;
    }
    if (vmo_out != nullptr) {
      if (vmo_rights != ZX_RIGHT_SAME_RIGHTS) {
        status = vmo.replace(vmo_rights, &vmo);
        if (status != ZX_OK) {
          Unmap();
          return status;
        }
      }
      *vmo_out = std::move(vmo);
    }
    return ZX_OK;
  }

  // Maps [offset, offset + size) of `vmo` (size 0: to the end of the VMO) with
  // map_flags. ZX_ERR_OUT_OF_RANGE if the range does not lie within the VMO.
  zx_status_t Map(const zx::vmo& vmo, uint64_t offset = 0, uint64_t size = 0,
                  zx_vm_option_t map_flags = ZX_VM_PERM_READ | ZX_VM_PERM_WRITE,
                  fbl::RefPtr<VmarManager> vmar_manager = nullptr) {
    if (!vmo.is_valid()) {
      return ZX_ERR_INVALID_ARGS;
    }
    zx_status_t status = CheckReadyToMap(vmar_manager);
    if (status != ZX_OK) {
      return status;
    }
    uint64_t vmo_size = 0;
    status = vmo.get_size(&vmo_size);
    if (status != ZX_OK) {
      return status;
    }
    uint64_t end = 0;
    if (add_overflow(offset, size, &end) || end > vmo_size) {
      return ZX_ERR_OUT_OF_RANGE;
    }
    if (size == 0) {
      size = vmo_size - offset;
    }
    return InternalMap(vmo, offset, size, map_flags, std::move(vmar_manager));
  }

  // Unmaps whatever is mapped (nothing if nothing is) and drops the manager.
  void Unmap() {
    if (start_ != 0) {
      ZX_DEBUG_ASSERT(size_ != 0);
      zx_handle_t vmar =
          vmar_manager_ ? vmar_manager_->vmar().get() : zx::vmar::root_self()->get();
      __UNUSED zx_status_t status = zx_vmar_unmap(vmar, start_, size_);
      ZX_DEBUG_ASSERT(status == ZX_OK);
    }
    vmar_manager_.reset();
    start_ = 0;
    size_ = 0;
  }

  void* start() const { return reinterpret_cast<void*>(start_); }
  uint64_t size() const { return size_; }
  const fbl::RefPtr<VmarManager>& manager() const { return vmar_manager_; }

 protected:
  zx_status_t CheckReadyToMap(const fbl::RefPtr<VmarManager>& vmar_manager) const {
    if (start_ != 0) {
      return ZX_ERR_BAD_STATE;
    }
    if (vmar_manager && !vmar_manager->vmar().is_valid()) {
      return ZX_ERR_INVALID_ARGS;
    }
    return ZX_OK;
  }

  zx_status_t InternalMap(const zx::vmo& vmo, uint64_t offset, uint64_t size,
                          zx_vm_option_t map_flags, fbl::RefPtr<VmarManager> vmar_manager) {
    ZX_DEBUG_ASSERT(vmo.is_valid());
    ZX_DEBUG_ASSERT(start_ == 0 && size_ == 0 && !vmar_manager_);
    zx_vaddr_t addr = 0;
    zx_status_t status =
        vmar_manager ? vmar_manager->vmar().map(map_flags, 0, vmo, offset, size, &addr)
                     : zx::vmar::root_self()->map(map_flags, 0, vmo, offset, size, &addr);
    if (status != ZX_OK) {
      return status;
    }
    start_ = addr;
    size_ = size;
    vmar_manager_ = std::move(vmar_manager);
    return ZX_OK;
  }

  void MoveFromOther(VmoMapper* other) {
    vmar_manager_ = std::move(other->vmar_manager_);
    start_ = other->start_;
    other->start_ = 0;
    size_ = other->size_;
    other->size_ = 0;
  }

 private:
  fbl::RefPtr<VmarManager> vmar_manager_;
  uintptr_t start_ = 0;
  uint64_t size_ = 0;
};

}  // namespace fzl

#endif  // LIB_FZL_VMO_MAPPER_H_
