// SPDX-License-Identifier: BSD-3-Clause
// zxvmo: a subset of Fuchsia's fbl::RefPtr, the owning pointer to an fbl::RefCounted
// object: copying adds a reference, destroying or resetting drops one, and the last
// drop deletes the object. Create with fbl::AdoptRef(new T(...)) (takes the object's
// initial reference) or fbl::MakeRefCounted<T>(args...).
#ifndef FBL_REF_PTR_H_
#define FBL_REF_PTR_H_

#include <cstddef>
#include <new>
#include <type_traits>
#include <utility>

namespace fbl {

template <typename T>
class RefPtr;

template <typename T>
RefPtr<T> AdoptRef(T* ptr);

template <typename T>
class RefPtr final {
 public:
  constexpr RefPtr() : ptr_(nullptr) {}
  constexpr RefPtr(std::nullptr_t) : ptr_(nullptr) {}  // NOLINT: implicit, as in fbl

  // From a pointer to an object already adopted by some RefPtr: adds a reference.
  explicit RefPtr(T* p) : ptr_(p) {
    if (ptr_ != nullptr) {
      ptr_->AddRef();
    }
  }

  RefPtr(const RefPtr& r) : RefPtr(r.ptr_) {}
  template <typename U, typename = std::enable_if_t<std::is_convertible<U*, T*>::value>>
  RefPtr(const RefPtr<U>& r) : RefPtr(r.get()) {}  // NOLINT: implicit upcast

  RefPtr(RefPtr&& r) noexcept : ptr_(r.ptr_) { r.ptr_ = nullptr; }
  template <typename U, typename = std::enable_if_t<std::is_convertible<U*, T*>::value>>
  RefPtr(RefPtr<U>&& r) noexcept : ptr_(r.leak_ref()) {}  // NOLINT: implicit upcast

  ~RefPtr() { reset(); }

  RefPtr& operator=(const RefPtr& r) {
    // Copy first: r may be owned by the object this pointer releases.
    RefPtr(r).swap(*this);
    return *this;
  }
  RefPtr& operator=(RefPtr&& r) noexcept {
    RefPtr(std::move(r)).swap(*this);
    return *this;
  }
  RefPtr& operator=(std::nullptr_t) {
    reset();
    return *this;
  }

  void reset() {
    T* p = ptr_;
    ptr_ = nullptr;
    if (p != nullptr && p->Release()) {
      delete p;
    }
  }

  void swap(RefPtr& r) noexcept { std::swap(ptr_, r.ptr_); }

  // Gives up the reference without dropping it; the caller owns it.
  T* leak_ref() __attribute__((__warn_unused_result__)) {
    T* p = ptr_;
    ptr_ = nullptr;
    return p;
  }

  T* get() const { return ptr_; }
  T& operator*() const { return *ptr_; }
  T* operator->() const { return ptr_; }
  explicit operator bool() const { return ptr_ != nullptr; }

  template <typename U>
  bool operator==(const RefPtr<U>& other) const {
    return ptr_ == other.get();
  }
  template <typename U>
  bool operator!=(const RefPtr<U>& other) const {
    return ptr_ != other.get();
  }
  bool operator==(std::nullptr_t) const { return ptr_ == nullptr; }
  bool operator!=(std::nullptr_t) const { return ptr_ != nullptr; }

 private:
  template <typename U>
  friend class RefPtr;
  friend RefPtr<T> AdoptRef<T>(T*);

  struct adopt_tag {};
  RefPtr(T* p, adopt_tag) : ptr_(p) {}

  T* ptr_;
};

template <typename T>
bool operator==(std::nullptr_t, const RefPtr<T>& ptr) {
  return ptr.get() == nullptr;
}
template <typename T>
bool operator!=(std::nullptr_t, const RefPtr<T>& ptr) {
  return ptr.get() != nullptr;
}

// Takes the initial reference of a newly created object (which must not have been
// adopted before).
template <typename T>
RefPtr<T> AdoptRef(T* ptr) {
  return RefPtr<T>(ptr, typename RefPtr<T>::adopt_tag());
}

// new T(args...) adopted; a null RefPtr if memory runs out.
template <typename T, typename... Args>
RefPtr<T> MakeRefCounted(Args&&... args) {
  return AdoptRef(new (std::nothrow) T(std::forward<Args>(args)...));
}

}  // namespace fbl

#endif  // FBL_REF_PTR_H_
