// SPDX-License-Identifier: BSD-3-Clause
// lib/zx's driver-memory wrappers against the C calls: zx::resource from the root
// resource, zx::iommu, zx::bti, pin/unpin through zx::pmt (and quarantine when a PMT is
// closed pinned), contiguous and physical VMOs.
#include <lib/zx/bti.h>
#include <lib/zx/iommu.h>
#include <lib/zx/pmt.h>
#include <lib/zx/resource.h>
#include <lib/zx/vmo.h>
#include <string.h>
#include <zxvmo.h>

#include <utility>

#include "cxx_helpers.h"

// An MMIO range inside the emulated machine's device window (as in test_driver.c).
static constexpr zx_paddr_t kMmioBase = 0xfd000000u;

static zx::resource root_resource() {
  zx::resource r(zxvmo_root_resource());
  cr_assert(r.is_valid());
  return r;
}

static zx::bti make_bti(uint64_t id) {
  zx::resource root = root_resource();
  zx::iommu iommu;
  zx_iommu_desc_dummy_t desc{};
  cr_assert_eq(zx::iommu::create(root, ZX_IOMMU_TYPE_DUMMY, &desc, sizeof(desc), &iommu), ZX_OK);
  cr_assert_eq(basic_info(iommu.get()).type, ZX_OBJ_TYPE_IOMMU);
  zx::bti bti;
  cr_assert_eq(zx::bti::create(iommu, 0, id, &bti), ZX_OK);
  return bti;
}

static zx_info_bti_t bti_info(const zx::bti& bti) {
  zx_info_bti_t info{};
  cr_assert_eq(bti.get_info(ZX_INFO_BTI, &info, sizeof(info), nullptr, nullptr), ZX_OK);
  return info;
}

Test(cxx_driver, resource_create_narrows_the_root) {
  zx::resource root = root_resource();
  zx_info_resource_t info{};
  cr_assert_eq(root.get_info(ZX_INFO_RESOURCE, &info, sizeof(info), nullptr, nullptr), ZX_OK);
  cr_assert_eq(info.kind, ZX_RSRC_KIND_ROOT);
  zx::resource mmio;
  const char name[] = "cxx-mmio";
  cr_assert_eq(zx::resource::create(root, ZX_RSRC_KIND_MMIO, kMmioBase, 2 * page(), name,
                                    strlen(name), &mmio),
               ZX_OK);
  cr_assert_eq(mmio.get_info(ZX_INFO_RESOURCE, &info, sizeof(info), nullptr, nullptr), ZX_OK);
  cr_assert_eq(info.kind, ZX_RSRC_KIND_MMIO);
  cr_assert_eq(info.base, kMmioBase);
  cr_assert_eq(info.size, 2 * page());
  cr_assert_str_eq(info.name, name);
  // Into itself: the parent handle is replaced by the child's.
  zx_handle_t parent = mmio.get();
  cr_assert_eq(zx::resource::create(mmio, ZX_RSRC_KIND_MMIO, kMmioBase, page(), nullptr, 0,
                                    &mmio),
               ZX_OK);
  cr_assert_not(handle_valid(parent));
  cr_assert_eq(mmio.get_info(ZX_INFO_RESOURCE, &info, sizeof(info), nullptr, nullptr), ZX_OK);
  cr_assert_eq(info.size, page());
  zx::resource bad;
  cr_assert_eq(zx::resource::create(mmio, ZX_RSRC_KIND_IRQ, 0, 1, nullptr, 0, &bad),
               ZX_ERR_ACCESS_DENIED);
  cr_assert_not(bad.is_valid());
}

Test(cxx_driver, physical_vmo) {
  zx::resource root = root_resource();
  zx::vmo phys;
  cr_assert_eq(zx::vmo::create_physical(root, kMmioBase, page(), &phys), ZX_OK);
  zx_info_vmo_t info{};
  cr_assert_eq(phys.get_info(ZX_INFO_VMO, &info, sizeof(info), nullptr, nullptr), ZX_OK);
  cr_assert_eq(ZX_INFO_VMO_TYPE(info.flags), ZX_INFO_VMO_TYPE_PHYSICAL);
  cr_assert_eq(phys.set_cache_policy(ZX_CACHE_POLICY_UNCACHED_DEVICE), ZX_OK);
  zx::vmo bad;
  cr_assert_eq(zx::vmo::create_physical(zx::resource(), kMmioBase, page(), &bad),
               ZX_ERR_BAD_HANDLE);
  cr_assert_not(bad.is_valid());
}

