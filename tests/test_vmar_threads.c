// SPDX-License-Identifier: BSD-3-Clause
// The VMAR layer under concurrency (docs/behavior.md §12: any thread may map, unmap
// and protect at any time). Worker threads each churn their own sub-VMAR (map, split
// by protect and unmap, overwrite, nested sub-VMARs, destroy) while readers walk
// ZX_INFO_PROCESS_MAPS and look addresses up: every picture a reader gets must be a
// consistent tree, and every lookup must return a record that holds the address.
// White-box: uses aspace_lookup (vmar.h).
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <zircon/process.h>
#include <zircon/syscalls.h>

#include "helpers.h"
#include "vmar.h"

#define WORKERS 4
#define ROUNDS 300
#define ARENA_PAGES 64
#define MAX_ENTRIES 4096

#define R ZX_VM_PERM_READ
#define RW (ZX_VM_PERM_READ | ZX_VM_PERM_WRITE)
#define ALL_CAN \
  (ZX_VM_CAN_MAP_READ | ZX_VM_CAN_MAP_WRITE | ZX_VM_CAN_MAP_SPECIFIC | ZX_VM_CAN_MAP_EXECUTE)

static atomic_bool g_stop;
static atomic_int g_errors;
static atomic_int g_pictures;  // pictures checked
static atomic_int g_found;     // lookups that found a record
static zx_handle_t g_vmo;
static uint64_t g_pg;
static uintptr_t g_lo, g_hi;  // the span of the workers' arenas

#define CHECK(cond)                            \
  do {                                         \
    if (!(cond)) atomic_fetch_add(&g_errors, 1); \
  } while (0)

typedef struct {
  zx_handle_t arena;
  uintptr_t base;
  uint64_t seed;
} worker_t;

static void* worker(void* p) {
  worker_t* w = p;
  uint64_t pg = g_pg;
  for (int round = 0; round < ROUNDS; round++) {
    uintptr_t a = 0, b = 0;
    CHECK(zx_vmar_map(w->arena, RW | ZX_VM_SPECIFIC, 0, g_vmo, 0, 8 * pg, &a) == ZX_OK);
    CHECK(zx_vmar_protect(w->arena, R, a + 2 * pg, 2 * pg) == ZX_OK);
    CHECK(zx_vmar_unmap(w->arena, a + 5 * pg, pg) == ZX_OK);
    CHECK(zx_vmar_map(w->arena, R | ZX_VM_SPECIFIC_OVERWRITE, pg, g_vmo, 0, 2 * pg, &b) ==
          ZX_OK);
    zx_handle_t sub;
    uintptr_t sub_base;
    CHECK(zx_vmar_allocate(w->arena, ALL_CAN | ZX_VM_SPECIFIC, 16 * pg, 16 * pg, &sub,
                           &sub_base) == ZX_OK);
    uint64_t n = 1 + xorshift(&w->seed) % 6;
    for (uint64_t i = 0; i < n; i++) {
      CHECK(zx_vmar_map(sub, RW, 0, g_vmo, 0, pg, &b) == ZX_OK);
    }
    CHECK(zx_vmar_op_range(w->arena, ZX_VMAR_OP_MAP_RANGE, a, 5 * pg, NULL, 0) == ZX_OK);
    if (round % 2 == 0) {
      CHECK(zx_vmar_destroy(sub) == ZX_OK);
    }
    CHECK(zx_handle_close(sub) == ZX_OK);
    CHECK(zx_vmar_unmap(w->arena, w->base, ARENA_PAGES * pg) == ZX_OK);
  }
  return NULL;
}

