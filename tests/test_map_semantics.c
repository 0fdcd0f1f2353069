// SPDX-License-Identifier: BSD-3-Clause
// What a mapping shows (docs/behavior.md §12): a VMO behaves through a mapping exactly as
// through zx_vmo_read/zx_vmo_write, in both directions, at every offset; every kind of
// child keeps its semantics whichever side is mapped; resizing, DECOMMIT and ZERO are
// seen by every mapping at once; reading never-written pages commits nothing; a mapping
// keeps its VMO (and, for ZX_VMO_ZERO_CHILDREN, a child) alive; genuine faults (past the
// end, protected, unmapped) kill with SIGBUS / SIGSEGV, checked in children of fork().
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <zircon/process.h>
#include <zircon/syscalls.h>

#include "child_helpers.h"
#include "helpers.h"
#include "map_helpers.h"

// ---- both directions -------------------------------------------------------------

// Compares the whole mapping with zx_vmo_read and with the model `want`.
static void expect_same(zx_handle_t vmo, const uint8_t* m, const uint8_t* want, uint64_t len,
                        const char* step) {
  uint8_t* got = page_buf(len / PG + 1);
  cr_assert_eq(zx_vmo_read(vmo, got, 0, len), ZX_OK);
  for (uint64_t i = 0; i < len; i++) {
    cr_assert_eq(got[i], want[i], "%s: zx_vmo_read byte %#llx = %#x, want %#x", step,
                 (unsigned long long)i, got[i], want[i]);
    uint8_t b = mrd(m + i);
    cr_assert_eq(b, want[i], "%s: mapping byte %#llx = %#x, want %#x", step,
                 (unsigned long long)i, b, want[i]);
  }
  free(got);
}

// Writes at many offsets and lengths (partial pages, page-crossing, whole pages), in
// turn through the mapping and with zx_vmo_write; after each, both views agree with
// the model.
Test(map_semantics, both_directions_at_every_offset) {
  const uint64_t np = 4, len = np * PG;
  zx_handle_t v = mkvmo(len);
  uint8_t* m = map_rw(v, 0, len);
  uint8_t* want = page_buf(np);
  expect_same(v, m, want, len, "fresh");
  const uint64_t offs[] = {0, 1, 7, PG / 2, PG - 1, PG, PG + 3, 2 * PG - 5, 3 * PG - 1, len - 1};
  const uint64_t lens[] = {1, 2, 9, PG - 1, PG, PG + 1, 2 * PG + 3};
  uint64_t seed = 0x1234567;
  uint8_t* buf = page_buf(np);
  int step = 0;
  for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
    for (size_t j = 0; j < sizeof(lens) / sizeof(lens[0]); j++) {
      uint64_t off = offs[i], n = lens[j];
      if (off + n > len) n = len - off;
      for (uint64_t k = 0; k < n; k++) buf[k] = (uint8_t)xorshift(&seed);
      char what[96];
      if (step++ % 2 == 0) {
        cr_assert_eq(zx_vmo_write(v, buf, off, n), ZX_OK);
        snprintf(what, sizeof(what), "zx_vmo_write(off %#llx, len %#llx)",
                 (unsigned long long)off, (unsigned long long)n);
      } else {
        for (uint64_t k = 0; k < n; k++) mwr(m + off + k, buf[k]);
        snprintf(what, sizeof(what), "mapping write(off %#llx, len %#llx)",
                 (unsigned long long)off, (unsigned long long)n);
      }
      memcpy(want + off, buf, n);
      expect_same(v, m, want, len, what);
    }
  }
  expect_invariants("both directions");
  cr_assert_eq(committed(v), len);
  cr_assert_eq(pages_in_use(), np);
  unmap(m, len);
  close_h(v);
  free(buf);
  free(want);
  expect_clean();
}

// A mapping at a nonzero vmo_offset shows the VMO from that offset.
Test(map_semantics, nonzero_vmo_offset) {
  zx_handle_t v = mkvmo_filled(6, 0x40);
  uint8_t* m = map_rw(v, 2 * PG, 3 * PG);
  for (uint64_t k = 0; k < 3; k++) {
    cr_assert_eq(mpage(m, k), 0x42 + (int)k, "mapping page %llu", (unsigned long long)k);
  }
  mfill(m, 1, 0x99);
  cr_assert_eq(page_val(v, 3), 0x99, "a write at mapping page 1 lands at VMO page 3");
  cr_assert_eq(page_val(v, 2), 0x42);
  cr_assert_eq(page_val(v, 4), 0x44);
  fill_page(v, 4, 0x77);
  cr_assert_eq(mpage(m, 2), 0x77);
  expect_invariants("nonzero offset");
  unmap(m, 3 * PG);
  close_h(v);
  expect_clean();
}

// ---- committed_bytes through mappings --------------------------------------------

// Reading never-written pages through a mapping commits nothing (Zircon maps its zero
// page); writing commits exactly what zx_vmo_write would.
Test(map_semantics, reads_commit_nothing_writes_commit_like_vmo_write) {
  const uint64_t np = 16;
  zx_handle_t v = mkvmo(np * PG);
  zx_handle_t ref = mkvmo(np * PG);
  uint8_t* m = map_rw(v, 0, np * PG);
  for (uint64_t k = 0; k < np; k++) cr_assert_eq(mpage(m, k), 0);
  cr_assert_eq(committed(v), 0, "reading %llu fresh pages committed %llu bytes",
               (unsigned long long)np, (unsigned long long)committed(v));
  cr_assert_eq(pages_in_use(), 0);
  expect_invariants("reads of fresh pages");
  // One byte, a word, a whole page, a page-crossing write.
  mwr(m + 3 * PG + 17, 1);
  wr8(ref, 3 * PG + 17, 1);
  *(volatile uint64_t*)(m + 5 * PG + 8) = 2;
  wr8(ref, 5 * PG + 8, 2);
  mfill(m, 7, 3);
  fill_page(ref, 7, 3);
  mwr(m + 10 * PG - 1, 4);
  mwr(m + 10 * PG, 4);
  uint8_t two[2] = {4, 4};
  cr_assert_eq(zx_vmo_write(ref, two, 10 * PG - 1, 2), ZX_OK);
  cr_assert_eq(committed(v), committed(ref), "mapping writes committed %llu, zx_vmo_write %llu",
               (unsigned long long)committed(v), (unsigned long long)committed(ref));
  cr_assert_eq(committed(v), 5 * PG);
  cr_assert_eq(pages_in_use(), 10);
  // Reading everything again commits nothing more.
  for (uint64_t k = 0; k < np; k++) (void)mpage(m, k);
  cr_assert_eq(committed(v), 5 * PG);
  cr_assert_eq(pages_in_use(), 10);
  expect_invariants("mapping writes");
  uint8_t* all = page_buf(np);
  cr_assert_eq(zx_vmo_read(ref, all, 0, np * PG), ZX_OK);
  for (uint64_t i = 0; i < np * PG; i++) {
    cr_assert_eq(mrd(m + i), all[i], "byte %#llx differs from zx_vmo_write's",
                 (unsigned long long)i);
  }
  free(all);
  unmap(m, np * PG);
  cr_assert_eq(committed(v), 5 * PG, "unmapping changes no commitment");
  close_h(v);
  close_h(ref);
  expect_clean();
}

// A read of a page committed with zx_vmo_write does not change committed_bytes either.
Test(map_semantics, reads_of_committed_pages_change_nothing) {
  zx_handle_t v = mkvmo_filled(4, 0x10);
  cr_assert_eq(committed(v), 4 * PG);
  uint8_t* m = map_opts(v, MAP_R, 0, 4 * PG);
  for (uint64_t k = 0; k < 4; k++) cr_assert_eq(mpage(m, k), 0x10 + (int)k);
  cr_assert_eq(committed(v), 4 * PG);
  cr_assert_eq(pages_in_use(), 4);
  expect_invariants("read-only mapping of committed pages");
  unmap(m, 4 * PG);
  close_h(v);
  expect_clean();
}

// ---- num_mappings and lifetime --------------------------------------------------

Test(map_semantics, num_mappings_counts_pieces) {
  zx_handle_t v = mkvmo_filled(4, 0x60);
  cr_assert_eq(num_mappings(v), 0);
  uint8_t* a = map_rw(v, 0, 3 * PG);
  cr_assert_eq(num_mappings(v), 1);
  uint8_t* b = map_opts(v, MAP_R, PG, 2 * PG);
  cr_assert_eq(num_mappings(v), 2);
  // Unmapping the middle of `a` leaves two mappings of it.
  unmap(a + PG, PG);
  cr_assert_eq(num_mappings(v), 3, "a split mapping counts as two");
  cr_assert_eq(mpage(a, 0), 0x60);
  cr_assert_eq(mpage(a, 2), 0x62);
  mfill(a, 2, 0x88);
  cr_assert_eq(mpage(b, 1), 0x88, "the other mapping sees the tail's write");
  cr_assert_eq(page_val(v, 2), 0x88);
  expect_access_dies(a + PG, false, SIGSEGV, "read of the unmapped middle");
  expect_access_dies(a + PG, true, SIGSEGV, "write of the unmapped middle");
  expect_access_ok(a + 2 * PG, true, "write to the tail");
  unmap(a, PG);
  cr_assert_eq(num_mappings(v), 2);
  unmap(a + 2 * PG, PG);
  unmap(b, 2 * PG);
  cr_assert_eq(num_mappings(v), 0);
  expect_invariants("num_mappings");
  close_h(v);
  expect_clean();
}

// Closing the last handle of a mapped VMO changes nothing the mapping sees; the VMO
// dies when the last mapping goes.
Test(map_semantics, mapping_keeps_vmo_alive) {
  zx_handle_t v = mkvmo_filled(3, 0x20);
  uint8_t* m = map_rw(v, 0, 3 * PG);
  close_h(v);
  cr_assert_eq(vmos_alive(), 1);
  cr_assert_eq(mpage(m, 1), 0x21);
  mfill(m, 2, 0x5C);
  cr_assert_eq(mpage(m, 2), 0x5C);
  mwr(m + 7, 0xAB);
  cr_assert_eq(mrd(m + 7), 0xAB);
  cr_assert_eq(pages_in_use(), 3);
  expect_invariants("handle closed, mapping used");
  unmap(m, PG);
  cr_assert_eq(vmos_alive(), 1, "a piece is still mapped");
  cr_assert_eq(mpage(m, 2), 0x5C);
  unmap(m + PG, 2 * PG);
  expect_clean();
}

