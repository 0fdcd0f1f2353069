// SPDX-License-Identifier: BSD-3-Clause
// Every error docs/behavior.md documents for root VMOs (§2, §3, §6, §7, §8), in the
// documented order, one test per rule. Each failing call must change nothing: the
// content, size, content size and pages_in_use are compared before and after.
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <zircon/syscalls.h>

#include "helpers.h"

#define MAX_SIZE MAX_VMO_SIZE
#define SENTINEL ((zx_handle_t)0x5EAF00D3u)

// ---- state snapshots ------------------------------------------------------------

#define SNAP_MAX (8 * PG)

typedef struct {
  uint64_t size;
  uint64_t content_size;
  uint64_t pages_in_use;
  uint64_t vmos_alive;
  uint64_t handles_alive;
  uint8_t* bytes;  // SNAP_MAX bytes, allocated at the first snapshot
} snap_t;

static zxvmo_stats_t stats(void) {
  zxvmo_stats_t s;
  cr_assert_eq(zxvmo_get_stats(&s), ZX_OK);
  return s;
}

// Captures the state of VMO `h` (read through `rd`, a handle with READ and
// GET_PROPERTY; h's size must be at most SNAP_MAX).
static void snap_take(zx_handle_t rd, snap_t* s) {
  uint8_t* bytes = s->bytes != NULL ? s->bytes : page_buf(8);
  memset(s, 0, sizeof(*s));
  memset(bytes, 0, SNAP_MAX);
  s->bytes = bytes;
  cr_assert_eq(zx_vmo_get_size(rd, &s->size), ZX_OK);
  cr_assert_leq(s->size, SNAP_MAX);
  cr_assert_eq(zx_object_get_property(rd, ZX_PROP_VMO_CONTENT_SIZE, &s->content_size,
                                      sizeof(s->content_size)),
               ZX_OK);
  cr_assert_eq(zx_vmo_read(rd, s->bytes, 0, s->size), ZX_OK);
  zxvmo_stats_t st = stats();
  s->pages_in_use = st.pages_in_use;
  s->vmos_alive = st.vmos_alive;
  s->handles_alive = st.handles_alive;
}

static snap_t g_before, g_after;

static void expect_unchanged(zx_handle_t rd, const snap_t* before, const char* what) {
  snap_take(rd, &g_after);
  cr_assert_eq(g_after.size, before->size, "%s changed the size", what);
  cr_assert_eq(g_after.content_size, before->content_size, "%s changed the content size", what);
  cr_assert_eq(g_after.pages_in_use, before->pages_in_use, "%s changed pages_in_use", what);
  cr_assert_eq(g_after.vmos_alive, before->vmos_alive, "%s changed vmos_alive", what);
  cr_assert_eq(g_after.handles_alive, before->handles_alive, "%s changed handles_alive", what);
  cr_assert_eq(memcmp(g_after.bytes, before->bytes, before->size), 0, "%s changed the content",
               what);
}

// A VMO of `pages` pages with every byte non-zero (pattern), options `opts`.
static zx_handle_t mk_filled(uint64_t pages, uint32_t opts) {
  zx_handle_t h;
  cr_assert_eq(zx_vmo_create(pages * PG, opts, &h), ZX_OK);
  uint8_t* b = malloc(pages * PG + 1);
  cr_assert_not_null(b);
  for (uint64_t i = 0; i < pages * PG; i++) b[i] = (uint8_t)(i * 7 + i / PG + 1) | 1;
  cr_assert_eq(zx_vmo_write(h, b, 0, pages * PG), ZX_OK);
  free(b);
  return h;
}

// A VMO with pages 0 and 2 of 4 written (so ops that commit or free have work to do).
static zx_handle_t mk_sparse4(uint32_t opts) {
  zx_handle_t h;
  cr_assert_eq(zx_vmo_create(4 * PG, opts, &h), ZX_OK);
  uint8_t* b = page_buf(1);
  memset(b, 0xA5, PG);
  cr_assert_eq(zx_vmo_write(h, b, 0, PG), ZX_OK);
  cr_assert_eq(zx_vmo_write(h, b, 2 * PG, PG), ZX_OK);
  free(b);
  return h;
}

static zx_handle_t dup(zx_handle_t h, zx_rights_t rights) {
  zx_handle_t d = ZX_HANDLE_INVALID;
  cr_assert_eq(zx_handle_duplicate(h, rights, &d), ZX_OK);
  cr_assert_eq(handle_rights(d), rights);
  return d;
}

static zx_handle_t mkevent(void) {
  zx_handle_t e;
  cr_assert_eq(zx_event_create(0, &e), ZX_OK);
  return e;
}

static zx_status_t op(zx_handle_t h, uint32_t o, uint64_t off, uint64_t len) {
  return zx_vmo_op_range(h, o, off, len, NULL, 0);
}

#define RIGHTS_RW (ZX_DEFAULT_VMO_RIGHTS | ZX_RIGHT_RESIZE)

// ---- zx_vmo_create ----------------------------------------------------------------

static void expect_create_fails(uint64_t size, uint32_t opts, zx_status_t want) {
  zxvmo_stats_t s0 = stats();
  zx_handle_t h = SENTINEL;
  cr_assert_eq(zx_vmo_create(size, opts, &h), want, "create(%#llx, %#x)",
               (unsigned long long)size, opts);
  cr_assert_eq(h, SENTINEL, "out is untouched on failure");
  zxvmo_stats_t s1 = stats();
  cr_assert_eq(s1.vmos_alive, s0.vmos_alive);
  cr_assert_eq(s1.handles_alive, s0.handles_alive);
  cr_assert_eq(s1.pages_in_use, s0.pages_in_use);
}

