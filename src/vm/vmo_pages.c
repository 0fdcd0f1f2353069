// SPDX-License-Identifier: BSD-3-Clause
// Page-level operations on VMO contents: read, write, resize, commit, decommit, zero
// and the legacy lookup. Every function takes the family lock itself; callers (the
// syscall layer) have checked rights and arguments and hold a reference on the VMO.
//
// Failing cleanly: an operation that needs new pages counts them exactly first and
// reserves them from the pool; then it "prepares" the page map, doing every metadata
// allocation the change needs (exclusive leaves for the pages it will set, exclusive
// boundary paths for the ranges it will remove). Both steps leave the contents as
// they were when they fail, so the operation returns ZX_ERR_NO_MEMORY having changed
// nothing; the step that changes pages allocates nothing.
#include <string.h>

#include "home.h"
#include "page_source.h"
#include "vmo.h"


page_t* vmo_view_locked(vmo_t* c, uint64_t idx) {
  for (;;) {
    page_t* p = pmap_lookup(&c->map, idx);
    if (p) return p;
    if (c->backing && idx < c->cut) {
      c = c->backing;
      continue;
    }
    return NULL;
  }
}

// The page that a one-way VMO's backing shows at `idx` (NULL or the marker: zero).
static page_t* backing_view_locked(vmo_t* c, uint64_t idx) {
  if (!c->backing || idx >= c->cut) return NULL;
  return vmo_view_locked(c->backing, idx);
}

static zx_status_t range_locked(const vmo_t* v, uint64_t off, uint64_t len) {
  if (off > v->size || len > v->size - off) return ZX_ERR_OUT_OF_RANGE;
  return ZX_OK;
}

// First index of the leaf block after the one holding `i` (0 past the last block).
static inline uint64_t next_block(uint64_t i) { return (i | PMAP_SLOT_MASK) + 1; }

// Frees the nodes that vmo_prepare_leaves_locked created in [lo, hi) and left empty.
void vmo_unprepare_leaves_locked(pmap_t* m, uint64_t lo, uint64_t hi) {
  for (uint64_t i = lo; i < hi && i >= lo; i = next_block(i)) pmap_prune(m, i);
}

// Makes the leaf of every index in [lo, hi) exclusive to `m` (creating missing
// ones), so that setting pages there allocates nothing. False if metadata memory ran
// out; then the map reads exactly as before and holds no empty node.
bool vmo_prepare_leaves_locked(pmap_t* m, uint64_t lo, uint64_t hi) {
  for (uint64_t i = lo; i < hi && i >= lo; i = next_block(i)) {
    if (!pmap_leaf_for_write(m, i)) {
      vmo_unprepare_leaves_locked(m, lo, i);
      return false;
    }
  }
  return true;
}

// The leaf of prepared index `idx`: finding it allocates nothing.
static pnode_t* prepared_leaf_locked(pmap_t* m, uint64_t idx) {
  pnode_t* leaf = pmap_leaf_for_write(m, idx);
  ZX_ASSERT(leaf != NULL);
  return leaf;
}

zx_status_t vmo_check_range(vmo_t* v, uint64_t off, uint64_t len) {
  family_rdlock(v->fam);
  zx_status_t st = v->alive ? range_locked(v, off, len) : ZX_ERR_BAD_HANDLE;
  family_unlock(v->fam);
  return st;
}

zx_status_t vmo_get_size(vmo_t* v, uint64_t* size) {
  family_rdlock(v->fam);
  *size = v->size;
  family_unlock(v->fam);
  return ZX_OK;
}

// Page range [*lo, *hi) in family indices covering bytes [off, off+len) of v.
static vmo_t* page_span_locked(vmo_t* v, uint64_t off, uint64_t len, uint64_t* lo, uint64_t* hi) {
  uint64_t idx0;
  vmo_t* c = vmo_content(v, &idx0);
  *lo = idx0 + (off >> PAGE_SHIFT);
  *hi = idx0 + ((off + len + PAGE_MASK) >> PAGE_SHIFT);
  if (len == 0) *hi = *lo;
  return c;
}

// Reads copy at most this many bytes per hold of the family lock: a writer waits for
// at most one chunk of each reader in flight (the lock is fair), instead of whole
// multi-megabyte copies that a preempted reader could stretch over a time slice.
#define READ_CHUNK ((uint64_t)64 << 10)