// A mapped child is a live child: ZX_VMO_ZERO_CHILDREN on the parent only after its
// last mapping is gone.
Test(map_semantics, mapped_child_is_live_for_zero_children) {
  const uint32_t types[] = {SNAP, ALOW, SLICE};
  for (size_t t = 0; t < 3; t++) {
    zx_handle_t p = mkvmo_filled(4, 0x30);
    cr_assert(zero_children(p));
    zx_handle_t c = mkchild(p, types[t], 0, 4 * PG);
    cr_assert(!zero_children(p));
    uint8_t* m = map_rw(c, 0, 4 * PG);
    close_h(c);
    cr_assert(!zero_children(p), "type %#x: mapped child with no handle counts as live",
              types[t]);
    mfill(m, 1, 0x77);
    cr_assert_eq(mpage(m, 1), 0x77);
    cr_assert_eq(page_val(p, 1), types[t] == SLICE ? 0x77 : 0x31);
    unmap(m + 2 * PG, 2 * PG);
    cr_assert(!zero_children(p), "type %#x: half the mapping is left", types[t]);
    cr_assert_eq(mpage(m, 0), 0x30);
    unmap(m, 2 * PG);
    cr_assert(zero_children(p), "type %#x: last mapping gone", types[t]);
    expect_invariants("zero children");
    close_h(p);
    expect_clean();
  }
}

// The legacy clone too.
Test(map_semantics, mapped_legacy_clone_is_live_for_zero_children) {
  zx_handle_t p = mkvmo_filled(2, 0x30);
  zx_handle_t c = mkclone(p, CLONE_COW, 0, 2 * PG);
  uint8_t* m = map_rw(c, 0, 2 * PG);
  close_h(c);
  cr_assert(!zero_children(p));
  cr_assert_eq(mpage(m, 0), 0x30);
  unmap(m, 2 * PG);
  cr_assert(zero_children(p));
  close_h(p);
  expect_clean();
}

// ---- the snapshot matrix through mappings ------------------------------------------
//
// Child type x which side is mapped x write order x write path x close order, checked
// after every step through every mapping and with zx_vmo_read on every open handle.

enum mtype { M_SNAP, M_ALOW, M_SLICE, M_CLONE, M_SLICE_OF_SNAP, M_SNAP_OF_SNAP, M_TYPES };
static const char* const kMType[] = {"SNAPSHOT",          "AT_LEAST_ON_WRITE",
                                     "SLICE",             "legacy-clone",
                                     "slice-of-SNAPSHOT", "SNAPSHOT-of-snapshot"};
enum mside { S_PARENT, S_CHILD, S_BOTH, S_PARENT_TWICE, S_SIDES };
static const char* const kSide[] = {"parent mapped", "child mapped", "both mapped",
                                    "parent mapped twice"};

#define MNP 6u   // parent pages
#define MOFF 1u  // child window: pages [MOFF, MOFF + MN) of the parent
#define MN 4u

typedef struct mcase {
  enum mtype t;
  char what[200];
  // Handles (ZX_HANDLE_INVALID once closed) and mappings (NULL once unmapped).
  zx_handle_t base;  // the parent's own parent (a snapshot of it), for the two chains
  zx_handle_t p, c;
  uint8_t *mp, *mp2, *mc;
  // Expected page values.
  int base_v[MNP];
  int par[MNP];
  int chi[MN];
  bool cwrote[MN];
  bool child_reads_first;  // mc_check reads the child's mapping before the parent's
} mcase_t;

static bool is_slice(enum mtype t) { return t == M_SLICE || t == M_SLICE_OF_SNAP; }

static void mc_parent_write(mcase_t* x, uint64_t k, uint8_t v, bool via_map) {
  if (via_map && x->mp) {
    mfill(x->mp, k, v);
  } else {
    fill_page(x->p, k, v);
  }
  x->par[k] = v;
  if (k >= MOFF && k < MOFF + MN) {
    uint64_t j = k - MOFF;
    if (is_slice(x->t) || (x->t == M_CLONE && !x->cwrote[j])) x->chi[j] = v;
  }
}

static void mc_child_write(mcase_t* x, uint64_t j, uint8_t v, bool via_map) {
  if (via_map && x->mc) {
    mfill(x->mc, j, v);
  } else {
    fill_page(x->c, j, v);
  }
  x->chi[j] = v;
  x->cwrote[j] = true;
  if (is_slice(x->t)) x->par[MOFF + j] = v;
}

static void mc_check_child(const mcase_t* x, const char* step) {
  for (uint64_t j = 0; j < MN; j++) {
    if (x->c != ZX_HANDLE_INVALID) {
      cr_assert_eq(page_val(x->c, j), x->chi[j], "%s, %s: child page %llu via zx_vmo_read",
                   x->what, step, (unsigned long long)j);
    }
    if (x->mc) {
      cr_assert_eq(mpage(x->mc, j), x->chi[j], "%s, %s: child page %llu via its mapping",
                   x->what, step, (unsigned long long)j);
    }
  }
}

static void mc_check(const mcase_t* x, const char* step) {
  // Which mapping is read first decides which side's faults come first.
  if (x->child_reads_first) mc_check_child(x, step);
  for (uint64_t k = 0; k < MNP; k++) {
    if (x->p != ZX_HANDLE_INVALID) {
      cr_assert_eq(page_val(x->p, k), x->par[k], "%s, %s: parent page %llu via zx_vmo_read",
                   x->what, step, (unsigned long long)k);
    }
    if (x->mp) {
      cr_assert_eq(mpage(x->mp, k), x->par[k], "%s, %s: parent page %llu via its mapping",
                   x->what, step, (unsigned long long)k);
    }
    if (x->mp2) {
      cr_assert_eq(mpage(x->mp2, k), x->par[k],
                   "%s, %s: parent page %llu via its second mapping", x->what, step,
                   (unsigned long long)k);
    }
    if (x->base != ZX_HANDLE_INVALID) {
      cr_assert_eq(page_val(x->base, k), x->base_v[k], "%s, %s: base page %llu", x->what, step,
                   (unsigned long long)k);
    }
  }
  if (!x->child_reads_first) mc_check_child(x, step);
  zx_status_t st = zxvmo_check_invariants();
  cr_assert_eq(st, ZX_OK, "%s, %s: invariants %d", x->what, step, st);
}

static void run_map_matrix(enum mtype t) {
  for (int side = 0; side < S_SIDES; side++) {
    for (int parent_first = 0; parent_first < 2; parent_first++) {
      for (int via_map = 0; via_map < 2; via_map++) {
        for (int close_mapped = 0; close_mapped < 2; close_mapped++) {
         for (int child_reads = 0; child_reads < 2; child_reads++) {
          mcase_t x;
          memset(&x, 0, sizeof(x));
          x.t = t;
          x.child_reads_first = child_reads;
          snprintf(x.what, sizeof(x.what), "%s, %s, %s written first via %s, %s, %s read first",
                   kMType[t], kSide[side], parent_first ? "parent" : "child",
                   via_map ? "mappings" : "zx_vmo_write",
                   close_mapped ? "handles closed while mapped" : "unmapped first",
                   child_reads ? "child" : "parent");
          // The parent and, for the chains, its origin.
          if (t == M_SLICE_OF_SNAP || t == M_SNAP_OF_SNAP) {
            x.base = mkvmo(MNP * PG);
            for (uint64_t k = 0; k < MNP; k++) {
              fill_page(x.base, k, (uint8_t)(0x20 + k));
              x.base_v[k] = 0x20 + (int)k;
            }
            x.p = mkchild(x.base, SNAP, 0, MNP * PG);
            for (uint64_t k = 0; k < MNP; k++) x.par[k] = 0x20 + (int)k;
            // The snapshot's own writes never reach its parent.
            mc_parent_write(&x, 0, 0x2F, false);
          } else {
            x.p = mkvmo(MNP * PG);
            for (uint64_t k = 0; k < MNP; k++) mc_parent_write(&x, k, (uint8_t)(0x20 + k), false);
          }
          // Map the parent before the child exists for half the cases, after for the rest.
          bool early = side == S_PARENT_TWICE || (side == S_BOTH && parent_first);
          if (early) x.mp = map_rw(x.p, 0, MNP * PG);
          switch (t) {
            case M_SLICE:
            case M_SLICE_OF_SNAP: x.c = mkchild(x.p, SLICE, MOFF * PG, MN * PG); break;
            case M_ALOW: x.c = mkchild(x.p, ALOW, MOFF * PG, MN * PG); break;
            case M_CLONE: x.c = mkclone(x.p, CLONE_COW, MOFF * PG, MN * PG); break;
            default: x.c = mkchild(x.p, SNAP, MOFF * PG, MN * PG); break;
          }
          for (uint64_t j = 0; j < MN; j++) x.chi[j] = x.par[MOFF + j];
          if (side == S_PARENT || side == S_BOTH || side == S_PARENT_TWICE) {
            if (!x.mp) x.mp = map_rw(x.p, 0, MNP * PG);
          }
          if (side == S_PARENT_TWICE) x.mp2 = map_rw(x.p, 0, MNP * PG);
          if (side == S_CHILD || side == S_BOTH) x.mc = map_rw(x.c, 0, MN * PG);
          mc_check(&x, "mapped");
          for (int round = 0; round < 2; round++) {
            if ((round == 0) == (parent_first != 0)) {
              for (uint64_t k = 0; k < MNP; k++) {
                mc_parent_write(&x, k, (uint8_t)(0x40 + 16 * round + k), via_map);
              }
              mc_check(&x, round == 0 ? "parent wrote first" : "parent wrote second");
            } else {
              mc_child_write(&x, 0, (uint8_t)(0xC0 + round), via_map);
              mc_child_write(&x, MN - 1, (uint8_t)(0xD0 + round), via_map);
              mc_check(&x, round == 0 ? "child wrote first" : "child wrote second");
            }
          }
          // Every page of the parent rewritten; then one more child page.
          for (uint64_t k = 0; k < MNP; k++) mc_parent_write(&x, k, (uint8_t)(0x60 + k), via_map);
          mc_check(&x, "parent rewrote every page");
          mc_child_write(&x, 1, 0xE1, via_map);
          mc_check(&x, "child wrote page 1");
          if (close_mapped) {
            // Handles go while mapped; the mappings keep working and keep their semantics.
            if (x.mp) close_h(x.p), x.p = ZX_HANDLE_INVALID;
            mc_check(&x, "mapped parent's handle closed");
            if (x.mc) close_h(x.c), x.c = ZX_HANDLE_INVALID;
            mc_check(&x, "mapped child's handle closed");
            if (x.mp) {
              mc_parent_write(&x, MOFF + 2, 0x7A, true);
              mc_check(&x, "parent wrote via mapping with no handle");
            }
            if (x.mc) {
              mc_child_write(&x, 2, 0x7B, true);
              mc_check(&x, "child wrote via mapping with no handle");
            }
            if (x.p != ZX_HANDLE_INVALID) close_h(x.p), x.p = ZX_HANDLE_INVALID;
            if (x.mc) {
              mc_child_write(&x, 3, 0x7C, true);
              mc_check(&x, "unmapped parent closed");
            }
            if (x.mp) unmap(x.mp, MNP * PG), x.mp = NULL;
            if (x.mp2) unmap(x.mp2, MNP * PG), x.mp2 = NULL;
            mc_check(&x, "parent unmapped");
            if (x.mc) unmap(x.mc, MN * PG), x.mc = NULL;
            mc_check(&x, "child unmapped");
            if (x.c != ZX_HANDLE_INVALID) close_h(x.c), x.c = ZX_HANDLE_INVALID;
          } else {
            if (x.mc) unmap(x.mc, MN * PG), x.mc = NULL;
            mc_check(&x, "child unmapped");
            if (x.mp2) unmap(x.mp2, MNP * PG), x.mp2 = NULL;
            mc_check(&x, "second parent mapping unmapped");
            if (x.mp) unmap(x.mp, MNP * PG), x.mp = NULL;
            mc_check(&x, "parent unmapped");
            close_h(x.c), x.c = ZX_HANDLE_INVALID;
            mc_check(&x, "child closed");
            close_h(x.p), x.p = ZX_HANDLE_INVALID;
          }
          mc_check(&x, "parent and child gone");
          if (x.base != ZX_HANDLE_INVALID) close_h(x.base);
          cr_assert_eq(pages_in_use(), 0, "%s: %llu pages left", x.what,
                       (unsigned long long)pages_in_use());
          cr_assert_eq(vmos_alive(), 0, "%s: %llu VMOs left", x.what,
                       (unsigned long long)vmos_alive());
         }
        }
      }
    }
  }
}

