// SPDX-License-Identifier: BSD-3-Clause
// zx_vmo_create_child: every check of docs/behavior.md §4, in order, with combinations
// that prove the order; child rights (section 2); name, content size, ZX_INFO_VMO
// flags, parent_koid, num_children, ZX_VMO_ZERO_CHILDREN and re-homing (section 9).
#include <criterion/criterion.h>
#include <zircon/syscalls.h>

#include "child_helpers.h"
#include "handle.h"
#include "helpers.h"
#include "object.h"

static zx_status_t cc(zx_handle_t h, uint32_t options, uint64_t offset, uint64_t size) {
  zx_handle_t out = ZX_HANDLE_INVALID;
  zx_status_t st = zx_vmo_create_child(h, options, offset, size, &out);
  if (st == ZX_OK) {
    cr_assert_neq(out, ZX_HANDLE_INVALID);
    close_h(out);
  } else {
    cr_assert_eq(out, ZX_HANDLE_INVALID, "out written on failure");
  }
  return st;
}

// A handle to the same object with exactly `rights` (which may add rights, such as
// EXECUTE, that zx_handle_duplicate cannot): built with the library's handle table.
static zx_handle_t handle_with_rights(zx_handle_t h, zx_rights_t rights) {
  zx_object_t* obj;
  cr_assert_eq(handle_get(h, ZX_OBJ_TYPE_NONE, ZX_RIGHT_NONE, &obj, NULL), ZX_OK);
  zx_handle_t out = ZX_HANDLE_INVALID;
  cr_assert_eq(handle_create(obj, rights, &out), ZX_OK);
  object_unref(obj);
  return out;
}

static zx_handle_t mkevent(void) {
  zx_handle_t e = ZX_HANDLE_INVALID;
  cr_assert_eq(zx_event_create(0, &e), ZX_OK);
  return e;
}

static const uint32_t kAllTypes[] = {SNAP, ALOW, SLICE, ZX_VMO_CHILD_COPY_ON_WRITE,
                                     ZX_VMO_CHILD_PRIVATE_PAGER_COPY};
#define NTYPES (sizeof(kAllTypes) / sizeof(kAllTypes[0]))

// ---- 1. size ----

Test(children, size_too_large_is_out_of_range_before_handle) {
  zx_handle_t v = mkvmo(PG);
  for (size_t t = 0; t < NTYPES; t++) {
    uint32_t o = kAllTypes[t];
    cr_assert_eq(cc(v, o, 0, UINT64_MAX), ZX_ERR_OUT_OF_RANGE, "type %#x", o);
    cr_assert_eq(cc(v, o, 0, MAX_VMO_SIZE + 1), ZX_ERR_OUT_OF_RANGE, "type %#x", o);
    cr_assert_eq(cc(v, o, 0, UINT64_MAX - PG + 2), ZX_ERR_OUT_OF_RANGE, "type %#x", o);
    // Before the handle is looked up: bad size AND bad handle.
    cr_assert_eq(cc(ZX_HANDLE_INVALID, o, 0, UINT64_MAX), ZX_ERR_OUT_OF_RANGE, "type %#x", o);
    cr_assert_eq(cc((zx_handle_t)0x12345677, o, 0, MAX_VMO_SIZE + 1), ZX_ERR_OUT_OF_RANGE);
    // Bad size AND NO_WRITE|RESIZABLE: size wins.
    cr_assert_eq(cc(v, o | NOWR | RESZ, 0, UINT64_MAX), ZX_ERR_OUT_OF_RANGE, "type %#x", o);
    // Bad size AND no type / unknown bits / unaligned offset.
    cr_assert_eq(cc(v, 0, 0, UINT64_MAX), ZX_ERR_OUT_OF_RANGE);
    cr_assert_eq(cc(v, o | (1u << 20), 1, UINT64_MAX), ZX_ERR_OUT_OF_RANGE);
  }
  zx_handle_t ev = mkevent();
  cr_assert_eq(cc(ev, SNAP, 0, UINT64_MAX), ZX_ERR_OUT_OF_RANGE);
  close_h(ev);
  close_h(v);
}

Test(children, max_size_snapshot_is_ok) {
  zx_handle_t v = mkvmo(PG);
  zx_handle_t c = mkchild(v, SNAP, 0, MAX_VMO_SIZE);
  cr_assert_eq(vmo_size(c), MAX_VMO_SIZE);
  cr_assert_eq(rd8(c, MAX_VMO_SIZE - 1), 0);
  // Rounding up to exactly MAX_SIZE is fine too.
  zx_handle_t c2 = mkchild(v, SNAP, 0, MAX_VMO_SIZE - 1);
  cr_assert_eq(vmo_size(c2), MAX_VMO_SIZE);
  cr_assert_eq(content_size(c2), MAX_VMO_SIZE - 1);
  close_h(c2);
  close_h(c);
  close_h(v);
  expect_clean();
}

// ---- 2. NO_WRITE with RESIZABLE ----

Test(children, no_write_with_resizable_is_invalid_args_before_handle) {
  zx_handle_t v = mkvmo(PG);
  for (size_t t = 0; t < NTYPES; t++) {
    uint32_t o = kAllTypes[t];
    cr_assert_eq(cc(v, o | NOWR | RESZ, 0, PG), ZX_ERR_INVALID_ARGS, "type %#x", o);
    cr_assert_eq(cc(ZX_HANDLE_INVALID, o | NOWR | RESZ, 0, PG), ZX_ERR_INVALID_ARGS);
  }
  // With no type at all, and with a wrong-type handle, and a handle lacking rights.
  cr_assert_eq(cc(ZX_HANDLE_INVALID, NOWR | RESZ, 0, PG), ZX_ERR_INVALID_ARGS);
  zx_handle_t ev = mkevent();
  cr_assert_eq(cc(ev, SNAP | NOWR | RESZ, 0, PG), ZX_ERR_INVALID_ARGS);
  close_h(ev);
  zx_handle_t weak = dup_rights(v, ZX_RIGHT_WAIT);
  cr_assert_eq(cc(weak, SNAP | NOWR | RESZ, 0, PG), ZX_ERR_INVALID_ARGS);
  close_h(weak);
  close_h(v);
}

