// SPDX-License-Identifier: BSD-3-Clause
// ZX_INFO_VMO's attribution walk and cache (vmo_attribution.c), white-box: the
// figures of every VMO equal a naive recomputation from the definition (info_ref.h)
// in the shapes the walk treats specially (one shared subtree, divergent paths, map
// roots of different heights, pages seen through a backing under a shared subtree,
// zero markers, dead roots kept for slices, windows far up the index space), and in
// random families; one walk serves every member until the family changes; running out
// of memory fails the query cleanly.
#include <criterion/criterion.h>
#include <stdlib.h>
#include <zircon/syscalls.h>

#include "child_helpers.h"
#include "info_ref.h"
#include "os.h"
#include "vmo_attribution.h"

#define P PAGE_SIZE
#define FAN ((uint64_t)PMAP_FANOUT)

// A VMO of `pages` pages, all written.
static zx_handle_t filled(uint64_t pages, uint32_t options) {
  zx_handle_t h = mkvmo_opts(pages * P, options);
  uint8_t* buf = malloc(64 * P);
  cr_assert_not_null(buf);
  memset(buf, 0x5a, 64 * P);
  for (uint64_t i = 0; i < pages; i += 64) {
    uint64_t n = pages - i < 64 ? pages - i : 64;
    cr_assert_eq(zx_vmo_write(h, buf, i * P, n * P), ZX_OK);
  }
  free(buf);
  return h;
}

static void expect_figures(zx_handle_t h, uint64_t committed, uint64_t priv, uint64_t scaled,
                           const char* what) {
  zx_info_vmo_t i = vmo_info(h);
  cr_assert_eq(i.committed_bytes, committed, "%s: committed %llu, want %llu", what,
               (unsigned long long)i.committed_bytes, (unsigned long long)committed);
  cr_assert_eq(i.committed_private_bytes, priv, "%s: private %llu, want %llu", what,
               (unsigned long long)i.committed_private_bytes, (unsigned long long)priv);
  cr_assert_eq(i.committed_scaled_bytes, scaled, "%s: scaled %llu, want %llu", what,
               (unsigned long long)i.committed_scaled_bytes, (unsigned long long)scaled);
  ref_check(h, what);
}

// Scaled bytes of k pages each seen by n VMOs (docs/behavior.md §10: the fractions of
// whole pages carry into bytes).
static uint64_t sc(uint64_t k, uint64_t n) {
  uint64_t frac = (uint64_t)(((unsigned __int128)(P % n) << 63) / n);
  return k * (P / n) + (uint64_t)(((unsigned __int128)frac * k) >> 63);
}

// The walk count, through the test seam.
static unsigned g_walks;
static void count_walk(vmo_t* v) {
  (void)v;
  g_walks++;
}

// A family whose two maps share one root: the walk stops at once, and after a write
// descends only the copied path. Sizes span three levels of the tree.
Test(info, one_snapshot_shared_subtree) {
  const uint64_t n = FAN * FAN + 5;
  zx_handle_t p = filled(n, 0);
  zx_handle_t s = mkchild(p, SNAP, 0, n * P);
  expect_figures(p, n * P, 0, n * P / 2, "parent, untouched snapshot");
  expect_figures(s, n * P, 0, n * P / 2, "untouched snapshot");
  fill_page(p, 3, 1);
  expect_figures(p, n * P, P, (n - 1) * P / 2 + P, "parent after one write");
  expect_figures(s, n * P, P, (n - 1) * P / 2 + P, "snapshot after parent's write");
  fill_page(s, FAN * FAN + 1, 2);  // the other subtree of the root
  fill_page(s, 3, 3);              // the same page: still one private copy each
  expect_figures(p, n * P, 2 * P, (n - 2) * P / 2 + 2 * P, "parent after three writes");
  expect_figures(s, n * P, 2 * P, (n - 2) * P / 2 + 2 * P, "snapshot after three writes");
  close_h(s);
  expect_figures(p, n * P, n * P, n * P, "parent alone");
  close_h(p);
  expect_clean();
}

