// SPDX-License-Identifier: BSD-3-Clause
// Metadata allocation failure never aborts (white-box: uses the os.h fault injector).
//
// A fixed workload exercises every call and every path that allocates metadata:
// windowed snapshots, slices, copy-on-write path copies, one-way clones and their
// zero markers, commit, zero, resize, decommit, handles, info, properties, events,
// and the deaths that merge pages into one-way children or trim a dead root to its
// slices. It runs once without faults to record, after each step, the status and the
// contents of every live VMO. Then, for every N, it runs again with the Nth metadata
// allocation failing (once; and, separately, every allocation from the Nth on), and
// checks after each step:
//   - a step either behaves as recorded, or fails with ZX_ERR_NO_MEMORY and leaves
//     every VMO's size and contents exactly as they were before it (it is then
//     retried without faults, so the run goes on as recorded);
//   - zx_handle_close always succeeds;
//   - zxvmo_check_invariants() passes;
//   - at the end, with every handle closed, no page, VMO or handle is left.
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <zircon/syscalls.h>
#include <zxvmo.h>

#include "os.h"

#define SLOTS 9
#define MAX_STEPS 64

static uint64_t P;  // the library's page size
static zx_handle_t H[SLOTS];

// What a run saw after each step: its status and a digest of every slot's VMO.
typedef struct snapshot {
  uint64_t size[SLOTS];
  uint64_t digest[SLOTS];
} snapshot_t;

static zx_status_t ref_status[MAX_STEPS];
static snapshot_t ref_after[MAX_STEPS];
static int n_steps;
static int surfaced[MAX_STEPS];  // runs in which step i failed with ZX_ERR_NO_MEMORY

static uint64_t fnv(const uint8_t* b, size_t n) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 1099511628211ull;
  return h;
}

static void take_snapshot(snapshot_t* s) {
  for (int k = 0; k < SLOTS; k++) {
    s->size[k] = 0;
    s->digest[k] = 0;
    zx_obj_type_t type = 0;
    zx_info_handle_basic_t basic;
    if (H[k] == ZX_HANDLE_INVALID) continue;
    cr_assert_eq(zx_object_get_info(H[k], ZX_INFO_HANDLE_BASIC, &basic, sizeof(basic), NULL,
                                    NULL),
                 ZX_OK);
    type = basic.type;
    if (type != ZX_OBJ_TYPE_VMO) continue;
    cr_assert_eq(zx_vmo_get_size(H[k], &s->size[k]), ZX_OK);
    uint8_t* b = malloc(s->size[k] ? s->size[k] : 1);
    cr_assert_not_null(b);
    zx_status_t st = zx_vmo_read(H[k], b, 0, s->size[k]);
    // Handles without READ still have a size; their contents are seen through others.
    s->digest[k] = st == ZX_OK ? fnv(b, s->size[k]) : (uint64_t)st;
    free(b);
  }
}

static void expect_same(const snapshot_t* a, const snapshot_t* b, int step, const char* what) {
  for (int k = 0; k < SLOTS; k++) {
    cr_assert_eq(a->size[k], b->size[k], "step %d slot %d: size differs %s", step, k, what);
    cr_assert_eq(a->digest[k], b->digest[k], "step %d slot %d: contents differ %s", step, k,
                 what);
  }
}

static zx_status_t write_fill(zx_handle_t h, uint64_t off, uint64_t len, uint8_t seed) {
  uint8_t* b = malloc(len);
  cr_assert_not_null(b);
  for (uint64_t i = 0; i < len; i++) b[i] = (uint8_t)(seed + i * 7);
  zx_status_t st = zx_vmo_write(h, b, off, len);
  free(b);
  return st;
}

static zx_status_t child(int from, uint32_t opts, uint64_t off, uint64_t size, int to) {
  zx_handle_t c = ZX_HANDLE_INVALID;
  zx_status_t st = zx_vmo_create_child(H[from], opts, off, size, &c);
  if (st == ZX_OK) H[to] = c;
  return st;
}

static zx_status_t close_slot(int k) {
  zx_status_t st = zx_handle_close(H[k]);
  H[k] = ZX_HANDLE_INVALID;
  return st;
}

