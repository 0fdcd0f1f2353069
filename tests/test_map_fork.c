// SPDX-License-Identifier: BSD-3-Clause
// Mappings across fork() (docs/behavior.md §17): the child keeps the parent's mappings
// at the same addresses, privately: its writes never reach the parent's VMOs; it reads
// the parent's memory as of the fork (for pages neither side wrote since); past-end
// accesses still raise SIGBUS and protected ones SIGSEGV; every call on a handle returns
// ZX_ERR_BAD_HANDLE and object creation ZX_ERR_BAD_STATE. fork() from a multithreaded
// program while other threads fault, write and snapshot leaves no lock held in the
// child.
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <zircon/process.h>
#include <zircon/syscalls.h>

#include "child_helpers.h"
#include "helpers.h"
#include "map_helpers.h"
#include "os.h"

// In a child: exits with `code` unless `cond` holds (the parent reports the code).
#define CHILD_CHECK(cond, code) \
  do {                          \
    if (!(cond)) _exit(code);   \
  } while (0)

static int wait_child(pid_t pid) {
  int status = 0;
  cr_assert_eq(waitpid(pid, &status, 0), pid);
  return status;
}

static pid_t fork_ok(void) {
  fflush(NULL);
  pid_t pid = fork();
  cr_assert_geq(pid, 0, "fork");
  if (pid == 0) alarm(10);
  return pid;
}

// Page k of the parent's VMO: written through the mapping (0, 1), with zx_vmo_write and
// never touched through the mapping (2), never written at all (3, 4).
#define NP 5
static const int kWant[NP] = {0x10, 0x11, 0x12, 0, 0};

static zx_handle_t setup(uint8_t** m) {
  zx_handle_t v = mkvmo(NP * PG);
  *m = map_rw(v, 0, NP * PG);
  mfill(*m, 0, 0x10);
  mfill(*m, 1, 0x11);
  fill_page(v, 2, 0x12);
  (void)mpage(*m, 3);  // read once: populated with zeros; page 4 never touched
  return v;
}

static void expect_parent_unchanged(zx_handle_t v, const uint8_t* m, uint64_t committed0,
                                    uint64_t in_use0) {
  for (int k = 0; k < NP; k++) {
    cr_assert_eq(page_val(v, (uint64_t)k), kWant[k], "zx_vmo_read page %d after the child", k);
    cr_assert_eq(mpage(m, (uint64_t)k), kWant[k], "mapping page %d after the child", k);
  }
  cr_assert_eq(committed(v), committed0, "the child's writes committed pages in the parent");
  cr_assert_eq(pages_in_use(), in_use0);
  expect_invariants("after the child");
}

Test(map_fork, child_reads_parent_and_writes_stay_in_child) {
  uint8_t* m;
  zx_handle_t v = setup(&m);
  uint64_t c0 = committed(v), u0 = pages_in_use();
  pid_t pid = fork_ok();
  if (pid == 0) {
    for (int k = 0; k < NP; k++) CHILD_CHECK(mpage(m, (uint64_t)k) == kWant[k], 10 + k);
    for (int k = 0; k < NP; k++) mfill(m, (uint64_t)k, (uint8_t)(0xE0 + k));
    for (int k = 0; k < NP; k++) CHILD_CHECK(mpage(m, (uint64_t)k) == 0xE0 + k, 20 + k);
    mwr(m + 3 * PG + 1, 0x01);
    CHILD_CHECK(mrd(m + 3 * PG + 1) == 0x01 && mrd(m + 3 * PG) == 0xE3, 30);
    _exit(0);
  }
  expect_exit0(wait_child(pid), "child reading and writing its mappings");
  expect_parent_unchanged(v, m, c0, u0);
  // The parent's mapping still works and commits as before.
  mfill(m, 4, 0x44);
  cr_assert_eq(page_val(v, 4), 0x44);
  unmap(m, NP * PG);
  close_h(v);
  expect_clean();
}

