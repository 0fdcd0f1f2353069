// SPDX-License-Identifier: BSD-3-Clause
// Pager-backed families: the VM side of user pagers (the requests themselves are
// page_source.c's).
//
// The family's root is the pager VMO; its base is 0, so family indices are its page
// offsets. A page of the root's window that the root's map lacks is "absent": it is
// asked of the pager instead of reading as zero. Children see absent pages through
// their backing chain exactly as they see present ones, so an access through a
// one-way child or a slice asks for the root's page too.
//
// Accesses find what they lack with the family lock held, ask for it, drop the lock,
// wait, and start over: the state they saw may have changed meanwhile, and only what
// they find under the lock decides. A resolved request says "look again", never
// "the pages are there": the pager may have supplied part, the VMO may have shrunk.
#include "home.h"
#include "os.h"
#include "page_source.h"
#include "vmo.h"

zx_status_t vmo_create_pager(uint64_t size, uint64_t content_size, bool resizable,
                             page_source_t* src, vmo_t** out) {
  vmo_t* v;
  zx_status_t st = vmo_create(size, content_size, resizable, &v);
  if (st != ZX_OK) {
    source_unref(src);
    return st;
  }
  // Nobody else can see the family yet.
  v->fam->source = src;
  *out = v;
  return ZX_OK;
}

// The VMO at which c's view of `idx` ends: the first along its backing chain whose
// map holds the page, or the last one looked at.
static vmo_t* view_end_locked(vmo_t* c, uint64_t idx, bool* present) {
  for (;;) {
    if (pmap_lookup(&c->map, idx)) {
      *present = true;
      return c;
    }
    if (c->backing && idx < c->cut) {
      c = c->backing;
      continue;
    }
    *present = false;
    return c;
  }
}

// Whether c's view of `idx` is a page the pager root lacks.
static bool absent_locked(vmo_t* c, uint64_t idx) {
  bool present;
  vmo_t* end = view_end_locked(c, idx, &present);
  return !present && vmo_is_pager_root(end) && idx < end->base + vmo_pages(end);
}

// Finds the first absent index in [lo, hi) and the end of the run of absent indices
// from there, which may extend up to `run_max`. False if there is none.
static bool first_absent_run_locked(vmo_t* c, uint64_t lo, uint64_t hi, uint64_t run_max,
                                    uint64_t* a_lo, uint64_t* a_hi) {
  if (vmo_is_pager_root(c)) {
    // The common case, in O(pages present): gaps of the root's own map.
    uint64_t end = c->base + vmo_pages(c);
    hi = min_u64(hi, end);
    run_max = min_u64(run_max, end);
    uint64_t i = lo;
    while (i < hi) {
      uint64_t j = i;
      if (!pmap_next(&c->map, &j, hi)) j = hi;
      if (j > i) {
        *a_lo = i;
        if (j == hi && !pmap_next(&c->map, &j, run_max)) j = run_max;
        *a_hi = j;
        return true;
      }
      i = j + 1;
    }
    return false;
  }
  uint64_t i = lo;
  while (i < hi && !absent_locked(c, i)) i++;
  if (i == hi) return false;
  *a_lo = i;
  while (i < run_max && absent_locked(c, i)) i++;
  *a_hi = i;
  return true;
}

zx_status_t vmo_pager_need_locked(vmo_t* c, uint64_t lo, uint64_t hi, uint64_t run_max,
                                  struct page_request** req) {
  page_source_t* src = c->fam->source;
  if (src == NULL || lo >= hi) return ZX_OK;
  uint64_t a_lo, a_hi;
  if (!first_absent_run_locked(c, lo, hi, max_u64(hi, run_max), &a_lo, &a_hi)) return ZX_OK;
  if (!req) return ZX_ERR_SHOULD_WAIT;  // the caller only asks whether
  zx_status_t st = source_request_locked(src, ZX_PAGER_VMO_READ, a_lo, a_hi, req);
  return st == ZX_OK ? ZX_ERR_SHOULD_WAIT : st;
}

