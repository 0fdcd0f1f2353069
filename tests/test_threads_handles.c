// SPDX-License-Identifier: BSD-3-Clause
// The handle table under concurrent use: threads grow the table from empty while
// others look values up, replace handles (moving entries between shards, two shard
// locks at once) and close them. Checked all along: a thread's own handles always
// resolve to their own object, values it closed or replaced away are BAD_HANDLE
// forever after, and another thread's value resolves to its own object or is
// BAD_HANDLE, never to something else. Afterwards the table's structure is checked
// and every handle is accounted for.
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <zircon/syscalls.h>

#include "handle.h"

enum {
  THREADS = 4,
  HANDLES = 1500,   // per thread: enough to grow every shard a few times
  OBJECTS = 8,      // events per thread the handles refer to
  OPS = 40000,      // per thread, after the ramp-up
  STALE = 64,       // closed values each thread keeps re-checking
};

typedef struct worker {
  int id;
  zx_handle_t events[OBJECTS];
  zx_koid_t koids[OBJECTS];
  zx_handle_t own[HANDLES];
  int obj_of[HANDLES];
  zx_handle_t stale[STALE];
  uint64_t seed;
} worker_t;

static worker_t workers[THREADS];
// (value, low 32 bits of its object's koid) of every worker's handles.
static _Atomic uint64_t published[THREADS * HANDLES];
static atomic_bool failed;

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "check failed: %s (line %d)\n", #cond, __LINE__);        \
      atomic_store(&failed, true);                                             \
    }                                                                          \
  } while (0)

static uint32_t rnd(uint64_t* s) {
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return (uint32_t)(*s >> 11);
}

static uint64_t pack(zx_handle_t h, zx_koid_t k) { return ((uint64_t)(uint32_t)k << 32) | h; }

static zx_status_t koid_of(zx_handle_t h, zx_koid_t* koid) {
  zx_info_handle_basic_t info;
  zx_status_t st = zx_object_get_info(h, ZX_INFO_HANDLE_BASIC, &info, sizeof(info), NULL, NULL);
  if (st == ZX_OK) *koid = info.koid;
  return st;
}

static void set_own(worker_t* w, int i, zx_handle_t h) {
  w->own[i] = h;
  atomic_store(&published[w->id * HANDLES + i], pack(h, w->koids[w->obj_of[i]]));
}

static void retire(worker_t* w, zx_handle_t old) {
  w->stale[rnd(&w->seed) % STALE] = old;
}

static void* worker_main(void* arg) {
  worker_t* w = arg;
  // Ramp-up: the table grows while the other threads work.
  for (int i = 0; i < HANDLES; i++) {
    w->obj_of[i] = i % OBJECTS;
    zx_handle_t h;
    CHECK(zx_handle_duplicate(w->events[w->obj_of[i]], ZX_RIGHT_SAME_RIGHTS, &h) == ZX_OK);
    set_own(w, i, h);
  }
  for (int op = 0; op < OPS && !atomic_load(&failed); op++) {
    uint32_t r = rnd(&w->seed);
    int i = (int)((r >> 4) % HANDLES);
    zx_koid_t k = 0;
    switch (r % 6) {
      case 0: {  // close and create again
        zx_handle_t old = w->own[i], h;
        CHECK(zx_handle_close(old) == ZX_OK);
        retire(w, old);
        CHECK(zx_handle_duplicate(w->events[w->obj_of[i]], ZX_RIGHT_SAME_RIGHTS, &h) == ZX_OK);
        set_own(w, i, h);
        break;
      }
      case 1: {  // replace: usually moves the entry to another shard
        zx_handle_t old = w->own[i], h;
        CHECK(zx_handle_replace(old, ZX_RIGHT_SAME_RIGHTS, &h) == ZX_OK);
        CHECK(h != old);
        retire(w, old);
        set_own(w, i, h);
        break;
      }
      case 2:  // own handle: always this thread's object
        CHECK(koid_of(w->own[i], &k) == ZX_OK);
        CHECK(k == w->koids[w->obj_of[i]]);
        break;
      case 3: {  // a value closed earlier: dead for good
        zx_handle_t s = w->stale[r % STALE];
        if (s != ZX_HANDLE_INVALID) {
          CHECK(koid_of(s, &k) == ZX_ERR_BAD_HANDLE);
          CHECK(zx_handle_close(s) == ZX_ERR_BAD_HANDLE);
        }
        break;
      }
      default: {  // another thread's handle, possibly being closed or replaced
        uint64_t v = atomic_load(&published[(r >> 12) % (THREADS * HANDLES)]);
        if (v == 0) break;
        zx_status_t st = koid_of((zx_handle_t)v, &k);
        CHECK(st == ZX_OK || st == ZX_ERR_BAD_HANDLE);
        if (st == ZX_OK) CHECK((uint32_t)k == (uint32_t)(v >> 32));
        break;
      }
    }
  }
  return NULL;
}

Test(threads_handles, growth_replace_and_lookups_race) {
  uint64_t base = handle_count_alive();
  for (int t = 0; t < THREADS; t++) {
    worker_t* w = &workers[t];
    w->id = t;
    w->seed = 0x9E3779B97F4A7C15ull * (uint64_t)(t + 1);
    for (int j = 0; j < OBJECTS; j++) {
      cr_assert_eq(zx_event_create(0, &w->events[j]), ZX_OK);
      cr_assert_eq(koid_of(w->events[j], &w->koids[j]), ZX_OK);
    }
  }
  pthread_t th[THREADS];
  for (int t = 0; t < THREADS; t++) {
    cr_assert_eq(pthread_create(&th[t], NULL, worker_main, &workers[t]), 0);
  }
  for (int t = 0; t < THREADS; t++) cr_assert_eq(pthread_join(th[t], NULL), 0);
  cr_assert_eq(atomic_load(&failed), false, "see stderr for the failed check");
  cr_assert_eq(handle_count_alive(), base + THREADS * (HANDLES + OBJECTS));
  handle_check_table();
  for (int t = 0; t < THREADS; t++) {
    cr_assert_eq(zx_handle_close_many(workers[t].own, HANDLES), ZX_OK);
    cr_assert_eq(zx_handle_close_many(workers[t].events, OBJECTS), ZX_OK);
  }
  cr_assert_eq(handle_count_alive(), base);
  handle_check_table();
}
