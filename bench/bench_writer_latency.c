// SPDX-License-Identifier: BSD-3-Clause
// bench_writer_latency: a writer is not starved by readers of the same VMO family.
//
// Scenario. One 64 MiB VMO, every page committed. R reader threads (R = 0, then 1, 2,
// 3) stream 1 MiB zx_vmo_read calls from it in a loop, each at its own rotating
// offset, while one more thread does a 1-byte zx_vmo_write at a random offset about
// every millisecond (it sleeps 1 ms after each write). Readers are pinned to the CPUs
// round-robin (some kernels otherwise keep them on one CPU when the machine looks
// idle, and then they seldom overlap); the writer is not pinned. Each configuration runs for
// RUN_MS. Printed per R: the readers' aggregate throughput (GiB/s) and, over the
// writes, the p50 / p99 / max of the total wall latency of one write and of its
// "lock wait". The 0-reader row is the reference: the write's cost on its own.
//
// Lock wait. On a 2-core machine with 3 readers (and other work on the machine) the
// writer often waits for a CPU, which is not what this measures. Over an interval the
// thread's wall time splits into three parts:
//   wall = own CPU time + run-queue delay + time blocked (off the run queue).
// Own CPU time comes from clock_gettime(CLOCK_THREAD_CPUTIME_ID); run-queue delay
// (runnable, waiting for a CPU: after a wake-up or a preemption) is the second field
// of /proc/thread-self/schedstat. Both are read just before and just after the write
// call (sched_point() in bench_util.h, which also keeps a preemption at the return of
// the reading itself on the right side of the timestamp). The writer does no I/O and
// touches only committed memory, so the only way it blocks is waiting for a lock:
// lock wait = blocked time over the call (capped at the call's wall time). A wait for
// the lock followed by a wait for a CPU counts the first part only. glibc's rwlock
// does not spin, so a waiting writer uses no CPU. Lock wait does include the time a
// reader spent preempted while holding the lock, so a machine busy with other work
// still raises it somewhat. If the kernel has no schedstat, run-queue delay reads as
// 0 and the figure is an upper bound (the program says so).
//
// Stalls. A reader-preferring rwlock can keep a writer out for seconds while readers
// overlap. A watchdog (the main thread) stops a configuration when one write has
// been waiting STALL_MS: it stops the readers so the write can finish, records that
// write (its latency is then a lower bound, marked ">="), and moves on.
//
// Goal: p99 lock wait <= 10 ms and max <= 50 ms with 1, 2 and 3 readers.
//
// A figure, not a test: prints numbers and MET / NOT MET lines, exits 0 (1 only if a
// call fails).
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zircon/syscalls.h>

#include "bench_util.h"

#define VMO_BYTES ((uint64_t)64 << 20)
#define READ_BYTES ((size_t)1 << 20)
#define MAX_READERS 3
#define RUN_MS 3000u        // per configuration with readers
#define BASELINE_MS 1000u   // the 0-reader configuration
#define WARMUP_MS 100u      // readers run alone this long before the first write
#define STALL_MS 2000u      // a write waiting this long ends its configuration
#define PERIOD_NS 1000000u  // the writer sleeps this long between writes
#define MAX_SAMPLES 8192u
#define GOAL_P99_NS 10000000u
#define GOAL_MAX_NS 50000000u
#define BUSY_RQ_EXTRA 0.20  // readers waiting this much more for a CPU: a busy machine

static zx_handle_t g_vmo;
static atomic_int g_readers_stop;
static atomic_int g_writer_stop;
static atomic_int g_writer_done;
static _Atomic uint64_t g_write_started;  // now_ns() when the current write began, 0 if none
static atomic_int g_sched_ok = 1;
static int g_cpus[MAX_READERS];  // CPUs the readers are pinned to, round-robin
static int g_ncpus;

typedef struct reader {
  pthread_t th;
  unsigned id;
  uint64_t bytes;   // written by the reader, read after join
  uint64_t run_ns;  // time in the read loop ...
  uint64_t rq_ns;   // ... and the part of it spent waiting for a CPU
} reader_t;

