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

// ---- Percentiles and per-thread scheduler accounting (concurrency benchmarks) ----

#include <fcntl.h>
#include <sched.h>
#include <string.h>

// The p-th percentile (0 <= p <= 100, nearest rank) of n sorted values; 0 if n == 0.
static inline uint64_t pct_sorted_u64(const uint64_t* sorted, size_t n, double p) {
  if (n == 0) return 0;
  size_t rank = (size_t)(p / 100.0 * (double)n + 0.999999);
  if (rank < 1) rank = 1;
  if (rank > n) rank = n;
  return sorted[rank - 1];
}

// CPU time the calling thread has used, in ns.
static inline uint64_t thread_cpu_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

// Run-queue delay of a thread: the total time it has been runnable but waiting for a
// CPU, in ns (Linux: the second field of /proc/thread-self/schedstat). Open the file
// once, in the thread to be measured, with sched_delay_open(); it returns -1 when
// the kernel does not keep these figures, and sched_delay_ns(-1) is then always 0.
static inline int sched_delay_open(void) {
  return open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);
}

static inline uint64_t sched_delay_ns(int fd) {
  if (fd < 0) return 0;
  char buf[96];
  ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
  if (n <= 0) return 0;
  buf[n] = '\0';
  char* p = buf;
  (void)strtoull(p, &p, 10);  // first field: time on a CPU
  return strtoull(p, NULL, 10);
}

// A point in a thread's life from which to split a wall-clock interval into time on
// a CPU, time waiting for one (run queue) and the rest (blocked): the monotonic time,
// and the thread's run-queue delay and CPU time as of that time. Reading the delay is
// a system call, and the kernel preempts a thread mostly as a call returns, after
// the value was taken: the wait would land on the wrong side of the timestamp. So the
// delay is read before and after the timestamp, until both readings agree (no wait
// in between, at most 8 tries). fd is from sched_delay_open(), called in this thread.
typedef struct sched_point {
  uint64_t t, rq, cpu;
} sched_point_t;

static inline sched_point_t sched_point(int fd) {
  sched_point_t p;
  uint64_t after = sched_delay_ns(fd);
  for (int i = 0; i < 8; i++) {
    p.rq = after;
    p.cpu = thread_cpu_ns();
    p.t = now_ns();
    after = sched_delay_ns(fd);
    if (after == p.rq) break;
  }
  return p;
}

// Over [a, b]: the time neither on a CPU nor on the run queue, i.e. blocked.
static inline uint64_t sched_blocked_ns(const sched_point_t* a, const sched_point_t* b) {
  uint64_t wall = b->t - a->t, other = (b->cpu - a->cpu) + (b->rq - a->rq);
  return wall > other ? wall - other : 0;
}

// Prints the CPUs online and the 1-minute load average: with more runnable threads
// than CPUs, other work shares the machine and figures are noisier.
static inline void print_machine_load(void) {
  double load[1] = {0};
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  if (getloadavg(load, 1) == 1) {
    printf("  machine: %ld CPUs online, load average %.2f\n", cpus, load[0]);
  } else {
    printf("  machine: %ld CPUs online\n", cpus);
  }
}

// CPUs this process may run on: up to `max` of them into cpus[], returns how many.
// Call it before pinning any thread.
static inline int allowed_cpus(int* cpus, int max) {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return 0;
  int n = 0;
  for (int c = 0; c < CPU_SETSIZE && n < max; c++) {
    if (CPU_ISSET(c, &set)) cpus[n++] = c;
  }
  return n;
}

// Pins the calling thread to one CPU. Some kernels keep a few busy threads on one CPU
// while the machine looks idle; pinned threads of a benchmark stay spread out.
static inline void pin_self(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  (void)sched_setaffinity(0, sizeof(set), &set);
}

#endif  // ZXVMO_BENCH_UTIL_H_
