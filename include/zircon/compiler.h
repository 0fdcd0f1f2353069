// SPDX-License-Identifier: BSD-3-Clause
/* zxvmo: Zircon's compiler macros (attributes, builtins, C/C++ linkage, thread-safety
 * annotations), with Zircon's names, for C99 and later, C++11 and later, gcc and clang.
 * Every macro is defined only if not already defined, so that this header can meet a
 * libc's or another SDK's definitions of the same names. */
#ifndef SYSROOT_ZIRCON_COMPILER_H_
#define SYSROOT_ZIRCON_COMPILER_H_

#if !defined(__GNUC__) && !defined(__clang__)
#error "zxvmo's <zircon/compiler.h> needs gcc or clang"
#endif

/* Feature tests missing from a compiler count as "not available". */
#ifndef __has_cpp_attribute
#define __has_cpp_attribute(x) 0
#endif
#ifndef __has_feature
#define __has_feature(x) 0
#endif

#if !defined(__ASSEMBLER__)

/* ---- C declarations in C++ -------------------------------------------- */

#ifndef __BEGIN_CDECLS
#ifdef __cplusplus
#define __BEGIN_CDECLS extern "C" {
#else
#define __BEGIN_CDECLS
#endif
#endif

#ifndef __END_CDECLS
#ifdef __cplusplus
#define __END_CDECLS }
#else
#define __END_CDECLS
#endif
#endif

/* ---- Function and data attributes --------------------------------------- */

#ifndef __NO_INLINE
#define __NO_INLINE __attribute__((__noinline__))
#endif
#ifndef __ALWAYS_INLINE
#define __ALWAYS_INLINE __attribute__((__always_inline__))
#endif
/* Zircon now defines __UNUSED for C only ([[maybe_unused]] in C++); older C++ code
 * still uses it, and the attribute means the same in both. */
