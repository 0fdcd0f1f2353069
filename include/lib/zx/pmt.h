// SPDX-License-Identifier: BSD-3-Clause
// zxvmo: zx::pmt, a pinned-memory token returned by zx::bti::pin(). unpin() releases the
// pin and consumes the handle; closing the handle without unpinning quarantines the
// pages (they stay pinned until zx::bti::release_quarantine()), as on Zircon.
#ifndef LIB_ZX_PMT_H_
#define LIB_ZX_PMT_H_

#include <lib/zx/handle.h>
#include <lib/zx/object.h>

namespace zx {

class pmt final : public object<pmt> {
 public:
  static constexpr zx_obj_type_t TYPE = ZX_OBJ_TYPE_PMT;

  constexpr pmt() = default;
  explicit pmt(zx_handle_t value) : object(value) {}
  explicit pmt(handle&& h) : object(h.release()) {}
  pmt(pmt&& other) : object(other.release()) {}
  pmt& operator=(pmt&& other) {
    reset(other.release());
    return *this;
  }

  // zx_pmt_unpin() consumes the handle whatever it returns (a handle it could not find
  // is no handle either), so this object lets go of it in every case. (Fuchsia's
  // lib/zx keeps it on failure, which would close the number a second time later.)
  zx_status_t unpin() {
    zx_status_t status = zx_pmt_unpin(get());
    (void)release();
    return status;
  }
};

using unowned_pmt = unowned<pmt>;

}  // namespace zx

#endif  // LIB_ZX_PMT_H_
