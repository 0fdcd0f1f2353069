// SPDX-License-Identifier: BSD-3-Clause
// Root VMOs (made by zx_vmo_create, no children): creation, rights, the
// ZERO_CHILDREN signal, content size, names, read/write, set_size, op_range and
// ZX_INFO_VMO (docs/behavior.md §1, §3, §6, §7, §8, §10).
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zircon/syscalls.h>

#include "helpers.h"
#include "internal.h"

#define MAX_SIZE MAX_VMO_SIZE

// ---- local helpers ----------------------------------------------------------

static uint8_t pat(uint64_t off, uint8_t seed) {
  return (uint8_t)(seed + off / PG * 31u + off * 7u + 1u);
}

static zx_handle_t mkvmo_opts(uint64_t size, uint32_t opts) {
  zx_handle_t h = ZX_HANDLE_INVALID;
  cr_assert_eq(zx_vmo_create(size, opts, &h), ZX_OK, "create(%#llx, %#x)",
               (unsigned long long)size, opts);
  cr_assert_neq(h, ZX_HANDLE_INVALID);
  return h;
}

static uint64_t get_size(zx_handle_t h) {
  uint64_t s = 0xDEADBEEF;
  cr_assert_eq(zx_vmo_get_size(h, &s), ZX_OK);
  return s;
}

static uint64_t content_size(zx_handle_t h) {
  uint64_t s = 0xDEADBEEF;
  cr_assert_eq(zx_object_get_property(h, ZX_PROP_VMO_CONTENT_SIZE, &s, sizeof(s)), ZX_OK);
  return s;
}

static void set_content_size(zx_handle_t h, uint64_t s) {
  cr_assert_eq(zx_object_set_property(h, ZX_PROP_VMO_CONTENT_SIZE, &s, sizeof(s)), ZX_OK);
}

static zxvmo_stats_t stats(void) {
  zxvmo_stats_t s;
  memset(&s, 0, sizeof(s));
  cr_assert_eq(zxvmo_get_stats(&s), ZX_OK);
  return s;
}

// Writes pat(off + i, seed) over [off, off + len) and mirrors it into `shadow`.
static void write_pat(zx_handle_t h, uint8_t* shadow, uint64_t off, uint64_t len, uint8_t seed) {
  uint8_t* buf = malloc(len ? len : 1);
  cr_assert_not_null(buf);
  for (uint64_t i = 0; i < len; i++) buf[i] = pat(off + i, seed);
  cr_assert_eq(zx_vmo_write(h, buf, off, len), ZX_OK, "write(%#llx, %#llx)",
               (unsigned long long)off, (unsigned long long)len);
  if (shadow) memcpy(shadow + off, buf, len);
  free(buf);
}

// Asserts that [off, off + len) reads as `expect` (NULL: all zero).
static void expect_bytes(zx_handle_t h, uint64_t off, uint64_t len, const uint8_t* expect) {
  uint8_t* buf = malloc(len ? len : 1);
  cr_assert_not_null(buf);
  memset(buf, 0xEE, len);
  cr_assert_eq(zx_vmo_read(h, buf, off, len), ZX_OK, "read(%#llx, %#llx)",
               (unsigned long long)off, (unsigned long long)len);
  for (uint64_t i = 0; i < len; i++) {
    uint8_t want = expect ? expect[i] : 0;
    if (buf[i] != want) {
      cr_assert_eq(buf[i], want, "byte at %#llx: got %#x want %#x",
                   (unsigned long long)(off + i), buf[i], want);
    }
  }
  free(buf);
}

static void expect_zero(zx_handle_t h, uint64_t off, uint64_t len) { expect_bytes(h, off, len, NULL); }

// Asserts every byte of [off, off + len) is `v`.
static void expect_fill(zx_handle_t h, uint64_t off, uint64_t len, uint8_t v) {
  uint8_t* e = malloc(len ? len : 1);
  cr_assert_not_null(e);
  memset(e, v, len);
  expect_bytes(h, off, len, e);
  free(e);
}

static void fill(zx_handle_t h, uint64_t off, uint64_t len, uint8_t v) {
  uint8_t* b = malloc(len ? len : 1);
  cr_assert_not_null(b);
  memset(b, v, len);
  cr_assert_eq(zx_vmo_write(h, b, off, len), ZX_OK);
  free(b);
}

static void expect_committed(zx_handle_t h, uint64_t pages) {
  zx_info_vmo_t i = vmo_info(h);
  cr_assert_eq(i.committed_bytes, pages * PG, "committed_bytes %llu, want %llu pages",
               (unsigned long long)i.committed_bytes, (unsigned long long)pages);
  cr_assert_eq(i.populated_bytes, pages * PG);
  cr_assert_eq(i.committed_private_bytes, pages * PG);
  cr_assert_eq(i.populated_private_bytes, pages * PG);
  cr_assert_eq(i.committed_scaled_bytes, pages * PG);
  cr_assert_eq(i.populated_scaled_bytes, pages * PG);
  cr_assert_eq(i.committed_fractional_scaled_bytes, 0);
  cr_assert_eq(i.populated_fractional_scaled_bytes, 0);
}

static zx_status_t op(zx_handle_t h, uint32_t o, uint64_t off, uint64_t len) {
  return zx_vmo_op_range(h, o, off, len, NULL, 0);
}

// ---- constants ---------------------------------------------------------------

Test(vmo_basic, constants) {
  // The configured page (ZXVMO_PAGE_SIZE, default the host's): a power of two, at
  // least 4 KiB, and a multiple of the host's page.
  cr_assert_eq(zx_system_get_page_size(), PAGE_SIZE);
  cr_assert_eq(PG, PAGE_SIZE);
  cr_assert_geq(PG, 4096u);
  cr_assert_eq(PG & (PG - 1), 0);
  cr_assert_eq(PG % (uint64_t)sysconf(_SC_PAGESIZE), 0);
  cr_assert_eq(ZX_VMO_RESIZABLE, 1u << 1);
  cr_assert_eq(ZX_VMO_DISCARDABLE, 1u << 2);
  cr_assert_eq(ZX_VMO_UNBOUNDED, 1u << 4);
  cr_assert_eq(ZX_VMO_OP_COMMIT, 1u);
  cr_assert_eq(ZX_VMO_OP_DECOMMIT, 2u);
  cr_assert_eq(ZX_VMO_OP_LOCK, 3u);
  cr_assert_eq(ZX_VMO_OP_UNLOCK, 4u);
  cr_assert_eq(ZX_VMO_OP_LOOKUP, 5u);
  cr_assert_eq(ZX_VMO_OP_CACHE_SYNC, 6u);
  cr_assert_eq(ZX_VMO_OP_CACHE_INVALIDATE, 7u);
  cr_assert_eq(ZX_VMO_OP_CACHE_CLEAN, 8u);
  cr_assert_eq(ZX_VMO_OP_CACHE_CLEAN_INVALIDATE, 9u);
  cr_assert_eq(ZX_VMO_OP_ZERO, 10u);
  cr_assert_eq(ZX_VMO_OP_TRY_LOCK, 11u);
  cr_assert_eq(ZX_VMO_OP_DONT_NEED, 12u);
  cr_assert_eq(ZX_VMO_OP_ALWAYS_NEED, 13u);
  cr_assert_eq(ZX_VMO_OP_PREFETCH, 14u);
  cr_assert_eq(ZX_VMO_ZERO_CHILDREN, 1u << 3);
  cr_assert_eq(ZX_VMO_ZERO_CHILDREN, ZX_OBJECT_SIGNAL_3);
  cr_assert_eq(ZX_INFO_VMO_TYPE_PAGED, 1u << 0);
  cr_assert_eq(ZX_INFO_VMO_RESIZABLE, 1u << 1);
  cr_assert_eq(ZX_INFO_VMO_IS_COW_CLONE, 1u << 2);
  cr_assert_eq(ZX_INFO_VMO_VIA_HANDLE, 1u << 3);
  cr_assert_eq(ZX_INFO_VMO_VIA_MAPPING, 1u << 4);
  cr_assert_eq(ZX_INFO_VMO_PAGER_BACKED, 1u << 5);
  cr_assert_eq(ZX_INFO_VMO_CONTIGUOUS, 1u << 6);
  cr_assert_eq(ZX_INFO_VMO_DISCARDABLE, 1u << 7);
  cr_assert_eq(ZX_INFO_VMO_IMMUTABLE, 1u << 8);
  cr_assert_eq(sizeof(zx_info_vmo_v1_t), 104u);
  cr_assert_eq(sizeof(zx_info_vmo_v2_t), 120u);
  cr_assert_eq(sizeof(zx_info_vmo_v3_t), 128u);
  cr_assert_eq(sizeof(zx_info_vmo_t), 176u);
}

