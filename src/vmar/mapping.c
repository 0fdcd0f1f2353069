// SPDX-License-Identifier: BSD-3-Clause
// The mapping core; see mapping.h for the contract and src/vm/home.h for where mapped
// pages live.
//
// A mapping of VMO v at [base, base+len) is one kernel mapping (MAP_SHARED) of the
// home of v's content owner c, at the home offset of v's first mapped page, registered
// with userfaultfd for missing pages and write protection. What the page tables may
// hold, per home slot (home.h): an OWN page, writable only when exclusive to c and not
// copied by a cache; a CACHE page, always write-protected. An empty slot faults; so
// does a write to a write-protected page. fault.c turns either into a call to
// mapping_fault, which decides under the family lock:
//
//   slot OWN, write:   copy-before-write if snapshots share the page (the others get
//                      the copy, home_relocate), drop caches that copy it, unprotect;
//   slot not OWN, write: c commits a page of its own in the slot, holding what c
//                      showed (a copy of the page it held or saw, or zeros), unprotected;
//   slot empty, read:  if c's map holds a page exclusively, it moves into the slot
//                      (same memory use); otherwise the slot caches what c shows
//                      (write-protected, charged to nobody).
//
// Past the VMO's size a fault is the program's: SIGBUS, as on Zircon.
#include "mapping.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "home.h"
#include "object.h"
#include "os.h"

static int prot_of(uint32_t perms) {
  int prot = PROT_NONE;
  if (perms & ZX_VM_PERM_READ) prot |= PROT_READ;
  if (perms & ZX_VM_PERM_WRITE) prot |= PROT_WRITE;
  if (perms & ZX_VM_PERM_EXECUTE) prot |= PROT_EXEC;
  return prot;
}

// Home slot of m's first page.
static uint64_t first_slot(const mapping_t* m) {
  uint64_t idx0;
  vmo_content(m->vmo, &idx0);
  return idx0 + (m->vmo_off >> PAGE_SHIFT) - m->home->base;
}

// Bytes of `m`, from its start, that may ever show its VMO's pages. A slice's size is
// fixed and its home is its root's, which holds other pages past the slice's window:
// the rest of the mapping must not show them. Other VMOs' homes hold nothing past
// their size, so all of a mapping may show them; so do references, which always
// window all of their root.
static uint64_t shown_len(const mapping_t* m) {
  const vmo_t* v = m->vmo;
  if (v->kind != VMO_SLICE || v->reference) return m->len;
  return v->size > m->vmo_off ? min_u64(m->len, v->size - m->vmo_off) : 0;
}

// Maps `m` over its placeholder (privately in a child of fork()): the part that may
// show the VMO from its home, the rest from the void span (home.h), which stays a
// hole, so that an access there faults and is found past the VMO's end.
static bool map_ranges(const mapping_t* m, uint64_t s0, bool private_) {
  uint64_t in = shown_len(m);
  int prot = prot_of(m->perms);
  bool (*map)(uintptr_t, uint64_t, int, uint64_t) = private_ ? os_home_map_private : os_home_map;
  return (in == 0 || map(m->base, in, prot, home_off(m->home, s0))) &&
         (in == m->len || map(m->base + in, m->len - in, prot, HOME_VOID_OFF));
}

static void link_locked(home_t* h, mapping_t* m) {
  m->home = h;
  m->h_prev = NULL;
  m->h_next = h->maps;
  if (h->maps) h->maps->h_prev = m;
  h->maps = m;
  h->nmaps++;
  m->vmo->mapping_count++;
}

static void unlink_locked(mapping_t* m) {
  home_t* h = m->home;
  if (m->h_prev) {
    m->h_prev->h_next = m->h_next;
  } else {
    h->maps = m->h_next;
  }
  if (m->h_next) m->h_next->h_prev = m->h_prev;
  m->h_next = m->h_prev = NULL;
  h->nmaps--;
  m->vmo->mapping_count--;
}

