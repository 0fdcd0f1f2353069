// SPDX-License-Identifier: BSD-3-Clause
// Pager VMOs through mappings (docs/behavior.md §14): faults ask for one page each and
// wait for the pager, a failed or abandoned page is SIGBUS, writes through a mapping
// dirty pages (asking first with TRAP_DIRTY), write-back sees later writes, and a
// pager that does not answer wedges nobody but the faulting thread.
#include <criterion/criterion.h>
#include <signal.h>
#include <stdatomic.h>
#include <zircon/process.h>

#include "map_helpers.h"
#include "os.h"
#include "pager_helpers.h"

// Answers `n` requests on its own thread: each READ is supplied with the pattern for
// `seed` (or failed with `fail`), each DIRTY is accepted, and every packet is kept.
typedef struct responder {
  pg_env_t* e;
  zx_handle_t vmo;
  uint8_t seed;
  zx_status_t fail;
  int n;
  zx_port_packet_t seen[64];
  pthread_t thread;
} responder_t;

static void* responder_main(void* arg) {
  responder_t* r = arg;
  for (int i = 0; i < r->n; i++) {
    zx_port_packet_t p;
    if (zx_port_wait(r->e->port, ZX_TIME_INFINITE, &p) != ZX_OK) return NULL;
    r->seen[i] = p;
    uint64_t off = p.page_request.offset, len = p.page_request.length;
    if (p.page_request.command == ZX_PAGER_VMO_DIRTY) {
      zx_pager_op_range(r->e->pager, ZX_PAGER_OP_DIRTY, r->vmo, off, len, 0);
    } else if (p.page_request.command == ZX_PAGER_VMO_READ) {
      if (r->fail != ZX_OK) {
        zx_pager_op_range(r->e->pager, ZX_PAGER_OP_FAIL, r->vmo, off, len, (uint64_t)r->fail);
      } else {
        pg_supply(r->e, r->vmo, off / PG, len / PG, r->seed);
      }
    }
  }
  return NULL;
}

static void responder_start(responder_t* r, pg_env_t* e, zx_handle_t vmo, int n,
                            zx_status_t fail) {
  memset(r, 0, sizeof(*r));
  r->e = e;
  r->vmo = vmo;
  r->seed = 0x33;
  r->n = n;
  r->fail = fail;
  cr_assert_eq(pthread_create(&r->thread, NULL, responder_main, r), 0);
}

static void responder_join(responder_t* r) { pthread_join(r->thread, NULL); }

static volatile uint8_t* map(zx_handle_t vmo, uint64_t pages, uint32_t perms) {
  zx_vaddr_t addr;
  cr_assert_eq(zx_vmar_map(zx_vmar_root_self(), perms, 0, vmo, 0, pages * PG, &addr), ZX_OK);
  return (volatile uint8_t*)addr;
}

#define RW (ZX_VM_PERM_READ | ZX_VM_PERM_WRITE)

Test(pager_map, faults_ask_one_page_each_and_wait_for_supply) {
  pg_env_t e = pg_env();
  zx_handle_t v = pg_vmo(&e, 4, 0, 7);
  volatile uint8_t* p = map(v, 4, ZX_VM_PERM_READ);
  responder_t r;
  responder_start(&r, &e, v, 4, ZX_OK);
  for (uint64_t i = 0; i < 4; i++) cr_assert_eq(p[i * PG + 9], pg_pat(i * PG + 9, r.seed));
  responder_join(&r);
  for (int i = 0; i < 4; i++) {
    cr_assert_eq(r.seen[i].page_request.command, ZX_PAGER_VMO_READ);
    cr_assert_eq(r.seen[i].page_request.offset, (uint64_t)i * PG);
    cr_assert_eq(r.seen[i].page_request.length, PG);
  }
  pg_expect_none(e.port);
  // Reads and the mapping agree; committed pages are counted once.
  cr_assert(pg_check(v, 0, 4 * PG, r.seed));
  cr_assert_eq(vmo_info(v).committed_bytes, 4 * PG);
}