// Many snapshots of one page set, some diverged: positions with more distinct nodes
// than are told apart by pointer.
Test(info, many_snapshots) {
  const uint64_t n = 3 * FAN + 7;
  zx_handle_t p = filled(n, 0);
  zx_handle_t s[20];
  for (int k = 0; k < 20; k++) {
    s[k] = mkchild(k % 3 == 2 ? s[k - 1] : p, SNAP, 0, n * P);
    if (k % 2) fill_page(s[k], (uint64_t)k * 7 % n, (uint8_t)k);
  }
  ref_check(p, "parent");
  for (int k = 0; k < 20; k++) ref_check(s[k], "snapshot");
  for (int k = 0; k < 20; k++) close_h(s[k]);
  close_h(p);
  expect_clean();
}

// Many distinct nodes at one position (walked node by node rather than slot by slot),
// with pages seen through backings and roots of several heights among them.
Test(info, wide_family) {
  const uint64_t n = 2 * FAN + 3;
  zx_handle_t p = filled(n, 0);
  zx_handle_t h[40];
  size_t nh = 0;
  for (int k = 0; k < 12; k++) {
    h[nh] = mkchild(p, SNAP | RESZ, 0, n * P);
    if (k % 3) fill_page(h[nh], (uint64_t)k * 11 % n, (uint8_t)k);
    nh++;
  }
  for (int k = 0; k < 12; k++) {
    h[nh] = mkclone(k % 2 ? p : h[k], CLONE_COW, (uint64_t)k * P, FAN * P);
    if (k % 3 == 1) fill_page(h[nh], (uint64_t)k, (uint8_t)k);
    if (k % 4 == 2) {
      cr_assert_eq(zx_vmo_op_range(h[nh], ZX_VMO_OP_ZERO, 3 * P, 5 * P, NULL, 0), ZX_OK);
    }
    nh++;
  }
  // Two roots grown taller than the rest, and one kept small.
  cr_assert_eq(zx_vmo_set_size(h[0], (FAN * FAN + 9) * P), ZX_OK);
  fill_page(h[0], FAN * FAN + 8, 1);
  cr_assert_eq(zx_vmo_set_size(h[1], (FAN * FAN * FAN + 2) * P), ZX_OK);
  fill_page(h[1], FAN * FAN * FAN + 1, 2);
  cr_assert_eq(zx_vmo_set_size(h[2], 2 * P), ZX_OK);
  ref_check(p, "parent of a wide family");
  for (size_t k = 0; k < nh; k++) ref_check(h[k], "member of a wide family");
  for (size_t k = 0; k < nh; k += 2) close_h(h[k]);
  ref_check(p, "parent after half the family closed");
  for (size_t k = 1; k < nh; k += 2) ref_check(h[k], "survivor");
  for (size_t k = 1; k < nh; k += 2) close_h(h[k]);
  close_h(p);
  expect_clean();
}

// Map roots at different levels: a snapshot's root is a node deep inside the
// parent's grown tree, met only by going down slot 0.
Test(info, roots_of_different_heights) {
  zx_handle_t p = mkvmo_opts(2 * P, ZX_VMO_RESIZABLE);
  fill_page(p, 0, 1);
  fill_page(p, 1, 2);
  zx_handle_t s = mkchild(p, SNAP | RESZ, 0, 2 * P);  // shares p's leaf, a level-0 root
  uint64_t far = FAN * FAN * FAN + 3;  // p's root grows to level 3
  cr_assert_eq(zx_vmo_set_size(p, (far + 1) * P), ZX_OK);
  fill_page(p, far, 3);
  expect_figures(p, 3 * P, P, P + P, "grown parent");
  expect_figures(s, 2 * P, 0, P, "snapshot with a leaf root");
  zx_handle_t s2 = mkchild(p, SNAP, 0, (far + 1) * P);  // shares the tall root
  ref_check(p, "parent, two snapshots");
  ref_check(s, "leaf-root snapshot, two snapshots");
  ref_check(s2, "tall snapshot");
  fill_page(s, 0, 4);
  ref_check(p, "parent after the leaf-root snapshot wrote");
  ref_check(s, "leaf-root snapshot after its write");
  ref_check(s2, "tall snapshot after the leaf-root snapshot wrote");
  close_h(s2);
  close_h(s);
  close_h(p);
  expect_clean();
}

