// SPDX-License-Identifier: BSD-3-Clause
// Helpers shared by the benchmark programs: a monotonic clock, medians, and a check
// that stops the program with a message when a call it depends on fails.
#ifndef ZXVMO_BENCH_UTIL_H_
#define ZXVMO_BENCH_UTIL_H_

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <zircon/status.h>
#include <zircon/syscalls.h>
#include <zircon/types.h>

// The library's page size: 4 KiB by default, larger in builds configured so (see
// ZXVMO_PAGE_SIZE). Never assume 4096.
#define PAGE ((uint64_t)zx_system_get_page_size())

static inline uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline int cmp_double(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return (x > y) - (x < y);
}

static inline int cmp_u64(const void* a, const void* b) {
  uint64_t x = *(const uint64_t*)a, y = *(const uint64_t*)b;
  return (x > y) - (x < y);
}

// Sorts v and returns its median.
static inline double median(double* v, size_t n) {
  qsort(v, n, sizeof(*v), cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static inline uint64_t median_u64(uint64_t* v, size_t n) {
  qsort(v, n, sizeof(*v), cmp_u64);
  return v[n / 2];
}

static inline void check(zx_status_t st, const char* what) {
  if (st != ZX_OK) {
    fprintf(stderr, "%s: %s failed: %s\n", program_invocation_short_name, what,
            zx_status_get_string(st));
    exit(1);
  }
}

// Runs fn(arg, out) in a forked child and copies its `size`-byte result back into
// `out`: each measurement then starts from a fresh library and page pool. Exits the
// program if the child fails.
static inline void run_forked(void (*fn)(const void* arg, void* out), const void* arg, void* out,
                              size_t size) {
  int fds[2];
  if (pipe(fds) != 0) exit(1);
  fflush(stdout);
  pid_t pid = fork();
  if (pid < 0) exit(1);
  if (pid == 0) {
    close(fds[0]);
    fn(arg, out);
    ssize_t w = write(fds[1], out, size);
    _exit(w == (ssize_t)size ? 0 : 1);
  }
  close(fds[1]);
  ssize_t got = read(fds[0], out, size);
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (got != (ssize_t)size || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fprintf(stderr, "%s: child failed\n", program_invocation_short_name);
    exit(1);
  }
}

#endif  // ZXVMO_BENCH_UTIL_H_