// ---- 3. handle ----

Test(children, bad_handle) {
  zx_handle_t v = mkvmo(PG);
  zx_handle_t d = dup_rights(v, ZX_RIGHT_SAME_RIGHTS);
  close_h(d);
  for (size_t t = 0; t < NTYPES; t++) {
    uint32_t o = kAllTypes[t];
    cr_assert_eq(cc(ZX_HANDLE_INVALID, o, 0, PG), ZX_ERR_BAD_HANDLE, "type %#x", o);
    cr_assert_eq(cc(d, o, 0, PG), ZX_ERR_BAD_HANDLE, "closed handle, type %#x", o);
    cr_assert_eq(cc((zx_handle_t)0x7fff0003, o, 0, PG), ZX_ERR_BAD_HANDLE);
  }
  // The handle comes before every option and offset check.
  cr_assert_eq(cc(d, 0, 0, PG), ZX_ERR_BAD_HANDLE);
  cr_assert_eq(cc(d, SNAP | ALOW, 0, PG), ZX_ERR_BAD_HANDLE);
  cr_assert_eq(cc(d, SLICE | RESZ, 0, PG), ZX_ERR_BAD_HANDLE);
  cr_assert_eq(cc(d, SNAP, 1, PG), ZX_ERR_BAD_HANDLE);
  cr_assert_eq(cc(d, SNAP, UINT64_MAX & ~(PG - 1), 2 * PG), ZX_ERR_BAD_HANDLE);
  cr_assert_eq(cc(d, SNAP | (1u << 30), 0, PG), ZX_ERR_BAD_HANDLE);
  close_h(v);
}

Test(children, wrong_type_before_rights) {
  zx_handle_t ev = mkevent();
  for (size_t t = 0; t < NTYPES; t++) {
    cr_assert_eq(cc(ev, kAllTypes[t], 0, PG), ZX_ERR_WRONG_TYPE, "type %#x", kAllTypes[t]);
  }
  // An event handle that also lacks READ and DUPLICATE: type first.
  zx_handle_t weak = dup_rights(ev, ZX_RIGHT_WAIT);
  cr_assert_eq(cc(weak, SNAP, 0, PG), ZX_ERR_WRONG_TYPE);
  cr_assert_eq(cc(weak, 0, 1, PG), ZX_ERR_WRONG_TYPE);
  close_h(weak);
  close_h(ev);
}

Test(children, rights_required) {
  zx_handle_t v = mkvmo(2 * PG);
  zx_handle_t no_dup = dup_rights(v, ZX_DEFAULT_VMO_RIGHTS & ~ZX_RIGHT_DUPLICATE);
  zx_handle_t no_read = dup_rights(v, ZX_DEFAULT_VMO_RIGHTS & ~ZX_RIGHT_READ);
  zx_handle_t min = dup_rights(v, ZX_RIGHT_READ | ZX_RIGHT_DUPLICATE);
  for (size_t t = 0; t < NTYPES; t++) {
    uint32_t o = kAllTypes[t];
    cr_assert_eq(cc(no_dup, o, 0, PG), ZX_ERR_ACCESS_DENIED, "type %#x", o);
    cr_assert_eq(cc(no_read, o, 0, PG), ZX_ERR_ACCESS_DENIED, "type %#x", o);
    cr_assert_eq(cc(min, o, 0, PG), ZX_OK, "type %#x", o);
  }
  // Rights are checked before options and offsets.
  cr_assert_eq(cc(no_read, 0, 0, PG), ZX_ERR_ACCESS_DENIED);
  cr_assert_eq(cc(no_read, SLICE | RESZ, 0, PG), ZX_ERR_ACCESS_DENIED);
  cr_assert_eq(cc(no_dup, SNAP | ALOW, 0, PG), ZX_ERR_ACCESS_DENIED);
  cr_assert_eq(cc(no_dup, SNAP, 1, PG), ZX_ERR_ACCESS_DENIED);
  cr_assert_eq(cc(no_dup, SLICE, 0, 100 * PG), ZX_ERR_ACCESS_DENIED);
  // WRITE is not needed, even for a snapshot (which gets WRITE).
  zx_handle_t ro = dup_rights(v, ZX_RIGHT_READ | ZX_RIGHT_DUPLICATE | ZX_RIGHT_WAIT);
  zx_handle_t c = mkchild(ro, SNAP, 0, PG);
  cr_assert(handle_rights(c) & ZX_RIGHT_WRITE);
  close_h(c);
  close_h(ro);
  close_h(min);
  close_h(no_read);
  close_h(no_dup);
  close_h(v);
}

// ---- 5. SLICE with other options ----

