// SPDX-License-Identifier: BSD-3-Clause
// ZX_INFO_VMO with other threads on the same family (also run under ThreadSanitizer):
//   - a query holds the family lock shared: while one is stopped in the middle of its
//     walk (the test seam), another thread reads the family and completes, and the
//     query then finishes with exact figures;
//   - queries on several threads, concurrent with reads and writes, report figures
//     that are consistent while running and, once everyone has stopped, equal a naive
//     recomputation (info_ref.h).
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>
#include <zircon/syscalls.h>

#include "child_helpers.h"
#include "info_ref.h"
#include "vmo_attribution.h"

#define P PAGE_SIZE
#define FRAC_ONE ((uint64_t)1 << 63)

// ---- A query stopped mid-walk ----

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cv = PTHREAD_COND_INITIALIZER;
static bool g_in_walk;      // (g_mu) the query reached the seam
static bool g_release;      // (g_mu) the seam may return
static bool g_read_done;    // (g_mu) the reader's read completed

// Waits on g_cv until *flag, for at most `seconds`. The bound only turns a hang into a
// failure: a correct library never comes near it.
static bool wait_flag(bool* flag, int seconds) {
  struct timespec dl;
  clock_gettime(CLOCK_REALTIME, &dl);
  dl.tv_sec += seconds;
  pthread_mutex_lock(&g_mu);
  int rc = 0;
  while (!*flag && rc != ETIMEDOUT) rc = pthread_cond_timedwait(&g_cv, &g_mu, &dl);
  bool ok = *flag;
  pthread_mutex_unlock(&g_mu);
  return ok;
}

static void set_flag(bool* flag) {
  pthread_mutex_lock(&g_mu);
  *flag = true;
  pthread_cond_broadcast(&g_cv);
  pthread_mutex_unlock(&g_mu);
}

// The seam, on the querying thread, inside the walk: announce, then wait for release.
static void hold_walk(vmo_t* v) {
  (void)v;
  set_flag(&g_in_walk);
  (void)wait_flag(&g_release, 60);
}

typedef struct query_arg {
  zx_handle_t h;
  zx_status_t st;
  zx_info_vmo_t info;
} query_arg_t;

static void* query_thread(void* p) {
  query_arg_t* a = p;
  a->st = zx_object_get_info(a->h, ZX_INFO_VMO, &a->info, sizeof(a->info), NULL, NULL);
  return NULL;
}

typedef struct read_arg {
  zx_handle_t h;
  uint64_t off;
  zx_status_t st;
  uint8_t byte;
} read_arg_t;

static void* read_thread(void* p) {
  read_arg_t* a = p;
  a->st = zx_vmo_read(a->h, &a->byte, a->off, 1);
  set_flag(&g_read_done);
  return NULL;
}

Test(info_threads, reader_not_blocked_by_query) {
  const uint64_t n = 3 * PMAP_FANOUT;
  zx_handle_t p = mkvmo(n * P);
  for (uint64_t i = 0; i < n; i++) wr8(p, i * P, (uint8_t)i);
  zx_handle_t s = mkchild(p, SNAP, 0, n * P);
  wr8(p, 7 * P, 0xEE);
  vmo_attr_walk_hook = hold_walk;  // before any thread starts: no race on the seam

  query_arg_t q = {.h = s};
  pthread_t qt;
  cr_assert_eq(pthread_create(&qt, NULL, query_thread, &q), 0);
  cr_assert(wait_flag(&g_in_walk, 60), "the query never reached its walk");

  // The query is inside its walk, holding the family lock (shared) and the family's
  // scratch lock. A read on another thread of the same family completes meanwhile.
  read_arg_t r = {.h = s, .off = 7 * P};
  pthread_t rt;
  cr_assert_eq(pthread_create(&rt, NULL, read_thread, &r), 0);
  bool read_completed = wait_flag(&g_read_done, 30);

  set_flag(&g_release);
  cr_assert_eq(pthread_join(rt, NULL), 0);
  cr_assert_eq(pthread_join(qt, NULL), 0);
  vmo_attr_walk_hook = NULL;

  cr_assert(read_completed, "a read waited for the query");
  cr_assert_eq(r.st, ZX_OK);
  cr_assert_eq(r.byte, 7, "the snapshot reads its own page 7");
  cr_assert_eq(q.st, ZX_OK);
  ref_attr_t ref = ref_attribution(s);
  cr_assert_eq(q.info.committed_bytes, n * P);
  cr_assert_eq(q.info.committed_private_bytes, P);
  cr_assert_eq(q.info.committed_scaled_bytes, ref.scaled);
  cr_assert_eq(q.info.committed_fractional_scaled_bytes, ref.frac);
  close_h(s);
  close_h(p);
  expect_clean();
}

