// SPDX-License-Identifier: BSD-3-Clause
// The page pool from several threads: per-thread caches, sharded counters and the
// budget. Threads write, copy and free pages in their own families and reserve pages
// directly, and at quiescent points (all workers parked at a barrier) the main thread
// checks that pages_in_use is exact, that the invariant checker agrees, that the
// budget was never exceeded, and that pages cached by exited threads are not lost.
// Runs under ThreadSanitizer too (the name contains "thread").
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zircon/syscalls.h>

#include "helpers.h"
#include "page_pool.h"

#define NT 4

static zxvmo_stats_t stats(void) {
  zxvmo_stats_t s;
  cr_assert_eq(zxvmo_get_stats(&s), ZX_OK);
  return s;
}

// Workers cannot use cr_assert; they record the first failure for the main thread.
static atomic_int g_failures;
static char g_failure[256];
static pthread_mutex_t g_failure_lock = PTHREAD_MUTEX_INITIALIZER;

static void fail(const char* what, long long a, long long b) {
  pthread_mutex_lock(&g_failure_lock);
  if (atomic_fetch_add(&g_failures, 1) == 0) {
    snprintf(g_failure, sizeof(g_failure), "%s (%lld, %lld)", what, a, b);
  }
  pthread_mutex_unlock(&g_failure_lock);
}

static void assert_no_failure(void) {
  cr_assert_eq(atomic_load(&g_failures), 0, "worker: %s", g_failure);
}

static void join_all(pthread_t* t, int n) {
  for (int i = 0; i < n; i++) cr_assert_eq(pthread_join(t[i], NULL), 0);
}

// ---- exact in_use at quiescent points ------------------------------------------------

#define ROUNDS 12
#define VPAGES 96  // above a cache's worth at 16 KiB pages, so caches spill and refill

static pthread_barrier_t g_bar;
static zx_handle_t g_vmo[NT];
static uint64_t g_held[NT];  // pages a worker holds in direct reservations (its own slot)

// One round of mixed work on the worker's own VMO: whole-page writes (fresh pages or
// overwrites), partial writes (zero fills), DECOMMIT of ranges, and snapshot + write
// (copy-on-write) + close. The VMO has no child when the round ends.
static void mixed_round(zx_handle_t v, uint64_t* seed, uint8_t* buf) {
  for (int op = 0; op < 64; op++) {
    uint64_t r = xorshift(seed);
    uint64_t pg = (r >> 8) % VPAGES;
    zx_status_t st = ZX_OK;
    switch (r % 4) {
      case 0:
        memset(buf, (int)(r >> 40), PAGE_SIZE);
        st = zx_vmo_write(v, buf, pg * PAGE_SIZE, PAGE_SIZE);
        break;
      case 1:
        st = zx_vmo_write(v, buf, pg * PAGE_SIZE + 7, 9);
        break;
      case 2: {
        uint64_t n = 1 + (r >> 20) % 16;
        if (pg + n > VPAGES) n = VPAGES - pg;
        st = zx_vmo_op_range(v, ZX_VMO_OP_DECOMMIT, pg * PAGE_SIZE, n * PAGE_SIZE, NULL, 0);
        break;
      }
      default: {
        zx_handle_t c;
        st = zx_vmo_create_child(v, ZX_VMO_CHILD_SNAPSHOT, 0, VPAGES * PAGE_SIZE, &c);
        if (st != ZX_OK) break;
        for (uint64_t i = 0; i < 8 && st == ZX_OK; i++) {
          st = zx_vmo_write(v, buf, ((pg + i * 5) % VPAGES) * PAGE_SIZE + 1, 3);
        }
        zx_handle_close(c);
        break;
      }
    }
    if (st != ZX_OK) fail("mixed op failed", (long long)(r % 4), st);
  }
}

