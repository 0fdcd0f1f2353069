// SPDX-License-Identifier: BSD-3-Clause
// What each child sees (docs/behavior.md §5 and §11): the matrix of child type
// (SNAPSHOT, SNAPSHOT_AT_LEAST_ON_WRITE, legacy clone, SLICE) x window (empty, 1 page,
// 2 pages, 70 pages, past the parent's end) x order (parent written before or after the
// child is made; parent closed first or last), checked against a model of what each
// side must read after every step. Then growth, shrinking and chains.
#include <criterion/criterion.h>
#include <stdio.h>
#include <zircon/syscalls.h>

#include "child_helpers.h"
#include "helpers.h"

enum ctype { T_SNAP, T_ALOW, T_CLONE, T_SLICE, T_COUNT };
static const char* const kTypeName[] = {"SNAPSHOT", "AT_LEAST_ON_WRITE", "legacy-clone", "SLICE"};

#define NP 80u  // parent pages

typedef struct window {
  const char* name;
  uint64_t off;  // pages
  uint64_t n;    // pages
} window_t;

static const window_t kWindows[] = {
    {"size0", 1, 0}, {"one-page", 1, 1}, {"two-pages", 2, 2},
    {"large-70", 4, 70}, {"past-end", 78, 4},
};
#define NWIN (sizeof(kWindows) / sizeof(kWindows[0]))

static zx_status_t make_child(enum ctype t, zx_handle_t p, uint64_t off, uint64_t size,
                              zx_handle_t* out) {
  switch (t) {
    case T_SNAP: return zx_vmo_create_child(p, SNAP, off, size, out);
    case T_ALOW: return zx_vmo_create_child(p, ALOW, off, size, out);
    case T_CLONE: return zx_vmo_clone(p, CLONE_COW, off, size, out);
    default: return zx_vmo_create_child(p, SLICE, off, size, out);
  }
}

// The model of one parent/child pair.
typedef struct model {
  enum ctype t;
  window_t w;
  int parent[NP];       // expected parent page values
  int child[NP + 8];    // expected child page values
  bool forked[NP + 8];  // legacy clone: child wrote the page
  bool parent_alive;
  char what[160];
} model_t;

static void m_parent_write(model_t* m, zx_handle_t p, uint64_t k, uint8_t v) {
  fill_page(p, k, v);
  m->parent[k] = v;
  if (k >= m->w.off && k < m->w.off + m->w.n) {
    uint64_t j = k - m->w.off;
    if (m->t == T_SLICE || (m->t == T_CLONE && !m->forked[j])) m->child[j] = v;
  }
}

static void m_child_write(model_t* m, zx_handle_t c, uint64_t j, uint8_t v) {
  fill_page(c, j, v);
  m->child[j] = v;
  m->forked[j] = true;
  uint64_t k = m->w.off + j;
  if (m->t == T_SLICE && m->parent_alive) m->parent[k] = v;
}

static void m_check(const model_t* m, zx_handle_t p, zx_handle_t c, const char* step) {
  for (uint64_t j = 0; c != ZX_HANDLE_INVALID && j < m->w.n; j++) {
    int got = page_val(c, j);
    cr_assert_eq(got, m->child[j], "%s, %s: child page %llu reads %d, want %d", m->what, step,
                 (unsigned long long)j, got, m->child[j]);
  }
  if (m->parent_alive) {
    for (uint64_t k = 0; k < NP; k++) {
      int got = page_val(p, k);
      cr_assert_eq(got, m->parent[k], "%s, %s: parent page %llu reads %d, want %d", m->what, step,
                   (unsigned long long)k, got, m->parent[k]);
    }
  }
  cr_assert_eq(zxvmo_check_invariants(), ZX_OK, "%s, %s", m->what, step);
}

