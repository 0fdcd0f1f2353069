// SPDX-License-Identifier: BSD-3-Clause
// bench_pager_rtt: the round trip of one page request. A thread reads one byte of an
// absent page of a pager VMO (a fresh page each time) with zx_vmo_read; a pager thread
// takes the request from its port and supplies the page from a pre-filled aux VMO;
// the read returns. Floor: a ping-pong of user packets between two threads through two
// ports (zx_port_queue, zx_port_wait), the same two wake-ups with no paging at all.
// Goal: median round trip <= 3x the floor's.
//
// Where the time goes: the pager thread stamps when its zx_port_wait returned and when
// its supply returned, so each round trip splits into request -> pager awake, supply,
// supply done -> reader awake (one CLOCK_MONOTONIC for both threads). The two threads
// are pinned to two CPUs, as are the ping-pong's.
//
// A figure, not a test: prints numbers and a verdict line, exits 0 (1 only if a
// syscall fails).
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zircon/syscalls.h>

#include "bench_util.h"

#define ROUNDS 4
#define PER_ROUND 4000  // round trips per round (pages of the pager VMO)
#define WARMUP 200      // first round trips of each round, not counted

static int g_cpus[2];
static int g_ncpus;

// ---- the pager round trip ----------------------------------------------------------

typedef struct pager_run {
  zx_handle_t pager, port, vmo, aux;
  uint64_t* woke;      // [page] when the pager's zx_port_wait returned
  uint64_t* supplied;  // [page] when its supply returned
} pager_run_t;

static void* pager_main(void* arg) {
  pager_run_t* r = arg;
  if (g_ncpus > 1) pin_self(g_cpus[1]);
  for (;;) {
    zx_port_packet_t p;
    check(zx_port_wait(r->port, ZX_TIME_INFINITE, &p), "zx_port_wait");
    uint64_t t = now_ns();
    if (p.page_request.command == ZX_PAGER_VMO_COMPLETE) return NULL;
    uint64_t off = p.page_request.offset, len = p.page_request.length;
    check(zx_pager_supply_pages(r->pager, r->vmo, off, len, r->aux, off), "supply");
    r->woke[off / PAGE] = t;
    r->supplied[off / PAGE] = now_ns();
  }
}

// The parts of one round trip, in ns.
enum { TOTAL, TO_PAGER, SUPPLY, TO_READER, NPARTS };
typedef struct split {
  uint64_t ns[NPARTS];
} split_t;

// One round: PER_ROUND fresh pages read one after the other. Appends the counted
// round trips to out[*n...].
static void pager_round(split_t* out, size_t* n) {
  pager_run_t r;
  check(zx_pager_create(0, &r.pager), "zx_pager_create");
  check(zx_port_create(0, &r.port), "zx_port_create");
  uint64_t size = PER_ROUND * PAGE;
  check(zx_pager_create_vmo(r.pager, 0, r.port, 0, size, &r.vmo), "zx_pager_create_vmo");
  check(zx_vmo_create(size, 0, &r.aux), "zx_vmo_create");
  // Every aux page filled, so that each supply moves a real page.
  uint8_t* fill = malloc(size);
  if (!fill) exit(1);
  memset(fill, 0x5C, size);
  check(zx_vmo_write(r.aux, fill, 0, size), "zx_vmo_write");
  free(fill);
  r.woke = calloc(PER_ROUND, sizeof(uint64_t));
  r.supplied = calloc(PER_ROUND, sizeof(uint64_t));
  uint64_t* start = calloc(PER_ROUND, sizeof(uint64_t));
  uint64_t* end = calloc(PER_ROUND, sizeof(uint64_t));
  if (!r.woke || !r.supplied || !start || !end) exit(1);
  pthread_t t;
  if (pthread_create(&t, NULL, pager_main, &r) != 0) exit(1);
  for (uint64_t i = 0; i < PER_ROUND; i++) {
    uint8_t b;
    start[i] = now_ns();
    check(zx_vmo_read(r.vmo, &b, i * PAGE, 1), "zx_vmo_read");
    end[i] = now_ns();
    if (b != 0x5C) {
      fprintf(stderr, "bench_pager_rtt: page %llu reads %#x\n", (unsigned long long)i, b);
      exit(1);
    }
  }
  check(zx_pager_detach_vmo(r.pager, r.vmo), "zx_pager_detach_vmo");
  // The pager's stamps are read only after the join: the read may return before the
  // pager thread has stored them.
  pthread_join(t, NULL);
  for (uint64_t i = WARMUP; i < PER_ROUND; i++) {
    split_t s = {{end[i] - start[i], r.woke[i] - start[i], r.supplied[i] - r.woke[i],
                  end[i] - r.supplied[i]}};
    out[(*n)++] = s;
  }
  zx_handle_t hs[] = {r.vmo, r.aux, r.port, r.pager};
  for (size_t i = 0; i < 4; i++) check(zx_handle_close(hs[i]), "zx_handle_close");
  free(r.woke);
  free(r.supplied);
  free(start);
  free(end);
}