static void* exact_worker(void* arg) {
  int me = (int)(uintptr_t)arg;
  uint64_t seed = 0x9E3779B97F4A7C15ull * (uint64_t)(me + 1);
  uint8_t* buf = malloc(PAGE_SIZE);
  if (!buf) {
    fail("malloc", 0, 0);
    return NULL;
  }
  for (int round = 0; round < ROUNDS; round++) {
    mixed_round(g_vmo[me], &seed, buf);
    // Hold a few direct reservations over the first check.
    page_reservation_t rs[4];
    uint64_t held = 0;
    for (int i = 0; i < 4; i++) {
      uint64_t n = 1 + xorshift(&seed) % 200;
      if (pool_reserve(n, &rs[i]) != ZX_OK) fail("reserve", (long long)n, 0);
      held += rs[i].count;
    }
    g_held[me] = held;
    pthread_barrier_wait(&g_bar);  // main checks: in_use = committed + held
    pthread_barrier_wait(&g_bar);
    for (int i = 0; i < 4; i++) pool_unreserve(&rs[i]);
    g_held[me] = 0;
    pthread_barrier_wait(&g_bar);  // main checks: in_use = committed, invariants
    pthread_barrier_wait(&g_bar);
  }
  free(buf);
  return NULL;
}

static uint64_t committed_pages(void) {
  uint64_t n = 0;
  for (int i = 0; i < NT; i++) n += vmo_info(g_vmo[i]).committed_bytes / PAGE_SIZE;
  return n;
}

Test(pool_threads, in_use_is_exact_at_quiescent_points, .timeout = 600) {
  uint64_t base = pages_in_use();
  cr_assert_eq(pthread_barrier_init(&g_bar, NULL, NT + 1), 0);
  for (int i = 0; i < NT; i++) {
    cr_assert_eq(zx_vmo_create(VPAGES * PAGE_SIZE, 0, &g_vmo[i]), ZX_OK);
  }
  pthread_t t[NT];
  for (int i = 0; i < NT; i++) {
    cr_assert_eq(pthread_create(&t[i], NULL, exact_worker, (void*)(uintptr_t)i), 0);
  }
  for (int round = 0; round < ROUNDS; round++) {
    pthread_barrier_wait(&g_bar);
    uint64_t held = 0;
    for (int i = 0; i < NT; i++) held += g_held[i];
    cr_assert_eq(pages_in_use(), base + committed_pages() + held, "round %d", round);
    pthread_barrier_wait(&g_bar);
    pthread_barrier_wait(&g_bar);
    cr_assert_eq(pages_in_use(), base + committed_pages(), "round %d", round);
    cr_assert_eq(zxvmo_check_invariants(), ZX_OK, "round %d", round);
    zxvmo_stats_t s = stats();
    cr_assert_geq(s.pool_bytes_held, s.pages_in_use * PAGE_SIZE);
    cr_assert_leq(s.pool_bytes_held, s.pool_bytes_mapped);
    cr_assert_geq(s.pages_peak, s.pages_in_use);
    pthread_barrier_wait(&g_bar);
  }
  join_all(t, NT);
  assert_no_failure();
  for (int i = 0; i < NT; i++) zx_handle_close(g_vmo[i]);
  cr_assert_eq(pages_in_use(), base);
  cr_assert_eq(zxvmo_check_invariants(), ZX_OK);
  pthread_barrier_destroy(&g_bar);
}

// ---- pages allocated by one thread and freed by another --------------------------------

#define HANDOFFS 200
static _Atomic zx_handle_t g_box;

static void* producer(void* arg) {
  (void)arg;
  uint8_t* buf = calloc(1, PAGE_SIZE);
  for (int i = 0; i < HANDOFFS && buf; i++) {
    zx_handle_t v;
    if (zx_vmo_create(8 * PAGE_SIZE, 0, &v) != ZX_OK) {
      fail("create", i, 0);
      break;
    }
    for (uint64_t p = 0; p < 8; p++) {
      buf[0] = (uint8_t)i;
      if (zx_vmo_write(v, buf, p * PAGE_SIZE, PAGE_SIZE) != ZX_OK) fail("write", i, (long long)p);
    }
    zx_handle_t expect = ZX_HANDLE_INVALID;
    while (!atomic_compare_exchange_weak(&g_box, &expect, v)) expect = ZX_HANDLE_INVALID;
  }
  free(buf);
  return NULL;
}