// ---- creation ------------------------------------------------------------------

Test(vmo_basic, create_sizes) {
  const uint64_t sizes[] = {0, 1, PG - 1, PG, PG + 1, 2 * PG, 3 * PG + 5, 1u << 20};
  uint64_t base = pages_in_use();
  uint64_t vmos0 = stats().vmos_alive;
  for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
    uint64_t sz = sizes[k];
    uint64_t rounded = (sz + PG - 1) & ~(PG - 1);
    zx_handle_t h = mkvmo(sz);
    cr_assert_eq(get_size(h), rounded, "size %llu", (unsigned long long)sz);
    cr_assert_eq(content_size(h), sz);
    zx_info_vmo_t info = vmo_info(h);
    cr_assert_eq(info.size_bytes, rounded);
    cr_assert_eq(info.committed_bytes, 0);
    cr_assert_eq(stats().vmos_alive, vmos0 + 1);
    // Everything reads zero, up to the rounded size (not just the content size).
    expect_zero(h, 0, rounded);
    // Zero-length access at the end is fine, one byte past it is not.
    uint8_t b = 0x5A;
    cr_assert_eq(zx_vmo_read(h, &b, rounded, 0), ZX_OK);
    cr_assert_eq(zx_vmo_write(h, &b, rounded, 0), ZX_OK);
    cr_assert_eq(zx_vmo_read(h, &b, rounded, 1), ZX_ERR_OUT_OF_RANGE);
    cr_assert_eq(b, 0x5A);
    cr_assert_eq(pages_in_use(), base, "creating and reading commits nothing");
    cr_assert_eq(zx_handle_close(h), ZX_OK);
    cr_assert_eq(stats().vmos_alive, vmos0);
  }
}

Test(vmo_basic, create_size_one_page_readable_past_content_size) {
  // Content size 1, size one page: every byte of the page can be written and read.
  zx_handle_t h = mkvmo(1);
  wr8(h, PG - 1, 0x77);
  wr8(h, 1, 0x66);
  cr_assert_eq(rd8(h, PG - 1), 0x77);
  cr_assert_eq(rd8(h, 1), 0x66);
  cr_assert_eq(rd8(h, 0), 0);
  cr_assert_eq(content_size(h), 1, "writing does not move the content size");
  zx_handle_close(h);
}

static void big_sparse(uint64_t size, uint32_t opts) {
  uint64_t base = pages_in_use();
  zx_handle_t h = mkvmo_opts(size, opts);
  cr_assert_eq(pages_in_use(), base, "creating %#llx bytes costs no page", (unsigned long long)size);
  cr_assert_eq(get_size(h), size);
  cr_assert_eq(content_size(h), size);
  expect_committed(h, 0);
  // Reads anywhere commit nothing.
  expect_zero(h, size - 3 * PG, 3 * PG);
  expect_zero(h, size / 2 - 100, 2 * PG + 200);
  expect_zero(h, 0, 1 << 20);
  cr_assert_eq(pages_in_use(), base);
  // Writes commit exactly the pages they touch.
  wr8(h, size - 1, 0xA1);
  wr8(h, 0, 0xA2);
  wr8(h, size / 2 + 5, 0xA3);
  cr_assert_eq(pages_in_use(), base + 3);
  expect_committed(h, 3);
  cr_assert_eq(rd8(h, size - 1), 0xA1);
  cr_assert_eq(rd8(h, size - 2), 0);
  cr_assert_eq(rd8(h, 0), 0xA2);
  cr_assert_eq(rd8(h, size / 2 + 5), 0xA3);
  cr_assert_eq(rd8(h, size / 2 + 4), 0);
  uint8_t b = 0;
  cr_assert_eq(zx_vmo_read(h, &b, size, 0), ZX_OK);
  cr_assert_eq(zx_vmo_read(h, &b, size, 1), ZX_ERR_OUT_OF_RANGE);
  cr_assert_eq(zx_vmo_read(h, &b, size - 1, 2), ZX_ERR_OUT_OF_RANGE);
  // Zeroing or decommitting the whole huge range is cheap and frees the pages.
  cr_assert_eq(op(h, ZX_VMO_OP_ZERO, 0, size), ZX_OK);
  cr_assert_eq(pages_in_use(), base);
  cr_assert_eq(rd8(h, size - 1), 0);
  wr8(h, size - PG, 0x01);
  cr_assert_eq(op(h, ZX_VMO_OP_DECOMMIT, 0, size), ZX_OK);
  cr_assert_eq(pages_in_use(), base);
  wr8(h, size / 3, 0x02);
  cr_assert_eq(pages_in_use(), base + 1);
  cr_assert_eq(zx_handle_close(h), ZX_OK);
  cr_assert_eq(pages_in_use(), base, "closing frees the pages");
}

Test(vmo_basic, create_big_sparse_1tib) { big_sparse((uint64_t)1 << 40, 0); }
Test(vmo_basic, create_max_size) { big_sparse(MAX_SIZE, 0); }
Test(vmo_basic, create_max_size_resizable) { big_sparse(MAX_SIZE, ZX_VMO_RESIZABLE); }

Test(vmo_basic, resizable_grows_to_max_size_for_free) {
  uint64_t base = pages_in_use();
  zx_handle_t h = mkvmo_opts(PG, ZX_VMO_RESIZABLE);
  wr8(h, 0, 9);
  cr_assert_eq(zx_vmo_set_size(h, MAX_SIZE), ZX_OK);
  cr_assert_eq(get_size(h), MAX_SIZE);
  cr_assert_eq(content_size(h), MAX_SIZE);
  cr_assert_eq(pages_in_use(), base + 1);
  wr8(h, MAX_SIZE - 1, 10);
  cr_assert_eq(rd8(h, MAX_SIZE - 1), 10);
  cr_assert_eq(rd8(h, 0), 9);
  cr_assert_eq(pages_in_use(), base + 2);
  cr_assert_eq(zx_vmo_set_size(h, 2 * PG), ZX_OK);
  cr_assert_eq(pages_in_use(), base + 1);
  zx_handle_close(h);
  cr_assert_eq(pages_in_use(), base);
}

Test(vmo_basic, default_rights) {
  const zx_rights_t expect = ZX_RIGHT_DUPLICATE | ZX_RIGHT_TRANSFER | ZX_RIGHT_READ |
                             ZX_RIGHT_WRITE | ZX_RIGHT_MAP | ZX_RIGHT_GET_PROPERTY |
                             ZX_RIGHT_SET_PROPERTY | ZX_RIGHT_WAIT | ZX_RIGHT_INSPECT |
                             ZX_RIGHT_SIGNAL;
  cr_assert_eq(ZX_DEFAULT_VMO_RIGHTS, expect);
  const uint64_t sizes[] = {0, PG, 3 * PG};
  for (size_t k = 0; k < 3; k++) {
    zx_handle_t a = mkvmo_opts(sizes[k], 0);
    zx_handle_t b = mkvmo_opts(sizes[k], ZX_VMO_RESIZABLE);
    cr_assert_eq(handle_rights(a), expect);
    cr_assert_eq(handle_rights(b), expect | ZX_RIGHT_RESIZE);
    cr_assert_eq(vmo_info(a).handle_rights, expect);
    cr_assert_eq(vmo_info(b).handle_rights, expect | ZX_RIGHT_RESIZE);
    zx_info_handle_basic_t bi;
    cr_assert_eq(zx_object_get_info(a, ZX_INFO_HANDLE_BASIC, &bi, sizeof(bi), NULL, NULL), ZX_OK);
    cr_assert_eq(bi.type, ZX_OBJ_TYPE_VMO);
    cr_assert_eq(bi.related_koid, 0);
    zx_handle_close(a);
    zx_handle_close(b);
  }
}