// The kernel may refuse a child's page fill with EAGAIN (the parent punching a hole in
// the file both map zaps the child's entries under the call): the access is retried,
// not turned into SIGBUS.
Test(map_fork, child_retries_fills_the_kernel_answers_with_eagain) {
  uint8_t* m;
  zx_handle_t v = setup(&m);
  pid_t pid = fork_ok();
  if (pid == 0) {
    os_busy_fills(3);
    CHILD_CHECK(mpage(m, 4) == 0, 14);  // a hole: zeros
    os_busy_fills(3);
    CHILD_CHECK(mpage(m, 2) == 0x12, 12);  // never mapped: a copy of the VMO's page
    mfill(m, 4, 0x44);
    CHILD_CHECK(mpage(m, 4) == 0x44, 24);
    _exit(0);
  }
  expect_exit0(wait_child(pid), "child whose fills are refused with EAGAIN");
  for (int k = 0; k < NP; k++) cr_assert_eq(mpage(m, (uint64_t)k), kWant[k]);
  unmap(m, NP * PG);
  close_h(v);
  expect_clean();
}

// Pages neither side wrote after the fork read as they were at the fork, even while the
// parent writes other pages.
Test(map_fork, child_sees_fork_time_contents_while_parent_writes) {
  uint8_t* m;
  zx_handle_t v = setup(&m);
  int go[2], done[2];
  cr_assert_eq(pipe(go), 0);
  cr_assert_eq(pipe(done), 0);
  pid_t pid = fork_ok();
  if (pid == 0) {
    char c;
    CHILD_CHECK(read(go[0], &c, 1) == 1, 2);
    // The parent has written pages 0 and 3 and decommitted page 2 meanwhile.
    CHILD_CHECK(mpage(m, 1) == 0x11, 11);
    CHILD_CHECK(mpage(m, 4) == 0, 14);
    _exit(0);
  }
  mfill(m, 0, 0x70);
  fill_page(v, 3, 0x73);
  cr_assert_eq(zx_vmo_op_range(v, ZX_VMO_OP_DECOMMIT, 2 * PG, PG, NULL, 0), ZX_OK);
  cr_assert_eq(write(go[1], "x", 1), 1);
  expect_exit0(wait_child(pid), "child reading pages untouched since the fork");
  cr_assert_eq(mpage(m, 0), 0x70);
  cr_assert_eq(mpage(m, 3), 0x73);
  cr_assert_eq(mpage(m, 2), 0);
  cr_assert_eq(mpage(m, 1), 0x11);
  close(go[0]), close(go[1]), close(done[0]), close(done[1]);
  unmap(m, NP * PG);
  close_h(v);
  expect_clean();
}

Test(map_fork, genuine_faults_in_the_child) {
  zx_handle_t v = mkvmo_opts(2 * PG, ZX_VMO_RESIZABLE);
  uint8_t* m = map_rw(v, 0, 4 * PG);
  mfill(m, 0, 0x10);
  mfill(m, 1, 0x11);
  cr_assert_eq(zx_vmo_set_size(v, PG), ZX_OK);
  expect_access_dies(m + PG, false, SIGBUS, "read past the end, after shrinking");
  expect_access_dies(m + 3 * PG, true, SIGBUS, "write past the end of the mapping's VMO");
  expect_access_ok(m + 5, true, "write below the end");
  protect(m, PG, MAP_R);
  expect_access_dies(m, true, SIGSEGV, "write to a read-only page");
  expect_access_ok(m, false, "read of a read-only page");
  unmap(m + 2 * PG, 2 * PG);
  expect_access_dies(m + 2 * PG, false, SIGSEGV, "read of an unmapped range");
  cr_assert_eq(mpage(m, 0), 0x10);
  cr_assert_eq(committed(v), PG);
  expect_invariants("genuine faults in children");
  unmap(m, 2 * PG);
  close_h(v);
  expect_clean();
}

