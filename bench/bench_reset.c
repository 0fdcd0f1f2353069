// SPDX-License-Identifier: BSD-3-Clause
// bench_reset: reset a heap to a saved state (snapshot fuzzing, undo). A mapped heap of
// SIZE bytes (default 1 GiB; `bench_reset 256M` for a quick run), fully written; its
// state is saved with a snapshot; then, ITERS times for each N (100, 10,000, 100,000,
// capped at the page count): N random distinct pages are written (one byte each) and
// the heap is reset to the saved state:
//   - zxvmo: a fresh snapshot of the saved state is mapped over the heap at the same
//     address (zx_vmar_map with ZX_VM_SPECIFIC_OVERWRITE) and the old heap VMO is
//     closed: O(1) in N for the reset itself; the next writes to those pages fault
//     again (copy-before-write), which the "touch" column shows;
//   - anchor: memcpy of the N pages from a saved copy (the caller knows which pages
//     were written: a lower bound for any dirty-tracking scheme).
// Printed per N: reset cost and ratio, and the touch phase and the whole cycle
// (touch + reset) on both sides, since the two approaches split their cost differently.
// After each reset the N pages are checked to show the saved bytes again.
//
// The library side runs in a fresh process, the anchor in the main process, side by
// side for each N; medians of ITERS cycles.
#include <zircon/syscalls/object.h>

#include "bench_map.h"

#define ITERS 5
#define NN 3
#define SEED 0x7E5E7ULL
static const uint64_t kN[NN] = {100, 10000, 100000};

typedef struct result {
  double reset_ns[NN];
  double touch_ns[NN];
  double part_ns[NN][3];  // the reset's steps: snapshot, map over, close the old heap
} result_t;

static void touch(uint8_t* heap, const uint32_t* pages, uint64_t n, uint8_t v) {
  for (uint64_t i = 0; i < n; i++) ((volatile uint8_t*)heap)[(uint64_t)pages[i] * PAGE + 7] = v;
}

static void verify(const uint8_t* heap, const uint32_t* pages, uint64_t n, const char* who) {
  for (uint64_t i = 0; i < n; i++) {
    if (heap[(uint64_t)pages[i] * PAGE + 7] != 0x5A) {
      fprintf(stderr, "bench_reset: WRONG DATA (%s): page %u not reset\n", who, pages[i]);
      exit(3);
    }
  }
}

static uint64_t clamp_n(uint64_t n, uint64_t pages) { return n < pages ? n : pages; }

// The k-th set of n distinct random pages: a window of a permutation of all pages.
static const uint32_t* window(uint32_t* perm, uint32_t* tmp, uint64_t pages, uint64_t n, int k) {
  uint64_t start = ((uint64_t)k * n * 7919) % pages;
  if (start + n <= pages) return perm + start;
  memcpy(tmp, perm + start, (pages - start) * sizeof(*tmp));
  memcpy(tmp + (pages - start), perm, (n - (pages - start)) * sizeof(*tmp));
  return tmp;
}

// ---- zxvmo (in a fresh process) ----

static void lib_run(uint64_t size, result_t* r) {
  uint64_t pages = size / PAGE;
  uint32_t* perm = permutation((uint32_t)pages, SEED);
  uint32_t* tmp = malloc(pages * sizeof(*tmp));
  zx_handle_t root = zx_vmar_root_self(), heap_vmo, saved;
  zx_info_vmar_t info;
  check(zx_object_get_info(root, ZX_INFO_VMAR, &info, sizeof(info), NULL, NULL), "get_info");
  uint8_t* heap = new_mapped_vmo(size, &heap_vmo);
  fill(heap, size, 0x5A);
  check(zx_vmo_create_child(heap_vmo, ZX_VMO_CHILD_SNAPSHOT, 0, size, &saved), "save");
  for (int j = 0; j < NN; j++) {
    uint64_t n = clamp_n(kN[j], pages);
    double rs[ITERS], ts[ITERS], ps[3][ITERS];
    for (int k = 0; k < ITERS; k++) {
      const uint32_t* set = window(perm, tmp, pages, n, k);
      uint64_t t0 = now_ns();
      touch(heap, set, n, (uint8_t)(k + 1));
      uint64_t t1 = now_ns();
      zx_handle_t fresh;
      zx_vaddr_t addr;
      check(zx_vmo_create_child(saved, ZX_VMO_CHILD_SNAPSHOT, 0, size, &fresh), "snapshot");
      uint64_t ta = now_ns();
      check(zx_vmar_map(root,
                        ZX_VM_PERM_READ | ZX_VM_PERM_WRITE | ZX_VM_SPECIFIC_OVERWRITE,
                        (uintptr_t)heap - info.base, fresh, 0, size, &addr),
            "zx_vmar_map(SPECIFIC_OVERWRITE)");
      uint64_t tb = now_ns();
      check(zx_handle_close(heap_vmo), "close");
      heap_vmo = fresh;
      uint64_t t2 = now_ns();
      if ((uint8_t*)addr != heap) {
        fprintf(stderr, "bench_reset: WRONG ADDRESS: mapped at %p, asked %p\n", (void*)addr,
                (void*)heap);
        exit(3);
      }
      verify(heap, set, n, "zxvmo");
      ts[k] = (double)(t1 - t0);
      rs[k] = (double)(t2 - t1);
      ps[0][k] = (double)(ta - t1);
      ps[1][k] = (double)(tb - ta);
      ps[2][k] = (double)(t2 - tb);
    }
    r->touch_ns[j] = median(ts, ITERS);
    r->reset_ns[j] = median(rs, ITERS);
    for (int q = 0; q < 3; q++) r->part_ns[j][q] = median(ps[q], ITERS);
  }
}

