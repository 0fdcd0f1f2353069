// SPDX-License-Identifier: BSD-3-Clause
// Mappings under concurrency (docs/behavior.md §12: any thread may map, unmap, protect,
// fault, write and snapshot at any time). Writers write page-wide patterns through one
// mapping while another thread snapshots: every snapshot must hold each page as it was
// at one instant (a page caught while its writer was half-way is a prefix of newer
// words and a suffix of older ones, never anything else). Threads churn mappings of
// distinct ranges (map, protect, unmap) while others fault on a long-lived mapping of
// the same VMO. Two threads fault the same fresh page at once. Worker threads count
// failures; the main thread asserts.
//
// Regression (fixed): under ThreadSanitizer (make test-tsan) every test here fails, for two reasons in
// the library, none in the tests (all three pass there once both are worked around):
//  1. the TSan build runs tests through tests/shim/runner.c, which forks once per
//     test; fork.c marks every child of fork() as forked (process_forked()), even when
//     the library held nothing at the fork, so zx_vmo_create returns ZX_ERR_BAD_STATE in
//     every test (this breaks every threaded test under TSan, not only these);
//  2. faults are served in the SIGBUS handler, which calls malloc/calloc (os_malloc from
//     pmap_leaf_for_write / node_new, home windows): TSan reports "signal-unsafe call
//     inside of a signal" hundreds of times per test.
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sched.h>
#include <stdio.h>
#include <time.h>
#include <zircon/process.h>
#include <zircon/syscalls.h>

#include "child_helpers.h"
#include "helpers.h"
#include "map_helpers.h"

// ---- snapshots while writers write through a mapping ----------------------------------

#define SW_WRITERS 3
#define SW_PAGES 6  // page k belongs to writer k % SW_WRITERS
#define SW_SNAPSHOTS 300

typedef struct sw_shared {
  uint8_t* m;
  atomic_bool stop;
  atomic_uint_fast64_t passes[SW_WRITERS];  // complete passes of each writer
} sw_shared_t;

typedef struct sw_writer {
  pthread_t t;
  int id;
  sw_shared_t* sh;
} sw_writer_t;

// Word value for writer `id`'s sequence number `seq`: every word of a page carries it.
static uint64_t sw_word(int id, uint64_t seq) { return ((uint64_t)(id + 1) << 56) | seq; }

// Pass `seq` writes sequence number `seq` into every word of each of the writer's
// pages, in order; passes[id] counts the complete ones (== seq after pass seq).
static void* sw_writer_main(void* arg) {
  sw_writer_t* w = arg;
  uint64_t seq = 0;
  while (!atomic_load_explicit(&w->sh->stop, memory_order_relaxed)) {
    seq++;
    for (uint64_t k = (uint64_t)w->id; k < SW_PAGES; k += SW_WRITERS) {
      uint64_t* words = (uint64_t*)(w->sh->m + k * PG);
      uint64_t v = sw_word(w->id, seq);
      for (uint64_t i = 0; i < PG / 8; i++) {
        __atomic_store_n(&words[i], v, __ATOMIC_RELAXED);  // in order, one word at a time
      }
    }
    atomic_store(&w->sh->passes[w->id], seq);
  }
  return NULL;
}

// Checks one snapshot page. The writer writes the words of a page in order, so at any
// one instant the page is a prefix of words with sequence number s+1 followed by words
// with s (all s between two passes). Anything else (an older word before a newer one,
// numbers two apart, a foreign or mixed word) is not an instant. Returns s, or
// UINT64_MAX (and describes the page in `why`) if the page is not an instant.
static uint64_t sw_check_page(const uint64_t* page, uint64_t k, bool* mid, char* why,
                              size_t n) {
  uint64_t hi = page[0], lo = page[PG / 8 - 1], nw = PG / 8;
  uint64_t id = k % SW_WRITERS + 1;
  *mid = hi != lo;
  bool ok = (lo == 0 || lo >> 56 == id) && (hi == lo || (hi >> 56 == id && hi == lo + 1) ||
                                            (lo == 0 && hi == sw_word((int)id - 1, 1)));
  uint64_t i = 0;
  while (i < nw && page[i] == hi) i++;
  uint64_t prefix = i;
  while (i < nw && page[i] == lo) i++;
  if (!ok || i != nw) {
    snprintf(why, n, "words 0..%llu = %#llx, then word %llu = %#llx, last word = %#llx",
             (unsigned long long)(prefix - 1), (unsigned long long)hi,
             (unsigned long long)(i < nw ? i : prefix), (unsigned long long)page[i < nw ? i : 0],
             (unsigned long long)lo);
    return UINT64_MAX;
  }
  return lo & ((1ull << 56) - 1);
}