Test(cxx_driver, contiguous_vmo_pin_and_unpin) {
  zx::bti bti = make_bti(11);
  cr_assert_eq(basic_info(bti.get()).type, ZX_OBJ_TYPE_BTI);
  zx::vmo contig;
  cr_assert_eq(zx::vmo::create_contiguous(bti, 4 * page(), 0, &contig), ZX_OK);
  zx_info_vmo_t info{};
  cr_assert_eq(contig.get_info(ZX_INFO_VMO, &info, sizeof(info), nullptr, nullptr), ZX_OK);
  cr_assert(info.flags & ZX_INFO_VMO_CONTIGUOUS);

  zx_paddr_t addrs[4] = {};
  zx::pmt pmt;
  cr_assert_eq(bti.pin(ZX_BTI_PERM_READ | ZX_BTI_PERM_WRITE, contig, 0, 4 * page(), addrs, 4,
                       &pmt),
               ZX_OK);
  cr_assert_eq(basic_info(pmt.get()).type, ZX_OBJ_TYPE_PMT);
  for (int i = 1; i < 4; i++) {
    cr_assert_eq(addrs[i], addrs[0] + i * page());  // contiguous
  }
  cr_assert_eq(bti_info(bti).pmo_count, 1u);
  // The device sees what the CPU wrote.
  const char msg[] = "dma";
  cr_assert_eq(contig.write(msg, page() + 5, sizeof(msg)), ZX_OK);
  char got[sizeof(msg)] = {};
  cr_assert_eq(zxvmo_dma_read(bti.get(), addrs[1] + 5, got, sizeof(got)), ZX_OK);
  cr_assert_str_eq(got, msg);
  // Contiguous memory is never decommitted.
  cr_assert_eq(contig.op_range(ZX_VMO_OP_DECOMMIT, 0, page(), nullptr, 0), ZX_ERR_NOT_SUPPORTED);

  zx_handle_t raw = pmt.get();
  cr_assert_eq(pmt.unpin(), ZX_OK);
  cr_assert_not(pmt.is_valid());
  cr_assert_not(handle_valid(raw));
  cr_assert_eq(bti_info(bti).pmo_count, 0u);
  // A failed unpin also gives up the handle (the kernel consumed it).
  cr_assert_eq(pmt.unpin(), ZX_ERR_BAD_HANDLE);
  cr_assert_not(pmt.is_valid());
}

Test(cxx_driver, closing_a_pinned_pmt_quarantines) {
  zx::bti bti = make_bti(12);
  zx::vmo v;
  cr_assert_eq(zx::vmo::create(2 * page(), 0, &v), ZX_OK);
  zx_paddr_t addrs[2] = {};
  {
    zx::pmt pmt;
    cr_assert_eq(bti.pin(ZX_BTI_PERM_READ, v, 0, 2 * page(), addrs, 2, &pmt), ZX_OK);
    // A pinned range cannot be decommitted.
    cr_assert_eq(v.op_range(ZX_VMO_OP_DECOMMIT, 0, page(), nullptr, 0), ZX_ERR_BAD_STATE);
  }  // closed without unpin
  zx_info_bti_t info = bti_info(bti);
  cr_assert_eq(info.pmo_count, 1u);
  cr_assert_eq(info.quarantine_count, 1u);
  cr_assert_eq(bti.release_quarantine(), ZX_OK);
  info = bti_info(bti);
  cr_assert_eq(info.pmo_count, 0u);
  cr_assert_eq(info.quarantine_count, 0u);
}

Test(cxx_driver, duplicate_and_move_driver_objects) {
  zx::bti bti = make_bti(13);
  zx::bti dup;
  cr_assert_eq(bti.duplicate(ZX_RIGHT_SAME_RIGHTS, &dup), ZX_OK);
  cr_assert_eq(basic_info(dup.get()).koid, basic_info(bti.get()).koid);
  zx::bti moved(std::move(dup));
  cr_assert_not(dup.is_valid());
  zx::vmo v;
  cr_assert_eq(zx::vmo::create_contiguous(moved, page(), 0, &v), ZX_OK);
  zx::vmo bad;
  cr_assert_eq(zx::vmo::create_contiguous(moved, 0, 0, &bad), ZX_ERR_INVALID_ARGS);
  cr_assert_not(bad.is_valid());
}