static void* consumer(void* arg) {
  (void)arg;
  for (int i = 0; i < HANDOFFS; i++) {
    zx_handle_t v;
    while ((v = atomic_exchange(&g_box, ZX_HANDLE_INVALID)) == ZX_HANDLE_INVALID) {
    }
    uint8_t b = 0xEE;
    if (zx_vmo_read(v, &b, 3 * PAGE_SIZE, 1) != ZX_OK || b != (uint8_t)i) fail("read", i, b);
    zx_handle_close(v);  // frees pages the producer's thread charged
  }
  return NULL;
}

// The producer's shard only grows and the consumer's only shrinks; the sum is exact.
Test(pool_threads, cross_thread_frees_keep_the_sum_exact, .timeout = 600) {
  uint64_t base = pages_in_use();
  pthread_t t[2];
  cr_assert_eq(pthread_create(&t[0], NULL, producer, NULL), 0);
  cr_assert_eq(pthread_create(&t[1], NULL, consumer, NULL), 0);
  join_all(t, 2);
  assert_no_failure();
  cr_assert_eq(pages_in_use(), base);
  cr_assert_eq(zxvmo_check_invariants(), ZX_OK);
}

// ---- the budget ------------------------------------------------------------------------

#define BUDGET_SLACK 300  // pages above the base the budget allows
static _Atomic uint64_t g_charged;  // pages workers hold, counted after pool_reserve returns
static atomic_bool g_stop;
static atomic_bool g_toggle_phase;
static uint64_t g_budget_base;
static _Atomic uint64_t g_granted, g_refused;

// Reserves and gives back random amounts, holding up to 8 reservations at a time. While
// the budget is fixed, what the workers hold (counted after each reservation returns,
// so never more than the pool has charged) must stay within it.
static void* budget_worker(void* arg) {
  uint64_t seed = 0xD1B54A32D192ED03ull * ((uint64_t)(uintptr_t)arg + 1);
  page_reservation_t rs[8];
  int nr = 0;
  uint64_t ok = 0, refused = 0;
  while (!atomic_load(&g_stop)) {
    uint64_t r = xorshift(&seed);
    if (nr < 8 && (r & 1)) {
      uint64_t n = 1 + (r >> 8) % 40;
      zx_status_t st = pool_reserve(n, &rs[nr]);
      if (st == ZX_OK) {
        uint64_t now = atomic_fetch_add(&g_charged, n) + n;
        if (!atomic_load(&g_toggle_phase) && now > BUDGET_SLACK) {
          fail("held beyond the budget", (long long)now, BUDGET_SLACK);
        }
        if (rs[nr].count != n) fail("short reservation", (long long)rs[nr].count, (long long)n);
        nr++;
        ok++;
      } else if (st == ZX_ERR_NO_MEMORY) {
        refused++;
      } else {
        fail("reserve status", st, 0);
      }
    } else if (nr > 0) {
      int i = (int)((r >> 16) % (uint64_t)nr);
      atomic_fetch_sub(&g_charged, rs[i].count);
      pool_unreserve(&rs[i]);
      rs[i] = rs[--nr];
    }
  }
  while (nr > 0) {
    atomic_fetch_sub(&g_charged, rs[nr - 1].count);
    pool_unreserve(&rs[--nr]);
  }
  atomic_fetch_add(&g_granted, ok);
  atomic_fetch_add(&g_refused, refused);
  return NULL;
}

static void* budget_toggler(void* arg) {
  (void)arg;
  uint64_t seed = 42;
  while (!atomic_load(&g_stop)) {
    uint64_t r = xorshift(&seed);
    pool_set_budget(r & 1 ? 0 : g_budget_base + 1 + (r >> 8) % BUDGET_SLACK);
  }
  return NULL;
}