// The writers write through a mapping of the VMO itself, or of a slice of all of it.
static void sw_run(bool via_slice) {
  zx_handle_t v = mkvmo(SW_PAGES * PG);
  zx_handle_t sl = via_slice ? mkchild(v, SLICE, 0, SW_PAGES * PG) : ZX_HANDLE_INVALID;
  sw_shared_t sh;
  sh.m = map_rw(via_slice ? sl : v, 0, SW_PAGES * PG);
  atomic_init(&sh.stop, false);
  sw_writer_t w[SW_WRITERS];
  for (int i = 0; i < SW_WRITERS; i++) {
    atomic_init(&sh.passes[i], 0);
    w[i].id = i;
    w[i].sh = &sh;
    cr_assert_eq(pthread_create(&w[i].t, NULL, sw_writer_main, &w[i]), 0);
  }
  uint64_t* page = (uint64_t*)page_buf(1);
  uint64_t last_seq[SW_PAGES] = {0};
  uint64_t seen[SW_WRITERS] = {0};
  int torn = 0, stale = 0, failed = 0, mid_write = 0, timeouts = 0;
  char first[240] = "";
  for (int s = 0; s < SW_SNAPSHOTS; s++) {
    // Let every writer finish two more passes than it had finished after the previous
    // snapshot was made: each page must then show a newer sequence number.
    time_t deadline = time(NULL) + 20;
    for (int i = 0; i < SW_WRITERS; i++) {
      while (atomic_load(&sh.passes[i]) < seen[i] + 2 && time(NULL) < deadline) sched_yield();
      if (atomic_load(&sh.passes[i]) < seen[i] + 2) timeouts++;
    }
    zx_handle_t c = ZX_HANDLE_INVALID;
    // Alternate the snapshot kinds that must isolate the child from later writes.
    uint32_t opts = s % 2 ? SNAP : ALOW;
    zx_status_t st = zx_vmo_create_child(v, opts, 0, SW_PAGES * PG, &c);
    for (int i = 0; i < SW_WRITERS; i++) seen[i] = atomic_load(&sh.passes[i]);
    if (st != ZX_OK) {
      failed++;
      continue;
    }
    for (uint64_t k = 0; k < SW_PAGES; k++) {
      cr_assert_eq(zx_vmo_read(c, page, k * PG, PG), ZX_OK);
      bool mid = false;
      char why[160];
      uint64_t seq = sw_check_page(page, k, &mid, why, sizeof(why));
      mid_write += mid;
      if (seq == UINT64_MAX) {
        if (!torn++) snprintf(first, sizeof(first), "snapshot %d page %llu: %s", s,
                              (unsigned long long)k, why);
        continue;
      }
      if (s > 0 && seq <= last_seq[k]) stale++;
      last_seq[k] = seq;
      // Read again: the snapshot does not change while the writers go on.
      uint64_t again[2] = {0, 0};
      cr_assert_eq(zx_vmo_read(c, &again[0], k * PG, 8), ZX_OK);
      cr_assert_eq(zx_vmo_read(c, &again[1], k * PG + PG - 8, 8), ZX_OK);
      if (again[0] != page[0] || again[1] != page[PG / 8 - 1]) torn++;
    }
    cr_assert_eq(zx_handle_close(c), ZX_OK);
  }
  atomic_store(&sh.stop, true);
  for (int i = 0; i < SW_WRITERS; i++) cr_assert_eq(pthread_join(w[i].t, NULL), 0);
  cr_assert_eq(failed, 0, "create_child failed %d times", failed);
  cr_assert_eq(timeouts, 0, "writers made no progress for 20 s (%d times)", timeouts);
  cr_assert_eq(torn, 0, "%d pages of snapshots were not an instant (%d caught mid-write); "
               "first: %s", torn, mid_write, first);
  cr_assert_eq(stale, 0, "%d snapshot pages did not show the writes made before the snapshot",
               stale);
  // The VMO's final contents: whole passes, equal to the mapping.
  for (uint64_t k = 0; k < SW_PAGES; k++) {
    cr_assert_eq(zx_vmo_read(v, page, k * PG, PG), ZX_OK);
    for (uint64_t i = 1; i < PG / 8; i++) cr_assert_eq(page[i], page[0]);
    cr_assert_eq(memcmp(page, sh.m + k * PG, PG), 0);
  }
  expect_invariants("snapshots under writers");
  free(page);
  unmap(sh.m, SW_PAGES * PG);
  if (via_slice) close_h(sl);
  close_h(v);
  expect_clean();
}

