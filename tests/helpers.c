// SPDX-License-Identifier: BSD-3-Clause
#include "helpers.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

zx_handle_t mkvmo(uint64_t size) {
  zx_handle_t h = ZX_HANDLE_INVALID;
  cr_assert_eq(zx_vmo_create(size, 0, &h), ZX_OK);
  return h;
}

zx_handle_t mkvmo_filled(uint64_t pages, uint8_t seed) {
  zx_handle_t h = mkvmo(pages * PG);
  uint8_t* buf = page_buf(1);
  for (uint64_t i = 0; i < pages; i++) {
    memset(buf, (uint8_t)(seed + i), PG);
    cr_assert_eq(zx_vmo_write(h, buf, i * PG, PG), ZX_OK);
  }
  free(buf);
  return h;
}

uint8_t rd8(zx_handle_t vmo, uint64_t off) {
  uint8_t v = 0xEE;
  cr_assert_eq(zx_vmo_read(vmo, &v, off, 1), ZX_OK, "read at %#llx", (unsigned long long)off);
  return v;
}

void wr8(zx_handle_t vmo, uint64_t off, uint8_t v) {
  cr_assert_eq(zx_vmo_write(vmo, &v, off, 1), ZX_OK, "write at %#llx", (unsigned long long)off);
}

zx_info_vmo_t vmo_info(zx_handle_t vmo) {
  zx_info_vmo_t info;
  memset(&info, 0, sizeof(info));
  cr_assert_eq(zx_object_get_info(vmo, ZX_INFO_VMO, &info, sizeof(info), NULL, NULL), ZX_OK);
  return info;
}

zx_rights_t handle_rights(zx_handle_t h) {
  zx_info_handle_basic_t b;
  cr_assert_eq(zx_object_get_info(h, ZX_INFO_HANDLE_BASIC, &b, sizeof(b), NULL, NULL), ZX_OK);
  return b.rights;
}

uint8_t* page_buf(uint64_t pages) {
  uint8_t* b = calloc(pages, PG);
  cr_assert(b != NULL, "%llu pages", (unsigned long long)pages);
  return b;
}

uint64_t pages_in_use(void) {
  zxvmo_stats_t s;
  cr_assert_eq(zxvmo_get_stats(&s), ZX_OK);
  return s.pages_in_use;
}

zx_handle_t mk_test_bti(void) {
  zx_handle_t rr = zxvmo_root_resource(), iommu, bti;
  cr_assert_neq(rr, ZX_HANDLE_INVALID);
  zx_iommu_desc_dummy_t desc = {0};
  cr_assert_eq(zx_iommu_create(rr, ZX_IOMMU_TYPE_DUMMY, &desc, sizeof(desc), &iommu), ZX_OK);
  cr_assert_eq(zx_bti_create(iommu, 0, 7, &bti), ZX_OK);
  zx_handle_close(iommu);
  zx_handle_close(rr);
  return bti;
}
