// SPDX-License-Identifier: BSD-3-Clause
// Discardable VMOs (docs/behavior.md §16.2): creation, ZX_VMO_OP_LOCK / TRY_LOCK /
// UNLOCK with their rights and errors in Zircon's order, the lock state LOCK reports,
// discarding under the page budget (least recently unlocked first; never a locked or
// pinned VMO), accesses to a discarded VMO failing until it is locked again (through
// mappings: SIGBUS), no children, ZX_INFO_VMO's flag, and failed allocations.
#include <criterion/criterion.h>
#include <string.h>

#include "helpers.h"
#include "map_helpers.h"
#include "os.h"

static zx_handle_t mkdisc(uint64_t pages, uint32_t extra) {
  zx_handle_t v = ZX_HANDLE_INVALID;
  cr_assert_eq(zx_vmo_create(pages * PG, ZX_VMO_DISCARDABLE | extra, &v), ZX_OK);
  return v;
}

static zx_status_t lock(zx_handle_t v, uint64_t size, zx_vmo_lock_state_t* ls) {
  return zx_vmo_op_range(v, ZX_VMO_OP_LOCK, 0, size, ls, sizeof(*ls));
}
static zx_status_t unlock(zx_handle_t v, uint64_t size) {
  return zx_vmo_op_range(v, ZX_VMO_OP_UNLOCK, 0, size, NULL, 0);
}
static zx_status_t try_lock(zx_handle_t v, uint64_t size) {
  return zx_vmo_op_range(v, ZX_VMO_OP_TRY_LOCK, 0, size, NULL, 0);
}

// LOCKs the whole of v and checks the state reported: `discarded` bytes from 0.
static void lock_expect(zx_handle_t v, uint64_t size, uint64_t discarded) {
  zx_vmo_lock_state_t ls;
  memset(&ls, 0xEE, sizeof(ls));
  cr_assert_eq(lock(v, size, &ls), ZX_OK);
  cr_assert_eq(ls.offset, 0u);
  cr_assert_eq(ls.size, size);
  cr_assert_eq(ls.discarded_offset, 0u);
  cr_assert_eq(ls.discarded_size, discarded);
}

// Fills every page of v with `b`.
static void fill(zx_handle_t v, uint64_t pages, uint8_t b) {
  uint8_t* buf = page_buf(pages);
  memset(buf, b, pages * PG);
  cr_assert_eq(zx_vmo_write(v, buf, 0, pages * PG), ZX_OK);
  free(buf);
}

// A discardable VMO of `pages` pages holding `b` everywhere, unlocked: reclaimable.
static zx_handle_t mkreclaimable(uint64_t pages, uint8_t b) {
  zx_handle_t v = mkdisc(pages, 0);
  zx_vmo_lock_state_t ls;
  cr_assert_eq(lock(v, pages * PG, &ls), ZX_OK);
  fill(v, pages, b);
  cr_assert_eq(unlock(v, pages * PG), ZX_OK);
  return v;
}

// Puts the library under page pressure: a budget of what is in use now, then writes
// `pages` fresh pages to a new plain VMO, which needs eviction to succeed. Returns
// that VMO's status.
static zx_status_t pressure(uint64_t pages) {
  // One page of its own first: a budget of 0 would mean no budget at all.
  zx_handle_t p = mkvmo((pages + 1) * PG);
  wr8(p, 0, 1);
  cr_assert_eq(zxvmo_set_page_budget(pages_in_use()), ZX_OK);
  uint8_t* buf = page_buf(pages);
  memset(buf, 0x5A, pages * PG);
  zx_status_t st = zx_vmo_write(p, buf, PG, pages * PG);
  free(buf);
  cr_assert_eq(zxvmo_set_page_budget(0), ZX_OK);
  zx_handle_close(p);
  return st;
}

Test(discardable, create_and_info) {
  zx_handle_t v = mkdisc(2, 0), r;
  cr_assert(vmo_info(v).flags & ZX_INFO_VMO_DISCARDABLE);
  cr_assert_eq(handle_rights(v), ZX_DEFAULT_VMO_RIGHTS);
  zx_handle_close(v);
  // With RESIZABLE too, as on Zircon.
  v = mkdisc(1, ZX_VMO_RESIZABLE);
  cr_assert(vmo_info(v).flags & ZX_INFO_VMO_RESIZABLE);
  cr_assert_eq(zx_vmo_set_size(v, 3 * PG), ZX_OK);
  zx_handle_close(v);
  v = mkvmo(PG);
  cr_assert_eq(vmo_info(v).flags & ZX_INFO_VMO_DISCARDABLE, 0u);
  zx_handle_close(v);
  // Unknown bits still INVALID_ARGS.
  cr_assert_eq(zx_vmo_create(PG, ZX_VMO_DISCARDABLE | (1u << 9), &r), ZX_ERR_INVALID_ARGS);
}