Test(vmo_basic, zero_children_asserted_at_creation) {
  const uint32_t opts[] = {0, ZX_VMO_RESIZABLE};
  const uint64_t sizes[] = {0, PG, 5 * PG + 3};
  for (size_t i = 0; i < 2; i++) {
    for (size_t k = 0; k < 3; k++) {
      zx_handle_t h = mkvmo_opts(sizes[k], opts[i]);
      zx_signals_t obs = 0;
      cr_assert_eq(zx_object_wait_one(h, ZX_VMO_ZERO_CHILDREN, 0, &obs), ZX_OK);
      cr_assert_eq(obs, ZX_VMO_ZERO_CHILDREN);
      obs = 0;
      cr_assert_eq(zx_object_wait_one(h, ZX_VMO_ZERO_CHILDREN, ZX_TIME_INFINITE_PAST, &obs), ZX_OK);
      cr_assert_eq(obs, ZX_VMO_ZERO_CHILDREN);
      obs = 0;
      cr_assert_eq(zx_object_wait_one(h, ZX_VMO_ZERO_CHILDREN, ZX_TIME_INFINITE, &obs), ZX_OK);
      cr_assert_eq(obs, ZX_VMO_ZERO_CHILDREN);
      // A signal that is not active times out, still reporting the active one.
      obs = 0;
      cr_assert_eq(zx_object_wait_one(h, ZX_USER_SIGNAL_0, 0, &obs), ZX_ERR_TIMED_OUT);
      cr_assert_eq(obs, ZX_VMO_ZERO_CHILDREN);
      // Writing, resizing and ops do not disturb it.
      if (sizes[k]) wr8(h, 0, 1);
      obs = 0;
      cr_assert_eq(zx_object_wait_one(h, ZX_VMO_ZERO_CHILDREN, 0, &obs), ZX_OK);
      cr_assert_eq(obs, ZX_VMO_ZERO_CHILDREN);
      zx_handle_close(h);
    }
  }
}

// ---- content size ---------------------------------------------------------------

Test(vmo_basic, content_size_is_unrounded_size) {
  const uint64_t sizes[] = {0, 1, 100, PG - 1, PG, PG + 1, 5000, 7 * PG + 13};
  for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
    zx_handle_t h = mkvmo(sizes[k]);
    cr_assert_eq(content_size(h), sizes[k]);
    zx_handle_close(h);
    h = mkvmo_opts(sizes[k], ZX_VMO_RESIZABLE);
    cr_assert_eq(content_size(h), sizes[k]);
    zx_handle_close(h);
  }
}

Test(vmo_basic, set_size_sets_content_size) {
  zx_handle_t h = mkvmo_opts(5000, ZX_VMO_RESIZABLE);
  const uint64_t sizes[] = {10000, 3 * PG, 1, 0, PG + 7, 12 * PG - 1};
  for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
    cr_assert_eq(zx_vmo_set_size(h, sizes[k]), ZX_OK);
    cr_assert_eq(content_size(h), sizes[k]);
    cr_assert_eq(get_size(h), (sizes[k] + PG - 1) & ~(PG - 1));
  }
  zx_handle_close(h);
}

Test(vmo_basic, content_size_larger_than_size_allowed) {
  uint64_t base = pages_in_use();
  zx_handle_t h = mkvmo(2 * PG);
  fill(h, 0, 2 * PG, 0x3C);
  set_content_size(h, 3 * PG + 100);
  cr_assert_eq(content_size(h), 3 * PG + 100);
  cr_assert_eq(get_size(h), 2 * PG, "content size does not change the size");
  expect_fill(h, 0, 2 * PG, 0x3C);
  cr_assert_eq(pages_in_use(), base + 2);
  set_content_size(h, UINT64_MAX);
  cr_assert_eq(content_size(h), UINT64_MAX);
  cr_assert_eq(get_size(h), 2 * PG);
  expect_fill(h, 0, 2 * PG, 0x3C);
  // Exactly the size: nothing zeroed.
  set_content_size(h, 2 * PG);
  cr_assert_eq(content_size(h), 2 * PG);
  expect_fill(h, 0, 2 * PG, 0x3C);
  cr_assert_eq(pages_in_use(), base + 2);
  zx_handle_close(h);
}

Test(vmo_basic, content_size_smaller_zeroes_to_end) {
  uint64_t base = pages_in_use();
  zx_handle_t h = mkvmo(3 * PG);
  fill(h, 0, 3 * PG, 0xAA);
  cr_assert_eq(pages_in_use(), base + 3);
  set_content_size(h, PG + 10);
  cr_assert_eq(content_size(h), PG + 10);
  cr_assert_eq(get_size(h), 3 * PG);
  expect_fill(h, 0, PG + 10, 0xAA);
  expect_zero(h, PG + 10, 2 * PG - 10);
  cr_assert_eq(pages_in_use(), base + 2, "the wholly zeroed page is dropped");
  // Content size back up does not bring anything back.
  set_content_size(h, 3 * PG);
  expect_fill(h, 0, PG + 10, 0xAA);
  expect_zero(h, PG + 10, 2 * PG - 10);
  // The VMO stays writable past the content size.
  wr8(h, 3 * PG - 1, 0x42);
  cr_assert_eq(rd8(h, 3 * PG - 1), 0x42);
  // Aligned content size drops whole pages.
  set_content_size(h, PG);
  expect_fill(h, 0, PG, 0xAA);
  expect_zero(h, PG, 2 * PG);
  cr_assert_eq(pages_in_use(), base + 1);
  set_content_size(h, 0);
  expect_zero(h, 0, 3 * PG);
  cr_assert_eq(pages_in_use(), base);
  zx_handle_close(h);
}

Test(vmo_basic, content_size_smaller_commits_nothing_when_zero) {
  uint64_t base = pages_in_use();
  zx_handle_t h = mkvmo(4 * PG);
  set_content_size(h, 100);
  cr_assert_eq(content_size(h), 100);
  cr_assert_eq(pages_in_use(), base);
  expect_zero(h, 0, 4 * PG);
  zx_handle_close(h);
}

// ---- names ---------------------------------------------------------------------

static void get_name(zx_handle_t h, char out[ZX_MAX_NAME_LEN]) {
  memset(out, 0x7F, ZX_MAX_NAME_LEN);
  cr_assert_eq(zx_object_get_property(h, ZX_PROP_NAME, out, ZX_MAX_NAME_LEN), ZX_OK);
}