static void run_budget_phase(bool toggle, unsigned ms) {
  atomic_store(&g_stop, false);
  atomic_store(&g_toggle_phase, toggle);
  atomic_store(&g_granted, 0);
  atomic_store(&g_refused, 0);
  pthread_t t[NT + 1];
  for (int i = 0; i < NT; i++) {
    cr_assert_eq(pthread_create(&t[i], NULL, budget_worker, (void*)(uintptr_t)i), 0);
  }
  if (toggle) cr_assert_eq(pthread_create(&t[NT], NULL, budget_toggler, NULL), 0);
  struct timespec ts = {0, (long)ms * 1000000L};
  nanosleep(&ts, NULL);
  atomic_store(&g_stop, true);
  join_all(t, toggle ? NT + 1 : NT);
  assert_no_failure();
  if (!toggle) {
    cr_assert_gt(atomic_load(&g_granted), 0);
    cr_assert_gt(atomic_load(&g_refused), 0, "the budget was not contended");
  }
  cr_assert_eq(atomic_load(&g_charged), 0);
  cr_assert_eq(pages_in_use(), g_budget_base);
}

Test(pool_threads, budget_is_exact_with_concurrent_reservers, .timeout = 600) {
  zx_handle_t v = mkvmo_filled(5, 1);  // some pages in use outside the workers
  g_budget_base = pages_in_use();
  cr_assert_eq(zxvmo_set_page_budget(g_budget_base + BUDGET_SLACK), ZX_OK);
  run_budget_phase(false, 300);
  // The budget switched on and off under reservers: exactness at the end, no crash.
  run_budget_phase(true, 300);
  // And fixed again: still exact, and a reservation of exactly what is left succeeds.
  cr_assert_eq(zxvmo_set_page_budget(g_budget_base + BUDGET_SLACK), ZX_OK);
  run_budget_phase(false, 200);
  page_reservation_t r, one;
  cr_assert_eq(pool_reserve(BUDGET_SLACK, &r), ZX_OK);
  cr_assert_eq(pool_reserve(1, &one), ZX_ERR_NO_MEMORY);
  pool_unreserve(&r);
  cr_assert_eq(zxvmo_set_page_budget(0), ZX_OK);
  zx_handle_close(v);
  cr_assert_eq(zxvmo_check_invariants(), ZX_OK);
}

// ---- thread exit ---------------------------------------------------------------------

static void* write_then_close(void* arg) {
  uint64_t pages = (uint64_t)(uintptr_t)arg;
  zx_handle_t v;
  if (zx_vmo_create(pages * PAGE_SIZE, 0, &v) != ZX_OK) {
    fail("create", 0, 0);
    return NULL;
  }
  if (zx_vmo_op_range(v, ZX_VMO_OP_COMMIT, 0, pages * PAGE_SIZE, NULL, 0) != ZX_OK) {
    fail("commit", 0, 0);
  }
  zx_handle_close(v);  // the pages go to this thread's cache
  return NULL;
}

// Pages in the caches of exited threads come back: after the threads are gone, taking
// every free page that holds memory needs no new chunk.
Test(pool_threads, exiting_threads_give_their_cache_back, .timeout = 600) {
  pthread_t t[NT];
  for (int round = 0; round < 3; round++) {
    for (int i = 0; i < NT; i++) {
      cr_assert_eq(pthread_create(&t[i], NULL, write_then_close, (void*)(uintptr_t)(10 + i)), 0);
    }
    join_all(t, NT);
    assert_no_failure();
    zxvmo_stats_t s = stats();
    cr_assert_eq(s.pages_in_use, 0);
    // (Threads may reuse each other's pages: at least the largest thread's are kept.)
    cr_assert_geq(s.pages_pooled, 10 + NT - 1, "pooled %llu", (unsigned long long)s.pages_pooled);
    uint64_t free_backed = s.pool_bytes_held / PAGE_SIZE - s.pages_in_use;
    page_reservation_t r;
    cr_assert_eq(pool_reserve(free_backed, &r), ZX_OK);
    zxvmo_stats_t a = stats();
    cr_assert_eq(a.pool_bytes_mapped, s.pool_bytes_mapped, "round %d grew the pool", round);
    cr_assert_eq(a.pool_bytes_held, s.pool_bytes_held);
    pool_unreserve(&r);
  }
}