Test(discardable, no_children) {
  zx_handle_t v = mkdisc(2, 0), c;
  // Refused before the options are even looked at.
  cr_assert_eq(zx_vmo_create_child(v, ZX_VMO_CHILD_SNAPSHOT, 0, PG, &c), ZX_ERR_NOT_SUPPORTED);
  cr_assert_eq(zx_vmo_create_child(v, ZX_VMO_CHILD_SLICE, 0, PG, &c), ZX_ERR_NOT_SUPPORTED);
  cr_assert_eq(zx_vmo_create_child(v, ZX_VMO_CHILD_REFERENCE, 0, 0, &c), ZX_ERR_NOT_SUPPORTED);
  cr_assert_eq(zx_vmo_create_child(v, 0xFFFFFFFFu & ~ZX_VMO_CHILD_RESIZABLE, 0, PG, &c),
               ZX_ERR_NOT_SUPPORTED);
  cr_assert_eq(zx_vmo_clone(v, ZX_VMO_CLONE_COPY_ON_WRITE, 0, PG, &c), ZX_ERR_NOT_SUPPORTED);
  // Rights are checked before.
  zx_handle_t ro;
  cr_assert_eq(zx_handle_duplicate(v, ZX_RIGHT_READ, &ro), ZX_OK);
  cr_assert_eq(zx_vmo_create_child(ro, ZX_VMO_CHILD_SNAPSHOT, 0, PG, &c), ZX_ERR_ACCESS_DENIED);
  zx_handle_close(ro);
  cr_assert_eq(vmo_info(v).num_children, 0u);
  zx_handle_close(v);
}

Test(discardable, lock_ops_in_order) {
  zx_handle_t v = mkdisc(2, 0), plain = mkvmo(2 * PG), none;
  zx_vmo_lock_state_t ls;
  // Rights: READ or WRITE.
  cr_assert_eq(zx_handle_duplicate(v, ZX_RIGHT_MAP, &none), ZX_OK);
  cr_assert_eq(lock(none, 2 * PG, &ls), ZX_ERR_ACCESS_DENIED);
  cr_assert_eq(try_lock(none, 2 * PG), ZX_ERR_ACCESS_DENIED);
  cr_assert_eq(unlock(none, 2 * PG), ZX_ERR_ACCESS_DENIED);
  zx_handle_close(none);
  // Then: only discardable VMOs.
  cr_assert_eq(lock(plain, 2 * PG, &ls), ZX_ERR_NOT_SUPPORTED);
  cr_assert_eq(try_lock(plain, 2 * PG), ZX_ERR_NOT_SUPPORTED);
  cr_assert_eq(unlock(plain, 2 * PG), ZX_ERR_NOT_SUPPORTED);
  // Then: exactly the whole VMO.
  cr_assert_eq(lock(v, PG, &ls), ZX_ERR_OUT_OF_RANGE);
  cr_assert_eq(zx_vmo_op_range(v, ZX_VMO_OP_LOCK, PG, PG, &ls, sizeof(ls)), ZX_ERR_OUT_OF_RANGE);
  cr_assert_eq(zx_vmo_op_range(v, ZX_VMO_OP_LOCK, 1, UINT64_MAX, &ls, sizeof(ls)),
               ZX_ERR_OUT_OF_RANGE);
  cr_assert_eq(try_lock(v, 3 * PG), ZX_ERR_OUT_OF_RANGE);
  cr_assert_eq(unlock(v, 0), ZX_ERR_OUT_OF_RANGE);
  // UNLOCK of an unlocked VMO.
  cr_assert_eq(unlock(v, 2 * PG), ZX_ERR_BAD_STATE);
  // LOCK's buffer is judged last: too small or NULL fails, and the lock is undone.
  cr_assert_eq(zx_vmo_op_range(v, ZX_VMO_OP_LOCK, 0, 2 * PG, &ls, sizeof(ls) - 1),
               ZX_ERR_INVALID_ARGS);
  cr_assert_eq(zx_vmo_op_range(v, ZX_VMO_OP_LOCK, 0, 2 * PG, NULL, sizeof(ls)),
               ZX_ERR_INVALID_ARGS);
  cr_assert_eq(unlock(v, 2 * PG), ZX_ERR_BAD_STATE);
  // Locks nest: as many UNLOCKs as LOCKs and TRY_LOCKs.
  lock_expect(v, 2 * PG, 0);
  cr_assert_eq(try_lock(v, 2 * PG), ZX_OK);
  cr_assert_eq(unlock(v, 2 * PG), ZX_OK);
  cr_assert_eq(unlock(v, 2 * PG), ZX_OK);
  cr_assert_eq(unlock(v, 2 * PG), ZX_ERR_BAD_STATE);
  // Any of READ or WRITE will do.
  zx_handle_t ro;
  cr_assert_eq(zx_handle_duplicate(v, ZX_RIGHT_READ, &ro), ZX_OK);
  cr_assert_eq(try_lock(ro, 2 * PG), ZX_OK);
  cr_assert_eq(unlock(ro, 2 * PG), ZX_OK);
  zx_handle_close(ro);
  // A resizable one locks at its current size.
  zx_handle_t rv = mkdisc(1, ZX_VMO_RESIZABLE);
  cr_assert_eq(zx_vmo_set_size(rv, 4 * PG), ZX_OK);
  cr_assert_eq(try_lock(rv, PG), ZX_ERR_OUT_OF_RANGE);
  cr_assert_eq(try_lock(rv, 4 * PG), ZX_OK);
  zx_handle_close(rv);
  zx_handle_close(plain);
  zx_handle_close(v);
  cr_assert_eq(zxvmo_check_invariants(), ZX_OK);
}

