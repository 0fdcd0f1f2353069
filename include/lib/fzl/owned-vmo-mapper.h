// SPDX-License-Identifier: BSD-3-Clause
// zxvmo: Fuchsia's fzl::OwnedVmoMapper: an fzl::VmoMapper that also owns the VMO it maps.
#ifndef LIB_FZL_OWNED_VMO_MAPPER_H_
#define LIB_FZL_OWNED_VMO_MAPPER_H_

#include <fbl/macros.h>
#include <fbl/ref_ptr.h>
#include <lib/fzl/vmar-manager.h>
#include <lib/fzl/vmo-mapper.h>
#include <lib/zx/vmo.h>
#include <string.h>

#include <utility>

namespace fzl {

class OwnedVmoMapper : protected VmoMapper {
 public:
  OwnedVmoMapper() = default;
  ~OwnedVmoMapper() { Reset(); }
  DISALLOW_COPY_AND_ASSIGN_ALLOW_MOVE(OwnedVmoMapper);

  OwnedVmoMapper(OwnedVmoMapper&& other) { MoveFromOther(&other); }
  OwnedVmoMapper& operator=(OwnedVmoMapper&& other) {
    Reset();
    MoveFromOther(&other);
    return *this;
  }

  // VmoMapper::CreateAndMap, keeping the VMO, named `name` (may be null: no name).
  zx_status_t CreateAndMap(uint64_t size, const char* name,
                           zx_vm_option_t map_options = ZX_VM_PERM_READ | ZX_VM_PERM_WRITE,
                           fbl::RefPtr<VmarManager> vmar_manager = nullptr,
                           uint32_t cache_policy = 0, uint32_t vmo_options = 0) {
    zx::vmo vmo;
    zx_status_t status = VmoMapper::CreateAndMap(size, map_options, std::move(vmar_manager), &vmo,
                                                 ZX_RIGHT_SAME_RIGHTS, cache_policy, vmo_options);
    if (status == ZX_OK) {
      // Naming is best effort, as on Fuchsia: the mapping stands either way.
      (void)vmo.set_property(ZX_PROP_NAME, name, name != nullptr ? strlen(name) : 0);
      vmo_ = std::move(vmo);
    }
    return status;
  }

  // VmoMapper::Map of `vmo` from offset 0 (size 0: all of it), taking the VMO on
  // success; on failure the VMO is closed.
  zx_status_t Map(zx::vmo vmo, uint64_t size = 0,
                  zx_vm_option_t map_options = ZX_VM_PERM_READ | ZX_VM_PERM_WRITE,
                  fbl::RefPtr<VmarManager> vmar_manager = nullptr) {
    zx_status_t status = VmoMapper::Map(vmo, 0, size, map_options, std::move(vmar_manager));
    if (status == ZX_OK) {
      vmo_ = std::move(vmo);
    }
    return status;
  }

  // Closes the VMO and unmaps it.
  void Reset() {
    vmo_.reset();
    VmoMapper::Unmap();
  }

  // Unmaps, and hands the VMO to the caller.
  zx::vmo Release() {
    VmoMapper::Unmap();
    return std::move(vmo_);
  }

  const zx::vmo& vmo() const { return vmo_; }

  using VmoMapper::manager;
  using VmoMapper::size;
  using VmoMapper::start;

 protected:
  void MoveFromOther(OwnedVmoMapper* other) {
    vmo_ = std::move(other->vmo_);
    VmoMapper::MoveFromOther(other);
  }

 private:
  zx::vmo vmo_;
};

}  // namespace fzl

#endif  // LIB_FZL_OWNED_VMO_MAPPER_H_
