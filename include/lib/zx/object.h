// SPDX-License-Identifier: BSD-3-Clause
// zxvmo: Fuchsia's lib/zx handle ownership. zx::object<T> owns one handle and closes it
// when destroyed or reset; it is move-only. T names the object type, so that calls are
// checked at compile time (object_traits.h) and the wrappers (zx::vmo, zx::vmar, ...)
// add the type's own calls; zx::handle (object<void>) holds any handle. zx::unowned<T>
// borrows a handle it never closes (e.g. zx::vmar::root_self()).
//
// Contract, as on Fuchsia: every call returns the zx_status_t of the underlying system
// call; calls that consume a handle (replace, replace_as_executable) leave the source
// invalid whether they succeed or not; calls producing a handle reset the result
// object, which may be the object the call is made on.
#ifndef LIB_ZX_OBJECT_H_
#define LIB_ZX_OBJECT_H_

#include <lib/zx/object_traits.h>
#include <lib/zx/time.h>
#include <zircon/availability.h>
#include <zircon/syscalls.h>
#include <zircon/types.h>

#include <type_traits>
#include <utility>

namespace zx {

class port;
class profile;

// The type-independent part: ownership, and the calls every handle allows.
class object_base {
 public:
  void reset(zx_handle_t value = ZX_HANDLE_INVALID) {
    close();
    value_ = value;
  }

  bool is_valid() const { return value_ != ZX_HANDLE_INVALID; }
  explicit operator bool() const { return is_valid(); }

  zx_handle_t get() const { return value_; }

  // Gives up ownership: the caller now closes the handle.
  zx_handle_t release() {
    zx_handle_t result = value_;
    value_ = ZX_HANDLE_INVALID;
    return result;
  }

  // Closes the handle held, then lends the storage to a call that produces a handle.
  zx_handle_t* reset_and_get_address() {
    reset();
    return &value_;
  }

  zx_status_t get_info(uint32_t topic, void* buffer, size_t buffer_size, size_t* actual_count,
                       size_t* avail_count) const {
    return zx_object_get_info(get(), topic, buffer, buffer_size, actual_count, avail_count);
  }

  zx_status_t get_property(uint32_t property, void* value, size_t size) const {
    return zx_object_get_property(get(), property, value, size);
  }

  zx_status_t set_property(uint32_t property, const void* value, size_t size) const {
    return zx_object_set_property(get(), property, value, size);
  }

 protected:
  constexpr object_base() : value_(ZX_HANDLE_INVALID) {}
  explicit object_base(zx_handle_t value) : value_(value) {}
  ~object_base() { close(); }

  object_base(const object_base&) = delete;
  object_base& operator=(const object_base&) = delete;

  void close() {
    if (value_ != ZX_HANDLE_INVALID) {
      zx_handle_close(value_);
      value_ = ZX_HANDLE_INVALID;
    }
  }

  zx_handle_t value_;
};

template <typename T>
class unowned;

template <typename T>
class object : public object_base {
 public:
  constexpr object() = default;
  explicit object(zx_handle_t value) : object_base(value) {}

  // Only zx::handle may take over a handle of another type (the other way round would
  // lose the type check).
  template <typename U>
  object(object<U>&& other) : object_base(other.release()) {
    static_assert(std::is_void<T>::value, "Receiver must be compatible.");
  }

  template <typename U>
  object<T>& operator=(object<U>&& other) {
    static_assert(std::is_void<T>::value, "Receiver must be compatible.");
    reset(other.release());
    return *this;
  }

  void swap(object<T>& other) { std::swap(value_, other.value_); }

  zx_status_t duplicate(zx_rights_t rights, object<T>* result) const {
    static_assert(object_traits<T>::supports_duplication, "Object must support duplication.");
    zx_handle_t h = ZX_HANDLE_INVALID;
    zx_status_t status = zx_handle_duplicate(value_, rights, &h);
    result->reset(h);
    return status;
  }

