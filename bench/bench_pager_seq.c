// SPDX-License-Identifier: BSD-3-Clause
// bench_pager_seq: sequential read throughput of a file through the example file pager
// (examples/file_pager.h): a fresh pager VMO over the file, read from start to end
// with zx_vmo_read in 1 MiB chunks, next to pread(2) of the same file in 1 MiB chunks.
// Cold: the file's pages are dropped from the page cache before each run (fsync once,
// then posix_fadvise(POSIX_FADV_DONTNEED)), so both read the disk; warm: the page
// cache holds the file, so the figures show the pager's own costs. Goal: cold pager
// throughput >= 0.8x pread's.
//
// Usage: bench_pager_seq [MiB]   (default 256). The file is made under $TMPDIR (or
// /tmp) and removed at exit.
//
// Where the time goes: the file pager counts the time its service thread spends in
// pread, in zx_vmo_write into the aux VMO and in zx_pager_supply_pages; the rest of a
// run is the reader's copies out of the VMO and the hand-offs between the threads.
// Unlike pread's one reused buffer, the pager VMO keeps every page it was given: a run
// needs the file's size in new memory. So the bench also times filling a new plain VMO
// of that size with zx_vmo_write in 1 MiB chunks: what that memory costs alone.
//
// A figure, not a test: prints numbers and a verdict line, exits 0 (1 only if a call
// fails).
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zircon/syscalls.h>

#include "../examples/file_pager.h"
#include "bench_util.h"

#define CHUNK ((uint64_t)1 << 20)
#define REPS 3

static char g_path[4096];
static uint64_t g_size;

static void remove_file(void) {
  if (g_path[0]) unlink(g_path);
}

static uint8_t pat(uint64_t chunk) { return (uint8_t)(chunk * 37u + 11u); }

// A file of g_size bytes, chunk i filled with pat(i), on disk (fsync'd).
static void make_file(void) {
  const char* dir = getenv("TMPDIR");
  snprintf(g_path, sizeof(g_path), "%s/zxvmo-bench-pager-XXXXXX", dir && *dir ? dir : "/tmp");
  int fd = mkstemp(g_path);
  if (fd < 0) {
    perror("mkstemp");
    exit(1);
  }
  atexit(remove_file);
  uint8_t* buf = malloc(CHUNK);
  if (!buf) exit(1);
  for (uint64_t off = 0; off < g_size; off += CHUNK) {
    memset(buf, pat(off / CHUNK), CHUNK);
    if (pwrite(fd, buf, CHUNK, (off_t)off) != (ssize_t)CHUNK) {
      perror("pwrite");
      exit(1);
    }
  }
  free(buf);
  // Only clean pages can be dropped from the page cache.
  if (fsync(fd) != 0) {
    perror("fsync");
    exit(1);
  }
  close(fd);
}

static int open_file(bool cold) {
  int fd = open(g_path, O_RDONLY);
  if (fd < 0) {
    perror("open");
    exit(1);
  }
  if (cold) (void)posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  return fd;
}

static void verify(const uint8_t* buf, uint64_t off) {
  if (buf[0] != pat(off / CHUNK) || buf[CHUNK - 1] != pat(off / CHUNK)) {
    fprintf(stderr, "bench_pager_seq: wrong bytes at %llu\n", (unsigned long long)off);
    exit(1);
  }
}

// MB/s of pread in 1 MiB chunks.
static double run_pread(bool cold, uint8_t* buf) {
  int fd = open_file(cold);
  uint64_t t0 = now_ns();
  for (uint64_t off = 0; off < g_size; off += CHUNK) {
    if (pread(fd, buf, CHUNK, (off_t)off) != (ssize_t)CHUNK) {
      perror("pread");
      exit(1);
    }
    verify(buf, off);
  }
  double mbs = (double)g_size / 1e6 / ((double)(now_ns() - t0) / 1e9);
  close(fd);
  return mbs;
}

typedef struct pager_result {
  double mbs;
  file_pager_stats_t stats;
  uint64_t ns_total;
} pager_result_t;

