// SPDX-License-Identifier: BSD-3-Clause
// Mapping when the OS or the allocator refuses (docs/behavior.md §12, D8): every call
// behind zx_vmar_map and a snapshot of a mapped VMO is made to fail in turn, and each
// failure must give ZX_ERR_NO_MEMORY with nothing changed: no mapping, no child, the
// same bytes through the mappings that were there, and the invariants holding.
#include <criterion/criterion.h>

#include "helpers.h"
#include "map_helpers.h"
#include "os.h"

// What a failed call must leave as it was.
typedef struct state {
  uint64_t maps;          // records in the root VMAR (ZX_INFO_VMAR_MAPS)
  uint64_t num_mappings;  // of the VMO
  uint64_t num_children;
  uint64_t committed;
} state_t;

static state_t state_of(zx_handle_t v) {
  state_t s;
  size_t avail = 0;
  cr_assert_eq(zx_object_get_info(zx_vmar_root_self(), ZX_INFO_VMAR_MAPS, NULL, 0, NULL, &avail),
               ZX_OK);
  zx_info_vmo_t i = vmo_info(v);
  s.maps = avail;
  s.num_mappings = i.num_mappings;
  s.num_children = i.num_children;
  s.committed = i.committed_bytes;
  return s;
}

static void expect_same(state_t a, state_t b, unsigned n) {
  cr_assert_eq(a.maps, b.maps, "failure %u left a record", n);
  cr_assert_eq(a.num_mappings, b.num_mappings, "failure %u left a mapping", n);
  cr_assert_eq(a.num_children, b.num_children, "failure %u left a child", n);
  cr_assert_eq(a.committed, b.committed, "failure %u changed the committed bytes", n);
}

// A VMO mapped once and written through the mapping, so that its home holds pages and
// a second mapping goes through every call (views, map, register, protect).
static uint8_t* written_vmo(zx_handle_t* v) {
  *v = mkvmo(4 * PG);
  uint8_t* m = map_rw(*v, 0, 4 * PG);
  for (uint64_t k = 0; k < 4; k++) mfill(m, k, (uint8_t)(0x30 + k));
  return m;
}

static void expect_bytes(const uint8_t* m) {
  for (uint64_t k = 0; k < 4; k++) cr_assert_eq(mpage(m, k), (int)(0x30 + k), "page %lu", (unsigned long)k);
}

Test(map_oom, every_os_call_behind_a_map_can_fail) {
  zx_handle_t v;
  uint8_t* m = written_vmo(&v);
  unsigned failures = 0;
  for (unsigned n = 0;; n++) {
    state_t before = state_of(v);
    os_fail_map_calls(n, 1);
    zx_vaddr_t at;
    zx_status_t st = zx_vmar_map(zx_vmar_root_self(), MAP_RW, 0, v, 0, 4 * PG, &at);
    os_fail_map_calls(0, 0);
    if (st == ZX_OK) {
      expect_bytes((const uint8_t*)at);
      unmap((void*)at, 4 * PG);
      if (n > 0) break;  // the n-th call came after the last one: all were tried
      continue;
    }
    failures++;
    cr_assert_eq(st, ZX_ERR_NO_MEMORY, "call %u failed: %d", n, st);
    expect_same(before, state_of(v), n);
    expect_bytes(m);
    cr_assert_eq(zxvmo_check_invariants(), ZX_OK);
  }
  cr_assert_geq(failures, 2, "only %u calls could be made to fail", failures);
  unmap(m, 4 * PG);
  zx_handle_close(v);
}

Test(map_oom, every_allocation_behind_a_map_can_fail) {
  zx_handle_t v;
  uint8_t* m = written_vmo(&v);
  unsigned failures = 0;
  for (uint64_t n = 1;; n++) {
    state_t before = state_of(v);
    zx_vaddr_t at;
    os_fail_alloc(n, false);
    zx_status_t st = zx_vmar_map(zx_vmar_root_self(), MAP_RW, 0, v, 0, 4 * PG, &at);
    uint64_t tried = os_alloc_count();
    os_fail_alloc(0, false);
    if (st == ZX_OK) {
      expect_bytes((const uint8_t*)at);
      unmap((void*)at, 4 * PG);
      if (tried < n) break;  // no allocation was the n-th: all were tried
      continue;
    }
    failures++;
    cr_assert_eq(st, ZX_ERR_NO_MEMORY);
    expect_same(before, state_of(v), (unsigned)n);
    expect_bytes(m);
    cr_assert_eq(zxvmo_check_invariants(), ZX_OK);
  }
  cr_assert_geq(failures, 1);
  unmap(m, 4 * PG);
  zx_handle_close(v);
}

