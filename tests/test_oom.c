// SPDX-License-Identifier: BSD-3-Clause
// Out of memory (docs/behavior.md D8): under a page budget, operations that need pages fail
// with ZX_ERR_NO_MEMORY and change nothing; freeing pages makes room again.
// Criterion runs each test in its own process, so budgets do not leak between tests;
// each test still restores an unlimited budget at its end.
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <zircon/syscalls.h>

#include "helpers.h"

static zx_handle_t mkvmo_opts(uint64_t size, uint32_t opts) {
  zx_handle_t h = ZX_HANDLE_INVALID;
  cr_assert_eq(zx_vmo_create(size, opts, &h), ZX_OK);
  return h;
}

static void fill(zx_handle_t h, uint64_t off, uint64_t len, uint8_t v) {
  uint8_t* b = malloc(len ? len : 1);
  cr_assert_not_null(b);
  memset(b, v, len);
  cr_assert_eq(zx_vmo_write(h, b, off, len), ZX_OK);
  free(b);
}

static void expect_fill(zx_handle_t h, uint64_t off, uint64_t len, uint8_t v) {
  uint8_t* b = malloc(len ? len : 1);
  cr_assert_not_null(b);
  memset(b, (uint8_t)~v, len);
  cr_assert_eq(zx_vmo_read(h, b, off, len), ZX_OK);
  for (uint64_t i = 0; i < len; i++) {
    if (b[i] != v) cr_assert_eq(b[i], v, "byte at %#llx", (unsigned long long)(off + i));
  }
  free(b);
}

static void budget(uint64_t pages) { cr_assert_eq(zxvmo_set_page_budget(pages), ZX_OK); }

static uint64_t get_size(zx_handle_t h) {
  uint64_t s = 0;
  cr_assert_eq(zx_vmo_get_size(h, &s), ZX_OK);
  return s;
}

static uint64_t content_size(zx_handle_t h) {
  uint64_t s = 0;
  cr_assert_eq(zx_object_get_property(h, ZX_PROP_VMO_CONTENT_SIZE, &s, sizeof(s)), ZX_OK);
  return s;
}

static zx_status_t op(zx_handle_t h, uint32_t o, uint64_t off, uint64_t len) {
  return zx_vmo_op_range(h, o, off, len, NULL, 0);
}

// ---- the budget itself ----------------------------------------------------------

Test(oom, budget_reported_in_stats) {
  zxvmo_stats_t s;
  budget(7);
  cr_assert_eq(zxvmo_get_stats(&s), ZX_OK);
  cr_assert_eq(s.page_budget, 7);
  budget(0);
  cr_assert_eq(zxvmo_get_stats(&s), ZX_OK);
  cr_assert_eq(s.page_budget, 0);
}

// ---- writes -----------------------------------------------------------------------

Test(oom, write_beyond_budget) {
  uint64_t base = pages_in_use();
  budget(base + 2);
  zx_handle_t h = mkvmo(4 * PG);
  fill(h, 0, PG, 0x11);
  fill(h, PG, PG, 0x22);
  cr_assert_eq(pages_in_use(), base + 2);
  uint8_t b[1] = {0x33};
  cr_assert_eq(zx_vmo_write(h, b, 2 * PG, 1), ZX_ERR_NO_MEMORY);
  cr_assert_eq(zx_vmo_write(h, b, 4 * PG - 1, 1), ZX_ERR_NO_MEMORY);
  cr_assert_eq(pages_in_use(), base + 2);
  expect_fill(h, 0, PG, 0x11);
  expect_fill(h, PG, PG, 0x22);
  expect_fill(h, 2 * PG, 2 * PG, 0);
  // Pages already owned can still be written; zero-length writes need nothing.
  fill(h, 10, PG - 20, 0x44);
  cr_assert_eq(zx_vmo_write(h, b, 3 * PG, 0), ZX_OK);
  cr_assert_eq(pages_in_use(), base + 2);
  expect_fill(h, 10, PG - 20, 0x44);
  zx_handle_close(h);
  budget(0);
}

