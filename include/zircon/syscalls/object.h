// SPDX-License-Identifier: BSD-3-Clause
/* zxvmo: zx_object_get_info() topics and records, and object properties. */
#ifndef SYSROOT_ZIRCON_SYSCALLS_OBJECT_H_
#define SYSROOT_ZIRCON_SYSCALLS_OBJECT_H_

#include <stddef.h>
#include <stdint.h>
#include <zircon/compiler.h>
#include <zircon/types.h>

__BEGIN_CDECLS

/* ---- Topics ------------------------------------------------------------ */

typedef uint32_t zx_object_info_topic_t;

/* A versioned topic: the version sits in the top 4 bits, counting from 0. */
#define __ZX_INFO_TOPIC(t, v) ((zx_object_info_topic_t)((t) | ((v) << 28)))

#define ZX_INFO_NONE ((zx_object_info_topic_t)0u)
#define ZX_INFO_HANDLE_VALID ((zx_object_info_topic_t)1u)
#define ZX_INFO_HANDLE_BASIC ((zx_object_info_topic_t)2u)
#define ZX_INFO_PROCESS __ZX_INFO_TOPIC(3u, 1u)
#define ZX_INFO_PROCESS_THREADS ((zx_object_info_topic_t)4u)
#define ZX_INFO_VMAR ((zx_object_info_topic_t)7u)
#define ZX_INFO_JOB_CHILDREN ((zx_object_info_topic_t)8u)
#define ZX_INFO_JOB_PROCESSES ((zx_object_info_topic_t)9u)
#define ZX_INFO_THREAD ((zx_object_info_topic_t)10u)
#define ZX_INFO_THREAD_EXCEPTION_REPORT_V1 __ZX_INFO_TOPIC(11u, 0u)
#define ZX_INFO_THREAD_EXCEPTION_REPORT __ZX_INFO_TOPIC(11u, 1u)
#define ZX_INFO_TASK_STATS_V1 __ZX_INFO_TOPIC(12u, 0u)
#define ZX_INFO_TASK_STATS __ZX_INFO_TOPIC(12u, 1u)
#define ZX_INFO_PROCESS_MAPS_V1 __ZX_INFO_TOPIC(13u, 0u)
#define ZX_INFO_PROCESS_MAPS_V2 __ZX_INFO_TOPIC(13u, 1u)
#define ZX_INFO_PROCESS_MAPS __ZX_INFO_TOPIC(13u, 2u)
#define ZX_INFO_PROCESS_VMOS_V1 __ZX_INFO_TOPIC(14u, 0u)
#define ZX_INFO_PROCESS_VMOS_V2 __ZX_INFO_TOPIC(14u, 1u)
#define ZX_INFO_PROCESS_VMOS_V3 __ZX_INFO_TOPIC(14u, 2u)
#define ZX_INFO_PROCESS_VMOS __ZX_INFO_TOPIC(14u, 3u)
#define ZX_INFO_THREAD_STATS ((zx_object_info_topic_t)15u)
#define ZX_INFO_CPU_STATS ((zx_object_info_topic_t)16u)
#define ZX_INFO_KMEM_STATS_V1 __ZX_INFO_TOPIC(17u, 0u)
#define ZX_INFO_KMEM_STATS __ZX_INFO_TOPIC(17u, 1u)
#define ZX_INFO_RESOURCE ((zx_object_info_topic_t)18u)
#define ZX_INFO_HANDLE_COUNT ((zx_object_info_topic_t)19u)
#define ZX_INFO_BTI ((zx_object_info_topic_t)20u)
#define ZX_INFO_PROCESS_HANDLE_STATS ((zx_object_info_topic_t)21u)
#define ZX_INFO_SOCKET ((zx_object_info_topic_t)22u)
#define ZX_INFO_VMO_V1 __ZX_INFO_TOPIC(23u, 0u) /* zx_info_vmo_v1_t */
#define ZX_INFO_VMO_V2 __ZX_INFO_TOPIC(23u, 1u) /* zx_info_vmo_v2_t */
#define ZX_INFO_VMO_V3 __ZX_INFO_TOPIC(23u, 2u) /* zx_info_vmo_v3_t */
#define ZX_INFO_VMO __ZX_INFO_TOPIC(23u, 3u)    /* zx_info_vmo_t */
#define ZX_INFO_JOB ((zx_object_info_topic_t)24u)
#define ZX_INFO_TIMER ((zx_object_info_topic_t)25u)
#define ZX_INFO_STREAM ((zx_object_info_topic_t)26u)
#define ZX_INFO_HANDLE_TABLE ((zx_object_info_topic_t)27u)
#define ZX_INFO_MSI ((zx_object_info_topic_t)28u)
#define ZX_INFO_GUEST_STATS ((zx_object_info_topic_t)29u)
#define ZX_INFO_TASK_RUNTIME_V1 __ZX_INFO_TOPIC(30u, 0u)
#define ZX_INFO_TASK_RUNTIME __ZX_INFO_TOPIC(30u, 1u)
#define ZX_INFO_KMEM_STATS_EXTENDED ((zx_object_info_topic_t)31u)
#define ZX_INFO_VCPU ((zx_object_info_topic_t)32u)
#define ZX_INFO_KMEM_STATS_COMPRESSION ((zx_object_info_topic_t)33u)
#define ZX_INFO_IOB ((zx_object_info_topic_t)34u)
#define ZX_INFO_IOB_REGIONS ((zx_object_info_topic_t)35u)
#define ZX_INFO_VMAR_MAPS ((zx_object_info_topic_t)36u)
#define ZX_INFO_POWER_DOMAINS ((zx_object_info_topic_t)37u)

