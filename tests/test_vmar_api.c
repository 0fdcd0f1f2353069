// SPDX-License-Identifier: BSD-3-Clause
// The VMAR layer's API (docs/behavior.md §12): every zx_vmar_* call, flag and error in
// Zircon's order, placement, splits, sub-VMAR destruction, the info topics, rights and
// handles, and allocation failure. Nothing here looks at what mapped memory contains
// (the mapping core's tests do): the tree is observed through ZX_INFO_VMAR_MAPS.
//
// Each test works in its own sub-VMAR of the root (an "arena"), so that what the
// library or an earlier step placed elsewhere cannot change the expected picture.
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <zircon/process.h>
#include <zircon/syscalls.h>

#include "helpers.h"
#include "os.h"
#include "vmar.h"

#define RWX_CAN (ZX_VM_CAN_MAP_READ | ZX_VM_CAN_MAP_WRITE | ZX_VM_CAN_MAP_EXECUTE)
#define ALL_CAN (RWX_CAN | ZX_VM_CAN_MAP_SPECIFIC)
#define R ZX_VM_PERM_READ
#define RW (ZX_VM_PERM_READ | ZX_VM_PERM_WRITE)
#define ROOT_RIGHTS (ZX_DEFAULT_VMAR_RIGHTS | ZX_RIGHT_READ | ZX_RIGHT_WRITE | ZX_RIGHT_EXECUTE)
#define MAXE 64
// A VMAR handle's rights without OP_CHILDREN.
#define NO_OP_CHILDREN \
  ((ZX_DEFAULT_VMAR_RIGHTS & ~ZX_RIGHT_OP_CHILDREN) | ZX_RIGHT_READ | ZX_RIGHT_WRITE)

// ---- helpers ---------------------------------------------------------------------

typedef struct {
  zx_handle_t h;
  uintptr_t base;
  uint64_t len;
} region_t;

static region_t sub_of(zx_handle_t parent, zx_vm_option_t options, uint64_t off,
                       uint64_t size) {
  region_t r = {ZX_HANDLE_INVALID, 0, size};
  zx_status_t st = zx_vmar_allocate(parent, options, off, size, &r.h, &r.base);
  cr_assert_eq(st, ZX_OK, "allocate: %d", st);
  return r;
}

// A fresh sub-VMAR of the root with every CAN_MAP_*, `pages` pages long.
static region_t arena(uint64_t pages) {
  return sub_of(zx_vmar_root_self(), ALL_CAN, 0, pages * PG);
}

static uintptr_t map_ok(zx_handle_t vmar, zx_vm_option_t options, uint64_t off, zx_handle_t vmo,
                        uint64_t vmo_off, uint64_t len) {
  uintptr_t addr = 0;
  zx_status_t st = zx_vmar_map(vmar, options, off, vmo, vmo_off, len, &addr);
  cr_assert_eq(st, ZX_OK, "map: %d", st);
  return addr;
}

static zx_status_t map_st(zx_handle_t vmar, zx_vm_option_t options, uint64_t off,
                          zx_handle_t vmo, uint64_t vmo_off, uint64_t len) {
  uintptr_t addr = 0;
  return zx_vmar_map(vmar, options, off, vmo, vmo_off, len, &addr);
}

// ZX_INFO_VMAR_MAPS of `vmar` into `e` (at most MAXE entries); returns the count.
static size_t maps_of(zx_handle_t vmar, zx_info_maps_t* e) {
  size_t actual = 0, avail = 0;
  memset(e, 0, MAXE * sizeof(*e));
  cr_assert_eq(zx_object_get_info(vmar, ZX_INFO_VMAR_MAPS, e, MAXE * sizeof(*e), &actual, &avail),
               ZX_OK);
  cr_assert_eq(actual, avail);
  return actual;
}

static zx_info_vmar_t vmar_info(zx_handle_t vmar) {
  zx_info_vmar_t i;
  cr_assert_eq(zx_object_get_info(vmar, ZX_INFO_VMAR, &i, sizeof(i), NULL, NULL), ZX_OK);
  return i;
}

static zx_koid_t koid_of(zx_handle_t h) {
  zx_info_handle_basic_t b;
  cr_assert_eq(zx_object_get_info(h, ZX_INFO_HANDLE_BASIC, &b, sizeof(b), NULL, NULL), ZX_OK);
  return b.koid;
}

static zx_handle_t dup_h(zx_handle_t h, zx_rights_t rights) {
  zx_handle_t d;
  cr_assert_eq(zx_handle_duplicate(h, rights, &d), ZX_OK);
  return d;
}

// Expects entry `e` to be a mapping of [base, base+len) of `vmo` at `vmo_off`.
static void expect_mapping(const zx_info_maps_t* e, uintptr_t base, uint64_t len,
                           zx_handle_t vmo, uint64_t vmo_off, uint32_t perms, size_t depth) {
  cr_assert_eq(e->type, ZX_INFO_MAPS_TYPE_MAPPING);
  cr_assert_eq(e->base, base, "base %#lx, expected %#lx", (unsigned long)e->base,
               (unsigned long)base);
  cr_assert_eq(e->size, len, "size %#lx, expected %#lx", (unsigned long)e->size,
               (unsigned long)len);
  cr_assert_eq(e->u.mapping.vmo_koid, koid_of(vmo));
  cr_assert_eq(e->u.mapping.vmo_offset, vmo_off);
  cr_assert_eq(e->u.mapping.mmu_flags, perms);
  cr_assert_eq(e->depth, depth);
}

// ---- constants ------------------------------------------------------------------

Test(vmar_api, constants_have_zircon_values) {
  cr_assert_eq(ZX_VM_PERM_READ, 1u << 0);
  cr_assert_eq(ZX_VM_PERM_WRITE, 1u << 1);
  cr_assert_eq(ZX_VM_PERM_EXECUTE, 1u << 2);
  cr_assert_eq(ZX_VM_COMPACT, 1u << 3);
  cr_assert_eq(ZX_VM_SPECIFIC, 1u << 4);
  cr_assert_eq(ZX_VM_SPECIFIC_OVERWRITE, 1u << 5);
  cr_assert_eq(ZX_VM_CAN_MAP_SPECIFIC, 1u << 6);
  cr_assert_eq(ZX_VM_CAN_MAP_READ, 1u << 7);
  cr_assert_eq(ZX_VM_CAN_MAP_WRITE, 1u << 8);
  cr_assert_eq(ZX_VM_CAN_MAP_EXECUTE, 1u << 9);
  cr_assert_eq(ZX_VM_MAP_RANGE, 1u << 10);
  cr_assert_eq(ZX_VM_REQUIRE_NON_RESIZABLE, 1u << 11);
  cr_assert_eq(ZX_VM_ALLOW_FAULTS, 1u << 12);
  cr_assert_eq(ZX_VM_OFFSET_IS_UPPER_LIMIT, 1u << 13);
  cr_assert_eq(ZX_VM_PERM_READ_IF_XOM_UNSUPPORTED, 1u << 14);
  cr_assert_eq(ZX_VM_FAULT_BEYOND_STREAM_SIZE, 1u << 15);
  cr_assert_eq(ZX_VM_ALIGN_BASE, 24);
  cr_assert_eq(ZX_VM_ALIGN_1KB, 10u << 24);
  cr_assert_eq(ZX_VM_ALIGN_4KB, 12u << 24);
  cr_assert_eq(ZX_VM_ALIGN_1MB, 20u << 24);
  cr_assert_eq(ZX_VM_ALIGN_4GB, 32u << 24);
  cr_assert_eq(ZX_VMAR_OP_COMMIT, 1u);
  cr_assert_eq(ZX_VMAR_OP_DECOMMIT, 2u);
  cr_assert_eq(ZX_VMAR_OP_MAP_RANGE, 3u);
  cr_assert_eq(ZX_VMAR_OP_ZERO, 10u);
  cr_assert_eq(ZX_VMAR_OP_DONT_NEED, 12u);
  cr_assert_eq(ZX_VMAR_OP_ALWAYS_NEED, 13u);
  cr_assert_eq(ZX_VMAR_OP_PREFETCH, 14u);
  cr_assert_eq(ZX_DEFAULT_VMAR_RIGHTS, 0x208003u);
  cr_assert_eq(ZX_INFO_VMAR, 7u);
  cr_assert_eq(ZX_INFO_VMAR_MAPS, 36u);
  cr_assert_eq(ZX_INFO_PROCESS_MAPS, 13u | (2u << 28));
  cr_assert_eq(sizeof(zx_info_maps_t), 152);
}

// ---- root VMAR and process ------------------------------------------------------

Test(vmar_api, root_self_is_one_vmar_handle_with_default_rights) {
  zx_handle_t r = zx_vmar_root_self();
  cr_assert_neq(r, ZX_HANDLE_INVALID);
  cr_assert_eq(zx_vmar_root_self(), r);
  zx_info_handle_basic_t b;
  cr_assert_eq(zx_object_get_info(r, ZX_INFO_HANDLE_BASIC, &b, sizeof(b), NULL, NULL), ZX_OK);
  cr_assert_eq(b.type, ZX_OBJ_TYPE_VMAR);
  cr_assert_eq(b.rights, ROOT_RIGHTS);
  cr_assert_neq(b.koid, ZX_KOID_INVALID);
  zx_info_vmar_t i = vmar_info(r);
  cr_assert_eq(i.base % PG, 0);
  cr_assert_eq(i.len % PG, 0);
  cr_assert_geq(i.len, (uint64_t)1 << 29, "about 1 GiB at least");
}

