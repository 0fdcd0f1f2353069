// SPDX-License-Identifier: BSD-3-Clause
// Waits woken from other threads (signals, handle closes), and a stress test of the
// handle table under concurrent create / duplicate / lookup / signal / close.
// Runs under ThreadSanitizer as well (the name contains "thread").
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <zircon/syscalls.h>

#include "handle.h"
#include "helpers.h"
#include "object.h"

static zx_handle_t mkevent(void) {
  zx_handle_t h = ZX_HANDLE_INVALID;
  cr_assert_eq(zx_event_create(0, &h), ZX_OK);
  return h;
}

static zx_handle_t dup(zx_handle_t h) {
  zx_handle_t d = ZX_HANDLE_INVALID;
  cr_assert_eq(zx_handle_duplicate(h, ZX_RIGHT_SAME_RIGHTS, &d), ZX_OK);
  return d;
}

// White-box: true once some wait is linked on the object behind `h`, so a test can
// act on a waiter known to be blocked instead of guessing with a sleep.
static bool has_waiters(zx_handle_t h) {
  zx_object_t* obj;
  if (handle_get(h, ZX_OBJ_TYPE_NONE, ZX_RIGHT_NONE, &obj, NULL) != ZX_OK) return false;
  pthread_mutex_lock(&obj->lock);
  bool linked = obj->waiters != NULL;
  pthread_mutex_unlock(&obj->lock);
  object_unref(obj);
  return linked;
}

static void await_waiter(zx_handle_t h) {
  zx_time_t give_up = zx_deadline_after(ZX_SEC(20));
  while (!has_waiters(h)) {
    cr_assert_lt(zx_clock_get_monotonic(), give_up, "waiter never blocked");
    zx_nanosleep(zx_deadline_after(ZX_USEC(200)));
  }
}

typedef struct one_wait {
  zx_handle_t handle;
  zx_signals_t signals;
  zx_time_t deadline;
  zx_status_t status;
  zx_signals_t observed;
  atomic_bool done;
  pthread_t thread;
} one_wait_t;

static void* one_wait_main(void* arg) {
  one_wait_t* w = arg;
  w->status = zx_object_wait_one(w->handle, w->signals, w->deadline, &w->observed);
  atomic_store(&w->done, true);
  return NULL;
}

static void start_wait(one_wait_t* w, zx_handle_t h, zx_signals_t s, zx_time_t deadline) {
  w->handle = h;
  w->signals = s;
  w->deadline = deadline;
  w->status = ZX_ERR_INTERNAL;
  w->observed = 0;
  atomic_init(&w->done, false);
  cr_assert_eq(pthread_create(&w->thread, NULL, one_wait_main, w), 0);
}

static void join_wait(one_wait_t* w) { cr_assert_eq(pthread_join(w->thread, NULL), 0); }

Test(threads_wait, infinite_wait_woken_by_signal) {
  zx_handle_t e = mkevent();
  one_wait_t w;
  start_wait(&w, e, ZX_EVENT_SIGNALED, ZX_TIME_INFINITE);
  await_waiter(e);
  cr_assert_eq(atomic_load(&w.done), false);
  cr_assert_eq(zx_object_signal(e, 0, ZX_EVENT_SIGNALED | ZX_USER_SIGNAL_6), ZX_OK);
  join_wait(&w);
  cr_assert_eq(w.status, ZX_OK);
  cr_assert_eq(w.observed, ZX_EVENT_SIGNALED | ZX_USER_SIGNAL_6);
  cr_assert_eq(zx_handle_close(e), ZX_OK);
}

Test(threads_wait, deadline_wait_woken_before_deadline) {
  zx_handle_t e = mkevent();
  one_wait_t w;
  zx_time_t t0 = zx_clock_get_monotonic();
  start_wait(&w, e, ZX_USER_SIGNAL_2, t0 + ZX_SEC(30));
  await_waiter(e);
  cr_assert_eq(zx_object_signal(e, 0, ZX_USER_SIGNAL_2), ZX_OK);
  join_wait(&w);
  cr_assert_eq(w.status, ZX_OK);
  cr_assert(w.observed & ZX_USER_SIGNAL_2);
  cr_assert_lt(zx_clock_get_monotonic() - t0, ZX_SEC(20));
  cr_assert_eq(zx_handle_close(e), ZX_OK);
}