Test(discardable, discarded_under_pressure_then_relocked) {
  zx_handle_t v = mkdisc(8, 0);
  zx_vmo_lock_state_t ls;
  cr_assert_eq(lock(v, 8 * PG, &ls), ZX_OK);
  fill(v, 8, 0x11);
  // A locked VMO is never discarded.
  cr_assert_eq(pressure(4), ZX_ERR_NO_MEMORY);
  cr_assert_eq(rd8(v, 3 * PG), 0x11);
  cr_assert_eq(unlock(v, 8 * PG), ZX_OK);
  // Unlocked: the budget takes it, whole.
  cr_assert_eq(pressure(4), ZX_OK);
  cr_assert_eq(vmo_info(v).committed_bytes, 0u);
  // Accesses fail until it is locked again.
  uint8_t b;
  cr_assert_eq(zx_vmo_read(v, &b, 0, 1), ZX_ERR_NOT_FOUND);
  cr_assert_eq(zx_vmo_write(v, &b, 0, 1), ZX_ERR_NOT_FOUND);
  cr_assert_eq(zx_vmo_op_range(v, ZX_VMO_OP_COMMIT, 0, PG, NULL, 0), ZX_ERR_NOT_FOUND);
  // The range is still checked first; empty accesses succeed.
  cr_assert_eq(zx_vmo_read(v, &b, 9 * PG, 1), ZX_ERR_OUT_OF_RANGE);
  cr_assert_eq(zx_vmo_read(v, &b, 0, 0), ZX_OK);
  cr_assert_eq(try_lock(v, 8 * PG), ZX_ERR_UNAVAILABLE);
  cr_assert_eq(unlock(v, 8 * PG), ZX_ERR_BAD_STATE);
  lock_expect(v, 8 * PG, 8 * PG);
  // Locked again: zeros, and usable.
  cr_assert_eq(rd8(v, 5 * PG), 0);
  wr8(v, 5 * PG, 0x22);
  cr_assert_eq(rd8(v, 5 * PG), 0x22);
  // Reported once: a second LOCK sees nothing discarded.
  cr_assert_eq(lock(v, 8 * PG, &ls), ZX_OK);
  cr_assert_eq(ls.discarded_size, 0u);
  cr_assert_eq(unlock(v, 8 * PG), ZX_OK);
  cr_assert_eq(unlock(v, 8 * PG), ZX_OK);
  cr_assert_eq(zxvmo_check_invariants(), ZX_OK);
  zx_handle_close(v);
}

