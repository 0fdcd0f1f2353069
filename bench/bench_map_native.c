// SPDX-License-Identifier: BSD-3-Clause
// bench_map_native: a mapped VMO at native speed. SIZE bytes (default 256 MiB;
// `bench_map_native 64M` for a quick run):
//   - rewrite: memset of the whole mapping, every page already written (so present
//     and writable), vs the same on anonymous memory. Goal <= 1.05x.
//   - first touch: memset of a fresh mapping (every page faults once and is zero-filled
//     by the library) vs fresh anonymous memory in 4 KiB pages (MADV_NOHUGEPAGE); and
//     the same with one byte written per page (the fault alone). Goal <= 1.5x.
//
// Each round runs the library side in a fresh process and the kernel side in the
// main process, side by side; medians of ROUNDS.
#include "bench_map.h"
#include "bench_uffd_floor.h"

#define ROUNDS 5
#define REWRITES 3  // rewrite passes per round; the best one counts

typedef struct result {
  double first_memset;  // ns per page
  double first_byte;    // ns per page
  double rewrite;       // ns per page
} result_t;

static void touch_bytes(uint8_t* p, uint64_t size) {
  for (uint64_t off = 0; off < size; off += PAGE) ((volatile uint8_t*)p)[off] = 1;
}

static uint8_t* get_anon(uint64_t size) { return anon_map(size); }

// One round on memory from `get` (a fresh region each call).
static void measure(uint64_t size, uint8_t* (*get)(uint64_t), result_t* r) {
  double n = (double)(size / PAGE);
  uint8_t* a = get(size);
  uint64_t t0 = now_ns();
  fill(a, size, 0x11);
  uint64_t t1 = now_ns();
  r->first_memset = (double)(t1 - t0) / n;
  double best = 1e30;
  for (int i = 0; i < REWRITES; i++) {
    t0 = now_ns();
    fill(a, size, (uint8_t)(0x22 + i));
    t1 = now_ns();
    if ((double)(t1 - t0) / n < best) best = (double)(t1 - t0) / n;
  }
  r->rewrite = best;
  uint8_t* b = get(size);
  t0 = now_ns();
  touch_bytes(b, size);
  t1 = now_ns();
  r->first_byte = (double)(t1 - t0) / n;
  if (a[size / 2] != 0x22 + REWRITES - 1 || b[size - PAGE] != 1 || b[1] != 0) {
    fprintf(stderr, "bench_map_native: WRONG DATA after the writes\n");
    exit(3);
  }
  if (get == get_anon) {
    munmap(a, size);
    munmap(b, size);
  }
}

static void floor_touch_round(const void* arg, void* out) {
  *(double*)out = floor_touch(*(const uint64_t*)arg);
}

static uint8_t* get_vmo(uint64_t size) {
  zx_handle_t vmo;
  return new_mapped_vmo(size, &vmo);
}

int main(int argc, char** argv) {
  const char *mode, *arg;
  int fd;
  if (child_args(argc, argv, &mode, &arg, &fd)) {
    result_t r;
    measure(strtoull(arg, NULL, 10), get_vmo, &r);
    return child_reply(fd, &r, sizeof(r));
  }
  setvbuf(stdout, NULL, _IOLBF, 0);
  uint64_t size = arg_size(argc, argv, 1, 256 * MIB);
  char size_arg[32];
  snprintf(size_arg, sizeof(size_arg), "%llu", (unsigned long long)size);
  printf("bench_map_native: a mapped %.0f MiB VMO vs anonymous memory (4 KiB pages), "
         "median of %d rounds (ns per %llu-byte page)\n",
         mib(size), ROUNDS, (unsigned long long)PAGE);
  print_machine_load();
  double lm[ROUNDS], lb[ROUNDS], lr[ROUNDS], km[ROUNDS], kb[ROUNDS], kr[ROUNDS], fl[ROUNDS];
  for (int i = 0; i < ROUNDS; i++) {
    result_t k, l;
    run_forked(floor_touch_round, &size, &fl[i], sizeof(fl[i]));
    measure(size, get_anon, &k);
    run_self("lib", size_arg, &l, sizeof(l));
    km[i] = k.first_memset;
    kb[i] = k.first_byte;
    kr[i] = k.rewrite;
    lm[i] = l.first_memset;
    lb[i] = l.first_byte;
    lr[i] = l.rewrite;
  }
  double mkr = median(kr, ROUNDS), mlr = median(lr, ROUNDS);
  double mkm = median(km, ROUNDS), mlm = median(lm, ROUNDS);
  double mkb = median(kb, ROUNDS), mlb = median(lb, ROUNDS);
  printf("  %-40s %12s %12s %8s %s\n", "", "anonymous", "mapped VMO", "ratio", "goal");
  printf("  %-40s %12.1f %12.1f %7.2fx %s\n", "rewrite (memset, pages written)", mkr, mlr,
         mlr / mkr, "<= 1.05x");
  printf("  %-40s %12.1f %12.1f %7.2fx %s\n", "first touch (memset of fresh memory)", mkm, mlm,
         mlm / mkm, "<= 1.5x");
  printf("  %-40s %12.1f %12.1f %7.2fx %s\n", "first touch (1 byte per fresh page)", mkb, mlb,
         mlb / mkb, "<= 1.5x");
  double mfl = median(fl, ROUNDS);
  printf("  %-40s %12s %12.1f %7.2fx %s\n", "floor: userfaultfd SIGBUS + ZEROPAGE", "", mfl,
         mfl / mkb, "(no library: the mechanism's own cost)");
  printf("  library's own cost above the floor, first touch (1 byte): %.2fx\n", mlb / mfl);
  double ft = mlm / mkm > mlb / mkb ? mlm / mkm : mlb / mkb;
  printf("verdict: rewrite %.2fx (goal <= 1.05x): %s; first touch worst %.2fx (goal <= 1.5x): "
         "%s\n",
         mlr / mkr, mlr / mkr <= 1.05 ? "MET" : "MISSED", ft, ft <= 1.5 ? "MET" : "MISSED");
  return 0;
}
