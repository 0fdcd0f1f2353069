// SPDX-License-Identifier: BSD-3-Clause
// Buffers that are themselves mapped VMOs (docs/behavior.md §12): zx_vmo_read into and
// zx_vmo_write from a mapping of the same VMO, of the same family, of another family,
// right after a snapshot of the buffer's VMO; bad buffers in the library's own
// mappings (past a VMO's end, protected, unmapped) get ZX_ERR_INVALID_ARGS and change
// nothing; and read(2)/write(2) with mapped buffers, where a page the kernel itself
// would have to fault in may fail with EFAULT (the documented limitation) but never
// corrupts data.
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#include <zircon/process.h>
#include <zircon/syscalls.h>

#include "child_helpers.h"
#include "helpers.h"
#include "map_helpers.h"

// Expects bytes [off, off+n) of `vmo` to equal `want`.
static void expect_vmo_bytes(zx_handle_t vmo, uint64_t off, const uint8_t* want, uint64_t n,
                             const char* what) {
  uint8_t* got = page_buf(n / PG + 1);
  cr_assert_eq(zx_vmo_read(vmo, got, off, n), ZX_OK);
  for (uint64_t i = 0; i < n; i++) {
    cr_assert_eq(got[i], want[i], "%s: byte %#llx = %#x, want %#x", what,
                 (unsigned long long)(off + i), got[i], want[i]);
  }
  free(got);
}

static void fill_pattern(uint8_t* b, uint64_t n, uint64_t seed) {
  for (uint64_t i = 0; i < n; i++) b[i] = (uint8_t)xorshift(&seed);
}

// ---- good mapped buffers ---------------------------------------------------------

Test(map_buffers, same_vmo_read_and_write) {
  const uint64_t np = 8;
  zx_handle_t v = mkvmo(np * PG);
  uint8_t* m = map_rw(v, 0, np * PG);
  uint8_t* want = page_buf(np);
  fill_pattern(want, 2 * PG, 7);
  cr_assert_eq(zx_vmo_write(v, want, 0, 2 * PG), ZX_OK);
  // zx_vmo_read of pages 0-1 into pages 4-5 through the mapping (never touched yet).
  cr_assert_eq(zx_vmo_read(v, m + 4 * PG, 0, 2 * PG), ZX_OK);
  memcpy(want + 4 * PG, want, 2 * PG);
  // zx_vmo_write from the mapping's page 0 (+5, unaligned) to VMO offset 2 pages + 7.
  cr_assert_eq(zx_vmo_write(v, m + 5, 2 * PG + 7, PG + 3), ZX_OK);
  memcpy(want + 2 * PG + 7, want + 5, PG + 3);
  // zx_vmo_write from never-touched pages (6-7) writes zeros over page 1's tail.
  cr_assert_eq(zx_vmo_write(v, m + 6 * PG, PG + 100, 200), ZX_OK);
  memset(want + PG + 100, 0, 200);
  expect_vmo_bytes(v, 0, want, np * PG, "same VMO");
  for (uint64_t i = 0; i < np * PG; i++) {
    cr_assert_eq(mrd(m + i), want[i], "mapping byte %#llx", (unsigned long long)i);
  }
  cr_assert_eq(committed(v), 6 * PG, "pages 6 and 7 were only read");
  expect_invariants("same VMO");
  unmap(m, np * PG);
  close_h(v);
  free(want);
  expect_clean();
}

