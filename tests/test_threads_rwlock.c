// SPDX-License-Identifier: BSD-3-Clause
// The family lock (src/base/rwlock.h) under contention, through its API only: mutual
// exclusion with invariants, readers sharing, writers excluding readers, and the two
// fairness bounds: a writer gets in within a bounded time while readers hold the read
// side continuously, and a reader gets in while writers queue continuously. A
// reader-preferring lock fails the first (the writer waits as long as the readers
// run); a writer-preferring one fails the second.
//
// Worker threads never call cr_assert (not safe off the test's main thread with
// Criterion): they count violations, and the test asserts on the counts.
// Runs under ThreadSanitizer as well (the name contains "thread"): the data guarded by
// the lock is plain, so a lock that let two writers in, or a reader beside a writer,
// would also be reported as a data race.
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#include "rwlock.h"

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void sleep_us(uint64_t us) {
  struct timespec ts = {.tv_sec = (time_t)(us / 1000000), .tv_nsec = (long)(us % 1000000) * 1000};
  nanosleep(&ts, NULL);
}

#define MS (1000000ull)

static void start(pthread_t* t, void* (*fn)(void*), void* arg) {
  cr_assert_eq(pthread_create(t, NULL, fn, arg), 0);
}

// ---- Mutual exclusion with invariants ----

static rw_lock_t g_lock = RW_LOCK_INIT;
static struct {
  uint64_t a, b;           // (g_lock) writers keep a == b at every unlock
  uint64_t writes;         // (g_lock)
} g_data;
static atomic_int g_writers_in;
static atomic_int g_readers_in;
static atomic_int g_violations;
static atomic_bool g_stop;
static _Atomic uint64_t g_reads;

static void* mx_writer(void* arg) {
  (void)arg;
  while (!atomic_load(&g_stop)) {
    rw_wrlock(&g_lock);
    if (atomic_fetch_add(&g_writers_in, 1) != 0) atomic_fetch_add(&g_violations, 1);
    if (atomic_load(&g_readers_in) != 0) atomic_fetch_add(&g_violations, 1);
    g_data.a++;
    for (volatile int i = 0; i < 50; i++) {
    }
    g_data.b++;
    g_data.writes++;
    atomic_fetch_sub(&g_writers_in, 1);
    rw_unlock(&g_lock);
  }
  return NULL;
}

static void* mx_reader(void* arg) {
  (void)arg;
  while (!atomic_load(&g_stop)) {
    rw_rdlock(&g_lock);
    atomic_fetch_add(&g_readers_in, 1);
    if (atomic_load(&g_writers_in) != 0) atomic_fetch_add(&g_violations, 1);
    uint64_t a = g_data.a;
    for (volatile int i = 0; i < 50; i++) {
    }
    if (g_data.b != a) atomic_fetch_add(&g_violations, 1);
    atomic_fetch_sub(&g_readers_in, 1);
    atomic_fetch_add(&g_reads, 1);
    // Alternate the generic and the explicit unlock.
    if (a & 1) {
      rw_unlock(&g_lock);
    } else {
      rw_rdunlock(&g_lock);
    }
  }
  return NULL;
}

Test(rwlock_threads, writers_exclude_everyone_readers_see_consistent_data) {
  pthread_t w[2], r[3];
  for (int i = 0; i < 2; i++) start(&w[i], mx_writer, NULL);
  for (int i = 0; i < 3; i++) start(&r[i], mx_reader, NULL);
  sleep_us(300 * 1000);
  atomic_store(&g_stop, true);
  for (int i = 0; i < 2; i++) pthread_join(w[i], NULL);
  for (int i = 0; i < 3; i++) pthread_join(r[i], NULL);
  cr_assert_eq(atomic_load(&g_violations), 0);
  rw_rdlock(&g_lock);
  cr_assert_eq(g_data.a, g_data.b);
  cr_assert_eq(g_data.a, g_data.writes);
  cr_assert_gt(g_data.writes, 0, "no writer got in");
  rw_rdunlock(&g_lock);
  cr_assert_gt(atomic_load(&g_reads), 0, "no reader got in");
  rw_destroy(&g_lock);
}

