// SPDX-License-Identifier: BSD-3-Clause
// The phase-fair reader-writer lock (see rwlock.h for the contract).
//
// State. Readers count their arrivals in `rin` and their departures in `rout`; a
// reader is inside or waiting exactly while it is counted in `rin` but not in `rout`.
// Writers take tickets (`win`) and are served in ticket order (`wout`).
//
// A writer, on its turn, sets its bits in `rin` with one atomic OR. That single step
// both closes the door (every reader counted after it sees the bits and waits) and
// tells the writer how many readers arrived before it (the count it returns). It then
// waits until `rout` has counted that many departures: those readers are inside, or
// waiting for the previous writer and about to be let in. It never waits for a reader
// that arrived after it.
//
// A waiting reader remembers the writer bits it saw and waits until they change. The
// bits include the parity of the writer's ticket (RW_PHID), so two consecutive writers
// never show the same bits: when writer A leaves and writer B sets its bits before a
// reader waiting on A looks again, the reader still sees a change and goes in. That
// is correct, and it is the phase-fairness: B counted that reader (it arrived before
// B's OR) and waits for it. The same bits as A's can only reappear after B leaves, and
// B cannot leave before the reader has been in and out, so a waiting reader cannot
// miss its turn.
//
// Sleeping. Each wait spins briefly (the holder may be running on another CPU and
// about to finish: a one-page read or a one-byte write is well under a microsecond),
// then sleeps on a futex. Sleepers announce themselves so that the fast paths make no
// system call when nobody sleeps:
//   - readers waiting for a writer set RW_RSLEEP in `rin`; the writer's unlock clears
//     it with its bits and wakes all of them if it was set;
//   - the draining writer stores its target in `wtarget`, then sets RW_WSLEEP in
//     `rout`; the reader whose departure completes the count wakes it;
//   - a writer waiting for its ticket sleeps on `wout` with the futex bitset
//     bit (ticket % 32), and the unlocking writer wakes the next ticket's bit if a
//     later ticket has been taken (`win` moved). Bits shared by tickets 32 apart only
//     cause spurious wake-ups, which the wait loops absorb.
// Each sleeper re-reads the word after announcing itself and passes the value it read
// to FUTEX_WAIT, which sleeps only if the word still holds it: a wake that comes
// between the check and the sleep is never lost.
#include "rwlock.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

_Static_assert(sizeof(_Atomic uint32_t) == sizeof(uint32_t), "futex words are 32-bit");
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "futex words must be lock-free atomics");

// Busy-wait iterations before sleeping: some tens of microseconds, about one read
// chunk (64 KiB) on another CPU, so that the common critical sections are waited out
// without two context switches. Waking a sleeper costs far more on a virtual machine
// (an idle vCPU takes tens of microseconds to run it): a thread faulting on a mapping
// while another streams a snapshot of it paid that on nearly every fault, and spinning
// ten times longer than before cut its cost per update in bench_bgsave by half. A
// holder that was preempted, or a long critical section, still ends in a sleep.
#define RW_SPIN 1000

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield" ::: "memory");
#endif
}

// Sleeps while *word == expected (or until woken, or spuriously). The callers re-check
// their condition in a loop, so every return is fine; anything but those returns is a
// bug (bad address, no futex support) and would make the loop spin forever.
static void futex_wait(_Atomic uint32_t* word, uint32_t expected, uint32_t bitset) {
  long rc = syscall(SYS_futex, (void*)word, FUTEX_WAIT_BITSET_PRIVATE, expected, NULL, NULL,
                    bitset);
  ZX_ASSERT(rc == 0 || errno == EAGAIN || errno == EINTR);
}

static void futex_wake(_Atomic uint32_t* word, int count, uint32_t bitset) {
  long rc = syscall(SYS_futex, (void*)word, FUTEX_WAKE_BITSET_PRIVATE, count, NULL, NULL,
                    bitset);
  ZX_ASSERT(rc >= 0);
}

static inline uint32_t ticket_bit(uint32_t ticket) { return 1u << (ticket & 31); }

