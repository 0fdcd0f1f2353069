// SPDX-License-Identifier: BSD-3-Clause
// Dirty tracking of pager VMOs: ZX_PAGER_OP_DIRTY, write-back, the dirty-range query
// and the modified statistic.
//
// A pager VMO's page is clean (as supplied), dirty (written since), or awaiting clean
// (written back from WRITEBACK_BEGIN until WRITEBACK_END; a write makes it dirty
// again). Zero ranges (zero_ranges.h) go through the same states without holding
// pages; an awaiting zero range that is written back becomes absent again, so the
// pager supplies it next time. Writes set the states (vmo_pager.c); these ops move
// them. Only the pager VMO itself tracks dirtiness: its children's pages are their own.
#include "home.h"
#include "page_source.h"
#include "vmo.h"

// Whether a DIRTY request for `idx` has its answer (the page is dirty, or gone).
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
  if ((st = vmo_pager_op_check_locked(v, off, len, true)) != ZX_OK || len == 0) goto out;
  uint64_t lo = off >> PAGE_SHIFT, hi = (off + len) >> PAGE_SHIFT;
  // Only what the pager supplied (or a zero range) can be dirtied; zeros without a
  // page (markers, zero ranges) become real pages.
  uint64_t fresh = 0;
  for (uint64_t i = lo; i < hi; i++) {
    page_t* p = pmap_lookup(&v->map, i);
    if (!p && !zr_find(&fam->zr, i)) {
      st = ZX_ERR_NOT_FOUND;
      goto out;
    }
    fresh += !p || page_is_marker(p);
  }
  page_reservation_t r;
  if ((st = pool_reserve(fresh, &r)) != ZX_OK) goto out;
  if (!vmo_prepare_leaves_locked(&v->map, lo, hi) || !zr_reserve(&fam->zr, 2)) {
    vmo_unprepare_leaves_locked(&v->map, lo, hi);
    pool_unreserve(&r);
    st = ZX_ERR_NO_MEMORY;
    goto out;
  }
  for (uint64_t i = lo; i < hi; i++) {
    pnode_t* leaf = pmap_leaf_for_write(&v->map, i);
    ZX_ASSERT(leaf != NULL);  // prepared
    unsigned s = (unsigned)(i & PMAP_SLOT_MASK);
    page_t* p = leaf->slot[s];
    if (!p || page_is_marker(p)) {
      p = pool_take_zero(&r);
      pmap_leaf_set(leaf, s, p);
    }
    p->dirty = PAGE_DIRTY;
  }
  ZX_ASSERT(r.count == 0);
  zr_remove(&fam->zr, lo, hi);
  if (fam->homes) home_invalidate(fam, lo, hi);  // zeros mapped from a cache are stale
  source_resolve_locked(fam->source, ZX_PAGER_VMO_DIRTY, lo, hi, page_dirtied, v);
out:
  vmo_after_op_locked(fam);
  family_unlock(fam);
  return st;
}

zx_status_t vmo_pager_writeback(vmo_t* v, uint64_t off, uint64_t len, bool begin,
                                bool only_zero) {
  family_t* fam = v->fam;
  family_wrlock(fam);
  zx_status_t st = vmo_pager_op_check_locked(v, off, len, false);
  uint64_t lo = off >> PAGE_SHIFT, hi = (off + len) >> PAGE_SHIFT;
  if (st == ZX_OK && !zr_reserve(&fam->zr, 2)) st = ZX_ERR_NO_MEMORY;
  // Mappings must see the next write to a page being written back (it re-dirties
  // the page): they lose write access first.
  if (st == ZX_OK && begin && v->home && !home_write_protect(v->home, lo, hi)) {
    st = ZX_ERR_NO_MEMORY;
  }
  if (st == ZX_OK) {
    if (!begin || !only_zero) {
      uint8_t from = begin ? PAGE_DIRTY : PAGE_AWAITING_CLEAN;
      uint8_t to = begin ? PAGE_AWAITING_CLEAN : PAGE_CLEAN;
      uint64_t i = lo;
      page_t* p;
      while ((p = pmap_next(&v->map, &i, hi)) != NULL) {
        if (!page_is_marker(p) && p->dirty == from) p->dirty = to;
        i++;
      }
    }
    if (begin) {
      zr_change(&fam->zr, lo, hi, ZR_DIRTY, ZR_AWAITING_CLEAN);
    } else {
      // Written back as zeros: from now on the pager supplies them again, so mappings
      // that show those zeros must fault again.
      const zrange_t* z = zr_next(&fam->zr, lo);
      bool absent_again = false;
      for (; z && z->lo < hi && !absent_again; z = zr_next(&fam->zr, z->hi)) {
        absent_again = z->state == ZR_AWAITING_CLEAN;
      }
      zr_change(&fam->zr, lo, hi, ZR_AWAITING_CLEAN, 0);
      if (absent_again && fam->homes) home_invalidate(fam, lo, hi);
    }
  }
  vmo_after_op_locked(fam);
  family_unlock(fam);
  return st;
}

