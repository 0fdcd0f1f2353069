// SPDX-License-Identifier: BSD-3-Clause
// The library's own extras (<zxvmo.h>): statistics counters and the debug dump.
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "helpers.h"

static zxvmo_stats_t stats(void) {
  zxvmo_stats_t s;
  cr_assert_eq(zxvmo_get_stats(&s), ZX_OK);
  return s;
}

Test(extras, stats_null_is_invalid_args) {
  cr_assert_eq(zxvmo_get_stats(NULL), ZX_ERR_INVALID_ARGS);
}

Test(extras, stats_count_what_happens) {
  zxvmo_stats_t s0 = stats();
  cr_assert_eq(s0.pages_in_use, 0);
  cr_assert_eq(s0.vmos_alive, 0);
  zx_handle_t v = mkvmo(4 * PG);
  zxvmo_stats_t s1 = stats();
  cr_assert_eq(s1.vmos_alive, 1);
  cr_assert_eq(s1.handles_alive, s0.handles_alive + 1);
  cr_assert_eq(s1.tree_nodes, 0, "an empty VMO has no page-map nodes");
  wr8(v, 0, 1);  // a partial write of an absent page: a zero fill
  zxvmo_stats_t s2 = stats();
  cr_assert_eq(s2.pages_in_use, 1);
  cr_assert_eq(s2.zero_fills, s1.zero_fills + 1);
  cr_assert_geq(s2.tree_nodes, 1);
  cr_assert_geq(s2.pages_peak, 1);
  zx_handle_t c;
  cr_assert_eq(zx_vmo_create_child(v, ZX_VMO_CHILD_SNAPSHOT, 0, 4 * PG, &c), ZX_OK);
  zxvmo_stats_t s3 = stats();
  cr_assert_eq(s3.pages_in_use, 1, "a snapshot copies nothing");
  cr_assert_eq(s3.tree_nodes, s2.tree_nodes, "a whole-VMO snapshot shares the root");
  wr8(v, 1, 2);  // the first write to the shared page copies it and the path to it
  zxvmo_stats_t s4 = stats();
  cr_assert_eq(s4.pages_in_use, 2);
  cr_assert_eq(s4.cow_page_copies, s3.cow_page_copies + 1);
  cr_assert_gt(s4.tree_node_copies, s3.tree_node_copies);
  cr_assert_eq(s4.vmos_alive, 2);
  zx_handle_close(c);
  zx_handle_close(v);
  zxvmo_stats_t s5 = stats();
  cr_assert_eq(s5.pages_in_use, 0);
  cr_assert_eq(s5.vmos_alive, 0);
  cr_assert_eq(s5.tree_nodes, 0);
  cr_assert_eq(s5.handles_alive, s0.handles_alive);
  cr_assert_geq(s5.pages_pooled, 2, "freed pages are kept for reuse");
}

Test(extras, budget_is_reported) {
  cr_assert_eq(zxvmo_set_page_budget(123), ZX_OK);
  cr_assert_eq(stats().page_budget, 123);
  cr_assert_eq(zxvmo_set_page_budget(0), ZX_OK);
  cr_assert_eq(stats().page_budget, 0);
}

Test(extras, dump_describes_the_family) {
  zx_handle_t v = mkvmo_filled(2, 1);
  zx_handle_t snap, clone, slice;
  cr_assert_eq(zx_vmo_create_child(v, ZX_VMO_CHILD_SNAPSHOT, 0, 2 * PG, &snap), ZX_OK);
  cr_assert_eq(zx_vmo_clone(v, ZX_VMO_CLONE_COPY_ON_WRITE | ZX_VMO_CLONE_NON_RESIZEABLE, PG, PG,
                            &clone),
               ZX_OK);
  cr_assert_eq(zx_vmo_create_child(clone, ZX_VMO_CHILD_SLICE, 0, PG, &slice), ZX_OK);
  char* text = NULL;
  size_t len = 0;
  FILE* f = open_memstream(&text, &len);
  cr_assert_not_null(f);
  cr_assert_eq(zxvmo_dump(slice, f), ZX_OK);
  fclose(f);
  zx_info_vmo_t vi = vmo_info(v);
  char koid[32];
  snprintf(koid, sizeof(koid), "koid %lu", (unsigned long)vi.koid);
  cr_assert_not_null(strstr(text, koid), "dump:\n%s", text);
  cr_assert_not_null(strstr(text, "root"), "dump:\n%s", text);
  cr_assert_not_null(strstr(text, "snapshot"), "dump:\n%s", text);
  cr_assert_not_null(strstr(text, "clone"), "dump:\n%s", text);
  cr_assert_not_null(strstr(text, "slice"), "dump:\n%s", text);
  cr_assert_not_null(strstr(text, ": 3 content holders"),
                     "root, snapshot and clone hold content; the slice does not:\n%s", text);
  free(text);
  cr_assert_eq(zxvmo_dump(v, NULL), ZX_ERR_INVALID_ARGS);
  zx_handle_close(slice);
  zx_handle_close(clone);
  zx_handle_close(snap);
  zx_handle_close(v);
  cr_assert_eq(zxvmo_dump(v, stderr), ZX_ERR_BAD_HANDLE);
}