Test(map_fork, handles_are_bad_in_the_child) {
  uint8_t* m;
  zx_handle_t v = setup(&m);
  zx_handle_t root = zx_vmar_root_self();
  pid_t pid = fork_ok();
  if (pid == 0) {
    uint8_t b = 0;
    zx_handle_t h;
    zx_vaddr_t a;
    CHILD_CHECK(zx_vmo_read(v, &b, 0, 1) == ZX_ERR_BAD_HANDLE, 10);
    CHILD_CHECK(zx_vmo_write(v, &b, 0, 1) == ZX_ERR_BAD_HANDLE, 11);
    CHILD_CHECK(zx_vmo_read(v, m + PG, 0, 1) == ZX_ERR_BAD_HANDLE, 12);
    CHILD_CHECK(zx_vmo_create_child(v, SNAP, 0, PG, &h) == ZX_ERR_BAD_HANDLE, 13);
    CHILD_CHECK(zx_vmar_map(root, MAP_RW, 0, v, 0, PG, &a) == ZX_ERR_BAD_HANDLE, 14);
    CHILD_CHECK(zx_vmar_unmap(root, (zx_vaddr_t)m, PG) == ZX_ERR_BAD_HANDLE, 15);
    CHILD_CHECK(zx_vmar_protect(root, MAP_R, (zx_vaddr_t)m, PG) == ZX_ERR_BAD_HANDLE, 16);
    CHILD_CHECK(zx_vmar_op_range(root, ZX_VMAR_OP_DECOMMIT, (zx_vaddr_t)m, PG, NULL, 0) ==
                    ZX_ERR_BAD_HANDLE,
                17);
    CHILD_CHECK(zx_vmo_create(PG, 0, &h) == ZX_ERR_BAD_STATE, 18);
    CHILD_CHECK(zx_handle_close(v) == ZX_ERR_BAD_HANDLE, 19);
    CHILD_CHECK(zx_vmo_set_size(v, 0) == ZX_ERR_BAD_HANDLE, 20);
    // The mappings were not unmapped, protected or decommitted by those calls.
    CHILD_CHECK(mpage(m, 0) == 0x10, 21);
    mfill(m, 0, 0x99);
    CHILD_CHECK(mpage(m, 0) == 0x99, 22);
    _exit(0);
  }
  expect_exit0(wait_child(pid), "child calling the library");
  cr_assert_eq(num_mappings(v), 1);
  expect_parent_unchanged(v, m, committed(v), pages_in_use());
  unmap(m, NP * PG);
  close_h(v);
  expect_clean();
}