Test(vmo_errors, create_resizable_with_unbounded) {
  const uint64_t sizes[] = {0, PG, MAX_SIZE, MAX_SIZE + 1, UINT64_MAX};
  for (size_t k = 0; k < 5; k++) {
    // Checked first: even a size that is out of range gives INVALID_ARGS.
    expect_create_fails(sizes[k], ZX_VMO_RESIZABLE | ZX_VMO_UNBOUNDED, ZX_ERR_INVALID_ARGS);
    // ... and so do extra unknown bits.
    expect_create_fails(sizes[k], ZX_VMO_RESIZABLE | ZX_VMO_UNBOUNDED | (1u << 30),
                        ZX_ERR_INVALID_ARGS);
  }
}

Test(vmo_errors, create_size_round_up_wraps) {
  const uint64_t sizes[] = {UINT64_MAX, UINT64_MAX - PG + 2, UINT64_MAX - 1};
  for (size_t k = 0; k < 3; k++) {
    expect_create_fails(sizes[k], 0, ZX_ERR_OUT_OF_RANGE);
    expect_create_fails(sizes[k], ZX_VMO_RESIZABLE, ZX_ERR_OUT_OF_RANGE);
  }
}

Test(vmo_errors, create_size_above_max) {
  const uint64_t sizes[] = {MAX_SIZE + 1, MAX_SIZE + PG, UINT64_MAX - PG + 1,
                            UINT64_MAX - 16 * PG + 1};
  for (size_t k = 0; k < 4; k++) {
    expect_create_fails(sizes[k], 0, ZX_ERR_OUT_OF_RANGE);
    expect_create_fails(sizes[k], ZX_VMO_RESIZABLE, ZX_ERR_OUT_OF_RANGE);
  }
  // The largest allowed size works.
  zx_handle_t h;
  cr_assert_eq(zx_vmo_create(MAX_SIZE, 0, &h), ZX_OK);
  zx_handle_close(h);
  cr_assert_eq(zx_vmo_create(MAX_SIZE - PG + 1, 0, &h), ZX_OK);
  zx_handle_close(h);
}

Test(vmo_errors, create_size_checked_before_unknown_options) {
  expect_create_fails(UINT64_MAX, 1u << 0, ZX_ERR_OUT_OF_RANGE);
  expect_create_fails(MAX_SIZE + 1, 1u << 31, ZX_ERR_OUT_OF_RANGE);
  expect_create_fails(MAX_SIZE + 1, 0xFFFFFFFFu & ~(ZX_VMO_RESIZABLE | ZX_VMO_UNBOUNDED),
                      ZX_ERR_OUT_OF_RANGE);
}

Test(vmo_errors, create_unknown_options) {
  const uint32_t bad[] = {1u << 0, ZX_VMO_TRAP_DIRTY, 1u << 5, 1u << 8, 1u << 31,
                          ZX_VMO_RESIZABLE | (1u << 0), 0xFFFFFFFFu & ~ZX_VMO_UNBOUNDED};
  for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
    expect_create_fails(PG, bad[k], ZX_ERR_INVALID_ARGS);
    expect_create_fails(0, bad[k], ZX_ERR_INVALID_ARGS);
  }
}

Test(vmo_errors, create_null_out) {
  zxvmo_stats_t s0 = stats();
  cr_assert_eq(zx_vmo_create(PG, 0, NULL), ZX_ERR_INVALID_ARGS);
  zxvmo_stats_t s1 = stats();
  cr_assert_eq(s1.vmos_alive, s0.vmos_alive, "nothing leaked");
  cr_assert_eq(s1.handles_alive, s0.handles_alive);
}

// ---- handles: bad handle, wrong type, type before rights ---------------------------

Test(vmo_errors, closed_handle_is_bad_handle) {
  zx_handle_t h = mk_filled(2, ZX_VMO_RESIZABLE);
  zx_handle_t keep = dup(h, RIGHTS_RW);
  snap_take(keep, &g_before);
  cr_assert_eq(zx_handle_close(h), ZX_OK);
  g_before.handles_alive--;
  uint8_t buf[16] = {0};
  uint64_t s = 77;
  cr_assert_eq(zx_vmo_read(h, buf, 0, sizeof(buf)), ZX_ERR_BAD_HANDLE);
  cr_assert_eq(zx_vmo_write(h, buf, 0, sizeof(buf)), ZX_ERR_BAD_HANDLE);
  cr_assert_eq(zx_vmo_get_size(h, &s), ZX_ERR_BAD_HANDLE);
  cr_assert_eq(s, 77);
  cr_assert_eq(zx_vmo_set_size(h, PG), ZX_ERR_BAD_HANDLE);
  cr_assert_eq(op(h, ZX_VMO_OP_ZERO, 0, PG), ZX_ERR_BAD_HANDLE);
  cr_assert_eq(op(h, ZX_VMO_OP_DECOMMIT, 0, PG), ZX_ERR_BAD_HANDLE);
  cr_assert_eq(op(h, ZX_VMO_OP_COMMIT, 0, PG), ZX_ERR_BAD_HANDLE);
  cr_assert_eq(op(h, ZX_VMO_OP_DONT_NEED, 0, PG), ZX_ERR_BAD_HANDLE);
  // Bad handle wins over bad arguments.
  cr_assert_eq(zx_vmo_read(h, buf, UINT64_MAX, 16), ZX_ERR_BAD_HANDLE);
  cr_assert_eq(op(h, 999, 0, PG), ZX_ERR_BAD_HANDLE);
  cr_assert_eq(zx_vmo_set_size(h, UINT64_MAX), ZX_ERR_BAD_HANDLE);
  expect_unchanged(keep, &g_before, "calls on a closed handle");
  zx_handle_close(keep);
}