// ---- Queries, reads and writes together ----

#define NPAGES (2 * PMAP_FANOUT + 17)
#define CLONE_OFF 40
#define CLONE_PAGES (PMAP_FANOUT + 3)
#define NQUERY 3
#define NREAD 2
#define NWRITE 2

enum { H_PARENT, H_SNAP, H_CLONE, H_SLICE, H_COUNT };

static zx_handle_t g_h[H_COUNT];
static atomic_bool g_stop;
static atomic_int g_failures;
static _Atomic uint64_t g_queries;
static _Atomic uint64_t g_writes;
static char g_failure[256];
static pthread_mutex_t g_failure_lock = PTHREAD_MUTEX_INITIALIZER;

static void fail(const char* what, int who, unsigned long long value) {
  pthread_mutex_lock(&g_failure_lock);
  if (atomic_fetch_add(&g_failures, 1) == 0) {
    snprintf(g_failure, sizeof(g_failure), "%s (VMO %d): %llu", what, who, value);
  }
  pthread_mutex_unlock(&g_failure_lock);
}

// Pages each VMO sees, all committed from the start and never decommitted: writes
// only move pages between shared and private, so committed_bytes never changes.
static uint64_t expected_committed(int k) {
  switch (k) {
    case H_PARENT:
    case H_SNAP: return (uint64_t)NPAGES * P;
    case H_CLONE: return (uint64_t)CLONE_PAGES * P;
    default: return 0;
  }
}

static void* querier(void* p) {
  uint64_t seed = (uint64_t)(uintptr_t)p * 0x9E3779B97F4A7C15ull + 1;
  while (!atomic_load(&g_stop)) {
    int k = (int)(xorshift(&seed) % H_COUNT);
    zx_info_vmo_t i;
    if (zx_object_get_info(g_h[k], ZX_INFO_VMO, &i, sizeof(i), NULL, NULL) != ZX_OK) {
      fail("query failed", k, 0);
      continue;
    }
    atomic_fetch_add(&g_queries, 1);
    // Each page is seen by 1, 2 or 3 VMOs (the parent, the snapshot, the clone).
    uint64_t c = i.committed_bytes;
    if (c != expected_committed(k)) fail("committed_bytes", k, c);
    if (i.committed_private_bytes > c) fail("private above committed", k, i.committed_private_bytes);
    if (i.committed_scaled_bytes < i.committed_private_bytes) {
      fail("scaled below private", k, i.committed_scaled_bytes);
    }
    if (i.committed_scaled_bytes > c) fail("scaled above committed", k, i.committed_scaled_bytes);
    if (i.committed_scaled_bytes < c / P * (P / 3)) {
      fail("scaled below a third", k, i.committed_scaled_bytes);
    }
    if (i.committed_fractional_scaled_bytes >= FRAC_ONE) fail("fraction", k, 0);
    if (i.populated_scaled_bytes != i.committed_scaled_bytes) fail("populated", k, 0);
  }
  return NULL;
}

static void* reader(void* p) {
  uint64_t seed = (uint64_t)(uintptr_t)p * 0xBF58476D1CE4E5B9ull + 7;
  uint8_t buf[64];
  while (!atomic_load(&g_stop)) {
    int k = (int)(xorshift(&seed) % H_COUNT);
    uint64_t pages = k == H_CLONE ? CLONE_PAGES : k == H_SLICE ? NPAGES / 2 : NPAGES;
    uint64_t off = (xorshift(&seed) % pages) * P;
    if (zx_vmo_read(g_h[k], buf, off, sizeof(buf)) != ZX_OK) fail("read failed", k, off);
  }
  return NULL;
}