// A page written onto itself (the buffer is its own mapping): unchanged, committed as
// any zx_vmo_write, and after a snapshot the snapshot keeps its copy.
Test(map_buffers, page_written_onto_itself) {
  zx_handle_t v = mkvmo(3 * PG);
  uint8_t* m = map_rw(v, 0, 3 * PG);
  cr_assert_eq(zx_vmo_write(v, m + PG, PG, PG), ZX_OK);  // never touched: zeros
  cr_assert_eq(mpage(m, 1), 0);
  cr_assert_eq(committed(v), PG, "zx_vmo_write of zeros commits, as from any buffer");
  mfill(m, 2, 0x5A);
  zx_handle_t s = mkchild(v, SNAP, 0, 3 * PG);
  cr_assert_eq(zx_vmo_write(v, m + 2 * PG + 1, 2 * PG, PG - 1), ZX_OK);  // shifted by one
  uint8_t* want = page_buf(1);
  memset(want, 0x5A, PG);
  expect_vmo_bytes(v, 2 * PG, want, PG, "page written onto itself, shifted");
  cr_assert_eq(page_val(s, 2), 0x5A);
  cr_assert_eq(zx_vmo_read(v, m + 2 * PG, 2 * PG, PG), ZX_OK);  // read onto itself
  cr_assert_eq(mpage(m, 2), 0x5A);
  cr_assert_eq(page_val(s, 2), 0x5A);
  expect_invariants("onto itself");
  free(want);
  unmap(m, 3 * PG);
  close_h(s);
  close_h(v);
  expect_clean();
}

// The buffer is a mapping of another member of the VMO's family (parent, snapshot,
// slice), or of another family.
Test(map_buffers, same_family_and_other_family) {
  zx_handle_t p = mkvmo_filled(4, 0x10);
  zx_handle_t c = mkchild(p, SNAP, 0, 4 * PG);
  zx_handle_t s = mkchild(p, SLICE, 2 * PG, 2 * PG);
  zx_handle_t o = mkvmo_filled(4, 0x80);
  uint8_t* mp = map_rw(p, 0, 4 * PG);
  uint8_t* mc = map_rw(c, 0, 4 * PG);
  uint8_t* ms = map_rw(s, 0, 2 * PG);
  uint8_t* mo = map_rw(o, 0, 4 * PG);
  // Parent's page 0 into the snapshot, from the parent's mapping.
  cr_assert_eq(zx_vmo_write(c, mp, 3 * PG, PG), ZX_OK);
  cr_assert_eq(page_val(c, 3), 0x10);
  cr_assert_eq(mpage(mc, 3), 0x10);
  cr_assert_eq(page_val(p, 3), 0x13, "the parent is untouched");
  // The snapshot's page 1 read into the parent's mapping of page 1... which the
  // snapshot shares: the parent gets the value it already had, the snapshot keeps it.
  mfill(mc, 1, 0x61);
  cr_assert_eq(zx_vmo_read(c, mp + PG, PG, PG), ZX_OK);
  cr_assert_eq(mpage(mp, 1), 0x61);
  cr_assert_eq(page_val(p, 1), 0x61);
  cr_assert_eq(page_val(c, 1), 0x61);
  mfill(mp, 1, 0x62);
  cr_assert_eq(page_val(c, 1), 0x61, "a later parent write does not reach the snapshot");
  // Into the slice's mapping from the parent (the slice windows parent pages 2-3).
  cr_assert_eq(zx_vmo_read(p, ms, 0, PG), ZX_OK);
  cr_assert_eq(mpage(mp, 2), 0x10);
  cr_assert_eq(page_val(s, 0), 0x10);
  cr_assert_eq(page_val(c, 2), 0x12, "the snapshot kept its view of page 2");
  // From the slice's mapping into the parent itself (overlapping the slice's page 1).
  mfill(ms, 1, 0x71);
  cr_assert_eq(zx_vmo_write(p, ms + PG, 0, PG), ZX_OK);
  cr_assert_eq(mpage(mp, 0), 0x71);
  cr_assert_eq(page_val(c, 0), 0x10);
  // Another family, both ways.
  cr_assert_eq(zx_vmo_read(o, mp + 3 * PG, 2 * PG, PG), ZX_OK);
  cr_assert_eq(page_val(p, 3), 0x82);
  cr_assert_eq(zx_vmo_write(o, mc + 3 * PG, 0, PG), ZX_OK);
  cr_assert_eq(mpage(mo, 0), 0x10);
  cr_assert_eq(zx_vmo_read(p, mo + PG, 0, PG), ZX_OK);
  cr_assert_eq(page_val(o, 1), 0x71);
  cr_assert_eq(page_val(c, 0), 0x10);
  expect_invariants("families");
  unmap(mp, 4 * PG);
  unmap(mc, 4 * PG);
  unmap(ms, 2 * PG);
  unmap(mo, 4 * PG);
  close_h(s);
  close_h(c);
  close_h(p);
  close_h(o);
  expect_clean();
}

