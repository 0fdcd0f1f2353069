// SPDX-License-Identifier: BSD-3-Clause
// zxvmo: zx::clock's reading of the monotonic clock. Kernel clock objects
// (zx_clock_create and friends) and the boot clock are not provided.
#ifndef LIB_ZX_CLOCK_H_
#define LIB_ZX_CLOCK_H_

#include <lib/zx/handle.h>
#include <lib/zx/object.h>
#include <lib/zx/time.h>

namespace zx {

class clock final : public object<clock> {
 public:
  static constexpr zx_obj_type_t TYPE = ZX_OBJ_TYPE_CLOCK;

  constexpr clock() = default;
  explicit clock(zx_handle_t value) : object(value) {}
  explicit clock(handle&& h) : object(h.release()) {}
  clock(clock&& other) : object(other.release()) {}
  clock& operator=(clock&& other) {
    reset(other.release());
    return *this;
  }

  static time_monotonic get_monotonic() { return time_monotonic(zx_clock_get_monotonic()); }
};

using unowned_clock = unowned<clock>;

}  // namespace zx

#endif  // LIB_ZX_CLOCK_H_
