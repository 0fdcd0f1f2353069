// SPDX-License-Identifier: BSD-3-Clause
// The legacy zx_vmo_clone (docs/behavior.md §11): options, rights, one-way semantics,
// DECOMMIT / COMMIT / LOOKUP on clones, shrinking the parent; and DECOMMIT on children
// made by zx_vmo_create_child (section 8, decision D5).
#include <criterion/criterion.h>
#include <zircon/syscalls.h>

#include "child_helpers.h"
#include "handle.h"
#include "helpers.h"
#include "object.h"

static zx_status_t cl(zx_handle_t h, uint32_t options, uint64_t offset, uint64_t size) {
  zx_handle_t out = ZX_HANDLE_INVALID;
  zx_status_t st = zx_vmo_clone(h, options, offset, size, &out);
  if (st == ZX_OK) {
    cr_assert_neq(out, ZX_HANDLE_INVALID);
    close_h(out);
  } else {
    cr_assert_eq(out, ZX_HANDLE_INVALID, "out written on failure");
  }
  return st;
}

static zx_status_t decommit(zx_handle_t h, uint64_t off, uint64_t len) {
  return zx_vmo_op_range(h, ZX_VMO_OP_DECOMMIT, off, len, NULL, 0);
}

static zx_status_t commit(zx_handle_t h, uint64_t off, uint64_t len) {
  return zx_vmo_op_range(h, ZX_VMO_OP_COMMIT, off, len, NULL, 0);
}

static zx_status_t lookup(zx_handle_t h, uint64_t off, uint64_t len, zx_paddr_t* buf, size_t n) {
  return zx_vmo_op_range(h, ZX_VMO_OP_LOOKUP, off, len, buf, n * sizeof(zx_paddr_t));
}

// ---- options and argument checks ----

