// SPDX-License-Identifier: BSD-3-Clause
// Kernel objects: the common header every object type embeds (koid, reference
// counts, signals, waiters, name), and waiting on signals.
//
// Lifetimes. `refs` counts every reference: one per open handle plus one per
// internal holder (a child VMO holding its parent, a syscall in flight that looked the
// object up). `handles` counts open handles only. When `handles` drops to zero the
// object "dies" in Zircon's sense (ops->on_zero_handles runs once); when `refs` drops to
// zero its memory is released (ops->destroy).
//
// Locking. `lock` guards the fields tagged (l). It may be taken while a family lock
// is held (a VMO's ZERO_CHILDREN signal changes under its family's lock), and while
// it is held a waiter's notify callback takes one leaf lock: a synchronous wait's
// block lock (to record a wake-up and signal the waiting thread) or an asynchronous
// wait's port lock (to queue its packet). Order, as in docs/DESIGN.md:
// family rwlock -> object lock -> wait block lock | port lock. The handle table's shard
// locks are never held while taking any of them; the one shard lock taken under an
// object lock is a lookup's read side (an asynchronous wait checking, as it links, that
// its handle is still open). object_update_signals() and the other functions below take
// `lock` themselves, except the *_locked ones: callers must not hold it.
//
// Legend: (c) constant after init, (a) atomic, (l) guarded by `lock`.
#ifndef ZXVMO_SRC_OBJECT_H_
#define ZXVMO_SRC_OBJECT_H_

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include <zircon/syscalls.h>

#include "internal.h"

typedef struct zx_object zx_object_t;
typedef struct waiter waiter_t;

typedef struct object_ops {
  zx_obj_type_t type;
  // Whether waits (zx_object_wait_*) may observe its signals; not for ports and VMARs,
  // as in Zircon (their handles have no ZX_RIGHT_WAIT either).
  bool waitable;
  // Signals a user may set or clear with zx_object_signal (beyond the user signals).
  zx_signals_t user_settable;
  // Runs once, without any lock held, when the last handle is closed.
  void (*on_zero_handles)(zx_object_t* obj);
  // Releases the object's memory; runs when `refs` reaches zero.
  void (*destroy)(zx_object_t* obj);
} object_ops_t;

struct zx_object {
  const object_ops_t* ops;      // (c)
  zx_koid_t koid;               // (c)
  _Atomic uint64_t refs;        // (a)
  _Atomic uint64_t handles;     // (a)
  pthread_mutex_t lock;
  zx_signals_t signals;         // (l)
  waiter_t* waiters;            // (l) waits in progress on this object
  char name[ZX_MAX_NAME_LEN];   // (l) NUL-terminated
};

// Initialises the header: a fresh koid, refs = 1 (the caller's reference),
// handles = 0, the given initial signals, an empty name.
void object_init(zx_object_t* obj, const object_ops_t* ops, zx_signals_t initial);
void object_ref(zx_object_t* obj);
void object_unref(zx_object_t* obj);
// Keeps the object alive as an open handle does, without being one: a mapping keeps
// its VMO alive (docs/behavior.md §12). object_hold() must be called while the caller
// holds a handle or a hold (the object has not died); object_unhold() runs
// on_zero_handles if it was the last handle or hold. Each takes / drops a reference.
void object_hold(zx_object_t* obj);
// fork(): takes (releases) the lock that makes the process object (src/vmar/fork.c).
void process_fork_lock(void);
void process_fork_unlock(void);
void object_unhold(zx_object_t* obj);

// A wait in progress on one object, linked in its `waiters` list. A synchronous wait
// (object_wait_many) embeds one per object; an asynchronous wait (a port's observer,
// port.c) embeds one and sets `oneshot`. Legend: (c) constant while linked, (l) the
// object's lock.
struct waiter {
  waiter_t* next;          // (l)
  waiter_t* prev;          // (l)
  bool linked;             // (l) on the object's list
  bool oneshot;            // (c) unlinked before its first notification
  zx_handle_t handle;      // (c) the handle the wait came through
  zx_signals_t waitfor;    // (c)
  // Called with the object lock held, as Zircon notifies its observers: when a signal
  // rises while one of `waitfor` is asserted (`signals`: the object's signals then), and
  // when `handle` is closed or replaced (`canceled`). A one-shot waiter is off the list
  // by then and may be freed by the callback or anyone it hands it to; otherwise the
  // waiter stays linked until its owner unlinks it.
  void (*notify)(waiter_t* w, zx_signals_t signals, bool canceled);
};

// Clears `clear` then sets `set`, and notifies every waiter whose condition now holds.
void object_update_signals(zx_object_t* obj, zx_signals_t clear, zx_signals_t set);
zx_signals_t object_get_signals(zx_object_t* obj);

void object_get_name(zx_object_t* obj, char out[ZX_MAX_NAME_LEN]);
// Copies at most ZX_MAX_NAME_LEN - 1 bytes of `name` (stopping at a NUL).
void object_set_name(zx_object_t* obj, const char* name, size_t len);

// Waits until any of `waitfor[i]` is asserted on `objs[i]` for some i, the deadline
// passes, or handle `handles[i]` is closed. Fills `pending[i]` with each object's
// signals at wake-up. Returns ZX_OK, ZX_ERR_TIMED_OUT or ZX_ERR_CANCELED.
zx_status_t object_wait_many(zx_object_t* const* objs, const zx_handle_t* handles,
                             const zx_signals_t* waitfor, zx_signals_t* pending,
                             size_t count, zx_time_t deadline);

// Cancels every wait in progress through handle value `handle` on `obj` (the handle
// is being closed): synchronous ones return ZX_ERR_CANCELED, asynchronous ones end.
void object_cancel_waits(zx_object_t* obj, zx_handle_t handle);

// Asynchronous waits link themselves: under the object lock they read `signals`, decide
// and link `w` (which must not be linked); object_unlink_waiter() takes `w` off again,
// returning false if it was no longer linked (notified meanwhile).
void object_lock(zx_object_t* obj);
void object_unlock(zx_object_t* obj);
void object_link_waiter_locked(zx_object_t* obj, waiter_t* w);
bool object_unlink_waiter(zx_object_t* obj, waiter_t* w);

// Monotonic clock in nanoseconds.
zx_time_t clock_monotonic_ns(void);
// Sleeping until a deadline (object waits, port waits): a condition variable whose
// timed waits take CLOCK_MONOTONIC times, and deadline `t` (>= 0) as such a time.
void cond_init_monotonic(pthread_cond_t* c);
struct timespec timespec_from_ns(zx_time_t t);

#endif  // ZXVMO_SRC_OBJECT_H_
