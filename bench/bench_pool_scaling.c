// SPDX-License-Identifier: BSD-3-Clause
// bench_pool_scaling: threads that share nothing but the library scale with cores.
//
// Scenario. Each thread owns its own VMO (its own family) of W pages and repeats one
// cycle, which takes 2W pages from the page pool and gives 2W back:
//   1. writes every page, one zx_vmo_write of a whole page per call: W fresh pages
//      taken from the pool (no zero fill: the write covers the page);
//   2. creates a SNAPSHOT child, then writes 64 bytes into every page of the parent,
//      one call per page: each write copies a shared page (COW), W more pages;
//   3. closes the snapshot: the W original pages, now seen by nobody, go back to the
//      pool;
//   4. DECOMMITs the whole VMO (zx_vmo_op_range): the W copies go back to the pool.
// Throughput counts pages taken from the pool per second (2W per cycle), summed over
// the threads. Two workloads:
//   small: W = 256 (1 MiB per thread at 4 KiB pages). Everything stays in the pool's
//          free lists and in the caches: the library's own locking and bookkeeping.
//   large: W = 12288 (48 MiB per thread). Each thread frees more pages per cycle than
//          the pool keeps (16384 free pages; 8192 after a trim), so the pool keeps
//          giving memory back to the OS and taking fresh memory, which faults in.
// Each is preceded by a reference with no library: the same page writes and copies
// by each thread in private memory, i.e. what 2 threads can gain on this machine.
//
// Method. A round measures 1 thread, then 2 threads at once, each in a forked child
// (a fresh library and pool). Each worker is pinned to a CPU of its own (the kernel
// may otherwise keep both on one CPU when the machine looks idle) and warms up
// (>= 2 cycles, >= WARMUP_MS) before its timed interval of about RUN_MS. A thread's
// rate is the pages of the cycles it completed over its own interval; the round's
// ratio is the 2-thread total over the 1-thread rate. Each thread also reads, over
// its interval, its CPU time (CLOCK_THREAD_CPUTIME_ID) and its run-queue delay (time
// runnable but waiting for a CPU: second field of /proc/thread-self/schedstat;
// sched_point() in bench_util.h).
// A round is "quiet" when no thread spent more than QUIET_RQ_SHARE of its interval on
// the run queue: the machine's other work then did not take CPUs away. Rounds
// continue until enough quiet rounds, a round limit, or (after MIN_ROUNDS) a time
// budget per workload; the figure is the median ratio of the quiet rounds.
// With none, the program says so and gives two bounds over all rounds: the raw ratio
// (understates: the 2 threads lost CPU time) and the "CPU-available" ratio, pages per
// (interval - run-queue delay) (overstates: threads that seldom run at the same time
// do not get in each other's way). "blocked" is the share of the interval spent off
// CPU and off the run queue, i.e. waiting for a lock (in the large workload also for
// the kernel).
//
// Goal: 2 threads >= 1.7x the throughput of 1 thread (on 2 cores), for each workload.
//
// A figure, not a test: prints numbers and MET / NOT MET lines, exits 0 (1 only if a
// call fails or returns wrong data).
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zircon/syscalls.h>

#include "bench_util.h"

#define MAX_THREADS 2
#define RUN_MS 300u          // timed interval of one measurement
#define WARMUP_MS 100u       // per thread, before the timed interval
#define QUIET_RQ_SHARE 0.10  // a round is quiet if no thread waited longer for a CPU
#define MIN_ROUNDS 3
#define BUDGET_MS 5000u  // per workload: no new round after this, once MIN_ROUNDS ran
#define COW_BYTES 64u    // bytes written into each shared page to make it copy
#define GOAL_RATIO 1.7

typedef struct thread_result {
  uint64_t pages;   // pages taken from the pool during the interval
  uint64_t ns;      // the thread's interval: start to the end of its last cycle
  uint64_t cpu_ns;  // CPU time over the interval
  uint64_t rq_ns;   // run-queue delay over the interval
} thread_result_t;

typedef struct measurement {
  unsigned threads;
  int sched_ok;
  thread_result_t t[MAX_THREADS];
} measurement_t;

static atomic_int g_go;
static atomic_int g_stop;
static atomic_int g_ready;
static size_t g_page;
static uint64_t g_w;            // pages per thread's VMO (the workload's W)
static int g_library;           // 0: the no-library reference workload
static int g_cpu[MAX_THREADS];  // the CPU each worker is pinned to ...
static int g_pinned;            // ... if the process may use at least MAX_THREADS CPUs