Test(pager_map, a_failed_page_is_sigbus, .signal = SIGBUS) {
  pg_env_t e = pg_env();
  zx_handle_t v = pg_vmo(&e, 1, 0, 7);
  volatile uint8_t* p = map(v, 1, ZX_VM_PERM_READ);
  responder_t r;
  responder_start(&r, &e, v, 1, ZX_ERR_IO);
  (void)p[0];
}

Test(pager_map, a_detached_vmos_absent_page_is_sigbus, .signal = SIGBUS) {
  pg_env_t e = pg_env();
  zx_handle_t v = pg_vmo(&e, 2, 0, 7);
  volatile uint8_t* p = map(v, 2, ZX_VM_PERM_READ);
  pg_supply(&e, v, 0, 1, 1);
  wr8(v, 0, 0x44);  // dirty: stays
  cr_assert_eq(zx_pager_detach_vmo(e.pager, v), ZX_OK);
  cr_assert_eq(p[0], 0x44);
  (void)p[PG];
}

Test(pager_map, a_mapped_read_buffer_is_served_by_the_pager) {
  pg_env_t e = pg_env();
  zx_handle_t v = pg_vmo(&e, 2, 0, 7), src = mkvmo_filled(2, 0x60);
  volatile uint8_t* p = map(v, 2, RW);
  responder_t r;
  responder_start(&r, &e, v, 1, ZX_OK);
  // The destination buffer is the pager VMO's mapping: the copy faults there.
  cr_assert_eq(zx_vmo_read(src, (void*)(p + 10), 0, 100), ZX_OK);
  responder_join(&r);
  cr_assert_eq(p[10], 0x60);
  cr_assert_eq(p[9], pg_pat(9, r.seed));
}

static size_t dirty_count(const pg_env_t* e, zx_handle_t v, uint64_t pages,
                          zx_vmo_dirty_range_t* out) {
  size_t actual = 0, avail = 0;
  cr_assert_eq(zx_pager_query_dirty_ranges(e->pager, v, 0, pages * PG, out, sizeof(*out),
                                           &actual, &avail),
               ZX_OK);
  return avail;
}

Test(pager_map, writes_through_a_mapping_dirty_pages) {
  pg_env_t e = pg_env();
  zx_handle_t v = pg_vmo(&e, 4, 0, 7);
  pg_supply(&e, v, 0, 4, 2);
  volatile uint8_t* p = map(v, 4, RW);
  cr_assert_eq(p[2 * PG], pg_pat(2 * PG, 2));  // a read does not dirty
  zx_vmo_dirty_range_t d;
  cr_assert_eq(dirty_count(&e, v, 4, &d), 0);
  p[2 * PG + 1] = 0x77;
  cr_assert_eq(dirty_count(&e, v, 4, &d), 1);
  cr_assert_eq(d.offset, 2 * PG);
  cr_assert_eq(d.length, PG);
  cr_assert_eq(rd8(v, 2 * PG + 1), 0x77);
  // Write-back: a write after BEGIN re-dirties the page, so END leaves it dirty.
  cr_assert_eq(zx_pager_op_range(e.pager, ZX_PAGER_OP_WRITEBACK_BEGIN, v, 0, 4 * PG, 0), ZX_OK);
  p[2 * PG + 2] = 0x78;
  cr_assert_eq(zx_pager_op_range(e.pager, ZX_PAGER_OP_WRITEBACK_END, v, 0, 4 * PG, 0), ZX_OK);
  cr_assert_eq(dirty_count(&e, v, 4, &d), 1);
  // Without a write in between, END cleans it.
  cr_assert_eq(zx_pager_op_range(e.pager, ZX_PAGER_OP_WRITEBACK_BEGIN, v, 0, 4 * PG, 0), ZX_OK);
  cr_assert_eq(zx_pager_op_range(e.pager, ZX_PAGER_OP_WRITEBACK_END, v, 0, 4 * PG, 0), ZX_OK);
  cr_assert_eq(dirty_count(&e, v, 4, &d), 0);
  p[0] = 1;  // and the next write is seen again
  cr_assert_eq(dirty_count(&e, v, 4, &d), 1);
  zx_pager_vmo_stats_t s;
  cr_assert_eq(zx_pager_query_vmo_stats(e.pager, v, ZX_PAGER_RESET_VMO_STATS, &s, sizeof(s)),
               ZX_OK);
  cr_assert_eq(s.modified, ZX_PAGER_VMO_STATS_MODIFIED);
  // A write to a page that is dirty already still counts after a reset.
  p[1] = 2;
  cr_assert_eq(zx_pager_query_vmo_stats(e.pager, v, 0, &s, sizeof(s)), ZX_OK);
  cr_assert_eq(s.modified, ZX_PAGER_VMO_STATS_MODIFIED);
}