static void run_matrix(enum ctype t) {
  for (size_t wi = 0; wi < NWIN; wi++) {
    for (int before = 0; before < 2; before++) {
      for (int parent_first = 0; parent_first < 2; parent_first++) {
        model_t m;
        memset(&m, 0, sizeof(m));
        m.t = t;
        m.w = kWindows[wi];
        m.parent_alive = true;
        snprintf(m.what, sizeof(m.what), "%s window %s, parent written %s, parent closed %s",
                 kTypeName[t], m.w.name, before ? "before" : "after",
                 parent_first ? "first" : "last");
        zx_handle_t p = mkvmo(NP * PG);
        if (before) {
          for (uint64_t k = 0; k < NP; k++) m_parent_write(&m, p, k, (uint8_t)(0x20 + k));
        }
        zx_handle_t c = ZX_HANDLE_INVALID;
        zx_status_t st = make_child(t, p, m.w.off * PG, m.w.n * PG, &c);
        if (t == T_SLICE && m.w.off + m.w.n > NP) {
          cr_assert_eq(st, ZX_ERR_INVALID_ARGS, "%s", m.what);
          close_h(p);
          expect_clean();
          continue;
        }
        cr_assert_eq(st, ZX_OK, "%s: create = %d", m.what, st);
        // What the child sees at creation: the parent's content, zero past its end.
        for (uint64_t j = 0; j < m.w.n; j++) {
          uint64_t k = m.w.off + j;
          m.child[j] = k < NP ? m.parent[k] : 0;
        }
        cr_assert_eq(vmo_size(c), m.w.n * PG, "%s", m.what);
        m_check(&m, p, c, "after create");
        if (!before) {
          for (uint64_t k = 0; k < NP; k++) m_parent_write(&m, p, k, (uint8_t)(0x20 + k));
          m_check(&m, p, c, "parent written after create");
        }
        if (m.w.n > 0) {
          m_child_write(&m, c, 0, 0xF1);
          if (m.w.n > 1) m_child_write(&m, c, m.w.n - 1, 0xF2);
          m_check(&m, p, c, "child wrote first and last page");
        }
        // The parent rewrites everything.
        for (uint64_t k = 0; k < NP; k++) m_parent_write(&m, p, k, (uint8_t)(0x80 + k));
        m_check(&m, p, c, "parent rewrote every page");
        if (parent_first) {
          close_h(p);
          m.parent_alive = false;
          m_check(&m, p, c, "parent closed");
          for (uint64_t j = 0; j < m.w.n; j += 3) m_child_write(&m, c, j, (uint8_t)(0xA0 + j));
          m_check(&m, p, c, "child wrote after parent closed");
          close_h(c);
        } else {
          close_h(c);
          m_check(&m, p, ZX_HANDLE_INVALID, "child closed (parent unchanged)");
          close_h(p);
        }
        cr_assert_eq(pages_in_use(), 0, "%s: %llu pages left", m.what,
                     (unsigned long long)pages_in_use());
        cr_assert_eq(vmos_alive(), 0, "%s", m.what);
        cr_assert_eq(zxvmo_check_invariants(), ZX_OK, "%s", m.what);
      }
    }
  }
}

Test(matrix, snapshot) { run_matrix(T_SNAP); }
Test(matrix, snapshot_at_least_on_write) { run_matrix(T_ALOW); }
Test(matrix, legacy_clone) { run_matrix(T_CLONE); }
Test(matrix, slice) { run_matrix(T_SLICE); }

// The aliases of SNAPSHOT_AT_LEAST_ON_WRITE behave exactly like SNAPSHOT on an
// ordinary VMO: isolated from later parent writes both ways.
Test(matrix, aliases_behave_as_snapshot) {
  const uint32_t opts[] = {ZX_VMO_CHILD_COPY_ON_WRITE, ZX_VMO_CHILD_PRIVATE_PAGER_COPY, ALOW,
                           ALOW | RESZ, ALOW | NOWR};
  for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
    zx_handle_t p = mkvmo_filled(3, 0x31);
    zx_handle_t c = mkchild(p, opts[i], 0, 3 * PG);
    fill_page(p, 0, 0x99);
    cr_assert_eq(page_val(c, 0), 0x31, "options %#x sees a later parent write", opts[i]);
    cr_assert_eq(zx_vmo_op_range(p, ZX_VMO_OP_ZERO, PG, PG, NULL, 0), ZX_OK);
    cr_assert_eq(page_val(c, 1), 0x32, "options %#x sees a later parent ZERO", opts[i]);
    close_h(p);
    cr_assert_eq(page_val(c, 2), 0x33, "options %#x", opts[i]);
    cr_assert_eq(page_val(c, 0), 0x31);
    close_h(c);
    expect_clean();
  }
}