Test(oom, multi_page_write_lands_nothing) {
  uint64_t base = pages_in_use();
  budget(base + 2);
  zx_handle_t h = mkvmo(4 * PG);
  uint8_t* buf = malloc(4 * PG);
  cr_assert_not_null(buf);
  memset(buf, 0x5A, 4 * PG);
  // Touches three pages; two would fit.
  cr_assert_eq(zx_vmo_write(h, buf, 100, 2 * PG + 200), ZX_ERR_NO_MEMORY);
  cr_assert_eq(pages_in_use(), base);
  expect_fill(h, 0, 4 * PG, 0);
  cr_assert_eq(zx_vmo_write(h, buf, 0, 4 * PG), ZX_ERR_NO_MEMORY);
  cr_assert_eq(pages_in_use(), base);
  expect_fill(h, 0, 4 * PG, 0);
  // With page 0 owned, a write over pages 0..2 needs two more pages: one fits, so
  // it fails, and page 0 keeps its old bytes.
  budget(base + 2);
  fill(h, 0, PG, 0x11);
  budget(base + 2);
  cr_assert_eq(zx_vmo_write(h, buf, 0, 3 * PG), ZX_ERR_NO_MEMORY);
  cr_assert_eq(pages_in_use(), base + 1);
  expect_fill(h, 0, PG, 0x11);
  expect_fill(h, PG, 3 * PG, 0);
  // Exactly enough room: it succeeds.
  cr_assert_eq(zx_vmo_write(h, buf, PG - 1, 2), ZX_OK);
  cr_assert_eq(pages_in_use(), base + 2);
  free(buf);
  zx_handle_close(h);
  budget(0);
}

Test(oom, budget_shared_across_vmos) {
  uint64_t base = pages_in_use();
  budget(base + 3);
  zx_handle_t a = mkvmo(4 * PG), b = mkvmo(4 * PG);
  fill(a, 0, 2 * PG, 1);
  fill(b, 0, PG, 2);
  uint8_t x = 9;
  cr_assert_eq(zx_vmo_write(b, &x, PG, 1), ZX_ERR_NO_MEMORY);
  cr_assert_eq(zx_vmo_write(a, &x, 3 * PG, 1), ZX_ERR_NO_MEMORY);
  // Closing one VMO frees its pages for the other.
  cr_assert_eq(zx_handle_close(a), ZX_OK);
  cr_assert_eq(pages_in_use(), base + 1);
  fill(b, PG, 2 * PG, 3);
  cr_assert_eq(pages_in_use(), base + 3);
  cr_assert_eq(zx_vmo_write(b, &x, 3 * PG, 1), ZX_ERR_NO_MEMORY);
  expect_fill(b, 0, PG, 2);
  expect_fill(b, PG, 2 * PG, 3);
  expect_fill(b, 3 * PG, PG, 0);
  zx_handle_close(b);
  budget(0);
}

// ---- COMMIT -------------------------------------------------------------------------

Test(oom, commit_beyond_budget) {
  uint64_t base = pages_in_use();
  budget(base + 3);
  zx_handle_t h = mkvmo(4 * PG);
  fill(h, PG, PG, 0x21);
  cr_assert_eq(op(h, ZX_VMO_OP_COMMIT, 0, 4 * PG), ZX_ERR_NO_MEMORY);
  cr_assert_eq(pages_in_use(), base + 1, "a failed COMMIT commits nothing");
  cr_assert_eq(vmo_info(h).committed_bytes, PG);
  expect_fill(h, 0, PG, 0);
  expect_fill(h, PG, PG, 0x21);
  expect_fill(h, 2 * PG, 2 * PG, 0);
  cr_assert_eq(op(h, ZX_VMO_OP_COMMIT, 0, 3 * PG), ZX_OK);
  cr_assert_eq(pages_in_use(), base + 3);
  cr_assert_eq(op(h, ZX_VMO_OP_COMMIT, 0, 4 * PG), ZX_ERR_NO_MEMORY);
  cr_assert_eq(op(h, ZX_VMO_OP_COMMIT, 3 * PG, 1), ZX_ERR_NO_MEMORY);
  cr_assert_eq(pages_in_use(), base + 3);
  // Committing what is committed needs nothing.
  cr_assert_eq(op(h, ZX_VMO_OP_COMMIT, 0, 3 * PG), ZX_OK);
  expect_fill(h, PG, PG, 0x21);
  zx_handle_close(h);
  budget(0);
}