Test(pager_map, a_dirty_page_read_through_a_mapping_still_counts_its_writes) {
  pg_env_t e = pg_env();
  zx_handle_t v = pg_vmo(&e, 1, 0, 7);
  pg_supply(&e, v, 0, 1, 2);
  wr8(v, 0, 1);  // dirty
  zx_pager_vmo_stats_t s;
  cr_assert_eq(zx_pager_query_vmo_stats(e.pager, v, ZX_PAGER_RESET_VMO_STATS, &s, sizeof(s)),
               ZX_OK);
  volatile uint8_t* p = map(v, 1, RW);
  cr_assert_eq(p[0], 1);  // a read fault
  p[1] = 5;               // must still be seen
  cr_assert_eq(zx_pager_query_vmo_stats(e.pager, v, 0, &s, sizeof(s)), ZX_OK);
  cr_assert_eq(s.modified, ZX_PAGER_VMO_STATS_MODIFIED);
}

Test(pager_map, trap_dirty_asks_for_each_written_page) {
  pg_env_t e = pg_env();
  zx_handle_t v = pg_vmo(&e, 2, ZX_VMO_TRAP_DIRTY, 7);
  volatile uint8_t* p = map(v, 2, RW);
  responder_t r;
  responder_start(&r, &e, v, 4, ZX_OK);
  p[5] = 1;       // READ, then DIRTY
  p[PG + 5] = 2;  // the same for the next page
  p[6] = 3;       // dirty already: nothing asked
  responder_join(&r);
  const uint16_t cmds[4] = {ZX_PAGER_VMO_READ, ZX_PAGER_VMO_DIRTY, ZX_PAGER_VMO_READ,
                            ZX_PAGER_VMO_DIRTY};
  for (int i = 0; i < 4; i++) {
    cr_assert_eq(r.seen[i].page_request.command, cmds[i], "request %d", i);
    cr_assert_eq(r.seen[i].page_request.offset, (uint64_t)(i / 2) * PG, "request %d", i);
    cr_assert_eq(r.seen[i].page_request.length, PG, "request %d", i);
  }
  pg_expect_none(e.port);
  zx_vmo_dirty_range_t d;
  cr_assert_eq(dirty_count(&e, v, 2, &d), 1);
  cr_assert_eq(d.length, 2 * PG);
  cr_assert_eq(rd8(v, 6), 3);
}

Test(pager_map, a_silent_pager_wedges_only_the_waiting_thread) {
  pg_env_t e = pg_env();
  zx_handle_t v = pg_vmo(&e, 2, 0, 7);
  volatile uint8_t* p = map(v, 2, RW);
  pg_op_t* blocked = pg_op_start(OP_READ, v, 0, 1, 0);
  pg_expect(e.port, 7, ZX_PAGER_VMO_READ, 0, 1);
  // Other VMOs, the same family's present pages, and the address space go on.
  zx_handle_t other = mkvmo_filled(1, 9);
  volatile uint8_t* q = map(other, 1, RW);
  q[0] = 10;
  cr_assert_eq(rd8(other, 0), 10);
  cr_assert_eq(zx_vmar_unmap(zx_vmar_root_self(), (zx_vaddr_t)q, PG), ZX_OK);
  pg_supply(&e, v, 1, 1, 4);
  cr_assert_eq(p[PG], pg_pat(PG, 4));
  cr_assert_eq(zx_pager_detach_vmo(e.pager, v), ZX_OK);
  cr_assert_eq(pg_op_join(blocked, NULL), ZX_ERR_BAD_STATE);
}

