// SPDX-License-Identifier: BSD-3-Clause
// The library's fault handlers coexist with the program's (docs/behavior.md §12): a
// SIGSEGV or SIGBUS handler the program installed before its first mapping still gets
// the faults of its own memory, and the genuine faults of zxvmo's mappings (past a VMO's
// end, protected); with default handlers those kill the process with the right signal.
// Criterion runs each test in a fresh process, so each test's first mapping is the
// process's first.
#include <criterion/criterion.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zircon/process.h>
#include <zircon/syscalls.h>

#include "child_helpers.h"
#include "helpers.h"
#include "map_helpers.h"

static sigjmp_buf g_jb;
static volatile sig_atomic_t g_hits;
static volatile sig_atomic_t g_sig;
static void* volatile g_addr;

static void on_fault(int sig, siginfo_t* si, void* uc) {
  (void)uc;
  g_hits++;
  g_sig = sig;
  g_addr = si->si_addr;
  siglongjmp(g_jb, 1);
}

static void install(int sig) {
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_sigaction = on_fault;
  sa.sa_flags = SA_SIGINFO;
  sigemptyset(&sa.sa_mask);
  cr_assert_eq(sigaction(sig, &sa, NULL), 0);
}

// Runs one access that must fault into on_fault with `sig` at `p`.
#define EXPECT_HANDLED(p, write, sig, what)                                                  \
  do {                                                                                        \
    int hits0 = g_hits;                                                                       \
    if (sigsetjmp(g_jb, 1) == 0) {                                                            \
      if (write) {                                                                            \
        mwr((uint8_t*)(p), 1);                                                                \
      } else {                                                                                \
        (void)mrd((uint8_t*)(p));                                                             \
      }                                                                                       \
      cr_assert_fail("%s: the access did not fault", what);                                  \
    }                                                                                         \
    cr_assert_eq(g_hits, hits0 + 1, "%s: handler calls", what);                               \
    cr_assert_eq(g_sig, sig, "%s: signal %d, want %d", what, (int)g_sig, sig);                \
    cr_assert_eq(g_addr, (void*)(p), "%s: si_addr %p, want %p", what, g_addr, (void*)(p));   \
  } while (0)

// The program's SIGSEGV handler, installed before the first mapping, still gets the
// faults of the program's own mprotect'ed page and can siglongjmp out, before and
// after zxvmo mappings fault.
Test(map_signals, own_sigsegv_handler_keeps_its_faults) {
  install(SIGSEGV);
  uint8_t* own = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  cr_assert_neq(own, MAP_FAILED);
  own[0] = 1;
  cr_assert_eq(mprotect(own, PG, PROT_READ), 0);
  cr_assert_eq(mprotect(own + PG, PG, PROT_NONE), 0);
  EXPECT_HANDLED(own, true, SIGSEGV, "own read-only page, before any mapping");
  // The first mapping installs the library's handlers; faults on it are served.
  zx_handle_t v = mkvmo_filled(2, 0x40);
  uint8_t* m = map_rw(v, 0, 2 * PG);
  zx_handle_t s = mkchild(v, SNAP, 0, 2 * PG);
  mfill(m, 0, 0x41);  // missing page, then a write-protected one: library faults
  cr_assert_eq(mpage(m, 1), 0x41);
  cr_assert_eq(g_hits, 1, "the program's handler saw a zxvmo fault");
  EXPECT_HANDLED(own, true, SIGSEGV, "own read-only page, after mapping");
  EXPECT_HANDLED(own + PG, false, SIGSEGV, "own PROT_NONE page");
  EXPECT_HANDLED(own + PG + 9, true, SIGSEGV, "own PROT_NONE page, write");
  cr_assert_eq(own[0], 1);
  // A genuine zxvmo fault of the SIGSEGV kind (protected) reaches the program too.
  protect(m, PG, MAP_R);
  EXPECT_HANDLED(m + 3, true, SIGSEGV, "write to a read-only zxvmo mapping");
  cr_assert_eq(page_val(v, 0), 0x41);
  cr_assert_eq(page_val(s, 0), 0x40);
  // And faults of zxvmo mappings are still served afterwards.
  protect(m, PG, MAP_RW);
  mfill(m, 0, 0x42);
  cr_assert_eq(page_val(v, 0), 0x42);
  cr_assert_eq(page_val(s, 0), 0x40);
  expect_invariants("signals");
  unmap(m, 2 * PG);
  EXPECT_HANDLED(m, false, SIGSEGV, "unmapped zxvmo range");
  cr_assert_eq(munmap(own, 2 * PG), 0);
  close_h(s);
  close_h(v);
  expect_clean();
}