Test(vmo_errors, invalid_handle_values) {
  const zx_handle_t bad[] = {ZX_HANDLE_INVALID, 0x12345673u, 0xFFFFFFFFu, 1u};
  uint8_t buf[4] = {0};
  uint64_t s;
  for (size_t k = 0; k < 4; k++) {
    cr_assert_eq(zx_vmo_read(bad[k], buf, 0, 4), ZX_ERR_BAD_HANDLE);
    cr_assert_eq(zx_vmo_write(bad[k], buf, 0, 4), ZX_ERR_BAD_HANDLE);
    cr_assert_eq(zx_vmo_get_size(bad[k], &s), ZX_ERR_BAD_HANDLE);
    cr_assert_eq(zx_vmo_set_size(bad[k], PG), ZX_ERR_BAD_HANDLE);
    cr_assert_eq(op(bad[k], ZX_VMO_OP_COMMIT, 0, PG), ZX_ERR_BAD_HANDLE);
  }
}

Test(vmo_errors, event_handle_is_wrong_type) {
  zx_handle_t e = mkevent();
  uint8_t buf[16];
  memset(buf, 0x33, sizeof(buf));
  uint64_t s = 77;
  cr_assert_eq(zx_vmo_read(e, buf, 0, sizeof(buf)), ZX_ERR_WRONG_TYPE);
  for (size_t i = 0; i < sizeof(buf); i++) cr_assert_eq(buf[i], 0x33);
  cr_assert_eq(zx_vmo_write(e, buf, 0, sizeof(buf)), ZX_ERR_WRONG_TYPE);
  cr_assert_eq(zx_vmo_get_size(e, &s), ZX_ERR_WRONG_TYPE);
  cr_assert_eq(s, 77);
  cr_assert_eq(zx_vmo_set_size(e, PG), ZX_ERR_WRONG_TYPE);
  const uint32_t ops[] = {ZX_VMO_OP_COMMIT,     ZX_VMO_OP_DECOMMIT,  ZX_VMO_OP_ZERO,
                          ZX_VMO_OP_CACHE_SYNC, ZX_VMO_OP_DONT_NEED, ZX_VMO_OP_LOCK, 999};
  for (size_t k = 0; k < sizeof(ops) / sizeof(ops[0]); k++) {
    cr_assert_eq(op(e, ops[k], 0, PG), ZX_ERR_WRONG_TYPE, "op %u", ops[k]);
  }
  uint64_t cs = 0;
  zx_info_vmo_t info;
  cr_assert_eq(zx_object_get_info(e, ZX_INFO_VMO, &info, sizeof(info), NULL, NULL),
               ZX_ERR_WRONG_TYPE);
  (void)cs;
  zx_handle_close(e);
}

Test(vmo_errors, wrong_type_before_rights) {
  // The event handle lacks READ and WRITE (and all but WAIT here): still WRONG_TYPE.
  zx_handle_t e = mkevent();
  zx_handle_t weak = dup(e, ZX_RIGHT_NONE);
  uint8_t buf[8] = {0};
  cr_assert_eq(zx_vmo_read(e, buf, 0, 8), ZX_ERR_WRONG_TYPE);  // events never have READ
  cr_assert_eq(zx_vmo_write(e, buf, 0, 8), ZX_ERR_WRONG_TYPE);
  cr_assert_eq(zx_vmo_read(weak, buf, 0, 8), ZX_ERR_WRONG_TYPE);
  cr_assert_eq(zx_vmo_write(weak, buf, 0, 8), ZX_ERR_WRONG_TYPE);
  cr_assert_eq(zx_vmo_set_size(weak, PG), ZX_ERR_WRONG_TYPE);
  cr_assert_eq(op(weak, ZX_VMO_OP_COMMIT, 0, PG), ZX_ERR_WRONG_TYPE);
  cr_assert_eq(op(weak, ZX_VMO_OP_CACHE_SYNC, 0, PG), ZX_ERR_WRONG_TYPE);
  // Wrong type also wins over bad ranges.
  cr_assert_eq(zx_vmo_read(weak, buf, UINT64_MAX, 8), ZX_ERR_WRONG_TYPE);
  cr_assert_eq(zx_vmo_set_size(weak, UINT64_MAX), ZX_ERR_WRONG_TYPE);
  zx_handle_close(weak);
  zx_handle_close(e);
}

// ---- read / write rights -------------------------------------------------------------

Test(vmo_errors, read_without_read_right) {
  zx_handle_t h = mk_filled(2, 0);
  zx_handle_t w = dup(h, ZX_DEFAULT_VMO_RIGHTS & ~ZX_RIGHT_READ);
  snap_take(h, &g_before);
  uint8_t buf[64];
  memset(buf, 0x3E, sizeof(buf));
  cr_assert_eq(zx_vmo_read(w, buf, 0, sizeof(buf)), ZX_ERR_ACCESS_DENIED);
  for (size_t i = 0; i < sizeof(buf); i++) cr_assert_eq(buf[i], 0x3E, "no byte moved");
  // Rights come before range checks.
  cr_assert_eq(zx_vmo_read(w, buf, 100 * PG, 1), ZX_ERR_ACCESS_DENIED);
  cr_assert_eq(zx_vmo_read(w, buf, UINT64_MAX, 2), ZX_ERR_ACCESS_DENIED);
  cr_assert_eq(zx_vmo_read(w, buf, 0, 0), ZX_ERR_ACCESS_DENIED);
  expect_unchanged(h, &g_before, "read without READ");
  // The handle still writes.
  cr_assert_eq(zx_vmo_write(w, buf, 0, 1), ZX_OK);
  zx_handle_close(w);
  zx_handle_close(h);
}