/* ---- ZX_INFO_HANDLE_BASIC / ZX_INFO_HANDLE_COUNT ----------------------- */

typedef struct zx_info_handle_basic {
  zx_koid_t koid;          /* the object's koid */
  zx_rights_t rights;      /* this handle's rights */
  zx_obj_type_t type;      /* ZX_OBJ_TYPE_* */
  zx_koid_t related_koid;  /* peer/parent koid where one exists, else 0 */
  uint32_t reserved;
  uint8_t padding1[4];
} zx_info_handle_basic_t;

typedef struct zx_info_handle_count {
  uint32_t handle_count;   /* open handles to the object */
} zx_info_handle_count_t;

/* ---- ZX_INFO_VMO ------------------------------------------------------- */

/* Type, in bit 0 of flags: PAGED (RAM backed) or PHYSICAL. */
#define ZX_INFO_VMO_TYPE_PAGED (1u << 0)
#define ZX_INFO_VMO_TYPE_PHYSICAL (0u << 0)
#define ZX_INFO_VMO_TYPE(flags) ((flags) & (1u << 0))

#define ZX_INFO_VMO_RESIZABLE (1u << 1)
#define ZX_INFO_VMO_IS_COW_CLONE (1u << 2)  /* a copy-on-write child */
#define ZX_INFO_VMO_VIA_HANDLE (1u << 3)    /* ZX_INFO_PROCESS_VMOS: reached via a handle */
#define ZX_INFO_VMO_VIA_MAPPING (1u << 4)   /* ZX_INFO_PROCESS_VMOS: reached via a mapping */
#define ZX_INFO_VMO_PAGER_BACKED (1u << 5)
#define ZX_INFO_VMO_CONTIGUOUS (1u << 6)
#define ZX_INFO_VMO_DISCARDABLE (1u << 7)
#define ZX_INFO_VMO_IMMUTABLE (1u << 8)     /* never writable since creation */
#define ZX_INFO_VMO_VIA_IOB_HANDLE (1u << 9)

/*
 * Newest layout (topic ZX_INFO_VMO). The older versions below are prefixes of
 * it; a caller passing an older size gets that prefix.
 *
 * Memory accounting: *_bytes count every byte the VMO sees (shared included),
 * *_private_bytes only bytes no other VMO sees, and *_scaled_bytes count a
 * byte seen by N VMOs as 1/N, with the truncated remainder in
 * *_fractional_scaled_bytes as 63-bit fixed point (1 << 63 == one byte).
 */
typedef struct zx_info_vmo {
  zx_koid_t koid;
  char name[ZX_MAX_NAME_LEN];
  uint64_t size_bytes;
  zx_koid_t parent_koid;            /* 0 when not a child */
  size_t num_children;
  size_t num_mappings;
  size_t share_count;
  uint32_t flags;                   /* ZX_INFO_VMO_* */
  uint8_t padding1[4];
  uint64_t committed_bytes;
  zx_rights_t handle_rights;
  uint32_t cache_policy;            /* ZX_CACHE_POLICY_* */
  uint64_t metadata_bytes;
  uint64_t committed_change_events;
  uint64_t populated_bytes;
  uint64_t committed_private_bytes;
  uint64_t populated_private_bytes;
  uint64_t committed_scaled_bytes;
  uint64_t populated_scaled_bytes;
  uint64_t committed_fractional_scaled_bytes;
  uint64_t populated_fractional_scaled_bytes;
} zx_info_vmo_t;

/* ---- ZX_INFO_BTI / ZX_INFO_RESOURCE ------------------------------------ */

