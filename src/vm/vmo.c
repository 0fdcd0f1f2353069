// SPDX-License-Identifier: BSD-3-Clause
// VMO lifecycle and the COW tree: families, creation of roots and children, the
// user-visible parent/child tree with ZX_VMO_ZERO_CHILDREN, and what happens to pages
// and links when a VMO dies. See vmo.h for the model and invariants.
#include "vmo.h"
#include "home.h"
#include "os.h"
#include "page_source.h"

#include <stdatomic.h>
#include <string.h>

static pthread_mutex_t g_families_lock = PTHREAD_MUTEX_INITIALIZER;
static family_t* g_families;  // (g_families_lock)
static _Atomic uint64_t g_vmos_alive;

uint64_t vmo_count_alive(void) { return atomic_load(&g_vmos_alive); }

void family_list_add(family_t* fam) {
  pthread_mutex_lock(&g_families_lock);
  fam->g_prev = NULL;
  fam->g_next = g_families;
  if (g_families) g_families->g_prev = fam;
  g_families = fam;
  pthread_mutex_unlock(&g_families_lock);
}

void family_list_remove(family_t* fam) {
  pthread_mutex_lock(&g_families_lock);
  if (fam->g_prev) {
    fam->g_prev->g_next = fam->g_next;
  } else {
    g_families = fam->g_next;
  }
  if (fam->g_next) fam->g_next->g_prev = fam->g_prev;
  pthread_mutex_unlock(&g_families_lock);
}

// Locks every family, then visits them (vmo.h). The global list lock is held
// throughout, so families cannot be freed meanwhile (lock order: global list lock ->
// family lock, used only here and by family_release). Used by the checker only.
void family_list_lock_all(void) {
  pthread_mutex_lock(&g_families_lock);
  for (family_t* f = g_families; f; f = f->g_next) family_wrlock(f);
}

void family_list_unlock_all(void) {
  for (family_t* f = g_families; f; f = f->g_next) family_unlock(f);
  pthread_mutex_unlock(&g_families_lock);
}

zx_status_t family_list_visit(family_visit_fn fn, zx_status_t (*all)(void* ctx), void* ctx) {
  zx_status_t st = ZX_OK;
  pthread_mutex_lock(&g_families_lock);
  for (family_t* f = g_families; f; f = f->g_next) family_wrlock(f);
  for (family_t* f = g_families; f && st == ZX_OK; f = f->g_next) st = fn(f, ctx);
  if (st == ZX_OK && all) st = all(ctx);
  for (family_t* f = g_families; f; f = f->g_next) family_unlock(f);
  pthread_mutex_unlock(&g_families_lock);
  return st;
}

static family_t* family_new(void) {
  family_t* f = os_calloc(1, sizeof(*f));
  if (!f) return NULL;
  rw_init(&f->lock);
  family_list_add(f);
  return f;
}

static void family_release(family_t* f) {
  if (atomic_fetch_sub(&f->refs, 1) != 1) return;
  family_list_remove(f);
  ZX_ASSERT(f->members == NULL && f->member_count == 0 && f->pending == NULL);
  if (f->source) {
    vmo_pager_unregister(f);
    source_unref(f->source);
  }
  zr_free(&f->zr);
  rw_destroy(&f->lock);
  os_free(f);
}

static void vmo_destroy(zx_object_t* obj) {
  vmo_t* v = vmo_from_obj(obj);
  // Empty on free: a VMO is released only when nothing links to it any more.
  ZX_ASSERT(!v->alive && !v->member);
  ZX_ASSERT(v->map.root == NULL && v->children == NULL && v->num_children == 0);
  ZX_ASSERT(v->slices == NULL && v->oneway_children == NULL && v->backing == NULL);
  ZX_ASSERT(!v->pending && v->drops == 0);
  family_t* f = v->fam;
  pthread_mutex_destroy(&v->obj.lock);
  os_free(v);
  atomic_fetch_sub(&g_vmos_alive, 1);
  family_release(f);
}