// Mapped snapshot, AT_LEAST_ON_WRITE and legacy clone children in the forked child: each
// mapping shows what its VMO showed at the fork, and the child's writes reach none.
Test(map_fork, mapped_children_in_the_child) {
  zx_handle_t p = mkvmo_filled(3, 0x20);
  zx_handle_t s = mkchild(p, SNAP, 0, 3 * PG);
  zx_handle_t a = mkchild(p, ALOW, PG, 2 * PG);
  zx_handle_t c = mkclone(p, CLONE_COW, 0, 3 * PG);
  zx_handle_t sl = mkchild(p, SLICE, PG, PG);
  uint8_t* mp = map_rw(p, 0, 3 * PG);
  uint8_t* ms = map_rw(s, 0, 3 * PG);
  uint8_t* ma = map_rw(a, 0, 2 * PG);
  uint8_t* mc = map_rw(c, 0, 3 * PG);
  uint8_t* msl = map_rw(sl, 0, PG);
  mfill(mp, 0, 0x30);  // the parent writes page 0: the snapshots keep 0x20, the clone sees it
  mfill(ms, 1, 0x31);  // the snapshot writes its page 1
  mfill(mc, 2, 0x32);  // the clone writes its page 2
  pid_t pid = fork_ok();
  if (pid == 0) {
    CHILD_CHECK(mpage(mp, 0) == 0x30 && mpage(mp, 1) == 0x21 && mpage(mp, 2) == 0x22, 10);
    CHILD_CHECK(mpage(ms, 0) == 0x20 && mpage(ms, 1) == 0x31 && mpage(ms, 2) == 0x22, 11);
    CHILD_CHECK(mpage(ma, 0) == 0x21 && mpage(ma, 1) == 0x22, 12);
    CHILD_CHECK(mpage(mc, 0) == 0x30 && mpage(mc, 1) == 0x21 && mpage(mc, 2) == 0x32, 13);
    CHILD_CHECK(mpage(msl, 0) == 0x21, 14);
    mfill(ms, 0, 0xA0);
    mfill(ma, 1, 0xA1);
    mfill(mc, 1, 0xA2);
    mfill(mp, 2, 0xA3);
    CHILD_CHECK(mpage(ms, 0) == 0xA0 && mpage(ma, 1) == 0xA1 && mpage(mc, 1) == 0xA2, 15);
    CHILD_CHECK(mpage(mp, 2) == 0xA3, 16);
    // The child's write to the parent's mapping reaches no other mapping of the child.
    CHILD_CHECK(mpage(ms, 2) == 0x22 && mpage(ma, 1) == 0xA1, 17);
    _exit(0);
  }
  expect_exit0(wait_child(pid), "child using mapped children");
  const int wp[3] = {0x30, 0x21, 0x22}, ws[3] = {0x20, 0x31, 0x22}, wc[3] = {0x30, 0x21, 0x32};
  for (uint64_t k = 0; k < 3; k++) {
    cr_assert_eq(page_val(p, k), wp[k]);
    cr_assert_eq(mpage(mp, k), wp[k]);
    cr_assert_eq(page_val(s, k), ws[k]);
    cr_assert_eq(mpage(ms, k), ws[k]);
    cr_assert_eq(page_val(c, k), wc[k]);
    cr_assert_eq(mpage(mc, k), wc[k]);
  }
  cr_assert_eq(mpage(ma, 0), 0x21);
  cr_assert_eq(mpage(ma, 1), 0x22);
  cr_assert_eq(page_val(a, 1), 0x22);
  cr_assert_eq(mpage(msl, 0), 0x21);
  expect_invariants("mapped children after the fork");
  unmap(mp, 3 * PG);
  unmap(ms, 3 * PG);
  unmap(ma, 2 * PG);
  unmap(mc, 3 * PG);
  unmap(msl, PG);
  close_h(sl);
  close_h(c);
  close_h(a);
  close_h(s);
  close_h(p);
  expect_clean();
}

// ---- fork() while other threads are inside the library --------------------------------

#define WORKERS 3
#define WPAGES 16

typedef struct worker {
  pthread_t t;
  int id;
  zx_handle_t v;
  uint8_t* m;
  atomic_bool* stop;
  uint64_t rounds;
} worker_t;

static void* worker_main(void* arg) {
  worker_t* w = arg;
  uint64_t seed = 0x9E3779B97F4A7C15ull * (uint64_t)(w->id + 1);
  uint8_t buf[64];
  memset(buf, w->id, sizeof(buf));
  while (!atomic_load(w->stop)) {
    uint64_t k = xorshift(&seed) % WPAGES;
    switch (xorshift(&seed) % 6) {
      case 0: mfill(w->m, k, (uint8_t)w->rounds); break;
      case 1: (void)mrd(w->m + k * PG + 8); break;
      case 2: (void)zx_vmo_write(w->v, buf, k * PG + 100, sizeof(buf)); break;
      case 3: {
        zx_handle_t c;
        if (zx_vmo_create_child(w->v, SNAP, 0, WPAGES * PG, &c) == ZX_OK) zx_handle_close(c);
        break;
      }
      case 4: (void)zx_vmo_op_range(w->v, ZX_VMO_OP_DECOMMIT, k * PG, PG, NULL, 0); break;
      default: {
        zx_vaddr_t a;
        if (zx_vmar_map(zx_vmar_root_self(), MAP_RW, 0, w->v, 0, PG, &a) == ZX_OK) {
          *(volatile uint16_t*)a = 0x0101;  // bytes 0 and 1 stay equal
          zx_vmar_unmap(zx_vmar_root_self(), a, PG);
        }
        break;
      }
    }
    w->rounds++;
  }
  return NULL;
}

