// SPDX-License-Identifier: BSD-3-Clause
// Kernel objects: koids, reference counts, signals, names, and waiting on signals.
//
// Waiting. Every wait links one waiter_t (object.h) per object into that object's
// `waiters` list, and whoever changes an object's signals walks the list under the
// object lock and notifies exactly the waiters whose condition has just become true;
// closing a handle notifies the waiters linked through that handle value. Nothing polls
// and nothing wakes periodically. Two kinds of waiter share the list:
//
//  - a synchronous wait (object_wait_many(), here): one call owns one wait_block_t on
//    its stack (a mutex, a condition variable on CLOCK_MONOTONIC, the outcome flags)
//    and one sync_waiter_t per object; notifying one records the outcome in the block
//    and wakes its thread, which otherwise sleeps until its deadline. It stays linked
//    until the wait unlinks it, so a close after a match still makes it CANCELED;
//  - an asynchronous wait (zx_object_wait_async(), port.c): a one-shot observer that
//    object.c unlinks before notifying it; it queues a packet on its port.
//
//   object A: waiters -> [waiter 0] <-> [observer of a port] ...
//   object B: waiters -> [waiter 1]            |
//                            \                 v
//                             `-> wait_block (mutex, condvar, satisfied, canceled)
//
// Lock order: object lock -> wait block lock | port lock (a family lock may be held
// around both, see object.h). The wait block lock is private to this file, innermost,
// and held only to flip a flag and signal. Waking under the object lock is what keeps a
// block alive while it is woken: a wait unlinks each of its waiters under the matching
// object lock before its block leaves the stack.
//
// Closing a handle races with a wait that has looked the handle up but not yet linked
// its waiter. object_wait_many() therefore re-checks each handle after linking: a
// close either sees the linked waiter (and cancels it) or has already invalidated the
// handle (and the re-check cancels it). An asynchronous wait checks under the object
// lock, as it links (port.c).
//
// Legend for the structs below: (c) constant while linked, (l) guarded by the lock of
// the object the waiter is linked on, (b) guarded by the wait block's lock.
#include "object.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "handle.h"

typedef struct wait_block {
  pthread_mutex_t lock;
  pthread_cond_t cond;  // uses CLOCK_MONOTONIC, like deadlines
  bool satisfied;       // (b) some object asserted a signal it was waited for
  bool canceled;        // (b) some handle waited through was closed
} wait_block_t;

typedef struct sync_waiter {
  waiter_t base;
  wait_block_t* block;     // (c)
  bool canceled;           // (l) the handle was closed during the wait
  bool matched;            // (l) the object asserted a waited-for signal
  zx_signals_t observed;   // (l) the object's signals when it first matched: reported
                           //     as is, so a success always shows the signal it woke for
} sync_waiter_t;

// Koids 0 (invalid) and 1 (kernel) and the rest below ZX_KOID_FIRST are reserved.
static _Atomic uint64_t next_koid = ZX_KOID_FIRST;

void zxvmo_assert_fail(const char* file, int line, const char* expr) {
  fprintf(stderr, "zxvmo: assertion failed: %s:%d: %s\n", file, line, expr);
  fflush(stderr);
  abort();
}

