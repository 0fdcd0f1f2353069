// SPDX-License-Identifier: BSD-3-Clause
// bench_bgsave: background save of a live heap (what Redis does with fork()). A heap of
// SIZE bytes (default 1 GiB; `bench_bgsave 256M` for a quick run), fully written; a
// writer thread updates random 64-byte records without pause while the heap is saved:
//   - zxvmo: the heap is a mapped VMO; a saver thread takes a snapshot
//     (zx_vmo_create_child(SNAPSHOT)) and streams it with zx_vmo_read in 1 MiB chunks,
//     each written to /dev/null;
//   - anchor: the heap is 4 KiB private anonymous memory (MADV_NOHUGEPAGE); the saver
//     thread fork()s and the child streams its copy, 1 MiB chunks copied out and
//     written to /dev/null.
// The writer makes UPDATES updates (default: a quarter of the heap's page count; argv[2]),
// the same sequence on both sides, starting as soon as the snapshot or fork() has
// returned (so every record it writes was written after it); the snapshot or the child
// stays until both the writer and the saver are done. Both savers check that every
// record they stream still holds the bytes written before the save.
// Printed: the pause (snapshot / parent side of fork()), the writer's cost per update
// (goal <= 1.5x fork's, aim 1.0x), and peak memory: for zxvmo pages_peak of
// zxvmo_get_stats (and the process's PSS once writer and saver are done); for fork()
// the parent's and the child's PSS (smaps_rollup) summed once both are done, which is
// when the memory of both is largest; VmHWM for information.
//
// Each round runs each side in a fresh process, side by side; medians of ROUNDS.
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>

#include "bench_map.h"

#define ROUNDS 3
#define REC 64
#define CHUNK MIB
#define FILLB 0x5A
#define SEED 0xB65A7EULL

typedef struct result {
  double pause_ns;
  double save_ns;          // the whole save: pause + streaming
  double writer_ns;        // per update during the save
  double writer_idle_ns;   // per update with no save going on (info)
  double writer_run_ns;    // the writer's whole run
  uint64_t peak_bytes;     // zxvmo: pages_peak; fork: parent + child PSS at the end
  uint64_t pss_bytes;      // zxvmo: PSS at the end of the save
  uint64_t hwm_bytes;      // VmHWM (fork: parent + child)
  uint64_t cow_copies;     // zxvmo: cow_page_copies during the save
} result_t;

typedef struct writer {
  uint8_t* heap;
  uint64_t nrec;
  uint64_t updates;  // to make
  sem_t go;  // posted when the snapshot or fork() has returned
  uint64_t ns;
} writer_t;

static void update(uint8_t* heap, uint64_t nrec, uint64_t* rng, uint64_t count) {
  uint8_t rec[REC];
  memset(rec, 0xC3, sizeof(rec));
  uint64_t r = rng_next(rng) % nrec;
  memcpy(rec + 8, &count, sizeof(count));
  memcpy(heap + r * REC, rec, REC);
}

static void* writer_main(void* arg) {
  writer_t* w = arg;
  uint64_t rng = SEED;
  while (sem_wait(&w->go) != 0) {
  }
  uint64_t t0 = now_ns();
  for (uint64_t n = 0; n < w->updates; n++) update(w->heap, w->nrec, &rng, n);
  w->ns = now_ns() - t0;
  return NULL;
}

// Per update, with no save going on (on the same heap, already written).
static double writer_idle(uint8_t* heap, uint64_t nrec) {
  uint64_t rng = SEED ^ 1, n = 1u << 21;
  uint64_t t0 = now_ns();
  for (uint64_t i = 0; i < n; i++) update(heap, nrec, &rng, i);
  return (double)(now_ns() - t0) / (double)n;
}

// Every record of a streamed chunk still starts with the byte of the fill.
static int chunk_ok(const uint8_t* b, uint64_t len) {
  for (uint64_t i = 0; i < len; i += REC) {
    if (b[i] != FILLB) return 0;
  }
  return 1;
}

// PSS of a process from smaps_rollup with open/read only (safe in a child of a
// multi-threaded fork). pid 0: self.
static uint64_t pss_of(int pid) { return proc_kb_field(pid, "smaps_rollup", "Pss:"); }

// ---- zxvmo (in a fresh process) ----

