// SPDX-License-Identifier: BSD-3-Clause
// Helpers shared by the mapping benchmarks (bench_map_*.c, bench_bgsave.c,
// bench_reset.c): sizes from argv, a VMO mapped read-write, anonymous 4 KiB memory
// (the kernel's baseline), a seeded random generator, and memory figures from /proc.
//
// Every mapping benchmark keeps the library out of the main process: each library
// measurement runs in a fresh process (run_self: fork + exec of this program), and the
// kernel baselines run in the main process or in forked children of it, which never
// use the library. A fork() of a process holding library mappings would copy their
// page tables too (they are registered for userfaultfd write protection), and a
// baseline must not pay for that. run_forked (bench_util.h) cannot serve the library
// side: in a child of fork() the library refuses to create objects (ZX_ERR_BAD_STATE,
// src/vmar/fork.c), even if the parent never used it; exec starts it afresh.
#ifndef ZXVMO_BENCH_MAP_H_
#define ZXVMO_BENCH_MAP_H_

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <zircon/process.h>
#include <zircon/syscalls.h>
#include <zxvmo.h>

#include "bench_util.h"

// ---- Running a measurement in a fresh process ----

// Runs this program again (/proc/self/exe) as `prog --child MODE ARG FD`; the child's
// main sees that with child_args() and sends its `size`-byte result through FD with
// child_reply(). The result lands in `out`; exits the program if the child fails.
static inline void run_self(const char* mode, const char* arg, void* out, size_t size) {
  int fds[2];
  if (pipe(fds) != 0) exit(1);
  fflush(stdout);
  pid_t pid = fork();
  if (pid < 0) exit(1);
  if (pid == 0) {
    close(fds[0]);
    char fd[16];
    snprintf(fd, sizeof(fd), "%d", fds[1]);
    execl("/proc/self/exe", program_invocation_short_name, "--child", mode, arg, fd,
          (char*)NULL);
    _exit(127);
  }
  close(fds[1]);
  size_t got = 0;
  while (got < size) {
    ssize_t n = read(fds[0], (char*)out + got, size - got);
    if (n <= 0) break;
    got += (size_t)n;
  }
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (got != size || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fprintf(stderr, "%s: %s child failed (status 0x%x)\n", program_invocation_short_name,
            mode, status);
    exit(1);
  }
}

// In main: true if this process is a child started by run_self; then *mode and *arg
// are its arguments and *fd where to reply.
static inline bool child_args(int argc, char** argv, const char** mode, const char** arg,
                              int* fd) {
  if (argc != 5 || strcmp(argv[1], "--child") != 0) return false;
  *mode = argv[2];
  *arg = argv[3];
  *fd = atoi(argv[4]);
  return true;
}

static inline int child_reply(int fd, const void* out, size_t size) {
  return write(fd, out, size) == (ssize_t)size ? 0 : 1;
}

#define MIB ((uint64_t)1 << 20)
#define GIB ((uint64_t)1 << 30)

// A size from argv[i] ("1G", "256M", "4096K", "12345"), or `def` if absent. Rounded
// down to whole pages (at least one). Exits on a malformed size.
static inline uint64_t arg_size(int argc, char** argv, int i, uint64_t def) {
  if (i >= argc) return def;
  char* end;
  uint64_t v = strtoull(argv[i], &end, 10);
  switch (*end) {
    case 'g': case 'G': v <<= 30; end++; break;
    case 'm': case 'M': v <<= 20; end++; break;
    case 'k': case 'K': v <<= 10; end++; break;
    default: break;
  }
  if (*end != '\0' || v == 0) {
    fprintf(stderr, "%s: bad size '%s' (e.g. 1G, 256M)\n", program_invocation_short_name,
            argv[i]);
    exit(2);
  }
  v -= v % PAGE;
  return v ? v : PAGE;
}

