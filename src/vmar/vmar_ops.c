// SPDX-License-Identifier: BSD-3-Clause
// The zx_vmar_* operations on the tree (vmar_tree.h): placement, map, allocate,
// unmap, protect, destroy and op_range. Each takes the address-space lock exclusively
// for its whole duration, so every change is atomic to lookups.
//
// No change before the last allocation. Records a call splits off, and room in the
// children arrays and the index, are allocated before anything is detached, split or
// inserted; a ZX_ERR_NO_MEMORY from them leaves the tree as it was. The core's own
// refusals (mapping_attach, mapping_protect) can come later; their comments say what
// is left then.
//
// Placement is first fit: the lowest address in the VMAR (below the upper limit, with
// OFFSET_IS_UPPER_LIMIT) that is aligned and begins a free run long enough. COMPACT
// changes nothing, as there is no randomisation to make compact.
#include "os.h"
#include "page_source.h"
#include "vmar_tree.h"

static bool in_range(const vmar_t* v, uintptr_t addr, uint64_t len) {
  return addr >= v->base && addr - v->base < v->len && v->len - (addr - v->base) >= len;
}

// The end of child `i` of `v`.
static uintptr_t kid_end(const vmar_t* v, size_t i) {
  return vchild_base(&v->kids[i]) + vchild_len(&v->kids[i]);
}

// First fit of `len` bytes aligned to `align` in [v->base, limit).
static bool find_spot_locked(const vmar_t* v, uint64_t len, uint64_t align, uintptr_t limit,
                             uintptr_t* out) {
  uintptr_t lo = v->base;
  for (size_t i = 0; i <= v->nkids && lo < limit; i++) {
    uintptr_t gap_end = i < v->nkids ? vchild_base(&v->kids[i]) : v->base + v->len;
    if (gap_end > limit) gap_end = limit;
    uintptr_t cand = (lo + (align - 1)) & ~(uintptr_t)(align - 1);
    if (cand >= lo && cand < gap_end && gap_end - cand >= len) {
      *out = cand;
      return true;
    }
    if (i < v->nkids) lo = kid_end(v, i);
  }
  return false;
}

// The checks and placement CreateSubVmarInternal makes for both mappings and
// sub-VMARs, in its order. `can_map` are the CAN_MAP_* bits the new child asks for.
// With SPECIFIC_OVERWRITE an overlap is reported in *overlap instead of refused.
static zx_status_t place_locked(const vmar_t* v, uint32_t options, uint32_t can_map,
                                uint64_t offset, uint64_t len, uint8_t align_pow2,
                                uintptr_t* base, bool* overlap) {
  *overlap = false;
  if (v->destroyed) return ZX_ERR_BAD_STATE;
  if (len == 0) return ZX_ERR_INVALID_ARGS;
  if (can_map & ~v->flags & VMAR_CAN_MAP_RWX) return ZX_ERR_ACCESS_DENIED;
  bool overwrite = (options & ZX_VM_SPECIFIC_OVERWRITE) != 0;
  bool specific = overwrite || (options & ZX_VM_SPECIFIC) != 0;
  bool upper = (options & ZX_VM_OFFSET_IS_UPPER_LIMIT) != 0;
  if (specific && upper) return ZX_ERR_INVALID_ARGS;
  if (!specific && !upper && offset != 0) return ZX_ERR_INVALID_ARGS;
  if (!page_aligned(offset)) return ZX_ERR_INVALID_ARGS;
  if ((specific || upper) && !(v->flags & ZX_VM_CAN_MAP_SPECIFIC)) return ZX_ERR_ACCESS_DENIED;
  if (!upper && (offset >= v->len || len > v->len - offset)) return ZX_ERR_INVALID_ARGS;
  if (upper && (offset > v->len || len > v->len || len > offset)) return ZX_ERR_INVALID_ARGS;
  uint64_t align = align_pow2 != 0 ? (uint64_t)1 << align_pow2 : 0;
  if (specific) {
    uintptr_t at = v->base + offset;
    if (align != 0 && (at & (align - 1)) != 0) return ZX_ERR_INVALID_ARGS;
    size_t i = vmar_kid_at_locked(v, at);
    if (i < v->nkids && vchild_base(&v->kids[i]) < at + len) {
      if (!overwrite) return ZX_ERR_ALREADY_EXISTS;
      *overlap = true;
    }
    *base = at;
    return ZX_OK;
  }
  uintptr_t limit = upper ? v->base + offset : v->base + v->len;
  if (!find_spot_locked(v, len, max_u64(align, PAGE_SIZE), limit, base)) {
    return ZX_ERR_NO_RESOURCES;
  }
  return ZX_OK;
}

