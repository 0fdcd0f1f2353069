// SPDX-License-Identifier: BSD-3-Clause
// No leaks, ever: closing everything frees every page and VMO; a child keeps only the
// pages it still sees; long chains and wide families of 100,000 VMOs work and stay
// fast (each test well under 10 s in a Debug build with the checker).
#include <criterion/criterion.h>
#include <stdlib.h>
#include <zircon/syscalls.h>

#include "child_helpers.h"
#include "helpers.h"

#define N100K 100000u

Test(leaks, closing_everything_frees_everything) {
  uint64_t handles0 = stats().handles_alive;
  zx_handle_t r = mkvmo_filled(8, 0x10);
  zx_handle_t rr = mkvmo_opts(8 * PG, ZX_VMO_RESIZABLE);
  fill_page(rr, 3, 3);
  zx_handle_t s = mkchild(r, SNAP, 0, 8 * PG);
  zx_handle_t a = mkchild(s, ALOW | RESZ, PG, 4 * PG);
  zx_handle_t l = mkclone(rr, CLONE_COW, 0, 8 * PG);
  zx_handle_t ll = mkclone(l, CLONE_COW, 0, 4 * PG);
  zx_handle_t al = mkchild(ll, ALOW, 0, 4 * PG);
  zx_handle_t sl = mkchild(s, SLICE, 2 * PG, 2 * PG);
  zx_handle_t sl2 = mkchild(sl, SLICE, PG, PG);
  fill_page(a, 0, 1);
  fill_page(ll, 1, 2);
  fill_page(al, 2, 3);
  fill_page(sl2, 0, 4);
  fill_page(s, 7, 5);
  cr_assert_eq(zx_vmo_op_range(l, ZX_VMO_OP_COMMIT, 0, 8 * PG, NULL, 0), ZX_OK);
  cr_assert_eq(zx_vmo_set_size(a, 16 * PG), ZX_OK);
  fill_page(a, 15, 6);
  cr_assert(pages_in_use() > 0);
  cr_assert_eq(vmos_alive(), 9);
  // Close in an awkward order: roots first.
  zx_handle_t order[] = {r, rr, s, l, sl, a, ll, al, sl2};
  for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
    close_h(order[i]);
    cr_assert_eq(zxvmo_check_invariants(), ZX_OK, "after closing #%zu", i);
  }
  expect_clean();
  cr_assert_eq(stats().handles_alive, handles0);
}

Test(leaks, closing_in_every_order_small_family) {
  // Every permutation of closing a 4-VMO family of mixed kinds.
  int perm[4] = {0, 1, 2, 3};
  int count = 0;
  for (;;) {
    zx_handle_t h[4];
    h[0] = mkvmo_filled(4, 0x10);
    h[1] = mkchild(h[0], SNAP, 0, 4 * PG);
    h[2] = mkclone(h[1], CLONE_COW | CLONE_NR, PG, 2 * PG);
    h[3] = mkchild(h[2], SLICE, 0, PG);
    fill_page(h[1], 1, 0x21);
    fill_page(h[3], 0, 0x33);
    fill_page(h[0], 2, 0x02);
    for (int i = 0; i < 4; i++) {
      close_h(h[perm[i]]);
      cr_assert_eq(zxvmo_check_invariants(), ZX_OK);
      // Whatever is left still reads what it should.
      for (int j = i + 1; j < 4; j++) {
        int k = perm[j];
        if (k == 3) cr_assert_eq(page_val(h[3], 0), 0x33, "perm %d%d%d%d", perm[0], perm[1], perm[2], perm[3]);
        if (k == 2) cr_assert_eq(page_val(h[2], 1), 0x12, "perm %d%d%d%d", perm[0], perm[1], perm[2], perm[3]);
        if (k == 1) cr_assert_eq(page_val(h[1], 1), 0x21);
        if (k == 0) cr_assert_eq(page_val(h[0], 2), 0x02);
      }
    }
    expect_clean();
    count++;
    // next permutation
    int i = 2;
    while (i >= 0 && perm[i] > perm[i + 1]) i--;
    if (i < 0) break;
    int j = 3;
    while (perm[j] < perm[i]) j--;
    int t = perm[i];
    perm[i] = perm[j];
    perm[j] = t;
    for (int a = i + 1, b = 3; a < b; a++, b--) {
      t = perm[a];
      perm[a] = perm[b];
      perm[b] = t;
    }
  }
  cr_assert_eq(count, 24);
}

static void one_page_survives(uint32_t kind, bool legacy) {
  zx_handle_t p = mkvmo_filled(100, 0);
  cr_assert_eq(pages_in_use(), 100);
  zx_handle_t c = legacy ? mkclone(p, CLONE_COW, 50 * PG, PG) : mkchild(p, kind, 50 * PG, PG);
  close_h(p);
  cr_assert_eq(pages_in_use(), 1, "kind %#x legacy %d: %llu pages held", kind, legacy,
               (unsigned long long)pages_in_use());
  cr_assert_eq(page_val(c, 0), 50);
  cr_assert_eq(zxvmo_check_invariants(), ZX_OK);
  close_h(c);
  expect_clean();
}