bool home_write_protect(home_t* h, uint64_t lo, uint64_t hi) {
  if (hi <= h->base) return true;
  uint64_t a = max_u64(lo, h->base) - h->base, b = hi - h->base;
  for (mapping_t* m = h->maps; m; m = m->h_next) {
    if (!(m->perms & ZX_VM_PERM_WRITE)) continue;
    uint64_t s0 = first_slot(m), s1 = s0 + (m->len >> PAGE_SHIFT);
    uint64_t x = max_u64(a, s0), y = min_u64(b, s1);
    if (x >= y) continue;
    // Can fail only for page-table memory; what was protected stays protected, which
    // costs at most a fault that finds nothing to do.
    if (!os_uffd_wp(m->base + ((x - s0) << PAGE_SHIFT), (y - x) << PAGE_SHIFT, true)) {
      return false;
    }
  }
  return true;
}

// What `c` shows at `idx` when its own map does not hold a home page there: the page
// (NULL for zero).
static page_t* shown_locked(vmo_t* c, uint64_t idx) {
  page_t* p = vmo_view_locked(c, idx);
  return p && !page_is_marker(p) ? p : NULL;
}

// Fills home page `p`'s memory with `src`'s content (zero if NULL). Either way the
// slot then holds a page in the file, which is what a mapping needs to show it.
static void fill(page_t* p, const page_t* src) {
  if (src) {
    memcpy(p->data, src->data, PAGE_SIZE);
  } else if (!p->zeroed) {
    memset(p->data, 0, PAGE_SIZE);
  } else {
    for (uint64_t a = 0; a < PAGE_SIZE; a += 4096) ((volatile uint8_t*)p->data)[a] = 0;
  }
  p->zeroed = 0;
}

// Puts `src`'s content (zeros if NULL) in home page `p`'s empty slot and enters it in
// the page tables of the faulting mapping at `pa` in the same step (write-protected
// with `wp`): one ioctl instead of a fault in the library's view plus a minor fault on
// retry. If the file still holds a page there (a slot whose punch is pending, or
// another thread's: EEXIST), or the kernel keeps answering EAGAIN (the page tables
// changed under the call), the view is written instead and the retry maps it. The
// retry would map it writable unless `pa` is then write-protected (`wp`), which needs
// page-table memory: false, with the slot filled, if that failed.
static bool place(uintptr_t pa, page_t* p, const page_t* src, bool wp) {
  int r;
  for (int tries = 0; tries < 3; tries++) {
    if (src) {
      r = os_uffd_copy(pa, src->data, PAGE_SIZE, wp);
    } else if (wp) {
      r = os_uffd_copy(pa, g_zero_page.data, PAGE_SIZE, true);
    } else {
      r = os_uffd_zeropage(pa, PAGE_SIZE);
    }
    if (r == 0) {
      p->zeroed = 0;
      return true;
    }
    if (r != -EAGAIN) break;
  }
  fill(p, src);
  if (!wp) {
    bool ok = os_uffd_wp(pa, PAGE_SIZE, false);  // unprotecting needs no memory
    ZX_ASSERT(ok);
    return true;
  }
  // A page present in the file is mapped on a read fault without asking the library,
  // and then written without asking either unless its entry (or the marker left where
  // there is none) carries the write protection.
  return os_uffd_wp(pa, PAGE_SIZE, true);
}

// Lets the faulting thread's retried write through at `pa`. Lifting the protection
// leaves a shared page's entry read-only (the kernel upgrades it at the next write
// fault); entering it writable now, from the kernel, spares the retry that second
// fault, which costs more as an exception than as part of this call (a fifth of a
// copy-before-write fault where faults exit to a hypervisor).
static void unprotect_for_write(uintptr_t pa) {
  bool ok = os_uffd_wp(pa, PAGE_SIZE, false);  // unprotecting needs no memory
  ZX_ASSERT(ok);
  os_populate(pa, PAGE_SIZE, true);  // best effort: the retry faults it in otherwise
}

// A page copied by a cache elsewhere must fault before it is written in place (H4).
// False (nothing marked) if the protection could not be applied.
static bool mark_cached(page_t* src, uint64_t idx) {
  if (!src || !src->win || src->cached) return true;
  if (!home_write_protect(src->win->home, idx, idx + 1)) return false;
  src->cached = 1;
  return true;
}