static void lib_round(uint64_t size, uint64_t updates, result_t* r) {
  zx_handle_t vmo, snap;
  writer_t w = {.nrec = size / REC, .updates = updates};
  w.heap = new_mapped_vmo(size, &vmo);
  fill(w.heap, size, FILLB);
  r->writer_idle_ns = writer_idle(w.heap, w.nrec);
  fill(w.heap, size, FILLB);
  uint8_t* buf = malloc(CHUNK);
  int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
  if (buf == NULL || null < 0) exit(1);
  pthread_t th;
  if (sem_init(&w.go, 0, 0) != 0 || pthread_create(&th, NULL, writer_main, &w) != 0) exit(1);
  zxvmo_stats_t a = stats_now();
  uint64_t t0 = now_ns();
  check(zx_vmo_create_child(vmo, ZX_VMO_CHILD_SNAPSHOT, 0, size, &snap), "snapshot");
  uint64_t t1 = now_ns();
  sem_post(&w.go);
  int ok = 1;
  for (uint64_t off = 0; off < size; off += CHUNK) {
    uint64_t len = size - off < CHUNK ? size - off : CHUNK;
    check(zx_vmo_read(snap, buf, off, len), "zx_vmo_read");
    ok &= chunk_ok(buf, len);
    if (write(null, buf, len) != (ssize_t)len) exit(1);
  }
  uint64_t t2 = now_ns();
  pthread_join(th, NULL);
  r->pss_bytes = pss_of(0);
  zxvmo_stats_t z = stats_now();
  if (!ok) {
    fprintf(stderr, "bench_bgsave: WRONG DATA: the snapshot streamed bytes written after it\n");
    exit(3);
  }
  r->pause_ns = (double)(t1 - t0);
  r->save_ns = (double)(t2 - t0);
  r->writer_ns = (double)w.ns / (double)w.updates;
  r->writer_run_ns = (double)w.ns;
  r->peak_bytes = z.pages_peak * PAGE;
  r->hwm_bytes = proc_kb_field(0, "status", "VmHWM:");
  r->cow_copies = z.cow_page_copies - a.cow_page_copies;
}

// ---- fork() (in a forked child of the main process, which never uses the library) ----

typedef struct child_report {
  uint64_t hwm_self, ok;
} child_report_t;

