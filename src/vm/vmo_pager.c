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
#include <pthread.h>

#include "home.h"
#include "os.h"
#include "page_source.h"
#include "vmo.h"

// ---- the registry of pager families, for the evictor ----
//
// Lock order: registry lock -> family lock (the evictor looks at one family at a
// time); a family leaves the registry in family_release, with no family lock held.
static pthread_mutex_t g_pager_lock = PTHREAD_MUTEX_INITIALIZER;
static family_t* g_pager_fams;  // (g_pager_lock)

static void pager_register(family_t* fam) {
  pthread_mutex_lock(&g_pager_lock);
  fam->pg_prev = NULL;
  fam->pg_next = g_pager_fams;
  if (g_pager_fams) g_pager_fams->pg_prev = fam;
  g_pager_fams = fam;
  pthread_mutex_unlock(&g_pager_lock);
}

void vmo_pager_unregister(family_t* fam) {
  pthread_mutex_lock(&g_pager_lock);
  if (fam->pg_prev) {
    fam->pg_prev->pg_next = fam->pg_next;
  } else {
    g_pager_fams = fam->pg_next;
  }
  if (fam->pg_next) fam->pg_next->pg_prev = fam->pg_prev;
  pthread_mutex_unlock(&g_pager_lock);
}

zx_status_t vmo_create_pager(uint64_t size, uint64_t content_size, bool resizable,
                             page_source_t* src, vmo_t** out) {
  vmo_t* v;
  zx_status_t st = vmo_create(size, content_size, resizable, &v);
  if (st != ZX_OK) {
    source_unref(src);
    return st;
  }
  // No handle reaches the family yet, but the invariant checker walks every family.
  family_t* fam = v->fam;
  family_wrlock(fam);
  fam->source = src;
  family_unlock(fam);
  pager_register(fam);
  // An unbounded VMO's pages past its content size read as zero, asked of nobody and
  // reported as dirty to nobody.
  uint64_t content_end = (content_size + PAGE_MASK) >> PAGE_SHIFT;
  if (content_end < vmo_pages(v)) {
    if (!zr_reserve(&fam->zr, 2)) {
      v->obj.ops->on_zero_handles(&v->obj);
      object_unref(&v->obj);
      return ZX_ERR_NO_MEMORY;
    }
    family_wrlock(fam);
    zr_add(&fam->zr, content_end, vmo_pages(v), ZR_UNTRACKED);
    vmo_after_op_locked(fam);
    family_unlock(fam);
  }
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

// Whether c's view of `idx` is a page the pager root lacks (and no zero range covers).
static bool absent_locked(vmo_t* c, uint64_t idx) {
  bool present;
  vmo_t* end = view_end_locked(c, idx, &present);
  return !present && vmo_is_pager_root(end) && idx < end->base + vmo_pages(end) &&
         !zr_find(&c->fam->zr, idx);
}

// Finds the first absent index in [lo, hi) and the end of the run of absent indices
// from there, which may extend up to `run_max`. False if there is none.
static bool first_absent_run_locked(vmo_t* c, uint64_t lo, uint64_t hi, uint64_t run_max,
                                    uint64_t* a_lo, uint64_t* a_hi) {
  if (vmo_is_pager_root(c)) {
    // The common case, in O(pages present): gaps of the root's own map.
    uint64_t size_end = c->base + vmo_pages(c);
    hi = min_u64(hi, size_end);
    run_max = min_u64(run_max, size_end);
    const zr_set_t* zr = &c->fam->zr;
    uint64_t i = lo;
    while (i < hi) {
      uint64_t j = i;
      if (!pmap_next(&c->map, &j, hi)) j = hi;  // [i, j) holds no page
      if (j == i) {
        i++;
        continue;
      }
      const zrange_t* z = zr_next(zr, i);
      if (z && z->lo <= i) {  // reads as zero up to the range's end
        i = min_u64(z->hi, j);
        continue;
      }
      uint64_t end = j;
      if (end == hi && !pmap_next(&c->map, &end, run_max)) end = run_max;
      if (z && z->lo < end) end = z->lo;
      *a_lo = i;
      *a_hi = end;
      return true;
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

// A write to page `i` of a TRAP_DIRTY pager VMO must wait for the pager's consent:
// it is clean, a zero marker, being written back, or in a zero range (absent pages
// are brought in by a READ first). A commit makes pages only in zero ranges.
static bool needs_dirtying(vmo_t* c, uint64_t i, bool commit) {
  const page_t* p = pmap_lookup(&c->map, i);
  if (p) return !commit && (page_is_marker(p) || p->dirty != PAGE_DIRTY);
  return zr_find(&c->fam->zr, i) != NULL;
}

zx_status_t vmo_pager_need_dirty_locked(vmo_t* c, uint64_t lo, uint64_t hi, bool commit,
                                        struct page_request** req) {
  page_source_t* src = c->fam->source;
  if (src == NULL || !vmo_is_pager_root(c) || !source_trap_dirty(src)) return ZX_OK;
  hi = min_u64(hi, c->base + vmo_pages(c));
  uint64_t i = lo;
  if (commit) {
    // Only zero ranges can need it: look there, not at every page.
    const zrange_t* z = zr_next(&c->fam->zr, lo);
    if (!z || z->lo >= hi) return ZX_OK;
    i = max_u64(lo, z->lo);
  }
  while (i < hi && !needs_dirtying(c, i, commit)) i++;
  if (i == hi) return ZX_OK;
  if (!req) return ZX_ERR_SHOULD_WAIT;
  uint64_t j = i;
  while (j < hi && needs_dirtying(c, j, commit)) j++;
  zx_status_t st = source_request_locked(src, ZX_PAGER_VMO_DIRTY, i, j, req);
  return st == ZX_OK ? ZX_ERR_SHOULD_WAIT : st;
}

bool vmo_pager_reserve_locked(vmo_t* c) {
  return !vmo_is_pager_root(c) || zr_reserve(&c->fam->zr, 2);
}

void vmo_pager_written_locked(vmo_t* c, uint64_t lo, uint64_t hi, bool commit) {
  family_assert_exclusive(c->fam);
  if (!vmo_is_pager_root(c)) return;  // a clone's writes are its own
  family_t* fam = c->fam;
  uint64_t i = lo;
  page_t* p;
  if (commit) {
    // Only pages committed out of a zero range are new here; they stay dirty.
    const zrange_t* z;
    while (i < hi && (z = zr_next(&fam->zr, i)) != NULL && z->lo < hi) {
      for (i = max_u64(z->lo, i); i < min_u64(z->hi, hi); i++) {
        p = pmap_lookup(&c->map, i);
        if (p && !page_is_marker(p)) p->dirty = PAGE_DIRTY;
      }
    }
  } else {
    fam->pager_modified = true;
    while ((p = pmap_next(&c->map, &i, hi)) != NULL) {
      if (!page_is_marker(p)) p->dirty = PAGE_DIRTY;
      if (++i == 0) break;
    }
  }
  zr_remove(&fam->zr, lo, hi);
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

// Whether a READ request for `idx` has its answer: the page is there, reads as zero,
// or is past the end.
static bool page_present(void* ctx, uint64_t idx) {
  vmo_t* root = ctx;
  return idx >= root->base + vmo_pages(root) || pmap_lookup(&root->map, idx) != NULL ||
         zr_find(&root->fam->zr, idx) != NULL;
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
      // Resident pages are never replaced, nor zero ranges (the pager's data is
      // older than what the program made there).
      if (leaf->slot[s] != NULL || zr_find(&fam->zr, i)) continue;
      // Where aux had nothing: a zero page that holds no memory until written.
      page_t* p = arr[i - lo] ? arr[i - lo] : &g_zero_page;
      arr[i - lo] = NULL;
      if (!page_is_marker(p)) {
        p->dirty = PAGE_CLEAN;
        atomic_store_explicit(&p->referenced, 1, memory_order_relaxed);  // fresh
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

void vmo_pager_resized_locked(vmo_t* v, uint64_t old_end, uint64_t new_end) {
  family_assert_exclusive(v->fam);
  family_t* fam = v->fam;
  fam->pager_modified = true;
  if (new_end > old_end) {
    zr_add(&fam->zr, old_end, new_end, ZR_DIRTY);
  } else {
    zr_remove(&fam->zr, new_end, old_end);
    // Requests for what was cut are over: their waiters look again and find it gone.
    source_resolve_locked(fam->source, 0, new_end, old_end, page_present, v);
  }
}

void vmo_pager_zeroed_locked(vmo_t* c, uint64_t lo, uint64_t hi) {
  family_assert_exclusive(c->fam);
  if (!vmo_is_pager_root(c)) return;
  family_t* fam = c->fam;
  fam->pager_modified = true;
  zr_add(&fam->zr, lo, hi, ZR_DIRTY);
  // Waiting for those pages is over: they read as zero now.
  source_resolve_locked(fam->source, ZX_PAGER_VMO_READ, lo, hi, page_present, c);
}

void vmo_pager_detach(vmo_t* v) {
  ZX_ASSERT(vmo_is_pager_root(v));
  family_t* fam = v->fam;
  family_wrlock(fam);
  source_detach(fam->source, true);
  // Clean pages go, as on Zircon: the pager can no longer be asked for them again,
  // so only pages it has not seen yet (dirty ones) are kept, and pinned ones, which a
  // device may be using.
  uint64_t end = v->base + vmo_pages(v);
  uint64_t i = v->base;
  page_t* p;
  while ((p = pmap_next(&v->map, &i, end)) != NULL) {
    uint64_t j = i;
    while (p && (page_is_marker(p) || p->dirty == PAGE_CLEAN) && !vmo_pinned_locked(v, j, j + 1)) {
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

zx_status_t vmo_pager_op_check_locked(vmo_t* v, uint64_t off, uint64_t len, bool attached) {
  if (!v->alive) return ZX_ERR_BAD_HANDLE;
  if (off > v->size || len > v->size - off) return ZX_ERR_OUT_OF_RANGE;
  if (attached && source_detached(v->fam->source)) return ZX_ERR_BAD_STATE;
  return ZX_OK;
}

zx_status_t vmo_pager_fail(vmo_t* v, uint64_t off, uint64_t len, zx_status_t status) {
  family_rdlock(v->fam);
  zx_status_t st = vmo_pager_op_check_locked(v, off, len, true);
  if (st == ZX_OK && len > 0) {
    source_fail(v->fam->source, off >> PAGE_SHIFT, (off + len) >> PAGE_SHIFT, status);
  }
  family_unlock(v->fam);
  return st;
}

void vmo_pager_touch_locked(vmo_t* c, uint64_t lo, uint64_t hi) {
  if (!vmo_is_pager_root(c)) return;
  uint64_t i = lo;
  page_t* p;
  while ((p = pmap_next(&c->map, &i, hi)) != NULL) {
    if (!page_is_marker(p)) {
      atomic_store_explicit(&p->referenced, PAGE_READ_CREDIT, memory_order_relaxed);
    }
    i++;
  }
}

// Evicts up to `want` pages from pager VMO root `v` (family lock held exclusively): a
// clock over the root's map from the family's hand. A page is evictable when it is
// clean and holds memory; a mapped one (in the VMO's home) leaves its mappings too, and
// faults back in (through the pager) on the next access.
// Each page carries credit: a supply gives it one pass, a read PAGE_READ_CREDIT
// passes; each pass of the hand spends one, and a page without credit goes. So pages
// go least recently used first, as far as a clock can tell. Pinned pages stay (a
// device may be using them). Returns the number evicted.
static uint64_t evict_family_locked(vmo_t* v, uint64_t want) {
  family_t* fam = v->fam;
  uint64_t base = v->base, end = base + vmo_pages(v), n = 0;
  uint64_t i = fam->clock_hand >= base && fam->clock_hand < end ? fam->clock_hand : base;
  // Enough turns to spend any page's credit.
  for (int wraps = 0; wraps < PAGE_READ_CREDIT + 2 && n < want;) {
    page_t* p = pmap_next(&v->map, &i, end);
    if (!p) {
      i = base;
      wraps++;
      continue;
    }
    if (!page_is_marker(p) && p->dirty == PAGE_CLEAN && !vmo_pinned_locked(v, i, i + 1)) {
      // Readers set credit under the shared lock; this thread holds it exclusively.
      uint8_t credit = atomic_load_explicit(&p->referenced, memory_order_relaxed);
      if (credit > 0) {
        atomic_store_explicit(&p->referenced, (uint8_t)(credit - 1), memory_order_relaxed);
      } else if (pmap_remove_range(&v->map, i, i + 1)) {  // an unshared map: no memory
        n++;
        // Clones' caches of it, and its slot in the home (mappings fault again).
        if (fam->homes) home_invalidate(fam, i, i + 1);
      }
    }
    i++;
  }
  fam->clock_hand = i;
  return n;
}

bool vmo_evict_for_budget(void) {
  uint64_t budget = pool_get_budget();
  // No budget, or far from it: the failure was not the budget's (metadata memory, the
  // OS), and evicting would only cost the pager work.
  if (budget == 0 || pool_pages_in_use() < budget / 2) return false;
  // Unlocked discardable VMOs go first: their owners said they can be thrown away,
  // while a pager must work to bring evicted pages back.
  if (vmo_discard_for_budget()) return true;
  // Enough for the retried operation and some after it, without emptying caches.
  uint64_t want = budget / 16 + 16;
  uint64_t freed = 0;
  pthread_mutex_lock(&g_pager_lock);
  for (family_t* fam = g_pager_fams; fam && freed < want; fam = fam->pg_next) {
    family_wrlock(fam);
    vmo_t* root = NULL;
    for (vmo_t* m = fam->members; m; m = m->fm.next) {
      if (vmo_is_pager_root(m)) root = m;
    }
    // A detached VMO's pages cannot come back: never evicted. A family with settling
    // to do is left alone: settling may drop the last reference to it, which this
    // thread (holding no VMO of it) must not.
    if (root && !source_detached(fam->source) && !fam->pending && !fam->drops) {
      freed += evict_family_locked(root, want - freed);
      vmo_after_op_locked(fam);
    }
    family_unlock(fam);
  }
  pthread_mutex_unlock(&g_pager_lock);
  return freed > 0;
}