// ---- unmapping a range of one VMAR ----------------------------------------------

// Removes every child of `v` inside [addr, addr+len), splitting the mappings that
// straddle its ends and destroying the sub-VMARs inside (the caller checked that none
// straddles an end). `spare` holds two zeroed records for the splits. Room for two
// more children was reserved. Cannot fail.
static void unmap_range_locked(vmar_t* v, uintptr_t addr, uint64_t len, vmap_t* spare[2]) {
  uintptr_t end = addr + len;
  size_t i = vmar_kid_at_locked(v, addr);
  if (i < v->nkids && v->kids[i].map != NULL && v->kids[i].map->m.base < addr) {
    vmap_t* head = v->kids[i].map;
    vmap_t* tail = spare[0];
    spare[0] = NULL;
    mapping_split(&head->m, addr, &tail->m);
    tail->max_perms = head->max_perms;
    tail->m.parent = v;
    vmar_kid_insert_locked(v, i + 1, (vchild_t){.sub = NULL, .map = tail});
    i++;
  }
  size_t j = vmar_kid_at_locked(v, end - 1);
  if (j < v->nkids && v->kids[j].map != NULL && vchild_base(&v->kids[j]) < end &&
      kid_end(v, j) > end) {
    vmap_t* head = v->kids[j].map;
    vmap_t* tail = spare[1];
    spare[1] = NULL;
    mapping_split(&head->m, end, &tail->m);
    tail->max_perms = head->max_perms;
    tail->m.parent = v;
    vmar_kid_insert_locked(v, j + 1, (vchild_t){.sub = NULL, .map = tail});
  }
  // Children [i, k) now lie wholly inside the range; remove them last to first so that
  // the positions still to visit do not move.
  size_t k = i;
  while (k < v->nkids && vchild_base(&v->kids[k]) < end) k++;
  while (k > i) {
    k--;
    vchild_t c = v->kids[k];
    if (c.map != NULL) {
      mapping_detach(&c.map->m);
      vmar_kid_remove_locked(v, k);
      os_free(c.map);
    } else {
      vmar_destroy_locked(c.sub);
    }
  }
}

// Allocates the two records unmap_range_locked may need and reserves two children.
static zx_status_t prepare_unmap_locked(vmar_t* v, vmap_t* spare[2], size_t extra) {
  spare[0] = os_calloc(1, sizeof(vmap_t));
  spare[1] = os_calloc(1, sizeof(vmap_t));
  if (spare[0] == NULL || spare[1] == NULL || vmar_reserve_locked(v, 2 + extra) != ZX_OK) {
    os_free(spare[0]);
    os_free(spare[1]);
    return ZX_ERR_NO_MEMORY;
  }
  return ZX_OK;
}

// ---- map and allocate -----------------------------------------------------------