typedef struct worker {
  pthread_t th;
  unsigned id;
  int sched_ok;
  volatile uint8_t sink;  // keeps the reference's copies from being optimised away
  thread_result_t res;
} worker_t;

static void cycle(zx_handle_t vmo, const uint8_t* full, const uint8_t* small, uint8_t* check_buf) {
  for (uint64_t i = 0; i < g_w; i++) {
    check(zx_vmo_write(vmo, full, i * g_page, g_page), "zx_vmo_write");
  }
  zx_handle_t snap;
  check(zx_vmo_create_child(vmo, ZX_VMO_CHILD_SNAPSHOT, 0, (uint64_t)g_w * g_page, &snap),
        "zx_vmo_create_child");
  for (uint64_t i = 0; i < g_w; i++) {
    check(zx_vmo_write(vmo, small, i * g_page + (i * 64) % g_page, COW_BYTES), "zx_vmo_write");
  }
  // Spot check: the snapshot still sees the page as written in step 1.
  uint64_t k = (uint64_t)(full[0] % g_w);
  check(zx_vmo_read(snap, check_buf, k * g_page, g_page), "zx_vmo_read");
  if (memcmp(check_buf, full, g_page) != 0) {
    fprintf(stderr, "bench_pool_scaling: snapshot contents changed\n");
    exit(1);
  }
  check(zx_handle_close(snap), "zx_handle_close");
  check(zx_vmo_op_range(vmo, ZX_VMO_OP_DECOMMIT, 0, (uint64_t)g_w * g_page, NULL, 0),
        "zx_vmo_op_range(DECOMMIT)");
}

// The machine's own reference: the same page traffic with no library, each thread in
// memory of its own (2W pages, touched beforehand): W page writes, then W page copies.
static uint8_t cycle_private(uint8_t* mem, const uint8_t* full) {
  uint8_t* a = mem;
  uint8_t* b = mem + g_w * g_page;
  for (uint64_t i = 0; i < g_w; i++) memcpy(a + i * g_page, full, g_page);
  for (uint64_t i = 0; i < g_w; i++) {
    memcpy(b + i * g_page, a + i * g_page, g_page);
    b[i * g_page] ^= 1;
  }
  return b[(g_w - 1) * g_page];
}

static void* worker_main(void* arg) {
  worker_t* w = arg;
  if (g_pinned) pin_self(g_cpu[w->id]);
  uint8_t* full = malloc(g_page);
  uint8_t* small = malloc(COW_BYTES);
  uint8_t* check_buf = malloc(g_page);
  if (!full || !small || !check_buf) exit(1);
  memset(full, 0x30 + (int)w->id, g_page);
  memset(small, 0xC0 + (int)w->id, COW_BYTES);
  zx_handle_t vmo = ZX_HANDLE_INVALID;
  uint8_t* mem = NULL;
  if (g_library) {
    check(zx_vmo_create((uint64_t)g_w * g_page, 0, &vmo), "zx_vmo_create");
  } else {
    mem = malloc(2 * g_w * g_page);
    if (!mem) exit(1);
    memset(mem, 0, 2 * g_w * g_page);
  }
  int fd = sched_delay_open();
  w->sched_ok = fd >= 0;
  // Warm-up, at least 2 cycles and WARMUP_MS: the pool grows to its working size and
  // the CPU leaves any idle state.
  uint64_t warm_end = now_ns() + (uint64_t)WARMUP_MS * 1000000u;
  for (int i = 0; i < 2 || now_ns() < warm_end; i++) {
    if (g_library) {
      cycle(vmo, full, small, check_buf);
    } else {
      w->sink += cycle_private(mem, full);
    }
  }
  atomic_fetch_add(&g_ready, 1);
  while (!atomic_load(&g_go)) sched_yield();
  sched_point_t p0 = sched_point(fd);
  uint64_t cycles = 0;
  while (!atomic_load_explicit(&g_stop, memory_order_relaxed)) {
    if (g_library) {
      cycle(vmo, full, small, check_buf);
    } else {
      w->sink += cycle_private(mem, full);
    }
    cycles++;
  }
  sched_point_t p1 = sched_point(fd);
  w->res.pages = cycles * 2 * g_w;
  w->res.ns = p1.t - p0.t;
  w->res.cpu_ns = p1.cpu - p0.cpu;
  w->res.rq_ns = p1.rq - p0.rq;
  if (fd >= 0) close(fd);
  if (g_library) check(zx_handle_close(vmo), "zx_handle_close");
  free(mem);
  free(full);
  free(small);
  free(check_buf);
  return NULL;
}