Test(discardable, failed_lock_clears_discarded) {
  zx_handle_t v = mkreclaimable(4, 1);
  zx_vmo_lock_state_t ls;
  cr_assert_eq(pressure(2), ZX_OK);
  cr_assert_eq(try_lock(v, 4 * PG), ZX_ERR_UNAVAILABLE);
  // LOCK with a bad buffer locks and unlocks: no longer discarded (reads see zeros).
  cr_assert_eq(zx_vmo_op_range(v, ZX_VMO_OP_LOCK, 0, 4 * PG, &ls, 1), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(rd8(v, 0), 0);
  cr_assert_eq(try_lock(v, 4 * PG), ZX_OK);
  cr_assert_eq(unlock(v, 4 * PG), ZX_OK);
  zx_handle_close(v);
}

Test(discardable, least_recently_unlocked_first) {
  zx_handle_t a = mkdisc(4, 0), b = mkdisc(4, 0);
  zx_vmo_lock_state_t ls;
  cr_assert_eq(lock(a, 4 * PG, &ls), ZX_OK);
  cr_assert_eq(lock(b, 4 * PG, &ls), ZX_OK);
  fill(a, 4, 0xA);
  fill(b, 4, 0xB);
  cr_assert_eq(unlock(b, 4 * PG), ZX_OK);
  cr_assert_eq(unlock(a, 4 * PG), ZX_OK);
  // b was unlocked first: it goes, a stays.
  cr_assert_eq(pressure(2), ZX_OK);
  cr_assert_eq(try_lock(b, 4 * PG), ZX_ERR_UNAVAILABLE);
  cr_assert_eq(try_lock(a, 4 * PG), ZX_OK);
  cr_assert_eq(rd8(a, 3 * PG), 0xA);
  zx_handle_close(a);
  zx_handle_close(b);
}

Test(discardable, pinned_is_never_discarded) {
  zx_handle_t rr = zxvmo_root_resource(), bti = mk_test_bti(), pmt;
  zx_handle_t v = mkdisc(4, 0), w = mkdisc(4, 0);
  zx_vmo_lock_state_t ls;
  cr_assert_eq(lock(v, 4 * PG, &ls), ZX_OK);
  cr_assert_eq(lock(w, 4 * PG, &ls), ZX_OK);
  fill(v, 4, 3);
  fill(w, 4, 4);
  zx_paddr_t pa[1];
  cr_assert_eq(zx_bti_pin(bti, ZX_BTI_PERM_READ, v, 0, PG, pa, 1, &pmt), ZX_OK);
  cr_assert_eq(unlock(v, 4 * PG), ZX_OK);
  cr_assert_eq(unlock(w, 4 * PG), ZX_OK);
  // v is the least recently unlocked but pinned: w goes instead.
  cr_assert_eq(pressure(2), ZX_OK);
  cr_assert_eq(try_lock(v, 4 * PG), ZX_OK);
  cr_assert_eq(rd8(v, 2 * PG), 3);
  cr_assert_eq(try_lock(w, 4 * PG), ZX_ERR_UNAVAILABLE);
  cr_assert_eq(unlock(v, 4 * PG), ZX_OK);
  // Pinned alone: nothing to discard.
  cr_assert_eq(pressure(2), ZX_ERR_NO_MEMORY);
  cr_assert_eq(zx_pmt_unpin(pmt), ZX_OK);
  cr_assert_eq(pressure(2), ZX_OK);
  cr_assert_eq(try_lock(v, 4 * PG), ZX_ERR_UNAVAILABLE);
  zx_handle_close(v);
  zx_handle_close(w);
  zx_handle_close(bti);
  zx_handle_close(rr);
}

// A VMO skipped because it was pinned keeps its place: once unpinned it is again the
// least recently unlocked, and goes before those unlocked after it (§16.2; the library
// used to move it behind them).
Test(discardable, skipped_while_pinned_keeps_its_place) {
  zx_handle_t bti = mk_test_bti(), pmt;
  zx_handle_t a = mkreclaimable(1, 1), b = mkreclaimable(1, 2), c = mkreclaimable(1, 3);
  zx_vmo_lock_state_t ls;
  cr_assert_eq(lock(a, PG, &ls), ZX_OK);
  zx_paddr_t pa[1];
  cr_assert_eq(zx_bti_pin(bti, ZX_BTI_PERM_READ, a, 0, PG, pa, 1, &pmt), ZX_OK);
  cr_assert_eq(unlock(a, PG), ZX_OK);
  // Relocking a put it last (b, c, a); b and c relocked and unlocked after it: a, b, c.
  cr_assert_eq(lock(b, PG, &ls), ZX_OK);
  cr_assert_eq(unlock(b, PG), ZX_OK);
  cr_assert_eq(lock(c, PG, &ls), ZX_OK);
  cr_assert_eq(unlock(c, PG), ZX_OK);
  // Order a (pinned), b, c: b goes.
  cr_assert_eq(pressure(1), ZX_OK);
  cr_assert_eq(rd8(a, 0), 1);
  cr_assert_eq(rd8(c, 0), 3);
  cr_assert_eq(zx_pmt_unpin(pmt), ZX_OK);
  // a is still the least recently unlocked: it goes, not c.
  cr_assert_eq(pressure(1), ZX_OK);
  cr_assert_eq(try_lock(a, PG), ZX_ERR_UNAVAILABLE);
  cr_assert_eq(try_lock(c, PG), ZX_OK);
  cr_assert_eq(rd8(c, 0), 3);
  zx_handle_close(a);
  zx_handle_close(b);
  zx_handle_close(c);
  zx_handle_close(bti);
}

Test(discardable, mappings_fault_after_discard) {
  zx_handle_t v = mkdisc(2, 0);
  zx_vmo_lock_state_t ls;
  uint8_t* m = map_rw(v, 0, 2 * PG);
  cr_assert_eq(lock(v, 2 * PG, &ls), ZX_OK);
  mwr(m + PG, 9);
  cr_assert_eq(rd8(v, PG), 9);
  cr_assert_eq(unlock(v, 2 * PG), ZX_OK);
  cr_assert_eq(pressure(1), ZX_OK);
  // Unlocked and discarded: an access through the mapping is fatal.
  expect_access_dies(m + PG, false, SIGBUS, "read of a discarded VMO");
  expect_access_dies(m, true, SIGBUS, "write to a discarded VMO");
  // The mapping stays valid: locked again, it shows zeros and takes writes.
  cr_assert_eq(lock(v, 2 * PG, &ls), ZX_OK);
  cr_assert_eq(ls.discarded_size, 2 * PG);
  cr_assert_eq(mrd(m + PG), 0);
  mwr(m, 7);
  cr_assert_eq(rd8(v, 0), 7);
  unmap(m, 2 * PG);
  zx_handle_close(v);
  cr_assert_eq(zxvmo_check_invariants(), ZX_OK);
}

// Never locked, never reclaimable: Zircon lists a discardable VMO at its first unlock.
Test(discardable, never_unlocked_is_kept) {
  zx_handle_t v = mkdisc(4, 0);
  fill(v, 4, 6);
  cr_assert_eq(pressure(2), ZX_ERR_NO_MEMORY);
  cr_assert_eq(rd8(v, 3 * PG), 6);
  zx_handle_close(v);
}

Test(discardable, closed_while_listed) {
  zx_handle_t v = mkreclaimable(2, 1);
  zx_vmo_lock_state_t ls;
  zx_handle_close(v);  // leaves the discard list
  v = mkdisc(2, 0);
  cr_assert_eq(lock(v, 2 * PG, &ls), ZX_OK);
  zx_handle_close(v);  // closed while locked
  cr_assert_eq(pressure(1), ZX_ERR_NO_MEMORY);  // nothing left to discard
  cr_assert_eq(zxvmo_check_invariants(), ZX_OK);
}

// Each allocation behind creating and locking failing in turn: NO_MEMORY and nothing
// made, or success; LOCK and UNLOCK allocate nothing.
Test(discardable, allocation_failures) {
  for (uint64_t nth = 1; nth < 32; nth++) {
    zxvmo_stats_t s0, s1;
    cr_assert_eq(zxvmo_get_stats(&s0), ZX_OK);
    zx_handle_t v = ZX_HANDLE_INVALID;
    os_fail_alloc(nth, false);
    zx_status_t st = zx_vmo_create(PG, ZX_VMO_DISCARDABLE, &v);
    uint64_t tries = os_alloc_count();
    os_fail_alloc(0, false);
    cr_assert(st == ZX_OK || st == ZX_ERR_NO_MEMORY);
    cr_assert_eq(zxvmo_get_stats(&s1), ZX_OK);
    if (st != ZX_OK) {
      cr_assert_eq(s1.handles_alive, s0.handles_alive);
      continue;
    }
    zx_vmo_lock_state_t ls;
    os_fail_alloc(1, true);
    cr_assert_eq(lock(v, PG, &ls), ZX_OK);
    cr_assert_eq(unlock(v, PG), ZX_OK);
    os_fail_alloc(0, false);
    cr_assert(vmo_info(v).flags & ZX_INFO_VMO_DISCARDABLE);
    zx_handle_close(v);
    if (tries < nth) break;
  }
  cr_assert_eq(zxvmo_check_invariants(), ZX_OK);
}