static void fork_round(const void* arg, void* out) {
  uint64_t size = ((const uint64_t*)arg)[0];
  result_t* r = out;
  memset(r, 0, sizeof(*r));
  writer_t w = {.nrec = size / REC, .updates = ((const uint64_t*)arg)[1]};
  w.heap = anon_map(size);
  fill(w.heap, size, FILLB);
  r->writer_idle_ns = writer_idle(w.heap, w.nrec);
  fill(w.heap, size, FILLB);
  int rep[2], hold[2];
  if (pipe(rep) != 0 || pipe(hold) != 0) exit(1);
  pthread_t th;
  if (sem_init(&w.go, 0, 0) != 0 || pthread_create(&th, NULL, writer_main, &w) != 0) exit(1);
  fflush(stdout);
  uint64_t t0 = now_ns();
  pid_t pid = fork();
  if (pid == 0) {
    // The child streams its copy of the heap, reports, and stays until the parent
    // has measured memory.
    close(rep[0]);
    close(hold[1]);
    int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
    uint8_t* buf = mmap(NULL, CHUNK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                        -1, 0);
    if (null < 0 || buf == MAP_FAILED) _exit(1);
    child_report_t c = {.ok = 1};
    for (uint64_t off = 0; off < size; off += CHUNK) {
      uint64_t len = size - off < CHUNK ? size - off : CHUNK;
      memcpy(buf, w.heap + off, len);
      c.ok &= (uint64_t)chunk_ok(buf, len);
      if (write(null, buf, len) != (ssize_t)len) _exit(1);
    }
    c.hwm_self = proc_kb_field(0, "status", "VmHWM:");
    if (write(rep[1], &c, sizeof(c)) != (ssize_t)sizeof(c)) _exit(1);
    char x;
    _exit(read(hold[0], &x, 1) < 0);
  }
  uint64_t t1 = now_ns();
  if (pid < 0) exit(1);
  sem_post(&w.go);
  close(rep[1]);
  close(hold[0]);
  child_report_t c;
  ssize_t got = read(rep[0], &c, sizeof(c));
  uint64_t t2 = now_ns();
  pthread_join(th, NULL);
  if (got == (ssize_t)sizeof(c)) r->peak_bytes = pss_of(0) + pss_of(pid);
  close(hold[1]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (got != (ssize_t)sizeof(c) || !WIFEXITED(status) || WEXITSTATUS(status) != 0) exit(1);
  if (!c.ok) {
    fprintf(stderr, "bench_bgsave: fork child streamed changed data (?)\n");
    exit(3);
  }
  r->pause_ns = (double)(t1 - t0);
  r->save_ns = (double)(t2 - t0);
  r->writer_ns = (double)w.ns / (double)w.updates;
  r->writer_run_ns = (double)w.ns;
  r->hwm_bytes = c.hwm_self + proc_kb_field(0, "status", "VmHWM:");
}

int main(int argc, char** argv) {
  const char *mode, *arg;
  int fd;
  if (child_args(argc, argv, &mode, &arg, &fd)) {
    result_t r;
    memset(&r, 0, sizeof(r));
    char* end;
    uint64_t size = strtoull(arg, &end, 10);
    lib_round(size, strtoull(end + 1, NULL, 10), &r);
    return child_reply(fd, &r, sizeof(r));
  }
  setvbuf(stdout, NULL, _IOLBF, 0);
  uint64_t size = arg_size(argc, argv, 1, GIB);
  uint64_t updates = arg_count(argc, argv, 2, size / PAGE / 4);
  char size_arg[48];
  snprintf(size_arg, sizeof(size_arg), "%llu,%llu", (unsigned long long)size,
           (unsigned long long)updates);
  printf("bench_bgsave: a writer thread updates random %d-byte records of a %.0f MiB heap "
         "while it is saved (streamed in 1 MiB chunks to /dev/null): snapshot + zx_vmo_read "
         "vs fork() + the child's copy, median of %d rounds\n",
         REC, mib(size), ROUNDS);
  print_machine_load();
  double kp[ROUNDS], ks[ROUNDS], kw[ROUNDS], ki[ROUNDS], km[ROUNDS], kh[ROUNDS], ku[ROUNDS];
  double lp[ROUNDS], ls[ROUNDS], lw[ROUNDS], li[ROUNDS], lm[ROUNDS], lh[ROUNDS], lu[ROUNDS],
      lpss[ROUNDS], lc[ROUNDS];
  for (int i = 0; i < ROUNDS; i++) {
    result_t k, l;
    uint64_t fa[2] = {size, updates};
    run_forked(fork_round, fa, &k, sizeof(k));
    run_self("lib", size_arg, &l, sizeof(l));
    kp[i] = k.pause_ns, ks[i] = k.save_ns, kw[i] = k.writer_ns, ki[i] = k.writer_idle_ns;
    km[i] = (double)k.peak_bytes, kh[i] = (double)k.hwm_bytes, ku[i] = k.writer_run_ns;
    lp[i] = l.pause_ns, ls[i] = l.save_ns, lw[i] = l.writer_ns, li[i] = l.writer_idle_ns;
    lm[i] = (double)l.peak_bytes, lh[i] = (double)l.hwm_bytes, lu[i] = l.writer_run_ns;
    lpss[i] = (double)l.pss_bytes, lc[i] = (double)l.cow_copies;
  }
  double mkp = median(kp, ROUNDS), mlp = median(lp, ROUNDS);
  double mkw = median(kw, ROUNDS), mlw = median(lw, ROUNDS);
  double mkm = median(km, ROUNDS), mlm = median(lm, ROUNDS);
  printf("  %-44s %14s %14s %9s\n", "", "fork()", "zxvmo", "ratio");
  printf("  %-44s %11.3f ms %11.3f ms %8.3fx\n", "pause (fork / snapshot)", mkp / 1e6,
         mlp / 1e6, mlp / mkp);
  printf("  %-44s %11.1f ms %11.1f ms %8.2fx\n", "save (pause + streaming)",
         median(ks, ROUNDS) / 1e6, median(ls, ROUNDS) / 1e6,
         median(ls, ROUNDS) / median(ks, ROUNDS));
  char wl[64];
  snprintf(wl, sizeof(wl), "writer's run (%llu updates)", (unsigned long long)updates);
  printf("  %-44s %11.1f ms %11.1f ms %8.2fx\n", wl, median(ku, ROUNDS) / 1e6,
         median(lu, ROUNDS) / 1e6, median(lu, ROUNDS) / median(ku, ROUNDS));
  printf("  %-44s %11.1f ns %11.1f ns %8.2fx  (goal <= 1.5x, aim 1.0x)\n",
         "writer: cost per update (during the save)", mkw, mlw, mlw / mkw);
  printf("  %-44s %11.1f ns %11.1f ns %8.2fx  (info)\n", "writer: cost per update, no save",
         median(ki, ROUNDS), median(li, ROUNDS), median(li, ROUNDS) / median(ki, ROUNDS));
  printf("  %-44s %11.1f MiB%11.1f MiB%7.2fx\n",
         "peak memory (PSS both / pages_peak)", mib((uint64_t)mkm),
         mib((uint64_t)mlm), mlm / mkm);
  printf("  %-44s %14s %11.1f MiB\n", "  zxvmo: process PSS after the save", "",
         mib((uint64_t)median(lpss, ROUNDS)));
  printf("  %-44s %11.1f MiB%11.1f MiB  (info: counts shared pages twice)\n",
         "  VmHWM (fork: parent + child)", mib((uint64_t)median(kh, ROUNDS)),
         mib((uint64_t)median(lh, ROUNDS)));
  printf("  %-44s %14s %11.0f\n", "  zxvmo: page copies (cow_page_copies)", "",
         median(lc, ROUNDS));
  printf("verdict: writer's cost per update %.2fx fork's (goal <= 1.5x): %s; aim 1.0x: %s; "
         "pause %.3fx fork's\n",
         mlw / mkw, mlw / mkw <= 1.5 ? "MET" : "MISSED", mlw / mkw <= 1.0 ? "MET" : "not yet",
         mlp / mkp);
  return 0;
}