// ---- memcpy of the written pages (main process) ----

static void memcpy_run(uint64_t size, int j, uint8_t* heap, const uint8_t* copy, uint32_t* perm,
                       uint32_t* tmp, double* touch_ns, double* reset_ns) {
  uint64_t pages = size / PAGE, n = clamp_n(kN[j], pages);
  double rs[ITERS], ts[ITERS];
  for (int k = 0; k < ITERS; k++) {
    const uint32_t* set = window(perm, tmp, pages, n, k);
    uint64_t t0 = now_ns();
    touch(heap, set, n, (uint8_t)(k + 1));
    uint64_t t1 = now_ns();
    for (uint64_t i = 0; i < n; i++) {
      uint64_t off = (uint64_t)set[i] * PAGE;
      memcpy(heap + off, copy + off, PAGE);
    }
    uint64_t t2 = now_ns();
    verify(heap, set, n, "memcpy");
    ts[k] = (double)(t1 - t0);
    rs[k] = (double)(t2 - t1);
  }
  *touch_ns = median(ts, ITERS);
  *reset_ns = median(rs, ITERS);
}

int main(int argc, char** argv) {
  const char *mode, *arg;
  int fd;
  if (child_args(argc, argv, &mode, &arg, &fd)) {
    result_t r;
    memset(&r, 0, sizeof(r));
    lib_run(strtoull(arg, NULL, 10), &r);
    return child_reply(fd, &r, sizeof(r));
  }
  setvbuf(stdout, NULL, _IOLBF, 0);
  uint64_t size = arg_size(argc, argv, 1, GIB);
  uint64_t pages = size / PAGE;
  char size_arg[32];
  snprintf(size_arg, sizeof(size_arg), "%llu", (unsigned long long)size);
  printf("bench_reset: reset a mapped %.0f MiB heap (%llu pages) to a saved snapshot after "
         "writing N random pages: snapshot mapped over it (ZX_VM_SPECIFIC_OVERWRITE) vs "
         "memcpy of the N pages, median of %d cycles\n",
         mib(size), (unsigned long long)pages, ITERS);
  print_machine_load();
  // The anchor's heap and saved copy (anonymous, 4 KiB pages), used for every N.
  uint8_t* heap = anon_map(size);
  uint8_t* copy = anon_map(size);
  fill(heap, size, 0x5A);
  fill(copy, size, 0x5A);
  uint32_t* perm = permutation((uint32_t)pages, SEED);
  uint32_t* tmp = malloc(pages * sizeof(*tmp));
  double kt[NN], kr[NN];
  for (int j = 0; j < NN; j++) memcpy_run(size, j, heap, copy, perm, tmp, &kt[j], &kr[j]);
  result_t l;
  run_self("lib", size_arg, &l, sizeof(l));
  // The anchor once more after the library run, the better of the two (drift).
  for (int j = 0; j < NN; j++) {
    double t, rr;
    memcpy_run(size, j, heap, copy, perm, tmp, &t, &rr);
    if (rr < kr[j]) kr[j] = rr;
    if (t < kt[j]) kt[j] = t;
  }
  printf("  %-8s %14s %14s %9s   %14s %14s   %14s %14s\n", "N", "memcpy reset", "zxvmo reset",
         "ratio", "memcpy touch", "zxvmo touch", "memcpy cycle", "zxvmo cycle");
  for (int j = 0; j < NN; j++) {
    printf("  %-8llu %11.1f us %11.1f us %8.2fx   %11.1f us %11.1f us   %11.1f us %11.1f us"
           "  (cycle %.2fx)\n",
           (unsigned long long)clamp_n(kN[j], pages), kr[j] / 1e3, l.reset_ns[j] / 1e3,
           l.reset_ns[j] / kr[j], kt[j] / 1e3, l.touch_ns[j] / 1e3, (kt[j] + kr[j]) / 1e3,
           (l.touch_ns[j] + l.reset_ns[j]) / 1e3,
           (l.touch_ns[j] + l.reset_ns[j]) / (kt[j] + kr[j]));
  }
  printf("  zxvmo reset, by step (us): ");
  for (int j = 0; j < NN; j++) {
    printf("N=%llu: snapshot %.1f, map over %.1f, close old %.1f%s",
           (unsigned long long)clamp_n(kN[j], pages), l.part_ns[j][0] / 1e3,
           l.part_ns[j][1] / 1e3, l.part_ns[j][2] / 1e3, j + 1 < NN ? "; " : "\n");
  }
  printf("verdict: reset vs memcpy of N pages: N=%llu %.2fx, N=%llu %.2fx, N=%llu %.2fx "
         "(no goal set; lower is better)\n",
         (unsigned long long)clamp_n(kN[0], pages), l.reset_ns[0] / kr[0],
         (unsigned long long)clamp_n(kN[1], pages), l.reset_ns[1] / kr[1],
         (unsigned long long)clamp_n(kN[2], pages), l.reset_ns[2] / kr[2]);
  return 0;
}
