// SPDX-License-Identifier: BSD-3-Clause
// bench_snapshot: cost of creating (and, separately, closing) a SNAPSHOT child of a
// VMO with 1 MiB committed vs 1 GiB committed. Goal: O(1) in the VMO size, i.e.
// the 1 GiB / 1 MiB ratio of the median create time is at most 2x.
//
// Two shapes: the whole VMO (the child's window covers the parent: the page map's
// root is shared) and an unaligned window (offset 3 pages, half the VMO: the page
// map is restricted to the window, sharing every subtree wholly inside it).
//
// A figure, not a test: prints numbers and a verdict line, exits 0 (1 only if a
// syscall fails).
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zircon/syscalls.h>
#include <zxvmo.h>

#include "bench_util.h"

#define REPS 2000  // timed create/close pairs per configuration
#define WARMUP 200

// Creates a VMO of `bytes` and writes every page (non-zero content).
static zx_handle_t make_committed(uint64_t bytes) {
  zx_handle_t h;
  check(zx_vmo_create(bytes, 0, &h), "zx_vmo_create");
  size_t chunk = (size_t)1 << 20;
  if (chunk > bytes) chunk = (size_t)bytes;
  uint8_t* buf = malloc(chunk);
  if (!buf) exit(1);
  memset(buf, 0xA5, chunk);
  for (uint64_t off = 0; off < bytes; off += chunk) {
    buf[0] = (uint8_t)(off >> 20);  // some variety
    check(zx_vmo_write(h, buf, off, chunk), "zx_vmo_write");
  }
  free(buf);
  return h;
}

typedef struct result {
  uint64_t create_ns;
  uint64_t close_ns;
} result_t;

static result_t measure(zx_handle_t vmo, uint64_t offset, uint64_t size) {
  static uint64_t tc[REPS], tx[REPS];
  for (int i = 0; i < WARMUP; i++) {
    zx_handle_t c;
    check(zx_vmo_create_child(vmo, ZX_VMO_CHILD_SNAPSHOT, offset, size, &c), "create_child");
    check(zx_handle_close(c), "close");
  }
  for (int i = 0; i < REPS; i++) {
    zx_handle_t c;
    uint64_t t0 = now_ns();
    zx_status_t st = zx_vmo_create_child(vmo, ZX_VMO_CHILD_SNAPSHOT, offset, size, &c);
    uint64_t t1 = now_ns();
    check(st, "create_child");
    st = zx_handle_close(c);
    uint64_t t2 = now_ns();
    check(st, "close");
    tc[i] = t1 - t0;
    tx[i] = t2 - t1;
  }
  result_t r = {median_u64(tc, REPS), median_u64(tx, REPS)};
  return r;
}

static void print_stats(const char* label) {
  zxvmo_stats_t s;
  check(zxvmo_get_stats(&s), "zxvmo_get_stats");
  printf("  [%s] pages_in_use=%llu tree_nodes=%llu tree_node_copies=%llu\n", label,
         (unsigned long long)s.pages_in_use, (unsigned long long)s.tree_nodes,
         (unsigned long long)s.tree_node_copies);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  const uint64_t small = (uint64_t)1 << 20;
  const uint64_t large = (uint64_t)1 << 30;
  printf("bench_snapshot: SNAPSHOT child create/close, median of %d (after %d warm-up)\n",
         REPS, WARMUP);

  uint64_t t0 = now_ns();
  zx_handle_t vs = make_committed(small);
  zx_handle_t vl = make_committed(large);
  uint64_t t1 = now_ns();
  printf("  committed 1 MiB + 1 GiB (%llu pages) in %.2f s\n",
         (unsigned long long)((small + large) / PAGE), (double)(t1 - t0) / 1e9);
  print_stats("after commit");

  result_t ws = measure(vs, 0, small);
  result_t wl = measure(vl, 0, large);
  // Unaligned window: starts 3 pages in (not on a leaf boundary), half the VMO.
  result_t us = measure(vs, 3 * PAGE, small / 2);
  result_t ul = measure(vl, 3 * PAGE, large / 2);
  print_stats("after snapshots closed");

  // One unaligned snapshot of the 1 GiB VMO kept alive: its metadata cost.
  zxvmo_stats_t before, after;
  check(zxvmo_get_stats(&before), "stats");
  zx_handle_t keep;
  check(zx_vmo_create_child(vl, ZX_VMO_CHILD_SNAPSHOT, 3 * PAGE, large / 2, &keep), "create");
  check(zxvmo_get_stats(&after), "stats");
  printf("  one live unaligned snapshot of 1 GiB adds %llu tree nodes, %llu pages\n",
         (unsigned long long)(after.tree_nodes - before.tree_nodes),
         (unsigned long long)(after.pages_in_use - before.pages_in_use));
  check(zx_handle_close(keep), "close");

  printf("  %-30s %12s %12s %12s %12s\n", "", "create 1MiB", "create 1GiB", "close 1MiB",
         "close 1GiB");
  printf("  %-30s %10llu ns %10llu ns %10llu ns %10llu ns\n", "whole VMO",
         (unsigned long long)ws.create_ns, (unsigned long long)wl.create_ns,
         (unsigned long long)ws.close_ns, (unsigned long long)wl.close_ns);
  printf("  %-30s %10llu ns %10llu ns %10llu ns %10llu ns\n", "offset 3 pages, half size",
         (unsigned long long)us.create_ns, (unsigned long long)ul.create_ns,
         (unsigned long long)us.close_ns, (unsigned long long)ul.close_ns);

  double rw = (double)wl.create_ns / (double)ws.create_ns;
  double ru = (double)ul.create_ns / (double)us.create_ns;
  double rwc = (double)wl.close_ns / (double)ws.close_ns;
  double ruc = (double)ul.close_ns / (double)us.close_ns;
  printf("  ratio 1GiB/1MiB: create whole %.2fx, create unaligned %.2fx; "
         "close whole %.2fx, close unaligned %.2fx\n",
         rw, ru, rwc, ruc);
  // The goal is about snapshots of a whole VMO: those share the parent's root. A
  // snapshot of a window copies the two boundary paths of the tree, so it grows with
  // the tree's height (one level per 64x of size, at most 11 levels): shown for
  // information.
  printf("verdict: whole-VMO snapshot create, 1 GiB vs 1 MiB committed: %.2fx (goal <= 2x): %s"
         " [windowed snapshot: %.2fx, O(tree height)]\n",
         rw, rw <= 2.0 ? "MET" : "MISSED", ru);
  check(zx_handle_close(vs), "close");
  check(zx_handle_close(vl), "close");
  return 0;
}