Test(vmo_errors, write_without_write_right) {
  const uint64_t pages[] = {1, 2, 4};
  for (size_t k = 0; k < 3; k++) {
    zx_handle_t h = mk_sparse4(0);
    zx_handle_t r = dup(h, ZX_DEFAULT_VMO_RIGHTS & ~ZX_RIGHT_WRITE);
    snap_take(h, &g_before);
    uint8_t* buf = malloc(pages[k] * PG);
    cr_assert_not_null(buf);
    memset(buf, 0x77, pages[k] * PG);
    cr_assert_eq(zx_vmo_write(r, buf, 0, pages[k] * PG), ZX_ERR_ACCESS_DENIED);
    cr_assert_eq(zx_vmo_write(r, buf, PG + 3, 1), ZX_ERR_ACCESS_DENIED);
    cr_assert_eq(zx_vmo_write(r, buf, 100 * PG, 1), ZX_ERR_ACCESS_DENIED);
    cr_assert_eq(zx_vmo_write(r, buf, 0, 0), ZX_ERR_ACCESS_DENIED);
    expect_unchanged(h, &g_before, "write without WRITE");
    // The handle still reads.
    cr_assert_eq(zx_vmo_read(r, buf, 0, 1), ZX_OK);
    free(buf);
    zx_handle_close(r);
    zx_handle_close(h);
  }
}

Test(vmo_errors, replace_drops_rights) {
  zx_handle_t h = mk_filled(1, 0);
  zx_handle_t keep = dup(h, ZX_DEFAULT_VMO_RIGHTS);
  zx_handle_t r = ZX_HANDLE_INVALID;
  cr_assert_eq(zx_handle_replace(h, ZX_RIGHT_READ | ZX_RIGHT_GET_PROPERTY, &r), ZX_OK);
  snap_take(keep, &g_before);
  uint8_t b = 0x42;
  cr_assert_eq(zx_vmo_write(r, &b, 0, 1), ZX_ERR_ACCESS_DENIED);
  cr_assert_eq(zx_vmo_write(h, &b, 0, 1), ZX_ERR_BAD_HANDLE, "replace closes the original");
  cr_assert_eq(zx_vmo_read(r, &b, 0, 1), ZX_OK);
  // Replacing with fewer rights again: READ gone too.
  zx_handle_t r2 = ZX_HANDLE_INVALID;
  cr_assert_eq(zx_handle_replace(r, ZX_RIGHT_GET_PROPERTY, &r2), ZX_OK);
  cr_assert_eq(zx_vmo_read(r2, &b, 0, 1), ZX_ERR_ACCESS_DENIED);
  cr_assert_eq(zx_vmo_read(r, &b, 0, 1), ZX_ERR_BAD_HANDLE);
  zx_handle_close(r2);
  g_before.handles_alive--;
  expect_unchanged(keep, &g_before, "writes through a read-only replacement");
  zx_handle_close(keep);
}

// ---- read / write ranges ----------------------------------------------------------------

Test(vmo_errors, read_write_out_of_range) {
  const uint64_t sizes[] = {0, PG, 4 * PG};
  for (size_t k = 0; k < 3; k++) {
    uint64_t sz = sizes[k];
    zx_handle_t h;
    cr_assert_eq(zx_vmo_create(sz, 0, &h), ZX_OK);
    if (sz) {
      uint8_t* f = malloc(sz);
      memset(f, 0x5C, sz);
      cr_assert_eq(zx_vmo_write(h, f, 0, sz), ZX_OK);
      free(f);
    }
    snap_take(h, &g_before);
    uint8_t* buf = malloc(sz + 2 * PG);
    cr_assert_not_null(buf);
    memset(buf, 0xF1, sz + 2 * PG);
    const uint64_t cases[][2] = {
        {0, sz + 1},        {sz, 1},           {sz + 1, 0},        {sz + PG, 0},
        {1, sz},            {UINT64_MAX, 0},   {UINT64_MAX, 1},    {UINT64_MAX - PG / 2, PG},
        {sz + PG, PG},      {0, sz + 2 * PG},  {UINT64_MAX - 1, 2},
    };
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
      uint64_t off = cases[c][0], len = cases[c][1];
      cr_assert_eq(zx_vmo_read(h, buf, off, len), ZX_ERR_OUT_OF_RANGE, "read(%#llx, %#llx)",
                   (unsigned long long)off, (unsigned long long)len);
      cr_assert_eq(zx_vmo_write(h, buf, off, len), ZX_ERR_OUT_OF_RANGE, "write(%#llx, %#llx)",
                   (unsigned long long)off, (unsigned long long)len);
    }
    for (size_t i = 0; i < sz + 2 * PG; i++) cr_assert_eq(buf[i], 0xF1, "a failed read wrote");
    // Huge lengths (offset + len wraps) fail before touching the buffer.
    cr_assert_eq(zx_vmo_read(h, buf, 0, SIZE_MAX), ZX_ERR_OUT_OF_RANGE);
    cr_assert_eq(zx_vmo_write(h, buf, 0, SIZE_MAX), ZX_ERR_OUT_OF_RANGE);
    cr_assert_eq(zx_vmo_read(h, buf, PG, SIZE_MAX - PG + 1), ZX_ERR_OUT_OF_RANGE);
    // A zero-length access at offset == size is fine.
    cr_assert_eq(zx_vmo_read(h, buf, sz, 0), ZX_OK);
    cr_assert_eq(zx_vmo_write(h, buf, sz, 0), ZX_OK);
    expect_unchanged(h, &g_before, "out-of-range read/write");
    free(buf);
    zx_handle_close(h);
  }
}

