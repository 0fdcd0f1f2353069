// SPDX-License-Identifier: BSD-3-Clause
// Ports under threads: many threads taking from one port (each packet exactly once,
// FIFO per producer), timeouts racing with arrivals, and asynchronous waits racing
// with signals, handle closes, cancels and the port's last close.
// Runs under ThreadSanitizer as well (the name contains "thread").
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "helpers.h"
#include "port_helpers.h"

#define STOP_KEY UINT64_MAX

#if defined(__SANITIZE_THREAD__)
#define SCALE 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SCALE 1
#endif
#endif
#ifndef SCALE
#define SCALE 4
#endif

static void start(pthread_t* t, void* (*fn)(void*), void* arg) {
  cr_assert_eq(pthread_create(t, NULL, fn, arg), 0);
}

static void join(pthread_t t) { cr_assert_eq(pthread_join(t, NULL), 0); }

// ---- Many threads on one port -----------------------------------------------------------

#define TAKERS 6
#define PACKETS (2000 * SCALE)

typedef struct takers {
  zx_handle_t port;
  _Atomic int seen[PACKETS];
  _Atomic int total;
} takers_t;

static void* taker_main(void* arg) {
  takers_t* t = arg;
  for (;;) {
    zx_port_packet_t p;
    zx_status_t st = zx_port_wait(t->port, ZX_TIME_INFINITE, &p);
    if (st != ZX_OK) abort();
    if (p.key == STOP_KEY) return NULL;
    if (p.key >= PACKETS || p.user.u64[1] != p.key + 1) abort();
    atomic_fetch_add(&t->seen[p.key], 1);
    atomic_fetch_add(&t->total, 1);
  }
}

Test(port_threads, each_packet_goes_to_exactly_one_waiter) {
  takers_t* t = calloc(1, sizeof(*t));
  cr_assert_not_null(t);
  t->port = mkport();
  pthread_t th[TAKERS];
  for (int i = 0; i < TAKERS; i++) start(&th[i], taker_main, t);
  for (uint64_t k = 0; k < PACKETS; k++) queue_key(t->port, k);
  for (int i = 0; i < TAKERS; i++) queue_key(t->port, STOP_KEY);
  for (int i = 0; i < TAKERS; i++) join(th[i]);
  cr_assert_eq(atomic_load(&t->total), PACKETS);
  for (int k = 0; k < PACKETS; k++) cr_assert_eq(atomic_load(&t->seen[k]), 1, "key %d", k);
  cr_assert(port_empty(t->port));
  cr_assert_eq(zx_handle_close(t->port), ZX_OK);
  free(t);
}

// Producers and consumers at once; consumers use short deadlines, so timeouts race
// with arrivals. A consumer takes packets in queue order, so the packets it gets from
// one producer come in that producer's order.
#define PRODUCERS 3
#define CONSUMERS 3
#define PER_PRODUCER (1000 * SCALE)

typedef struct flow {
  zx_handle_t port;
  _Atomic int seen[PRODUCERS * PER_PRODUCER];
  _Atomic int total;
  _Atomic int timeouts;
  _Atomic bool order_broken;
} flow_t;

typedef struct producer_arg {
  flow_t* f;
  uint64_t id;
} producer_arg_t;

static void* producer_main(void* arg) {
  producer_arg_t* a = arg;
  for (uint64_t i = 0; i < PER_PRODUCER; i++) {
    zx_port_packet_t p = user_packet(a->id * PER_PRODUCER + i);
    if (zx_port_queue(a->f->port, &p) != ZX_OK) abort();
    if (i % 64 == 0) zx_nanosleep(zx_deadline_after(ZX_USEC(50)));
  }
  return NULL;
}