static void vmo_on_zero_handles(zx_object_t* obj);

const object_ops_t g_vmo_ops = {
    .type = ZX_OBJ_TYPE_VMO,
    .waitable = true,
    .user_settable = 0,
    .on_zero_handles = vmo_on_zero_handles,
    .destroy = vmo_destroy,
};

static vmo_t* vmo_alloc(family_t* fam, vmo_kind_t kind) {
  vmo_t* v = os_calloc(1, sizeof(*v));
  if (!v) return NULL;
  object_init(&v->obj, &g_vmo_ops, ZX_VMO_ZERO_CHILDREN);
  v->fam = fam;
  v->kind = kind;
  v->alive = true;
  atomic_fetch_add(&fam->refs, 1);
  atomic_fetch_add(&g_vmos_alive, 1);
  return v;
}

static void member_add_locked(vmo_t* v) {
  family_assert_exclusive(v->fam);
  VLIST_PUSH(v->fam->members, v, fm);
  v->fam->member_count++;
  v->member = true;
}

static void member_remove_locked(vmo_t* v) {
  family_assert_exclusive(v->fam);
  home_owner_gone(v);
  VLIST_REMOVE(v->fam->members, v, fm);
  v->fam->member_count--;
  v->member = false;
}

zx_status_t vmo_create(uint64_t size, uint64_t content_size, bool resizable, vmo_t** out) {
  ZX_ASSERT(page_aligned(size) && size <= VMO_MAX_SIZE);
  family_t* fam = family_new();
  if (!fam) return ZX_ERR_NO_MEMORY;
  vmo_t* v = vmo_alloc(fam, VMO_ROOT);
  if (!v) {
    atomic_fetch_add(&fam->refs, 1);
    family_release(fam);
    return ZX_ERR_NO_MEMORY;
  }
  v->resizable = resizable;
  v->size = size;
  v->content_size = content_size;
  family_wrlock(fam);
  member_add_locked(v);
  vmo_after_op_locked(fam);
  family_unlock(fam);
  *out = v;
  return ZX_OK;
}

static void update_zero_children_locked(vmo_t* v) {
  family_assert_exclusive(v->fam);
  if (v->num_children == 0) {
    object_update_signals(&v->obj, 0, ZX_VMO_ZERO_CHILDREN);
  } else {
    object_update_signals(&v->obj, ZX_VMO_ZERO_CHILDREN, 0);
  }
}

static void child_link_locked(vmo_t* parent, vmo_t* child) {
  family_assert_exclusive(parent->fam);
  child->parent = parent;
  VLIST_PUSH(parent->children, child, sib);
  parent->num_children++;
}

static void child_unlink_locked(vmo_t* child) {
  family_assert_exclusive(child->fam);
  vmo_t* p = child->parent;
  VLIST_REMOVE(p->children, child, sib);
  p->num_children--;
  child->parent = NULL;
}


static bool merge_into_oneway_child_locked(vmo_t* v, vmo_t* ch);
static void pending_add_locked(vmo_t* v);

// SNAPSHOT_MODIFIED of one-way clone `p` in a pager family: new child `c` (base set,
// window up to `c_end`) holds a snapshot of every page p shows that the pager VMO
// does not (p's own pages, and those of the one-way VMOs between p and the pager VMO),
// shared copy-on-write, and looks through to the pager VMO for the rest, seeing at
// most what p sees. False if metadata memory ran out: c is then empty and unlinked.
static bool modified_child_locked(vmo_t* p, vmo_t* c, uint64_t c_end) {
  family_assert_exclusive(p->fam);
  uint64_t p_end = p->base + vmo_pages(p);
  // p's pages are about to be shared: p's mappings must copy before writing (H4).
  if (p->home && !home_write_protect(p->home, c->base, c_end)) return false;
  if (p->map.root && !pmap_clone_range(&c->map, &p->map, c->base, min_u64(c_end, p_end))) {
    return false;
  }
  // Walk up the chain, adding what each one-way VMO shows through below the cut so far.
  uint64_t cut = max_u64(c->base, min_u64(c_end, min_u64(p_end, p->cut)));
  vmo_t* b = p->backing;
  while (b && !vmo_is_pager_root(b)) {
    c->backing = b;
    c->cut = cut;
    if (!merge_into_oneway_child_locked(b, c)) {
      c->backing = NULL;
      pmap_destroy(&c->map);
      return false;
    }
    cut = max_u64(c->base, min_u64(cut, b->cut));
    b = b->backing;
  }
  c->backing = b;
  c->cut = b ? cut : c->base;
  if (b) {
    object_ref(&b->obj);
    VLIST_PUSH(b->oneway_children, c, ow);
  }
  return true;
}