Test(vmo_errors, write_partly_past_end_writes_nothing) {
  zx_handle_t h;
  cr_assert_eq(zx_vmo_create(4 * PG, 0, &h), ZX_OK);
  uint8_t b[1] = {1};
  cr_assert_eq(zx_vmo_write(h, b, 0, 1), ZX_OK);
  snap_take(h, &g_before);
  uint8_t* buf = malloc(3 * PG);
  memset(buf, 0xFF, 3 * PG);
  // Starts inside (uncommitted pages 2 and 3), ends one byte past the end.
  cr_assert_eq(zx_vmo_write(h, buf, 2 * PG - 1, 2 * PG + 2), ZX_ERR_OUT_OF_RANGE);
  cr_assert_eq(zx_vmo_write(h, buf, PG, 3 * PG + 1), ZX_ERR_OUT_OF_RANGE);
  expect_unchanged(h, &g_before, "write partly past the end");
  free(buf);
  zx_handle_close(h);
}

// ---- set_size -------------------------------------------------------------------------

Test(vmo_errors, set_size_without_write) {
  zx_handle_t h = mk_filled(2, ZX_VMO_RESIZABLE);
  zx_handle_t nw = dup(h, RIGHTS_RW & ~ZX_RIGHT_WRITE);  // has RESIZE
  snap_take(h, &g_before);
  const uint64_t sizes[] = {0, PG, 5 * PG, UINT64_MAX, MAX_SIZE + 1};
  for (size_t k = 0; k < 5; k++) {
    cr_assert_eq(zx_vmo_set_size(nw, sizes[k]), ZX_ERR_ACCESS_DENIED, "size %#llx",
                 (unsigned long long)sizes[k]);
  }
  expect_unchanged(h, &g_before, "set_size without WRITE");
  zx_handle_close(nw);
  zx_handle_close(h);
}

Test(vmo_errors, set_size_non_resizable_without_write) {
  // WRITE is checked before resizability.
  zx_handle_t h = mk_filled(2, 0);
  zx_handle_t nw = dup(h, ZX_DEFAULT_VMO_RIGHTS & ~ZX_RIGHT_WRITE);
  snap_take(h, &g_before);
  cr_assert_eq(zx_vmo_set_size(nw, PG), ZX_ERR_ACCESS_DENIED);
  cr_assert_eq(zx_vmo_set_size(nw, UINT64_MAX), ZX_ERR_ACCESS_DENIED);
  expect_unchanged(h, &g_before, "set_size without WRITE (non-resizable)");
  zx_handle_close(nw);
  zx_handle_close(h);
}

Test(vmo_errors, set_size_resizable_without_resize_right) {
  zx_handle_t h = mk_filled(2, ZX_VMO_RESIZABLE);
  zx_handle_t nr = dup(h, RIGHTS_RW & ~ZX_RIGHT_RESIZE);  // has WRITE
  snap_take(h, &g_before);
  const uint64_t sizes[] = {0, PG + 1, 8 * PG, UINT64_MAX, MAX_SIZE + 1};
  for (size_t k = 0; k < 5; k++) {
    cr_assert_eq(zx_vmo_set_size(nr, sizes[k]), ZX_ERR_ACCESS_DENIED, "size %#llx",
                 (unsigned long long)sizes[k]);
  }
  expect_unchanged(h, &g_before, "set_size without RESIZE");
  // With the right it works.
  cr_assert_eq(zx_vmo_set_size(h, 3 * PG), ZX_OK);
  zx_handle_close(nr);
  zx_handle_close(h);
}

Test(vmo_errors, set_size_round_up_wraps) {
  const uint32_t opts[] = {ZX_VMO_RESIZABLE, 0};
  for (size_t i = 0; i < 2; i++) {
    zx_handle_t h = mk_filled(2, opts[i]);
    snap_take(h, &g_before);
    // Wrapping is OUT_OF_RANGE, before the VMO's resizability is considered.
    cr_assert_eq(zx_vmo_set_size(h, UINT64_MAX), ZX_ERR_OUT_OF_RANGE);
    cr_assert_eq(zx_vmo_set_size(h, UINT64_MAX - PG + 2), ZX_ERR_OUT_OF_RANGE);
    expect_unchanged(h, &g_before, "set_size wrapping");
    zx_handle_close(h);
  }
}

Test(vmo_errors, set_size_non_resizable_unavailable) {
  const uint64_t pages[] = {0, 1, 3};
  for (size_t k = 0; k < 3; k++) {
    zx_handle_t h;
    cr_assert_eq(zx_vmo_create(pages[k] * PG, 0, &h), ZX_OK);
    if (pages[k]) {
      uint8_t* f = malloc(pages[k] * PG);
      memset(f, 0x61, pages[k] * PG);
      cr_assert_eq(zx_vmo_write(h, f, 0, pages[k] * PG), ZX_OK);
      free(f);
    }
    snap_take(h, &g_before);
    const uint64_t sizes[] = {0, 1, pages[k] * PG, pages[k] * PG + 1, 10 * PG,
                              MAX_SIZE, MAX_SIZE + 1, UINT64_MAX - PG + 1};
    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
      // Even the current size, and sizes past MAX_SIZE that do not wrap.
      cr_assert_eq(zx_vmo_set_size(h, sizes[s]), ZX_ERR_UNAVAILABLE, "size %#llx",
                   (unsigned long long)sizes[s]);
    }
    expect_unchanged(h, &g_before, "set_size on a non-resizable VMO");
    zx_handle_close(h);
  }
}

