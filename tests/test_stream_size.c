// SPDX-License-Identifier: BSD-3-Clause
// zx_vmo_set_stream_size (docs/behavior.md §16.3): rights, driver memory, the range,
// zeroing past the smaller of the old and new sizes (through mappings too), the
// shared size of references, and each allocation behind it failing in turn.
#include <criterion/criterion.h>

#include "helpers.h"
#include "map_helpers.h"
#include "os.h"
#include "pager_helpers.h"

static uint64_t stream_size(zx_handle_t v) {
  uint64_t cs = 0;
  cr_assert_eq(zx_object_get_property(v, ZX_PROP_VMO_CONTENT_SIZE, &cs, sizeof(cs)), ZX_OK);
  return cs;
}

Test(stream_size, checks_in_order) {
  zx_handle_t v = mkvmo_filled(2, 1), ro;
  cr_assert_eq(zx_vmo_set_stream_size(ZX_HANDLE_INVALID, 0), ZX_ERR_BAD_HANDLE);
  zx_handle_t ev;
  cr_assert_eq(zx_event_create(0, &ev), ZX_OK);
  cr_assert_eq(zx_vmo_set_stream_size(ev, 0), ZX_ERR_WRONG_TYPE);
  zx_handle_close(ev);
  // WRITE is needed (not RESIZE: the VMO keeps its size).
  cr_assert_eq(zx_handle_duplicate(v, ZX_RIGHT_READ, &ro), ZX_OK);
  cr_assert_eq(zx_vmo_set_stream_size(ro, PG), ZX_ERR_ACCESS_DENIED);
  zx_handle_close(ro);
  cr_assert_eq(handle_rights(v) & ZX_RIGHT_RESIZE, 0u);
  // The same size: nothing to do, even past the VMO's end it would be.
  cr_assert_eq(zx_vmo_set_stream_size(v, 2 * PG), ZX_OK);
  // Never past the VMO's size, and the VMO is not resized.
  cr_assert_eq(zx_vmo_set_stream_size(v, 2 * PG + 1), ZX_ERR_OUT_OF_RANGE);
  cr_assert_eq(zx_vmo_set_stream_size(v, UINT64_MAX), ZX_ERR_OUT_OF_RANGE);
  uint64_t sz;
  cr_assert_eq(zx_vmo_get_size(v, &sz), ZX_OK);
  cr_assert_eq(sz, 2 * PG);
  cr_assert_eq(rd8(v, PG + 7), 2);
  zx_handle_close(v);
}

Test(stream_size, zeroes_past_the_smaller_size) {
  zx_handle_t v = mkvmo_filled(4, 0x10);
  cr_assert_eq(stream_size(v), 4 * PG);
  uint8_t* m = map_rw(v, 0, 4 * PG);
  // Shrinking: the tail of the page and everything after reads as zero.
  cr_assert_eq(zx_vmo_set_stream_size(v, PG + 100), ZX_OK);
  cr_assert_eq(stream_size(v), PG + 100);
  cr_assert_eq(rd8(v, PG + 99), 0x11);
  cr_assert_eq(rd8(v, PG + 100), 0);
  cr_assert_eq(mrd(m + 3 * PG), 0);
  cr_assert_eq(mrd(m + PG + 99), 0x11);
  // Growing: from the old size on, zero again (whatever was written there meanwhile).
  wr8(v, 2 * PG, 0x55);
  mwr(m + PG + 200, 0x66);
  cr_assert_eq(zx_vmo_set_stream_size(v, 3 * PG), ZX_OK);
  cr_assert_eq(rd8(v, PG + 200), 0);
  cr_assert_eq(rd8(v, 2 * PG), 0);
  cr_assert_eq(rd8(v, PG + 99), 0x11);
  cr_assert_eq(stream_size(v), 3 * PG);
  // zx_vmo_set_size sets it too.
  zx_handle_t r;
  cr_assert_eq(zx_vmo_create(PG, ZX_VMO_RESIZABLE, &r), ZX_OK);
  cr_assert_eq(zx_vmo_set_size(r, 3 * PG + 1), ZX_OK);
  cr_assert_eq(stream_size(r), 3 * PG + 1);
  cr_assert_eq(zx_vmo_set_stream_size(r, 4 * PG), ZX_OK);
  cr_assert_eq(stream_size(r), 4 * PG);
  zx_handle_close(r);
  unmap(m, 4 * PG);
  zx_handle_close(v);
  cr_assert_eq(zxvmo_check_invariants(), ZX_OK);
}