static zx_status_t map_locked(vmar_t* v, const vmar_map_args_t* a, uintptr_t* out) {
  uint32_t can_map = (a->max_perms & VM_PERMS) << 7;
  uintptr_t base;
  bool overlap;
  zx_status_t st = place_locked(v, a->options, can_map, a->vmar_offset, a->len, a->align_pow2,
                                &base, &overlap);
  if (st != ZX_OK) return st;
  if (overlap) {
    // Overwriting may replace mappings, never part of a sub-VMAR.
    for (size_t i = vmar_kid_at_locked(v, base);
         i < v->nkids && vchild_base(&v->kids[i]) < base + a->len; i++) {
      if (v->kids[i].sub != NULL) return ZX_ERR_INVALID_ARGS;
    }
  }
  if (a->dry_run) return ZX_ERR_INVALID_ARGS;
  st = fault_init();
  if (st != ZX_OK) return st;
  vmap_t* m = os_calloc(1, sizeof(*m));
  if (m == NULL) return ZX_ERR_NO_MEMORY;
  vmap_t* spare[2] = {NULL, NULL};
  st = overlap ? prepare_unmap_locked(v, spare, 1) : vmar_reserve_locked(v, 1);
  if (st != ZX_OK) {
    os_free(m);
    return st;
  }
  m->m.base = base;
  m->m.len = a->len;
  m->m.vmo = a->vmo;
  m->m.vmo_off = a->vmo_offset;
  m->m.perms = a->options & VM_PERMS;
  m->m.parent = v;
  m->max_perms = a->max_perms & VM_PERMS;
  if (overlap) unmap_range_locked(v, base, a->len, spare);
  os_free(spare[0]);
  os_free(spare[1]);
  st = mapping_attach(&m->m, a->map_range);
  if (st != ZX_OK) {
    os_free(m);
    return st;
  }
  vmar_kid_insert_locked(v, vmar_kid_at_locked(v, base), (vchild_t){.sub = NULL, .map = m});
  *out = base;
  return ZX_OK;
}

zx_status_t vmar_map(vmar_t* v, const vmar_map_args_t* a, uintptr_t* out) {
  aspace_wrlock();
  zx_status_t st = map_locked(v, a, out);
  aspace_unlock();
  return st;
}

zx_status_t vmar_allocate(vmar_t* v, uint32_t flags, uint8_t align_pow2, uint64_t offset,
                          uint64_t len, bool dry_run, vmar_t** out) {
  aspace_wrlock();
  uintptr_t base;
  bool overlap;
  zx_status_t st = place_locked(v, flags, flags & VMAR_CAN_MAP_RWX, offset, len, align_pow2,
                                &base, &overlap);
  vmar_t* c = NULL;
  if (st == ZX_OK && dry_run) st = ZX_ERR_INVALID_ARGS;
  if (st == ZX_OK) {
    c = vmar_new(v, base, len,
                 flags & (VMAR_CAN_MAP_RWX | ZX_VM_CAN_MAP_SPECIFIC | ZX_VM_COMPACT));
    if (c == NULL || vmar_reserve_locked(v, 1) != ZX_OK) st = ZX_ERR_NO_MEMORY;
  }
  if (st == ZX_OK) {
    // The tree keeps vmar_new's reference; the caller gets one of its own.
    object_ref(&c->obj);
    vmar_kid_insert_locked(v, vmar_kid_at_locked(v, base), (vchild_t){.sub = c, .map = NULL});
    *out = c;
  } else if (c != NULL) {
    object_unref(&c->obj);
  }
  aspace_unlock();
  return st;
}

// ---- destroy and unmap ----------------------------------------------------------

void vmar_destroy_locked(vmar_t* top) {
  // Depth-first from the last child, with the parent links as the stack: the depth is
  // the user's to choose, so the walk takes no native stack per level.
  vmar_t* cur = top;
  for (;;) {
    if (cur->nkids > 0) {
      vchild_t* c = &cur->kids[cur->nkids - 1];
      if (c->sub != NULL) {
        cur = c->sub;
        continue;
      }
      vmap_t* m = c->map;
      mapping_detach(&m->m);
      vmar_kid_remove_locked(cur, cur->nkids - 1);
      os_free(m);
      continue;
    }
    vmar_t* p = cur->parent;
    cur->destroyed = true;
    bool done = cur == top;
    if (p != NULL) {
      // Below `top`, `cur` was its parent's last child; `top` may sit anywhere.
      size_t i = done ? vmar_kid_index_locked(p, cur->base) : p->nkids - 1;
      ZX_ASSERT(p->kids[i].sub == cur);
      vmar_kid_remove_locked(p, i);
      cur->parent = NULL;
      object_unref(&cur->obj);  // the tree's reference; the caller holds `top`
    }
    if (done) return;
    cur = p;
  }
}