typedef struct vmar_commit {
  zx_vaddr_t addr;
  uint64_t len;
  zx_status_t st;
} vmar_commit_t;

static void* vmar_commit_main(void* arg) {
  vmar_commit_t* c = arg;
  c->st = zx_vmar_op_range(zx_vmar_root_self(), ZX_VMAR_OP_COMMIT, c->addr, c->len, NULL, 0);
  return NULL;
}

Test(pager_map, vmar_commit_waits_without_holding_the_address_space) {
  pg_env_t e = pg_env();
  zx_handle_t v = pg_vmo(&e, 4, 0, 7);
  volatile uint8_t* p = map(v, 4, RW);
  vmar_commit_t c = {.addr = (zx_vaddr_t)p, .len = 4 * PG, .st = 1};
  pthread_t t;
  cr_assert_eq(pthread_create(&t, NULL, vmar_commit_main, &c), 0);
  pg_expect(e.port, 7, ZX_PAGER_VMO_READ, 0, 4);
  // Mapping and unmapping go on meanwhile.
  zx_handle_t other = mkvmo(PG);
  volatile uint8_t* q = map(other, 1, RW);
  q[0] = 1;
  cr_assert_eq(zx_vmar_unmap(zx_vmar_root_self(), (zx_vaddr_t)q, PG), ZX_OK);
  pg_supply(&e, v, 0, 4, 5);
  pthread_join(t, NULL);
  cr_assert_eq(c.st, ZX_OK);
  cr_assert_eq(p[3 * PG], pg_pat(3 * PG, 5));
  cr_assert_eq(vmo_info(v).committed_bytes, 4 * PG);
}

Test(pager_map, a_mapped_child_reads_through_the_pager) {
  pg_env_t e = pg_env();
  zx_handle_t v = pg_vmo(&e, 2, 0, 7), c;
  cr_assert_eq(zx_vmo_create_child(v, ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE, 0, 2 * PG, &c),
               ZX_OK);
  volatile uint8_t* p = map(c, 2, RW);
  responder_t r;
  responder_start(&r, &e, v, 2, ZX_OK);
  cr_assert_eq(p[PG + 3], pg_pat(PG + 3, r.seed));
  p[0] = 0x99;  // the child's copy: the parent stays clean
  responder_join(&r);
  cr_assert_eq(rd8(v, 0), pg_pat(0, r.seed));
  cr_assert_eq(rd8(c, 0), 0x99);
  zx_vmo_dirty_range_t d;
  cr_assert_eq(dirty_count(&e, v, 2, &d), 0);
}

Test(pager_map, evicted_mapped_pages_fault_back_in_through_the_pager) {
  pg_env_t e = pg_env();
  zx_handle_t v = pg_vmo(&e, 8, 0, 7);
  volatile uint8_t* p = map(v, 8, ZX_VM_PERM_READ);
  const uint8_t seed = 0x33;  // the responder's
  pg_supply(&e, v, 0, 8, seed);
  for (uint64_t i = 0; i < 8; i++) cr_assert_eq(p[i * PG], pg_pat(i * PG, seed));
  // Memory for another VMO under a tight budget evicts mapped clean pages.
  zxvmo_set_page_budget(pages_in_use() + 4);
  zx_handle_t other = mkvmo(8 * PG);
  uint8_t* buf = page_buf(8);
  cr_assert_eq(zx_vmo_write(other, buf, 0, 8 * PG), ZX_OK);
  free(buf);
  zx_handle_close(other);
  zxvmo_set_page_budget(0);
  uint64_t k = 8;
  for (uint64_t i = 0; i < 8 && k == 8; i++) {
    zx_paddr_t a;
    if (zx_vmo_op_range(v, ZX_VMO_OP_LOOKUP, i * PG, PG, &a, sizeof(a)) != ZX_OK) k = i;
  }
  cr_assert(k < 8, "no mapped page was evicted");
  // Touched again through the mapping, the page comes back from the pager.
  responder_t r;
  responder_start(&r, &e, v, 1, ZX_OK);
  cr_assert_eq(p[k * PG + 1], pg_pat(k * PG + 1, seed));
  responder_join(&r);
  cr_assert_eq(r.seen[0].page_request.offset, k * PG);
  cr_assert_eq(zxvmo_check_invariants(), ZX_OK);
}