Test(map_threads, snapshot_holds_each_page_at_one_instant, .timeout = 300) { sw_run(false); }

Test(map_threads, snapshot_holds_each_page_at_one_instant_via_slice, .timeout = 300) {
  sw_run(true);
}

// ---- churn of mappings of distinct ranges while others fault ---------------------------

#define CH_CHURNERS 3
#define CH_FAULTERS 2
#define CH_RANGE 4  // pages per thread
#define CH_PAGES ((CH_CHURNERS + CH_FAULTERS) * CH_RANGE)
#define CH_ROUNDS 150

typedef struct ch_thread {
  pthread_t t;
  int id;
  zx_handle_t v;
  uint8_t* long_lived;  // the faulters' mapping of the whole VMO
  atomic_bool* stop;
  atomic_int* errors;
  int rounds;
} ch_thread_t;

static void* churner_main(void* arg) {
  ch_thread_t* c = arg;
  zx_handle_t root = zx_vmar_root_self();
  uint64_t first = (uint64_t)c->id * CH_RANGE;
  for (int r = 0; r < CH_ROUNDS; r++) {
    zx_vaddr_t a = 0;
    if (zx_vmar_map(root, MAP_RW, 0, c->v, first * PG, CH_RANGE * PG, &a) != ZX_OK) {
      atomic_fetch_add(c->errors, 1);
      continue;
    }
    uint8_t* m = (uint8_t*)a;
    uint8_t val = (uint8_t)(r + 1);
    for (uint64_t k = 0; k < CH_RANGE; k++) mfill(m, k, val);
    if (zx_vmar_protect(root, MAP_R, a + PG, PG) != ZX_OK) atomic_fetch_add(c->errors, 1);
    for (uint64_t k = 0; k < CH_RANGE; k++) {
      if (mpage(m, k) != val) atomic_fetch_add(c->errors, 1);
    }
    if (zx_vmar_protect(root, MAP_RW, a, CH_RANGE * PG) != ZX_OK) atomic_fetch_add(c->errors, 1);
    mwr(m + PG + 3, val);
    // Unmap a middle page first, then the rest.
    if (zx_vmar_unmap(root, a + 2 * PG, PG) != ZX_OK) atomic_fetch_add(c->errors, 1);
    if (mrd(m + 3 * PG) != val) atomic_fetch_add(c->errors, 1);
    if (zx_vmar_unmap(root, a, CH_RANGE * PG) != ZX_OK) atomic_fetch_add(c->errors, 1);
    c->rounds++;
  }
  return NULL;
}

static void* faulter_main(void* arg) {
  ch_thread_t* c = arg;
  uint64_t first = (uint64_t)c->id * CH_RANGE;
  uint8_t val = 0;
  while (!atomic_load(c->stop)) {
    val++;
    for (uint64_t k = first; k < first + CH_RANGE; k++) {
      mfill(c->long_lived, k, val);
      if (mpage(c->long_lived, k) != val) atomic_fetch_add(c->errors, 1);
      if ((val & 7) == 0) {
        // Make the page fault again: decommit it through the VMO.
        if (zx_vmo_op_range(c->v, ZX_VMO_OP_DECOMMIT, k * PG, PG, NULL, 0) != ZX_OK) {
          atomic_fetch_add(c->errors, 1);
        }
        if (mpage(c->long_lived, k) != 0) atomic_fetch_add(c->errors, 1);
      }
    }
    c->rounds++;
  }
  return NULL;
}

