// SPDX-License-Identifier: BSD-3-Clause
// Memory attribution in ZX_INFO_VMO (docs/behavior.md §10): the worked examples exactly,
// slices, legacy clones, closing, and the global identity
//   sum over live VMOs of (committed_scaled_bytes + fractional / 2^63) == pages held.
#include <criterion/criterion.h>
#include <zircon/syscalls.h>

#include "child_helpers.h"
#include "helpers.h"

#define FRAC_ONE ((uint64_t)1 << 63)

// committed_fractional_scaled_bytes of one page shared `n` ways: what is left of
// PG / n, (PG mod n) / n of a byte, in units of 2^-63 byte, rounded down. With 4 KiB
// or 16 KiB pages and n = 3 that is a third of a byte (PG mod 3 == 1).
static uint64_t frac_of(uint64_t n) {
  return (uint64_t)(((unsigned __int128)(PG % n) << 63) / n);
}

static void expect_attr(zx_handle_t h, uint64_t committed, uint64_t priv, uint64_t scaled,
                        uint64_t frac, const char* what) {
  zx_info_vmo_t i = vmo_info(h);
  cr_assert_eq(i.committed_bytes, committed, "%s: committed %llu, want %llu", what,
               (unsigned long long)i.committed_bytes, (unsigned long long)committed);
  cr_assert_eq(i.committed_private_bytes, priv, "%s: private %llu, want %llu", what,
               (unsigned long long)i.committed_private_bytes, (unsigned long long)priv);
  cr_assert_eq(i.committed_scaled_bytes, scaled, "%s: scaled %llu, want %llu", what,
               (unsigned long long)i.committed_scaled_bytes, (unsigned long long)scaled);
  cr_assert_eq(i.committed_fractional_scaled_bytes, frac, "%s: fractional %llu, want %llu", what,
               (unsigned long long)i.committed_fractional_scaled_bytes, (unsigned long long)frac);
  // No compressed or pager pages: populated_* equal committed_*.
  cr_assert_eq(i.populated_bytes, i.committed_bytes, "%s", what);
  cr_assert_eq(i.populated_private_bytes, i.committed_private_bytes, "%s", what);
  cr_assert_eq(i.populated_scaled_bytes, i.committed_scaled_bytes, "%s", what);
  cr_assert_eq(i.populated_fractional_scaled_bytes, i.committed_fractional_scaled_bytes, "%s",
               what);
}

Test(attribution, worked_example_two_pages_and_snapshot) {
  zx_handle_t p = mkvmo_filled(2, 0x10);
  expect_attr(p, 2 * PG, 2 * PG, 2 * PG, 0, "parent alone");
  zx_handle_t c = mkchild(p, SNAP, 0, 2 * PG);
  cr_assert_eq(pages_in_use(), 2);
  expect_attr(p, 2 * PG, 0, PG, 0, "step 1 parent");
  expect_attr(c, 2 * PG, 0, PG, 0, "step 1 child");
  fill_page(p, 0, 0x20);
  cr_assert_eq(pages_in_use(), 3);
  expect_attr(p, 2 * PG, PG, PG + PG / 2, 0, "step 2 parent (wrote page 0)");
  expect_attr(c, 2 * PG, PG, PG + PG / 2, 0, "step 2 child");
  fill_page(c, 1, 0x21);
  cr_assert_eq(pages_in_use(), 4);
  expect_attr(p, 2 * PG, 2 * PG, 2 * PG, 0, "step 3 parent");
  expect_attr(c, 2 * PG, 2 * PG, 2 * PG, 0, "step 3 child (wrote page 1)");
  close_h(c);
  expect_attr(p, 2 * PG, 2 * PG, 2 * PG, 0, "parent after child closed");
  cr_assert_eq(pages_in_use(), 2);
  close_h(p);
  expect_clean();
}

