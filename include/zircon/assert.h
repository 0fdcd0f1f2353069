// SPDX-License-Identifier: BSD-3-Clause
/* zxvmo: Zircon's assertion macros for user programs.
 *
 * ZX_ASSERT(x) and ZX_ASSERT_MSG(x, fmt, ...) always evaluate x and, if it is false,
 * print the file, line, expression (and message) to stderr and abort. ZX_DEBUG_ASSERT
 * and ZX_DEBUG_ASSERT_MSG do the same when ZX_DEBUG_ASSERT_IMPLEMENTED is true: on
 * Fuchsia the build sets ZX_ASSERT_LEVEL (debug assertions from level 2); without it
 * they follow NDEBUG, as <assert.h> does. Disabled, they still compile x (so a variable
 * used only in an assertion is not "unused") but never evaluate it.
 * ZX_PANIC(fmt, ...) prints and aborts. Everything is inline: nothing is exported. */
#ifndef SYSROOT_ZIRCON_ASSERT_H_
#define SYSROOT_ZIRCON_ASSERT_H_

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <zircon/compiler.h>

__BEGIN_CDECLS

static inline __NO_RETURN __PRINTFLIKE(1, 2) void __zx_panic(const char* format, ...) {
  va_list ap;
  va_start(ap, format);
  vfprintf(stderr, format, ap);
  va_end(ap);
  fflush(stderr);
  abort();
}

/* The assertion macros' failure paths: "<prefix> at (file:line): expr", then the
 * caller's message for the _MSG forms. */
static inline __NO_RETURN void __zx_assert_fail(const char* prefix, const char* file, int line,
                                                const char* expr) {
  fprintf(stderr, "%s at (%s:%d): %s\n", prefix, file, line, expr);
  fflush(stderr);
  abort();
}

static inline __NO_RETURN __PRINTFLIKE(5, 6) void __zx_assert_msg_fail(const char* prefix,
                                                                      const char* file,
                                                                      int line,
                                                                      const char* expr,
                                                                      const char* format, ...) {
  va_list ap;
  fprintf(stderr, "%s at (%s:%d): %s ", prefix, file, line, expr);
  va_start(ap, format);
  vfprintf(stderr, format, ap);
  va_end(ap);
  fputc('\n', stderr);
  fflush(stderr);
  abort();
}

__END_CDECLS

#define ZX_PANIC(...) __zx_panic(__VA_ARGS__)

#ifndef ZX_DEBUG_ASSERT_IMPLEMENTED
#if defined(ZX_ASSERT_LEVEL)
#define ZX_DEBUG_ASSERT_IMPLEMENTED (ZX_ASSERT_LEVEL > 1)
#elif defined(NDEBUG)
#define ZX_DEBUG_ASSERT_IMPLEMENTED 0
#else
#define ZX_DEBUG_ASSERT_IMPLEMENTED 1
#endif
#endif

/* The condition is tested as plain `if (x)`, as Zircon does in C++, so that an
 * accidental assignment (ZX_ASSERT(a = b)) still draws -Wparentheses. The message
 * forms take the format as the first variadic argument, which keeps them standard C
 * (no GNU named or empty variadic arguments). */
#define ZX_ASSERT(x)                                                          \
  do {                                                                        \
    if (x) {                                                                  \
    } else {                                                                  \
      __zx_assert_fail("ASSERT FAILED", __FILE__, __LINE__, #x); \
    }                                                                         \
  } while (0)

#define ZX_ASSERT_MSG(x, ...)                                                  \
  do {                                                                         \
    if (x) {                                                                   \
    } else {                                                                   \
      __zx_assert_msg_fail("ASSERT FAILED", __FILE__, __LINE__, #x, __VA_ARGS__); \
    }                                                                          \
  } while (0)

#define ZX_DEBUG_ASSERT(x)                                                          \
  do {                                                                              \
    if (ZX_DEBUG_ASSERT_IMPLEMENTED) {                                              \
      if (x) {                                                                      \
      } else {                                                                      \
        __zx_assert_fail("DEBUG ASSERT FAILED", __FILE__, __LINE__, #x); \
      }                                                                             \
    }                                                                               \
  } while (0)

#define ZX_DEBUG_ASSERT_MSG(x, ...)                                                  \
  do {                                                                               \
    if (ZX_DEBUG_ASSERT_IMPLEMENTED) {                                               \
      if (x) {                                                                       \
      } else {                                                                       \
        __zx_assert_msg_fail("DEBUG ASSERT FAILED", __FILE__, __LINE__, #x, __VA_ARGS__); \
      }                                                                              \
    }                                                                                \
  } while (0)

/* The _COND forms compile to nothing at all when debug assertions are off (the
 * condition may name things that only exist in debug builds). */
#if ZX_DEBUG_ASSERT_IMPLEMENTED
#define ZX_DEBUG_ASSERT_COND(x) ZX_DEBUG_ASSERT(x)
#define ZX_DEBUG_ASSERT_MSG_COND(x, ...) ZX_DEBUG_ASSERT_MSG(x, __VA_ARGS__)
#else
#define ZX_DEBUG_ASSERT_COND(x) \
  do {                          \
  } while (0)
#define ZX_DEBUG_ASSERT_MSG_COND(x, ...) \
  do {                                   \
  } while (0)
#endif

#endif /* SYSROOT_ZIRCON_ASSERT_H_ */
