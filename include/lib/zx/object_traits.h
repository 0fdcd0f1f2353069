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

// The traits as one list of flags, so that each type below states its values once.
template <bool kDuplication, bool kGetChild, bool kSetProfile, bool kUserSignal, bool kWait,
          bool kKill>
struct object_traits_values {
  static constexpr bool supports_duplication = kDuplication;
  static constexpr bool supports_get_child = kGetChild;
  static constexpr bool supports_set_profile = kSetProfile;
  static constexpr bool supports_user_signal = kUserSignal;
  static constexpr bool supports_wait = kWait;
  static constexpr bool supports_kill = kKill;
  static constexpr bool has_peer_handle = false;  // no peered object in zxvmo
};

// Flags in order: duplication, get_child, set_profile, user_signal, wait, kill.
// The defaults hold for handle (object<void>), bti, event, iommu, pager and vmo.
template <typename T>
struct object_traits : object_traits_values<true, false, false, true, true, false> {};
// A pinned-memory token can only be unpinned or closed.
template <>
struct object_traits<pmt> : object_traits_values<false, false, false, false, false, false> {};
// Ports and VMARs are not waitable and carry no signals.
template <>
struct object_traits<port> : object_traits_values<true, false, false, false, false, false> {};
template <>
struct object_traits<vmar> : object_traits_values<true, false, true, false, false, false> {};
template <>
struct object_traits<process> : object_traits_values<true, true, false, true, true, true> {};
template <>
struct object_traits<resource> : object_traits_values<true, true, false, true, true, false> {};

}  // namespace zx

#endif  // LIB_ZX_OBJECT_TRAITS_H_