// The first checks of a copy-on-write child that concern driver memory
// (docs/behavior.md §4 rule 7, §15): a physical, contiguous or uncached parent.
static zx_status_t driver_child_check_locked(const vmo_t* p) {
  if (p->physical) return ZX_ERR_NOT_SUPPORTED;
  if (p->contiguous) return ZX_ERR_INVALID_ARGS;
  if (p->cache_policy != ZX_CACHE_POLICY_CACHED) return ZX_ERR_BAD_STATE;
  return ZX_OK;
}

zx_status_t vmo_create_window(vmo_t* r, uint64_t off_pages, uint64_t size, vmo_t** out) {
  ZX_ASSERT(r->kind != VMO_SLICE && !r->resizable && page_aligned(size));
  family_t* fam = r->fam;
  vmo_t* c = vmo_alloc(fam, VMO_SLICE);
  if (!c) return ZX_ERR_NO_MEMORY;
  family_wrlock(fam);
  c->size = size;
  c->content_size = size;
  c->root = r;
  c->slice_off = off_pages;
  object_ref(&r->obj);
  VLIST_PUSH(r->slices, c, sl);
  vmo_after_op_locked(fam);
  family_unlock(fam);
  *out = c;
  return ZX_OK;
}

zx_status_t vmo_create_child(vmo_t* p, const vmo_child_args_t* a, vmo_t** out) {
  family_t* fam = p->fam;
  zx_status_t st = ZX_OK;
  vmo_t* c = NULL;
  family_wrlock(fam);
  if (!p->alive) {
    st = ZX_ERR_BAD_HANDLE;
    goto out;
  }
  vmo_kind_t kind = a->kind;
  // A child of a reference is a child of the content it references (its root), as on
  // Zircon where both share one set of pages; only the user tree names the reference.
  vmo_t* src = p->reference ? p->root : p;
  if (kind == VMO_SLICE && a->reference) {
    // Zircon's order: the range, a slice (or physical) parent, a contiguous parent,
    // RESIZABLE of a fixed-size parent, then an uncached parent.
    if (a->offset != 0 || a->size != 0) {
      st = ZX_ERR_INVALID_ARGS;
    } else if ((p->kind == VMO_SLICE && !p->reference) || p->contiguous) {
      st = ZX_ERR_NOT_SUPPORTED;
    } else if (a->resizable && !p->resizable) {
      st = ZX_ERR_NOT_SUPPORTED;
    } else if (p->cache_policy != ZX_CACHE_POLICY_CACHED) {
      st = ZX_ERR_BAD_STATE;
    }
    if (st != ZX_OK) goto out;
  } else if (kind == VMO_SLICE) {
    // Wholly inside the parent; overflow of offset + size counts as outside.
    if (a->offset > p->size || a->size > p->size - a->offset) {
      st = ZX_ERR_INVALID_ARGS;
      goto out;
    }
    if (p->resizable) {
      st = ZX_ERR_NOT_SUPPORTED;
      goto out;
    }
    // Uncached memory is sliced only where it is driver memory, as on Zircon.
    if (p->cache_policy != ZX_CACHE_POLICY_CACHED && !p->contiguous && !p->physical) {
      st = ZX_ERR_BAD_STATE;
      goto out;
    }
  } else if ((st = driver_child_check_locked(p)) != ZX_OK) {
    goto out;
  } else {
    // SNAPSHOT_MODIFIED is SNAPSHOT outside pager families; inside one it is
    // SNAPSHOT_AT_LEAST_ON_WRITE, except that a one-way clone's child also gets a
    // snapshot of the pages the clone changed (modified_child_locked).
    bool at_least = a->at_least_on_write || (a->modified && fam->source);
    // A slice's copy-on-write children exist only below a pager VMO, and only
    // SNAPSHOT_AT_LEAST_ON_WRITE, as on Zircon: one-way children of the slice's root
    // that see no further than the slice's window.
    if (p->kind == VMO_SLICE && !p->reference && (!fam->source || !at_least)) {
      st = ZX_ERR_NOT_SUPPORTED;
      goto out;
    }
    if (src->kind == VMO_ONEWAY || fam->source) {
      // A VMO that sees a live parent, or whose pages a pager supplies, cannot be
      // copied eagerly in O(1); as Zircon does for pager-backed VMOs, SNAPSHOT is
      // refused and SNAPSHOT_AT_LEAST_ON_WRITE gives a one-way clone.
      if (kind == VMO_SNAPSHOT && !at_least) {
        st = ZX_ERR_NOT_SUPPORTED;
        goto out;
      }
      kind = VMO_ONEWAY;
    }
    // An eager copy shares the parent's pages, and a pinned page must stay its VMO's
    // own: refused while any page is pinned, as on Zircon.
    uint64_t pin_idx0;
    vmo_t* pin_c = vmo_content(p, &pin_idx0);
    if (kind == VMO_SNAPSHOT && vmo_pinned_locked(pin_c, pin_idx0, pin_idx0 + vmo_pages(p))) {
      st = ZX_ERR_BAD_STATE;
      goto out;
    }
    // The accumulated offset from the family's origin, and the child's end, must fit
    // in 64 bits (Zircon refuses the clone otherwise).
    uint64_t p_idx0;
    (void)vmo_content(p, &p_idx0);
    uint64_t base_bytes = p_idx0 << PAGE_SHIFT;
    if (a->offset > UINT64_MAX - base_bytes ||
        a->size > UINT64_MAX - (base_bytes + a->offset)) {
      st = ZX_ERR_INVALID_ARGS;
      goto out;
    }
  }
  if (a->out_is_null) {
    st = ZX_ERR_INVALID_ARGS;
    goto out;
  }
  c = vmo_alloc(fam, kind);
  if (!c) {
    st = ZX_ERR_NO_MEMORY;
    goto out;
  }
  // A reference is resizable exactly when what it references is (Zircon ignores
  // whether RESIZABLE was asked for beyond the check above).
  c->resizable = a->reference ? src->resizable : a->resizable;
  c->reference = a->reference;
  c->legacy = a->legacy;
  // Zircon marks only children asked for with the SNAPSHOT bit itself.
  c->immutable = kind == VMO_SNAPSHOT && a->no_write && !a->at_least_on_write;
  c->size = a->reference ? src->size : a->size;
  c->content_size = a->content_size;  // unused by references (vmo_csm)
  uint64_t np = a->size >> PAGE_SHIFT;
  if (kind == VMO_SLICE) {
    vmo_t* r = p->kind == VMO_SLICE ? p->root : p;
    c->root = r;
    c->slice_off = (p->kind == VMO_SLICE ? p->slice_off : 0) + (a->offset >> PAGE_SHIFT);
    // A slice of driver memory is driver memory, at its own place in it.
    c->physical = p->physical;
    c->contiguous = p->contiguous;
    c->paddr = p->paddr + a->offset;
    c->cache_policy = p->cache_policy;
    object_ref(&r->obj);
    VLIST_PUSH(r->slices, c, sl);
    if (c->reference) r->nrefs++;
  } else {
    // Below a slice, the content seen is its root's, within the slice's window.
    uint64_t p_idx0;
    vmo_t* pc = vmo_content(p, &p_idx0);
    c->base = p_idx0 + (a->offset >> PAGE_SHIFT);
    uint64_t p_end = p_idx0 + vmo_pages(p);
    uint64_t c_end = c->base + np;
    if (kind == VMO_SNAPSHOT) {
      // The parent's mapped pages are about to be shared: its mappings must copy
      // before they write (home.h, H4). Protected first, so that a failure changes
      // nothing a program can see; a write racing in meanwhile faults and waits for
      // this lock.
      bool ok = !src->home || home_write_protect(src->home, c->base, c_end);
      if (ok && c->base <= src->base && p_end <= c_end && src->map.root) {
        // The parent's pages all lie inside the child's window: share the root.
        c->map.root = src->map.root;
        c->map.root->refs++;
      } else if (ok) {
        ok = pmap_clone_range(&c->map, &src->map, c->base, c_end);
      }
      if (!ok) {
        // Nothing links to c yet: it goes as it came (the family outlives it, p
        // holds a reference).
        c->alive = false;
        object_unref(&c->obj);
        c = NULL;
        st = ZX_ERR_NO_MEMORY;
        goto out;
      }
    } else if (a->modified && src->kind == VMO_ONEWAY) {
      if (!modified_child_locked(src, c, c_end)) {
        c->alive = false;
        object_unref(&c->obj);
        c = NULL;
        st = ZX_ERR_NO_MEMORY;
        goto out;
      }
    } else {
      c->backing = pc;
      object_ref(&pc->obj);
      VLIST_PUSH(pc->oneway_children, c, ow);
      c->cut = max_u64(c->base, min_u64(c_end, p_end));
      // A dead VMO kept for its slices (a reference's root whose handles are closed)
      // has no one-way children once settled: settling hands c what it sees
      // through pc, and looks it through pc's own backing.
      if (!pc->alive) pending_add_locked(pc);
    }
    member_add_locked(c);
  }
  if (a->copy_name) {
    char name[ZX_MAX_NAME_LEN];
    object_get_name(&p->obj, name);
    object_set_name(&c->obj, name, sizeof(name));
  }
  child_link_locked(p, c);
  update_zero_children_locked(p);
  *out = c;
out:
  vmo_after_op_locked(fam);
  family_unlock(fam);
  return st;
}