// Runs in a forked child: `threads` workers, each on its own VMO, for RUN_MS.
static void measure(const void* arg, void* out) {
  unsigned threads = *(const unsigned*)arg;
  measurement_t* m = out;
  memset(m, 0, sizeof(*m));
  m->threads = threads;
  m->sched_ok = 1;
  static worker_t workers[MAX_THREADS];
  atomic_store(&g_go, 0);
  atomic_store(&g_stop, 0);
  atomic_store(&g_ready, 0);
  for (unsigned i = 0; i < threads; i++) {
    memset(&workers[i], 0, sizeof(workers[i]));
    workers[i].id = i;
    if (pthread_create(&workers[i].th, NULL, worker_main, &workers[i]) != 0) exit(1);
  }
  while (atomic_load(&g_ready) != (int)threads) {
    struct timespec ts = {0, 1000000};
    nanosleep(&ts, NULL);
  }
  atomic_store(&g_go, 1);
  struct timespec ts = {.tv_sec = RUN_MS / 1000, .tv_nsec = (long)(RUN_MS % 1000) * 1000000};
  while (nanosleep(&ts, &ts) != 0) {
  }
  atomic_store(&g_stop, 1);
  for (unsigned i = 0; i < threads; i++) {
    pthread_join(workers[i].th, NULL);
    m->t[i] = workers[i].res;
    m->sched_ok &= workers[i].sched_ok;
  }
}

// Pages per second: raw (over each thread's interval) and CPU-available (over the
// interval minus the thread's run-queue delay), summed over the threads; the mean
// share of the interval the threads spent blocked; the largest share one of them
// spent on the run queue.
typedef struct rate {
  double raw, avail, blocked, rq;
} rate_t;

static rate_t rates(const measurement_t* m) {
  rate_t r = {0, 0, 0, 0};
  for (unsigned i = 0; i < m->threads; i++) {
    const thread_result_t* t = &m->t[i];
    r.raw += (double)t->pages / ((double)t->ns / 1e9);
    uint64_t a = t->ns > t->rq_ns ? t->ns - t->rq_ns : 1;
    r.avail += (double)t->pages / ((double)a / 1e9);
    uint64_t b = a > t->cpu_ns ? a - t->cpu_ns : 0;
    r.blocked += (double)b / (double)t->ns / m->threads;
    double rq = t->rq_ns < t->ns ? (double)t->rq_ns / (double)t->ns : 1.0;
    if (rq > r.rq) r.rq = rq;
  }
  return r;
}

typedef struct workload {
  const char* name;
  uint64_t pages;  // W
  int library;     // 0: the reference (no library)
  int quiet_goal;  // stop after this many quiet rounds ...
  int max_rounds;  // ... or this many rounds
} workload_t;