// The query's output: ranges of one kind that touch are merged, kinds stay apart.
typedef struct range_out {
  zx_vmo_dirty_range_t* out;
  size_t cap, n, total;
  bool open;                 // a range is being gathered
  uint64_t lo, hi, options;  // it
} range_out_t;

static void range_flush(range_out_t* o) {
  if (!o->open) return;
  if (o->n < o->cap) {
    o->out[o->n].offset = o->lo << PAGE_SHIFT;
    o->out[o->n].length = (o->hi - o->lo) << PAGE_SHIFT;
    o->out[o->n].options = o->options;
    o->n++;
  }
  o->total++;
  o->open = false;
}

static void range_add(range_out_t* o, uint64_t lo, uint64_t hi, uint64_t options) {
  if (o->open && o->hi == lo && o->options == options) {
    o->hi = hi;
    return;
  }
  range_flush(o);
  *o = (range_out_t){.out = o->out, .cap = o->cap, .n = o->n, .total = o->total,
                     .open = true, .lo = lo, .hi = hi, .options = options};
}

// The next run [*a, *b) of dirty or awaiting pages at or after *i below hi; *i moves
// past it. False if there is none.
static bool next_dirty_run(vmo_t* v, uint64_t* i, uint64_t hi, uint64_t* a, uint64_t* b) {
  page_t* p;
  while ((p = pmap_next(&v->map, i, hi)) != NULL) {
    if (!page_is_marker(p) && p->dirty != PAGE_CLEAN) {
      *a = *i;
      do {
        (*i)++;
        p = *i < hi ? pmap_lookup(&v->map, *i) : NULL;
      } while (p && !page_is_marker(p) && p->dirty != PAGE_CLEAN);
      *b = *i;
      return true;
    }
    (*i)++;
  }
  return false;
}

// The next zero range that is reported (dirty or awaiting) ending after `i`.
static const zrange_t* next_reported_zero(const zr_set_t* zr, uint64_t i) {
  const zrange_t* z = zr_next(zr, i);
  while (z && z->state == ZR_UNTRACKED) z = zr_next(zr, z->hi);
  return z;
}

zx_status_t vmo_pager_dirty_ranges(vmo_t* v, uint64_t off, uint64_t len,
                                   zx_vmo_dirty_range_t* out, size_t cap, size_t* actual,
                                   size_t* avail) {
  range_out_t o = {.out = out, .cap = cap};
  family_rdlock(v->fam);
  zx_status_t st = vmo_pager_op_check_locked(v, off, len, false);
  if (st == ZX_OK && len > 0) {
    uint64_t lo = off >> PAGE_SHIFT;
    uint64_t hi = (off + len + PAGE_MASK) >> PAGE_SHIFT;
    const zr_set_t* zr = &v->fam->zr;
    // Pages and zero ranges are disjoint: merge the two sorted streams.
    uint64_t i = lo, a = 0, b = 0;
    bool page_run = next_dirty_run(v, &i, hi, &a, &b);
    const zrange_t* z = next_reported_zero(zr, lo);
    if (z && z->lo >= hi) z = NULL;
    while (page_run || z) {
      if (page_run && (!z || a < z->lo)) {
        range_add(&o, a, b, 0);
        page_run = next_dirty_run(v, &i, hi, &a, &b);
      } else {
        range_add(&o, max_u64(z->lo, lo), min_u64(z->hi, hi), ZX_VMO_DIRTY_RANGE_IS_ZERO);
        z = next_reported_zero(zr, z->hi);
        if (z && z->lo >= hi) z = NULL;
      }
    }
    range_flush(&o);
  }
  family_unlock(v->fam);
  *actual = o.n;
  *avail = o.total;
  return st;
}

zx_status_t vmo_pager_stats(vmo_t* v, bool reset, bool* modified) {
  family_wrlock(v->fam);
  zx_status_t st = v->alive ? ZX_OK : ZX_ERR_BAD_HANDLE;
  // After a reset the next write through a mapping must fault to be counted: pages
  // written since they were mapped are writable there, so protect them again.
  if (st == ZX_OK && reset && v->home && !home_write_protect(v->home, 0, vmo_pages(v))) {
    st = ZX_ERR_NO_MEMORY;
  }
  *modified = v->fam->pager_modified;
  if (st == ZX_OK && reset) v->fam->pager_modified = false;
  vmo_after_op_locked(v->fam);
  family_unlock(v->fam);
  return st;
}