Test(map_matrix, snapshot) { run_map_matrix(M_SNAP); }
Test(map_matrix, snapshot_at_least_on_write) { run_map_matrix(M_ALOW); }
Test(map_matrix, slice) { run_map_matrix(M_SLICE); }
// Regression (fixed): fails in the cases where the child's mapping is read first ("legacy-clone, both
// mapped, ..., child read first, parent wrote second: child page 1 via its mapping"):
// the clone's mapping keeps the parent's old bytes; reduced to
// map_children/legacy_clone_mapping_sees_parent_mapping_writes.
Test(map_matrix, legacy_clone) { run_map_matrix(M_CLONE); }
Test(map_matrix, slice_of_snapshot) { run_map_matrix(M_SLICE_OF_SNAP); }
Test(map_matrix, snapshot_of_snapshot) { run_map_matrix(M_SNAP_OF_SNAP); }

// A copy-on-write child of a slice is NOT_SUPPORTED (docs/behavior.md §4, D10), mapped or
// not, and the refusal changes nothing either mapping shows.
Test(map_matrix, snapshot_of_mapped_slice_is_refused) {
  zx_handle_t p = mkvmo_filled(4, 0x50);
  zx_handle_t s = mkchild(p, SLICE, PG, 2 * PG);
  uint8_t* mp = map_rw(p, 0, 4 * PG);
  uint8_t* ms = map_rw(s, 0, 2 * PG);
  mfill(ms, 0, 0x99);
  zx_handle_t c = ZX_HANDLE_INVALID;
  cr_assert_eq(zx_vmo_create_child(s, SNAP, 0, 2 * PG, &c), ZX_ERR_NOT_SUPPORTED);
  cr_assert_eq(zx_vmo_create_child(s, ALOW, 0, 2 * PG, &c), ZX_ERR_NOT_SUPPORTED);
  cr_assert_eq(zx_vmo_clone(s, CLONE_COW, 0, 2 * PG, &c), ZX_ERR_NOT_SUPPORTED);
  cr_assert_eq(mpage(mp, 1), 0x99);
  mfill(mp, 2, 0x98);
  cr_assert_eq(mpage(ms, 1), 0x98);
  cr_assert_eq(page_val(s, 0), 0x99);
  expect_invariants("refused snapshot of a slice");
  unmap(mp, 4 * PG);
  unmap(ms, 2 * PG);
  close_h(s);
  close_h(p);
  expect_clean();
}

// ---- slices, resizing, DECOMMIT and ZERO: every mapping at once ---------------------

// A slice's mapping and its parent's mapping show the same bytes, both ways, and a
// slice of the slice too.
Test(map_live, slices_are_live_windows) {
  zx_handle_t p = mkvmo_filled(8, 0x10);
  zx_handle_t s = mkchild(p, SLICE, 2 * PG, 4 * PG);
  zx_handle_t ss = mkchild(s, SLICE, PG, 2 * PG);  // parent pages 3, 4
  uint8_t* mp = map_rw(p, 0, 8 * PG);
  uint8_t* ms = map_rw(s, 0, 4 * PG);
  uint8_t* mss = map_rw(ss, 0, 2 * PG);
  for (uint64_t j = 0; j < 4; j++) cr_assert_eq(mpage(ms, j), 0x12 + (int)j);
  mwr(mp + 3 * PG + 5, 0xA1);
  cr_assert_eq(mrd(ms + PG + 5), 0xA1);
  cr_assert_eq(mrd(mss + 5), 0xA1);
  mwr(ms + 2 * PG + 9, 0xA2);
  cr_assert_eq(mrd(mp + 4 * PG + 9), 0xA2);
  cr_assert_eq(mrd(mss + PG + 9), 0xA2);
  mwr(mss + PG - 1, 0xA3);
  cr_assert_eq(mrd(mp + 4 * PG - 1), 0xA3);
  cr_assert_eq(mrd(ms + 2 * PG - 1), 0xA3);
  cr_assert_eq(rd8(p, 4 * PG - 1), 0xA3);
  wr8(s, 0, 0xA4);
  cr_assert_eq(mrd(mp + 2 * PG), 0xA4);
  cr_assert_eq(mrd(ms), 0xA4);
  // Fresh pages of a fresh parent, written through the slice first.
  zx_handle_t q = mkvmo(4 * PG);
  zx_handle_t qs = mkchild(q, SLICE, 0, 4 * PG);
  uint8_t* mq = map_rw(q, 0, 4 * PG);
  uint8_t* mqs = map_rw(qs, 0, 4 * PG);
  cr_assert_eq(mpage(mq, 2), 0);
  mfill(mqs, 2, 0x31);
  cr_assert_eq(mpage(mq, 2), 0x31, "parent mapping, after a read, sees the slice's write");
  mfill(mq, 3, 0x32);
  cr_assert_eq(mpage(mqs, 3), 0x32);
  cr_assert_eq(committed(q), 2 * PG);
  cr_assert_eq(committed(qs), 0, "a slice commits nothing of its own");
  expect_invariants("slices");
  unmap(mp, 8 * PG);
  unmap(ms, 4 * PG);
  unmap(mss, 2 * PG);
  unmap(mq, 4 * PG);
  unmap(mqs, 4 * PG);
  close_h(ss);
  close_h(s);
  close_h(p);
  close_h(qs);
  close_h(q);
  expect_clean();
}

// zx_vmo_write, DECOMMIT and ZERO are seen by every mapping at once: two of the VMO,
// one of a slice, one read-only.
Test(map_live, decommit_zero_and_writes_reach_every_mapping) {
  zx_handle_t v = mkvmo_filled(6, 0x70);
  zx_handle_t s = mkchild(v, SLICE, 0, 6 * PG);
  uint8_t* m[4] = {map_rw(v, 0, 6 * PG), map_rw(v, 0, 6 * PG), map_rw(s, 0, 6 * PG),
                   map_opts(v, MAP_R, 0, 6 * PG)};
  for (int i = 0; i < 4; i++) {
    for (uint64_t k = 0; k < 6; k++) cr_assert_eq(mpage(m[i], k), 0x70 + (int)k);
  }
  mfill(m[0], 1, 0x81);  // page 1 written through a mapping, page 2 with zx_vmo_write
  fill_page(v, 2, 0x82);
  cr_assert_eq(zx_vmo_op_range(v, ZX_VMO_OP_DECOMMIT, 3 * PG, PG, NULL, 0), ZX_OK);
  cr_assert_eq(zx_vmo_op_range(s, ZX_VMO_OP_ZERO, 4 * PG, PG, NULL, 0), ZX_OK);
  const int want[6] = {0x70, 0x81, 0x82, 0, 0, 0x75};
  for (int i = 0; i < 4; i++) {
    for (uint64_t k = 0; k < 6; k++) {
      cr_assert_eq(mpage(m[i], k), want[k], "mapping %d page %llu", i, (unsigned long long)k);
      cr_assert_eq(page_val(v, k), want[k]);
    }
  }
  cr_assert_eq(committed(v), 4 * PG, "DECOMMIT and ZERO freed their pages");
  cr_assert_eq(pages_in_use(), 4);
  // DECOMMIT of pages written through a mapping, then rewritten through another.
  cr_assert_eq(zx_vmo_op_range(v, ZX_VMO_OP_DECOMMIT, 0, 2 * PG, NULL, 0), ZX_OK);
  for (int i = 0; i < 4; i++) cr_assert_eq(mpage(m[i], 1), 0);
  cr_assert_eq(committed(v), 2 * PG);
  mwr(m[2] + PG + 1, 0x33);
  for (int i = 0; i < 4; i++) cr_assert_eq(mrd(m[i] + PG + 1), 0x33);
  cr_assert_eq(committed(v), 3 * PG);
  expect_invariants("decommit and zero");
  for (int i = 0; i < 4; i++) unmap(m[i], 6 * PG);
  close_h(s);
  close_h(v);
  expect_clean();
}

static void touch_page_in_child(uint8_t* p, const char* what) {
  expect_access_dies(p, false, SIGBUS, what);
  expect_access_dies(p, true, SIGBUS, what);
}

// Shrinking: access past the new end is SIGBUS; growing back reads zero.
Test(map_live, shrink_then_sigbus_grow_back_reads_zero) {
  zx_handle_t v = mkvmo_opts(4 * PG, ZX_VMO_RESIZABLE);
  uint8_t* m = map_rw(v, 0, 4 * PG);
  uint8_t* m2 = map_opts(v, MAP_R, 0, 4 * PG);
  for (uint64_t k = 0; k < 4; k++) mfill(m, k, (uint8_t)(0x41 + k));
  cr_assert_eq(committed(v), 4 * PG);
  cr_assert_eq(zx_vmo_set_size(v, 2 * PG), ZX_OK);
  cr_assert_eq(committed(v), 2 * PG);
  expect_invariants("shrink");
  touch_page_in_child(m + 2 * PG, "mapping page 2 past the new end");
  touch_page_in_child(m + 4 * PG - 1, "last byte of the mapping");
  // The read-only mapping: a read past the end is SIGBUS (a write there would be a
  // protection fault, SIGSEGV, whatever the VMO's size).
  expect_access_dies(m2 + 3 * PG, false, SIGBUS, "read-only mapping past the end");
  expect_access_dies(m2 + 3 * PG, true, SIGSEGV, "write to a read-only mapping");
  expect_access_ok(m + 2 * PG - 1, true, "last byte below the end");
  cr_assert_eq(mpage(m, 1), 0x42);
  cr_assert_eq(mpage(m2, 1), 0x42);
  cr_assert_eq(zx_vmo_set_size(v, 4 * PG), ZX_OK);
  for (uint64_t k = 2; k < 4; k++) {
    cr_assert_eq(mpage(m, k), 0, "page %llu after growing back", (unsigned long long)k);
    cr_assert_eq(mpage(m2, k), 0);
    cr_assert_eq(page_val(v, k), 0);
  }
  cr_assert_eq(committed(v), 2 * PG, "reading the grown pages commits nothing");
  mfill(m, 3, 0x99);
  cr_assert_eq(mpage(m2, 3), 0x99);
  cr_assert_eq(page_val(v, 3), 0x99);
  expect_access_ok(m + 3 * PG, false, "grown page");
  // Shrinking to an unaligned size zeroes the rest of the last page.
  cr_assert_eq(zx_vmo_set_size(v, PG + 100), ZX_OK);
  cr_assert_eq(mrd(m + PG + 99), 0x42);
  cr_assert_eq(mrd(m + PG + 100), 0, "byte past the unaligned size reads zero");
  cr_assert_eq(mrd(m2 + 2 * PG - 1), 0);
  touch_page_in_child(m + 2 * PG, "past the unaligned size's page");
  expect_invariants("resize");
  unmap(m, 4 * PG);
  unmap(m2, 4 * PG);
  close_h(v);
  expect_clean();
}

