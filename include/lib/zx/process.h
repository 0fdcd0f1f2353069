// SPDX-License-Identifier: BSD-3-Clause
// zxvmo: zx::process. zxvmo has one process, the caller: self() borrows its handle, whose
// get_info answers ZX_INFO_PROCESS_MAPS, ZX_INFO_TASK_STATS and the other topics zxvmo
// implements. Creating, starting or killing processes is not provided.
#ifndef LIB_ZX_PROCESS_H_
#define LIB_ZX_PROCESS_H_

#include <lib/zx/handle.h>
#include <lib/zx/object.h>
#include <zircon/process.h>

namespace zx {

class process final : public object<process> {
 public:
  static constexpr zx_obj_type_t TYPE = ZX_OBJ_TYPE_PROCESS;

  constexpr process() = default;
  explicit process(zx_handle_t value) : object(value) {}
  explicit process(handle&& h) : object(h.release()) {}
  process(process&& other) : object(other.release()) {}
  process& operator=(process&& other) {
    reset(other.release());
    return *this;
  }

  static unowned<process> self() { return unowned<process>(zx_process_self()); }
};

using unowned_process = unowned<process>;

}  // namespace zx

#endif  // LIB_ZX_PROCESS_H_
