// SPDX-License-Identifier: BSD-3-Clause
/* zxvmo: resource kinds, flags and system resource bases (zx_resource_create). */
#ifndef SYSROOT_ZIRCON_SYSCALLS_RESOURCE_H_
#define SYSROOT_ZIRCON_SYSCALLS_RESOURCE_H_

#include <stdint.h>
#include <zircon/types.h>

/* Kinds: the low 16 bits of zx_resource_create()'s options. */
#define ZX_RSRC_KIND_MMIO ((zx_rsrc_kind_t)0u)
#define ZX_RSRC_KIND_IRQ ((zx_rsrc_kind_t)1u)
#define ZX_RSRC_KIND_IOPORT ((zx_rsrc_kind_t)2u)
#define ZX_RSRC_KIND_ROOT ((zx_rsrc_kind_t)3u)
#define ZX_RSRC_KIND_SMC ((zx_rsrc_kind_t)4u)
#define ZX_RSRC_KIND_SYSTEM ((zx_rsrc_kind_t)5u)
#define ZX_RSRC_KIND_COUNT ((zx_rsrc_kind_t)6u)

/* Flags: the high 16 bits. */
#define ZX_RSRC_FLAG_EXCLUSIVE ((zx_rsrc_flags_t)0x00010000u)
#define ZX_RSRC_FLAGS_MASK ((zx_rsrc_flags_t)ZX_RSRC_FLAG_EXCLUSIVE)

#define ZX_RSRC_EXTRACT_KIND(x) ((x) & 0x0000FFFFu)
#define ZX_RSRC_EXTRACT_FLAGS(x) ((x) & 0xFFFF0000u)

/* The SYSTEM kind's space: one id ("base") per capability. */
#define ZX_RSRC_SYSTEM_HYPERVISOR_BASE ((uint64_t)0u)
#define ZX_RSRC_SYSTEM_VMEX_BASE ((uint64_t)1u)
#define ZX_RSRC_SYSTEM_DEBUG_BASE ((uint64_t)2u)
#define ZX_RSRC_SYSTEM_INFO_BASE ((uint64_t)3u)
#define ZX_RSRC_SYSTEM_CPU_BASE ((uint64_t)4u)
#define ZX_RSRC_SYSTEM_POWER_BASE ((uint64_t)5u)
#define ZX_RSRC_SYSTEM_MEXEC_BASE ((uint64_t)6u)
#define ZX_RSRC_SYSTEM_ENERGY_INFO_BASE ((uint64_t)7u)
#define ZX_RSRC_SYSTEM_IOMMU_BASE ((uint64_t)8u)
#define ZX_RSRC_SYSTEM_FRAMEBUFFER_BASE ((uint64_t)9u)
#define ZX_RSRC_SYSTEM_PROFILE_BASE ((uint64_t)10u)
#define ZX_RSRC_SYSTEM_MSI_BASE ((uint64_t)11u)
#define ZX_RSRC_SYSTEM_DEBUGLOG_BASE ((uint64_t)12u)
#define ZX_RSRC_SYSTEM_STALL_BASE ((uint64_t)13u)
#define ZX_RSRC_SYSTEM_COUNT ((uint64_t)14u)

#endif /* SYSROOT_ZIRCON_SYSCALLS_RESOURCE_H_ */
