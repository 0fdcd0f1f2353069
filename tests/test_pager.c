// SPDX-License-Identifier: BSD-3-Clause
// User pagers (docs/behavior.md §14): requests and their packets, supply, FAIL,
// detach and close, children of pager VMOs, and every call's rights and errors.
#include <criterion/criterion.h>
#include <zircon/syscalls-next.h>

#include <zircon/process.h>

#include "os.h"
#include "pager_helpers.h"

// ---- requests and supply ------------------------------------------------------

Test(pager, read_sends_one_request_and_waits_for_supply) {
  pg_env_t e = pg_env();
  zx_handle_t v = pg_vmo(&e, 4, 0, 42);
  pg_op_t* op = pg_op_start(OP_READ, v, PG + 10, 100, 0);
  pg_expect(e.port, 42, ZX_PAGER_VMO_READ, 1, 1);
  cr_assert(!pg_op_done_within(op, 50), "the read must wait for the pager");
  pg_supply(&e, v, 1, 1, 7);
  uint8_t got[100];
  cr_assert_eq(pg_op_join(op, got), ZX_OK);
  for (int i = 0; i < 100; i++) cr_assert_eq(got[i], pg_pat(PG + 10 + (uint64_t)i, 7));
  // Supplied pages are resident: no request the second time.
  cr_assert(pg_check(v, PG, PG, 7));
  pg_expect_none(e.port);
}

Test(pager, presupplied_pages_need_no_request) {
  pg_env_t e = pg_env();
  zx_handle_t v = pg_vmo(&e, 8, 0, 1);
  pg_supply(&e, v, 0, 8, 3);
  cr_assert(pg_check(v, 0, 8 * PG, 3));
  pg_expect_none(e.port);
  zx_info_vmo_t info = vmo_info(v);
  cr_assert_eq(info.committed_bytes, 8 * PG);
  cr_assert(info.flags & ZX_INFO_VMO_PAGER_BACKED);
}

Test(pager, a_multipage_read_asks_for_the_whole_absent_run) {
  pg_env_t e = pg_env();
  zx_handle_t v = pg_vmo(&e, 32, 0, 5);
  pg_op_t* op = pg_op_start(OP_READ, v, 0, 32 * PG, 0);
  pg_expect(e.port, 5, ZX_PAGER_VMO_READ, 0, 32);
  pg_supply(&e, v, 0, 32, 1);
  cr_assert_eq(pg_op_join(op, NULL), ZX_OK);
  pg_expect_none(e.port);
}

Test(pager, commit_requests_split_at_present_pages) {
  pg_env_t e = pg_env();
  zx_handle_t v = pg_vmo(&e, 33, 0, 9);
  pg_supply(&e, v, 16, 1, 2);
  pg_op_t* op = pg_op_start(OP_COMMIT, v, 0, 33 * PG, 0);
  pg_expect(e.port, 9, ZX_PAGER_VMO_READ, 0, 16);
  pg_supply(&e, v, 0, 16, 2);
  pg_expect(e.port, 9, ZX_PAGER_VMO_READ, 17, 16);
  pg_supply(&e, v, 17, 16, 2);
  cr_assert_eq(pg_op_join(op, NULL), ZX_OK);
  cr_assert_eq(vmo_info(v).committed_bytes, 33 * PG);
  cr_assert(pg_check(v, 0, 33 * PG, 2));
}

Test(pager, a_requested_range_is_not_requested_again) {
  pg_env_t e = pg_env();
  zx_handle_t v = pg_vmo(&e, 32, 0, 9);
  pg_op_t* a = pg_op_start(OP_COMMIT, v, 8 * PG, 16 * PG, 0);
  pg_expect(e.port, 9, ZX_PAGER_VMO_READ, 8, 16);
  // Starts before the outstanding request: cut where it begins.
  pg_op_t* b = pg_op_start(OP_COMMIT, v, 0, 32 * PG, 0);
  pg_expect(e.port, 9, ZX_PAGER_VMO_READ, 0, 8);
  // Starts inside it: waits on it, no packet.
  pg_op_t* c = pg_op_start(OP_COMMIT, v, 10 * PG, PG, 0);
  pg_expect_none(e.port);
  pg_supply(&e, v, 0, 24, 4);
  cr_assert_eq(pg_op_join(a, NULL), ZX_OK);
  cr_assert_eq(pg_op_join(c, NULL), ZX_OK);
  pg_expect(e.port, 9, ZX_PAGER_VMO_READ, 24, 8);
  pg_supply(&e, v, 24, 8, 4);
  cr_assert_eq(pg_op_join(b, NULL), ZX_OK);
}

Test(pager, many_threads_on_one_page_make_one_request) {
  pg_env_t e = pg_env();
  zx_handle_t v = pg_vmo(&e, 2, 0, 3);
  pg_op_t* ops[8];
  for (int i = 0; i < 8; i++) ops[i] = pg_op_start(OP_READ, v, 0, 16, 0);
  pg_expect(e.port, 3, ZX_PAGER_VMO_READ, 0, 1);
  pg_expect_none(e.port);
  pg_supply(&e, v, 0, 1, 8);
  for (int i = 0; i < 8; i++) cr_assert_eq(pg_op_join(ops[i], NULL), ZX_OK);
}

Test(pager, supply_before_the_packet_is_read_takes_the_packet_back) {
  pg_env_t e = pg_env();
  zx_handle_t v = pg_vmo(&e, 2, 0, 3);
  pg_op_t* op = pg_op_start(OP_READ, v, 0, 16, 0);
  // Wait until the request exists (the read is blocked), without reading the packet.
  cr_assert(!pg_op_done_within(op, 50));
  pg_supply(&e, v, 0, 1, 8);
  cr_assert_eq(pg_op_join(op, NULL), ZX_OK);
  pg_expect_none(e.port);
}

Test(pager, write_to_an_absent_page_reads_it_first) {
  pg_env_t e = pg_env();
  zx_handle_t v = pg_vmo(&e, 2, 0, 3);
  pg_op_t* op = pg_op_start(OP_WRITE, v, 10, 5, 0xAB);
  pg_expect(e.port, 3, ZX_PAGER_VMO_READ, 0, 1);
  pg_supply(&e, v, 0, 1, 8);
  cr_assert_eq(pg_op_join(op, NULL), ZX_OK);
  cr_assert_eq(rd8(v, 9), pg_pat(9, 8));
  cr_assert_eq(rd8(v, 10), 0xAB);
  cr_assert_eq(rd8(v, 15), pg_pat(15, 8));
}

Test(pager, supply_skips_resident_pages_and_decommits_aux) {
  pg_env_t e = pg_env();
  zx_handle_t v = pg_vmo(&e, 4, 0, 3);
  pg_supply(&e, v, 1, 1, 1);
  zx_handle_t aux = mkvmo_filled(4, 0x40);
  cr_assert_eq(zx_pager_supply_pages(e.pager, v, 0, 4 * PG, aux, 0), ZX_OK);
  cr_assert_eq(rd8(v, 0), 0x40);
  cr_assert_eq(rd8(v, PG), pg_pat(PG, 1));  // kept
  cr_assert_eq(rd8(v, 3 * PG), 0x43);
  cr_assert_eq(vmo_info(aux).committed_bytes, 0);
  cr_assert_eq(rd8(aux, 0), 0);
  pg_expect_none(e.port);
}

Test(pager, uncommitted_aux_pages_supply_zeros_without_memory) {
  pg_env_t e = pg_env();
  zx_handle_t v = pg_vmo(&e, 4, 0, 3);
  zx_handle_t aux = mkvmo(4 * PG);
  cr_assert_eq(zx_pager_supply_pages(e.pager, v, 0, 4 * PG, aux, 0), ZX_OK);
  cr_assert_eq(rd8(v, 2 * PG + 5), 0);
  cr_assert_eq(vmo_info(v).committed_bytes, 0);
  wr8(v, 2 * PG, 9);
  cr_assert_eq(vmo_info(v).committed_bytes, PG);
  pg_expect_none(e.port);
}

Test(pager, a_mapped_aux_gives_its_pages_and_reads_zero_after) {
  pg_env_t e = pg_env();
  zx_handle_t v = pg_vmo(&e, 1, 0, 3);
  zx_handle_t aux = mkvmo_filled(1, 0x21);
  zx_vaddr_t addr;
  cr_assert_eq(zx_vmar_map(zx_vmar_root_self(), ZX_VM_PERM_READ | ZX_VM_PERM_WRITE, 0, aux,
                           0, PG, &addr),
               ZX_OK);
  cr_assert_eq(((volatile uint8_t*)addr)[0], 0x21);
  cr_assert_eq(zx_pager_supply_pages(e.pager, v, 0, PG, aux, 0), ZX_OK);
  cr_assert_eq(rd8(v, 0), 0x21);
  cr_assert_eq(((volatile uint8_t*)addr)[0], 0);
  cr_assert_eq(zx_vmar_unmap(zx_vmar_root_self(), addr, PG), ZX_OK);
}

// ---- FAIL -------------------------------------------------------------------------

