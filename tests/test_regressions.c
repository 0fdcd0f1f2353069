// SPDX-License-Identifier: BSD-3-Clause
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
  cr_assert_eq(zx_vmo_create(MAX_VMO_SIZE, 0, &v), ZX_OK);
  wr8(v, 5 * PG, 7);
  cr_assert_eq(zx_vmo_op_range(v, ZX_VMO_OP_COMMIT, 0, MAX_VMO_SIZE, NULL, 0),
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

// Overflow of offset + size is judged on the page-rounded size (docs/behavior.md §4
// rule 1 rounds first): a 1-byte child in the last page of the address space does not fit.
Test(regressions, child_offset_overflow_uses_rounded_size) {
  zx_handle_t v = mkvmo(PG), c = ZX_HANDLE_INVALID;
  const uint64_t last_page = UINT64_MAX - PG + 1;
  cr_assert_eq(zx_vmo_create_child(v, ZX_VMO_CHILD_SNAPSHOT, last_page, 1, &c),
               ZX_ERR_OUT_OF_RANGE);
  cr_assert_eq(zx_vmo_clone(v, ZX_VMO_CLONE_COPY_ON_WRITE, last_page, 1, &c),
               ZX_ERR_OUT_OF_RANGE);
  cr_assert_eq(vmo_info(v).num_children, 0);
  zx_handle_close(v);
}

// Down a chain of copy-on-write children, the accumulated offset plus the child's
// size must fit in 64 bits too (Zircon refuses the clone).
Test(regressions, accumulated_offset_plus_size_overflow) {
  zx_handle_t v = mkvmo(PG), c, g = ZX_HANDLE_INVALID;
  // 16 pages before the end of the address space.
  const uint64_t offset = UINT64_MAX - 16 * PG + 1;
  cr_assert_eq(zx_vmo_create_child(v, ZX_VMO_CHILD_SNAPSHOT, offset, PG, &c), ZX_OK);
  cr_assert_eq(zx_vmo_create_child(c, ZX_VMO_CHILD_SNAPSHOT, 0, 32 * PG, &g),
               ZX_ERR_INVALID_ARGS);
  cr_assert_eq(zx_vmo_clone(c, ZX_VMO_CLONE_COPY_ON_WRITE, 0, 32 * PG, &g), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(zx_vmo_create_child(c, ZX_VMO_CHILD_SNAPSHOT, 0, 8 * PG, &g), ZX_OK);
  zx_handle_close(g);
  zx_handle_close(c);
  zx_handle_close(v);
}

// Growing a child with zx_vmo_set_size obeys the same accumulated-offset rule as
// creating it (docs/behavior.md §7, §16): it used to succeed and then write past the
// end of the family's index space.
Test(regressions, set_size_growth_obeys_accumulated_offset_rule) {
  zx_handle_t v = mkvmo(PG), c = ZX_HANDLE_INVALID;
  const uint64_t offset = UINT64_MAX - 4 * PG + 1;  // 4 pages before the end
  cr_assert_eq(zx_vmo_create_child(v, ZX_VMO_CHILD_SNAPSHOT | ZX_VMO_CHILD_RESIZABLE,
                                   offset, PG, &c),
               ZX_OK);
  cr_assert_eq(zx_vmo_set_size(c, 4 * PG), ZX_ERR_INVALID_ARGS);  // ends at 2^64
  uint64_t size = 0;
  cr_assert_eq(zx_vmo_get_size(c, &size), ZX_OK);
  cr_assert_eq(size, PG, "a refused growth changes nothing");
  cr_assert_eq(zx_vmo_set_size(c, 3 * PG), ZX_OK);  // ends at the last page: fits
  wr8(c, 3 * PG - 1, 7);
  cr_assert_eq(rd8(c, 3 * PG - 1), 7);
  zx_handle_close(c);
  zx_handle_close(v);
}

// A NULL buffer is only refused once the range has been found good: the range error
// comes first (docs/behavior.md §6: checked before any byte moves).
Test(regressions, null_buffer_range_checked_first) {
  zx_handle_t v = mkvmo(4 * PG);
  cr_assert_eq(zx_vmo_read(v, NULL, 8 * PG, 10), ZX_ERR_OUT_OF_RANGE);
  cr_assert_eq(zx_vmo_write(v, NULL, 8 * PG, 10), ZX_ERR_OUT_OF_RANGE);
  cr_assert_eq(zx_vmo_read(v, NULL, 0, 10), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(zx_vmo_write(v, NULL, 0, 10), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(zx_vmo_read(v, NULL, 0, 0), ZX_OK);
  zx_handle_close(v);
}

// ZX_INFO_VMO with a large enough size but no buffer is INVALID_ARGS (like
// ZX_INFO_HANDLE_BASIC), not BUFFER_TOO_SMALL.
Test(regressions, info_vmo_null_buffer) {
  zx_handle_t v = mkvmo(PG);
  size_t actual = 7, avail = 7;
  cr_assert_eq(zx_object_get_info(v, ZX_INFO_VMO, NULL, sizeof(zx_info_vmo_t), &actual, &avail),
               ZX_ERR_INVALID_ARGS);
  cr_assert_eq(zx_object_get_info(v, ZX_INFO_VMO, NULL, 0, &actual, &avail),
               ZX_ERR_BUFFER_TOO_SMALL);
  cr_assert_eq(actual, 0);
  cr_assert_eq(avail, 1);
  zx_handle_close(v);
}

// zx_handle_replace always invalidates the source, even when the handle table is
// full: it works in place and needs no new slot.
Test(regressions, replace_works_with_a_full_table, .timeout = 120) {
  zx_handle_t v = mkvmo(PG);
  zx_handle_t ev;
  cr_assert_eq(zx_event_create(0, &ev), ZX_OK);
  size_t cap = 1u << 21, n = 0;
  zx_handle_t* dups = malloc(cap * sizeof(*dups));
  cr_assert_not_null(dups);
  zx_status_t st;
  while (n < cap && (st = zx_handle_duplicate(ev, ZX_RIGHT_SAME_RIGHTS, &dups[n])) == ZX_OK) n++;
  cr_assert_eq(st, ZX_ERR_NO_RESOURCES, "the table never filled (%zu handles)", n);
  zx_handle_t r = ZX_HANDLE_INVALID;
  cr_assert_eq(zx_handle_replace(v, ZX_RIGHT_READ | ZX_RIGHT_DUPLICATE, &r), ZX_OK);
  cr_assert_neq(r, v);
  uint8_t b;
  cr_assert_eq(zx_vmo_read(v, &b, 0, 1), ZX_ERR_BAD_HANDLE);
  cr_assert_eq(zx_vmo_read(r, &b, 0, 1), ZX_OK);
  cr_assert_eq(handle_rights(r), ZX_RIGHT_READ | ZX_RIGHT_DUPLICATE);
  cr_assert_eq(zx_handle_close_many(dups, n), ZX_OK);
  free(dups);
  zx_handle_close(ev);
  zx_handle_close(r);
  cr_assert_eq(pages_in_use(), 0);
}