  zx_status_t replace(zx_rights_t rights, object<T>* result) {
    zx_handle_t h = ZX_HANDLE_INVALID;
    zx_status_t status = zx_handle_replace(value_, rights, &h);
    // Cleared before result is reset: result may be this object.
    value_ = ZX_HANDLE_INVALID;
    result->reset(h);
    return status;
  }

  zx_status_t wait_one(zx_signals_t signals, zx::time deadline, zx_signals_t* pending) const {
    static_assert(object_traits<T>::supports_wait, "Object is not waitable.");
    return zx_object_wait_one(value_, signals, deadline.get(), pending);
  }

  zx_status_t wait_async(const object<port>& port, uint64_t key, zx_signals_t signals,
                         uint32_t options) const {
    static_assert(object_traits<T>::supports_wait, "Object is not waitable.");
    return zx_object_wait_async(value_, port.get(), key, signals, options);
  }

  static zx_status_t wait_many(zx_wait_item_t* wait_items, size_t count, zx::time deadline) {
    static_assert(object_traits<T>::supports_wait, "Object is not waitable.");
    return zx_object_wait_many(wait_items, count, deadline.get());
  }

  zx_status_t signal(uint32_t clear_mask, uint32_t set_mask) const {
    static_assert(object_traits<T>::supports_user_signal, "Object must support user signals.");
    return zx_object_signal(get(), clear_mask, set_mask);
  }

  // A borrowed view of this handle, valid while this object holds it.
  unowned<T> borrow() const { return unowned<T>(get()); }
};

template <typename T>
bool operator==(const object<T>& a, const object<T>& b) {
  return a.get() == b.get();
}
template <typename T>
bool operator!=(const object<T>& a, const object<T>& b) {
  return !(a == b);
}
template <typename T>
bool operator<(const object<T>& a, const object<T>& b) {
  return a.get() < b.get();
}
template <typename T>
bool operator>(const object<T>& a, const object<T>& b) {
  return a.get() > b.get();
}
template <typename T>
bool operator<=(const object<T>& a, const object<T>& b) {
  return !(a.get() > b.get());
}
template <typename T>
bool operator>=(const object<T>& a, const object<T>& b) {
  return !(a.get() < b.get());
}
template <typename T>
bool operator==(zx_handle_t a, const object<T>& b) {
  return a == b.get();
}
template <typename T>
bool operator!=(zx_handle_t a, const object<T>& b) {
  return a != b.get();
}
template <typename T>
bool operator==(const object<T>& a, zx_handle_t b) {
  return a.get() == b;
}
template <typename T>
bool operator!=(const object<T>& a, zx_handle_t b) {
  return a.get() != b;
}

// A handle used without ownership: behaves as a const T, never closes the handle.
template <typename T>
class unowned final {
 public:
  constexpr unowned() = default;
  explicit unowned(zx_handle_t h) : value_(h) {}
  explicit unowned(const T& owner) : unowned(owner.get()) {}
  explicit unowned(const unowned& other) : unowned(*other) {}
  unowned(unowned&& other) = default;
  ~unowned() { drop(); }

  unowned& operator=(const unowned& other) {
    if (&other != this) {
      drop();
      value_ = T(other->get());
    }
    return *this;
  }
  unowned& operator=(unowned&& other) {
    drop();
    value_ = std::move(other.value_);
    return *this;
  }

  const T& operator*() const { return value_; }
  const T* operator->() const { return &value_; }

 private:
  // Forgets the handle without closing it.
  void drop() { (void)value_.release(); }

  T value_;
};

template <typename T>
bool operator==(const unowned<T>& a, const unowned<T>& b) {
  return a->get() == b->get();
}
template <typename T>
bool operator!=(const unowned<T>& a, const unowned<T>& b) {
  return a->get() != b->get();
}
template <typename T>
bool operator==(const unowned<T>& a, const T& b) {
  return a->get() == b.get();
}
template <typename T>
bool operator==(const T& a, const unowned<T>& b) {
  return a.get() == b->get();
}

}  // namespace zx

#endif  // LIB_ZX_OBJECT_H_