Test(map_fork, fork_while_threads_fault_write_and_snapshot, .timeout = 120) {
  atomic_bool stop = false;
  worker_t w[WORKERS];
  for (int i = 0; i < WORKERS; i++) {
    w[i].id = i;
    w[i].v = mkvmo(WPAGES * PG);
    w[i].m = map_rw(w[i].v, 0, WPAGES * PG);
    w[i].stop = &stop;
    w[i].rounds = 0;
    cr_assert_eq(pthread_create(&w[i].t, NULL, worker_main, &w[i]), 0);
  }
  int ok = 0;
  for (int round = 0; round < 100; round++) {
    fflush(NULL);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
      alarm(10);  // a deadlock in the child ends with SIGALRM
      for (int i = 0; i < WORKERS; i++) {
        for (uint64_t k = 0; k < WPAGES; k++) {
          (void)mrd(w[i].m + k * PG);
          mwr(w[i].m + k * PG + 1, 0xCC);
          CHILD_CHECK(mrd(w[i].m + k * PG + 1) == 0xCC, 3);
        }
      }
      _exit(0);
    }
    int status = wait_child(pid);
    char what[64];
    snprintf(what, sizeof(what), "fork round %d", round);
    expect_exit0(status, what);
    ok++;
    usleep(1000);
  }
  atomic_store(&stop, true);
  for (int i = 0; i < WORKERS; i++) {
    cr_assert_eq(pthread_join(w[i].t, NULL), 0);
    cr_assert_gt(w[i].rounds, 0);
  }
  cr_assert_eq(ok, 100);
  expect_invariants("forks under load");
  for (int i = 0; i < WORKERS; i++) {
    // No byte the children wrote (0xCC at offset 1 of each page) reached the parent:
    // the parent's own writes keep bytes 0 and 1 of every page equal.
    for (uint64_t k = 0; k < WPAGES; k++) {
      cr_assert_eq(mrd(w[i].m + k * PG + 1), mrd(w[i].m + k * PG), "worker %d page %llu", i,
                   (unsigned long long)k);
      cr_assert_eq(rd8(w[i].v, k * PG + 1), rd8(w[i].v, k * PG));
    }
    unmap(w[i].m, WPAGES * PG);
    close_h(w[i].v);
  }
  expect_clean();
}

// The parent gives memory back after the fork (its pool frees whole chunks of the
// file the child's mappings share): the child's next accesses must still work, not die
// of SIGBUS past the end of a shrunk file.
Test(map_fork, the_parent_giving_memory_back_does_not_hurt_the_child) {
  const uint64_t pages = (64ull << 20) / PG;  // beyond what the pool keeps for reuse
  zx_handle_t v = mkvmo(pages * PG);
  cr_assert_eq(zx_vmo_op_range(v, ZX_VMO_OP_COMMIT, 0, pages * PG, NULL, 0), ZX_OK);
  // Mapped but never touched: the child's accesses are served from the pages as the
  // fork left them.
  uint8_t* m = map_rw(v, 0, pages * PG);
  int go[2];
  cr_assert_eq(pipe(go), 0);
  pid_t pid = fork_ok();
  if (pid == 0) {
    char c;
    CHILD_CHECK(read(go[0], &c, 1) == 1, 2);
    for (uint64_t k = 0; k < pages; k += 97) (void)mrd(m + k * PG);
    (void)mrd(m + (pages - 1) * PG);
    mwr(m, 7);
    CHILD_CHECK(mrd(m) == 7, 3);
    _exit(0);
  }
  // Free it all (the pool gives the chunks back), then let the child go.
  unmap(m, pages * PG);
  close_h(v);
  cr_assert_eq(write(go[1], "x", 1), 1);
  expect_exit0(wait_child(pid), "child after the parent freed memory");
  close(go[0]);
  close(go[1]);
}