Test(vmo_basic, names) {
  zx_handle_t h = mkvmo(PG);
  char n[ZX_MAX_NAME_LEN];
  char zero[ZX_MAX_NAME_LEN];
  memset(zero, 0, sizeof(zero));
  get_name(h, n);
  cr_assert_arr_eq(n, zero, ZX_MAX_NAME_LEN, "a new VMO has an empty name");
  cr_assert_arr_eq(vmo_info(h).name, zero, ZX_MAX_NAME_LEN);

  cr_assert_eq(zx_object_set_property(h, ZX_PROP_NAME, "hello", 5), ZX_OK);
  get_name(h, n);
  cr_assert_str_eq(n, "hello");
  cr_assert_str_eq(vmo_info(h).name, "hello");

  // Exactly 31 characters survive; a longer name is cut to 31.
  const char* n31 = "abcdefghijklmnopqrstuvwxyz01234";
  cr_assert_eq(strlen(n31), 31u);
  cr_assert_eq(zx_object_set_property(h, ZX_PROP_NAME, n31, 32), ZX_OK);
  get_name(h, n);
  cr_assert_str_eq(n, n31);
  const char* n40 = "0123456789012345678901234567890123456789";
  cr_assert_eq(zx_object_set_property(h, ZX_PROP_NAME, n40, 40), ZX_OK);
  get_name(h, n);
  cr_assert_eq(n[31], '\0');
  cr_assert_eq(strlen(n), 31u);
  cr_assert_eq(memcmp(n, n40, 31), 0);
  zx_info_vmo_t info = vmo_info(h);
  cr_assert_arr_eq(info.name, n, ZX_MAX_NAME_LEN);

  // A shorter name replaces the longer one completely.
  cr_assert_eq(zx_object_set_property(h, ZX_PROP_NAME, "xy", 3), ZX_OK);
  get_name(h, n);
  cr_assert_str_eq(n, "xy");
  cr_assert_eq(n[2], '\0');
  cr_assert_eq(zx_object_set_property(h, ZX_PROP_NAME, "", 0), ZX_OK);
  get_name(h, n);
  cr_assert_arr_eq(n, zero, ZX_MAX_NAME_LEN);

  // The name belongs to the object: another handle sees it.
  zx_handle_t d;
  cr_assert_eq(zx_handle_duplicate(h, ZX_RIGHT_SAME_RIGHTS, &d), ZX_OK);
  cr_assert_eq(zx_object_set_property(d, ZX_PROP_NAME, "shared", 6), ZX_OK);
  get_name(h, n);
  cr_assert_str_eq(n, "shared");
  zx_handle_close(d);
  zx_handle_close(h);
}

// ---- read / write --------------------------------------------------------------

Test(vmo_basic, read_write_spans) {
  const uint64_t size = 4 * PG;
  zx_handle_t h = mkvmo(size);
  uint8_t* shadow = calloc(1, size);
  cr_assert_not_null(shadow);
  const uint64_t spans[][2] = {
      {0, 1},           {PG - 1, 2},       {PG - 3, PG + 6}, {1, 3 * PG},
      {2 * PG, PG},     {size - 1, 1},     {100, size - 100}, {0, size},
      {3 * PG + 17, 5}, {PG / 2, 2 * PG},  {2 * PG - 1, 1},  {0, PG},
  };
  for (size_t k = 0; k < sizeof(spans) / sizeof(spans[0]); k++) {
    write_pat(h, shadow, spans[k][0], spans[k][1], (uint8_t)(k * 13 + 5));
    expect_bytes(h, 0, size, shadow);
    // Unaligned reads of pieces agree too.
    for (size_t j = 0; j <= k; j++) {
      expect_bytes(h, spans[j][0], spans[j][1], shadow + spans[j][0]);
    }
  }
  // Zero-length reads and writes anywhere in range succeed and move nothing.
  uint8_t b = 0x11;
  cr_assert_eq(zx_vmo_write(h, &b, 5, 0), ZX_OK);
  cr_assert_eq(zx_vmo_read(h, &b, PG, 0), ZX_OK);
  cr_assert_eq(b, 0x11);
  expect_bytes(h, 0, size, shadow);
  free(shadow);
  zx_handle_close(h);
}

Test(vmo_basic, reads_never_commit) {
  uint64_t base = pages_in_use();
  zx_handle_t h = mkvmo(16 * PG);
  expect_zero(h, 0, 16 * PG);
  expect_zero(h, 5, 3 * PG + 7);
  for (uint64_t i = 0; i < 16; i++) (void)rd8(h, i * PG + 3);
  cr_assert_eq(pages_in_use(), base);
  expect_committed(h, 0);
  // One written page: reads elsewhere still commit nothing.
  wr8(h, 3 * PG + 1, 0x44);
  cr_assert_eq(pages_in_use(), base + 1);
  expect_zero(h, 0, 3 * PG);
  expect_zero(h, 4 * PG, 12 * PG);
  cr_assert_eq(rd8(h, 3 * PG + 1), 0x44);
  cr_assert_eq(pages_in_use(), base + 1);
  expect_committed(h, 1);
  zx_handle_close(h);
}

Test(vmo_basic, write_read_many_pages) {
  const uint64_t counts[] = {1, 2, 300, 1100};
  uint64_t base = pages_in_use();
  for (size_t k = 0; k < sizeof(counts) / sizeof(counts[0]); k++) {
    uint64_t n = counts[k];
    uint64_t size = n * PG;
    zx_handle_t h = mkvmo(size);
    uint8_t* shadow = calloc(1, size);
    cr_assert_not_null(shadow);
    write_pat(h, shadow, 0, size, (uint8_t)k);
    cr_assert_eq(pages_in_use(), base + n);
    expect_committed(h, n);
    expect_bytes(h, 0, size, shadow);
    for (uint64_t p = 0; p < n; p += (n > 64 ? 37 : 1)) {
      expect_bytes(h, p * PG, PG, shadow + p * PG);
    }
    // Overwriting owned pages allocates nothing more.
    write_pat(h, shadow, PG / 2, size - PG, (uint8_t)(k + 100));
    cr_assert_eq(pages_in_use(), base + n);
    expect_bytes(h, 0, size, shadow);
    free(shadow);
    zx_handle_close(h);
    cr_assert_eq(pages_in_use(), base);
  }
}

Test(vmo_basic, scattered_writes_in_large_vmo) {
  uint64_t base = pages_in_use();
  const uint64_t size = (uint64_t)1 << 32;
  zx_handle_t h = mkvmo(size);
  uint64_t n = 0;
  for (uint64_t off = 5; off < size; off += 97 * PG * 1023 + 11) {
    wr8(h, off, (uint8_t)(off / PG));
    n++;
  }
  cr_assert_eq(pages_in_use(), base + n);
  expect_committed(h, n);
  for (uint64_t off = 5; off < size; off += 97 * PG * 1023 + 11) {
    cr_assert_eq(rd8(h, off), (uint8_t)(off / PG));
    cr_assert_eq(rd8(h, off + 1), 0);
  }
  zx_handle_close(h);
  cr_assert_eq(pages_in_use(), base);
}

Test(vmo_basic, get_size_needs_no_rights) {
  zx_handle_t h = mkvmo(3 * PG + 1);
  zx_handle_t none;
  cr_assert_eq(zx_handle_duplicate(h, ZX_RIGHT_NONE, &none), ZX_OK);
  cr_assert_eq(handle_rights(none), ZX_RIGHT_NONE);
  uint64_t s = 0;
  cr_assert_eq(zx_vmo_get_size(none, &s), ZX_OK);
  cr_assert_eq(s, 4 * PG);
  zx_handle_close(none);
  zx_handle_close(h);
}

// ---- set_size ------------------------------------------------------------------

Test(vmo_basic, set_size_grow_reads_zero) {
  const uint64_t initial[] = {0, 1, 2, 5};
  uint64_t base = pages_in_use();
  for (size_t k = 0; k < 4; k++) {
    uint64_t n = initial[k];
    zx_handle_t h = mkvmo_opts(n * PG, ZX_VMO_RESIZABLE);
    uint8_t* shadow = calloc(1, (n + 3) * PG);
    cr_assert_not_null(shadow);
    write_pat(h, shadow, 0, n * PG, (uint8_t)(k + 1));
    cr_assert_eq(zx_vmo_set_size(h, (n + 3) * PG), ZX_OK);
    cr_assert_eq(get_size(h), (n + 3) * PG);
    cr_assert_eq(vmo_info(h).size_bytes, (n + 3) * PG);
    expect_bytes(h, 0, (n + 3) * PG, shadow);
    cr_assert_eq(pages_in_use(), base + n, "growing commits nothing");
    // Unaligned growth.
    cr_assert_eq(zx_vmo_set_size(h, (n + 5) * PG + 1), ZX_OK);
    cr_assert_eq(get_size(h), (n + 6) * PG);
    expect_bytes(h, 0, (n + 3) * PG, shadow);
    expect_zero(h, (n + 3) * PG, 3 * PG);
    cr_assert_eq(pages_in_use(), base + n);
    free(shadow);
    zx_handle_close(h);
  }
}