static void* writer(void* p) {
  uint64_t seed = (uint64_t)(uintptr_t)p * 0x94D049BB133111EBull + 3;
  uint8_t buf[64];
  unsigned ops = 0;
  while (!atomic_load(&g_stop) || ops < 200) {
    int k = (int)(xorshift(&seed) % 3);  // parent, snapshot or clone
    uint64_t pages = k == H_CLONE ? CLONE_PAGES : NPAGES;
    uint64_t off = (xorshift(&seed) % pages) * P + (xorshift(&seed) % (P - sizeof(buf)));
    memset(buf, (int)(ops & 0xff), sizeof(buf));
    if (zx_vmo_write(g_h[k], buf, off, sizeof(buf)) != ZX_OK) fail("write failed", k, off);
    atomic_fetch_add(&g_writes, 1);
    ops++;
  }
  return NULL;
}

Test(info_threads, queries_with_reads_and_writes, .timeout = 300) {
  g_h[H_PARENT] = mkvmo(NPAGES * P);
  uint8_t* page = calloc(1, P);
  cr_assert_not_null(page);
  for (uint64_t i = 0; i < NPAGES; i++) {
    memset(page, (int)i, P);
    cr_assert_eq(zx_vmo_write(g_h[H_PARENT], page, i * P, P), ZX_OK);
  }
  free(page);
  g_h[H_SNAP] = mkchild(g_h[H_PARENT], SNAP, 0, NPAGES * P);
  g_h[H_CLONE] = mkclone(g_h[H_PARENT], CLONE_COW, CLONE_OFF * P, CLONE_PAGES * P);
  g_h[H_SLICE] = mkchild(g_h[H_PARENT], SLICE, 0, (NPAGES / 2) * P);

  pthread_t t[NQUERY + NREAD + NWRITE];
  size_t nt = 0;
  for (uintptr_t i = 0; i < NQUERY; i++) {
    cr_assert_eq(pthread_create(&t[nt++], NULL, querier, (void*)(i + 1)), 0);
  }
  for (uintptr_t i = 0; i < NREAD; i++) {
    cr_assert_eq(pthread_create(&t[nt++], NULL, reader, (void*)(i + 1)), 0);
  }
  for (uintptr_t i = 0; i < NWRITE; i++) {
    cr_assert_eq(pthread_create(&t[nt++], NULL, writer, (void*)(i + 1)), 0);
  }
  // Run until the writers have made enough new family states for the queriers to walk
  // (bounded in time for slow builds).
  struct timespec start, now;
  clock_gettime(CLOCK_MONOTONIC, &start);
  do {
    struct timespec d = {0, 10 * 1000 * 1000};
    nanosleep(&d, NULL);
    clock_gettime(CLOCK_MONOTONIC, &now);
  } while ((atomic_load(&g_writes) < 2000 || atomic_load(&g_queries) < 2000) &&
           now.tv_sec - start.tv_sec < 20);
  atomic_store(&g_stop, true);
  for (size_t i = 0; i < nt; i++) cr_assert_eq(pthread_join(t[i], NULL), 0);
  cr_assert_eq(atomic_load(&g_failures), 0, "%d failures, first: %s", atomic_load(&g_failures),
               g_failure);
  cr_assert_gt(atomic_load(&g_queries), 0);
  fprintf(stderr, "info_threads: %llu queries, %llu writes\n",
          (unsigned long long)atomic_load(&g_queries), (unsigned long long)atomic_load(&g_writes));

  // Quiescent: every VMO's figures equal the naive recomputation, and the scaled
  // bytes of the live VMOs add up to the pages held.
  unsigned __int128 total = 0;
  for (int k = 0; k < H_COUNT; k++) {
    ref_check(g_h[k], "after the threads stopped");
    zx_info_vmo_t i = vmo_info(g_h[k]);
    total += (unsigned __int128)i.committed_scaled_bytes * FRAC_ONE +
             i.committed_fractional_scaled_bytes;
  }
  uint64_t bytes = (uint64_t)((total + FRAC_ONE / 2) / FRAC_ONE);
  cr_assert_eq(bytes, pages_in_use() * P, "scaled bytes %llu, pages held %llu bytes",
               (unsigned long long)bytes, (unsigned long long)(pages_in_use() * P));
  for (int k = H_COUNT; k-- > 0;) close_h(g_h[k]);
  expect_clean();
}
