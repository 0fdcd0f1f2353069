// SPDX-License-Identifier: BSD-3-Clause
// References under threads (docs/behavior.md §16.1): one thread resizes through a
// reference, others read and write through the parent and other references, make and
// close references of references, and close the parent, while the invariants are
// checked. Every call gives its documented result whatever the interleaving. Runs under
// TSan too (the name has "thread").
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>

#include "helpers.h"

#define ROUNDS 2000

static zx_handle_t g_parent, g_ref;
static _Atomic bool g_stop;

static void* resizer(void* arg) {
  (void)arg;
  uint64_t seed = 7;
  for (int r = 0; r < ROUNDS; r++) {
    cr_assert_eq(zx_vmo_set_size(g_ref, (1 + xorshift(&seed) % 8) * PG), ZX_OK);
  }
  return NULL;
}

static void* accessor(void* arg) {
  uint64_t seed = 11 + (uint64_t)(uintptr_t)arg;
  zx_handle_t h = arg ? g_parent : g_ref;
  uint8_t b = 1;
  while (!atomic_load(&g_stop)) {
    uint64_t off = xorshift(&seed) % (8 * PG);
    zx_status_t st = (xorshift(&seed) & 1) ? zx_vmo_write(h, &b, off, 1)
                                           : zx_vmo_read(h, &b, off, 1);
    cr_assert(st == ZX_OK || st == ZX_ERR_OUT_OF_RANGE, "access: %d", st);
  }
  return NULL;
}

static void* referencer(void* arg) {
  (void)arg;
  while (!atomic_load(&g_stop)) {
    zx_handle_t r, rr;
    cr_assert_eq(zx_vmo_create_child(g_ref, ZX_VMO_CHILD_REFERENCE, 0, 0, &r), ZX_OK);
    cr_assert_eq(zx_vmo_create_child(r, ZX_VMO_CHILD_REFERENCE, 0, 0, &rr), ZX_OK);
    uint64_t a, b;
    cr_assert_eq(zx_vmo_get_size(rr, &a), ZX_OK);
    cr_assert(a >= PG && a <= 8 * PG);
    zx_handle_close(r);
    cr_assert_eq(zx_vmo_get_size(rr, &b), ZX_OK);
    cr_assert(b >= PG && b <= 8 * PG);  // its parent reference gone, still the same pages
    zx_handle_close(rr);
    zx_handle_t c;
    zx_status_t st = zx_vmo_create_child(g_ref, ZX_VMO_CHILD_SNAPSHOT, 0, PG, &c);
    cr_assert_eq(st, ZX_OK);
    zx_handle_close(c);
  }
  return NULL;
}

Test(threads_reference, resize_access_and_children) {
  cr_assert_eq(zx_vmo_create(4 * PG, ZX_VMO_RESIZABLE, &g_parent), ZX_OK);
  cr_assert_eq(zx_vmo_create_child(g_parent, ZX_VMO_CHILD_REFERENCE | ZX_VMO_CHILD_RESIZABLE,
                                   0, 0, &g_ref),
               ZX_OK);
  pthread_t rs, a[2], rf;
  cr_assert_eq(pthread_create(&rs, NULL, resizer, NULL), 0);
  cr_assert_eq(pthread_create(&a[0], NULL, accessor, NULL), 0);
  cr_assert_eq(pthread_create(&a[1], NULL, accessor, (void*)1), 0);
  cr_assert_eq(pthread_create(&rf, NULL, referencer, NULL), 0);
  pthread_join(rs, NULL);
  atomic_store(&g_stop, true);
  pthread_join(a[0], NULL);
  pthread_join(a[1], NULL);
  pthread_join(rf, NULL);
  uint64_t p, r;
  cr_assert_eq(zx_vmo_get_size(g_parent, &p), ZX_OK);
  cr_assert_eq(zx_vmo_get_size(g_ref, &r), ZX_OK);
  cr_assert_eq(p, r);
  cr_assert_eq(zxvmo_check_invariants(), ZX_OK);
  zx_handle_close(g_parent);
  cr_assert_eq(zxvmo_check_invariants(), ZX_OK);
  zx_handle_close(g_ref);
}
