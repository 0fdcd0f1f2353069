// SPDX-License-Identifier: BSD-3-Clause
// Threaded stress of zxvmo, in two shapes:
//  - per_thread_families: every thread runs the differential driver (fuzz/driver.c)
//    on VMO families of its own, each with its own reference model and its own
//    sub-VMAR for its mappings, so every result is checked exactly while other threads
//    hammer the library's shared parts (handle table, page pool, koids, signals, the
//    address space and its lock);
//  - shared_family: all threads hammer one VMO family (its root, slices, snapshots and
//    clones made and closed concurrently). Exact results depend on the interleaving,
//    so what is checked is what holds under any interleaving: no crash, every status
//    in the allowed set, every page's bytes all equal (only whole pages of one byte
//    value are ever written, and a page write is atomic), attribution within bounds;
//    and at the end pages_in_use == 0 and zxvmo_check_invariants() == ZX_OK.
// Under ThreadSanitizer this file is built against tests/shim (see its header), so it
// uses only the Criterion subset the shim provides.
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../fuzz/driver.c"
#include "../fuzz/driver_dev.c"
#include "../fuzz/driver_ref.c"
#include "../fuzz/model.c"
#include "../fuzz/model_driver.c"
#include "../fuzz/model_ref.c"

#define NTHREADS 4

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t splitmix(uint64_t* s) {
  uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Failures inside worker threads: print and abort (a crash fails the test in both
// Criterion and the shim; Criterion's asserts are not meant for other threads).
#define CHECK(cond, ...)                                                   \
  do {                                                                     \
    if (!(cond)) {                                                         \
      fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
      fprintf(stderr, __VA_ARGS__);                                        \
      fputc('\n', stderr);                                                 \
      abort();                                                             \
    }                                                                      \
  } while (0)

// ---- per-thread families, full checking ----

typedef struct fam_arg {
  uint64_t seed;
  double budget_s;
  uint64_t ops;
} fam_arg_t;

static void* family_worker(void* p) {
  fam_arg_t* a = p;
  driver_t* d = calloc(1, sizeof(*d));
  CHECK(d != NULL, "calloc");
  // check_global off: pages_in_use and the checker are process-wide.
  driver_init(d, false);
  d->name = "thread";
  d->no_pager_vmos = true;
  enum { LEN = 200 * 12 };
  uint8_t* prog = malloc(LEN);
  CHECK(prog != NULL, "malloc");
  double start = now_s();
  int programs = 0;
  while (now_s() - start < a->budget_s && d->ops < 60000) {
    for (size_t i = 0; i < LEN; i += 8) {
      uint64_t x = splitmix(&a->seed);
      memcpy(prog + i, &x, 8);
    }
    // Two programs in four in the format with mappings, one with driver memory, one in
    // eight with §16's operations (fuzz/driver.h; no pressure: threads share the budget).
    if (programs % 4 < 2) prog[0] = DRV_FORMAT_MAPS;
    if (programs % 4 == 2) prog[0] = DRV_FORMAT_DRIVER;  // without pager VMOs (below)
    if (programs % 8 == 3) prog[0] = DRV_FORMAT_REF;     // without pager VMOs either
    d->ntrace = 0;
    driver_run(d, prog, LEN);
    if (++programs % 4 == 0) driver_reset(d);
  }
  driver_fini(d);
  a->ops = d->ops;
  free(prog);
  free(d);
  return NULL;
}

Test(stress_threads, per_thread_families, .timeout = 120) {
  pthread_t t[NTHREADS];
  fam_arg_t args[NTHREADS];
  for (int i = 0; i < NTHREADS; i++) {
    args[i].seed = 0xfa0000 + (uint64_t)i;
    args[i].budget_s = 15.0;
    args[i].ops = 0;
    cr_assert_eq(pthread_create(&t[i], NULL, family_worker, &args[i]), 0);
  }
  uint64_t total = 0;
  for (int i = 0; i < NTHREADS; i++) {
    pthread_join(t[i], NULL);
    total += args[i].ops;
  }
  cr_assert_gt(total, 1000);
  zxvmo_stats_t s;
  zxvmo_get_stats(&s);
  cr_assert_eq(s.pages_in_use, driver_phys_pages_held());
  cr_assert_eq(zxvmo_check_invariants(), ZX_OK);
}

// ---- one shared family ----
//
// Sizes here are in the library's pages (SPG), whatever the driver's model uses.

#define SPG ((uint64_t)zx_system_get_page_size())
#define SH_PAGES 16
#define SH_LOCAL 6  // handles each thread keeps to its own children

typedef struct shared {
  zx_handle_t root;
  double budget_s;
  _Atomic uint64_t ops;
} shared_t;

typedef struct sh_arg {
  shared_t* sh;
  uint64_t seed;
  zx_handle_t root;  // this thread's duplicate of the root handle
} sh_arg_t;

// Every page read through any handle must hold one byte value throughout. `buf` holds
// 3 pages.
static void check_pages_uniform(zx_handle_t h, uint64_t off, uint64_t len, uint8_t* buf) {
  if (len > 3 * SPG) len = 3 * SPG;
  zx_status_t st = zx_vmo_read(h, buf, off, len);
  if (st == ZX_ERR_OUT_OF_RANGE) return;  // a concurrently shrunk clone
  CHECK(st == ZX_OK, "read: %s", zx_status_get_string(st));
  uint64_t i = 0;
  while (i < len) {
    uint64_t page_end = ((off + i) / SPG + 1) * SPG - off;
    if (page_end > len) page_end = len;
    for (uint64_t j = i + 1; j < page_end; j++) {
      CHECK(buf[j] == buf[i], "page at %#lx torn: byte %#lx is %#x, byte %#lx is %#x",
            (unsigned long)((off + i) / SPG * SPG), (unsigned long)(off + j), buf[j],
            (unsigned long)(off + i), buf[i]);
    }
    i = page_end;
  }
}

static void check_info(zx_handle_t h) {
  zx_info_vmo_t info;
  zx_status_t st = zx_object_get_info(h, ZX_INFO_VMO, &info, sizeof(info), NULL, NULL);
  CHECK(st == ZX_OK, "ZX_INFO_VMO: %s", zx_status_get_string(st));
  CHECK(info.committed_bytes <= info.size_bytes, "committed %lu > size %lu",
        (unsigned long)info.committed_bytes, (unsigned long)info.size_bytes);
  CHECK(info.committed_private_bytes <= info.committed_scaled_bytes &&
            info.committed_scaled_bytes <= info.committed_bytes,
        "private %lu scaled %lu committed %lu", (unsigned long)info.committed_private_bytes,
        (unsigned long)info.committed_scaled_bytes, (unsigned long)info.committed_bytes);
  CHECK(info.committed_fractional_scaled_bytes < (1ull << 63), "fraction %#lx",
        (unsigned long)info.committed_fractional_scaled_bytes);
  zx_signals_t obs = 0;
  st = zx_object_wait_one(h, ZX_VMO_ZERO_CHILDREN, 0, &obs);
  CHECK(st == ZX_OK || st == ZX_ERR_TIMED_OUT, "wait_one: %s", zx_status_get_string(st));
}

static void* shared_worker(void* p) {
  sh_arg_t* a = p;
  shared_t* sh = a->sh;
  zx_handle_t local[SH_LOCAL];
  bool resizable[SH_LOCAL];
  memset(local, 0, sizeof(local));
  memset(resizable, 0, sizeof(resizable));
  uint8_t* page = malloc(4 * SPG);  // one page to write, then three to read
  CHECK(page != NULL, "malloc");
  uint8_t* readbuf = page + SPG;
  double start = now_s();
  uint64_t n = 0;
  while (now_s() - start < sh->budget_s) {
    uint64_t r = splitmix(&a->seed);
    int slot = (int)((r >> 8) % SH_LOCAL);
    // The handle to act on: the shared root, or one of this thread's children.
    zx_handle_t h = (r & 1) || !local[slot] ? a->root : local[slot];
    uint64_t size = 0;
    CHECK(zx_vmo_get_size(h, &size) == ZX_OK, "get_size");
    uint64_t pages = size / SPG;
    uint64_t pg = pages ? (r >> 16) % pages : 0;
    zx_status_t st;
    switch ((r >> 4) % 12) {
      case 0: case 1: case 2:  // whole-page write of one byte value
        if (!pages) break;
        memset(page, (int)(r >> 40), SPG);
        st = zx_vmo_write(h, page, pg * SPG, SPG);
        CHECK(st == ZX_OK || (h != a->root && st == ZX_ERR_OUT_OF_RANGE) ||
                  st == ZX_ERR_ACCESS_DENIED,
              "write: %s", zx_status_get_string(st));
        break;
      case 3: case 4:  // reads, also across page boundaries
        if (!pages) break;
        check_pages_uniform(h, pg * SPG + (r >> 50) % SPG, (r >> 30) % (2 * SPG) + 1, readbuf);
        break;
      case 5: {  // a new child of the root or of a child
        if (local[slot]) {
          CHECK(zx_handle_close(local[slot]) == ZX_OK, "close");
          local[slot] = 0;
        }
        static const uint32_t kinds[] = {
            ZX_VMO_CHILD_SNAPSHOT, ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE, ZX_VMO_CHILD_SLICE,
            ZX_VMO_CHILD_SNAPSHOT | ZX_VMO_CHILD_RESIZABLE, ZX_VMO_CHILD_SNAPSHOT | ZX_VMO_CHILD_NO_WRITE};
        zx_handle_t parent = (r >> 20) & 1 ? a->root : local[(slot + 1) % SH_LOCAL];
        if (!parent) parent = a->root;
        uint64_t psize = 0;
        CHECK(zx_vmo_get_size(parent, &psize) == ZX_OK, "get_size");
        uint64_t off = psize ? ((r >> 24) % (psize / SPG + 1)) * SPG : 0;
        uint64_t csize = ((r >> 32) % 8) * SPG;
        bool legacy = ((r >> 36) % 5) == 0;
        uint32_t kind = kinds[(r >> 37) % 5];
        if (kind == ZX_VMO_CHILD_SLICE && off + csize > psize) csize = psize - off;
        zx_handle_t c = 0;
        st = legacy ? zx_vmo_clone(parent, ZX_VMO_CLONE_COPY_ON_WRITE, off, csize, &c)
                    : zx_vmo_create_child(parent, kind, off, csize, &c);
        // NOT_SUPPORTED: a COW child of a slice, SNAPSHOT of a one-way clone, a slice
        // of a resizable VMO.
        CHECK(st == ZX_OK || st == ZX_ERR_NOT_SUPPORTED, "create child: %s",
              zx_status_get_string(st));
        if (st == ZX_OK) {
          local[slot] = c;
          resizable[slot] = legacy || (kind & ZX_VMO_CHILD_RESIZABLE);
        }
        break;
      }
      case 6: {  // op_range: commit, decommit, zero of whole pages
        if (!pages) break;
        uint64_t len = ((r >> 40) % (pages - pg) + 1) * SPG;
        static const uint32_t ops[] = {ZX_VMO_OP_COMMIT, ZX_VMO_OP_DECOMMIT, ZX_VMO_OP_ZERO,
                                       ZX_VMO_OP_DONT_NEED, ZX_VMO_OP_CACHE_SYNC};
        uint32_t op = ops[(r >> 56) % 5];
        st = zx_vmo_op_range(h, op, pg * SPG, len, NULL, 0);
        bool ok = st == ZX_OK || (op == ZX_VMO_OP_DECOMMIT && st == ZX_ERR_NOT_SUPPORTED) ||
                  (h != a->root && st == ZX_ERR_OUT_OF_RANGE) || st == ZX_ERR_ACCESS_DENIED;
        CHECK(ok, "op_range %u: %s", op, zx_status_get_string(st));
        break;
      }
      case 7:  // resize one of our resizable children (whole pages: pages stay uniform)
        if (local[slot] && resizable[slot]) {
          st = zx_vmo_set_size(local[slot], ((r >> 40) % 10) * SPG);
          CHECK(st == ZX_OK, "set_size: %s", zx_status_get_string(st));
        }
        break;
      case 8:
        check_info(h);
        break;
      case 9: {  // duplicates come and go
        zx_handle_t dup = 0;
        st = zx_handle_duplicate(h, ZX_RIGHT_SAME_RIGHTS, &dup);
        CHECK(st == ZX_OK, "duplicate: %s", zx_status_get_string(st));
        check_info(dup);
        CHECK(zx_handle_close(dup) == ZX_OK, "close dup");
        break;
      }
      case 10:
        if (local[slot]) {
          CHECK(zx_handle_close(local[slot]) == ZX_OK, "close");
          local[slot] = 0;
        }
        break;
      default: {
        zxvmo_stats_t s;
        CHECK(zxvmo_get_stats(&s) == ZX_OK, "stats");
        break;
      }
    }
    n++;
  }
  for (int i = 0; i < SH_LOCAL; i++) {
    if (local[i]) CHECK(zx_handle_close(local[i]) == ZX_OK, "close");
  }
  CHECK(zx_handle_close(a->root) == ZX_OK, "close root dup");
  free(page);
  atomic_fetch_add(&sh->ops, n);
  return NULL;
}

Test(stress_threads, shared_family, .timeout = 120) {
  shared_t sh;
  memset(&sh, 0, sizeof(sh));
  sh.budget_s = 10.0;
  cr_assert_eq(zx_vmo_create(SH_PAGES * SPG, 0, &sh.root), ZX_OK);
  uint8_t* page = malloc(SPG);
  cr_assert_not_null(page);
  for (uint64_t i = 0; i < SH_PAGES; i += 2) {
    memset(page, (int)(i + 1), SPG);
    cr_assert_eq(zx_vmo_write(sh.root, page, i * SPG, SPG), ZX_OK);
  }
  free(page);
  pthread_t t[NTHREADS];
  sh_arg_t args[NTHREADS];
  for (int i = 0; i < NTHREADS; i++) {
    args[i].sh = &sh;
    args[i].seed = 0x5a0000 + (uint64_t)i;
    cr_assert_eq(zx_handle_duplicate(sh.root, ZX_RIGHT_SAME_RIGHTS, &args[i].root), ZX_OK);
    cr_assert_eq(pthread_create(&t[i], NULL, shared_worker, &args[i]), 0);
  }
  // The main thread's handle goes first: the family lives on through the duplicates.
  cr_assert_eq(zx_handle_close(sh.root), ZX_OK);
  for (int i = 0; i < NTHREADS; i++) pthread_join(t[i], NULL);
  cr_assert_gt(atomic_load(&sh.ops), 1000);
  zxvmo_stats_t s;
  zxvmo_get_stats(&s);
  cr_assert_eq(s.pages_in_use, driver_phys_pages_held());
  cr_assert_eq(zxvmo_check_invariants(), ZX_OK);
}
