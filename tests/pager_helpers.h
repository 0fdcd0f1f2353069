// SPDX-License-Identifier: BSD-3-Clause
// Test fixture for user pagers: a pager and its port, packet expectations, supplying
// pages with a known pattern, and accesses run on their own thread (they block until
// the pager answers).
#ifndef ZXVMO_TESTS_PAGER_HELPERS_H_
#define ZXVMO_TESTS_PAGER_HELPERS_H_

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <zircon/syscalls-next.h>
#include <zircon/syscalls.h>

#include "helpers.h"

typedef struct pg_env {
  zx_handle_t pager;
  zx_handle_t port;
} pg_env_t;

static inline pg_env_t pg_env(void) {
  pg_env_t e;
  cr_assert_eq(zx_pager_create(0, &e.pager), ZX_OK);
  cr_assert_eq(zx_port_create(0, &e.port), ZX_OK);
  return e;
}

static inline zx_handle_t pg_vmo(const pg_env_t* e, uint64_t pages, uint32_t opts,
                                 uint64_t key) {
  zx_handle_t v = ZX_HANDLE_INVALID;
  cr_assert_eq(zx_pager_create_vmo(e->pager, opts, e->port, key, pages * PG, &v), ZX_OK);
  return v;
}

// The byte the pattern puts at offset `off` (of the pager VMO) for `seed`.
static inline uint8_t pg_pat(uint64_t off, uint8_t seed) {
  return (uint8_t)(seed + off / PG * 13u + off * 5u + 3u);
}

// Supplies pages [first, first + n) of `vmo` filled with the pattern for `seed`.
static inline void pg_supply(const pg_env_t* e, zx_handle_t vmo, uint64_t first, uint64_t n,
                             uint8_t seed) {
  zx_handle_t aux;
  cr_assert_eq(zx_vmo_create(n * PG, 0, &aux), ZX_OK);
  uint8_t* buf = malloc(n * PG);
  cr_assert(buf != NULL);
  for (uint64_t i = 0; i < n * PG; i++) buf[i] = pg_pat(first * PG + i, seed);
  cr_assert_eq(zx_vmo_write(aux, buf, 0, n * PG), ZX_OK);
  free(buf);
  cr_assert_eq(zx_pager_supply_pages(e->pager, vmo, first * PG, n * PG, aux, 0), ZX_OK);
  zx_handle_close(aux);
}

// True if the bytes of [off, off + len) of vmo follow the pattern for `seed`.
static inline bool pg_check(zx_handle_t vmo, uint64_t off, uint64_t len, uint8_t seed) {
  uint8_t* buf = malloc(len);
  cr_assert(buf != NULL);
  cr_assert_eq(zx_vmo_read(vmo, buf, off, len), ZX_OK);
  bool ok = true;
  for (uint64_t i = 0; i < len && ok; i++) ok = buf[i] == pg_pat(off + i, seed);
  free(buf);
  return ok;
}

// The next packet within `ms` milliseconds, if any.
static inline bool pg_next(zx_handle_t port, int ms, zx_port_packet_t* pkt) {
  zx_status_t st = zx_port_wait(port, zx_deadline_after((zx_duration_t)ms * 1000000), pkt);
  if (st == ZX_ERR_TIMED_OUT) return false;
  cr_assert_eq(st, ZX_OK);
  return true;
}

// Expects the next packet to be a page request (command, key, pages) with every
// other field zero, as Zircon sends them.
static inline void pg_expect(zx_handle_t port, uint64_t key, uint16_t cmd, uint64_t first,
                             uint64_t n) {
  zx_port_packet_t p;
  cr_assert(pg_next(port, 5000, &p), "no packet: expected cmd %u [%lu, +%lu)", cmd,
            (unsigned long)first, (unsigned long)n);
  zx_packet_page_request_t want;
  memset(&want, 0, sizeof(want));
  want.command = cmd;
  want.offset = first * PG;
  want.length = n * PG;
  cr_assert_eq(p.type, ZX_PKT_TYPE_PAGE_REQUEST);
  cr_assert_eq(p.key, key);
  cr_assert_eq(p.status, ZX_OK);
  cr_assert(memcmp(&p.page_request, &want, sizeof(want)) == 0,
            "got cmd %u flags %u [%#lx, +%#lx), want cmd %u [%#lx, +%#lx)",
            p.page_request.command, p.page_request.flags,
            (unsigned long)p.page_request.offset, (unsigned long)p.page_request.length,
            cmd, (unsigned long)want.offset, (unsigned long)want.length);
}

