// SPDX-License-Identifier: BSD-3-Clause
// Page sources: requests to a user pager and the threads waiting on them. See
// page_source.h for the model.
//
// A request's packet lives inside the request (an owned packet, port.h), so sending
// one never allocates; only creating the request does, and that happens before
// anything is sent. Resolving a request whose packet the pager has not read yet takes
// the packet back: the pager never sees a request that no longer needs an answer.
//
// The source drops its port reference when it is detached. Until then the source
// keeps the port alive; after it, the COMPLETE packet (which holds the source) sits in
// the port until read or until the port's last handle closes, so no cycle outlives
// both sides' handles.
#include "page_source.h"

#include <pthread.h>

#include "os.h"

struct page_request {
  page_request_t* next;  // (s->lock) outstanding list
  page_request_t* prev;  // (s->lock)
  page_source_t* src;    // (c) holds a reference
  uint32_t command;      // (c)
  uint64_t lo, hi;       // (c) page range
  uint32_t refs;         // (s->lock) waiters, plus one while the packet is in the port
  bool resolved;         // (s->lock)
  zx_status_t status;    // (s->lock) valid once resolved
  pthread_cond_t cond;   // waiters sleep on it with s->lock
  port_packet_t pkt;
};

struct page_source {
  pthread_mutex_t lock;
  _Atomic uint32_t refs;
  zx_koid_t pager;             // (c)
  port_t* port;                // (lock) holds a reference; NULL once detached
  uint64_t key;                // (c)
  bool trap_dirty;             // (c)
  bool detached;               // (lock)
  page_request_t* requests;    // (lock) outstanding, unsorted (there are few)
  port_packet_t complete;      // ZX_PAGER_VMO_COMPLETE, queued at most once
};

page_source_t* source_create(zx_koid_t pager, port_t* port, uint64_t key, bool trap_dirty) {
  page_source_t* s = os_calloc(1, sizeof(*s));
  if (!s) return NULL;
  s->pager = pager;
  int rc = pthread_mutex_init(&s->lock, NULL);
  ZX_ASSERT(rc == 0);
  atomic_init(&s->refs, 1);
  object_ref(port_obj(port));
  s->port = port;
  s->key = key;
  s->trap_dirty = trap_dirty;
  return s;
}

void source_ref(page_source_t* s) {
  uint32_t old = atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
  ZX_ASSERT(old > 0);
}

void source_unref(page_source_t* s) {
  uint32_t old = atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel);
  ZX_ASSERT(old > 0);
  if (old != 1) return;
  // Every request holds a reference and the port is dropped at detach or here.
  ZX_ASSERT(s->requests == NULL);
  if (s->port) object_unref(port_obj(s->port));
  pthread_mutex_destroy(&s->lock);
  os_free(s);
}

bool source_trap_dirty(const page_source_t* s) { return s->trap_dirty; }

zx_koid_t source_pager(const page_source_t* s) { return s->pager; }

bool source_detached(page_source_t* s) {
  pthread_mutex_lock(&s->lock);
  bool d = s->detached;
  pthread_mutex_unlock(&s->lock);
  return d;
}

// Drops one reference on `r`; returns true if it was the last (the caller then frees
// it with request_free once it has let go of s->lock).
static bool request_put_locked(page_request_t* r) {
  ZX_ASSERT(r->refs > 0);
  return --r->refs == 0;
}

static void request_free(page_request_t* r) {
  page_source_t* s = r->src;
  pthread_cond_destroy(&r->cond);
  os_free(r);
  source_unref(s);
}

// The pager read the packet, or the port discarded it.
static void request_packet_release(port_packet_t* p, bool delivered) {
  (void)delivered;
  page_request_t* r = (page_request_t*)((char*)p - offsetof(page_request_t, pkt));
  pthread_mutex_lock(&r->src->lock);
  bool last = request_put_locked(r);
  pthread_mutex_unlock(&r->src->lock);
  if (last) request_free(r);
}

static void complete_packet_release(port_packet_t* p, bool delivered) {
  (void)delivered;
  source_unref((page_source_t*)((char*)p - offsetof(page_source_t, complete)));
}

static page_request_t* find_locked(page_source_t* s, uint32_t command, uint64_t page) {
  for (page_request_t* r = s->requests; r; r = r->next) {
    if (r->command == command && r->lo <= page && page < r->hi) return r;
  }
  return NULL;
}

static void fill_packet(port_packet_t* p, uint64_t key, uint16_t command, uint64_t lo,
                        uint64_t hi) {
  p->pkt.key = key;
  p->pkt.type = ZX_PKT_TYPE_PAGE_REQUEST;
  p->pkt.status = ZX_OK;
  p->pkt.page_request.command = command;
  p->pkt.page_request.flags = 0;
  p->pkt.page_request.offset = lo << PAGE_SHIFT;
  p->pkt.page_request.length = (hi - lo) << PAGE_SHIFT;
}