// Copies [off, off + len) of v's content, a range that lies inside v. Caller holds
// the family lock (shared is enough).
static void read_locked(vmo_t* v, uint8_t* dst, uint64_t off, uint64_t len) {
  uint64_t idx0;
  vmo_t* c = vmo_content(v, &idx0);
  // For VMOs without a backing, look each leaf up once per PMAP_FANOUT pages.
  const pnode_t* leaf = NULL;
  uint64_t leaf_block = UINT64_MAX;
  while (len > 0) {
    uint64_t idx = idx0 + (off >> PAGE_SHIFT);
    uint64_t in = off & PAGE_MASK;
    uint64_t n = min_u64(len, PAGE_SIZE - in);
    const page_t* p;
    if (!c->backing) {
      if ((idx >> PMAP_BITS) != leaf_block) {
        leaf = pmap_leaf(&c->map, idx);
        leaf_block = idx >> PMAP_BITS;
      }
      p = leaf ? leaf->slot[idx & PMAP_SLOT_MASK] : NULL;
    } else {
      p = vmo_view_locked(c, idx);
    }
    if (p && p->win) {
      // A mapped VMO's page: its bytes were written through a mapping, so the
      // library's view of it has no page-table entry yet and a memcpy would take a
      // minor fault per page. One pread of the run of consecutive slots of the same
      // home is much cheaper (a snapshot streamed while its parent is mapped).
      uint64_t run = n;
      const page_t* last = p;
      while (run < len && !c->backing) {
        uint64_t j = idx + ((in + run) >> PAGE_SHIFT);
        if ((j >> PMAP_BITS) != leaf_block) break;  // keep to the leaf looked up
        const page_t* q = leaf ? leaf->slot[j & PMAP_SLOT_MASK] : NULL;
        if (!q || !q->win || q->win->home != p->win->home ||
            home_page_slot(q) != home_page_slot(last) + 1) {
          break;
        }
        last = q;
        run += min_u64(len - run, PAGE_SIZE);
      }
      if (!os_home_pread(dst, run, home_off(p->win->home, home_page_slot(p)) + in)) {
        memcpy(dst, p->data + in, n);  // the OS refused: the view always works
        run = n;
      }
      n = run;
    } else if (p) {
      memcpy(dst, p->data + in, n);
    } else {
      memset(dst, 0, n);
    }
    dst += n;
    off += n;
    len -= n;
  }
}

// Like Zircon's, a read is not atomic against concurrent writes: it copies in
// chunks, each under the lock. The whole range is checked first; a VMO that shrinks
// or dies between chunks ends the read with the status it would have given then.
zx_status_t vmo_read(vmo_t* v, void* buf, uint64_t off, uint64_t len) {
  family_t* fam = v->fam;
  uint64_t done = 0;
  zx_status_t st = ZX_OK;
  do {
    uint64_t at = off + done;
    uint64_t n = min_u64(len - done, READ_CHUNK - (at & (READ_CHUNK - 1)));
    family_rdlock(fam);
    // The first check covers the whole range, as the caller asked.
    st = v->alive ? range_locked(v, at, done == 0 ? len : n) : ZX_ERR_BAD_HANDLE;
    if (st == ZX_OK && n > 0 && fam->source) {
      // Pages a pager has not supplied yet: ask, wait, and read this chunk again.
      uint64_t lo, hi, rest_lo, rest_hi;
      struct page_request* req;
      vmo_t* c = page_span_locked(v, at, n, &lo, &hi);
      (void)page_span_locked(v, at, len - done, &rest_lo, &rest_hi);
      st = vmo_pager_need_locked(c, lo, hi, rest_hi, &req);
      if (st == ZX_ERR_SHOULD_WAIT) {
        st = vmo_pager_wait(fam, req);
        continue;  // unlocked; the retry checks the range again
      }
      if (st == ZX_OK) vmo_pager_touch_locked(c, lo, hi);
    }
    // A discarded VMO's pages are gone until it is locked again (Zircon fails the
    // page lookup behind every access).
    if (st == ZX_OK && n > 0 && vmo_discarded(v)) st = ZX_ERR_NOT_FOUND;
    if (st == ZX_OK && n > 0) read_locked(v, (uint8_t*)buf + done, at, n);
    family_unlock(fam);
    done += n;
  } while (st == ZX_OK && done < len);
  return st;
}

// Number of pages in [lo, hi) that are not exclusively owned by c's map: each needs
// a fresh page before it can be written. Visits only the pages present, so asking
// about a huge range (COMMIT of a MAX_SIZE VMO) is cheap, and fails cleanly.
static uint64_t count_unowned_locked(vmo_t* c, uint64_t lo, uint64_t hi) {
  uint64_t need = hi - lo;
  uint64_t i = lo;
  while (i < hi && pmap_next(&c->map, &i, hi)) {
    if (pmap_exclusive(&c->map, i)) need--;
    i++;
  }
  return need;
}