// Expects no packet within a short while.
static inline void pg_expect_none(zx_handle_t port) {
  zx_port_packet_t p;
  bool got = pg_next(port, 50, &p);
  cr_assert(!got, "unexpected packet type %u cmd %u [%#lx, +%#lx)", p.type,
            p.page_request.command, (unsigned long)p.page_request.offset,
            (unsigned long)p.page_request.length);
}

// ---- accesses on their own thread --------------------------------------------

typedef enum { OP_READ, OP_WRITE, OP_COMMIT, OP_ZERO } pg_op_kind_t;

typedef struct pg_op {
  pthread_t thread;
  pg_op_kind_t kind;
  zx_handle_t vmo;
  uint64_t off, len;
  uint8_t* buf;
  zx_status_t status;
  pthread_mutex_t lock;
  pthread_cond_t cond;
  bool done;
} pg_op_t;

static inline void* pg_op_main(void* arg) {
  pg_op_t* op = arg;
  zx_status_t st;
  switch (op->kind) {
    case OP_READ:
      st = zx_vmo_read(op->vmo, op->buf, op->off, op->len);
      break;
    case OP_WRITE:
      st = zx_vmo_write(op->vmo, op->buf, op->off, op->len);
      break;
    case OP_ZERO:
      st = zx_vmo_op_range(op->vmo, ZX_VMO_OP_ZERO, op->off, op->len, NULL, 0);
      break;
    default:
      st = zx_vmo_op_range(op->vmo, ZX_VMO_OP_COMMIT, op->off, op->len, NULL, 0);
      break;
  }
  pthread_mutex_lock(&op->lock);
  op->status = st;
  op->done = true;
  pthread_cond_broadcast(&op->cond);
  pthread_mutex_unlock(&op->lock);
  return NULL;
}

// Starts an access of [off, off + len) of vmo; a write writes byte `fill`.
static inline pg_op_t* pg_op_start(pg_op_kind_t kind, zx_handle_t vmo, uint64_t off,
                                   uint64_t len, uint8_t fill) {
  pg_op_t* op = calloc(1, sizeof(*op));
  cr_assert(op != NULL);
  op->kind = kind;
  op->vmo = vmo;
  op->off = off;
  op->len = len;
  op->buf = malloc(len ? len : 1);
  cr_assert(op->buf != NULL);
  memset(op->buf, fill, len);
  pthread_mutex_init(&op->lock, NULL);
  pthread_cond_init(&op->cond, NULL);
  cr_assert_eq(pthread_create(&op->thread, NULL, pg_op_main, op), 0);
  return op;
}

// Whether the access has finished within `ms` milliseconds.
static inline bool pg_op_done_within(pg_op_t* op, int ms) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_sec += ms / 1000;
  ts.tv_nsec += (long)(ms % 1000) * 1000000;
  if (ts.tv_nsec >= 1000000000) {
    ts.tv_sec++;
    ts.tv_nsec -= 1000000000;
  }
  pthread_mutex_lock(&op->lock);
  while (!op->done && pthread_cond_timedwait(&op->cond, &op->lock, &ts) == 0) {
  }
  bool done = op->done;
  pthread_mutex_unlock(&op->lock);
  return done;
}

// Waits for the access to finish and returns its status (the buffer is freed; for a
// read, copies it to `out` first if not NULL).
static inline zx_status_t pg_op_join(pg_op_t* op, uint8_t* out) {
  cr_assert(pg_op_done_within(op, 10000), "access still blocked");
  pthread_join(op->thread, NULL);
  zx_status_t st = op->status;
  if (out) memcpy(out, op->buf, op->len);
  pthread_mutex_destroy(&op->lock);
  pthread_cond_destroy(&op->cond);
  free(op->buf);
  free(op);
  return st;
}

#endif  // ZXVMO_TESTS_PAGER_HELPERS_H_