Test(vmo_basic, set_size_shrink_frees_pages) {
  const uint64_t targets[] = {0, 1, 3, 7};
  uint64_t base = pages_in_use();
  for (size_t k = 0; k < 4; k++) {
    uint64_t t = targets[k];
    zx_handle_t h = mkvmo_opts(8 * PG, ZX_VMO_RESIZABLE);
    uint8_t* shadow = calloc(1, 8 * PG);
    cr_assert_not_null(shadow);
    write_pat(h, shadow, 0, 8 * PG, (uint8_t)(k + 9));
    cr_assert_eq(pages_in_use(), base + 8);
    cr_assert_eq(zx_vmo_set_size(h, t * PG), ZX_OK);
    cr_assert_eq(get_size(h), t * PG);
    cr_assert_eq(pages_in_use(), base + t, "shrinking to %llu pages", (unsigned long long)t);
    expect_committed(h, t);
    expect_bytes(h, 0, t * PG, shadow);
    uint8_t b;
    cr_assert_eq(zx_vmo_read(h, &b, t * PG, 1), ZX_ERR_OUT_OF_RANGE);
    // Growing back shows zeros where the cut pages were.
    cr_assert_eq(zx_vmo_set_size(h, 8 * PG), ZX_OK);
    expect_bytes(h, 0, t * PG, shadow);
    expect_zero(h, t * PG, (8 - t) * PG);
    cr_assert_eq(pages_in_use(), base + t);
    free(shadow);
    zx_handle_close(h);
    cr_assert_eq(pages_in_use(), base);
  }
}

Test(vmo_basic, set_size_unaligned_shrink_zeroes_tail) {
  uint64_t base = pages_in_use();
  zx_handle_t h = mkvmo_opts(3 * PG, ZX_VMO_RESIZABLE);
  fill(h, 0, 3 * PG, 0xAA);
  cr_assert_eq(zx_vmo_set_size(h, PG + 100), ZX_OK);
  cr_assert_eq(get_size(h), 2 * PG);
  cr_assert_eq(content_size(h), PG + 100);
  expect_fill(h, 0, PG + 100, 0xAA);
  expect_zero(h, PG + 100, PG - 100);
  cr_assert_eq(pages_in_use(), base + 2);
  // Growing back: everything past the cut reads zero.
  cr_assert_eq(zx_vmo_set_size(h, 3 * PG), ZX_OK);
  expect_fill(h, 0, PG + 100, 0xAA);
  expect_zero(h, PG + 100, 2 * PG - 100);
  cr_assert_eq(pages_in_use(), base + 2);
  zx_handle_close(h);
}

Test(vmo_basic, set_size_unaligned_within_last_page) {
  // The rounded size does not change, the tail is still zeroed.
  zx_handle_t h = mkvmo_opts(2 * PG, ZX_VMO_RESIZABLE);
  fill(h, 0, 2 * PG, 0xBB);
  cr_assert_eq(zx_vmo_set_size(h, 2 * PG - 1), ZX_OK);
  cr_assert_eq(get_size(h), 2 * PG);
  cr_assert_eq(content_size(h), 2 * PG - 1);
  expect_fill(h, 0, 2 * PG - 1, 0xBB);
  cr_assert_eq(rd8(h, 2 * PG - 1), 0);
  fill(h, 0, 2 * PG, 0xBB);
  cr_assert_eq(zx_vmo_set_size(h, PG + 1), ZX_OK);
  cr_assert_eq(get_size(h), 2 * PG);
  expect_fill(h, 0, PG + 1, 0xBB);
  expect_zero(h, PG + 1, PG - 1);
  zx_handle_close(h);
}

Test(vmo_basic, set_size_unaligned_shrink_commits_nothing) {
  uint64_t base = pages_in_use();
  zx_handle_t h = mkvmo_opts(4 * PG, ZX_VMO_RESIZABLE);
  wr8(h, 5, 0x12);  // only page 0 committed
  cr_assert_eq(zx_vmo_set_size(h, 2 * PG + 100), ZX_OK);
  cr_assert_eq(pages_in_use(), base + 1, "an uncommitted tail page stays uncommitted");
  cr_assert_eq(rd8(h, 5), 0x12);
  expect_zero(h, 6, 3 * PG - 6);
  zx_handle_close(h);
}

// ---- op_range: COMMIT / DECOMMIT / ZERO -----------------------------------------

Test(vmo_basic, commit) {
  uint64_t base = pages_in_use();
  zx_handle_t h = mkvmo(4 * PG);
  uint8_t* shadow = calloc(1, 4 * PG);
  cr_assert_not_null(shadow);
  write_pat(h, shadow, PG, PG, 3);
  cr_assert_eq(pages_in_use(), base + 1);
  cr_assert_eq(op(h, ZX_VMO_OP_COMMIT, 0, 4 * PG), ZX_OK);
  cr_assert_eq(pages_in_use(), base + 4);
  expect_committed(h, 4);
  expect_bytes(h, 0, 4 * PG, shadow);
  // Committing again changes nothing.
  cr_assert_eq(op(h, ZX_VMO_OP_COMMIT, 0, 4 * PG), ZX_OK);
  cr_assert_eq(pages_in_use(), base + 4);
  expect_bytes(h, 0, 4 * PG, shadow);
  free(shadow);
  zx_handle_close(h);
  cr_assert_eq(pages_in_use(), base);
}

Test(vmo_basic, commit_rounds_out_to_pages) {
  uint64_t base = pages_in_use();
  zx_handle_t h = mkvmo(4 * PG);
  cr_assert_eq(op(h, ZX_VMO_OP_COMMIT, PG + 1, 1), ZX_OK);
  cr_assert_eq(pages_in_use(), base + 1);
  expect_committed(h, 1);
  cr_assert_eq(op(h, ZX_VMO_OP_COMMIT, PG - 1, 2), ZX_OK);  // pages 0 and 1
  cr_assert_eq(pages_in_use(), base + 2);
  cr_assert_eq(op(h, ZX_VMO_OP_COMMIT, 2 * PG + 5, PG), ZX_OK);  // pages 2 and 3
  cr_assert_eq(pages_in_use(), base + 4);
  expect_zero(h, 0, 4 * PG);
  zx_handle_close(h);
}

Test(vmo_basic, commit_zero_length) {
  uint64_t base = pages_in_use();
  zx_handle_t h = mkvmo(2 * PG);
  cr_assert_eq(op(h, ZX_VMO_OP_COMMIT, 0, 0), ZX_OK);
  cr_assert_eq(op(h, ZX_VMO_OP_COMMIT, PG, 0), ZX_OK);
  cr_assert_eq(pages_in_use(), base);
  zx_handle_close(h);
}

Test(vmo_basic, commit_sizes) {
  const uint64_t counts[] = {0, 1, 2, 700};
  uint64_t base = pages_in_use();
  for (size_t k = 0; k < 4; k++) {
    zx_handle_t h = mkvmo(counts[k] * PG);
    cr_assert_eq(op(h, ZX_VMO_OP_COMMIT, 0, counts[k] * PG), ZX_OK);
    cr_assert_eq(pages_in_use(), base + counts[k]);
    expect_committed(h, counts[k]);
    expect_zero(h, 0, counts[k] * PG);
    zx_handle_close(h);
    cr_assert_eq(pages_in_use(), base);
  }
}