// ---- trimming from several threads ----------------------------------------------------

#define BIG_PAGES 7000  // three of them exceed what the pool keeps: it gives memory back

static void* big_free(void* arg) {
  int me = (int)(uintptr_t)arg;
  zx_handle_t v;
  if (zx_vmo_create(BIG_PAGES * PAGE_SIZE, 0, &v) != ZX_OK) {
    fail("create", me, 0);
    return NULL;
  }
  uint8_t* buf = malloc(PAGE_SIZE);
  memset(buf, 0xA0 + me, PAGE_SIZE);
  for (uint64_t p = 0; p < BIG_PAGES; p++) {
    if (zx_vmo_write(v, buf, p * PAGE_SIZE, PAGE_SIZE) != ZX_OK) fail("write", me, (long long)p);
  }
  zx_handle_close(v);
  // Pages reused after the release must read as zero where not written.
  if (zx_vmo_create(64 * PAGE_SIZE, 0, &v) != ZX_OK) {
    fail("create", me, 1);
  } else {
    for (uint64_t p = 0; p < 64; p++) {
      if (zx_vmo_write(v, buf, p * PAGE_SIZE + 100, 1) != ZX_OK) fail("write", me, (long long)p);
      uint8_t b[2] = {0xEE, 0xEE};
      if (zx_vmo_read(v, b, p * PAGE_SIZE + 98, 2) != ZX_OK || b[0] != 0 || b[1] != 0) {
        fail("a reused page does not read as zero", me, (long long)p);
      }
    }
    zx_handle_close(v);
  }
  free(buf);
  return NULL;
}

Test(pool_threads, concurrent_frees_give_memory_back, .timeout = 600) {
  pthread_t t[3];
  for (int i = 0; i < 3; i++) {
    cr_assert_eq(pthread_create(&t[i], NULL, big_free, (void*)(uintptr_t)i), 0);
  }
  join_all(t, 3);
  assert_no_failure();
  zxvmo_stats_t s = stats();
  cr_assert_eq(s.pages_in_use, 0);
  cr_assert_eq(zxvmo_check_invariants(), ZX_OK);
  // The pool keeps at most two generations of 8192 dirty pages per thread with a
  // cache, for at most as many threads as CPUs (plus caches, which the exited
  // threads emptied): the rest of the 21000 freed pages was given back.
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  uint64_t gens = 2 * 8192 * (uint64_t)(cpus < 1 ? 1 : cpus > 4 ? 4 : cpus);
  cr_assert_leq(s.pages_pooled, gens);
  cr_assert_leq(s.pool_bytes_held, (gens + 3 * 64) * PAGE_SIZE + 4 * (2u << 20),
                "held %llu bytes", (unsigned long long)s.pool_bytes_held);
}

// ---- page ops take no shared lock ---------------------------------------------------------

#define CYCLES 2000

static void* write_free_cycles(void* arg) {
  (void)arg;
  zx_handle_t v;
  if (zx_vmo_create(4 * PAGE_SIZE, 0, &v) != ZX_OK) {
    fail("create", 0, 0);
    return NULL;
  }
  uint8_t b = 1;
  for (int i = 0; i < CYCLES; i++) {
    // One page reserved, zero-filled and written, then freed: the pool's whole cycle.
    if (zx_vmo_write(v, &b, (uint64_t)(i % 4) * PAGE_SIZE, 1) != ZX_OK) fail("write", i, 0);
    if (zx_vmo_op_range(v, ZX_VMO_OP_DECOMMIT, 0, 4 * PAGE_SIZE, NULL, 0) != ZX_OK) {
      fail("decommit", i, 0);
    }
  }
  zx_handle_close(v);
  return NULL;
}