static void* consumer_main(void* arg) {
  flow_t* f = arg;
  int64_t last[PRODUCERS];
  for (int i = 0; i < PRODUCERS; i++) last[i] = -1;
  while (atomic_load(&f->total) < PRODUCERS * PER_PRODUCER) {
    zx_port_packet_t p;
    zx_status_t st = zx_port_wait(f->port, zx_deadline_after(ZX_USEC(100)), &p);
    if (st == ZX_ERR_TIMED_OUT) {
      atomic_fetch_add(&f->timeouts, 1);
      continue;
    }
    if (st != ZX_OK || p.key >= PRODUCERS * PER_PRODUCER) abort();
    int prod = (int)(p.key / PER_PRODUCER);
    int64_t idx = (int64_t)(p.key % PER_PRODUCER);
    if (idx <= last[prod]) atomic_store(&f->order_broken, true);
    last[prod] = idx;
    atomic_fetch_add(&f->seen[p.key], 1);
    atomic_fetch_add(&f->total, 1);
  }
  return NULL;
}

Test(port_threads, producers_consumers_and_timeouts) {
  flow_t* f = calloc(1, sizeof(*f));
  cr_assert_not_null(f);
  f->port = mkport();
  pthread_t c[CONSUMERS], p[PRODUCERS];
  producer_arg_t pa[PRODUCERS];
  for (int i = 0; i < CONSUMERS; i++) start(&c[i], consumer_main, f);
  for (int i = 0; i < PRODUCERS; i++) {
    pa[i] = (producer_arg_t){f, (uint64_t)i};
    start(&p[i], producer_main, &pa[i]);
  }
  for (int i = 0; i < PRODUCERS; i++) join(p[i]);
  for (int i = 0; i < CONSUMERS; i++) join(c[i]);
  cr_assert_eq(atomic_load(&f->total), PRODUCERS * PER_PRODUCER);
  for (int k = 0; k < PRODUCERS * PER_PRODUCER; k++) cr_assert_eq(atomic_load(&f->seen[k]), 1);
  cr_assert_not(atomic_load(&f->order_broken));
  cr_assert(port_empty(f->port));
  cr_assert_eq(zx_handle_close(f->port), ZX_OK);
  free(f);
}

// ---- Asynchronous waits racing --------------------------------------------------------

typedef struct race {
  pthread_barrier_t go;
  zx_handle_t port, ev, handle;
  uint64_t key;
  zx_status_t cancel_status;
  bool by_key;
} race_t;

static void* signal_main(void* arg) {
  race_t* r = arg;
  pthread_barrier_wait(&r->go);
  if (zx_object_signal(r->ev, 0, ZX_EVENT_SIGNALED) != ZX_OK) abort();
  return NULL;
}

static void* close_main(void* arg) {
  race_t* r = arg;
  pthread_barrier_wait(&r->go);
  if (zx_handle_close(r->handle) != ZX_OK) abort();
  return NULL;
}

static void* cancel_main(void* arg) {
  race_t* r = arg;
  pthread_barrier_wait(&r->go);
  r->cancel_status = r->by_key ? zx_port_cancel_key(r->port, 0, r->key)
                               : zx_port_cancel(r->port, r->handle, r->key);
  return NULL;
}

// Counts the packets with `key` left in the port (and takes every packet).
static int drain(zx_handle_t port, uint64_t key) {
  int n = 0;
  zx_port_packet_t p;
  while (zx_port_wait(port, 0, &p) == ZX_OK) {
    if (p.key == key) n++;
  }
  return n;
}

#define ROUNDS (150 * SCALE)

