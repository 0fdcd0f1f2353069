// SPDX-License-Identifier: BSD-3-Clause
// bench_map_vmas: a mapping stays one kernel mapping, whatever happens to its pages. A
// VMO of SIZE bytes (default 1 GiB; `bench_map_vmas 256M` for a quick run) is mapped
// read-write and fully written, snapshotted, then half of its pages are written at
// random through the mapping (each gets a private page, the snapshot keeps the old
// one). The process's kernel mappings (lines of /proc/self/maps) are counted before
// the mapping, after it, after the snapshot and after the writes. Goal: the whole
// sequence adds fewer than 1,000 (Linux allows 65,530 per process by default).
// The whole run is in a fresh process; the main process never uses the library.
#include "bench_map.h"

#define SEED 0x7A5ULL

#define KINDS 6

typedef struct result {
  uint64_t before, mapped, filled, snapshotted, written;
  uint64_t copies;
  double write_ns;  // per page, for information
  // At the end, the kernel mappings by what they map (the path column of
  // /proc/self/maps, "(anonymous)" if none): the KINDS most common.
  char kind[KINDS][48];
  uint64_t kind_count[KINDS];
} result_t;

static void count_kinds(result_t* r) {
  enum { MAXK = 64 };
  char names[MAXK][48];
  uint64_t counts[MAXK] = {0};
  int nk = 0;
  FILE* f = fopen("/proc/self/maps", "r");
  if (f == NULL) return;
  char line[512];
  while (fgets(line, sizeof(line), f)) {
    char* path = line;
    for (int field = 0; field < 5 && path; field++) {
      path = strchr(path, ' ');
      if (path) path++;
    }
    while (path && *path == ' ') path++;
    char name[48];
    snprintf(name, sizeof(name), "%.47s", path && *path && *path != '\n' ? path : "(anonymous)");
    name[strcspn(name, "\n")] = '\0';
    int k = 0;
    while (k < nk && strcmp(names[k], name) != 0) k++;
    if (k == nk) {
      if (nk == MAXK) continue;
      memcpy(names[nk++], name, sizeof(name));
    }
    counts[k]++;
  }
  fclose(f);
  for (int i = 0; i < KINDS; i++) {
    int best = -1;
    for (int k = 0; k < nk; k++) {
      if (counts[k] && (best < 0 || counts[k] > counts[best])) best = k;
    }
    if (best < 0) break;
    memcpy(r->kind[i], names[best], sizeof(r->kind[i]));
    r->kind_count[i] = counts[best];
    counts[best] = 0;
  }
}

static void lib_run(uint64_t size, result_t* r) {
  uint32_t n = (uint32_t)(size / PAGE);
  uint32_t* order = permutation(n, SEED);
  zx_handle_t vmo, snap;
  check(zx_vmo_create(size, 0, &vmo), "zx_vmo_create");
  r->before = count_vmas();
  uint8_t* p = map_vmo(vmo, size);
  r->mapped = count_vmas();
  fill(p, size, 0x5A);
  r->filled = count_vmas();
  check(zx_vmo_create_child(vmo, ZX_VMO_CHILD_SNAPSHOT, 0, size, &snap), "snapshot");
  r->snapshotted = count_vmas();
  zxvmo_stats_t a = stats_now();
  uint64_t t0 = now_ns();
  for (uint32_t i = 0; i < n / 2; i++) p[(uint64_t)order[i] * PAGE + 1] = 0x33;
  uint64_t t1 = now_ns();
  r->written = count_vmas();
  r->copies = stats_now().cow_page_copies - a.cow_page_copies;
  r->write_ns = (double)(t1 - t0) / (n / 2);
  count_kinds(r);
  uint8_t b[2];
  for (uint32_t i = 0; i < n; i++) {
    uint64_t off = (uint64_t)order[i] * PAGE;
    check(zx_vmo_read(snap, b, off, 2), "zx_vmo_read");
    if (b[1] != 0x5A || p[off + 1] != (i < n / 2 ? 0x33 : 0x5A)) {
      fprintf(stderr, "bench_map_vmas: WRONG DATA at page %u\n", order[i]);
      exit(3);
    }
  }
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
  char size_arg[32];
  snprintf(size_arg, sizeof(size_arg), "%llu", (unsigned long long)size);
  printf("bench_map_vmas: kernel mappings (lines of /proc/self/maps) of a process with a "
         "%.0f MiB mapped VMO, snapshotted, half its %llu pages then written at random\n",
         mib(size), (unsigned long long)(size / PAGE));
  result_t r;
  run_self("lib", size_arg, &r, sizeof(r));
  printf("  %-46s %8llu\n", "before mapping (VMO created)", (unsigned long long)r.before);
  printf("  %-46s %8llu\n", "after zx_vmar_map", (unsigned long long)r.mapped);
  printf("  %-46s %8llu\n", "after writing every page", (unsigned long long)r.filled);
  printf("  %-46s %8llu\n", "after the snapshot", (unsigned long long)r.snapshotted);
  printf("  %-46s %8llu   (%llu page copies, %.0f ns per write)\n",
         "after writing half the pages at random", (unsigned long long)r.written,
         (unsigned long long)r.copies, r.write_ns);
  printf("  at the end, by what they map:");
  for (int i = 0; i < KINDS && r.kind_count[i]; i++) {
    printf("%s %llu x %s", i ? "," : "", (unsigned long long)r.kind_count[i], r.kind[i]);
  }
  printf("\n");
  long long added = (long long)r.written - (long long)r.before;
  printf("verdict: kernel mappings added: %lld (goal < 1000): %s\n", added,
         added < 1000 ? "MET" : "MISSED");
  return 0;
}