Test(map_threads, churn_distinct_ranges_while_others_fault, .timeout = 300) {
  zx_handle_t v = mkvmo(CH_PAGES * PG);
  uint8_t* whole = map_rw(v, 0, CH_PAGES * PG);
  atomic_bool stop;
  atomic_int errors;
  atomic_init(&stop, false);
  atomic_init(&errors, 0);
  ch_thread_t t[CH_CHURNERS + CH_FAULTERS];
  for (int i = 0; i < CH_CHURNERS + CH_FAULTERS; i++) {
    t[i].id = i;
    t[i].v = v;
    t[i].long_lived = whole;
    t[i].stop = &stop;
    t[i].errors = &errors;
    t[i].rounds = 0;
    cr_assert_eq(pthread_create(&t[i].t, NULL, i < CH_CHURNERS ? churner_main : faulter_main,
                                &t[i]),
                 0);
  }
  for (int i = 0; i < CH_CHURNERS; i++) cr_assert_eq(pthread_join(t[i].t, NULL), 0);
  atomic_store(&stop, true);
  for (int i = CH_CHURNERS; i < CH_CHURNERS + CH_FAULTERS; i++) {
    cr_assert_eq(pthread_join(t[i].t, NULL), 0);
    cr_assert_gt(t[i].rounds, 0);
  }
  cr_assert_eq(atomic_load(&errors), 0, "%d wrong values or failed calls", atomic_load(&errors));
  // The churners' last values, through the long-lived mapping and zx_vmo_read.
  for (int i = 0; i < CH_CHURNERS; i++) {
    cr_assert_eq(t[i].rounds, CH_ROUNDS);
    for (uint64_t k = 0; k < CH_RANGE; k++) {
      uint64_t pg = (uint64_t)i * CH_RANGE + k;
      cr_assert_eq(mpage(whole, pg), CH_ROUNDS, "churner %d page %llu", i,
                   (unsigned long long)k);
      cr_assert_eq(page_val(v, pg), CH_ROUNDS);
    }
  }
  cr_assert_eq(num_mappings(v), 1, "every churned mapping is gone");
  expect_invariants("churn");
  unmap(whole, CH_PAGES * PG);
  close_h(v);
  expect_clean();
}

// ---- two threads fault the same fresh page ---------------------------------------------

#define SP_ROUNDS 300

typedef struct sp_shared {
  pthread_barrier_t bar;
  uint8_t* volatile m;
  int mode;  // 0: both read, 1: both write (different bytes), 2: one reads, one writes
  atomic_int errors;
  atomic_bool quit;
} sp_shared_t;

static void* sp_main(void* arg) {
  sp_shared_t* sh = ((void**)arg)[0];
  int me = (int)(intptr_t)((void**)arg)[1];
  for (;;) {
    pthread_barrier_wait(&sh->bar);  // round starts
    if (atomic_load(&sh->quit)) break;
    uint8_t* m = sh->m;
    bool write = sh->mode == 1 || (sh->mode == 2 && me == 1);
    uint64_t off = me == 0 ? 0 : PG - 1;
    if (write) {
      mwr(m + off, (uint8_t)(0xA0 + me));
      if (mrd(m + off) != 0xA0 + me) atomic_fetch_add(&sh->errors, 1);
    } else {
      uint8_t b = mrd(m + off);
      if (b != 0 && b != 0xA0 + me) atomic_fetch_add(&sh->errors, 1);
    }
    pthread_barrier_wait(&sh->bar);  // round ends
  }
  return NULL;
}