// A child of a smaller child never sees the grandparent's pages past the middle's end.
Test(matrix, grandchild_past_middle_end_reads_zero) {
  struct {
    enum ctype t1, t2;
  } chains[] = {
      {T_SNAP, T_SNAP}, {T_SNAP, T_CLONE}, {T_ALOW, T_ALOW}, {T_CLONE, T_CLONE},
      {T_CLONE, T_ALOW}, {T_SNAP, T_ALOW}, {T_ALOW, T_CLONE},
  };
  for (size_t i = 0; i < sizeof(chains) / sizeof(chains[0]); i++) {
    const char* n1 = kTypeName[chains[i].t1];
    const char* n2 = kTypeName[chains[i].t2];
    zx_handle_t r = mkvmo_filled(8, 0x10);
    zx_handle_t c1, c2;
    cr_assert_eq(make_child(chains[i].t1, r, 0, 4 * PG, &c1), ZX_OK);
    cr_assert_eq(make_child(chains[i].t2, c1, 2 * PG, 4 * PG, &c2), ZX_OK, "%s of %s", n2, n1);
    cr_assert_eq(page_val(c2, 0), 0x12, "%s of %s", n2, n1);
    cr_assert_eq(page_val(c2, 1), 0x13, "%s of %s", n2, n1);
    cr_assert_eq(page_val(c2, 2), 0, "%s of %s: grandparent page 4 visible", n2, n1);
    cr_assert_eq(page_val(c2, 3), 0, "%s of %s: grandparent page 5 visible", n2, n1);
    fill_page(r, 4, 0x77);
    cr_assert_eq(page_val(c2, 2), 0, "%s of %s", n2, n1);
    // Closing the middle does not widen the window.
    close_h(c1);
    cr_assert_eq(page_val(c2, 2), 0, "%s of %s after closing the middle", n2, n1);
    fill_page(r, 5, 0x78);
    cr_assert_eq(page_val(c2, 3), 0, "%s of %s after closing the middle", n2, n1);
    cr_assert_eq(page_val(c2, 0), 0x12, "%s of %s", n2, n1);
    close_h(c2);
    close_h(r);
    expect_clean();
  }
}

// Growing any COW child exposes zeros, never parent content.
Test(matrix, growing_cow_child_exposes_zeros) {
  const enum ctype types[] = {T_SNAP, T_ALOW, T_CLONE};
  for (size_t i = 0; i < 3; i++) {
    for (uint64_t off = 0; off <= 2; off += 2) {
      zx_handle_t r = mkvmo_filled(8, 0x10);
      zx_handle_t c;
      zx_status_t st;
      if (types[i] == T_CLONE) {
        st = zx_vmo_clone(r, CLONE_COW, off * PG, 2 * PG, &c);
      } else {
        st = zx_vmo_create_child(r, (types[i] == T_SNAP ? SNAP : ALOW) | RESZ, off * PG, 2 * PG,
                                 &c);
      }
      cr_assert_eq(st, ZX_OK);
      const char* n = kTypeName[types[i]];
      cr_assert_eq(zx_vmo_set_size(c, 6 * PG), ZX_OK, "%s", n);
      cr_assert_eq(page_val(c, 0), (int)(0x10 + off), "%s off %llu", n, (unsigned long long)off);
      cr_assert_eq(page_val(c, 1), (int)(0x11 + off), "%s", n);
      for (uint64_t j = 2; j < 6; j++) {
        cr_assert_eq(page_val(c, j), 0, "%s off %llu: grown page %llu shows parent content", n,
                     (unsigned long long)off, (unsigned long long)j);
      }
      fill_page(r, off + 3, 0x55);
      cr_assert_eq(page_val(c, 3), 0, "%s: grown page shows a later parent write", n);
      // Shrink and grow the child itself: its own cut range reads zero.
      cr_assert_eq(zx_vmo_set_size(c, PG), ZX_OK);
      cr_assert_eq(zx_vmo_set_size(c, 2 * PG), ZX_OK);
      cr_assert_eq(page_val(c, 1), 0, "%s: page cut by shrinking reappeared", n);
      fill_page(r, off + 1, 0x56);
      cr_assert_eq(page_val(c, 1), 0, "%s", n);
      cr_assert_eq(page_val(c, 0), (int)(0x10 + off), "%s", n);
      cr_assert_eq(zxvmo_check_invariants(), ZX_OK);
      close_h(c);
      close_h(r);
      expect_clean();
    }
  }
}