// The snapshot of a mapped VMO write-protects its mappings first: if the kernel
// refuses, no child is made and the parent's mapping works as before.
Test(map_oom, snapshot_whose_write_protection_fails) {
  zx_handle_t v;
  uint8_t* m = written_vmo(&v);
  state_t before = state_of(v);
  os_fail_map_calls(0, 1);
  zx_handle_t c;
  cr_assert_eq(zx_vmo_create_child(v, ZX_VMO_CHILD_SNAPSHOT, 0, 4 * PG, &c), ZX_ERR_NO_MEMORY);
  os_fail_map_calls(0, 0);
  expect_same(before, state_of(v), 0);
  mfill(m, 1, 0x77);
  cr_assert_eq(rd8(v, PG), 0x77);
  cr_assert_eq(zxvmo_check_invariants(), ZX_OK);
  // And once the kernel agrees, the snapshot is whole.
  cr_assert_eq(zx_vmo_create_child(v, ZX_VMO_CHILD_SNAPSHOT, 0, 4 * PG, &c), ZX_OK);
  mfill(m, 1, 0x78);
  cr_assert_eq(rd8(c, PG), 0x77);
  zx_handle_close(c);
  unmap(m, 4 * PG);
  zx_handle_close(v);
}

// The kernel may answer a page fill with EAGAIN when the page tables change under it
// (another thread unmapping, a hole punched in the file). A fault retries the fill, and
// after repeated refusals writes the page through the library's view instead: either
// way the access sees the VMO's bytes.
Test(map_oom, page_fills_the_kernel_answers_with_eagain) {
  zx_handle_t v;
  cr_assert_eq(zx_vmo_create(4 * PG, 0, &v), ZX_OK);
  cr_assert_eq(zx_vmo_write(v, "abc", PG, 3), ZX_OK);
  uint8_t* m = map_rw(v, 0, 4 * PG);
  for (unsigned busy = 1; busy <= 8; busy++) {
    os_busy_fills(busy);
    cr_assert_eq(mrd(m + PG + 1), 'b', "a copied page after %u busy fills", busy);
    cr_assert_eq(mrd(m + 2 * PG), 0, "a zero page after %u busy fills", busy);
    os_busy_fills(0);
    cr_assert_eq(zxvmo_check_invariants(), ZX_OK);
    mwr(m + 2 * PG, 0x5A);
    cr_assert_eq(rd8(v, 2 * PG), 0x5A, "round %u", busy);
    // Back to holes for the next round.
    cr_assert_eq(zx_vmo_op_range(v, ZX_VMO_OP_DECOMMIT, 0, 3 * PG, NULL, 0), ZX_OK);
    cr_assert_eq(zx_vmo_write(v, "abc", PG, 3), ZX_OK);
  }
  // Refused three times, the page goes through the library's view, and the mapping must
  // then be write-protected over it: if even that fails, the access fails (here a buffer
  // the library reads from: INVALID_ARGS) and nothing is left that a write could reach.
  zx_handle_t o;
  cr_assert_eq(zx_vmo_create(PG, 0, &o), ZX_OK);
  os_busy_fills(3);
  os_fail_map_calls(0, 1);
  cr_assert_eq(zx_vmo_write(o, m + 2 * PG, 0, 16), ZX_ERR_INVALID_ARGS);
  os_fail_map_calls(0, 0);
  os_busy_fills(0);
  cr_assert_eq(zxvmo_check_invariants(), ZX_OK);
  cr_assert_eq(mrd(m + 2 * PG), 0);
  mwr(m + 2 * PG, 0x5B);
  cr_assert_eq(rd8(v, 2 * PG), 0x5B);
  zx_handle_close(o);
  unmap(m, 4 * PG);
  zx_handle_close(v);
}

// Entering pages in the page tables ahead of use is best effort: new pool memory and a
// page whose write protection a fault lifts then fault in at their first touch, with the
// same bytes.
Test(map_oom, pages_the_kernel_does_not_enter_ahead_fault_in_at_first_touch) {
  os_fail_populates(1u << 20);
  zx_handle_t big;
  const uint64_t n = (16ull << 20) / PG;  // new pool chunks (this process had none)
  cr_assert_eq(zx_vmo_create(n * PG, 0, &big), ZX_OK);
  for (uint64_t k = 0; k < n; k += 7) {
    cr_assert_eq(zx_vmo_write(big, &k, k * PG, sizeof(k)), ZX_OK);
  }
  for (uint64_t k = 0; k < n; k += 7) {
    uint64_t got = ~k;
    cr_assert_eq(zx_vmo_read(big, &got, k * PG, sizeof(got)), ZX_OK);
    cr_assert_eq(got, k);
  }
  zx_handle_t v, snap;
  uint8_t* m = written_vmo(&v);
  cr_assert_eq(zx_vmo_create_child(v, ZX_VMO_CHILD_SNAPSHOT, 0, 4 * PG, &snap), ZX_OK);
  for (uint64_t k = 0; k < 4; k++) {
    uint8_t before = rd8(v, k * PG);
    mwr(m + k * PG, (uint8_t)(0xA0 + k));  // copy-before-write, then the retry faults
    cr_assert_eq(rd8(v, k * PG), 0xA0 + k);
    cr_assert_eq(rd8(snap, k * PG), before);
  }
  os_fail_populates(0);
  cr_assert_eq(zxvmo_check_invariants(), ZX_OK);
  zx_handle_close(snap);
  unmap(m, 4 * PG);
  zx_handle_close(v);
  zx_handle_close(big);
}