// Makes the page at `idx` exclusively c's, with unchanged content, and returns it.
// `full` means the caller overwrites all of it, so old content need not be copied.
static page_t* own_page_locked(vmo_t* c, pnode_t* leaf, uint64_t idx, bool full,
                               page_reservation_t* r) {
  family_assert_exclusive(c->fam);
  unsigned s = (unsigned)(idx & PMAP_SLOT_MASK);
  page_t* p = leaf->slot[s];
  if (p && !page_is_marker(p) && p->refs == 1) return p;
  if (p && home_owns(c->home, p, idx)) {
    // c's mappings show this very page: copy before write, so that it stays put and
    // the maps sharing it get the copy (home.h, H2).
    home_relocate(c, idx, p, pool_take_copy(r, p));
    pool_count_copy();
    return p;
  }
  page_t* src = p;
  if (!src) src = backing_view_locked(c, idx);
  page_t* np;
  if (full) {
    np = pool_take_raw(r);
  } else if (src && !page_is_marker(src)) {
    np = pool_take_copy(r, src);
    pool_count_copy();
  } else {
    np = pool_take_zero(r);
  }
  pmap_leaf_set(leaf, s, np);
  return np;
}

// Pager-backed families: brings in the pages [lo, hi) of content c that the pager
// has not supplied and, for a write, has the pager agree to dirty the clean ones
// (TRAP_DIRTY). ZX_OK: go on, lock held. Otherwise *unlocked tells whether it waited
// (the lock was dropped: on ZX_OK start over, else fail with the status) or failed
// with the lock still held.
static zx_status_t pager_prepare_locked(vmo_t* c, uint64_t lo, uint64_t hi, bool write,
                                        bool* unlocked) {
  *unlocked = false;
  if (!c->fam->source) return ZX_OK;
  struct page_request* req;
  zx_status_t st = vmo_pager_need_locked(c, lo, hi, hi, &req);
  if (st == ZX_OK && write) st = vmo_pager_need_dirty_locked(c, lo, hi, false, &req);
  if (st != ZX_ERR_SHOULD_WAIT) return st;
  *unlocked = true;
  return vmo_pager_wait(c->fam, req);
}

zx_status_t vmo_write(vmo_t* v, const void* buf, uint64_t off, uint64_t len) {
  family_t* fam = v->fam;
retry:
  family_wrlock(fam);
  zx_status_t st = v->alive ? range_locked(v, off, len) : ZX_ERR_BAD_HANDLE;
  if (st == ZX_OK && len > 0 && vmo_discarded(v)) st = ZX_ERR_NOT_FOUND;
  if (st != ZX_OK || len == 0) goto out;
  uint64_t idx0;
  vmo_t* c = vmo_content(v, &idx0);
  uint64_t first = idx0 + (off >> PAGE_SHIFT);
  uint64_t end = idx0 + ((off + len - 1) >> PAGE_SHIFT) + 1;
  bool unlocked;
  st = pager_prepare_locked(c, first, end, true, &unlocked);
  if (unlocked) {
    if (st == ZX_OK) goto retry;
    return st;
  }
  if (st != ZX_OK) goto out;
  page_reservation_t r;
  st = pool_reserve(count_unowned_locked(c, first, end), &r);
  if (st != ZX_OK) goto out;
  if (!vmo_prepare_leaves_locked(&c->map, first, end) || !vmo_pager_reserve_locked(c)) {
    vmo_unprepare_leaves_locked(&c->map, first, end);
    pool_unreserve(&r);
    st = ZX_ERR_NO_MEMORY;
    goto out;
  }
  const uint8_t* src = buf;
  pnode_t* leaf = NULL;
  uint64_t leaf_block = UINT64_MAX;
  while (len > 0) {
    uint64_t idx = idx0 + (off >> PAGE_SHIFT);
    uint64_t in = off & PAGE_MASK;
    uint64_t n = min_u64(len, PAGE_SIZE - in);
    if ((idx >> PMAP_BITS) != leaf_block) {
      leaf = prepared_leaf_locked(&c->map, idx);
      leaf_block = idx >> PMAP_BITS;
    }
    page_t* p = own_page_locked(c, leaf, idx, n == PAGE_SIZE, &r);
    memcpy(p->data + in, src, n);
    src += n;
    off += n;
    len -= n;
  }
  ZX_ASSERT(r.count == 0);
  if (fam->source) vmo_pager_written_locked(c, first, end, false);
  if (fam->homes) home_invalidate(fam, first, end);
out:
  vmo_after_op_locked(fam);
  family_unlock(fam);
  return st;
}

// The page c shows at `idx` if bytes [in, in + n) of it are not all zero, else NULL:
// only such a page has anything to zero.
static page_t* partial_nonzero_locked(vmo_t* c, uint64_t idx, uint64_t in, uint64_t n) {
  static const uint8_t zeros[PAGE_SIZE];
  page_t* p = vmo_view_locked(c, idx);
  if (!p || page_is_marker(p) || memcmp(p->data + in, zeros, n) == 0) return NULL;
  return p;
}