// A snapshot's mapping keeps its pages when the parent shrinks; the parent's does not.
Test(map_live, shrinking_parent_leaves_snapshot_mapping_alone) {
  zx_handle_t p = mkvmo_opts(4 * PG, ZX_VMO_RESIZABLE);
  for (uint64_t k = 0; k < 4; k++) fill_page(p, k, (uint8_t)(0x11 + k));
  zx_handle_t c = mkchild(p, SNAP, 0, 4 * PG);
  uint8_t* mp = map_rw(p, 0, 4 * PG);
  uint8_t* mc = map_rw(c, 0, 4 * PG);
  cr_assert_eq(zx_vmo_set_size(p, PG), ZX_OK);
  touch_page_in_child(mp + 2 * PG, "parent mapping past its end");
  for (uint64_t k = 0; k < 4; k++) cr_assert_eq(mpage(mc, k), 0x11 + (int)k);
  mfill(mc, 3, 0x55);
  cr_assert_eq(page_val(c, 3), 0x55);
  expect_invariants("shrunk parent");
  unmap(mp, 4 * PG);
  unmap(mc, 4 * PG);
  close_h(c);
  close_h(p);
  expect_clean();
}

// A resizable snapshot mapped past its end: growing it shows zeros (never the parent's
// pages), shrinking it cuts its own pages for good.
Test(map_live, resizable_snapshot_mapped_past_its_end) {
  zx_handle_t p = mkvmo_filled(4, 0x40);
  zx_handle_t c = mkchild(p, SNAP | RESZ, 0, 2 * PG);
  uint8_t* mc = map_rw(c, 0, 4 * PG);
  uint8_t* mp = map_rw(p, 0, 4 * PG);
  cr_assert_eq(mpage(mc, 1), 0x41);
  touch_page_in_child(mc + 2 * PG, "snapshot page past its end");
  cr_assert_eq(zx_vmo_set_size(c, 4 * PG), ZX_OK);
  cr_assert_eq(mpage(mc, 2), 0, "growing a COW child exposes zeros, not the parent's page");
  cr_assert_eq(mpage(mc, 3), 0);
  mfill(mc, 3, 0x93);
  cr_assert_eq(mpage(mp, 3), 0x43);
  mfill(mc, 1, 0x91);
  cr_assert_eq(zx_vmo_set_size(c, PG), ZX_OK);
  touch_page_in_child(mc + PG, "page cut by shrinking the snapshot");
  cr_assert_eq(zx_vmo_set_size(c, 4 * PG), ZX_OK);
  cr_assert_eq(mpage(mc, 1), 0, "the cut page does not come back");
  cr_assert_eq(mpage(mc, 3), 0);
  cr_assert_eq(mpage(mp, 1), 0x41);
  cr_assert_eq(page_val(c, 1), 0);
  expect_invariants("resizable snapshot");
  unmap(mc, 4 * PG);
  unmap(mp, 4 * PG);
  close_h(c);
  close_h(p);
  expect_clean();
}

// A mapping longer than its VMO: the pages past the end raise SIGBUS, the others work;
// after the VMO grows they read zero.
Test(map_live, mapping_larger_than_vmo) {
  zx_handle_t v = mkvmo_opts(2 * PG, ZX_VMO_RESIZABLE);
  fill_page(v, 1, 0x21);
  uint8_t* m = map_rw(v, 0, 5 * PG);
  cr_assert_eq(mpage(m, 1), 0x21);
  mfill(m, 0, 0x20);
  cr_assert_eq(page_val(v, 0), 0x20);
  for (uint64_t k = 2; k < 5; k++) touch_page_in_child(m + k * PG, "page past the VMO's end");
  cr_assert_eq(zx_vmo_set_size(v, 3 * PG), ZX_OK);
  cr_assert_eq(mpage(m, 2), 0);
  touch_page_in_child(m + 3 * PG, "still past the end after growing");
  expect_invariants("mapping past the end");
  unmap(m, 5 * PG);
  close_h(v);
  // A non-resizable VMO too.
  zx_handle_t w = mkvmo_filled(1, 0x66);
  uint8_t* mw = map_rw(w, 0, 3 * PG);
  cr_assert_eq(mpage(mw, 0), 0x66);
  touch_page_in_child(mw + PG, "non-resizable VMO, page 1 of 1");
  unmap(mw, 3 * PG);
  close_h(w);
  expect_clean();
}

// ---- MAP_RANGE and zx_vmar_op_range -----------------------------------------------

// MAP_RANGE populates what is committed; it commits nothing.
Test(map_ops, map_range_commits_nothing) {
  zx_handle_t v = mkvmo(6 * PG);
  fill_page(v, 1, 0x11);
  fill_page(v, 4, 0x44);
  uint8_t* m = map_opts(v, MAP_RW | ZX_VM_MAP_RANGE, 0, 6 * PG);
  cr_assert_eq(committed(v), 2 * PG);
  cr_assert_eq(pages_in_use(), 2);
  const int want[6] = {0, 0x11, 0, 0, 0x44, 0};
  for (uint64_t k = 0; k < 6; k++) cr_assert_eq(mpage(m, k), want[k]);
  cr_assert_eq(committed(v), 2 * PG);
  mfill(m, 4, 0x45);
  cr_assert_eq(page_val(v, 4), 0x45);
  mfill(m, 5, 0x46);
  cr_assert_eq(committed(v), 3 * PG);
  // Also on a snapshot, whose pages are its parent's.
  zx_handle_t c = mkchild(v, SNAP, 0, 6 * PG);
  uint64_t c0 = committed(c), in_use = pages_in_use();
  cr_assert_eq(c0, 3 * PG, "a snapshot reports the pages it sees (docs/behavior.md §10)");
  uint8_t* mc = map_opts(c, MAP_RW | ZX_VM_MAP_RANGE, 0, 6 * PG);
  cr_assert_eq(committed(c), c0);
  cr_assert_eq(pages_in_use(), in_use);
  for (uint64_t k = 0; k < 6; k++) (void)mpage(mc, k);
  cr_assert_eq(mpage(mc, 4), 0x45);
  cr_assert_eq(committed(c), c0, "reads through the snapshot's mapping commit nothing");
  cr_assert_eq(pages_in_use(), in_use);
  mfill(m, 4, 0x47);
  cr_assert_eq(mpage(mc, 4), 0x45, "the snapshot does not see the parent's later write");
  cr_assert_eq(committed(c), c0);
  cr_assert_eq(pages_in_use(), in_use + 1, "the parent's write copied one page");
  expect_invariants("MAP_RANGE");
  unmap(mc, 6 * PG);
  unmap(m, 6 * PG);
  close_h(c);
  close_h(v);
  expect_clean();
}

static zx_status_t vop(void* addr, uint32_t op, uint64_t len) {
  return zx_vmar_op_range(zx_vmar_root_self(), op, (zx_vaddr_t)addr, len, NULL, 0);
}

Test(map_ops, op_range_commit_decommit_zero) {
  zx_handle_t v = mkvmo(8 * PG);
  uint8_t* m = map_rw(v, 2 * PG, 4 * PG);  // VMO pages 2..5
  uint8_t* m2 = map_rw(v, 0, 8 * PG);
  cr_assert_eq(vop(m + PG, ZX_VMAR_OP_COMMIT, 2 * PG), ZX_OK);
  cr_assert_eq(committed(v), 2 * PG, "COMMIT commits VMO pages 3 and 4");
  cr_assert_eq(mpage(m, 1), 0);
  cr_assert_eq(mpage(m2, 3), 0);
  cr_assert_eq(page_val(v, 4), 0);
  for (uint64_t k = 0; k < 8; k++) mfill(m2, k, (uint8_t)(0x50 + k));
  cr_assert_eq(committed(v), 8 * PG);
  cr_assert_eq(vop(m, ZX_VMAR_OP_DECOMMIT, 2 * PG), ZX_OK);  // VMO pages 2, 3
  cr_assert_eq(committed(v), 6 * PG);
  const int want[8] = {0x50, 0x51, 0, 0, 0x54, 0x55, 0x56, 0x57};
  for (uint64_t k = 0; k < 8; k++) {
    cr_assert_eq(mpage(m2, k), want[k], "page %llu after DECOMMIT", (unsigned long long)k);
    cr_assert_eq(page_val(v, k), want[k]);
  }
  cr_assert_eq(mpage(m, 0), 0);
  cr_assert_eq(vop(m2 + 5 * PG, ZX_VMAR_OP_ZERO, 2 * PG), ZX_OK);  // VMO pages 5, 6
  cr_assert_eq(mpage(m, 3), 0);
  cr_assert_eq(mpage(m2, 6), 0);
  cr_assert_eq(page_val(v, 5), 0);
  cr_assert_eq(page_val(v, 7), 0x57);
  cr_assert(committed(v) <= 6 * PG);
  // Partial-page ZERO through a mapping.
  cr_assert_eq(vop(m2 + 4 * PG, ZX_VMAR_OP_ZERO, PG), ZX_OK);
  cr_assert_eq(mpage(m, 2), 0);
  expect_invariants("op_range");
  unmap(m, 4 * PG);
  unmap(m2, 8 * PG);
  close_h(v);
  expect_clean();
}

// ---- protection and holes ------------------------------------------------------------

Test(map_prot, read_only_write_is_sigsegv_then_unprotect_works) {
  zx_handle_t v = mkvmo_filled(3, 0x30);
  uint8_t* m = map_rw(v, 0, 3 * PG);
  mfill(m, 0, 0x31);
  protect(m, 2 * PG, MAP_R);
  expect_access_dies(m, true, SIGSEGV, "write to a read-only page");
  expect_access_dies(m + PG + 5, true, SIGSEGV, "write to a never-touched read-only page");
  expect_access_ok(m, false, "read of a read-only page");
  expect_access_ok(m + 2 * PG, true, "write to the page left writable");
  cr_assert_eq(mpage(m, 0), 0x31);
  cr_assert_eq(mpage(m, 1), 0x31);
  // A snapshot while read-only, then writable again: the write must copy.
  zx_handle_t c = mkchild(v, SNAP, 0, 3 * PG);
  protect(m, 2 * PG, MAP_RW);
  mfill(m, 0, 0x32);
  mfill(m, 1, 0x33);
  cr_assert_eq(page_val(v, 0), 0x32);
  cr_assert_eq(page_val(c, 0), 0x31, "the snapshot kept its page");
  cr_assert_eq(page_val(c, 1), 0x31);
  // No access at all.
  protect(m + 2 * PG, PG, ZX_VM_PERM_READ);
  expect_access_ok(m + 2 * PG, false, "read");
  cr_assert_eq(zx_vmar_protect(zx_vmar_root_self(), 0, (zx_vaddr_t)(m + 2 * PG), PG), ZX_OK);
  expect_access_dies(m + 2 * PG, false, SIGSEGV, "read of a PROT_NONE page");
  expect_access_dies(m + 2 * PG, true, SIGSEGV, "write of a PROT_NONE page");
  protect(m + 2 * PG, PG, MAP_RW);
  cr_assert_eq(mrd(m + 2 * PG), 0x32, "what the earlier child wrote is not here");
  expect_invariants("protect");
  unmap(m, 3 * PG);
  close_h(c);
  close_h(v);
  expect_clean();
}