Test(vmo_basic, decommit) {
  uint64_t base = pages_in_use();
  zx_handle_t h = mkvmo(4 * PG);
  uint8_t* shadow = calloc(1, 4 * PG);
  cr_assert_not_null(shadow);
  write_pat(h, shadow, 0, 4 * PG, 7);
  cr_assert_eq(op(h, ZX_VMO_OP_DECOMMIT, PG, 2 * PG), ZX_OK);
  memset(shadow + PG, 0, 2 * PG);
  expect_bytes(h, 0, 4 * PG, shadow);
  cr_assert_eq(pages_in_use(), base + 2);
  expect_committed(h, 2);
  // Decommitting what is not committed is fine.
  cr_assert_eq(op(h, ZX_VMO_OP_DECOMMIT, PG, PG), ZX_OK);
  cr_assert_eq(pages_in_use(), base + 2);
  cr_assert_eq(op(h, ZX_VMO_OP_DECOMMIT, 0, 0), ZX_OK);
  cr_assert_eq(op(h, ZX_VMO_OP_DECOMMIT, 4 * PG, 0), ZX_OK);
  cr_assert_eq(pages_in_use(), base + 2);
  cr_assert_eq(op(h, ZX_VMO_OP_DECOMMIT, 0, 4 * PG), ZX_OK);
  cr_assert_eq(pages_in_use(), base);
  expect_committed(h, 0);
  expect_zero(h, 0, 4 * PG);
  // Writable again afterwards.
  wr8(h, 2 * PG, 1);
  cr_assert_eq(rd8(h, 2 * PG), 1);
  cr_assert_eq(pages_in_use(), base + 1);
  free(shadow);
  zx_handle_close(h);
}

Test(vmo_basic, decommit_after_commit) {
  uint64_t base = pages_in_use();
  zx_handle_t h = mkvmo(3 * PG);
  cr_assert_eq(op(h, ZX_VMO_OP_COMMIT, 0, 3 * PG), ZX_OK);
  cr_assert_eq(pages_in_use(), base + 3);
  cr_assert_eq(op(h, ZX_VMO_OP_DECOMMIT, 0, 3 * PG), ZX_OK);
  cr_assert_eq(pages_in_use(), base);
  expect_committed(h, 0);
  zx_handle_close(h);
}

Test(vmo_basic, zero_whole_pages_dropped) {
  uint64_t base = pages_in_use();
  zx_handle_t h = mkvmo(4 * PG);
  uint8_t* shadow = calloc(1, 4 * PG);
  cr_assert_not_null(shadow);
  write_pat(h, shadow, 0, 4 * PG, 21);
  cr_assert_eq(op(h, ZX_VMO_OP_ZERO, PG, 2 * PG), ZX_OK);
  memset(shadow + PG, 0, 2 * PG);
  expect_bytes(h, 0, 4 * PG, shadow);
  cr_assert_eq(pages_in_use(), base + 2);
  expect_committed(h, 2);
  free(shadow);
  zx_handle_close(h);
}

Test(vmo_basic, zero_partial_page_in_place) {
  uint64_t base = pages_in_use();
  zx_handle_t h = mkvmo(2 * PG);
  fill(h, 0, PG, 0xAA);
  cr_assert_eq(op(h, ZX_VMO_OP_ZERO, 100, 200), ZX_OK);
  expect_fill(h, 0, 100, 0xAA);
  expect_zero(h, 100, 200);
  expect_fill(h, 300, PG - 300, 0xAA);
  cr_assert_eq(pages_in_use(), base + 1);
  zx_handle_close(h);
}

Test(vmo_basic, zero_mixed_range) {
  uint64_t base = pages_in_use();
  zx_handle_t h = mkvmo(4 * PG);
  uint8_t* shadow = calloc(1, 4 * PG);
  cr_assert_not_null(shadow);
  write_pat(h, shadow, 0, 4 * PG, 33);
  // Second half of page 0, all of page 1, first half of page 2.
  cr_assert_eq(op(h, ZX_VMO_OP_ZERO, PG / 2, 2 * PG), ZX_OK);
  memset(shadow + PG / 2, 0, 2 * PG);
  expect_bytes(h, 0, 4 * PG, shadow);
  cr_assert_eq(pages_in_use(), base + 3);
  // From byte 1 to the end: page 0 keeps byte 0, pages 1..3 go (2 and 3 are whole).
  cr_assert_eq(op(h, ZX_VMO_OP_ZERO, 1, 4 * PG - 1), ZX_OK);
  memset(shadow + 1, 0, 4 * PG - 1);
  expect_bytes(h, 0, 4 * PG, shadow);
  cr_assert_eq(pages_in_use(), base + 1);
  // Everything.
  cr_assert_eq(op(h, ZX_VMO_OP_ZERO, 0, 4 * PG), ZX_OK);
  expect_zero(h, 0, 4 * PG);
  cr_assert_eq(pages_in_use(), base);
  free(shadow);
  zx_handle_close(h);
}

Test(vmo_basic, zero_commits_nothing_where_already_zero) {
  uint64_t base = pages_in_use();
  zx_handle_t h = mkvmo(4 * PG);
  const uint64_t ranges[][2] = {{0, 4 * PG}, {10, 20}, {PG - 5, 10}, {PG, PG}, {3, 3 * PG}, {0, 0}};
  for (size_t k = 0; k < 6; k++) {
    cr_assert_eq(op(h, ZX_VMO_OP_ZERO, ranges[k][0], ranges[k][1]), ZX_OK);
    cr_assert_eq(pages_in_use(), base);
  }
  expect_committed(h, 0);
  // A committed zero page stays (nothing to do), and nothing else is committed.
  cr_assert_eq(op(h, ZX_VMO_OP_COMMIT, 0, PG), ZX_OK);
  cr_assert_eq(op(h, ZX_VMO_OP_ZERO, 10, 20), ZX_OK);
  cr_assert_eq(op(h, ZX_VMO_OP_ZERO, PG - 5, 10), ZX_OK);
  cr_assert_eq(pages_in_use(), base + 1);
  // Page with data in its first half only: zeroing inside the zero half is a no-op.
  fill(h, 2 * PG, PG / 2, 0x5A);
  cr_assert_eq(pages_in_use(), base + 2);
  cr_assert_eq(op(h, ZX_VMO_OP_ZERO, 2 * PG + PG / 2 + 10, 100), ZX_OK);
  expect_fill(h, 2 * PG, PG / 2, 0x5A);
  expect_zero(h, 2 * PG + PG / 2, PG / 2);
  cr_assert_eq(pages_in_use(), base + 2);
  zx_handle_close(h);
}

Test(vmo_basic, zero_sizes_loop) {
  const uint64_t counts[] = {1, 2, 65, 600};
  uint64_t base = pages_in_use();
  for (size_t k = 0; k < 4; k++) {
    uint64_t n = counts[k];
    zx_handle_t h = mkvmo(n * PG);
    fill(h, 0, n * PG, 0x99);
    cr_assert_eq(op(h, ZX_VMO_OP_ZERO, 0, n * PG), ZX_OK);
    cr_assert_eq(pages_in_use(), base);
    expect_zero(h, 0, n * PG);
    expect_committed(h, 0);
    zx_handle_close(h);
  }
}

// ---- cache ops and hints ----------------------------------------------------------

