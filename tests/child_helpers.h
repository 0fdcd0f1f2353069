// SPDX-License-Identifier: BSD-3-Clause
// Helpers shared by the tests of VMO children (test_children.c, test_snapshot_matrix.c,
// test_clone_legacy.c, test_attribution.c, test_leaks.c, test_threads_vmo.c).
// Everything is static inline so that a file not using a helper does not warn.
#ifndef ZXVMO_TESTS_CHILD_HELPERS_H_
#define ZXVMO_TESTS_CHILD_HELPERS_H_

#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <zircon/syscalls.h>
#include <zxvmo.h>

#include "helpers.h"

#define SNAP ZX_VMO_CHILD_SNAPSHOT
#define ALOW ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE
#define SLICE ZX_VMO_CHILD_SLICE
#define RESZ ZX_VMO_CHILD_RESIZABLE
#define NOWR ZX_VMO_CHILD_NO_WRITE
#define CLONE_COW ZX_VMO_CLONE_COPY_ON_WRITE
#define CLONE_NR ZX_VMO_CLONE_NON_RESIZEABLE

// zx_vmo_create_child that must succeed.
static inline zx_handle_t mkchild(zx_handle_t parent, uint32_t options, uint64_t offset,
                                  uint64_t size) {
  zx_handle_t h = ZX_HANDLE_INVALID;
  zx_status_t st = zx_vmo_create_child(parent, options, offset, size, &h);
  cr_assert_eq(st, ZX_OK, "create_child(options %#x, offset %#llx, size %#llx) = %d", options,
               (unsigned long long)offset, (unsigned long long)size, st);
  cr_assert_neq(h, ZX_HANDLE_INVALID);
  return h;
}

// zx_vmo_clone that must succeed.
static inline zx_handle_t mkclone(zx_handle_t parent, uint32_t options, uint64_t offset,
                                  uint64_t size) {
  zx_handle_t h = ZX_HANDLE_INVALID;
  zx_status_t st = zx_vmo_clone(parent, options, offset, size, &h);
  cr_assert_eq(st, ZX_OK, "vmo_clone(options %#x, offset %#llx, size %#llx) = %d", options,
               (unsigned long long)offset, (unsigned long long)size, st);
  cr_assert_neq(h, ZX_HANDLE_INVALID);
  return h;
}

static inline zx_handle_t mkvmo_opts(uint64_t size, uint32_t options) {
  zx_handle_t h = ZX_HANDLE_INVALID;
  cr_assert_eq(zx_vmo_create(size, options, &h), ZX_OK);
  return h;
}

static inline zx_handle_t dup_rights(zx_handle_t h, zx_rights_t rights) {
  zx_handle_t d = ZX_HANDLE_INVALID;
  cr_assert_eq(zx_handle_duplicate(h, rights, &d), ZX_OK);
  return d;
}

static inline void close_h(zx_handle_t h) { cr_assert_eq(zx_handle_close(h), ZX_OK); }

// Whether ZX_VMO_ZERO_CHILDREN is active (handle needs WAIT).
static inline bool zero_children(zx_handle_t h) {
  zx_signals_t seen = 0;
  zx_status_t st = zx_object_wait_one(h, ZX_VMO_ZERO_CHILDREN, 0, &seen);
  cr_assert(st == ZX_OK || st == ZX_ERR_TIMED_OUT, "wait_one = %d", st);
  return (seen & ZX_VMO_ZERO_CHILDREN) != 0;
}

// Writes the whole page `idx` with byte `v`.
static inline void fill_page(zx_handle_t h, uint64_t idx, uint8_t v) {
  uint8_t* buf = page_buf(1);
  memset(buf, v, PG);
  zx_status_t st = zx_vmo_write(h, buf, idx * PG, PG);
  free(buf);
  cr_assert_eq(st, ZX_OK, "write page %llu = %d", (unsigned long long)idx, st);
}

// Reads page `idx` whole; returns its byte value, or -1 if its bytes differ.
static inline int page_val(zx_handle_t h, uint64_t idx) {
  uint8_t* buf = page_buf(1);
  zx_status_t st = zx_vmo_read(h, buf, idx * PG, PG);
  cr_assert_eq(st, ZX_OK, "read page %llu = %d", (unsigned long long)idx, st);
  int v = buf[0];
  for (size_t i = 1; i < PG; i++) {
    if (buf[i] != buf[0]) v = -1;
  }
  free(buf);
  return v;
}

static inline zxvmo_stats_t stats(void) {
  zxvmo_stats_t s;
  cr_assert_eq(zxvmo_get_stats(&s), ZX_OK);
  return s;
}

static inline uint64_t vmos_alive(void) { return stats().vmos_alive; }

static inline uint64_t content_size(zx_handle_t h) {
  uint64_t cs = 0;
  cr_assert_eq(zx_object_get_property(h, ZX_PROP_VMO_CONTENT_SIZE, &cs, sizeof(cs)), ZX_OK);
  return cs;
}

static inline uint64_t vmo_size(zx_handle_t h) {
  uint64_t s = 0;
  cr_assert_eq(zx_vmo_get_size(h, &s), ZX_OK);
  return s;
}

static inline zx_koid_t koid_of(zx_handle_t h) { return vmo_info(h).koid; }

static inline void expect_clean(void) {
  cr_assert_eq(zxvmo_check_invariants(), ZX_OK);
  cr_assert_eq(pages_in_use(), 0, "pages_in_use %llu after closing everything",
               (unsigned long long)pages_in_use());
  cr_assert_eq(vmos_alive(), 0, "vmos_alive %llu after closing everything",
               (unsigned long long)vmos_alive());
}

#endif  // ZXVMO_TESTS_CHILD_HELPERS_H_