Test(vmar_api, root_never_overlaps_the_programs_own_mmap) {
  zx_info_vmar_t i = vmar_info(zx_vmar_root_self());
  for (int k = 0; k < 16; k++) {
    uint8_t* p = mmap(NULL, 64 * PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    cr_assert_neq(p, MAP_FAILED);
    uintptr_t a = (uintptr_t)p;
    cr_assert(a + 64 * PG <= i.base || a >= i.base + i.len, "mmap landed in the root VMAR");
    munmap(p, 64 * PG);
  }
}

Test(vmar_api, root_cannot_be_destroyed) {
  zx_handle_t r = zx_vmar_root_self();
  cr_assert_eq(zx_vmar_destroy(r), ZX_ERR_NOT_SUPPORTED);
  region_t a = arena(4);  // still usable
  cr_assert_neq(a.base, 0);
  cr_assert_eq(zx_vmar_destroy(r), ZX_ERR_NOT_SUPPORTED);
}

Test(vmar_api, root_has_every_can_map) {
  // A child's CAN_MAP_* may not exceed its parent's: all of them succeed on the root.
  zx_handle_t r = zx_vmar_root_self();
  region_t a = sub_of(r, ALL_CAN | ZX_VM_SPECIFIC, 16 * PG, 4 * PG);
  cr_assert_eq(a.base, vmar_info(r).base + 16 * PG);
  cr_assert_eq(handle_rights(a.h), ROOT_RIGHTS);
}

Test(vmar_api, process_self_and_job_default) {
  zx_handle_t p = zx_process_self();
  cr_assert_neq(p, ZX_HANDLE_INVALID);
  cr_assert_eq(zx_process_self(), p);
  zx_info_handle_basic_t b;
  cr_assert_eq(zx_object_get_info(p, ZX_INFO_HANDLE_BASIC, &b, sizeof(b), NULL, NULL), ZX_OK);
  cr_assert_eq(b.type, ZX_OBJ_TYPE_PROCESS);
  cr_assert_eq(b.rights, ZX_DEFAULT_PROCESS_RIGHTS);
  cr_assert_neq(b.koid, koid_of(zx_vmar_root_self()));
  cr_assert_eq(zx_job_default(), ZX_HANDLE_INVALID);
}

Test(vmar_api, vmar_handles_duplicate_and_close) {
  region_t a = arena(8);
  zx_handle_t d = dup_h(a.h, ZX_RIGHT_SAME_RIGHTS);
  cr_assert_eq(koid_of(d), koid_of(a.h));
  cr_assert_eq(handle_rights(d), handle_rights(a.h));
  zx_handle_t vmo = mkvmo(PG);
  uintptr_t at = map_ok(d, R, 0, vmo, 0, PG);
  cr_assert_eq(at, a.base);
  // A duplicate without WRITE cannot map writable.
  zx_handle_t ro = dup_h(a.h, ZX_DEFAULT_VMAR_RIGHTS | ZX_RIGHT_READ);
  cr_assert_eq(map_st(ro, RW, 0, vmo, 0, PG), ZX_ERR_ACCESS_DENIED);
  cr_assert_eq(zx_handle_close(d), ZX_OK);
  cr_assert_eq(zx_handle_close(ro), ZX_OK);
  // Closing every handle of a VMAR leaves it (and its mappings) in place.
  zx_handle_t keep = dup_h(a.h, ZX_RIGHT_SAME_RIGHTS);
  cr_assert_eq(zx_handle_close(a.h), ZX_OK);
  zx_info_maps_t e[MAXE];
  cr_assert_eq(maps_of(keep, e), 2);
  cr_assert_eq(zx_handle_close(keep), ZX_OK);
  zx_info_maps_t r[MAXE];
  size_t n = maps_of(zx_vmar_root_self(), r);
  bool found = false;
  for (size_t i = 0; i + 1 < n; i++) {
    if (r[i].depth == 1 && r[i].base == a.base) {
      found = true;
      cr_assert_eq(r[i + 1].type, ZX_INFO_MAPS_TYPE_MAPPING);
      cr_assert_eq(r[i + 1].base, a.base);
    }
  }
  cr_assert(found, "a VMAR whose handles are closed stays in the tree");
  zx_handle_close(vmo);
}

// ---- zx_vmar_map: errors in sys_vmar_map's order --------------------------------

Test(vmar_api, map_handle_errors_come_first) {
  region_t a = arena(4);
  zx_handle_t vmo = mkvmo(PG);
  zx_handle_t ev;
  cr_assert_eq(zx_event_create(0, &ev), ZX_OK);
  // The VMAR handle is looked up before anything else, the VMO handle next.
  cr_assert_eq(map_st(ZX_HANDLE_INVALID, RW, 0, ZX_HANDLE_INVALID, 1, 0), ZX_ERR_BAD_HANDLE);
  cr_assert_eq(map_st(vmo, RW, 0, vmo, 0, PG), ZX_ERR_WRONG_TYPE);
  cr_assert_eq(map_st(a.h, RW, 0, ZX_HANDLE_INVALID, 0, PG), ZX_ERR_BAD_HANDLE);
  cr_assert_eq(map_st(a.h, RW, 0, ev, 0, PG), ZX_ERR_WRONG_TYPE);
  cr_assert_eq(map_st(a.h, RW, 0, a.h, 0, PG), ZX_ERR_WRONG_TYPE);
  // MAP right, even before the protection is looked at.
  zx_handle_t nomap = dup_h(vmo, ZX_DEFAULT_VMO_RIGHTS & ~ZX_RIGHT_MAP);
  cr_assert_eq(map_st(a.h, ZX_VM_PERM_WRITE, 0, nomap, 0, PG), ZX_ERR_ACCESS_DENIED);
  cr_assert_eq(map_st(a.h, R, 0, nomap, 0, PG), ZX_ERR_ACCESS_DENIED);
  zx_handle_close(nomap);
  zx_handle_close(ev);
  zx_handle_close(vmo);
}

Test(vmar_api, map_protection_without_read_is_invalid_before_rights) {
  region_t a = arena(4);
  zx_handle_t vmo = mkvmo(PG);
  zx_handle_t ro = dup_h(vmo, ZX_DEFAULT_VMO_RIGHTS & ~ZX_RIGHT_WRITE);
  cr_assert_eq(map_st(a.h, ZX_VM_PERM_WRITE, 0, vmo, 0, PG), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(map_st(a.h, ZX_VM_PERM_EXECUTE, 0, vmo, 0, PG), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(map_st(a.h, ZX_VM_PERM_WRITE | ZX_VM_PERM_EXECUTE, 0, vmo, 0, PG),
               ZX_ERR_INVALID_ARGS);
  // Checked before the rights: a read-only VMO handle still gets INVALID_ARGS.
  cr_assert_eq(map_st(a.h, ZX_VM_PERM_WRITE, 0, ro, 0, PG), ZX_ERR_INVALID_ARGS);
  // No permission at all is a valid (inaccessible) mapping.
  uintptr_t at = map_ok(a.h, 0, 0, vmo, 0, PG);
  zx_info_maps_t e[MAXE];
  cr_assert_eq(maps_of(a.h, e), 2);
  expect_mapping(&e[1], at, PG, vmo, 0, 0, 1);
  zx_handle_close(ro);
  zx_handle_close(vmo);
}

Test(vmar_api, map_range_with_overwrite_and_can_map_flags_are_invalid) {
  region_t a = arena(4);
  zx_handle_t vmo = mkvmo(PG);
  cr_assert_eq(map_st(a.h, R | ZX_VM_MAP_RANGE | ZX_VM_SPECIFIC_OVERWRITE, 0, vmo, 0, PG),
               ZX_ERR_INVALID_ARGS);
  cr_assert_eq(map_st(a.h, R | ZX_VM_CAN_MAP_READ, 0, vmo, 0, PG), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(map_st(a.h, R | ZX_VM_CAN_MAP_WRITE, 0, vmo, 0, PG), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(map_st(a.h, R | ZX_VM_CAN_MAP_EXECUTE, 0, vmo, 0, PG), ZX_ERR_INVALID_ARGS);
  // MAP_RANGE alone is fine.
  map_ok(a.h, R | ZX_VM_MAP_RANGE, 0, vmo, 0, PG);
  zx_handle_close(vmo);
}

Test(vmar_api, map_perms_need_vmar_and_vmo_rights) {
  region_t a = arena(8);
  zx_handle_t vmo = mkvmo(PG);
  zx_handle_t ro = dup_h(vmo, ZX_DEFAULT_VMO_RIGHTS & ~ZX_RIGHT_WRITE);
  zx_handle_t noread = dup_h(vmo, ZX_DEFAULT_VMO_RIGHTS & ~ZX_RIGHT_READ);
  cr_assert_eq(map_st(a.h, RW, 0, ro, 0, PG), ZX_ERR_ACCESS_DENIED);
  cr_assert_eq(map_st(a.h, R, 0, noread, 0, PG), ZX_ERR_ACCESS_DENIED);
  // VMO handles have no EXECUTE by default.
  cr_assert_eq(map_st(a.h, R | ZX_VM_PERM_EXECUTE, 0, vmo, 0, PG), ZX_ERR_ACCESS_DENIED);
  // The VMAR handle's rights.
  zx_handle_t vr = dup_h(a.h, ZX_DEFAULT_VMAR_RIGHTS | ZX_RIGHT_READ);
  cr_assert_eq(map_st(vr, RW, 0, vmo, 0, PG), ZX_ERR_ACCESS_DENIED);
  map_ok(vr, R, 0, vmo, 0, PG);
  // The VMAR's CAN_MAP_*: a sub-VMAR without CAN_MAP_WRITE has a handle without WRITE.
  region_t s = sub_of(a.h, ZX_VM_CAN_MAP_READ, 0, 2 * PG);
  cr_assert_eq(handle_rights(s.h), ZX_DEFAULT_VMAR_RIGHTS | ZX_RIGHT_READ);
  cr_assert_eq(map_st(s.h, RW, 0, vmo, 0, PG), ZX_ERR_ACCESS_DENIED);
  map_ok(s.h, R, 0, vmo, 0, PG);
  map_ok(a.h, RW, 0, vmo, 0, PG);
  zx_handle_close(vr);
  zx_handle_close(ro);
  zx_handle_close(noread);
  zx_handle_close(vmo);
}

Test(vmar_api, map_unknown_options_and_alignments_are_invalid) {
  region_t a = arena(4);
  zx_handle_t vmo = mkvmo(PG);
  cr_assert_eq(map_st(a.h, R | (1u << 16), 0, vmo, 0, PG), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(map_st(a.h, R | (1u << 23), 0, vmo, 0, PG), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(map_st(a.h, R | (9u << ZX_VM_ALIGN_BASE), 0, vmo, 0, PG), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(map_st(a.h, R | (1u << ZX_VM_ALIGN_BASE), 0, vmo, 0, PG), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(map_st(a.h, R | (33u << ZX_VM_ALIGN_BASE), 0, vmo, 0, PG), ZX_ERR_INVALID_ARGS);
  // VMAR-only flags are refused on a mapping.
  cr_assert_eq(map_st(a.h, R | ZX_VM_COMPACT, 0, vmo, 0, PG), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(map_st(a.h, R | ZX_VM_CAN_MAP_SPECIFIC, 0, vmo, 0, PG), ZX_ERR_INVALID_ARGS);
  // FAULT_BEYOND_STREAM_SIZE needs ALLOW_FAULTS.
  cr_assert_eq(map_st(a.h, R | ZX_VM_FAULT_BEYOND_STREAM_SIZE, 0, vmo, 0, PG),
               ZX_ERR_INVALID_ARGS);
  // With it, zxvmo refuses the flag (no stream sizes), but only once the rest is valid.
  zx_vm_option_t fb = R | ZX_VM_FAULT_BEYOND_STREAM_SIZE | ZX_VM_ALLOW_FAULTS;
  cr_assert_eq(map_st(a.h, fb | (1u << 16), 0, vmo, 0, PG), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(map_st(a.h, fb | ZX_VM_COMPACT, 0, vmo, 0, PG), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(map_st(a.h, fb, 0, vmo, 0, PG), ZX_ERR_NOT_SUPPORTED);
  zx_info_maps_t e[MAXE];
  cr_assert_eq(maps_of(a.h, e), 1, "nothing was mapped");
  zx_handle_close(vmo);
}

Test(vmar_api, map_require_non_resizable) {
  region_t a = arena(4);
  zx_handle_t rs;
  cr_assert_eq(zx_vmo_create(PG, ZX_VMO_RESIZABLE, &rs), ZX_OK);
  zx_handle_t fixed = mkvmo(PG);
  cr_assert_eq(map_st(a.h, R | ZX_VM_REQUIRE_NON_RESIZABLE, 0, rs, 0, PG), ZX_ERR_NOT_SUPPORTED);
  map_ok(a.h, R | ZX_VM_REQUIRE_NON_RESIZABLE, 0, fixed, 0, PG);
  // Without the flag a resizable VMO maps, with or without ALLOW_FAULTS.
  map_ok(a.h, R, 0, rs, 0, PG);
  map_ok(a.h, R | ZX_VM_ALLOW_FAULTS, 0, rs, 0, PG);
  zx_handle_close(rs);
  zx_handle_close(fixed);
}

Test(vmar_api, map_vmo_offset_then_overflow) {
  region_t a = arena(4);
  zx_handle_t vmo = mkvmo(PG);
  cr_assert_eq(map_st(a.h, R, 0, vmo, 1, PG), ZX_ERR_INVALID_ARGS);
  // Alignment before overflow.
  cr_assert_eq(map_st(a.h, R, 0, vmo, UINT64_MAX, PG), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(map_st(a.h, R, 0, vmo, 0, UINT64_MAX), ZX_ERR_OUT_OF_RANGE);
  cr_assert_eq(map_st(a.h, R, 0, vmo, UINT64_MAX - PG + 1, 2 * PG), ZX_ERR_OUT_OF_RANGE);
  // A mapping may extend past the VMO's end (accesses there fault).
  uintptr_t at = map_ok(a.h, R, 0, vmo, 8 * PG, 2 * PG);
  zx_info_maps_t e[MAXE];
  cr_assert_eq(maps_of(a.h, e), 2);
  expect_mapping(&e[1], at, 2 * PG, vmo, 8 * PG, R, 1);
  zx_handle_close(vmo);
}

Test(vmar_api, map_state_before_length_and_offsets) {
  region_t a = arena(4);
  zx_handle_t vmo = mkvmo(PG);
  zx_handle_t keep = dup_h(a.h, ZX_RIGHT_SAME_RIGHTS);
  cr_assert_eq(zx_vmar_destroy(a.h), ZX_OK);
  cr_assert_eq(map_st(keep, R, 0, vmo, 0, PG), ZX_ERR_BAD_STATE);
  cr_assert_eq(map_st(keep, R, 0, vmo, 0, 0), ZX_ERR_BAD_STATE);
  cr_assert_eq(map_st(keep, R, PG, vmo, 0, PG), ZX_ERR_BAD_STATE);
  region_t b = arena(4);
  cr_assert_eq(map_st(b.h, R, 0, vmo, 0, 0), ZX_ERR_INVALID_ARGS);
  zx_handle_close(keep);
  zx_handle_close(vmo);
}

Test(vmar_api, map_offset_rules) {
  region_t a = arena(8);
  zx_handle_t vmo = mkvmo(PG);
  // An offset needs SPECIFIC, SPECIFIC_OVERWRITE or OFFSET_IS_UPPER_LIMIT.
  cr_assert_eq(map_st(a.h, R, PG, vmo, 0, PG), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(map_st(a.h, R | ZX_VM_SPECIFIC | ZX_VM_OFFSET_IS_UPPER_LIMIT, PG, vmo, 0, PG),
               ZX_ERR_INVALID_ARGS);
  cr_assert_eq(map_st(a.h, R | ZX_VM_SPECIFIC_OVERWRITE | ZX_VM_OFFSET_IS_UPPER_LIMIT, 2 * PG,
                      vmo, 0, PG),
               ZX_ERR_INVALID_ARGS);
  cr_assert_eq(map_st(a.h, R | ZX_VM_SPECIFIC, PG + 1, vmo, 0, PG), ZX_ERR_INVALID_ARGS);
  // Past the VMAR.
  cr_assert_eq(map_st(a.h, R | ZX_VM_SPECIFIC, 8 * PG, vmo, 0, PG), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(map_st(a.h, R | ZX_VM_SPECIFIC, 7 * PG, vmo, 0, 2 * PG), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(map_st(a.h, R, 0, vmo, 0, 9 * PG), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(map_st(a.h, R | ZX_VM_SPECIFIC, UINT64_MAX & ~(PG - 1), vmo, 0, PG),
               ZX_ERR_INVALID_ARGS);
  uintptr_t at = map_ok(a.h, R | ZX_VM_SPECIFIC, 7 * PG, vmo, 0, PG);
  cr_assert_eq(at, a.base + 7 * PG);
  zx_handle_close(vmo);
}

Test(vmar_api, map_specific_needs_can_map_specific) {
  region_t a = arena(8);
  zx_handle_t vmo = mkvmo(PG);
  region_t s = sub_of(a.h, RWX_CAN, 0, 4 * PG);
  cr_assert_eq(map_st(s.h, R | ZX_VM_SPECIFIC, PG, vmo, 0, PG), ZX_ERR_ACCESS_DENIED);
  cr_assert_eq(map_st(s.h, R | ZX_VM_SPECIFIC_OVERWRITE, PG, vmo, 0, PG), ZX_ERR_ACCESS_DENIED);
  cr_assert_eq(map_st(s.h, R | ZX_VM_OFFSET_IS_UPPER_LIMIT, 4 * PG, vmo, 0, PG),
               ZX_ERR_ACCESS_DENIED);
  // Checked before the range: even an offset past the VMAR is ACCESS_DENIED.
  cr_assert_eq(map_st(s.h, R | ZX_VM_SPECIFIC, 64 * PG, vmo, 0, PG), ZX_ERR_ACCESS_DENIED);
  map_ok(s.h, R, 0, vmo, 0, PG);
  zx_handle_close(vmo);
}

Test(vmar_api, map_specific_overlap_alignment_and_null_addr) {
  region_t a = sub_of(zx_vmar_root_self(), ALL_CAN | ZX_VM_ALIGN_1MB, 0, 512 * PG);
  cr_assert_eq(a.base % (1u << 20), 0);
  zx_handle_t vmo = mkvmo(4 * PG);
  uintptr_t at = map_ok(a.h, R | ZX_VM_SPECIFIC, 2 * PG, vmo, 0, 2 * PG);
  cr_assert_eq(at, a.base + 2 * PG);
  cr_assert_eq(map_st(a.h, R | ZX_VM_SPECIFIC, 3 * PG, vmo, 0, PG), ZX_ERR_ALREADY_EXISTS);
  cr_assert_eq(map_st(a.h, R | ZX_VM_SPECIFIC, PG, vmo, 0, 2 * PG), ZX_ERR_ALREADY_EXISTS);
  cr_assert_eq(map_st(a.h, R | ZX_VM_SPECIFIC, 0, vmo, 0, 8 * PG), ZX_ERR_ALREADY_EXISTS);
  // A SPECIFIC address must satisfy the requested alignment (two pages here).
  zx_vm_option_t two_pages = (zx_vm_option_t)(__builtin_ctzll(2 * PG)) << ZX_VM_ALIGN_BASE;
  cr_assert_eq(map_st(a.h, R | ZX_VM_SPECIFIC | two_pages, 5 * PG, vmo, 0, PG),
               ZX_ERR_INVALID_ARGS);
  at = map_ok(a.h, R | ZX_VM_SPECIFIC | two_pages, 6 * PG, vmo, 0, PG);
  cr_assert_eq(at, a.base + 6 * PG);
  // A NULL address is refused after every other check, and maps nothing.
  cr_assert_eq(zx_vmar_map(a.h, R | ZX_VM_SPECIFIC, 3 * PG, vmo, 0, PG, NULL),
               ZX_ERR_ALREADY_EXISTS);
  cr_assert_eq(zx_vmar_map(a.h, R, 0, vmo, 0, PG, NULL), ZX_ERR_INVALID_ARGS);
  zx_info_maps_t e[MAXE];
  cr_assert_eq(maps_of(a.h, e), 3);
  zx_handle_close(vmo);
}

Test(vmar_api, map_unaligned_len_is_rounded_up) {
  region_t a = arena(8);
  zx_handle_t vmo = mkvmo(4 * PG);
  uintptr_t at = map_ok(a.h, R, 0, vmo, 0, PG + 1);
  uintptr_t next = map_ok(a.h, R, 0, vmo, 0, 1);
  zx_info_maps_t e[MAXE];
  cr_assert_eq(maps_of(a.h, e), 3);
  expect_mapping(&e[1], at, 2 * PG, vmo, 0, R, 1);
  expect_mapping(&e[2], next, PG, vmo, 0, R, 1);
  cr_assert_eq(next, at + 2 * PG, "first fit right after the rounded mapping");
  zx_handle_close(vmo);
}

Test(vmar_api, map_first_fit_and_no_resources) {
  region_t a = arena(4);
  zx_handle_t vmo = mkvmo(4 * PG);
  uintptr_t m0 = map_ok(a.h, R, 0, vmo, 0, PG);
  uintptr_t m1 = map_ok(a.h, R | ZX_VM_SPECIFIC, 2 * PG, vmo, 0, PG);
  cr_assert_eq(m0, a.base);
  cr_assert_eq(m1, a.base + 2 * PG);
  // Two pages fit nowhere now; one fits in the hole at page 1, then at page 3.
  cr_assert_eq(map_st(a.h, R, 0, vmo, 0, 2 * PG), ZX_ERR_NO_RESOURCES);
  cr_assert_eq(map_ok(a.h, R, 0, vmo, 0, PG), a.base + PG);
  cr_assert_eq(map_ok(a.h, R, 0, vmo, 0, PG), a.base + 3 * PG);
  cr_assert_eq(map_st(a.h, R, 0, vmo, 0, PG), ZX_ERR_NO_RESOURCES);
  zx_handle_close(vmo);
}

Test(vmar_api, map_alignment_flags_align_the_address) {
  zx_handle_t vmo = mkvmo(PG);
  region_t a = sub_of(zx_vmar_root_self(), ALL_CAN, 0, (8u << 20) + 4 * PG);
  map_ok(a.h, R, 0, vmo, 0, PG);  // so that the VMAR's base is taken
  static const zx_vm_option_t aligns[] = {ZX_VM_ALIGN_1KB, ZX_VM_ALIGN_4KB, ZX_VM_ALIGN_64KB,
                                          ZX_VM_ALIGN_1MB, ZX_VM_ALIGN_2MB};
  for (size_t i = 0; i < sizeof(aligns) / sizeof(aligns[0]); i++) {
    uint64_t align = (uint64_t)1 << (aligns[i] >> ZX_VM_ALIGN_BASE);
    uintptr_t at = map_ok(a.h, R | aligns[i], 0, vmo, 0, PG);
    cr_assert_eq(at % align, 0, "align %#lx gave %#lx", (unsigned long)align, (unsigned long)at);
    cr_assert_eq(at % PG, 0);
  }
  // An alignment no free address of the VMAR satisfies: NO_RESOURCES.
  cr_assert_eq(map_st(a.h, R | ZX_VM_ALIGN_4GB, 0, vmo, 0, PG), ZX_ERR_NO_RESOURCES);
  zx_handle_close(vmo);
}

Test(vmar_api, map_offset_is_upper_limit) {
  region_t a = arena(8);
  zx_handle_t vmo = mkvmo(4 * PG);
  // The whole mapping must end at or below base + offset.
  cr_assert_eq(map_st(a.h, R | ZX_VM_OFFSET_IS_UPPER_LIMIT, PG, vmo, 0, 2 * PG),
               ZX_ERR_INVALID_ARGS);
  cr_assert_eq(map_st(a.h, R | ZX_VM_OFFSET_IS_UPPER_LIMIT, 9 * PG, vmo, 0, PG),
               ZX_ERR_INVALID_ARGS);
  map_ok(a.h, R | ZX_VM_SPECIFIC, 0, vmo, 0, PG);
  uintptr_t at = map_ok(a.h, R | ZX_VM_OFFSET_IS_UPPER_LIMIT, 3 * PG, vmo, 0, 2 * PG);
  cr_assert_eq(at, a.base + PG);
  cr_assert_eq(map_st(a.h, R | ZX_VM_OFFSET_IS_UPPER_LIMIT, 3 * PG, vmo, 0, PG),
               ZX_ERR_NO_RESOURCES);
  at = map_ok(a.h, R | ZX_VM_OFFSET_IS_UPPER_LIMIT, 8 * PG, vmo, 0, PG);
  cr_assert_eq(at, a.base + 3 * PG);
  zx_handle_close(vmo);
}

Test(vmar_api, map_xom_flag_means_read_here) {
  region_t a = arena(4);
  zx_handle_t vmo = mkvmo(PG);
  uintptr_t at = map_ok(a.h, ZX_VM_PERM_READ_IF_XOM_UNSUPPORTED, 0, vmo, 0, PG);
  zx_info_maps_t e[MAXE];
  cr_assert_eq(maps_of(a.h, e), 2);
  expect_mapping(&e[1], at, PG, vmo, 0, R, 1);
  zx_handle_close(vmo);
}

Test(vmar_api, map_keeps_its_vmo_after_the_handle_closes) {
  region_t a = arena(4);
  zx_handle_t vmo = mkvmo(2 * PG);
  zx_koid_t koid = koid_of(vmo);
  uintptr_t at = map_ok(a.h, RW, 0, vmo, PG, PG);
  cr_assert_eq(zx_handle_close(vmo), ZX_OK);
  zx_info_maps_t e[MAXE];
  cr_assert_eq(maps_of(a.h, e), 2);
  cr_assert_eq(e[1].base, at);
  cr_assert_eq(e[1].u.mapping.vmo_koid, koid);
  cr_assert_eq(e[1].u.mapping.vmo_offset, PG);
  cr_assert_eq(zx_vmar_unmap(a.h, at, PG), ZX_OK);
}

Test(vmar_api, map_specific_overwrite_replaces_and_splits) {
  region_t a = arena(8);
  zx_handle_t va = mkvmo(8 * PG), vb = mkvmo(8 * PG);
  uintptr_t at = map_ok(a.h, RW | ZX_VM_SPECIFIC, 0, va, 0, 4 * PG);
  uintptr_t b = map_ok(a.h, R | ZX_VM_SPECIFIC_OVERWRITE, PG, vb, 2 * PG, 2 * PG);
  cr_assert_eq(b, at + PG);
  zx_info_maps_t e[MAXE];
  cr_assert_eq(maps_of(a.h, e), 4);
  expect_mapping(&e[1], at, PG, va, 0, RW, 1);
  expect_mapping(&e[2], at + PG, 2 * PG, vb, 2 * PG, R, 1);
  expect_mapping(&e[3], at + 3 * PG, PG, va, 3 * PG, RW, 1);
  // Over several mappings and a gap at once.
  map_ok(a.h, R | ZX_VM_SPECIFIC, 6 * PG, vb, 0, PG);
  b = map_ok(a.h, RW | ZX_VM_SPECIFIC_OVERWRITE, 0, va, 4 * PG, 8 * PG);
  cr_assert_eq(maps_of(a.h, e), 2);
  expect_mapping(&e[1], a.base, 8 * PG, va, 4 * PG, RW, 1);
  // Over nothing it behaves as SPECIFIC.
  cr_assert_eq(zx_vmar_unmap(a.h, a.base, 8 * PG), ZX_OK);
  b = map_ok(a.h, R | ZX_VM_SPECIFIC_OVERWRITE, 2 * PG, vb, 0, PG);
  cr_assert_eq(b, a.base + 2 * PG);
  zx_handle_close(va);
  zx_handle_close(vb);
}

Test(vmar_api, map_specific_overwrite_refuses_sub_vmars) {
  region_t a = arena(8);
  zx_handle_t vmo = mkvmo(8 * PG);
  region_t s = sub_of(a.h, ALL_CAN | ZX_VM_SPECIFIC, 2 * PG, 2 * PG);
  map_ok(s.h, R, 0, vmo, 0, PG);
  map_ok(a.h, R | ZX_VM_SPECIFIC, 0, vmo, 0, 2 * PG);
  zx_info_maps_t before[MAXE], after[MAXE];
  size_t n = maps_of(a.h, before);
  cr_assert_eq(map_st(a.h, R | ZX_VM_SPECIFIC_OVERWRITE, PG, vmo, 0, 2 * PG),
               ZX_ERR_INVALID_ARGS);
  cr_assert_eq(map_st(a.h, R | ZX_VM_SPECIFIC_OVERWRITE, 0, vmo, 0, 8 * PG),
               ZX_ERR_INVALID_ARGS);
  cr_assert_eq(maps_of(a.h, after), n);
  cr_assert_eq(memcmp(before, after, n * sizeof(before[0])), 0, "nothing changed");
  zx_handle_close(vmo);
}

// ---- zx_vmar_unmap --------------------------------------------------------------

Test(vmar_api, unmap_errors_in_order) {
  region_t a = arena(8);
  zx_handle_t vmo = mkvmo(PG);
  cr_assert_eq(zx_vmar_unmap(ZX_HANDLE_INVALID, a.base, PG), ZX_ERR_BAD_HANDLE);
  cr_assert_eq(zx_vmar_unmap(vmo, a.base, PG), ZX_ERR_WRONG_TYPE);
  cr_assert_eq(zx_vmar_unmap(a.h, a.base + 1, PG), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(zx_vmar_unmap(a.h, a.base, 0), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(zx_vmar_unmap(a.h, a.base, UINT64_MAX), ZX_ERR_INVALID_ARGS);
  // Outside the VMAR.
  cr_assert_eq(zx_vmar_unmap(a.h, a.base - PG, PG), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(zx_vmar_unmap(a.h, a.base + 7 * PG, 2 * PG), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(zx_vmar_unmap(a.h, a.base + 8 * PG, PG), ZX_ERR_INVALID_ARGS);
  // An empty range is fine.
  cr_assert_eq(zx_vmar_unmap(a.h, a.base, 8 * PG), ZX_OK);
  zx_handle_t keep = dup_h(a.h, ZX_RIGHT_SAME_RIGHTS);
  cr_assert_eq(zx_vmar_destroy(a.h), ZX_OK);
  cr_assert_eq(zx_vmar_unmap(keep, a.base, PG), ZX_ERR_BAD_STATE);
  // Alignment and length come before the state.
  cr_assert_eq(zx_vmar_unmap(keep, a.base, 0), ZX_ERR_INVALID_ARGS);
  zx_handle_close(keep);
  zx_handle_close(vmo);
}

Test(vmar_api, unmap_splits_a_mapping) {
  region_t a = arena(8);
  zx_handle_t vmo = mkvmo(8 * PG);
  uintptr_t at = map_ok(a.h, RW, 0, vmo, PG, 6 * PG);
  cr_assert_eq(zx_vmar_unmap(a.h, at + 2 * PG, 2 * PG), ZX_OK);
  zx_info_maps_t e[MAXE];
  cr_assert_eq(maps_of(a.h, e), 3);
  expect_mapping(&e[1], at, 2 * PG, vmo, PG, RW, 1);
  expect_mapping(&e[2], at + 4 * PG, 2 * PG, vmo, 5 * PG, RW, 1);
  // Unaligned length rounds up: one byte unmaps a page (the head, from its start).
  cr_assert_eq(zx_vmar_unmap(a.h, at, 1), ZX_OK);
  cr_assert_eq(maps_of(a.h, e), 3);
  expect_mapping(&e[1], at + PG, PG, vmo, 2 * PG, RW, 1);
  // The freed pages are free again: a SPECIFIC map there succeeds.
  map_ok(a.h, R | ZX_VM_SPECIFIC, 2 * PG, vmo, 0, 2 * PG);
  // A range over several mappings and gaps removes them all.
  cr_assert_eq(zx_vmar_unmap(a.h, at, 8 * PG), ZX_OK);
  cr_assert_eq(maps_of(a.h, e), 1);
  zx_handle_close(vmo);
}

Test(vmar_api, unmap_tail_and_head_of_neighbours) {
  region_t a = arena(8);
  zx_handle_t v1 = mkvmo(4 * PG), v2 = mkvmo(4 * PG);
  uintptr_t m1 = map_ok(a.h, R, 0, v1, 0, 4 * PG);
  uintptr_t m2 = map_ok(a.h, RW, 0, v2, 0, 4 * PG);
  cr_assert_eq(m2, m1 + 4 * PG);
  cr_assert_eq(zx_vmar_unmap(a.h, m1 + 3 * PG, 2 * PG), ZX_OK);
  zx_info_maps_t e[MAXE];
  cr_assert_eq(maps_of(a.h, e), 3);
  expect_mapping(&e[1], m1, 3 * PG, v1, 0, R, 1);
  expect_mapping(&e[2], m2 + PG, 3 * PG, v2, PG, RW, 1);
  zx_handle_close(v1);
  zx_handle_close(v2);
}

Test(vmar_api, unmap_destroys_sub_vmars_wholly_inside) {
  region_t a = arena(16);
  zx_handle_t vmo = mkvmo(4 * PG);
  region_t s = sub_of(a.h, ALL_CAN | ZX_VM_SPECIFIC, 4 * PG, 4 * PG);
  region_t t = sub_of(s.h, ALL_CAN, 0, 2 * PG);
  map_ok(t.h, R, 0, vmo, 0, PG);
  map_ok(s.h, R | ZX_VM_SPECIFIC, 3 * PG, vmo, 0, PG);
  map_ok(a.h, R | ZX_VM_SPECIFIC, 0, vmo, 0, 2 * PG);
  zx_info_maps_t before[MAXE], e[MAXE];
  size_t n = maps_of(a.h, before);
  cr_assert_eq(n, 6);
  // A partial overlap of a sub-VMAR is refused, and changes nothing.
  cr_assert_eq(zx_vmar_unmap(a.h, a.base, 5 * PG), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(zx_vmar_unmap(a.h, a.base + 7 * PG, 2 * PG), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(maps_of(a.h, e), n);
  cr_assert_eq(memcmp(before, e, n * sizeof(e[0])), 0);
  // Without OP_CHILDREN even a whole sub-VMAR cannot be unmapped.
  zx_handle_t noop = dup_h(a.h, NO_OP_CHILDREN);
  cr_assert_eq(zx_vmar_unmap(noop, a.base + 4 * PG, 4 * PG), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(zx_vmar_unmap(noop, a.base, PG), ZX_OK, "mappings need no OP_CHILDREN");
  zx_handle_close(noop);
  // Wholly inside: destroyed, with everything in it.
  cr_assert_eq(zx_vmar_unmap(a.h, a.base, 16 * PG), ZX_OK);
  cr_assert_eq(maps_of(a.h, e), 1);
  cr_assert_eq(map_st(s.h, R, 0, vmo, 0, PG), ZX_ERR_BAD_STATE);
  cr_assert_eq(map_st(t.h, R, 0, vmo, 0, PG), ZX_ERR_BAD_STATE);
  cr_assert_eq(zx_vmar_destroy(s.h), ZX_ERR_BAD_STATE);
  zx_handle_close(vmo);
}

// ---- zx_vmar_protect ------------------------------------------------------------

Test(vmar_api, protect_errors_in_order) {
  region_t a = arena(8);
  zx_handle_t vmo = mkvmo(4 * PG);
  uintptr_t at = map_ok(a.h, RW, 0, vmo, 0, 2 * PG);
  cr_assert_eq(zx_vmar_protect(ZX_HANDLE_INVALID, R, at, PG), ZX_ERR_BAD_HANDLE);
  cr_assert_eq(zx_vmar_protect(vmo, R, at, PG), ZX_ERR_WRONG_TYPE);
  // The handle's rights come before the protection's validity.
  zx_handle_t ro = dup_h(a.h, ZX_DEFAULT_VMAR_RIGHTS | ZX_RIGHT_READ);
  cr_assert_eq(zx_vmar_protect(ro, ZX_VM_PERM_WRITE, at, PG), ZX_ERR_ACCESS_DENIED);
  cr_assert_eq(zx_vmar_protect(ro, RW, at, PG), ZX_ERR_ACCESS_DENIED);
  cr_assert_eq(zx_vmar_protect(a.h, ZX_VM_PERM_WRITE, at, PG), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(zx_vmar_protect(a.h, R, at + 1, PG), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(zx_vmar_protect(a.h, R | ZX_VM_SPECIFIC, at, PG), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(zx_vmar_protect(a.h, R | ZX_VM_CAN_MAP_READ, at, PG), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(zx_vmar_protect(a.h, R | ZX_VM_ALIGN_1MB, at, PG), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(zx_vmar_protect(a.h, R | (1u << 20), at, PG), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(zx_vmar_protect(a.h, R, at, 0), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(zx_vmar_protect(a.h, R, at - PG, PG), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(zx_vmar_protect(a.h, R, at, 9 * PG), ZX_ERR_INVALID_ARGS);
  // Unmapped parts: NOT_FOUND, wherever the gap is.
  cr_assert_eq(zx_vmar_protect(a.h, R, at + 2 * PG, PG), ZX_ERR_NOT_FOUND);
  cr_assert_eq(zx_vmar_protect(a.h, R, at, 3 * PG), ZX_ERR_NOT_FOUND);
  map_ok(a.h, R | ZX_VM_SPECIFIC, 3 * PG, vmo, 0, PG);
  cr_assert_eq(zx_vmar_protect(a.h, R, at, 4 * PG), ZX_ERR_NOT_FOUND);
  zx_info_maps_t e[MAXE];
  cr_assert_eq(maps_of(a.h, e), 3, "no failed call split anything");
  expect_mapping(&e[1], at, 2 * PG, vmo, 0, RW, 1);
  zx_handle_t keep = dup_h(a.h, ZX_RIGHT_SAME_RIGHTS);
  cr_assert_eq(zx_vmar_destroy(a.h), ZX_OK);
  cr_assert_eq(zx_vmar_protect(keep, R, at, PG), ZX_ERR_BAD_STATE);
  zx_handle_close(keep);
  zx_handle_close(ro);
  zx_handle_close(vmo);
}

Test(vmar_api, protect_cannot_exceed_what_the_mapping_was_allowed) {
  region_t a = arena(8);
  zx_handle_t vmo = mkvmo(4 * PG);
  zx_handle_t ro = dup_h(vmo, ZX_DEFAULT_VMO_RIGHTS & ~ZX_RIGHT_WRITE);
  uintptr_t at = map_ok(a.h, R, 0, ro, 0, PG);
  cr_assert_eq(zx_vmar_protect(a.h, RW, at, PG), ZX_ERR_ACCESS_DENIED);
  // A mapping made read-only through a read-write VMO handle may become writable again.
  uintptr_t bt = map_ok(a.h, RW, 0, vmo, 0, PG);
  cr_assert_eq(zx_vmar_protect(a.h, R, bt, PG), ZX_OK);
  cr_assert_eq(zx_vmar_protect(a.h, RW, bt, PG), ZX_OK);
  cr_assert_eq(zx_vmar_protect(a.h, 0, bt, PG), ZX_OK);
  // A VMAR handle without WRITE made the mapping: it may never be writable.
  zx_handle_t vr = dup_h(a.h, ZX_DEFAULT_VMAR_RIGHTS | ZX_RIGHT_READ);
  uintptr_t ct = map_ok(vr, R, 0, vmo, 0, PG);
  cr_assert_eq(zx_vmar_protect(a.h, RW, ct, PG), ZX_ERR_ACCESS_DENIED);
  zx_info_maps_t e[MAXE];
  cr_assert_eq(maps_of(a.h, e), 4);
  expect_mapping(&e[2], bt, PG, vmo, 0, 0, 1);
  zx_handle_close(vr);
  zx_handle_close(ro);
  zx_handle_close(vmo);
}

Test(vmar_api, protect_splits_records) {
  region_t a = arena(8);
  zx_handle_t vmo = mkvmo(8 * PG);
  uintptr_t at = map_ok(a.h, RW, 0, vmo, 0, 6 * PG);
  cr_assert_eq(zx_vmar_protect(a.h, R, at + 2 * PG, PG + 1), ZX_OK);  // rounded to 2 pages
  zx_info_maps_t e[MAXE];
  cr_assert_eq(maps_of(a.h, e), 4);
  expect_mapping(&e[1], at, 2 * PG, vmo, 0, RW, 1);
  expect_mapping(&e[2], at + 2 * PG, 2 * PG, vmo, 2 * PG, R, 1);
  expect_mapping(&e[3], at + 4 * PG, 2 * PG, vmo, 4 * PG, RW, 1);
  // Over several records at once, splitting the first and the last.
  cr_assert_eq(zx_vmar_protect(a.h, 0, at + PG, 4 * PG), ZX_OK);
  cr_assert_eq(maps_of(a.h, e), 6);
  expect_mapping(&e[1], at, PG, vmo, 0, RW, 1);
  expect_mapping(&e[2], at + PG, PG, vmo, PG, 0, 1);
  expect_mapping(&e[3], at + 2 * PG, 2 * PG, vmo, 2 * PG, 0, 1);
  expect_mapping(&e[4], at + 4 * PG, PG, vmo, 4 * PG, 0, 1);
  expect_mapping(&e[5], at + 5 * PG, PG, vmo, 5 * PG, RW, 1);
  // A split record keeps the limit of the original.
  cr_assert_eq(zx_vmar_protect(a.h, RW, at, 6 * PG), ZX_OK);
  cr_assert_eq(maps_of(a.h, e), 6);
  for (size_t i = 1; i < 6; i++) cr_assert_eq(e[i].u.mapping.mmu_flags, RW);
  zx_handle_close(vmo);
}

Test(vmar_api, protect_through_a_parent_only_reduces) {
  region_t a = arena(8);
  zx_handle_t vmo = mkvmo(4 * PG);
  region_t s = sub_of(a.h, ALL_CAN | ZX_VM_SPECIFIC, 2 * PG, 2 * PG);
  uintptr_t st = map_ok(s.h, R, 0, vmo, 0, 2 * PG);
  map_ok(a.h, RW | ZX_VM_SPECIFIC, 0, vmo, 0, 2 * PG);
  // Raising a sub-VMAR's mapping through the parent: ACCESS_DENIED (its own VMAR may).
  cr_assert_eq(zx_vmar_protect(a.h, RW, a.base, 4 * PG), ZX_ERR_ACCESS_DENIED);
  cr_assert_eq(zx_vmar_protect(a.h, RW, st, PG), ZX_ERR_ACCESS_DENIED);
  cr_assert_eq(zx_vmar_protect(s.h, RW, st, PG), ZX_OK);
  // Reducing through the parent is fine, but needs OP_CHILDREN.
  zx_handle_t noop = dup_h(a.h, NO_OP_CHILDREN);
  cr_assert_eq(zx_vmar_protect(noop, R, a.base, 4 * PG), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(zx_vmar_protect(noop, R, a.base, 2 * PG), ZX_OK);
  cr_assert_eq(zx_vmar_protect(a.h, R, a.base, 4 * PG), ZX_OK);
  zx_info_maps_t e[MAXE];
  cr_assert_eq(maps_of(a.h, e), 5);
  expect_mapping(&e[1], a.base, 2 * PG, vmo, 0, R, 1);
  cr_assert_eq(e[2].type, ZX_INFO_MAPS_TYPE_VMAR);
  expect_mapping(&e[3], st, PG, vmo, 0, R, 2);
  expect_mapping(&e[4], st + PG, PG, vmo, PG, R, 2);
  zx_handle_close(noop);
  zx_handle_close(vmo);
}

// ---- zx_vmar_allocate -----------------------------------------------------------

static zx_status_t alloc_st(zx_handle_t parent, zx_vm_option_t options, uint64_t off,
                            uint64_t size) {
  zx_handle_t h = ZX_HANDLE_INVALID;
  uintptr_t addr = 0;
  zx_status_t st = zx_vmar_allocate(parent, options, off, size, &h, &addr);
  if (st == ZX_OK) zx_handle_close(h);
  return st;
}

Test(vmar_api, allocate_errors_in_order) {
  region_t a = arena(8);
  zx_handle_t vmo = mkvmo(PG);
  cr_assert_eq(alloc_st(ZX_HANDLE_INVALID, RWX_CAN, 0, PG), ZX_ERR_BAD_HANDLE);
  cr_assert_eq(alloc_st(vmo, RWX_CAN, 0, PG), ZX_ERR_WRONG_TYPE);
  // CAN_MAP_* need the matching rights on the parent's handle, checked at lookup.
  region_t r = sub_of(a.h, ZX_VM_CAN_MAP_READ | ZX_VM_CAN_MAP_SPECIFIC, 0, 4 * PG);
  cr_assert_eq(alloc_st(r.h, ZX_VM_CAN_MAP_WRITE | (1u << 20), 0, PG), ZX_ERR_ACCESS_DENIED);
  cr_assert_eq(alloc_st(r.h, ZX_VM_CAN_MAP_EXECUTE, 0, PG), ZX_ERR_ACCESS_DENIED);
  // Unknown options, bad alignments, PERM_* and mapping-only flags.
  cr_assert_eq(alloc_st(a.h, 1u << 20, 0, PG), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(alloc_st(a.h, 5u << ZX_VM_ALIGN_BASE, 0, PG), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(alloc_st(a.h, ZX_VM_PERM_READ, 0, PG), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(alloc_st(a.h, ZX_VM_SPECIFIC_OVERWRITE, 0, PG), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(alloc_st(a.h, ZX_VM_MAP_RANGE, 0, PG), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(alloc_st(a.h, ZX_VM_REQUIRE_NON_RESIZABLE, 0, PG), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(alloc_st(a.h, ZX_VM_ALLOW_FAULTS, 0, PG), ZX_ERR_INVALID_ARGS);
  // The size is not rounded: it must be page aligned (before the state is checked).
  cr_assert_eq(alloc_st(a.h, 0, 0, PG + 1), ZX_ERR_INVALID_ARGS);
  zx_handle_t keep = dup_h(r.h, ZX_RIGHT_SAME_RIGHTS);
  cr_assert_eq(zx_vmar_destroy(r.h), ZX_OK);
  cr_assert_eq(alloc_st(keep, 0, 0, PG + 1), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(alloc_st(keep, 0, 0, PG), ZX_ERR_BAD_STATE);
  cr_assert_eq(alloc_st(keep, 0, 0, 0), ZX_ERR_BAD_STATE);
  cr_assert_eq(alloc_st(a.h, 0, 0, 0), ZX_ERR_INVALID_ARGS);
  // Offsets as for map.
  cr_assert_eq(alloc_st(a.h, 0, PG, PG), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(alloc_st(a.h, ZX_VM_SPECIFIC | ZX_VM_OFFSET_IS_UPPER_LIMIT, PG, PG),
               ZX_ERR_INVALID_ARGS);
  cr_assert_eq(alloc_st(a.h, ZX_VM_SPECIFIC, PG + 1, PG), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(alloc_st(a.h, ZX_VM_SPECIFIC, 8 * PG, PG), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(alloc_st(a.h, 0, 0, 9 * PG), ZX_ERR_INVALID_ARGS);
  region_t ns = sub_of(a.h, RWX_CAN | ZX_VM_SPECIFIC, 4 * PG, 4 * PG);
  cr_assert_eq(alloc_st(ns.h, ZX_VM_SPECIFIC, 0, PG), ZX_ERR_ACCESS_DENIED);
  cr_assert_eq(alloc_st(ns.h, ZX_VM_OFFSET_IS_UPPER_LIMIT, PG, PG), ZX_ERR_ACCESS_DENIED);
  cr_assert_eq(alloc_st(a.h, ZX_VM_SPECIFIC, 4 * PG, PG), ZX_ERR_ALREADY_EXISTS);
  // Four pages are free (where the destroyed VMAR was), not five.
  cr_assert_eq(alloc_st(a.h, 0, 0, 5 * PG), ZX_ERR_NO_RESOURCES);
  // NULL out pointers: INVALID_ARGS last, and nothing is created.
  zx_handle_t h;
  uintptr_t addr;
  cr_assert_eq(zx_vmar_allocate(a.h, 0, 0, 5 * PG, NULL, &addr), ZX_ERR_NO_RESOURCES);
  cr_assert_eq(zx_vmar_allocate(a.h, 0, 0, PG, NULL, &addr), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(zx_vmar_allocate(a.h, 0, 0, PG, &h, NULL), ZX_ERR_INVALID_ARGS);
  zx_info_maps_t e[MAXE];
  cr_assert_eq(maps_of(a.h, e), 2, "only the VMAR made above (the destroyed one is gone)");
  zx_handle_close(keep);
  zx_handle_close(vmo);
}

Test(vmar_api, allocate_rights_flags_and_placement) {
  region_t a = arena(64);
  // Rights: the defaults, plus READ/WRITE/EXECUTE for each CAN_MAP_*.
  region_t r = sub_of(a.h, ZX_VM_CAN_MAP_READ, 0, PG);
  cr_assert_eq(handle_rights(r.h), ZX_DEFAULT_VMAR_RIGHTS | ZX_RIGHT_READ);
  region_t n = sub_of(a.h, 0, 0, PG);
  cr_assert_eq(handle_rights(n.h), ZX_DEFAULT_VMAR_RIGHTS);
  // CAN_MAP_SPECIFIC is free: a parent without it gives it to a child.
  region_t ns = sub_of(a.h, RWX_CAN, 0, 8 * PG);
  region_t c = sub_of(ns.h, ZX_VM_CAN_MAP_SPECIFIC | ZX_VM_CAN_MAP_READ, 0, 2 * PG);
  zx_handle_t vmo = mkvmo(PG);
  map_ok(c.h, R | ZX_VM_SPECIFIC, PG, vmo, 0, PG);
  // COMPACT is accepted, and READ_IF_XOM_UNSUPPORTED ignored (it is no CAN_MAP_READ).
  region_t k = sub_of(a.h, ZX_VM_COMPACT | ZX_VM_PERM_READ_IF_XOM_UNSUPPORTED, 0, PG);
  cr_assert_eq(handle_rights(k.h), ZX_DEFAULT_VMAR_RIGHTS);
  // First fit, SPECIFIC, alignment and the upper limit place the child.
  cr_assert_eq(r.base, a.base);
  cr_assert_eq(n.base, a.base + PG);
  cr_assert_eq(ns.base, a.base + 2 * PG);
  cr_assert_eq(c.base, ns.base);
  cr_assert_eq(k.base, a.base + 10 * PG);
  region_t sp = sub_of(a.h, ZX_VM_SPECIFIC, 32 * PG, 4 * PG);
  cr_assert_eq(sp.base, a.base + 32 * PG);
  // Below the limit of 40 pages, 20 pages fit only in the hole [11, 32).
  cr_assert_eq(alloc_st(a.h, ZX_VM_OFFSET_IS_UPPER_LIMIT, 40 * PG, 22 * PG),
               ZX_ERR_NO_RESOURCES);
  region_t up = sub_of(a.h, ZX_VM_OFFSET_IS_UPPER_LIMIT, 40 * PG, 20 * PG);
  cr_assert_eq(up.base, a.base + 11 * PG);
  zx_info_vmar_t i = vmar_info(sp.h);
  cr_assert_eq(i.base, sp.base);
  cr_assert_eq(i.len, 4 * PG);
  zx_handle_close(vmo);
}

// ---- zx_vmar_destroy ------------------------------------------------------------

Test(vmar_api, destroy_errors) {
  region_t a = arena(4);
  zx_handle_t vmo = mkvmo(PG);
  cr_assert_eq(zx_vmar_destroy(ZX_HANDLE_INVALID), ZX_ERR_BAD_HANDLE);
  cr_assert_eq(zx_vmar_destroy(vmo), ZX_ERR_WRONG_TYPE);
  zx_handle_t noop = dup_h(a.h, NO_OP_CHILDREN);
  cr_assert_eq(zx_vmar_destroy(noop), ZX_ERR_ACCESS_DENIED);
  cr_assert_eq(zx_vmar_destroy(a.h), ZX_OK);
  cr_assert_eq(zx_vmar_destroy(a.h), ZX_ERR_BAD_STATE);
  cr_assert_eq(zx_vmar_destroy(noop), ZX_ERR_ACCESS_DENIED);
  zx_info_maps_t e[MAXE];
  size_t actual, avail;
  cr_assert_eq(zx_object_get_info(a.h, ZX_INFO_VMAR_MAPS, e, sizeof(e), &actual, &avail),
               ZX_ERR_BAD_STATE);
  // ZX_INFO_VMAR still describes the range it had.
  zx_info_vmar_t i = vmar_info(a.h);
  cr_assert_eq(i.base, a.base);
  cr_assert_eq(i.len, 4 * PG);
  zx_handle_close(noop);
  zx_handle_close(vmo);
}

Test(vmar_api, destroy_unmaps_everything_inside_and_frees_the_range) {
  region_t a = arena(16);
  zx_handle_t vmo = mkvmo(PG);
  region_t s = sub_of(a.h, ALL_CAN | ZX_VM_SPECIFIC, 4 * PG, 8 * PG);
  region_t t = sub_of(s.h, ALL_CAN, 0, 4 * PG);
  map_ok(s.h, R, 0, vmo, 0, PG);
  map_ok(t.h, R, 0, vmo, 0, PG);
  map_ok(a.h, R, 0, vmo, 0, PG);
  cr_assert_eq(zx_vmar_destroy(s.h), ZX_OK);
  zx_info_maps_t e[MAXE];
  cr_assert_eq(maps_of(a.h, e), 2);
  cr_assert_eq(e[1].base, a.base);
  cr_assert_eq(map_st(t.h, R, 0, vmo, 0, PG), ZX_ERR_BAD_STATE);
  cr_assert_eq(zx_vmar_destroy(t.h), ZX_ERR_BAD_STATE);
  // The range is free again.
  uintptr_t at = map_ok(a.h, R | ZX_VM_SPECIFIC, 4 * PG, vmo, 0, 8 * PG);
  cr_assert_eq(at, a.base + 4 * PG);
  zx_handle_close(vmo);
}

Test(vmar_api, destroy_a_deep_tree_without_recursion) {
  // Each level is one page smaller than its parent and holds a one-page mapping at
  // its end: the depth is the caller's to choose.
  const uint64_t depth = 3000;
  region_t a = arena(depth + 2);
  zx_handle_t vmo = mkvmo(PG);
  zx_handle_t cur = a.h;
  zx_handle_t* hs = calloc(depth, sizeof(zx_handle_t));
  cr_assert_not_null(hs);
  for (uint64_t i = 0; i < depth; i++) {
    uint64_t size = (depth + 1 - i) * PG;
    map_ok(cur, R | ZX_VM_SPECIFIC, size, vmo, 0, PG);
    region_t s = sub_of(cur, ALL_CAN | ZX_VM_SPECIFIC, 0, size);
    hs[i] = s.h;
    cur = s.h;
  }
  size_t actual, avail;
  cr_assert_eq(zx_object_get_info(a.h, ZX_INFO_VMAR_MAPS, NULL, 0, &actual, &avail), ZX_OK);
  cr_assert_eq(avail, 1 + 2 * depth);
  cr_assert_eq(zx_vmar_destroy(hs[0]), ZX_OK);
  for (uint64_t i = 0; i < depth; i++) {
    cr_assert_eq(zx_vmar_destroy(hs[i]), ZX_ERR_BAD_STATE);
    zx_handle_close(hs[i]);
  }
  zx_info_maps_t e[MAXE];
  cr_assert_eq(maps_of(a.h, e), 2, "only the first level's mapping is left");
  free(hs);
  zx_handle_close(vmo);
}

// ---- zx_vmar_op_range -----------------------------------------------------------

static zx_status_t op_st(zx_handle_t vmar, uint32_t op, uintptr_t addr, uint64_t len) {
  return zx_vmar_op_range(vmar, op, addr, len, NULL, 0);
}

Test(vmar_api, op_range_errors_in_order) {
  region_t a = arena(8);
  zx_handle_t vmo = mkvmo(4 * PG);
  uintptr_t at = map_ok(a.h, RW, 0, vmo, 0, 2 * PG);
  uint8_t buf[8];
  cr_assert_eq(op_st(ZX_HANDLE_INVALID, ZX_VMAR_OP_COMMIT, at, PG), ZX_ERR_BAD_HANDLE);
  cr_assert_eq(op_st(vmo, ZX_VMAR_OP_COMMIT, at, PG), ZX_ERR_WRONG_TYPE);
  cr_assert_eq(op_st(a.h, 4, at, PG), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(op_st(a.h, ZX_VMO_OP_CACHE_SYNC, at, PG), ZX_ERR_INVALID_ARGS);
  zx_handle_t ro = dup_h(a.h, ZX_DEFAULT_VMAR_RIGHTS | ZX_RIGHT_READ);
  cr_assert_eq(op_st(ro, ZX_VMAR_OP_COMMIT, at, PG), ZX_ERR_ACCESS_DENIED);
  cr_assert_eq(op_st(ro, ZX_VMAR_OP_DECOMMIT, at, PG), ZX_ERR_ACCESS_DENIED);
  cr_assert_eq(zx_vmar_op_range(a.h, ZX_VMAR_OP_COMMIT, at, PG, buf, 0), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(zx_vmar_op_range(a.h, ZX_VMAR_OP_COMMIT, at, PG, NULL, 8), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(op_st(a.h, ZX_VMAR_OP_COMMIT, at, 0), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(op_st(a.h, ZX_VMAR_OP_COMMIT, at + 1, PG), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(op_st(a.h, ZX_VMAR_OP_COMMIT, at - PG, PG), ZX_ERR_OUT_OF_RANGE);
  cr_assert_eq(op_st(a.h, ZX_VMAR_OP_COMMIT, at, 9 * PG), ZX_ERR_OUT_OF_RANGE);
  // Gaps: BAD_STATE.
  cr_assert_eq(op_st(a.h, ZX_VMAR_OP_MAP_RANGE, at, 3 * PG), ZX_ERR_BAD_STATE);
  cr_assert_eq(op_st(a.h, ZX_VMAR_OP_MAP_RANGE, at + 2 * PG, PG), ZX_ERR_BAD_STATE);
  map_ok(a.h, R | ZX_VM_SPECIFIC, 3 * PG, vmo, 0, PG);
  cr_assert_eq(op_st(a.h, ZX_VMAR_OP_MAP_RANGE, at, 4 * PG), ZX_ERR_BAD_STATE);
  // A destroyed VMAR: the range first, then the state.
  zx_handle_t keep = dup_h(a.h, ZX_RIGHT_SAME_RIGHTS);
  cr_assert_eq(zx_vmar_destroy(a.h), ZX_OK);
  cr_assert_eq(op_st(keep, ZX_VMAR_OP_COMMIT, at - PG, PG), ZX_ERR_OUT_OF_RANGE);
  cr_assert_eq(op_st(keep, ZX_VMAR_OP_COMMIT, at, PG), ZX_ERR_BAD_STATE);
  zx_handle_close(keep);
  zx_handle_close(ro);
  zx_handle_close(vmo);
}

Test(vmar_api, op_range_per_mapping_rights_and_sub_vmars) {
  region_t a = arena(8);
  zx_handle_t vmo = mkvmo(8 * PG);
  zx_handle_t rov = dup_h(vmo, ZX_DEFAULT_VMO_RIGHTS & ~ZX_RIGHT_WRITE);
  uintptr_t rw = map_ok(a.h, RW, 0, vmo, 0, 2 * PG);
  uintptr_t ro = map_ok(a.h, R, 0, rov, 2 * PG, PG);
  cr_assert_eq(ro, rw + 2 * PG);
  // Ops that write need a mapping that could be writable.
  cr_assert_eq(op_st(a.h, ZX_VMAR_OP_COMMIT, ro, PG), ZX_ERR_ACCESS_DENIED);
  cr_assert_eq(op_st(a.h, ZX_VMAR_OP_DECOMMIT, ro, PG), ZX_ERR_ACCESS_DENIED);
  cr_assert_eq(op_st(a.h, ZX_VMAR_OP_ZERO, ro, PG), ZX_ERR_ACCESS_DENIED);
  cr_assert_eq(op_st(a.h, ZX_VMAR_OP_PREFETCH, ro, PG), ZX_OK);
  cr_assert_eq(op_st(a.h, ZX_VMAR_OP_MAP_RANGE, rw, 3 * PG), ZX_OK);
  cr_assert_eq(op_st(a.h, ZX_VMAR_OP_DONT_NEED, rw, 3 * PG), ZX_OK);
  cr_assert_eq(op_st(a.h, ZX_VMAR_OP_ALWAYS_NEED, rw, 3 * PG), ZX_OK);
  // A read-only protection does not stop COMMIT: the mapping could be made writable.
  cr_assert_eq(zx_vmar_protect(a.h, R, rw, 2 * PG), ZX_OK);
  cr_assert_eq(op_st(a.h, ZX_VMAR_OP_COMMIT, rw, 2 * PG), ZX_OK);
  cr_assert_eq(vmo_info(vmo).committed_bytes, 2 * PG);
  // Sub-VMARs: COMMIT, DECOMMIT and PREFETCH never reach into them; the others do
  // with OP_CHILDREN.
  region_t s = sub_of(a.h, ALL_CAN | ZX_VM_SPECIFIC, 4 * PG, 4 * PG);
  uintptr_t in = map_ok(s.h, RW, 0, vmo, 4 * PG, 4 * PG);
  cr_assert_eq(op_st(a.h, ZX_VMAR_OP_COMMIT, in, PG), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(op_st(a.h, ZX_VMAR_OP_DECOMMIT, in, PG), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(op_st(a.h, ZX_VMAR_OP_PREFETCH, in, PG), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(op_st(a.h, ZX_VMAR_OP_ZERO, in, PG), ZX_OK);
  cr_assert_eq(op_st(a.h, ZX_VMAR_OP_MAP_RANGE, in, PG), ZX_OK);
  zx_handle_t noop = dup_h(a.h, NO_OP_CHILDREN);
  cr_assert_eq(op_st(noop, ZX_VMAR_OP_ZERO, in, PG), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(op_st(noop, ZX_VMAR_OP_MAP_RANGE, in, PG), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(op_st(s.h, ZX_VMAR_OP_COMMIT, in, PG), ZX_OK);
  cr_assert_eq(vmo_info(vmo).committed_bytes, 3 * PG);
  zx_handle_close(noop);
  zx_handle_close(rov);
  zx_handle_close(vmo);
}

// ---- info topics ----------------------------------------------------------------

Test(vmar_api, info_vmar_record_and_errors) {
  region_t a = arena(4);
  zx_handle_t vmo = mkvmo(PG);
  zx_info_vmar_t i;
  size_t actual = 7, avail = 7;
  cr_assert_eq(zx_object_get_info(a.h, ZX_INFO_VMAR, &i, sizeof(i) - 1, &actual, &avail),
               ZX_ERR_BUFFER_TOO_SMALL);
  cr_assert_eq(actual, 0);
  cr_assert_eq(avail, 1);
  cr_assert_eq(zx_object_get_info(a.h, ZX_INFO_VMAR, &i, sizeof(i), &actual, &avail), ZX_OK);
  cr_assert_eq(actual, 1);
  cr_assert_eq(i.base, a.base);
  cr_assert_eq(i.len, 4 * PG);
  cr_assert_eq(zx_object_get_info(vmo, ZX_INFO_VMAR, &i, sizeof(i), NULL, NULL),
               ZX_ERR_WRONG_TYPE);
  cr_assert_eq(zx_object_get_info(vmo, ZX_INFO_VMAR_MAPS, NULL, 0, NULL, NULL),
               ZX_ERR_WRONG_TYPE);
  zx_handle_t noinspect = dup_h(a.h, ZX_DEFAULT_VMAR_RIGHTS & ~ZX_RIGHT_INSPECT);
  cr_assert_eq(zx_object_get_info(noinspect, ZX_INFO_VMAR, &i, sizeof(i), NULL, NULL),
               ZX_ERR_ACCESS_DENIED);
  cr_assert_eq(zx_object_get_info(noinspect, ZX_INFO_VMAR_MAPS, NULL, 0, NULL, NULL),
               ZX_ERR_ACCESS_DENIED);
  // HANDLE_BASIC works on any VMAR handle, whatever its rights.
  zx_info_handle_basic_t b;
  cr_assert_eq(zx_object_get_info(noinspect, ZX_INFO_HANDLE_BASIC, &b, sizeof(b), NULL, NULL),
               ZX_OK);
  cr_assert_eq(b.type, ZX_OBJ_TYPE_VMAR);
  cr_assert_eq(b.rights, ZX_DEFAULT_VMAR_RIGHTS & ~ZX_RIGHT_INSPECT);
  cr_assert_eq(b.koid, koid_of(a.h));
  cr_assert_eq(b.related_koid, ZX_KOID_INVALID);
  zx_handle_close(noinspect);
  zx_handle_close(vmo);
}

Test(vmar_api, vmar_maps_is_pre_order_with_depths) {
  region_t a = arena(32);
  zx_handle_t vmo = mkvmo(8 * PG);
  const char name[] = "vmar-test";
  cr_assert_eq(zx_object_set_property(vmo, ZX_PROP_NAME, name, sizeof(name)), ZX_OK);
  region_t s = sub_of(a.h, ALL_CAN | ZX_VM_SPECIFIC, 8 * PG, 16 * PG);
  region_t t = sub_of(s.h, ALL_CAN | ZX_VM_SPECIFIC, 4 * PG, 8 * PG);
  uintptr_t m0 = map_ok(a.h, R | ZX_VM_SPECIFIC, 0, vmo, 0, 2 * PG);
  uintptr_t m1 = map_ok(s.h, RW | ZX_VM_SPECIFIC, 0, vmo, PG, PG);
  uintptr_t m2 = map_ok(t.h, RW | ZX_VM_SPECIFIC, 2 * PG, vmo, 2 * PG, 3 * PG);
  uintptr_t m3 = map_ok(s.h, R | ZX_VM_SPECIFIC, 14 * PG, vmo, 0, PG);
  uintptr_t m4 = map_ok(a.h, R | ZX_VM_SPECIFIC, 30 * PG, vmo, 4 * PG, 2 * PG);
  zx_info_maps_t e[MAXE];
  cr_assert_eq(maps_of(a.h, e), 8);
  cr_assert_eq(e[0].type, ZX_INFO_MAPS_TYPE_VMAR);
  cr_assert_eq(e[0].depth, 0);
  cr_assert_eq(e[0].base, a.base);
  cr_assert_eq(e[0].size, 32 * PG);
  expect_mapping(&e[1], m0, 2 * PG, vmo, 0, R, 1);
  cr_assert_str_eq(e[1].name, name);
  cr_assert_eq(e[2].type, ZX_INFO_MAPS_TYPE_VMAR);
  cr_assert_eq(e[2].depth, 1);
  cr_assert_eq(e[2].base, s.base);
  cr_assert_eq(e[2].size, 16 * PG);
  expect_mapping(&e[3], m1, PG, vmo, PG, RW, 2);
  cr_assert_eq(e[4].type, ZX_INFO_MAPS_TYPE_VMAR);
  cr_assert_eq(e[4].depth, 2);
  cr_assert_eq(e[4].base, t.base);
  expect_mapping(&e[5], m2, 3 * PG, vmo, 2 * PG, RW, 3);
  expect_mapping(&e[6], m3, PG, vmo, 0, R, 2);
  expect_mapping(&e[7], m4, 2 * PG, vmo, 4 * PG, R, 1);
  for (size_t i = 1; i < 8; i++) cr_assert_geq(e[i].base, e[i - 1].base, "bases ascend");
  // Queried on the sub-VMAR, depths are relative to it.
  cr_assert_eq(maps_of(s.h, e), 5);
  cr_assert_eq(e[0].depth, 0);
  cr_assert_eq(e[0].base, s.base);
  expect_mapping(&e[3], m2, 3 * PG, vmo, 2 * PG, RW, 2);
  // A short buffer gets the first records and the full count.
  size_t actual = 0, avail = 0;
  cr_assert_eq(zx_object_get_info(a.h, ZX_INFO_VMAR_MAPS, e, 3 * sizeof(e[0]) + 1, &actual,
                                  &avail),
               ZX_OK);
  cr_assert_eq(actual, 3);
  cr_assert_eq(avail, 8);
  cr_assert_eq(e[2].base, s.base);
  zx_handle_close(vmo);
}

Test(vmar_api, process_maps_from_the_aspace_down) {
  zx_handle_t p = zx_process_self();
  region_t a = arena(8);
  zx_handle_t vmo = mkvmo(4 * PG);
  region_t s = sub_of(a.h, ALL_CAN | ZX_VM_SPECIFIC, 4 * PG, 4 * PG);
  uintptr_t m0 = map_ok(a.h, RW, 0, vmo, PG, 2 * PG);
  uintptr_t m1 = map_ok(s.h, R, 0, vmo, 0, PG);
  zx_info_maps_t e[MAXE];
  size_t actual = 0, avail = 0;
  cr_assert_eq(zx_object_get_info(p, ZX_INFO_PROCESS_MAPS, e, sizeof(e), &actual, &avail), ZX_OK);
  cr_assert_eq(actual, avail);
  cr_assert_geq(actual, 6);
  zx_info_vmar_t root = vmar_info(zx_vmar_root_self());
  cr_assert_eq(e[0].type, ZX_INFO_MAPS_TYPE_ASPACE);
  cr_assert_eq(e[0].depth, 0);
  cr_assert_eq(e[1].type, ZX_INFO_MAPS_TYPE_VMAR);
  cr_assert_eq(e[1].depth, 1);
  cr_assert_eq(e[1].base, root.base);
  cr_assert_eq(e[1].size, root.len);
  cr_assert_leq(e[0].base, e[1].base);
  size_t i = 2;
  while (i < actual && e[i].base != a.base) i++;
  cr_assert_lt(i + 3, actual);
  cr_assert_eq(e[i].type, ZX_INFO_MAPS_TYPE_VMAR);
  cr_assert_eq(e[i].depth, 2);
  expect_mapping(&e[i + 1], m0, 2 * PG, vmo, PG, RW, 3);
  cr_assert_eq(e[i + 2].base, s.base);
  cr_assert_eq(e[i + 2].depth, 3);
  expect_mapping(&e[i + 3], m1, PG, vmo, 0, R, 4);
  // The older layouts: same entries, smaller records.
  zx_info_maps_v2_t v2[MAXE];
  size_t a2 = 0, n2 = 0;
  cr_assert_eq(zx_object_get_info(p, ZX_INFO_PROCESS_MAPS_V2, v2, sizeof(v2), &a2, &n2), ZX_OK);
  cr_assert_eq(n2, avail);
  cr_assert_eq(v2[i + 1].base, m0);
  cr_assert_eq(v2[i + 1].u.mapping.vmo_offset, PG);
  cr_assert_eq(v2[i + 1].u.mapping.vmo_koid, koid_of(vmo));
  zx_info_maps_v1_t v1[MAXE];
  cr_assert_eq(zx_object_get_info(p, ZX_INFO_PROCESS_MAPS_V1, v1, sizeof(v1), &a2, &n2), ZX_OK);
  cr_assert_eq(n2, avail);
  cr_assert_eq(v1[i + 3].base, m1);
  cr_assert_eq(v1[i + 3].depth, 4);
  // Errors: the topic needs a process handle with INSPECT.
  cr_assert_eq(zx_object_get_info(a.h, ZX_INFO_PROCESS_MAPS, e, sizeof(e), NULL, NULL),
               ZX_ERR_WRONG_TYPE);
  zx_handle_t noinspect = dup_h(p, ZX_DEFAULT_PROCESS_RIGHTS & ~ZX_RIGHT_INSPECT);
  cr_assert_eq(zx_object_get_info(noinspect, ZX_INFO_PROCESS_MAPS, e, sizeof(e), NULL, NULL),
               ZX_ERR_ACCESS_DENIED);
  zx_handle_close(noinspect);
  cr_assert_eq(zx_object_get_info(p, ZX_INFO_PROCESS_MAPS, NULL, sizeof(e), NULL, NULL),
               ZX_ERR_INVALID_ARGS);
  cr_assert_eq(zx_object_get_info(p, ZX_INFO_PROCESS_MAPS, NULL, 0, &actual, &avail), ZX_OK);
  cr_assert_eq(actual, 0);
  cr_assert_eq(avail, n2);
  zx_handle_close(vmo);
}

// ---- allocation failure ---------------------------------------------------------

// Runs `op` with the n-th metadata allocation failing, for n = 1, 2, ... until it
// succeeds; every failure must be NO_MEMORY and leave the arena's tree and the handle
// count as they were.
typedef zx_status_t (*op_fn)(region_t* a, void* ctx);

static void every_allocation_fails_once(region_t* a, op_fn op, void* ctx) {
  zx_info_maps_t before[MAXE], after[MAXE];
  size_t n = maps_of(a->h, before);
  zxvmo_stats_t s0;
  cr_assert_eq(zxvmo_get_stats(&s0), ZX_OK);
  for (uint64_t nth = 1;; nth++) {
    cr_assert_lt(nth, 64, "the operation keeps failing");
    os_fail_alloc(nth, false);
    zx_status_t st = op(a, ctx);
    os_fail_alloc(0, false);
    if (st == ZX_OK) {
      cr_assert_gt(nth, 1, "the operation allocates");
      return;
    }
    cr_assert_eq(st, ZX_ERR_NO_MEMORY, "allocation %lu: status %d", (unsigned long)nth, st);
    cr_assert_eq(maps_of(a->h, after), n, "allocation %lu changed the tree", (unsigned long)nth);
    cr_assert_eq(memcmp(before, after, n * sizeof(before[0])), 0);
    zxvmo_stats_t s1;
    cr_assert_eq(zxvmo_get_stats(&s1), ZX_OK);
    cr_assert_eq(s1.handles_alive, s0.handles_alive);
  }
}

typedef struct {
  zx_handle_t vmo;
  uintptr_t at;
} fail_ctx_t;

static zx_status_t op_map(region_t* a, void* c) {
  uintptr_t addr;
  return zx_vmar_map(a->h, RW, 0, ((fail_ctx_t*)c)->vmo, 0, PG, &addr);
}
static zx_status_t op_overwrite(region_t* a, void* c) {
  uintptr_t addr;
  return zx_vmar_map(a->h, R | ZX_VM_SPECIFIC_OVERWRITE, 2 * PG, ((fail_ctx_t*)c)->vmo, 0, PG,
                     &addr);
}
static zx_status_t op_unmap_middle(region_t* a, void* c) {
  return zx_vmar_unmap(a->h, ((fail_ctx_t*)c)->at + PG, PG);
}
static zx_status_t op_protect_middle(region_t* a, void* c) {
  return zx_vmar_protect(a->h, R, ((fail_ctx_t*)c)->at + 2 * PG, PG);
}
static zx_status_t op_allocate(region_t* a, void* c) {
  (void)c;
  zx_handle_t h;
  uintptr_t addr;
  return zx_vmar_allocate(a->h, ZX_VM_CAN_MAP_READ, 0, PG, &h, &addr);
}

Test(vmar_api, allocation_failure_changes_nothing) {
  region_t a = arena(64);
  fail_ctx_t c = {.vmo = mkvmo(8 * PG), .at = 0};
  // Enough records and VMARs that the arrays must grow during the operations below.
  for (uint64_t i = 0; i < 7; i++) map_ok(a.h, R | ZX_VM_SPECIFIC, (40 + 2 * i) * PG, c.vmo, 0, PG);
  c.at = map_ok(a.h, RW | ZX_VM_SPECIFIC, 0, c.vmo, 0, 8 * PG);
  every_allocation_fails_once(&a, op_unmap_middle, &c);
  every_allocation_fails_once(&a, op_protect_middle, &c);
  every_allocation_fails_once(&a, op_overwrite, &c);
  every_allocation_fails_once(&a, op_map, &c);
  every_allocation_fails_once(&a, op_allocate, &c);
  zx_info_maps_t e[MAXE];
  size_t n = maps_of(a.h, e);
  // The arena, the 7 one-page records, [0,1) [1,2) [2,3) [3,8) and the new VMAR.
  cr_assert_eq(n, 1 + 7 + 4 + 1);
  expect_mapping(&e[1], c.at, PG, c.vmo, 0, RW, 1);
  expect_mapping(&e[2], c.at + PG, PG, c.vmo, 0, RW, 1);
  expect_mapping(&e[3], c.at + 2 * PG, PG, c.vmo, 0, R, 1);
  expect_mapping(&e[4], c.at + 3 * PG, 5 * PG, c.vmo, 3 * PG, RW, 1);
  cr_assert_eq(e[5].type, ZX_INFO_MAPS_TYPE_VMAR);
  zx_handle_close(c.vmo);
}

// ---- white box: the lookups the fault path uses ---------------------------------

Test(vmar_api, aspace_lookup_and_contains) {
  region_t a = arena(16);
  zx_handle_t vmo = mkvmo(8 * PG);
  uintptr_t m0 = map_ok(a.h, R | ZX_VM_SPECIFIC, PG, vmo, 0, 2 * PG);
  region_t s = sub_of(a.h, ALL_CAN | ZX_VM_SPECIFIC, 4 * PG, 8 * PG);
  uintptr_t m1 = map_ok(s.h, RW | ZX_VM_SPECIFIC, 2 * PG, vmo, 3 * PG, 3 * PG);
  uintptr_t m2 = map_ok(a.h, R | ZX_VM_SPECIFIC, 12 * PG, vmo, 0, PG);
  cr_assert_eq(zx_vmar_unmap(s.h, m1 + PG, PG), ZX_OK);  // splits m1 in two
  aspace_rdlock();
  cr_assert_null(aspace_lookup(a.base));
  cr_assert_null(aspace_lookup(a.base + PG - 1));
  mapping_t* m = aspace_lookup(m0);
  cr_assert_not_null(m);
  cr_assert_eq(m->base, m0);
  cr_assert_eq(m->len, 2 * PG);
  cr_assert_eq(aspace_lookup(m0 + 2 * PG - 1), m);
  cr_assert_null(aspace_lookup(m0 + 2 * PG));
  m = aspace_lookup(m1 + 17);
  cr_assert_not_null(m);
  cr_assert_eq(m->base, m1);
  cr_assert_eq(m->len, PG);
  cr_assert_eq(m->vmo_off, 3 * PG);
  cr_assert_eq(m->perms, RW);
  cr_assert_null(aspace_lookup(m1 + PG));
  m = aspace_lookup(m1 + 2 * PG);
  cr_assert_not_null(m);
  cr_assert_eq(m->vmo_off, 5 * PG);
  cr_assert_eq(aspace_lookup(m2)->base, m2);
  cr_assert_null(aspace_lookup(m2 + PG));
  cr_assert_null(aspace_lookup(0));
  cr_assert_null(aspace_lookup(UINTPTR_MAX));
  aspace_unlock();
  zx_info_vmar_t root = vmar_info(zx_vmar_root_self());
  cr_assert(aspace_contains(m0, PG));
  cr_assert(aspace_contains(root.base, 1));
  cr_assert(aspace_contains(root.base - PG, 2 * PG));
  cr_assert_not(aspace_contains(root.base - PG, PG));
  cr_assert_not(aspace_contains(root.base + root.len, PG));
  cr_assert(aspace_contains(root.base + root.len - 1, UINT64_MAX));
  zx_handle_close(vmo);
}