typedef struct writer {
  pthread_t th;
  uint64_t wall[MAX_SAMPLES];
  uint64_t wait[MAX_SAMPLES];
  size_t n;
  int stalled;  // a sample was cut short by the watchdog (so it is a lower bound)
} writer_t;

static void* reader_main(void* arg) {
  reader_t* r = arg;
  if (g_ncpus >= 2) pin_self(g_cpus[r->id % (unsigned)g_ncpus]);
  uint8_t* buf = malloc(READ_BYTES);
  if (!buf) exit(1);
  memset(buf, 0, READ_BYTES);
  uint64_t off = (uint64_t)r->id * (VMO_BYTES / MAX_READERS) / READ_BYTES * READ_BYTES;
  uint64_t bytes = 0;
  // Scheduler points only around the whole loop: anything the loop does outside the
  // read calls opens gaps in which no reader holds the lock, and those gaps are what
  // lets a writer in with a reader-preferring lock.
  int fd = sched_delay_open();
  sched_point_t p0 = sched_point(fd);
  while (!atomic_load_explicit(&g_readers_stop, memory_order_relaxed)) {
    check(zx_vmo_read(g_vmo, buf, off, READ_BYTES), "zx_vmo_read");
    if (buf[0] != 0x5A || buf[READ_BYTES - 1] != 0x5A) {
      // The writer only writes 0x5A, so anything else is corruption.
      fprintf(stderr, "bench_writer_latency: read returned wrong data\n");
      exit(1);
    }
    bytes += READ_BYTES;
    off += READ_BYTES;
    if (off >= VMO_BYTES) off = 0;
  }
  sched_point_t p1 = sched_point(fd);
  r->bytes = bytes;
  r->run_ns = p1.t - p0.t;
  r->rq_ns = p1.rq - p0.rq;
  if (fd >= 0) close(fd);
  free(buf);
  return NULL;
}

static void sleep_ns(uint64_t ns) {
  struct timespec ts = {.tv_sec = (time_t)(ns / 1000000000u), .tv_nsec = (long)(ns % 1000000000u)};
  while (nanosleep(&ts, &ts) != 0) {
  }
}

static void* writer_main(void* arg) {
  writer_t* w = arg;
  int fd = sched_delay_open();
  if (fd < 0) atomic_store(&g_sched_ok, 0);
  uint64_t rng = 0x9E3779B97F4A7C15ull;
  const uint8_t byte = 0x5A;
  sleep_ns((uint64_t)WARMUP_MS * 1000000u);
  while (w->n < MAX_SAMPLES && !atomic_load(&g_writer_stop)) {
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    uint64_t off = (rng * 0x2545F4914F6CDD1Dull) % VMO_BYTES;
    sched_point_t p0 = sched_point(fd);
    uint64_t t0 = now_ns();
    atomic_store(&g_write_started, t0);
    zx_status_t st = zx_vmo_write(g_vmo, &byte, off, 1);
    uint64_t t1 = now_ns();
    atomic_store(&g_write_started, 0);
    sched_point_t p1 = sched_point(fd);
    check(st, "zx_vmo_write");
    uint64_t wall = t1 - t0;
    uint64_t blocked = sched_blocked_ns(&p0, &p1);
    w->wall[w->n] = wall;
    w->wait[w->n] = blocked < wall ? blocked : wall;
    w->n++;
    if (wall >= (uint64_t)STALL_MS * 1000000u) w->stalled = 1;  // cut short by the watchdog
    if (atomic_load(&g_writer_stop)) break;
    sleep_ns(PERIOD_NS);
  }
  if (fd >= 0) close(fd);
  atomic_store(&g_writer_done, 1);
  return NULL;
}

typedef struct config_result {
  double gib_s;
  double readers_rq;  // share of the readers' time spent waiting for a CPU
  size_t n;
  int stalled;
  uint64_t wall_p50, wall_p99, wall_max;
  uint64_t wait_p50, wait_p99, wait_max;
} config_result_t;