// Right after a snapshot of the buffer's VMO, its mapped pages are write-protected:
// zx_vmo_read into them must copy before writing, and the snapshot keeps the old bytes.
Test(map_buffers, into_buffer_right_after_its_snapshot) {
  zx_handle_t b = mkvmo(4 * PG);
  uint8_t* mb = map_rw(b, 0, 4 * PG);
  for (uint64_t k = 0; k < 4; k++) mfill(mb, k, (uint8_t)(0x20 + k));
  zx_handle_t src = mkvmo_filled(4, 0x90);
  zx_handle_t snap = mkchild(b, SNAP, 0, 4 * PG);
  cr_assert_eq(zx_vmo_read(src, mb, 0, 2 * PG), ZX_OK);
  cr_assert_eq(mpage(mb, 0), 0x90);
  cr_assert_eq(mpage(mb, 1), 0x91);
  cr_assert_eq(page_val(snap, 0), 0x20, "the snapshot saw a later write into the buffer");
  cr_assert_eq(page_val(snap, 1), 0x21);
  // The buffer's VMO read into itself, right after another snapshot.
  zx_handle_t snap2 = mkchild(b, SNAP, 0, 4 * PG);
  cr_assert_eq(zx_vmo_read(b, mb + 3 * PG, 0, PG), ZX_OK);
  cr_assert_eq(mpage(mb, 3), 0x90);
  cr_assert_eq(page_val(snap2, 3), 0x23);
  cr_assert_eq(page_val(snap, 3), 0x23);
  // And zx_vmo_write from the buffer into its snapshot.
  cr_assert_eq(zx_vmo_write(snap, mb + 3 * PG, 2 * PG, PG), ZX_OK);
  cr_assert_eq(page_val(snap, 2), 0x90);
  cr_assert_eq(mpage(mb, 2), 0x22);
  // A mapping of the snapshot as the buffer, right after a snapshot of the snapshot.
  uint8_t* ms = map_rw(snap, 0, 4 * PG);
  zx_handle_t snap3 = mkchild(snap, SNAP, 0, 4 * PG);
  cr_assert_eq(zx_vmo_read(src, ms + PG, 3 * PG, PG), ZX_OK);
  cr_assert_eq(mpage(ms, 1), 0x93);
  cr_assert_eq(page_val(snap3, 1), 0x21);
  cr_assert_eq(mpage(mb, 1), 0x91);
  expect_invariants("after snapshots");
  unmap(mb, 4 * PG);
  unmap(ms, 4 * PG);
  close_h(snap3);
  close_h(snap2);
  close_h(snap);
  close_h(src);
  close_h(b);
  expect_clean();
}

// ---- bad buffers in the library's own mappings -------------------------------------
//
// Regression (fixed): every test in this section crashes (SIGBUS or SIGSEGV kills the test process)
// instead of getting ZX_ERR_INVALID_ARGS: fault_probe_copy (src/vmar/fault.c) sets the
// thread-local t_probe before its memcpy and resets it after, and the compiler drops
// the first store (memcpy cannot read a static it does not see), so the fault handler
// finds t_probe NULL and passes the fault on to the default action. Making t_probe
// volatile fixes it. (Optimized builds only, the default RelWithDebInfo included: at -O0
// the store stays and these three tests pass.)

