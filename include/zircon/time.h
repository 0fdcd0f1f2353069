// SPDX-License-Identifier: BSD-3-Clause
/* zxvmo: Zircon time types and overflow-safe time arithmetic. */
#ifndef SYSROOT_ZIRCON_TIME_H_
#define SYSROOT_ZIRCON_TIME_H_

#include <stdint.h>
#include <zircon/compiler.h>

__BEGIN_CDECLS

/* Polymorphic time types (nanoseconds, except ticks). */
typedef int64_t zx_time_t;
typedef int64_t zx_duration_t;
typedef int64_t zx_ticks_t;

/* Timeline-specific spellings used by newer Zircon code; same types. */
typedef int64_t zx_instant_mono_t;
typedef int64_t zx_instant_mono_ticks_t;
typedef int64_t zx_duration_mono_t;
typedef int64_t zx_duration_mono_ticks_t;
typedef int64_t zx_instant_boot_t;
typedef int64_t zx_instant_boot_ticks_t;
typedef int64_t zx_duration_boot_t;
typedef int64_t zx_duration_boot_ticks_t;

#define ZX_TIME_INFINITE INT64_MAX
#define ZX_TIME_INFINITE_PAST INT64_MIN

/* The helpers are constexpr in C++14 and later. */
#if defined(__cplusplus) && __cplusplus >= 201402L
#define __ZX_TIME_CONSTEXPR constexpr
#else
#define __ZX_TIME_CONSTEXPR
#endif

/*
 * Saturating arithmetic: a result that does not fit in 64 bits becomes
 * ZX_TIME_INFINITE (too large) or ZX_TIME_INFINITE_PAST (too small).
 */

__ZX_TIME_CONSTEXPR static inline zx_time_t zx_time_add_duration(zx_time_t time,
                                                                 zx_duration_t duration) {
  zx_time_t r = 0;
  if (__builtin_add_overflow(time, duration, &r)) {
    return duration < 0 ? ZX_TIME_INFINITE_PAST : ZX_TIME_INFINITE;
  }
  return r;
}

__ZX_TIME_CONSTEXPR static inline zx_time_t zx_time_sub_duration(zx_time_t time,
                                                                 zx_duration_t duration) {
  zx_time_t r = 0;
  if (__builtin_sub_overflow(time, duration, &r)) {
    return duration > 0 ? ZX_TIME_INFINITE_PAST : ZX_TIME_INFINITE;
  }
  return r;
}

__ZX_TIME_CONSTEXPR static inline zx_duration_t zx_time_sub_time(zx_time_t time1, zx_time_t time2) {
  zx_duration_t r = 0;
  if (__builtin_sub_overflow(time1, time2, &r)) {
    return time2 > 0 ? ZX_TIME_INFINITE_PAST : ZX_TIME_INFINITE;
  }
  return r;
}

__ZX_TIME_CONSTEXPR static inline zx_duration_t zx_duration_add_duration(zx_duration_t dur1,
                                                                         zx_duration_t dur2) {
  zx_duration_t r = 0;
  if (__builtin_add_overflow(dur1, dur2, &r)) {
    return dur2 < 0 ? ZX_TIME_INFINITE_PAST : ZX_TIME_INFINITE;
  }
  return r;
}

__ZX_TIME_CONSTEXPR static inline zx_duration_t zx_duration_sub_duration(zx_duration_t dur1,
                                                                         zx_duration_t dur2) {
  zx_duration_t r = 0;
  if (__builtin_sub_overflow(dur1, dur2, &r)) {
    return dur2 > 0 ? ZX_TIME_INFINITE_PAST : ZX_TIME_INFINITE;
  }
  return r;
}

__ZX_TIME_CONSTEXPR static inline zx_duration_t zx_duration_mul_int64(zx_duration_t duration,
                                                                      int64_t multiplier) {
  zx_duration_t r = 0;
  if (__builtin_mul_overflow(duration, multiplier, &r)) {
    /* Overflow implies both operands are non-zero; the sign decides. */
    return ((duration < 0) == (multiplier < 0)) ? ZX_TIME_INFINITE : ZX_TIME_INFINITE_PAST;
  }
  return r;
}

__ZX_TIME_CONSTEXPR static inline int64_t zx_nsec_from_duration(zx_duration_t n) { return n; }

/* Unit conversions, saturating like the arithmetic above. */
__ZX_TIME_CONSTEXPR static inline zx_duration_t zx_duration_from_nsec(int64_t n) {
  return zx_duration_mul_int64(1, n);
}

__ZX_TIME_CONSTEXPR static inline zx_duration_t zx_duration_from_usec(int64_t n) {
  return zx_duration_mul_int64(INT64_C(1000), n);
}

__ZX_TIME_CONSTEXPR static inline zx_duration_t zx_duration_from_msec(int64_t n) {
  return zx_duration_mul_int64(INT64_C(1000000), n);
}

__ZX_TIME_CONSTEXPR static inline zx_duration_t zx_duration_from_sec(int64_t n) {
  return zx_duration_mul_int64(INT64_C(1000000000), n);
}

__ZX_TIME_CONSTEXPR static inline zx_duration_t zx_duration_from_min(int64_t n) {
  return zx_duration_mul_int64(INT64_C(60000000000), n);
}

__ZX_TIME_CONSTEXPR static inline zx_duration_t zx_duration_from_hour(int64_t n) {
  return zx_duration_mul_int64(INT64_C(3600000000000), n);
}

/*
 * Duration macros. A compile-time constant argument gives a constant
 * expression (usable in static initializers); anything else goes through the
 * saturating helpers.
 */
#define ZX_NSEC(n) \
  (__builtin_constant_p(n) ? ((zx_duration_t)(1LL * (n))) : zx_duration_from_nsec(n))
#define ZX_USEC(n) \
  (__builtin_constant_p(n) ? ((zx_duration_t)(1000LL * (n))) : zx_duration_from_usec(n))
#define ZX_MSEC(n) \
  (__builtin_constant_p(n) ? ((zx_duration_t)(1000000LL * (n))) : zx_duration_from_msec(n))
#define ZX_SEC(n) \
  (__builtin_constant_p(n) ? ((zx_duration_t)(1000000000LL * (n))) : zx_duration_from_sec(n))
#define ZX_MIN(n)                                                       \
  (__builtin_constant_p(n) ? ((zx_duration_t)(60LL * 1000000000LL * (n))) \
                           : zx_duration_from_min(n))
#define ZX_HOUR(n)                                                        \
  (__builtin_constant_p(n) ? ((zx_duration_t)(3600LL * 1000000000LL * (n))) \
                           : zx_duration_from_hour(n))

__END_CDECLS

#endif /* SYSROOT_ZIRCON_TIME_H_ */
