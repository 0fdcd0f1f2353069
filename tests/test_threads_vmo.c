// SPDX-License-Identifier: BSD-3-Clause
// Concurrency on one VMO family: create_child, read, write, op_range, set_size and
// close from 4 threads. No crash, no deadlock, and no reader ever sees a half-made
// page: every writer writes whole pages filled with one byte value, so every page of
// every VMO must always read as equal bytes. Also runs under ThreadSanitizer.
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>
#include <zircon/syscalls.h>

#include "child_helpers.h"
#include "helpers.h"

#define NTHREADS 4
#define NSLOTS 32
#define VPAGES 8

static _Atomic zx_handle_t g_slots[NSLOTS];
static atomic_bool g_stop;
static atomic_int g_failures;
static char g_failure[256];
static pthread_mutex_t g_failure_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic uint64_t g_ops;
static _Atomic uint64_t g_made;

static void fail(const char* fmt, int a, int b) {
  pthread_mutex_lock(&g_failure_lock);
  if (atomic_fetch_add(&g_failures, 1) == 0) snprintf(g_failure, sizeof(g_failure), fmt, a, b);
  pthread_mutex_unlock(&g_failure_lock);
}

// Statuses a racing operation may legitimately return.
static bool benign(zx_status_t st) {
  return st == ZX_OK || st == ZX_ERR_BAD_HANDLE || st == ZX_ERR_NOT_SUPPORTED ||
         st == ZX_ERR_OUT_OF_RANGE || st == ZX_ERR_UNAVAILABLE || st == ZX_ERR_INVALID_ARGS;
}

static void put_child(zx_handle_t c) {
  for (int i = 0; i < NSLOTS; i++) {
    zx_handle_t expect = ZX_HANDLE_INVALID;
    if (atomic_compare_exchange_strong(&g_slots[i], &expect, c)) return;
  }
  zx_handle_close(c);
}

static void* worker(void* arg) {
  uint64_t seed = 0x9E3779B97F4A7C15ull * (uint64_t)((uintptr_t)arg + 1);
  uint8_t* buf = malloc(PG);
  while (!atomic_load(&g_stop)) {
    uint64_t r = xorshift(&seed);
    int slot = (int)(r % NSLOTS);
    zx_handle_t h = atomic_load(&g_slots[slot]);
    if (h == ZX_HANDLE_INVALID) continue;
    uint64_t page = (r >> 8) % VPAGES;
    zx_status_t st = ZX_OK;
    switch ((r >> 16) % 12) {
      case 0:
      case 1:
      case 2: {  // read a whole page and check it is uniform
        st = zx_vmo_read(h, buf, page * PG, PG);
        if (st == ZX_OK) {
          for (size_t i = 1; i < PG; i++) {
            if (buf[i] != buf[0]) {
              fail("torn page: byte 0 = %d, byte differs at %d", buf[0], (int)i);
              break;
            }
          }
        }
        break;
      }
      case 3:
      case 4: {  // write a whole page
        memset(buf, (int)((r >> 24) & 0xff), PG);
        st = zx_vmo_write(h, buf, page * PG, PG);
        break;
      }
      case 5:
      case 6: {  // make a child
        static const uint32_t kinds[] = {SNAP | RESZ, ALOW | RESZ, SLICE, SNAP};
        uint32_t k = (uint32_t)((r >> 24) % 5);
        zx_handle_t c = ZX_HANDLE_INVALID;
        uint64_t off = ((r >> 32) % 4) * PG;
        uint64_t len = (1 + (r >> 40) % VPAGES) * PG;
        if (k == 4) {
          st = zx_vmo_clone(h, CLONE_COW, off, len, &c);
        } else {
          st = zx_vmo_create_child(h, kinds[k], off, len, &c);
        }
        if (st == ZX_OK) {
          atomic_fetch_add(&g_made, 1);
          put_child(c);
        }
        break;
      }
      case 7: {  // close (only the thread that takes the slot closes)
        if (slot == 0) break;  // keep the root
        zx_handle_t mine = atomic_exchange(&g_slots[slot], ZX_HANDLE_INVALID);
        if (mine != ZX_HANDLE_INVALID) st = zx_handle_close(mine);
        break;
      }
      case 8: {  // resize to a page multiple
        st = zx_vmo_set_size(h, (1 + (r >> 24) % (2 * VPAGES)) * PG);
        break;
      }
      case 9:
      case 10: {  // op_range on whole pages
        static const uint32_t ops[] = {ZX_VMO_OP_COMMIT, ZX_VMO_OP_DECOMMIT, ZX_VMO_OP_ZERO,
                                       ZX_VMO_OP_CACHE_CLEAN, ZX_VMO_OP_DONT_NEED};
        uint32_t op = ops[(r >> 24) % 5];
        st = zx_vmo_op_range(h, op, page * PG, PG, NULL, 0);
        break;
      }
      default: {  // info and attribution
        zx_info_vmo_t info;
        st = zx_object_get_info(h, ZX_INFO_VMO, &info, sizeof(info), NULL, NULL);
        if (st == ZX_OK && info.committed_private_bytes > info.committed_bytes) {
          fail("private %d > committed %d", (int)info.committed_private_bytes,
               (int)info.committed_bytes);
        }
        break;
      }
    }
    if (!benign(st)) fail("op %d returned %d", (int)((r >> 16) % 12), st);
    atomic_fetch_add(&g_ops, 1);
  }
  free(buf);
  return NULL;
}