// Step `i` of the workload. Returns its status; -1000 past the end. Steps that
// close report their status separately through `*is_close`.
static zx_status_t step(int i, bool* is_close) {
  *is_close = false;
  zx_handle_t h = ZX_HANDLE_INVALID;
  zx_status_t st;
  switch (i) {
    case 0:
      st = zx_vmo_create(16 * P, 0, &h);
      if (st == ZX_OK) H[0] = h;
      return st;
    case 1: return write_fill(H[0], 0, 16 * P, 1);
    case 2: return child(0, ZX_VMO_CHILD_SNAPSHOT, 2 * P, 8 * P, 1);  // a window
    case 3: return child(0, ZX_VMO_CHILD_SLICE, 4 * P, 4 * P, 2);
    case 4: return write_fill(H[0], 3 * P, 2 * P, 2);                 // copy on write
    case 5:
      st = zx_vmo_clone(H[1], ZX_VMO_CLONE_COPY_ON_WRITE, 0, 8 * P, &h);
      if (st == ZX_OK) H[3] = h;
      return st;
    case 6: return child(3, ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE, P, 6 * P, 4);
    case 7: return write_fill(H[3], P + 5, 100, 3);
    case 8: return zx_vmo_op_range(H[3], ZX_VMO_OP_ZERO, P / 2, 3 * P + 7, NULL, 0);
    case 9: return zx_vmo_op_range(H[4], ZX_VMO_OP_COMMIT, 0, 4 * P, NULL, 0);
    case 10: return child(0, ZX_VMO_CHILD_SNAPSHOT | ZX_VMO_CHILD_RESIZABLE, 0, 16 * P, 5);
    case 11: return zx_vmo_set_size(H[5], 5 * P + 123);  // shrink with a partial tail
    case 12: return zx_vmo_set_size(H[5], 12 * P);       // grow
    case 13: return zx_vmo_op_range(H[3], ZX_VMO_OP_DECOMMIT, 0, 2 * P, NULL, 0);
    case 14:
      st = zx_handle_duplicate(H[2], ZX_RIGHT_SAME_RIGHTS, &h);
      if (st == ZX_OK) H[6] = h;
      return st;
    case 15:
      st = zx_handle_replace(H[6], ZX_RIGHT_SAME_RIGHTS, &h);
      H[6] = st == ZX_OK ? h : ZX_HANDLE_INVALID;  // replace always consumes the source
      return st;
    case 16: {
      zx_info_vmo_t info;
      return zx_object_get_info(H[1], ZX_INFO_VMO, &info, sizeof(info), NULL, NULL);
    }
    case 17: return child(0, ZX_VMO_CHILD_SNAPSHOT, 0, 16 * P, 8);  // shares the root
    case 18: {
      uint64_t cs = 7 * P + 9;
      return zx_object_set_property(H[5], ZX_PROP_VMO_CONTENT_SIZE, &cs, sizeof(cs));
    }
    case 19:
      st = zx_event_create(0, &h);
      if (st == ZX_OK) H[7] = h;
      return st;
    case 20: return zx_object_signal(H[7], 0, ZX_USER_SIGNAL_0);
    case 21: return zx_object_wait_one(H[7], ZX_USER_SIGNAL_0, 0, NULL);
    case 22: return write_fill(H[0], 0, 3 * P, 4);  // path copy: H[8] shares the root
    case 23: *is_close = true; return close_slot(1);  // snapshot: re-homes its clone
    case 24: *is_close = true; return close_slot(0);  // root kept for slices: trimmed
    case 25: return write_fill(H[2], P - 3, 10, 5);  // slice of a dead root
    case 26: *is_close = true; return close_slot(3);  // one-way: merged into H[4]
    case 27: return zx_vmo_op_range(H[4], ZX_VMO_OP_ZERO, 0, 2 * P, NULL, 0);
    case 28: return child(4, ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE, 0, 6 * P, 3);
    case 29: *is_close = true; return close_slot(2);
    case 30: *is_close = true; return close_slot(4);  // merged into the new H[3]
    case 31: *is_close = true; return close_slot(6);  // last slice: the root goes
    case 32: *is_close = true; return close_slot(3);
    case 33: *is_close = true; return close_slot(5);
    case 34: *is_close = true; return close_slot(7);
    case 35: *is_close = true; return close_slot(8);
    default: return -1000;
  }
}