void rw_init(rw_lock_t* l) {
  atomic_init(&l->rin, 0);
  atomic_init(&l->rout, 0);
  atomic_init(&l->win, 0);
  atomic_init(&l->wout, 0);
  atomic_init(&l->wtarget, 0);
  l->wheld = false;
}

void rw_destroy(rw_lock_t* l) {
  uint32_t rin = atomic_load_explicit(&l->rin, memory_order_relaxed);
  uint32_t rout = atomic_load_explicit(&l->rout, memory_order_relaxed);
  ZX_ASSERT(!l->wheld && (rin & RW_WBITS) == 0);
  ZX_ASSERT((rin & RW_CMASK) == (rout & RW_CMASK));
  ZX_ASSERT(atomic_load_explicit(&l->win, memory_order_relaxed) ==
            atomic_load_explicit(&l->wout, memory_order_relaxed));
}

// A reader that found writer bits `wbits` set waits until they change. It stays
// counted in `rin` meanwhile, which is what makes the next writer wait for it.
void rw_rdlock_slow(rw_lock_t* l, uint32_t wbits) {
  for (int i = 0; i < RW_SPIN; i++) {
    if ((atomic_load_explicit(&l->rin, memory_order_acquire) & RW_WBITS) != wbits) return;
    cpu_relax();
  }
  for (;;) {
    // An acquire RMW: if the bits changed, this synchronizes with the writer's unlock.
    // RW_RSLEEP may end up set with no sleeper (the bits had already changed); that
    // costs the next writer's unlock one needless wake, nothing more.
    uint32_t cur = atomic_fetch_or_explicit(&l->rin, RW_RSLEEP, memory_order_acquire);
    if ((cur & RW_WBITS) != wbits) return;
    futex_wait(&l->rin, cur | RW_RSLEEP, FUTEX_BITSET_MATCH_ANY);
  }
}

// A reader's departure brought `rout` to `departed` while a writer may sleep on it:
// wake it if this was the last departure it waits for. The writer stored `wtarget`
// before setting RW_WSLEEP, and the unlock's acquire made that store visible. A value
// from a later writer means the one that set the flag is done draining, so no wake is
// owed; an extra wake is harmless either way.
void rw_rdunlock_wake(rw_lock_t* l, uint32_t departed) {
  if ((departed & RW_CMASK) == atomic_load_explicit(&l->wtarget, memory_order_relaxed)) {
    futex_wake(&l->rout, 1, FUTEX_BITSET_MATCH_ANY);
  }
}

// Waits until it is ticket `t`'s turn. seq_cst pairs with rw_wrunlock: the waiter
// takes its ticket (add to `win`) then reads `wout`; the unlocker advances `wout` then
// reads `win`. In the single total order one of the two sees the other's write, so
// either the waiter sees its turn or the unlocker sees a ticket taken and wakes.
static void wait_turn(rw_lock_t* l, uint32_t t) {
  for (int i = 0; i < RW_SPIN; i++) {
    if (atomic_load_explicit(&l->wout, memory_order_acquire) == t) return;
    cpu_relax();
  }
  for (;;) {
    uint32_t cur = atomic_load_explicit(&l->wout, memory_order_seq_cst);
    if (cur == t) return;
    futex_wait(&l->wout, cur, ticket_bit(t));
  }
}

// Waits until `rout` has counted `target` departures (every reader that arrived
// before this writer closed the door). Only the writer whose turn it is gets here, so
// `wtarget` and RW_WSLEEP have a single owner at a time.
static void wait_drain(rw_lock_t* l, uint32_t target) {
  for (int i = 0; i < RW_SPIN; i++) {
    if ((atomic_load_explicit(&l->rout, memory_order_acquire) & RW_CMASK) == target) return;
    cpu_relax();
  }
  atomic_store_explicit(&l->wtarget, target, memory_order_relaxed);
  for (;;) {
    // Release publishes `wtarget` to the reader that sees RW_WSLEEP; acquire
    // synchronizes with the departures when the count is complete.
    uint32_t cur = atomic_fetch_or_explicit(&l->rout, RW_WSLEEP, memory_order_acq_rel);
    if ((cur & RW_CMASK) == target) break;
    futex_wait(&l->rout, cur | RW_WSLEEP, FUTEX_BITSET_MATCH_ANY);
  }
  // No reader can depart now (those counted are gone, later ones are kept out) until
  // our unlock, so clearing the flag races with nothing but a late, harmless wake.
  atomic_fetch_and_explicit(&l->rout, ~RW_WSLEEP, memory_order_relaxed);
}

