// SPDX-License-Identifier: BSD-3-Clause
// The floor under zxvmo's fault path, measured with no library at all: what the kernel
// charges for a fault served the way zxvmo serves it (userfaultfd in SIGBUS mode, the
// handler in the faulting thread, on a memfd MAP_SHARED mapping). Printed next to the
// library's figures so that a reader can tell the library's own cost from the
// mechanism's.
//   floor_cow:   every page written, all write-protected, then the first write to each
//                page faults; the handler copies the page into a fresh page of a
//                pre-faulted arena (as zxvmo copies into a pool page), unprotects it
//                and enters it writable.
//   floor_touch: every page missing; the first write to each faults and the handler
//                fills it with UFFDIO_ZEROPAGE.
// Each runs in the calling process: call it from a forked child of a process that never
// used the library (run_forked).
#ifndef ZXVMO_BENCH_UFFD_FLOOR_H_
#define ZXVMO_BENCH_UFFD_FLOOR_H_

#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bench_map.h"

static int g_floor_uffd = -1;
static uint8_t* g_floor_arena;  // fresh pages the COW handler copies into
static uint64_t g_floor_next;

static void floor_cow_handler(int sig, siginfo_t* si, void* uc) {
  (void)sig;
  (void)uc;
  uint64_t a = (uint64_t)(uintptr_t)si->si_addr & ~(uint64_t)(PAGE - 1);
  memcpy(g_floor_arena + g_floor_next, (const void*)(uintptr_t)a, PAGE);
  g_floor_next += PAGE;
  struct uffdio_writeprotect w = {.range = {.start = a, .len = PAGE}, .mode = 0};
  if (ioctl(g_floor_uffd, UFFDIO_WRITEPROTECT, &w) != 0) _exit(9);
  // As zxvmo does: enter the page writable now rather than take a second fault on the
  // retried write (MADV_POPULATE_WRITE, Linux 5.14; without it, the second fault).
  (void)madvise((void*)(uintptr_t)a, PAGE, 23 /* MADV_POPULATE_WRITE */);
}

static void floor_touch_handler(int sig, siginfo_t* si, void* uc) {
  (void)sig;
  (void)uc;
  uint64_t a = (uint64_t)(uintptr_t)si->si_addr & ~(uint64_t)(PAGE - 1);
  struct uffdio_zeropage z = {.range = {.start = a, .len = PAGE}, .mode = 0};
  if (ioctl(g_floor_uffd, UFFDIO_ZEROPAGE, &z) != 0 && errno != EEXIST) _exit(9);
}

// Sets up a registered memfd mapping of `size` bytes; returns it (exits on failure).
static uint8_t* floor_setup(uint64_t size, bool populate, uint64_t mode,
                            void (*h)(int, siginfo_t*, void*)) {
  int fd = memfd_create("floor", MFD_CLOEXEC);
  if (fd < 0 || ftruncate(fd, (off_t)size) != 0) exit(1);
  uint8_t* p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) exit(1);
  if (populate) fill(p, size, 0x5A);
  g_floor_uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
  struct uffdio_api api = {.api = UFFD_API,
                           .features = UFFD_FEATURE_SIGBUS | UFFD_FEATURE_MISSING_SHMEM |
                                       UFFD_FEATURE_WP_HUGETLBFS_SHMEM};
  if (g_floor_uffd < 0 || ioctl(g_floor_uffd, UFFDIO_API, &api) != 0) exit(1);
  struct uffdio_register r = {.range = {.start = (uintptr_t)p, .len = size}, .mode = mode};
  if (ioctl(g_floor_uffd, UFFDIO_REGISTER, &r) != 0) exit(1);
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_sigaction = h;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGBUS, &sa, NULL);
  return p;
}

// ns per page of the first write to each page in `order` (NULL: in order) after all
// were write-protected.
static inline double floor_cow(uint64_t size, const uint32_t* order) {
  uint32_t n = (uint32_t)(size / PAGE);
  uint8_t* p = floor_setup(size, true, UFFDIO_REGISTER_MODE_WP, floor_cow_handler);
  g_floor_arena = anon_map(size);
  fill(g_floor_arena, size, 0);  // pre-faulted, as the pool's chunks are
  g_floor_next = 0;
  struct uffdio_writeprotect w = {.range = {.start = (uintptr_t)p, .len = size},
                                  .mode = UFFDIO_WRITEPROTECT_MODE_WP};
  if (ioctl(g_floor_uffd, UFFDIO_WRITEPROTECT, &w) != 0) exit(1);
  uint64_t t0 = now_ns();
  for (uint32_t i = 0; i < n; i++) {
    uint32_t pg = order ? order[i] : i;
    ((volatile uint8_t*)p)[(uint64_t)pg * PAGE + 64] = (uint8_t)i;
  }
  return (double)(now_ns() - t0) / n;
}

// ns per page of the first write (one byte) to each page of a fresh mapping.
static inline double floor_touch(uint64_t size) {
  uint32_t n = (uint32_t)(size / PAGE);
  uint8_t* p = floor_setup(size, false, UFFDIO_REGISTER_MODE_MISSING, floor_touch_handler);
  uint64_t t0 = now_ns();
  for (uint32_t i = 0; i < n; i++) ((volatile uint8_t*)p)[(uint64_t)i * PAGE] = 1;
  return (double)(now_ns() - t0) / n;
}

#endif  // ZXVMO_BENCH_UFFD_FLOOR_H_