// What lets page-level work scale: a thread that frees and reserves pages at a steady
// rate serves itself from its cache, so the shared locks are taken a handful of
// times, not once or twice per page (which was 2 * CYCLES per thread with one pool
// lock for everything).
Test(pool_threads, page_ops_take_no_shared_lock, .timeout = 600) {
  pthread_t t[2];
  uint64_t s0, r0, s1, r1;
  pool_lock_counts(&s0, &r0);
  for (int i = 0; i < 2; i++) cr_assert_eq(pthread_create(&t[i], NULL, write_free_cycles, NULL), 0);
  join_all(t, 2);
  assert_no_failure();
  pool_lock_counts(&s1, &r1);
  // Per thread: registering its cache, growing the pool once, giving the cache back
  // at exit; a few more for trimming and races. Nothing proportional to CYCLES.
  cr_assert_leq(s1 - s0, 16, "shared-list lock taken %llu times", (unsigned long long)(s1 - s0));
  cr_assert_leq(r1 - r0, 16, "registry lock taken %llu times", (unsigned long long)(r1 - r0));
  cr_assert_eq(pages_in_use(), 0);
}

// ---- a working set of a few MiB stays in its thread -------------------------------------

#define SET_BYTES ((uint64_t)4 << 20)
#define WARM_ROUNDS 10
#define HOT_ROUNDS 20

static void write_decommit_round(zx_handle_t v, const uint8_t* buf) {
  for (uint64_t off = 0; off < SET_BYTES; off += PAGE_SIZE) {
    if (zx_vmo_write(v, buf, off, PAGE_SIZE) != ZX_OK) fail("write", (long long)off, 0);
  }
  if (zx_vmo_op_range(v, ZX_VMO_OP_DECOMMIT, 0, SET_BYTES, NULL, 0) != ZX_OK) {
    fail("decommit", 0, 0);
  }
}

static void* working_set_worker(void* arg) {
  (void)arg;
  uint8_t* buf = malloc(PAGE_SIZE);
  zx_handle_t v = ZX_HANDLE_INVALID;
  if (!buf || zx_vmo_create(SET_BYTES, 0, &v) != ZX_OK) fail("setup", 0, 0);
  if (buf) memset(buf, 0x3C, PAGE_SIZE);
  for (int i = 0; i < WARM_ROUNDS && buf; i++) write_decommit_round(v, buf);
  pthread_barrier_wait(&g_bar);
  pthread_barrier_wait(&g_bar);
  for (int i = 0; i < HOT_ROUNDS && buf; i++) write_decommit_round(v, buf);
  pthread_barrier_wait(&g_bar);  // parked while the main thread looks
  pthread_barrier_wait(&g_bar);
  zx_handle_close(v);
  free(buf);
  return NULL;
}

// A thread that writes and frees 4 MiB per round first recycles pages through the
// shared lists (its cache starts at 1 MiB); its cache grows until the round fits, and
// from then on the rounds take no shared lock at all. With a fixed 1 MiB cache every
// round took the shared lock about SET_BYTES / 512 KiB times per thread.
Test(pool_threads, a_working_set_of_a_few_mib_stays_in_its_thread, .timeout = 600) {
  cr_assert_eq(pthread_barrier_init(&g_bar, NULL, 3), 0);
  pthread_t t[2];
  for (int i = 0; i < 2; i++) {
    cr_assert_eq(pthread_create(&t[i], NULL, working_set_worker, NULL), 0);
  }
  uint64_t s0, r0, s1, r1;
  pthread_barrier_wait(&g_bar);
  pool_lock_counts(&s0, &r0);
  pthread_barrier_wait(&g_bar);
  pthread_barrier_wait(&g_bar);
  pool_lock_counts(&s1, &r1);
  pthread_barrier_wait(&g_bar);
  join_all(t, 2);
  assert_no_failure();
  cr_assert_eq(s1 - s0, 0, "shared-list lock taken %llu times in %d warm rounds",
               (unsigned long long)(s1 - s0), 2 * HOT_ROUNDS);
  cr_assert_eq(r1 - r0, 0, "registry lock taken %llu times", (unsigned long long)(r1 - r0));
  cr_assert_eq(pages_in_use(), 0);
  cr_assert_eq(zxvmo_check_invariants(), ZX_OK);
  pthread_barrier_destroy(&g_bar);
}