// Pages seen through a backing inside a subtree otherwise shared whole: those
// positions cannot be cut short.
Test(info, one_way_view_under_shared_subtree) {
  const uint64_t n = 2 * FAN + 9;
  zx_handle_t p = filled(n, 0);
  zx_handle_t s = mkchild(p, SNAP, 0, n * P);
  zx_handle_t c = mkclone(p, CLONE_COW, 10 * P, 20 * P);  // sees p's pages 10..29
  // Pages 10..29 are seen by p, s and c; the others by p and s.
  uint64_t scaled = sc(n - 20, 2) + sc(20, 3);
  expect_figures(p, n * P, 0, scaled, "parent");
  expect_figures(s, n * P, 0, scaled, "snapshot");
  expect_figures(c, 20 * P, 0, sc(20, 3), "clone");
  fill_page(c, 0, 7);  // c's own page 10 now; p and s share their page 10 by two
  ref_check(p, "parent after the clone wrote");
  ref_check(s, "snapshot after the clone wrote");
  ref_check(c, "clone after writing");
  zx_handle_t cc = mkchild(c, ALOW, 0, 20 * P);  // one-way child of a one-way VMO
  ref_check(cc, "clone of clone");
  ref_check(p, "parent with a chain");
  close_h(cc);
  close_h(c);
  close_h(s);
  close_h(p);
  expect_clean();
}

// Zero markers hide pages without being pages.
Test(info, markers_are_not_pages) {
  const uint64_t n = FAN + 10;
  zx_handle_t p = filled(n, 0);
  zx_handle_t c = mkclone(p, CLONE_COW, 0, n * P);
  cr_assert_eq(zx_vmo_op_range(c, ZX_VMO_OP_ZERO, 5 * P, FAN * P, NULL, 0), ZX_OK);
  expect_figures(c, 10 * P, 0, 10 * (P / 2), "clone with a zeroed range");
  zx_handle_t cc = mkchild(c, ALOW, 0, n * P);
  ref_check(c, "clone under a one-way child");
  ref_check(cc, "one-way child of the zeroed clone");
  close_h(p);  // c takes over what it saw, markers stay
  ref_check(c, "clone after its backing died");
  ref_check(cc, "grandchild after the backing died");
  zx_handle_t s = mkchild(cc, ALOW, 0, n * P);
  ref_check(s, "one-way child made after");
  close_h(s);
  close_h(cc);
  close_h(c);
  expect_clean();
}

// A dead root kept for its slices is a sharer of what they window, and counts its
// one-way view only through them.
Test(info, dead_root_kept_for_slices) {
  const uint64_t n = 2 * FAN;
  zx_handle_t p = filled(n, 0);
  zx_handle_t c = mkclone(p, CLONE_COW | CLONE_NR, 0, n * P);
  zx_handle_t sl = mkchild(c, SLICE, 10 * P, FAN * P);
  zx_handle_t s = mkchild(p, SNAP, 0, n * P);
  fill_page(c, 12, 9);
  close_h(c);  // dead, kept for sl: it sees p only through sl's window
  ref_check(p, "parent of a dead clone kept for a slice");
  ref_check(s, "snapshot");
  expect_figures(sl, 0, 0, 0, "slice");
  close_h(sl);
  ref_check(p, "parent once the slice is gone");
  expect_figures(s, n * P, 0, n * P / 2, "snapshot once the slice is gone");
  close_h(s);
  close_h(p);
  expect_clean();
}

