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
// it is held object.c takes exactly one other lock: a wait block's private lock, to
// record a wake-up and signal the waiting thread. Order, as in docs/DESIGN.md:
// family rwlock -> object lock -> wait block lock; the handle table's shard locks are
// never held together with any of them. object_update_signals() and the other
// functions below take `lock` themselves: callers must not hold it.
//
// Legend: (c) constant after init, (a) atomic, (l) guarded by `lock`.
#ifndef ZXVMO_SRC_OBJECT_H_
#define ZXVMO_SRC_OBJECT_H_

#include <pthread.h>
#include <stdatomic.h>

#include <zircon/syscalls.h>

#include "internal.h"

typedef struct zx_object zx_object_t;
typedef struct waiter waiter_t;

typedef struct object_ops {
  zx_obj_type_t type;
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

// Clears `clear` then sets `set`, and wakes every waiter whose condition now holds.
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
// is being closed); those waits return ZX_ERR_CANCELED.
void object_cancel_waits(zx_object_t* obj, zx_handle_t handle);

// Monotonic clock in nanoseconds.
zx_time_t clock_monotonic_ns(void);

#endif  // ZXVMO_SRC_OBJECT_H_