// A write to this page of a TRAP_DIRTY pager VMO must wait for the pager's consent:
// it is clean, a zero marker, or being written back.
static bool needs_dirtying(const page_t* p) {
  return p && (page_is_marker(p) || p->dirty != PAGE_DIRTY);
}

zx_status_t vmo_pager_need_dirty_locked(vmo_t* c, uint64_t lo, uint64_t hi,
                                        struct page_request** req) {
  page_source_t* src = c->fam->source;
  if (src == NULL || !vmo_is_pager_root(c) || !source_trap_dirty(src)) return ZX_OK;
  hi = min_u64(hi, c->base + vmo_pages(c));
  // Absent pages were brought in by a READ request first (the caller asked), so the
  // run ends at pages already dirty.
  uint64_t i = lo;
  while (i < hi && !needs_dirtying(pmap_lookup(&c->map, i))) i++;
  if (i == hi) return ZX_OK;
  if (!req) return ZX_ERR_SHOULD_WAIT;
  uint64_t j = i;
  while (j < hi && needs_dirtying(pmap_lookup(&c->map, j))) j++;
  zx_status_t st = source_request_locked(src, ZX_PAGER_VMO_DIRTY, i, j, req);
  return st == ZX_OK ? ZX_ERR_SHOULD_WAIT : st;
}

void vmo_pager_mark_dirty_locked(vmo_t* c, uint64_t lo, uint64_t hi) {
  family_assert_exclusive(c->fam);
  if (!vmo_is_pager_root(c)) return;  // a clone's writes are its own
  c->fam->pager_modified = true;
  uint64_t i = lo;
  page_t* p;
  while ((p = pmap_next(&c->map, &i, hi)) != NULL) {
    if (!page_is_marker(p)) p->dirty = PAGE_DIRTY;
    if (++i == 0) break;
  }
}

zx_status_t vmo_pager_wait(family_t* fam, struct page_request* req) {
  family_unlock(fam);
  return source_wait(req);
}

// Takes aux's pages [lo, hi) out into arr[0 .. hi - lo): its own unshared pool pages
// by moving them, other visible pages by copying, NULL where it shows none; then aux
// no longer holds pages there. Family lock of aux held exclusively. NO_MEMORY (aux
// unchanged) if the copies or the removal's metadata could not be had.
static zx_status_t take_aux_pages_locked(vmo_t* aux, uint64_t lo, uint64_t hi,
                                         page_t** arr) {
  family_assert_exclusive(aux->fam);
  uint64_t copies = home_count_shared(aux, lo, hi);
  for (uint64_t i = lo; i < hi; i++) {
    page_t* own = pmap_lookup(&aux->map, i);
    bool movable = own && !page_is_marker(own) && own->refs == 1 && !own->win;
    page_t* p = movable ? own : vmo_view_locked(aux, i);
    if (!movable && p && !page_is_marker(p)) copies++;
  }
  page_reservation_t r;
  zx_status_t st = pool_reserve(copies, &r);
  if (st != ZX_OK) return st;
  if (!pmap_unshare_path(&aux->map, lo) || !pmap_unshare_path(&aux->map, hi - 1) ||
      !home_unshare_range(aux, lo, hi, &r)) {
    pool_unreserve(&r);
    return ZX_ERR_NO_MEMORY;
  }
  for (uint64_t i = lo; i < hi; i++) {
    page_t* own = pmap_lookup(&aux->map, i);
    page_t* p;
    if (own && !page_is_marker(own) && own->refs == 1 && !own->win) {
      p = own;
      page_ref(p);  // ours once the removal below drops aux's reference
    } else {
      p = vmo_view_locked(aux, i);
      p = p && !page_is_marker(p) ? pool_take_copy(&r, p) : NULL;
    }
    arr[i - lo] = p;
  }
  pool_unreserve(&r);
  bool ok = pmap_remove_range(&aux->map, lo, hi);
  ZX_ASSERT(ok);  // both boundary paths are exclusive
  if (aux->fam->homes) home_invalidate(aux->fam, lo, hi);
  return ZX_OK;
}