// The wait's handle closes while the object is signaled: at most one packet, and the
// object keeps no waiter either way.
Test(port_threads, wait_async_vs_signal_vs_handle_close) {
  race_t r;
  r.port = mkport();
  int delivered = 0;
  for (int i = 0; i < ROUNDS; i++) {
    r.ev = mkev();
    r.handle = dup_with(r.ev, ZX_RIGHT_SAME_RIGHTS);
    r.key = (uint64_t)i;
    cr_assert_eq(zx_object_wait_async(r.handle, r.port, r.key, ZX_EVENT_SIGNALED, 0), ZX_OK);
    pthread_barrier_init(&r.go, NULL, 2);
    pthread_t a, b;
    start(&a, signal_main, &r);
    start(&b, close_main, &r);
    join(a);
    join(b);
    pthread_barrier_destroy(&r.go);
    int n = drain(r.port, r.key);
    cr_assert_leq(n, 1);
    delivered += n;
    cr_assert_eq(waiters_on(r.ev), 0);
    cr_assert_eq(zx_handle_close(r.ev), ZX_OK);
  }
  cr_assert_leq(delivered, ROUNDS);
  cr_assert_eq(zx_handle_close(r.port), ZX_OK);
}

// Zircon's CancelKeyDuringMatchRace: a thread takes from the port while another
// signals and a third cancels. For every wait, either its packet reached someone or
// the cancel succeeded, never both, never neither.
typedef struct taker1 {
  zx_handle_t port;
  uint64_t key;
  int got;
} taker1_t;

static void* take_one_main(void* arg) {
  taker1_t* t = arg;
  zx_port_packet_t p;
  if (zx_port_wait(t->port, ZX_TIME_INFINITE, &p) != ZX_OK) abort();
  t->got = p.key == t->key;
  return NULL;
}

Test(port_threads, cancel_vs_match_vs_wait) {
  race_t r;
  r.port = mkport();
  r.ev = mkev();
  r.handle = r.ev;
  zx_handle_t wake = mkev();
  for (int i = 0; i < ROUNDS; i++) {
    r.key = 1000 + (uint64_t)i;
    r.by_key = i % 2;
    cr_assert_eq(zx_object_signal(r.ev, ZX_EVENT_SIGNALED, 0), ZX_OK);
    cr_assert_eq(zx_object_signal(wake, ZX_EVENT_SIGNALED, 0), ZX_OK);
    cr_assert_eq(zx_object_wait_async(r.ev, r.port, r.key, ZX_EVENT_SIGNALED, 0), ZX_OK);
    cr_assert_eq(zx_object_wait_async(wake, r.port, 1, ZX_EVENT_SIGNALED, 0), ZX_OK);
    taker1_t t = {r.port, r.key, 0};
    pthread_barrier_init(&r.go, NULL, 2);
    pthread_t a, b, c;
    start(&c, take_one_main, &t);
    start(&a, signal_main, &r);
    start(&b, cancel_main, &r);
    join(a);
    join(b);
    // The taker leaves with the race's packet or with the wake-up's.
    cr_assert_eq(zx_object_signal(wake, 0, ZX_EVENT_SIGNALED), ZX_OK);
    join(c);
    pthread_barrier_destroy(&r.go);
    int packets = t.got + drain(r.port, r.key);
    bool canceled = r.cancel_status == ZX_OK;
    cr_assert(r.cancel_status == ZX_OK || r.cancel_status == ZX_ERR_NOT_FOUND);
    cr_assert_eq(packets + (canceled ? 1 : 0), 1, "round %d: %d packets, cancel %d", i,
                 packets, r.cancel_status);
    drain(r.port, 1);
    cr_assert_eq(waiters_on(r.ev), 0);
    cr_assert_eq(waiters_on(wake), 0);
  }
  zx_handle_t hs[] = {r.port, r.ev, wake};
  cr_assert_eq(zx_handle_close_many(hs, 3), ZX_OK);
}

// The port's last handle closes while its waits' objects are signaled and their
// handles closed: every object is left without a waiter.
#define EVENTS 8

typedef struct port_close_race {
  pthread_barrier_t go;
  zx_handle_t port;
  zx_handle_t ev[EVENTS];
  zx_handle_t dups[EVENTS];
} port_close_race_t;