// A count from argv[i], or `def`.
static inline uint64_t arg_count(int argc, char** argv, int i, uint64_t def) {
  if (i >= argc) return def;
  char* end;
  uint64_t v = strtoull(argv[i], &end, 10);
  if (*end != '\0' || v == 0) {
    fprintf(stderr, "%s: bad count '%s'\n", program_invocation_short_name, argv[i]);
    exit(2);
  }
  return v;
}

// Maps `vmo` read-write in the root VMAR, `size` bytes from offset 0.
static inline uint8_t* map_vmo(zx_handle_t vmo, uint64_t size) {
  zx_vaddr_t addr = 0;
  check(zx_vmar_map(zx_vmar_root_self(), ZX_VM_PERM_READ | ZX_VM_PERM_WRITE, 0, vmo, 0, size,
                    &addr),
        "zx_vmar_map");
  return (uint8_t*)addr;
}

// A fresh VMO of `size` bytes, mapped read-write; *vmo gets its handle.
static inline uint8_t* new_mapped_vmo(uint64_t size, zx_handle_t* vmo) {
  check(zx_vmo_create(size, 0, vmo), "zx_vmo_create");
  return map_vmo(*vmo, size);
}

// Fresh private anonymous memory in 4 KiB pages (no transparent huge pages): the
// kernel's side of every comparison.
static inline uint8_t* anon_map(uint64_t size) {
  void* p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    perror("mmap");
    exit(1);
  }
  (void)madvise(p, size, MADV_NOHUGEPAGE);
  return p;
}

// Writes every byte of [p, p+size): "fully written" memory.
static inline void fill(uint8_t* p, uint64_t size, uint8_t byte) { memset(p, byte, size); }

// xorshift64*: seeded, so both sides of a comparison see the same sequence.
static inline uint64_t rng_next(uint64_t* s) {
  uint64_t x = *s;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  *s = x;
  return x * 0x2545F4914F6CDD1DULL;
}

// A random permutation of 0..n-1 (Fisher-Yates), seeded.
static inline uint32_t* permutation(uint32_t n, uint64_t seed) {
  uint32_t* v = malloc((size_t)n * sizeof(*v));
  if (v == NULL) exit(1);
  for (uint32_t i = 0; i < n; i++) v[i] = i;
  for (uint32_t i = n; i > 1; i--) {
    uint32_t j = (uint32_t)(rng_next(&seed) % i);
    uint32_t t = v[i - 1];
    v[i - 1] = v[j];
    v[j] = t;
  }
  return v;
}

// A field of /proc/<pid>/<file> ("VmHWM:", "Pss:"...) in bytes (the files give kB);
// pid 0 = this process. 0 if missing.
static inline uint64_t proc_kb_field(int pid, const char* file, const char* key) {
  char path[64], line[256];
  if (pid) {
    snprintf(path, sizeof(path), "/proc/%d/%s", pid, file);
  } else {
    snprintf(path, sizeof(path), "/proc/self/%s", file);
  }
  FILE* f = fopen(path, "r");
  if (f == NULL) return 0;
  uint64_t v = 0;
  size_t kl = strlen(key);
  while (fgets(line, sizeof(line), f)) {
    if (strncmp(line, key, kl) == 0) {
      v = strtoull(line + kl, NULL, 10) * 1024;
      break;
    }
  }
  fclose(f);
  return v;
}

// Kernel mappings (VMAs) of this process: lines of /proc/self/maps.
static inline uint64_t count_vmas(void) {
  FILE* f = fopen("/proc/self/maps", "r");
  if (f == NULL) return 0;
  uint64_t n = 0;
  int c;
  while ((c = fgetc(f)) != EOF) n += c == '\n';
  fclose(f);
  return n;
}

static inline zxvmo_stats_t stats_now(void) {
  zxvmo_stats_t s;
  check(zxvmo_get_stats(&s), "zxvmo_get_stats");
  return s;
}

static inline double mib(uint64_t bytes) { return (double)bytes / (double)MIB; }

#endif  // ZXVMO_BENCH_MAP_H_