Test(pager_map, a_written_back_zero_range_faults_back_through_the_pager) {
  pg_env_t e = pg_env();
  zx_handle_t v = pg_vmo(&e, 2, 0, 7);
  volatile uint8_t* p = map(v, 2, ZX_VM_PERM_READ);
  cr_assert_eq(zx_vmo_op_range(v, ZX_VMO_OP_ZERO, PG, PG, NULL, 0), ZX_OK);
  cr_assert_eq(p[PG + 5], 0);  // a dirty zero range, seen through the mapping
  cr_assert_eq(zx_pager_op_range(e.pager, ZX_PAGER_OP_WRITEBACK_BEGIN, v, PG, PG, 0), ZX_OK);
  cr_assert_eq(zx_pager_op_range(e.pager, ZX_PAGER_OP_WRITEBACK_END, v, PG, PG, 0), ZX_OK);
  // Written back, the page is the pager's again: the mapping asks for it.
  responder_t r;
  responder_start(&r, &e, v, 1, ZX_OK);
  cr_assert_eq(p[PG + 5], pg_pat(PG + 5, r.seed));
  responder_join(&r);
  cr_assert_eq(r.seen[0].page_request.offset, PG);
}

// A page the kernel refuses to fill (EAGAIN, three times) is filled through the
// library's view; a pager page whose writes are tracked must still be write-protected
// then, so that the first write through the mapping dirties it. If even that
// protection fails, the access fails and leaves nothing behind.
Test(pager_map, a_page_filled_through_the_view_still_counts_its_writes) {
  pg_env_t e = pg_env();
  zx_handle_t v = pg_vmo(&e, 4, 0, 7);
  pg_supply(&e, v, 0, 4, 2);
  volatile uint8_t* p = map(v, 4, RW);
  zx_vmo_dirty_range_t d;
  os_busy_fills(3);
  cr_assert_eq(p[2 * PG], pg_pat(2 * PG, 2));  // moved into the mapping, through the view
  os_busy_fills(0);
  cr_assert_eq(dirty_count(&e, v, 4, &d), 0);
  p[2 * PG + 1] = 0x77;
  cr_assert_eq(dirty_count(&e, v, 4, &d), 1, "the write through the mapping was not seen");
  cr_assert_eq(d.offset, 2 * PG);
  cr_assert_eq(rd8(v, 2 * PG + 1), 0x77);

  zx_handle_t o;
  cr_assert_eq(zx_vmo_create(PG, 0, &o), ZX_OK);
  os_busy_fills(3);
  os_fail_map_calls(0, 1);
  cr_assert_eq(zx_vmo_write(o, (const void*)(p + PG), 0, 16), ZX_ERR_INVALID_ARGS);
  os_fail_map_calls(0, 0);
  os_busy_fills(0);
  cr_assert_eq(zxvmo_check_invariants(), ZX_OK);
  cr_assert_eq(p[PG + 3], pg_pat(PG + 3, 2));
  cr_assert_eq(dirty_count(&e, v, 4, &d), 1);
  p[PG + 1] = 0x78;
  cr_assert_eq(dirty_count(&e, v, 4, &d), 1);  // pages 1 and 2, one range
  cr_assert_eq(d.offset, PG);
  cr_assert_eq(d.length, 2 * PG);
  cr_assert_eq(rd8(v, PG + 1), 0x78);
  zx_handle_close(o);
}
