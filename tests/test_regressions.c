// Regression tests, each named after the defect it pins (found in review of the
// core); see the git history for the fixes.
#include <criterion/criterion.h>

#include "helpers.h"

// Setting ZX_PROP_VMO_CONTENT_SIZE below the size zeroes data, so a handle without
// WRITE (a NO_WRITE slice, a read-only duplicate) must not be able to do it.
Test(regressions, content_size_needs_write) {
  zx_handle_t v = mkvmo(PG);
  wr8(v, 10, 0x5A);
  zx_handle_t s;
  cr_assert_eq(zx_vmo_create_child(v, ZX_VMO_CHILD_SLICE | ZX_VMO_CHILD_NO_WRITE, 0, PG, &s),
               ZX_OK);
  uint64_t zero = 0;
  cr_assert_eq(zx_object_set_property(s, ZX_PROP_VMO_CONTENT_SIZE, &zero, sizeof(zero)),
               ZX_ERR_ACCESS_DENIED);
  zx_handle_t ro;
  cr_assert_eq(zx_handle_duplicate(v, ZX_RIGHT_READ | ZX_RIGHT_SET_PROPERTY, &ro), ZX_OK);
  cr_assert_eq(zx_object_set_property(ro, ZX_PROP_VMO_CONTENT_SIZE, &zero, sizeof(zero)),
               ZX_ERR_ACCESS_DENIED);
  cr_assert_eq(rd8(v, 10), 0x5A);
  uint64_t cs = 0;
  cr_assert_eq(zx_object_get_property(v, ZX_PROP_VMO_CONTENT_SIZE, &cs, sizeof(cs)), ZX_OK);
  cr_assert_eq(cs, PG);
  // With WRITE it works and zeroes the rest.
  cr_assert_eq(zx_object_set_property(v, ZX_PROP_VMO_CONTENT_SIZE, &zero, sizeof(zero)), ZX_OK);
  cr_assert_eq(rd8(v, 10), 0);
  zx_handle_close(ro);
  zx_handle_close(s);
  zx_handle_close(v);
}

// A dead one-way clone kept alive by a slice sees only what its slices window: it
// must not count as a sharer of the backing's other pages.
Test(regressions, dead_oneway_root_counts_only_slice_windows) {
  zx_handle_t v = mkvmo(2 * PG), ch, s;
  wr8(v, 0, 'a');
  wr8(v, PG, 'b');
  cr_assert_eq(zx_vmo_clone(v, ZX_VMO_CLONE_COPY_ON_WRITE | ZX_VMO_CLONE_NON_RESIZEABLE, 0,
                            2 * PG, &ch),
               ZX_OK);
  cr_assert_eq(zx_vmo_create_child(ch, ZX_VMO_CHILD_SLICE, 0, PG, &s), ZX_OK);
  cr_assert_eq(zx_handle_close(ch), ZX_OK);
  zx_info_vmo_t i = vmo_info(v);
  // Page 0 is seen by the root and (through the slice) the dead clone; page 1 by the
  // root alone.
  cr_assert_eq(i.committed_bytes, 2 * PG);
  cr_assert_eq(i.committed_private_bytes, PG);
  cr_assert_eq(i.committed_scaled_bytes, PG + PG / 2);
  cr_assert_eq(rd8(s, 0), 'a');
  cr_assert_eq(zxvmo_check_invariants(), ZX_OK);
  zx_handle_close(s);
  zx_handle_close(v);
  cr_assert_eq(pages_in_use(), 0);
}

// COMMIT of a huge range over the budget must fail at once with NO_MEMORY, without
// visiting every page index of the range.
Test(regressions, commit_of_huge_range_fails_cleanly) {
  cr_assert_eq(zxvmo_set_page_budget(16), ZX_OK);
  zx_handle_t v;
  cr_assert_eq(zx_vmo_create(0xFFFFFFFFFFFE0000ull, 0, &v), ZX_OK);
  wr8(v, 5 * PG, 7);
  cr_assert_eq(zx_vmo_op_range(v, ZX_VMO_OP_COMMIT, 0, 0xFFFFFFFFFFFE0000ull, NULL, 0),
               ZX_ERR_NO_MEMORY);
  cr_assert_eq(pages_in_use(), 1);
  cr_assert_eq(rd8(v, 5 * PG), 7);
  zx_handle_close(v);
  cr_assert_eq(zxvmo_set_page_budget(0), ZX_OK);
}

// ZX_INFO_VMO on a family with a deep chain of one-way clones used to walk the chain
// once per member (quadratic: minutes at 100,000). The figures must be exact.
Test(regressions, info_on_deep_clone_chain) {
  enum { DEPTH = 20000 };
  zx_handle_t root = mkvmo(PG);
  wr8(root, 0, 1);
  zx_handle_t prev = root, last = root;
  for (int i = 0; i < DEPTH; i++) {
    cr_assert_eq(zx_vmo_clone(prev, ZX_VMO_CLONE_COPY_ON_WRITE, 0, PG, &last), ZX_OK);
    if (prev != root) cr_assert_eq(zx_handle_close(prev), ZX_OK);
    prev = last;
  }
  // Intermediates are closed: the last clone still sees the root's page through it.
  zx_info_vmo_t ri = vmo_info(root);
  zx_info_vmo_t li = vmo_info(last);
  cr_assert_eq(ri.committed_bytes, PG);
  cr_assert_eq(ri.committed_scaled_bytes, PG / 2);
  cr_assert_eq(li.committed_bytes, PG);
  cr_assert_eq(li.committed_private_bytes, 0);
  cr_assert_eq(rd8(last, 0), 1);
  // And a chain whose intermediates all stay alive.
  zx_handle_t* hs = calloc(DEPTH, sizeof(*hs));
  cr_assert_not_null(hs);
  prev = root;
  for (int i = 0; i < DEPTH; i++) {
    cr_assert_eq(zx_vmo_clone(prev, ZX_VMO_CLONE_COPY_ON_WRITE, 0, PG, &hs[i]), ZX_OK);
    prev = hs[i];
  }
  ri = vmo_info(root);
  cr_assert_eq(ri.committed_bytes, PG);
  // root, `last` and DEPTH live clones all see the page.
  cr_assert_eq(ri.committed_scaled_bytes, PG / (DEPTH + 2));
  for (int i = DEPTH; i-- > 0;) zx_handle_close(hs[i]);
  free(hs);
  zx_handle_close(last);
  zx_handle_close(root);
  cr_assert_eq(pages_in_use(), 0);
}