// The VMO holding the pages behind m's page at `pa` (a slice's root), and that page's
// family index.
static vmo_t* page_at(const mapping_t* m, uintptr_t pa, uint64_t* idx) {
  uint64_t idx0;
  vmo_t* c = vmo_content(m->vmo, &idx0);
  *idx = idx0 + ((m->vmo_off + (pa - m->base)) >> PAGE_SHIFT);
  return c;
}

// Pager-backed families: a mapping fault asks for its one page (as on Zircon), and a
// write to the pager VMO's clean page asks to dirty it when the VMO traps that.
static fault_result_t pager_prepare_locked(vmo_t* c, uint64_t idx, bool write,
                                           struct page_request** req) {
  zx_status_t st = vmo_pager_need_locked(c, idx, idx + 1, idx + 1, req);
  if (st == ZX_OK && write) st = vmo_pager_need_dirty_locked(c, idx, idx + 1, false, req);
  switch (st) {
    case ZX_OK:
      return FAULT_RESOLVED;
    case ZX_ERR_SHOULD_WAIT:
      return FAULT_WAIT;
    case ZX_ERR_NO_MEMORY:
      return FAULT_NO_MEMORY;
    default:  // detached: the page will never come
      return FAULT_GENUINE;
  }
}

static fault_result_t fault_locked(mapping_t* m, uintptr_t pa, vmo_t* c, uint64_t idx,
                                   bool write);

fault_result_t mapping_fault_locked(mapping_t* m, uintptr_t addr, bool write,
                                    struct page_request** req) {
  vmo_t* v = m->vmo;
  family_assert_exclusive(v->fam);
  uintptr_t pa = addr & ~(uintptr_t)PAGE_MASK;
  if (m->vmo_off + (pa - m->base) >= v->size) return FAULT_GENUINE;
  uint64_t idx;
  vmo_t* c = page_at(m, pa, &idx);
  if (vmo_discarded(c)) return FAULT_GENUINE;  // until locked again: SIGBUS
  if (!v->fam->source) return fault_locked(m, pa, c, idx, write);
  fault_result_t r = pager_prepare_locked(c, idx, write, req);
  if (r == FAULT_RESOLVED && write && !vmo_pager_reserve_locked(c)) r = FAULT_NO_MEMORY;
  if (r == FAULT_RESOLVED) r = fault_locked(m, pa, c, idx, write);
  // Written through a mapping: dirty from now on (the page is unprotected).
  if (r == FAULT_RESOLVED && write) vmo_pager_written_locked(c, idx, idx + 1, false);
  return r;
}

// Whether c's pages must stay write-protected in mappings even when c holds them
// alone: a pager VMO's, whose writes must be seen (the first dirties a clean page and
// any sets the modified statistic). Only a write fault unprotects them.
static bool track_writes(const vmo_t* c) { return vmo_is_pager_root(c); }