typedef struct zx_info_bti {
  uint64_t minimum_contiguity;  /* bytes: the granule of ZX_BTI_COMPRESS addresses */
  uint64_t aspace_size;         /* bytes of device address space */
  uint64_t pmo_count;           /* pinned-memory tokens alive, quarantined ones included */
  uint64_t quarantine_count;    /* of which quarantined */
} zx_info_bti_t;

typedef struct zx_info_resource {
  uint32_t kind;   /* ZX_RSRC_KIND_* */
  uint32_t flags;  /* ZX_RSRC_FLAG_* */
  uint64_t base;
  size_t size;
  char name[ZX_MAX_NAME_LEN];
} zx_info_resource_t;

/* ZX_INFO_VMO_V3: up to populated_bytes. */
typedef struct zx_info_vmo_v3 {
  zx_koid_t koid;
  char name[ZX_MAX_NAME_LEN];
  uint64_t size_bytes;
  zx_koid_t parent_koid;
  size_t num_children;
  size_t num_mappings;
  size_t share_count;
  uint32_t flags;
  uint8_t padding1[4];
  uint64_t committed_bytes;
  zx_rights_t handle_rights;
  uint32_t cache_policy;
  uint64_t metadata_bytes;
  uint64_t committed_change_events;
  uint64_t populated_bytes;
} zx_info_vmo_v3_t;

/* ZX_INFO_VMO_V2: up to committed_change_events. */
typedef struct zx_info_vmo_v2 {
  zx_koid_t koid;
  char name[ZX_MAX_NAME_LEN];
  uint64_t size_bytes;
  zx_koid_t parent_koid;
  size_t num_children;
  size_t num_mappings;
  size_t share_count;
  uint32_t flags;
  uint8_t padding1[4];
  uint64_t committed_bytes;
  zx_rights_t handle_rights;
  uint32_t cache_policy;
  uint64_t metadata_bytes;
  uint64_t committed_change_events;
} zx_info_vmo_v2_t;

/* ZX_INFO_VMO_V1: up to cache_policy. */
typedef struct zx_info_vmo_v1 {
  zx_koid_t koid;
  char name[ZX_MAX_NAME_LEN];
  uint64_t size_bytes;
  zx_koid_t parent_koid;
  size_t num_children;
  size_t num_mappings;
  size_t share_count;
  uint32_t flags;
  uint8_t padding1[4];
  uint64_t committed_bytes;
  zx_rights_t handle_rights;
  uint32_t cache_policy;
} zx_info_vmo_v1_t;

/* ---- ZX_INFO_VMAR ------------------------------------------------------ */

typedef struct zx_info_vmar {
  uintptr_t base; /* first address of the region */
  size_t len;     /* its length in bytes */
} zx_info_vmar_t;

/* ---- ZX_INFO_PROCESS_MAPS / ZX_INFO_VMAR_MAPS --------------------------- */

/* What a zx_info_maps_t entry describes. */
typedef uint32_t zx_info_maps_type_t;
#define ZX_INFO_MAPS_TYPE_NONE ((zx_info_maps_type_t)0u)
#define ZX_INFO_MAPS_TYPE_ASPACE ((zx_info_maps_type_t)1u)
#define ZX_INFO_MAPS_TYPE_VMAR ((zx_info_maps_type_t)2u)
#define ZX_INFO_MAPS_TYPE_MAPPING ((zx_info_maps_type_t)3u)

/* A mapping entry (topic ZX_INFO_PROCESS_MAPS). The *_bytes figures count the mapped
 * range of the VMO only, with the meaning they have in zx_info_vmo_t. */
typedef struct zx_info_maps_mapping {
  zx_vm_option_t mmu_flags; /* ZX_VM_PERM_* */
  uint8_t padding1[4];
  zx_koid_t vmo_koid;
  uint64_t vmo_offset; /* where the mapping's first byte lies in the VMO */
  size_t committed_bytes;
  size_t populated_bytes;
  size_t committed_private_bytes;
  size_t populated_private_bytes;
  size_t committed_scaled_bytes;
  size_t populated_scaled_bytes;
  uint64_t committed_fractional_scaled_bytes;
  uint64_t populated_fractional_scaled_bytes;
} zx_info_maps_mapping_t;

/* ZX_INFO_PROCESS_MAPS_V2: pages instead of bytes. */
typedef struct zx_info_maps_mapping_v2 {
  zx_vm_option_t mmu_flags;
  uint8_t padding1[4];
  zx_koid_t vmo_koid;
  uint64_t vmo_offset;
  size_t committed_pages;
  size_t populated_pages;
} zx_info_maps_mapping_v2_t;