zx_status_t vmar_destroy(vmar_t* v) {
  aspace_wrlock();
  zx_status_t st = ZX_OK;
  if (v->parent == NULL && !v->destroyed) {
    st = ZX_ERR_NOT_SUPPORTED;  // the root
  } else if (v->destroyed) {
    st = ZX_ERR_BAD_STATE;
  } else {
    vmar_destroy_locked(v);
  }
  aspace_unlock();
  return st;
}

static zx_status_t unmap_locked(vmar_t* v, uintptr_t addr, uint64_t len, bool op_children) {
  if (v->destroyed) return ZX_ERR_BAD_STATE;
  if (!in_range(v, addr, len)) return ZX_ERR_INVALID_ARGS;
  if (v->nkids == 0) return ZX_OK;
  uintptr_t end = addr + len;
  for (size_t i = vmar_kid_at_locked(v, addr); i < v->nkids && vchild_base(&v->kids[i]) < end;
       i++) {
    vmar_t* s = v->kids[i].sub;
    if (s != NULL && (!op_children || s->base < addr || s->base + s->len > end)) {
      return ZX_ERR_INVALID_ARGS;
    }
  }
  vmap_t* spare[2];
  zx_status_t st = prepare_unmap_locked(v, spare, 0);
  if (st != ZX_OK) return st;
  unmap_range_locked(v, addr, len, spare);
  os_free(spare[0]);
  os_free(spare[1]);
  return ZX_OK;
}

zx_status_t vmar_unmap(vmar_t* v, uintptr_t addr, uint64_t len, bool op_children) {
  aspace_wrlock();
  zx_status_t st = unmap_locked(v, addr, len, op_children);
  aspace_unlock();
  return st;
}

// ---- protect --------------------------------------------------------------------

// Splits record `r` at `at`, in its own VMAR, with the spare record `tail`.
static void split_record_locked(vmap_t* r, uintptr_t at, vmap_t* tail) {
  vmar_t* p = r->m.parent;
  size_t i = vmar_kid_index_locked(p, r->m.base);
  mapping_split(&r->m, at, &tail->m);
  tail->max_perms = r->max_perms;
  tail->m.parent = p;
  vmar_kid_insert_locked(p, i + 1, (vchild_t){.sub = NULL, .map = tail});
}

static zx_status_t protect_locked(vmar_t* v, uintptr_t addr, uint64_t len, uint32_t perms,
                                  bool op_children) {
  if (v->destroyed) return ZX_ERR_BAD_STATE;
  if (!in_range(v, addr, len)) return ZX_ERR_INVALID_ARGS;
  uintptr_t end = addr + len;
  // Every record in the range, sub-VMARs' included, is one run of the index.
  size_t first = aspace_index_at_locked(addr);
  size_t n = aspace_index_count_locked();
  uintptr_t expected = addr;
  size_t last = first;
  for (; last < n; last++) {
    vmap_t* r = aspace_index_get_locked(last);
    if (r->m.base >= end) break;
    if (r->m.base > expected) return ZX_ERR_NOT_FOUND;
    if (perms & ~r->max_perms) return ZX_ERR_ACCESS_DENIED;
    if (r->m.parent != v) {
      // Through a parent VMAR, protection may only shrink.
      if (!op_children) return ZX_ERR_INVALID_ARGS;
      if (perms & ~r->m.perms) return ZX_ERR_ACCESS_DENIED;
    }
    expected = r->m.base + r->m.len;
  }
  if (expected < end) return ZX_ERR_NOT_FOUND;

  vmap_t* a = aspace_index_get_locked(first);
  vmap_t* b = aspace_index_get_locked(last - 1);
  // Allocated up front: the two records the splits may need, room for them, and the
  // old protections, to put back if the core refuses one of the changes.
  vmap_t* spare[2];
  spare[0] = os_calloc(1, sizeof(vmap_t));
  spare[1] = os_calloc(1, sizeof(vmap_t));
  uint32_t* old = os_malloc((last - first) * sizeof(uint32_t));
  zx_status_t st = ZX_OK;
  if (spare[0] == NULL || spare[1] == NULL || old == NULL ||
      vmar_reserve_locked(a->m.parent, 2) != ZX_OK ||
      vmar_reserve_locked(b->m.parent, 2) != ZX_OK) {
    st = ZX_ERR_NO_MEMORY;
  }
  if (st == ZX_OK) {
    if (a->m.base < addr) {
      split_record_locked(a, addr, spare[0]);
      spare[0] = NULL;
      first++;
      last++;
      if (a == b) b = aspace_index_get_locked(first);
    }
    if (b->m.base + b->m.len > end) {
      split_record_locked(b, end, spare[1]);
      spare[1] = NULL;
    }
    // The records [first, last) now cover exactly the range. A refusal from the core
    // puts the ones already changed back; the split records stay (they show the same
    // memory as before, as two records).
    size_t i = first;
    for (; i < last; i++) {
      mapping_t* m = &aspace_index_get_locked(i)->m;
      old[i - first] = m->perms;
      st = mapping_protect(m, perms);
      if (st != ZX_OK) break;
    }
    if (st != ZX_OK) {
      while (i > first) {
        i--;
        (void)mapping_protect(&aspace_index_get_locked(i)->m, old[i - first]);
      }
    }
  }
  os_free(spare[0]);
  os_free(spare[1]);
  os_free(old);
  return st;
}