Test(threads_wait, deadline_wait_times_out_without_signal) {
  zx_handle_t e = mkevent();
  one_wait_t w;
  zx_time_t deadline = zx_deadline_after(ZX_MSEC(40));
  start_wait(&w, e, ZX_USER_SIGNAL_2, deadline);
  // A signal the waiter does not want does not end the wait.
  await_waiter(e);
  cr_assert_eq(zx_object_signal(e, 0, ZX_USER_SIGNAL_3), ZX_OK);
  join_wait(&w);
  cr_assert_eq(w.status, ZX_ERR_TIMED_OUT);
  cr_assert_eq(w.observed, ZX_USER_SIGNAL_3);
  cr_assert_geq(zx_clock_get_monotonic(), deadline);
  cr_assert_eq(zx_handle_close(e), ZX_OK);
}

// Only waiters whose condition became true are woken.
Test(threads_wait, only_matching_waiters_wake) {
  zx_handle_t e = mkevent();
  one_wait_t a, b;
  start_wait(&a, e, ZX_USER_SIGNAL_0, ZX_TIME_INFINITE);
  start_wait(&b, e, ZX_USER_SIGNAL_1, ZX_TIME_INFINITE);
  await_waiter(e);
  cr_assert_eq(zx_object_signal(e, 0, ZX_USER_SIGNAL_0), ZX_OK);
  join_wait(&a);
  cr_assert_eq(a.status, ZX_OK);
  zx_nanosleep(zx_deadline_after(ZX_MSEC(30)));
  cr_assert_eq(atomic_load(&b.done), false);
  cr_assert_eq(zx_object_signal(e, 0, ZX_USER_SIGNAL_1), ZX_OK);
  join_wait(&b);
  cr_assert_eq(b.status, ZX_OK);
  cr_assert_eq(b.observed, ZX_USER_SIGNAL_0 | ZX_USER_SIGNAL_1);
  cr_assert_eq(zx_handle_close(e), ZX_OK);
}

Test(threads_wait, one_signal_wakes_every_waiter) {
  enum { N = 4 };
  zx_handle_t e = mkevent();
  zx_handle_t d[N];
  one_wait_t w[N];
  for (int i = 0; i < N; i++) {
    d[i] = dup(e);
    start_wait(&w[i], d[i], ZX_EVENT_SIGNALED, ZX_TIME_INFINITE);
  }
  await_waiter(e);
  cr_assert_eq(zx_object_signal(e, 0, ZX_EVENT_SIGNALED), ZX_OK);
  for (int i = 0; i < N; i++) {
    join_wait(&w[i]);
    cr_assert_eq(w[i].status, ZX_OK);
    cr_assert_eq(w[i].observed, ZX_EVENT_SIGNALED);
  }
  cr_assert_eq(zx_handle_close_many(d, N), ZX_OK);
  cr_assert_eq(zx_handle_close(e), ZX_OK);
}

// Closing the handle a wait came through cancels it, even while other handles to the
// object stay open.
Test(threads_wait, close_cancels_wait) {
  zx_handle_t e = mkevent();
  zx_handle_t d = dup(e);
  one_wait_t w;
  start_wait(&w, d, ZX_EVENT_SIGNALED, ZX_TIME_INFINITE);
  await_waiter(e);
  cr_assert_eq(zx_object_signal(e, 0, ZX_USER_SIGNAL_0), ZX_OK);
  cr_assert_eq(zx_handle_close(d), ZX_OK);
  join_wait(&w);
  cr_assert_eq(w.status, ZX_ERR_CANCELED);
  cr_assert_eq(w.observed, ZX_SIGNAL_HANDLE_CLOSED | ZX_USER_SIGNAL_0);
  cr_assert_eq(zx_handle_close(e), ZX_OK);
}

Test(threads_wait, close_cancels_deadline_wait) {
  zx_handle_t e = mkevent();
  one_wait_t w;
  start_wait(&w, e, ZX_EVENT_SIGNALED, zx_deadline_after(ZX_SEC(60)));
  await_waiter(e);
  zx_time_t t0 = zx_clock_get_monotonic();
  // Closing the last handle: the object goes away once the wait lets go of it.
  cr_assert_eq(zx_handle_close(e), ZX_OK);
  join_wait(&w);
  cr_assert_eq(w.status, ZX_ERR_CANCELED);
  cr_assert_eq(w.observed, ZX_SIGNAL_HANDLE_CLOSED);
  cr_assert_lt(zx_clock_get_monotonic() - t0, ZX_SEC(20));
}