static void run_family(double seconds, uint64_t root_pages) {
  atomic_store(&g_stop, false);
  atomic_store(&g_failures, 0);
  atomic_store(&g_ops, 0);
  atomic_store(&g_made, 0);
  for (int i = 0; i < NSLOTS; i++) atomic_store(&g_slots[i], ZX_HANDLE_INVALID);
  zx_handle_t root = mkvmo_opts(root_pages * PG, ZX_VMO_RESIZABLE);
  for (uint64_t k = 0; k < root_pages; k++) fill_page(root, k, (uint8_t)(k + 1));
  atomic_store(&g_slots[0], root);
  // Seed some non-resizable parents so slices can be made.
  zx_handle_t fixed = mkchild(root, SNAP, 0, root_pages * PG);
  atomic_store(&g_slots[1], fixed);
  pthread_t t[NTHREADS];
  for (uintptr_t i = 0; i < NTHREADS; i++) {
    cr_assert_eq(pthread_create(&t[i], NULL, worker, (void*)i), 0);
  }
  struct timespec ts = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
  nanosleep(&ts, NULL);
  atomic_store(&g_stop, true);
  for (int i = 0; i < NTHREADS; i++) pthread_join(t[i], NULL);
  cr_assert_eq(atomic_load(&g_failures), 0, "%d failures; first: %s", atomic_load(&g_failures),
               g_failure);
  cr_assert_gt(atomic_load(&g_ops), 1000, "only %llu operations ran",
               (unsigned long long)atomic_load(&g_ops));
  cr_assert_eq(zxvmo_check_invariants(), ZX_OK);
  cr_assert_gt(atomic_load(&g_made), 100, "only %llu children made",
               (unsigned long long)atomic_load(&g_made));
  // Every live VMO still reads uniform pages.
  for (int i = 0; i < NSLOTS; i++) {
    zx_handle_t h = atomic_load(&g_slots[i]);
    if (h == ZX_HANDLE_INVALID) continue;
    uint64_t pages = vmo_size(h) / PG;
    for (uint64_t k = 0; k < pages; k++) cr_assert_geq(page_val(h, k), 0, "slot %d page %llu", i, (unsigned long long)k);
  }
  for (int i = 0; i < NSLOTS; i++) {
    zx_handle_t h = atomic_exchange(&g_slots[i], ZX_HANDLE_INVALID);
    if (h != ZX_HANDLE_INVALID) close_h(h);
  }
  cr_assert_eq(pages_in_use(), 0, "%llu pages left", (unsigned long long)pages_in_use());
  cr_assert_eq(vmos_alive(), 0);
  cr_assert_eq(zxvmo_check_invariants(), ZX_OK);
}