static bool page_present(void* ctx, uint64_t idx) {
  vmo_t* root = ctx;
  return idx >= root->base + vmo_pages(root) || pmap_lookup(&root->map, idx) != NULL;
}

static zx_status_t supply_target_check_locked(vmo_t* v, uint64_t off, uint64_t len) {
  if (!v->alive) return ZX_ERR_BAD_HANDLE;
  if (off > v->size || len > v->size - off) return ZX_ERR_OUT_OF_RANGE;
  if (source_detached(v->fam->source)) return ZX_ERR_BAD_STATE;
  return ZX_OK;
}

zx_status_t vmo_supply_pages(vmo_t* v, uint64_t off, uint64_t len, vmo_t* aux,
                             uint64_t aux_off) {
  ZX_ASSERT(vmo_is_pager_root(v) && v->fam != aux->fam);
  ZX_ASSERT(page_aligned(off) && page_aligned(len) && page_aligned(aux_off));
  uint64_t n = len >> PAGE_SHIFT;
  if (aux->fam->source) return ZX_ERR_NOT_SUPPORTED;
  // Every check first, in Zircon's order (aux's range, then v's), so that bad input
  // takes nothing from aux; they are made again below under each lock.
  family_rdlock(aux->fam);
  zx_status_t st = !aux->alive ? ZX_ERR_BAD_HANDLE
                   : aux_off > aux->size || len > aux->size - aux_off ? ZX_ERR_OUT_OF_RANGE
                                                                      : ZX_OK;
  family_unlock(aux->fam);
  if (st != ZX_OK) return st;
  family_rdlock(v->fam);
  st = supply_target_check_locked(v, off, len);
  family_unlock(v->fam);
  if (st != ZX_OK || n == 0) return st;
  page_t** arr = os_calloc(n, sizeof(*arr));
  if (!arr) return ZX_ERR_NO_MEMORY;

  family_t* af = aux->fam;
  uint64_t a_idx0;
  vmo_t* ac = vmo_content(aux, &a_idx0);
  family_wrlock(af);
  st = !aux->alive ? ZX_ERR_BAD_HANDLE
                   : aux_off > aux->size || len > aux->size - aux_off ? ZX_ERR_OUT_OF_RANGE
                                                                      : ZX_OK;
  uint64_t a_lo = a_idx0 + (aux_off >> PAGE_SHIFT);
  if (st == ZX_OK) st = take_aux_pages_locked(ac, a_lo, a_lo + n, arr);
  vmo_after_op_locked(af);
  family_unlock(af);
  if (st != ZX_OK) goto out;

  family_t* fam = v->fam;
  family_wrlock(fam);
  uint64_t lo = off >> PAGE_SHIFT, hi = lo + n;
  if ((st = supply_target_check_locked(v, off, len)) != ZX_OK) {
    // v changed since the check above: aux's pages are dropped.
  } else if (!vmo_prepare_leaves_locked(&v->map, lo, hi)) {
    st = ZX_ERR_NO_MEMORY;
  } else {
    for (uint64_t i = lo; i < hi; i++) {
      pnode_t* leaf = pmap_leaf_for_write(&v->map, i);
      unsigned s = (unsigned)(i & PMAP_SLOT_MASK);
      if (leaf->slot[s] != NULL) continue;  // resident pages are never replaced
      // Where aux had nothing: a zero page that holds no memory until written.
      page_t* p = arr[i - lo] ? arr[i - lo] : &g_zero_page;
      arr[i - lo] = NULL;
      if (!page_is_marker(p)) {
        p->dirty = PAGE_CLEAN;
        // Walkers' scratch is per family: stale stamps from aux's must not match ours.
        p->u.s.epoch = 0;
        p->u.s.count = 0;
      }
      pmap_leaf_set(leaf, s, p);
    }
    vmo_unprepare_leaves_locked(&v->map, lo, hi);  // leaves left empty, if any
    source_resolve_locked(fam->source, ZX_PAGER_VMO_READ, lo, hi, page_present, v);
    if (fam->homes) home_invalidate(fam, lo, hi);
  }
  vmo_after_op_locked(fam);
  family_unlock(fam);
out:
  for (uint64_t i = 0; i < n; i++) {
    if (arr[i]) page_unref(arr[i]);
  }
  os_free(arr);
  return st;
}

