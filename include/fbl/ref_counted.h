// SPDX-License-Identifier: BSD-3-Clause
// zxvmo: a subset of Fuchsia's fbl::RefCounted: an intrusive, thread-safe reference count
// for objects owned through fbl::RefPtr (<fbl/ref_ptr.h>). An object starts with one
// reference, which fbl::AdoptRef() hands to its first RefPtr.
#ifndef FBL_REF_COUNTED_H_
#define FBL_REF_COUNTED_H_

#include <fbl/macros.h>
#include <stdint.h>

#include <atomic>

namespace fbl {

template <typename T>
class RefCounted {
 public:
  void AddRef() const { ref_count_.fetch_add(1, std::memory_order_relaxed); }

  // Drops one reference; true when it was the last, and the caller must delete the
  // object. The release/acquire pair orders every owner's last use before the delete.
  bool Release() const __attribute__((__warn_unused_result__)) {
    if (ref_count_.fetch_sub(1, std::memory_order_release) == 1) {
      std::atomic_thread_fence(std::memory_order_acquire);
      return true;
    }
    return false;
  }

  // For tests and assertions only: the count may change at any time.
  int32_t ref_count_debug() const { return ref_count_.load(std::memory_order_relaxed); }

 protected:
  constexpr RefCounted() = default;
  ~RefCounted() = default;
  DISALLOW_COPY_ASSIGN_AND_MOVE(RefCounted);

 private:
  mutable std::atomic<int32_t> ref_count_{1};
};

}  // namespace fbl

#endif  // FBL_REF_COUNTED_H_
