// SPDX-License-Identifier: BSD-3-Clause
// Driver memory (docs/behavior.md §15): resources, physical and contiguous VMOs, the
// IOMMU, BTIs and PMTs (pins, quarantine, device addresses and the device's view),
// seed 000's rules on pinned, physical and contiguous VMOs, cache policy, and
// zx_vmo_replace_as_executable: every call, its rights and its errors in order.
#include <criterion/criterion.h>
#include <string.h>
#include <zircon/process.h>

#include "helpers.h"
#include "os.h"
#include "pager_helpers.h"

// An MMIO range inside the emulated machine's device window.
#define MMIO_BASE ((zx_paddr_t)0xfd000000u)

static zx_handle_t root(void) {
  zx_handle_t r = zxvmo_root_resource();
  cr_assert_neq(r, ZX_HANDLE_INVALID);
  return r;
}

static zx_handle_t mk_bti(void) { return mk_test_bti(); }

static zx_info_bti_t bti_info(zx_handle_t bti) {
  zx_info_bti_t info;
  cr_assert_eq(zx_object_get_info(bti, ZX_INFO_BTI, &info, sizeof(info), NULL, NULL), ZX_OK);
  return info;
}

static zx_handle_t mk_phys(zx_paddr_t paddr, size_t size) {
  zx_handle_t rr = root(), v;
  cr_assert_eq(zx_vmo_create_physical(rr, paddr, size, &v), ZX_OK);
  zx_handle_close(rr);
  return v;
}

// ---- resources ----

Test(resource, root_info_and_rights) {
  zx_handle_t r = root();
  zx_info_handle_basic_t b;
  cr_assert_eq(zx_object_get_info(r, ZX_INFO_HANDLE_BASIC, &b, sizeof(b), NULL, NULL), ZX_OK);
  cr_assert_eq(b.type, ZX_OBJ_TYPE_RESOURCE);
  cr_assert_eq(b.rights, ZX_DEFAULT_RESOURCE_RIGHTS);
  zx_info_resource_t info;
  cr_assert_eq(zx_object_get_info(r, ZX_INFO_RESOURCE, &info, sizeof(info), NULL, NULL), ZX_OK);
  cr_assert_eq(info.kind, ZX_RSRC_KIND_ROOT);
  // Every call gives a new handle to the same object.
  zx_handle_t r2 = root();
  zx_info_handle_basic_t b2;
  cr_assert_eq(zx_object_get_info(r2, ZX_INFO_HANDLE_BASIC, &b2, sizeof(b2), NULL, NULL), ZX_OK);
  cr_assert_neq(r, r2);
  cr_assert_eq(b.koid, b2.koid);
  zx_handle_close(r);
  zx_handle_close(r2);
}