#ifndef __UNUSED
#define __UNUSED __attribute__((__unused__))
#endif
#ifndef __USED
#define __USED __attribute__((__used__))
#endif
#ifndef __ALWAYS_EMIT
#define __ALWAYS_EMIT __attribute__((__used__))
#endif
#ifndef __PACKED
#define __PACKED __attribute__((__packed__))
#endif
#ifndef __THREAD
#define __THREAD __thread
#endif
/* x: a power of two. */
#ifndef __ALIGNED
#define __ALIGNED(x) __attribute__((__aligned__(x)))
#endif
#ifndef __NO_RETURN
#define __NO_RETURN __attribute__((__noreturn__))
#endif
#ifndef __WARN_UNUSED_RESULT
#define __WARN_UNUSED_RESULT __attribute__((__warn_unused_result__))
#endif
#ifndef __UNINITIALIZED
#if defined(__clang__)
#define __UNINITIALIZED __attribute__((__uninitialized__))
#else
#define __UNINITIALIZED
#endif
#endif
/* [[nodiscard]] on a constructor: C++17 clang, and gcc from 10. */
#if defined(__cplusplus) && !defined(__WARN_UNUSED_CONSTRUCTOR)
#if __cplusplus >= 201703L && (defined(__clang__) || __GNUC__ >= 10)
#define __WARN_UNUSED_CONSTRUCTOR [[nodiscard]]
#else
#define __WARN_UNUSED_CONSTRUCTOR
#endif
#endif
#ifndef __DEPRECATE
#define __DEPRECATE __attribute__((__deprecated__))
#endif
#ifndef __PURE
#define __PURE __attribute__((__pure__))
#endif
#ifndef __CONST
#define __CONST __attribute__((__const__))
#endif
#ifndef __MALLOC
#define __MALLOC __attribute__((__malloc__))
#endif
/* As Zircon: gcc's alloc_size warnings misfire on checked sizes, so clang only. */
#ifndef __ALLOC_SIZE
#if defined(__clang__)
#define __ALLOC_SIZE(...) __attribute__((__alloc_size__(__VA_ARGS__)))
#else
#define __ALLOC_SIZE(...)
#endif
#endif
/* Argument numbers count from 1 (the implicit `this` of a member function is 1). */
#ifndef __PRINTFLIKE
#define __PRINTFLIKE(__fmt, __varargs) __attribute__((__format__(__printf__, __fmt, __varargs)))
#endif
#ifndef __SCANFLIKE
#define __SCANFLIKE(__fmt, __varargs) __attribute__((__format__(__scanf__, __fmt, __varargs)))
#endif
/* n: a parenthesized list of argument numbers, e.g. __NONNULL((1, 2)). */
#ifndef __NONNULL
#define __NONNULL(n) __attribute__((__nonnull__ n))
#endif
#ifndef __LEAF_FN
#define __LEAF_FN __attribute__((__leaf__))
#endif
#ifndef __CONSTEXPR
#ifdef __cplusplus
#define __CONSTEXPR constexpr
#else
#define __CONSTEXPR
#endif
#endif
#ifndef __OPTIMIZE
#if !defined(__clang__)
#define __OPTIMIZE(x) __attribute__((__optimize__(x)))
#else
#define __OPTIMIZE(x)
#endif
#endif
#ifndef __NO_SAFESTACK
#if defined(__clang__)
#define __NO_SAFESTACK __attribute__((__no_sanitize__("safe-stack", "shadow-call-stack")))
#else
#define __NO_SAFESTACK
#endif
#endif
/* [[no_unique_address]] is C++20 (an extension -pedantic reports before that). */
#ifndef __NO_UNIQUE_ADDRESS
#if defined(__cplusplus) && __cplusplus >= 202002L && __has_cpp_attribute(no_unique_address)
#define __NO_UNIQUE_ADDRESS [[no_unique_address]]
#else
#define __NO_UNIQUE_ADDRESS
#endif
#endif
#ifndef __ANALYZER_CREATE_SINK
#if defined(__clang__)
#define __ANALYZER_CREATE_SINK __attribute__((__analyzer_noreturn__))
#else
#define __ANALYZER_CREATE_SINK
#endif
#endif
#ifndef __EXTERNALLY_VISIBLE
#if !defined(__clang__)
#define __EXTERNALLY_VISIBLE __attribute__((__externally_visible__))
#else
#define __EXTERNALLY_VISIBLE
#endif
#endif
/* The alias target must be defined in the same translation unit. */
#ifndef __ALIAS
#define __ALIAS(x) __attribute__((__alias__(x)))
#endif
#ifndef __SECTION
#define __SECTION(x) __attribute__((__section__(x)))
#endif
#ifndef __WEAK
#define __WEAK __attribute__((__weak__))
#endif
#ifndef __WEAK_ALIAS
#define __WEAK_ALIAS(x) __attribute__((__weak__, __alias__(x)))
#endif
/* ELF symbol visibility. */
#ifndef __EXPORT
#define __EXPORT __attribute__((__visibility__("default")))
#endif
#ifndef __LOCAL
#define __LOCAL __attribute__((__visibility__("hidden")))
#endif

/* ---- Builtins ------------------------------------------------------------ */

#ifndef likely
#define likely(x) __builtin_expect(!!(x), 1)
#endif
#ifndef unlikely
#define unlikely(x) __builtin_expect(!!(x), 0)
#endif
#ifndef __GET_CALLER
#define __GET_CALLER(x) __builtin_return_address(0)
#endif
#ifndef __GET_FRAME
#define __GET_FRAME(x) __builtin_frame_address(0)
#endif
#ifndef __ISCONSTANT
#define __ISCONSTANT(x) __builtin_constant_p(x)
#endif
#ifndef __UNREACHABLE
#define __UNREACHABLE __builtin_unreachable()
#endif
#ifndef __offsetof
#define __offsetof(type, field) __builtin_offsetof(type, field)
#endif
/* True if the operation overflowed; *result holds the wrapped value either way. */
#ifndef add_overflow
#define add_overflow(a, b, result) __builtin_add_overflow(a, b, result)
#endif
#ifndef sub_overflow
#define sub_overflow(a, b, result) __builtin_sub_overflow(a, b, result)
#endif
#ifndef mul_overflow
#define mul_overflow(a, b, result) __builtin_mul_overflow(a, b, result)
#endif

