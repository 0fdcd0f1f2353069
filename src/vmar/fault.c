// SPDX-License-Identifier: BSD-3-Clause
// The fault path: SIGBUS from userfaultfd (SIGBUS mode) and SIGSEGV, the only two ways
// the kernel tells a thread that an access to a mapping needs the library.
//
// userfaultfd in SIGBUS mode raises SIGBUS in the faulting thread for a missing page
// or a write to a write-protected one in a registered range; the handler serves it
// there (mapping_fault_locked) and returns, and the access is retried. No thread is
// woken and no other thread waits for a handler thread: a fault costs a signal
// delivery and the work itself. The price: a fault raised by the kernel on the
// program's behalf (read(2) into a page not yet populated or write-protected) cannot
// be served and the system call fails with EFAULT (docs/DESIGN.md).
//
// Coexistence: a signal for an address outside the root VMAR, or a genuine fault
// inside it (past a VMO's end, unmapped or protected memory), goes to the handler the
// program had installed before, or to the default action (the process dies of the
// right signal). Library code that copies to or from a user buffer that lies in the
// root VMAR does so with no lock held, through fault_probe_copy, which turns a genuine
// fault into a return value (ZX_ERR_INVALID_ARGS for the caller).
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <string.h>
#include <ucontext.h>

#include "mapping.h"
#include "os.h"
#include "page_source.h"
#include "vmar.h"

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static zx_status_t g_init_status;
static bool g_inited;                // (g_once)
static struct sigaction g_old_bus;   // (g_once) the program's handlers before ours
static struct sigaction g_old_segv;
// Set while fault_probe_copy copies. volatile: the stores around the memcpy must stay,
// although nothing the compiler sees reads them (the signal handler does).
static _Thread_local sigjmp_buf* volatile t_probe;

static bool fault_is_write(const void* uc) {
#if defined(__x86_64__)
  // Bit 1 of the page-fault error code: the access was a write.
  return (((const ucontext_t*)uc)->uc_mcontext.gregs[REG_ERR] & 2) != 0;
#else
  (void)uc;
  return true;  // unknown: serve it as a write (commits a page a read would not)
#endif
}

// A child of fork() serves faults from the state the fork left (fork.c); its threads
// take turns.
static pthread_mutex_t g_child_lock = PTHREAD_MUTEX_INITIALIZER;

static fault_result_t serve_child(uintptr_t addr) {
  pthread_mutex_lock(&g_child_lock);
  mapping_t* m = aspace_lookup(addr);
  fault_result_t r = m ? mapping_fault_child(m, addr) : FAULT_RESOLVED;
  pthread_mutex_unlock(&g_child_lock);
  return r;
}

static fault_result_t serve(uintptr_t addr, bool write) {
  if (process_forked()) return serve_child(addr);
  aspace_rdlock();
  mapping_t* m = aspace_lookup(addr);
  // No mapping: another thread unmapped it after the access faulted. Retrying meets
  // whatever is there now (a placeholder: SIGSEGV, as for any unmapped access).
  fault_result_t r = FAULT_RESOLVED;
  struct page_request* req = NULL;
  if (m) {
    family_t* fam = m->vmo->fam;
    family_wrlock(fam);
    r = mapping_fault_locked(m, addr, write, &req);
    vmo_after_op_locked(fam);
    family_unlock(fam);
  }
  aspace_unlock();
  if (r == FAULT_WAIT) {
    // A pager must answer first: wait with no lock held (a pager that never answers
    // blocks this thread only, as on Zircon), then retry the access, which may fault
    // again. A failed or abandoned request is the access's fault: SIGBUS.
    r = source_wait(req) == ZX_OK ? FAULT_RESOLVED : FAULT_GENUINE;
  }
  // Over the page budget, clean pages of pager VMOs make room: retry the access.
  if (r == FAULT_NO_MEMORY && vmo_evict_for_budget()) r = FAULT_RESOLVED;
  return r;
}

static void chain(int sig, siginfo_t* si, void* uc, const struct sigaction* old) {
  if (old->sa_flags & SA_SIGINFO) {
    old->sa_sigaction(sig, si, uc);
  } else if (old->sa_handler == SIG_DFL || old->sa_handler == SIG_IGN) {
    // The access is retried on return, now under the default action: the process
    // dies of this signal, as it would without zxvmo.
    os_signal_default(sig);
  } else {
    old->sa_handler(sig);
  }
}

static void on_sigbus(int sig, siginfo_t* si, void* uc) {
  int saved = errno;
  uintptr_t addr = (uintptr_t)si->si_addr;
  if (aspace_contains(addr, 1)) {
    if (serve(addr, fault_is_write(uc)) == FAULT_RESOLVED) {
      errno = saved;
      return;
    }
    if (t_probe) siglongjmp(*t_probe, 1);
  }
  errno = saved;
  chain(sig, si, uc, &g_old_bus);
}

static void on_sigsegv(int sig, siginfo_t* si, void* uc) {
  if (t_probe && aspace_contains((uintptr_t)si->si_addr, 1)) siglongjmp(*t_probe, 1);
  chain(sig, si, uc, &g_old_segv);
}

static void init_once(void) {
  g_inited = true;
  g_init_status = os_uffd_init();
  if (g_init_status != ZX_OK) return;
  if (!os_signal_install(SIGBUS, on_sigbus, &g_old_bus) ||
      !os_signal_install(SIGSEGV, on_sigsegv, &g_old_segv)) {
    g_init_status = ZX_ERR_NO_MEMORY;
  }
}

zx_status_t fault_init(void) {
  pthread_once(&g_once, init_once);
  return g_init_status;
}

zx_status_t fault_init_child(void) {
  pthread_mutex_init(&g_child_lock, NULL);
  if (!g_inited || g_init_status != ZX_OK) return ZX_ERR_BAD_STATE;  // never mapped
  return os_uffd_init();
}

bool fault_probe_copy(void* dst, const void* src, size_t n) {
  // The handlers must be there even before the first mapping: a buffer in the root
  // VMAR's placeholder faults too.
  if (fault_init() != ZX_OK) return false;
  sigjmp_buf jb;
  sigjmp_buf* volatile prev = t_probe;
  if (sigsetjmp(jb, 1)) {
    t_probe = prev;
    return false;
  }
  t_probe = &jb;
  memcpy(dst, src, n);
  t_probe = prev;
  return true;
}