// Makes bytes [in, in + n) of page `idx` read as zero; touches nothing if they
// already do. `r` must hold a page if the page is not exclusively c's, and the leaf
// must have been prepared (prepare_partial_locked).
static void zero_partial_locked(vmo_t* c, uint64_t idx, uint64_t in, uint64_t n,
                                page_reservation_t* r) {
  family_assert_exclusive(c->fam);
  if (!partial_nonzero_locked(c, idx, in, n)) return;
  pnode_t* leaf = prepared_leaf_locked(&c->map, idx);
  page_t* p = own_page_locked(c, leaf, idx, false, r);
  memset(p->data + in, 0, n);
}

// Whether zero_partial_locked would need a new page.
static bool partial_needs_page_locked(vmo_t* c, uint64_t idx, uint64_t in, uint64_t n) {
  return partial_nonzero_locked(c, idx, in, n) && !pmap_exclusive(&c->map, idx);
}

// Prepares the leaf zero_partial_locked will write, if it will write one.
static bool prepare_partial_locked(vmo_t* c, uint64_t idx, uint64_t in, uint64_t n) {
  return !partial_nonzero_locked(c, idx, in, n) || pmap_leaf_for_write(&c->map, idx) != NULL;
}

// Making whole pages [lo, hi) of c read as zero drops c's own pages there and, on a
// one-way VMO, makes the pages c's own zeros: the parent's later writes no longer show
// there (§5: zeroing a page is writing it). It runs in two steps so that it cannot
// fail half-way: prepare_zero_pages_locked does every metadata allocation (false,
// nothing changed, if memory ran out), then apply_zero_pages_locked changes pages and
// allocates nothing.
//
// Plain maps, and one-way maps (not legacy clones) whose range reaches the cut: preparing makes the two
// boundary paths exclusive; applying removes the range (shared subtrees inside are
// dropped whole) and, on a one-way map, lowers the cut to lo, so that nothing past it
// shows the parent again (O(pages held)). Otherwise (a range inside the window), every
// index gets the zero marker, which hides the parent without holding memory
// (O(pages in the range)).
// A legacy clone's DECOMMIT shows the parent again where it drops markers (§11), so its
// zeroed pages must be markers, never a lowered cut.
static bool zero_by_cut(const vmo_t* c, uint64_t hi) {
  return !c->backing || (!c->legacy && hi >= c->cut);
}

static bool prepare_zero_pages_locked(vmo_t* c, uint64_t lo, uint64_t hi) {
  family_assert_exclusive(c->fam);
  if (zero_by_cut(c, hi)) {
    return pmap_unshare_path(&c->map, lo) && pmap_unshare_path(&c->map, hi - 1);
  }
  return vmo_prepare_leaves_locked(&c->map, lo, hi);
}

static void apply_zero_pages_locked(vmo_t* c, uint64_t lo, uint64_t hi) {
  family_assert_exclusive(c->fam);
  if (zero_by_cut(c, hi)) {
    bool ok = pmap_remove_range(&c->map, lo, hi);
    ZX_ASSERT(ok);  // prepared: the boundary paths are exclusive
    if (c->backing) c->cut = max_u64(c->base, min_u64(c->cut, lo));
    return;
  }
  pnode_t* leaf = NULL;
  uint64_t block = UINT64_MAX;
  for (uint64_t i = lo; i < hi; i++) {
    if ((i >> PMAP_BITS) != block) {
      leaf = prepared_leaf_locked(&c->map, i);
      block = i >> PMAP_BITS;
    }
    pmap_leaf_set(leaf, (unsigned)(i & PMAP_SLOT_MASK), &g_zero_page);
  }
}

// The bytes of page p that zeroing [off, end) covers: [*in, *in + return value).
static uint64_t page_part(uint64_t p, uint64_t off, uint64_t end, uint64_t* in) {
  uint64_t lo = max_u64(p << PAGE_SHIFT, off), hi = min_u64((p + 1) << PAGE_SHIFT, end);
  *in = lo & PAGE_MASK;
  return hi - lo;
}

