// SPDX-License-Identifier: BSD-3-Clause
// Helpers shared by the tests of what mappings show (test_map_*.c): mapping in the root
// VMAR, reading and writing mapped memory as a program would (volatile, so that every
// access really happens), and running an access in a child of fork() to see which
// signal it dies of (docs/behavior.md §12, §17).
// Everything is static inline so that a file not using a helper does not warn.
#ifndef ZXVMO_TESTS_MAP_HELPERS_H_
#define ZXVMO_TESTS_MAP_HELPERS_H_

#include <criterion/criterion.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zircon/process.h>
#include <zircon/syscalls.h>
#include <zxvmo.h>

#include "helpers.h"

// AddressSanitizer installs SIGSEGV and SIGBUS handlers at startup that report and
// exit(1); zxvmo would chain genuine faults to them as "the program's previous
// handlers" (docs/behavior.md §12), and the death tests here check the default action
// (the process dies of the signal). So under ASan these tests leave both signals alone.
#if defined(__SANITIZE_ADDRESS__)
#define ZXVMO_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ZXVMO_TEST_ASAN 1
#endif
#endif
#ifdef ZXVMO_TEST_ASAN
const char* __asan_default_options(void);
const char* __asan_default_options(void) { return "handle_segv=0:handle_sigbus=0"; }
#endif

#define MAP_R ZX_VM_PERM_READ
#define MAP_RW (ZX_VM_PERM_READ | ZX_VM_PERM_WRITE)

// Maps [vmo_off, vmo_off+len) of `vmo` in the root VMAR with `perms` (plus `extra`
// options), or fails the test.
static inline uint8_t* map_opts(zx_handle_t vmo, zx_vm_option_t options, uint64_t vmo_off,
                                uint64_t len) {
  zx_vaddr_t addr = 0;
  zx_status_t st = zx_vmar_map(zx_vmar_root_self(), options, 0, vmo, vmo_off, len, &addr);
  cr_assert_eq(st, ZX_OK, "zx_vmar_map(options %#x, vmo_off %#llx, len %#llx) = %d", options,
               (unsigned long long)vmo_off, (unsigned long long)len, st);
  cr_assert_neq(addr, 0);
  return (uint8_t*)addr;
}

static inline uint8_t* map_rw(zx_handle_t vmo, uint64_t vmo_off, uint64_t len) {
  return map_opts(vmo, MAP_RW, vmo_off, len);
}

static inline void unmap(const void* p, uint64_t len) {
  zx_status_t st = zx_vmar_unmap(zx_vmar_root_self(), (zx_vaddr_t)p, len);
  cr_assert_eq(st, ZX_OK, "zx_vmar_unmap(%p, %#llx) = %d", p, (unsigned long long)len, st);
}

static inline void protect(const void* p, uint64_t len, zx_vm_option_t perms) {
  zx_status_t st = zx_vmar_protect(zx_vmar_root_self(), perms, (zx_vaddr_t)p, len);
  cr_assert_eq(st, ZX_OK, "zx_vmar_protect(%p, %#llx, %#x) = %d", p, (unsigned long long)len,
               perms, st);
}

// One byte of mapped memory, really read / written.
static inline uint8_t mrd(const uint8_t* p) { return *(const volatile uint8_t*)p; }
static inline void mwr(uint8_t* p, uint8_t v) { *(volatile uint8_t*)p = v; }

// Fills page `k` of a mapping with byte `v`, one volatile word at a time.
static inline void mfill(uint8_t* base, uint64_t k, uint8_t v) {
  volatile uint64_t* w = (volatile uint64_t*)(base + k * PG);
  uint64_t word = 0x0101010101010101ull * v;
  for (uint64_t i = 0; i < PG / 8; i++) w[i] = word;
}

// Page `k` of a mapping: its byte value, or -1 if its bytes differ.
static inline int mpage(const uint8_t* base, uint64_t k) {
  const volatile uint8_t* p = base + k * PG;
  int v = p[0];
  for (uint64_t i = 1; i < PG; i++) {
    if (p[i] != (uint8_t)v) return -1;
  }
  return v;
}

static inline uint64_t committed(zx_handle_t vmo) { return vmo_info(vmo).committed_bytes; }
static inline uint64_t num_mappings(zx_handle_t vmo) { return vmo_info(vmo).num_mappings; }

static inline void expect_invariants(const char* what) {
  zx_status_t st = zxvmo_check_invariants();
  cr_assert_eq(st, ZX_OK, "invariants after %s: %d", what, st);
}

// Runs fn(arg) in a child of fork(); the child exits 0 if fn returns. Returns the
// wait status.
static inline int in_child(void (*fn)(void*), void* arg) {
  fflush(NULL);
  pid_t pid = fork();
  cr_assert_geq(pid, 0, "fork");
  if (pid == 0) {
    alarm(20);
    fn(arg);
    _exit(0);
  }
  int status = 0;
  cr_assert_eq(waitpid(pid, &status, 0), pid);
  return status;
}

static inline const char* status_str(int status, char* buf, size_t n) {
  if (WIFSIGNALED(status)) {
    snprintf(buf, n, "killed by signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
  } else if (WIFEXITED(status)) {
    snprintf(buf, n, "exited with %d", WEXITSTATUS(status));
  } else {
    snprintf(buf, n, "status %#x", status);
  }
  return buf;
}

static inline void expect_killed_by(int status, int sig, const char* what) {
  char b[96];
  cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == sig, "%s: child %s, expected %s", what,
            status_str(status, b, sizeof(b)), strsignal(sig));
}

static inline void expect_exit0(int status, const char* what) {
  char b[96];
  cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s: child %s", what,
            status_str(status, b, sizeof(b)));
}

// Access kinds for the death children.
typedef struct access {
  uint8_t* p;
  bool write;
} access_t;

static inline void do_access(void* arg) {
  access_t* a = arg;
  if (a->write) {
    mwr(a->p, 0x5A);
  } else {
    (void)mrd(a->p);
  }
}

// The signal an access kills a child of fork() with, asserted.
static inline void expect_access_dies(uint8_t* p, bool write, int sig, const char* what) {
  access_t a = {p, write};
  expect_killed_by(in_child(do_access, &a), sig, what);
}

// An access that must work in a child of fork() (it exits 0).
static inline void expect_access_ok(uint8_t* p, bool write, const char* what) {
  access_t a = {p, write};
  expect_exit0(in_child(do_access, &a), what);
}

#endif  // ZXVMO_TESTS_MAP_HELPERS_H_