// Closing a different handle to the same object leaves the wait alone.
Test(threads_wait, closing_other_handle_does_not_cancel) {
  zx_handle_t e = mkevent();
  zx_handle_t other = dup(e);
  one_wait_t w;
  start_wait(&w, e, ZX_EVENT_SIGNALED, ZX_TIME_INFINITE);
  await_waiter(e);
  cr_assert_eq(zx_handle_close(other), ZX_OK);
  zx_nanosleep(zx_deadline_after(ZX_MSEC(30)));
  cr_assert_eq(atomic_load(&w.done), false);
  cr_assert_eq(zx_object_signal(e, 0, ZX_EVENT_SIGNALED), ZX_OK);
  join_wait(&w);
  cr_assert_eq(w.status, ZX_OK);
  cr_assert_eq(w.observed, ZX_EVENT_SIGNALED);
  cr_assert_eq(zx_handle_close(e), ZX_OK);
}

typedef struct many_wait {
  zx_wait_item_t items[3];
  size_t count;
  zx_time_t deadline;
  zx_status_t status;
  pthread_t thread;
} many_wait_t;

static void* many_wait_main(void* arg) {
  many_wait_t* w = arg;
  w->status = zx_object_wait_many(w->items, w->count, w->deadline);
  return NULL;
}

Test(threads_wait, wait_many_woken_by_second_item) {
  zx_handle_t a = mkevent(), b = mkevent();
  many_wait_t w = {.items = {{.handle = a, .waitfor = ZX_EVENT_SIGNALED},
                             {.handle = b, .waitfor = ZX_USER_SIGNAL_1}},
                   .count = 2,
                   .deadline = ZX_TIME_INFINITE,
                   .status = ZX_ERR_INTERNAL};
  cr_assert_eq(pthread_create(&w.thread, NULL, many_wait_main, &w), 0);
  await_waiter(a);
  await_waiter(b);
  cr_assert_eq(zx_object_signal(b, 0, ZX_USER_SIGNAL_1), ZX_OK);
  cr_assert_eq(pthread_join(w.thread, NULL), 0);
  cr_assert_eq(w.status, ZX_OK);
  cr_assert_eq(w.items[0].pending, 0);
  cr_assert_eq(w.items[1].pending, ZX_USER_SIGNAL_1);
  zx_handle_t all[] = {a, b};
  cr_assert_eq(zx_handle_close_many(all, 2), ZX_OK);
}

Test(threads_wait, wait_many_with_deadline_woken) {
  zx_handle_t a = mkevent(), b = mkevent(), c = mkevent();
  many_wait_t w = {.items = {{.handle = a, .waitfor = ZX_EVENT_SIGNALED},
                             {.handle = b, .waitfor = ZX_EVENT_SIGNALED},
                             {.handle = c, .waitfor = ZX_EVENT_SIGNALED}},
                   .count = 3,
                   .deadline = zx_deadline_after(ZX_SEC(60)),
                   .status = ZX_ERR_INTERNAL};
  cr_assert_eq(pthread_create(&w.thread, NULL, many_wait_main, &w), 0);
  await_waiter(c);
  cr_assert_eq(zx_object_signal(c, 0, ZX_EVENT_SIGNALED), ZX_OK);
  cr_assert_eq(pthread_join(w.thread, NULL), 0);
  cr_assert_eq(w.status, ZX_OK);
  cr_assert_eq(w.items[2].pending, ZX_EVENT_SIGNALED);
  zx_handle_t all[] = {a, b, c};
  cr_assert_eq(zx_handle_close_many(all, 3), ZX_OK);
}