// Shrinking a node cuts its children's view for good, except that snapshot children
// keep their snapshot.
Test(matrix, shrink_then_grow_parent_cuts_children) {
  zx_handle_t r = mkvmo_opts(8 * PG, ZX_VMO_RESIZABLE);
  for (uint64_t k = 0; k < 8; k++) fill_page(r, k, (uint8_t)(0x10 + k));
  zx_handle_t s = mkchild(r, SNAP, 0, 8 * PG);
  zx_handle_t a = mkchild(r, ALOW, 0, 8 * PG);
  zx_handle_t l = mkclone(r, CLONE_COW, 0, 8 * PG);
  zx_handle_t l2 = mkclone(r, CLONE_COW, 0, 8 * PG);
  zx_handle_t sl = mkclone(r, CLONE_COW, 4 * PG, 2 * PG);
  fill_page(l2, 6, 0xC6);
  cr_assert_eq(zx_vmo_set_size(r, 2 * PG), ZX_OK);
  for (uint64_t k = 0; k < 8; k++) {
    cr_assert_eq(page_val(s, k), (int)(0x10 + k), "snapshot page %llu after shrink", (unsigned long long)k);
    cr_assert_eq(page_val(a, k), (int)(0x10 + k), "at-least-on-write page %llu", (unsigned long long)k);
    int want = k < 2 ? (int)(0x10 + k) : 0;
    cr_assert_eq(page_val(l, k), want, "clone page %llu after parent shrink", (unsigned long long)k);
    int want2 = k == 6 ? 0xC6 : want;
    cr_assert_eq(page_val(l2, k), want2, "forked clone page %llu", (unsigned long long)k);
  }
  cr_assert_eq(page_val(sl, 0), 0);
  cr_assert_eq(page_val(sl, 1), 0);
  cr_assert_eq(zx_vmo_set_size(r, 8 * PG), ZX_OK);
  for (uint64_t k = 2; k < 8; k++) {
    cr_assert_eq(page_val(r, k), 0, "parent page %llu after regrow", (unsigned long long)k);
    cr_assert_eq(page_val(l, k), 0, "clone page %llu re-exposed", (unsigned long long)k);
  }
  fill_page(r, 5, 0x99);
  fill_page(r, 1, 0x98);
  cr_assert_eq(page_val(l, 5), 0, "clone sees a parent write in the cut range");
  cr_assert_eq(page_val(sl, 1), 0, "clone sees a parent write in the cut range");
  cr_assert_eq(page_val(l, 1), 0x98, "clone stops seeing the parent below the cut");
  cr_assert_eq(page_val(s, 5), 0x15);
  cr_assert_eq(page_val(s, 1), 0x11);
  cr_assert_eq(page_val(a, 1), 0x11);
  cr_assert_eq(page_val(l2, 6), 0xC6);
  close_h(sl);
  close_h(l2);
  close_h(l);
  close_h(a);
  close_h(s);
  close_h(r);
  expect_clean();
}