Test(map_prot, unmapped_range_is_sigsegv) {
  zx_handle_t v = mkvmo_filled(2, 0x30);
  uint8_t* m = map_rw(v, 0, 2 * PG);
  unmap(m, 2 * PG);
  expect_access_dies(m, false, SIGSEGV, "read of an unmapped range");
  expect_access_dies(m + PG, true, SIGSEGV, "write to an unmapped range");
  // A hole of the root VMAR that was never mapped.
  zx_info_vmar_t ri;
  cr_assert_eq(zx_object_get_info(zx_vmar_root_self(), ZX_INFO_VMAR, &ri, sizeof(ri), NULL, NULL),
               ZX_OK);
  uint8_t* top = (uint8_t*)(ri.base + ri.len - PG);
  expect_access_dies(top, false, SIGSEGV, "read of the root VMAR's last page");
  close_h(v);
  expect_clean();
}

// ---- sub-VMARs, SPECIFIC_OVERWRITE and what they release --------------------------

// Destroying a sub-VMAR unmaps everything inside: the mappings' VMOs lose them (and die
// if nothing else holds them), and the range faults.
Test(map_vmar, destroy_releases_mappings) {
  zx_handle_t sub;
  zx_vaddr_t base;
  cr_assert_eq(zx_vmar_allocate(zx_vmar_root_self(),
                                ZX_VM_CAN_MAP_READ | ZX_VM_CAN_MAP_WRITE | ZX_VM_CAN_MAP_SPECIFIC,
                                0, 8 * PG, &sub, &base),
               ZX_OK);
  zx_handle_t a = mkvmo_filled(2, 0x10), b = mkvmo_filled(2, 0x20);
  zx_vaddr_t ma, mb;
  cr_assert_eq(zx_vmar_map(sub, MAP_RW, 0, a, 0, 2 * PG, &ma), ZX_OK);
  cr_assert_eq(zx_vmar_map(sub, MAP_RW | ZX_VM_SPECIFIC, 4 * PG, b, 0, 2 * PG, &mb), ZX_OK);
  cr_assert_eq(mb, base + 4 * PG);
  mfill((uint8_t*)mb, 1, 0x21);
  close_h(b);  // b lives on its mapping alone
  cr_assert_eq(vmos_alive(), 2);
  cr_assert_eq(mpage((uint8_t*)ma, 0), 0x10);
  cr_assert_eq(zx_vmar_destroy(sub), ZX_OK);
  cr_assert_eq(num_mappings(a), 0);
  cr_assert_eq(vmos_alive(), 1, "the unmapped VMO with no handle died");
  cr_assert_eq(pages_in_use(), 2);
  expect_access_dies((uint8_t*)ma, false, SIGSEGV, "read after destroy");
  expect_access_dies((uint8_t*)mb + PG, true, SIGSEGV, "write after destroy");
  expect_invariants("destroy");
  close_h(sub);
  close_h(a);
  expect_clean();
}

// SPECIFIC_OVERWRITE replaces part of a mapping of one VMO with another at once.
Test(map_vmar, specific_overwrite_switches_contents) {
  zx_handle_t sub;
  zx_vaddr_t base;
  cr_assert_eq(zx_vmar_allocate(zx_vmar_root_self(),
                                ZX_VM_CAN_MAP_READ | ZX_VM_CAN_MAP_WRITE | ZX_VM_CAN_MAP_SPECIFIC,
                                0, 4 * PG, &sub, &base),
               ZX_OK);
  zx_handle_t a = mkvmo_filled(4, 0x10), b = mkvmo_filled(2, 0x40);
  zx_vaddr_t ma, mb;
  cr_assert_eq(zx_vmar_map(sub, MAP_RW | ZX_VM_SPECIFIC, 0, a, 0, 4 * PG, &ma), ZX_OK);
  uint8_t* m = (uint8_t*)ma;
  mfill(m, 1, 0x11);
  close_h(a);
  cr_assert_eq(zx_vmar_map(sub, MAP_RW | ZX_VM_SPECIFIC_OVERWRITE, PG, b, 0, 2 * PG, &mb),
               ZX_OK);
  cr_assert_eq(mb, ma + PG);
  const int want[4] = {0x10, 0x40, 0x41, 0x13};
  for (uint64_t k = 0; k < 4; k++) {
    cr_assert_eq(mpage(m, k), want[k], "page %llu", (unsigned long long)k);
  }
  mfill(m, 1, 0x44);
  cr_assert_eq(page_val(b, 0), 0x44);
  cr_assert_eq(num_mappings(b), 1);
  cr_assert_eq(vmos_alive(), 2, "a lives on in the two pieces left of its mapping");
  // Overwrite the rest of a's mapping: a dies.
  cr_assert_eq(zx_vmar_map(sub, MAP_RW | ZX_VM_SPECIFIC_OVERWRITE, 0, b, 0, PG, &mb), ZX_OK);
  cr_assert_eq(zx_vmar_map(sub, MAP_RW | ZX_VM_SPECIFIC_OVERWRITE, 3 * PG, b, PG, PG, &mb),
               ZX_OK);
  cr_assert_eq(vmos_alive(), 1);
  cr_assert_eq(mpage(m, 0), 0x44);
  cr_assert_eq(mpage(m, 3), 0x41);
  cr_assert_eq(num_mappings(b), 3);
  expect_invariants("overwrite");
  cr_assert_eq(zx_vmar_destroy(sub), ZX_OK);
  close_h(sub);
  close_h(b);
  expect_clean();
}

// ---- what the process reports about its mappings -----------------------------------

// Regression (fixed): ZX_INFO_PROCESS_VMOS and ZX_INFO_TASK_STATS on zx_process_self() return
// ZX_ERR_NOT_SUPPORTED (a TODO in src/syscalls/syscalls_object.c), although
// docs/behavior.md §12 promises them: a VMO reached only through a mapping must be
// listed with ZX_INFO_VMO_VIA_MAPPING, and TASK_STATS must count mapped bytes.
Test(map_info, process_vmos_and_task_stats) {
  zx_handle_t v = mkvmo(3 * PG);
  uint8_t* m = map_rw(v, 0, 3 * PG);
  zx_koid_t koid = koid_of(v);
  mfill(m, 0, 1);
  mfill(m, 2, 2);
  close_h(v);
  zx_info_vmo_t rec[16];
  size_t actual = 0, avail = 0;
  zx_status_t st = zx_object_get_info(zx_process_self(), ZX_INFO_PROCESS_VMOS, rec, sizeof(rec),
                                      &actual, &avail);
  cr_assert_eq(st, ZX_OK, "ZX_INFO_PROCESS_VMOS = %d", st);
  bool found = false;
  for (size_t i = 0; i < actual; i++) {
    if (rec[i].koid == koid && (rec[i].flags & ZX_INFO_VMO_VIA_MAPPING)) found = true;
  }
  cr_assert(found, "the mapped VMO with no handle is not listed VIA_MAPPING");
  zx_info_task_stats_t ts;
  st = zx_object_get_info(zx_process_self(), ZX_INFO_TASK_STATS, &ts, sizeof(ts), NULL, NULL);
  cr_assert_eq(st, ZX_OK, "ZX_INFO_TASK_STATS = %d", st);
  cr_assert_eq(ts.mem_mapped_bytes, 3 * PG);
  cr_assert_eq(ts.mem_private_bytes, 2 * PG);
  unmap(m, 3 * PG);
  expect_clean();
}

// ---- more child shapes through mappings ---------------------------------------------

// A snapshot reaching past its parent's end: those pages read zero through its mapping
// and are its own when written.
Test(map_children, snapshot_past_parent_end) {
  zx_handle_t p = mkvmo_filled(2, 0x10);
  zx_handle_t c = mkchild(p, SNAP, PG, 4 * PG);
  uint8_t* mc = map_rw(c, 0, 4 * PG);
  uint8_t* mp = map_rw(p, 0, 2 * PG);
  cr_assert_eq(mpage(mc, 0), 0x11);
  for (uint64_t k = 1; k < 4; k++) cr_assert_eq(mpage(mc, k), 0);
  mfill(mc, 2, 0x33);
  cr_assert_eq(page_val(c, 2), 0x33);
  mfill(mp, 1, 0x21);
  cr_assert_eq(mpage(mc, 0), 0x11);
  cr_assert_eq(committed(p), 2 * PG);
  expect_invariants("snapshot past the end");
  unmap(mc, 4 * PG);
  unmap(mp, 2 * PG);
  close_h(c);
  close_h(p);
  expect_clean();
}

// A legacy clone's DECOMMIT (allowed, docs/behavior.md §11) through its mapping shows the
// parent's page again, in the clone's mapping.
Test(map_children, legacy_clone_decommit_through_mapping) {
  zx_handle_t p = mkvmo_filled(2, 0x10);
  zx_handle_t c = mkclone(p, CLONE_COW, 0, 2 * PG);
  uint8_t* mc = map_rw(c, 0, 2 * PG);
  uint8_t* mp = map_rw(p, 0, 2 * PG);
  mfill(mc, 0, 0x99);
  cr_assert_eq(mpage(mp, 0), 0x10);
  mfill(mp, 0, 0x11);
  cr_assert_eq(mpage(mc, 0), 0x99, "the clone wrote page 0: it no longer sees the parent's");
  mfill(mp, 1, 0x12);
  cr_assert_eq(mpage(mc, 1), 0x12, "an unwritten clone page shows the parent's writes");
  cr_assert_eq(zx_vmar_op_range(zx_vmar_root_self(), ZX_VMAR_OP_DECOMMIT, (zx_vaddr_t)mc, PG,
                                NULL, 0),
               ZX_OK);
  cr_assert_eq(mpage(mc, 0), 0x11, "after DECOMMIT the parent's page shows through again");
  cr_assert_eq(page_val(c, 0), 0x11);
  mfill(mp, 0, 0x13);
  cr_assert_eq(mpage(mc, 0), 0x13);
  expect_invariants("clone decommit");
  unmap(mc, 2 * PG);
  unmap(mp, 2 * PG);
  close_h(c);
  close_h(p);
  expect_clean();
}

