// SPDX-License-Identifier: BSD-3-Clause
// zxvmo: Fuchsia's lib/zx time types. zx::duration is a span of nanoseconds;
// zx::basic_time<clock> a point on one clock's timeline, so that points of different
// clocks cannot be mixed. Arithmetic saturates at the infinities, as the C helpers of
// <zircon/time.h> do. Names: zx::time and zx::time_monotonic (and the newer
// zx::instant_mono) are monotonic-clock points; zx::time_boot / zx::instant_boot
// boot-clock points; zx::duration_mono and zx::duration_boot are zx::duration.
// zx::ticks is not provided (zxvmo has no zx_ticks_get()).
#ifndef LIB_ZX_TIME_H_
#define LIB_ZX_TIME_H_

#include <stdint.h>
#include <zircon/availability.h>
#include <zircon/compiler.h>
#include <zircon/syscalls.h>
#include <zircon/time.h>

#include <ctime>

namespace zx {

class duration final {
 public:
  constexpr duration() = default;
  explicit constexpr duration(zx_duration_t value) : value_(value) {}
  // Saturates, as the arithmetic does.
  explicit constexpr duration(std::timespec ts) : value_(from_timespec(ts)) {}

  static constexpr duration infinite() { return duration(ZX_TIME_INFINITE); }
  static constexpr duration infinite_past() { return duration(ZX_TIME_INFINITE_PAST); }

  constexpr zx_duration_t get() const { return value_; }

  constexpr duration operator-() const { return duration(zx_duration_mul_int64(value_, -1)); }
  constexpr duration operator+(duration other) const {
    return duration(zx_duration_add_duration(value_, other.value_));
  }
  constexpr duration operator-(duration other) const {
    return duration(zx_duration_sub_duration(value_, other.value_));
  }
  constexpr duration operator*(int64_t multiplier) const {
    return duration(zx_duration_mul_int64(value_, multiplier));
  }
  constexpr duration operator/(int64_t divisor) const { return duration(value_ / divisor); }
  constexpr int64_t operator/(duration other) const { return value_ / other.value_; }
  constexpr duration operator%(int64_t divisor) const { return duration(value_ % divisor); }
  constexpr int64_t operator%(duration other) const { return value_ % other.value_; }

  constexpr duration& operator+=(duration other) { return *this = *this + other; }
  constexpr duration& operator-=(duration other) { return *this = *this - other; }
  constexpr duration& operator*=(int64_t multiplier) { return *this = *this * multiplier; }
  constexpr duration& operator/=(int64_t divisor) { return *this = *this / divisor; }
  constexpr duration& operator%=(int64_t divisor) { return *this = *this % divisor; }

  constexpr bool operator==(duration other) const { return value_ == other.value_; }
  constexpr bool operator!=(duration other) const { return value_ != other.value_; }
  constexpr bool operator<(duration other) const { return value_ < other.value_; }
  constexpr bool operator<=(duration other) const { return value_ <= other.value_; }
  constexpr bool operator>(duration other) const { return value_ > other.value_; }
  constexpr bool operator>=(duration other) const { return value_ >= other.value_; }

  constexpr int64_t to_nsecs() const { return value_; }
  constexpr int64_t to_usecs() const { return value_ / INT64_C(1000); }
  constexpr int64_t to_msecs() const { return value_ / INT64_C(1000000); }
  constexpr int64_t to_secs() const { return value_ / INT64_C(1000000000); }
  constexpr int64_t to_mins() const { return value_ / INT64_C(60000000000); }
  constexpr int64_t to_hours() const { return value_ / INT64_C(3600000000000); }

  // Seconds and nanoseconds truncated toward zero (so both carry the sign).
  constexpr std::timespec to_timespec() const { return to_timespec(value_); }

  // The conversions basic_time shares.
  static constexpr zx_duration_t from_timespec(std::timespec ts) {
    return zx_duration_add_duration(zx_duration_from_sec(static_cast<int64_t>(ts.tv_sec)),
                                    static_cast<int64_t>(ts.tv_nsec));
  }
  static constexpr std::timespec to_timespec(int64_t nanoseconds) {
    std::timespec ts{};
    ts.tv_sec = static_cast<std::time_t>(nanoseconds / INT64_C(1000000000));
    ts.tv_nsec = static_cast<long>(nanoseconds % INT64_C(1000000000));
    return ts;
  }

 private:
  zx_duration_t value_ = 0;
};

constexpr duration operator*(int64_t multiplier, duration d) { return d * multiplier; }

template <zx_clock_t kClockId>
class basic_time final {
 public:
  constexpr basic_time() = default;
  explicit constexpr basic_time(zx_time_t value) : value_(value) {}
  explicit constexpr basic_time(std::timespec ts) : value_(duration::from_timespec(ts)) {}

  static constexpr basic_time infinite() { return basic_time(ZX_TIME_INFINITE); }
  static constexpr basic_time infinite_past() { return basic_time(ZX_TIME_INFINITE_PAST); }

  constexpr zx_time_t get() const { return value_; }
  zx_time_t* get_address() { return &value_; }
  constexpr std::timespec to_timespec() const { return duration::to_timespec(value_); }

  constexpr duration operator-(basic_time other) const {
    return duration(zx_time_sub_time(value_, other.value_));
  }
  constexpr basic_time operator+(duration delta) const {
    return basic_time(zx_time_add_duration(value_, delta.get()));
  }
  constexpr basic_time operator-(duration delta) const {
    return basic_time(zx_time_sub_duration(value_, delta.get()));
  }
  constexpr basic_time& operator+=(duration delta) { return *this = *this + delta; }
  constexpr basic_time& operator-=(duration delta) { return *this = *this - delta; }

  constexpr bool operator==(basic_time other) const { return value_ == other.value_; }
  constexpr bool operator!=(basic_time other) const { return value_ != other.value_; }
  constexpr bool operator<(basic_time other) const { return value_ < other.value_; }
  constexpr bool operator<=(basic_time other) const { return value_ <= other.value_; }
  constexpr bool operator>(basic_time other) const { return value_ > other.value_; }
  constexpr bool operator>=(basic_time other) const { return value_ >= other.value_; }

 private:
  zx_time_t value_ = 0;
};

template <zx_clock_t kClockId>
constexpr basic_time<kClockId> operator+(duration delta, basic_time<kClockId> t) {
  return t + delta;
}

using time = basic_time<ZX_CLOCK_MONOTONIC>;
using time_monotonic = basic_time<ZX_CLOCK_MONOTONIC>;
using time_boot = basic_time<ZX_CLOCK_BOOT>;
using instant_mono = basic_time<ZX_CLOCK_MONOTONIC>;
using instant_boot = basic_time<ZX_CLOCK_BOOT>;
using duration_mono = duration;
using duration_boot = duration;

constexpr inline duration nsec(int64_t n) { return duration(zx_duration_from_nsec(n)); }
constexpr inline duration usec(int64_t n) { return duration(zx_duration_from_usec(n)); }
constexpr inline duration msec(int64_t n) { return duration(zx_duration_from_msec(n)); }
constexpr inline duration sec(int64_t n) { return duration(zx_duration_from_sec(n)); }
constexpr inline duration min(int64_t n) { return duration(zx_duration_from_min(n)); }
constexpr inline duration hour(int64_t n) { return duration(zx_duration_from_hour(n)); }

inline zx_status_t nanosleep(zx::time deadline) { return zx_nanosleep(deadline.get()); }

inline time deadline_after(zx::duration nanoseconds) {
  return time(zx_deadline_after(nanoseconds.get()));
}

}  // namespace zx

#endif  // LIB_ZX_TIME_H_