/* A deliberate fall-through between switch cases, without a warning. */
#ifndef __FALLTHROUGH
#if defined(__cplusplus) && __cplusplus >= 201703L
#define __FALLTHROUGH [[fallthrough]]
#elif defined(__cplusplus) && defined(__clang__)
#define __FALLTHROUGH [[clang::fallthrough]]
#elif (defined(__GNUC__) && __GNUC__ >= 7) || defined(__clang__)
#define __FALLTHROUGH __attribute__((__fallthrough__))
#else
#define __FALLTHROUGH \
  do {                \
  } while (0)
#endif
#endif

/* ---- Thread-safety annotations ------------------------------------------ */

/* clang's -Wthread-safety attributes; nothing under gcc, which has no such analysis.
 * A program may define __THREAD_ANNOTATION itself (e.g. empty) before including this. */
#ifndef __THREAD_ANNOTATION
#if defined(__clang__)
#define __THREAD_ANNOTATION(x) __attribute__((x))
#else
#define __THREAD_ANNOTATION(x)
#endif
#endif
#define __TA_CAPABILITY(x) __THREAD_ANNOTATION(__capability__(x))
#define __TA_GUARDED(x) __THREAD_ANNOTATION(__guarded_by__(x))
#define __TA_ACQUIRE(...) __THREAD_ANNOTATION(__acquire_capability__(__VA_ARGS__))
#define __TA_ACQUIRE_SHARED(...) __THREAD_ANNOTATION(__acquire_shared_capability__(__VA_ARGS__))
#define __TA_TRY_ACQUIRE(...) __THREAD_ANNOTATION(__try_acquire_capability__(__VA_ARGS__))
#define __TA_TRY_ACQUIRE_SHARED(...) \
  __THREAD_ANNOTATION(__try_acquire_shared_capability__(__VA_ARGS__))
/* clang parses these two but does not check them yet: documentation only. */
#define __TA_ACQUIRED_BEFORE(...) __THREAD_ANNOTATION(__acquired_before__(__VA_ARGS__))
#define __TA_ACQUIRED_AFTER(...) __THREAD_ANNOTATION(__acquired_after__(__VA_ARGS__))
#define __TA_RELEASE(...) __THREAD_ANNOTATION(__release_capability__(__VA_ARGS__))
#define __TA_RELEASE_SHARED(...) __THREAD_ANNOTATION(__release_shared_capability__(__VA_ARGS__))
#define __TA_REQUIRES(...) __THREAD_ANNOTATION(__requires_capability__(__VA_ARGS__))
#define __TA_REQUIRES_SHARED(...) \
  __THREAD_ANNOTATION(__requires_shared_capability__(__VA_ARGS__))
#define __TA_EXCLUDES(...) __THREAD_ANNOTATION(__locks_excluded__(__VA_ARGS__))
#define __TA_ASSERT(...) __THREAD_ANNOTATION(__assert_capability__(__VA_ARGS__))
#define __TA_ASSERT_SHARED(...) __THREAD_ANNOTATION(__assert_shared_capability__(__VA_ARGS__))
#define __TA_RETURN_CAPABILITY(x) __THREAD_ANNOTATION(__lock_returned__(x))
#define __TA_SCOPED_CAPABILITY __THREAD_ANNOTATION(__scoped_lockable__)
#define __TA_NO_THREAD_SAFETY_ANALYSIS __THREAD_ANNOTATION(__no_thread_safety_analysis__)

/* ---- Lifetime annotations (clang's gsl attributes, C++ only) ------------- */

#ifndef __OWNER
#if defined(__cplusplus) && defined(__clang__)
#define __OWNER(x) [[gsl::Owner(x)]]
#define __POINTER(x) [[gsl::Pointer(x)]]
#else
#define __OWNER(x)
#define __POINTER(x)
#endif
#endif

/* ---- Constant initialization (C++) ------------------------------------- */

#if defined(__cplusplus) && !defined(__CONSTINIT)
#if defined(__cpp_constinit) && __cpp_constinit >= 201907L
#define __CONSTINIT constinit
#elif defined(__clang__)
#define __CONSTINIT [[clang::require_constant_initialization]]
#elif __GNUC__ >= 13
#define __CONSTINIT __constinit
#else
#define __CONSTINIT
#endif
#endif

#endif /* !defined(__ASSEMBLER__) */

#endif /* SYSROOT_ZIRCON_COMPILER_H_ */
