// SPDX-License-Identifier: BSD-3-Clause
// bench_release: cost per page of giving pages back, i.e. closing the last handle of
// a VMO with N committed pages, for N below and above the pool's retention limit
// (16384 free pages). Goal: linear, i.e. the ns/page of the largest N is at most 2x
// that of the smallest.
//
// Each N runs in a forked child that starts with an empty pool. Sizes are kept small
// on purpose: when the goal is missed, the cost grows quadratically with N. They are
// counted in pages, like the pool's limit, so their bytes scale with the library's
// page size (the largest is 1 GiB with 4 KiB pages, 4 GiB with 16 KiB pages).
//
// A figure, not a test: prints numbers and a verdict line, exits 0 (1 only if a
// syscall fails).
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <zircon/syscalls.h>
#include <zxvmo.h>

#include "bench_util.h"

typedef struct result {
  double close_ns_per_page;
  uint64_t pooled_after;
  uint64_t in_use_after;
} result_t;

static result_t child_run(uint64_t n) {
  zx_handle_t v;
  check(zx_vmo_create(n * PAGE, 0, &v), "zx_vmo_create");
  static uint8_t buf[1 << 20];
  memset(buf, 0x42, sizeof(buf));
  for (uint64_t off = 0; off < n * PAGE; off += sizeof(buf)) {
    uint64_t len = n * PAGE - off < sizeof(buf) ? n * PAGE - off : sizeof(buf);
    check(zx_vmo_write(v, buf, off, len), "zx_vmo_write");
  }
  uint64_t t0 = now_ns();
  check(zx_handle_close(v), "close");
  uint64_t t1 = now_ns();
  zxvmo_stats_t s;
  check(zxvmo_get_stats(&s), "stats");
  result_t r = {(double)(t1 - t0) / (double)n, s.pages_pooled, s.pages_in_use};
  return r;
}

static void child_entry(const void* arg, void* out) {
  *(result_t*)out = child_run(*(const uint64_t*)arg);
}

static result_t run_in_child(uint64_t n) {
  result_t r;
  run_forked(child_entry, &n, &r, sizeof(r));
  return r;
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  // Past 16384 pooled pages the pool gives memory back to the OS, which costs a
  // syscall per run of pages: linearity is judged between sizes that all pay it.
  static const uint64_t sizes[] = {4096, 16384, 32768, 65536, 262144};
  enum { NS = sizeof(sizes) / sizeof(sizes[0]), REPS = 3 };
  double per[NS];
  printf("bench_release: close of a VMO holding N committed pages (fresh process each), "
         "median of %d\n", REPS);
  for (int k = 0; k < NS; k++) {
    double v[REPS];
    result_t r = {0, 0, 0};
    int reps = REPS;
    for (int i = 0; i < reps; i++) {
      r = run_in_child(sizes[k]);
      v[i] = r.close_ns_per_page;
    }
    qsort(v, (size_t)reps, sizeof(double), cmp_double);
    per[k] = v[reps / 2];
    printf("  N=%6llu pages: %10.1f ns/page  (%8.2f ms total; pooled after=%llu)\n",
           (unsigned long long)sizes[k], per[k], per[k] * (double)sizes[k] / 1e6,
           (unsigned long long)r.pooled_after);
  }
  double ratio = per[NS - 1] / per[2];
  printf("verdict: release cost per page, N=%llu vs N=%llu: %.1fx (goal <= 2x, linear): %s\n",
         (unsigned long long)sizes[NS - 1], (unsigned long long)sizes[2], ratio,
         ratio <= 2.0 ? "MET" : "MISSED");
  return 0;
}