Test(vmo_basic, cache_ops_change_nothing) {
  const uint32_t ops[] = {ZX_VMO_OP_CACHE_SYNC, ZX_VMO_OP_CACHE_INVALIDATE, ZX_VMO_OP_CACHE_CLEAN,
                          ZX_VMO_OP_CACHE_CLEAN_INVALIDATE};
  uint64_t base = pages_in_use();
  zx_handle_t h = mkvmo(4 * PG);
  uint8_t* shadow = calloc(1, 4 * PG);
  cr_assert_not_null(shadow);
  write_pat(h, shadow, PG, PG, 1);
  for (size_t k = 0; k < 4; k++) {
    cr_assert_eq(op(h, ops[k], 0, 4 * PG), ZX_OK, "op %u", ops[k]);
    cr_assert_eq(op(h, ops[k], 1, 10), ZX_OK);
    cr_assert_eq(op(h, ops[k], 3 * PG, PG), ZX_OK);
    cr_assert_eq(op(h, ops[k], 4 * PG - 1, 1), ZX_OK);
    cr_assert_eq(pages_in_use(), base + 1, "cache op %u commits nothing", ops[k]);
    expect_bytes(h, 0, 4 * PG, shadow);
  }
  free(shadow);
  zx_handle_close(h);
}

Test(vmo_basic, hints_ok) {
  const uint32_t ops[] = {ZX_VMO_OP_DONT_NEED, ZX_VMO_OP_ALWAYS_NEED, ZX_VMO_OP_PREFETCH};
  zx_handle_t h = mkvmo(4 * PG);
  uint8_t* shadow = calloc(1, 4 * PG);
  cr_assert_not_null(shadow);
  write_pat(h, shadow, 0, 2 * PG, 4);
  for (size_t k = 0; k < 3; k++) {
    cr_assert_eq(op(h, ops[k], 0, 4 * PG), ZX_OK, "op %u", ops[k]);
    cr_assert_eq(op(h, ops[k], 5, 100), ZX_OK);
    cr_assert_eq(op(h, ops[k], 4 * PG, 0), ZX_OK);
    cr_assert_eq(op(h, ops[k], 0, 0), ZX_OK);
    expect_bytes(h, 0, 4 * PG, shadow);
  }
  free(shadow);
  zx_handle_close(h);
}

Test(vmo_basic, dont_need_always_need_commit_nothing) {
  uint64_t base = pages_in_use();
  zx_handle_t h = mkvmo(4 * PG);
  wr8(h, 0, 1);
  cr_assert_eq(op(h, ZX_VMO_OP_DONT_NEED, 0, 4 * PG), ZX_OK);
  cr_assert_eq(op(h, ZX_VMO_OP_ALWAYS_NEED, 0, 4 * PG), ZX_OK);
  cr_assert_eq(pages_in_use(), base + 1);
  cr_assert_eq(rd8(h, 0), 1);
  zx_handle_close(h);
}

// ---- ZX_INFO_VMO -----------------------------------------------------------------

static void check_root_info(zx_handle_t h, uint64_t size, uint64_t pages, bool resizable,
                            zx_rights_t rights) {
  zx_info_vmo_t info;
  memset(&info, 0xAB, sizeof(info));
  size_t actual = 99, avail = 99;
  cr_assert_eq(zx_object_get_info(h, ZX_INFO_VMO, &info, sizeof(info), &actual, &avail), ZX_OK);
  cr_assert_eq(actual, 1);
  cr_assert_eq(avail, 1);
  zx_info_handle_basic_t b;
  cr_assert_eq(zx_object_get_info(h, ZX_INFO_HANDLE_BASIC, &b, sizeof(b), NULL, NULL), ZX_OK);
  cr_assert_eq(info.koid, b.koid);
  cr_assert_geq(info.koid, ZX_KOID_FIRST);
  cr_assert_eq(info.size_bytes, size);
  cr_assert_eq(info.parent_koid, 0);
  cr_assert_eq(info.num_children, 0);
  cr_assert_eq(info.num_mappings, 0);
  uint32_t flags = ZX_INFO_VMO_TYPE_PAGED | ZX_INFO_VMO_VIA_HANDLE;
  if (resizable) flags |= ZX_INFO_VMO_RESIZABLE;
  cr_assert_eq(info.flags, flags, "flags %#x want %#x", info.flags, flags);
  cr_assert_eq(info.handle_rights, rights);
  cr_assert_eq(info.cache_policy, ZX_CACHE_POLICY_CACHED);
  cr_assert_eq(info.committed_change_events, 0);
  cr_assert_eq(info.committed_bytes, pages * PG);
  cr_assert_eq(info.populated_bytes, pages * PG);
  cr_assert_eq(info.committed_private_bytes, pages * PG);
  cr_assert_eq(info.populated_private_bytes, pages * PG);
  cr_assert_eq(info.committed_scaled_bytes, pages * PG);
  cr_assert_eq(info.populated_scaled_bytes, pages * PG);
  cr_assert_eq(info.committed_fractional_scaled_bytes, 0);
  cr_assert_eq(info.populated_fractional_scaled_bytes, 0);
}

Test(vmo_basic, info_root_fields) {
  const uint64_t sizes[] = {0, PG, 3 * PG, 100 * PG};
  const uint64_t written[] = {0, 1, 3, 17};
  for (int r = 0; r < 2; r++) {
    for (size_t k = 0; k < 4; k++) {
      zx_handle_t h = mkvmo_opts(sizes[k], r ? ZX_VMO_RESIZABLE : 0);
      zx_rights_t rights = ZX_DEFAULT_VMO_RIGHTS | (r ? ZX_RIGHT_RESIZE : 0);
      check_root_info(h, sizes[k], 0, r, rights);
      for (uint64_t p = 0; p < written[k]; p++) wr8(h, p * PG * (sizes[k] / PG / written[k]), 1);
      check_root_info(h, sizes[k], written[k], r, rights);
      zx_handle_close(h);
    }
  }
}

Test(vmo_basic, info_tracks_commit_decommit_zero_resize) {
  zx_handle_t h = mkvmo_opts(8 * PG, ZX_VMO_RESIZABLE);
  const zx_rights_t rr = ZX_DEFAULT_VMO_RIGHTS | ZX_RIGHT_RESIZE;
  cr_assert_eq(op(h, ZX_VMO_OP_COMMIT, 0, 5 * PG), ZX_OK);
  check_root_info(h, 8 * PG, 5, true, rr);
  cr_assert_eq(op(h, ZX_VMO_OP_DECOMMIT, 0, PG), ZX_OK);
  check_root_info(h, 8 * PG, 4, true, rr);
  cr_assert_eq(op(h, ZX_VMO_OP_ZERO, PG, PG), ZX_OK);
  check_root_info(h, 8 * PG, 3, true, rr);
  cr_assert_eq(zx_vmo_set_size(h, 3 * PG), ZX_OK);
  check_root_info(h, 3 * PG, 1, true, rr);
  cr_assert_eq(zx_vmo_set_size(h, 30 * PG + 1), ZX_OK);
  check_root_info(h, 31 * PG, 1, true, rr);
  zx_handle_close(h);
}

Test(vmo_basic, info_handle_rights_are_the_handles) {
  zx_handle_t h = mkvmo(PG);
  zx_handle_t r;
  cr_assert_eq(zx_handle_duplicate(h, ZX_RIGHT_READ | ZX_RIGHT_INSPECT, &r), ZX_OK);
  check_root_info(r, PG, 0, false, ZX_RIGHT_READ | ZX_RIGHT_INSPECT);
  check_root_info(h, PG, 0, false, ZX_DEFAULT_VMO_RIGHTS);
  zx_handle_t n;
  cr_assert_eq(zx_handle_duplicate(h, ZX_RIGHT_NONE, &n), ZX_OK);
  check_root_info(n, PG, 0, false, ZX_RIGHT_NONE);
  zx_handle_close(r);
  zx_handle_close(n);
  zx_handle_close(h);
}