Test(map_threads, two_threads_fault_the_same_fresh_page, .timeout = 300) {
  sp_shared_t sh;
  cr_assert_eq(pthread_barrier_init(&sh.bar, NULL, 3), 0);
  atomic_init(&sh.errors, 0);
  atomic_init(&sh.quit, false);
  sh.m = NULL;
  void* args[2][2] = {{&sh, (void*)0}, {&sh, (void*)1}};
  pthread_t t[2];
  for (int i = 0; i < 2; i++) cr_assert_eq(pthread_create(&t[i], NULL, sp_main, args[i]), 0);
  for (int r = 0; r < SP_ROUNDS; r++) {
    sh.mode = r % 3;
    zx_handle_t v = mkvmo(2 * PG);
    zx_handle_t snap = ZX_HANDLE_INVALID;
    if (r % 2) {
      // Half the rounds: a page shared with a snapshot, write-protected in the mapping.
      fill_page(v, 0, 0);
      snap = mkchild(v, SNAP, 0, 2 * PG);
    }
    sh.m = map_rw(v, 0, 2 * PG);
    pthread_barrier_wait(&sh.bar);
    pthread_barrier_wait(&sh.bar);
    uint8_t b0 = rd8(v, 0), b1 = rd8(v, PG - 1);
    switch (sh.mode) {
      case 0:
        cr_assert(b0 == 0 && b1 == 0, "round %d: both read", r);
        cr_assert_eq(committed(v), r % 2 ? PG : 0, "round %d: reads committed", r);
        break;
      case 1:
        cr_assert(b0 == 0xA0 && b1 == 0xA1, "round %d: both wrote: %#x %#x", r, b0, b1);
        cr_assert_eq(committed(v), PG, "round %d", r);
        break;
      default:
        cr_assert(b0 == 0 && b1 == 0xA1, "round %d: read and write: %#x %#x", r, b0, b1);
        cr_assert_eq(committed(v), PG, "round %d", r);
        break;
    }
    cr_assert_eq(mrd(sh.m), b0);
    cr_assert_eq(mrd(sh.m + PG - 1), b1);
    if (snap != ZX_HANDLE_INVALID) {
      cr_assert_eq(page_val(snap, 0), 0, "round %d: the snapshot saw a write", r);
      close_h(snap);
    }
    if (r % 50 == 0) expect_invariants("same fresh page");
    unmap(sh.m, 2 * PG);
    close_h(v);
  }
  atomic_store(&sh.quit, true);
  pthread_barrier_wait(&sh.bar);
  for (int i = 0; i < 2; i++) cr_assert_eq(pthread_join(t[i], NULL), 0);
  cr_assert_eq(atomic_load(&sh.errors), 0, "%d wrong values seen by the threads",
               atomic_load(&sh.errors));
  pthread_barrier_destroy(&sh.bar);
  expect_clean();
}

// ---- no lost update: mapping writes, zx_vmo_write and snapshots on one page ------------
//
// Thread A writes the first half of page 0 through a mapping, thread B the second half
// with zx_vmo_write, thread C takes snapshots (each one makes the page shared, so the
// next write must copy it) and reads the live VMO, checking every 8-byte word is whole.
// After each write, its writer reads its half back: a write lost to a copy made at the
// same time would show there. At the end both halves hold their writers' last values.

#define LU_ROUNDS 3000

typedef struct lu_shared {
  zx_handle_t v;
  uint8_t* m;
  atomic_bool stop;
  atomic_int lost;    // a writer's read-back saw something else
  atomic_int mixed;   // a word that is no writer's value
  atomic_int failed;  // a call failed
} lu_shared_t;

static uint64_t lu_word(int who, uint64_t r) { return ((uint64_t)(who + 1) << 56) | r; }

static void* lu_mapping_writer(void* arg) {
  lu_shared_t* sh = arg;
  uint64_t* w = (uint64_t*)sh->m;
  for (uint64_t r = 1; r <= LU_ROUNDS; r++) {
    for (uint64_t i = 0; i < PG / 16; i++) __atomic_store_n(&w[i], lu_word(0, r), __ATOMIC_RELAXED);
    for (uint64_t i = 0; i < PG / 16; i++) {
      if (__atomic_load_n(&w[i], __ATOMIC_RELAXED) != lu_word(0, r)) {
        atomic_fetch_add(&sh->lost, 1);
        break;
      }
    }
  }
  return NULL;
}