// The program's SIGBUS handler gets the SIGBUS of its own memory (a file mapping past
// the file's end) and the genuine SIGBUS past a VMO's end, and none of the library's
// own faults.
Test(map_signals, own_sigbus_handler_gets_past_end_faults) {
  install(SIGBUS);
  FILE* f = tmpfile();
  cr_assert(f != NULL);
  uint8_t* own = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fileno(f), 0);
  cr_assert_neq(own, MAP_FAILED);
  EXPECT_HANDLED(own, false, SIGBUS, "own file mapping past EOF, before any zxvmo mapping");
  zx_handle_t v = mkvmo_opts(2 * PG, ZX_VMO_RESIZABLE);
  uint8_t* m = map_rw(v, 0, 4 * PG);
  mfill(m, 0, 0x11);  // the library's own SIGBUS faults
  cr_assert_eq(mpage(m, 1), 0);
  cr_assert_eq(g_hits, 1, "the program's SIGBUS handler saw a library fault");
  EXPECT_HANDLED(m + 2 * PG, false, SIGBUS, "read past the VMO's end");
  EXPECT_HANDLED(m + 3 * PG + 5, true, SIGBUS, "write past the VMO's end");
  cr_assert_eq(zx_vmo_set_size(v, PG), ZX_OK);
  EXPECT_HANDLED(m + PG, false, SIGBUS, "read of a page cut by shrinking");
  EXPECT_HANDLED(own, true, SIGBUS, "own file mapping past EOF, after");
  cr_assert_eq(mpage(m, 0), 0x11);
  cr_assert_eq(zx_vmo_set_size(v, 4 * PG), ZX_OK);
  cr_assert_eq(mpage(m, 3), 0);
  mfill(m, 2, 0x12);
  cr_assert_eq(page_val(v, 2), 0x12);
  cr_assert_eq(g_hits, 5);
  expect_invariants("SIGBUS handler");
  unmap(m, 4 * PG);
  cr_assert_eq(munmap(own, PG), 0);
  fclose(f);
  close_h(v);
  expect_clean();
}

// Both handlers of the program at once, with SA_RESETHAND-free plain handlers
// (sa_handler, not SA_SIGINFO): the library calls them too.
static volatile sig_atomic_t g_plain_sig;
static void on_plain(int sig) {
  g_plain_sig = sig;
  siglongjmp(g_jb, 1);
}

Test(map_signals, plain_handlers_are_chained) {
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_plain;
  sigemptyset(&sa.sa_mask);
  cr_assert_eq(sigaction(SIGBUS, &sa, NULL), 0);
  cr_assert_eq(sigaction(SIGSEGV, &sa, NULL), 0);
  zx_handle_t v = mkvmo(PG);
  uint8_t* m = map_rw(v, 0, 3 * PG);
  mwr(m, 1);
  cr_assert_eq(g_plain_sig, 0);
  if (sigsetjmp(g_jb, 1) == 0) {
    (void)mrd(m + PG);
    cr_assert_fail("read past the end did not fault");
  }
  cr_assert_eq(g_plain_sig, SIGBUS);
  protect(m, PG, MAP_R);
  if (sigsetjmp(g_jb, 1) == 0) {
    mwr(m, 2);
    cr_assert_fail("write to a read-only mapping did not fault");
  }
  cr_assert_eq(g_plain_sig, SIGSEGV);
  cr_assert_eq(rd8(v, 0), 1);
  unmap(m, 3 * PG);
  close_h(v);
  expect_clean();
}

// ---- default handlers: the process dies of the right signal -------------------------

static void null_write(void* arg) {
  (void)arg;
  volatile uintptr_t addr = 16;  // opaque to the compiler
  mwr((uint8_t*)addr, 1);
}

Test(map_signals, default_handlers_kill_with_the_right_signal) {
  zx_handle_t v = mkvmo_filled(1, 0x10);
  uint8_t* m = map_rw(v, 0, 3 * PG);
  uint8_t* r = map_opts(v, MAP_R, 0, PG);
  expect_access_ok(m, true, "a write to a mapped page");
  expect_access_ok(r, false, "a read of a read-only mapping");
  expect_access_dies(m + PG, false, SIGBUS, "read past the end");
  expect_access_dies(m + 2 * PG, true, SIGBUS, "write past the end");
  expect_access_dies(r, true, SIGSEGV, "write to a read-only mapping");
  protect(m, PG, 0);
  expect_access_dies(m, false, SIGSEGV, "read of a PROT_NONE mapping");
  unmap(m, 3 * PG);
  expect_access_dies(m, true, SIGSEGV, "write to an unmapped range");
  // A fault that is not zxvmo's at all still kills with SIGSEGV.
  expect_killed_by(in_child(null_write, NULL), SIGSEGV, "NULL write");
  cr_assert_eq(mpage(r, 0), 0x10, "nothing the children did reached the VMO");
  unmap(r, PG);
  close_h(v);
  expect_clean();
}

// A program that ignored SIGBUS before its first mapping still dies of a genuine
// past-end access (ignoring it would retry the access forever), as it would for a
// file mapping past EOF on Linux.
Test(map_signals, ignored_sigbus_still_kills) {
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = SIG_IGN;
  sigemptyset(&sa.sa_mask);
  cr_assert_eq(sigaction(SIGBUS, &sa, NULL), 0);
  zx_handle_t v = mkvmo(PG);
  uint8_t* m = map_rw(v, 0, 2 * PG);
  mwr(m, 3);  // the library's own faults are still served
  cr_assert_eq(rd8(v, 0), 3);
  expect_access_dies(m + PG, false, SIGBUS, "past-end read with SIGBUS ignored");
  unmap(m, 2 * PG);
  close_h(v);
  expect_clean();
}
