// SPDX-License-Identifier: BSD-3-Clause
// A phase-fair reader-writer lock: neither readers nor writers can be starved.
//
// Why not pthread_rwlock_t: glibc's default rwlock prefers readers, so a stream of
// overlapping readers keeps a writer out for as long as the stream lasts (a 1-byte
// zx_vmo_write waited 12.6 s behind three threads streaming 1 MiB reads). The project
// rule is that any thread may call anything at any time and none can be starved.
//
// Fairness (the contract):
//   - A writer that arrives closes the door: readers arriving after it wait until it
//     has had its turn. It waits only for the readers already inside when it arrived,
//     and for the writers that arrived before it (writers go first-come, first-served).
//   - When a writer leaves, every reader waiting at that moment goes in before the
//     next writer (the next writer waits for them as "already inside").
//   So readers and writers alternate in phases: a reader waits for at most one writer
//   phase, and a writer for at most one reader phase per writer ahead of it, plus one.
//
// Cost: an uncontended read lock and unlock are one atomic add each, with no system
// call; an uncontended write lock and unlock are four atomic read-modify-writes and
// three loads together. Waiting spins briefly (a few microseconds) and then sleeps on
// a futex: nothing burns a CPU for long.
//
// Contracts:
//   - Not recursive. A thread must not take either side of a lock it already holds:
//     taking the read side twice deadlocks as soon as a writer arrives between the two
//     (the writer waits for the first hold; the second waits for the writer). Checking
//     builds (ZXVMO_CHECKS) assert this on every acquisition, and that the unlocking
//     thread holds the lock; every call site of one lock must then be compiled with
//     the same ZXVMO_CHECKS (the library's are).
//   - The thread that locked unlocks.
//   - Process-private: the lock uses private futexes and must not be placed in memory
//     shared between processes.
//   - At most 2^24 - 1 threads may be inside or waiting for the read side at once.
//
// Initialisation: RW_LOCK_INIT for static storage, rw_init() otherwise. An all-zero
// lock is a valid unlocked lock, so zeroed (calloc) memory needs no init call either.
//
// Memory ordering. Every modification of `rin` and `rout` after initialisation is a
// read-modify-write, so every later read-modify-write continues the release sequence
// of an earlier release: an acquire that reads any later value synchronizes with every
// earlier release on the same word. With that:
//   - writer unlock -> reader lock: the writer's release RMW on `rin` (clearing its
//     bits) is read, directly or through later RMWs, by the reader's acquire RMW or
//     acquire load on `rin`;
//   - reader unlock -> writer lock: the reader's release RMW on `rout` is read by the
//     writer's acquire load or RMW that finds the departure count complete;
//   - writer unlock -> next writer: through `wout` (release add, acquire load).
// `wheld` is a plain field: it is written only by the exclusive holder and read only
// by holders, and the edges above order those accesses.
#ifndef ZXVMO_SRC_RWLOCK_H_
#define ZXVMO_SRC_RWLOCK_H_

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "internal.h"

typedef struct rw_lock {
  // Reader arrivals: (count << 8) | writer bits (RW_PRES, RW_PHID) | RW_RSLEEP.
  _Atomic uint32_t rin;
  // Reader departures: (count << 8) | RW_WSLEEP.
  _Atomic uint32_t rout;
  _Atomic uint32_t win;      // writer tickets handed out
  _Atomic uint32_t wout;     // writer tickets served: the ticket whose turn it is
  _Atomic uint32_t wtarget;  // departure count the writer sleeping on `rout` waits for
  bool wheld;                // a writer holds the lock (see "Memory ordering")
} rw_lock_t;

#define RW_LOCK_INIT { .rin = 0 }

// Bit layout of `rin` and `rout` (shared with rwlock.c).
#define RW_PRES 0x1u                // rin: a writer is draining readers or holds the lock
#define RW_PHID 0x2u                // rin: parity of that writer's ticket (see rwlock.c)
#define RW_WBITS (RW_PRES | RW_PHID)
#define RW_RSLEEP 0x4u              // rin: a reader may be asleep on `rin`
#define RW_WSLEEP 0x1u              // rout: the draining writer may be asleep on `rout`
#define RW_RINC 0x100u              // one reader in the count fields
#define RW_CMASK 0xFFFFFF00u        // the count field of `rin` and `rout`

void rw_init(rw_lock_t* l);
// The lock must be unlocked, with no thread waiting; asserts so.
void rw_destroy(rw_lock_t* l);

void rw_wrlock(rw_lock_t* l);
void rw_wrunlock(rw_lock_t* l);

// Slow paths of the inline functions below.
void rw_rdlock_slow(rw_lock_t* l, uint32_t wbits);
void rw_rdunlock_wake(rw_lock_t* l, uint32_t departed);
#if ZXVMO_CHECKS
void rw_debug_acquire(rw_lock_t* l);
void rw_debug_release(rw_lock_t* l);
#endif

// Read side. The fast path is one atomic add: a reader counts itself in `rin` and, if
// no writer bits were set, it is in (a writer that sets them later will wait for it).
static inline void rw_rdlock(rw_lock_t* l) {
#if ZXVMO_CHECKS
  rw_debug_acquire(l);
#endif
  uint32_t r = atomic_fetch_add_explicit(&l->rin, RW_RINC, memory_order_acquire);
  if (ZX_UNLIKELY(r & RW_WBITS)) rw_rdlock_slow(l, r & RW_WBITS);
}

// acq_rel rather than release: when RW_WSLEEP is seen, the acquire half makes the
// sleeping writer's `wtarget` visible (it was stored before the writer set the flag).
// On x86 both are the same instruction.
static inline void rw_rdunlock(rw_lock_t* l) {
#if ZXVMO_CHECKS
  rw_debug_release(l);
#endif
  uint32_t o = atomic_fetch_add_explicit(&l->rout, RW_RINC, memory_order_acq_rel);
  if (ZX_UNLIKELY(o & RW_WSLEEP)) rw_rdunlock_wake(l, o + RW_RINC);
}

// Releases whichever side the calling thread holds.
static inline void rw_unlock(rw_lock_t* l) {
  if (l->wheld) {
    rw_wrunlock(l);
  } else {
    rw_rdunlock(l);
  }
}

#endif  // ZXVMO_SRC_RWLOCK_H_
