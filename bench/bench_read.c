// SPDX-License-Identifier: BSD-3-Clause
// bench_read: cost of reading one page (zx_vmo_read of a whole page at a random
// committed page) of a VMO with 1 live snapshot vs 1000 live snapshots, and vs 1000
// snapshots where the parent and every snapshot have written different pages (so the
// page maps are shared and divergent). Goal: at most 2x the 1-snapshot cost.
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

#define VMO_BYTES ((uint64_t)64 << 20)  // the parent, every page committed
#define NPAGES ((uint32_t)(VMO_BYTES / PAGE))
#define NSNAP 1000u
#define READS 20000u        // reads per timed batch
#define BATCHES 15
#define DIVERGE_CHILD 8u    // pages each snapshot writes in the divergent case
#define DIVERGE_PARENT 4u   // pages the parent writes after each snapshot

static uint64_t g_rng = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void) {  // xorshift64*
  g_rng ^= g_rng >> 12;
  g_rng ^= g_rng << 25;
  g_rng ^= g_rng >> 27;
  return g_rng * 0x2545F4914F6CDD1Dull;
}

static uint32_t g_idx[READS];   // page indices read, the same sequence everywhere
static uint32_t g_who[READS];   // which snapshot reads (for the "read a snapshot" rows)
static uint8_t* g_buf;         // one page
static volatile uint8_t g_sink;

static zx_handle_t make_parent(void) {
  zx_handle_t h;
  check(zx_vmo_create((uint64_t)NPAGES * PAGE, 0, &h), "zx_vmo_create");
  size_t chunk = (size_t)1 << 20;
  uint8_t* b = malloc(chunk);
  if (!b) exit(1);
  memset(b, 0x5A, chunk);
  for (uint64_t off = 0; off < (uint64_t)NPAGES * PAGE; off += chunk) {
    check(zx_vmo_write(h, b, off, chunk), "zx_vmo_write");
  }
  free(b);
  return h;
}

// ns per read: median over BATCHES batches of READS reads. If `snaps` is non-NULL,
// read i goes to snapshot g_who[i], else to `h`.
static double time_reads(zx_handle_t h, const zx_handle_t* snaps) {
  double per[BATCHES];
  for (int w = 0; w < 2; w++) {  // warm-up batches
    for (uint32_t i = 0; i < READS; i++) {
      zx_handle_t t = snaps ? snaps[g_who[i]] : h;
      check(zx_vmo_read(t, g_buf, (uint64_t)g_idx[i] * PAGE, PAGE), "zx_vmo_read");
    }
  }
  for (int b = 0; b < BATCHES; b++) {
    uint64_t t0 = now_ns();
    for (uint32_t i = 0; i < READS; i++) {
      zx_handle_t t = snaps ? snaps[g_who[i]] : h;
      zx_vmo_read(t, g_buf, (uint64_t)g_idx[i] * PAGE, PAGE);
      g_sink = g_buf[i & (PAGE - 1)];
    }
    uint64_t t1 = now_ns();
    per[b] = (double)(t1 - t0) / READS;
  }
  return median(per, BATCHES);
}