zx_time_t clock_monotonic_ns(void) {
  struct timespec ts;
  int rc = clock_gettime(CLOCK_MONOTONIC, &ts);
  ZX_ASSERT(rc == 0);
  return (zx_time_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void object_init(zx_object_t* obj, const object_ops_t* ops, zx_signals_t initial) {
  ZX_ASSERT(ops != NULL && ops->destroy != NULL);
  obj->ops = ops;
  obj->koid = atomic_fetch_add_explicit(&next_koid, 1, memory_order_relaxed);
  atomic_init(&obj->refs, 1);
  atomic_init(&obj->handles, 0);
  int rc = pthread_mutex_init(&obj->lock, NULL);
  ZX_ASSERT(rc == 0);
  obj->signals = initial;
  obj->waiters = NULL;
  memset(obj->name, 0, sizeof(obj->name));
}

void object_ref(zx_object_t* obj) {
  uint64_t old = atomic_fetch_add_explicit(&obj->refs, 1, memory_order_relaxed);
  // Taking a reference needs an existing one; from zero the object may already be gone.
  ZX_ASSERT(old > 0);
}

// The last reference hands the object to ops->destroy, which tears down the header
// (obj->lock included) along with the rest.
void object_unref(zx_object_t* obj) {
  uint64_t old = atomic_fetch_sub_explicit(&obj->refs, 1, memory_order_acq_rel);
  ZX_ASSERT(old > 0);
  if (old != 1) return;
  // No wait can be linked: every wait holds a reference for its whole duration.
  ZX_ASSERT(obj->waiters == NULL);
  ZX_ASSERT(atomic_load_explicit(&obj->handles, memory_order_relaxed) == 0);
  obj->ops->destroy(obj);
}

void cond_init_monotonic(pthread_cond_t* c) {
  pthread_condattr_t attr;
  int rc = pthread_condattr_init(&attr);
  ZX_ASSERT(rc == 0);
  rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  ZX_ASSERT(rc == 0);
  rc = pthread_cond_init(c, &attr);
  ZX_ASSERT(rc == 0);
  pthread_condattr_destroy(&attr);
}

static void block_init(wait_block_t* b) {
  cond_init_monotonic(&b->cond);
  int rc = pthread_mutex_init(&b->lock, NULL);
  ZX_ASSERT(rc == 0);
  b->satisfied = false;
  b->canceled = false;
}

static void block_destroy(wait_block_t* b) {
  pthread_cond_destroy(&b->cond);
  pthread_mutex_destroy(&b->lock);
}

// Records the outcome and wakes the block's thread. Exactly one thread sleeps on a
// block, so one signal suffices.
static void block_wake(wait_block_t* b, bool cancel) {
  pthread_mutex_lock(&b->lock);
  if (cancel) {
    b->canceled = true;
  } else {
    b->satisfied = true;
  }
  pthread_cond_signal(&b->cond);
  pthread_mutex_unlock(&b->lock);
}

void object_lock(zx_object_t* obj) { pthread_mutex_lock(&obj->lock); }
void object_unlock(zx_object_t* obj) { pthread_mutex_unlock(&obj->lock); }

void object_link_waiter_locked(zx_object_t* obj, waiter_t* w) {
  ZX_ASSERT(!w->linked);
  w->prev = NULL;
  w->next = obj->waiters;
  if (obj->waiters != NULL) obj->waiters->prev = w;
  obj->waiters = w;
  w->linked = true;
}

static void waiter_unlink_locked(zx_object_t* obj, waiter_t* w) {
  ZX_ASSERT(w->linked);
  if (w->prev != NULL) {
    w->prev->next = w->next;
  } else {
    ZX_ASSERT(obj->waiters == w);
    obj->waiters = w->next;
  }
  if (w->next != NULL) w->next->prev = w->prev;
  w->next = w->prev = NULL;
  w->linked = false;
}

bool object_unlink_waiter(zx_object_t* obj, waiter_t* w) {
  pthread_mutex_lock(&obj->lock);
  bool was = w->linked;
  if (was) waiter_unlink_locked(obj, w);
  pthread_mutex_unlock(&obj->lock);
  return was;
}

// Notifies `w`, which is linked on `obj` (lock held); a one-shot waiter leaves the list
// first, as its callback may free it.
static void waiter_notify_locked(zx_object_t* obj, waiter_t* w, bool cancel) {
  if (w->oneshot) waiter_unlink_locked(obj, w);
  w->notify(w, obj->signals, cancel);
}

static void sync_notify(waiter_t* base, zx_signals_t signals, bool canceled) {
  sync_waiter_t* w = (sync_waiter_t*)base;
  if (canceled) {
    if (w->canceled) return;
    w->canceled = true;
  } else {
    if (w->matched) return;
    w->matched = true;
    w->observed = signals;
  }
  block_wake(w->block, canceled);
}

void object_update_signals(zx_object_t* obj, zx_signals_t clear, zx_signals_t set) {
  pthread_mutex_lock(&obj->lock);
  zx_signals_t old = obj->signals;
  zx_signals_t now = (old & ~clear) | set;
  obj->signals = now;
  // As in Zircon, only a change that raises some signal notifies, and it notifies every
  // waiter one of whose signals is then asserted. A synchronous waiter whose signal was
  // already asserted matched when it linked; an edge-triggered asynchronous one did not
  // (docs/behavior.md §13).
  if ((now & ~old) != 0) {
    waiter_t* next;
    for (waiter_t* w = obj->waiters; w != NULL; w = next) {
      next = w->next;
      if ((w->waitfor & now) != 0) waiter_notify_locked(obj, w, false);
    }
  }
  pthread_mutex_unlock(&obj->lock);
}

zx_signals_t object_get_signals(zx_object_t* obj) {
  pthread_mutex_lock(&obj->lock);
  zx_signals_t s = obj->signals;
  pthread_mutex_unlock(&obj->lock);
  return s;
}

void object_get_name(zx_object_t* obj, char out[ZX_MAX_NAME_LEN]) {
  pthread_mutex_lock(&obj->lock);
  memcpy(out, obj->name, ZX_MAX_NAME_LEN);
  pthread_mutex_unlock(&obj->lock);
}

void object_set_name(zx_object_t* obj, const char* name, size_t len) {
  char tmp[ZX_MAX_NAME_LEN];
  memset(tmp, 0, sizeof(tmp));
  size_t n = 0;
  while (n < len && n < ZX_MAX_NAME_LEN - 1 && name[n] != '\0') {
    tmp[n] = name[n];
    n++;
  }
  pthread_mutex_lock(&obj->lock);
  memcpy(obj->name, tmp, ZX_MAX_NAME_LEN);
  pthread_mutex_unlock(&obj->lock);
}

void object_cancel_waits(zx_object_t* obj, zx_handle_t handle) {
  pthread_mutex_lock(&obj->lock);
  waiter_t* next;
  for (waiter_t* w = obj->waiters; w != NULL; w = next) {
    next = w->next;
    if (w->handle == handle) waiter_notify_locked(obj, w, true);
  }
  pthread_mutex_unlock(&obj->lock);
}

struct timespec timespec_from_ns(zx_time_t t) {
  ZX_ASSERT(t >= 0);
  struct timespec ts;
  ts.tv_sec = (time_t)(t / 1000000000);
  ts.tv_nsec = (long)(t % 1000000000);
  return ts;
}

// Sleeps on `b` until it is woken or `deadline` passes. Called with b->lock held.
static void block_sleep_locked(wait_block_t* b, zx_time_t deadline) {
  if (deadline == ZX_TIME_INFINITE) {
    while (!b->satisfied && !b->canceled) pthread_cond_wait(&b->cond, &b->lock);
    return;
  }
  // A deadline already past checks once, without sleeping.
  if (deadline <= clock_monotonic_ns()) return;
  struct timespec ts = timespec_from_ns(deadline);
  while (!b->satisfied && !b->canceled) {
    int rc = pthread_cond_timedwait(&b->cond, &b->lock, &ts);
    if (rc == ETIMEDOUT) return;
    ZX_ASSERT(rc == 0);
  }
}

zx_status_t object_wait_many(zx_object_t* const* objs, const zx_handle_t* handles,
                             const zx_signals_t* waitfor, zx_signals_t* pending,
                             size_t count, zx_time_t deadline) {
  ZX_ASSERT(count <= ZX_WAIT_MANY_MAX_ITEMS);
  wait_block_t block;
  block_init(&block);
  sync_waiter_t ws[ZX_WAIT_MANY_MAX_ITEMS];

  for (size_t i = 0; i < count; i++) {
    sync_waiter_t* w = &ws[i];
    w->base = (waiter_t){.handle = handles[i], .waitfor = waitfor[i], .notify = sync_notify};
    w->block = &block;
    w->canceled = false;
    w->matched = false;
    w->observed = 0;
    pthread_mutex_lock(&objs[i]->lock);
    object_link_waiter_locked(objs[i], &w->base);
    if ((objs[i]->signals & waitfor[i]) != 0) sync_notify(&w->base, objs[i]->signals, false);
    pthread_mutex_unlock(&objs[i]->lock);
  }
  // See the file comment: a close that ran before the links cannot have seen them.
  for (size_t i = 0; i < count; i++) {
    if (!handle_refers_to(handles[i], objs[i])) {
      pthread_mutex_lock(&objs[i]->lock);
      sync_notify(&ws[i].base, objs[i]->signals, true);
      pthread_mutex_unlock(&objs[i]->lock);
    }
  }

  pthread_mutex_lock(&block.lock);
  block_sleep_locked(&block, deadline);
  pthread_mutex_unlock(&block.lock);

  bool any_canceled = false;
  for (size_t i = 0; i < count; i++) {
    pthread_mutex_lock(&objs[i]->lock);
    waiter_unlink_locked(objs[i], &ws[i].base);
    pending[i] = ws[i].matched ? ws[i].observed : objs[i]->signals;
    if (ws[i].canceled) {
      pending[i] |= ZX_SIGNAL_HANDLE_CLOSED;
      any_canceled = true;
    }
    pthread_mutex_unlock(&objs[i]->lock);
  }

  // Every waiter is unlinked, so the flags are final; a wake that landed after the
  // sleep ended still counts, as the signal was asserted before the wait returned.
  pthread_mutex_lock(&block.lock);
  bool satisfied = block.satisfied;
  pthread_mutex_unlock(&block.lock);
  block_destroy(&block);

  if (any_canceled) return ZX_ERR_CANCELED;
  return satisfied ? ZX_OK : ZX_ERR_TIMED_OUT;
}

void object_hold(zx_object_t* obj) {
  atomic_fetch_add_explicit(&obj->handles, 1, memory_order_relaxed);
  object_ref(obj);
}

void object_unhold(zx_object_t* obj) {
  uint64_t old = atomic_fetch_sub_explicit(&obj->handles, 1, memory_order_acq_rel);
  ZX_ASSERT(old > 0);
  if (old == 1 && obj->ops->on_zero_handles != NULL) obj->ops->on_zero_handles(obj);
  object_unref(obj);
}