static fault_result_t fault_locked(mapping_t* m, uintptr_t pa, vmo_t* c, uint64_t idx,
                                   bool write) {
  vmo_t* v = m->vmo;
  home_t* h = m->home;
  uint64_t s = idx - h->base;
  home_win_t* w = home_win(h, s, true);
  if (!w) return FAULT_NO_MEMORY;
  page_t* hp = &w->desc[s % WIN_PAGES];
  page_t* own = pmap_lookup(&c->map, idx);

  if (own == hp) {
    if (!write) return FAULT_RESOLVED;  // raced with another thread: nothing to do
    if (hp->refs > 1 || !pmap_exclusive(&c->map, idx)) {
      page_reservation_t r;
      if (pool_reserve(1, &r) != ZX_OK) return FAULT_NO_MEMORY;
      if (!pmap_leaf_for_write(&c->map, idx)) {
        pool_unreserve(&r);
        return FAULT_NO_MEMORY;
      }
      if (hp->refs > 1) {
        // Copied from the faulting mapping, where the page is present (readable,
        // write-protected), rather than from the library's view of it, which would
        // take a minor fault first.
        home_relocate(c, idx, hp, pool_take_copy_of(&r, (const void*)pa));
        pool_count_copy();
      }
      pool_unreserve(&r);
    }
    if (hp->cached) {
      home_invalidate(v->fam, idx, idx + 1);
      hp->cached = 0;
    }
    unprotect_for_write(pa);
    return FAULT_RESOLVED;
  }

  page_t* shown = shown_locked(c, idx);
  bool exclusive = own && !page_is_marker(own) && own->refs == 1 && pmap_exclusive(&c->map, idx);
  // c takes a page of its own in the slot (a move when it held `own` alone). A move
  // that finds the budget full (it charges before it frees) caches a copy instead: a
  // read never fails for the budget.
  pnode_t* leaf = NULL;
  if (write || exclusive) {
    // A move frees `own` as it takes the slot: no net page, so no budget to ask.
    zx_status_t st = ZX_OK;
    if (exclusive) {
      pool_charge_force(1);
    } else {
      st = pool_charge(1);
    }
    if (st == ZX_OK) {
      leaf = pmap_leaf_for_write(&c->map, idx);
      if (!leaf) pool_uncharge(1);
    }
    if (!leaf && write) return FAULT_NO_MEMORY;
  }
  if (leaf) {
    bool was_cache = home_is_cache(w, s);
    page_t* p = home_take(h, s);
    // The page's state moves with it (a pager VMO's dirty tracking); accesses through
    // the mapping are not seen again, so this one counts as a read for the evictor.
    p->dirty = exclusive ? own->dirty : PAGE_CLEAN;
    atomic_store_explicit(&p->referenced, PAGE_READ_CREDIT, memory_order_relaxed);
    if (was_cache) {  // a cache holds what c shows already (H3): it becomes c's
      if (write) unprotect_for_write(pa);
    } else {
      // Exclusive, so writable at once (H4) unless its first write must be seen; the
      // source is read before it goes.
      if (!place(pa, p, shown, !write && track_writes(c))) {
        page_unref(p);  // a free slot again (and the charge), punched as the fault ends
        return FAULT_NO_MEMORY;
      }
    }
    pmap_leaf_set(leaf, (unsigned)(idx & PMAP_SLOT_MASK), p);
    // c's page at idx is another page now (same bytes): caches elsewhere copied the
    // old one, which nothing will tell them about any more (H3).
    if (v->fam->homes) home_invalidate(v->fam, idx, idx + 1);
    return FAULT_RESOLVED;
  }
  if (home_is_cache(w, s)) return FAULT_RESOLVED;  // raced: already there
  // A read of something c does not hold alone: cache a copy, write-protected in
  // every mapping of the home.
  ZX_ASSERT(hp->refs == 0);
  // Every other mapping of the home, and the source's, are protected first: the copy
  // must never be written in place, nor the source without dropping the copy.
  if ((h->nmaps > 1 && !home_write_protect(h, idx, idx + 1)) || !mark_cached(shown, idx)) {
    return FAULT_NO_MEMORY;
  }
  home_cache_set(h, s);
  if (!place(pa, hp, shown, true)) {
    // The slot holds the copy but this mapping could not be protected over it: drop
    // it (punched before the family lock is released), so nothing maps it writable.
    home_invalidate(v->fam, idx, idx + 1);
    return FAULT_NO_MEMORY;
  }
  return FAULT_RESOLVED;
}

// MAP_RANGE for the page at `pa`: served as a read would be, then entered in the page
// tables now, writable if it is c's own exclusive page and the mapping may write, so
// that even the kernel's own accesses (read(2) into it) find it. Failures leave the
// page to fault in later.
static void enter_locked(mapping_t* m, uintptr_t pa) {
  // Never asks a pager: only pages present now are entered.
  if (mapping_fault_locked(m, pa, false, NULL) != FAULT_RESOLVED) return;
  uint64_t idx;
  vmo_t* c = page_at(m, pa, &idx);
  home_win_t* w = home_win(m->home, idx - m->home->base, false);
  page_t* own = pmap_lookup(&c->map, idx);
  bool write = w && own == &w->desc[(idx - m->home->base) % WIN_PAGES] && own->refs == 1 &&
               !own->cached && pmap_exclusive(&c->map, idx) && (m->perms & ZX_VM_PERM_WRITE) &&
               !track_writes(c);
  if (write && !os_uffd_wp(pa, PAGE_SIZE, false)) write = false;
  os_populate(pa, PAGE_SIZE, write);
}