void rw_wrlock(rw_lock_t* l) {
#if ZXVMO_CHECKS
  rw_debug_acquire(l);
#endif
  uint32_t t = atomic_fetch_add_explicit(&l->win, 1, memory_order_seq_cst);
  if (atomic_load_explicit(&l->wout, memory_order_seq_cst) != t) wait_turn(l, t);
  // Our turn: no other writer holds the lock or has its bits set. The bits were clear,
  // so OR sets exactly ours. acq_rel: acquire for the departures already counted.
  uint32_t bits = RW_PRES | ((t & 1) ? RW_PHID : 0);
  uint32_t r = atomic_fetch_or_explicit(&l->rin, bits, memory_order_acq_rel);
  ZX_ASSERT((r & RW_WBITS) == 0);
  uint32_t target = r & RW_CMASK;
  if ((atomic_load_explicit(&l->rout, memory_order_acquire) & RW_CMASK) != target) {
    wait_drain(l, target);
  }
  l->wheld = true;
}

void rw_wrunlock(rw_lock_t* l) {
#if ZXVMO_CHECKS
  rw_debug_release(l);
#endif
  ZX_ASSERT(l->wheld);
  l->wheld = false;
  // Readers first: clearing the bits lets in every reader counted so far, and the
  // next writer, which sets its bits only after `wout` moves below, waits for them.
  uint32_t o = atomic_fetch_and_explicit(&l->rin, ~(RW_WBITS | RW_RSLEEP),
                                         memory_order_release);
  ZX_ASSERT(o & RW_PRES);
  if (o & RW_RSLEEP) futex_wake(&l->rin, INT_MAX, FUTEX_BITSET_MATCH_ANY);
  uint32_t t = atomic_fetch_add_explicit(&l->wout, 1, memory_order_seq_cst);
  if (atomic_load_explicit(&l->win, memory_order_seq_cst) != t + 1) {
    futex_wake(&l->wout, INT_MAX, ticket_bit(t + 1));
  }
}

#if ZXVMO_CHECKS
// Locks held by this thread, to catch recursive acquisition (a latent deadlock that
// only bites when a writer arrives in between) and unlocking a lock not held. The
// first RW_DEBUG_HELD holds are tracked exactly; beyond that (the checker locks every
// family at once) further holds are only counted, so the checks stay free of false
// alarms: a recursion is reported only for a lock found in the table, and an unlock
// of an untracked lock is accepted while untracked holds remain.
#define RW_DEBUG_HELD 16
static _Thread_local rw_lock_t* t_held[RW_DEBUG_HELD];
static _Thread_local unsigned t_nheld;      // entries used in t_held
static _Thread_local uint64_t t_untracked;  // holds beyond the table

void rw_debug_acquire(rw_lock_t* l) {
  for (unsigned i = 0; i < t_nheld; i++) {
    if (t_held[i] == l) zxvmo_assert_fail(__FILE__, __LINE__, "rwlock taken recursively");
  }
  if (t_nheld < RW_DEBUG_HELD) {
    t_held[t_nheld++] = l;
  } else {
    t_untracked++;
  }
}

void rw_debug_release(rw_lock_t* l) {
  // Usually the most recent; otherwise the last entry fills the hole.
  for (unsigned i = t_nheld; i-- > 0;) {
    if (t_held[i] == l) {
      t_held[i] = t_held[--t_nheld];
      return;
    }
  }
  if (t_untracked > 0) {
    t_untracked--;
    return;
  }
  zxvmo_assert_fail(__FILE__, __LINE__, "rwlock unlocked by a thread not holding it");
}
#endif
