// SPDX-License-Identifier: BSD-3-Clause
// zxvmo: which operations zx::object<T> allows at compile time for each handle type, with
// Fuchsia's values for the types zxvmo provides. An operation a type does not support is
// a static_assert failure, as on Fuchsia, instead of an error at run time.
#ifndef LIB_ZX_OBJECT_TRAITS_H_
#define LIB_ZX_OBJECT_TRAITS_H_

namespace zx {

class bti;
class event;
class iommu;
class pager;
class pmt;
class port;
class process;
class resource;
class vmar;
class vmo;

// The defaults hold for handle (object<void>), bti, event, iommu, pager and vmo.
template <typename T>
struct object_traits {
  static constexpr bool supports_duplication = true;
  static constexpr bool supports_get_child = false;
  static constexpr bool supports_set_profile = false;
  static constexpr bool supports_user_signal = true;
  static constexpr bool supports_wait = true;
  static constexpr bool supports_kill = false;
  static constexpr bool has_peer_handle = false;
};

// A pinned-memory token can only be unpinned or closed.
template <>
struct object_traits<pmt> {
  static constexpr bool supports_duplication = false;
  static constexpr bool supports_get_child = false;
  static constexpr bool supports_set_profile = false;
  static constexpr bool supports_user_signal = false;
  static constexpr bool supports_wait = false;
  static constexpr bool supports_kill = false;
  static constexpr bool has_peer_handle = false;
};

// Ports are not waitable and carry no signals.
template <>
struct object_traits<port> {
  static constexpr bool supports_duplication = true;
  static constexpr bool supports_get_child = false;
  static constexpr bool supports_set_profile = false;
  static constexpr bool supports_user_signal = false;
  static constexpr bool supports_wait = false;
  static constexpr bool supports_kill = false;
  static constexpr bool has_peer_handle = false;
};

// VMARs are not waitable and carry no signals.
template <>
struct object_traits<vmar> {
  static constexpr bool supports_duplication = true;
  static constexpr bool supports_get_child = false;
  static constexpr bool supports_set_profile = true;
  static constexpr bool supports_user_signal = false;
  static constexpr bool supports_wait = false;
  static constexpr bool supports_kill = false;
  static constexpr bool has_peer_handle = false;
};

template <>
struct object_traits<process> {
  static constexpr bool supports_duplication = true;
  static constexpr bool supports_get_child = true;
  static constexpr bool supports_set_profile = false;
  static constexpr bool supports_user_signal = true;
  static constexpr bool supports_wait = true;
  static constexpr bool supports_kill = true;
  static constexpr bool has_peer_handle = false;
};

template <>
struct object_traits<resource> {
  static constexpr bool supports_duplication = true;
  static constexpr bool supports_get_child = true;
  static constexpr bool supports_set_profile = false;
  static constexpr bool supports_user_signal = true;
  static constexpr bool supports_wait = true;
  static constexpr bool supports_kill = false;
  static constexpr bool has_peer_handle = false;
};

}  // namespace zx

#endif  // LIB_ZX_OBJECT_TRAITS_H_
