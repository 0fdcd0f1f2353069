// SPDX-License-Identifier: BSD-3-Clause
// Resource objects: the root resource, narrowing (zx_resource_create) and the checks
// other calls make on a resource (docs/behavior.md §15.1).
#include <string.h>

#include "os.h"
#include "resource.h"
#include "vmo.h"

// Every live resource other than the root, for the exclusivity rules. A leaf lock.
static pthread_mutex_t g_res_lock = PTHREAD_MUTEX_INITIALIZER;
static resource_t* g_res_list;  // (g_res_lock) via ex_next / ex_prev
static resource_t* g_root;      // (g_res_lock to create) never released

static void resource_destroy(zx_object_t* obj) {
  resource_t* r = resource_from_obj(obj);
  pthread_mutex_lock(&g_res_lock);
  if (r->ex_prev) {
    r->ex_prev->ex_next = r->ex_next;
  } else {
    g_res_list = r->ex_next;
  }
  if (r->ex_next) r->ex_next->ex_prev = r->ex_prev;
  pthread_mutex_unlock(&g_res_lock);
  pthread_mutex_destroy(&obj->lock);
  os_free(r);
}

static const object_ops_t resource_ops = {
    .type = ZX_OBJ_TYPE_RESOURCE,
    .waitable = true,
    .user_settable = 0,
    .on_zero_handles = NULL,
    .destroy = resource_destroy,
};

resource_t* resource_root(void) {
  pthread_mutex_lock(&g_res_lock);
  if (!g_root) {
    resource_t* r = os_calloc(1, sizeof(*r));
    if (r) {
      object_init(&r->base, &resource_ops, ZX_SIGNAL_NONE);
      r->kind = ZX_RSRC_KIND_ROOT;
      object_set_name(&r->base, "root", 4);
      g_root = r;  // keeps the reference object_init gave: lives with the process
    }
  }
  resource_t* r = g_root;
  pthread_mutex_unlock(&g_res_lock);
  return r;
}

// The emulated machine's filter on what even the root grants: no MMIO range may reach
// into RAM (at and above PHYS_SPACE), as Zircon keeps drivers off the kernel's memory.
static bool root_filter_denies(uint32_t kind, uint64_t base, uint64_t size) {
  if (kind != ZX_RSRC_KIND_MMIO) return false;
  return base >= PHYS_SPACE || size > PHYS_SPACE - base;
}

// A resource of `kind` covering everything of that kind: the root of that kind's tree.
static bool is_ranged_root(const resource_t* r, uint32_t kind) {
  return r->kind == kind && r->rbase == 0 && r->size == 0;
}

zx_status_t resource_check_range(const resource_t* r, uint32_t kind, uint64_t base,
                                 uint64_t size) {
  if (r->kind == ZX_RSRC_KIND_ROOT || is_ranged_root(r, kind)) {
    return root_filter_denies(kind, base, size) ? ZX_ERR_ACCESS_DENIED : ZX_OK;
  }
  if (r->kind != kind) return ZX_ERR_WRONG_TYPE;
  uint64_t lo = r->rbase, hi = r->rbase + r->size;
  if (kind == ZX_RSRC_KIND_MMIO) {
    // MMIO ranges are granted in whole pages.
    lo &= ~PAGE_MASK;
    hi = hi > UINT64_MAX - PAGE_MASK ? UINT64_MAX & ~PAGE_MASK : (hi + PAGE_MASK) & ~PAGE_MASK;
  }
  if (size == 0 || base < lo || base > hi || size > hi - base) return ZX_ERR_OUT_OF_RANGE;
  return ZX_OK;
}

zx_status_t resource_check_system(const resource_t* r, uint64_t system_base) {
  if (r->kind == ZX_RSRC_KIND_ROOT) return ZX_OK;
  return r->kind == ZX_RSRC_KIND_SYSTEM && r->rbase == system_base ? ZX_OK
                                                                      : ZX_ERR_WRONG_TYPE;
}

// The ids a kind has on the emulated machine: ports are 16-bit, SYSTEM ids are
// Zircon's list; MMIO, IRQ and SMC ranges may lie anywhere.
static uint64_t kind_space_end(uint32_t kind) {
  switch (kind) {
    case ZX_RSRC_KIND_IOPORT:
      return 0x10000;
    case ZX_RSRC_KIND_SYSTEM:
      return ZX_RSRC_SYSTEM_COUNT;
    default:
      return UINT64_MAX;
  }
}

static bool overlaps(const resource_t* r, uint32_t kind, uint64_t base, uint64_t size) {
  return r->kind == kind && r->rbase < base + size && base < r->rbase + r->size;
}

zx_status_t resource_create(resource_t* parent, uint32_t options, uint64_t base, uint64_t size,
                            const char* name, size_t name_len, resource_t** out) {
  uint32_t kind = ZX_RSRC_EXTRACT_KIND(options);
  uint32_t flags = ZX_RSRC_EXTRACT_FLAGS(options);
  bool exclusive = (flags & ZX_RSRC_FLAG_EXCLUSIVE) != 0;
  // Zircon reports any way the parent fails to grant the range as ACCESS_DENIED.
  if (resource_check_range(parent, kind, base, size) != ZX_OK) return ZX_ERR_ACCESS_DENIED;
  // Only the root of a tree may hand out exclusive ranges, or narrow an exclusive one.
  bool from_root = parent->kind == ZX_RSRC_KIND_ROOT || is_ranged_root(parent, kind);
  if (!from_root && ((parent->flags & ZX_RSRC_FLAG_EXCLUSIVE) || exclusive)) {
    return ZX_ERR_INVALID_ARGS;
  }
  if (kind == ZX_RSRC_KIND_ROOT) {
    if (base != 0 || size != 0) return ZX_ERR_INVALID_ARGS;
  } else if (size == 0 || base > UINT64_MAX - size) {
    return ZX_ERR_INVALID_ARGS;
  } else if (base + size > kind_space_end(kind)) {
    return ZX_ERR_NOT_FOUND;
  }
  resource_t* r = os_calloc(1, sizeof(*r));
  if (!r) return ZX_ERR_NO_MEMORY;
  object_init(&r->base, &resource_ops, ZX_SIGNAL_NONE);
  r->kind = kind;
  r->flags = flags;
  r->rbase = base;
  r->size = size;
  object_set_name(&r->base, name, name_len);
  pthread_mutex_lock(&g_res_lock);
  // An exclusive range is nobody else's while it lives: it may not overlap any live
  // resource of its kind, and no later one may overlap it.
  for (resource_t* o = g_res_list; o && kind != ZX_RSRC_KIND_ROOT; o = o->ex_next) {
    if (overlaps(o, kind, base, size) && (exclusive || (o->flags & ZX_RSRC_FLAG_EXCLUSIVE))) {
      pthread_mutex_unlock(&g_res_lock);
      pthread_mutex_destroy(&r->base.lock);
      os_free(r);
      return ZX_ERR_NOT_FOUND;
    }
  }
  r->ex_next = g_res_list;
  if (g_res_list) g_res_list->ex_prev = r;
  g_res_list = r;
  pthread_mutex_unlock(&g_res_lock);
  *out = r;
  return ZX_OK;
}
