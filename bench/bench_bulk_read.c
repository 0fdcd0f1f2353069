// SPDX-License-Identifier: BSD-3-Clause
// bench_bulk_read: zx_vmo_read of a large committed range vs memcpy of the same bytes
// from a plain malloc'd buffer. 64 MiB read in 1 MiB chunks (into one warm 1 MiB
// buffer) and as a single 64 MiB read (into a warm 64 MiB buffer). Also the same
// reads from a snapshot that shares every page. Goal: at most 1.25x the memcpy time.
// Info column: the same memcpy done one library page (zx_system_get_page_size()) at a
// time, which is what a page-granular read cannot avoid unless it merges adjacent
// pages.
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

#define TOTAL ((size_t)64 << 20)
#define SMALL ((size_t)1 << 20)
#define REPS 21

static uint8_t* g_src;  // plain buffer, same bytes as the VMO
static volatile uint8_t g_sink;

// One pass over TOTAL bytes in `chunk`-sized pieces into `dst` (chunk bytes), timed.
// vmo != 0: zx_vmo_read; else memcpy from g_src in pieces of `piece` bytes (a chunk
// copied with one memcpy when piece == chunk).
static uint64_t pass(zx_handle_t vmo, uint8_t* dst, size_t chunk, size_t piece) {
  uint64_t t0 = now_ns();
  for (size_t off = 0; off < TOTAL; off += chunk) {
    if (vmo) {
      zx_vmo_read(vmo, dst, off, chunk);
    } else {
      for (size_t k = 0; k < chunk; k += piece) memcpy(dst + k, g_src + off + k, piece);
    }
    g_sink = dst[chunk - 1];
  }
  return now_ns() - t0;
}

typedef struct row {
  double memcpy_gbps, pieces_gbps, vmo_gbps, snap_gbps;  // medians
  double best_ratio;  // fastest zx_vmo_read pass time / fastest memcpy pass time
} row_t;

// The four ways are interleaved round by round, in an order rotated every round, so
// that drift of the machine (and whichever way happens to run first) hits them alike.
static row_t measure(zx_handle_t vmo, zx_handle_t snap, uint8_t* dst, size_t chunk) {
  double g[4][REPS];
  uint64_t best[4] = {UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX};
  (void)pass(0, dst, chunk, chunk);
  (void)pass(vmo, dst, chunk, chunk);
  for (int i = 0; i < REPS; i++) {
    for (int j = 0; j < 4; j++) {
      int way = (i + j) % 4;  // 0 memcpy, 1 memcpy by pages, 2 vmo, 3 snapshot
      uint64_t t = way == 0   ? pass(0, dst, chunk, chunk)
                   : way == 1 ? pass(0, dst, chunk, chunk < PAGE ? chunk : PAGE)
                   : way == 2 ? pass(vmo, dst, chunk, chunk)
                              : pass(snap, dst, chunk, chunk);
      g[way][i] = (double)TOTAL / (double)t;
      if (t < best[way]) best[way] = t;
    }
  }
  row_t x = {median(g[0], REPS), median(g[1], REPS), median(g[2], REPS), median(g[3], REPS),
             (double)best[2] / (double)best[0]};
  return x;
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  g_src = malloc(TOTAL);
  uint8_t* dst_small = malloc(SMALL);
  uint8_t* dst_large = malloc(TOTAL);
  if (!g_src || !dst_small || !dst_large) return 1;
  for (size_t i = 0; i < TOTAL; i++) g_src[i] = (uint8_t)(i * 31 + (i >> 16));
  memset(dst_small, 1, SMALL);
  memset(dst_large, 1, TOTAL);

  zx_handle_t vmo;
  check(zx_vmo_create(TOTAL, 0, &vmo), "zx_vmo_create");
  for (size_t off = 0; off < TOTAL; off += SMALL) {
    check(zx_vmo_write(vmo, g_src + off, off, SMALL), "zx_vmo_write");
  }
  // Sanity: the VMO holds the same bytes.
  check(zx_vmo_read(vmo, dst_large, 0, TOTAL), "zx_vmo_read");
  if (memcmp(dst_large, g_src, TOTAL) != 0) {
    fprintf(stderr, "bench_bulk_read: content mismatch\n");
    return 1;
  }
  zx_handle_t snap;
  check(zx_vmo_create_child(vmo, ZX_VMO_CHILD_SNAPSHOT, 0, TOTAL, &snap), "snapshot");
  zxvmo_stats_t s;
  check(zxvmo_get_stats(&s), "stats");

  printf("bench_bulk_read: 64 MiB committed (pages_in_use=%llu, tree_nodes=%llu), "
         "GB/s = median of %d passes\n",
         (unsigned long long)s.pages_in_use, (unsigned long long)s.tree_nodes, REPS);
  row_t a = measure(vmo, snap, dst_small, SMALL);
  row_t b = measure(vmo, snap, dst_large, TOTAL);

  printf("  %-30s %11s %11s %11s %11s %7s %7s\n", "", "memcpy", "memcpy/page", "vmo_read",
         "snapshot", "ratio", "snap");
  printf("  %-30s %6.2f GB/s %6.2f GB/s %6.2f GB/s %6.2f GB/s %6.2fx %6.2fx\n",
         "1 MiB chunks (warm 1 MiB dst)", a.memcpy_gbps, a.pieces_gbps, a.vmo_gbps, a.snap_gbps,
         a.memcpy_gbps / a.vmo_gbps, a.memcpy_gbps / a.snap_gbps);
  printf("  %-30s %6.2f GB/s %6.2f GB/s %6.2f GB/s %6.2f GB/s %6.2fx %6.2fx\n",
         "one 64 MiB read (warm dst)", b.memcpy_gbps, b.pieces_gbps, b.vmo_gbps, b.snap_gbps,
         b.memcpy_gbps / b.vmo_gbps, b.memcpy_gbps / b.snap_gbps);
  printf("  (memcpy/page: the same bytes copied with one memcpy per %llu-byte page; ratio =\n"
         "   zx_vmo_read time / memcpy time from the median GB/s; best-of-%d ratio:\n"
         "   %.2fx for 1 MiB chunks, %.2fx for 64 MiB)\n",
         (unsigned long long)PAGE, REPS, a.best_ratio, b.best_ratio);
  double worst = a.memcpy_gbps / a.vmo_gbps;
  if (b.memcpy_gbps / b.vmo_gbps > worst) worst = b.memcpy_gbps / b.vmo_gbps;
  if (a.memcpy_gbps / a.snap_gbps > worst) worst = a.memcpy_gbps / a.snap_gbps;
  if (b.memcpy_gbps / b.snap_gbps > worst) worst = b.memcpy_gbps / b.snap_gbps;
  printf("verdict: bulk zx_vmo_read vs memcpy: worst %.2fx the memcpy time (goal <= 1.25x): %s\n",
         worst, worst <= 1.25 ? "MET" : "MISSED");
  return 0;
}