// ---- Death ----
//
// A VMO dies when its last handle is closed. Dying itself (the user tree re-homed,
// signals updated) cannot fail. What the dead VMO's content owes the others is done
// by settling it, which may need metadata memory:
//   - each one-way child takes over, by reference, the pages it saw through it, and
//     then looks through the dead VMO's own backing;
//   - if slices still window it, it keeps only the pages they see (and its backing);
//   - otherwise its pages are released and it leaves the family's members.
// Settling is idempotent and can stop at any point with the family consistent: a dead
// VMO not yet settled (`pending`, on fam->pending) keeps its map and its one-way
// children keep looking through it, so every VMO reads exactly what it should. If
// metadata memory runs out, settling resumes after the next exclusive operation on
// the family (vmo_after_op_locked), so closing a handle never fails.
//
// References. A one-way child holds one on its backing, a slice on its root. They are
// dropped (fam->drops, with a count per VMO) only once settling is done for this
// round: by then every dead VMO still referenced by a link is either released,
// trimmed for its slices, or pending with a link that still holds it, so a drop that
// frees a VMO frees an empty one. The caller of any operation holds a reference on a
// VMO of the family, so no drop frees the family whose lock is held.

static void pending_add_locked(vmo_t* v) {
  family_assert_exclusive(v->fam);
  ZX_ASSERT(!v->alive && v->member);
  if (v->pending) return;
  v->pending = true;
  VLIST_PUSH(v->fam->pending, v, pd);
}