Test(oom, commit_sizes_under_budget) {
  const uint64_t counts[] = {1, 2, 100};
  // A page held elsewhere, so that a budget of `base + n - 1` is never 0 (unlimited).
  zx_handle_t ballast = mkvmo(PG);
  fill(ballast, 0, PG, 1);
  uint64_t base = pages_in_use();
  cr_assert_geq(base, 1);
  for (size_t k = 0; k < 3; k++) {
    uint64_t n = counts[k];
    budget(base + n - 1);
    zx_handle_t h = mkvmo(n * PG);
    cr_assert_eq(op(h, ZX_VMO_OP_COMMIT, 0, n * PG), ZX_ERR_NO_MEMORY, "%llu pages",
                 (unsigned long long)n);
    cr_assert_eq(pages_in_use(), base);
    budget(base + n);
    cr_assert_eq(op(h, ZX_VMO_OP_COMMIT, 0, n * PG), ZX_OK);
    cr_assert_eq(pages_in_use(), base + n);
    zx_handle_close(h);
    cr_assert_eq(pages_in_use(), base);
  }
  zx_handle_close(ballast);
  budget(0);
}

// ---- ZERO and set_size on a root: exclusively owned pages need no new page ----------

Test(oom, zero_partial_on_root_needs_no_page) {
  uint64_t base = pages_in_use();
  budget(base + 2);
  zx_handle_t h = mkvmo(4 * PG);
  fill(h, 0, 2 * PG, 0x77);
  // Budget full: zeroing parts of owned pages works in place, ranges reading
  // zero need nothing.
  cr_assert_eq(op(h, ZX_VMO_OP_ZERO, 100, 50), ZX_OK);
  cr_assert_eq(op(h, ZX_VMO_OP_ZERO, PG - 10, 20), ZX_OK);
  cr_assert_eq(op(h, ZX_VMO_OP_ZERO, 2 * PG + 5, 100), ZX_OK);
  cr_assert_eq(op(h, ZX_VMO_OP_ZERO, 3 * PG, PG), ZX_OK);
  cr_assert_eq(pages_in_use(), base + 2);
  expect_fill(h, 0, 100, 0x77);
  expect_fill(h, 100, 50, 0);
  expect_fill(h, 150, PG - 160, 0x77);
  expect_fill(h, PG - 10, 20, 0);
  expect_fill(h, PG + 10, PG - 10, 0x77);
  zx_handle_close(h);
  budget(0);
}

Test(oom, set_size_tail_on_root_needs_no_page) {
  uint64_t base = pages_in_use();
  budget(base + 3);
  zx_handle_t h = mkvmo_opts(3 * PG, ZX_VMO_RESIZABLE);
  fill(h, 0, 3 * PG, 0x66);
  cr_assert_eq(zx_vmo_set_size(h, PG + 7), ZX_OK);
  cr_assert_eq(pages_in_use(), base + 2);
  expect_fill(h, 0, PG + 7, 0x66);
  expect_fill(h, PG + 7, PG - 7, 0);
  zx_handle_close(h);
  budget(0);
}

// ---- shared pages (a SNAPSHOT child): partial zeroing and tail zeroing need a copy ----

static zx_handle_t snapshot(zx_handle_t parent, uint64_t size, uint32_t extra) {
  zx_handle_t c = ZX_HANDLE_INVALID;
  cr_assert_eq(zx_vmo_create_child(parent, ZX_VMO_CHILD_SNAPSHOT | extra, 0, size, &c), ZX_OK);
  return c;
}