Test(matrix, unaligned_shrink_zeroes_tail_seen_by_clone_not_snapshot) {
  zx_handle_t r = mkvmo_opts(4 * PG, ZX_VMO_RESIZABLE);
  for (uint64_t k = 0; k < 4; k++) fill_page(r, k, (uint8_t)(0x10 + k));
  zx_handle_t s = mkchild(r, SNAP, 0, 4 * PG);
  zx_handle_t l = mkclone(r, CLONE_COW, 0, 4 * PG);
  cr_assert_eq(zx_vmo_set_size(r, PG + 100), ZX_OK);
  uint8_t* buf = page_buf(1);
  cr_assert_eq(zx_vmo_read(l, buf, PG, PG), ZX_OK);
  for (size_t i = 0; i < PG; i++) {
    cr_assert_eq(buf[i], i < 100 ? 0x11 : 0, "clone byte %zu of page 1", i);
  }
  free(buf);
  cr_assert_eq(page_val(s, 1), 0x11);
  cr_assert_eq(page_val(l, 2), 0);
  cr_assert_eq(page_val(s, 2), 0x12);
  close_h(l);
  close_h(s);
  close_h(r);
  expect_clean();
}

Test(matrix, shrinking_middle_clone_cuts_grandchild) {
  zx_handle_t r = mkvmo_filled(4, 0x10);
  zx_handle_t l = mkclone(r, CLONE_COW, 0, 4 * PG);
  zx_handle_t ll = mkclone(l, CLONE_COW, 0, 4 * PG);
  zx_handle_t ls = mkchild(l, ALOW, 0, 4 * PG);
  cr_assert_eq(page_val(ll, 2), 0x12);
  cr_assert_eq(zx_vmo_set_size(l, PG), ZX_OK);
  for (uint64_t k = 1; k < 4; k++) {
    cr_assert_eq(page_val(ll, k), 0, "grandchild page %llu after middle shrink",
                 (unsigned long long)k);
    cr_assert_eq(page_val(ls, k), 0, "one-way grandchild page %llu", (unsigned long long)k);
  }
  cr_assert_eq(zx_vmo_set_size(l, 4 * PG), ZX_OK);
  fill_page(r, 2, 0x92);
  fill_page(r, 0, 0x90);
  for (uint64_t k = 1; k < 4; k++) {
    cr_assert_eq(page_val(l, k), 0, "middle page %llu re-exposed", (unsigned long long)k);
    cr_assert_eq(page_val(ll, k), 0, "grandchild page %llu re-exposed", (unsigned long long)k);
  }
  cr_assert_eq(page_val(ll, 0), 0x90);
  cr_assert_eq(page_val(ls, 0), 0x90);
  cr_assert_eq(page_val(r, 2), 0x92);
  close_h(ls);
  close_h(ll);
  close_h(l);
  close_h(r);
  expect_clean();
}

Test(matrix, snapshot_chain_isolation_and_middle_close) {
  zx_handle_t r = mkvmo_filled(3, 0x10);
  zx_handle_t s1 = mkchild(r, SNAP, 0, 3 * PG);
  fill_page(s1, 0, 0xA0);
  zx_handle_t s2 = mkchild(s1, SNAP, 0, 3 * PG);
  fill_page(s1, 1, 0xA1);
  fill_page(r, 2, 0xB2);
  fill_page(s2, 2, 0xC2);
  cr_assert_eq(page_val(r, 0), 0x10);
  cr_assert_eq(page_val(r, 1), 0x11);
  cr_assert_eq(page_val(r, 2), 0xB2);
  cr_assert_eq(page_val(s1, 0), 0xA0);
  cr_assert_eq(page_val(s1, 1), 0xA1);
  cr_assert_eq(page_val(s1, 2), 0x12);
  cr_assert_eq(page_val(s2, 0), 0xA0);
  cr_assert_eq(page_val(s2, 1), 0x11);
  cr_assert_eq(page_val(s2, 2), 0xC2);
  close_h(s1);
  cr_assert_eq(page_val(s2, 0), 0xA0);
  cr_assert_eq(page_val(s2, 1), 0x11);
  cr_assert_eq(page_val(s2, 2), 0xC2);
  fill_page(r, 1, 0xB1);
  cr_assert_eq(page_val(s2, 1), 0x11);
  close_h(r);
  cr_assert_eq(page_val(s2, 1), 0x11);
  cr_assert_eq(pages_in_use(), 3);
  close_h(s2);
  expect_clean();
}