Test(attribution, two_snapshots_of_one_page) {
  zx_handle_t p = mkvmo_filled(1, 0x10);
  zx_handle_t a = mkchild(p, SNAP, 0, PG);
  zx_handle_t b = mkchild(p, SNAP, 0, PG);
  cr_assert_eq(pages_in_use(), 1);
  const uint64_t third = frac_of(3);
  expect_attr(p, PG, 0, PG / 3, third, "parent");
  expect_attr(a, PG, 0, PG / 3, third, "snapshot a");
  expect_attr(b, PG, 0, PG / 3, third, "snapshot b");
  // A snapshot of a snapshot shares the same page four ways.
  zx_handle_t aa = mkchild(a, SNAP, 0, PG);
  expect_attr(p, PG, 0, PG / 4, 0, "parent with four sharers");
  expect_attr(aa, PG, 0, PG / 4, 0, "grandchild");
  close_h(aa);
  // Closing moves nothing: pages stay, shared by fewer.
  close_h(b);
  cr_assert_eq(pages_in_use(), 1);
  expect_attr(p, PG, 0, PG / 2, 0, "parent after closing b");
  expect_attr(a, PG, 0, PG / 2, 0, "a after closing b");
  close_h(p);
  cr_assert_eq(pages_in_use(), 1);
  expect_attr(a, PG, PG, PG, 0, "a alone");
  close_h(a);
  expect_clean();
}

Test(attribution, snapshot_of_window_counts_only_its_pages) {
  zx_handle_t p = mkvmo_filled(4, 0x10);
  zx_handle_t c = mkchild(p, SNAP, PG, 2 * PG);
  expect_attr(p, 4 * PG, 2 * PG, 3 * PG, 0, "parent");
  expect_attr(c, 2 * PG, 0, PG, 0, "child of pages 1..2");
  // A child past the parent's end sees nothing.
  zx_handle_t z = mkchild(p, SNAP, 4 * PG, 2 * PG);
  expect_attr(z, 0, 0, 0, 0, "child past the end");
  close_h(z);
  close_h(c);
  close_h(p);
  expect_clean();
}

Test(attribution, closing_parent_frees_only_its_pages) {
  zx_handle_t p = mkvmo_filled(2, 0x10);
  zx_handle_t c = mkchild(p, SNAP, 0, 2 * PG);
  fill_page(p, 0, 0x20);
  cr_assert_eq(pages_in_use(), 3);
  close_h(p);
  cr_assert_eq(pages_in_use(), 2);
  expect_attr(c, 2 * PG, 2 * PG, 2 * PG, 0, "child after parent closed");
  close_h(c);
  expect_clean();
}

Test(attribution, slices_report_zero) {
  zx_handle_t p = mkvmo_filled(4, 0x10);
  zx_handle_t s = mkchild(p, SLICE, 0, 4 * PG);
  zx_handle_t s2 = mkchild(s, SLICE, PG, PG);
  expect_attr(s, 0, 0, 0, 0, "slice");
  expect_attr(s2, 0, 0, 0, 0, "slice of slice");
  // A slice is not a sharer.
  expect_attr(p, 4 * PG, 4 * PG, 4 * PG, 0, "parent of slices");
  fill_page(s, 2, 0x33);
  expect_attr(p, 4 * PG, 4 * PG, 4 * PG, 0, "parent after a slice write");
  zx_handle_t c = mkchild(p, SNAP, 0, PG);
  expect_attr(p, 4 * PG, 3 * PG, 3 * PG + PG / 2, 0, "parent with slice and snapshot");
  expect_attr(s, 0, 0, 0, 0, "slice");
  close_h(c);
  close_h(s2);
  close_h(s);
  close_h(p);
  expect_clean();
}