zx_status_t mapping_attach(mapping_t* m, bool map_range) {
  zx_status_t st = fault_init();
  if (st != ZX_OK) return st;
  vmo_t* v = m->vmo;
  family_t* fam = v->fam;
  family_wrlock(fam);
  uint64_t idx0;
  vmo_t* c = vmo_content(v, &idx0);
  bool had_home = c->home != NULL;
  home_t* h;
  st = home_get(c, &h);
  if (st != ZX_OK) goto out;
  uint64_t s0 = idx0 + (m->vmo_off >> PAGE_SHIFT) - h->base;
  uint64_t n = m->len >> PAGE_SHIFT;
  st = ZX_ERR_NO_MEMORY;
  if (s0 >= HOME_MAX_SLOTS || n > HOME_MAX_SLOTS - s0) goto undo;
  m->home = h;  // for map_ranges; linked below once everything worked
  if (!map_ranges(m, s0, false)) {
    bool ok = os_placeholder(m->base, m->len);
    ZX_ASSERT(ok);
    m->home = NULL;
    goto undo;
  }
  // A home that holds no page yet needs no write protection (H4 concerns pages in the
  // file); otherwise protect all of it and let exclusive pages be unprotected on their
  // first write. Protecting costs page tables for the whole range, which a fresh
  // mapping of a large VMO should not pay.
  bool protect = (m->perms & ZX_VM_PERM_WRITE) && (h->live > 0 || h->cached > 0);
  if (!os_uffd_register(m->base, m->len, true) ||
      (protect && !os_uffd_wp(m->base, m->len, true))) {
    bool ok = os_placeholder(m->base, m->len);
    ZX_ASSERT(ok);
    m->home = NULL;
    goto undo;
  }
  link_locked(h, m);
  object_hold(&v->obj);
  st = ZX_OK;
  if (map_range) {
    // Enter what is committed now; commit nothing (a failure only leaves a page to
    // fault in later).
    uint64_t lo = idx0 + (m->vmo_off >> PAGE_SHIFT);
    uint64_t hi = lo + min_u64(n, (v->size > m->vmo_off ? (v->size - m->vmo_off) : 0) >> PAGE_SHIFT);
    for (uint64_t i = lo; i < hi; i++) {
      if (shown_locked(c, i) || home_owns(h, pmap_lookup(&c->map, i), i)) {
        enter_locked(m, m->base + ((i - lo) << PAGE_SHIFT));
      }
    }
  }
  goto out;
undo:
  if (!had_home) home_owner_gone(c);  // unused: home_flush frees it
out:
  vmo_after_op_locked(fam);
  family_unlock(fam);
  return st;
}

void mapping_detach(mapping_t* m) {
  vmo_t* v = m->vmo;
  family_t* fam = v->fam;
  family_wrlock(fam);
  bool ok = os_placeholder(m->base, m->len);
  ZX_ASSERT(ok);
  home_t* h = m->home;
  unlink_locked(m);
  // Caches exist only for mappings to read: the last one gone, their memory goes.
  if (h->nmaps == 0 && h->cached > 0) home_drop_caches(h);
  vmo_after_op_locked(fam);
  family_unlock(fam);
  m->home = NULL;
  object_unhold(&v->obj);  // the VMO may die here: no lock held
}

void mapping_split(mapping_t* m, uintptr_t at, mapping_t* tail) {
  ZX_ASSERT(at > m->base && at < m->base + m->len && page_aligned(at - m->base));
  vmo_t* v = m->vmo;
  tail->base = at;
  tail->len = m->base + m->len - at;
  tail->vmo = v;
  tail->vmo_off = m->vmo_off + (at - m->base);
  tail->perms = m->perms;
  m->len = at - m->base;
  object_hold(&v->obj);
  family_wrlock(v->fam);
  link_locked(m->home, tail);
  vmo_after_op_locked(v->fam);
  family_unlock(v->fam);
}

zx_status_t mapping_protect(mapping_t* m, uint32_t perms) {
  family_t* fam = m->vmo->fam;
  family_wrlock(fam);
  zx_status_t st = ZX_OK;
  // Gaining write access: everything is write-protected first, so that the first
  // write to each page asks (H4).
  if ((perms & ZX_VM_PERM_WRITE) && !(m->perms & ZX_VM_PERM_WRITE) &&
      !os_uffd_wp(m->base, m->len, true)) {
    st = ZX_ERR_NO_MEMORY;
  } else if (!os_protect(m->base, m->len, prot_of(perms))) {
    st = ZX_ERR_NO_MEMORY;
  } else {
    m->perms = perms;
  }
  family_unlock(fam);
  return st;
}

