// Threaded regression tests, each named after the race it pins. Also run under TSan
// (through the Criterion stand-in in shim/).
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>

#include "helpers.h"

static zx_handle_t g_h;
static atomic_int g_go;

static void* closer(void* arg) {
  (void)arg;
  while (!atomic_load(&g_go)) {
  }
  zx_handle_close(g_h);
  return NULL;
}

// Duplicating or replacing a handle while another thread closes the VMO's last
// handle must never produce a handle to a dead VMO (closing such a handle used to
// run the VMO's death twice and abort).
static void race(bool replace) {
  for (int it = 0; it < 40000; it++) {
    cr_assert_eq(zx_vmo_create(PG, 0, &g_h), ZX_OK);
    atomic_store(&g_go, 0);
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, closer, NULL), 0);
    atomic_store(&g_go, 1);
    zx_handle_t d = ZX_HANDLE_INVALID;
    zx_status_t st = replace ? zx_handle_replace(g_h, ZX_RIGHT_SAME_RIGHTS, &d)
                             : zx_handle_duplicate(g_h, ZX_RIGHT_SAME_RIGHTS, &d);
    pthread_join(t, NULL);
    cr_assert(st == ZX_OK || st == ZX_ERR_BAD_HANDLE, "status %d", st);
    if (st == ZX_OK) {
      uint8_t b;
      cr_assert_eq(zx_vmo_read(d, &b, 0, 1), ZX_OK, "a new handle reached a dead VMO");
      cr_assert_eq(zx_handle_close(d), ZX_OK);
    }
  }
  cr_assert_eq(pages_in_use(), 0);
  zxvmo_stats_t s;
  cr_assert_eq(zxvmo_get_stats(&s), ZX_OK);
  cr_assert_eq(s.vmos_alive, 0);
}

Test(threads_regressions, duplicate_racing_last_close) { race(false); }
Test(threads_regressions, replace_racing_last_close) { race(true); }