// Zeroes [off, off + len) of content c (v's page 0 at idx0) page by page where the
// pages are, keeping them committed: for contiguous VMOs and pinned pages, whose
// memory stays, as on Zircon. Everything is reserved and prepared first, so it fails
// (NO_MEMORY) changing nothing.
static zx_status_t zero_in_place_locked(vmo_t* c, uint64_t idx0, uint64_t off, uint64_t len) {
  uint64_t end = off + len, p0 = off >> PAGE_SHIFT, p1 = (end - 1) >> PAGE_SHIFT, in, n;
  uint64_t need = 0;
  for (uint64_t p = p0; p <= p1; p++) {
    n = page_part(p, off, end, &in);
    need += partial_needs_page_locked(c, idx0 + p, in, n);
  }
  page_reservation_t r;
  zx_status_t st = pool_reserve(need, &r);
  if (st != ZX_OK) return st;
  uint64_t prepared = p0;
  if (vmo_pager_reserve_locked(c)) {
    for (; prepared <= p1; prepared++) {
      n = page_part(prepared, off, end, &in);
      if (!prepare_partial_locked(c, idx0 + prepared, in, n)) break;
    }
  }
  if (prepared <= p1) {
    for (uint64_t p = p0; p < prepared; p++) pmap_prune(&c->map, idx0 + p);
    pool_unreserve(&r);
    return ZX_ERR_NO_MEMORY;
  }
  for (uint64_t p = p0; p <= p1; p++) {
    n = page_part(p, off, end, &in);
    zero_partial_locked(c, idx0 + p, in, n, &r);
    if (c->fam->source && pmap_lookup(&c->map, idx0 + p)) {
      vmo_pager_written_locked(c, idx0 + p, idx0 + p + 1, false);
    }
  }
  pool_unreserve(&r);
  if (c->fam->homes) home_invalidate(c->fam, idx0 + p0, idx0 + p1 + 1);
  return ZX_OK;
}

zx_status_t vmo_zero_locked(vmo_t* v, uint64_t off, uint64_t len) {
  family_assert_exclusive(v->fam);
  zx_status_t st = range_locked(v, off, len);
  if (st != ZX_OK || len == 0) return st;
  uint64_t idx0;
  vmo_t* c = vmo_content(v, &idx0);
  if (c->contiguous || vmo_pinned_locked(c, idx0 + (off >> PAGE_SHIFT),
                                         idx0 + ((off + len - 1) >> PAGE_SHIFT) + 1)) {
    return zero_in_place_locked(c, idx0, off, len);
  }
  uint64_t end = off + len;
  uint64_t p_first = off >> PAGE_SHIFT;
  uint64_t p_last = (end - 1) >> PAGE_SHIFT;
  // Partial pages at the head and tail, as (page, in-page offset, length).
  uint64_t part[2][3];
  int nparts = 0;
  uint64_t whole_lo = (off + PAGE_MASK) >> PAGE_SHIFT;
  uint64_t whole_hi = end >> PAGE_SHIFT;
  if (p_first == p_last && ((off & PAGE_MASK) != 0 || len < PAGE_SIZE)) {
    part[nparts][0] = p_first;
    part[nparts][1] = off & PAGE_MASK;
    part[nparts][2] = len;
    nparts++;
    whole_lo = whole_hi = 0;
  } else {
    if (off & PAGE_MASK) {
      part[nparts][0] = p_first;
      part[nparts][1] = off & PAGE_MASK;
      part[nparts][2] = PAGE_SIZE - (off & PAGE_MASK);
      nparts++;
    }
    if (end & PAGE_MASK) {
      part[nparts][0] = p_last;
      part[nparts][1] = 0;
      part[nparts][2] = end & PAGE_MASK;
      nparts++;
    }
  }
  uint64_t need = 0;
  for (int k = 0; k < nparts; k++) {
    need += partial_needs_page_locked(c, idx0 + part[k][0], part[k][1], part[k][2]);
  }
  bool whole = whole_lo < whole_hi;
  // c's own home pages about to be dropped move out of the home first if other maps
  // share them (home.h, H2): each needs a page.
  if (whole) need += home_count_shared(c, idx0 + whole_lo, idx0 + whole_hi);
  page_reservation_t r;
  st = pool_reserve(need, &r);
  if (st != ZX_OK) return st;
  // Every allocation first (partial pages' leaves, then the whole pages, whose
  // preparation copies only shared nodes, never ones on the partial pages' paths),
  // then the changes, which allocate nothing.
  int prepared = 0;
  while (prepared < nparts &&
         prepare_partial_locked(c, idx0 + part[prepared][0], part[prepared][1],
                                part[prepared][2])) {
    prepared++;
  }
  bool whole_prepared = false;
  if (!vmo_pager_reserve_locked(c) || prepared < nparts ||
      (whole && !(whole_prepared = prepare_zero_pages_locked(c, idx0 + whole_lo, idx0 + whole_hi))) ||
      (whole && !home_unshare_range(c, idx0 + whole_lo, idx0 + whole_hi, &r))) {
    // Leaves made for markers would stay empty: give them back (home_unshare_range's
    // moves read the same, so they need no undoing).
    if (whole_prepared && !zero_by_cut(c, idx0 + whole_hi)) {
      vmo_unprepare_leaves_locked(&c->map, idx0 + whole_lo, idx0 + whole_hi);
    }
    for (int k = 0; k < prepared; k++) pmap_prune(&c->map, idx0 + part[k][0]);
    pool_unreserve(&r);
    return ZX_ERR_NO_MEMORY;
  }
  for (int k = 0; k < nparts; k++) {
    zero_partial_locked(c, idx0 + part[k][0], part[k][1], part[k][2], &r);
  }
  if (whole) apply_zero_pages_locked(c, idx0 + whole_lo, idx0 + whole_hi);
  pool_unreserve(&r);
  if (c->fam->source) {
    for (int k = 0; k < nparts; k++) {
      // A partial page that read as zero already (a zero range) was not written.
      uint64_t i = idx0 + part[k][0];
      if (pmap_lookup(&c->map, i)) vmo_pager_written_locked(c, i, i + 1, false);
    }
    if (whole) vmo_pager_zeroed_locked(c, idx0 + whole_lo, idx0 + whole_hi);
  }
  if (c->fam->homes) home_invalidate(c->fam, idx0 + p_first, idx0 + p_last + 1);
  return ZX_OK;
}