Test(stream_size, shared_by_references_not_by_other_children) {
  zx_handle_t v = mkvmo_filled(2, 0x30), r, c;
  cr_assert_eq(zx_vmo_create_child(v, ZX_VMO_CHILD_REFERENCE, 0, 0, &r), ZX_OK);
  cr_assert_eq(zx_vmo_create_child(v, ZX_VMO_CHILD_SNAPSHOT, 0, 2 * PG, &c), ZX_OK);
  cr_assert_eq(zx_vmo_set_stream_size(r, 10), ZX_OK);
  cr_assert_eq(stream_size(v), 10);
  cr_assert_eq(rd8(v, 10), 0);
  cr_assert_eq(stream_size(c), 2 * PG);
  cr_assert_eq(rd8(c, 10), 0x30);
  zx_handle_close(c);
  zx_handle_close(r);
  zx_handle_close(v);
}

Test(stream_size, driver_and_uncached_memory) {
  zx_handle_t rr = zxvmo_root_resource(), bti = mk_test_bti(), v;
  cr_assert_eq(zx_vmo_create_physical(rr, 0xfd000000u, PG, &v), ZX_OK);
  cr_assert_eq(zx_vmo_set_stream_size(v, 0), ZX_ERR_NOT_SUPPORTED);
  zx_handle_close(v);
  cr_assert_eq(zx_vmo_create_contiguous(bti, PG, 0, &v), ZX_OK);
  cr_assert_eq(zx_vmo_set_stream_size(v, 0), ZX_ERR_NOT_SUPPORTED);
  zx_handle_close(v);
  // Uncached: refused where bytes would have to be zeroed through the cache.
  v = mkvmo(2 * PG);
  cr_assert_eq(zx_vmo_set_cache_policy(v, ZX_CACHE_POLICY_UNCACHED), ZX_OK);
  cr_assert_eq(zx_vmo_set_stream_size(v, PG), ZX_ERR_BAD_STATE);
  cr_assert_eq(stream_size(v), 2 * PG);
  cr_assert_eq(zx_vmo_set_stream_size(v, 2 * PG), ZX_OK);
  zx_handle_close(v);
  zx_handle_close(bti);
  zx_handle_close(rr);
}

Test(stream_size, pager_vmo) {
  pg_env_t e = pg_env();
  zx_handle_t v = pg_vmo(&e, 2, 0, 9);
  pg_supply(&e, v, 0, 2, 4);
  cr_assert_eq(zx_vmo_set_stream_size(v, PG + 8), ZX_OK);
  cr_assert(pg_check(v, 0, PG + 8, 4));
  cr_assert_eq(rd8(v, PG + 8), 0);
  cr_assert_eq(rd8(v, PG + PG - 1), 0);
  zx_handle_close(v);
  zx_handle_close(e.pager);
  zx_handle_close(e.port);
}

typedef struct {
  zx_handle_t vmo;
  uint64_t size;
  zx_status_t status;
} stream_call_t;

static void* set_stream_main(void* arg) {
  stream_call_t* c = arg;
  c->status = zx_vmo_set_stream_size(c->vmo, c->size);
  return NULL;
}