Test(vmo_errors, set_size_above_max) {
  zx_handle_t h = mk_filled(2, ZX_VMO_RESIZABLE);
  snap_take(h, &g_before);
  cr_assert_eq(zx_vmo_set_size(h, MAX_SIZE + 1), ZX_ERR_OUT_OF_RANGE);
  cr_assert_eq(zx_vmo_set_size(h, UINT64_MAX - PG + 1), ZX_ERR_OUT_OF_RANGE);
  cr_assert_eq(zx_vmo_set_size(h, MAX_SIZE + PG), ZX_ERR_OUT_OF_RANGE);
  expect_unchanged(h, &g_before, "set_size past MAX_SIZE");
  zx_handle_close(h);
}

// ---- op_range: rights -----------------------------------------------------------------

typedef struct {
  uint32_t op;
  zx_rights_t needs;  // 0: none
} op_need_t;

static const op_need_t k_needs[] = {
    {ZX_VMO_OP_COMMIT, ZX_RIGHT_WRITE},
    {ZX_VMO_OP_DECOMMIT, ZX_RIGHT_WRITE},
    {ZX_VMO_OP_ZERO, ZX_RIGHT_WRITE},
    {ZX_VMO_OP_CACHE_INVALIDATE, ZX_RIGHT_WRITE},
    {ZX_VMO_OP_CACHE_SYNC, ZX_RIGHT_READ},
    {ZX_VMO_OP_CACHE_CLEAN, ZX_RIGHT_READ},
    {ZX_VMO_OP_CACHE_CLEAN_INVALIDATE, ZX_RIGHT_READ},
    {ZX_VMO_OP_PREFETCH, ZX_RIGHT_READ},
    {ZX_VMO_OP_DONT_NEED, 0},
    {ZX_VMO_OP_ALWAYS_NEED, 0},
};
#define NUM_NEEDS (sizeof(k_needs) / sizeof(k_needs[0]))

Test(vmo_errors, op_range_rights_missing) {
  for (size_t k = 0; k < NUM_NEEDS; k++) {
    if (!k_needs[k].needs) continue;
    zx_handle_t h = mk_sparse4(0);
    zx_handle_t weak = dup(h, ZX_DEFAULT_VMO_RIGHTS & ~k_needs[k].needs);
    snap_take(h, &g_before);
    cr_assert_eq(op(weak, k_needs[k].op, 0, 4 * PG), ZX_ERR_ACCESS_DENIED, "op %u", k_needs[k].op);
    cr_assert_eq(op(weak, k_needs[k].op, PG, PG), ZX_ERR_ACCESS_DENIED, "op %u", k_needs[k].op);
    // Rights come before range and size checks.
    cr_assert_eq(op(weak, k_needs[k].op, 100 * PG, PG), ZX_ERR_ACCESS_DENIED, "op %u",
                 k_needs[k].op);
    cr_assert_eq(op(weak, k_needs[k].op, 0, 0), ZX_ERR_ACCESS_DENIED, "op %u", k_needs[k].op);
    expect_unchanged(h, &g_before, "op_range without the right");
    // A handle with nothing but the needed right is enough.
    zx_handle_t just = dup(h, k_needs[k].needs);
    cr_assert_eq(op(just, k_needs[k].op, 0, 4 * PG), ZX_OK, "op %u", k_needs[k].op);
    zx_handle_close(just);
    zx_handle_close(weak);
    zx_handle_close(h);
  }
}

Test(vmo_errors, op_range_hints_need_no_rights) {
  zx_handle_t h = mk_sparse4(0);
  zx_handle_t none = dup(h, ZX_RIGHT_NONE);
  snap_take(h, &g_before);
  cr_assert_eq(op(none, ZX_VMO_OP_DONT_NEED, 0, 4 * PG), ZX_OK);
  cr_assert_eq(op(none, ZX_VMO_OP_ALWAYS_NEED, 0, 4 * PG), ZX_OK);
  cr_assert_eq(op(none, ZX_VMO_OP_DONT_NEED, PG + 1, 10), ZX_OK);
  // ... but still check the range.
  cr_assert_eq(op(none, ZX_VMO_OP_DONT_NEED, 0, 4 * PG + 1), ZX_ERR_OUT_OF_RANGE);
  cr_assert_eq(op(none, ZX_VMO_OP_ALWAYS_NEED, 5 * PG, 1), ZX_ERR_OUT_OF_RANGE);
  expect_unchanged(h, &g_before, "hints");
  zx_handle_close(none);
  zx_handle_close(h);
}

Test(vmo_errors, op_range_read_right_ops_with_read_only_handle) {
  // READ-only handles may do READ ops, not WRITE ops.
  zx_handle_t h = mk_sparse4(0);
  zx_handle_t ro = dup(h, ZX_RIGHT_READ);
  snap_take(h, &g_before);
  for (size_t k = 0; k < NUM_NEEDS; k++) {
    zx_status_t want = (k_needs[k].needs & ZX_RIGHT_WRITE) ? ZX_ERR_ACCESS_DENIED : ZX_OK;
    cr_assert_eq(op(ro, k_needs[k].op, 0, 4 * PG), want, "op %u", k_needs[k].op);
  }
  expect_unchanged(h, &g_before, "ops on a read-only handle");
  zx_handle_close(ro);
  zx_handle_close(h);
}

// ---- op_range: unknown ops, ranges ------------------------------------------------------

