// SPDX-License-Identifier: BSD-3-Clause
// bench_handle_reuse: how many create/close cycles pass before a handle value that was
// handed out before comes back, with an empty table and with a nearly full one (all
// slots but one in use). Goal: none within 1 << 24 cycles in either case.
//
// One cycle is zx_event_create() then zx_handle_close() of the new handle. A first
// value is handed out and closed, then cycles run; every value handed out (the table
// fill included) is marked in a bitmap of the 2^30 possible values (128 MiB), and the
// first value found already marked ends the run: the figure is the number of cycles
// after that first close. Each case runs in a forked child so that it starts from a
// fresh table.
//
//   bench_handle_reuse [max_cycles [empty|full]]
//       max_cycles: default 1 << 24 (the goal); larger caps find the actual period
//       (about 2^30 cycles: many minutes). The second argument runs one case only.
//
// A figure, not a test: prints numbers and a verdict line, exits 0 (1 only if a
// syscall fails).
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <zircon/syscalls.h>

#include "bench_util.h"

typedef struct result {
  uint64_t fill;     // handles left open around the cycles
  uint64_t cycles;   // cycles run
  bool repeated;     // a value came back in cycle `cycles`
  double ns_per_cycle;
} result_t;

static uint64_t g_max = (uint64_t)1 << 24;
static uint64_t* g_seen;

// Marks `h`; true if it was marked already.
static bool seen_before(zx_handle_t h) {
  uint32_t v = h >> 2;
  uint64_t bit = (uint64_t)1 << (v & 63);
  bool was = (g_seen[v >> 6] & bit) != 0;
  g_seen[v >> 6] |= bit;
  return was;
}

static void measure(const void* arg, void* out) {
  bool nearly_full = *(const bool*)arg;
  result_t* r = out;
  *r = (result_t){0};
  // Huge pages where the kernel allows them: the marks land all over 128 MiB.
  size_t bytes = ((size_t)1 << 30) / 8;
  g_seen = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (g_seen == MAP_FAILED) exit(1);
  (void)madvise(g_seen, bytes, MADV_HUGEPAGE);
  zx_handle_t keep;
  check(zx_event_create(0, &keep), "zx_event_create");
  seen_before(keep);
  r->fill = 1;
  if (nearly_full) {
    // Duplicates until the table refuses, then frees one slot.
    zx_handle_t last = ZX_HANDLE_INVALID;
    for (;;) {
      zx_handle_t d;
      zx_status_t st = zx_handle_duplicate(keep, ZX_RIGHT_SAME_RIGHTS, &d);
      if (st == ZX_ERR_NO_RESOURCES) break;
      check(st, "zx_handle_duplicate");
      if (seen_before(d)) {
        fprintf(stderr, "value %#x handed out twice while filling\n", d);
        exit(1);
      }
      last = d;
      r->fill++;
    }
    // The last duplicate is the value whose return is awaited.
    check(zx_handle_close(last), "zx_handle_close");
    r->fill--;
  } else {
    zx_handle_t first;
    check(zx_event_create(0, &first), "zx_event_create");
    seen_before(first);
    check(zx_handle_close(first), "zx_handle_close");
  }
  uint64_t t0 = now_ns();
  for (uint64_t i = 1; i <= g_max; i++) {
    zx_handle_t h;
    check(zx_event_create(0, &h), "zx_event_create");
    check(zx_handle_close(h), "zx_handle_close");
    r->cycles = i;
    if (seen_before(h)) {
      r->repeated = true;
      break;
    }
  }
  r->ns_per_cycle = (double)(now_ns() - t0) / (double)r->cycles;
  munmap(g_seen, bytes);
}

static bool report(const char* what, bool nearly_full) {
  result_t r;
  run_forked(measure, &nearly_full, &r, sizeof(r));
  if (r.repeated) {
    printf("%-12s %8llu open: a value came back after %llu cycles (%.0f ns/cycle)\n", what,
           (unsigned long long)r.fill, (unsigned long long)r.cycles, r.ns_per_cycle);
  } else {
    printf("%-12s %8llu open: no value came back within %llu cycles (%.0f ns/cycle)\n", what,
           (unsigned long long)r.fill, (unsigned long long)r.cycles, r.ns_per_cycle);
  }
  return r.repeated ? r.cycles > ((uint64_t)1 << 24) : r.cycles >= ((uint64_t)1 << 24);
}

int main(int argc, char** argv) {
  if (argc > 1) g_max = strtoull(argv[1], NULL, 0);
  if (g_max == 0) g_max = 1;
  const char* only = argc > 2 ? argv[2] : "";
  bool ok = true;
  if (strcmp(only, "full") != 0) ok &= report("empty", false);
  if (strcmp(only, "empty") != 0) ok &= report("nearly full", true);
  printf("verdict: %s (goal: no value back within %llu cycles)\n", ok ? "met" : "NOT met",
         (unsigned long long)1 << 24);
  return 0;
}