// Runs one workload; prints its rounds and figures; returns the ratio its verdict
// uses (median ratio of the quiet rounds, else of all rounds) and sets *reliable to
// whether any round was quiet.
static double run_workload(const workload_t* wl, int* sched_ok, int* reliable) {
  enum { MAX_ROUNDS = 16 };
  g_w = wl->pages;
  g_library = wl->library;
  double ratio_raw[MAX_ROUNDS], ratio_av[MAX_ROUNDS], quiet_raw[MAX_ROUNDS];
  double raw1[MAX_ROUNDS], raw2[MAX_ROUNDS], bl1[MAX_ROUNDS], bl2[MAX_ROUNDS];
  int n = 0, nq = 0;
  printf("  %s\n", wl->name);
  uint64_t budget_end = now_ns() + (uint64_t)BUDGET_MS * 1000000u;
  while (n < wl->max_rounds && n < MAX_ROUNDS && nq < wl->quiet_goal &&
         (n < MIN_ROUNDS || now_ns() < budget_end)) {
    measurement_t m1, m2;
    unsigned one = 1, two = 2;
    run_forked(measure, &one, &m1, sizeof(m1));
    run_forked(measure, &two, &m2, sizeof(m2));
    *sched_ok &= m1.sched_ok & m2.sched_ok;
    rate_t r1 = rates(&m1), r2 = rates(&m2);
    int quiet = r1.rq <= QUIET_RQ_SHARE && r2.rq <= QUIET_RQ_SHARE;
    raw1[n] = r1.raw;
    raw2[n] = r2.raw;
    bl1[n] = r1.blocked;
    bl2[n] = r2.blocked;
    ratio_raw[n] = r2.raw / r1.raw;
    ratio_av[n] = r2.avail / r1.avail;
    if (quiet) quiet_raw[nq++] = ratio_raw[n];
    printf(
        "    round %2d: Mpages/s 1T %6.2f  2T %6.2f  ratio %.2fx | run queue %3.0f%% / %3.0f%%"
        " %s | blocked %2.0f%% / %2.0f%%\n",
        n + 1, r1.raw / 1e6, r2.raw / 1e6, ratio_raw[n], r1.rq * 100, r2.rq * 100,
        quiet ? "quiet" : "busy ", r1.blocked * 100, r2.blocked * 100);
    n++;
  }
  double m_raw1 = median(raw1, (size_t)n), m_raw2 = median(raw2, (size_t)n);
  double m_bl1 = median(bl1, (size_t)n), m_bl2 = median(bl2, (size_t)n);
  double m_ratio_raw = median(ratio_raw, (size_t)n), m_ratio_av = median(ratio_av, (size_t)n);
  printf(
      "    medians of all %d rounds: 1T %.2f Mpages/s, 2T %.2f Mpages/s, ratio %.2fx; "
      "blocked %.0f%% / %.0f%%\n",
      n, m_raw1 / 1e6, m_raw2 / 1e6, m_ratio_raw, m_bl1 * 100, m_bl2 * 100);
  *reliable = nq > 0;
  if (nq > 0) {
    double q = median(quiet_raw, (size_t)nq);
    printf("    median ratio of the %d quiet round%s: %.2fx\n", nq, nq == 1 ? "" : "s", q);
    return q;
  }
  printf(
      "    no quiet round (other programs kept the CPUs busy): the ratio is between\n"
      "    %.2fx (raw, understates) and %.2fx (CPU-available, overstates); using raw\n",
      m_ratio_raw, m_ratio_av);
  return m_ratio_raw;
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  g_page = zx_system_get_page_size();
  g_pinned = allowed_cpus(g_cpu, MAX_THREADS) == MAX_THREADS;
  printf(
      "bench_pool_scaling: each thread owns a VMO of W pages; one cycle = write every\n"
      "  page (fresh pages), snapshot + %u-byte write to every page (COW copies), close\n"
      "  the snapshot, DECOMMIT all (pages freed): 2W pages taken from and given back to\n"
      "  the pool. Per round: 1 thread, then 2 threads, %u ms each, each in a fresh\n"
      "  process. run queue: largest share of a thread's interval spent waiting for a\n"
      "  CPU (1T / 2T); a round is quiet if both are <= %.0f%%. blocked: share off CPU\n"
      "  and off the run queue, i.e. waiting for a lock. Reference: the same page writes\n"
      "  and copies in private memory, no library: what 2 threads gain on this machine.\n",
      COW_BYTES, RUN_MS, QUIET_RQ_SHARE * 100);
  print_machine_load();
  if (g_pinned) {
    printf("  workers pinned to CPUs %d and %d\n", g_cpu[0], g_cpu[1]);
  } else {
    printf("  note: fewer than 2 CPUs available: workers not pinned\n");
  }
  static const workload_t k_workloads[] = {
      {"reference, W = 256 (no library)", 256, 0, 3, 4},
      {"small: W = 256 (1 MiB per thread at 4 KiB pages)", 256, 1, 5, 8},
      {"reference, W = 12288 (no library)", 12288, 0, 3, 4},
      {"large: W = 12288 (48 MiB per thread at 4 KiB pages)", 12288, 1, 3, 5},
  };
  enum { NW = sizeof(k_workloads) / sizeof(k_workloads[0]) };
  double ratio[NW];
  int reliable[NW];
  int sched_ok = 1;
  for (size_t i = 0; i < NW; i++) ratio[i] = run_workload(&k_workloads[i], &sched_ok, &reliable[i]);
  if (!sched_ok) {
    printf("  note: /proc/thread-self/schedstat is missing: every round counts as quiet\n");
  }
  int all = 1;
  for (size_t i = 1; i < NW; i += 2) {
    int met = ratio[i] >= GOAL_RATIO;
    all &= met;
    printf(
        "verdict: %s: 2 threads / 1 thread = %.2fx (machine reference %.2fx) "
        "(goal >= %.1fx): %s%s\n",
        i == 1 ? "small" : "large", ratio[i], ratio[i - 1], GOAL_RATIO, met ? "MET" : "NOT MET",
        reliable[i] ? "" : " (no quiet round: unreliable)");
    if (reliable[i - 1] && ratio[i - 1] < GOAL_RATIO) {
      // Memory bandwidth, not the library, caps what 2 threads gain on this workload.
      printf("         the reference itself gains only %.2fx here: %.2f of it reached\n",
             ratio[i - 1], ratio[i] / ratio[i - 1]);
    }
  }
  printf("verdict: pool scaling, both workloads: %s\n", all ? "MET" : "NOT MET");
  return 0;
}
