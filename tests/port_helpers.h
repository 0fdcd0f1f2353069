// SPDX-License-Identifier: BSD-3-Clause
// Helpers shared by the port tests (test_port.c, test_port_threads.c).
#ifndef ZXVMO_TESTS_PORT_HELPERS_H_
#define ZXVMO_TESTS_PORT_HELPERS_H_

#include <criterion/criterion.h>
#include <pthread.h>
#include <string.h>
#include <zircon/syscalls.h>
#include <zircon/syscalls/port.h>

#include "handle.h"
#include "object.h"

static inline zx_handle_t mkport(void) {
  zx_handle_t h = ZX_HANDLE_INVALID;
  cr_assert_eq(zx_port_create(0, &h), ZX_OK);
  return h;
}

static inline zx_handle_t mkev(void) {
  zx_handle_t h = ZX_HANDLE_INVALID;
  cr_assert_eq(zx_event_create(0, &h), ZX_OK);
  return h;
}

static inline zx_handle_t dup_with(zx_handle_t h, zx_rights_t r) {
  zx_handle_t d = ZX_HANDLE_INVALID;
  cr_assert_eq(zx_handle_duplicate(h, r, &d), ZX_OK);
  return d;
}

// A user packet with `key` whose payload words are key, key+1, ...
static inline zx_port_packet_t user_packet(uint64_t key) {
  zx_port_packet_t p;
  memset(&p, 0, sizeof(p));
  p.key = key;
  p.type = ZX_PKT_TYPE_USER;
  for (int i = 0; i < 4; i++) p.user.u64[i] = key + (uint64_t)i;
  return p;
}

static inline void queue_key(zx_handle_t port, uint64_t key) {
  zx_port_packet_t p = user_packet(key);
  cr_assert_eq(zx_port_queue(port, &p), ZX_OK);
}

// True if nothing can be taken from the port now.
static inline bool port_empty(zx_handle_t port) {
  zx_port_packet_t p;
  return zx_port_wait(port, 0, &p) == ZX_ERR_TIMED_OUT;
}

// White-box: the number of waits (synchronous or asynchronous) linked on the object
// behind `h`.
static inline int waiters_on(zx_handle_t h) {
  zx_object_t* obj;
  cr_assert_eq(handle_get(h, ZX_OBJ_TYPE_NONE, ZX_RIGHT_NONE, &obj, NULL), ZX_OK);
  pthread_mutex_lock(&obj->lock);
  int n = 0;
  for (waiter_t* w = obj->waiters; w != NULL; w = w->next) n++;
  pthread_mutex_unlock(&obj->lock);
  object_unref(obj);
  return n;
}

#endif