Test(pager, fail_returns_its_status_to_the_blocked_access) {
  const zx_status_t codes[] = {ZX_ERR_IO, ZX_ERR_IO_DATA_INTEGRITY, ZX_ERR_BAD_STATE,
                               ZX_ERR_NO_SPACE, ZX_ERR_BUFFER_TOO_SMALL};
  pg_env_t e = pg_env();
  zx_handle_t v = pg_vmo(&e, 1, 0, 3);
  for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
    pg_op_t* op = pg_op_start(i % 2 ? OP_COMMIT : OP_READ, v, 0, PG, 0);
    pg_expect(e.port, 3, ZX_PAGER_VMO_READ, 0, 1);
    cr_assert_eq(zx_pager_op_range(e.pager, ZX_PAGER_OP_FAIL, v, 0, PG, (uint64_t)codes[i]),
                 ZX_OK);
    cr_assert_eq(pg_op_join(op, NULL), codes[i]);
  }
  // Failing changes no page: the next access asks again, and a supply serves it.
  pg_op_t* op = pg_op_start(OP_READ, v, 0, PG, 0);
  pg_expect(e.port, 3, ZX_PAGER_VMO_READ, 0, 1);
  pg_supply(&e, v, 0, 1, 6);
  cr_assert_eq(pg_op_join(op, NULL), ZX_OK);
  // Failing with nothing outstanding is fine.
  cr_assert_eq(zx_pager_op_range(e.pager, ZX_PAGER_OP_FAIL, v, 0, PG, (uint64_t)ZX_ERR_IO),
               ZX_OK);
}

Test(pager, fail_of_a_later_part_makes_the_access_ask_again) {
  pg_env_t e = pg_env();
  zx_handle_t v = pg_vmo(&e, 10, 0, 3);
  pg_op_t* op = pg_op_start(OP_COMMIT, v, 0, 10 * PG, 0);
  pg_expect(e.port, 3, ZX_PAGER_VMO_READ, 0, 10);
  pg_supply(&e, v, 0, 1, 1);
  cr_assert_eq(zx_pager_op_range(e.pager, ZX_PAGER_OP_FAIL, v, PG, 9 * PG, (uint64_t)ZX_ERR_IO),
               ZX_OK);
  pg_expect(e.port, 3, ZX_PAGER_VMO_READ, 1, 9);
  cr_assert_eq(zx_pager_op_range(e.pager, ZX_PAGER_OP_FAIL, v, PG, 9 * PG, (uint64_t)ZX_ERR_IO),
               ZX_OK);
  cr_assert_eq(pg_op_join(op, NULL), ZX_ERR_IO);
}