Test(attribution, legacy_clone_counts_parent_pages_it_sees) {
  zx_handle_t p = mkvmo_filled(2, 0x10);
  zx_handle_t c = mkclone(p, CLONE_COW, 0, 2 * PG);
  cr_assert_eq(pages_in_use(), 2);
  expect_attr(p, 2 * PG, 0, PG, 0, "parent of clone");
  expect_attr(c, 2 * PG, 0, PG, 0, "unforked clone");
  fill_page(c, 0, 0x20);
  cr_assert_eq(pages_in_use(), 3);
  expect_attr(p, 2 * PG, PG, PG + PG / 2, 0, "parent after clone wrote page 0");
  expect_attr(c, 2 * PG, PG, PG + PG / 2, 0, "clone after writing page 0");
  // A clone of the clone sees c's page 0 and p's page 1.
  zx_handle_t cc = mkclone(c, CLONE_COW, 0, 2 * PG);
  expect_attr(p, 2 * PG, PG, PG + PG / 3, frac_of(3), "parent, page 1 seen thrice");
  expect_attr(c, 2 * PG, 0, PG / 2 + PG / 3, frac_of(3), "clone");
  expect_attr(cc, 2 * PG, 0, PG / 2 + PG / 3, frac_of(3), "clone of clone");
  // Partial clone window.
  zx_handle_t w = mkclone(p, CLONE_COW, PG, 4 * PG);
  expect_attr(w, PG, 0, PG / 4, 0, "clone window over page 1 only");
  close_h(w);
  close_h(cc);
  // Shrinking the parent drops what the clone saw past the cut.
  close_h(c);
  close_h(p);
  expect_clean();
}

Test(attribution, legacy_clone_after_parent_shrink) {
  zx_handle_t p = mkvmo_opts(2 * PG, ZX_VMO_RESIZABLE);
  fill_page(p, 0, 1);
  fill_page(p, 1, 2);
  zx_handle_t c = mkclone(p, CLONE_COW, 0, 2 * PG);
  cr_assert_eq(zx_vmo_set_size(p, PG), ZX_OK);
  expect_attr(c, PG, 0, PG / 2, 0, "clone after parent shrink");
  expect_attr(p, PG, 0, PG / 2, 0, "shrunk parent");
  cr_assert_eq(pages_in_use(), 1);
  close_h(c);
  close_h(p);
  expect_clean();
}

// ---- The global identity ----

#define MAXH 24

typedef struct world {
  zx_handle_t h[MAXH];
  bool is_slice[MAXH];
  size_t n;
  uint64_t rng;
} world_t;

static uint64_t rnd(world_t* w, uint64_t n) {
  w->rng = w->rng * 6364136223846793005ull + 1442695040888963407ull;
  return (w->rng >> 33) % n;
}

static void check_identity(world_t* w, const char* what, int step) {
  unsigned __int128 total = 0;
  for (size_t i = 0; i < w->n; i++) {
    zx_info_vmo_t info = vmo_info(w->h[i]);
    cr_assert(info.committed_private_bytes <= info.committed_bytes);
    cr_assert(info.committed_scaled_bytes <= info.committed_bytes);
    cr_assert(info.committed_scaled_bytes >= info.committed_private_bytes);
    cr_assert(info.committed_fractional_scaled_bytes < FRAC_ONE);
    if (w->is_slice[i]) {
      cr_assert_eq(info.committed_bytes, 0, "%s step %d: slice reports bytes", what, step);
    }
    total += (unsigned __int128)info.committed_scaled_bytes * FRAC_ONE +
             info.committed_fractional_scaled_bytes;
  }
  // Fractions are truncated per page: round to the nearest byte.
  uint64_t bytes = (uint64_t)((total + FRAC_ONE / 2) / FRAC_ONE);
  uint64_t held = pages_in_use() * PG;
  cr_assert_eq(bytes, held, "%s step %d: sum of scaled bytes %llu, pages held %llu bytes", what,
               step, (unsigned long long)bytes, (unsigned long long)held);
  cr_assert_eq(zxvmo_check_invariants(), ZX_OK, "%s step %d", what, step);
}

static void add(world_t* w, zx_handle_t h, bool slice) {
  w->h[w->n] = h;
  w->is_slice[w->n] = slice;
  w->n++;
}

static void remove_at(world_t* w, size_t i) {
  close_h(w->h[i]);
  w->h[i] = w->h[w->n - 1];
  w->is_slice[i] = w->is_slice[w->n - 1];
  w->n--;
}