typedef struct bad_case {
  const char* what;
  uint8_t* buf;        // the bad buffer (or one running into bad memory)
  uint64_t len;
  bool readable;       // zx_vmo_write from it cannot fail for lack of access
  uint64_t good[2][2]; // ranges of buf (offset, length) that are readable and writable
} bad_case_t;

// zx_vmo_write from each bad buffer: INVALID_ARGS and the target unchanged. zx_vmo_read
// into it: INVALID_ARGS, and every byte of the buffer it could write holds either what
// it held or the VMO's byte for that position (a partial copy, never garbage).
static void expect_bad(const bad_case_t* bc, size_t n) {
  zx_handle_t t = mkvmo(4 * PG);
  uint8_t* before = page_buf(4);
  fill_pattern(before, 4 * PG, 77);
  cr_assert_eq(zx_vmo_write(t, before, 0, 4 * PG), ZX_OK);
  for (size_t i = 0; i < n; i++) {
    const bad_case_t* c = &bc[i];
    cr_assert(c->len <= 4 * PG);
    if (!c->readable) {
      zx_status_t st = zx_vmo_write(t, c->buf, PG / 2, c->len);
      cr_assert_eq(st, ZX_ERR_INVALID_ARGS, "zx_vmo_write from %s = %d", c->what, st);
      expect_vmo_bytes(t, 0, before, 4 * PG, c->what);
    }
    uint8_t* old = page_buf(4);
    for (int r = 0; r < 2; r++) {
      for (uint64_t k = c->good[r][0]; k < c->good[r][0] + c->good[r][1]; k++) {
        old[k] = mrd(c->buf + k);
      }
    }
    zx_status_t st = zx_vmo_read(t, c->buf, 0, c->len);
    cr_assert_eq(st, ZX_ERR_INVALID_ARGS, "zx_vmo_read into %s = %d", c->what, st);
    for (int r = 0; r < 2; r++) {
      for (uint64_t k = c->good[r][0]; k < c->good[r][0] + c->good[r][1]; k++) {
        uint8_t b = mrd(c->buf + k);
        cr_assert(b == old[k] || b == before[k],
                  "zx_vmo_read into %s: byte %#llx of the buffer is %#x, neither its old %#x "
                  "nor the VMO's %#x",
                  c->what, (unsigned long long)k, b, old[k], before[k]);
      }
    }
    free(old);
  }
  expect_vmo_bytes(t, 0, before, 4 * PG, "target after all");
  cr_assert_eq(committed(t), 4 * PG);
  expect_invariants("bad buffers");
  close_h(t);
  free(before);
}

// The mapping and zx_vmo_read agree on every byte of `len` at `m` (VMO offset 0).
static void expect_consistent(zx_handle_t v, const uint8_t* m, uint64_t len) {
  uint8_t* b = page_buf(len / PG + 1);
  cr_assert_eq(zx_vmo_read(v, b, 0, len), ZX_OK);
  for (uint64_t i = 0; i < len; i++) {
    cr_assert_eq(mrd(m + i), b[i], "mapping and zx_vmo_read differ at %#llx",
                 (unsigned long long)i);
  }
  free(b);
}

Test(map_buffers, past_the_end_is_invalid_args) {
  zx_handle_t v = mkvmo_opts(2 * PG, ZX_VMO_RESIZABLE);
  uint8_t* m = map_rw(v, 0, 4 * PG);
  mfill(m, 0, 0x11);
  mfill(m, 1, 0x12);
  bad_case_t bc[] = {
      {"a page past the end", m + 2 * PG, PG, false, {{0, 0}, {0, 0}}},
      {"the last page of the mapping", m + 3 * PG, 16, false, {{0, 0}, {0, 0}}},
      {"a buffer straddling the end", m + PG + 100, PG, false, {{0, PG - 100}, {0, 0}}},
      {"a buffer from good pages to a page past the end", m, 3 * PG, false,
       {{0, 2 * PG}, {0, 0}}},
  };
  expect_bad(bc, sizeof(bc) / sizeof(bc[0]));
  expect_consistent(v, m, 2 * PG);
  // Shrunk under the buffer.
  cr_assert_eq(zx_vmo_set_size(v, PG), ZX_OK);
  bad_case_t bc2[] = {{"a page cut by shrinking", m + PG, PG, false, {{0, 0}, {0, 0}}}};
  expect_bad(bc2, 1);
  expect_consistent(v, m, PG);
  unmap(m, 4 * PG);
  close_h(v);
  expect_clean();
}