Test(leaks, child_keeps_only_the_page_it_sees) {
  one_page_survives(SNAP, false);
  one_page_survives(ALOW, false);
  one_page_survives(SLICE, false);
  one_page_survives(0, true);
}

Test(leaks, grandchild_keeps_only_the_page_it_sees) {
  zx_handle_t p = mkvmo_filled(100, 0);
  zx_handle_t c = mkclone(p, CLONE_COW, 10 * PG, 50 * PG);
  zx_handle_t g = mkclone(c, CLONE_COW, 20 * PG, PG);  // p's page 30
  zx_handle_t s = mkchild(p, SNAP, 0, 100 * PG);
  zx_handle_t ss = mkchild(s, SNAP, 70 * PG, PG);  // p's page 70
  close_h(c);
  close_h(s);
  close_h(p);
  cr_assert_eq(pages_in_use(), 2, "%llu pages held", (unsigned long long)pages_in_use());
  cr_assert_eq(page_val(g, 0), 30);
  cr_assert_eq(page_val(ss, 0), 70);
  close_h(g);
  close_h(ss);
  expect_clean();
}

Test(leaks, failed_creations_leak_nothing) {
  zx_handle_t p = mkvmo_filled(4, 1);
  zx_handle_t s = mkchild(p, SLICE, 0, PG);
  zxvmo_stats_t s0 = stats();
  zx_handle_t out;
  for (int i = 0; i < 1000; i++) {
    cr_assert_eq(zx_vmo_create_child(s, SNAP, 0, PG, &out), ZX_ERR_NOT_SUPPORTED);
    cr_assert_eq(zx_vmo_create_child(p, SLICE, 0, 8 * PG, &out), ZX_ERR_INVALID_ARGS);
    cr_assert_eq(zx_vmo_create_child(p, SNAP, 0, PG, NULL), ZX_ERR_INVALID_ARGS);
    cr_assert_eq(zx_vmo_clone(p, CLONE_COW, 0, PG, NULL), ZX_ERR_INVALID_ARGS);
    cr_assert_eq(zx_vmo_clone(s, CLONE_COW, 0, PG, &out), ZX_ERR_NOT_SUPPORTED);
  }
  zxvmo_stats_t s1 = stats();
  cr_assert_eq(s1.vmos_alive, s0.vmos_alive);
  cr_assert_eq(s1.handles_alive, s0.handles_alive);
  cr_assert_eq(s1.pages_in_use, s0.pages_in_use);
  cr_assert_eq(s1.tree_nodes, s0.tree_nodes);
  close_h(s);
  close_h(p);
  expect_clean();
}

// 100,000 snapshots in a chain, each made from the newest, the previous closed.
Test(leaks, chain_of_100k_snapshots, .timeout = 60) {
  zx_handle_t cur = mkvmo_filled(4, 0x10);
  int want[4] = {0x10, 0x11, 0x12, 0x13};
  for (uint32_t i = 0; i < N100K; i++) {
    zx_handle_t next = mkchild(cur, SNAP, 0, 4 * PG);
    if (i % 997 == 0) {
      // The old one writes (invisible to next), then next writes.
      uint64_t k = (i / 997) % 4;
      fill_page(cur, k, 0xEE);
      fill_page(next, k, (uint8_t)(i / 997));
      want[k] = (uint8_t)(i / 997);
    }
    close_h(cur);
    cur = next;
    if (i % 10000 == 0) {
      cr_assert_eq(pages_in_use(), 4, "step %u: %llu pages", i, (unsigned long long)pages_in_use());
      cr_assert_eq(vmos_alive(), 1);
    }
  }
  cr_assert_eq(pages_in_use(), 4);
  for (int k = 0; k < 4; k++) cr_assert_eq(page_val(cur, k), want[k], "page %d", k);
  zx_info_vmo_t i = vmo_info(cur);
  cr_assert_eq(i.parent_koid, 0);
  cr_assert_eq(i.committed_private_bytes, 4 * PG);
  cr_assert_eq(zxvmo_check_invariants(), ZX_OK);
  close_h(cur);
  expect_clean();
}

// A chain where the parent's window shrinks: only the pages still visible are held.
Test(leaks, chain_of_snapshots_with_shrinking_window, .timeout = 60) {
  zx_handle_t cur = mkvmo_filled(64, 0);
  for (uint32_t i = 0; i < 63; i++) {
    zx_handle_t next = mkchild(cur, SNAP, PG, (63 - i) * PG);
    close_h(cur);
    cur = next;
    cr_assert_eq(pages_in_use(), 63 - i, "step %u", i);
  }
  cr_assert_eq(page_val(cur, 0), 63);
  close_h(cur);
  expect_clean();
}