Test(clone_legacy, options_must_contain_copy_on_write) {
  zx_handle_t v = mkvmo(2 * PG);
  cr_assert_eq(cl(v, 0, 0, PG), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(cl(v, CLONE_NR, 0, PG), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(cl(v, 1u << 2, 0, PG), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(cl(v, CLONE_COW, 0, PG), ZX_OK);
  cr_assert_eq(cl(v, CLONE_COW | CLONE_NR, 0, PG), ZX_OK);
  close_h(v);
  expect_clean();
}

Test(clone_legacy, unknown_option_bits_are_invalid_args) {
  zx_handle_t v = mkvmo(2 * PG);
  const uint32_t unknown[] = {1u << 2, 1u << 3, 1u << 4, 1u << 5, 1u << 16, 1u << 31};
  for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
    cr_assert_eq(cl(v, CLONE_COW | unknown[i], 0, PG), ZX_ERR_INVALID_ARGS, "bit %#x", unknown[i]);
    cr_assert_eq(cl(v, CLONE_COW | CLONE_NR | unknown[i], 0, PG), ZX_ERR_INVALID_ARGS);
  }
  close_h(v);
}

Test(clone_legacy, size_checked_before_handle) {
  cr_assert_eq(cl(ZX_HANDLE_INVALID, CLONE_COW, 0, UINT64_MAX), ZX_ERR_OUT_OF_RANGE);
  cr_assert_eq(cl(ZX_HANDLE_INVALID, CLONE_COW, 0, MAX_VMO_SIZE + 1), ZX_ERR_OUT_OF_RANGE);
  zx_handle_t v = mkvmo(PG);
  cr_assert_eq(cl(v, CLONE_COW, 0, UINT64_MAX), ZX_ERR_OUT_OF_RANGE);
  zx_handle_t c = mkclone(v, CLONE_COW, 0, MAX_VMO_SIZE);
  cr_assert_eq(vmo_size(c), MAX_VMO_SIZE);
  close_h(c);
  close_h(v);
  expect_clean();
}

Test(clone_legacy, handle_checks) {
  zx_handle_t v = mkvmo(2 * PG);
  zx_handle_t d = dup_rights(v, ZX_RIGHT_SAME_RIGHTS);
  close_h(d);
  cr_assert_eq(cl(ZX_HANDLE_INVALID, CLONE_COW, 0, PG), ZX_ERR_BAD_HANDLE);
  cr_assert_eq(cl(d, CLONE_COW, 0, PG), ZX_ERR_BAD_HANDLE);
  zx_handle_t ev = ZX_HANDLE_INVALID;
  cr_assert_eq(zx_event_create(0, &ev), ZX_OK);
  cr_assert_eq(cl(ev, CLONE_COW, 0, PG), ZX_ERR_WRONG_TYPE);
  zx_handle_t ev_weak = dup_rights(ev, ZX_RIGHT_WAIT);
  cr_assert_eq(cl(ev_weak, CLONE_COW, 0, PG), ZX_ERR_WRONG_TYPE);
  close_h(ev_weak);
  close_h(ev);
  zx_handle_t no_read = dup_rights(v, ZX_DEFAULT_VMO_RIGHTS & ~ZX_RIGHT_READ);
  zx_handle_t no_dup = dup_rights(v, ZX_DEFAULT_VMO_RIGHTS & ~ZX_RIGHT_DUPLICATE);
  cr_assert_eq(cl(no_read, CLONE_COW, 0, PG), ZX_ERR_ACCESS_DENIED);
  cr_assert_eq(cl(no_dup, CLONE_COW, 0, PG), ZX_ERR_ACCESS_DENIED);
  // WRITE is not required.
  zx_handle_t ro = dup_rights(v, ZX_RIGHT_READ | ZX_RIGHT_DUPLICATE);
  cr_assert_eq(cl(ro, CLONE_COW, 0, PG), ZX_OK);
  close_h(ro);
  close_h(no_dup);
  close_h(no_read);
  close_h(v);
}

Test(clone_legacy, offset_checks) {
  zx_handle_t v = mkvmo(2 * PG);
  cr_assert_eq(cl(v, CLONE_COW, 1, PG), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(cl(v, CLONE_COW, PG + 1, PG), ZX_ERR_INVALID_ARGS);
  // Alignment before overflow.
  cr_assert_eq(cl(v, CLONE_COW, UINT64_MAX - 5, 2 * PG), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(cl(v, CLONE_COW, UINT64_MAX & ~(PG - 1), 2 * PG), ZX_ERR_OUT_OF_RANGE);
  // Past the parent's end is fine and reads zero.
  zx_handle_t c = mkclone(v, CLONE_COW, 10 * PG, PG);
  cr_assert_eq(page_val(c, 0), 0);
  close_h(c);
  // Accumulated offset overflow down a chain.
  zx_handle_t c1 = mkclone(v, CLONE_COW, (uint64_t)1 << 63, PG);
  cr_assert_eq(cl(c1, CLONE_COW, (uint64_t)1 << 63, PG), ZX_ERR_INVALID_ARGS);
  close_h(c1);
  close_h(v);
  expect_clean();
}

Test(clone_legacy, null_out_leaks_nothing) {
  zx_handle_t v = mkvmo_filled(2, 1);
  zxvmo_stats_t s0 = stats();
  cr_assert_eq(zx_vmo_clone(v, CLONE_COW, 0, 2 * PG, NULL), ZX_ERR_INVALID_ARGS);
  zxvmo_stats_t s1 = stats();
  cr_assert_eq(s1.vmos_alive, s0.vmos_alive);
  cr_assert_eq(s1.handles_alive, s0.handles_alive);
  cr_assert_eq(s1.pages_in_use, s0.pages_in_use);
  cr_assert_eq(vmo_info(v).num_children, 0);
  cr_assert(zero_children(v));
  close_h(v);
  expect_clean();
}

Test(clone_legacy, clone_of_slice_is_not_supported) {
  zx_handle_t v = mkvmo(4 * PG);
  zx_handle_t s = mkchild(v, SLICE, 0, 2 * PG);
  cr_assert_eq(cl(s, CLONE_COW, 0, PG), ZX_ERR_NOT_SUPPORTED);
  cr_assert_eq(cl(s, CLONE_COW | CLONE_NR, 0, PG), ZX_ERR_NOT_SUPPORTED);
  cr_assert_eq(vmo_info(s).num_children, 0);
  close_h(s);
  close_h(v);
}

Test(clone_legacy, snapshot_of_clone_not_supported_at_least_on_write_ok) {
  zx_handle_t v = mkvmo_filled(2, 0x10);
  zx_handle_t c = mkclone(v, CLONE_COW, 0, 2 * PG);
  zx_handle_t out = ZX_HANDLE_INVALID;
  cr_assert_eq(zx_vmo_create_child(c, SNAP, 0, PG, &out), ZX_ERR_NOT_SUPPORTED);
  cr_assert_eq(zx_vmo_create_child(c, SNAP | RESZ, 0, PG, &out), ZX_ERR_NOT_SUPPORTED);
  cr_assert_eq(out, ZX_HANDLE_INVALID);
  cr_assert_eq(vmo_info(c).num_children, 0);
  cr_assert(zero_children(c));
  zx_handle_t a = mkchild(c, ALOW, 0, 2 * PG);
  zx_handle_t a2 = mkchild(c, ZX_VMO_CHILD_COPY_ON_WRITE, 0, 2 * PG);
  cr_assert_eq(vmo_info(c).num_children, 2);
  // One-way: they follow the clone until they write.
  fill_page(c, 0, 0x70);
  cr_assert_eq(page_val(a, 0), 0x70);
  cr_assert_eq(page_val(a2, 0), 0x70);
  fill_page(a, 0, 0x71);
  fill_page(c, 0, 0x72);
  cr_assert_eq(page_val(a, 0), 0x71);
  cr_assert_eq(page_val(a2, 0), 0x72);
  // A resizable clone cannot be sliced; a non-resizable one can, and the slice windows
  // the clone's view (the parent's pages it sees included).
  cr_assert_eq(zx_vmo_create_child(c, SLICE, 0, PG, &out), ZX_ERR_NOT_SUPPORTED);
  zx_handle_t nr = mkclone(v, CLONE_COW | CLONE_NR, 0, 2 * PG);
  zx_handle_t s = mkchild(nr, SLICE, PG, PG);
  cr_assert_eq(page_val(s, 0), 0x11);
  fill_page(v, 1, 0x81);
  cr_assert_eq(page_val(s, 0), 0x81);
  fill_page(s, 0, 0x91);
  cr_assert_eq(page_val(nr, 1), 0x91);
  cr_assert_eq(page_val(v, 1), 0x81);
  close_h(s);
  close_h(nr);
  close_h(a2);
  close_h(a);
  close_h(c);
  close_h(v);
  expect_clean();
}

// ---- rights and info ----

Test(clone_legacy, rights) {
  zx_handle_t v = mkvmo(2 * PG);
  const zx_rights_t d = ZX_DEFAULT_VMO_RIGHTS;
  zx_handle_t c = mkclone(v, CLONE_COW, 0, PG);
  cr_assert_eq(handle_rights(c), d | ZX_RIGHT_RESIZE);
  close_h(c);
  c = mkclone(v, CLONE_COW | CLONE_NR, 0, PG);
  cr_assert_eq(handle_rights(c), d);
  close_h(c);
  zx_handle_t p = dup_rights(v, ZX_RIGHT_READ | ZX_RIGHT_DUPLICATE);
  const zx_rights_t added = ZX_RIGHT_WRITE | ZX_RIGHT_GET_PROPERTY | ZX_RIGHT_SET_PROPERTY;
  c = mkclone(p, CLONE_COW, 0, PG);
  cr_assert_eq(handle_rights(c), ZX_RIGHT_READ | ZX_RIGHT_DUPLICATE | added | ZX_RIGHT_RESIZE);
  close_h(c);
  c = mkclone(p, CLONE_COW | CLONE_NR, 0, PG);
  cr_assert_eq(handle_rights(c), ZX_RIGHT_READ | ZX_RIGHT_DUPLICATE | added);
  close_h(c);
  close_h(p);
  // A resizable parent's RESIZE right goes only to a resizable clone.
  zx_handle_t r = mkvmo_opts(PG, ZX_VMO_RESIZABLE);
  c = mkclone(r, CLONE_COW | CLONE_NR, 0, PG);
  cr_assert_eq(handle_rights(c), d);
  close_h(c);
  close_h(r);
  // EXECUTE is kept (the clone rule adds, never removes, except RESIZE).
  zx_object_t* obj;
  cr_assert_eq(handle_get(v, ZX_OBJ_TYPE_VMO, 0, &obj, NULL), ZX_OK);
  zx_handle_t x = ZX_HANDLE_INVALID;
  cr_assert_eq(handle_create(obj, ZX_RIGHT_READ | ZX_RIGHT_DUPLICATE | ZX_RIGHT_EXECUTE, &x), ZX_OK);
  object_unref(obj);
  c = mkclone(x, CLONE_COW | CLONE_NR, 0, PG);
  cr_assert_eq(handle_rights(c), ZX_RIGHT_READ | ZX_RIGHT_DUPLICATE | ZX_RIGHT_EXECUTE | added);
  close_h(c);
  close_h(x);
  close_h(v);
}

Test(clone_legacy, info_and_resizability) {
  zx_handle_t v = mkvmo(2 * PG);
  const char name[] = "legacy";
  cr_assert_eq(zx_object_set_property(v, ZX_PROP_NAME, name, sizeof(name)), ZX_OK);
  zx_handle_t c = mkclone(v, CLONE_COW, 0, PG + 7);
  zx_info_vmo_t i = vmo_info(c);
  const uint32_t base = ZX_INFO_VMO_TYPE_PAGED | ZX_INFO_VMO_VIA_HANDLE;
  cr_assert_eq(i.flags, base | ZX_INFO_VMO_IS_COW_CLONE | ZX_INFO_VMO_RESIZABLE);
  cr_assert_eq(i.parent_koid, koid_of(v));
  cr_assert_eq(i.size_bytes, 2 * PG);
  cr_assert_str_eq(i.name, "legacy");
  cr_assert_eq(content_size(c), PG + 7);
  cr_assert_eq(vmo_info(v).num_children, 1);
  cr_assert_not(zero_children(v));
  cr_assert_eq(zx_vmo_set_size(c, 5 * PG), ZX_OK);
  cr_assert_eq(vmo_size(c), 5 * PG);
  zx_handle_t n = mkclone(v, CLONE_COW | CLONE_NR, 0, PG);
  cr_assert_eq(vmo_info(n).flags, base | ZX_INFO_VMO_IS_COW_CLONE);
  cr_assert_eq(zx_vmo_set_size(n, 2 * PG), ZX_ERR_UNAVAILABLE);
  close_h(n);
  close_h(c);
  cr_assert(zero_children(v));
  close_h(v);
  expect_clean();
}

// ---- one-way semantics ----

Test(clone_legacy, sees_parent_writes_until_it_writes) {
  zx_handle_t v = mkvmo_filled(3, 0x10);
  zx_handle_t c = mkclone(v, CLONE_COW, 0, 3 * PG);
  cr_assert_eq(pages_in_use(), 3);
  fill_page(v, 0, 0x20);
  cr_assert_eq(page_val(c, 0), 0x20);
  fill_page(c, 0, 0x30);
  cr_assert_eq(page_val(v, 0), 0x20);
  cr_assert_eq(pages_in_use(), 4);
  fill_page(v, 0, 0x21);
  cr_assert_eq(page_val(c, 0), 0x30);
  // Partial write: the clone copies the page first.
  wr8(c, PG + 5, 0xAB);
  cr_assert_eq(rd8(c, PG + 4), 0x11);
  cr_assert_eq(rd8(c, PG + 5), 0xAB);
  cr_assert_eq(rd8(v, PG + 5), 0x11);
  fill_page(v, 1, 0x22);
  cr_assert_eq(rd8(c, PG + 4), 0x11);
  // An unwritten page still follows the parent, including the parent's ZERO.
  cr_assert_eq(zx_vmo_op_range(v, ZX_VMO_OP_ZERO, 2 * PG, PG, NULL, 0), ZX_OK);
  cr_assert_eq(page_val(c, 2), 0);
  fill_page(v, 2, 0x23);
  cr_assert_eq(page_val(c, 2), 0x23);
  // A page the parent never had: the clone writes its own.
  close_h(c);
  close_h(v);
  expect_clean();
}

Test(clone_legacy, parent_sees_nothing_of_clone) {
  zx_handle_t v = mkvmo(2 * PG);
  zx_handle_t c = mkclone(v, CLONE_COW, PG, PG);
  fill_page(c, 0, 0x44);
  cr_assert_eq(page_val(v, 1), 0);
  cr_assert_eq(pages_in_use(), 1);
  fill_page(v, 1, 0x45);
  cr_assert_eq(page_val(c, 0), 0x44);
  close_h(v);
  cr_assert_eq(page_val(c, 0), 0x44);
  cr_assert_eq(pages_in_use(), 1);
  close_h(c);
  expect_clean();
}

// ---- DECOMMIT on a clone ----

Test(clone_legacy, decommit_reveals_parent_page) {
  zx_handle_t v = mkvmo_filled(2, 0x10);
  zx_handle_t c = mkclone(v, CLONE_COW, 0, 2 * PG);
  fill_page(c, 0, 0x30);
  fill_page(c, 1, 0x31);
  cr_assert_eq(pages_in_use(), 4);
  cr_assert_eq(decommit(c, 0, PG), ZX_OK);
  cr_assert_eq(pages_in_use(), 3, "the clone's page is freed");
  cr_assert_eq(page_val(c, 0), 0x10, "the parent's page shows through again");
  cr_assert_eq(page_val(c, 1), 0x31);
  fill_page(v, 0, 0x20);
  cr_assert_eq(page_val(c, 0), 0x20, "and follows the parent again");
  // Still copy on write.
  fill_page(c, 0, 0x32);
  cr_assert_eq(page_val(v, 0), 0x20);
  cr_assert_eq(page_val(c, 0), 0x32);
  // Decommit on a page the clone never wrote changes nothing.
  cr_assert_eq(decommit(c, 0, 2 * PG), ZX_OK);
  cr_assert_eq(page_val(c, 0), 0x20);
  cr_assert_eq(page_val(c, 1), 0x11);
  cr_assert_eq(pages_in_use(), 2);
  // Argument rules of DECOMMIT still apply.
  cr_assert_eq(decommit(c, 1, PG), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(decommit(c, 0, PG + 1), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(decommit(c, 0, 3 * PG), ZX_ERR_OUT_OF_RANGE);
  cr_assert_eq(decommit(c, 0, 0), ZX_OK);
  close_h(c);
  close_h(v);
  expect_clean();
}

Test(clone_legacy, decommit_in_clone_of_clone) {
  zx_handle_t v = mkvmo_filled(1, 0x10);
  zx_handle_t c1 = mkclone(v, CLONE_COW, 0, PG);
  fill_page(c1, 0, 0x20);
  zx_handle_t c2 = mkclone(c1, CLONE_COW, 0, PG);
  fill_page(c2, 0, 0x30);
  cr_assert_eq(decommit(c2, 0, PG), ZX_OK);
  cr_assert_eq(page_val(c2, 0), 0x20);
  cr_assert_eq(decommit(c1, 0, PG), ZX_OK);
  cr_assert_eq(page_val(c1, 0), 0x10);
  cr_assert_eq(page_val(c2, 0), 0x10);
  cr_assert_eq(pages_in_use(), 1);
  close_h(c2);
  close_h(c1);
  close_h(v);
  expect_clean();
}

// ---- COMMIT on a clone ----

Test(clone_legacy, commit_copies_parent_pages) {
  zx_handle_t v = mkvmo(4 * PG);
  fill_page(v, 0, 0x10);
  fill_page(v, 1, 0x11);
  fill_page(v, 2, 0x12);  // page 3 never written
  zx_handle_t c = mkclone(v, CLONE_COW, 0, 4 * PG);
  zx_info_vmo_t i = vmo_info(c);
  cr_assert_eq(i.committed_bytes, 3 * PG);
  cr_assert_eq(i.committed_private_bytes, 0);
  cr_assert_eq(pages_in_use(), 3);
  cr_assert_eq(commit(c, 0, 2 * PG), ZX_OK);
  i = vmo_info(c);
  cr_assert_eq(i.committed_private_bytes, 2 * PG);
  cr_assert_eq(i.committed_bytes, 3 * PG);
  cr_assert_eq(pages_in_use(), 5);
  cr_assert_eq(page_val(c, 0), 0x10);
  cr_assert_eq(page_val(c, 1), 0x11);
  // The committed pages are the clone's own now: later parent writes stay hidden.
  fill_page(v, 0, 0x50);
  fill_page(v, 2, 0x52);
  cr_assert_eq(page_val(c, 0), 0x10);
  cr_assert_eq(page_val(c, 2), 0x52);
  cr_assert_eq(vmo_info(v).committed_private_bytes, 2 * PG);  // page 2 is shared
  // Committing a page the parent does not have gives a zero page.
  cr_assert_eq(commit(c, 3 * PG, PG), ZX_OK);
  cr_assert_eq(pages_in_use(), 6);
  cr_assert_eq(page_val(c, 3), 0);
  i = vmo_info(c);
  cr_assert_eq(i.committed_private_bytes, 3 * PG);
  cr_assert_eq(i.committed_bytes, 4 * PG);
  fill_page(v, 3, 0x53);
  cr_assert_eq(pages_in_use(), 7);
  cr_assert_eq(page_val(c, 3), 0);
  // Page 2 is still the parent's; committing everything copies just it.
  cr_assert_eq(commit(c, 0, 4 * PG), ZX_OK);
  cr_assert_eq(pages_in_use(), 8);
  cr_assert_eq(page_val(c, 2), 0x52);
  fill_page(v, 2, 0x62);
  cr_assert_eq(page_val(c, 2), 0x52);
  // Committing again is a no-op.
  cr_assert_eq(commit(c, 0, 4 * PG), ZX_OK);
  cr_assert_eq(pages_in_use(), 8);
  cr_assert_eq(vmo_info(c).committed_private_bytes, 4 * PG);
  close_h(c);
  close_h(v);
  expect_clean();
}

// ---- LOOKUP ----

Test(clone_legacy, lookup_gives_parent_addresses_until_written) {
  zx_handle_t v = mkvmo_filled(4, 0x10);
  zx_handle_t c = mkclone(v, CLONE_COW, 0, 4 * PG);
  zx_paddr_t pa[4] = {0}, ca[4] = {0};
  cr_assert_eq(lookup(v, 0, 4 * PG, pa, 4), ZX_OK);
  for (int i = 0; i < 4; i++) {
    cr_assert_neq(pa[i], 0);
    for (int j = 0; j < i; j++) cr_assert_neq(pa[i], pa[j], "pages %d and %d share an address", i, j);
  }
  cr_assert_eq(lookup(c, 0, 4 * PG, ca, 4), ZX_OK);
  for (int i = 0; i < 4; i++) cr_assert_eq(ca[i], pa[i], "page %d", i);
  fill_page(c, 1, 0x77);
  zx_paddr_t ca2[4] = {0};
  cr_assert_eq(lookup(c, 0, 4 * PG, ca2, 4), ZX_OK);
  cr_assert_eq(ca2[0], pa[0]);
  cr_assert_neq(ca2[1], pa[1], "written page still reports the parent's address");
  cr_assert_neq(ca2[1], 0);
  cr_assert_eq(ca2[2], pa[2]);
  cr_assert_eq(ca2[3], pa[3]);
  // A sub-range, unaligned: one address per page touched.
  zx_paddr_t sub[2] = {0, 0};
  cr_assert_eq(lookup(c, PG + 100, PG, sub, 2), ZX_OK);
  cr_assert_eq(sub[0], ca2[1]);
  cr_assert_eq(sub[1], ca2[2]);
  // The parent's own lookup is unchanged by the clone's write.
  zx_paddr_t pa2[4] = {0};
  cr_assert_eq(lookup(v, 0, 4 * PG, pa2, 4), ZX_OK);
  for (int i = 0; i < 4; i++) cr_assert_eq(pa2[i], pa[i]);
  close_h(c);
  close_h(v);
}

Test(clone_legacy, lookup_errors) {
  zx_handle_t v = mkvmo(4 * PG);
  fill_page(v, 0, 1);
  fill_page(v, 1, 2);
  fill_page(v, 2, 3);
  zx_handle_t c = mkclone(v, CLONE_COW, 0, 4 * PG);
  zx_paddr_t buf[4];
  cr_assert_eq(lookup(c, 0, 4 * PG, buf, 3), ZX_ERR_BUFFER_TOO_SMALL);
  cr_assert_eq(lookup(c, 0, 2 * PG + 1, buf, 2), ZX_ERR_BUFFER_TOO_SMALL);
  cr_assert_eq(lookup(c, 0, 3 * PG, buf, 3), ZX_OK);
  // Page 3 is committed nowhere.
  cr_assert_eq(lookup(c, 0, 4 * PG, buf, 4), ZX_ERR_NO_MEMORY);
  cr_assert_eq(lookup(v, 3 * PG, PG, buf, 1), ZX_ERR_NO_MEMORY);
  cr_assert_eq(lookup(c, 3 * PG, PG, buf, 1), ZX_ERR_NO_MEMORY);
  // Range past the end.
  zx_paddr_t big[8];
  cr_assert_eq(lookup(c, 0, 5 * PG, big, 8), ZX_ERR_OUT_OF_RANGE);
  // A lookup does not commit anything.
  cr_assert_eq(pages_in_use(), 3);
  // Once the clone writes page 3, it has an address.
  fill_page(c, 3, 9);
  cr_assert_eq(lookup(c, 3 * PG, PG, buf, 1), ZX_OK);
  cr_assert_eq(lookup(v, 3 * PG, PG, buf, 1), ZX_ERR_NO_MEMORY);
  close_h(c);
  close_h(v);
}

// ---- shrinking the parent ----

Test(clone_legacy, shrinking_parent_cuts_unforked_clone_for_good) {
  zx_handle_t v = mkvmo_opts(4 * PG, ZX_VMO_RESIZABLE);
  for (uint64_t k = 0; k < 4; k++) fill_page(v, k, (uint8_t)(0x10 + k));
  zx_handle_t c = mkclone(v, CLONE_COW, 0, 4 * PG);
  fill_page(c, 3, 0x33);
  cr_assert_eq(zx_vmo_set_size(v, PG), ZX_OK);
  cr_assert_eq(page_val(c, 0), 0x10);
  cr_assert_eq(page_val(c, 1), 0, "unforked page past the parent's new end");
  cr_assert_eq(page_val(c, 2), 0);
  cr_assert_eq(page_val(c, 3), 0x33, "the clone's own page stays");
  cr_assert_eq(pages_in_use(), 2);
  cr_assert_eq(zx_vmo_set_size(v, 4 * PG), ZX_OK);
  cr_assert_eq(page_val(c, 1), 0, "re-exposed after the parent grew back");
  fill_page(v, 1, 0x41);
  fill_page(v, 2, 0x42);
  cr_assert_eq(page_val(c, 1), 0, "parent writes in the cut range visible");
  cr_assert_eq(page_val(c, 2), 0);
  fill_page(v, 0, 0x40);
  cr_assert_eq(page_val(c, 0), 0x40, "below the cut the clone still follows the parent");
  // Decommit in the cut range does not re-expose the parent either.
  cr_assert_eq(decommit(c, 0, 4 * PG), ZX_OK);
  cr_assert_eq(page_val(c, 1), 0);
  cr_assert_eq(page_val(c, 3), 0);
  cr_assert_eq(page_val(c, 0), 0x40);
  close_h(c);
  close_h(v);
  expect_clean();
}

// ---- DECOMMIT on create_child children (section 8) ----

Test(clone_legacy, decommit_on_snapshot_children_not_supported) {
  const uint32_t types[] = {SNAP, ALOW, SNAP | RESZ, ZX_VMO_CHILD_COPY_ON_WRITE};
  for (size_t t = 0; t < 4; t++) {
    zx_handle_t v = mkvmo_filled(2, 0x10);
    cr_assert_eq(decommit(v, 0, PG), ZX_OK);
    fill_page(v, 0, 0x10);
    zx_handle_t c = mkchild(v, types[t], 0, 2 * PG);
    fill_page(c, 0, 0x20);
    cr_assert_eq(decommit(c, 0, PG), ZX_ERR_NOT_SUPPORTED, "child %#x with live parent", types[t]);
    cr_assert_eq(decommit(v, 0, PG), ZX_ERR_NOT_SUPPORTED, "parent of live child %#x", types[t]);
    cr_assert_eq(page_val(c, 0), 0x20);
    cr_assert_eq(page_val(v, 0), 0x10);
    // NOT_SUPPORTED comes before the alignment check.
    cr_assert_eq(decommit(c, 1, PG), ZX_ERR_NOT_SUPPORTED);
    close_h(c);
    cr_assert_eq(decommit(v, 0, PG), ZX_OK, "allowed again once the child is closed (%#x)",
                 types[t]);
    cr_assert_eq(page_val(v, 0), 0);
    close_h(v);
    expect_clean();
  }
}

Test(clone_legacy, decommit_on_snapshot_child_after_parent_closed) {
  zx_handle_t v = mkvmo_filled(2, 0x10);
  zx_handle_t c = mkchild(v, SNAP, 0, 2 * PG);
  cr_assert_eq(decommit(c, 0, PG), ZX_ERR_NOT_SUPPORTED);
  close_h(v);
  cr_assert_eq(decommit(c, 0, PG), ZX_OK);
  cr_assert_eq(page_val(c, 0), 0);
  cr_assert_eq(page_val(c, 1), 0x11);
  cr_assert_eq(pages_in_use(), 1);
  close_h(c);
  expect_clean();
}

Test(clone_legacy, decommit_through_slice_and_grandchild) {
  zx_handle_t v = mkvmo_filled(4, 0x10);
  zx_handle_t s = mkchild(v, SLICE, PG, 2 * PG);
  // A slice goes to the parent: allowed while there is no snapshot child.
  cr_assert_eq(decommit(s, 0, PG), ZX_OK);
  cr_assert_eq(page_val(v, 1), 0);
  cr_assert_eq(decommit(v, 2 * PG, PG), ZX_OK, "a slice child does not block DECOMMIT");
  cr_assert_eq(page_val(s, 1), 0);
  zx_handle_t c = mkchild(v, SNAP, 0, 4 * PG);
  cr_assert_eq(decommit(s, 0, PG), ZX_ERR_NOT_SUPPORTED, "via a slice of a parent with a snapshot");
  // A snapshot of a snapshot: both the middle and the grandchild refuse.
  zx_handle_t g = mkchild(c, SNAP, 0, 4 * PG);
  cr_assert_eq(decommit(c, 0, PG), ZX_ERR_NOT_SUPPORTED);
  cr_assert_eq(decommit(g, 0, PG), ZX_ERR_NOT_SUPPORTED);
  close_h(c);
  // g is re-homed to v: still a live COW parent.
  cr_assert_eq(decommit(g, 0, PG), ZX_ERR_NOT_SUPPORTED);
  cr_assert_eq(decommit(v, 0, PG), ZX_ERR_NOT_SUPPORTED);
  close_h(g);
  cr_assert_eq(decommit(v, 0, 4 * PG), ZX_OK);
  cr_assert_eq(pages_in_use(), 0);
  close_h(s);
  close_h(v);
  expect_clean();
}

// A root with only a legacy clone child may still DECOMMIT (no SNAPSHOT child); the
// unforked clone then sees zero there.
Test(clone_legacy, decommit_on_parent_of_clone) {
  zx_handle_t v = mkvmo_filled(2, 0x10);
  zx_handle_t c = mkclone(v, CLONE_COW, 0, 2 * PG);
  fill_page(c, 1, 0x31);
  cr_assert_eq(decommit(v, 0, 2 * PG), ZX_OK);
  cr_assert_eq(page_val(c, 0), 0);
  cr_assert_eq(page_val(c, 1), 0x31);
  cr_assert_eq(pages_in_use(), 1);
  close_h(c);
  close_h(v);
  expect_clean();
}