Test(pager, fail_rejects_statuses_a_pager_may_not_give) {
  pg_env_t e = pg_env();
  zx_handle_t v = pg_vmo(&e, 1, 0, 3);
  cr_assert_eq(zx_pager_op_range(e.pager, ZX_PAGER_OP_FAIL, v, 0, PG, 0), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(zx_pager_op_range(e.pager, ZX_PAGER_OP_FAIL, v, 0, PG,
                                 (uint64_t)(int64_t)ZX_ERR_INTERNAL),
               ZX_ERR_INVALID_ARGS);
  cr_assert_eq(zx_pager_op_range(e.pager, ZX_PAGER_OP_FAIL, v, 0, PG, 100), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(zx_pager_op_range(e.pager, ZX_PAGER_OP_FAIL, v, 0, PG, 0x11ffffffffull),
               ZX_ERR_INVALID_ARGS);
  cr_assert_eq(zx_pager_op_range(e.pager, ZX_PAGER_OP_FAIL, v, PG, PG, (uint64_t)ZX_ERR_IO),
               ZX_ERR_OUT_OF_RANGE);
}

// ---- detach, close, COMPLETE -------------------------------------------------------

Test(pager, detach_fails_blocked_and_later_accesses_and_sends_complete) {
  pg_env_t e = pg_env();
  zx_handle_t v = pg_vmo(&e, 4, 0, 77);
  pg_supply(&e, v, 0, 1, 1);
  wr8(v, 0, 5);  // dirty: kept
  pg_supply(&e, v, 1, 1, 1);  // clean: dropped at detach
  pg_op_t* op = pg_op_start(OP_READ, v, 2 * PG, 2 * PG, 0);
  pg_expect(e.port, 77, ZX_PAGER_VMO_READ, 2, 2);
  cr_assert_eq(zx_pager_detach_vmo(e.pager, v), ZX_OK);
  cr_assert_eq(pg_op_join(op, NULL), ZX_ERR_BAD_STATE);
  pg_expect(e.port, 77, ZX_PAGER_VMO_COMPLETE, 0, 0);
  pg_expect_none(e.port);
  cr_assert_eq(rd8(v, 0), 5);
  uint8_t b;
  cr_assert_eq(zx_vmo_read(v, &b, PG, 1), ZX_ERR_BAD_STATE);
  cr_assert_eq(zx_vmo_write(v, &b, 3 * PG, 1), ZX_ERR_BAD_STATE);
  cr_assert_eq(zx_vmo_op_range(v, ZX_VMO_OP_COMMIT, 2 * PG, PG, NULL, 0), ZX_ERR_BAD_STATE);
  cr_assert_eq(vmo_info(v).committed_bytes, PG);
  // Detaching again is a no-op; supply and FAIL now fail.
  cr_assert_eq(zx_pager_detach_vmo(e.pager, v), ZX_OK);
  pg_expect_none(e.port);
  zx_handle_t aux = mkvmo(PG);
  cr_assert_eq(zx_pager_supply_pages(e.pager, v, PG, PG, aux, 0), ZX_ERR_BAD_STATE);
  cr_assert_eq(zx_pager_op_range(e.pager, ZX_PAGER_OP_FAIL, v, 0, PG, (uint64_t)ZX_ERR_IO),
               ZX_ERR_BAD_STATE);
}

Test(pager, detach_takes_back_packets_not_yet_read) {
  pg_env_t e = pg_env();
  zx_handle_t v = pg_vmo(&e, 4, 0, 77);
  pg_op_t* op = pg_op_start(OP_READ, v, 0, 1, 0);
  cr_assert(!pg_op_done_within(op, 50));  // blocked: its request is queued
  cr_assert_eq(zx_pager_detach_vmo(e.pager, v), ZX_OK);
  cr_assert_eq(pg_op_join(op, NULL), ZX_ERR_BAD_STATE);
  pg_expect(e.port, 77, ZX_PAGER_VMO_COMPLETE, 0, 0);
  pg_expect_none(e.port);
}

Test(pager, closing_the_vmo_sends_complete) {
  pg_env_t e = pg_env();
  zx_handle_t v = pg_vmo(&e, 1, 0, 12);
  cr_assert_eq(zx_handle_close(v), ZX_OK);
  pg_expect(e.port, 12, ZX_PAGER_VMO_COMPLETE, 0, 0);
}

Test(pager, closing_the_pager_fails_waiters_keeps_resident_pages) {
  pg_env_t e = pg_env();
  zx_handle_t v = pg_vmo(&e, 4, 0, 12);
  pg_supply(&e, v, 1, 1, 4);
  pg_op_t* op = pg_op_start(OP_READ, v, 0, 1, 0);
  pg_expect(e.port, 12, ZX_PAGER_VMO_READ, 0, 1);
  cr_assert_eq(zx_handle_close(e.pager), ZX_OK);
  cr_assert_eq(pg_op_join(op, NULL), ZX_ERR_BAD_STATE);
  cr_assert(pg_check(v, PG, PG, 4));
  uint8_t b;
  cr_assert_eq(zx_vmo_read(v, &b, 2 * PG, 1), ZX_ERR_BAD_STATE);
  pg_expect_none(e.port);  // no COMPLETE for a closed pager
  cr_assert_eq(zx_handle_close(v), ZX_OK);
  pg_expect_none(e.port);
}

Test(pager, a_closed_port_leaves_waiters_blocked_until_detach) {
  pg_env_t e = pg_env();
  zx_handle_t v = pg_vmo(&e, 2, 0, 12);
  cr_assert_eq(zx_handle_close(e.port), ZX_OK);
  pg_op_t* a = pg_op_start(OP_READ, v, 0, 1, 0);
  pg_op_t* b = pg_op_start(OP_READ, v, PG, 1, 0);
  cr_assert(!pg_op_done_within(a, 50));
  pg_supply(&e, v, 0, 1, 4);
  cr_assert_eq(pg_op_join(a, NULL), ZX_OK);
  cr_assert(!pg_op_done_within(b, 50));
  cr_assert_eq(zx_pager_detach_vmo(e.pager, v), ZX_OK);
  cr_assert_eq(pg_op_join(b, NULL), ZX_ERR_BAD_STATE);
}

Test(pager, shrinking_ends_requests_past_the_new_size) {
  pg_env_t e = pg_env();
  zx_handle_t v = pg_vmo(&e, 4, ZX_VMO_RESIZABLE, 12);
  pg_op_t* op = pg_op_start(OP_READ, v, 3 * PG, 1, 0);
  pg_expect(e.port, 12, ZX_PAGER_VMO_READ, 3, 1);
  cr_assert_eq(zx_vmo_set_size(v, 2 * PG), ZX_OK);
  cr_assert_eq(pg_op_join(op, NULL), ZX_ERR_OUT_OF_RANGE);
}

// Zircon resizes first and ignores whether the tail of the last page could be zeroed:
// a page the pager fails, or one a detached TRAP_DIRTY VMO cannot dirty, stays as it is.
Test(pager, shrinking_to_a_partial_page_the_pager_cannot_give_still_resizes) {
  pg_env_t e = pg_env();
  uint64_t size = 0, content = 0;
  // Page 2 is absent and the VMO detached: it cannot be had, yet the resize happens.
  zx_handle_t v = pg_vmo(&e, 4, ZX_VMO_RESIZABLE, 13);
  pg_supply(&e, v, 0, 2, 4);
  cr_assert_eq(zx_pager_detach_vmo(e.pager, v), ZX_OK);
  cr_assert_eq(zx_vmo_set_size(v, 2 * PG + 100), ZX_OK);
  cr_assert_eq(zx_vmo_get_size(v, &size), ZX_OK);
  cr_assert_eq(size, 3 * PG);
  cr_assert_eq(zx_object_get_property(v, ZX_PROP_VMO_CONTENT_SIZE, &content, sizeof(content)),
               ZX_OK);
  cr_assert_eq(content, 2 * PG + 100);
  cr_assert_eq(zxvmo_check_invariants(), ZX_OK);

  // A detached TRAP_DIRTY VMO cannot dirty the page of a dirty zero range it would
  // zero part of: the shrink still succeeds, and the page still reads zero.
  zx_handle_t t = pg_vmo(&e, 2, ZX_VMO_RESIZABLE | ZX_VMO_TRAP_DIRTY, 14);
  cr_assert_eq(zx_pager_detach_vmo(e.pager, t), ZX_OK);
  cr_assert_eq(zx_vmo_set_size(t, 4 * PG), ZX_OK);
  for (int k = 0; k < 2; k++) cr_assert_eq(zx_vmo_set_size(t, 3 * PG + 100), ZX_OK);
  cr_assert_eq(zx_vmo_get_size(t, &size), ZX_OK);
  cr_assert_eq(size, 4 * PG);
  cr_assert_eq(rd8(t, 3 * PG + 200), 0);
  cr_assert_eq(zxvmo_check_invariants(), ZX_OK);
}

// ---- children ---------------------------------------------------------------------

Test(pager, snapshot_is_refused_at_least_on_write_is_one_way) {
  pg_env_t e = pg_env();
  zx_handle_t v = pg_vmo(&e, 4, 0, 12);
  zx_handle_t c;
  cr_assert_eq(zx_vmo_create_child(v, ZX_VMO_CHILD_SNAPSHOT, 0, 4 * PG, &c),
               ZX_ERR_NOT_SUPPORTED);
  cr_assert_eq(zx_vmo_create_child(v, ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE, PG, 2 * PG, &c),
               ZX_OK);
  cr_assert(vmo_info(c).flags & ZX_INFO_VMO_PAGER_BACKED);
  // A read through the child asks for the parent's page, at the parent's offset.
  pg_op_t* op = pg_op_start(OP_READ, c, PG, 8, 0);
  pg_expect(e.port, 12, ZX_PAGER_VMO_READ, 2, 1);
  pg_supply(&e, v, 2, 1, 9);
  cr_assert_eq(pg_op_join(op, NULL), ZX_OK);
  // A write through the child reads the parent's page, copies it, dirties nothing.
  op = pg_op_start(OP_WRITE, c, 0, 1, 0xEE);
  pg_expect(e.port, 12, ZX_PAGER_VMO_READ, 1, 1);
  pg_supply(&e, v, 1, 1, 9);
  cr_assert_eq(pg_op_join(op, NULL), ZX_OK);
  cr_assert_eq(rd8(c, 0), 0xEE);
  cr_assert_eq(rd8(c, 1), pg_pat(PG + 1, 9));
  cr_assert_eq(rd8(v, PG), pg_pat(PG, 9));
  size_t actual = 1, avail = 1;
  zx_vmo_dirty_range_t r;
  cr_assert_eq(zx_pager_query_dirty_ranges(e.pager, v, 0, 4 * PG, &r, sizeof(r), &actual, &avail),
               ZX_OK);
  cr_assert_eq(avail, 0);
  // DECOMMIT is refused on both.
  cr_assert_eq(zx_vmo_op_range(c, ZX_VMO_OP_DECOMMIT, 0, PG, NULL, 0), ZX_ERR_NOT_SUPPORTED);
  cr_assert_eq(zx_vmo_op_range(v, ZX_VMO_OP_DECOMMIT, 0, PG, NULL, 0), ZX_ERR_NOT_SUPPORTED);
}

Test(pager, commit_on_a_child_commits_the_parent_through_the_pager) {
  pg_env_t e = pg_env();
  zx_handle_t v = pg_vmo(&e, 4, 0, 12);
  zx_handle_t c;
  cr_assert_eq(zx_vmo_create_child(v, ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE, 0, 4 * PG, &c),
               ZX_OK);
  pg_op_t* op = pg_op_start(OP_COMMIT, c, 0, 4 * PG, 0);
  pg_expect(e.port, 12, ZX_PAGER_VMO_READ, 0, 4);
  pg_supply(&e, v, 0, 4, 2);
  cr_assert_eq(pg_op_join(op, NULL), ZX_OK);
  cr_assert_eq(vmo_info(c).committed_bytes, 4 * PG);
  cr_assert_eq(vmo_info(v).committed_bytes, 4 * PG);
  cr_assert(pg_check(c, 0, 4 * PG, 2));
}

Test(pager, slices_ask_for_the_parents_pages) {
  pg_env_t e = pg_env();
  zx_handle_t v = pg_vmo(&e, 4, 0, 12);
  zx_handle_t s;
  cr_assert_eq(zx_vmo_create_child(v, ZX_VMO_CHILD_SLICE, 2 * PG, 2 * PG, &s), ZX_OK);
  pg_op_t* op = pg_op_start(OP_READ, s, PG, 1, 0);
  pg_expect(e.port, 12, ZX_PAGER_VMO_READ, 3, 1);
  pg_supply(&e, v, 3, 1, 2);
  cr_assert_eq(pg_op_join(op, NULL), ZX_OK);
  // A slice's write dirties the pager VMO's page.
  wr8(s, PG, 1);
  zx_vmo_dirty_range_t r;
  size_t actual = 0, avail = 0;
  cr_assert_eq(zx_pager_query_dirty_ranges(e.pager, v, 0, 4 * PG, &r, sizeof(r), &actual, &avail),
               ZX_OK);
  cr_assert_eq(actual, 1);
  cr_assert_eq(r.offset, 3 * PG);
  cr_assert_eq(r.length, PG);
  // Pager calls take the pager VMO only.
  cr_assert_eq(zx_pager_detach_vmo(e.pager, s), ZX_ERR_INVALID_ARGS);
}

Test(pager, closing_the_parent_detaches_children_keep_resident_pages) {
  pg_env_t e = pg_env();
  zx_handle_t v = pg_vmo(&e, 2, 0, 12);
  pg_supply(&e, v, 0, 1, 3);
  zx_handle_t c;
  cr_assert_eq(zx_vmo_create_child(v, ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE, 0, 2 * PG, &c),
               ZX_OK);
  cr_assert_eq(zx_handle_close(v), ZX_OK);
  pg_expect(e.port, 12, ZX_PAGER_VMO_COMPLETE, 0, 0);
  cr_assert(pg_check(c, 0, PG, 3));
  uint8_t b;
  cr_assert_eq(zx_vmo_read(c, &b, PG, 1), ZX_ERR_BAD_STATE);
  cr_assert(zxvmo_check_invariants() == ZX_OK);
}

// ---- dirty tracking ---------------------------------------------------------------

static size_t dirty_ranges(const pg_env_t* e, zx_handle_t v, uint64_t pages,
                           zx_vmo_dirty_range_t* r, size_t cap) {
  size_t actual = 0, avail = 0;
  cr_assert_eq(zx_pager_query_dirty_ranges(e->pager, v, 0, pages * PG, r, cap * sizeof(*r),
                                           &actual, &avail),
               ZX_OK);
  cr_assert_eq(actual, avail < cap ? avail : cap);
  return avail;
}

Test(pager, writes_dirty_pages_writeback_cleans_them) {
  pg_env_t e = pg_env();
  zx_handle_t v = pg_vmo(&e, 16, 0, 12);
  pg_supply(&e, v, 0, 16, 1);
  const int pages[] = {0, 2, 4, 6, 8, 3, 11, 12, 13, 14, 15};
  for (size_t i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) wr8(v, (uint64_t)pages[i] * PG, 1);
  pg_expect_none(e.port);  // without TRAP_DIRTY nothing asks
  zx_vmo_dirty_range_t r[8];
  cr_assert_eq(dirty_ranges(&e, v, 16, r, 8), 5);
  const uint64_t want[5][2] = {{0, 1}, {2, 3}, {6, 1}, {8, 1}, {11, 5}};
  for (int i = 0; i < 5; i++) {
    cr_assert_eq(r[i].offset, want[i][0] * PG, "range %d", i);
    cr_assert_eq(r[i].length, want[i][1] * PG, "range %d", i);
    cr_assert_eq(r[i].options, 0);
  }
  // A small buffer is not an error: actual < avail.
  cr_assert_eq(dirty_ranges(&e, v, 16, r, 1), 5);
  cr_assert_eq(zx_pager_op_range(e.pager, ZX_PAGER_OP_WRITEBACK_BEGIN, v, 0, 16 * PG, 0), ZX_OK);
  cr_assert_eq(dirty_ranges(&e, v, 16, r, 8), 5);  // awaiting clean still counts
  wr8(v, 2 * PG, 2);  // written again during write-back: stays dirty
  cr_assert_eq(zx_pager_op_range(e.pager, ZX_PAGER_OP_WRITEBACK_END, v, 0, 16 * PG, 0), ZX_OK);
  cr_assert_eq(dirty_ranges(&e, v, 16, r, 8), 1);
  cr_assert_eq(r[0].offset, 2 * PG);
  cr_assert_eq(r[0].length, PG);
}

Test(pager, trap_dirty_asks_before_a_clean_page_is_written) {
  pg_env_t e = pg_env();
  zx_handle_t v = pg_vmo(&e, 8, ZX_VMO_TRAP_DIRTY, 12);
  pg_supply(&e, v, 0, 8, 1);
  pg_op_t* op = pg_op_start(OP_WRITE, v, 2 * PG, 3 * PG, 0x5A);
  pg_expect(e.port, 12, ZX_PAGER_VMO_DIRTY, 2, 3);
  cr_assert(!pg_op_done_within(op, 50));
  cr_assert_eq(zx_pager_op_range(e.pager, ZX_PAGER_OP_DIRTY, v, 2 * PG, 3 * PG, 0), ZX_OK);
  cr_assert_eq(pg_op_join(op, NULL), ZX_OK);
  cr_assert_eq(rd8(v, 4 * PG), 0x5A);
  // Already dirty: no request.
  wr8(v, 3 * PG, 1);
  pg_expect_none(e.port);
  // A failed DIRTY request fails the write and leaves the page clean.
  op = pg_op_start(OP_WRITE, v, 6 * PG, 1, 0x11);
  pg_expect(e.port, 12, ZX_PAGER_VMO_DIRTY, 6, 1);
  cr_assert_eq(zx_pager_op_range(e.pager, ZX_PAGER_OP_FAIL, v, 6 * PG, PG, (uint64_t)ZX_ERR_IO),
               ZX_OK);
  cr_assert_eq(pg_op_join(op, NULL), ZX_ERR_IO);
  cr_assert_eq(rd8(v, 6 * PG), pg_pat(6 * PG, 1));
  zx_vmo_dirty_range_t r[4];
  cr_assert_eq(dirty_ranges(&e, v, 8, r, 4), 1);
  cr_assert_eq(r[0].offset, 2 * PG);
  cr_assert_eq(r[0].length, 3 * PG);
}

Test(pager, op_dirty_needs_supplied_pages_and_trap_dirty) {
  pg_env_t e = pg_env();
  zx_handle_t plain = pg_vmo(&e, 2, 0, 1);
  cr_assert_eq(zx_pager_op_range(e.pager, ZX_PAGER_OP_DIRTY, plain, 0, 0, 0), ZX_ERR_NOT_SUPPORTED);
  zx_handle_t v = pg_vmo(&e, 2, ZX_VMO_TRAP_DIRTY, 2);
  cr_assert_eq(zx_pager_op_range(e.pager, ZX_PAGER_OP_DIRTY, v, 0, PG, 0), ZX_ERR_NOT_FOUND);
  cr_assert_eq(zx_pager_op_range(e.pager, ZX_PAGER_OP_DIRTY, v, PG, 2 * PG, 0), ZX_ERR_OUT_OF_RANGE);
  cr_assert_eq(zx_pager_op_range(e.pager, ZX_PAGER_OP_DIRTY, v, 0, PG, 100), ZX_ERR_INVALID_ARGS);
  // A zero page supplied from an empty aux becomes a real page once dirtied.
  zx_handle_t aux = mkvmo(PG);
  cr_assert_eq(zx_pager_supply_pages(e.pager, v, 0, PG, aux, 0), ZX_OK);
  cr_assert_eq(vmo_info(v).committed_bytes, 0);
  cr_assert_eq(zx_pager_op_range(e.pager, ZX_PAGER_OP_DIRTY, v, 0, PG, 0), ZX_OK);
  cr_assert_eq(vmo_info(v).committed_bytes, PG);
  cr_assert_eq(rd8(v, 7), 0);
}

Test(pager, stats_report_modification) {
  pg_env_t e = pg_env();
  zx_handle_t v = pg_vmo(&e, 2, ZX_VMO_RESIZABLE, 1);
  zx_pager_vmo_stats_t s;
  pg_supply(&e, v, 0, 2, 1);
  cr_assert_eq(zx_pager_query_vmo_stats(e.pager, v, 0, &s, sizeof(s)), ZX_OK);
  cr_assert_eq(s.modified, 0);  // supplying is not modifying
  (void)rd8(v, 0);
  cr_assert_eq(zx_pager_query_vmo_stats(e.pager, v, 0, &s, sizeof(s)), ZX_OK);
  cr_assert_eq(s.modified, 0);
  wr8(v, 0, 1);
  cr_assert_eq(zx_pager_query_vmo_stats(e.pager, v, ZX_PAGER_RESET_VMO_STATS, &s, sizeof(s)), ZX_OK);
  cr_assert_eq(s.modified, ZX_PAGER_VMO_STATS_MODIFIED);
  cr_assert_eq(zx_pager_query_vmo_stats(e.pager, v, 0, &s, sizeof(s)), ZX_OK);
  cr_assert_eq(s.modified, 0);
  cr_assert_eq(zx_vmo_set_size(v, PG), ZX_OK);
  cr_assert_eq(zx_pager_query_vmo_stats(e.pager, v, 0, &s, sizeof(s)), ZX_OK);
  cr_assert_eq(s.modified, ZX_PAGER_VMO_STATS_MODIFIED);
  cr_assert_eq(zx_pager_query_vmo_stats(e.pager, v, 0, &s, 0), ZX_ERR_BUFFER_TOO_SMALL);
  cr_assert_eq(zx_pager_query_vmo_stats(e.pager, v, 100, &s, sizeof(s)), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(zx_pager_query_vmo_stats(e.pager, v, 0, NULL, sizeof(s)), ZX_ERR_INVALID_ARGS);
}

// ---- errors and rights -------------------------------------------------------------

Test(pager, create_checks) {
  zx_handle_t p;
  cr_assert_eq(zx_pager_create(1, &p), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(zx_pager_create(0, NULL), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(zx_pager_create(0, &p), ZX_OK);
  cr_assert_eq(handle_rights(p), ZX_DEFAULT_PAGER_RIGHTS);
  zx_handle_t dup;
  cr_assert_eq(zx_handle_duplicate(p, ZX_RIGHT_SAME_RIGHTS, &dup), ZX_ERR_ACCESS_DENIED);
}

Test(pager, create_vmo_checks) {
  pg_env_t e = pg_env();
  zx_handle_t v, vmo = mkvmo(PG), ro_port;
  cr_assert_eq(zx_handle_duplicate(e.port, ZX_RIGHT_READ, &ro_port), ZX_OK);
  cr_assert_eq(zx_pager_create_vmo(ZX_HANDLE_INVALID, 0, e.port, 0, PG, &v), ZX_ERR_BAD_HANDLE);
  cr_assert_eq(zx_pager_create_vmo(e.port, 0, e.port, 0, PG, &v), ZX_ERR_WRONG_TYPE);
  cr_assert_eq(zx_pager_create_vmo(e.pager, 0, ZX_HANDLE_INVALID, 0, PG, &v), ZX_ERR_BAD_HANDLE);
  cr_assert_eq(zx_pager_create_vmo(e.pager, 0, vmo, 0, PG, &v), ZX_ERR_WRONG_TYPE);
  cr_assert_eq(zx_pager_create_vmo(e.pager, 0, ro_port, 0, PG, &v), ZX_ERR_ACCESS_DENIED);
  cr_assert_eq(zx_pager_create_vmo(e.pager, ~0u, e.port, 0, PG, &v), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(zx_pager_create_vmo(e.pager, 0, e.port, 0, MAX_VMO_SIZE + 1, &v),
               ZX_ERR_OUT_OF_RANGE);
  cr_assert_eq(zx_pager_create_vmo(e.pager, ZX_VMO_RESIZABLE | ZX_VMO_UNBOUNDED, e.port, 0, PG, &v),
               ZX_ERR_INVALID_ARGS);
  cr_assert_eq(zx_pager_create_vmo(e.pager, 0, e.port, 0, PG, NULL), ZX_ERR_INVALID_ARGS);
  zx_handle_t weak;
  cr_assert_eq(zx_handle_replace(e.pager, ZX_RIGHT_MANAGE_VMO, &weak), ZX_OK);
  cr_assert_eq(zx_pager_create_vmo(weak, 0, e.port, 0, PG, &v), ZX_ERR_ACCESS_DENIED);
  // A plain VMO cannot trap dirtying.
  cr_assert_eq(zx_vmo_create(PG, ZX_VMO_TRAP_DIRTY, &v), ZX_ERR_INVALID_ARGS);
  // Size 0 and unaligned sizes are fine; rights are a VMO's.
  zx_handle_t p2;
  cr_assert_eq(zx_pager_create(0, &p2), ZX_OK);
  cr_assert_eq(zx_pager_create_vmo(p2, ZX_VMO_RESIZABLE, e.port, 0, 0, &v), ZX_OK);
  cr_assert_eq(handle_rights(v), ZX_DEFAULT_VMO_RIGHTS | ZX_RIGHT_RESIZE);
  cr_assert_eq(zx_pager_create_vmo(p2, 0, e.port, 0, 10, &v), ZX_OK);
  uint64_t size;
  cr_assert_eq(zx_vmo_get_size(v, &size), ZX_OK);
  cr_assert_eq(size, PG);
}

Test(pager, detach_checks) {
  pg_env_t e = pg_env();
  pg_env_t other = pg_env();
  zx_handle_t v = pg_vmo(&e, 1, 0, 1), plain = mkvmo(PG), ro;
  cr_assert_eq(zx_handle_duplicate(v, ZX_RIGHT_READ, &ro), ZX_OK);
  cr_assert_eq(zx_pager_detach_vmo(ZX_HANDLE_INVALID, v), ZX_ERR_BAD_HANDLE);
  cr_assert_eq(zx_pager_detach_vmo(e.pager, ZX_HANDLE_INVALID), ZX_ERR_BAD_HANDLE);
  cr_assert_eq(zx_pager_detach_vmo(v, v), ZX_ERR_WRONG_TYPE);
  cr_assert_eq(zx_pager_detach_vmo(e.pager, e.pager), ZX_ERR_WRONG_TYPE);
  cr_assert_eq(zx_pager_detach_vmo(e.pager, ro), ZX_ERR_ACCESS_DENIED);
  cr_assert_eq(zx_pager_detach_vmo(e.pager, plain), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(zx_pager_detach_vmo(other.pager, v), ZX_ERR_INVALID_ARGS);
  zx_handle_t attach_only, manage_only;
  cr_assert_eq(zx_handle_replace(other.pager, ZX_RIGHT_ATTACH_VMO, &attach_only), ZX_OK);
  zx_handle_t v2;
  cr_assert_eq(zx_pager_create_vmo(attach_only, 0, e.port, 0, PG, &v2), ZX_OK);
  cr_assert_eq(zx_pager_detach_vmo(attach_only, v2), ZX_ERR_ACCESS_DENIED);
  cr_assert_eq(zx_handle_replace(e.pager, ZX_RIGHT_MANAGE_VMO, &manage_only), ZX_OK);
  cr_assert_eq(zx_pager_detach_vmo(manage_only, v), ZX_ERR_ACCESS_DENIED);
}

Test(pager, supply_checks) {
  pg_env_t e = pg_env();
  pg_env_t other = pg_env();
  zx_handle_t v = pg_vmo(&e, 2, 0, 1), plain = mkvmo(PG), aux = mkvmo_filled(2, 1);
  zx_handle_t aux_ro, aux_wo, v_ro, pager_vmo_aux = pg_vmo(&other, 1, 0, 2);
  cr_assert_eq(zx_handle_duplicate(aux, ZX_RIGHT_READ, &aux_ro), ZX_OK);
  cr_assert_eq(zx_handle_duplicate(aux, ZX_RIGHT_WRITE, &aux_wo), ZX_OK);
  cr_assert_eq(zx_handle_duplicate(v, ZX_RIGHT_READ, &v_ro), ZX_OK);
  // Alignment first, before any handle.
  cr_assert_eq(zx_pager_supply_pages(ZX_HANDLE_INVALID, v, 1, PG, aux, 0), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(zx_pager_supply_pages(e.pager, v, 0, 1, aux, 0), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(zx_pager_supply_pages(e.pager, v, 0, PG, aux, 1), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(zx_pager_supply_pages(ZX_HANDLE_INVALID, v, 0, PG, aux, 0), ZX_ERR_BAD_HANDLE);
  cr_assert_eq(zx_pager_supply_pages(e.pager, ZX_HANDLE_INVALID, 0, PG, aux, 0), ZX_ERR_BAD_HANDLE);
  cr_assert_eq(zx_pager_supply_pages(e.pager, v, 0, PG, ZX_HANDLE_INVALID, 0), ZX_ERR_BAD_HANDLE);
  cr_assert_eq(zx_pager_supply_pages(e.pager, v, 0, PG, e.port, 0), ZX_ERR_WRONG_TYPE);
  cr_assert_eq(zx_pager_supply_pages(e.pager, v_ro, 0, PG, aux, 0), ZX_ERR_ACCESS_DENIED);
  // The VMO is checked before aux (even an invalid aux).
  cr_assert_eq(zx_pager_supply_pages(e.pager, plain, 0, PG, ZX_HANDLE_INVALID, 0),
               ZX_ERR_INVALID_ARGS);
  cr_assert_eq(zx_pager_supply_pages(other.pager, v, 0, PG, ZX_HANDLE_INVALID, 0),
               ZX_ERR_INVALID_ARGS);
  cr_assert_eq(zx_pager_supply_pages(e.pager, v, 0, PG, aux_ro, 0), ZX_ERR_ACCESS_DENIED);
  cr_assert_eq(zx_pager_supply_pages(e.pager, v, 0, PG, aux_wo, 0), ZX_ERR_ACCESS_DENIED);
  cr_assert_eq(zx_pager_supply_pages(e.pager, v, 0, PG, pager_vmo_aux, 0), ZX_ERR_NOT_SUPPORTED);
  cr_assert_eq(zx_pager_supply_pages(e.pager, v, 0, PG, aux, 2 * PG), ZX_ERR_OUT_OF_RANGE);
  cr_assert_eq(zx_pager_supply_pages(e.pager, v, 2 * PG, PG, aux, 0), ZX_ERR_OUT_OF_RANGE);
  // Bad input took nothing from aux.
  cr_assert_eq(vmo_info(aux).committed_bytes, 2 * PG);
  cr_assert_eq(zx_pager_supply_pages(e.pager, v, 0, 0, aux, 0), ZX_OK);
  zx_handle_t weak;
  cr_assert_eq(zx_handle_replace(e.pager, ZX_RIGHT_ATTACH_VMO, &weak), ZX_OK);
  cr_assert_eq(zx_pager_supply_pages(weak, v, 0, PG, aux, 0), ZX_ERR_ACCESS_DENIED);
}

Test(pager, op_range_checks) {
  pg_env_t e = pg_env();
  zx_handle_t v = pg_vmo(&e, 1, ZX_VMO_TRAP_DIRTY, 1), plain = mkvmo(PG), ro;
  cr_assert_eq(zx_handle_duplicate(v, ZX_RIGHT_READ, &ro), ZX_OK);
  for (uint32_t op = ZX_PAGER_OP_FAIL; op <= ZX_PAGER_OP_WRITEBACK_END; op++) {
    uint64_t data = op == ZX_PAGER_OP_FAIL ? (uint64_t)ZX_ERR_IO : 0;
    cr_assert_eq(zx_pager_op_range(ZX_HANDLE_INVALID, op, v, 0, PG, data), ZX_ERR_BAD_HANDLE);
    cr_assert_eq(zx_pager_op_range(v, op, v, 0, PG, data), ZX_ERR_WRONG_TYPE);
    cr_assert_eq(zx_pager_op_range(e.pager, op, ro, 0, PG, data), ZX_ERR_ACCESS_DENIED);
    cr_assert_eq(zx_pager_op_range(e.pager, op, plain, 0, PG, data), ZX_ERR_INVALID_ARGS);
    cr_assert_eq(zx_pager_op_range(e.pager, op, v, 1, PG, data), ZX_ERR_INVALID_ARGS);
    cr_assert_eq(zx_pager_op_range(e.pager, op, v, 0, PG + 1, data), ZX_ERR_INVALID_ARGS);
    cr_assert_eq(zx_pager_op_range(e.pager, op, v, PG, PG, data), ZX_ERR_OUT_OF_RANGE);
    if (op != ZX_PAGER_OP_FAIL) {
      cr_assert_eq(zx_pager_op_range(e.pager, op, v, 0, PG, 100), ZX_ERR_INVALID_ARGS);
    }
  }
  cr_assert_eq(zx_pager_op_range(e.pager, 0, v, 0, PG, 0), ZX_ERR_NOT_SUPPORTED);
  cr_assert_eq(zx_pager_op_range(e.pager, 5, v, 0, PG, 0), ZX_ERR_NOT_SUPPORTED);
  // Write-back of nothing dirty, and with the IS_ZERO flag, is fine.
  cr_assert_eq(zx_pager_op_range(e.pager, ZX_PAGER_OP_WRITEBACK_BEGIN, v, 0, PG,
                                 ZX_VMO_DIRTY_RANGE_IS_ZERO),
               ZX_OK);
  cr_assert_eq(zx_pager_op_range(e.pager, ZX_PAGER_OP_WRITEBACK_END, v, 0, PG, 0), ZX_OK);
}

Test(pager, query_checks) {
  pg_env_t e = pg_env();
  zx_handle_t v = pg_vmo(&e, 1, 0, 1), plain = mkvmo(PG), wo, c;
  cr_assert_eq(zx_handle_duplicate(v, ZX_RIGHT_WRITE, &wo), ZX_OK);
  cr_assert_eq(zx_vmo_create_child(v, ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE, 0, PG, &c), ZX_OK);
  zx_vmo_dirty_range_t r;
  size_t a, b;
  zx_pager_vmo_stats_t s;
  cr_assert_eq(zx_pager_query_dirty_ranges(e.pager, wo, 0, PG, &r, sizeof(r), &a, &b),
               ZX_ERR_ACCESS_DENIED);
  cr_assert_eq(zx_pager_query_dirty_ranges(e.pager, plain, 0, PG, &r, sizeof(r), &a, &b),
               ZX_ERR_INVALID_ARGS);
  cr_assert_eq(zx_pager_query_dirty_ranges(e.pager, c, 0, PG, &r, sizeof(r), &a, &b),
               ZX_ERR_INVALID_ARGS);
  cr_assert_eq(zx_pager_query_dirty_ranges(e.pager, v, PG, PG, &r, sizeof(r), &a, &b),
               ZX_ERR_OUT_OF_RANGE);
  cr_assert_eq(zx_pager_query_vmo_stats(e.pager, wo, 0, &s, sizeof(s)), ZX_ERR_ACCESS_DENIED);
  cr_assert_eq(zx_pager_query_vmo_stats(e.pager, c, 0, &s, sizeof(s)), ZX_ERR_INVALID_ARGS);
  // Counting only, and a buffer with nothing to copy, need no buffer.
  cr_assert_eq(zx_pager_query_dirty_ranges(e.pager, v, 0, PG, NULL, 0, NULL, &b), ZX_OK);
  cr_assert_eq(b, 0);
  pg_supply(&e, v, 0, 1, 1);
  wr8(v, 0, 1);
  cr_assert_eq(zx_pager_query_dirty_ranges(e.pager, v, 0, PG, NULL, sizeof(r), &a, &b),
               ZX_ERR_INVALID_ARGS);
  cr_assert_eq(zx_pager_query_dirty_ranges(e.pager, v, 0, PG, &r, 8, &a, &b), ZX_OK);
  cr_assert_eq(a, 0);
  cr_assert_eq(b, 1);
  zx_handle_t weak;
  cr_assert_eq(zx_handle_replace(e.pager, ZX_RIGHT_ATTACH_VMO, &weak), ZX_OK);
  cr_assert_eq(zx_pager_query_dirty_ranges(weak, v, 0, PG, &r, sizeof(r), &a, &b),
               ZX_ERR_ACCESS_DENIED);
  cr_assert_eq(zx_pager_query_vmo_stats(weak, v, 0, &s, sizeof(s)), ZX_ERR_ACCESS_DENIED);
}

// ---- zero ranges --------------------------------------------------------------------

static void expect_ranges(const pg_env_t* e, zx_handle_t v, uint64_t pages, size_t n,
                          const uint64_t (*want)[3]) {
  zx_vmo_dirty_range_t r[8];
  size_t actual = 0, avail = 0;
  cr_assert_eq(zx_pager_query_dirty_ranges(e->pager, v, 0, pages * PG, r, sizeof(r), &actual,
                                           &avail),
               ZX_OK);
  cr_assert_eq(avail, n, "%zu ranges, want %zu", avail, n);
  for (size_t i = 0; i < n; i++) {
    cr_assert_eq(r[i].offset, want[i][0] * PG, "range %zu offset", i);
    cr_assert_eq(r[i].length, want[i][1] * PG, "range %zu length", i);
    cr_assert_eq(r[i].options, want[i][2], "range %zu options", i);
  }
}

Test(pager, growing_makes_a_dirty_zero_range) {
  pg_env_t e = pg_env();
  zx_handle_t v = pg_vmo(&e, 2, ZX_VMO_RESIZABLE, 1);
  pg_supply(&e, v, 0, 2, 1);
  cr_assert_eq(zx_vmo_set_size(v, 6 * PG), ZX_OK);
  cr_assert_eq(rd8(v, 4 * PG), 0);  // no request: it reads as zero
  pg_expect_none(e.port);
  cr_assert_eq(vmo_info(v).committed_bytes, 2 * PG);
  const uint64_t grown[][3] = {{2, 4, ZX_VMO_DIRTY_RANGE_IS_ZERO}};
  expect_ranges(&e, v, 6, 1, grown);
  // A supply there changes nothing; a write splits the range.
  zx_handle_t aux = mkvmo_filled(1, 0x70);
  cr_assert_eq(zx_pager_supply_pages(e.pager, v, 3 * PG, PG, aux, 0), ZX_OK);
  cr_assert_eq(rd8(v, 3 * PG), 0);
  wr8(v, 3 * PG, 5);
  const uint64_t split[][3] = {{2, 1, ZX_VMO_DIRTY_RANGE_IS_ZERO},
                               {3, 1, 0},
                               {4, 2, ZX_VMO_DIRTY_RANGE_IS_ZERO}};
  expect_ranges(&e, v, 6, 3, split);
  // Shrinking cuts the ranges too.
  cr_assert_eq(zx_vmo_set_size(v, 3 * PG), ZX_OK);
  const uint64_t cut[][3] = {{2, 1, ZX_VMO_DIRTY_RANGE_IS_ZERO}};
  expect_ranges(&e, v, 3, 1, cut);
  cr_assert_eq(zxvmo_check_invariants(), ZX_OK);
}

Test(pager, zeroing_whole_pages_makes_a_dirty_zero_range) {
  pg_env_t e = pg_env();
  zx_handle_t v = pg_vmo(&e, 8, 0, 1);
  pg_supply(&e, v, 0, 4, 1);
  pg_supply(&e, v, 7, 1, 1);
  pg_op_t* op = pg_op_start(OP_READ, v, 6 * PG, PG, 0);
  pg_expect(e.port, 1, ZX_PAGER_VMO_READ, 6, 1);
  // Zeroing answers the blocked read with zeros; the partial last page is written.
  cr_assert_eq(zx_vmo_op_range(v, ZX_VMO_OP_ZERO, PG, 6 * PG + 10, NULL, 0), ZX_OK);
  uint8_t* got = page_buf(1);
  cr_assert_eq(pg_op_join(op, got), ZX_OK);
  cr_assert_eq(got[0], 0);
  cr_assert_eq(got[PG - 1], 0);
  free(got);
  cr_assert_eq(rd8(v, 7 * PG + 9), 0);
  cr_assert_eq(rd8(v, 7 * PG + 10), pg_pat(7 * PG + 10, 1));
  cr_assert_eq(vmo_info(v).committed_bytes, 2 * PG);  // pages 0 and 7: the rest hold nothing
  pg_expect_none(e.port);
  zx_pager_vmo_stats_t s;
  cr_assert_eq(zx_pager_query_vmo_stats(e.pager, v, 0, &s, sizeof(s)), ZX_OK);
  cr_assert_eq(s.modified, ZX_PAGER_VMO_STATS_MODIFIED);
  const uint64_t zr[][3] = {{1, 6, ZX_VMO_DIRTY_RANGE_IS_ZERO}, {7, 1, 0}};
  expect_ranges(&e, v, 8, 2, zr);
}

Test(pager, zeroing_part_of_an_absent_page_asks_for_it) {
  pg_env_t e = pg_env();
  zx_handle_t v = pg_vmo(&e, 2, ZX_VMO_TRAP_DIRTY, 1);
  pg_op_t* op = pg_op_start(OP_ZERO, v, PG + 8, 8, 0);
  pg_expect(e.port, 1, ZX_PAGER_VMO_READ, 1, 1);
  pg_supply(&e, v, 1, 1, 1);
  pg_expect(e.port, 1, ZX_PAGER_VMO_DIRTY, 1, 1);  // a partial zero is a write
  cr_assert_eq(zx_pager_op_range(e.pager, ZX_PAGER_OP_DIRTY, v, PG, PG, 0), ZX_OK);
  cr_assert_eq(pg_op_join(op, NULL), ZX_OK);
  cr_assert_eq(rd8(v, PG + 7), pg_pat(PG + 7, 1));
  cr_assert_eq(rd8(v, PG + 8), 0);
  cr_assert_eq(rd8(v, PG + 16), pg_pat(PG + 16, 1));
}

// Both partial pages of a ZERO come in before either is dirtied: when the pager fails
// the last one, nothing was asked to be dirtied and the VMO is as it was.
Test(pager, zeroing_brings_both_partial_pages_in_before_dirtying_either) {
  pg_env_t e = pg_env();
  zx_handle_t v = pg_vmo(&e, 8, ZX_VMO_TRAP_DIRTY, 2);
  pg_op_t* op = pg_op_start(OP_ZERO, v, PG + 10, 3 * PG, 0);
  pg_expect(e.port, 2, ZX_PAGER_VMO_READ, 1, 1);
  pg_supply(&e, v, 1, 1, 3);
  pg_expect(e.port, 2, ZX_PAGER_VMO_READ, 4, 1);  // not a DIRTY request for page 1
  cr_assert_eq(zx_pager_op_range(e.pager, ZX_PAGER_OP_FAIL, v, 4 * PG, PG, (uint64_t)ZX_ERR_IO),
               ZX_OK);
  cr_assert_eq(pg_op_join(op, NULL), ZX_ERR_IO);
  zx_port_packet_t pkt;
  cr_assert(!pg_next(e.port, 50, &pkt), "unexpected packet %u", pkt.page_request.command);
  size_t actual = 1, avail = 1;
  zx_vmo_dirty_range_t r;
  cr_assert_eq(zx_pager_query_dirty_ranges(e.pager, v, 0, 8 * PG, &r, sizeof(r), &actual, &avail),
               ZX_OK);
  cr_assert_eq(avail, 0);
  cr_assert_eq(rd8(v, PG + 10), pg_pat(PG + 10, 3));
}

Test(pager, a_written_back_zero_range_is_supplied_again) {
  pg_env_t e = pg_env();
  zx_handle_t v = pg_vmo(&e, 1, ZX_VMO_RESIZABLE, 1);
  cr_assert_eq(zx_vmo_set_size(v, 3 * PG), ZX_OK);
  cr_assert_eq(zx_pager_op_range(e.pager, ZX_PAGER_OP_WRITEBACK_BEGIN, v, PG, 2 * PG,
                                 ZX_VMO_DIRTY_RANGE_IS_ZERO),
               ZX_OK);
  const uint64_t awaiting[][3] = {{1, 2, ZX_VMO_DIRTY_RANGE_IS_ZERO}};
  expect_ranges(&e, v, 3, 1, awaiting);
  cr_assert_eq(zx_pager_op_range(e.pager, ZX_PAGER_OP_WRITEBACK_END, v, PG, 2 * PG, 0), ZX_OK);
  expect_ranges(&e, v, 3, 0, NULL);
  pg_op_t* op = pg_op_start(OP_READ, v, 2 * PG, 1, 0);
  pg_expect(e.port, 1, ZX_PAGER_VMO_READ, 2, 1);
  pg_supply(&e, v, 2, 1, 9);
  cr_assert_eq(pg_op_join(op, NULL), ZX_OK);
}

Test(pager, trap_dirty_writes_into_a_zero_range_ask_dirty_only) {
  pg_env_t e = pg_env();
  zx_handle_t v = pg_vmo(&e, 1, ZX_VMO_RESIZABLE | ZX_VMO_TRAP_DIRTY, 1);
  pg_supply(&e, v, 0, 1, 1);
  cr_assert_eq(zx_vmo_set_size(v, 3 * PG), ZX_OK);
  pg_op_t* op = pg_op_start(OP_WRITE, v, 0, 2 * PG, 0x42);
  pg_expect(e.port, 1, ZX_PAGER_VMO_DIRTY, 0, 2);
  cr_assert_eq(zx_pager_op_range(e.pager, ZX_PAGER_OP_DIRTY, v, 0, 2 * PG, 0), ZX_OK);
  cr_assert_eq(pg_op_join(op, NULL), ZX_OK);
  const uint64_t want[][3] = {{0, 2, 0}, {2, 1, ZX_VMO_DIRTY_RANGE_IS_ZERO}};
  expect_ranges(&e, v, 3, 2, want);
  // OP_DIRTY on the zero range commits it as pages.
  cr_assert_eq(zx_pager_op_range(e.pager, ZX_PAGER_OP_DIRTY, v, 2 * PG, PG, 0), ZX_OK);
  const uint64_t all[][3] = {{0, 3, 0}};
  expect_ranges(&e, v, 3, 1, all);
  cr_assert_eq(vmo_info(v).committed_bytes, 3 * PG);
}

Test(pager, unbounded_pages_past_the_content_size_read_zero_untracked) {
  pg_env_t e = pg_env();
  zx_handle_t v;
  cr_assert_eq(zx_pager_create_vmo(e.pager, ZX_VMO_UNBOUNDED, e.port, 1, 2 * PG, &v), ZX_OK);
  uint64_t size;
  cr_assert_eq(zx_vmo_get_size(v, &size), ZX_OK);
  cr_assert_eq(size, MAX_VMO_SIZE);
  cr_assert_eq(rd8(v, 1ull << 40), 0);
  pg_expect_none(e.port);
  size_t actual, avail;
  cr_assert_eq(zx_pager_query_dirty_ranges(e.pager, v, 0, 1ull << 41, NULL, 0, &actual, &avail),
               ZX_OK);
  cr_assert_eq(avail, 0);
  pg_op_t* op = pg_op_start(OP_READ, v, PG, 1, 0);
  pg_expect(e.port, 1, ZX_PAGER_VMO_READ, 1, 1);
  pg_supply(&e, v, 1, 1, 2);
  cr_assert_eq(pg_op_join(op, NULL), ZX_OK);
  wr8(v, 1ull << 40, 3);  // a write there is dirty like any other
  cr_assert_eq(zx_pager_query_dirty_ranges(e.pager, v, 0, 1ull << 41, NULL, 0, &actual, &avail),
               ZX_OK);
  cr_assert_eq(avail, 1);
}

Test(pager, a_slice_has_one_way_children_below_a_pager) {
  pg_env_t e = pg_env();
  zx_handle_t v = pg_vmo(&e, 8, 0, 1), s, c, plain_slice, plain = mkvmo(4 * PG);
  cr_assert_eq(zx_vmo_create_child(v, ZX_VMO_CHILD_SLICE, 2 * PG, 4 * PG, &s), ZX_OK);
  cr_assert_eq(zx_vmo_create_child(s, ZX_VMO_CHILD_SNAPSHOT, 0, PG, &c), ZX_ERR_NOT_SUPPORTED);
  cr_assert_eq(zx_vmo_create_child(s, ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE, PG, 4 * PG, &c),
               ZX_OK);
  // The child sees the slice's window at its offset, and zeros past the slice's end.
  pg_op_t* op = pg_op_start(OP_READ, c, 0, 1, 0);
  pg_expect(e.port, 1, ZX_PAGER_VMO_READ, 3, 1);
  pg_supply(&e, v, 0, 8, 6);
  cr_assert_eq(pg_op_join(op, NULL), ZX_OK);
  cr_assert_eq(rd8(c, 2 * PG + 1), pg_pat(5 * PG + 1, 6));
  cr_assert_eq(rd8(c, 3 * PG + 1), 0);
  wr8(c, 0, 0x12);
  cr_assert_eq(rd8(s, PG), pg_pat(3 * PG, 6));
  cr_assert_eq(zxvmo_check_invariants(), ZX_OK);
  // Slices of plain VMOs still have no copy-on-write children.
  cr_assert_eq(zx_vmo_create_child(plain, ZX_VMO_CHILD_SLICE, 0, PG, &plain_slice), ZX_OK);
  cr_assert_eq(zx_vmo_create_child(plain_slice, ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE, 0, PG,
                                   &c),
               ZX_ERR_NOT_SUPPORTED);
}

// A one-way clone kept only for a slice (its handle closed) can still be cloned through
// that slice: the new child looks through the dead clone inside the slice's window,
// and keeps seeing the same bytes once the slice and the pager VMO's handle are gone.
Test(pager, a_dead_clone_kept_by_its_slice_can_be_cloned_through_it) {
  pg_env_t e = pg_env();
  zx_handle_t v = pg_vmo(&e, 4, 0, 1), c, s, cc;
  pg_supply(&e, v, 0, 4, 9);
  cr_assert_eq(zx_vmo_create_child(v, ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE, 0, 4 * PG, &c),
               ZX_OK);
  wr8(c, 2 * PG, 0x5a);
  cr_assert_eq(zx_vmo_create_child(c, ZX_VMO_CHILD_SLICE, PG, 2 * PG, &s), ZX_OK);
  zx_handle_close(c);
  cr_assert_eq(zx_vmo_create_child(s, ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE, 0, 3 * PG, &cc),
               ZX_OK);
  cr_assert_eq(zxvmo_check_invariants(), ZX_OK);
  for (int round = 0; round < 3; round++) {
    cr_assert_eq(rd8(cc, 0), pg_pat(PG, 9));
    cr_assert_eq(rd8(cc, PG), 0x5a);
    cr_assert_eq(rd8(cc, 2 * PG), 0);  // past the slice's end
    if (round == 0) zx_handle_close(s);
    if (round == 1) zx_handle_close(v);
    cr_assert_eq(zxvmo_check_invariants(), ZX_OK);
  }
  zx_handle_close(cc);
  cr_assert_eq(zxvmo_check_invariants(), ZX_OK);
}

Test(pager, commit_of_a_zero_range_asks_to_dirty_it) {
  pg_env_t e = pg_env();
  zx_handle_t v = pg_vmo(&e, 1, ZX_VMO_RESIZABLE | ZX_VMO_TRAP_DIRTY, 1);
  pg_supply(&e, v, 0, 1, 1);
  cr_assert_eq(zx_vmo_set_size(v, 3 * PG), ZX_OK);
  pg_op_t* op = pg_op_start(OP_COMMIT, v, 0, 3 * PG, 0);
  pg_expect(e.port, 1, ZX_PAGER_VMO_DIRTY, 1, 2);  // not the clean page 0
  cr_assert_eq(zx_pager_op_range(e.pager, ZX_PAGER_OP_DIRTY, v, PG, 2 * PG, 0), ZX_OK);
  cr_assert_eq(pg_op_join(op, NULL), ZX_OK);
  cr_assert_eq(vmo_info(v).committed_bytes, 3 * PG);
  const uint64_t want[][3] = {{1, 2, 0}};
  expect_ranges(&e, v, 3, 1, want);
}

// ---- eviction -------------------------------------------------------------------------

// Whether the pager VMO holds `page` now (LOOKUP reports only pages held; it never
// asks the pager).
static bool resident(zx_handle_t v, uint64_t page) {
  zx_paddr_t addr;
  zx_status_t st = zx_vmo_op_range(v, ZX_VMO_OP_LOOKUP, page * PG, PG, &addr, sizeof(addr));
  cr_assert(st == ZX_OK || st == ZX_ERR_NO_MEMORY, "lookup: %d", st);
  return st == ZX_OK;
}

Test(pager, clean_pages_are_evicted_under_the_budget_oldest_first) {
  pg_env_t e = pg_env();
  zx_handle_t v = pg_vmo(&e, 160, 0, 1);
  pg_supply(&e, v, 0, 8, 1);
  for (uint64_t i = 0; i < 8; i++) wr8(v, i * PG, 0x5d);  // dirty: never evicted
  zxvmo_set_page_budget(pages_in_use() + 64);
  // Supplying takes memory for aux's pages each time: over the budget, clean pages go.
  for (uint64_t i = 8; i < 160; i += 8) pg_supply(&e, v, i, 8, 1);
  uint64_t committed = vmo_info(v).committed_bytes / PG;
  cr_assert(committed < 100, "%lu pages still committed", (unsigned long)committed);
  for (uint64_t i = 0; i < 8; i++) cr_assert_eq(rd8(v, i * PG), 0x5d);
  pg_expect_none(e.port);  // the dirty pages were all there
  cr_assert(resident(v, 159), "the newest page was evicted");
  cr_assert(!resident(v, 8), "the oldest clean page was kept");
  // Touched again, an evicted page is asked for again.
  pg_op_t* op = pg_op_start(OP_READ, v, 8 * PG, 1, 0);
  pg_expect(e.port, 1, ZX_PAGER_VMO_READ, 8, 1);
  pg_supply(&e, v, 8, 1, 1);
  cr_assert_eq(pg_op_join(op, NULL), ZX_OK);
  cr_assert(pg_check(v, 8 * PG, PG, 1));
  zxvmo_set_page_budget(0);
  cr_assert_eq(zxvmo_check_invariants(), ZX_OK);
}

Test(pager, pages_read_lately_are_evicted_last) {
  pg_env_t e = pg_env();
  zx_handle_t v = pg_vmo(&e, 96, 0, 1);
  zxvmo_set_page_budget(pages_in_use() + 64);
  pg_supply(&e, v, 0, 48, 1);
  cr_assert(pg_check(v, 10 * PG, PG, 1));  // page 10 is read, page 11 is not
  for (uint64_t i = 48; i < 96; i += 8) pg_supply(&e, v, i, 8, 1);
  cr_assert(resident(v, 10), "a page read lately was evicted");
  cr_assert(!resident(v, 11), "an older page was kept");
  zxvmo_set_page_budget(0);
}

// ---- SNAPSHOT_MODIFIED ------------------------------------------------------------------

Test(pager, snapshot_modified_of_a_clone_snapshots_what_it_changed) {
  pg_env_t e = pg_env();
  zx_handle_t v = pg_vmo(&e, 4, 0, 1), c1, c2, s;
  pg_supply(&e, v, 0, 2, 1);
  pg_supply(&e, v, 3, 1, 1);
  cr_assert_eq(zx_vmo_create_child(v, ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE, 0, 4 * PG, &c1),
               ZX_OK);
  wr8(c1, PG, 0xA1);
  cr_assert_eq(zx_vmo_create_child(c1, ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE, 0, 4 * PG, &c2),
               ZX_OK);
  wr8(c2, 3 * PG, 0xC3);
  cr_assert_eq(zx_vmo_create_child(c2, ZX_VMO_CHILD_SNAPSHOT_MODIFIED, 0, 4 * PG, &s), ZX_OK);
  cr_assert(vmo_info(s).flags & ZX_INFO_VMO_IS_COW_CLONE);
  // What the clones changed is a snapshot: their later writes do not show.
  cr_assert_eq(rd8(s, PG), 0xA1);
  cr_assert_eq(rd8(s, 3 * PG), 0xC3);
  wr8(c1, PG, 0xA2);
  wr8(c2, 3 * PG, 0xC4);
  cr_assert_eq(rd8(s, PG), 0xA1);
  cr_assert_eq(rd8(s, 3 * PG), 0xC3);
  // The rest is the pager VMO's, asked for when absent.
  cr_assert_eq(rd8(s, 0), pg_pat(0, 1));
  pg_op_t* op = pg_op_start(OP_READ, s, 2 * PG, 1, 0);
  pg_expect(e.port, 1, ZX_PAGER_VMO_READ, 2, 1);
  pg_supply(&e, v, 2, 1, 1);
  cr_assert_eq(pg_op_join(op, NULL), ZX_OK);
  // Its own writes are its own.
  wr8(s, 0, 0x5e);
  cr_assert_eq(rd8(v, 0), pg_pat(0, 1));
  cr_assert_eq(rd8(c2, 0), pg_pat(0, 1));
  cr_assert_eq(zxvmo_check_invariants(), ZX_OK);
  // Closing the clones leaves it whole.
  zx_handle_close(c2);
  zx_handle_close(c1);
  cr_assert_eq(rd8(s, PG), 0xA1);
  cr_assert_eq(rd8(s, 3 * PG), 0xC3);
  cr_assert_eq(zxvmo_check_invariants(), ZX_OK);
}

Test(pager, snapshot_modified_elsewhere) {
  pg_env_t e = pg_env();
  zx_handle_t v = pg_vmo(&e, 2, 0, 1), c;
  pg_supply(&e, v, 0, 2, 1);
  // Of the pager VMO itself: a one-way child (it sees the pager VMO until it writes).
  cr_assert_eq(zx_vmo_create_child(v, ZX_VMO_CHILD_SNAPSHOT_MODIFIED, 0, 2 * PG, &c), ZX_OK);
  wr8(v, 0, 0x77);
  cr_assert_eq(rd8(c, 0), 0x77);
  // Of a plain VMO: SNAPSHOT.
  zx_handle_t plain = mkvmo_filled(2, 0x10), ps, clone, cs;
  cr_assert_eq(zx_vmo_create_child(plain, ZX_VMO_CHILD_SNAPSHOT_MODIFIED, 0, 2 * PG, &ps), ZX_OK);
  wr8(plain, 0, 0x99);
  cr_assert_eq(rd8(ps, 0), 0x10);
  // Of a plain VMO's one-way clone: as SNAPSHOT, refused.
  cr_assert_eq(zx_vmo_clone(plain, ZX_VMO_CLONE_COPY_ON_WRITE, 0, 2 * PG, &clone), ZX_OK);
  cr_assert_eq(zx_vmo_create_child(clone, ZX_VMO_CHILD_SNAPSHOT_MODIFIED, 0, 2 * PG, &cs),
               ZX_ERR_NOT_SUPPORTED);
  // With another type bit: INVALID_ARGS, as before.
  cr_assert_eq(zx_vmo_create_child(plain, ZX_VMO_CHILD_SNAPSHOT_MODIFIED | ZX_VMO_CHILD_SLICE,
                                   0, PG, &cs),
               ZX_ERR_INVALID_ARGS);
}

// ---- out of memory --------------------------------------------------------------------

// Every metadata allocation behind the pager calls fails in turn: the call returns
// NO_MEMORY (or, for an access, before any request is sent) and changes nothing.
Test(pager, each_allocation_failing_in_turn_changes_nothing) {
  for (uint64_t nth = 1; nth < 64; nth++) {
    pg_env_t e = pg_env();
    zx_handle_t v = ZX_HANDLE_INVALID;
    os_fail_alloc(nth, false);
    zx_status_t st = zx_pager_create_vmo(e.pager, ZX_VMO_RESIZABLE, e.port, 1, 4 * PG, &v);
    os_fail_alloc(0, false);
    if (st != ZX_OK) {
      cr_assert_eq(st, ZX_ERR_NO_MEMORY);
      cr_assert_eq(zxvmo_check_invariants(), ZX_OK);
      continue;
    }
    // A request's allocation failing fails the access with nothing sent (every
    // allocation fails: otherwise the read would wait for a pager nobody runs).
    os_fail_alloc(1, true);
    uint8_t b;
    st = zx_vmo_read(v, &b, 0, 1);
    os_fail_alloc(0, false);
    cr_assert_eq(st, ZX_ERR_NO_MEMORY);
    pg_expect_none(e.port);
    // Supply and growth (a zero range) under the same failure.
    zx_handle_t aux = mkvmo_filled(4, 3);
    os_fail_alloc(nth, false);
    st = zx_pager_supply_pages(e.pager, v, 0, 4 * PG, aux, 0);
    os_fail_alloc(0, false);
    if (st != ZX_OK) {
      cr_assert_eq(st, ZX_ERR_NO_MEMORY);
      cr_assert_eq(vmo_info(aux).committed_bytes, 4 * PG, "aux lost pages on failure");
      cr_assert_eq(vmo_info(v).committed_bytes, 0);
    }
    os_fail_alloc(nth, false);
    st = zx_vmo_set_size(v, 8 * PG);
    os_fail_alloc(0, false);
    uint64_t size;
    cr_assert_eq(zx_vmo_get_size(v, &size), ZX_OK);
    cr_assert(st == ZX_OK ? size == 8 * PG : (st == ZX_ERR_NO_MEMORY && size == 4 * PG));
    cr_assert_eq(zxvmo_check_invariants(), ZX_OK);
    zx_handle_close(aux);
    zx_handle_close(v);
    zx_handle_close(e.pager);
    zx_handle_close(e.port);
  }
}