// Pager-backed families: the partial pages a zeroing of [off, off + len) writes must
// be supplied (and, on a TRAP_DIRTY VMO, agreed to be dirtied) first. ZX_OK: go on
// (lock held); otherwise as pager_prepare_locked.
static zx_status_t zero_prepare_locked(vmo_t* v, uint64_t off, uint64_t len, bool* unlocked) {
  *unlocked = false;
  if (!v->fam->source || len == 0 || range_locked(v, off, len) != ZX_OK) return ZX_OK;
  uint64_t idx0;
  vmo_t* c = vmo_content(v, &idx0);
  uint64_t end = off + len;
  uint64_t partial[2];
  int n = 0;
  if (off & PAGE_MASK || (end & PAGE_MASK && end - (off & ~PAGE_MASK) < PAGE_SIZE)) {
    partial[n++] = off >> PAGE_SHIFT;
  }
  if (end & PAGE_MASK && (n == 0 || partial[0] != end >> PAGE_SHIFT)) {
    partial[n++] = end >> PAGE_SHIFT;
  }
  // Every partial page comes in before any is dirtied: a page the pager fails then
  // leaves the VMO as it was, with no DIRTY request granted for the other one.
  for (int write = 0; write < 2; write++) {
    for (int k = 0; k < n; k++) {
      uint64_t i = idx0 + partial[k];
      zx_status_t st = pager_prepare_locked(c, i, i + 1, write, unlocked);
      if (st != ZX_OK || *unlocked) return st;
    }
  }
  return ZX_OK;
}

zx_status_t vmo_wrlock_for_zero(vmo_t* v, uint64_t off, uint64_t len) {
  family_t* fam = v->fam;
  for (;;) {
    family_wrlock(fam);
    bool unlocked = false;
    zx_status_t st = v->alive ? zero_prepare_locked(v, off, len, &unlocked) : ZX_OK;
    if (!unlocked) {
      if (st == ZX_OK) return ZX_OK;
      family_unlock(fam);
      return st;
    }
    if (st != ZX_OK) return st;
  }
}

zx_status_t vmo_zero(vmo_t* v, uint64_t off, uint64_t len) {
  family_t* fam = v->fam;
  zx_status_t st = vmo_wrlock_for_zero(v, off, len);
  if (st != ZX_OK) return st;
  st = v->alive ? vmo_zero_locked(v, off, len) : ZX_ERR_BAD_HANDLE;
  vmo_after_op_locked(fam);
  family_unlock(fam);
  return st;
}

