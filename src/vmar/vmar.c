// SPDX-License-Identifier: BSD-3-Clause
// The address space: the address-space lock, the root VMAR, VMAR objects, their sorted
// children arrays and the index of every mapping record (see vmar_tree.h).
//
// The root is made at the first zx_vmar_* call (or zx_vmar_root_self()): the largest
// range the OS grants from 1 TiB down to 1 GiB, halving, is reserved once as an
// inaccessible placeholder and trimmed to the library's page size. A failed attempt
// at making the root object (no memory) is retried by the next call; the reservation
// itself is made once.
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include <zircon/process.h>
#include <zircon/syscalls.h>

#include "handle.h"
#include "os.h"
#include "rwlock.h"
#include "vmar_tree.h"

// ---- the address-space lock -----------------------------------------------------

static rw_lock_t g_lock = RW_LOCK_INIT;

void aspace_rdlock(void) { rw_rdlock(&g_lock); }
void aspace_wrlock(void) { rw_wrlock(&g_lock); }
void aspace_unlock(void) { rw_unlock(&g_lock); }

// ---- the index: every mapping record, sorted by base ------------------------------

// A record's base never changes while it is attached (a split keeps the head's base and
// makes a new record for the tail), so it is kept beside the pointer: a lookup's binary
// search touches only this array.
typedef struct index_entry {
  uintptr_t base;
  vmap_t* map;
} index_entry_t;

static index_entry_t* g_index;  // (t)
static size_t g_index_n;        // (t)
static size_t g_index_cap;      // (t)