// Regression (fixed): the clone's mapping keeps showing the parent's old bytes (0x30) after the parent
// writes the page through its own mapping, while zx_vmo_read of the clone shows the new
// ones (0x70). The clone's mapping read page 0 first: its home caches a copy of the
// parent's page (CACHE slot, the parent's page marked `cached`). The parent's first
// touch of its own mapping is the write: mapping_fault_locked moves the page the parent
// held alone into the parent's home slot (home_take + place) and leaves the slot
// writable, but the new home page does not carry the old page's `cached` mark and the
// clone's cache is not invalidated, so H4 breaks (a slot copied by a cache is writable)
// and the clone's CACHE slot goes stale for good (H3). The checker does not notice.
// Reading the page through the parent's mapping first does not help (the move happens
// on a read too, and leaves the slot writable); what avoids it is the parent's mapping
// touching the page before the clone's mapping caches it (as the matrix's parent-first
// reads do).
Test(map_children, legacy_clone_mapping_sees_parent_mapping_writes) {
  zx_handle_t p = mkvmo_filled(2, 0x30);
  zx_handle_t c = mkclone(p, CLONE_COW, 0, 2 * PG);
  uint8_t* mc = map_rw(c, 0, 2 * PG);
  cr_assert_eq(mpage(mc, 0), 0x30);
  uint8_t* mp = map_rw(p, 0, 2 * PG);
  mfill(mp, 0, 0x70);  // the parent's first touch of page 0 through its mapping
  cr_assert_eq(page_val(c, 0), 0x70, "zx_vmo_read of the clone");
  cr_assert_eq(mpage(mc, 0), 0x70, "the clone's mapping shows the parent's old bytes");
  expect_invariants("clone after a parent mapping write");
  unmap(mc, 2 * PG);
  unmap(mp, 2 * PG);
  close_h(c);
  close_h(p);
  expect_clean();
}

// Regression (fixed): same family as the test above, with a page the parent never committed: the clone's
// mapping read it (zero, cached in the clone's home), then the parent's first write
// through its mapping commits a page in the parent's home slot, writable at once; the
// clone's CACHE slot is not invalidated (H3) and shows 0 for good (zx_vmo_read of the
// clone shows 0x87). Found by map_random/walks_with_legacy_clones (RW_CLONES=1
// RW_SEED=36 RW_STEPS=40).
Test(map_children, legacy_clone_mapping_sees_parent_fresh_page_write) {
  zx_handle_t p = mkvmo(8 * PG);
  zx_handle_t c = mkclone(p, CLONE_COW | CLONE_NR, 5 * PG, 2 * PG);
  uint8_t* mp = map_rw(p, 0, 8 * PG);
  uint8_t* mc = map_rw(c, 0, 2 * PG);
  cr_assert_eq(mpage(mc, 1), 0);
  mfill(mp, 6, 0x87);
  cr_assert_eq(page_val(c, 1), 0x87, "zx_vmo_read of the clone");
  cr_assert_eq(mpage(mc, 1), 0x87, "the clone's mapping still shows the zero it cached");
  expect_invariants("clone after a parent's first write");
  unmap(mc, 2 * PG);
  unmap(mp, 8 * PG);
  close_h(c);
  close_h(p);
  expect_clean();
}

// Regression (fixed; not specific to mappings): ZERO of a legacy clone's page that reads zero through
// its parent (the parent never committed it) leaves the page the parent's: the parent's
// later write shows through in the clone (0x0b), although a page the clone "writes (or
// commits, or zeroes)" is its own from then on (docs/behavior.md §5). Through
// zx_vmo_op_range and zx_vmar_op_range alike; a page the parent had committed is fine.
// Found by map_random/walks_with_legacy_clones (RW_CLONES=1 RW_SEED=37 RW_STEPS=40).
Test(map_children, legacy_clone_zeroed_page_is_its_own) {
  zx_handle_t p = mkvmo(8 * PG);
  zx_handle_t c = mkclone(p, CLONE_COW | CLONE_NR, 4 * PG, 3 * PG);
  uint8_t* mc = map_rw(c, 0, 3 * PG);
  uint8_t* mp = map_rw(p, 0, 8 * PG);
  fill_page(p, 6, 0x22);  // committed in the parent before the clone zeroes it
  cr_assert_eq(zx_vmo_op_range(c, ZX_VMO_OP_ZERO, 0, PG, NULL, 0), ZX_OK);
  cr_assert_eq(zx_vmar_op_range(zx_vmar_root_self(), ZX_VMAR_OP_ZERO, (zx_vaddr_t)(mc + PG), PG,
                                NULL, 0),
               ZX_OK);
  cr_assert_eq(zx_vmo_op_range(c, ZX_VMO_OP_ZERO, 2 * PG, PG, NULL, 0), ZX_OK);
  fill_page(p, 4, 0x0b);
  mfill(mp, 5, 0x0c);
  fill_page(p, 6, 0x0d);
  cr_assert_eq(page_val(c, 2), 0, "a zeroed page the parent had committed");
  cr_assert_eq(page_val(c, 0), 0, "the parent's write shows through a page the clone zeroed");
  cr_assert_eq(page_val(c, 1), 0, "the same, zeroed through the clone's mapping");
  cr_assert_eq(mpage(mc, 0), 0);
  cr_assert_eq(mpage(mc, 1), 0);
  expect_invariants("zeroed clone pages");
  unmap(mc, 3 * PG);
  unmap(mp, 8 * PG);
  close_h(c);
  close_h(p);
  expect_clean();
}

// A legacy clone's mapping, when its parent shrinks: the cut pages read zero in the clone
// for good, even after the parent grows back and writes there (docs/behavior.md §5, §11).
Test(map_children, legacy_clone_mapping_when_parent_shrinks) {
  zx_handle_t p = mkvmo_opts(4 * PG, ZX_VMO_RESIZABLE);
  for (uint64_t k = 0; k < 4; k++) fill_page(p, k, (uint8_t)(0x30 + k));
  zx_handle_t c = mkclone(p, CLONE_COW, 0, 4 * PG);
  uint8_t* mc = map_rw(c, 0, 4 * PG);
  uint8_t* mp = map_rw(p, 0, 4 * PG);
  // The parent's mapping touches its pages before the clone's mapping does (the other
  // order is legacy_clone_mapping_sees_parent_mapping_writes' bug).
  for (uint64_t k = 0; k < 4; k++) cr_assert_eq(mpage(mp, k), 0x30 + (int)k);
  for (uint64_t k = 0; k < 4; k++) cr_assert_eq(mpage(mc, k), 0x30 + (int)k);
  mfill(mc, 3, 0x93);  // the clone's own page survives the cut
  cr_assert_eq(zx_vmo_set_size(p, PG), ZX_OK);
  cr_assert_eq(mpage(mc, 0), 0x30);
  cr_assert_eq(mpage(mc, 1), 0, "a cut page reads zero in the clone's mapping");
  cr_assert_eq(mpage(mc, 2), 0);
  cr_assert_eq(mpage(mc, 3), 0x93);
  cr_assert_eq(zx_vmo_set_size(p, 4 * PG), ZX_OK);
  mfill(mp, 2, 0x72);
  mfill(mp, 0, 0x70);
  cr_assert_eq(mpage(mc, 2), 0, "the cut is for good");
  cr_assert_eq(mpage(mc, 0), 0x70, "below the cut the clone still sees the parent's writes");
  cr_assert_eq(page_val(c, 2), 0);
  cr_assert_eq(page_val(c, 0), 0x70);
  expect_invariants("clone cut");
  unmap(mc, 4 * PG);
  unmap(mp, 4 * PG);
  close_h(c);
  close_h(p);
  expect_clean();
}

// ---- out of memory ---------------------------------------------------------------------

// With the page budget spent (zxvmo_set_page_budget at pages_in_use), what needs no new
// page must still work through a mapping, as it does through zx_vmo_read/zx_vmo_write
// (docs/behavior.md §12: a mapping commits exactly as zx_vmo_write, "the budget"
// included; reading never-written pages costs no memory).

Test(map_oom, reading_fresh_pages_needs_no_budget) {
  zx_handle_t used = mkvmo_filled(2, 0x10);
  zx_handle_t v = mkvmo(4 * PG);
  uint8_t* m = map_rw(v, 0, 4 * PG);
  cr_assert_eq(zxvmo_set_page_budget(pages_in_use()), ZX_OK);
  uint8_t b = 0xEE;
  cr_assert_eq(zx_vmo_read(v, &b, 0, 1), ZX_OK);
  cr_assert_eq(b, 0);
  for (uint64_t k = 0; k < 4; k++) cr_assert_eq(mpage(m, k), 0);
  cr_assert_eq(committed(v), 0);
  cr_assert_eq(pages_in_use(), 2);
  expect_invariants("reads with the budget spent");
  cr_assert_eq(zxvmo_set_page_budget(0), ZX_OK);
  unmap(m, 4 * PG);
  close_h(v);
  close_h(used);
  expect_clean();
}

// Regression (fixed): the first access (read or write) through a mapping to a page the VMO already
// holds alone (written with zx_vmo_write, never touched through the mapping) dies of
// SIGBUS when the budget is spent, while zx_vmo_read/zx_vmo_write of the same page
// succeed: mapping_fault_locked moves the page into its home slot with pool_charge(1)
// before the old page is freed, so the "move" (same memory use, per its own comment)
// needs one page of headroom.
Test(map_oom, touching_a_held_page_needs_no_budget) {
  zx_handle_t v = mkvmo_filled(3, 0x10);
  uint8_t* m = map_rw(v, 0, 3 * PG);
  cr_assert_eq(zxvmo_set_page_budget(pages_in_use()), ZX_OK);
  wr8(v, 5, 0x55);  // zx_vmo_write to a page the VMO holds: no new memory
  cr_assert_eq(mrd(m + 2 * PG), 0x12, "read of a held page");
  mwr(m + PG + 5, 0x66);
  cr_assert_eq(rd8(v, PG + 5), 0x66);
  cr_assert_eq(mrd(m + 5), 0x55);
  cr_assert_eq(committed(v), 3 * PG);
  cr_assert_eq(pages_in_use(), 3);
  expect_invariants("writes with the budget spent");
  cr_assert_eq(zxvmo_set_page_budget(0), ZX_OK);
  unmap(m, 3 * PG);
  close_h(v);
  expect_clean();
}

// A forked child's mappings are private and need no pool page: its writes work with the
// parent's budget spent, and commit nothing in the parent.
Test(map_oom, forked_child_writes_with_the_budget_spent) {
  zx_handle_t v = mkvmo(4 * PG);
  uint8_t* m = map_rw(v, 0, 4 * PG);
  mwr(m, 1);
  cr_assert_eq(zxvmo_set_page_budget(pages_in_use()), ZX_OK);
  uint8_t b = 1;
  cr_assert_eq(zx_vmo_write(v, &b, PG, 1), ZX_ERR_NO_MEMORY, "the budget is spent");
  expect_access_ok(m + 2 * PG, true, "write to a fresh page in a forked child");
  expect_access_ok(m, true, "write to a held page in a forked child");
  cr_assert_eq(committed(v), PG);
  cr_assert_eq(mrd(m), 1);
  cr_assert_eq(zxvmo_set_page_budget(0), ZX_OK);
  mwr(m + PG, 2);
  cr_assert_eq(committed(v), 2 * PG, "with the budget lifted the write commits");
  expect_invariants("budget");
  unmap(m, 4 * PG);
  close_h(v);
  expect_clean();
}