static config_result_t run_config(unsigned nreaders, unsigned run_ms) {
  static reader_t readers[MAX_READERS];
  static writer_t w;
  memset(&w, 0, sizeof(w));
  atomic_store(&g_readers_stop, 0);
  atomic_store(&g_writer_stop, 0);
  atomic_store(&g_writer_done, 0);
  atomic_store(&g_write_started, 0);
  uint64_t start = now_ns();
  for (unsigned i = 0; i < nreaders; i++) {
    readers[i].id = i;
    readers[i].bytes = 0;
    if (pthread_create(&readers[i].th, NULL, reader_main, &readers[i]) != 0) exit(1);
  }
  if (pthread_create(&w.th, NULL, writer_main, &w) != 0) exit(1);
  uint64_t deadline = start + ((uint64_t)WARMUP_MS + run_ms) * 1000000u;
  uint64_t readers_end = 0;
  // Watchdog: ends the run at the deadline, or early when one write has waited
  // STALL_MS (then the readers stop so that it can finish).
  while (!atomic_load(&g_writer_done)) {
    sleep_ns(5000000u);
    uint64_t t = now_ns();
    if (t >= deadline) atomic_store(&g_writer_stop, 1);
    uint64_t ws = atomic_load(&g_write_started);
    if (!readers_end && ws != 0 && t > ws && t - ws >= (uint64_t)STALL_MS * 1000000u) {
      atomic_store(&g_writer_stop, 1);
      readers_end = now_ns();
      atomic_store(&g_readers_stop, 1);
    }
  }
  pthread_join(w.th, NULL);
  if (!readers_end) {
    readers_end = now_ns();
    atomic_store(&g_readers_stop, 1);
  }
  uint64_t bytes = 0, read_ns = 0, rq_ns = 0;
  for (unsigned i = 0; i < nreaders; i++) {
    pthread_join(readers[i].th, NULL);
    bytes += readers[i].bytes;
    read_ns += readers[i].run_ns;
    rq_ns += readers[i].rq_ns;
  }
  config_result_t r;
  memset(&r, 0, sizeof(r));
  r.gib_s = (double)bytes / (double)(1u << 30) / ((double)(readers_end - start) / 1e9);
  r.readers_rq = read_ns ? (double)rq_ns / (double)read_ns : 0;
  r.n = w.n;
  r.stalled = w.stalled;
  qsort(w.wall, w.n, sizeof(uint64_t), cmp_u64);
  qsort(w.wait, w.n, sizeof(uint64_t), cmp_u64);
  r.wall_p50 = pct_sorted_u64(w.wall, w.n, 50);
  r.wall_p99 = pct_sorted_u64(w.wall, w.n, 99);
  r.wall_max = pct_sorted_u64(w.wall, w.n, 100);
  r.wait_p50 = pct_sorted_u64(w.wait, w.n, 50);
  r.wait_p99 = pct_sorted_u64(w.wait, w.n, 99);
  r.wait_max = pct_sorted_u64(w.wait, w.n, 100);
  return r;
}

