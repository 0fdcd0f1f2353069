// SPDX-License-Identifier: BSD-3-Clause
// Driver memory on the VM side: physical and contiguous VMOs, pins and cache policy
// (docs/behavior.md §15).
//
// Emulated physical memory is one hidden VMO of PHYS_SPACE bytes, made on first use
// and never released: a physical VMO is a slice of it (vmo_create_window), so two over
// the same range show the same bytes, mappings of them work as mappings of any slice,
// and what was written there stays for the life of the process, as memory does.
// Its pages are committed as they are first written, like any VMO's.
//
// A contiguous VMO is an ordinary root VMO, committed whole at creation, with an
// emulated physical address from the "RAM" range above PHYS_SPACE (addresses are
// handed out once and never reused, so no two VMOs ever alias).
//
// Pins. A device reaches pinned memory through its VMO (bti.c reads and writes the
// VMO at the pinned offset), so a pin needs no particular page to stay put: what it
// must guarantee is Zircon's contract on the VMO, which the checks on `pins` give
// (no DECOMMIT, no shrink over pinned pages, no eviction of them, no SNAPSHOT).
#include <pthread.h>

#include "os.h"
#include "vmo.h"

static pthread_mutex_t g_phys_lock = PTHREAD_MUTEX_INITIALIZER;
static vmo_t* g_phys;  // (g_phys_lock to create) the emulated physical memory

static zx_status_t phys_root(vmo_t** out) {
  pthread_mutex_lock(&g_phys_lock);
  zx_status_t st = ZX_OK;
  if (!g_phys) {
    vmo_t* v;
    st = vmo_create(PHYS_SPACE, PHYS_SPACE, false, &v);
    if (st == ZX_OK) {
      // Never published: no handle, so it stays alive (and its reference is kept).
      v->physical = true;
      v->cache_policy = ZX_CACHE_POLICY_UNCACHED;
      g_phys = v;
    }
  }
  *out = g_phys;
  pthread_mutex_unlock(&g_phys_lock);
  return st;
}

zx_status_t vmo_create_physical(uint64_t paddr, uint64_t size, vmo_t** out) {
  ZX_ASSERT(page_aligned(paddr) && page_aligned(size) && paddr <= PHYS_SPACE &&
            size <= PHYS_SPACE - paddr);
  vmo_t* r;
  zx_status_t st = phys_root(&r);
  if (st != ZX_OK) return st;
  vmo_t* v;
  st = vmo_create_window(r, paddr >> PAGE_SHIFT, size, &v);
  if (st != ZX_OK) return st;
  // Nobody else sees v yet.
  v->physical = true;
  v->phys_top = true;
  v->paddr = paddr;
  // Zircon maps physical VMOs uncached until told otherwise.
  v->cache_policy = ZX_CACHE_POLICY_UNCACHED;
  *out = v;
  return ZX_OK;
}

// Emulated RAM: where contiguous VMOs and pins of other VMOs get their addresses.
static pthread_mutex_t g_ram_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t g_ram_next = PHYS_SPACE;  // (g_ram_lock)

uint64_t vmo_ram_alloc(uint64_t size, uint32_t align_log2) {
  pthread_mutex_lock(&g_ram_lock);
  uint64_t align = (uint64_t)1 << align_log2;
  uint64_t at = 0;
  // Rounding up and the end must not wrap: wrapped addresses would fall in physical
  // memory and alias it.
  if (g_ram_next <= UINT64_MAX - (align - 1)) {
    uint64_t a = (g_ram_next + align - 1) & ~(align - 1);
    if (size <= UINT64_MAX - a) {
      at = a;
      g_ram_next = a + size;
    }
  }
  pthread_mutex_unlock(&g_ram_lock);
  return at;
}

zx_status_t vmo_create_contiguous(uint64_t size, uint64_t content_size, uint32_t align_log2,
                                  vmo_t** out) {
  ZX_ASSERT(size > 0 && page_aligned(size) && align_log2 < 64);
  vmo_t* v;
  zx_status_t st = vmo_create(size, content_size, false, &v);
  if (st != ZX_OK) return st;
  family_wrlock(v->fam);  // the invariant checker walks every family
  v->contiguous = true;
  family_unlock(v->fam);
  st = vmo_commit(v, 0, size);
  if (st != ZX_OK) {
    v->obj.ops->on_zero_handles(&v->obj);
    object_unref(&v->obj);
    return st;
  }
  v->paddr = vmo_ram_alloc(size, align_log2 > PAGE_SHIFT ? align_log2 : PAGE_SHIFT);
  if (v->paddr == 0) {
    v->obj.ops->on_zero_handles(&v->obj);
    object_unref(&v->obj);
    return ZX_ERR_NO_MEMORY;
  }
  *out = v;
  return ZX_OK;
}