Test(children, slice_with_other_option_is_invalid_args) {
  zx_handle_t v = mkvmo(2 * PG);
  cr_assert_eq(cc(v, SLICE | RESZ, 0, PG), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(cc(v, SLICE | SNAP, 0, PG), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(cc(v, SLICE | ALOW, 0, PG), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(cc(v, SLICE | (1u << 1), 0, PG), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(cc(v, SLICE | (1u << 31), 0, PG), ZX_ERR_INVALID_ARGS);
  // Option checks come before offset and containment checks.
  cr_assert_eq(cc(v, SLICE | RESZ, 1, PG), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(cc(v, SLICE | RESZ, 0, 100 * PG), ZX_ERR_INVALID_ARGS);
  // A resizable parent: the option error, not NOT_SUPPORTED.
  zx_handle_t r = mkvmo_opts(2 * PG, ZX_VMO_RESIZABLE);
  cr_assert_eq(cc(r, SLICE | RESZ, 0, PG), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(cc(r, SLICE | SNAP, 0, PG), ZX_ERR_INVALID_ARGS);
  // NO_WRITE is the one option allowed with SLICE.
  cr_assert_eq(cc(v, SLICE | NOWR, 0, PG), ZX_OK);
  close_h(r);
  close_h(v);
}

// ---- 6. exactly one type ----

Test(children, no_type_is_invalid_args) {
  zx_handle_t v = mkvmo(2 * PG);
  cr_assert_eq(cc(v, 0, 0, PG), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(cc(v, RESZ, 0, PG), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(cc(v, NOWR, 0, PG), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(cc(v, 1u << 1, 0, PG), ZX_ERR_INVALID_ARGS);
  // Before the offset checks: an offset+size overflow is not reported.
  cr_assert_eq(cc(v, 0, UINT64_MAX & ~(PG - 1), 2 * PG), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(cc(v, RESZ, UINT64_MAX & ~(PG - 1), 2 * PG), ZX_ERR_INVALID_ARGS);
  close_h(v);
}

Test(children, two_snapshot_types_is_invalid_args) {
  zx_handle_t v = mkvmo(2 * PG);
  cr_assert_eq(cc(v, SNAP | ALOW, 0, PG), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(cc(v, SNAP | ALOW | RESZ, 0, PG), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(cc(v, SNAP | ALOW | NOWR, 0, PG), ZX_ERR_INVALID_ARGS);
  // Before the overflow check.
  cr_assert_eq(cc(v, SNAP | ALOW, UINT64_MAX & ~(PG - 1), 2 * PG), ZX_ERR_INVALID_ARGS);
  close_h(v);
}

Test(children, unknown_bits_are_invalid_args) {
  zx_handle_t v = mkvmo(2 * PG);
  const uint32_t unknown[] = {1u << 1, 1u << 8, 1u << 12, 1u << 24, 1u << 31};
  const uint32_t types[] = {SNAP, ALOW};
  for (size_t t = 0; t < 2; t++) {
    for (size_t u = 0; u < sizeof(unknown) / sizeof(unknown[0]); u++) {
      cr_assert_eq(cc(v, types[t] | unknown[u], 0, PG), ZX_ERR_INVALID_ARGS, "%#x|%#x", types[t],
                   unknown[u]);
      cr_assert_eq(cc(v, types[t] | RESZ | unknown[u], 0, PG), ZX_ERR_INVALID_ARGS);
      // Before the offset+size overflow check.
      cr_assert_eq(cc(v, types[t] | unknown[u], UINT64_MAX & ~(PG - 1), 2 * PG),
                   ZX_ERR_INVALID_ARGS);
    }
  }
  // Known combinations are fine.
  cr_assert_eq(cc(v, SNAP | RESZ, 0, PG), ZX_OK);
  cr_assert_eq(cc(v, SNAP | NOWR, 0, PG), ZX_OK);
  cr_assert_eq(cc(v, ALOW | RESZ, 0, PG), ZX_OK);
  cr_assert_eq(cc(v, ALOW | NOWR, 0, PG), ZX_OK);
  close_h(v);
  expect_clean();
}

// ---- 7. snapshot types ----

Test(children, snapshot_unaligned_offset_is_invalid_args) {
  zx_handle_t v = mkvmo(4 * PG);
  const uint64_t offs[] = {1, PG - 1, PG + 1, 3 * PG + 100};
  for (size_t i = 0; i < 4; i++) {
    cr_assert_eq(cc(v, SNAP, offs[i], PG), ZX_ERR_INVALID_ARGS);
    cr_assert_eq(cc(v, ALOW, offs[i], PG), ZX_ERR_INVALID_ARGS);
    cr_assert_eq(cc(v, SNAP, offs[i], 0), ZX_ERR_INVALID_ARGS);
  }
  // Alignment is checked before the offset+size overflow.
  cr_assert_eq(cc(v, SNAP, UINT64_MAX - 10, 2 * PG), ZX_ERR_INVALID_ARGS);
  close_h(v);
}

Test(children, snapshot_offset_plus_size_overflow_is_out_of_range) {
  zx_handle_t v = mkvmo(4 * PG);
  uint64_t top = UINT64_MAX & ~(PG - 1);  // 0xFFFF_FFFF_FFFF_F000
  cr_assert_eq(cc(v, SNAP, top, 2 * PG), ZX_ERR_OUT_OF_RANGE);
  cr_assert_eq(cc(v, ALOW, top, 2 * PG), ZX_ERR_OUT_OF_RANGE);
  cr_assert_eq(cc(v, SNAP, PG, UINT64_MAX - PG - 100), ZX_ERR_OUT_OF_RANGE);
  // Offsets far beyond the parent's size are fine and read zero.
  zx_handle_t c = mkchild(v, SNAP, 1000 * PG, 2 * PG);
  cr_assert_eq(page_val(c, 0), 0);
  cr_assert_eq(page_val(c, 1), 0);
  close_h(c);
  close_h(v);
  expect_clean();
}

Test(children, snapshot_of_slice_is_not_supported) {
  zx_handle_t v = mkvmo(4 * PG);
  zx_handle_t s = mkchild(v, SLICE, PG, 2 * PG);
  zx_handle_t s2 = mkchild(s, SLICE, 0, PG);
  const uint32_t types[] = {SNAP, ALOW, SNAP | RESZ, ALOW | NOWR};
  for (size_t i = 0; i < 4; i++) {
    cr_assert_eq(cc(s, types[i], 0, PG), ZX_ERR_NOT_SUPPORTED, "%#x", types[i]);
    cr_assert_eq(cc(s2, types[i], 0, PG), ZX_ERR_NOT_SUPPORTED, "%#x", types[i]);
  }
  // Order: unaligned offset and overflow come first.
  cr_assert_eq(cc(s, SNAP, 1, PG), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(cc(s, SNAP, UINT64_MAX & ~(PG - 1), 2 * PG), ZX_ERR_OUT_OF_RANGE);
  // And NULL out comes last.
  cr_assert_eq(zx_vmo_create_child(s, SNAP, 0, PG, NULL), ZX_ERR_NOT_SUPPORTED);
  cr_assert_eq(vmo_info(s).num_children, 1);
  close_h(s2);
  close_h(s);
  close_h(v);
  expect_clean();
}

Test(children, accumulated_offset_overflow_is_invalid_args) {
  zx_handle_t v = mkvmo(PG);
  uint64_t half = (uint64_t)1 << 63;
  zx_handle_t c1 = mkchild(v, SNAP, half, 4 * PG);
  // 2^63 + 2^63 overflows down the chain.
  cr_assert_eq(cc(c1, SNAP, half, PG), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(cc(c1, ALOW, half, PG), ZX_ERR_INVALID_ARGS);
  // Just below the limit is fine: 2^63 + (2^63 - 16 pages).
  zx_handle_t c2 = mkchild(c1, SNAP, half - 16 * PG, 4 * PG);
  cr_assert_eq(page_val(c2, 3), 0);
  // And one more step down the chain overflows.
  cr_assert_eq(cc(c2, SNAP, 16 * PG, PG), ZX_ERR_INVALID_ARGS);
  zx_handle_t c3 = mkchild(c2, SNAP, 8 * PG, PG);
  cr_assert_eq(page_val(c3, 0), 0);
  cr_assert_eq(cc(c3, SNAP, 8 * PG, PG), ZX_ERR_INVALID_ARGS);
  // Out-of-range overflow of the pair itself is still OUT_OF_RANGE.
  cr_assert_eq(cc(c1, SNAP, UINT64_MAX & ~(PG - 1), 2 * PG), ZX_ERR_OUT_OF_RANGE);
  // NULL out is checked after.
  cr_assert_eq(zx_vmo_create_child(c1, SNAP, half, PG, NULL), ZX_ERR_INVALID_ARGS);
  close_h(c3);
  close_h(c2);
  close_h(c1);
  close_h(v);
  expect_clean();
}

// ---- 8. slices ----

Test(children, slice_unaligned_offset_is_invalid_args) {
  zx_handle_t v = mkvmo(4 * PG);
  cr_assert_eq(cc(v, SLICE, 1, PG), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(cc(v, SLICE, PG + 8, PG), ZX_ERR_INVALID_ARGS);
  // An unaligned size is rounded, not refused.
  zx_handle_t s = mkchild(v, SLICE, PG, PG + 1);
  cr_assert_eq(vmo_size(s), 2 * PG);
  close_h(s);
  close_h(v);
}

Test(children, slice_not_inside_parent_is_invalid_args) {
  zx_handle_t v = mkvmo(4 * PG);
  cr_assert_eq(cc(v, SLICE, 0, 5 * PG), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(cc(v, SLICE, 3 * PG, 2 * PG), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(cc(v, SLICE, 4 * PG, PG), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(cc(v, SLICE, 5 * PG, 0), ZX_ERR_INVALID_ARGS);
  // The rounded size counts: 3 pages + 1 byte at page 1 needs 4 pages from page 1.
  cr_assert_eq(cc(v, SLICE, PG, 3 * PG + 1), ZX_ERR_INVALID_ARGS);
  // offset + size overflowing is INVALID_ARGS for a slice, not OUT_OF_RANGE.
  uint64_t top = UINT64_MAX & ~(PG - 1);
  cr_assert_eq(cc(v, SLICE, top, 2 * PG), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(cc(v, SLICE, 0xFFFF000000000000ull, MAX_VMO_SIZE), ZX_ERR_INVALID_ARGS);
  // Inside is fine, including the whole parent and a zero-size slice at the end.
  cr_assert_eq(cc(v, SLICE, 0, 4 * PG), ZX_OK);
  cr_assert_eq(cc(v, SLICE, 3 * PG, PG), ZX_OK);
  zx_handle_t z = mkchild(v, SLICE, 4 * PG, 0);
  cr_assert_eq(vmo_size(z), 0);
  cr_assert_eq(vmo_info(v).num_children, 1);
  close_h(z);
  // A slice of a slice must lie inside the first slice.
  zx_handle_t s = mkchild(v, SLICE, PG, 2 * PG);
  cr_assert_eq(cc(s, SLICE, PG, 2 * PG), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(cc(s, SLICE, 0, 2 * PG), ZX_OK);
  cr_assert_eq(cc(s, SLICE, 2 * PG, 0), ZX_OK);
  close_h(s);
  close_h(v);
  expect_clean();
}

Test(children, slice_of_resizable_parent_is_not_supported_after_containment) {
  zx_handle_t r = mkvmo_opts(4 * PG, ZX_VMO_RESIZABLE);
  cr_assert_eq(cc(r, SLICE, 0, PG), ZX_ERR_NOT_SUPPORTED);
  cr_assert_eq(cc(r, SLICE | NOWR, 0, 4 * PG), ZX_ERR_NOT_SUPPORTED);
  cr_assert_eq(cc(r, SLICE, 4 * PG, 0), ZX_ERR_NOT_SUPPORTED);
  // Containment first.
  cr_assert_eq(cc(r, SLICE, 0, 5 * PG), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(cc(r, SLICE, 8 * PG, 0), ZX_ERR_INVALID_ARGS);
  // Alignment first.
  cr_assert_eq(cc(r, SLICE, 1, PG), ZX_ERR_INVALID_ARGS);
  // A resizable snapshot child is a resizable parent too.
  zx_handle_t v = mkvmo(4 * PG);
  zx_handle_t c = mkchild(v, SNAP | RESZ, 0, 2 * PG);
  cr_assert_eq(cc(c, SLICE, 0, PG), ZX_ERR_NOT_SUPPORTED);
  zx_handle_t c2 = mkchild(v, SNAP, 0, 2 * PG);
  cr_assert_eq(cc(c2, SLICE, 0, PG), ZX_OK);
  cr_assert_eq(zx_vmo_create_child(r, SLICE, 0, PG, NULL), ZX_ERR_NOT_SUPPORTED);
  close_h(c2);
  close_h(c);
  close_h(v);
  close_h(r);
  expect_clean();
}

Test(children, slice_of_slice_windows_the_root) {
  zx_handle_t v = mkvmo_filled(8, 0x10);
  zx_handle_t s1 = mkchild(v, SLICE, 2 * PG, 4 * PG);
  zx_handle_t s2 = mkchild(s1, SLICE, PG, 2 * PG);
  cr_assert_eq(page_val(s2, 0), 0x13);
  cr_assert_eq(page_val(s2, 1), 0x14);
  fill_page(s2, 1, 0xA1);
  cr_assert_eq(page_val(v, 4), 0xA1);
  cr_assert_eq(page_val(s1, 2), 0xA1);
  fill_page(v, 3, 0xB2);
  cr_assert_eq(page_val(s2, 0), 0xB2);
  // The user-visible parent of s2 is s1.
  cr_assert_eq(vmo_info(s2).parent_koid, koid_of(s1));
  cr_assert_eq(vmo_info(s1).parent_koid, koid_of(v));
  cr_assert_eq(vmo_info(s1).num_children, 1);
  cr_assert_eq(vmo_info(v).num_children, 1);
  close_h(s2);
  close_h(s1);
  close_h(v);
  expect_clean();
}

// ---- 9. NULL out ----

static void null_out_leaks_nothing(zx_handle_t parent, uint32_t options, uint64_t off,
                                   uint64_t size) {
  zx_info_vmo_t before = vmo_info(parent);
  zxvmo_stats_t s0 = stats();
  bool zc = zero_children(parent);
  cr_assert_eq(zx_vmo_create_child(parent, options, off, size, NULL), ZX_ERR_INVALID_ARGS,
               "options %#x", options);
  zx_info_vmo_t after = vmo_info(parent);
  zxvmo_stats_t s1 = stats();
  cr_assert_eq(after.num_children, before.num_children, "options %#x", options);
  cr_assert_eq(zero_children(parent), zc, "options %#x", options);
  cr_assert_eq(s1.pages_in_use, s0.pages_in_use, "options %#x", options);
  cr_assert_eq(s1.vmos_alive, s0.vmos_alive, "options %#x", options);
  cr_assert_eq(s1.handles_alive, s0.handles_alive, "options %#x", options);
  cr_assert_eq(s1.tree_nodes, s0.tree_nodes, "options %#x", options);
  cr_assert_eq(after.committed_bytes, before.committed_bytes);
  cr_assert_eq(after.committed_private_bytes, before.committed_private_bytes);
}

Test(children, null_out_is_invalid_args_and_leaks_nothing) {
  zx_handle_t v = mkvmo_filled(4, 1);
  cr_assert(zero_children(v));
  null_out_leaks_nothing(v, SNAP, 0, 4 * PG);
  null_out_leaks_nothing(v, ALOW, PG, 2 * PG);
  null_out_leaks_nothing(v, SNAP | RESZ, 0, 8 * PG);
  null_out_leaks_nothing(v, SNAP | NOWR, 0, PG);
  null_out_leaks_nothing(v, SLICE, PG, PG);
  null_out_leaks_nothing(v, SLICE, 4 * PG, 0);
  cr_assert(zero_children(v));
  cr_assert_eq(vmo_info(v).num_children, 0);
  // Also with an existing child: nothing changes.
  zx_handle_t c = mkchild(v, SNAP, 0, 4 * PG);
  null_out_leaks_nothing(v, SNAP, 0, PG);
  null_out_leaks_nothing(c, SNAP, 0, PG);
  null_out_leaks_nothing(c, SLICE, 0, PG);
  cr_assert(zero_children(c));
  cr_assert_eq(vmo_info(v).num_children, 1);
  // Errors found earlier win over the NULL out.
  cr_assert_eq(zx_vmo_create_child(ZX_HANDLE_INVALID, SNAP, 0, PG, NULL), ZX_ERR_BAD_HANDLE);
  cr_assert_eq(zx_vmo_create_child(v, SNAP, 0, UINT64_MAX, NULL), ZX_ERR_OUT_OF_RANGE);
  cr_assert_eq(zx_vmo_create_child(v, SNAP, UINT64_MAX & ~(PG - 1), 2 * PG, NULL),
               ZX_ERR_OUT_OF_RANGE);
  zx_handle_t nr = dup_rights(v, ZX_RIGHT_DUPLICATE);
  cr_assert_eq(zx_vmo_create_child(nr, SNAP, 0, PG, NULL), ZX_ERR_ACCESS_DENIED);
  close_h(nr);
  close_h(c);
  close_h(v);
  expect_clean();
}

// ---- Rights (section 2) ----

static zx_rights_t child_rights_of(zx_handle_t parent, uint32_t options) {
  zx_handle_t c = mkchild(parent, options, 0, PG);
  zx_rights_t r = handle_rights(c);
  cr_assert_eq(vmo_info(c).handle_rights, r);
  close_h(c);
  return r;
}

Test(children, rights_minimal_parent) {
  zx_handle_t v = mkvmo(2 * PG);
  zx_handle_t p = dup_rights(v, ZX_RIGHT_READ | ZX_RIGHT_DUPLICATE);
  const zx_rights_t base = ZX_RIGHT_READ | ZX_RIGHT_DUPLICATE;
  const zx_rights_t props = ZX_RIGHT_GET_PROPERTY | ZX_RIGHT_SET_PROPERTY;
  cr_assert_eq(child_rights_of(p, SNAP), base | ZX_RIGHT_WRITE | props);
  cr_assert_eq(child_rights_of(p, ALOW), base | ZX_RIGHT_WRITE | props);
  cr_assert_eq(child_rights_of(p, ZX_VMO_CHILD_COPY_ON_WRITE), base | ZX_RIGHT_WRITE | props);
  cr_assert_eq(child_rights_of(p, SNAP | RESZ), base | ZX_RIGHT_WRITE | props | ZX_RIGHT_RESIZE);
  cr_assert_eq(child_rights_of(p, ALOW | RESZ), base | ZX_RIGHT_WRITE | props | ZX_RIGHT_RESIZE);
  cr_assert_eq(child_rights_of(p, SNAP | NOWR), base | props);
  cr_assert_eq(child_rights_of(p, ALOW | NOWR), base | props);
  // A slice gets no WRITE.
  cr_assert_eq(child_rights_of(p, SLICE), base | props);
  cr_assert_eq(child_rights_of(p, SLICE | NOWR), base | props);
  close_h(p);
  close_h(v);
}

Test(children, rights_full_parent) {
  zx_handle_t v = mkvmo(2 * PG);
  const zx_rights_t d = ZX_DEFAULT_VMO_RIGHTS;
  cr_assert_eq(handle_rights(v), d);
  cr_assert_eq(child_rights_of(v, SNAP), d);
  cr_assert_eq(child_rights_of(v, SNAP | RESZ), d | ZX_RIGHT_RESIZE);
  cr_assert_eq(child_rights_of(v, SNAP | NOWR), d & ~ZX_RIGHT_WRITE);
  cr_assert_eq(child_rights_of(v, SLICE), d);
  cr_assert_eq(child_rights_of(v, SLICE | NOWR), d & ~ZX_RIGHT_WRITE);
  close_h(v);
  // A resizable parent's RESIZE is not inherited by a non-resizable child.
  zx_handle_t r = mkvmo_opts(2 * PG, ZX_VMO_RESIZABLE);
  cr_assert_eq(handle_rights(r), d | ZX_RIGHT_RESIZE);
  cr_assert_eq(child_rights_of(r, SNAP), d);
  cr_assert_eq(child_rights_of(r, ALOW | NOWR), d & ~ZX_RIGHT_WRITE);
  cr_assert_eq(child_rights_of(r, SNAP | RESZ), d | ZX_RIGHT_RESIZE);
  close_h(r);
}

Test(children, rights_execute) {
  zx_handle_t v = mkvmo(2 * PG);
  const zx_rights_t props = ZX_RIGHT_GET_PROPERTY | ZX_RIGHT_SET_PROPERTY;
  zx_handle_t x = handle_with_rights(v, ZX_RIGHT_READ | ZX_RIGHT_DUPLICATE | ZX_RIGHT_EXECUTE);
  const zx_rights_t rx = ZX_RIGHT_READ | ZX_RIGHT_DUPLICATE | ZX_RIGHT_EXECUTE;
  // Snapshot types: WRITE added, EXECUTE removed.
  cr_assert_eq(child_rights_of(x, SNAP), ZX_RIGHT_READ | ZX_RIGHT_DUPLICATE | ZX_RIGHT_WRITE | props);
  cr_assert_eq(child_rights_of(x, ALOW), ZX_RIGHT_READ | ZX_RIGHT_DUPLICATE | ZX_RIGHT_WRITE | props);
  // NO_WRITE: WRITE removed, EXECUTE kept.
  cr_assert_eq(child_rights_of(x, SNAP | NOWR), rx | props);
  cr_assert_eq(child_rights_of(x, ALOW | NOWR), rx | props);
  // Slice: EXECUTE kept, nothing added but the properties.
  cr_assert_eq(child_rights_of(x, SLICE), rx | props);
  close_h(x);
  zx_handle_t wx = handle_with_rights(v, rx | ZX_RIGHT_WRITE);
  cr_assert_eq(child_rights_of(wx, SLICE | NOWR), rx | props);
  cr_assert_eq(child_rights_of(wx, SLICE), rx | ZX_RIGHT_WRITE | props);
  cr_assert_eq(child_rights_of(wx, SNAP | NOWR), rx | props);
  close_h(wx);
  close_h(v);
}

Test(children, no_write_child_cannot_be_written) {
  zx_handle_t v = mkvmo_filled(2, 7);
  zx_handle_t c = mkchild(v, SNAP | NOWR, 0, 2 * PG);
  uint8_t b = 1;
  cr_assert_eq(zx_vmo_write(c, &b, 0, 1), ZX_ERR_ACCESS_DENIED);
  cr_assert_eq(zx_vmo_set_size(c, PG), ZX_ERR_ACCESS_DENIED);
  cr_assert_eq(rd8(c, 0), 7);
  zx_handle_t s = mkchild(v, SLICE | NOWR, 0, 2 * PG);
  cr_assert_eq(zx_vmo_write(s, &b, 0, 1), ZX_ERR_ACCESS_DENIED);
  cr_assert_eq(rd8(s, PG), 8);
  close_h(s);
  close_h(c);
  close_h(v);
}

// ---- 10. name and content size ----

Test(children, name_inherited_only_with_get_property) {
  zx_handle_t v = mkvmo(2 * PG);
  const char name[] = "parent-name";
  cr_assert_eq(zx_object_set_property(v, ZX_PROP_NAME, name, sizeof(name)), ZX_OK);
  const uint32_t types[] = {SNAP, ALOW, SLICE};
  for (size_t t = 0; t < 3; t++) {
    zx_handle_t c = mkchild(v, types[t], 0, PG);
    char got[ZX_MAX_NAME_LEN];
    cr_assert_eq(zx_object_get_property(c, ZX_PROP_NAME, got, sizeof(got)), ZX_OK);
    cr_assert_str_eq(got, "parent-name", "type %#x", types[t]);
    cr_assert_str_eq(vmo_info(c).name, "parent-name");
    close_h(c);
    zx_handle_t p = dup_rights(v, ZX_RIGHT_READ | ZX_RIGHT_DUPLICATE);
    c = mkchild(p, types[t], 0, PG);
    memset(got, 'x', sizeof(got));
    cr_assert_eq(zx_object_get_property(c, ZX_PROP_NAME, got, sizeof(got)), ZX_OK);
    cr_assert_str_eq(got, "", "type %#x", types[t]);
    close_h(c);
    close_h(p);
  }
  // The child's name is its own afterwards.
  zx_handle_t c = mkchild(v, SNAP, 0, PG);
  cr_assert_eq(zx_object_set_property(c, ZX_PROP_NAME, "kid", 4), ZX_OK);
  cr_assert_str_eq(vmo_info(v).name, "parent-name");
  cr_assert_str_eq(vmo_info(c).name, "kid");
  close_h(c);
  close_h(v);
}

Test(children, content_size_is_unrounded_size) {
  zx_handle_t v = mkvmo(4 * PG);
  const uint64_t sizes[] = {0, 1, 100, PG - 1, PG, PG + 1, 3 * PG + 5};
  const uint32_t types[] = {SNAP, ALOW, SLICE, SNAP | RESZ};
  for (size_t t = 0; t < 4; t++) {
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
      zx_handle_t c = mkchild(v, types[t], 0, sizes[i]);
      cr_assert_eq(content_size(c), sizes[i], "type %#x size %llu", types[t],
                   (unsigned long long)sizes[i]);
      cr_assert_eq(vmo_size(c), (sizes[i] + PG - 1) & ~(PG - 1));
      cr_assert_eq(vmo_info(c).size_bytes, (sizes[i] + PG - 1) & ~(PG - 1));
      close_h(c);
    }
  }
  close_h(v);
}

// ---- Info flags, parent_koid, num_children ----

Test(children, info_flags) {
  zx_handle_t v = mkvmo(2 * PG);
  const uint32_t base = ZX_INFO_VMO_TYPE_PAGED | ZX_INFO_VMO_VIA_HANDLE;
  cr_assert_eq(vmo_info(v).flags, base);
  struct {
    uint32_t options;
    uint32_t flags;
  } cases[] = {
      {SNAP, base | ZX_INFO_VMO_IS_COW_CLONE},
      {ALOW, base | ZX_INFO_VMO_IS_COW_CLONE},
      {SNAP | NOWR, base | ZX_INFO_VMO_IS_COW_CLONE | ZX_INFO_VMO_IMMUTABLE},
      {ALOW | NOWR, base | ZX_INFO_VMO_IS_COW_CLONE},
      {SNAP | RESZ, base | ZX_INFO_VMO_IS_COW_CLONE | ZX_INFO_VMO_RESIZABLE},
      {ALOW | RESZ, base | ZX_INFO_VMO_IS_COW_CLONE | ZX_INFO_VMO_RESIZABLE},
      {SLICE, base},
      {SLICE | NOWR, base},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    zx_handle_t c = mkchild(v, cases[i].options, 0, PG);
    cr_assert_eq(vmo_info(c).flags, cases[i].flags, "options %#x: flags %#x, want %#x",
                 cases[i].options, vmo_info(c).flags, cases[i].flags);
    close_h(c);
  }
  zx_handle_t r = mkvmo_opts(PG, ZX_VMO_RESIZABLE);
  cr_assert_eq(vmo_info(r).flags, base | ZX_INFO_VMO_RESIZABLE);
  zx_handle_t c = mkchild(r, SNAP, 0, PG);
  cr_assert_eq(vmo_info(c).flags, base | ZX_INFO_VMO_IS_COW_CLONE);
  close_h(c);
  close_h(r);
  close_h(v);
}

Test(children, parent_koid_and_num_children) {
  zx_handle_t v = mkvmo(2 * PG);
  zx_koid_t vk = koid_of(v);
  cr_assert_eq(vmo_info(v).parent_koid, 0);
  cr_assert_eq(vmo_info(v).num_children, 0);
  zx_handle_t a = mkchild(v, SNAP, 0, PG);
  zx_handle_t b = mkchild(v, SLICE, 0, PG);
  zx_handle_t c = mkclone(v, CLONE_COW, 0, PG);
  zx_handle_t d = mkchild(v, ALOW, PG, PG);
  cr_assert_eq(vmo_info(v).num_children, 4);
  cr_assert_eq(vmo_info(a).parent_koid, vk);
  cr_assert_eq(vmo_info(b).parent_koid, vk);
  cr_assert_eq(vmo_info(c).parent_koid, vk);
  cr_assert_eq(vmo_info(d).parent_koid, vk);
  zx_handle_t aa = mkchild(a, SNAP, 0, PG);
  cr_assert_eq(vmo_info(aa).parent_koid, koid_of(a));
  cr_assert_eq(vmo_info(a).num_children, 1);
  cr_assert_eq(vmo_info(v).num_children, 4);
  cr_assert_neq(koid_of(a), koid_of(aa));
  // A duplicate handle is not a child.
  zx_handle_t dd = dup_rights(v, ZX_RIGHT_SAME_RIGHTS);
  cr_assert_eq(vmo_info(v).num_children, 4);
  close_h(dd);
  close_h(b);
  cr_assert_eq(vmo_info(v).num_children, 3);
  close_h(c);
  close_h(d);
  cr_assert_eq(vmo_info(v).num_children, 1);
  close_h(aa);
  cr_assert_eq(vmo_info(a).num_children, 0);
  close_h(a);
  cr_assert_eq(vmo_info(v).num_children, 0);
  close_h(v);
  expect_clean();
}

// ---- ZX_VMO_ZERO_CHILDREN ----

Test(children, zero_children_cleared_on_create_and_set_on_last_close) {
  const uint32_t types[] = {SNAP, ALOW, SLICE, SNAP | NOWR};
  for (size_t t = 0; t < 4; t++) {
    zx_handle_t v = mkvmo(2 * PG);
    cr_assert(zero_children(v));
    zx_handle_t c1 = mkchild(v, types[t], 0, PG);
    // Synchronously, without waiting.
    cr_assert_not(zero_children(v), "type %#x", types[t]);
    cr_assert(zero_children(c1));
    zx_handle_t c2 = mkchild(v, types[t], 0, PG);
    close_h(c1);
    cr_assert_not(zero_children(v), "type %#x", types[t]);
    // Duplicating and closing a duplicate of the child keeps it alive.
    zx_handle_t c2d = dup_rights(c2, ZX_RIGHT_SAME_RIGHTS);
    close_h(c2);
    cr_assert_not(zero_children(v), "type %#x", types[t]);
    close_h(c2d);
    cr_assert(zero_children(v), "type %#x", types[t]);
    close_h(v);
  }
  // Legacy clone too.
  zx_handle_t v = mkvmo(2 * PG);
  zx_handle_t c = mkclone(v, CLONE_COW, 0, PG);
  cr_assert_not(zero_children(v));
  close_h(c);
  cr_assert(zero_children(v));
  close_h(v);
  expect_clean();
}

Test(children, zero_children_wakes_waiter_with_deadline) {
  zx_handle_t v = mkvmo(PG);
  zx_handle_t c = mkchild(v, SNAP, 0, PG);
  zx_signals_t seen = 0;
  cr_assert_eq(zx_object_wait_one(v, ZX_VMO_ZERO_CHILDREN, zx_deadline_after(1000000), &seen),
               ZX_ERR_TIMED_OUT);
  cr_assert_eq(seen & ZX_VMO_ZERO_CHILDREN, 0);
  close_h(c);
  cr_assert_eq(zx_object_wait_one(v, ZX_VMO_ZERO_CHILDREN, zx_deadline_after(1000000), &seen),
               ZX_OK);
  cr_assert(seen & ZX_VMO_ZERO_CHILDREN);
  close_h(v);
}

// ---- Re-homing ----

Test(children, closing_middle_rehomes_children_to_grandparent) {
  const uint32_t types[] = {SNAP, ALOW, SLICE};
  for (size_t t = 0; t < 3; t++) {
    zx_handle_t g = mkvmo(4 * PG);
    zx_handle_t p = mkchild(g, SNAP, 0, 4 * PG);
    zx_handle_t c1 = mkchild(p, types[t], 0, PG);
    zx_handle_t c2 = mkchild(p, types[t], PG, PG);
    zx_handle_t other = mkchild(g, SLICE, 0, PG);
    cr_assert_eq(vmo_info(g).num_children, 2);
    close_h(p);
    // The grandchildren now belong to g.
    cr_assert_eq(vmo_info(g).num_children, 3, "type %#x: %zu", types[t], vmo_info(g).num_children);
    cr_assert_eq(vmo_info(c1).parent_koid, koid_of(g), "type %#x", types[t]);
    cr_assert_eq(vmo_info(c2).parent_koid, koid_of(g));
    cr_assert_not(zero_children(g));
    close_h(other);
    close_h(c1);
    cr_assert_not(zero_children(g), "type %#x", types[t]);
    cr_assert_eq(vmo_info(g).num_children, 1);
    close_h(c2);
    cr_assert(zero_children(g), "type %#x", types[t]);
    cr_assert_eq(vmo_info(g).num_children, 0);
    close_h(g);
    expect_clean();
  }
}

Test(children, closing_root_leaves_orphans_with_parent_koid_zero) {
  zx_handle_t g = mkvmo_filled(2, 3);
  zx_handle_t p = mkchild(g, SNAP, 0, 2 * PG);
  zx_handle_t c = mkchild(p, SNAP, 0, 2 * PG);
  zx_handle_t cl = mkclone(p, CLONE_COW, 0, 2 * PG);
  close_h(g);
  cr_assert_eq(vmo_info(p).parent_koid, 0);
  cr_assert_eq(vmo_info(p).num_children, 2);
  // IS_COW_CLONE is set only while the child has a parent.
  cr_assert_eq(vmo_info(p).flags & ZX_INFO_VMO_IS_COW_CLONE, 0);
  close_h(p);
  cr_assert_eq(vmo_info(c).parent_koid, 0);
  cr_assert_eq(vmo_info(cl).parent_koid, 0);
  cr_assert_eq(vmo_info(c).flags & ZX_INFO_VMO_IS_COW_CLONE, 0);
  cr_assert_eq(page_val(c, 1), 4);
  cr_assert_eq(page_val(cl, 0), 3);
  close_h(cl);
  close_h(c);
  expect_clean();
}

Test(children, rehoming_down_a_chain) {
  // v <- a <- b <- c: close a then b; c ends as v's child.
  zx_handle_t v = mkvmo_filled(2, 0x40);
  zx_handle_t a = mkchild(v, SNAP, 0, 2 * PG);
  zx_handle_t b = mkchild(a, SNAP, 0, 2 * PG);
  zx_handle_t c = mkchild(b, SNAP, 0, 2 * PG);
  close_h(b);
  cr_assert_eq(vmo_info(c).parent_koid, koid_of(a));
  cr_assert_eq(vmo_info(a).num_children, 1);
  close_h(a);
  cr_assert_eq(vmo_info(c).parent_koid, koid_of(v));
  cr_assert_eq(vmo_info(v).num_children, 1);
  cr_assert_not(zero_children(v));
  cr_assert_eq(page_val(c, 0), 0x40);
  close_h(c);
  cr_assert(zero_children(v));
  close_h(v);
  expect_clean();
}
