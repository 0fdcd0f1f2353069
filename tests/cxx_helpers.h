// SPDX-License-Identifier: BSD-3-Clause
// Small helpers for the C++ tests (tests/test_cxx_*.cc): they check the wrappers against
// the C calls underneath, so they look at handles through the C API.
#ifndef ZXVMO_TESTS_CXX_HELPERS_H_
#define ZXVMO_TESTS_CXX_HELPERS_H_

#include <criterion/criterion.h>
#include <zircon/syscalls.h>
#include <zircon/syscalls/object.h>

// The library's page size (never assume 4096).
static inline uint64_t page() { return zx_system_get_page_size(); }

// Whether `h` names an open handle in this process.
static inline bool handle_valid(zx_handle_t h) {
  return zx_object_get_info(h, ZX_INFO_HANDLE_VALID, nullptr, 0, nullptr, nullptr) == ZX_OK;
}

// ZX_INFO_HANDLE_BASIC of a handle, or a failed test.
static inline zx_info_handle_basic_t basic_info(zx_handle_t h) {
  zx_info_handle_basic_t info{};
  cr_assert_eq(zx_object_get_info(h, ZX_INFO_HANDLE_BASIC, &info, sizeof(info), nullptr, nullptr),
               ZX_OK);
  return info;
}

#endif  // ZXVMO_TESTS_CXX_HELPERS_H_