// Windows far up the index space: trees of many levels, mostly slot 0 empty.
Test(info, far_windows) {
  zx_handle_t p = mkvmo(4 * P);
  fill_page(p, 1, 1);
  uint64_t off = (UINT64_MAX / P - 64) * P;
  zx_handle_t c = ZX_HANDLE_INVALID;
  zx_status_t st = zx_vmo_clone(p, CLONE_COW, off, 16 * P, &c);
  cr_assert(st == ZX_OK || st == ZX_ERR_INVALID_ARGS, "clone = %d", st);
  if (st != ZX_OK) c = mkclone(p, CLONE_COW, (uint64_t)1 << 50, 16 * P);
  fill_page(c, 3, 2);
  fill_page(c, 15, 3);
  zx_handle_t s = mkchild(c, ALOW, 0, 16 * P);
  ref_check(p, "parent");
  ref_check(c, "far clone");
  ref_check(s, "child of the far clone");
  close_h(s);
  close_h(c);
  close_h(p);
  expect_clean();
}

// One walk computes every member's figures; they stay until the family changes.
Test(info, one_walk_serves_the_family) {
  zx_handle_t p = filled(100, 0);
  zx_handle_t s = mkchild(p, SNAP, 0, 100 * P);
  zx_handle_t c = mkclone(p, CLONE_COW, 0, 50 * P);
  g_walks = 0;
  vmo_attr_walk_hook = count_walk;
  ref_check(p, "parent");
  cr_assert_eq(g_walks, 1);
  ref_check(s, "snapshot");
  ref_check(c, "clone");
  ref_check(p, "parent again");
  cr_assert_eq(g_walks, 1, "%u walks for one family state", g_walks);
  fill_page(s, 4, 4);
  ref_check(c, "clone after a write");
  ref_check(p, "parent after a write");
  cr_assert_eq(g_walks, 2, "%u walks", g_walks);
  // An operation that fails still changes the generation: the cache is only ever
  // too cautious.
  cr_assert_eq(zx_vmo_write(s, "x", 200 * P, 1), ZX_ERR_OUT_OF_RANGE);
  ref_check(s, "snapshot after a failed write");
  cr_assert_eq(g_walks, 3, "%u walks", g_walks);
  vmo_attr_walk_hook = NULL;
  close_h(c);
  close_h(s);
  close_h(p);
  expect_clean();
}

// Every allocation of a walk may fail: the query returns ZX_ERR_NO_MEMORY and
// leaves nothing behind that a later query would trust.
Test(info, out_of_memory) {
  zx_handle_t p = filled(3 * FAN, 0);
  zx_handle_t s = mkchild(p, SNAP, 0, 3 * FAN * P);
  zx_handle_t c = mkclone(p, CLONE_COW, 0, 2 * FAN * P);
  fill_page(c, 5, 5);
  fill_page(p, FAN + 1, 6);
  bool succeeded = false;
  for (uint64_t nth = 1; nth < 200 && !succeeded; nth++) {
    cr_assert_eq(zx_vmo_write(p, "", 0, 0), ZX_OK);  // a new generation: the cache is cold
    zx_info_vmo_t i;
    os_fail_alloc(nth, true);
    zx_status_t st = zx_object_get_info(s, ZX_INFO_VMO, &i, sizeof(i), NULL, NULL);
    os_fail_alloc(0, false);
    cr_assert(st == ZX_OK || st == ZX_ERR_NO_MEMORY, "allocation %llu: %d",
              (unsigned long long)nth, st);
    succeeded = st == ZX_OK;
    ref_check(p, "parent after a failed query");
    ref_check(c, "clone after a failed query");
  }
  cr_assert(succeeded);
  close_h(c);
  close_h(s);
  close_h(p);
  expect_clean();
}

// ---- Random families against the reference ----

#define MAXH 16

