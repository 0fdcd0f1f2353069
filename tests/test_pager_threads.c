// SPDX-License-Identifier: BSD-3-Clause
// User pagers under concurrency (run under ThreadSanitizer too): a pager service
// thread answering requests while readers, writers and committers block on them, and
// races of supply, FAIL, detach, pager close and VMO close against blocked accesses.
#include <criterion/criterion.h>
#include <stdatomic.h>

#include "pager_helpers.h"

// A pager service: answers every READ by supplying the pattern for `seed` (or failing
// every `fail_every`-th request with ZX_ERR_IO), every DIRTY with OP_DIRTY, until it
// sees a user packet with key 0 (or COMPLETE, or the pager disappears).
typedef struct service {
  pg_env_t env;
  zx_handle_t vmo;
  uint8_t seed;
  unsigned fail_every;
  pthread_t thread;
  _Atomic uint64_t reads, dirties, fails;
} service_t;

static void* service_main(void* arg) {
  service_t* s = arg;
  for (unsigned n = 1;; n++) {
    zx_port_packet_t p;
    if (zx_port_wait(s->env.port, ZX_TIME_INFINITE, &p) != ZX_OK) return NULL;
    if (p.type == ZX_PKT_TYPE_USER) return NULL;
    if (p.type != ZX_PKT_TYPE_PAGE_REQUEST) continue;
    uint64_t off = p.page_request.offset, len = p.page_request.length;
    switch (p.page_request.command) {
      case ZX_PAGER_VMO_READ:
        if (s->fail_every && n % s->fail_every == 0) {
          // The pager may be detached or closed meanwhile: errors are fine here.
          (void)zx_pager_op_range(s->env.pager, ZX_PAGER_OP_FAIL, s->vmo, off, len,
                                  (uint64_t)ZX_ERR_IO);
          atomic_fetch_add(&s->fails, 1);
        } else {
          zx_handle_t aux;
          cr_assert_eq(zx_vmo_create(len, 0, &aux), ZX_OK);
          uint8_t* buf = malloc(len);
          for (uint64_t i = 0; i < len; i++) buf[i] = pg_pat(off + i, s->seed);
          zx_status_t wst = zx_vmo_write(aux, buf, 0, len);
          free(buf);
          if (wst == ZX_ERR_NO_MEMORY) {
            // Over the page budget with nothing left to evict: the pager gives up on it.
            (void)zx_pager_op_range(s->env.pager, ZX_PAGER_OP_FAIL, s->vmo, off, len,
                                    (uint64_t)ZX_ERR_NO_SPACE);
            zx_handle_close(aux);
            break;
          }
          cr_assert_eq(wst, ZX_OK);
          (void)zx_pager_supply_pages(s->env.pager, s->vmo, off, len, aux, 0);
          zx_handle_close(aux);
          atomic_fetch_add(&s->reads, 1);
        }
        break;
      case ZX_PAGER_VMO_DIRTY:
        (void)zx_pager_op_range(s->env.pager, ZX_PAGER_OP_DIRTY, s->vmo, off, len, 0);
        atomic_fetch_add(&s->dirties, 1);
        break;
      default:
        return NULL;  // COMPLETE
    }
  }
}

static void service_start(service_t* s, uint64_t pages, uint32_t opts, unsigned fail_every) {
  memset(s, 0, sizeof(*s));
  s->env = pg_env();
  s->vmo = pg_vmo(&s->env, pages, opts, 1);
  s->seed = 0x5c;
  s->fail_every = fail_every;
  cr_assert_eq(pthread_create(&s->thread, NULL, service_main, s), 0);
}

static void service_stop(service_t* s) {
  zx_port_packet_t quit;
  memset(&quit, 0, sizeof(quit));
  quit.type = ZX_PKT_TYPE_USER;
  cr_assert_eq(zx_port_queue(s->env.port, &quit), ZX_OK);
  pthread_join(s->thread, NULL);
}

typedef struct worker {
  service_t* s;
  uint64_t pages;
  uint64_t rng;
  pthread_t thread;
  bool tolerate_errors;
} worker_t;

// Random reads (checked against the pattern, or the worker's own writes), writes and
// commits of random ranges.
static void* worker_main(void* arg) {
  worker_t* w = arg;
  uint8_t* buf = malloc(4 * PG);
  for (int it = 0; it < 300; it++) {
    uint64_t r = xorshift(&w->rng);
    uint64_t first = r % w->pages;
    uint64_t n = 1 + (r >> 8) % 4;
    if (first + n > w->pages) n = w->pages - first;
    zx_status_t st;
    switch ((r >> 16) % 3) {
      case 0:
        st = zx_vmo_read(w->s->vmo, buf, first * PG, n * PG);
        break;
      case 1:
        memset(buf, 0, n * PG);
        // Writes keep the pattern, so that any reader can check any page.
        for (uint64_t i = 0; i < n * PG; i++) buf[i] = pg_pat(first * PG + i, w->s->seed);
        st = zx_vmo_write(w->s->vmo, buf, first * PG, n * PG);
        break;
      default:
        st = zx_vmo_op_range(w->s->vmo, ZX_VMO_OP_COMMIT, first * PG, n * PG, NULL, 0);
        break;
    }
    if (st == ZX_OK && (r >> 16) % 3 == 0) {
      for (uint64_t i = 0; i < n * PG; i++) {
        cr_assert_eq(buf[i], pg_pat(first * PG + i, w->s->seed));
      }
    }
    if (!w->tolerate_errors) {
      cr_assert_eq(st, ZX_OK);
    } else {
      cr_assert(st == ZX_OK || st == ZX_ERR_IO || st == ZX_ERR_BAD_STATE ||
                    st == ZX_ERR_NO_MEMORY || st == ZX_ERR_NO_SPACE,
                "status %d", st);
    }
  }
  free(buf);
  return NULL;
}