Test(map_buffers, protected_is_invalid_args) {
  zx_handle_t v = mkvmo_filled(4, 0x30);
  uint8_t* m = map_rw(v, 0, 4 * PG);
  mfill(m, 1, 0x31);
  cr_assert_eq(zx_vmar_protect(zx_vmar_root_self(), 0, (zx_vaddr_t)(m + PG), PG), ZX_OK);
  protect(m + 2 * PG, PG, MAP_R);
  bad_case_t bc[] = {
      {"a PROT_NONE page (touched before)", m + PG, PG, false, {{0, 0}, {0, 0}}},
      {"a buffer running into a PROT_NONE page", m + 100, PG, false, {{0, PG - 100}, {0, 0}}},
      {"a read-only page", m + 2 * PG, PG, true, {{0, 0}, {0, 0}}},
      {"a buffer from a PROT_NONE to a read-only page", m + 2 * PG - 8, 16, false,
       {{0, 0}, {0, 0}}},
  };
  expect_bad(bc, sizeof(bc) / sizeof(bc[0]));
  // Never-touched PROT_NONE pages.
  zx_handle_t w = mkvmo(2 * PG);
  uint8_t* mw = map_opts(w, 0, 0, 2 * PG);
  bad_case_t bc2[] = {{"a never-touched PROT_NONE mapping", mw, 2 * PG, false, {{0, 0}, {0, 0}}}};
  expect_bad(bc2, 1);
  cr_assert_eq(committed(w), 0);
  // A read-only page is a good source.
  zx_handle_t t = mkvmo(PG);
  cr_assert_eq(zx_vmo_write(t, m + 2 * PG, 0, PG), ZX_OK);
  cr_assert_eq(page_val(t, 0), 0x32);
  close_h(t);
  // The read-only and PROT_NONE pages kept their bytes; the rest still works.
  cr_assert_eq(mpage(m, 2), 0x32);
  cr_assert_eq(page_val(v, 2), 0x32);
  cr_assert_eq(page_val(v, 1), 0x31);
  cr_assert_eq(zx_vmo_read(v, m + 3 * PG, 2 * PG, PG), ZX_OK);
  cr_assert_eq(mpage(m, 3), 0x32);
  expect_consistent(v, m, PG);
  unmap(m, 4 * PG);
  unmap(mw, 2 * PG);
  close_h(v);
  close_h(w);
  expect_clean();
}

Test(map_buffers, unmapped_hole_is_invalid_args) {
  zx_handle_t v = mkvmo_filled(3, 0x40);
  uint8_t* m = map_rw(v, 0, 3 * PG);
  unmap(m + PG, PG);
  uint8_t* gone = map_rw(v, 0, PG);
  unmap(gone, PG);
  bad_case_t bc[] = {
      {"the hole in the middle of a mapping", m + PG, PG, false, {{0, 0}, {0, 0}}},
      {"a buffer from a mapping into the hole", m + PG - 10, 20, false, {{0, 10}, {0, 0}}},
      {"a buffer across the hole", m, 3 * PG, false, {{0, PG}, {2 * PG, PG}}},
      {"an unmapped range of the root VMAR", gone, PG, false, {{0, 0}, {0, 0}}},
  };
  expect_bad(bc, sizeof(bc) / sizeof(bc[0]));
  expect_consistent(v, m, PG);
  uint8_t* b = page_buf(1);
  cr_assert_eq(zx_vmo_read(v, b, 2 * PG, PG), ZX_OK);
  cr_assert_eq(memcmp(b, m + 2 * PG, PG), 0);
  free(b);
  unmap(m, PG);
  unmap(m + 2 * PG, PG);
  close_h(v);
  expect_clean();
}