typedef struct world {
  zx_handle_t h[MAXH];
  size_t n;
  uint64_t rng;
} world_t;

static uint64_t rnd(world_t* w, uint64_t n) {
  w->rng = w->rng * 6364136223846793005ull + 1442695040888963407ull;
  return (w->rng >> 33) % n;
}

static void remove_at(world_t* w, size_t i) {
  close_h(w->h[i]);
  w->h[i] = w->h[--w->n];
}

// Sizes up to a few leaves, offsets up to a few thousand pages, and sometimes far
// up the index space: trees of one to several levels, shared and divergent.
static uint64_t rnd_pages(world_t* w) {
  switch (rnd(w, 4)) {
    case 0: return rnd(w, 8);
    case 1: return rnd(w, 3 * FAN);
    case 2: return FAN * rnd(w, 3) + rnd(w, 4);
    default: return rnd(w, 2 * FAN * FAN + 1);
  }
}

static void random_family(uint64_t seed) {
  world_t w;
  memset(&w, 0, sizeof(w));
  w.rng = seed;
  w.h[w.n++] = mkvmo_opts(3 * FAN * P, ZX_VMO_RESIZABLE);
  w.h[w.n++] = mkvmo(2 * FAN * P);
  for (int step = 0; step < 150; step++) {
    size_t i = rnd(&w, w.n);
    zx_handle_t h = w.h[i];
    uint64_t size = 0;
    cr_assert_eq(zx_vmo_get_size(h, &size), ZX_OK);
    uint64_t pages = size / P;
    switch (rnd(&w, 8)) {
      case 0:
      case 1:
      case 2:  // write a run of pages
        if (pages) {
          uint64_t k = rnd(&w, pages);
          uint64_t len = 1 + rnd(&w, FAN + 2);
          for (uint64_t j = k; j < pages && j < k + len; j++) fill_page(h, j, (uint8_t)step);
        }
        break;
      case 3:
      case 4: {  // a child
        if (w.n >= MAXH) break;
        uint64_t off = rnd(&w, 8) == 0 ? ((uint64_t)1 << (40 + rnd(&w, 12))) * P
                                       : rnd(&w, pages + 1) * P;
        uint64_t len = rnd_pages(&w) * P;
        zx_handle_t c = ZX_HANDLE_INVALID;
        zx_status_t st;
        switch (rnd(&w, 4)) {
          case 0: st = zx_vmo_create_child(h, SNAP | RESZ, off, len, &c); break;
          case 1: st = zx_vmo_clone(h, CLONE_COW, off, len, &c); break;
          case 2: st = zx_vmo_create_child(h, ALOW | RESZ, off, len, &c); break;
          default: st = zx_vmo_create_child(h, SLICE, off, len, &c); break;
        }
        if (st == ZX_OK) w.h[w.n++] = c;
        break;
      }
      case 5:  // close
        if (w.n > 1) remove_at(&w, i);
        break;
      case 6:  // resize
        (void)zx_vmo_set_size(h, rnd_pages(&w) * P);
        break;
      default: {  // zero, commit or decommit a range
        if (pages == 0) break;
        uint64_t k = rnd(&w, pages);
        uint64_t len = 1 + rnd(&w, pages - k);
        uint32_t ops[] = {ZX_VMO_OP_ZERO, ZX_VMO_OP_COMMIT, ZX_VMO_OP_DECOMMIT};
        (void)zx_vmo_op_range(h, ops[rnd(&w, 3)], k * P, len * P, NULL, 0);
        break;
      }
    }
    for (size_t j = 0; j < w.n; j++) ref_check(w.h[(j + step) % w.n], "random family");
  }
  while (w.n > 0) remove_at(&w, w.n - 1);
  expect_clean();
}

Test(info, random_families_match_reference, .timeout = 600) {
  for (uint64_t seed = 1; seed <= 6; seed++) random_family(seed * 0x9E3779B97F4A7C15ull);
}