// Zircon's VmObject::share_count() is 1 for a VMO mapped fewer than twice (the
// number of address spaces sharing it, never below 1). zxvmo has no mappings, so
// every VMO reports 1.
Test(vmo_basic, info_share_count_unmapped_is_one) {
  const uint64_t sizes[] = {0, PG, 10 * PG};
  for (size_t k = 0; k < 3; k++) {
    zx_handle_t h = mkvmo(sizes[k]);
    if (sizes[k]) wr8(h, 0, 1);
    zx_info_vmo_t info = vmo_info(h);
    cr_assert_eq(info.share_count, 1, "share_count %zu", info.share_count);
    zx_info_vmo_v1_t v1;
    cr_assert_eq(zx_object_get_info(h, ZX_INFO_VMO_V1, &v1, sizeof(v1), NULL, NULL), ZX_OK);
    cr_assert_eq(v1.share_count, 1);
    zx_handle_close(h);
  }
}

Test(vmo_basic, info_name) {
  zx_handle_t h = mkvmo(PG);
  cr_assert_eq(zx_object_set_property(h, ZX_PROP_NAME, "infoname", 8), ZX_OK);
  zx_info_vmo_t info = vmo_info(h);
  cr_assert_str_eq(info.name, "infoname");
  for (size_t i = 8; i < ZX_MAX_NAME_LEN; i++) cr_assert_eq(info.name[i], 0);
  zx_handle_close(h);
}

// A buffer bigger than any version, filled with a marker, to see what is written.
typedef struct {
  zx_info_vmo_t info;
  uint8_t tail[64];
} big_info_t;

static void check_version(uint32_t topic, size_t vsize) {
  zx_handle_t h = mkvmo_opts(6 * PG, ZX_VMO_RESIZABLE);
  cr_assert_eq(zx_object_set_property(h, ZX_PROP_NAME, "versioned", 9), ZX_OK);
  wr8(h, 0, 1);
  wr8(h, 4 * PG, 1);
  zx_info_vmo_t full = vmo_info(h);

  big_info_t buf;
  memset(&buf, 0xCD, sizeof(buf));
  size_t actual = 99, avail = 99;
  cr_assert_eq(zx_object_get_info(h, topic, &buf, vsize, &actual, &avail), ZX_OK,
               "topic %#x size %zu", topic, vsize);
  cr_assert_eq(actual, 1);
  cr_assert_eq(avail, 1);
  // The prefix equals the newest record; nothing past it is written.
  cr_assert_eq(memcmp(&buf, &full, vsize), 0);
  const uint8_t* raw = (const uint8_t*)&buf;
  for (size_t i = vsize; i < sizeof(buf); i++) {
    cr_assert_eq(raw[i], 0xCD, "byte %zu past a %zu-byte record was written", i, vsize);
  }
  zx_info_vmo_v1_t* v1 = (zx_info_vmo_v1_t*)&buf;
  cr_assert_eq(v1->koid, full.koid);
  cr_assert_str_eq(v1->name, "versioned");
  cr_assert_eq(v1->size_bytes, 6 * PG);
  cr_assert_eq(v1->flags, ZX_INFO_VMO_TYPE_PAGED | ZX_INFO_VMO_VIA_HANDLE | ZX_INFO_VMO_RESIZABLE);
  cr_assert_eq(v1->committed_bytes, 2 * PG);
  cr_assert_eq(v1->handle_rights, ZX_DEFAULT_VMO_RIGHTS | ZX_RIGHT_RESIZE);
  if (vsize >= sizeof(zx_info_vmo_v3_t)) {
    cr_assert_eq(((zx_info_vmo_v3_t*)&buf)->populated_bytes, 2 * PG);
  }

  // One byte short: too small, nothing written.
  memset(&buf, 0xCD, sizeof(buf));
  actual = 99;
  avail = 99;
  cr_assert_eq(zx_object_get_info(h, topic, &buf, vsize - 1, &actual, &avail),
               ZX_ERR_BUFFER_TOO_SMALL);
  cr_assert_eq(actual, 0);
  cr_assert_eq(avail, 1);
  for (size_t i = 0; i < sizeof(buf); i++) cr_assert_eq(raw[i], 0xCD);
  cr_assert_eq(zx_object_get_info(h, topic, &buf, 0, &actual, &avail), ZX_ERR_BUFFER_TOO_SMALL);
  cr_assert_eq(zx_object_get_info(h, topic, NULL, 0, &actual, &avail), ZX_ERR_BUFFER_TOO_SMALL);
  cr_assert_eq(avail, 1);
  zx_handle_close(h);
}

Test(vmo_basic, info_v1) { check_version(ZX_INFO_VMO_V1, sizeof(zx_info_vmo_v1_t)); }
Test(vmo_basic, info_v2) { check_version(ZX_INFO_VMO_V2, sizeof(zx_info_vmo_v2_t)); }
Test(vmo_basic, info_v3) { check_version(ZX_INFO_VMO_V3, sizeof(zx_info_vmo_v3_t)); }
Test(vmo_basic, info_current) { check_version(ZX_INFO_VMO, sizeof(zx_info_vmo_t)); }

Test(vmo_basic, info_topic_values) {
  cr_assert_eq(ZX_INFO_VMO_V1, 23u);
  cr_assert_eq(ZX_INFO_VMO_V2, 23u | (1u << 28));
  cr_assert_eq(ZX_INFO_VMO_V3, 23u | (2u << 28));
  cr_assert_eq(ZX_INFO_VMO, 23u | (3u << 28));
}

Test(vmo_basic, info_newest_topic_with_older_size_gets_prefix) {
  const size_t sizes[] = {sizeof(zx_info_vmo_v1_t), sizeof(zx_info_vmo_v2_t),
                          sizeof(zx_info_vmo_v3_t)};
  for (size_t k = 0; k < 3; k++) check_version(ZX_INFO_VMO, sizes[k]);
}

// ---- lifetime ----------------------------------------------------------------------

Test(vmo_basic, close_frees_everything) {
  zxvmo_stats_t s0 = stats();
  zx_handle_t h = mkvmo(16 * PG);
  fill(h, 0, 16 * PG, 3);
  zx_handle_t d;
  cr_assert_eq(zx_handle_duplicate(h, ZX_RIGHT_SAME_RIGHTS, &d), ZX_OK);
  zxvmo_stats_t s1 = stats();
  cr_assert_eq(s1.pages_in_use, s0.pages_in_use + 16);
  cr_assert_eq(s1.vmos_alive, s0.vmos_alive + 1);
  cr_assert_eq(s1.handles_alive, s0.handles_alive + 2);
  cr_assert_eq(zx_handle_close(h), ZX_OK);
  cr_assert_eq(stats().pages_in_use, s0.pages_in_use + 16, "a handle remains");
  expect_fill(d, 0, 16 * PG, 3);
  cr_assert_eq(zx_handle_close(d), ZX_OK);
  zxvmo_stats_t s2 = stats();
  cr_assert_eq(s2.pages_in_use, s0.pages_in_use);
  cr_assert_eq(s2.vmos_alive, s0.vmos_alive);
  cr_assert_eq(s2.handles_alive, s0.handles_alive);
  cr_assert_eq(zxvmo_check_invariants(), ZX_OK);
}

Test(vmo_basic, invariants_hold_after_mixed_ops) {
  zx_handle_t h = mkvmo_opts(64 * PG, ZX_VMO_RESIZABLE);
  for (uint64_t i = 0; i < 64; i += 3) wr8(h, i * PG + i, (uint8_t)i);
  cr_assert_eq(op(h, ZX_VMO_OP_ZERO, 5 * PG + 7, 9 * PG), ZX_OK);
  cr_assert_eq(op(h, ZX_VMO_OP_DECOMMIT, 30 * PG, 4 * PG), ZX_OK);
  cr_assert_eq(op(h, ZX_VMO_OP_COMMIT, 40 * PG, 8 * PG), ZX_OK);
  cr_assert_eq(zx_vmo_set_size(h, 33 * PG + 5), ZX_OK);
  cr_assert_eq(zxvmo_check_invariants(), ZX_OK);
  zx_handle_close(h);
  cr_assert_eq(zxvmo_check_invariants(), ZX_OK);
}