// ---- Readers share; writers exclude readers and each other ----

static atomic_int g_inside;

// Holds the read side until another thread holds it too (or 2 s pass).
static void* share_reader(void* arg) {
  rw_lock_t* l = arg;
  rw_rdlock(l);
  atomic_fetch_add(&g_inside, 1);
  uint64_t give_up = now_ns() + 2000 * MS;
  while (atomic_load(&g_inside) < 2 && now_ns() < give_up) sleep_us(100);
  int seen = atomic_load(&g_inside);
  rw_rdunlock(l);
  return (void*)(intptr_t)seen;
}

Test(rwlock_threads, two_readers_hold_the_read_side_at_once) {
  rw_lock_t l;
  rw_init(&l);
  pthread_t t[2];
  for (int i = 0; i < 2; i++) start(&t[i], share_reader, &l);
  for (int i = 0; i < 2; i++) {
    void* seen;
    pthread_join(t[i], &seen);
    cr_assert_eq((intptr_t)seen, 2, "reader %d never saw the other inside", i);
  }
  rw_destroy(&l);
}

static void* enter_read(void* arg) {
  rw_lock_t* l = arg;
  rw_rdlock(l);
  atomic_store(&g_inside, 1);
  rw_unlock(l);
  return NULL;
}

static void* enter_write(void* arg) {
  rw_lock_t* l = arg;
  rw_wrlock(l);
  atomic_store(&g_inside, 1);
  rw_unlock(l);
  return NULL;
}

// `holder` holds one side; a thread running `enter` must not get in while it does,
// and must get in once it is released.
static void check_excluded(bool hold_write, void* (*enter)(void*)) {
  rw_lock_t l = RW_LOCK_INIT;
  atomic_store(&g_inside, 0);
  if (hold_write) {
    rw_wrlock(&l);
  } else {
    rw_rdlock(&l);
  }
  pthread_t t;
  start(&t, enter, &l);
  sleep_us(50 * 1000);
  cr_assert_eq(atomic_load(&g_inside), 0, "got in while the lock was held");
  rw_unlock(&l);
  pthread_join(t, NULL);
  cr_assert_eq(atomic_load(&g_inside), 1);
  rw_destroy(&l);
}

Test(rwlock_threads, a_writer_excludes_readers) { check_excluded(true, enter_read); }
Test(rwlock_threads, a_writer_excludes_writers) { check_excluded(true, enter_write); }
Test(rwlock_threads, a_reader_excludes_writers) { check_excluded(false, enter_write); }

// ---- A writer is not starved by overlapping readers ----
//
// Three readers keep the read side held without a gap: a reader leaves only while
// another reader holds it too (`holders` >= 2, claimed by CAS so two cannot leave on
// each other's account), or after holding it alone for SOLO_MS. A lock that lets
// readers in past a waiting writer therefore never becomes free while the readers run
// (READ_FOR_MS); a phase-fair one lets no new reader in once the writer waits, so the
// holders leave one by one and the last leaves within SOLO_MS.
#define SOLO_MS 20
#define READ_FOR_MS 1500
#define BOUND_MS 1000

static rw_lock_t f_lock = RW_LOCK_INIT;
static atomic_int f_holders;       // readers inside (incremented after rdlock, before unlock)
static atomic_int f_max_holders;
static atomic_int f_writer_in;
static atomic_int f_violations;
static atomic_bool f_stop;
static uint64_t f_deadline;        // (before the threads start)

static void* overlap_reader(void* arg) {
  (void)arg;
  while (!atomic_load(&f_stop) && now_ns() < f_deadline) {
    rw_rdlock(&f_lock);
    int h = atomic_fetch_add(&f_holders, 1) + 1;
    int m = atomic_load(&f_max_holders);
    while (h > m && !atomic_compare_exchange_weak(&f_max_holders, &m, h)) {
    }
    if (atomic_load(&f_writer_in)) atomic_fetch_add(&f_violations, 1);
    sleep_us(200);
    uint64_t alone_since = now_ns();
    for (;;) {
      if (atomic_load(&f_stop) || now_ns() >= f_deadline ||
          now_ns() - alone_since >= SOLO_MS * MS) {
        atomic_fetch_sub(&f_holders, 1);
        break;
      }
      h = atomic_load(&f_holders);
      if (h >= 2 && atomic_compare_exchange_strong(&f_holders, &h, h - 1)) break;
      sleep_us(100);
    }
    rw_unlock(&f_lock);
  }
  return NULL;
}