Test(vmo_errors, op_range_unknown_op) {
  zx_handle_t h = mk_sparse4(0);
  zx_handle_t none = dup(h, ZX_RIGHT_NONE);
  snap_take(h, &g_before);
  const uint32_t bad[] = {0, 15, 16, 100, 0x80000000u, UINT32_MAX};
  for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
    cr_assert_eq(op(h, bad[k], 0, PG), ZX_ERR_INVALID_ARGS, "op %u", bad[k]);
    cr_assert_eq(op(h, bad[k], 100 * PG, PG), ZX_ERR_INVALID_ARGS, "op %u", bad[k]);
    cr_assert_eq(op(none, bad[k], 0, PG), ZX_ERR_INVALID_ARGS, "op %u", bad[k]);
  }
  expect_unchanged(h, &g_before, "unknown ops");
  zx_handle_close(none);
  zx_handle_close(h);
}

Test(vmo_errors, op_range_past_size) {
  const uint32_t ops[] = {ZX_VMO_OP_COMMIT,      ZX_VMO_OP_DECOMMIT,
                          ZX_VMO_OP_ZERO,        ZX_VMO_OP_CACHE_SYNC,
                          ZX_VMO_OP_CACHE_INVALIDATE, ZX_VMO_OP_CACHE_CLEAN,
                          ZX_VMO_OP_CACHE_CLEAN_INVALIDATE, ZX_VMO_OP_DONT_NEED,
                          ZX_VMO_OP_ALWAYS_NEED, ZX_VMO_OP_PREFETCH};
  const uint64_t sizes[] = {0, PG, 4 * PG};
  for (size_t s = 0; s < 3; s++) {
    uint64_t sz = sizes[s];
    zx_handle_t h;
    cr_assert_eq(zx_vmo_create(sz, 0, &h), ZX_OK);
    if (sz) {
      uint8_t b = 0x11;
      cr_assert_eq(zx_vmo_write(h, &b, 0, 1), ZX_OK);
    }
    snap_take(h, &g_before);
    // Page-aligned cases, so DECOMMIT cannot fail for alignment instead.
    const uint64_t cases[][2] = {
        {0, sz + PG},    {sz, PG},           {sz + PG, PG},        {PG * 1000, PG},
        {UINT64_MAX - PG + 1, PG}, {PG, UINT64_MAX - PG + 1}, {sz + PG, 0},
    };
    for (size_t k = 0; k < sizeof(ops) / sizeof(ops[0]); k++) {
      for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        uint64_t off = cases[c][0], len = cases[c][1];
        // Cache ops refuse size 0 first (tested separately).
        if (len == 0 && ops[k] >= ZX_VMO_OP_CACHE_SYNC && ops[k] <= ZX_VMO_OP_CACHE_CLEAN_INVALIDATE)
          continue;
        cr_assert_eq(op(h, ops[k], off, len), ZX_ERR_OUT_OF_RANGE,
                     "size %#llx op %u (%#llx, %#llx)", (unsigned long long)sz, ops[k],
                     (unsigned long long)off, (unsigned long long)len);
      }
    }
    expect_unchanged(h, &g_before, "op_range past the size");
    zx_handle_close(h);
  }
}

Test(vmo_errors, op_range_unaligned_past_size) {
  zx_handle_t h = mk_sparse4(0);
  snap_take(h, &g_before);
  cr_assert_eq(op(h, ZX_VMO_OP_COMMIT, 4 * PG - 1, 2), ZX_ERR_OUT_OF_RANGE);
  cr_assert_eq(op(h, ZX_VMO_OP_ZERO, 3 * PG + 5, PG), ZX_ERR_OUT_OF_RANGE);
  cr_assert_eq(op(h, ZX_VMO_OP_ZERO, 1, 4 * PG), ZX_ERR_OUT_OF_RANGE);
  cr_assert_eq(op(h, ZX_VMO_OP_CACHE_CLEAN, 4 * PG - 1, 2), ZX_ERR_OUT_OF_RANGE);
  cr_assert_eq(op(h, ZX_VMO_OP_DECOMMIT, 5 * PG + 1, PG), ZX_ERR_OUT_OF_RANGE);
  expect_unchanged(h, &g_before, "unaligned ops past the size");
  zx_handle_close(h);
}

Test(vmo_errors, decommit_unaligned) {
  zx_handle_t h = mk_sparse4(0);
  snap_take(h, &g_before);
  const uint64_t cases[][2] = {
      {1, PG}, {0, 1}, {PG, PG + 1}, {PG / 2, PG / 2}, {0, 4 * PG - 1}, {2 * PG + 1, PG - 1},
  };
  for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
    cr_assert_eq(op(h, ZX_VMO_OP_DECOMMIT, cases[c][0], cases[c][1]), ZX_ERR_INVALID_ARGS,
                 "(%#llx, %#llx)", (unsigned long long)cases[c][0],
                 (unsigned long long)cases[c][1]);
  }
  expect_unchanged(h, &g_before, "unaligned DECOMMIT");
  zx_handle_close(h);
}

Test(vmo_errors, decommit_zero_length_ok) {
  zx_handle_t h = mk_sparse4(0);
  snap_take(h, &g_before);
  cr_assert_eq(op(h, ZX_VMO_OP_DECOMMIT, 0, 0), ZX_OK);
  cr_assert_eq(op(h, ZX_VMO_OP_DECOMMIT, 2 * PG, 0), ZX_OK);
  cr_assert_eq(op(h, ZX_VMO_OP_DECOMMIT, 4 * PG, 0), ZX_OK);
  expect_unchanged(h, &g_before, "zero-length DECOMMIT");
  zx_handle_close(h);
}

