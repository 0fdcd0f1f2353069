// SPDX-License-Identifier: BSD-3-Clause
// The phase-fair lock (src/base/rwlock.h) on one thread: the ways to initialise it, the
// state each operation leaves, counters wrapping around, and rw_destroy refusing a
// lock in use. Concurrency is in test_threads_rwlock.c and test_rwlock_threads_order.c.
#include <criterion/criterion.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "rwlock.h"

static bool is_free(rw_lock_t* l) {
  uint32_t rin = atomic_load(&l->rin), rout = atomic_load(&l->rout);
  return !l->wheld && (rin & RW_WBITS) == 0 && (rin & RW_CMASK) == (rout & RW_CMASK) &&
         atomic_load(&l->win) == atomic_load(&l->wout);
}

// A round of every operation, checking the state in between.
static void exercise(rw_lock_t* l) {
  cr_assert(is_free(l));
  rw_rdlock(l);
  cr_assert_not(l->wheld);
  cr_assert_eq((atomic_load(&l->rin) - atomic_load(&l->rout)) & RW_CMASK, RW_RINC,
               "one reader inside");
  rw_rdunlock(l);
  cr_assert(is_free(l));

  rw_wrlock(l);
  cr_assert(l->wheld);
  cr_assert_neq(atomic_load(&l->rin) & RW_PRES, 0);
  rw_wrunlock(l);
  cr_assert(is_free(l));

  // rw_unlock releases whichever side is held.
  rw_wrlock(l);
  rw_unlock(l);
  cr_assert(is_free(l));
  rw_rdlock(l);
  rw_unlock(l);
  cr_assert(is_free(l));
  // Consecutive writers show different writer bits (the phase parity).
  rw_wrlock(l);
  uint32_t bits1 = atomic_load(&l->rin) & RW_WBITS;
  rw_unlock(l);
  rw_wrlock(l);
  uint32_t bits2 = atomic_load(&l->rin) & RW_WBITS;
  rw_unlock(l);
  cr_assert_neq(bits1, bits2);
  rw_destroy(l);
}

static rw_lock_t g_static = RW_LOCK_INIT;

Test(rwlock, static_initializer) { exercise(&g_static); }

Test(rwlock, init_function) {
  rw_lock_t l;
  memset(&l, 0xA5, sizeof(l));
  rw_init(&l);
  exercise(&l);
}

Test(rwlock, zeroed_memory_is_an_unlocked_lock) {
  rw_lock_t* l = calloc(1, sizeof(*l));
  cr_assert_not_null(l);
  exercise(l);
  free(l);
}

// The counts are compared modulo their width, so wrapping around is invisible.
Test(rwlock, counters_wrap_around) {
  rw_lock_t l = RW_LOCK_INIT;
  atomic_store(&l.rin, RW_CMASK);  // one arrival short of wrapping
  atomic_store(&l.rout, RW_CMASK);
  atomic_store(&l.win, UINT32_MAX);
  atomic_store(&l.wout, UINT32_MAX);
  for (int i = 0; i < 3; i++) exercise(&l);
  cr_assert_lt(atomic_load(&l.rin), RW_CMASK, "the reader count did not wrap");
  cr_assert_lt(atomic_load(&l.win), 16u, "the writer tickets did not wrap");
}

Test(rwlock, destroy_refuses_a_read_locked_lock, .signal = SIGABRT) {
  rw_lock_t l = RW_LOCK_INIT;
  rw_rdlock(&l);
  rw_destroy(&l);
}

Test(rwlock, destroy_refuses_a_write_locked_lock, .signal = SIGABRT) {
  rw_lock_t l = RW_LOCK_INIT;
  rw_wrlock(&l);
  rw_destroy(&l);
}

Test(rwlock, write_unlock_without_the_lock_aborts, .signal = SIGABRT) {
  rw_lock_t l = RW_LOCK_INIT;
  rw_wrunlock(&l);
}

// One thread may hold many distinct locks at once (the invariant checker locks every
// family): checking builds track them without false alarms, whatever the unlock order.
Test(rwlock, many_locks_held_at_once) {
  enum { N = 40 };
  static rw_lock_t locks[N];
  for (int i = 0; i < N; i++) rw_init(&locks[i]);
  for (int i = 0; i < N; i++) rw_wrlock(&locks[i]);
  for (int i = 0; i < N; i++) cr_assert(locks[i].wheld);
  for (int i = 0; i < N; i++) rw_unlock(&locks[i]);  // first locked, first unlocked
  for (int i = 0; i < N; i++) rw_wrlock(&locks[i]);
  for (int i = N; i-- > 0;) rw_unlock(&locks[i]);    // and the other way round
  for (int i = 0; i < N; i++) rw_destroy(&locks[i]);
}