// MB/s of zx_vmo_read in 1 MiB chunks of a fresh pager VMO over the file (creating
// and closing the file pager not counted).
static pager_result_t run_pager(bool cold, uint8_t* buf) {
  int fd = open_file(cold);
  file_pager_t* fp;
  check(file_pager_create(fd, g_size, 0, &fp), "file_pager_create");
  zx_handle_t vmo = file_pager_vmo(fp);
  uint64_t t0 = now_ns();
  for (uint64_t off = 0; off < g_size; off += CHUNK) {
    check(zx_vmo_read(vmo, buf, off, CHUNK), "zx_vmo_read");
    verify(buf, off);
  }
  pager_result_t r;
  r.ns_total = now_ns() - t0;
  r.mbs = (double)g_size / 1e6 / ((double)r.ns_total / 1e9);
  r.stats = file_pager_stats(fp);
  check(file_pager_close(fp), "file_pager_close");
  close(fd);
  return r;
}

// us per MiB to fill a new VMO of g_size bytes with zx_vmo_write in 1 MiB chunks.
static double run_fill(const uint8_t* buf) {
  zx_handle_t v;
  check(zx_vmo_create(g_size, 0, &v), "zx_vmo_create");
  uint64_t t0 = now_ns();
  for (uint64_t off = 0; off < g_size; off += CHUNK) {
    check(zx_vmo_write(v, buf, off, CHUNK), "zx_vmo_write");
  }
  double us = (double)(now_ns() - t0) / 1e3 / ((double)g_size / CHUNK);
  check(zx_handle_close(v), "zx_handle_close");
  return us;
}

int main(int argc, char** argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  uint64_t mib = argc > 1 ? strtoull(argv[1], NULL, 10) : 256;
  if (mib == 0) {
    fprintf(stderr, "usage: bench_pager_seq [MiB]\n");
    return 1;
  }
  g_size = mib * CHUNK;
  printf("bench_pager_seq: sequential read of a %llu MiB file in 1 MiB chunks: zx_vmo_read "
         "through the example file pager vs pread(2), median of %d runs\n",
         (unsigned long long)mib, REPS);
  print_machine_load();
  make_file();
  uint8_t* buf = malloc(CHUNK);
  if (!buf) return 1;
  double pr[2][REPS], pg[2][REPS], fill[REPS];
  pager_result_t last[2];
  // Cold, then warm; pread and the pager interleaved, so drift hits both.
  for (int cold = 1; cold >= 0; cold--) {
    if (!cold) (void)run_pread(false, buf);  // brings the file into the page cache
    for (int r = 0; r < REPS; r++) {
      pr[cold][r] = run_pread(cold, buf);
      last[cold] = run_pager(cold, buf);
      pg[cold][r] = last[cold].mbs;
      if (cold) fill[r] = run_fill(buf);
    }
  }
  free(buf);
  printf("  %-44s %10s %10s\n", "", "cold MB/s", "warm MB/s");
  double m_pr[2] = {median(pr[0], REPS), median(pr[1], REPS)};
  double m_pg[2] = {median(pg[0], REPS), median(pg[1], REPS)};
  printf("  %-44s %10.0f %10.0f\n", "pread(2), 1 MiB chunks", m_pr[1], m_pr[0]);
  printf("  %-44s %10.0f %10.0f\n", "zx_vmo_read through the file pager", m_pg[1], m_pg[0]);
  printf("  %-44s %9.2fx %9.2fx\n", "  ratio to pread", m_pg[1] / m_pr[1], m_pg[0] / m_pr[0]);
  for (int cold = 1; cold >= 0; cold--) {
    const pager_result_t* l = &last[cold];
    double per = (double)g_size / CHUNK;  // ns per MiB below
    uint64_t served = l->stats.ns_pread + l->stats.ns_copy + l->stats.ns_supply;
    printf("  %s, last run, per MiB: pager thread: pread %.0f us, zx_vmo_write %.0f us, "
           "supply %.0f us; reader's copies and hand-offs %.0f us (%llu requests)\n",
           cold ? "cold" : "warm", (double)l->stats.ns_pread / per / 1e3,
           (double)l->stats.ns_copy / per / 1e3, (double)l->stats.ns_supply / per / 1e3,
           ((double)l->ns_total - (double)served) / per / 1e3,
           (unsigned long long)l->stats.requests);
  }
  printf("  info: filling a new VMO of the file's size, zx_vmo_write 1 MiB chunks: %.0f us "
         "per MiB (new memory, which the pager VMO needs too)\n",
         median(fill, REPS));
  double ratio = m_pg[1] / m_pr[1];
  printf("verdict: cold sequential read through the file pager vs pread: %.2fx (goal >= 0.8x): "
         "%s [warm: %.2fx]\n",
         ratio, ratio >= 0.8 ? "MET" : "MISSED", m_pg[0] / m_pr[0]);
  return 0;
}