static void* lu_vmo_writer(void* arg) {
  lu_shared_t* sh = arg;
  uint64_t* buf = (uint64_t*)page_buf(1);
  for (uint64_t r = 1; r <= LU_ROUNDS; r++) {
    for (uint64_t i = 0; i < PG / 16; i++) buf[i] = lu_word(1, r);
    if (zx_vmo_write(sh->v, buf, PG / 2, PG / 2) != ZX_OK) atomic_fetch_add(&sh->failed, 1);
    memset(buf, 0, PG / 2);
    if (zx_vmo_read(sh->v, buf, PG / 2, PG / 2) != ZX_OK) atomic_fetch_add(&sh->failed, 1);
    for (uint64_t i = 0; i < PG / 16; i++) {
      if (buf[i] != lu_word(1, r)) {
        atomic_fetch_add(&sh->lost, 1);
        break;
      }
    }
  }
  free(buf);
  return NULL;
}

static void* lu_snapshotter(void* arg) {
  lu_shared_t* sh = arg;
  uint64_t* buf = (uint64_t*)page_buf(1);
  while (!atomic_load(&sh->stop)) {
    zx_handle_t c;
    if (zx_vmo_create_child(sh->v, SNAP, 0, PG, &c) != ZX_OK) {
      atomic_fetch_add(&sh->failed, 1);
      continue;
    }
    for (int pass = 0; pass < 2; pass++) {
      // The snapshot, then the live VMO: every word whole, each half one writer's.
      if (zx_vmo_read(pass ? sh->v : c, buf, 0, PG) != ZX_OK) atomic_fetch_add(&sh->failed, 1);
      for (uint64_t i = 0; i < PG / 8; i++) {
        int who = i < PG / 16 ? 0 : 1;
        if (buf[i] != 0 && buf[i] >> 56 != (uint64_t)who + 1) {
          atomic_fetch_add(&sh->mixed, 1);
          break;
        }
      }
    }
    zx_handle_close(c);
  }
  free(buf);
  return NULL;
}

Test(map_threads, no_lost_update_between_mapping_writes_vmo_writes_and_snapshots,
     .timeout = 300) {
  lu_shared_t sh;
  memset(&sh, 0, sizeof(sh));
  sh.v = mkvmo(PG);
  sh.m = map_rw(sh.v, 0, PG);
  atomic_init(&sh.stop, false);
  atomic_init(&sh.lost, 0);
  atomic_init(&sh.mixed, 0);
  atomic_init(&sh.failed, 0);
  pthread_t a, b, c;
  cr_assert_eq(pthread_create(&c, NULL, lu_snapshotter, &sh), 0);
  cr_assert_eq(pthread_create(&a, NULL, lu_mapping_writer, &sh), 0);
  cr_assert_eq(pthread_create(&b, NULL, lu_vmo_writer, &sh), 0);
  cr_assert_eq(pthread_join(a, NULL), 0);
  cr_assert_eq(pthread_join(b, NULL), 0);
  atomic_store(&sh.stop, true);
  cr_assert_eq(pthread_join(c, NULL), 0);
  cr_assert_eq(atomic_load(&sh.failed), 0);
  cr_assert_eq(atomic_load(&sh.lost), 0, "%d writes lost (read back as something else)",
               atomic_load(&sh.lost));
  cr_assert_eq(atomic_load(&sh.mixed), 0, "%d reads saw a word of no writer",
               atomic_load(&sh.mixed));
  uint64_t* page = (uint64_t*)page_buf(1);
  cr_assert_eq(zx_vmo_read(sh.v, page, 0, PG), ZX_OK);
  for (uint64_t i = 0; i < PG / 8; i++) {
    uint64_t want = i < PG / 16 ? lu_word(0, LU_ROUNDS) : lu_word(1, LU_ROUNDS);
    cr_assert_eq(page[i], want, "word %llu = %#llx, want %#llx", (unsigned long long)i,
                 (unsigned long long)page[i], (unsigned long long)want);
    cr_assert_eq(((uint64_t*)sh.m)[i], want);
  }
  cr_assert_eq(committed(sh.v), PG);
  cr_assert_eq(pages_in_use(), 1);
  expect_invariants("lost updates");
  free(page);
  unmap(sh.m, PG);
  close_h(sh.v);
  expect_clean();
}