Test(threads_wait, wait_many_canceled_by_close) {
  zx_handle_t a = mkevent(), b = mkevent();
  zx_handle_t bd = dup(b);
  many_wait_t w = {.items = {{.handle = a, .waitfor = ZX_EVENT_SIGNALED},
                             {.handle = bd, .waitfor = ZX_EVENT_SIGNALED}},
                   .count = 2,
                   .deadline = ZX_TIME_INFINITE,
                   .status = ZX_ERR_INTERNAL};
  cr_assert_eq(pthread_create(&w.thread, NULL, many_wait_main, &w), 0);
  await_waiter(b);
  cr_assert_eq(zx_handle_close(bd), ZX_OK);
  cr_assert_eq(pthread_join(w.thread, NULL), 0);
  cr_assert_eq(w.status, ZX_ERR_CANCELED);
  cr_assert_eq(w.items[0].pending, 0);
  cr_assert_eq(w.items[1].pending, ZX_SIGNAL_HANDLE_CLOSED);
  zx_handle_t all[] = {a, b};
  cr_assert_eq(zx_handle_close_many(all, 2), ZX_OK);
}

// Races a close against the start of a wait, many times: every wait must end (OK is
// impossible: nothing signals), as CANCELED if it got in, else BAD_HANDLE.
Test(threads_wait, close_racing_wait_start_never_hangs) {
  for (int i = 0; i < 200; i++) {
    zx_handle_t e = mkevent();
    zx_handle_t d = dup(e);
    one_wait_t w;
    start_wait(&w, d, ZX_EVENT_SIGNALED, ZX_TIME_INFINITE);
    if (i % 2) zx_nanosleep(zx_deadline_after(ZX_USEC(i % 7 * 20)));
    cr_assert_eq(zx_handle_close(d), ZX_OK);
    join_wait(&w);
    cr_assert(w.status == ZX_ERR_CANCELED || w.status == ZX_ERR_BAD_HANDLE, "status %d",
              w.status);
    cr_assert_eq(zx_handle_close(e), ZX_OK);
  }
}

// ---- Stress ----------------------------------------------------------------------
//
// Threads share a table of cells, each empty or holding (handle, low 32 bits of its
// koid). They create, duplicate, look up, signal, wait on and close handles at
// random. Invariants checked all along: a lookup through a value either fails with
// BAD_HANDLE or finds the very object the value was made for (never a later one), and
// every close of a value a thread owns succeeds.

enum { STRESS_CELLS = 64, STRESS_THREADS = 6 };
#define STRESS_DURATION ZX_MSEC(1500)

static _Atomic uint64_t cells[STRESS_CELLS];
static atomic_bool stress_failed;
static _Atomic uint64_t stress_ops;

static uint64_t pack(zx_handle_t h, zx_koid_t k) { return ((uint64_t)(uint32_t)k << 32) | h; }

static uint32_t rnd(uint64_t* s) {
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return (uint32_t)(*s >> 11);
}