size_t aspace_index_at_locked(uintptr_t addr) {
  size_t lo = 0, hi = g_index_n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    const index_entry_t* e = &g_index[mid];
    if (e->base + e->map->m.len <= addr) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

size_t aspace_index_count_locked(void) { return g_index_n; }
vmap_t* aspace_index_get_locked(size_t i) { return g_index[i].map; }

// The fault path's search: on the bases alone (records never overlap, so only the last
// one starting at or below `addr` can hold it), then one read of that record.
mapping_t* aspace_lookup(uintptr_t addr) {
  size_t lo = 0, hi = g_index_n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (g_index[mid].base <= addr) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  if (lo == 0) return NULL;
  vmap_t* r = g_index[lo - 1].map;
  return addr - r->m.base < r->m.len ? &r->m : NULL;
}

void aspace_for_each(void (*fn)(mapping_t* m, void* ctx), void* ctx) {
  for (size_t i = 0; i < g_index_n; i++) fn(&g_index[i].map->m, ctx);
}

static bool grow(void** arr, size_t* cap, size_t need, size_t elem) {
  if (need <= *cap) return true;
  size_t n = *cap < 8 ? 8 : *cap;
  while (n < need) n *= 2;
  void* p = os_realloc(*arr, n * elem);
  if (p == NULL) return false;
  *arr = p;
  *cap = n;
  return true;
}

// ---- children -------------------------------------------------------------------

size_t vmar_kid_at_locked(const vmar_t* v, uintptr_t addr) {
  size_t lo = 0, hi = v->nkids;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    const vchild_t* c = &v->kids[mid];
    if (vchild_base(c) + vchild_len(c) <= addr) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

size_t vmar_kid_index_locked(const vmar_t* v, uintptr_t base) {
  size_t i = vmar_kid_at_locked(v, base);
  ZX_ASSERT(i < v->nkids && vchild_base(&v->kids[i]) == base);
  return i;
}

zx_status_t vmar_reserve_locked(vmar_t* v, size_t n) {
  if (!grow((void**)&v->kids, &v->cap, v->nkids + n, sizeof(vchild_t))) return ZX_ERR_NO_MEMORY;
  if (!grow((void**)&g_index, &g_index_cap, g_index_n + n, sizeof(index_entry_t))) {
    return ZX_ERR_NO_MEMORY;
  }
  return ZX_OK;
}

void vmar_kid_insert_locked(vmar_t* v, size_t i, vchild_t c) {
  ZX_ASSERT(v->nkids < v->cap && i <= v->nkids);
  memmove(&v->kids[i + 1], &v->kids[i], (v->nkids - i) * sizeof(vchild_t));
  v->kids[i] = c;
  v->nkids++;
  if (c.map != NULL) {
    ZX_ASSERT(g_index_n < g_index_cap);
    size_t k = aspace_index_at_locked(c.map->m.base);
    memmove(&g_index[k + 1], &g_index[k], (g_index_n - k) * sizeof(index_entry_t));
    g_index[k].base = c.map->m.base;
    g_index[k].map = c.map;
    g_index_n++;
  }
}

void vmar_kid_remove_locked(vmar_t* v, size_t i) {
  ZX_ASSERT(i < v->nkids);
  vmap_t* m = v->kids[i].map;
  memmove(&v->kids[i], &v->kids[i + 1], (v->nkids - i - 1) * sizeof(vchild_t));
  v->nkids--;
  if (m != NULL) {
    size_t k = aspace_index_at_locked(m->m.base);
    ZX_ASSERT(k < g_index_n && g_index[k].map == m);
    memmove(&g_index[k], &g_index[k + 1], (g_index_n - k - 1) * sizeof(index_entry_t));
    g_index_n--;
  }
}

// ---- VMAR objects ---------------------------------------------------------------

static void vmar_obj_destroy(zx_object_t* obj) {
  vmar_t* v = vmar_from_obj(obj);
  // Only a destroyed VMAR (or one never inserted) loses its last reference: the tree
  // holds one on every live sub-VMAR and the root is never released.
  ZX_ASSERT(v->nkids == 0);
  os_free(v->kids);
  pthread_mutex_destroy(&obj->lock);
  os_free(v);
}

static const object_ops_t vmar_ops = {
    .type = ZX_OBJ_TYPE_VMAR,
    .waitable = false,
    .user_settable = 0,
    .on_zero_handles = NULL,
    .destroy = vmar_obj_destroy,
};

vmar_t* vmar_new(vmar_t* parent, uintptr_t base, uint64_t len, uint32_t flags) {
  vmar_t* v = os_calloc(1, sizeof(*v));
  if (v == NULL) return NULL;
  object_init(&v->obj, &vmar_ops, ZX_SIGNAL_NONE);
  v->parent = parent;
  v->base = base;
  v->len = len;
  v->flags = flags;
  return v;
}

// ---- the root -------------------------------------------------------------------

#define ROOT_MAX_LEN ((uint64_t)1 << 40)
#define ROOT_MIN_LEN ((uint64_t)1 << 30)

static pthread_once_t g_reserve_once = PTHREAD_ONCE_INIT;
// The root's range, published once by reserve_root(); zero if nothing was granted.
static _Atomic uintptr_t g_root_base;
static _Atomic uint64_t g_root_len;

static void reserve_root(void) {
  for (uint64_t len = ROOT_MAX_LEN; len >= ROOT_MIN_LEN; len /= 2) {
    uintptr_t at;
    if (!os_reserve(len, &at)) continue;
    // The host's pages may be smaller than the library's: keep whole library pages.
    uintptr_t base = (at + PAGE_MASK) & ~(uintptr_t)PAGE_MASK;
    uintptr_t end = (at + len) & ~(uintptr_t)PAGE_MASK;
    atomic_store_explicit(&g_root_base, base, memory_order_relaxed);
    atomic_store_explicit(&g_root_len, end - base, memory_order_release);
    return;
  }
}

static pthread_mutex_t g_root_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic(vmar_t*) g_root;
static zx_handle_t g_root_handle;  // written once, before g_root is published

#define ROOT_RIGHTS (ZX_DEFAULT_VMAR_RIGHTS | ZX_RIGHT_READ | ZX_RIGHT_WRITE | ZX_RIGHT_EXECUTE)
#define ROOT_FLAGS (VMAR_CAN_MAP_RWX | ZX_VM_CAN_MAP_SPECIFIC)

vmar_t* vmar_root(void) {
  vmar_t* r = atomic_load_explicit(&g_root, memory_order_acquire);
  if (ZX_LIKELY(r != NULL)) return r;
  pthread_once(&g_reserve_once, reserve_root);
  uint64_t len = atomic_load_explicit(&g_root_len, memory_order_acquire);
  if (len == 0) return NULL;
  pthread_mutex_lock(&g_root_lock);
  r = atomic_load_explicit(&g_root, memory_order_relaxed);
  if (r == NULL) {
    uintptr_t base = atomic_load_explicit(&g_root_base, memory_order_relaxed);
    vmar_t* v = vmar_new(NULL, base, len, ROOT_FLAGS);
    if (v != NULL) {
      zx_handle_t h;
      // The library keeps the reference vmar_new gave it: the root outlives its handle.
      if (handle_create(&v->obj, ROOT_RIGHTS, &h) == ZX_OK) {
        g_root_handle = h;
        atomic_store_explicit(&g_root, v, memory_order_release);
        r = v;
      } else {
        object_unref(&v->obj);
      }
    }
  }
  pthread_mutex_unlock(&g_root_lock);
  return r;
}

void vmar_fork_lock(void) { pthread_mutex_lock(&g_root_lock); }
void vmar_fork_unlock(void) { pthread_mutex_unlock(&g_root_lock); }

zx_handle_t vmar_root_handle(void) {
  return vmar_root() != NULL ? g_root_handle : ZX_HANDLE_INVALID;
}

bool aspace_contains(uintptr_t addr, uint64_t len) {
  uint64_t rlen = atomic_load_explicit(&g_root_len, memory_order_acquire);
  if (rlen == 0) return false;
  uintptr_t base = atomic_load_explicit(&g_root_base, memory_order_relaxed);
  if (len == 0) return addr >= base && addr - base < rlen;
  // [addr, addr+len) and [base, base+rlen) overlap (addr + len may wrap: clamp it).
  uintptr_t end = addr + len < addr ? UINTPTR_MAX : addr + len;
  return addr < base + rlen && end > base;
}

ZX_API zx_handle_t zx_vmar_root_self(void) {
  // In an isolated child of fork() nothing is made: the value (if any) is dead there.
  if (process_forked()) return g_root_handle;
  return vmar_root_handle();
}