void vmo_pager_range_gone_locked(vmo_t* v, uint64_t lo, uint64_t hi) {
  family_assert_exclusive(v->fam);
  source_resolve_locked(v->fam->source, 0, lo, hi, page_present, v);
}

void vmo_pager_detach(vmo_t* v) {
  ZX_ASSERT(vmo_is_pager_root(v));
  family_t* fam = v->fam;
  family_wrlock(fam);
  source_detach(fam->source, true);
  // Clean pages go, as on Zircon: the pager can no longer be asked for them again,
  // so only pages it has not seen yet (dirty ones) are kept.
  uint64_t end = v->base + vmo_pages(v);
  uint64_t i = v->base;
  page_t* p;
  while ((p = pmap_next(&v->map, &i, end)) != NULL) {
    uint64_t j = i;
    while (p && (page_is_marker(p) || p->dirty == PAGE_CLEAN)) {
      if (++j == end) break;
      p = pmap_lookup(&v->map, j);
    }
    // The map is never shared in a pager family, so removal needs no memory; if it
    // ever did, the clean pages would merely stay readable.
    if (j > i && pmap_remove_range(&v->map, i, j) && fam->homes) home_invalidate(fam, i, j);
    i = j + 1;
    if (j >= end) break;
  }
  vmo_after_op_locked(fam);
  family_unlock(fam);
}

// The checks every pager op on v's range makes first: ZX_OK, or OUT_OF_RANGE,
// BAD_STATE (detached, when `attached` is asked for).
static zx_status_t op_check_locked(vmo_t* v, uint64_t off, uint64_t len, bool attached) {
  if (!v->alive) return ZX_ERR_BAD_HANDLE;
  if (off > v->size || len > v->size - off) return ZX_ERR_OUT_OF_RANGE;
  if (attached && source_detached(v->fam->source)) return ZX_ERR_BAD_STATE;
  return ZX_OK;
}

zx_status_t vmo_pager_fail(vmo_t* v, uint64_t off, uint64_t len, zx_status_t status) {
  family_rdlock(v->fam);
  zx_status_t st = op_check_locked(v, off, len, true);
  if (st == ZX_OK && len > 0) {
    source_fail(v->fam->source, off >> PAGE_SHIFT, (off + len) >> PAGE_SHIFT, status);
  }
  family_unlock(v->fam);
  return st;
}

static bool page_dirtied(void* ctx, uint64_t idx) {
  vmo_t* root = ctx;
  if (idx >= root->base + vmo_pages(root)) return true;
  page_t* p = pmap_lookup(&root->map, idx);
  return p && !page_is_marker(p) && p->dirty == PAGE_DIRTY;
}

zx_status_t vmo_pager_op_dirty(vmo_t* v, uint64_t off, uint64_t len) {
  family_t* fam = v->fam;
  family_wrlock(fam);
  zx_status_t st = ZX_OK;
  if (!source_trap_dirty(fam->source)) {
    st = ZX_ERR_NOT_SUPPORTED;  // before the range, as on Zircon
    goto out;
  }
  if ((st = op_check_locked(v, off, len, true)) != ZX_OK || len == 0) goto out;
  uint64_t lo = off >> PAGE_SHIFT, hi = (off + len) >> PAGE_SHIFT;
  // Only pages the pager supplied can be dirtied; a zero marker becomes a real page.
  uint64_t markers = 0;
  for (uint64_t i = lo; i < hi; i++) {
    page_t* p = pmap_lookup(&v->map, i);
    if (!p) {
      st = ZX_ERR_NOT_FOUND;
      goto out;
    }
    markers += page_is_marker(p);
  }
  page_reservation_t r;
  if ((st = pool_reserve(markers, &r)) != ZX_OK) goto out;
  for (uint64_t i = lo; i < hi; i++) {
    pnode_t* leaf = pmap_leaf_for_write(&v->map, i);
    ZX_ASSERT(leaf != NULL);  // the page is there and pager maps are never shared
    unsigned s = (unsigned)(i & PMAP_SLOT_MASK);
    page_t* p = leaf->slot[s];
    if (page_is_marker(p)) {
      p = pool_take_zero(&r);
      pmap_leaf_set(leaf, s, p);
    }
    p->dirty = PAGE_DIRTY;
  }
  pool_unreserve(&r);
  source_resolve_locked(fam->source, ZX_PAGER_VMO_DIRTY, lo, hi, page_dirtied, v);
out:
  vmo_after_op_locked(fam);
  family_unlock(fam);
  return st;
}