zx_status_t vmo_set_size(vmo_t* h, uint64_t size) {
  family_t* fam = h->fam;
  uint64_t new_size;
  ZX_ASSERT(round_up_page(size, &new_size) && new_size <= VMO_MAX_SIZE);
  // Resizing a reference resizes what it references (which may have no handle left),
  // and with it every reference to it.
  vmo_t* v = vmo_csm(h);
  ZX_ASSERT(v->kind != VMO_SLICE && v->resizable);
  // Shrinking to an unaligned size zeroes the rest of the last page: a pager VMO's
  // must be supplied (and agreed to be dirtied) first. If the pager cannot give it
  // (detached, or it failed the page), the resize still happens and that page is left
  // as it is, as Zircon does (it ignores the status of this zeroing).
  uint64_t tail_len = (size & PAGE_MASK) ? PAGE_SIZE - (size & PAGE_MASK) : 0;
  bool tail_ok = true;
  zx_status_t st = vmo_wrlock_for_zero(h, size, tail_len);
  if (st == ZX_ERR_NO_MEMORY) return st;
  if (st != ZX_OK) {
    family_wrlock(fam);
    tail_ok = false;
    st = ZX_OK;
  }
  if (!h->alive) st = ZX_ERR_BAD_HANDLE;
  if (st != ZX_OK) goto out;
  // The accumulated offset from the family's origin plus the new size must fit in
  // 64 bits, as when the child was created (behavior.md §16).
  if (new_size > UINT64_MAX - (v->base << PAGE_SHIFT)) {
    st = ZX_ERR_INVALID_ARGS;
    goto out;
  }
  uint64_t old_size = v->size;
  if (new_size < old_size &&
      vmo_pinned_locked(v, v->base + (new_size >> PAGE_SHIFT), v->base + vmo_pages(v))) {
    st = ZX_ERR_BAD_STATE;  // pinned pages cannot be cut
    goto out;
  }
  // Shrinking to an unaligned size: the rest of the last page reads as zero.
  bool tail = tail_ok && (size & PAGE_MASK) != 0 && size < old_size;
  uint64_t tail_idx = v->base + (size >> PAGE_SHIFT);
  uint64_t tail_in = size & PAGE_MASK;
  uint64_t new_end = v->base + (new_size >> PAGE_SHIFT);
  uint64_t old_end = v->base + (old_size >> PAGE_SHIFT);
  bool shrink = new_size < old_size;
  page_reservation_t r = {.list = NULL, .count = 0};
  uint64_t need = shrink ? home_count_shared(v, new_end, old_end) : 0;
  if (tail) need += partial_needs_page_locked(v, tail_idx, tail_in, PAGE_SIZE - tail_in);
  st = pool_reserve(need, &r);
  if (st != ZX_OK) goto out;
  // Every allocation before the first change (see vmo_zero_locked).
  if (!vmo_pager_reserve_locked(v) ||
      (tail && !prepare_partial_locked(v, tail_idx, tail_in, PAGE_SIZE - tail_in)) ||
      (shrink && !(pmap_unshare_path(&v->map, new_end) &&
                   pmap_unshare_path(&v->map, old_end - 1))) ||
      (shrink && !home_unshare_range(v, new_end, old_end, &r))) {
    if (tail) pmap_prune(&v->map, tail_idx);
    pool_unreserve(&r);
    st = ZX_ERR_NO_MEMORY;
    goto out;
  }
  if (tail) {
    zero_partial_locked(v, tail_idx, tail_in, PAGE_SIZE - tail_in, &r);
    if (fam->source && pmap_lookup(&v->map, tail_idx)) {
      vmo_pager_written_locked(v, tail_idx, tail_idx + 1, false);
    }
  }
  if (shrink) {
    bool ok = pmap_remove_range(&v->map, new_end, old_end);
    ZX_ASSERT(ok);  // prepared
    // What was cut is cut for good: growing back shows zeros, here and in every
    // one-way child.
    if (v->backing) v->cut = max_u64(v->base, min_u64(v->cut, new_end));
    for (vmo_t* ch = v->oneway_children; ch; ch = ch->ow.next) {
      ch->cut = max_u64(ch->base, min_u64(ch->cut, new_end));
    }
  }
  pool_unreserve(&r);
  if (fam->homes && (tail || shrink)) home_invalidate(fam, tail ? tail_idx : new_end, old_end);
  v->size = new_size;
  v->content_size = size;
  for (vmo_t* s = v->slices; s; s = s->sl.next) {
    if (s->reference) s->size = new_size;
  }
  if (vmo_is_pager_root(v)) vmo_pager_resized_locked(v, old_end, new_end);
out:
  vmo_after_op_locked(fam);
  family_unlock(fam);
  return st;
}

zx_status_t vmo_commit(vmo_t* v, uint64_t off, uint64_t len) {
  struct page_request* req;
  zx_status_t st;
  while ((st = vmo_commit_or_ask(v, off, len, &req)) == ZX_ERR_SHOULD_WAIT) {
    st = source_wait(req);
    if (st != ZX_OK) break;
  }
  return st;
}

zx_status_t vmo_commit_or_ask(vmo_t* v, uint64_t off, uint64_t len,
                              struct page_request** req) {
  family_t* fam = v->fam;
  family_wrlock(fam);
  zx_status_t st = v->alive ? range_locked(v, off, len) : ZX_ERR_BAD_HANDLE;
  if (st == ZX_OK && len > 0 && vmo_discarded(v)) st = ZX_ERR_NOT_FOUND;
  if (st != ZX_OK || len == 0) goto out;
  uint64_t lo, hi;
  vmo_t* c = page_span_locked(v, off, len, &lo, &hi);
  // A child of a pager VMO commits the parent's pages through the pager first, and
  // the pager VMO asks to dirty the zero ranges it commits.
  st = vmo_pager_need_locked(c, lo, hi, hi, req);
  if (st == ZX_OK) st = vmo_pager_need_dirty_locked(c, lo, hi, true, req);
  if (st != ZX_OK) goto out;
  page_reservation_t r;
  st = pool_reserve(count_unowned_locked(c, lo, hi), &r);
  if (st != ZX_OK) goto out;
  if (r.count > 0 && (!vmo_prepare_leaves_locked(&c->map, lo, hi) ||
                      !vmo_pager_reserve_locked(c))) {
    vmo_unprepare_leaves_locked(&c->map, lo, hi);
    pool_unreserve(&r);
    st = ZX_ERR_NO_MEMORY;
    goto out;
  }
  pnode_t* leaf = NULL;
  uint64_t leaf_block = UINT64_MAX;
  for (uint64_t i = lo; i < hi && r.count > 0; i++) {  // past the last need: all owned
    if ((i >> PMAP_BITS) != leaf_block) {
      leaf = prepared_leaf_locked(&c->map, i);
      leaf_block = i >> PMAP_BITS;
    }
    (void)own_page_locked(c, leaf, i, false, &r);
  }
  ZX_ASSERT(r.count == 0);
  if (fam->source && hi > lo) vmo_pager_written_locked(c, lo, hi, true);
out:
  vmo_after_op_locked(fam);
  family_unlock(fam);
  return st;
}