// An uncached pager VMO: BAD_STATE before anything is asked of the pager, so no page
// comes in (found by the fuzzer: the partial page was supplied, then the call refused).
Test(stream_size, uncached_pager_vmo_asks_nothing) {
  pg_env_t e = pg_env();
  zx_handle_t v = pg_vmo(&e, 2, 0, 9);
  cr_assert_eq(zx_vmo_set_cache_policy(v, ZX_CACHE_POLICY_UNCACHED), ZX_OK);
  stream_call_t c = {v, 8, ZX_OK};
  pthread_t t;
  cr_assert_eq(pthread_create(&t, NULL, set_stream_main, &c), 0);
  zx_port_packet_t p;
  bool asked = pg_next(e.port, 300, &p);
  if (asked) pg_supply(&e, v, 0, 1, 4);  // lets the call finish
  pthread_join(t, NULL);
  cr_assert(!asked, "the pager was asked for a page");
  cr_assert_eq(c.status, ZX_ERR_BAD_STATE);
  cr_assert_eq(vmo_info(v).committed_bytes, 0);
  cr_assert_eq(stream_size(v), 2 * PG);
  zx_handle_close(v);
  zx_handle_close(e.pager);
  zx_handle_close(e.port);
}

// Each allocation behind the call failing in turn: NO_MEMORY with the contents and
// the stream size as they were.
Test(stream_size, allocation_failures) {
  zx_handle_t v = mkvmo_filled(3, 0x70), c;
  // A snapshot shares the pages, so zeroing part of one needs a page and metadata.
  cr_assert_eq(zx_vmo_create_child(v, ZX_VMO_CHILD_SNAPSHOT, 0, 3 * PG, &c), ZX_OK);
  for (uint64_t nth = 1; nth < 64; nth++) {
    os_fail_alloc(nth, false);
    zx_status_t st = zx_vmo_set_stream_size(v, PG + 1);
    uint64_t tries = os_alloc_count();
    os_fail_alloc(0, false);
    cr_assert(st == ZX_OK || st == ZX_ERR_NO_MEMORY, "nth %lu: %d", (unsigned long)nth, st);
    cr_assert_eq(zxvmo_check_invariants(), ZX_OK);
    cr_assert_eq(rd8(c, PG + 1), 0x71);
    if (st == ZX_OK) {
      cr_assert_eq(rd8(v, PG + 1), 0);
      cr_assert_eq(rd8(v, 2 * PG), 0);
      if (tries < nth) break;  // every allocation was tried
      // Back to the start for the next round.
      cr_assert_eq(zx_vmo_set_stream_size(v, 3 * PG), ZX_OK);
      wr8(v, PG + 1, 0x71);
      wr8(v, 2 * PG, 0x72);
      continue;
    }
    cr_assert_eq(stream_size(v), 3 * PG);
    cr_assert_eq(rd8(v, PG + 1), 0x71);
    cr_assert_eq(rd8(v, 2 * PG), 0x72);
  }
  // The page-budget seam: no page to copy into, NO_MEMORY, nothing changed.
  cr_assert_eq(zx_vmo_set_stream_size(v, 3 * PG), ZX_OK);
  wr8(v, PG + 1, 0x71);
  zx_handle_t d;
  cr_assert_eq(zx_vmo_create_child(v, ZX_VMO_CHILD_SNAPSHOT, 0, 3 * PG, &d), ZX_OK);
  cr_assert_eq(zxvmo_set_page_budget(pages_in_use()), ZX_OK);
  uint8_t before = rd8(v, PG + 1);
  cr_assert_eq(zx_vmo_set_stream_size(v, PG + 1), ZX_ERR_NO_MEMORY);
  cr_assert_eq(stream_size(v), 3 * PG);
  cr_assert_eq(rd8(v, PG + 1), before);
  cr_assert_eq(zxvmo_set_page_budget(0), ZX_OK);
  zx_handle_close(d);
  zx_handle_close(c);
  zx_handle_close(v);
}