/* ZX_INFO_PROCESS_MAPS_V1. */
typedef struct zx_info_maps_mapping_v1 {
  zx_vm_option_t mmu_flags;
  uint8_t padding1[4];
  zx_koid_t vmo_koid;
  uint64_t vmo_offset;
  size_t committed_pages;
} zx_info_maps_mapping_v1_t;

/* One node of the address-space tree, listed depth-first in pre-order (so bases
 * ascend). `depth` rebuilds the tree: for ZX_INFO_PROCESS_MAPS the address space is
 * depth 0 and the root VMAR depth 1; for ZX_INFO_VMAR_MAPS the queried VMAR is 0. */
typedef struct zx_info_maps {
  char name[ZX_MAX_NAME_LEN];
  zx_vaddr_t base;
  size_t size;
  size_t depth;
  zx_info_maps_type_t type; /* which member of `u` is valid (mappings only) */
  uint8_t padding1[4];
  union {
    zx_info_maps_mapping_t mapping;
  } u;
} zx_info_maps_t;

typedef struct zx_info_maps_v2 {
  char name[ZX_MAX_NAME_LEN];
  zx_vaddr_t base;
  size_t size;
  size_t depth;
  zx_info_maps_type_t type;
  uint8_t padding1[4];
  union {
    zx_info_maps_mapping_v2_t mapping;
  } u;
} zx_info_maps_v2_t;

typedef struct zx_info_maps_v1 {
  char name[ZX_MAX_NAME_LEN];
  zx_vaddr_t base;
  size_t size;
  size_t depth;
  zx_info_maps_type_t type;
  uint8_t padding1[4];
  union {
    zx_info_maps_mapping_v1_t mapping;
  } u;
} zx_info_maps_v1_t;

/* ---- ZX_INFO_TASK_STATS ------------------------------------------------ */

/* Memory of the mappings of a task, with the meanings of zx_info_vmo_t's figures:
 * private bytes are seen by one VMO mapped once; shared ones are scaled by the number
 * of VMOs and of mappings sharing them. */
typedef struct zx_info_task_stats {
  size_t mem_mapped_bytes;
  size_t mem_private_bytes;
  size_t mem_shared_bytes;
  size_t mem_scaled_shared_bytes;
  uint64_t mem_fractional_scaled_shared_bytes; /* 63-bit fixed point, as in zx_info_vmo_t */
} zx_info_task_stats_t;

/* ZX_INFO_TASK_STATS_V1: without the fractional bytes. */
typedef struct zx_info_task_stats_v1 {
  size_t mem_mapped_bytes;
  size_t mem_private_bytes;
  size_t mem_shared_bytes;
  size_t mem_scaled_shared_bytes;
} zx_info_task_stats_v1_t;

/* ---- Properties (zx_object_get_property / set_property) --------------- */

#define ZX_PROP_NAME ((uint32_t)3u) /* char[ZX_MAX_NAME_LEN] */

#if defined(__x86_64__)
#define ZX_PROP_REGISTER_GS ((uint32_t)2u)
#define ZX_PROP_REGISTER_FS ((uint32_t)4u)
#endif

#define ZX_PROP_PROCESS_DEBUG_ADDR ((uint32_t)5u)
#define ZX_PROP_PROCESS_VDSO_BASE_ADDRESS ((uint32_t)6u)
#define ZX_PROP_PROCESS_BREAK_ON_LOAD ((uint32_t)7u)
#define ZX_PROP_PROCESS_HW_TRACE_CONTEXT_ID ((uint32_t)8u)
#define ZX_PROP_SOCKET_RX_THRESHOLD 12u
#define ZX_PROP_SOCKET_TX_THRESHOLD 13u
#define ZX_PROP_JOB_KILL_ON_OOM 15u
#define ZX_PROP_EXCEPTION_STATE 16u
/* A VMO's content size in bytes (uint64_t); may differ from its size. */
#define ZX_PROP_VMO_CONTENT_SIZE 17u
#define ZX_PROP_EXCEPTION_STRATEGY 18u
#define ZX_PROP_STREAM_MODE_APPEND 19u

/* ---- Layout checks (LP64, as on Fuchsia) -------------------------------- */

#if UINTPTR_MAX == UINT64_MAX && \
    (defined(__cplusplus) || (defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L))
#ifdef __cplusplus
#define __ZX_INFO_ASSERT(cond, msg) static_assert(cond, msg)
#else
#define __ZX_INFO_ASSERT(cond, msg) _Static_assert(cond, msg)
#endif