static bool has_snapshot_child_locked(const vmo_t* v) {
  for (const vmo_t* ch = v->children; ch; ch = ch->sib.next) {
    if (ch->kind == VMO_SNAPSHOT) return true;
  }
  return false;
}

// Whether DECOMMIT is refused on content holder `c` (docs/behavior.md §8 and D5).
static bool decommit_refused_locked(const vmo_t* c) {
  if (c->fam->source) return true;  // a pager's pages, and its VMO's children's
  if (c->legacy) return false;
  if (c->kind != VMO_ROOT && c->parent) return true;
  if (has_snapshot_child_locked(c)) return true;
  // §16.1: a reference's children are children of the pages it shares with c.
  for (const vmo_t* s = c->slices; s; s = s->sl.next) {
    if (s->reference && has_snapshot_child_locked(s)) return true;
  }
  return false;
}

zx_status_t vmo_decommit(vmo_t* v, uint64_t off, uint64_t len) {
  // A contiguous VMO's memory is its for life (checked first, as on Zircon).
  if (v->contiguous) return ZX_ERR_NOT_SUPPORTED;
  family_t* fam = v->fam;
  family_wrlock(fam);
  zx_status_t st = v->alive ? range_locked(v, off, len) : ZX_ERR_BAD_HANDLE;
  if (st != ZX_OK || len == 0) goto out;
  uint64_t lo, hi;
  vmo_t* c = page_span_locked(v, off, len, &lo, &hi);
  if (decommit_refused_locked(c)) {
    st = ZX_ERR_NOT_SUPPORTED;
    goto out;
  }
  if (!page_aligned(off) || !page_aligned(len)) {
    st = ZX_ERR_INVALID_ARGS;
    goto out;
  }
  if (vmo_pinned_locked(c, lo, hi)) {
    st = ZX_ERR_BAD_STATE;
    goto out;
  }
  // c's own home pages move out of the home first if other maps share them (H2).
  page_reservation_t r;
  st = pool_reserve(home_count_shared(c, lo, hi), &r);
  if (st != ZX_OK) goto out;
  // On a legacy clone this reveals the parent's pages again, markers included.
  if (!home_unshare_range(c, lo, hi, &r) || !pmap_remove_range(&c->map, lo, hi)) {
    st = ZX_ERR_NO_MEMORY;
  } else if (fam->homes) {
    home_invalidate(fam, lo, hi);
  }
  pool_unreserve(&r);
out:
  vmo_after_op_locked(fam);
  family_unlock(fam);
  return st;
}

zx_status_t vmo_lookup(vmo_t* v, uint64_t off, uint64_t len, zx_paddr_t* out, size_t n) {
  family_t* fam = v->fam;
  family_rdlock(fam);
  zx_status_t st = v->alive ? range_locked(v, off, len) : ZX_ERR_BAD_HANDLE;
  if (st != ZX_OK) goto out;
  uint64_t lo, hi;
  vmo_t* c = page_span_locked(v, off, len, &lo, &hi);
  if (hi - lo > n) {
    st = ZX_ERR_BUFFER_TOO_SMALL;
    goto out;
  }
  if (v->physical || v->contiguous) {
    // Driver memory has its (emulated) physical addresses, committed or not.
    for (uint64_t i = 0; i < hi - lo; i++) {
      out[i] = (zx_paddr_t)vmo_paddr(v, (off & ~PAGE_MASK) + (i << PAGE_SHIFT));
    }
    goto out;
  }
  for (uint64_t i = lo; i < hi; i++) {
    page_t* p = vmo_view_locked(c, i);
    if (!p || page_is_marker(p)) {
      // Nothing committed there: there is no page to report.
      st = ZX_ERR_NO_MEMORY;
      goto out;
    }
    out[i - lo] = (zx_paddr_t)(uintptr_t)p->data;
  }
out:
  family_unlock(fam);
  return st;
}