static void check_invariants(int i) {
  zx_status_t st = zxvmo_check_invariants();
  cr_assert_eq(st, ZX_OK, "invariants after step %d", i);
}

static void record(void) {
  P = zx_system_get_page_size();
  memset(H, 0, sizeof(H));
  bool is_close;
  for (n_steps = 0;; n_steps++) {
    cr_assert_lt(n_steps, MAX_STEPS);
    zx_status_t st = step(n_steps, &is_close);
    if (st == -1000) break;
    ref_status[n_steps] = st;
    take_snapshot(&ref_after[n_steps]);
    check_invariants(n_steps);
  }
  for (int i = 0; i < n_steps; i++) {
    cr_assert(ref_status[i] == ZX_OK || i == 8 || i == 13,
              "the workload itself should succeed (step %d: %d)", i, ref_status[i]);
  }
}

static void expect_empty(void) {
  zxvmo_stats_t s;
  cr_assert_eq(zxvmo_get_stats(&s), ZX_OK);
  cr_assert_eq(s.pages_in_use, 0);
  cr_assert_eq(s.vmos_alive, 0);
  cr_assert_eq(s.handles_alive, 0);
}

// Runs the workload with the `nth` allocation failing (and all later ones if
// `persistent`). Returns how many steps saw ZX_ERR_NO_MEMORY.
static int run_with_fault(uint64_t nth, bool persistent) {
  memset(H, 0, sizeof(H));
  int failures = 0;
  bool is_close;
  snapshot_t before, after;
  take_snapshot(&before);
  uint64_t left = nth;  // allocations until the fault fires; 0 once it has
  os_fail_alloc(left, persistent);
  for (int i = 0; i < n_steps; i++) {
    zx_status_t st = step(i, &is_close);
    uint64_t made = os_alloc_count();
    os_fail_alloc(0, false);
    left = made >= left ? 0 : left - made;
    if (is_close) cr_assert_eq(st, ZX_OK, "close failed at step %d (fault %lu)", i,
                               (unsigned long)nth);
    if (st == ZX_ERR_NO_MEMORY && ref_status[i] != ZX_ERR_NO_MEMORY) {
      failures++;
      surfaced[i]++;
      take_snapshot(&after);
      expect_same(&before, &after, i, "after a failed step");
      check_invariants(i);
      st = step(i, &is_close);  // again, without faults
    }
    cr_assert_eq(st, ref_status[i], "step %d: status %d, recorded %d (fault %lu)", i, st,
                 ref_status[i], (unsigned long)nth);
    take_snapshot(&after);
    expect_same(&ref_after[i], &after, i, "from the recorded run");
    check_invariants(i);
    before = after;
    // The one-shot fault fires once per run; the persistent one stays on.
    if (left > 0) {
      os_fail_alloc(left, persistent);
    } else if (persistent) {
      os_fail_alloc(1, true);
    }
  }
  os_fail_alloc(0, false);
  expect_empty();
  return failures;
}

// Records the workload, then counts the metadata allocations it makes (none failing).
static uint64_t record_and_count(void) {
  record();
  expect_empty();
  os_fail_alloc(UINT64_MAX, false);
  memset(H, 0, sizeof(H));
  bool is_close;
  for (int i = 0; i < n_steps; i++) (void)step(i, &is_close);
  uint64_t total = os_alloc_count();
  os_fail_alloc(0, false);
  expect_empty();
  cr_assert_gt(total, 20, "the workload allocates (%lu)", (unsigned long)total);
  return total;
}

Test(alloc_failure, every_nth_allocation_fails_once) {
  uint64_t total = record_and_count();
  for (uint64_t n = 1; n <= total + 1; n++) (void)run_with_fault(n, false);
  // Closes absorb their faults (settling resumes later), and so does the checker of
  // checking builds; the steps that allocate must each have reported one.
  static const int allocating[] = {0, 2, 9, 16, 19, 22};
  for (size_t k = 0; k < sizeof(allocating) / sizeof(allocating[0]); k++) {
    cr_assert_gt(surfaced[allocating[k]], 0, "step %d never saw a fault", allocating[k]);
  }
}

Test(alloc_failure, every_allocation_from_the_nth_on_fails) {
  uint64_t total = record_and_count();
  for (uint64_t n = 1; n <= total + 1; n++) (void)run_with_fault(n, true);
}