// The process dies of SIGBUS when a write fault cannot get a page.
Test(map_oom, write_fault_without_memory_kills, .signal = SIGBUS) {
  zx_handle_t v = mkvmo(4 * PG);
  uint8_t* m = map_rw(v, 0, 4 * PG);
  cr_assert_eq(zxvmo_set_page_budget(1), ZX_OK);
  mwr(m, 1);  // the one page the budget allows
  cr_assert_eq(committed(v), PG);
  cr_assert_eq(mpage(m, 1), 0);
  mwr(m + PG, 2);  // no page left: SIGBUS
  cr_assert_fail("a write fault with the budget spent returned");
}

// Regression (fixed): aborts on the invariant checker (ZXVMO_CHECKS builds) when the root's handle is
// closed: "zxvmo: invariant violated: !h->owner || pmap_lookup(&h->owner->map, idx) == p:
// H2: home page at index 0 not held by its owner". The root wrote page 0 through a
// mapping (so page 0 is a home page), a snapshot shares it, and a slice (of other
// pages) keeps the root's content alive after its last handle and mapping go: the dead
// root drops page 0 from its map while its home still names it owner, without moving
// the shared home page away first (home_unshare), so H2 breaks. No slice: no failure.
Test(map_children, mapped_root_closed_while_a_slice_and_a_snapshot_live) {
  zx_handle_t r = mkvmo(8 * PG);
  uint8_t* m = map_rw(r, 0, 8 * PG);
  mfill(m, 0, 0x25);
  zx_handle_t c = mkchild(r, ALOW, 0, 2 * PG);
  zx_handle_t s = mkchild(r, SLICE, 6 * PG, 2 * PG);
  unmap(m, 8 * PG);
  expect_invariants("unmapped");
  close_h(r);
  expect_invariants("root closed while a slice and a snapshot live");
  cr_assert_eq(page_val(c, 0), 0x25);
  cr_assert_eq(page_val(c, 1), 0);
  fill_page(s, 0, 0x66);
  cr_assert_eq(page_val(s, 0), 0x66);
  uint8_t* mc = map_rw(c, 0, 2 * PG);
  cr_assert_eq(mpage(mc, 0), 0x25);
  mfill(mc, 0, 0x26);
  cr_assert_eq(page_val(c, 0), 0x26);
  unmap(mc, 2 * PG);
  close_h(s);
  close_h(c);
  expect_clean();
}

// ---- a random walk over a family, against a model -------------------------------------
//
// Random operations on a family made of a root, snapshots (and AT_LEAST_ON_WRITE
// children) of any member, slices of any member, each mapped zero, one or two times
// (all of it, or a random range at a random vmo_offset),
// handles closed while mapped: writes through mappings and with zx_vmo_write, ZERO and
// COMMIT (through zx_vmo_op_range and zx_vmar_op_range). After every step every live
// member is compared with the model through each of its mappings and its handle.

#define RW_MAXOBJ 10
#define RW_MAXPG 12  // a content's pages (a root has 8; children may reach past it)
#define RW_MAXC 64

typedef struct rw_obj {
  bool live;
  zx_handle_t h;      // ZX_HANDLE_INVALID once closed
  int cid;            // the content it shows
  uint64_t off, n;    // pages [off, off+n) of that content
  uint8_t* map[2];    // mappings of pages [moff, moff+mlen) of it, or NULL
  uint64_t moff[2], mlen[2];
  bool sliceable;     // a slice, or not (a COW child of a slice is NOT_SUPPORTED)
} rw_obj_t;

// A content: a root's or a snapshot's pages, or a one-way clone's (legacy clone, or
// AT_LEAST_ON_WRITE child of one), which reads its parent's page, as the parent has it
// now, wherever it has not written (owned) the page itself, and zero past `bound`.
typedef struct rw_model {
  rw_obj_t o[RW_MAXOBJ];
  int content[RW_MAXC][RW_MAXPG];
  bool own[RW_MAXC][RW_MAXPG];  // one-way clones: the page is the clone's own
  int parent[RW_MAXC];          // one-way clones: the parent's content, else -1
  uint64_t poff[RW_MAXC];       // its window's offset in the parent
  uint64_t bound[RW_MAXC];      // pages of the window inside the parent at creation
  int nclones[RW_MAXC];         // one-way clones made of the content
  int ncontent;
  bool with_clones;
  uint64_t seed;
  uint64_t rnd[12];  // this step's random numbers, drawn up front so that a step can be
  int nrnd;          // skipped (RW_SKIP) without changing the others' draws
  int step;
} rw_model_t;

static uint64_t rw_rand(rw_model_t* m) {
  cr_assert_lt(m->nrnd, 12);
  return m->rnd[m->nrnd++];
}

// RW_SKIP=a,b,c: steps to skip (to shrink a failing walk by hand or by script).
static bool rw_skipped(int step) {
  const char* s = getenv("RW_SKIP");
  while (s && *s) {
    char* end;
    long v = strtol(s, &end, 10);
    if (end == s) break;
    if (v == step) return true;
    s = *end ? end + 1 : end;
  }
  return false;
}

// What content `c` shows at page `i`.
static int rw_visible(const rw_model_t* m, int c, uint64_t i) {
  while (m->parent[c] >= 0 && !m->own[c][i]) {
    if (i >= m->bound[c]) return 0;
    i += m->poff[c];
    c = m->parent[c];
  }
  return m->content[c][i];
}

static void rw_set(rw_model_t* m, int c, uint64_t i, int v) {
  m->content[c][i] = v;
  m->own[c][i] = true;
}

// True if o is the parent VMO of one-way clones: the walk keeps it alive (a clone
// that outlives its parent, D11, is left to the other tests).
static bool rw_keep_alive(const rw_model_t* m, const rw_obj_t* o) {
  return o->sliceable && m->nclones[o->cid] > 0;
}

// COMMIT of pages [lo, hi) of object o: a one-way clone owns each page from then on,
// with what it showed (docs/behavior.md §8).
static void rw_commit(rw_model_t* m, const rw_obj_t* o, uint64_t lo, uint64_t hi) {
  for (uint64_t k = lo; k < hi; k++) {
    uint64_t i = o->off + k;
    if (m->parent[o->cid] >= 0 && !m->own[o->cid][i]) {
      rw_set(m, o->cid, i, rw_visible(m, o->cid, i));
    }
  }
}

// RW_TRACE=1 in the environment prints every step; RW_SEED=n RW_STEPS=m runs one walk
// (RW_CLONES=1: with one-way clones), RW_SKIP=a,b,... leaves steps out.
__attribute__((format(printf, 1, 2))) static void rw_trace(const char* fmt, ...) {
  if (!getenv("RW_TRACE")) return;
  va_list ap;
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
}

static int rw_pick(rw_model_t* m, bool need_handle) {
  int idx[RW_MAXOBJ], n = 0;
  for (int i = 0; i < RW_MAXOBJ; i++) {
    if (m->o[i].live && (!need_handle || m->o[i].h != ZX_HANDLE_INVALID)) idx[n++] = i;
  }
  return n ? idx[rw_rand(m) % (uint64_t)n] : -1;
}

static int rw_free_slot(rw_model_t* m) {
  for (int i = 0; i < RW_MAXOBJ; i++) {
    if (!m->o[i].live) return i;
  }
  return -1;
}

// Where page k of object o is in its mapping j, or NULL if that mapping does not show it.
static uint8_t* rw_at(const rw_obj_t* o, int j, uint64_t k) {
  if (!o->map[j] || k < o->moff[j] || k >= o->moff[j] + o->mlen[j]) return NULL;
  return o->map[j] + (k - o->moff[j]) * PG;
}

static void rw_check(rw_model_t* m, const char* op) {
  for (int i = 0; i < RW_MAXOBJ; i++) {
    rw_obj_t* o = &m->o[i];
    if (!o->live) continue;
    for (uint64_t k = 0; k < o->n; k++) {
      int want = rw_visible(m, o->cid, o->off + k);
      if (o->h != ZX_HANDLE_INVALID) {
        int got = page_val(o->h, k);
        cr_assert_eq(got, want, "step %d (%s): object %d page %llu via handle: %#x, want %#x",
                     m->step, op, i, (unsigned long long)k, got, want);
      }
      for (int j = 0; j < 2; j++) {
        if (rw_at(o, j, k)) {
          int got = mpage(rw_at(o, j, k), 0);
          cr_assert_eq(got, want,
                       "step %d (%s): object %d page %llu via mapping %d: %#x, want %#x",
                       m->step, op, i, (unsigned long long)k, j, got, want);
        }
      }
    }
  }
  zx_status_t st = zxvmo_check_invariants();
  cr_assert_eq(st, ZX_OK, "step %d (%s): invariants %d", m->step, op, st);
}

static void rw_drop_if_dead(rw_obj_t* o) {
  if (o->h == ZX_HANDLE_INVALID && !o->map[0] && !o->map[1]) o->live = false;
}

