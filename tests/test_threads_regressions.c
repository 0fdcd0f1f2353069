// SPDX-License-Identifier: BSD-3-Clause
// Threaded regression tests, each named after the race it pins. Also run under TSan
// (through the Criterion stand-in in shim/).
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>

#include "helpers.h"

static zx_handle_t g_h;
static atomic_int g_go;

static void* closer(void* arg) {
  (void)arg;
  while (!atomic_load(&g_go)) {
  }
  zx_handle_close(g_h);
  return NULL;
}

// Duplicating or replacing a handle while another thread closes the VMO's last
// handle must never produce a handle to a dead VMO (closing such a handle used to
// run the VMO's death twice and abort).
static void race(bool replace) {
  for (int it = 0; it < 40000; it++) {
    cr_assert_eq(zx_vmo_create(PG, 0, &g_h), ZX_OK);
    atomic_store(&g_go, 0);
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, closer, NULL), 0);
    atomic_store(&g_go, 1);
    zx_handle_t d = ZX_HANDLE_INVALID;
    zx_status_t st = replace ? zx_handle_replace(g_h, ZX_RIGHT_SAME_RIGHTS, &d)
                             : zx_handle_duplicate(g_h, ZX_RIGHT_SAME_RIGHTS, &d);
    pthread_join(t, NULL);
    cr_assert(st == ZX_OK || st == ZX_ERR_BAD_HANDLE, "status %d", st);
    if (st == ZX_OK) {
      uint8_t b;
      cr_assert_eq(zx_vmo_read(d, &b, 0, 1), ZX_OK, "a new handle reached a dead VMO");
      cr_assert_eq(zx_handle_close(d), ZX_OK);
    }
  }
  cr_assert_eq(pages_in_use(), 0);
  zxvmo_stats_t s;
  cr_assert_eq(zxvmo_get_stats(&s), ZX_OK);
  cr_assert_eq(s.vmos_alive, 0);
}

Test(threads_regressions, duplicate_racing_last_close) { race(false); }
Test(threads_regressions, replace_racing_last_close) { race(true); }

static zx_handle_t g_ev;
static atomic_int g_stop;

static void* pulser(void* arg) {
  (void)arg;
  while (!atomic_load(&g_stop)) {
    zx_object_signal(g_ev, 0, ZX_USER_SIGNAL_0);
    zx_object_signal(g_ev, ZX_USER_SIGNAL_0, 0);
  }
  return NULL;
}

// A wait that succeeds reports the signals as they were when it was satisfied, so
// they always include one it waited for (they used to be read later, when the
// signal could already be cleared again).
Test(threads_regressions, successful_wait_reports_the_signal) {
  cr_assert_eq(zx_event_create(0, &g_ev), ZX_OK);
  atomic_store(&g_stop, 0);
  pthread_t t;
  cr_assert_eq(pthread_create(&t, NULL, pulser, NULL), 0);
  for (int i = 0; i < 20000; i++) {
    zx_signals_t seen = 0;
    zx_status_t st = zx_object_wait_one(g_ev, ZX_USER_SIGNAL_0, ZX_TIME_INFINITE, &seen);
    cr_assert_eq(st, ZX_OK);
    cr_assert(seen & ZX_USER_SIGNAL_0, "wait %d succeeded with observed %#x", i, seen);
    zx_wait_item_t items[2] = {{g_ev, ZX_USER_SIGNAL_1, 0}, {g_ev, ZX_USER_SIGNAL_0, 0}};
    cr_assert_eq(zx_object_wait_many(items, 2, ZX_TIME_INFINITE), ZX_OK);
    cr_assert(items[1].pending & ZX_USER_SIGNAL_0, "wait_many %d pending %#x", i,
              items[1].pending);
  }
  atomic_store(&g_stop, 1);
  pthread_join(t, NULL);
  zx_handle_close(g_ev);
}

// Writers and closers in their own families while zxvmo_check_invariants runs: the
// census of reachable pages against pages_in_use used to be taken family by family,
// so a page reserved meanwhile in another family made it report a false violation
// (516 of 5,896 runs). It now holds every family lock at once.
static void* churn(void* arg) {
  (void)arg;
  uint8_t buf[64] = {1};
  while (!atomic_load(&g_stop)) {
    zx_handle_t v, s;
    if (zx_vmo_create(8 * PG, 0, &v) != ZX_OK) continue;
    for (uint64_t p = 0; p < 8; p++) zx_vmo_write(v, buf, p * PG, sizeof(buf));
    if (zx_vmo_create_child(v, ZX_VMO_CHILD_SNAPSHOT, 0, 8 * PG, &s) == ZX_OK) {
      zx_vmo_write(s, buf, 3 * PG, sizeof(buf));
      zx_handle_close(s);
    }
    zx_vmo_op_range(v, ZX_VMO_OP_DECOMMIT, 0, 4 * PG, NULL, 0);
    zx_handle_close(v);
  }
  return NULL;
}

Test(threads_regressions, check_invariants_exact_while_threads_run) {
  atomic_store(&g_stop, 0);
  pthread_t t[2];
  for (int i = 0; i < 2; i++) cr_assert_eq(pthread_create(&t[i], NULL, churn, NULL), 0);
  for (int i = 0; i < 2000; i++) {
    zx_status_t st = zxvmo_check_invariants();
    cr_assert_eq(st, ZX_OK, "check %d while writers run: %d", i, st);
  }
  atomic_store(&g_stop, 1);
  for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
  cr_assert_eq(zxvmo_check_invariants(), ZX_OK);
  cr_assert_eq(pages_in_use(), 0);
}