// 100,000 live snapshots of one VMO.
Test(leaks, wide_100k_live_snapshots, .timeout = 60) {
  zx_handle_t p = mkvmo_filled(1, 0x42);
  zx_handle_t* h = malloc(N100K * sizeof(*h));
  cr_assert_not_null(h);
  for (uint32_t i = 0; i < N100K; i++) h[i] = mkchild(p, SNAP, 0, PG);
  cr_assert_eq(pages_in_use(), 1);
  cr_assert_eq(vmos_alive(), N100K + 1);
  cr_assert_eq(vmo_info(p).num_children, N100K);
  cr_assert_not(zero_children(p));
  // A few write: each gets its own page; the others keep the original.
  for (uint32_t i = 0; i < N100K; i += 10000) fill_page(h[i], 0, (uint8_t)(i / 10000));
  cr_assert_eq(pages_in_use(), 1 + N100K / 10000);
  cr_assert_eq(page_val(h[1], 0), 0x42);
  cr_assert_eq(page_val(h[N100K - 1], 0), 0x42);
  cr_assert_eq(page_val(h[20000], 0), 2);
  close_h(p);
  cr_assert_eq(pages_in_use(), 1 + N100K / 10000);
  cr_assert_eq(page_val(h[5], 0), 0x42);
  cr_assert_eq(zxvmo_check_invariants(), ZX_OK);
  for (uint32_t i = 0; i < N100K; i++) close_h(h[i]);
  free(h);
  expect_clean();
}

// 100,000 live legacy clones of one VMO, closed in reverse.
Test(leaks, wide_100k_live_clones, .timeout = 60) {
  zx_handle_t p = mkvmo_filled(1, 0x42);
  zx_handle_t* h = malloc(N100K * sizeof(*h));
  cr_assert_not_null(h);
  for (uint32_t i = 0; i < N100K; i++) h[i] = mkclone(p, CLONE_COW | CLONE_NR, 0, PG);
  cr_assert_eq(pages_in_use(), 1);
  fill_page(p, 0, 0x43);
  cr_assert_eq(page_val(h[77777], 0), 0x43);
  cr_assert_eq(pages_in_use(), 1);
  for (uint32_t i = N100K; i-- > 0;) close_h(h[i]);
  free(h);
  cr_assert(zero_children(p));
  close_h(p);
  expect_clean();
}

// 100,000 chained legacy clones, intermediates closed.
Test(leaks, chain_of_100k_legacy_clones, .timeout = 60) {
  zx_handle_t root = mkvmo_filled(4, 0x10);
  zx_handle_t cur = mkclone(root, CLONE_COW, 0, 4 * PG);
  int want[4] = {0x10, 0x11, 0x12, 0x13};
  for (uint32_t i = 0; i < N100K; i++) {
    zx_handle_t next = mkclone(cur, CLONE_COW, 0, 4 * PG);
    if (i % 997 == 0) {
      uint64_t k = (i / 997) % 3;  // page 3 keeps following the root
      fill_page(next, k, (uint8_t)(i / 997));
      want[k] = (uint8_t)(i / 997);
    }
    close_h(cur);
    cur = next;
    if (i % 10000 == 0) {
      cr_assert(pages_in_use() <= 7, "step %u: %llu pages", i, (unsigned long long)pages_in_use());
      cr_assert_eq(vmos_alive(), 2);
    }
  }
  // The root still shows through page 3.
  fill_page(root, 3, 0x99);
  want[3] = 0x99;
  for (int k = 0; k < 4; k++) cr_assert_eq(page_val(cur, k), want[k], "page %d", k);
  cr_assert_eq(pages_in_use(), 4 + 3);
  cr_assert_eq(vmo_info(cur).parent_koid, koid_of(root));
  cr_assert_eq(vmo_info(root).num_children, 1);
  close_h(root);
  cr_assert_eq(pages_in_use(), 4);
  for (int k = 0; k < 4; k++) cr_assert_eq(page_val(cur, k), want[k], "page %d", k);
  close_h(cur);
  expect_clean();
}

// The same, with the root closed first: the chain alone holds the pages.
Test(leaks, chain_of_100k_clones_root_closed, .timeout = 60) {
  zx_handle_t cur = mkvmo_filled(2, 0x10);
  for (uint32_t i = 0; i < N100K; i++) {
    zx_handle_t next = mkclone(cur, CLONE_COW, 0, 2 * PG);
    close_h(cur);
    cur = next;
  }
  cr_assert_eq(pages_in_use(), 2);
  cr_assert_eq(vmos_alive(), 1);
  cr_assert_eq(page_val(cur, 1), 0x11);
  close_h(cur);
  expect_clean();
}