zx_status_t source_request_locked(page_source_t* s, uint32_t command, uint64_t lo,
                                  uint64_t hi, page_request_t** out) {
  ZX_ASSERT(lo < hi);
  ZX_ASSERT(command == ZX_PAGER_VMO_READ || command == ZX_PAGER_VMO_DIRTY);
  pthread_mutex_lock(&s->lock);
  zx_status_t st = ZX_OK;
  if (s->detached) {
    st = ZX_ERR_BAD_STATE;
    goto out;
  }
  page_request_t* r = find_locked(s, command, lo);
  if (r) {
    r->refs++;
    *out = r;
    goto out;
  }
  // Ask only for what no outstanding request covers.
  for (page_request_t* o = s->requests; o; o = o->next) {
    if (o->command == command && o->lo > lo && o->lo < hi) hi = o->lo;
  }
  r = os_calloc(1, sizeof(*r));
  if (!r) {
    st = ZX_ERR_NO_MEMORY;
    goto out;
  }
  int rc = pthread_cond_init(&r->cond, NULL);
  ZX_ASSERT(rc == 0);
  source_ref(s);
  r->src = s;
  r->command = command;
  r->lo = lo;
  r->hi = hi;
  r->refs = 2;  // the caller, and the packet in the port
  r->next = s->requests;
  if (s->requests) s->requests->prev = r;
  s->requests = r;
  fill_packet(&r->pkt, s->key, (uint16_t)command, lo, hi);
  r->pkt.release = request_packet_release;
  port_queue_owned(s->port, &r->pkt);
  *out = r;
out:
  pthread_mutex_unlock(&s->lock);
  return st;
}

zx_status_t source_wait(page_request_t* r) {
  page_source_t* s = r->src;
  pthread_mutex_lock(&s->lock);
  while (!r->resolved) pthread_cond_wait(&r->cond, &s->lock);
  zx_status_t st = r->status;
  bool last = request_put_locked(r);
  pthread_mutex_unlock(&s->lock);
  if (last) request_free(r);
  return st;
}

// Takes `r` off the outstanding list, wakes its waiters with `status` and takes its
// packet back if the pager has not read it. Returns true if that dropped the last
// reference (the caller frees `r` after unlocking).
static bool resolve_locked(page_source_t* s, page_request_t* r, zx_status_t status) {
  if (r->prev) {
    r->prev->next = r->next;
  } else {
    s->requests = r->next;
  }
  if (r->next) r->next->prev = r->prev;
  r->next = r->prev = NULL;
  r->resolved = true;
  r->status = status;
  pthread_cond_broadcast(&r->cond);
  if (s->port && port_cancel_owned(s->port, &r->pkt)) return request_put_locked(r);
  return false;
}

// Resolves the outstanding requests of `command` (both commands if 0) overlapping
// [lo, hi): with `status` those whose first page lies in [lo, hi), with ZX_OK the
// others (their waiters retry and ask again for what is still missing); with `done`,
// only those whose every page satisfies it. Frees those no one holds any more.
static void resolve_matching(page_source_t* s, bool locked_by_caller, uint32_t command,
                             uint64_t lo, uint64_t hi, zx_status_t status,
                             bool (*done)(void* ctx, uint64_t page), void* ctx) {
  page_request_t* dead = NULL;  // freed after unlocking, linked through `next`
  if (!locked_by_caller) pthread_mutex_lock(&s->lock);
  page_request_t* next;
  for (page_request_t* r = s->requests; r; r = next) {
    next = r->next;
    if ((command != 0 && r->command != command) || r->hi <= lo || hi <= r->lo) continue;
    if (done) {
      bool all = true;
      for (uint64_t i = r->lo; i < r->hi && all; i++) all = done(ctx, i);
      if (!all) continue;
    }
    if (resolve_locked(s, r, r->lo >= lo ? status : ZX_OK)) {
      r->next = dead;
      dead = r;
    }
  }
  if (!locked_by_caller) pthread_mutex_unlock(&s->lock);
  while (dead) {
    page_request_t* r = dead;
    dead = r->next;
    request_free(r);
  }
}

void source_resolve_locked(page_source_t* s, uint32_t command, uint64_t lo, uint64_t hi,
                           bool (*done)(void* ctx, uint64_t page), void* ctx) {
  resolve_matching(s, false, command, lo, hi, ZX_OK, done, ctx);
}

void source_fail(page_source_t* s, uint64_t lo, uint64_t hi, zx_status_t status) {
  ZX_ASSERT(status != ZX_OK);
  resolve_matching(s, false, 0, lo, hi, status, NULL, NULL);
}

void source_detach(page_source_t* s, bool complete) {
  pthread_mutex_lock(&s->lock);
  if (s->detached) {
    pthread_mutex_unlock(&s->lock);
    return;
  }
  s->detached = true;
  // Waiters look again and find the source detached: what they still lack fails
  // with ZX_ERR_BAD_STATE, what is there (dirty pages stay) they can use.
  resolve_matching(s, true, 0, 0, UINT64_MAX, ZX_OK, NULL, NULL);
  port_t* port = s->port;
  s->port = NULL;
  if (complete) {
    fill_packet(&s->complete, s->key, ZX_PAGER_VMO_COMPLETE, 0, 0);
    s->complete.release = complete_packet_release;
    source_ref(s);
    port_queue_owned(port, &s->complete);
  }
  pthread_mutex_unlock(&s->lock);
  object_unref(port_obj(port));
}