// Checks one ZX_INFO_PROCESS_MAPS picture: pre-order with consistent depths, every
// entry inside its parent, siblings in address order without overlap.
static void check_picture(const zx_info_maps_t* e, size_t n) {
  uintptr_t end_at[64];
  uintptr_t last_end_at[64];
  CHECK(n >= 2 && e[0].type == ZX_INFO_MAPS_TYPE_ASPACE && e[0].depth == 0);
  if (n < 2) return;
  end_at[0] = e[0].base + e[0].size;
  last_end_at[1] = e[0].base;
  for (size_t i = 1; i < n; i++) {
    size_t d = e[i].depth;
    // One level deeper at most, and only below a VMAR (or the address space).
    bool deeper_ok = e[i - 1].type != ZX_INFO_MAPS_TYPE_MAPPING ? d <= e[i - 1].depth + 1
                                                                : d <= e[i - 1].depth;
    CHECK(d >= 1 && deeper_ok && d < 63);
    if (d < 1 || !deeper_ok || d >= 63) return;
    // Inside the parent (the last entry of depth d - 1), after the previous sibling.
    CHECK(e[i].base + e[i].size <= end_at[d - 1]);
    CHECK(e[i].base >= last_end_at[d]);
    CHECK(e[i].size > 0 && e[i].size % g_pg == 0);
    end_at[d] = e[i].base + e[i].size;
    last_end_at[d] = end_at[d];
    if (e[i].type == ZX_INFO_MAPS_TYPE_VMAR) last_end_at[d + 1] = e[i].base;
  }
}

static void* reader(void* p) {
  uint64_t seed = (uintptr_t)p | 1;
  zx_info_maps_t* e = calloc(MAX_ENTRIES, sizeof(*e));
  CHECK(e != NULL);
  if (e == NULL) return NULL;
  while (!atomic_load(&g_stop)) {
    size_t actual = 0, avail = 0;
    zx_status_t st = zx_object_get_info(zx_process_self(), ZX_INFO_PROCESS_MAPS, e,
                                        MAX_ENTRIES * sizeof(*e), &actual, &avail);
    CHECK(st == ZX_OK && actual == avail);
    if (st == ZX_OK) {
      check_picture(e, actual);
      atomic_fetch_add(&g_pictures, 1);
    }
    for (int i = 0; i < 64; i++) {
      uintptr_t addr = g_lo + xorshift(&seed) % (g_hi - g_lo);
      aspace_rdlock();
      mapping_t* m = aspace_lookup(addr);
      if (m != NULL) {
        CHECK(m->base <= addr && addr - m->base < m->len);
        atomic_fetch_add(&g_found, 1);
      }
      aspace_unlock();
    }
  }
  free(e);
  return NULL;
}

Test(vmar_threads, churn_with_concurrent_walks_and_lookups, .timeout = 300) {
  g_pg = PG;
  g_vmo = mkvmo(8 * g_pg);
  worker_t w[WORKERS];
  for (int i = 0; i < WORKERS; i++) {
    cr_assert_eq(zx_vmar_allocate(zx_vmar_root_self(), ALL_CAN, 0, ARENA_PAGES * g_pg,
                                  &w[i].arena, &w[i].base),
                 ZX_OK);
    w[i].seed = 0x9E3779B97F4A7C15ull * (uint64_t)(i + 1);
    if (i == 0 || w[i].base < g_lo) g_lo = w[i].base;
    if (w[i].base + ARENA_PAGES * g_pg > g_hi) g_hi = w[i].base + ARENA_PAGES * g_pg;
  }
  pthread_t wt[WORKERS], rt[2];
  for (int i = 0; i < 2; i++) {
    cr_assert_eq(pthread_create(&rt[i], NULL, reader, (void*)(uintptr_t)(i + 1)), 0);
  }
  for (int i = 0; i < WORKERS; i++) cr_assert_eq(pthread_create(&wt[i], NULL, worker, &w[i]), 0);
  for (int i = 0; i < WORKERS; i++) pthread_join(wt[i], NULL);
  atomic_store(&g_stop, true);
  for (int i = 0; i < 2; i++) pthread_join(rt[i], NULL);
  cr_assert_eq(atomic_load(&g_errors), 0);
  cr_assert_gt(atomic_load(&g_pictures), 0);
  cr_assert_gt(atomic_load(&g_found), 0);
  // Every arena is empty again but for the sub-VMARs whose handles were only closed.
  for (int i = 0; i < WORKERS; i++) {
    zx_info_maps_t e[4];
    size_t actual = 0, avail = 0;
    cr_assert_eq(zx_object_get_info(w[i].arena, ZX_INFO_VMAR_MAPS, e, sizeof(e), &actual, &avail),
                 ZX_OK);
    cr_assert_eq(avail, 1);
    zx_handle_close(w[i].arena);
  }
  zx_handle_close(g_vmo);
}