static void rw_walk(uint64_t seed, int steps, bool with_clones) {
  static rw_model_t model;  // static: a failed assertion leaves nothing to free
  rw_model_t* m = &model;
  memset(m, 0, sizeof(*m));
  m->seed = seed;
  m->with_clones = with_clones;
  for (int c = 0; c < RW_MAXC; c++) m->parent[c] = -1;
  m->o[0] = (rw_obj_t){.live = true, .h = mkvmo(8 * PG), .n = 8, .sliceable = true};
  m->ncontent = 1;
  for (m->step = 0; m->step < steps; m->step++) {
    const char* op = "?";
    for (int r = 0; r < 12; r++) m->rnd[r] = xorshift(&m->seed);
    m->nrnd = 0;
    if (rw_skipped(m->step)) continue;
    int i = rw_pick(m, false);
    if (i < 0) break;  // everything closed
    rw_obj_t* o = &m->o[i];
    uint64_t k = o->n ? rw_rand(m) % o->n : 0;
    uint8_t val = (uint8_t)(1 + rw_rand(m) % 250);
    switch (rw_rand(m) % 12) {
      case 0:
      case 1:
      case 2: {  // write a page through a mapping, or with zx_vmo_write
        if (o->n == 0) break;
        uint8_t* mp = rw_at(o, (int)(rw_rand(m) % 2), k);
        if (mp) {
          mfill(mp, 0, val);
          op = "write via mapping";
        } else if (o->h != ZX_HANDLE_INVALID) {
          fill_page(o->h, k, val);
          op = "zx_vmo_write";
        } else {
          break;
        }
        rw_set(m, o->cid, o->off + k, val);
        break;
      }
      case 3: {  // a snapshot-kind child
        int f = rw_free_slot(m);
        if (f < 0 || o->h == ZX_HANDLE_INVALID || m->ncontent == RW_MAXC) break;
        uint64_t off = rw_rand(m) % (o->n + 1);
        uint64_t n = 1 + rw_rand(m) % 4;
        if (o->off + off + n > RW_MAXPG) break;
        zx_handle_t c = ZX_HANDLE_INVALID;
        int kind = (int)(rw_rand(m) % (m->with_clones ? 3 : 2));
        uint32_t opts = kind == 0 ? SNAP : ALOW;
        // (Non-resizable, so that it can have slices.)
        zx_status_t st =
            kind == 2 ? zx_vmo_clone(o->h, CLONE_COW | CLONE_NR, off * PG, n * PG, &c)
                      : zx_vmo_create_child(o->h, opts, off * PG, n * PG, &c);
        if (!o->sliceable) {
          cr_assert_eq(st, ZX_ERR_NOT_SUPPORTED, "step %d: COW child of a slice", m->step);
          op = "refused COW child of a slice";
          break;
        }
        bool oneway_parent = m->parent[o->cid] >= 0;
        if (kind == 0 && oneway_parent) {
          cr_assert_eq(st, ZX_ERR_NOT_SUPPORTED, "step %d: SNAPSHOT of a one-way clone", m->step);
          op = "refused SNAPSHOT of a one-way clone";
          break;
        }
        cr_assert_eq(st, ZX_OK, "step %d: create_child / clone", m->step);
        int cid = m->ncontent++;
        m->parent[cid] = -1;
        if (kind == 2 || (kind == 1 && oneway_parent)) {
          // A one-way clone of o's content (o is not a slice: its off is 0).
          m->parent[cid] = o->cid;
          m->poff[cid] = off;
          m->bound[cid] = off < o->n ? o->n - off : 0;
          m->nclones[o->cid]++;
        } else {
          for (uint64_t j = 0; j < n; j++) {
            m->content[cid][j] = off + j < o->n ? rw_visible(m, o->cid, o->off + off + j) : 0;
          }
        }
        m->o[f] = (rw_obj_t){.live = true, .h = c, .cid = cid, .n = n, .sliceable = true};
        rw_trace("  object %d = child (options %#x) of object %d, offset %llu, %llu pages\n", f,
                 opts, i, (unsigned long long)off, (unsigned long long)n);
        op = m->parent[cid] >= 0 ? "one-way clone"
             : opts == SNAP      ? "snapshot"
                                 : "at-least-on-write child";
        break;
      }
      case 4: {  // a slice
        int f = rw_free_slot(m);
        if (f < 0 || o->h == ZX_HANDLE_INVALID || o->n == 0) break;
        uint64_t off = rw_rand(m) % o->n;
        uint64_t n = 1 + rw_rand(m) % (o->n - off);
        zx_handle_t c = mkchild(o->h, SLICE, off * PG, n * PG);
        m->o[f] = (rw_obj_t){.live = true, .h = c, .cid = o->cid, .off = o->off + off, .n = n};
        rw_trace("  object %d = slice of object %d, offset %llu, %llu pages\n", f, i,
                 (unsigned long long)off, (unsigned long long)n);
        op = "slice";
        break;
      }
      case 5:
      case 6: {  // map (all of it)
        int j = o->map[0] ? 1 : 0;
        if (o->map[j] || o->h == ZX_HANDLE_INVALID || o->n == 0) break;
        o->moff[j] = rw_rand(m) % 3 ? 0 : rw_rand(m) % o->n;
        o->mlen[j] = o->moff[j] ? 1 + rw_rand(m) % (o->n - o->moff[j]) : o->n;
        o->map[j] = map_rw(o->h, o->moff[j] * PG, o->mlen[j] * PG);
        op = "map";
        break;
      }
      case 7: {  // unmap
        int j = rw_rand(m) % 2;
        if (!o->map[j]) break;
        if (rw_keep_alive(m, o) && o->h == ZX_HANDLE_INVALID && !o->map[1 - j]) break;
        unmap(o->map[j], o->mlen[j] * PG);
        o->map[j] = NULL;
        rw_drop_if_dead(o);
        op = "unmap";
        break;
      }
      case 8: {  // close the handle (the object lives on while mapped)
        if (o->h == ZX_HANDLE_INVALID || i == 0) break;
        if (rw_keep_alive(m, o) && !o->map[0] && !o->map[1]) break;
        close_h(o->h);
        o->h = ZX_HANDLE_INVALID;
        rw_drop_if_dead(o);
        op = "close";
        break;
      }
      case 9: {  // ZERO one page, through the VMO or through a mapping
        if (o->n == 0) break;
        if (rw_at(o, 0, k) && rw_rand(m) % 2) {
          cr_assert_eq(zx_vmar_op_range(zx_vmar_root_self(), ZX_VMAR_OP_ZERO,
                                        (zx_vaddr_t)rw_at(o, 0, k), PG, NULL, 0),
                       ZX_OK, "step %d", m->step);
          op = "ZERO via zx_vmar_op_range";
        } else if (o->h != ZX_HANDLE_INVALID) {
          cr_assert_eq(zx_vmo_op_range(o->h, ZX_VMO_OP_ZERO, k * PG, PG, NULL, 0), ZX_OK,
                       "step %d", m->step);
          op = "ZERO via zx_vmo_op_range";
        } else {
          break;
        }
        rw_set(m, o->cid, o->off + k, 0);
        break;
      }
      case 10: {  // COMMIT: changes no content (a one-way clone owns the pages after)
        if (o->n == 0) break;
        if (o->map[1] && rw_rand(m) % 2) {
          cr_assert_eq(zx_vmar_op_range(zx_vmar_root_self(), ZX_VMAR_OP_COMMIT,
                                        (zx_vaddr_t)o->map[1], o->mlen[1] * PG, NULL, 0),
                       ZX_OK, "step %d", m->step);
          rw_commit(m, o, o->moff[1], o->moff[1] + o->mlen[1]);
          op = "COMMIT via zx_vmar_op_range";
        } else if (o->h != ZX_HANDLE_INVALID) {
          cr_assert_eq(zx_vmo_op_range(o->h, ZX_VMO_OP_COMMIT, 0, o->n * PG, NULL, 0), ZX_OK,
                       "step %d", m->step);
          rw_commit(m, o, 0, o->n);
          op = "COMMIT via zx_vmo_op_range";
        }
        break;
      }
      default: {  // a byte through one mapping, read back through the other
        if (o->n == 0 || !rw_at(o, 0, k) || !rw_at(o, 1, k)) break;
        mwr(rw_at(o, 0, k), val);
        cr_assert_eq(mrd(rw_at(o, 1, k)), val, "step %d: two mappings disagree", m->step);
        mfill(rw_at(o, 1, k), 0, val);  // keep pages whole for the model
        rw_set(m, o->cid, o->off + k, val);
        op = "byte through two mappings";
        break;
      }
    }
    rw_trace("step %d: object %d: %s (page %llu, value %#x)\n", m->step, i, op,
             (unsigned long long)k, val);
    rw_check(m, op);
  }
  for (int i = 0; i < RW_MAXOBJ; i++) {
    rw_obj_t* o = &m->o[i];
    if (!o->live) continue;
    for (int j = 0; j < 2; j++) {
      if (o->map[j]) {
        rw_trace("end: unmap object %d mapping %d\n", i, j);
        unmap(o->map[j], o->mlen[j] * PG);
      }
    }
    rw_trace("end: close object %d\n", i);
    if (o->h != ZX_HANDLE_INVALID) close_h(o->h);
  }
  expect_clean();
}

// Regression (fixed): seed 57 (40 steps) aborts on the invariant checker during the final closes:
// "H2: home page at index 7 not held by its owner" (replay: RW_SEED=57 RW_STEPS=40
// RW_TRACE=1); the same failure reduced to a test of its own:
// map_children/mapped_root_closed_while_a_slice_and_a_snapshot_live.
Test(map_random, walks) {
  const char* one = getenv("RW_SEED");
  if (one) {
    const char* steps = getenv("RW_STEPS");
    rw_walk(strtoull(one, NULL, 0) * 0x9E3779B97F4A7C15ull, steps ? atoi(steps) : 250,
            getenv("RW_CLONES") && strcmp(getenv("RW_CLONES"), "1") == 0);
    return;
  }
  // Short walks end (and close everything) in more kinds of state; long ones go deeper.
  for (uint64_t seed = 1; seed <= 64; seed++) {
    rw_walk(seed * 0x9E3779B97F4A7C15ull, seed % 2 ? 40 : 200, false);
  }
}

// The same walks with one-way clones too (legacy zx_vmo_clone, and AT_LEAST_ON_WRITE
// children of one-way clones), which read their parents' pages as the parents have them
// now until they write them (docs/behavior.md §5, §11). Replay one with RW_CLONES=1 (and
// RW_SEED, RW_STEPS, RW_TRACE as above).
// Regression (fixed): seeds 36, 37, 38, 48, 52, 57 and 58 fail, on the library bugs reduced to
// map_children/legacy_clone_mapping_sees_parent_mapping_writes,
// legacy_clone_mapping_sees_parent_fresh_page_write and legacy_clone_zeroed_page_is_its_own
// (and on mapped_root_closed_while_a_slice_and_a_snapshot_live's H2). Shrink a failing
// walk with RW_SKIP (steps to leave out) while it still fails the same way.
Test(map_random, walks_with_legacy_clones) {
  for (uint64_t seed = 1; seed <= 64; seed++) {
    rw_walk(seed * 0x9E3779B97F4A7C15ull, seed % 2 ? 40 : 200, true);
  }
}

// A mapping of a slice longer than the slice: past the slice's end it shows nothing of
// its root, even where the root holds pages (the slice's home is its root's): an access
// there is SIGBUS, as past any VMO's end (docs/behavior.md §12). Found by the fuzzer's
// threaded stress run.
Test(map_children, slice_mapping_past_its_end_shows_nothing_of_the_root) {
  zx_handle_t root = mkvmo(8 * PG);
  uint8_t* rm = map_rw(root, 0, 8 * PG);
  for (uint64_t k = 0; k < 8; k++) mfill(rm, k, (uint8_t)(0x50 + k));
  zx_handle_t sl;
  cr_assert_eq(zx_vmo_create_child(root, ZX_VMO_CHILD_SLICE, PG, 2 * PG, &sl), ZX_OK);
  uint8_t* sm = map_rw(sl, 0, 4 * PG);  // two pages past the slice's end
  cr_assert_eq(mpage(sm, 0), 0x51);
  cr_assert_eq(mpage(sm, 1), 0x52);
  expect_access_dies(sm + 2 * PG, false, SIGBUS, "read past the slice's end");
  expect_access_dies(sm + 3 * PG + 7, true, SIGBUS, "write past the slice's end");
  unmap(sm, 4 * PG);
  unmap(rm, 8 * PG);
  cr_assert_eq(zx_handle_close(sl), ZX_OK);
  cr_assert_eq(zx_handle_close(root), ZX_OK);
  expect_invariants("slice mapped past its end");
}