Test(oom, zero_partial_of_shared_page_beyond_budget) {
  uint64_t base = pages_in_use();
  zx_handle_t p = mkvmo(3 * PG);
  fill(p, 0, 3 * PG, 0xAB);
  zx_handle_t c = snapshot(p, 3 * PG, 0);
  cr_assert_eq(pages_in_use(), base + 3, "the snapshot shares the pages");
  budget(base + 3);
  // Partial zero of a shared, non-zero page needs a private copy.
  cr_assert_eq(op(c, ZX_VMO_OP_ZERO, 100, 200), ZX_ERR_NO_MEMORY);
  cr_assert_eq(op(c, ZX_VMO_OP_ZERO, PG / 2, PG), ZX_ERR_NO_MEMORY);  // two partial pages
  // Two partial pages and a whole one: fails as a whole, the whole page stays too.
  cr_assert_eq(op(c, ZX_VMO_OP_ZERO, PG / 2, 2 * PG), ZX_ERR_NO_MEMORY);
  cr_assert_eq(pages_in_use(), base + 3);
  expect_fill(c, 0, 3 * PG, 0xAB);
  expect_fill(p, 0, 3 * PG, 0xAB);
  cr_assert_eq(content_size(c), 3 * PG);
  // Whole pages are dropped without allocating.
  cr_assert_eq(op(c, ZX_VMO_OP_ZERO, 2 * PG, PG), ZX_OK);
  expect_fill(c, 2 * PG, PG, 0);
  expect_fill(p, 2 * PG, PG, 0xAB);
  cr_assert_eq(pages_in_use(), base + 3);
  // Room for one copy: the partial zero works.
  budget(base + 4);
  cr_assert_eq(op(c, ZX_VMO_OP_ZERO, 100, 200), ZX_OK);
  expect_fill(c, 0, 100, 0xAB);
  expect_fill(c, 100, 200, 0);
  expect_fill(c, 300, PG - 300, 0xAB);
  expect_fill(p, 0, 3 * PG, 0xAB);
  cr_assert_eq(pages_in_use(), base + 4);
  zx_handle_close(c);
  zx_handle_close(p);
  budget(0);
}

Test(oom, write_and_commit_of_shared_page_beyond_budget) {
  uint64_t base = pages_in_use();
  zx_handle_t p = mkvmo(2 * PG);
  fill(p, 0, 2 * PG, 0x31);
  zx_handle_t c = snapshot(p, 2 * PG, 0);
  budget(base + 2);
  uint8_t x = 0x99;
  cr_assert_eq(zx_vmo_write(c, &x, 5, 1), ZX_ERR_NO_MEMORY);
  cr_assert_eq(zx_vmo_write(p, &x, PG + 5, 1), ZX_ERR_NO_MEMORY);
  cr_assert_eq(op(c, ZX_VMO_OP_COMMIT, 0, PG), ZX_ERR_NO_MEMORY);
  cr_assert_eq(pages_in_use(), base + 2);
  expect_fill(c, 0, 2 * PG, 0x31);
  expect_fill(p, 0, 2 * PG, 0x31);
  zx_handle_close(c);
  zx_handle_close(p);
  budget(0);
}

Test(oom, set_size_tail_of_shared_page_beyond_budget) {
  uint64_t base = pages_in_use();
  zx_handle_t p = mkvmo(3 * PG);
  fill(p, 0, 3 * PG, 0xC3);
  zx_handle_t c = snapshot(p, 3 * PG, ZX_VMO_CHILD_RESIZABLE);
  budget(base + 3);
  cr_assert_eq(zx_vmo_set_size(c, PG + 100), ZX_ERR_NO_MEMORY);
  cr_assert_eq(get_size(c), 3 * PG);
  cr_assert_eq(content_size(c), 3 * PG);
  expect_fill(c, 0, 3 * PG, 0xC3);
  expect_fill(p, 0, 3 * PG, 0xC3);
  cr_assert_eq(pages_in_use(), base + 3);
  // An aligned shrink needs no page.
  cr_assert_eq(zx_vmo_set_size(c, 2 * PG), ZX_OK);
  cr_assert_eq(get_size(c), 2 * PG);
  budget(base + 4);
  cr_assert_eq(zx_vmo_set_size(c, PG + 100), ZX_OK);
  cr_assert_eq(get_size(c), 2 * PG);
  expect_fill(c, 0, PG + 100, 0xC3);
  expect_fill(c, PG + 100, PG - 100, 0);
  expect_fill(p, 0, 3 * PG, 0xC3);
  zx_handle_close(c);
  zx_handle_close(p);
  budget(0);
}