zx_status_t mapping_op_range(mapping_t* m, uint32_t op, uintptr_t addr, uint64_t len,
                             struct page_request** req) {
  vmo_t* v = m->vmo;
  uint64_t off = m->vmo_off + (addr - m->base);
  // Driver memory refuses these as zx_vmo_op_range does (docs/behavior.md §12.11, §15).
  // Neither flag changes while the VMO is mapped.
  zx_status_t refused = vmo_driver_op_check(v, op);
  if (refused != ZX_OK) return refused;
  switch (op) {
    case ZX_VMAR_OP_COMMIT: {
      // Committed pages are entered in the mapping too, as on Zircon.
      zx_status_t st = vmo_commit_or_ask(v, off, len, req);
      return st == ZX_OK ? mapping_op_range(m, ZX_VMAR_OP_MAP_RANGE, addr, len, req) : st;
    }
    case ZX_VMAR_OP_DECOMMIT:
      return vmo_decommit(v, off, len);
    case ZX_VMAR_OP_ZERO:
      return vmo_zero(v, off, len);
    case ZX_VMAR_OP_MAP_RANGE: {
      family_wrlock(v->fam);
      uint64_t size = v->size;
      for (uint64_t a = 0; a < len && off + a < size; a += PAGE_SIZE) enter_locked(m, addr + a);
      vmo_after_op_locked(v->fam);
      family_unlock(v->fam);
      return ZX_OK;
    }
    default:  // PREFETCH, DONT_NEED, ALWAYS_NEED: hints
      return ZX_OK;
  }
}

uint64_t mapping_committed_bytes(mapping_t* m) {
  vmo_t* v = m->vmo;
  family_rdlock(v->fam);
  uint64_t idx0;
  vmo_t* c = vmo_content(v, &idx0);
  uint64_t lo = idx0 + (m->vmo_off >> PAGE_SHIFT), hi = lo + (m->len >> PAGE_SHIFT);
  uint64_t n = 0;
  page_t* p;
  for (uint64_t i = lo; i < hi && (p = pmap_next(&c->map, &i, hi)) != NULL; i++) {
    n += !page_is_marker(p);
  }
  family_unlock(v->fam);
  return n << PAGE_SHIFT;
}

// ---- after fork(), in the child (fork.c) ---------------------------------------------

void mapping_fork_child(mapping_t* m, void* ctx) {
  (void)ctx;
  // Private: the child's writes stay in the child. What it reads is the home as the
  // parent keeps it; holes fault (below) instead of allocating in the shared file.
  bool ok = map_ranges(m, first_slot(m), true) && os_uffd_register(m->base, m->len, false);
  if (!ok) {
    // Without its mapping the child cannot see the page; the range stays a placeholder,
    // so an access there is SIGSEGV rather than someone else's memory.
    (void)os_placeholder(m->base, m->len);
  }
}

fault_result_t mapping_fault_child(mapping_t* m, uintptr_t addr) {
  // The child runs no library operation: the structures are as the fork left them,
  // between operations (fork.c), and are only read here.
  vmo_t* v = m->vmo;
  uintptr_t pa = addr & ~(uintptr_t)PAGE_MASK;
  if (m->vmo_off + (pa - m->base) >= v->size) return FAULT_GENUINE;
  uint64_t idx;
  vmo_t* c = page_at(m, pa, &idx);
  if (vmo_discarded(c)) return FAULT_GENUINE;  // as in the parent
  page_t* p = shown_locked(c, idx);
  int r = p ? os_uffd_copy(pa, p->data, PAGE_SIZE, false) : os_uffd_zeropage(pa, PAGE_SIZE);
  // EAGAIN: the page tables changed under the call (the parent punching a hole in the
  // file both map zaps this mapping's entries too); nothing was filled, and retrying
  // the access faults again if the page is still missing.
  return r == 0 || r == -EEXIST || r == -EAGAIN ? FAULT_RESOLVED : FAULT_NO_MEMORY;
}
