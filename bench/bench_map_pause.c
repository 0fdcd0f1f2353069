// SPDX-License-Identifier: BSD-3-Clause
// bench_map_pause: the pause of taking a snapshot of a mapped heap. A VMO of SIZE
// bytes (default 1 GiB; `bench_map_pause 256M` for a quick run) is mapped read-write
// and every byte written through the mapping; then zx_vmo_create_child(SNAPSHOT) is
// timed. It has to write-protect every mapped page, so it is O(pages mapped).
// Anchor: fork() of a process whose SIZE-byte heap is fully written 4 KiB private
// anonymous memory (MADV_NOHUGEPAGE), parent-side time (the child exits at once; its
// exit is not counted). Goal: ratio <= 1.0, aim <= 0.1.
// For reference: the snapshot of the same VMO once unmapped (O(1)).
//
// Each round runs each side in a fresh process, side by side; medians of ROUNDS.
#include <signal.h>

#include "bench_map.h"

#define ROUNDS 5

typedef struct lib_result {
  double mapped_ns;    // snapshot of the mapped VMO
  double unmapped_ns;  // snapshot of the same VMO once unmapped
  double fill_ns;      // writing it all through the mapping (first touch), for info
  uint64_t pages_in_use;
} lib_result_t;

static void lib_round(uint64_t size, lib_result_t* r) {
  zx_handle_t vmo, s1, s2;
  uint8_t* p = new_mapped_vmo(size, &vmo);
  uint64_t t0 = now_ns();
  fill(p, size, 0x5A);
  uint64_t t1 = now_ns();
  check(zx_vmo_create_child(vmo, ZX_VMO_CHILD_SNAPSHOT, 0, size, &s1), "snapshot (mapped)");
  uint64_t t2 = now_ns();
  r->fill_ns = (double)(t1 - t0);
  r->mapped_ns = (double)(t2 - t1);
  r->pages_in_use = stats_now().pages_in_use;
  check(zx_handle_close(s1), "close");
  check(zx_vmar_unmap(zx_vmar_root_self(), (zx_vaddr_t)p, size), "zx_vmar_unmap");
  t0 = now_ns();
  check(zx_vmo_create_child(vmo, ZX_VMO_CHILD_SNAPSHOT, 0, size, &s2), "snapshot (unmapped)");
  r->unmapped_ns = (double)(now_ns() - t0);
  // Exit without closing: the process ends.
}

typedef struct fork_result {
  double fork_ns;
} fork_result_t;

static void fork_round(const void* arg, void* out) {
  uint64_t size = *(const uint64_t*)arg;
  fork_result_t* r = out;
  uint8_t* heap = anon_map(size);
  fill(heap, size, 0x5A);
  fflush(stdout);
  uint64_t t0 = now_ns();
  pid_t pid = fork();
  if (pid == 0) _exit(0);
  uint64_t t1 = now_ns();
  if (pid < 0) exit(1);
  waitpid(pid, NULL, 0);
  r->fork_ns = (double)(t1 - t0);
}

int main(int argc, char** argv) {
  const char *mode, *arg;
  int fd;
  if (child_args(argc, argv, &mode, &arg, &fd)) {
    lib_result_t r;
    memset(&r, 0, sizeof(r));
    lib_round(strtoull(arg, NULL, 10), &r);
    return child_reply(fd, &r, sizeof(r));
  }
  setvbuf(stdout, NULL, _IOLBF, 0);
  uint64_t size = arg_size(argc, argv, 1, GIB);
  char size_arg[32];
  snprintf(size_arg, sizeof(size_arg), "%llu", (unsigned long long)size);
  printf("bench_map_pause: snapshot of a mapped, fully written %.0f MiB VMO (%llu pages of "
         "%llu bytes) vs fork() of a process with a %.0f MiB heap (4 KiB anonymous pages), "
         "median of %d rounds\n",
         mib(size), (unsigned long long)(size / PAGE), (unsigned long long)PAGE, mib(size),
         ROUNDS);
  print_machine_load();
  double snap[ROUNDS], unm[ROUNDS], fil[ROUNDS], frk[ROUNDS];
  lib_result_t lr;
  for (int i = 0; i < ROUNDS; i++) {
    fork_result_t fr;
    run_forked(fork_round, &size, &fr, sizeof(fr));
    run_self("lib", size_arg, &lr, sizeof(lr));
    frk[i] = fr.fork_ns;
    snap[i] = lr.mapped_ns;
    unm[i] = lr.unmapped_ns;
    fil[i] = lr.fill_ns;
  }
  double m_snap = median(snap, ROUNDS), m_unm = median(unm, ROUNDS);
  double m_fil = median(fil, ROUNDS), m_frk = median(frk, ROUNDS);
  double ratio = m_snap / m_frk;
  printf("  pages in use after filling: %llu\n", (unsigned long long)lr.pages_in_use);
  printf("  %-58s %12.3f ms\n", "fork(), parent side (anchor)", m_frk / 1e6);
  printf("  %-58s %12.3f ms   ratio %.3fx (goal <= 1.0x, aim <= 0.1x)\n",
         "zx_vmo_create_child(SNAPSHOT), VMO mapped", m_snap / 1e6, ratio);
  printf("  %-58s %12.3f ms   (reference: O(1))\n", "zx_vmo_create_child(SNAPSHOT), VMO unmapped",
         m_unm / 1e6);
  printf("  %-58s %12.3f ms   (info: %.0f ns per page)\n", "filling the mapped VMO (first touch)",
         m_fil / 1e6, m_fil / (double)(size / PAGE));
  printf("verdict: snapshot of a mapped heap vs fork(): %.3fx (goal <= 1.0x): %s; "
         "aim <= 0.1x: %s\n",
         ratio, ratio <= 1.0 ? "MET" : "MISSED", ratio <= 0.1 ? "MET" : "not yet");
  return 0;
}