Test(vmo_errors, cache_ops_size_zero) {
  const uint32_t ops[] = {ZX_VMO_OP_CACHE_SYNC, ZX_VMO_OP_CACHE_INVALIDATE, ZX_VMO_OP_CACHE_CLEAN,
                          ZX_VMO_OP_CACHE_CLEAN_INVALIDATE};
  zx_handle_t h = mk_sparse4(0);
  snap_take(h, &g_before);
  for (size_t k = 0; k < 4; k++) {
    cr_assert_eq(op(h, ops[k], 0, 0), ZX_ERR_INVALID_ARGS, "op %u", ops[k]);
    cr_assert_eq(op(h, ops[k], PG + 3, 0), ZX_ERR_INVALID_ARGS, "op %u", ops[k]);
    cr_assert_eq(op(h, ops[k], 4 * PG, 0), ZX_ERR_INVALID_ARGS, "op %u", ops[k]);
    // Size 0 is refused before the range is checked.
    cr_assert_eq(op(h, ops[k], 100 * PG, 0), ZX_ERR_INVALID_ARGS, "op %u", ops[k]);
    cr_assert_eq(op(h, ops[k], UINT64_MAX, 0), ZX_ERR_INVALID_ARGS, "op %u", ops[k]);
  }
  expect_unchanged(h, &g_before, "cache ops of size 0");
  zx_handle_close(h);
}

Test(vmo_errors, lock_ops_not_supported) {
  const uint32_t ops[] = {ZX_VMO_OP_LOCK, ZX_VMO_OP_UNLOCK, ZX_VMO_OP_TRY_LOCK};
  zx_handle_t h = mk_sparse4(0);
  zx_handle_t ro = dup(h, ZX_RIGHT_READ);
  zx_handle_t wo = dup(h, ZX_RIGHT_WRITE);
  zx_handle_t none = dup(h, ZX_DEFAULT_VMO_RIGHTS & ~(ZX_RIGHT_READ | ZX_RIGHT_WRITE));
  snap_take(h, &g_before);
  for (size_t k = 0; k < 3; k++) {
    zx_vmo_lock_state_t ls;
    memset(&ls, 0, sizeof(ls));
    cr_assert_eq(zx_vmo_op_range(h, ops[k], 0, 4 * PG, &ls, sizeof(ls)), ZX_ERR_NOT_SUPPORTED,
                 "op %u", ops[k]);
    cr_assert_eq(zx_vmo_op_range(ro, ops[k], 0, PG, &ls, sizeof(ls)), ZX_ERR_NOT_SUPPORTED,
                 "op %u READ only", ops[k]);
    cr_assert_eq(zx_vmo_op_range(wo, ops[k], 0, PG, &ls, sizeof(ls)), ZX_ERR_NOT_SUPPORTED,
                 "op %u WRITE only", ops[k]);
    cr_assert_eq(zx_vmo_op_range(none, ops[k], 0, PG, &ls, sizeof(ls)), ZX_ERR_ACCESS_DENIED,
                 "op %u without READ and WRITE", ops[k]);
  }
  expect_unchanged(h, &g_before, "LOCK/UNLOCK/TRY_LOCK");
  zx_handle_close(ro);
  zx_handle_close(wo);
  zx_handle_close(none);
  zx_handle_close(h);
}

// ---- properties ----------------------------------------------------------------------

Test(vmo_errors, content_size_property_errors) {
  zx_handle_t h = mk_filled(2, 0);
  zx_handle_t nsp = dup(h, ZX_DEFAULT_VMO_RIGHTS & ~ZX_RIGHT_SET_PROPERTY);
  zx_handle_t ngp = dup(h, ZX_DEFAULT_VMO_RIGHTS & ~ZX_RIGHT_GET_PROPERTY);
  zx_handle_t e = mkevent();
  snap_take(h, &g_before);
  uint32_t small = 5;
  uint64_t v = 1;
  cr_assert_eq(zx_object_set_property(h, ZX_PROP_VMO_CONTENT_SIZE, &small, sizeof(small)),
               ZX_ERR_BUFFER_TOO_SMALL);
  cr_assert_eq(zx_object_get_property(h, ZX_PROP_VMO_CONTENT_SIZE, &small, sizeof(small)),
               ZX_ERR_BUFFER_TOO_SMALL);
  cr_assert_eq(zx_object_set_property(nsp, ZX_PROP_VMO_CONTENT_SIZE, &v, sizeof(v)),
               ZX_ERR_ACCESS_DENIED);
  cr_assert_eq(zx_object_get_property(ngp, ZX_PROP_VMO_CONTENT_SIZE, &v, sizeof(v)),
               ZX_ERR_ACCESS_DENIED);
  cr_assert_eq(v, 1);
  cr_assert_eq(zx_object_get_property(e, ZX_PROP_VMO_CONTENT_SIZE, &v, sizeof(v)),
               ZX_ERR_ACCESS_DENIED, "events lack GET_PROPERTY");
  expect_unchanged(h, &g_before, "content size property errors");
  zx_handle_close(e);
  zx_handle_close(nsp);
  zx_handle_close(ngp);
  zx_handle_close(h);
}

Test(vmo_errors, get_info_errors) {
  zx_handle_t h = mk_filled(1, 0);
  zx_info_vmo_t info;
  cr_assert_eq(zx_object_get_info(h, ZX_INFO_VMO, &info, sizeof(info) - 1, NULL, NULL),
               ZX_ERR_BUFFER_TOO_SMALL);
  cr_assert_eq(zx_object_get_info(h, ZX_INFO_VMO, &info, sizeof(zx_info_vmo_v1_t) - 1, NULL, NULL),
               ZX_ERR_BUFFER_TOO_SMALL);
  zx_handle_close(h);
  cr_assert_eq(zx_object_get_info(h, ZX_INFO_VMO, &info, sizeof(info), NULL, NULL),
               ZX_ERR_BAD_HANDLE);
}
