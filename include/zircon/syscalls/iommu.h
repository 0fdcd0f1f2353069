// SPDX-License-Identifier: BSD-3-Clause
/* zxvmo: IOMMU types and descriptors (zx_iommu_create). */
#ifndef SYSROOT_ZIRCON_SYSCALLS_IOMMU_H_
#define SYSROOT_ZIRCON_SYSCALLS_IOMMU_H_

#include <stdint.h>

#define ZX_IOMMU_MAX_DESC_LEN 4096

/* The only type zxvmo emulates: an IOMMU that translates nothing (device addresses are
 * emulated physical addresses). ZX_IOMMU_TYPE_STUB is its newer name. */
#define ZX_IOMMU_TYPE_DUMMY ((uint32_t)0u)
#define ZX_IOMMU_TYPE_STUB ZX_IOMMU_TYPE_DUMMY
#define ZX_IOMMU_TYPE_INTEL ((uint32_t)1u)

typedef struct zx_iommu_desc_dummy {
  uint8_t reserved;
} zx_iommu_desc_dummy_t;
typedef zx_iommu_desc_dummy_t zx_iommu_desc_stub_t;

#endif /* SYSROOT_ZIRCON_SYSCALLS_IOMMU_H_ */