static void* signal_all_main(void* arg) {
  port_close_race_t* r = arg;
  pthread_barrier_wait(&r->go);
  for (int i = 0; i < EVENTS; i++) {
    if (zx_object_signal(r->ev[i], 0, ZX_USER_SIGNAL_0) != ZX_OK) abort();
  }
  return NULL;
}

static void* close_dups_main(void* arg) {
  port_close_race_t* r = arg;
  pthread_barrier_wait(&r->go);
  for (int i = EVENTS; i-- > 0;) {
    if (zx_handle_close(r->dups[i]) != ZX_OK) abort();
  }
  return NULL;
}

static void* close_port_main(void* arg) {
  port_close_race_t* r = arg;
  pthread_barrier_wait(&r->go);
  if (zx_handle_close(r->port) != ZX_OK) abort();
  return NULL;
}

Test(port_threads, port_close_vs_signal_vs_handle_close) {
  port_close_race_t r;
  for (int round = 0; round < ROUNDS / 2; round++) {
    uint64_t before = handle_count_alive();
    r.port = mkport();
    for (int i = 0; i < EVENTS; i++) {
      r.ev[i] = mkev();
      r.dups[i] = dup_with(r.ev[i], ZX_RIGHT_SAME_RIGHTS);
      cr_assert_eq(zx_object_wait_async(r.ev[i], r.port, (uint64_t)i, ZX_USER_SIGNAL_0, 0),
                   ZX_OK);
      cr_assert_eq(zx_object_wait_async(r.dups[i], r.port, (uint64_t)i, ZX_USER_SIGNAL_0,
                                        ZX_WAIT_ASYNC_EDGE),
                   ZX_OK);
    }
    queue_key(r.port, 99);
    pthread_barrier_init(&r.go, NULL, 3);
    pthread_t a, b, c;
    start(&a, signal_all_main, &r);
    start(&b, close_dups_main, &r);
    start(&c, close_port_main, &r);
    join(a);
    join(b);
    join(c);
    pthread_barrier_destroy(&r.go);
    for (int i = 0; i < EVENTS; i++) {
      cr_assert_eq(waiters_on(r.ev[i]), 0);
      cr_assert_eq(zx_handle_close(r.ev[i]), ZX_OK);
    }
    cr_assert_eq(handle_count_alive(), before);
  }
}

// A storm on a few shared handles: asynchronous and synchronous waits, signals,
// cancels, duplicates and closes of the waited handles, and ports replaced under the
// others' feet. Every call returns one of its documented statuses; in the end no
// object keeps a waiter.
#define STORM_THREADS 4
#define STORM_EVENTS 4

typedef struct storm {
  zx_handle_t ev[STORM_EVENTS];
  _Atomic zx_handle_t port;
  _Atomic zx_handle_t dup[STORM_EVENTS];
  _Atomic bool bad_status;
  _Atomic int packets;
} storm_t;

static void check(storm_t* s, zx_status_t st, zx_status_t a, zx_status_t b, zx_status_t c) {
  if (st != a && st != b && st != c) atomic_store(&s->bad_status, true);
}