// ---- freeing makes room ----------------------------------------------------------------

Test(oom, freeing_makes_room) {
  uint64_t base = pages_in_use();
  budget(base + 4);
  zx_handle_t h = mkvmo_opts(8 * PG, ZX_VMO_RESIZABLE);
  fill(h, 0, 4 * PG, 0x10);
  uint8_t x = 0xEE;
  cr_assert_eq(zx_vmo_write(h, &x, 4 * PG, 1), ZX_ERR_NO_MEMORY);
  // DECOMMIT frees one page.
  cr_assert_eq(op(h, ZX_VMO_OP_DECOMMIT, 0, PG), ZX_OK);
  cr_assert_eq(pages_in_use(), base + 3);
  cr_assert_eq(zx_vmo_write(h, &x, 4 * PG, 1), ZX_OK);
  cr_assert_eq(zx_vmo_write(h, &x, 5 * PG, 1), ZX_ERR_NO_MEMORY);
  // ZERO of a whole page frees it.
  cr_assert_eq(op(h, ZX_VMO_OP_ZERO, PG, PG), ZX_OK);
  cr_assert_eq(zx_vmo_write(h, &x, 5 * PG, 1), ZX_OK);
  cr_assert_eq(zx_vmo_write(h, &x, 6 * PG, 1), ZX_ERR_NO_MEMORY);
  // Shrinking frees pages.
  cr_assert_eq(zx_vmo_set_size(h, 5 * PG), ZX_OK);  // drops page 5
  cr_assert_eq(pages_in_use(), base + 3);
  cr_assert_eq(zx_vmo_set_size(h, 8 * PG), ZX_OK);
  cr_assert_eq(zx_vmo_write(h, &x, 6 * PG, 1), ZX_OK);
  cr_assert_eq(pages_in_use(), base + 4);
  expect_fill(h, 2 * PG, 2 * PG, 0x10);
  cr_assert_eq(zx_vmo_write(h, &x, 7 * PG, 1), ZX_ERR_NO_MEMORY);
  // Raising the budget, or lifting it, makes room too.
  budget(base + 5);
  cr_assert_eq(zx_vmo_write(h, &x, 7 * PG, 1), ZX_OK);
  budget(0);
  cr_assert_eq(op(h, ZX_VMO_OP_COMMIT, 0, 8 * PG), ZX_OK);
  cr_assert_eq(pages_in_use(), base + 8);
  zx_handle_close(h);
}

Test(oom, budget_below_usage) {
  uint64_t base = pages_in_use();
  zx_handle_t h = mkvmo(4 * PG);
  fill(h, 0, 3 * PG, 0x42);
  budget(base + 1);  // allowed even though 3 pages are in use
  uint8_t x = 1;
  cr_assert_eq(zx_vmo_write(h, &x, 3 * PG, 1), ZX_ERR_NO_MEMORY);
  // Existing pages stay usable.
  cr_assert_eq(zx_vmo_write(h, &x, 0, 1), ZX_OK);
  cr_assert_eq(op(h, ZX_VMO_OP_DECOMMIT, PG, PG), ZX_OK);
  cr_assert_eq(pages_in_use(), base + 2);
  cr_assert_eq(zx_vmo_write(h, &x, 3 * PG, 1), ZX_ERR_NO_MEMORY);
  cr_assert_eq(op(h, ZX_VMO_OP_DECOMMIT, 2 * PG, PG), ZX_OK);
  cr_assert_eq(pages_in_use(), base + 1);
  cr_assert_eq(zx_vmo_write(h, &x, 3 * PG, 1), ZX_ERR_NO_MEMORY, "at the budget");
  cr_assert_eq(op(h, ZX_VMO_OP_DECOMMIT, 0, PG), ZX_OK);
  cr_assert_eq(zx_vmo_write(h, &x, 3 * PG, 1), ZX_OK);
  cr_assert_eq(pages_in_use(), base + 1);
  zx_handle_close(h);
  budget(0);
}