Test(threads_vmo, mixed_ops_on_one_family) { run_family(1.5, VPAGES); }

Test(threads_vmo, mixed_ops_small_family) { run_family(1.0, 2); }

// 4 threads each make 500 children of one VMO, then close them concurrently:
// num_children and ZX_VMO_ZERO_CHILDREN are exact.
typedef struct fan {
  zx_handle_t parent;
  zx_handle_t kids[500];
  int id;
} fan_t;

static void* fan_create(void* arg) {
  fan_t* f = arg;
  for (int i = 0; i < 500; i++) {
    zx_status_t st;
    switch ((i + f->id) % 3) {
      case 0: st = zx_vmo_create_child(f->parent, SNAP, 0, PG, &f->kids[i]); break;
      case 1: st = zx_vmo_create_child(f->parent, SLICE, 0, PG, &f->kids[i]); break;
      default: st = zx_vmo_clone(f->parent, CLONE_COW, 0, PG, &f->kids[i]); break;
    }
    if (st != ZX_OK) {
      fail("create %d = %d", i, st);
      f->kids[i] = ZX_HANDLE_INVALID;
    }
  }
  return NULL;
}

static void* fan_close(void* arg) {
  fan_t* f = arg;
  for (int i = 0; i < 500; i++) {
    if (f->kids[i] != ZX_HANDLE_INVALID && zx_handle_close(f->kids[i]) != ZX_OK) fail("close %d%d", i, 0);
  }
  return NULL;
}

Test(threads_vmo, concurrent_children_counts) {
  atomic_store(&g_failures, 0);
  zx_handle_t p = mkvmo_filled(1, 7);
  static fan_t f[NTHREADS];
  pthread_t t[NTHREADS];
  for (int i = 0; i < NTHREADS; i++) {
    f[i].parent = p;
    f[i].id = i;
    cr_assert_eq(pthread_create(&t[i], NULL, fan_create, &f[i]), 0);
  }
  for (int i = 0; i < NTHREADS; i++) pthread_join(t[i], NULL);
  cr_assert_eq(atomic_load(&g_failures), 0, "%s", g_failure);
  cr_assert_eq(vmo_info(p).num_children, NTHREADS * 500);
  cr_assert_not(zero_children(p));
  cr_assert_eq(pages_in_use(), 1);
  // Writers on the parent while children close.
  for (int i = 0; i < NTHREADS; i++) cr_assert_eq(pthread_create(&t[i], NULL, fan_close, &f[i]), 0);
  for (int k = 0; k < 200; k++) fill_page(p, 0, (uint8_t)k);
  for (int i = 0; i < NTHREADS; i++) pthread_join(t[i], NULL);
  cr_assert_eq(atomic_load(&g_failures), 0, "%s", g_failure);
  cr_assert_eq(vmo_info(p).num_children, 0);
  cr_assert(zero_children(p));
  close_h(p);
  expect_clean();
}

// A waiter blocked on ZX_VMO_ZERO_CHILDREN is woken when another thread closes the
// last child.
static void* close_later(void* arg) {
  zx_handle_t h = (zx_handle_t)(uintptr_t)arg;
  struct timespec ts = {0, 20 * 1000 * 1000};
  nanosleep(&ts, NULL);
  zx_handle_close(h);
  return NULL;
}

Test(threads_vmo, zero_children_wakes_waiter) {
  zx_handle_t p = mkvmo(PG);
  zx_handle_t c = mkchild(p, SNAP, 0, PG);
  pthread_t t;
  cr_assert_eq(pthread_create(&t, NULL, close_later, (void*)(uintptr_t)c), 0);
  zx_signals_t seen = 0;
  cr_assert_eq(zx_object_wait_one(p, ZX_VMO_ZERO_CHILDREN, zx_deadline_after(10ll * 1000 * 1000 * 1000), &seen), ZX_OK);
  cr_assert(seen & ZX_VMO_ZERO_CHILDREN);
  pthread_join(t, NULL);
  close_h(p);
  expect_clean();
}