static void* storm_main(void* arg) {
  storm_t* s = arg;
  uint64_t seed = (uint64_t)(uintptr_t)&seed | 1;
  for (int i = 0; i < 400 * SCALE; i++) {
    uint64_t r = xorshift(&seed);
    int e = (int)((r >> 8) % STORM_EVENTS);
    zx_handle_t port = atomic_load(&s->port);
    zx_port_packet_t p;
    switch (r % 9) {
      case 0:
      case 1:
        check(s, zx_object_wait_async(s->ev[e], port, (uint64_t)e, ZX_USER_SIGNAL_0,
                                      (r >> 20) & 1 ? ZX_WAIT_ASYNC_EDGE : 0),
              ZX_OK, ZX_ERR_BAD_HANDLE, ZX_OK);
        break;
      case 2:
        check(s, zx_object_wait_async(atomic_load(&s->dup[e]), port, (uint64_t)e,
                                      ZX_USER_SIGNAL_0 | ZX_USER_SIGNAL_1, 0),
              ZX_OK, ZX_ERR_BAD_HANDLE, ZX_OK);
        break;
      case 3:
        check(s, zx_object_signal(s->ev[e], (r >> 20) & 1 ? ZX_USER_SIGNAL_0 : 0,
                                  (r >> 21) & 1 ? ZX_USER_SIGNAL_0 : ZX_USER_SIGNAL_1),
              ZX_OK, ZX_OK, ZX_OK);
        break;
      case 4:
        check(s, zx_port_cancel(port, s->ev[e], (uint64_t)e), ZX_OK, ZX_ERR_NOT_FOUND,
              ZX_ERR_BAD_HANDLE);
        break;
      case 5:
        check(s, zx_port_cancel_key(port, 0, (uint64_t)e), ZX_OK, ZX_ERR_NOT_FOUND,
              ZX_ERR_BAD_HANDLE);
        break;
      case 6: {
        zx_status_t st = zx_port_wait(port, (r >> 20) & 1 ? 0 : zx_deadline_after(ZX_USEC(50)),
                                      &p);
        check(s, st, ZX_OK, ZX_ERR_TIMED_OUT, ZX_ERR_BAD_HANDLE);
        if (st == ZX_OK) atomic_fetch_add(&s->packets, 1);
        break;
      }
      case 7: {
        // Replace a waited handle: the old value's waits end.
        zx_handle_t d = ZX_HANDLE_INVALID;
        if (zx_handle_duplicate(s->ev[e], ZX_RIGHT_SAME_RIGHTS, &d) != ZX_OK) {
          atomic_store(&s->bad_status, true);
          break;
        }
        zx_handle_t old = atomic_exchange(&s->dup[e], d);
        check(s, zx_handle_close(old), ZX_OK, ZX_OK, ZX_OK);
        break;
      }
      case 8: {
        // Replace the port: its waits end and its packets go.
        zx_handle_t np = ZX_HANDLE_INVALID;
        if (zx_port_create(0, &np) != ZX_OK) {
          atomic_store(&s->bad_status, true);
          break;
        }
        zx_handle_t old = atomic_exchange(&s->port, np);
        check(s, zx_handle_close(old), ZX_OK, ZX_OK, ZX_OK);
        break;
      }
    }
    zx_signals_t seen;
    if (i % 16 == 0) {
      check(s, zx_object_wait_one(s->ev[e], ZX_USER_SIGNAL_1, zx_deadline_after(ZX_USEC(20)),
                                  &seen),
            ZX_OK, ZX_ERR_TIMED_OUT, ZX_OK);
    }
  }
  return NULL;
}

Test(port_threads, storm) {
  storm_t* s = calloc(1, sizeof(*s));
  cr_assert_not_null(s);
  uint64_t before = handle_count_alive();
  atomic_store(&s->port, mkport());
  for (int i = 0; i < STORM_EVENTS; i++) {
    s->ev[i] = mkev();
    atomic_store(&s->dup[i], dup_with(s->ev[i], ZX_RIGHT_SAME_RIGHTS));
  }
  pthread_t th[STORM_THREADS];
  for (int i = 0; i < STORM_THREADS; i++) start(&th[i], storm_main, s);
  for (int i = 0; i < STORM_THREADS; i++) join(th[i]);
  cr_assert_not(atomic_load(&s->bad_status));
  cr_assert_eq(zx_handle_close(atomic_load(&s->port)), ZX_OK);
  for (int i = 0; i < STORM_EVENTS; i++) {
    cr_assert_eq(zx_handle_close(atomic_load(&s->dup[i])), ZX_OK);
    cr_assert_eq(waiters_on(s->ev[i]), 0);
    cr_assert_eq(zx_handle_close(s->ev[i]), ZX_OK);
  }
  cr_assert_eq(handle_count_alive(), before);
  free(s);
}