zx_status_t vmar_protect(vmar_t* v, uintptr_t addr, uint64_t len, uint32_t perms,
                         bool op_children) {
  aspace_wrlock();
  zx_status_t st = protect_locked(v, addr, len, perms, op_children);
  aspace_unlock();
  return st;
}

// ---- op_range -------------------------------------------------------------------

static zx_status_t op_range_locked(vmar_t* v, uint32_t op, uintptr_t addr, uint64_t len,
                                   struct page_request** req, bool op_children) {
  if (!in_range(v, addr, len)) return ZX_ERR_OUT_OF_RANGE;
  if (v->destroyed) return ZX_ERR_BAD_STATE;
  uintptr_t end = addr + len;
  uintptr_t expected = addr;
  // COMMIT, DECOMMIT and PREFETCH act as if they raised the protection to what they
  // need, which is not allowed through a parent VMAR; the other ops are, with
  // OP_CHILDREN.
  bool direct_only = op == ZX_VMAR_OP_COMMIT || op == ZX_VMAR_OP_DECOMMIT ||
                     op == ZX_VMAR_OP_PREFETCH;
  uint32_t need = 0;
  if (op == ZX_VMAR_OP_COMMIT || op == ZX_VMAR_OP_DECOMMIT || op == ZX_VMAR_OP_ZERO) {
    need = ZX_VM_PERM_WRITE;
  } else if (op == ZX_VMAR_OP_PREFETCH) {
    need = ZX_VM_PERM_READ;
  }
  for (size_t i = aspace_index_at_locked(addr); i < aspace_index_count_locked(); i++) {
    vmap_t* r = aspace_index_get_locked(i);
    if (r->m.base >= end) break;
    if (r->m.base > expected) return ZX_ERR_BAD_STATE;
    if ((direct_only || !op_children) && r->m.parent != v) return ZX_ERR_INVALID_ARGS;
    if (need & ~r->max_perms) return ZX_ERR_ACCESS_DENIED;
    uintptr_t stop = min_u64(end, r->m.base + r->m.len);
    zx_status_t st = mapping_op_range(&r->m, op, expected, stop - expected, req);
    if (st != ZX_OK) return st;
    expected = stop;
  }
  return expected < end ? ZX_ERR_BAD_STATE : ZX_OK;
}

zx_status_t vmar_op_range(vmar_t* v, uint32_t op, uintptr_t addr, uint64_t len,
                          bool op_children) {
  for (;;) {
    struct page_request* req;
    aspace_wrlock();
    zx_status_t st = op_range_locked(v, op, addr, len, &req, op_children);
    aspace_unlock();
    if (st != ZX_ERR_SHOULD_WAIT) return st;
    // A pager must supply pages first: wait with no lock held, then start over (what
    // was done is done again at no cost).
    st = source_wait(req);
    if (st != ZX_OK) return st;
  }
}
