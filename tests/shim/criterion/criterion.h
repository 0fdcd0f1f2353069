// SPDX-License-Identifier: BSD-3-Clause
// A small stand-in for Criterion, used only by the ThreadSanitizer build.
//
// Why: Criterion's runner cannot start under TSan (its inheritable arena collides
// with TSan's shadow memory: "Could not initialize inheritable arena"). The threaded
// tests are plain Criterion tests; under TSan they are compiled against this header
// instead, which supports the subset they use: Test(suite, name, .init/.fini/
// .timeout/.disabled), cr_assert, cr_assert_{eq,neq,lt,leq,gt,geq,not,null,not_null,
// str_eq,str_neq}, cr_expect* (same, non-fatal), cr_fail, cr_skip_test, cr_log_*.
// runner.c runs each test in a forked child, like Criterion, and prints
// "N passed, N failed".
#ifndef ZXVMO_TESTS_SHIM_CRITERION_H_
#define ZXVMO_TESTS_SHIM_CRITERION_H_

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct shim_test_opts {
  int unused_;
  void (*init)(void);
  void (*fini)(void);
  double timeout;
  bool disabled;
  const char* description;
  int exit_code;
  int signal;
};

struct shim_test {
  const char* suite;
  const char* name;
  void (*fn)(void);
  struct shim_test_opts opts;
  struct shim_test* next;
};

#ifdef __cplusplus
// Test()'s options are a partial aggregate initializer, complete as C; C++ compilers
// warn about the fields it leaves to zero.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
extern "C" {  // runner.c is C; C++ tests (tests/*.cc) use the same runner
#endif
void shim_register(struct shim_test* t);
void shim_fail(const char* file, int line, bool fatal, const char* what, const char* fmt, ...)
    __attribute__((format(printf, 5, 6)));
void shim_skip(void) __attribute__((noreturn));
#ifdef __cplusplus
}
#endif

#define Test(suite, name, ...)                                                    \
  static void suite##_##name##_impl(void);                                        \
  static struct shim_test suite##_##name##_desc = {                               \
      #suite, #name, suite##_##name##_impl,                                       \
      {0, __VA_ARGS__}, NULL};                                                    \
  __attribute__((constructor)) static void suite##_##name##_reg(void) {           \
    shim_register(&suite##_##name##_desc);                                        \
  }                                                                               \
  static void suite##_##name##_impl(void)

// The optional user message is a format string literal and its arguments.
#define SHIM_CHECK_(fatal, cond, text, ...)                                       \
  do {                                                                            \
    if (!(cond)) shim_fail(__FILE__, __LINE__, fatal, text, "" __VA_ARGS__);      \
  } while (0)

#define cr_assert(cond, ...) SHIM_CHECK_(true, (cond), #cond, __VA_ARGS__)
#define cr_expect(cond, ...) SHIM_CHECK_(false, (cond), #cond, __VA_ARGS__)
#define cr_assert_not(cond, ...) SHIM_CHECK_(true, !(cond), "!(" #cond ")", __VA_ARGS__)
#define cr_expect_not(cond, ...) SHIM_CHECK_(false, !(cond), "!(" #cond ")", __VA_ARGS__)
#define SHIM_CMP_(fatal, a, op, b, ...) \
  SHIM_CHECK_(fatal, ((a)op(b)), #a " " #op " " #b, __VA_ARGS__)
#define cr_assert_eq(a, b, ...) SHIM_CMP_(true, a, ==, b, __VA_ARGS__)
#define cr_assert_neq(a, b, ...) SHIM_CMP_(true, a, !=, b, __VA_ARGS__)
#define cr_assert_lt(a, b, ...) SHIM_CMP_(true, a, <, b, __VA_ARGS__)
#define cr_assert_leq(a, b, ...) SHIM_CMP_(true, a, <=, b, __VA_ARGS__)
#define cr_assert_gt(a, b, ...) SHIM_CMP_(true, a, >, b, __VA_ARGS__)
#define cr_assert_geq(a, b, ...) SHIM_CMP_(true, a, >=, b, __VA_ARGS__)
#define cr_expect_eq(a, b, ...) SHIM_CMP_(false, a, ==, b, __VA_ARGS__)
#define cr_expect_neq(a, b, ...) SHIM_CMP_(false, a, !=, b, __VA_ARGS__)
#define cr_expect_lt(a, b, ...) SHIM_CMP_(false, a, <, b, __VA_ARGS__)
#define cr_expect_leq(a, b, ...) SHIM_CMP_(false, a, <=, b, __VA_ARGS__)
#define cr_expect_gt(a, b, ...) SHIM_CMP_(false, a, >, b, __VA_ARGS__)
#define cr_expect_geq(a, b, ...) SHIM_CMP_(false, a, >=, b, __VA_ARGS__)
#define cr_assert_null(p, ...) SHIM_CHECK_(true, (p) == NULL, #p " == NULL", __VA_ARGS__)
#define cr_assert_not_null(p, ...) SHIM_CHECK_(true, (p) != NULL, #p " != NULL", __VA_ARGS__)
#define cr_assert_str_eq(a, b, ...) \
  SHIM_CHECK_(true, strcmp((a), (b)) == 0, #a " str== " #b, __VA_ARGS__)
#define cr_assert_str_neq(a, b, ...) \
  SHIM_CHECK_(true, strcmp((a), (b)) != 0, #a " str!= " #b, __VA_ARGS__)
#define cr_fail(...) shim_fail(__FILE__, __LINE__, false, "cr_fail", "" __VA_ARGS__)
#define cr_assert_fail(...) shim_fail(__FILE__, __LINE__, true, "cr_assert_fail", "" __VA_ARGS__)
#define cr_skip_test(...) shim_skip()
#define cr_log_info(...) ((void)0)
#define cr_log_warn(...) ((void)0)
#define cr_log_error(...) ((void)0)

#endif
