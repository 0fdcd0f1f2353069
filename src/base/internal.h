// SPDX-License-Identifier: BSD-3-Clause
// Common definitions for every file under src/: the export macro, the assertion
// used for contracts between layers, and the page size.
//
// The syscall layer (syscalls_*.c) checks arguments and rights and translates them;
// the layers under it assume valid input and assert it with ZX_ASSERT. Assertions stay
// on in every build: a violated contract aborts rather than corrupting memory.
#ifndef ZXVMO_SRC_INTERNAL_H_
#define ZXVMO_SRC_INTERNAL_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <zircon/types.h>

// Marks a definition as part of the exported API (everything else is hidden).
#define ZX_API __attribute__((visibility("default")))

#define ZX_LIKELY(x) __builtin_expect(!!(x), 1)
#define ZX_UNLIKELY(x) __builtin_expect(!!(x), 0)

void zxvmo_assert_fail(const char* file, int line, const char* expr) __attribute__((noreturn));
#define ZX_ASSERT(e) \
  (ZX_LIKELY(e) ? (void)0 : zxvmo_assert_fail(__FILE__, __LINE__, #e))

// Page geometry. The library's page is the host's page by default, or a power-of-two
// multiple of it chosen at configure time (ZXVMO_PAGE_SIZE); it is fixed at compile
// time so that index arithmetic compiles to shifts. os.c refuses to run on a host
// whose page does not divide it.
#ifndef ZXVMO_PAGE_SHIFT
#define ZXVMO_PAGE_SHIFT 12
#endif
#define PAGE_SHIFT ((unsigned)ZXVMO_PAGE_SHIFT)
#define PAGE_SIZE ((uint64_t)1 << PAGE_SHIFT)
#define PAGE_MASK (PAGE_SIZE - 1)

// Largest VMO size: the largest multiple of 32 pages that fits in 64 bits.
#define VMO_MAX_SIZE (UINT64_MAX - (32 * PAGE_SIZE) + 1)

static inline bool page_aligned(uint64_t v) { return (v & PAGE_MASK) == 0; }
static inline uint64_t min_u64(uint64_t a, uint64_t b) { return a < b ? a : b; }
static inline uint64_t max_u64(uint64_t a, uint64_t b) { return a > b ? a : b; }
// Rounds up to a page; returns false if the result would not fit in 64 bits.
static inline bool round_up_page(uint64_t v, uint64_t* out) {
  if (v > UINT64_MAX - PAGE_MASK) return false;
  *out = (v + PAGE_MASK) & ~PAGE_MASK;
  return true;
}

// True in a child of fork() (src/vmar/fork.c): every call on a handle fails there
// (docs/behavior.md §17), before taking any lock.
bool process_forked(void);

#endif  // ZXVMO_SRC_INTERNAL_H_