// mode 0: snapshots only; 1: legacy clones and one-way children; 2: everything, but
// VMOs are never closed while they have slices (a dead VMO kept for its slices holds
// pages that no live VMO reports).
static void scenario(uint64_t seed, int mode, const char* what) {
  world_t w;
  memset(&w, 0, sizeof(w));
  w.rng = seed;
  add(&w, mkvmo_opts(8 * PG, ZX_VMO_RESIZABLE), false);
  add(&w, mkvmo(6 * PG), false);
  for (int step = 0; step < 400; step++) {
    size_t i = rnd(&w, w.n);
    zx_handle_t h = w.h[i];
    uint64_t size = vmo_size(h);
    uint64_t pages = size / PG;
    switch (rnd(&w, 9)) {
      case 0:
      case 1:
      case 2: {  // write a page
        if (pages) {
          uint8_t v = (uint8_t)rnd(&w, 256);
          fill_page(h, rnd(&w, pages), v);
        }
        break;
      }
      case 3:
      case 4: {  // make a child
        if (w.n >= MAXH) break;
        uint64_t off = rnd(&w, pages + 1) * PG;
        uint64_t len = rnd(&w, 6) * PG;
        uint32_t kind = (uint32_t)rnd(&w, 4);
        zx_handle_t c = ZX_HANDLE_INVALID;
        zx_status_t st;
        bool slice = false;
        if (mode == 0) kind = 0;
        if (mode == 1) kind = kind % 2 ? 1 : 2;
        if (kind == 0) {
          st = zx_vmo_create_child(h, SNAP | RESZ, off, len, &c);
        } else if (kind == 1) {
          st = zx_vmo_clone(h, CLONE_COW, off, len, &c);
        } else if (kind == 2) {
          st = zx_vmo_create_child(h, ALOW | RESZ, off, len, &c);
        } else {
          slice = true;
          st = zx_vmo_create_child(h, SLICE, off, len, &c);
        }
        if (st == ZX_OK) {
          add(&w, c, slice);
        } else {
          cr_assert(st == ZX_ERR_NOT_SUPPORTED || st == ZX_ERR_INVALID_ARGS,
                    "%s step %d: create kind %u = %d", what, step, kind, st);
        }
        break;
      }
      case 5: {  // close
        if (w.n <= 1) break;
        if (mode == 2 && !w.is_slice[i]) {
          // Only when it has no children at all (so no slice keeps it).
          if (vmo_info(h).num_children != 0) break;
        }
        remove_at(&w, i);
        break;
      }
      case 6: {  // resize
        zx_status_t st = zx_vmo_set_size(h, rnd(&w, 10) * PG);
        cr_assert(st == ZX_OK || st == ZX_ERR_UNAVAILABLE, "%s step %d: set_size = %d", what,
                  step, st);
        break;
      }
      case 7: {  // zero, commit or decommit a page
        if (pages == 0) break;
        uint64_t k = rnd(&w, pages);
        uint32_t ops[] = {ZX_VMO_OP_ZERO, ZX_VMO_OP_COMMIT, ZX_VMO_OP_DECOMMIT};
        uint32_t op = ops[rnd(&w, 3)];
        zx_status_t st = zx_vmo_op_range(h, op, k * PG, PG, NULL, 0);
        cr_assert(st == ZX_OK || (op == ZX_VMO_OP_DECOMMIT && st == ZX_ERR_NOT_SUPPORTED),
                  "%s step %d: op %u = %d", what, step, op, st);
        break;
      }
      default:
        break;
    }
    check_identity(&w, what, step);
  }
  while (w.n > 0) {
    // Close slices first so that the identity holds to the end.
    size_t i = 0;
    for (size_t j = 0; j < w.n; j++) {
      if (w.is_slice[j]) i = j;
    }
    remove_at(&w, i);
    if (mode != 2) check_identity(&w, what, -1);
  }
  expect_clean();
}

Test(attribution, identity_snapshots) {
  scenario(1, 0, "snapshots seed 1");
  scenario(77, 0, "snapshots seed 77");
}

Test(attribution, identity_clones) {
  scenario(2, 1, "clones seed 2");
  scenario(1234, 1, "clones seed 1234");
}

Test(attribution, identity_mixed) {
  scenario(3, 2, "mixed seed 3");
  scenario(99, 2, "mixed seed 99");
}