Test(resource, create_checks_in_order) {
  zx_handle_t r = root(), mmio, out;
  // Handle and rights first.
  cr_assert_eq(zx_resource_create(ZX_HANDLE_INVALID, 0, 0, 1, NULL, 0, &out), ZX_ERR_BAD_HANDLE);
  zx_handle_t ev;
  cr_assert_eq(zx_event_create(0, &ev), ZX_OK);
  cr_assert_eq(zx_resource_create(ev, 0, 0, 1, NULL, 0, &out), ZX_ERR_WRONG_TYPE);
  zx_handle_t ro;
  cr_assert_eq(zx_handle_duplicate(r, ZX_RIGHT_INSPECT, &ro), ZX_OK);
  cr_assert_eq(zx_resource_create(ro, ZX_RSRC_KIND_MMIO, MMIO_BASE, PG, NULL, 0, &out),
               ZX_ERR_ACCESS_DENIED);
  // Kind and flags.
  cr_assert_eq(zx_resource_create(r, ZX_RSRC_KIND_COUNT, 0, 1, NULL, 0, &out),
               ZX_ERR_INVALID_ARGS);
  cr_assert_eq(zx_resource_create(r, ZX_RSRC_KIND_MMIO | 0x20000u, MMIO_BASE, PG, NULL, 0, &out),
               ZX_ERR_INVALID_ARGS);
  // The root does not grant RAM: ACCESS_DENIED, whatever the reason underneath.
  cr_assert_eq(zx_resource_create(r, ZX_RSRC_KIND_MMIO, (zx_paddr_t)1 << 41, PG, NULL, 0, &out),
               ZX_ERR_ACCESS_DENIED);
  // Size 0 and wrap-around.
  cr_assert_eq(zx_resource_create(r, ZX_RSRC_KIND_IRQ, 5, 0, NULL, 0, &out), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(zx_resource_create(r, ZX_RSRC_KIND_IRQ, UINT64_MAX, 2, NULL, 0, &out),
               ZX_ERR_INVALID_ARGS);
  // Names: a bad pointer is INVALID_ARGS; long names are cut to 31 bytes.
  cr_assert_eq(zx_resource_create(r, ZX_RSRC_KIND_MMIO, MMIO_BASE, PG, NULL, 4, &out),
               ZX_ERR_INVALID_ARGS);
  const char* name = "a-name-longer-than-thirty-one-bytes-for-sure";
  cr_assert_eq(zx_resource_create(r, ZX_RSRC_KIND_MMIO, MMIO_BASE, 2 * PG, name, strlen(name),
                                  &mmio),
               ZX_OK);
  zx_info_resource_t info;
  cr_assert_eq(zx_object_get_info(mmio, ZX_INFO_RESOURCE, &info, sizeof(info), NULL, NULL), ZX_OK);
  cr_assert_eq(info.kind, ZX_RSRC_KIND_MMIO);
  cr_assert_eq(info.base, MMIO_BASE);
  cr_assert_eq(info.size, 2 * PG);
  cr_assert_eq(strlen(info.name), 31u);
  cr_assert_eq(memcmp(info.name, name, 31), 0);
  cr_assert_eq(handle_rights(mmio), ZX_DEFAULT_RESOURCE_RIGHTS);
  // A child of a narrower resource must lie inside it; its kind must match.
  cr_assert_eq(zx_resource_create(mmio, ZX_RSRC_KIND_MMIO, MMIO_BASE + PG, 2 * PG, NULL, 0, &out),
               ZX_ERR_ACCESS_DENIED);
  cr_assert_eq(zx_resource_create(mmio, ZX_RSRC_KIND_IRQ, 0, 1, NULL, 0, &out),
               ZX_ERR_ACCESS_DENIED);
  cr_assert_eq(zx_resource_create(mmio, ZX_RSRC_KIND_MMIO, MMIO_BASE + PG, PG, NULL, 0, &out),
               ZX_OK);
  zx_handle_close(out);
  // Only a root may hand out exclusive ranges.
  cr_assert_eq(zx_resource_create(mmio, ZX_RSRC_KIND_MMIO | ZX_RSRC_FLAG_EXCLUSIVE, MMIO_BASE, PG,
                                  NULL, 0, &out),
               ZX_ERR_INVALID_ARGS);
  cr_assert_eq(zx_resource_create(r, ZX_RSRC_KIND_ROOT, 1, 0, NULL, 0, &out), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(zx_resource_create(r, ZX_RSRC_KIND_SYSTEM, ZX_RSRC_SYSTEM_COUNT, 1, NULL, 0, &out),
               ZX_ERR_NOT_FOUND);
  cr_assert_eq(zx_resource_create(r, ZX_RSRC_KIND_MMIO, MMIO_BASE, PG, NULL, 0, NULL),
               ZX_ERR_INVALID_ARGS);
  zx_handle_close(mmio);
  zx_handle_close(ro);
  zx_handle_close(ev);
  zx_handle_close(r);
}

Test(resource, exclusive_ranges) {
  zx_handle_t r = root(), ex, shared, out;
  cr_assert_eq(zx_resource_create(r, ZX_RSRC_KIND_IRQ, 100, 10, NULL, 0, &shared), ZX_OK);
  // Exclusive over a live resource of the kind: NOT_FOUND.
  cr_assert_eq(zx_resource_create(r, ZX_RSRC_KIND_IRQ | ZX_RSRC_FLAG_EXCLUSIVE, 105, 10, NULL, 0,
                                  &out),
               ZX_ERR_NOT_FOUND);
  zx_handle_close(shared);
  cr_assert_eq(zx_resource_create(r, ZX_RSRC_KIND_IRQ | ZX_RSRC_FLAG_EXCLUSIVE, 105, 10, NULL, 0,
                                  &ex),
               ZX_OK);
  // Nothing may overlap an exclusive range while it lives; other kinds may.
  cr_assert_eq(zx_resource_create(r, ZX_RSRC_KIND_IRQ, 114, 2, NULL, 0, &out), ZX_ERR_NOT_FOUND);
  cr_assert_eq(zx_resource_create(r, ZX_RSRC_KIND_IRQ, 115, 2, NULL, 0, &out), ZX_OK);
  zx_handle_close(out);
  cr_assert_eq(zx_resource_create(r, ZX_RSRC_KIND_IOPORT, 105, 2, NULL, 0, &out), ZX_OK);
  zx_handle_close(out);
  zx_handle_close(ex);
  cr_assert_eq(zx_resource_create(r, ZX_RSRC_KIND_IRQ, 110, 2, NULL, 0, &out), ZX_OK);
  zx_handle_close(out);
  zx_handle_close(r);
}

// ---- physical VMOs ----

Test(physical, create_checks_in_order) {
  zx_handle_t r = root(), v, mmio, irq;
  // The resource decides first, before any argument.
  cr_assert_eq(zx_vmo_create_physical(ZX_HANDLE_INVALID, 1, 0, &v), ZX_ERR_BAD_HANDLE);
  cr_assert_eq(zx_resource_create(r, ZX_RSRC_KIND_IRQ, 1, 1, NULL, 0, &irq), ZX_OK);
  cr_assert_eq(zx_vmo_create_physical(irq, MMIO_BASE, PG, &v), ZX_ERR_WRONG_TYPE);
  cr_assert_eq(zx_resource_create(r, ZX_RSRC_KIND_MMIO, MMIO_BASE, PG, NULL, 0, &mmio), ZX_OK);
  cr_assert_eq(zx_vmo_create_physical(mmio, MMIO_BASE, 2 * PG, &v), ZX_ERR_OUT_OF_RANGE);
  cr_assert_eq(zx_vmo_create_physical(mmio, MMIO_BASE - PG, PG, &v), ZX_ERR_OUT_OF_RANGE);
  cr_assert_eq(zx_vmo_create_physical(r, (zx_paddr_t)1 << 41, PG, &v), ZX_ERR_ACCESS_DENIED);
  // Then the arguments.
  cr_assert_eq(zx_vmo_create_physical(r, MMIO_BASE + 1, PG, &v), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(zx_vmo_create_physical(r, MMIO_BASE, 0, &v), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(zx_vmo_create_physical(r, MMIO_BASE, PG, NULL), ZX_ERR_INVALID_ARGS);
  // An unaligned size is rounded up, within the resource's pages.
  cr_assert_eq(zx_vmo_create_physical(mmio, MMIO_BASE, 10, &v), ZX_OK);
  uint64_t size;
  cr_assert_eq(zx_vmo_get_size(v, &size), ZX_OK);
  cr_assert_eq(size, PG);
  uint64_t content;
  cr_assert_eq(zx_object_get_property(v, ZX_PROP_VMO_CONTENT_SIZE, &content, sizeof(content)),
               ZX_OK);
  cr_assert_eq(content, PG);
  zx_info_vmo_t info = vmo_info(v);
  cr_assert_eq(ZX_INFO_VMO_TYPE(info.flags), ZX_INFO_VMO_TYPE_PHYSICAL);
  cr_assert(info.flags & ZX_INFO_VMO_CONTIGUOUS);
  cr_assert_eq(info.cache_policy, ZX_CACHE_POLICY_UNCACHED);
  cr_assert_eq(info.committed_bytes, 0u);
  cr_assert_eq(info.parent_koid, ZX_KOID_INVALID);
  cr_assert_eq(handle_rights(v), ZX_DEFAULT_VMO_RIGHTS);
  zx_handle_close(v);
  zx_handle_close(mmio);
  zx_handle_close(irq);
  zx_handle_close(r);
}

Test(physical, calls_it_refuses) {
  zx_handle_t v = mk_phys(MMIO_BASE, 4 * PG), child;
  uint8_t b = 0;
  cr_assert_eq(zx_vmo_read(v, &b, 0, 1), ZX_ERR_NOT_SUPPORTED);
  cr_assert_eq(zx_vmo_write(v, &b, 0, 1), ZX_ERR_NOT_SUPPORTED);
  cr_assert_eq(zx_vmo_set_size(v, PG), ZX_ERR_NOT_SUPPORTED);
  for (uint32_t op = ZX_VMO_OP_COMMIT; op <= ZX_VMO_OP_DECOMMIT; op++) {
    cr_assert_eq(zx_vmo_op_range(v, op, 0, PG, NULL, 0), ZX_ERR_NOT_SUPPORTED);
  }
  cr_assert_eq(zx_vmo_op_range(v, ZX_VMO_OP_ZERO, 0, PG, NULL, 0), ZX_ERR_NOT_SUPPORTED);
  cr_assert_eq(zx_vmo_create_child(v, ZX_VMO_CHILD_SNAPSHOT, 0, PG, &child), ZX_ERR_NOT_SUPPORTED);
  cr_assert_eq(zx_vmo_create_child(v, ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE, 0, PG, &child),
               ZX_ERR_NOT_SUPPORTED);
  // LOOKUP gives the physical addresses, committed or not.
  zx_paddr_t pa[2];
  cr_assert_eq(zx_vmo_op_range(v, ZX_VMO_OP_LOOKUP, PG, 2 * PG, pa, sizeof(pa)), ZX_OK);
  cr_assert_eq(pa[0], MMIO_BASE + PG);
  cr_assert_eq(pa[1], MMIO_BASE + 2 * PG);
  zx_handle_close(v);
}

Test(physical, same_range_same_bytes_through_mappings_and_slices) {
  zx_handle_t a = mk_phys(MMIO_BASE, 4 * PG);
  zx_handle_t b = mk_phys(MMIO_BASE + 2 * PG, 2 * PG);
  zx_handle_t s;
  cr_assert_eq(zx_vmo_create_child(a, ZX_VMO_CHILD_SLICE, 3 * PG, PG, &s), ZX_OK);
  zx_info_vmo_t si = vmo_info(s);
  cr_assert_eq(si.parent_koid, vmo_info(a).koid);
  cr_assert_eq(ZX_INFO_VMO_TYPE(si.flags), ZX_INFO_VMO_TYPE_PHYSICAL);
  cr_assert_eq(si.cache_policy, ZX_CACHE_POLICY_UNCACHED);
  zx_vaddr_t pa, pb, ps;
  zx_vm_option_t rw = ZX_VM_PERM_READ | ZX_VM_PERM_WRITE;
  cr_assert_eq(zx_vmar_map(zx_vmar_root_self(), rw, 0, a, 0, 4 * PG, &pa), ZX_OK);
  cr_assert_eq(zx_vmar_map(zx_vmar_root_self(), rw, 0, b, 0, 2 * PG, &pb), ZX_OK);
  cr_assert_eq(zx_vmar_map(zx_vmar_root_self(), rw, 0, s, 0, PG, &ps), ZX_OK);
  ((volatile uint8_t*)pa)[2 * PG + 5] = 0x5a;
  cr_assert_eq(((volatile uint8_t*)pb)[5], 0x5a);
  ((volatile uint8_t*)pb)[PG + 7] = 0xa5;
  cr_assert_eq(((volatile uint8_t*)ps)[7], 0xa5);
  cr_assert_eq(((volatile uint8_t*)pa)[3 * PG + 7], 0xa5);
  cr_assert_eq(zx_vmar_unmap(zx_vmar_root_self(), pa, 4 * PG), ZX_OK);
  cr_assert_eq(zx_vmar_unmap(zx_vmar_root_self(), pb, 2 * PG), ZX_OK);
  cr_assert_eq(zx_vmar_unmap(zx_vmar_root_self(), ps, PG), ZX_OK);
  zx_handle_close(a);
  zx_handle_close(b);
  zx_handle_close(s);
  // Physical memory keeps its bytes when its VMOs are gone, as memory does.
  zx_handle_t c = mk_phys(MMIO_BASE + 3 * PG, PG);
  zx_vaddr_t pc;
  cr_assert_eq(zx_vmar_map(zx_vmar_root_self(), ZX_VM_PERM_READ, 0, c, 0, PG, &pc), ZX_OK);
  cr_assert_eq(((volatile uint8_t*)pc)[7], 0xa5);
  cr_assert_eq(zx_vmar_unmap(zx_vmar_root_self(), pc, PG), ZX_OK);
  zx_handle_close(c);
  cr_assert_eq(zxvmo_check_invariants(), ZX_OK);
}

// zx_vmar_op_range acts as zx_vmo_op_range on the mapped VMO (§12.11): physical memory
// is neither committed, decommitted nor zeroed through a mapping, and an uncached VMO's
// mapping is not zeroed. Found by the differential fuzzer.
Test(physical, vmar_op_range_refuses_what_vmo_op_range_refuses) {
  zx_handle_t a = mk_phys(MMIO_BASE + 8 * PG, 2 * PG);
  zx_vaddr_t pa;
  zx_vm_option_t rw = ZX_VM_PERM_READ | ZX_VM_PERM_WRITE;
  cr_assert_eq(zx_vmar_map(zx_vmar_root_self(), rw, 0, a, 0, 2 * PG, &pa), ZX_OK);
  ((volatile uint8_t*)pa)[PG + 3] = 0x77;
  const uint32_t ops[] = {ZX_VMAR_OP_COMMIT, ZX_VMAR_OP_DECOMMIT, ZX_VMAR_OP_ZERO};
  for (size_t i = 0; i < 3; i++) {
    cr_assert_eq(zx_vmar_op_range(zx_vmar_root_self(), ops[i], pa, 2 * PG, NULL, 0),
                 ZX_ERR_NOT_SUPPORTED, "op %u", ops[i]);
  }
  cr_assert_eq(((volatile uint8_t*)pa)[PG + 3], 0x77);
  cr_assert_eq(vmo_info(a).committed_bytes, 0);
  cr_assert_eq(zx_vmar_unmap(zx_vmar_root_self(), pa, 2 * PG), ZX_OK);
  zx_handle_close(a);

  zx_handle_t u;
  cr_assert_eq(zx_vmo_create(PG, 0, &u), ZX_OK);
  cr_assert_eq(zx_vmo_set_cache_policy(u, ZX_CACHE_POLICY_UNCACHED), ZX_OK);
  zx_vaddr_t pu;
  cr_assert_eq(zx_vmar_map(zx_vmar_root_self(), rw, 0, u, 0, PG, &pu), ZX_OK);
  ((volatile uint8_t*)pu)[9] = 0x66;
  cr_assert_eq(zx_vmar_op_range(zx_vmar_root_self(), ZX_VMAR_OP_ZERO, pu, PG, NULL, 0),
               ZX_ERR_BAD_STATE);
  cr_assert_eq(((volatile uint8_t*)pu)[9], 0x66);
  cr_assert_eq(zx_vmar_unmap(zx_vmar_root_self(), pu, PG), ZX_OK);
  zx_handle_close(u);
  cr_assert_eq(zxvmo_check_invariants(), ZX_OK);
}

// Driver memory has no content size to set (as on Zircon): cutting it dropped physical
// memory's pages. Found by the differential fuzzer.
Test(physical, content_size_cannot_be_set) {
  zx_handle_t a = mk_phys(MMIO_BASE + 12 * PG, 2 * PG);
  zx_vaddr_t pa;
  cr_assert_eq(zx_vmar_map(zx_vmar_root_self(), ZX_VM_PERM_READ | ZX_VM_PERM_WRITE, 0, a, 0,
                           2 * PG, &pa), ZX_OK);
  ((volatile uint8_t*)pa)[PG + 3] = 0x55;
  uint64_t cs = 5;
  cr_assert_eq(zx_object_set_property(a, ZX_PROP_VMO_CONTENT_SIZE, &cs, sizeof(cs)),
               ZX_ERR_NOT_SUPPORTED);
  cr_assert_eq(((volatile uint8_t*)pa)[PG + 3], 0x55);
  cr_assert_eq(zx_object_get_property(a, ZX_PROP_VMO_CONTENT_SIZE, &cs, sizeof(cs)), ZX_OK);
  cr_assert_eq(cs, 2 * PG);
  cr_assert_eq(zx_vmar_unmap(zx_vmar_root_self(), pa, 2 * PG), ZX_OK);
  zx_handle_close(a);
  zx_handle_t bti = mk_bti(), c;
  cr_assert_eq(zx_vmo_create_contiguous(bti, PG, 0, &c), ZX_OK);
  cs = 3 * PG;
  cr_assert_eq(zx_object_set_property(c, ZX_PROP_VMO_CONTENT_SIZE, &cs, sizeof(cs)),
               ZX_ERR_NOT_SUPPORTED);
  zx_handle_close(c);
  zx_handle_close(bti);
  cr_assert_eq(zxvmo_check_invariants(), ZX_OK);
}

// ---- contiguous VMOs ----

Test(contiguous, create_checks_and_state) {
  zx_handle_t bti = mk_bti(), v, child, ro;
  cr_assert_eq(zx_vmo_create_contiguous(bti, 0, 0, &v), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(zx_vmo_create_contiguous(bti, PG, 11, &v), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(zx_vmo_create_contiguous(bti, PG, 64, &v), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(zx_vmo_create_contiguous(ZX_HANDLE_INVALID, PG, 0, &v), ZX_ERR_BAD_HANDLE);
  cr_assert_eq(zx_handle_duplicate(bti, ZX_RIGHT_READ, &ro), ZX_OK);
  cr_assert_eq(zx_vmo_create_contiguous(ro, PG, 0, &v), ZX_ERR_ACCESS_DENIED);
  cr_assert_eq(zx_vmo_create_contiguous(bti, UINT64_MAX, 0, &v), ZX_ERR_OUT_OF_RANGE);
  cr_assert_eq(zx_vmo_create_contiguous(bti, PG, 0, NULL), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(zx_vmo_create_contiguous(bti, 3 * PG + 1, 20, &v), ZX_OK);
  zx_info_vmo_t info = vmo_info(v);
  cr_assert_eq(info.size_bytes, 4 * PG);
  cr_assert_eq(info.committed_bytes, 4 * PG);  // committed at creation
  cr_assert_eq(ZX_INFO_VMO_TYPE(info.flags), ZX_INFO_VMO_TYPE_PAGED);
  cr_assert(info.flags & ZX_INFO_VMO_CONTIGUOUS);
  uint64_t content;
  cr_assert_eq(zx_object_get_property(v, ZX_PROP_VMO_CONTENT_SIZE, &content, sizeof(content)),
               ZX_OK);
  cr_assert_eq(content, 3 * PG + 1);
  // Aligned as asked, and contiguous.
  zx_paddr_t pa[4];
  cr_assert_eq(zx_vmo_op_range(v, ZX_VMO_OP_LOOKUP, 0, 4 * PG, pa, sizeof(pa)), ZX_OK);
  cr_assert_eq(pa[0] & ((1u << 20) - 1), 0u);
  for (int i = 1; i < 4; i++) cr_assert_eq(pa[i], pa[0] + (uint64_t)i * PG);
  // Reads and writes work; DECOMMIT does not; ZERO keeps the pages.
  wr8(v, PG, 9);
  cr_assert_eq(rd8(v, PG), 9);
  cr_assert_eq(zx_vmo_op_range(v, ZX_VMO_OP_DECOMMIT, 0, PG, NULL, 0), ZX_ERR_NOT_SUPPORTED);
  cr_assert_eq(zx_vmo_op_range(v, ZX_VMO_OP_ZERO, 0, 4 * PG, NULL, 0), ZX_OK);
  cr_assert_eq(rd8(v, PG), 0);
  cr_assert_eq(vmo_info(v).committed_bytes, 4 * PG);
  cr_assert_eq(zx_vmo_set_size(v, PG), ZX_ERR_UNAVAILABLE);
  // Copy-on-write children: INVALID_ARGS; slices work and stay contiguous.
  cr_assert_eq(zx_vmo_create_child(v, ZX_VMO_CHILD_SNAPSHOT, 0, PG, &child), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(zx_vmo_create_child(v, ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE, 0, PG, &child),
               ZX_ERR_INVALID_ARGS);
  cr_assert_eq(zx_vmo_create_child(v, ZX_VMO_CHILD_SLICE, PG, PG, &child), ZX_OK);
  cr_assert(vmo_info(child).flags & ZX_INFO_VMO_CONTIGUOUS);
  zx_paddr_t spa;
  cr_assert_eq(zx_vmo_op_range(child, ZX_VMO_OP_LOOKUP, 0, PG, &spa, sizeof(spa)), ZX_OK);
  cr_assert_eq(spa, pa[1]);
  zx_handle_t grandchild;
  cr_assert_eq(zx_vmo_create_child(child, ZX_VMO_CHILD_SNAPSHOT, 0, PG, &grandchild),
               ZX_ERR_INVALID_ARGS);
  zx_handle_close(child);
  zx_handle_close(v);
  zx_handle_close(ro);
  zx_handle_close(bti);
}

// ---- IOMMU and BTI ----

// Emulated RAM addresses never wrap into physical memory: a second VMO aligned to
// 2^63 has no room left below 2^64 (NO_MEMORY, as Zircon with no memory so aligned),
// and pins still get fresh RAM addresses after the first.
Test(contiguous, alignment_past_the_address_space) {
  zx_handle_t bti = mk_bti(), a, b, v = mkvmo(PG), pmt;
  cr_assert_eq(zx_vmo_create_contiguous(bti, PG, 63, &a), ZX_OK);
  zx_paddr_t pa = 0, pv = 0;
  cr_assert_eq(zx_vmo_op_range(a, ZX_VMO_OP_LOOKUP, 0, PG, &pa, sizeof(pa)), ZX_OK);
  cr_assert_eq(pa, (zx_paddr_t)1 << 63);
  cr_assert_eq(zx_vmo_create_contiguous(bti, PG, 63, &b), ZX_ERR_NO_MEMORY);
  cr_assert_eq(zx_bti_pin(bti, ZX_BTI_PERM_READ, v, 0, PG, &pv, 1, &pmt), ZX_OK);
  cr_assert_geq(pv, pa + PG);
  cr_assert_eq(zx_pmt_unpin(pmt), ZX_OK);
  zx_handle_close(a);
  zx_handle_close(v);
  zx_handle_close(bti);
  cr_assert_eq(zxvmo_check_invariants(), ZX_OK);
}

Test(bti, iommu_and_bti_create_checks) {
  zx_handle_t r = root(), iommu, bti, sys, vmex;
  zx_iommu_desc_dummy_t desc = {0};
  uint8_t big[ZX_IOMMU_MAX_DESC_LEN + 1];
  memset(big, 0, sizeof(big));
  cr_assert_eq(zx_iommu_create(ZX_HANDLE_INVALID, ZX_IOMMU_TYPE_DUMMY, &desc, 1, &iommu),
               ZX_ERR_BAD_HANDLE);
  cr_assert_eq(zx_resource_create(r, ZX_RSRC_KIND_SYSTEM, ZX_RSRC_SYSTEM_VMEX_BASE, 1, NULL, 0,
                                  &vmex),
               ZX_OK);
  cr_assert_eq(zx_iommu_create(vmex, ZX_IOMMU_TYPE_DUMMY, &desc, 1, &iommu), ZX_ERR_WRONG_TYPE);
  cr_assert_eq(zx_iommu_create(r, ZX_IOMMU_TYPE_DUMMY, big, sizeof(big), &iommu),
               ZX_ERR_INVALID_ARGS);
  cr_assert_eq(zx_iommu_create(r, ZX_IOMMU_TYPE_DUMMY, NULL, 1, &iommu), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(zx_iommu_create(r, ZX_IOMMU_TYPE_INTEL, &desc, 1, &iommu), ZX_ERR_NOT_SUPPORTED);
  cr_assert_eq(zx_iommu_create(r, ZX_IOMMU_TYPE_DUMMY, big, 2, &iommu), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(zx_iommu_create(r, ZX_IOMMU_TYPE_DUMMY, &desc, 1, NULL), ZX_ERR_INVALID_ARGS);
  // The IOMMU system resource grants it too.
  cr_assert_eq(zx_resource_create(r, ZX_RSRC_KIND_SYSTEM, ZX_RSRC_SYSTEM_IOMMU_BASE, 1, NULL, 0,
                                  &sys),
               ZX_OK);
  cr_assert_eq(zx_iommu_create(sys, ZX_IOMMU_TYPE_DUMMY, &desc, 1, &iommu), ZX_OK);
  cr_assert_eq(handle_rights(iommu), ZX_DEFAULT_IOMMU_RIGHTS);
  cr_assert_eq(zx_bti_create(iommu, 1, 0, &bti), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(zx_bti_create(r, 0, 0, &bti), ZX_ERR_WRONG_TYPE);
  cr_assert_eq(zx_bti_create(iommu, 0, 0, NULL), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(zx_bti_create(iommu, 0, 42, &bti), ZX_OK);
  cr_assert_eq(handle_rights(bti), ZX_DEFAULT_BTI_RIGHTS);
  zx_info_bti_t info = bti_info(bti);
  cr_assert_eq(info.minimum_contiguity, PG);
  cr_assert_eq(info.aspace_size, UINT64_MAX);
  cr_assert_eq(info.pmo_count, 0u);
  cr_assert_eq(info.quarantine_count, 0u);
  zx_handle_t noinspect;
  cr_assert_eq(zx_handle_duplicate(bti, ZX_RIGHT_MAP, &noinspect), ZX_OK);
  cr_assert_eq(zx_object_get_info(noinspect, ZX_INFO_BTI, &info, sizeof(info), NULL, NULL),
               ZX_ERR_ACCESS_DENIED);
  zx_handle_close(noinspect);
  zx_handle_close(bti);
  zx_handle_close(iommu);
  zx_handle_close(sys);
  zx_handle_close(vmex);
  zx_handle_close(r);
}

Test(bti, pin_checks_in_order) {
  zx_handle_t bti = mk_bti(), v = mkvmo(4 * PG), pmt, ro, nomap, bro;
  zx_paddr_t a[4];
  cr_assert_eq(zx_handle_duplicate(bti, ZX_RIGHT_READ, &bro), ZX_OK);
  cr_assert_eq(zx_bti_pin(bro, ZX_BTI_PERM_READ, v, 0, PG, a, 1, &pmt), ZX_ERR_ACCESS_DENIED);
  cr_assert_eq(zx_bti_pin(bti, ZX_BTI_PERM_READ, v, 1, PG, a, 1, &pmt), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(zx_bti_pin(bti, ZX_BTI_PERM_READ, v, 0, PG + 1, a, 1, &pmt), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(zx_bti_pin(bti, ZX_BTI_PERM_READ, ZX_HANDLE_INVALID, 0, PG, a, 1, &pmt),
               ZX_ERR_BAD_HANDLE);
  cr_assert_eq(zx_handle_duplicate(v, ZX_RIGHT_READ | ZX_RIGHT_WRITE, &nomap), ZX_OK);
  cr_assert_eq(zx_bti_pin(bti, ZX_BTI_PERM_READ, nomap, 0, PG, a, 1, &pmt), ZX_ERR_ACCESS_DENIED);
  cr_assert_eq(zx_handle_duplicate(v, ZX_RIGHT_READ | ZX_RIGHT_MAP, &ro), ZX_OK);
  cr_assert_eq(zx_bti_pin(bti, ZX_BTI_PERM_WRITE, ro, 0, PG, a, 1, &pmt), ZX_ERR_ACCESS_DENIED);
  // EXECUTE asks for READ, not EXECUTE.
  cr_assert_eq(zx_bti_pin(bti, ZX_BTI_PERM_EXECUTE, ro, 0, PG, a, 1, &pmt), ZX_OK);
  cr_assert_eq(zx_pmt_unpin(pmt), ZX_OK);
  cr_assert_eq(zx_bti_pin(bti, ZX_BTI_PERM_READ | ZX_BTI_COMPRESS | ZX_BTI_CONTIGUOUS, v, 0, PG,
                          a, 1, &pmt),
               ZX_ERR_INVALID_ARGS);
  // CONTIGUOUS only for contiguous (or physical) memory.
  cr_assert_eq(zx_bti_pin(bti, ZX_BTI_PERM_READ | ZX_BTI_CONTIGUOUS, v, 0, PG, a, 1, &pmt),
               ZX_ERR_INVALID_ARGS);
  cr_assert_eq(zx_bti_pin(bti, ZX_BTI_PERM_READ | (1u << 9), v, 0, PG, a, 1, &pmt),
               ZX_ERR_INVALID_ARGS);
  cr_assert_eq(zx_bti_pin(bti, ZX_BTI_PERM_READ, v, 0, 0, a, 0, &pmt), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(zx_bti_pin(bti, ZX_BTI_PERM_READ, v, 4 * PG, PG, a, 1, &pmt), ZX_ERR_OUT_OF_RANGE);
  // Checked once pinned (and undone): no permission, a wrong address count.
  cr_assert_eq(zx_bti_pin(bti, 0, v, 0, PG, a, 1, &pmt), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(zx_bti_pin(bti, ZX_BTI_PERM_READ, v, 0, 2 * PG, a, 1, &pmt), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(zx_bti_pin(bti, ZX_BTI_PERM_READ, v, 0, PG, a, 1, NULL), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(bti_info(bti).pmo_count, 0u);
  // Nothing stays pinned after those failures: DECOMMIT works.
  cr_assert_eq(zx_vmo_op_range(v, ZX_VMO_OP_DECOMMIT, 0, 4 * PG, NULL, 0), ZX_OK);
  zx_handle_close(ro);
  zx_handle_close(nomap);
  zx_handle_close(bro);
  zx_handle_close(v);
  zx_handle_close(bti);
}

Test(bti, pin_commits_and_device_sees_the_vmo) {
  zx_handle_t bti = mk_bti(), v = mkvmo(8 * PG), pmt, pmt2;
  zx_paddr_t a[4];
  cr_assert_eq(zx_bti_pin(bti, ZX_BTI_PERM_READ | ZX_BTI_PERM_WRITE, v, 2 * PG, 4 * PG, a, 4, &pmt),
               ZX_OK);
  cr_assert_eq(handle_rights(pmt), ZX_DEFAULT_PMT_RIGHTS);
  cr_assert_eq(vmo_info(v).committed_bytes, 4 * PG);
  for (int i = 1; i < 4; i++) cr_assert_eq(a[i], a[0] + (uint64_t)i * PG);
  // Device addresses never fall in the emulated MMIO window.
  cr_assert(a[0] >= 0xfe000000u || a[3] + PG <= 0xfd000000u);
  // The device sees what the VMO holds, and the VMO what the device writes.
  wr8(v, 3 * PG + 1, 0x77);
  uint8_t buf[8];
  cr_assert_eq(zxvmo_dma_read(bti, a[1] + 1, buf, 1), ZX_OK);
  cr_assert_eq(buf[0], 0x77);
  memset(buf, 0x3c, sizeof(buf));
  // Across a page boundary, inside the pin.
  cr_assert_eq(zxvmo_dma_write(bti, a[2] - 4, buf, 8), ZX_OK);
  cr_assert_eq(rd8(v, 4 * PG - 4), 0x3c);
  cr_assert_eq(rd8(v, 4 * PG + 3), 0x3c);
  // Outside any pin: NOT_FOUND, and nothing moves.
  cr_assert_eq(zxvmo_dma_write(bti, a[3] + PG - 4, buf, 8), ZX_ERR_NOT_FOUND);
  cr_assert_eq(rd8(v, 6 * PG - 1), 0);
  cr_assert_eq(zxvmo_dma_read(bti, 0x1000, buf, 1), ZX_ERR_NOT_FOUND);
  cr_assert_eq(zxvmo_dma_read(bti, a[0], NULL, 1), ZX_ERR_INVALID_ARGS);
  // A read-only pin: the device may not write.
  cr_assert_eq(zx_bti_pin(bti, ZX_BTI_PERM_READ | ZX_BTI_COMPRESS, v, 0, PG, a, 1, &pmt2), ZX_OK);
  cr_assert_eq(zxvmo_dma_write(bti, a[0], buf, 1), ZX_ERR_ACCESS_DENIED);
  cr_assert_eq(zxvmo_dma_read(bti, a[0], buf, 1), ZX_OK);
  zx_info_bti_t info = bti_info(bti);
  cr_assert_eq(info.pmo_count, 2u);
  cr_assert_eq(zx_pmt_unpin(pmt2), ZX_OK);
  cr_assert_eq(zxvmo_dma_read(bti, a[0], buf, 1), ZX_ERR_NOT_FOUND);
  // Another BTI does not reach this one's pins.
  zx_handle_t other = mk_bti();
  zx_paddr_t b0;
  cr_assert_eq(zx_vmo_op_range(v, ZX_VMO_OP_LOOKUP, 2 * PG, PG, &b0, sizeof(b0)), ZX_OK);
  cr_assert_eq(zxvmo_dma_read(other, b0, buf, 1), ZX_ERR_NOT_FOUND);
  zx_handle_close(other);
  cr_assert_eq(zx_pmt_unpin(pmt), ZX_OK);
  cr_assert_eq(bti_info(bti).pmo_count, 0u);
  // zx_pmt_unpin consumes its handle, also when it is not a PMT.
  cr_assert_eq(zx_pmt_unpin(pmt), ZX_ERR_BAD_HANDLE);
  zx_handle_t ev;
  cr_assert_eq(zx_event_create(0, &ev), ZX_OK);
  cr_assert_eq(zx_pmt_unpin(ev), ZX_ERR_WRONG_TYPE);
  cr_assert_eq(zx_handle_close(ev), ZX_ERR_BAD_HANDLE);
  zx_handle_close(v);
  zx_handle_close(bti);
}

Test(bti, pins_of_contiguous_and_physical_memory) {
  zx_handle_t bti = mk_bti(), c, pmt;
  cr_assert_eq(zx_vmo_create_contiguous(bti, 4 * PG, 0, &c), ZX_OK);
  zx_paddr_t pa[4], one;
  cr_assert_eq(zx_vmo_op_range(c, ZX_VMO_OP_LOOKUP, 0, 4 * PG, pa, sizeof(pa)), ZX_OK);
  cr_assert_eq(zx_bti_pin(bti, ZX_BTI_PERM_READ | ZX_BTI_CONTIGUOUS, c, PG, 2 * PG, &one, 1, &pmt),
               ZX_OK);
  cr_assert_eq(one, pa[1]);
  wr8(c, PG + 3, 0x42);
  uint8_t b;
  cr_assert_eq(zxvmo_dma_read(bti, one + 3, &b, 1), ZX_OK);
  cr_assert_eq(b, 0x42);
  cr_assert_eq(zx_pmt_unpin(pmt), ZX_OK);
  zx_handle_close(c);
  // Physical memory pins at its own addresses; the device writes memory a mapping shows.
  zx_handle_t p = mk_phys(MMIO_BASE + 8 * PG, 2 * PG);
  cr_assert_eq(zx_bti_pin(bti, ZX_BTI_PERM_WRITE | ZX_BTI_CONTIGUOUS, p, 0, 2 * PG, &one, 1, &pmt),
               ZX_OK);
  cr_assert_eq(one, MMIO_BASE + 8 * PG);
  uint8_t v = 0x99;
  cr_assert_eq(zxvmo_dma_write(bti, one + PG + 1, &v, 1), ZX_OK);
  zx_vaddr_t m;
  cr_assert_eq(zx_vmar_map(zx_vmar_root_self(), ZX_VM_PERM_READ, 0, p, 0, 2 * PG, &m), ZX_OK);
  cr_assert_eq(((volatile uint8_t*)m)[PG + 1], 0x99);
  cr_assert_eq(zx_vmar_unmap(zx_vmar_root_self(), m, 2 * PG), ZX_OK);
  cr_assert_eq(zx_pmt_unpin(pmt), ZX_OK);
  zx_handle_close(p);
  zx_handle_close(bti);
}

// Two pins of the same contiguous memory share its addresses: the device may read
// through the one that allows reading, whichever was made last (§15). Found by the
// differential fuzzer.
Test(bti, overlapping_pins_each_permission_counts) {
  zx_handle_t bti = mk_bti(), c, pr, pw;
  cr_assert_eq(zx_vmo_create_contiguous(bti, 2 * PG, 0, &c), ZX_OK);
  zx_paddr_t ar, aws[2];
  cr_assert_eq(zx_bti_pin(bti, ZX_BTI_PERM_READ, c, 0, PG, &ar, 1, &pr), ZX_OK);
  cr_assert_eq(zx_bti_pin(bti, ZX_BTI_PERM_WRITE, c, 0, 2 * PG, aws, 2, &pw), ZX_OK);
  zx_paddr_t aw = aws[0];
  cr_assert_eq(ar, aw);
  uint8_t b = 0x11;
  cr_assert_eq(zxvmo_dma_write(bti, aw + 1, &b, 1), ZX_OK);
  b = 0;
  cr_assert_eq(zxvmo_dma_read(bti, ar + 1, &b, 1), ZX_OK);
  cr_assert_eq(b, 0x11);
  // The second page is pinned for writing only.
  cr_assert_eq(zxvmo_dma_read(bti, aw + PG, &b, 1), ZX_ERR_ACCESS_DENIED);
  cr_assert_eq(zx_pmt_unpin(pr), ZX_OK);
  cr_assert_eq(zxvmo_dma_read(bti, ar + 1, &b, 1), ZX_ERR_ACCESS_DENIED);
  cr_assert_eq(zx_pmt_unpin(pw), ZX_OK);
  cr_assert_eq(zxvmo_dma_read(bti, ar + 1, &b, 1), ZX_ERR_NOT_FOUND);
  zx_handle_close(c);
  zx_handle_close(bti);
}

Test(bti, quarantine) {
  zx_handle_t bti = mk_bti(), v = mkvmo(2 * PG), pmt, pmt2;
  zx_paddr_t a;
  cr_assert_eq(zx_bti_pin(bti, ZX_BTI_PERM_READ, v, 0, PG, &a, 1, &pmt), ZX_OK);
  zx_info_bti_t info = bti_info(bti);
  cr_assert_eq(info.pmo_count, 1u);
  cr_assert_eq(info.quarantine_count, 0u);
  // Closed without unpinning: quarantined, still pinned and reachable.
  cr_assert_eq(zx_handle_close(pmt), ZX_OK);
  info = bti_info(bti);
  cr_assert_eq(info.pmo_count, 1u);
  cr_assert_eq(info.quarantine_count, 1u);
  uint8_t b;
  cr_assert_eq(zxvmo_dma_read(bti, a, &b, 1), ZX_OK);
  cr_assert_eq(zx_vmo_op_range(v, ZX_VMO_OP_DECOMMIT, 0, PG, NULL, 0), ZX_ERR_BAD_STATE);
  // A pin keeps its VMO alive: the quarantined one too.
  zx_handle_close(v);
  cr_assert_eq(zxvmo_dma_read(bti, a, &b, 1), ZX_OK);
  // No new pins while pages are quarantined.
  zx_handle_t w = mkvmo(PG);
  cr_assert_eq(zx_bti_pin(bti, ZX_BTI_PERM_READ, w, 0, PG, &a, 1, &pmt2), ZX_ERR_BAD_STATE);
  zx_handle_t ro;
  cr_assert_eq(zx_handle_duplicate(bti, ZX_RIGHT_INSPECT, &ro), ZX_OK);
  cr_assert_eq(zx_bti_release_quarantine(ro), ZX_ERR_ACCESS_DENIED);
  cr_assert_eq(zx_bti_release_quarantine(bti), ZX_OK);
  info = bti_info(bti);
  cr_assert_eq(info.pmo_count, 0u);
  cr_assert_eq(info.quarantine_count, 0u);
  cr_assert_eq(zxvmo_dma_read(bti, a, &b, 1), ZX_ERR_NOT_FOUND);
  cr_assert_eq(zx_bti_pin(bti, ZX_BTI_PERM_READ, w, 0, PG, &a, 1, &pmt2), ZX_OK);
  cr_assert_eq(zx_pmt_unpin(pmt2), ZX_OK);
  zx_handle_close(w);
  zx_handle_close(ro);
  zx_handle_close(bti);
  cr_assert_eq(zxvmo_check_invariants(), ZX_OK);
  zxvmo_stats_t st;
  cr_assert_eq(zxvmo_get_stats(&st), ZX_OK);
  cr_assert_eq(st.vmos_alive, 0u);  // the pins' holds went with the quarantine
}

// ---- seed 000's rules and pins ----

Test(pinned, snapshot_decommit_shrink_zero) {
  zx_handle_t bti = mk_bti(), pmt, child;
  zx_handle_t v;
  cr_assert_eq(zx_vmo_create(8 * PG, ZX_VMO_RESIZABLE, &v), ZX_OK);
  zx_paddr_t a[2];
  wr8(v, 5 * PG, 1);
  cr_assert_eq(zx_bti_pin(bti, ZX_BTI_PERM_WRITE, v, 4 * PG, 2 * PG, a, 2, &pmt), ZX_OK);
  cr_assert_eq(zx_vmo_create_child(v, ZX_VMO_CHILD_SNAPSHOT, 0, 8 * PG, &child), ZX_ERR_BAD_STATE);
  cr_assert_eq(zx_vmo_create_child(v, ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE, 0, PG, &child),
               ZX_ERR_BAD_STATE);
  cr_assert_eq(zx_vmo_op_range(v, ZX_VMO_OP_DECOMMIT, 0, 8 * PG, NULL, 0), ZX_ERR_BAD_STATE);
  cr_assert_eq(zx_vmo_op_range(v, ZX_VMO_OP_DECOMMIT, 0, 4 * PG, NULL, 0), ZX_OK);
  cr_assert_eq(zx_vmo_set_size(v, 5 * PG), ZX_ERR_BAD_STATE);
  cr_assert_eq(zx_vmo_set_size(v, 6 * PG), ZX_OK);
  cr_assert_eq(zx_vmo_set_size(v, 16 * PG), ZX_OK);
  // ZERO over pinned pages zeroes them where they are: they stay committed.
  cr_assert_eq(zx_vmo_op_range(v, ZX_VMO_OP_ZERO, 4 * PG, 2 * PG, NULL, 0), ZX_OK);
  cr_assert_eq(rd8(v, 5 * PG), 0);
  cr_assert_eq(vmo_info(v).committed_bytes, 2 * PG);
  uint8_t b = 0x11;
  cr_assert_eq(zxvmo_dma_write(bti, a[1], &b, 1), ZX_OK);
  cr_assert_eq(rd8(v, 5 * PG), 0x11);
  cr_assert_eq(zxvmo_check_invariants(), ZX_OK);
  cr_assert_eq(zx_pmt_unpin(pmt), ZX_OK);
  cr_assert_eq(zx_vmo_create_child(v, ZX_VMO_CHILD_SNAPSHOT, 0, 8 * PG, &child), ZX_OK);
  zx_handle_close(child);
  cr_assert_eq(zx_vmo_set_size(v, 0), ZX_OK);
  zx_handle_close(v);
  zx_handle_close(bti);
}

Test(pinned, slices_and_clones_of_pinned_vmos) {
  zx_handle_t bti = mk_bti(), v = mkvmo_filled(4, 10), pmt, s, c;
  zx_paddr_t a;
  cr_assert_eq(zx_vmo_create_child(v, ZX_VMO_CHILD_SLICE, PG, 2 * PG, &s), ZX_OK);
  // Pinning through a slice pins the parent's pages.
  cr_assert_eq(zx_bti_pin(bti, ZX_BTI_PERM_READ, s, PG, PG, &a, 1, &pmt), ZX_OK);
  cr_assert_eq(zx_vmo_create_child(v, ZX_VMO_CHILD_SNAPSHOT, 0, 4 * PG, &c), ZX_ERR_BAD_STATE);
  cr_assert_eq(zx_vmo_op_range(v, ZX_VMO_OP_DECOMMIT, 2 * PG, PG, NULL, 0), ZX_ERR_BAD_STATE);
  uint8_t b;
  cr_assert_eq(zxvmo_dma_read(bti, a, &b, 1), ZX_OK);
  cr_assert_eq(b, 12);
  // A pinned copy-on-write child: the device sees the child's pages.
  zx_handle_t c2, pmt2;
  cr_assert_eq(zx_pmt_unpin(pmt), ZX_OK);
  cr_assert_eq(zx_vmo_create_child(v, ZX_VMO_CHILD_SNAPSHOT, 0, 4 * PG, &c2), ZX_OK);
  cr_assert_eq(zx_bti_pin(bti, ZX_BTI_PERM_READ | ZX_BTI_PERM_WRITE, c2, 0, PG, &a, 1, &pmt2), ZX_OK);
  wr8(v, 0, 0xee);
  cr_assert_eq(zxvmo_dma_read(bti, a, &b, 1), ZX_OK);
  cr_assert_eq(b, 10);
  b = 0xdd;
  cr_assert_eq(zxvmo_dma_write(bti, a, &b, 1), ZX_OK);
  cr_assert_eq(rd8(c2, 0), 0xdd);
  cr_assert_eq(rd8(v, 0), 0xee);
  cr_assert_eq(zx_pmt_unpin(pmt2), ZX_OK);
  zx_handle_close(c2);
  zx_handle_close(s);
  zx_handle_close(v);
  zx_handle_close(bti);
}

// ---- cache policy ----

Test(cache_policy, checks_and_effects) {
  zx_handle_t v = mkvmo(2 * PG), child, nomap;
  cr_assert_eq(zx_vmo_set_cache_policy(v, 4), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(zx_vmo_set_cache_policy(ZX_HANDLE_INVALID, 4), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(zx_handle_duplicate(v, ZX_RIGHT_READ, &nomap), ZX_OK);
  cr_assert_eq(zx_vmo_set_cache_policy(nomap, ZX_CACHE_POLICY_UNCACHED), ZX_ERR_ACCESS_DENIED);
  // Committed pages may leave the cached state...
  wr8(v, 0, 1);
  cr_assert_eq(zx_vmo_set_cache_policy(v, ZX_CACHE_POLICY_WRITE_COMBINING), ZX_OK);
  cr_assert_eq(vmo_info(v).cache_policy, ZX_CACHE_POLICY_WRITE_COMBINING);
  // ...but not come back, nor change again.
  cr_assert_eq(zx_vmo_set_cache_policy(v, ZX_CACHE_POLICY_CACHED), ZX_ERR_BAD_STATE);
  // Uncached memory is not read or written through the cache, nor copied.
  uint8_t b;
  cr_assert_eq(zx_vmo_read(v, &b, 0, 1), ZX_ERR_BAD_STATE);
  cr_assert_eq(zx_vmo_write(v, &b, 0, 1), ZX_ERR_BAD_STATE);
  cr_assert_eq(zx_vmo_op_range(v, ZX_VMO_OP_ZERO, 0, PG, NULL, 0), ZX_ERR_BAD_STATE);
  cr_assert_eq(zx_vmo_create_child(v, ZX_VMO_CHILD_SNAPSHOT, 0, PG, &child), ZX_ERR_BAD_STATE);
  cr_assert_eq(zx_vmo_create_child(v, ZX_VMO_CHILD_SLICE, 0, PG, &child), ZX_ERR_BAD_STATE);
  zx_handle_close(nomap);
  zx_handle_close(v);
  // Children, parents and mappings tie a VMO's policy down.
  zx_handle_t p = mkvmo(PG);
  cr_assert_eq(zx_vmo_create_child(p, ZX_VMO_CHILD_SNAPSHOT, 0, PG, &child), ZX_OK);
  cr_assert_eq(zx_vmo_set_cache_policy(p, ZX_CACHE_POLICY_UNCACHED), ZX_ERR_BAD_STATE);
  cr_assert_eq(zx_vmo_set_cache_policy(child, ZX_CACHE_POLICY_UNCACHED), ZX_ERR_BAD_STATE);
  zx_handle_close(child);
  zx_vaddr_t m;
  cr_assert_eq(zx_vmar_map(zx_vmar_root_self(), ZX_VM_PERM_READ, 0, p, 0, PG, &m), ZX_OK);
  cr_assert_eq(zx_vmo_set_cache_policy(p, ZX_CACHE_POLICY_UNCACHED), ZX_ERR_BAD_STATE);
  cr_assert_eq(zx_vmar_unmap(zx_vmar_root_self(), m, PG), ZX_OK);
  cr_assert_eq(zx_vmo_set_cache_policy(p, ZX_CACHE_POLICY_UNCACHED), ZX_OK);
  zx_handle_close(p);
  // Pinned pages too.
  zx_handle_t bti = mk_bti(), q = mkvmo(PG), pmt;
  zx_paddr_t a;
  cr_assert_eq(zx_bti_pin(bti, ZX_BTI_PERM_READ, q, 0, PG, &a, 1, &pmt), ZX_OK);
  cr_assert_eq(zx_vmo_set_cache_policy(q, ZX_CACHE_POLICY_UNCACHED), ZX_ERR_BAD_STATE);
  cr_assert_eq(zx_pmt_unpin(pmt), ZX_OK);
  zx_handle_close(q);
  // A mapped physical VMO may be told the policy it has, nothing else.
  zx_handle_t ph = mk_phys(MMIO_BASE, PG);
  cr_assert_eq(zx_vmar_map(zx_vmar_root_self(), ZX_VM_PERM_READ, 0, ph, 0, PG, &m), ZX_OK);
  cr_assert_eq(zx_vmo_set_cache_policy(ph, ZX_CACHE_POLICY_UNCACHED), ZX_OK);
  cr_assert_eq(zx_vmo_set_cache_policy(ph, ZX_CACHE_POLICY_CACHED), ZX_ERR_BAD_STATE);
  cr_assert_eq(zx_vmar_unmap(zx_vmar_root_self(), m, PG), ZX_OK);
  cr_assert_eq(zx_vmo_set_cache_policy(ph, ZX_CACHE_POLICY_CACHED), ZX_OK);
  cr_assert_eq(vmo_info(ph).cache_policy, ZX_CACHE_POLICY_CACHED);
  zx_handle_close(ph);
  zx_handle_close(bti);
}

// ---- executable VMOs ----

Test(exec, replace_as_executable) {
  zx_handle_t r = root(), v = mkvmo(PG), x, vmex, other;
  zx_rights_t before = handle_rights(v);
  cr_assert_eq(zx_vmo_replace_as_executable(v, ZX_HANDLE_INVALID, &x), ZX_OK);
  cr_assert_eq(handle_rights(x), before | ZX_RIGHT_EXECUTE);
  cr_assert_eq(zx_handle_close(v), ZX_ERR_BAD_HANDLE);
  // The VMEX resource, or the root, grants it; another is refused and still consumes
  // the VMO handle.
  cr_assert_eq(zx_resource_create(r, ZX_RSRC_KIND_SYSTEM, ZX_RSRC_SYSTEM_VMEX_BASE, 1, NULL, 0,
                                  &vmex),
               ZX_OK);
  cr_assert_eq(zx_resource_create(r, ZX_RSRC_KIND_SYSTEM, ZX_RSRC_SYSTEM_INFO_BASE, 1, NULL, 0,
                                  &other),
               ZX_OK);
  zx_handle_t y;
  cr_assert_eq(zx_vmo_replace_as_executable(x, other, &y), ZX_ERR_OUT_OF_RANGE);
  cr_assert_eq(zx_handle_close(x), ZX_ERR_BAD_HANDLE);
  v = mkvmo(PG);
  cr_assert_eq(zx_vmo_replace_as_executable(v, vmex, &y), ZX_OK);
  // An executable mapping is possible now.
  zx_vaddr_t m;
  cr_assert_eq(zx_vmar_map(zx_vmar_root_self(), ZX_VM_PERM_READ | ZX_VM_PERM_EXECUTE, 0, y, 0,
                           PG, &m),
               ZX_OK);
  cr_assert_eq(zx_vmar_unmap(zx_vmar_root_self(), m, PG), ZX_OK);
  zx_handle_t z;
  cr_assert_eq(zx_vmo_replace_as_executable(y, r, &z), ZX_OK);
  cr_assert_eq(zx_vmo_replace_as_executable(z, ZX_HANDLE_INVALID, NULL), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(zx_handle_close(z), ZX_ERR_BAD_HANDLE);
  cr_assert_eq(zx_vmo_replace_as_executable(vmex, ZX_HANDLE_INVALID, &z), ZX_ERR_BAD_HANDLE);
  cr_assert_eq(zx_handle_close(vmex), ZX_ERR_BAD_HANDLE);
  cr_assert_eq(zx_vmo_replace_as_executable(ZX_HANDLE_INVALID, ZX_HANDLE_INVALID, &z),
               ZX_ERR_BAD_HANDLE);
  zx_handle_close(other);
  zx_handle_close(r);
}

// ---- out of memory ----

// Every metadata allocation behind the driver calls fails in turn: each call returns
// NO_MEMORY and changes nothing (no handle, no pin, no exclusive range kept).
Test(driver, each_allocation_failing_in_turn_changes_nothing) {
  zx_handle_t r = root(), bti = mk_bti(), v = mkvmo(4 * PG);
  uint64_t handles0;
  for (uint64_t nth = 1; nth < 24; nth++) {
    zxvmo_stats_t s0;
    cr_assert_eq(zxvmo_get_stats(&s0), ZX_OK);
    handles0 = s0.handles_alive;
    zx_handle_t out = ZX_HANDLE_INVALID, pmt = ZX_HANDLE_INVALID;
    os_fail_alloc(nth, false);
    zx_status_t st = zx_resource_create(r, ZX_RSRC_KIND_IRQ | ZX_RSRC_FLAG_EXCLUSIVE, 300, 1,
                                        NULL, 0, &out);
    os_fail_alloc(0, false);
    cr_assert(st == ZX_OK || st == ZX_ERR_NO_MEMORY);
    if (st == ZX_OK) zx_handle_close(out);
    // The range is free again either way.
    cr_assert_eq(zx_resource_create(r, ZX_RSRC_KIND_IRQ | ZX_RSRC_FLAG_EXCLUSIVE, 300, 1, NULL, 0,
                                    &out),
                 ZX_OK);
    zx_handle_close(out);
    zx_iommu_desc_dummy_t desc = {0};
    os_fail_alloc(nth, false);
    st = zx_iommu_create(r, ZX_IOMMU_TYPE_DUMMY, &desc, sizeof(desc), &out);
    os_fail_alloc(0, false);
    cr_assert(st == ZX_OK || st == ZX_ERR_NO_MEMORY);
    if (st == ZX_OK) {
      zx_handle_t b2 = ZX_HANDLE_INVALID;
      os_fail_alloc(nth, false);
      st = zx_bti_create(out, 0, 1, &b2);
      os_fail_alloc(0, false);
      cr_assert(st == ZX_OK || st == ZX_ERR_NO_MEMORY);
      zx_handle_close(b2);
      zx_handle_close(out);
    }
    os_fail_alloc(nth, false);
    st = zx_vmo_create_physical(r, MMIO_BASE, PG, &out);
    os_fail_alloc(0, false);
    cr_assert(st == ZX_OK || st == ZX_ERR_NO_MEMORY);
    if (st == ZX_OK) zx_handle_close(out);
    os_fail_alloc(nth, false);
    st = zx_vmo_create_contiguous(bti, 2 * PG, 0, &out);
    os_fail_alloc(0, false);
    cr_assert(st == ZX_OK || st == ZX_ERR_NO_MEMORY);
    if (st == ZX_OK) zx_handle_close(out);
    zx_paddr_t a[2];
    os_fail_alloc(nth, false);
    st = zx_bti_pin(bti, ZX_BTI_PERM_READ, v, 0, 2 * PG, a, 2, &pmt);
    os_fail_alloc(0, false);
    cr_assert(st == ZX_OK || st == ZX_ERR_NO_MEMORY);
    if (st == ZX_OK) {
      cr_assert_eq(zx_pmt_unpin(pmt), ZX_OK);
    } else {
      cr_assert_eq(bti_info(bti).pmo_count, 0u);
    }
    // Nothing stays pinned: the pages may go.
    cr_assert_eq(zx_vmo_op_range(v, ZX_VMO_OP_DECOMMIT, 0, 4 * PG, NULL, 0), ZX_OK);
    cr_assert_eq(zxvmo_check_invariants(), ZX_OK);
    zxvmo_stats_t s1;
    cr_assert_eq(zxvmo_get_stats(&s1), ZX_OK);
    cr_assert_eq(s1.handles_alive, handles0, "a failed call left a handle (nth %lu)",
                 (unsigned long)nth);
  }
  zx_handle_close(v);
  zx_handle_close(bti);
  zx_handle_close(r);
}

// A contiguous VMO the page budget cannot hold is refused whole.
Test(driver, contiguous_over_the_budget) {
  zx_handle_t bti = mk_bti(), v;
  uint64_t before = pages_in_use();
  cr_assert_eq(zxvmo_set_page_budget(before + 4), ZX_OK);
  cr_assert_eq(zx_vmo_create_contiguous(bti, 8 * PG, 0, &v), ZX_ERR_NO_MEMORY);
  cr_assert_eq(pages_in_use(), before);
  cr_assert_eq(zx_vmo_create_contiguous(bti, 4 * PG, 0, &v), ZX_OK);
  cr_assert_eq(pages_in_use(), before + 4);
  zx_handle_close(v);
  cr_assert_eq(zxvmo_set_page_budget(0), ZX_OK);
  zx_handle_close(bti);
}

// ---- pager VMOs ----

// Pinning a pager VMO commits through the pager; detaching drops clean pages but not
// pinned ones, which the device still reaches.
Test(pinned, pager_vmo_pinned_pages_survive_detach) {
  pg_env_t e = pg_env();
  zx_handle_t v = pg_vmo(&e, 4, 0, 1), bti = mk_bti(), pmt;
  pg_supply(&e, v, 0, 4, 7);
  zx_paddr_t a;
  cr_assert_eq(zx_bti_pin(bti, ZX_BTI_PERM_READ, v, PG, PG, &a, 1, &pmt), ZX_OK);
  pg_expect_none(e.port);
  cr_assert_eq(zx_pager_detach_vmo(e.pager, v), ZX_OK);
  uint8_t b[2];
  cr_assert_eq(zxvmo_dma_read(bti, a + 10, b, 2), ZX_OK);
  cr_assert_eq(b[0], pg_pat(PG + 10, 7));
  cr_assert_eq(b[1], pg_pat(PG + 11, 7));
  // The clean pages that were not pinned are gone.
  cr_assert_eq(vmo_info(v).committed_bytes, PG);
  cr_assert_eq(zx_pmt_unpin(pmt), ZX_OK);
  zx_handle_close(v);
  zx_handle_close(bti);
  zx_handle_close(e.pager);
  zx_handle_close(e.port);
}