Test(oom, failures_keep_invariants) {
  uint64_t base = pages_in_use();
  budget(base + 2);
  zx_handle_t h = mkvmo(8 * PG);
  uint8_t* buf = calloc(1, 8 * PG);
  cr_assert_not_null(buf);
  memset(buf, 3, 8 * PG);
  for (int i = 0; i < 20; i++) {
    (void)zx_vmo_write(h, buf, (uint64_t)(i % 7) * PG + (uint64_t)i, PG + (uint64_t)(i * 97));
    (void)op(h, ZX_VMO_OP_COMMIT, (uint64_t)(i % 5) * PG, 3 * PG);
    if (i % 3 == 0) (void)op(h, ZX_VMO_OP_DECOMMIT, 0, 8 * PG);
    cr_assert_leq(pages_in_use(), base + 2);
    cr_assert_eq(zxvmo_check_invariants(), ZX_OK);
  }
  free(buf);
  zx_handle_close(h);
  cr_assert_eq(pages_in_use(), base);
  budget(0);
}

// ---- ZXVMO_PAGE_BUDGET ------------------------------------------------------------------
// Read once at the library's first use: these tests set it before any VMO call (each
// Criterion test runs in a fresh process).

Test(oom, env_budget) {
  cr_assert_eq(setenv("ZXVMO_PAGE_BUDGET", "3", 1), 0);
  zx_handle_t h = mkvmo(8 * PG);
  zxvmo_stats_t s;
  cr_assert_eq(zxvmo_get_stats(&s), ZX_OK);
  cr_assert_eq(s.page_budget, 3);
  cr_assert_eq(s.pages_in_use, 0);
  fill(h, 0, 3 * PG, 0x17);
  uint8_t x = 1;
  cr_assert_eq(zx_vmo_write(h, &x, 3 * PG, 1), ZX_ERR_NO_MEMORY);
  cr_assert_eq(op(h, ZX_VMO_OP_COMMIT, 0, 8 * PG), ZX_ERR_NO_MEMORY);
  cr_assert_eq(pages_in_use(), 3);
  expect_fill(h, 0, 3 * PG, 0x17);
  expect_fill(h, 3 * PG, 5 * PG, 0);
  // The API overrides it.
  budget(0);
  cr_assert_eq(zx_vmo_write(h, &x, 3 * PG, 1), ZX_OK);
  cr_assert_eq(op(h, ZX_VMO_OP_COMMIT, 0, 8 * PG), ZX_OK);
  cr_assert_eq(pages_in_use(), 8);
  zx_handle_close(h);
}

Test(oom, env_budget_read_once) {
  cr_assert_eq(setenv("ZXVMO_PAGE_BUDGET", "2", 1), 0);
  zx_handle_t h = mkvmo(8 * PG);
  fill(h, 0, PG, 1);  // first allocation: the budget is read now
  cr_assert_eq(setenv("ZXVMO_PAGE_BUDGET", "100", 1), 0);
  fill(h, PG, PG, 2);
  uint8_t x = 1;
  cr_assert_eq(zx_vmo_write(h, &x, 2 * PG, 1), ZX_ERR_NO_MEMORY, "later changes are ignored");
  zxvmo_stats_t s;
  cr_assert_eq(zxvmo_get_stats(&s), ZX_OK);
  cr_assert_eq(s.page_budget, 2);
  zx_handle_close(h);
  budget(0);
}

Test(oom, env_budget_unset_is_unlimited) {
  cr_assert_eq(unsetenv("ZXVMO_PAGE_BUDGET"), 0);
  zx_handle_t h = mkvmo(300 * PG);
  cr_assert_eq(op(h, ZX_VMO_OP_COMMIT, 0, 300 * PG), ZX_OK);
  zxvmo_stats_t s;
  cr_assert_eq(zxvmo_get_stats(&s), ZX_OK);
  cr_assert_eq(s.page_budget, 0);
  cr_assert_eq(s.pages_in_use, 300);
  zx_handle_close(h);
}