bool vmo_pinned_locked(const vmo_t* c, uint64_t lo, uint64_t hi) {
  for (const vmo_pin_t* p = c->pins; p; p = p->next) {
    if (p->lo < hi && lo < p->hi) return true;
  }
  return false;
}

zx_status_t vmo_pin(vmo_t* v, uint64_t off, uint64_t len, vmo_pin_t* pin) {
  ZX_ASSERT(page_aligned(off) && page_aligned(len) && len > 0);
  // Physical memory needs no commit: it is there (its pages appear as written).
  zx_status_t st = ZX_OK;
  if (!v->physical) {
    while ((st = vmo_commit(v, off, len)) == ZX_ERR_NO_MEMORY && vmo_evict_for_budget()) {
    }
    if (st != ZX_OK) return st;
  }
  family_t* fam = v->fam;
  family_wrlock(fam);
  if (!v->alive) {
    st = ZX_ERR_BAD_HANDLE;
  } else if (off > v->size || len > v->size - off) {
    st = ZX_ERR_OUT_OF_RANGE;  // shrunk since the commit
  } else {
    uint64_t idx0;
    vmo_t* c = vmo_content(v, &idx0);
    pin->lo = idx0 + (off >> PAGE_SHIFT);
    pin->hi = pin->lo + (len >> PAGE_SHIFT);
    pin->owner = c;
    pin->next = c->pins;
    c->pins = pin;
    object_ref(&c->obj);  // the owner's map must outlive the pin
  }
  vmo_after_op_locked(fam);
  family_unlock(fam);
  return st;
}

void vmo_unpin(vmo_pin_t* pin) {
  vmo_t* c = pin->owner;
  ZX_ASSERT(c != NULL);
  family_t* fam = c->fam;
  family_wrlock(fam);
  vmo_pin_t** pp = &c->pins;
  while (*pp != pin) pp = &(*pp)->next;
  *pp = pin->next;
  pin->owner = NULL;
  pin->next = NULL;
  vmo_after_op_locked(fam);
  family_unlock(fam);
  object_unref(&c->obj);
}

zx_status_t vmo_set_cache_policy(vmo_t* v, uint32_t policy) {
  family_t* fam = v->fam;
  family_wrlock(fam);
  uint64_t idx0;
  vmo_t* c = vmo_content(v, &idx0);
  bool is_child = v->parent != NULL || (v->kind != VMO_ROOT && !v->phys_top);
  bool tied = v->mapping_count > 0 || v->num_children > 0 || is_child;
  zx_status_t st = ZX_OK;
  if (!v->alive) {
    st = ZX_ERR_BAD_HANDLE;
  } else if (v->physical) {
    // Physical memory has no cached copies to clean: only its users matter.
    if (policy != v->cache_policy && tied) st = ZX_ERR_BAD_STATE;
  } else if (v->cache_policy != ZX_CACHE_POLICY_CACHED &&
             pmap_next(&c->map, &(uint64_t){idx0}, idx0 + vmo_pages(v)) != NULL) {
    // Committed pages that may sit uncached in the caches cannot change policy.
    st = ZX_ERR_BAD_STATE;
  } else if (vmo_pinned_locked(c, idx0, idx0 + vmo_pages(v)) || tied) {
    st = ZX_ERR_BAD_STATE;
  }
  if (st == ZX_OK) v->cache_policy = policy;
  vmo_after_op_locked(fam);
  family_unlock(fam);
  return st;
}

_Static_assert(ZX_VMO_OP_COMMIT == ZX_VMAR_OP_COMMIT && ZX_VMO_OP_DECOMMIT == ZX_VMAR_OP_DECOMMIT &&
                   ZX_VMO_OP_ZERO == ZX_VMAR_OP_ZERO,
               "vmo_driver_op_check takes both kinds of op");

zx_status_t vmo_driver_op_check(const vmo_t* v, uint32_t op) {
  bool changes = op == ZX_VMO_OP_COMMIT || op == ZX_VMO_OP_DECOMMIT || op == ZX_VMO_OP_ZERO;
  if (changes && v->physical) return ZX_ERR_NOT_SUPPORTED;
  if (op == ZX_VMO_OP_ZERO && v->cache_policy != ZX_CACHE_POLICY_CACHED) return ZX_ERR_BAD_STATE;
  return ZX_OK;
}