static void pending_remove_locked(vmo_t* v) {
  if (!v->pending) return;
  VLIST_REMOVE(v->fam->pending, v, pd);
  v->pending = false;
}

// Queues the drop of one reference on `v`, made when settling is done.
static void drop_later_locked(vmo_t* v) {
  family_t* fam = v->fam;
  if (v->drops++ == 0) {
    v->drop_next = fam->drops;
    fam->drops = v;
  }
}

// Adds to one-way child `ch` the pages of dead `v` that ch sees through it: those in
// [ch->base, ch->cut) where ch's own map has nothing. False if metadata memory ran
// out: what was added so far is what ch saw through v anyway, so nothing changed.
static bool merge_into_oneway_child_locked(vmo_t* v, vmo_t* ch) {
  family_assert_exclusive(v->fam);
  uint64_t lo = ch->base;
  uint64_t hi = min_u64(ch->cut, ch->base + vmo_pages(ch));
  if (lo >= hi || !v->map.root) return true;
  // A dead VMO kept for its slices may still be mapped through them (H4).
  if (v->home && !home_write_protect(v->home, lo, hi)) return false;
  if (!ch->map.root) return pmap_clone_range(&ch->map, &v->map, lo, hi);
  uint64_t i = lo;
  page_t* pg;
  while ((pg = pmap_next(&v->map, &i, hi)) != NULL) {
    if (!pmap_lookup(&ch->map, i)) {
      pnode_t* leaf = pmap_leaf_for_write(&ch->map, i);
      if (!leaf) return false;
      page_ref(pg);
      pmap_leaf_set(leaf, (unsigned)(i & PMAP_SLOT_MASK), pg);
    }
    if (++i == 0) break;
  }
  return true;
}