zx_status_t vmo_pager_writeback(vmo_t* v, uint64_t off, uint64_t len, bool begin) {
  family_t* fam = v->fam;
  family_wrlock(fam);
  zx_status_t st = op_check_locked(v, off, len, false);
  // Mappings must see the next write to a page being written back (it re-dirties
  // the page): they lose write access first.
  if (st == ZX_OK && begin && v->home &&
      !home_write_protect(v->home, off >> PAGE_SHIFT, (off + len) >> PAGE_SHIFT)) {
    st = ZX_ERR_NO_MEMORY;
  }
  if (st == ZX_OK) {
    uint8_t from = begin ? PAGE_DIRTY : PAGE_AWAITING_CLEAN;
    uint8_t to = begin ? PAGE_AWAITING_CLEAN : PAGE_CLEAN;
    uint64_t i = off >> PAGE_SHIFT, hi = (off + len) >> PAGE_SHIFT;
    page_t* p;
    while ((p = pmap_next(&v->map, &i, hi)) != NULL) {
      if (!page_is_marker(p) && p->dirty == from) p->dirty = to;
      i++;
    }
  }
  vmo_after_op_locked(fam);
  family_unlock(fam);
  return st;
}

typedef struct range_out {
  zx_vmo_dirty_range_t* out;
  size_t cap, n, total;
} range_out_t;

static void range_emit(range_out_t* o, uint64_t lo, uint64_t hi) {
  if (hi == lo) return;
  if (o->n < o->cap) {
    o->out[o->n].offset = lo << PAGE_SHIFT;
    o->out[o->n].length = (hi - lo) << PAGE_SHIFT;
    o->out[o->n].options = 0;
    o->n++;
  }
  o->total++;
}

zx_status_t vmo_pager_dirty_ranges(vmo_t* v, uint64_t off, uint64_t len,
                                   zx_vmo_dirty_range_t* out, size_t cap, size_t* actual,
                                   size_t* avail) {
  range_out_t o = {.out = out, .cap = cap, .n = 0, .total = 0};
  family_rdlock(v->fam);
  zx_status_t st = op_check_locked(v, off, len, false);
  if (st == ZX_OK && len > 0) {
    uint64_t i = off >> PAGE_SHIFT;
    uint64_t hi = (off + len + PAGE_MASK) >> PAGE_SHIFT;
    uint64_t run_lo = i, run_hi = i;  // consecutive dirty pages gathered so far
    page_t* p;
    while ((p = pmap_next(&v->map, &i, hi)) != NULL) {
      bool dirty = !page_is_marker(p) && p->dirty != PAGE_CLEAN;
      if (!dirty || i != run_hi) {
        range_emit(&o, run_lo, run_hi);
        run_lo = run_hi = dirty ? i : i + 1;
      }
      if (dirty) run_hi = i + 1;
      i++;
    }
    range_emit(&o, run_lo, run_hi);
  }
  family_unlock(v->fam);
  *actual = o.n;
  *avail = o.total;
  return st;
}

zx_status_t vmo_pager_stats(vmo_t* v, bool reset, bool* modified) {
  family_wrlock(v->fam);
  zx_status_t st = v->alive ? ZX_OK : ZX_ERR_BAD_HANDLE;
  *modified = v->fam->pager_modified;
  if (st == ZX_OK && reset) v->fam->pager_modified = false;
  vmo_after_op_locked(v->fam);
  family_unlock(v->fam);
  return st;
}