// Library decision: when a one-way clone's parent dies, the clone keeps what it saw
// and keeps seeing the grandparent through the same window.
Test(matrix, clone_of_clone_after_middle_dies) {
  zx_handle_t r = mkvmo_filled(6, 0x10);
  zx_handle_t c1 = mkclone(r, CLONE_COW, PG, 3 * PG);  // r pages 1..3
  fill_page(c1, 0, 0xA0);                              // r page 1 hidden in c1
  zx_handle_t c2 = mkclone(c1, CLONE_COW, 0, 5 * PG);  // c1 pages 0..2, then zero
  cr_assert_eq(page_val(c2, 0), 0xA0);
  cr_assert_eq(page_val(c2, 1), 0x12);
  cr_assert_eq(page_val(c2, 3), 0);
  close_h(c1);
  cr_assert_eq(vmo_info(c2).parent_koid, koid_of(r));
  cr_assert_eq(page_val(c2, 0), 0xA0, "kept what the dead parent showed");
  cr_assert_eq(page_val(c2, 1), 0x12);
  cr_assert_eq(page_val(c2, 2), 0x13);
  fill_page(r, 2, 0xB2);
  cr_assert_eq(page_val(c2, 1), 0xB2, "no longer sees the grandparent");
  fill_page(r, 1, 0xB1);
  cr_assert_eq(page_val(c2, 0), 0xA0, "grandparent shows through a page the parent owned");
  fill_page(r, 4, 0xB4);
  cr_assert_eq(page_val(c2, 3), 0, "window widened after the parent died");
  cr_assert_eq(page_val(c2, 4), 0);
  fill_page(c2, 2, 0xC2);
  fill_page(r, 3, 0xB3);
  cr_assert_eq(page_val(c2, 2), 0xC2);
  cr_assert_eq(page_val(r, 2), 0xB2);
  close_h(r);
  cr_assert_eq(page_val(c2, 1), 0xB2);
  close_h(c2);
  expect_clean();
}

// SNAPSHOT_AT_LEAST_ON_WRITE of a one-way clone is another one-way clone.
Test(matrix, at_least_on_write_of_clone_is_one_way) {
  zx_handle_t r = mkvmo_filled(2, 0x10);
  zx_handle_t c = mkclone(r, CLONE_COW, 0, 2 * PG);
  zx_handle_t a = mkchild(c, ALOW, 0, 2 * PG);
  cr_assert_eq(page_val(a, 0), 0x10);
  fill_page(c, 0, 0xA0);
  cr_assert_eq(page_val(a, 0), 0xA0, "one-way child of a clone sees the clone's writes");
  fill_page(r, 1, 0xB1);
  cr_assert_eq(page_val(a, 1), 0xB1, "and through it the root's");
  fill_page(a, 1, 0xD1);
  fill_page(r, 1, 0xB2);
  cr_assert_eq(page_val(a, 1), 0xD1);
  cr_assert_eq(page_val(c, 1), 0xB2);
  cr_assert_eq(vmo_info(a).flags & ZX_INFO_VMO_IS_COW_CLONE, ZX_INFO_VMO_IS_COW_CLONE);
  close_h(a);
  close_h(c);
  close_h(r);
  expect_clean();
}

// A slice keeps the root's pages alive after the root is closed.
Test(matrix, slice_outlives_root) {
  zx_handle_t r = mkvmo_filled(8, 0x10);
  zx_handle_t s = mkchild(r, SLICE, 2 * PG, 3 * PG);
  zx_handle_t s2 = mkchild(s, SLICE, PG, PG);
  close_h(r);
  cr_assert_eq(vmo_info(s).parent_koid, 0);
  cr_assert_eq(pages_in_use(), 3, "pages no slice sees must be freed");
  cr_assert_eq(page_val(s, 0), 0x12);
  cr_assert_eq(page_val(s2, 0), 0x13);
  fill_page(s, 1, 0xEE);
  cr_assert_eq(page_val(s2, 0), 0xEE);
  close_h(s);
  cr_assert_eq(vmo_info(s2).parent_koid, 0);
  cr_assert_eq(pages_in_use(), 1);
  cr_assert_eq(page_val(s2, 0), 0xEE);
  fill_page(s2, 0, 0xEF);
  cr_assert_eq(page_val(s2, 0), 0xEF);
  close_h(s2);
  expect_clean();
}