// Sorts r's slice list by offset in place (a merge sort of the linked list: no
// allocation, O(n log n)).
static void sort_slices_locked(vmo_t* r) {
  vmo_t* list = r->slices;
  for (size_t width = 1;; width *= 2) {
    vmo_t* head = NULL;
    vmo_t** tail = &head;
    size_t merges = 0;
    vmo_t* a = list;
    while (a) {
      merges++;
      vmo_t* b = a;
      size_t na = 0;
      while (b && na < width) {
        b = b->sl.next;
        na++;
      }
      size_t nb = width;
      while (na > 0 || (nb > 0 && b)) {
        vmo_t* e;
        if (na == 0 || (nb > 0 && b && b->slice_off < a->slice_off)) {
          e = b;
          b = b->sl.next;
          nb--;
        } else {
          e = a;
          a = a->sl.next;
          na--;
        }
        *tail = e;
        tail = &e->sl.next;
      }
      a = b;
    }
    *tail = NULL;
    list = head;
    if (merges <= 1) break;
  }
  vmo_t* prev = NULL;
  for (vmo_t* x = list; x; x = x->sl.next) {
    x->sl.prev = prev;
    prev = x;
  }
  r->slices = list;
}

// `r` is dead and kept for its slices: drops every page no slice can see. False if
// metadata memory ran out (some gaps may be done: each removal is whole).
static bool trim_to_slices_locked(vmo_t* r) {
  family_assert_exclusive(r->fam);
  sort_slices_locked(r);
  uint64_t at = r->base;
  for (vmo_t* s = r->slices; s; s = s->sl.next) {
    uint64_t lo = r->base + s->slice_off;
    if (lo > at && !pmap_remove_range(&r->map, at, lo)) return false;
    at = max_u64(at, lo + vmo_pages(s));
  }
  return pmap_remove_range(&r->map, at, r->base + vmo_pages(r));
}

