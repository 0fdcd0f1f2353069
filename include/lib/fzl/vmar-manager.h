// SPDX-License-Identifier: BSD-3-Clause
// zxvmo: Fuchsia's fzl::VmarManager: a sub-VMAR shared, through fbl::RefPtr, by the
// mappers that map into it (fzl::VmoMapper). The region is destroyed, with every
// mapping still in it, when the last reference goes. A manager keeps its parent
// manager alive.
#ifndef LIB_FZL_VMAR_MANAGER_H_
#define LIB_FZL_VMAR_MANAGER_H_

#include <fbl/macros.h>
#include <fbl/ref_counted.h>
#include <fbl/ref_ptr.h>
#include <lib/zx/vmar.h>
#include <zircon/types.h>

#include <new>
#include <utility>

namespace fzl {

class VmarManager : public fbl::RefCounted<VmarManager> {
 public:
  // Allocates a region of `size` bytes in `parent`'s region (the root VMAR if null).
  // nullptr if size is 0, the parent has no region, memory runs out or
  // zx_vmar_allocate fails (its status is not reported, as on Fuchsia).
  static fbl::RefPtr<VmarManager> Create(size_t size, fbl::RefPtr<VmarManager> parent = nullptr,
                                         zx_vm_option_t options = ZX_VM_COMPACT |
                                                                  ZX_VM_CAN_MAP_READ |
                                                                  ZX_VM_CAN_MAP_WRITE) {
    if (size == 0 || (parent && !parent->vmar().is_valid())) {
      return nullptr;
    }
    fbl::RefPtr<VmarManager> ret = fbl::AdoptRef(new (std::nothrow) VmarManager());
    if (!ret) {
      return nullptr;
    }
    zx_handle_t parent_vmar = parent ? parent->vmar().get() : zx::vmar::root_self()->get();
    uintptr_t child_addr = 0;
    zx_status_t status = zx_vmar_allocate(parent_vmar, options, 0, size,
                                          ret->vmar_.reset_and_get_address(), &child_addr);
    if (status != ZX_OK) {
      return nullptr;
    }
    ret->start_ = reinterpret_cast<void*>(child_addr);
    ret->size_ = size;
    ret->parent_ = std::move(parent);
    return ret;
  }

  const zx::vmar& vmar() const { return vmar_; }
  void* start() const { return start_; }
  uint64_t size() const { return size_; }
  const fbl::RefPtr<VmarManager>& parent() const { return parent_; }

 private:
  friend class fbl::RefPtr<VmarManager>;

  VmarManager() = default;
  ~VmarManager() {
    if (vmar_.is_valid()) {
      vmar_.destroy();
    }
  }
  DISALLOW_COPY_ASSIGN_AND_MOVE(VmarManager);

  zx::vmar vmar_;
  void* start_ = nullptr;
  uint64_t size_ = 0;
  fbl::RefPtr<VmarManager> parent_;
};

}  // namespace fzl

#endif  // LIB_FZL_VMAR_MANAGER_H_