// "or any call": the other calls that write to or read from a caller's buffer, given
// a PROT_NONE mapping.
// Regression (fixed): each of the four tests below crashes (SIGSEGV) even once fault_probe_copy is
// fixed: zx_object_get_info, zx_object_get_property, zx_object_set_property and
// zx_vmo_get_size copy to or from the caller's buffer directly instead of through
// user_copy_out / fault_probe_copy, so a protected buffer in the library's own mappings
// kills the program instead of returning ZX_ERR_INVALID_ARGS (docs/behavior.md §12).
static uint8_t* prot_none_page(zx_handle_t* w) {
  *w = mkvmo(PG);
  return map_opts(*w, 0, 0, PG);
}

Test(map_buffers, get_info_into_protected_buffer) {
  zx_handle_t v = mkvmo_filled(1, 0x40), w;
  uint8_t* mw = prot_none_page(&w);
  cr_assert_eq(zx_object_get_info(v, ZX_INFO_VMO, mw, sizeof(zx_info_vmo_t), NULL, NULL),
               ZX_ERR_INVALID_ARGS);
  unmap(mw, PG);
  close_h(w);
  close_h(v);
  expect_clean();
}

Test(map_buffers, get_property_into_protected_buffer) {
  zx_handle_t v = mkvmo_filled(1, 0x40), w;
  uint8_t* mw = prot_none_page(&w);
  cr_assert_eq(zx_object_get_property(v, ZX_PROP_NAME, mw, ZX_MAX_NAME_LEN),
               ZX_ERR_INVALID_ARGS);
  unmap(mw, PG);
  close_h(w);
  close_h(v);
  expect_clean();
}

Test(map_buffers, set_property_from_protected_buffer) {
  zx_handle_t v = mkvmo_filled(1, 0x40), w;
  uint8_t* mw = prot_none_page(&w);
  cr_assert_eq(zx_object_set_property(v, ZX_PROP_NAME, mw, 8), ZX_ERR_INVALID_ARGS);
  char name[ZX_MAX_NAME_LEN] = "x";
  cr_assert_eq(zx_object_get_property(v, ZX_PROP_NAME, name, sizeof(name)), ZX_OK);
  cr_assert_str_eq(name, "", "the name changed");
  unmap(mw, PG);
  close_h(w);
  close_h(v);
  expect_clean();
}