// One step of settling dead member `v` (see "Death" above). False if metadata memory
// ran out; v then stays pending.
static bool settle_one_locked(vmo_t* v) {
  family_assert_exclusive(v->fam);
  ZX_ASSERT(!v->alive && v->member);
  if (vmo_is_pager_root(v) && (v->oneway_children || v->slices)) {
    // Its children still see the pager's pages through it, absent ones included: it
    // stays whole until the last of them is gone (then it is pending again).
    pending_remove_locked(v);
    return true;
  }
  vmo_t* b = v->backing;
  while (v->oneway_children) {
    vmo_t* ch = v->oneway_children;
    if (!merge_into_oneway_child_locked(v, ch)) return false;
    VLIST_REMOVE(v->oneway_children, ch, ow);
    if (b) {
      ch->backing = b;
      ch->cut = max_u64(ch->base, min_u64(ch->cut, v->cut));
      object_ref(&b->obj);
      VLIST_PUSH(b->oneway_children, ch, ow);
    } else {
      ch->backing = NULL;
      ch->cut = ch->base;
    }
    drop_later_locked(v);
    // A dead one-way child kept for its slices holds only what they can see.
    if (!ch->alive) pending_add_locked(ch);
  }
  if (v->slices) {
    // Its slices keep its pages, and keep looking through its backing.
    if (!trim_to_slices_locked(v)) return false;
  } else {
    if (b) {
      VLIST_REMOVE(b->oneway_children, v, ow);
      v->backing = NULL;
      v->cut = v->base;
      drop_later_locked(b);
      // A dead backing is pending itself (its children are not all merged yet),
      // except a pager VMO kept for its children: one fewer may free it.
      if (!b->alive) pending_add_locked(b);
    }
    if (vmo_is_pager_root(v)) zr_free(&v->fam->zr);  // its zero ranges go with it
    pmap_destroy(&v->map);
    member_remove_locked(v);
  }
  pending_remove_locked(v);
  return true;
}

// Settles every pending VMO of the family that memory allows, then drops the
// references that settling released.
void family_settle_locked(family_t* fam) {
  family_assert_exclusive(fam);
  bool progress = true;
  while (fam->pending && progress) {
    progress = false;
    vmo_t* next;
    for (vmo_t* v = fam->pending; v; v = next) {
      next = v->pd.next;  // settling v may queue others, at the head
      if (settle_one_locked(v)) progress = true;
    }
  }
  while (fam->drops) {
    vmo_t* v = fam->drops;
    fam->drops = v->drop_next;
    uint64_t n = v->drops;
    v->drops = 0;
    v->drop_next = NULL;
    // May free v (an empty VMO by now); never the family, which the caller's own
    // reference keeps alive.
    while (n-- > 0) {
      ZX_ASSERT(atomic_load(&v->obj.refs) > 1 || atomic_load(&fam->refs) > 1);
      object_unref(&v->obj);
    }
  }
}

// The VMO's last handle was closed: it dies, and is settled as far as memory allows.
static void vmo_on_zero_handles(zx_object_t* obj) {
  vmo_t* v = vmo_from_obj(obj);
  family_t* fam = v->fam;
  family_wrlock(fam);
  ZX_ASSERT(v->alive);
  v->alive = false;
  // No more pager service once the pager VMO is closed: its children keep the pages
  // it holds, and fail where it has none (Zircon sends COMPLETE here too).
  // A reference to it keeps the service going (on Zircon it shares the pages and their
  // source): then the detach waits for the last reference (below).
  if (vmo_is_pager_root(v) && v->nrefs == 0) source_detach(fam->source, true);

  vmo_discard_unlist_locked(v);

  // User tree: re-home the children to our parent.
  vmo_t* gp = v->parent;
  while (v->children) {
    vmo_t* ch = v->children;
    child_unlink_locked(ch);
    if (gp) child_link_locked(gp, ch);
  }
  if (gp) {
    child_unlink_locked(v);
    update_zero_children_locked(gp);
  }

  if (v->kind == VMO_SLICE) {
    vmo_t* r = v->root;
    VLIST_REMOVE(r->slices, v, sl);
    if (v->reference) r->nrefs--;
    // The pager serves a pager VMO while it or a reference to it is open.
    if (v->reference && !r->alive && r->nrefs == 0 && vmo_is_pager_root(r)) {
      source_detach(fam->source, true);
    }
    if (!r->alive) pending_add_locked(r);  // fewer slices: less to keep
    drop_later_locked(r);
  } else {
    pending_add_locked(v);
  }
  vmo_after_op_locked(fam);  // settles
  family_unlock(fam);
}
