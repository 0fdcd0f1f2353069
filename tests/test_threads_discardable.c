// SPDX-License-Identifier: BSD-3-Clause
// Discardable VMOs under threads (docs/behavior.md §16.2): workers lock, check, write
// and unlock their VMOs while other threads fill memory under a tight page budget,
// which discards unlocked ones, and a reader reads them unlocked. A locked VMO keeps
// its contents; LOCK reports every discard; the invariants hold at the end. Runs
// under TSan too (the name has "thread").
#include <criterion/criterion.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>

#include "helpers.h"

#define WORKERS 3
#define PAGES 4
#define ROUNDS 300

static zx_handle_t g_vmo[WORKERS];
static _Atomic bool g_stop;
static _Atomic uint64_t g_discards_seen;

static void* worker(void* arg) {
  int k = (int)(intptr_t)arg;
  zx_handle_t v = g_vmo[k];
  uint8_t* buf = page_buf(PAGES);
  uint8_t* got = page_buf(PAGES);
  uint8_t gen = 0;
  bool filled = false;  // the VMO holds `gen` everywhere
  // At least ROUNDS rounds, and on until a discard was seen (the fillers may start
  // late), within a bound that ends the test if none ever comes.
  for (int r = 0; r < ROUNDS || (atomic_load(&g_discards_seen) == 0 && r < 200000); r++) {
    zx_vmo_lock_state_t ls;
    cr_assert_eq(zx_vmo_op_range(v, ZX_VMO_OP_LOCK, 0, PAGES * PG, &ls, sizeof(ls)), ZX_OK);
    cr_assert(ls.discarded_size == 0 || ls.discarded_size == PAGES * PG);
    if (ls.discarded_size) {
      atomic_fetch_add(&g_discards_seen, 1);
      filled = false;
      // Discarded: it reads as zeros now that it is locked.
      cr_assert_eq(zx_vmo_read(v, got, 0, PAGES * PG), ZX_OK);
      for (uint64_t i = 0; i < PAGES * PG; i += PG) cr_assert_eq(got[i], 0);
    } else if (filled) {
      // Locked and not discarded: exactly what was last written.
      cr_assert_eq(zx_vmo_read(v, got, 0, PAGES * PG), ZX_OK);
      for (uint64_t i = 0; i < PAGES * PG; i += 97) cr_assert_eq(got[i], gen);
    }
    gen++;
    memset(buf, gen, PAGES * PG);
    zx_status_t st = zx_vmo_write(v, buf, 0, PAGES * PG);
    cr_assert(st == ZX_OK || st == ZX_ERR_NO_MEMORY);
    // A write that ran out of pages may have written part: the contents are unknown.
    filled = st == ZX_OK;
    cr_assert_eq(zx_vmo_op_range(v, ZX_VMO_OP_UNLOCK, 0, PAGES * PG, NULL, 0), ZX_OK);
    sched_yield();  // unlocked for a while: the fillers may discard it
  }
  free(buf);
  free(got);
  return NULL;
}

// Fills and empties a plain VMO of its own, making the budget discard.
static void* filler(void* arg) {
  (void)arg;
  zx_handle_t p = mkvmo(8 * PG);
  uint8_t* buf = page_buf(8);
  memset(buf, 0x33, 8 * PG);
  while (!atomic_load(&g_stop)) {
    zx_status_t st = zx_vmo_write(p, buf, 0, 8 * PG);
    cr_assert(st == ZX_OK || st == ZX_ERR_NO_MEMORY);
    cr_assert_eq(zx_vmo_op_range(p, ZX_VMO_OP_DECOMMIT, 0, 8 * PG, NULL, 0), ZX_OK);
  }
  free(buf);
  zx_handle_close(p);
  return NULL;
}

// Reads without locking: the data, or NOT_FOUND while discarded.
static void* reader(void* arg) {
  (void)arg;
  uint8_t b;
  while (!atomic_load(&g_stop)) {
    for (int k = 0; k < WORKERS; k++) {
      zx_status_t st = zx_vmo_read(g_vmo[k], &b, PG, 1);
      cr_assert(st == ZX_OK || st == ZX_ERR_NOT_FOUND, "read: %d", st);
    }
  }
  return NULL;
}

Test(threads_discardable, lock_unlock_under_pressure) {
  zx_handle_t keep = mkvmo(PG);
  wr8(keep, 0, 1);
  for (int k = 0; k < WORKERS; k++) {
    cr_assert_eq(zx_vmo_create(PAGES * PG, ZX_VMO_DISCARDABLE, &g_vmo[k]), ZX_OK);
  }
  // Room for every worker's VMO and half the filler's: someone must give way.
  cr_assert_eq(zxvmo_set_page_budget(pages_in_use() + WORKERS * PAGES + 4), ZX_OK);
  pthread_t w[WORKERS], f[2], rd;
  for (int k = 0; k < WORKERS; k++) {
    cr_assert_eq(pthread_create(&w[k], NULL, worker, (void*)(intptr_t)k), 0);
  }
  for (int k = 0; k < 2; k++) cr_assert_eq(pthread_create(&f[k], NULL, filler, NULL), 0);
  cr_assert_eq(pthread_create(&rd, NULL, reader, NULL), 0);
  for (int k = 0; k < WORKERS; k++) pthread_join(w[k], NULL);
  atomic_store(&g_stop, true);
  for (int k = 0; k < 2; k++) pthread_join(f[k], NULL);
  pthread_join(rd, NULL);
  cr_assert_eq(zxvmo_set_page_budget(0), ZX_OK);
  cr_assert_eq(zxvmo_check_invariants(), ZX_OK);
  // The fillers needed more than the budget had: discards happened and were reported.
  cr_assert_gt(atomic_load(&g_discards_seen), 0u);
  for (int k = 0; k < WORKERS; k++) zx_handle_close(g_vmo[k]);
  zx_handle_close(keep);
}