Test(rwlock_threads, writer_gets_in_while_readers_overlap_continuously) {
  f_deadline = now_ns() + READ_FOR_MS * MS;
  pthread_t r[3];
  for (int i = 0; i < 3; i++) start(&r[i], overlap_reader, NULL);
  // Let the readers establish their overlap first.
  uint64_t give_up = now_ns() + 500 * MS;
  while (atomic_load(&f_max_holders) < 2 && now_ns() < give_up) sleep_us(1000);
  uint64_t worst = 0;
  for (int i = 0; i < 4 && (i == 0 || now_ns() < f_deadline); i++) {
    uint64_t t0 = now_ns();
    rw_wrlock(&f_lock);
    uint64_t waited = now_ns() - t0;
    atomic_store(&f_writer_in, 1);
    if (atomic_load(&f_holders) != 0) atomic_fetch_add(&f_violations, 1);
    atomic_store(&f_writer_in, 0);
    rw_unlock(&f_lock);
    if (waited > worst) worst = waited;
    sleep_us(30 * 1000);  // readers overlap again before the next attempt
  }
  atomic_store(&f_stop, true);
  for (int i = 0; i < 3; i++) pthread_join(r[i], NULL);
  cr_assert_eq(atomic_load(&f_violations), 0, "a reader was inside with the writer");
  cr_assert_geq(atomic_load(&f_max_holders), 2, "the readers never overlapped");
  cr_assert_lt(worst, BOUND_MS * MS, "the writer waited %llu ms behind readers",
               (unsigned long long)(worst / MS));
}

// ---- Readers are not starved by a stream of writers ----
//
// Three writers take the write side back to back, each holding it for 200 us, so at
// any moment one holds it and others wait. A lock that prefers writers keeps a reader
// out for as long as they run; a phase-fair one lets a reader in after the writer
// holding the lock when it arrived.
static rw_lock_t s_lock = RW_LOCK_INIT;
static uint64_t s_counter;         // (s_lock)
static _Atomic uint64_t s_writes;  // a copy readable without the lock
static atomic_bool s_stop;
static uint64_t s_deadline;

static void* stream_writer(void* arg) {
  (void)arg;
  while (!atomic_load(&s_stop) && now_ns() < s_deadline) {
    rw_wrlock(&s_lock);
    s_counter++;
    atomic_fetch_add(&s_writes, 1);
    sleep_us(200);
    rw_unlock(&s_lock);
  }
  return NULL;
}

Test(rwlock_threads, reader_gets_in_while_writers_queue_continuously) {
  s_deadline = now_ns() + READ_FOR_MS * MS;
  pthread_t w[3];
  for (int i = 0; i < 3; i++) start(&w[i], stream_writer, NULL);
  // The writers are streaming once the counter moves.
  uint64_t give_up = now_ns() + 500 * MS;
  while (atomic_load(&s_writes) < 3 && now_ns() < give_up) sleep_us(1000);
  uint64_t worst = 0, last = 0;
  int moved = 0;
  for (int i = 0; i < 10 && (i == 0 || now_ns() < s_deadline); i++) {
    uint64_t t0 = now_ns();
    rw_rdlock(&s_lock);
    uint64_t waited = now_ns() - t0;
    uint64_t c = s_counter;
    rw_unlock(&s_lock);
    if (waited > worst) worst = waited;
    if (c != last) moved++;
    last = c;
    sleep_us(10 * 1000);
  }
  atomic_store(&s_stop, true);
  for (int i = 0; i < 3; i++) pthread_join(w[i], NULL);
  cr_assert_lt(worst, BOUND_MS * MS, "the reader waited %llu ms behind writers",
               (unsigned long long)(worst / MS));
  cr_assert_gt(moved, 1, "the writers were not streaming");
}