Test(map_buffers, get_size_into_protected_buffer) {
  zx_handle_t v = mkvmo_filled(1, 0x40), w;
  uint8_t* mw = prot_none_page(&w);
  cr_assert_eq(zx_vmo_get_size(v, (uint64_t*)mw), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(vmo_size(v), PG);
  unmap(mw, PG);
  close_h(w);
  close_h(v);
  expect_clean();
}

// ---- read(2) and write(2) with mapped buffers ---------------------------------------

static void make_pipe(int fds[2]) {
  cr_assert_eq(pipe(fds), 0);
  // Large enough for a whole library page (16 KiB in some builds) without blocking.
  (void)fcntl(fds[1], F_SETPIPE_SZ, (int)(4 * PG));
}

Test(map_buffers, write2_from_populated_mapping) {
  zx_handle_t v = mkvmo(2 * PG);
  uint8_t* m = map_rw(v, 0, 2 * PG);
  uint8_t* want = page_buf(1);
  fill_pattern(want, PG, 99);
  memcpy(m, want, PG);
  int fds[2];
  make_pipe(fds);
  ssize_t got = write(fds[1], m, PG);
  cr_assert_eq(got, (ssize_t)PG, "write(2) from a populated mapping: %zd (errno %d)", got, errno);
  uint8_t* back = page_buf(1);
  cr_assert_eq(read(fds[0], back, PG), (ssize_t)PG);
  cr_assert_eq(memcmp(back, want, PG), 0);
  // A mapping of committed pages that was only read: populated too.
  fill_page(v, 1, 0x5A);
  cr_assert_eq(mpage(m, 1), 0x5A);
  got = write(fds[1], m + PG, PG);
  cr_assert_eq(got, (ssize_t)PG, "write(2) from a read page: %zd (errno %d)", got, errno);
  cr_assert_eq(read(fds[0], back, PG), (ssize_t)PG);
  for (uint64_t i = 0; i < PG; i++) cr_assert_eq(back[i], 0x5A);
  close(fds[0]);
  close(fds[1]);
  unmap(m, 2 * PG);
  close_h(v);
  free(want);
  free(back);
  expect_clean();
}

Test(map_buffers, read2_into_populated_writable_page) {
  zx_handle_t v = mkvmo(2 * PG);
  uint8_t* m = map_rw(v, 0, 2 * PG);
  mfill(m, 0, 0x01);  // populated and writable
  uint8_t* data = page_buf(1);
  fill_pattern(data, PG, 5);
  int fds[2];
  make_pipe(fds);
  cr_assert_eq(write(fds[1], data, PG), (ssize_t)PG);
  ssize_t got = read(fds[0], m, PG);
  cr_assert_eq(got, (ssize_t)PG, "read(2) into a populated page: %zd (errno %d)", got, errno);
  cr_assert_eq(memcmp(m, data, PG), 0);
  expect_vmo_bytes(v, 0, data, PG, "read(2) result via zx_vmo_read");
  close(fds[0]);
  close(fds[1]);
  unmap(m, 2 * PG);
  close_h(v);
  free(data);
  expect_clean();
}

// read(2) into a page the kernel would have to fault in itself: either it works, or
// it fails with EFAULT (the documented limitation); the page then holds either the
// data or what it held before, never a mix, and zx_vmo_read agrees with the mapping.
static bool read2_into(uint8_t* page, zx_handle_t vmo, uint64_t off, const uint8_t* old,
                       const char* what) {
  uint8_t* data = page_buf(1);
  fill_pattern(data, PG, 1234);
  int fds[2];
  make_pipe(fds);
  cr_assert_eq(write(fds[1], data, PG), (ssize_t)PG);
  errno = 0;
  ssize_t got = read(fds[0], page, PG);
  int err = errno;
  cr_assert(got == (ssize_t)PG || (got < 0 && err == EFAULT),
            "%s: read(2) returned %zd, errno %d", what, got, err);
  const uint8_t* want = got == (ssize_t)PG ? data : old;
  for (uint64_t i = 0; i < PG; i++) {
    cr_assert_eq(mrd(page + i), want[i], "%s (read(2) %s): mapping byte %#llx", what,
                 got == (ssize_t)PG ? "worked" : "failed with EFAULT", (unsigned long long)i);
  }
  expect_vmo_bytes(vmo, off, want, PG, what);
  close(fds[0]);
  close(fds[1]);
  free(data);
  return got == (ssize_t)PG;
}

Test(map_buffers, read2_into_never_touched_page) {
  zx_handle_t v = mkvmo(2 * PG);
  uint8_t* m = map_rw(v, 0, 2 * PG);
  uint8_t* zero = page_buf(1);
  bool worked = read2_into(m + PG, v, PG, zero, "never-touched page");
  cr_assert_eq(committed(v), worked ? PG : 0);
  expect_invariants("read(2)");
  // A write(2) from a never-touched page: the same rule.
  int fds[2];
  make_pipe(fds);
  errno = 0;
  ssize_t got = write(fds[1], m, PG);
  cr_assert(got == (ssize_t)PG || (got < 0 && errno == EFAULT), "write(2): %zd errno %d", got,
            errno);
  if (got == (ssize_t)PG) {
    uint8_t* back = page_buf(1);
    cr_assert_eq(read(fds[0], back, PG), (ssize_t)PG);
    cr_assert_eq(memcmp(back, zero, PG), 0);
    free(back);
  }
  cr_assert_eq(committed(v), worked ? PG : 0, "write(2) from a fresh page commits nothing");
  close(fds[0]);
  close(fds[1]);
  unmap(m, 2 * PG);
  close_h(v);
  free(zero);
  expect_clean();
}

Test(map_buffers, read2_into_page_write_protected_by_snapshot) {
  zx_handle_t v = mkvmo(2 * PG);
  uint8_t* m = map_rw(v, 0, 2 * PG);
  mfill(m, 0, 0x3C);
  zx_handle_t s = mkchild(v, SNAP, 0, 2 * PG);
  uint8_t* old = page_buf(1);
  memset(old, 0x3C, PG);
  read2_into(m, v, 0, old, "page write-protected by a snapshot");
  cr_assert_eq(page_val(s, 0), 0x3C, "the snapshot never sees the read(2) data");
  // Whatever read(2) did, a write through the mapping still works and copies.
  mfill(m, 0, 0x3D);
  cr_assert_eq(page_val(v, 0), 0x3D);
  cr_assert_eq(page_val(s, 0), 0x3C);
  expect_invariants("read(2) after snapshot");
  unmap(m, 2 * PG);
  close_h(s);
  close_h(v);
  free(old);
  expect_clean();
}

// Out pointers in a protected mapping: every call reports INVALID_ARGS and leaves
// nothing behind (no handle, no mapping, no VMO) that the caller could not be told of.
Test(map_buffers, out_pointers_into_a_protected_mapping) {
  zx_handle_t w;
  uint8_t* bad = prot_none_page(&w);
  zx_handle_t v = mkvmo(PG);
  zxvmo_stats_t before;
  cr_assert_eq(zxvmo_get_stats(&before), ZX_OK);
  cr_assert_eq(zx_vmo_create(PG, 0, (zx_handle_t*)bad), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(zx_vmo_create_child(v, ZX_VMO_CHILD_SNAPSHOT, 0, PG, (zx_handle_t*)bad),
               ZX_ERR_INVALID_ARGS);
  cr_assert_eq(zx_handle_duplicate(v, ZX_RIGHT_SAME_RIGHTS, (zx_handle_t*)bad),
               ZX_ERR_INVALID_ARGS);
  cr_assert_eq(zx_event_create(0, (zx_handle_t*)bad), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(zx_vmar_map(zx_vmar_root_self(), MAP_RW, 0, v, 0, PG, (zx_vaddr_t*)bad),
               ZX_ERR_INVALID_ARGS);
  cr_assert_eq(num_mappings(v), 0, "the mapping nobody was told of stays");
  zx_handle_t child;
  cr_assert_eq(zx_vmar_allocate(zx_vmar_root_self(), ZX_VM_CAN_MAP_READ, 0, 4 * PG, &child,
                                (uintptr_t*)bad), ZX_ERR_INVALID_ARGS);
  zx_signals_t* obs = (zx_signals_t*)bad;
  cr_assert_eq(zx_object_wait_one(v, ZX_VMO_ZERO_CHILDREN, 0, obs), ZX_ERR_INVALID_ARGS);
  zx_info_vmo_t info;
  cr_assert_eq(zx_object_get_info(v, ZX_INFO_VMO, &info, sizeof(info), (size_t*)bad, NULL),
               ZX_ERR_INVALID_ARGS);
  zxvmo_stats_t after;
  cr_assert_eq(zxvmo_get_stats(&after), ZX_OK);
  cr_assert_eq(after.handles_alive, before.handles_alive, "a handle leaked");
  cr_assert_eq(after.vmos_alive, before.vmos_alive, "a VMO leaked");
  zx_handle_close(v);
  unmap(bad, PG);
  zx_handle_close(w);
  expect_invariants("out pointers");
}
