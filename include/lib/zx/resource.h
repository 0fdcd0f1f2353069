// SPDX-License-Identifier: BSD-3-Clause
// zxvmo: zx::resource, a capability over a range of (emulated) physical resources. The
// root resource comes from zxvmo_root_resource() (<zxvmo.h>); create() narrows it.
#ifndef LIB_ZX_RESOURCE_H_
#define LIB_ZX_RESOURCE_H_

#include <lib/zx/handle.h>
#include <lib/zx/object.h>

namespace zx {

class resource final : public object<resource> {
 public:
  static constexpr zx_obj_type_t TYPE = ZX_OBJ_TYPE_RESOURCE;

  constexpr resource() = default;
  explicit resource(zx_handle_t value) : object(value) {}
  explicit resource(handle&& h) : object(h.release()) {}
  resource(resource&& other) : object(other.release()) {}
  resource& operator=(resource&& other) {
    reset(other.release());
    return *this;
  }

  static zx_status_t create(const resource& parent, uint32_t options, uint64_t base, size_t len,
                            const char* name, size_t namelen, resource* result) {
    resource h;
    zx_status_t status = zx_resource_create(parent.get(), options, base, len, name, namelen,
                                            h.reset_and_get_address());
    // Through a temporary: result may be parent.
    result->reset(h.release());
    return status;
  }
};

using unowned_resource = unowned<resource>;

}  // namespace zx

#endif  // LIB_ZX_RESOURCE_H_