__ZX_INFO_ASSERT(sizeof(zx_info_handle_basic_t) == 32, "zx_info_handle_basic_t size");
__ZX_INFO_ASSERT(offsetof(zx_info_handle_basic_t, related_koid) == 16,
                 "zx_info_handle_basic_t layout");
__ZX_INFO_ASSERT(offsetof(zx_info_handle_basic_t, reserved) == 24,
                 "zx_info_handle_basic_t layout");

__ZX_INFO_ASSERT(sizeof(zx_info_vmo_v1_t) == 104, "zx_info_vmo_v1_t size");
__ZX_INFO_ASSERT(sizeof(zx_info_vmo_v2_t) == 120, "zx_info_vmo_v2_t size");
__ZX_INFO_ASSERT(sizeof(zx_info_vmo_v3_t) == 128, "zx_info_vmo_v3_t size");
__ZX_INFO_ASSERT(sizeof(zx_info_vmo_t) == 176, "zx_info_vmo_t size");

__ZX_INFO_ASSERT(offsetof(zx_info_vmo_t, name) == 8, "zx_info_vmo_t layout");
__ZX_INFO_ASSERT(offsetof(zx_info_vmo_t, size_bytes) == 40, "zx_info_vmo_t layout");
__ZX_INFO_ASSERT(offsetof(zx_info_vmo_t, flags) == 80, "zx_info_vmo_t layout");
__ZX_INFO_ASSERT(offsetof(zx_info_vmo_t, committed_bytes) == 88, "zx_info_vmo_t layout");
__ZX_INFO_ASSERT(offsetof(zx_info_vmo_t, handle_rights) == 96, "zx_info_vmo_t layout");
__ZX_INFO_ASSERT(offsetof(zx_info_vmo_t, metadata_bytes) == 104, "zx_info_vmo_t layout");
__ZX_INFO_ASSERT(offsetof(zx_info_vmo_t, populated_bytes) == 120, "zx_info_vmo_t layout");
__ZX_INFO_ASSERT(offsetof(zx_info_vmo_t, committed_private_bytes) == 128,
                 "zx_info_vmo_t layout");
__ZX_INFO_ASSERT(offsetof(zx_info_vmo_t, committed_scaled_bytes) == 144,
                 "zx_info_vmo_t layout");
__ZX_INFO_ASSERT(offsetof(zx_info_vmo_t, populated_fractional_scaled_bytes) == 168,
                 "zx_info_vmo_t layout");

__ZX_INFO_ASSERT(sizeof(zx_info_vmar_t) == 16, "zx_info_vmar_t size");
__ZX_INFO_ASSERT(sizeof(zx_info_maps_mapping_t) == 88, "zx_info_maps_mapping_t size");
__ZX_INFO_ASSERT(sizeof(zx_info_maps_mapping_v2_t) == 40, "zx_info_maps_mapping_v2_t size");
__ZX_INFO_ASSERT(sizeof(zx_info_maps_mapping_v1_t) == 32, "zx_info_maps_mapping_v1_t size");
__ZX_INFO_ASSERT(offsetof(zx_info_maps_t, u) == 64, "zx_info_maps_t layout");
__ZX_INFO_ASSERT(sizeof(zx_info_maps_t) == 152, "zx_info_maps_t size");
__ZX_INFO_ASSERT(sizeof(zx_info_maps_v2_t) == 104, "zx_info_maps_v2_t size");
__ZX_INFO_ASSERT(sizeof(zx_info_maps_v1_t) == 96, "zx_info_maps_v1_t size");
__ZX_INFO_ASSERT(sizeof(zx_info_task_stats_t) == 40, "zx_info_task_stats_t size");
__ZX_INFO_ASSERT(sizeof(zx_info_task_stats_v1_t) == 32, "zx_info_task_stats_v1_t size");

/* Each older version is a prefix of the newest one. */
__ZX_INFO_ASSERT(offsetof(zx_info_vmo_t, metadata_bytes) == sizeof(zx_info_vmo_v1_t),
                 "zx_info_vmo_v1_t is a prefix of zx_info_vmo_t");
__ZX_INFO_ASSERT(offsetof(zx_info_vmo_t, populated_bytes) == sizeof(zx_info_vmo_v2_t),
                 "zx_info_vmo_v2_t is a prefix of zx_info_vmo_t");
__ZX_INFO_ASSERT(offsetof(zx_info_vmo_t, committed_private_bytes) == sizeof(zx_info_vmo_v3_t),
                 "zx_info_vmo_v3_t is a prefix of zx_info_vmo_t");

#undef __ZX_INFO_ASSERT
#endif

__END_CDECLS

#endif /* SYSROOT_ZIRCON_SYSCALLS_OBJECT_H_ */
