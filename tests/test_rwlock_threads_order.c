// SPDX-License-Identifier: BSD-3-Clause
// The order in which the phase-fair lock (src/base/rwlock.h) admits waiters, made
// deterministic by looking at its state: a test acts only once a waiter is known to be
// counted (a reader in `rin`, a writer in `win`) instead of guessing with a sleep.
//   - a writer that arrives closes the door: a reader arriving after it waits for it,
//     even though readers hold the lock when it arrives;
//   - when a writer leaves, every reader waiting then goes in before the next writer;
//   - writers go in the order they arrived.
// Runs under ThreadSanitizer as well (the name contains "thread").
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#include "rwlock.h"

static void sleep_us(long us) {
  struct timespec ts = {.tv_sec = us / 1000000, .tv_nsec = (us % 1000000) * 1000};
  nanosleep(&ts, NULL);
}

static uint32_t readers_counted(rw_lock_t* l) {
  return atomic_load(&l->rin) >> 8;  // arrivals, whether inside or waiting
}

// Waits (up to 10 s: the machine may be loaded) until `count(l) >= want`.
static void await_count(rw_lock_t* l, uint32_t (*count)(rw_lock_t*), uint32_t want,
                        const char* what) {
  for (int i = 0; i < 100000 && count(l) < want; i++) sleep_us(100);
  cr_assert_geq(count(l), want, "%s never arrived", what);
}

static uint32_t writers_counted(rw_lock_t* l) { return atomic_load(&l->win); }
static uint32_t writer_bits_set(rw_lock_t* l) { return atomic_load(&l->rin) & RW_PRES; }

static rw_lock_t g_lock = RW_LOCK_INIT;
static atomic_int g_seq;           // admission order, shared by readers and writers

typedef struct {
  bool write;
  atomic_bool* hold;               // if set, stay inside until it becomes false
  int order;                       // g_seq when this thread got in
  int readers_done_at_entry;       // (writers) readers that had been in and out
} job_t;

static atomic_int g_readers_done;

static void* run(void* arg) {
  job_t* j = arg;
  if (j->write) {
    rw_wrlock(&g_lock);
    j->order = atomic_fetch_add(&g_seq, 1);
    j->readers_done_at_entry = atomic_load(&g_readers_done);
  } else {
    rw_rdlock(&g_lock);
    j->order = atomic_fetch_add(&g_seq, 1);
    atomic_fetch_add(&g_readers_done, 1);
  }
  while (j->hold && atomic_load(j->hold)) sleep_us(100);
  rw_unlock(&g_lock);
  return NULL;
}

static void go(pthread_t* t, job_t* j) { cr_assert_eq(pthread_create(t, NULL, run, j), 0); }

Test(rwlock_order, a_waiting_writer_keeps_later_readers_out) {
  rw_rdlock(&g_lock);  // the main thread is the reader inside
  job_t w = {.write = true}, r = {.write = false};
  pthread_t tw, tr;
  go(&tw, &w);
  await_count(&g_lock, writer_bits_set, 1, "the writer");
  go(&tr, &r);
  await_count(&g_lock, readers_counted, 2, "the second reader");
  sleep_us(20 * 1000);
  cr_assert_eq(atomic_load(&g_seq), 0, "a thread got in beside the reader or the writer");
  rw_unlock(&g_lock);
  pthread_join(tw, NULL);
  pthread_join(tr, NULL);
  cr_assert_eq(w.order, 0, "the writer did not go before the reader that came after it");
  cr_assert_eq(r.order, 1);
  cr_assert_eq(w.readers_done_at_entry, 0);
  rw_destroy(&g_lock);
}

Test(rwlock_order, readers_waiting_for_a_writer_go_before_the_next_writer) {
  rw_wrlock(&g_lock);  // the main thread is writer 1
  job_t r[4] = {{.write = false}, {.write = false}, {.write = false}, {.write = false}};
  job_t w2 = {.write = true};
  pthread_t tr[4], tw2;
  for (int i = 0; i < 3; i++) go(&tr[i], &r[i]);
  await_count(&g_lock, readers_counted, 3, "the readers");
  go(&tw2, &w2);
  await_count(&g_lock, writers_counted, 2, "writer 2");
  // A reader arriving after writer 2 but while writer 1 still holds the lock is
  // waiting for writer 1 too: it belongs to the same reader phase.
  go(&tr[3], &r[3]);
  await_count(&g_lock, readers_counted, 4, "the fourth reader");
  rw_unlock(&g_lock);
  for (int i = 0; i < 4; i++) pthread_join(tr[i], NULL);
  pthread_join(tw2, NULL);
  cr_assert_eq(w2.order, 4, "writer 2 went before some waiting reader");
  cr_assert_eq(w2.readers_done_at_entry, 4);
  rw_destroy(&g_lock);
}

Test(rwlock_order, writers_go_in_arrival_order) {
  rw_wrlock(&g_lock);
  job_t w[4] = {{.write = true}, {.write = true}, {.write = true}, {.write = true}};
  pthread_t t[4];
  for (uint32_t i = 0; i < 4; i++) {
    go(&t[i], &w[i]);
    await_count(&g_lock, writers_counted, i + 2, "a writer");
  }
  rw_unlock(&g_lock);
  for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
  for (int i = 0; i < 4; i++) cr_assert_eq(w[i].order, i, "writer %d went out of turn", i);
  rw_destroy(&g_lock);
}

// Phases alternate: W1 holds; R1 waits; W2 queues behind W1. When W1 leaves, R1 goes
// (its phase), then W2; R2, arriving once W2 has closed the door, waits for W2.
Test(rwlock_order, phases_alternate) {
  rw_wrlock(&g_lock);
  atomic_bool hold_w2 = true;
  job_t r1 = {.write = false}, w2 = {.write = true, .hold = &hold_w2}, r2 = {.write = false};
  pthread_t t1, t2, t3;
  go(&t1, &r1);
  await_count(&g_lock, readers_counted, 1, "reader 1");
  go(&t2, &w2);
  await_count(&g_lock, writers_counted, 2, "writer 2");
  rw_unlock(&g_lock);
  // W2's bits stay set until it is told to leave.
  await_count(&g_lock, writer_bits_set, 1, "writer 2's bits");
  go(&t3, &r2);
  await_count(&g_lock, readers_counted, 2, "reader 2");
  sleep_us(20 * 1000);
  cr_assert_eq(atomic_load(&g_readers_done), 1, "reader 2 got in beside writer 2");
  atomic_store(&hold_w2, false);
  pthread_join(t1, NULL);
  pthread_join(t2, NULL);
  pthread_join(t3, NULL);
  cr_assert_eq(r1.order, 0);
  cr_assert_eq(w2.order, 1);
  cr_assert_eq(w2.readers_done_at_entry, 1);
  cr_assert_eq(r2.order, 2);
  rw_destroy(&g_lock);
}