// ---- the floor: user packets ping-ponged through two ports --------------------------

typedef struct pingpong {
  zx_handle_t ping, pong;
} pingpong_t;

static void* ponger_main(void* arg) {
  pingpong_t* pp = arg;
  if (g_ncpus > 1) pin_self(g_cpus[1]);
  for (;;) {
    zx_port_packet_t p;
    check(zx_port_wait(pp->ping, ZX_TIME_INFINITE, &p), "zx_port_wait");
    if (p.key == 1) return NULL;
    check(zx_port_queue(pp->pong, &p), "zx_port_queue");
  }
}

static void pingpong_round(uint64_t* out, size_t* n) {
  pingpong_t pp;
  check(zx_port_create(0, &pp.ping), "zx_port_create");
  check(zx_port_create(0, &pp.pong), "zx_port_create");
  pthread_t t;
  if (pthread_create(&t, NULL, ponger_main, &pp) != 0) exit(1);
  zx_port_packet_t p;
  memset(&p, 0, sizeof(p));
  p.type = ZX_PKT_TYPE_USER;
  for (uint64_t i = 0; i < PER_ROUND; i++) {
    uint64_t t0 = now_ns();
    check(zx_port_queue(pp.ping, &p), "zx_port_queue");
    zx_port_packet_t back;
    check(zx_port_wait(pp.pong, ZX_TIME_INFINITE, &back), "zx_port_wait");
    uint64_t t1 = now_ns();
    if (i >= WARMUP) out[(*n)++] = t1 - t0;
  }
  p.key = 1;
  check(zx_port_queue(pp.ping, &p), "zx_port_queue");
  pthread_join(t, NULL);
  check(zx_handle_close(pp.ping), "zx_handle_close");
  check(zx_handle_close(pp.pong), "zx_handle_close");
}

// ---- report -------------------------------------------------------------------------

static double us(uint64_t ns) { return (double)ns / 1000.0; }

typedef struct dist {
  uint64_t med, p99;
} dist_t;

static dist_t dist_of(uint64_t* v, size_t n) {
  qsort(v, n, sizeof(*v), cmp_u64);
  dist_t d = {pct_sorted_u64(v, n, 50), pct_sorted_u64(v, n, 99)};
  return d;
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  size_t cap = (size_t)ROUNDS * PER_ROUND;
  printf("bench_pager_rtt: round trip of one page request (zx_vmo_read of an absent page "
         "until a pager thread's supply returns it), %d x %d round trips\n",
         ROUNDS, PER_ROUND - WARMUP);
  print_machine_load();
  g_ncpus = allowed_cpus(g_cpus, 2);
  if (g_ncpus > 1) pin_self(g_cpus[0]);
  split_t* sp = calloc(cap, sizeof(*sp));
  uint64_t* floor_ns = calloc(cap, sizeof(uint64_t));
  uint64_t* col = calloc(cap, sizeof(uint64_t));
  if (!sp || !floor_ns || !col) return 1;
  size_t n_sp = 0, n_floor = 0;
  // Interleaved, so that drift of the machine hits both.
  for (int r = 0; r < ROUNDS; r++) {
    pingpong_round(floor_ns, &n_floor);
    pager_round(sp, &n_sp);
  }
  dist_t fl = dist_of(floor_ns, n_floor);
  dist_t parts[NPARTS];
  for (int k = 0; k < NPARTS; k++) {
    for (size_t i = 0; i < n_sp; i++) col[i] = sp[i].ns[k];
    parts[k] = dist_of(col, n_sp);
  }
  printf("  %-58s %9s %9s\n", "", "median us", "p99 us");
  printf("  %-58s %9.1f %9.1f\n", "floor: user packet ping-pong through two ports", us(fl.med),
         us(fl.p99));
  printf("  %-58s %9.1f %9.1f\n", "pager round trip: zx_vmo_read of an absent page",
         us(parts[TOTAL].med), us(parts[TOTAL].p99));
  printf("  %-58s %9.1f %9.1f\n", "  of which: request queued -> pager thread awake",
         us(parts[TO_PAGER].med), us(parts[TO_PAGER].p99));
  printf("  %-58s %9.1f %9.1f\n", "            zx_pager_supply_pages of the page",
         us(parts[SUPPLY].med), us(parts[SUPPLY].p99));
  printf("  %-58s %9.1f %9.1f\n", "            supply returned -> zx_vmo_read returned",
         us(parts[TO_READER].med), us(parts[TO_READER].p99));
  printf("  %-58s %8.2fx %8.2fx\n", "  ratio to the floor", (double)parts[TOTAL].med / (double)fl.med,
         (double)parts[TOTAL].p99 / (double)fl.p99);
  double ratio = (double)parts[TOTAL].med / (double)fl.med;
  printf("verdict: pager round trip vs port ping-pong: %.2fx median (goal <= 3x): %s\n", ratio,
         ratio <= 3.0 ? "MET" : "MISSED");
  free(sp);
  free(floor_ns);
  free(col);
  return 0;
}