#define STRESS_CHECK(cond)                                                        \
  do {                                                                            \
    if (!(cond)) {                                                                \
      fprintf(stderr, "stress check failed: %s (line %d)\n", #cond, __LINE__); \
      atomic_store(&stress_failed, true);                                         \
    }                                                                             \
  } while (0)

static void stress_lookup(zx_handle_t h, uint32_t koid32) {
  zx_info_handle_basic_t info;
  zx_status_t st = zx_object_get_info(h, ZX_INFO_HANDLE_BASIC, &info, sizeof(info), NULL, NULL);
  STRESS_CHECK(st == ZX_OK || st == ZX_ERR_BAD_HANDLE);
  if (st == ZX_OK) {
    STRESS_CHECK((uint32_t)info.koid == koid32);
    STRESS_CHECK(info.type == ZX_OBJ_TYPE_EVENT);
  }
}

static void* stress_main(void* arg) {
  uint64_t seed = (uint64_t)(uintptr_t)arg * 0x9E3779B97F4A7C15ull + 1;
  zx_time_t end = zx_clock_get_monotonic() + STRESS_DURATION;
  while (zx_clock_get_monotonic() < end && !atomic_load(&stress_failed)) {
    for (int iter = 0; iter < 64; iter++) {
      uint32_t r = rnd(&seed);
      _Atomic uint64_t* cell = &cells[r % STRESS_CELLS];
      uint64_t v = atomic_load(cell);
      zx_handle_t h = (zx_handle_t)v;
      uint32_t k = (uint32_t)(v >> 32);
      switch ((r >> 8) % 8) {
        case 0:  // fill an empty cell with a new event or a duplicate of a neighbour
        case 1: {
          if (v != 0) break;
          zx_handle_t nh;
          uint64_t src = atomic_load(&cells[(r >> 16) % STRESS_CELLS]);
          zx_status_t st;
          if (src != 0 && (r & 0x10000000u)) {
            st = zx_handle_duplicate((zx_handle_t)src, ZX_RIGHT_SAME_RIGHTS, &nh);
            STRESS_CHECK(st == ZX_OK || st == ZX_ERR_BAD_HANDLE);
          } else {
            st = zx_event_create(0, &nh);
            STRESS_CHECK(st == ZX_OK);
          }
          if (st != ZX_OK) break;
          zx_info_handle_basic_t info;
          STRESS_CHECK(zx_object_get_info(nh, ZX_INFO_HANDLE_BASIC, &info, sizeof(info), NULL,
                                          NULL) == ZX_OK);
          if (src != 0 && st == ZX_OK && (r & 0x10000000u))
            STRESS_CHECK((uint32_t)info.koid == (uint32_t)(src >> 32));
          uint64_t expect = 0;
          if (!atomic_compare_exchange_strong(cell, &expect, pack(nh, info.koid)))
            STRESS_CHECK(zx_handle_close(nh) == ZX_OK);
          break;
        }
        case 2:  // take a cell's handle and close it
          if (v == 0) break;
          if (atomic_compare_exchange_strong(cell, &v, 0))
            STRESS_CHECK(zx_handle_close(h) == ZX_OK);
          break;
        case 3:  // replace a cell's handle
          if (v == 0) break;
          if (atomic_compare_exchange_strong(cell, &v, 0)) {
            zx_handle_t nh;
            STRESS_CHECK(zx_handle_replace(h, ZX_RIGHT_SAME_RIGHTS, &nh) == ZX_OK);
            STRESS_CHECK(zx_object_get_info(h, ZX_INFO_HANDLE_VALID, NULL, 0, NULL, NULL) ==
                         ZX_ERR_BAD_HANDLE);
            uint64_t expect = 0;
            if (!atomic_compare_exchange_strong(cell, &expect, pack(nh, k)))
              STRESS_CHECK(zx_handle_close(nh) == ZX_OK);
          }
          break;
        case 4:  // signal through a possibly stale value
        case 5: {
          if (v == 0) break;
          zx_status_t st = zx_object_signal(h, ZX_USER_SIGNAL_ALL, ZX_USER_SIGNAL_0 << (r % 8));
          STRESS_CHECK(st == ZX_OK || st == ZX_ERR_BAD_HANDLE);
          stress_lookup(h, k);
          break;
        }
        case 6: {  // a short wait that may be signalled, time out or be canceled
          if (v == 0) break;
          zx_signals_t seen;
          zx_status_t st =
              zx_object_wait_one(h, ZX_USER_SIGNAL_ALL, zx_deadline_after(ZX_USEC(50)), &seen);
          STRESS_CHECK(st == ZX_OK || st == ZX_ERR_TIMED_OUT || st == ZX_ERR_CANCELED ||
                       st == ZX_ERR_BAD_HANDLE);
          if (st == ZX_ERR_CANCELED) STRESS_CHECK(seen & ZX_SIGNAL_HANDLE_CLOSED);
          break;
        }
        default:
          if (v != 0) stress_lookup(h, k);
          break;
      }
      atomic_fetch_add(&stress_ops, 1);
    }
  }
  return NULL;
}

Test(threads_wait, stress_handles) {
  uint64_t base = handle_count_alive();
  for (int i = 0; i < STRESS_CELLS; i++) atomic_init(&cells[i], 0);
  atomic_init(&stress_failed, false);
  atomic_init(&stress_ops, 0);
  pthread_t t[STRESS_THREADS];
  for (uintptr_t i = 0; i < STRESS_THREADS; i++)
    cr_assert_eq(pthread_create(&t[i], NULL, stress_main, (void*)(i + 1)), 0);
  for (int i = 0; i < STRESS_THREADS; i++) cr_assert_eq(pthread_join(t[i], NULL), 0);
  cr_assert_eq(atomic_load(&stress_failed), false, "see stderr for the failed check");
  cr_assert_gt(atomic_load(&stress_ops), 1000);
  for (int i = 0; i < STRESS_CELLS; i++) {
    uint64_t v = atomic_load(&cells[i]);
    if (v != 0) cr_assert_eq(zx_handle_close((zx_handle_t)v), ZX_OK);
  }
  cr_assert_eq(handle_count_alive(), base);
}
