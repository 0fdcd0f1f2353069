// SPDX-License-Identifier: BSD-3-Clause
// Small helpers shared by the Criterion tests.
#ifndef ZXVMO_TESTS_HELPERS_H_
#define ZXVMO_TESTS_HELPERS_H_

#include <stdint.h>
#include <zircon/syscalls.h>
#include <zxvmo.h>

// The library's page size: never assume 4096 (a build may use 16 KiB pages, see
// ZXVMO_PAGE_SIZE). Not a constant expression: buffers of a page or more come from
// page_buf().
#define PG ((uint64_t)zx_system_get_page_size())
// The largest VMO size (docs/behavior.md §1): the largest multiple of 32 pages that
// fits in 64 bits (0xFFFFFFFFFFFE0000 with 4 KiB pages).
#define MAX_VMO_SIZE (UINT64_MAX - 32 * PG + 1)

// Creates a VMO of `size` bytes (options 0) or fails the test.
zx_handle_t mkvmo(uint64_t size);
// Creates a VMO and fills each page i with the byte `seed + i`.
zx_handle_t mkvmo_filled(uint64_t pages, uint8_t seed);
// Reads one byte at `off`, failing the test on error.
uint8_t rd8(zx_handle_t vmo, uint64_t off);
// Writes one byte at `off`, failing the test on error.
void wr8(zx_handle_t vmo, uint64_t off, uint8_t v);
// Returns the VMO's ZX_INFO_VMO record, failing the test on error.
zx_info_vmo_t vmo_info(zx_handle_t vmo);
// Returns the rights of a handle.
zx_rights_t handle_rights(zx_handle_t h);
// Library-wide pages_in_use.
uint64_t pages_in_use(void);
// A BTI on a new dummy IOMMU (the root resource's), or fails the test.
zx_handle_t mk_test_bti(void);
// A zeroed buffer of `pages` pages (free() it), or fails the test.
uint8_t* page_buf(uint64_t pages);

// A small deterministic pseudo-random generator for tests (xorshift64); *s != 0.
static inline uint64_t xorshift(uint64_t* s) {
  uint64_t x = *s;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  *s = x;
  return x;
}

#endif