static void stats_line(const char* label, const zxvmo_stats_t* base) {
  zxvmo_stats_t s;
  check(zxvmo_get_stats(&s), "zxvmo_get_stats");
  printf("  [%s] pages_in_use=%llu (+%llu) tree_nodes=%llu (+%llu)\n", label,
         (unsigned long long)s.pages_in_use,
         (unsigned long long)(s.pages_in_use - base->pages_in_use),
         (unsigned long long)s.tree_nodes,
         (unsigned long long)(s.tree_nodes - base->tree_nodes));
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  g_buf = malloc(PAGE);
  uint8_t* pat = malloc(PAGE);
  if (!g_buf || !pat) return 1;
  for (uint32_t i = 0; i < READS; i++) {
    g_idx[i] = (uint32_t)(rnd() % NPAGES);
    g_who[i] = (uint32_t)(rnd() % NSNAP);
  }
  printf("bench_read: zx_vmo_read of %llu bytes at a random page of a %u-page VMO,\n"
         "  ns/read = median over %d batches of %u reads\n",
         (unsigned long long)PAGE, NPAGES, BATCHES, READS);

  // Baseline: memcpy of a random page of a plain 64 MiB buffer.
  uint8_t* plain = malloc((size_t)NPAGES * PAGE);
  if (!plain) return 1;
  memset(plain, 0x5A, (size_t)NPAGES * PAGE);
  double per[BATCHES];
  for (int b = 0; b < BATCHES; b++) {
    uint64_t t0 = now_ns();
    for (uint32_t i = 0; i < READS; i++) {
      memcpy(g_buf, plain + (size_t)g_idx[i] * PAGE, PAGE);
      g_sink = g_buf[i & (PAGE - 1)];
    }
    per[b] = (double)(now_ns() - t0) / READS;
  }
  double t_memcpy = median(per, BATCHES);
  free(plain);

  zx_handle_t parent = make_parent();
  zxvmo_stats_t base;
  check(zxvmo_get_stats(&base), "zxvmo_get_stats");

  // 1 live snapshot.
  zx_handle_t one;
  check(zx_vmo_create_child(parent, ZX_VMO_CHILD_SNAPSHOT, 0, (uint64_t)NPAGES * PAGE, &one),
        "create_child");
  double t1 = time_reads(parent, NULL);
  double t1c = time_reads(one, NULL);
  stats_line("1 snapshot", &base);
  check(zx_handle_close(one), "close");

  // 1000 live snapshots, nobody writes.
  static zx_handle_t snaps[NSNAP];
  for (uint32_t k = 0; k < NSNAP; k++) {
    check(zx_vmo_create_child(parent, ZX_VMO_CHILD_SNAPSHOT, 0, (uint64_t)NPAGES * PAGE,
                              &snaps[k]),
          "create_child");
  }
  double t1000 = time_reads(parent, NULL);
  double t1000c = time_reads(0, snaps);
  double t1000f = time_reads(snaps[NSNAP / 2], NULL);
  stats_line("1000 snapshots, no writes", &base);
  for (uint32_t k = 0; k < NSNAP; k++) check(zx_handle_close(snaps[k]), "close");

  // 1000 live snapshots, divergent: after each snapshot the parent writes a few
  // pages, and each snapshot writes a few pages of its own, all at random places.
  for (uint32_t k = 0; k < NSNAP; k++) {
    check(zx_vmo_create_child(parent, ZX_VMO_CHILD_SNAPSHOT, 0, (uint64_t)NPAGES * PAGE,
                              &snaps[k]),
          "create_child");
    memset(pat, (int)(k & 0xFF), PAGE);
    for (uint32_t j = 0; j < DIVERGE_PARENT; j++) {
      check(zx_vmo_write(parent, pat, (rnd() % NPAGES) * PAGE + (j * 97) % PAGE, 64),
            "zx_vmo_write");
    }
  }
  for (uint32_t k = 0; k < NSNAP; k++) {
    memset(pat, (int)(~k & 0xFF), PAGE);
    for (uint32_t j = 0; j < DIVERGE_CHILD; j++) {
      check(zx_vmo_write(snaps[k], pat, (rnd() % NPAGES) * PAGE + (j * 131) % PAGE, 64),
            "zx_vmo_write");
    }
  }
  double td = time_reads(parent, NULL);
  double tdc = time_reads(0, snaps);
  double tdf = time_reads(snaps[NSNAP / 2], NULL);
  stats_line("1000 snapshots, divergent", &base);
  zxvmo_stats_t s;
  check(zxvmo_get_stats(&s), "zxvmo_get_stats");
  printf("  divergent setup: %u parent + %u snapshot page writes, %llu COW copies, "
         "%llu node copies\n",
         NSNAP * DIVERGE_PARENT, NSNAP * DIVERGE_CHILD, (unsigned long long)s.cow_page_copies,
         (unsigned long long)s.tree_node_copies);
  for (uint32_t k = 0; k < NSNAP; k++) check(zx_handle_close(snaps[k]), "close");

  char label[64];
  snprintf(label, sizeof(label), "memcpy %llu B from a plain 64 MiB buffer",
           (unsigned long long)PAGE);
  printf("  %-44s %9.1f ns/read\n", label, t_memcpy);
  printf("  %-44s %9.1f ns/read\n", "parent, 1 snapshot", t1);
  printf("  %-44s %9.1f ns/read\n", "the snapshot, 1 snapshot", t1c);
  printf("  %-44s %9.1f ns/read  (%.2fx)\n", "parent, 1000 snapshots", t1000, t1000 / t1);
  printf("  %-44s %9.1f ns/read  (%.2fx)\n", "snapshot #500 of 1000", t1000f, t1000f / t1c);
  printf("  %-44s %9.1f ns/read  (%.2fx)\n", "parent, 1000 divergent snapshots", td, td / t1);
  printf("  %-44s %9.1f ns/read  (%.2fx)\n", "snapshot #500 of 1000 divergent", tdf,
         tdf / t1c);
  printf("  %-44s %9.1f ns/read  (%.2fx)\n", "random snapshot of 1000 (info)", t1000c,
         t1000c / t1c);
  printf("  %-44s %9.1f ns/read  (%.2fx)\n", "random snapshot of 1000 divergent (info)", tdc,
         tdc / t1c);
  // The goal is about the cost of reading a VMO: the parent, or one snapshot. Reading
  // a different random snapshot each time (the "info" rows) adds the cache misses of
  // 1000 distinct handles, objects and (when divergent) page-map paths.
  double worst = t1000 / t1;
  if (t1000f / t1c > worst) worst = t1000f / t1c;
  if (td / t1 > worst) worst = td / t1;
  if (tdf / t1c > worst) worst = tdf / t1c;
  double info = t1000c / t1c > tdc / t1c ? t1000c / t1c : tdc / t1c;
  printf("verdict: reading a VMO with 1000 snapshots vs 1: worst %.2fx (goal <= 2x): %s"
         " [hopping between random snapshots: %.2fx]\n",
         worst, worst <= 2.0 ? "MET" : "MISSED", info);
  free(pat);
  free(g_buf);
  return 0;
}