// Formats ns as a short figure in us or ms.
static const char* fmt(char* b, size_t cap, uint64_t ns, int lower_bound) {
  const char* ge = lower_bound ? ">=" : "";
  if (ns < 1000000u) {
    snprintf(b, cap, "%s%.1f us", ge, (double)ns / 1e3);
  } else if (ns < 1000000000u) {
    snprintf(b, cap, "%s%.2f ms", ge, (double)ns / 1e6);
  } else {
    snprintf(b, cap, "%s%.3f s", ge, (double)ns / 1e9);
  }
  return b;
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  g_ncpus = allowed_cpus(g_cpus, MAX_READERS);
  check(zx_vmo_create(VMO_BYTES, 0, &g_vmo), "zx_vmo_create");
  uint8_t* fill = malloc(READ_BYTES);
  if (!fill) return 1;
  memset(fill, 0x5A, READ_BYTES);
  for (uint64_t off = 0; off < VMO_BYTES; off += READ_BYTES) {
    check(zx_vmo_write(g_vmo, fill, off, READ_BYTES), "zx_vmo_write");
  }
  free(fill);

  printf(
      "bench_writer_latency: 64 MiB committed VMO; R threads read 1 MiB at a time in a\n"
      "  loop while one thread writes 1 byte about every 1 ms (%u ms per R, %u ms for R=0).\n"
      "  lock wait = wall - own CPU - run-queue delay of the writer over the write call.\n"
      "  A write still waiting after %u ms stops its run (readers stopped; marked >=).\n"
      "  rq = share of the readers' time spent waiting for a CPU: a reader preempted\n"
      "  while it holds the lock makes the writer wait too.\n",
      RUN_MS, BASELINE_MS, STALL_MS);
  print_machine_load();
  if (g_ncpus >= 2)
    printf("  readers pinned round-robin to %d CPUs; the writer is not pinned\n", g_ncpus);
  printf("  %2s %11s %4s %6s  %-34s  %-34s\n", "R", "read", "rq", "writes",
         "write wall p50 / p99 / max", "lock wait p50 / p99 / max");
  int all_met = 1;
  config_result_t res[MAX_READERS + 1];
  for (unsigned nr = 0; nr <= MAX_READERS; nr++) {
    res[nr] = run_config(nr, nr == 0 ? BASELINE_MS : RUN_MS);
    const config_result_t* r = &res[nr];
    char a[24], b[24], c[24], d[24], e[24], f[24], rd[24], rq[16];
    if (nr == 0) {
      snprintf(rd, sizeof(rd), "-");
      snprintf(rq, sizeof(rq), "-");
    } else {
      snprintf(rd, sizeof(rd), "%.2f GiB/s", r->gib_s);
      snprintf(rq, sizeof(rq), "%.0f%%", r->readers_rq * 100);
    }
    char wall_s[96], wait_s[96];
    snprintf(wall_s, sizeof(wall_s), "%s / %s / %s", fmt(a, sizeof(a), r->wall_p50, 0),
             fmt(b, sizeof(b), r->wall_p99, 0), fmt(c, sizeof(c), r->wall_max, r->stalled));
    snprintf(wait_s, sizeof(wait_s), "%s / %s / %s", fmt(d, sizeof(d), r->wait_p50, 0),
             fmt(e, sizeof(e), r->wait_p99, 0), fmt(f, sizeof(f), r->wait_max, r->stalled));
    printf("  %2u %11s %4s %6zu  %-34s  %-34s\n", nr, rd, rq, r->n, wall_s, wait_s);
    if (r->stalled) {
      printf("     STALL: one write was still waiting for the lock after %u ms; run stopped\n",
             STALL_MS);
    }
  }
  if (!atomic_load(&g_sched_ok)) {
    printf(
        "  note: /proc/thread-self/schedstat is missing: run-queue delay counted as 0, so\n"
        "  lock wait is an upper bound (it includes waiting for a CPU)\n");
  }
  int busy_any = 0;
  for (unsigned nr = 1; nr <= MAX_READERS; nr++) {
    const config_result_t* r = &res[nr];
    int met = !r->stalled && r->n > 0 && r->wait_p99 <= GOAL_P99_NS && r->wait_max <= GOAL_MAX_NS;
    all_met &= met;
    // R readers on 2 CPUs wait for one (R - 2) / R of the time by themselves; much more
    // means other work held the CPUs, preempting readers that hold the lock.
    double own = nr > 2 ? (double)(nr - 2) / nr : 0;
    int busy = r->readers_rq > own + BUSY_RQ_EXTRA;
    busy_any |= busy;
    char a[24], b[24];
    printf(
        "verdict: %u reader%s: lock wait p99 %s, max %s (goal p99 <= 10 ms, max <= 50 ms): %s%s\n",
        nr, nr == 1 ? " " : "s", fmt(a, sizeof(a), r->wait_p99, 0),
        fmt(b, sizeof(b), r->wait_max, r->stalled), met ? "MET" : "NOT MET",
        busy ? " (machine busy: readers preempted, unreliable)" : "");
  }
  printf("verdict: writer not starved by 1-3 readers: %s%s\n", all_met ? "MET" : "NOT MET",
         busy_any ? " (machine busy: unreliable)" : "");
  check(zx_handle_close(g_vmo), "zx_handle_close");
  return 0;
}
