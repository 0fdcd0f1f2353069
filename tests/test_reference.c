// SPDX-License-Identifier: BSD-3-Clause
// ZX_VMO_CHILD_REFERENCE (docs/behavior.md §16.1): its checks in Zircon's order, the
// rights of its handle, one set of pages and one size with its parent (reads, writes,
// resizes, DECOMMIT and ZERO seen through both, also through mappings), its own koid,
// name and signals, children of references, pager VMOs, attribution, and each
// allocation behind the call failing in turn.
#include <criterion/criterion.h>
#include <string.h>

#include "helpers.h"
#include "map_helpers.h"
#include "os.h"
#include "pager_helpers.h"

static zx_handle_t mkref(zx_handle_t p, uint32_t extra) {
  zx_handle_t r = ZX_HANDLE_INVALID;
  cr_assert_eq(zx_vmo_create_child(p, ZX_VMO_CHILD_REFERENCE | extra, 0, 0, &r), ZX_OK);
  return r;
}

Test(reference, checks_in_order) {
  zx_handle_t v = mkvmo(4 * PG), r = ZX_HANDLE_INVALID;
  // Size is rounded first (OUT_OF_RANGE), NO_WRITE with RESIZABLE next.
  cr_assert_eq(zx_vmo_create_child(v, ZX_VMO_CHILD_REFERENCE, 0, UINT64_MAX, &r),
               ZX_ERR_OUT_OF_RANGE);
  cr_assert_eq(zx_vmo_create_child(v, ZX_VMO_CHILD_REFERENCE | ZX_VMO_CHILD_NO_WRITE |
                                          ZX_VMO_CHILD_RESIZABLE, 0, 0, &r),
               ZX_ERR_INVALID_ARGS);
  // Then the handle and its rights.
  cr_assert_eq(zx_vmo_create_child(ZX_HANDLE_INVALID, ZX_VMO_CHILD_REFERENCE, 0, 0, &r),
               ZX_ERR_BAD_HANDLE);
  zx_handle_t ro;
  cr_assert_eq(zx_handle_duplicate(v, ZX_RIGHT_READ, &ro), ZX_OK);
  cr_assert_eq(zx_vmo_create_child(ro, ZX_VMO_CHILD_REFERENCE, 0, 0, &r), ZX_ERR_ACCESS_DENIED);
  zx_handle_close(ro);
  // Only RESIZABLE (and NO_WRITE) may come along.
  cr_assert_eq(zx_vmo_create_child(v, ZX_VMO_CHILD_REFERENCE | ZX_VMO_CHILD_SNAPSHOT, 0, 0, &r),
               ZX_ERR_INVALID_ARGS);
  cr_assert_eq(zx_vmo_create_child(v, ZX_VMO_CHILD_REFERENCE | ZX_VMO_CHILD_SLICE, 0, 0, &r),
               ZX_ERR_INVALID_ARGS);
  cr_assert_eq(zx_vmo_create_child(v, ZX_VMO_CHILD_REFERENCE | (1u << 20), 0, 0, &r),
               ZX_ERR_INVALID_ARGS);
  // The range has no meaning: offset and size must be 0.
  cr_assert_eq(zx_vmo_create_child(v, ZX_VMO_CHILD_REFERENCE, PG, 0, &r), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(zx_vmo_create_child(v, ZX_VMO_CHILD_REFERENCE, 0, 4 * PG, &r),
               ZX_ERR_INVALID_ARGS);
  cr_assert_eq(zx_vmo_create_child(v, ZX_VMO_CHILD_REFERENCE, 0, 1, &r), ZX_ERR_INVALID_ARGS);
  // RESIZABLE of a fixed-size VMO.
  cr_assert_eq(zx_vmo_create_child(v, ZX_VMO_CHILD_REFERENCE | ZX_VMO_CHILD_RESIZABLE, 0, 0, &r),
               ZX_ERR_NOT_SUPPORTED);
  // A slice cannot be referenced (a reference of a reference can).
  zx_handle_t s;
  cr_assert_eq(zx_vmo_create_child(v, ZX_VMO_CHILD_SLICE, 0, PG, &s), ZX_OK);
  cr_assert_eq(zx_vmo_create_child(s, ZX_VMO_CHILD_REFERENCE, 0, 0, &r), ZX_ERR_NOT_SUPPORTED);
  zx_handle_close(s);
  // A NULL out pointer, last.
  cr_assert_eq(zx_vmo_create_child(v, ZX_VMO_CHILD_REFERENCE, 0, 0, NULL), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(vmo_info(v).num_children, 0u);
  zx_handle_close(v);
  cr_assert_eq(zxvmo_check_invariants(), ZX_OK);
}

Test(reference, driver_memory) {
  zx_handle_t rr = zxvmo_root_resource(), bti = mk_test_bti(), v, r;
  // Physical and contiguous VMOs have no references (slices serve them).
  cr_assert_eq(zx_vmo_create_physical(rr, 0xfd000000u, PG, &v), ZX_OK);
  cr_assert_eq(zx_vmo_create_child(v, ZX_VMO_CHILD_REFERENCE, 0, 0, &r), ZX_ERR_NOT_SUPPORTED);
  zx_handle_close(v);
  cr_assert_eq(zx_vmo_create_contiguous(bti, 2 * PG, 0, &v), ZX_OK);
  cr_assert_eq(zx_vmo_create_child(v, ZX_VMO_CHILD_REFERENCE, 0, 0, &r), ZX_ERR_NOT_SUPPORTED);
  zx_handle_close(v);
  // An uncached ordinary VMO: BAD_STATE.
  v = mkvmo(PG);
  cr_assert_eq(zx_vmo_set_cache_policy(v, ZX_CACHE_POLICY_UNCACHED), ZX_OK);
  cr_assert_eq(zx_vmo_create_child(v, ZX_VMO_CHILD_REFERENCE, 0, 0, &r), ZX_ERR_BAD_STATE);
  zx_handle_close(v);
  zx_handle_close(bti);
  zx_handle_close(rr);
}

Test(reference, rights_koid_name_signals) {
  zx_handle_t v = mkvmo(2 * PG);
  cr_assert_eq(zx_object_set_property(v, ZX_PROP_NAME, "refd", 4), ZX_OK);
  zx_handle_t r = mkref(v, 0);
  zx_info_vmo_t pi = vmo_info(v), ri = vmo_info(r);
  cr_assert_neq(ri.koid, pi.koid);
  cr_assert_eq(ri.parent_koid, pi.koid);
  cr_assert_str_eq(ri.name, "refd");
  cr_assert_eq(ri.size_bytes, 2 * PG);
  cr_assert_eq(ri.flags & ZX_INFO_VMO_IS_COW_CLONE, 0u);
  cr_assert_eq(ri.flags & ZX_INFO_VMO_RESIZABLE, 0u);
  cr_assert_eq(pi.num_children, 1u);
  // The parent's rights, without RESIZE, with GET/SET_PROPERTY; no WRITE is added.
  cr_assert_eq(handle_rights(r), ZX_DEFAULT_VMO_RIGHTS);
  zx_handle_t lim, r2;
  cr_assert_eq(zx_handle_duplicate(v, ZX_RIGHT_READ | ZX_RIGHT_DUPLICATE | ZX_RIGHT_MAP, &lim),
               ZX_OK);
  cr_assert_eq(zx_vmo_create_child(lim, ZX_VMO_CHILD_REFERENCE, 0, 0, &r2), ZX_OK);
  cr_assert_eq(handle_rights(r2), ZX_RIGHT_READ | ZX_RIGHT_DUPLICATE | ZX_RIGHT_MAP |
                                      ZX_RIGHT_GET_PROPERTY | ZX_RIGHT_SET_PROPERTY);
  // Without GET_PROPERTY on the parent's handle, the name is not copied.
  char name[ZX_MAX_NAME_LEN];
  cr_assert_eq(zx_object_get_property(r2, ZX_PROP_NAME, name, sizeof(name)), ZX_OK);
  cr_assert_str_eq(name, "");
  zx_handle_close(r2);
  zx_handle_close(lim);
  // NO_WRITE takes WRITE away.
  zx_handle_t rn = mkref(v, ZX_VMO_CHILD_NO_WRITE);
  cr_assert_eq(handle_rights(rn) & ZX_RIGHT_WRITE, 0u);
  cr_assert_eq(zx_vmo_write(rn, "x", 0, 1), ZX_ERR_ACCESS_DENIED);
  zx_handle_close(rn);
  // ZERO_CHILDREN: the reference is a child like any other.
  zx_signals_t sig = 0;
  cr_assert_eq(zx_object_wait_one(v, ZX_VMO_ZERO_CHILDREN, 0, &sig), ZX_ERR_TIMED_OUT);
  cr_assert_eq(zx_object_wait_one(r, ZX_VMO_ZERO_CHILDREN, 0, &sig), ZX_OK);
  zx_handle_close(r);
  cr_assert_eq(zx_object_wait_one(v, ZX_VMO_ZERO_CHILDREN, 0, &sig), ZX_OK);
  // Signals are the reference's own.
  r = mkref(v, 0);
  cr_assert_eq(zx_object_signal(r, 0, ZX_USER_SIGNAL_0), ZX_OK);
  cr_assert_eq(zx_object_wait_one(v, ZX_USER_SIGNAL_0, 0, &sig), ZX_ERR_TIMED_OUT);
  zx_handle_close(r);
  zx_handle_close(v);
}

Test(reference, shares_pages_both_ways) {
  zx_handle_t v = mkvmo_filled(4, 0x10);
  zx_handle_t r = mkref(v, 0);
  for (uint64_t i = 0; i < 4; i++) cr_assert_eq(rd8(r, i * PG), 0x10 + i);
  wr8(r, 1 * PG + 3, 0xAA);
  cr_assert_eq(rd8(v, 1 * PG + 3), 0xAA);
  wr8(v, 2 * PG, 0xBB);
  cr_assert_eq(rd8(r, 2 * PG), 0xBB);
  // DECOMMIT and ZERO through either show through the other.
  cr_assert_eq(zx_vmo_op_range(r, ZX_VMO_OP_DECOMMIT, 0, PG, NULL, 0), ZX_OK);
  cr_assert_eq(rd8(v, 0), 0);
  cr_assert_eq(zx_vmo_op_range(v, ZX_VMO_OP_ZERO, 3 * PG, PG, NULL, 0), ZX_OK);
  cr_assert_eq(rd8(r, 3 * PG), 0);
  // Attribution: the pages are the parent's; a reference has none of its own.
  cr_assert_eq(vmo_info(v).committed_bytes, 2 * PG);
  cr_assert_eq(vmo_info(r).committed_bytes, 0u);
  // A reference of a reference sees the same pages; its parent is the first reference.
  zx_handle_t rr = mkref(r, 0);
  cr_assert_eq(vmo_info(rr).parent_koid, vmo_info(r).koid);
  wr8(rr, 0, 0x77);
  cr_assert_eq(rd8(v, 0), 0x77);
  // Closing the parent keeps the pages for its references.
  zx_handle_close(v);
  cr_assert_eq(rd8(r, 0), 0x77);
  cr_assert_eq(rd8(rr, PG + 3), 0xAA);
  cr_assert_eq(vmo_info(rr).parent_koid, vmo_info(r).koid);
  cr_assert_eq(zxvmo_check_invariants(), ZX_OK);
  zx_handle_close(r);
  cr_assert_eq(rd8(rr, 2 * PG), 0xBB);
  cr_assert_eq(vmo_info(rr).parent_koid, ZX_KOID_INVALID);
  zx_handle_close(rr);
  cr_assert_eq(zxvmo_check_invariants(), ZX_OK);
}

Test(reference, resize_either_side) {
  zx_handle_t v, r, rn;
  cr_assert_eq(zx_vmo_create(4 * PG, ZX_VMO_RESIZABLE, &v), ZX_OK);
  wr8(v, 3 * PG, 9);
  r = mkref(v, ZX_VMO_CHILD_RESIZABLE);
  // Without RESIZABLE, a reference of a resizable VMO is resizable all the same, but
  // its handle lacks RESIZE.
  rn = mkref(v, 0);
  cr_assert(vmo_info(rn).flags & ZX_INFO_VMO_RESIZABLE);
  cr_assert_eq(handle_rights(rn) & ZX_RIGHT_RESIZE, 0u);
  cr_assert(handle_rights(r) & ZX_RIGHT_RESIZE);
  cr_assert_eq(zx_vmo_set_size(rn, PG), ZX_ERR_ACCESS_DENIED);
  // Shrinking the reference shrinks the parent and every other reference.
  cr_assert_eq(zx_vmo_set_size(r, 2 * PG + 5), ZX_OK);
  uint64_t sz;
  cr_assert_eq(zx_vmo_get_size(v, &sz), ZX_OK);
  cr_assert_eq(sz, 3 * PG);
  cr_assert_eq(zx_vmo_get_size(rn, &sz), ZX_OK);
  cr_assert_eq(sz, 3 * PG);
  // One content size for all.
  uint64_t cs = 0;
  cr_assert_eq(zx_object_get_property(v, ZX_PROP_VMO_CONTENT_SIZE, &cs, sizeof(cs)), ZX_OK);
  cr_assert_eq(cs, 2 * PG + 5);
  cs = PG;
  cr_assert_eq(zx_object_set_property(rn, ZX_PROP_VMO_CONTENT_SIZE, &cs, sizeof(cs)), ZX_OK);
  cr_assert_eq(zx_object_get_property(r, ZX_PROP_VMO_CONTENT_SIZE, &cs, sizeof(cs)), ZX_OK);
  cr_assert_eq(cs, PG);
  // Growing the parent grows the references; what was cut reads as zero.
  cr_assert_eq(zx_vmo_set_size(v, 4 * PG), ZX_OK);
  cr_assert_eq(zx_vmo_get_size(r, &sz), ZX_OK);
  cr_assert_eq(sz, 4 * PG);
  cr_assert_eq(rd8(r, 3 * PG), 0);
  uint8_t b;
  cr_assert_eq(zx_vmo_read(rn, &b, 4 * PG, 1), ZX_ERR_OUT_OF_RANGE);
  // A resize through a reference after the parent is closed.
  zx_handle_close(v);
  cr_assert_eq(zx_vmo_set_size(r, 8 * PG), ZX_OK);
  cr_assert_eq(zx_vmo_get_size(rn, &sz), ZX_OK);
  cr_assert_eq(sz, 8 * PG);
  wr8(r, 7 * PG, 5);
  cr_assert_eq(rd8(rn, 7 * PG), 5);
  cr_assert_eq(zxvmo_check_invariants(), ZX_OK);
  zx_handle_close(r);
  zx_handle_close(rn);
}

Test(reference, mappings_agree) {
  zx_handle_t v, r;
  cr_assert_eq(zx_vmo_create(4 * PG, ZX_VMO_RESIZABLE, &v), ZX_OK);
  r = mkref(v, ZX_VMO_CHILD_RESIZABLE);
  uint8_t* mv = map_rw(v, 0, 4 * PG);
  uint8_t* mr = map_rw(r, 0, 4 * PG);
  mwr(mv + 5, 1);
  cr_assert_eq(mrd(mr + 5), 1);
  mwr(mr + PG, 2);
  cr_assert_eq(mrd(mv + PG), 2);
  cr_assert_eq(rd8(r, PG), 2);
  cr_assert_eq(zx_vmo_op_range(r, ZX_VMO_OP_DECOMMIT, 0, PG, NULL, 0), ZX_OK);
  cr_assert_eq(mrd(mv + 5), 0);
  cr_assert_eq(zx_vmo_op_range(v, ZX_VMO_OP_ZERO, PG, PG, NULL, 0), ZX_OK);
  cr_assert_eq(mrd(mr + PG), 0);
  cr_assert_eq(vmo_info(r).num_mappings, 1u);
  // Shrinking through the reference cuts both mappings; growing back shows zeros.
  cr_assert_eq(zx_vmo_set_size(r, 2 * PG), ZX_OK);
  expect_access_dies(mv + 3 * PG, false, SIGBUS, "parent's mapping past the new end");
  expect_access_dies(mr + 2 * PG, true, SIGBUS, "reference's mapping past the new end");
  cr_assert_eq(zx_vmo_set_size(v, 4 * PG), ZX_OK);
  mwr(mr + 3 * PG, 7);
  cr_assert_eq(mrd(mv + 3 * PG), 7);
  // The parent closed: the reference's mapping still shows the same pages.
  unmap(mv, 4 * PG);
  zx_handle_close(v);
  cr_assert_eq(mrd(mr + 3 * PG), 7);
  cr_assert_eq(zxvmo_check_invariants(), ZX_OK);
  unmap(mr, 4 * PG);
  zx_handle_close(r);
}

Test(reference, children_of_references) {
  zx_handle_t v = mkvmo_filled(4, 0x20);
  zx_handle_t r = mkref(v, 0), c, s;
  // A snapshot of a reference is a snapshot of the shared pages.
  cr_assert_eq(zx_vmo_create_child(r, ZX_VMO_CHILD_SNAPSHOT, PG, 2 * PG, &c), ZX_OK);
  wr8(v, PG, 0x99);
  cr_assert_eq(rd8(c, 0), 0x21);
  cr_assert_eq(vmo_info(c).parent_koid, vmo_info(r).koid);
  // A slice of a (fixed-size) reference windows them.
  cr_assert_eq(zx_vmo_create_child(r, ZX_VMO_CHILD_SLICE, PG, PG, &s), ZX_OK);
  cr_assert_eq(rd8(s, 0), 0x99);
  wr8(s, 1, 0x98);
  cr_assert_eq(rd8(v, PG + 1), 0x98);
  cr_assert_eq(vmo_info(r).num_children, 2u);
  // Made after the parent closed, and the reference too.
  zx_handle_close(v);
  zx_handle_t c2, c3;
  cr_assert_eq(zx_vmo_create_child(r, ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE, 0, 4 * PG, &c2),
               ZX_OK);
  cr_assert_eq(rd8(c2, PG), 0x99);
  zx_handle_close(r);
  cr_assert_eq(rd8(s, 0), 0x99);
  cr_assert_eq(zx_vmo_create_child(c2, ZX_VMO_CHILD_SNAPSHOT, 0, PG, &c3), ZX_OK);
  cr_assert_eq(rd8(c3, 0), 0x20);
  cr_assert_eq(zxvmo_check_invariants(), ZX_OK);
  zx_handle_close(c);
  zx_handle_close(c2);
  zx_handle_close(c3);
  zx_handle_close(s);
  // A resizable reference cannot be sliced, like any resizable VMO.
  cr_assert_eq(zx_vmo_create(PG, ZX_VMO_RESIZABLE, &v), ZX_OK);
  r = mkref(v, 0);
  cr_assert_eq(zx_vmo_create_child(r, ZX_VMO_CHILD_SLICE, 0, PG, &s), ZX_ERR_NOT_SUPPORTED);
  zx_handle_close(r);
  zx_handle_close(v);
}

// A reference of a one-way clone (legacy zx_vmo_clone) whose handle is closed: its
// at-least-on-write children see what the clone saw, and the clone is settled.
Test(reference, oneway_child_of_orphaned_reference) {
  zx_handle_t v = mkvmo_filled(2, 0x40), cl, r, c;
  cr_assert_eq(zx_vmo_clone(v, ZX_VMO_CLONE_COPY_ON_WRITE, 0, 2 * PG, &cl), ZX_OK);
  wr8(cl, 0, 0x41);
  r = mkref(cl, 0);
  zx_handle_close(cl);
  cr_assert_eq(zx_vmo_create_child(r, ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE, 0, 2 * PG, &c),
               ZX_OK);
  cr_assert_eq(rd8(c, 0), 0x41);
  cr_assert_eq(rd8(c, PG), 0x41);
  wr8(r, 0, 0x50);
  cr_assert_eq(zxvmo_check_invariants(), ZX_OK);
  zx_handle_close(r);
  zx_handle_close(c);
  zx_handle_close(v);
  cr_assert_eq(zxvmo_check_invariants(), ZX_OK);
}

Test(reference, pinned_pages_stay) {
  zx_handle_t rr = zxvmo_root_resource(), bti = mk_test_bti(), pmt;
  zx_handle_t v;
  cr_assert_eq(zx_vmo_create(2 * PG, ZX_VMO_RESIZABLE, &v), ZX_OK);
  zx_handle_t r = mkref(v, ZX_VMO_CHILD_RESIZABLE);
  zx_paddr_t a[1];
  cr_assert_eq(zx_bti_pin(bti, ZX_BTI_PERM_READ, r, PG, PG, a, 1, &pmt), ZX_OK);
  // Pinned through the reference, the page is the parent's too.
  cr_assert_eq(zx_vmo_op_range(v, ZX_VMO_OP_DECOMMIT, PG, PG, NULL, 0), ZX_ERR_BAD_STATE);
  cr_assert_eq(zx_vmo_set_size(v, PG), ZX_ERR_BAD_STATE);
  cr_assert_eq(zx_vmo_set_size(r, PG), ZX_ERR_BAD_STATE);
  cr_assert_eq(zx_pmt_unpin(pmt), ZX_OK);
  cr_assert_eq(zx_vmo_set_size(r, PG), ZX_OK);
  zx_handle_close(r);
  zx_handle_close(v);
  zx_handle_close(bti);
  zx_handle_close(rr);
}

Test(reference, pager_vmo) {
  pg_env_t e = pg_env();
  zx_handle_t v = pg_vmo(&e, 2, ZX_VMO_RESIZABLE, 7);
  zx_handle_t r = mkref(v, ZX_VMO_CHILD_RESIZABLE);
  cr_assert(vmo_info(r).flags & ZX_INFO_VMO_PAGER_BACKED);
  pg_supply(&e, v, 0, 2, 3);
  cr_assert(pg_check(r, 0, 2 * PG, 3));
  // The pager's calls take the pager VMO itself (D62).
  zx_handle_t aux = mkvmo(PG);
  cr_assert_eq(zx_pager_supply_pages(e.pager, r, 0, PG, aux, 0), ZX_ERR_INVALID_ARGS);
  zx_handle_close(aux);
  // The pager keeps serving the reference after the pager VMO's handle is closed.
  cr_assert_eq(zx_vmo_set_size(r, 4 * PG), ZX_OK);
  zx_handle_close(v);
  pg_expect_none(e.port);
  zx_handle_close(r);
  // Now the last one is gone: COMPLETE.
  pg_expect(e.port, 7, ZX_PAGER_VMO_COMPLETE, 0, 0);
  zx_handle_close(e.pager);
  zx_handle_close(e.port);
}

// Each metadata allocation behind the call failing in turn: NO_MEMORY, and nothing
// changed (no child, no handle, the parent as it was).
Test(reference, allocation_failures) {
  zx_handle_t v = mkvmo_filled(2, 1);
  for (uint64_t nth = 1; nth < 64; nth++) {
    zxvmo_stats_t s0, s1;
    cr_assert_eq(zxvmo_get_stats(&s0), ZX_OK);
    zx_handle_t r = ZX_HANDLE_INVALID;
    os_fail_alloc(nth, false);
    zx_status_t st = zx_vmo_create_child(v, ZX_VMO_CHILD_REFERENCE, 0, 0, &r);
    uint64_t tries = os_alloc_count();
    os_fail_alloc(0, false);
    cr_assert(st == ZX_OK || st == ZX_ERR_NO_MEMORY, "nth %lu: %d", (unsigned long)nth, st);
    if (st == ZX_OK) {
      cr_assert_eq(rd8(r, PG), 2);
      zx_handle_close(r);
    } else {
      cr_assert_eq(vmo_info(v).num_children, 0u);
      zx_signals_t sig;
      cr_assert_eq(zx_object_wait_one(v, ZX_VMO_ZERO_CHILDREN, 0, &sig), ZX_OK);
    }
    cr_assert_eq(zxvmo_get_stats(&s1), ZX_OK);
    cr_assert_eq(s1.handles_alive, s0.handles_alive);
    cr_assert_eq(zxvmo_check_invariants(), ZX_OK);
    if (st == ZX_OK && tries < nth) break;  // every allocation was tried
  }
  zx_handle_close(v);
}

// §8's rule "DECOMMIT of a VMO that has a live SNAPSHOT child -> NOT_SUPPORTED" covers a
// snapshot of a reference: it is a child of the pages the reference shares (§16.1), so
// DECOMMIT through the parent, the reference or another reference is refused, as it
// is for a snapshot of the parent itself (found by the fuzzer: DECOMMIT went through).
Test(reference, decommit_refused_with_a_snapshot_of_a_reference) {
  zx_handle_t v = mkvmo_filled(4, 0x30);
  zx_handle_t r = mkref(v, 0), r2 = mkref(v, 0), c;
  cr_assert_eq(zx_vmo_create_child(r, ZX_VMO_CHILD_SNAPSHOT, 0, PG, &c), ZX_OK);
  cr_assert_eq(zx_vmo_op_range(v, ZX_VMO_OP_DECOMMIT, 0, PG, NULL, 0), ZX_ERR_NOT_SUPPORTED);
  cr_assert_eq(zx_vmo_op_range(r, ZX_VMO_OP_DECOMMIT, 0, PG, NULL, 0), ZX_ERR_NOT_SUPPORTED);
  cr_assert_eq(zx_vmo_op_range(r2, ZX_VMO_OP_DECOMMIT, 0, PG, NULL, 0), ZX_ERR_NOT_SUPPORTED);
  cr_assert_eq(rd8(c, 0), 0x30);
  // Without the snapshot, DECOMMIT works through either again.
  zx_handle_close(c);
  cr_assert_eq(zx_vmo_op_range(r, ZX_VMO_OP_DECOMMIT, 0, PG, NULL, 0), ZX_OK);
  cr_assert_eq(rd8(v, 0), 0);
  zx_handle_close(r2);
  zx_handle_close(r);
  zx_handle_close(v);
}