static void run_workers(service_t* s, uint64_t pages, int n, bool tolerate) {
  worker_t w[4];
  for (int i = 0; i < n; i++) {
    w[i] = (worker_t){.s = s, .pages = pages, .rng = 0x9e3779b97f4a7c15ull * (uint64_t)(i + 1),
                      .tolerate_errors = tolerate};
    cr_assert_eq(pthread_create(&w[i].thread, NULL, worker_main, &w[i]), 0);
  }
  for (int i = 0; i < n; i++) pthread_join(w[i].thread, NULL);
}

Test(pager_threads, workers_against_a_serving_pager) {
  service_t s;
  service_start(&s, 64, 0, 0);
  run_workers(&s, 64, 4, false);
  cr_assert(pg_check(s.vmo, 0, 64 * PG, s.seed));  // asks for what no worker touched
  service_stop(&s);
  cr_assert(atomic_load(&s.reads) > 0);
  cr_assert_eq(zxvmo_check_invariants(), ZX_OK);
}

Test(pager_threads, workers_against_a_trap_dirty_pager) {
  service_t s;
  service_start(&s, 32, ZX_VMO_TRAP_DIRTY, 0);
  run_workers(&s, 32, 3, false);
  service_stop(&s);
  cr_assert(atomic_load(&s.dirties) > 0);
  cr_assert_eq(zxvmo_check_invariants(), ZX_OK);
}

Test(pager_threads, workers_against_a_failing_pager) {
  service_t s;
  service_start(&s, 32, 0, 3);
  run_workers(&s, 32, 3, true);
  service_stop(&s);
  cr_assert(atomic_load(&s.fails) > 0);
  cr_assert_eq(zxvmo_check_invariants(), ZX_OK);
}

// Blocked accesses racing with the end of service: each ends with an error or
// success, none stays blocked, nothing leaks.
static void race_end_of_service(int how) {
  for (int round = 0; round < 20; round++) {
    pg_env_t e = pg_env();
    zx_handle_t v = pg_vmo(&e, 8, 0, 1);
    pg_op_t* ops[6];
    for (int i = 0; i < 6; i++) {
      ops[i] = pg_op_start(i % 3 == 0 ? OP_READ : i % 3 == 1 ? OP_WRITE : OP_COMMIT, v,
                           (uint64_t)(i % 4) * PG, 2 * PG, 1);
    }
    if (round % 2) pg_supply(&e, v, 0, 2, 3);  // some accesses may finish first
    switch (how) {
      case 0:
        cr_assert_eq(zx_pager_detach_vmo(e.pager, v), ZX_OK);
        break;
      case 1:
        cr_assert_eq(zx_handle_close(e.pager), ZX_OK);
        break;
      default:
        // Supply everything while the pager closes.
        pg_supply(&e, v, 0, 8, 3);
        cr_assert_eq(zx_handle_close(e.pager), ZX_OK);
        break;
    }
    for (int i = 0; i < 6; i++) {
      zx_status_t st = pg_op_join(ops[i], NULL);
      cr_assert(st == ZX_OK || st == ZX_ERR_BAD_STATE, "status %d", st);
    }
    zx_handle_close(v);
    if (how == 0) zx_handle_close(e.pager);
    zx_handle_close(e.port);
  }
  cr_assert_eq(zxvmo_check_invariants(), ZX_OK);
}

Test(pager_threads, blocked_accesses_race_detach) { race_end_of_service(0); }
Test(pager_threads, blocked_accesses_race_pager_close) { race_end_of_service(1); }
Test(pager_threads, blocked_accesses_race_supply_and_close) { race_end_of_service(2); }

// Closing the VMO while a thread is blocked on it through a child.
Test(pager_threads, child_access_races_parent_close) {
  for (int round = 0; round < 20; round++) {
    pg_env_t e = pg_env();
    zx_handle_t v = pg_vmo(&e, 4, 0, 1), c;
    cr_assert_eq(zx_vmo_create_child(v, ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE, 0, 4 * PG, &c),
                 ZX_OK);
    pg_op_t* op = pg_op_start(OP_READ, c, PG, PG, 0);
    cr_assert_eq(zx_handle_close(v), ZX_OK);
    cr_assert_eq(pg_op_join(op, NULL), ZX_ERR_BAD_STATE);
    zx_handle_close(c);
    zx_handle_close(e.pager);
    zx_handle_close(e.port);
  }
  cr_assert_eq(zxvmo_check_invariants(), ZX_OK);
}

// Under a page budget smaller than the VMO, clean pages are evicted while workers read,
// write and commit, and read again from the pager: reads still see the right bytes
// (a write may fail for the budget once dirty pages fill it).
Test(pager_threads, workers_under_a_page_budget_evict_and_refetch) {
  service_t s;
  service_start(&s, 64, 0, 0);
  zxvmo_set_page_budget(pages_in_use() + 40);
  run_workers(&s, 64, 3, true);
  zxvmo_set_page_budget(0);
  service_stop(&s);
  cr_assert(atomic_load(&s.reads) > 0);
  cr_assert_eq(zxvmo_check_invariants(), ZX_OK);
}
