// SPDX-License-Identifier: BSD-3-Clause
// Resource objects (ZX_OBJ_TYPE_RESOURCE): the capabilities that let a program make
// driver objects (physical VMOs, IOMMUs, executable VMOs), as Zircon's.
//
// The emulated machine's root resource (zxvmo_root_resource) is one object, made on
// first use and kept for the life of the process; zx_resource_create narrows it into
// ranged resources (MMIO, IRQ, IOPORT, SMC) and system ones (one page of the SYSTEM
// space each: VMEX, IOMMU, ...). Exclusive ranges are recorded in a global list while
// their resource lives.
//
// Everything here is constant after creation except the exclusive list (its own lock,
// a leaf).
#ifndef ZXVMO_SRC_OBJECT_RESOURCE_H_
#define ZXVMO_SRC_OBJECT_RESOURCE_H_

#include <zircon/syscalls/resource.h>

#include "object.h"

typedef struct resource {
  zx_object_t base;
  uint32_t kind;               // ZX_RSRC_KIND_*
  uint32_t flags;              // ZX_RSRC_FLAG_*
  uint64_t rbase;              // first address (or SYSTEM id) covered
  uint64_t size;               // bytes (ids) covered; 0 for the root
  struct resource* ex_next;    // (exclusive list lock) while exclusive and alive
  struct resource* ex_prev;
} resource_t;

static inline resource_t* resource_from_obj(zx_object_t* o) { return (resource_t*)o; }

// The root resource, for handles to it; NULL if memory ran out on first use.
resource_t* resource_root(void);
// A new resource narrowed from `parent` (checked by the caller against its rights):
// ZX_ERR_ACCESS_DENIED if parent does not cover it, ZX_ERR_INVALID_ARGS for a kind or
// range it cannot have, ZX_ERR_NOT_FOUND if it overlaps an exclusive one (or is
// exclusive and overlaps a live one). The caller owns the one reference.
zx_status_t resource_create(resource_t* parent, uint32_t options, uint64_t base, uint64_t size,
                            const char* name, size_t name_len, resource_t** out);
// Whether `r` grants kind `kind` over [base, base + size): the root grants everything,
// a resource of that kind what it covers. ZX_OK, ZX_ERR_WRONG_TYPE (another kind), or
// ZX_ERR_OUT_OF_RANGE (a range it does not cover).
zx_status_t resource_check_range(const resource_t* r, uint32_t kind, uint64_t base,
                                 uint64_t size);
// Whether `r` is the root or the SYSTEM resource for `system_base` (ZX_RSRC_SYSTEM_*).
zx_status_t resource_check_system(const resource_t* r, uint64_t system_base);

#endif  // ZXVMO_SRC_OBJECT_RESOURCE_H_
