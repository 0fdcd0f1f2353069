// ZX_INFO_VMO and memory attribution.
//
// Attribution (docs/behavior.md §10). A page seen by N VMOs counts fully in each one's
// committed_bytes, in committed_private_bytes only when N == 1, and as PAGE/N in
// committed_scaled_bytes, the remainder in committed_fractional_scaled_bytes (1<<63 is
// one byte). N is found by walking the family once: every map root reaching a node
// adds one path to it, paths flow down the shared DAG level by level (no recursion),
// and a page's N is the sum of the paths of the leaves holding it, plus one for each
// one-way VMO that sees it through its backing. Cost: O(nodes + pages) of the family.
#include <string.h>

#include <zircon/syscalls/object.h>

#include "family_walk.h"
#include "os.h"


// What a one-way VMO sees through its backing: (index, page) pairs sorted by index,
// markers included (they hide what lies further down the chain).
typedef struct vis_entry {
  uint64_t idx;
  page_t* p;
} vis_entry_t;

typedef struct vis_vec {
  vis_entry_t* v;
  size_t n, cap;
} vis_vec_t;

static bool vis_push(vis_vec_t* a, uint64_t idx, page_t* p) {
  if (a->n == a->cap) {
    size_t cap = a->cap ? a->cap * 2 : 16;
    vis_entry_t* nv = os_realloc(a->v, cap * sizeof(*nv));
    if (!nv) return false;
    a->v = nv;
    a->cap = cap;
  }
  a->v[a->n].idx = idx;
  a->v[a->n].p = p;
  a->n++;
  return true;
}

// Computes m->through from its backing b: b's own pages in m's visible range
// [base, min(cut, end)), and where b has none, what b sees through its own backing
// (b->through, computed first). Cost O(what it yields + log), never a chain walk.
static bool compute_through_locked(vmo_t* m) {
  vmo_t* b = m->backing;
  uint64_t lo = m->base;
  uint64_t hi = min_u64(m->cut, m->base + vmo_pages(m));
  vis_vec_t out = {NULL, 0, 0};
  // First entry of b->through at or after lo.
  size_t kn = b->through_n;
  size_t l = 0, r = kn;
  while (l < r) {
    size_t mid = l + (r - l) / 2;
    if (b->through[mid].idx < lo) {
      l = mid + 1;
    } else {
      r = mid;
    }
  }
  size_t k = l;
  uint64_t i = lo;
  page_t* own = lo < hi ? pmap_next(&b->map, &i, hi) : NULL;
  for (;;) {
    bool have_t = k < kn && b->through[k].idx < hi;
    if (!own && !have_t) break;
    bool ok;
    if (own && (!have_t || i <= b->through[k].idx)) {
      if (have_t && b->through[k].idx == i) k++;  // b's own page hides it
      ok = vis_push(&out, i, own);
      i++;
      own = i < hi && i != 0 ? pmap_next(&b->map, &i, hi) : NULL;
    } else {
      ok = vis_push(&out, b->through[k].idx, b->through[k].p);
      k++;
    }
    if (!ok) {
      os_free(out.v);
      return false;
    }
  }
  m->through = out.v;
  m->through_n = out.n;
  return true;
}

// Whether m sees entry e of its `through` list: m has no page of its own there, the
// entry is a real page, and a dead m (kept for its slices) sees only their windows.
static bool through_visible_locked(const vmo_t* m, const vis_entry_t* e) {
  if (page_is_marker(e->p) || pmap_lookup(&m->map, e->idx)) return false;
  if (m->alive) return true;
  for (const vmo_t* s = m->slices; s; s = s->sl.next) {
    uint64_t slo = m->base + s->slice_off;
    if (e->idx >= slo && e->idx < slo + vmo_pages(s)) return true;
  }
  return false;
}

// Fills every one-way member's `through` list, backings before their children (a
// breadth-first walk down the one-way links: no chain is walked twice). `order`
// receives the members in that order.
static bool through_all_locked(family_t* fam, vmo_t** order) {
  size_t n = 0;
  for (vmo_t* m = fam->members; m; m = m->fm.next) {
    if (!m->backing) order[n++] = m;
  }
  for (size_t k = 0; k < n; k++) {
    for (vmo_t* c = order[k]->oneway_children; c; c = c->ow.next) order[n++] = c;
  }
  ZX_ASSERT(n == fam->member_count);
  for (size_t k = 0; k < n; k++) {
    if (order[k]->backing && !compute_through_locked(order[k])) return false;
  }
  return true;
}

static void through_free_locked(family_t* fam) {
  for (vmo_t* m = fam->members; m; m = m->fm.next) {
    os_free(m->through);
    m->through = NULL;
    m->through_n = 0;
  }
}

typedef struct attribution {
  uint64_t committed, priv, scaled, frac;
} attribution_t;

static void attribute_page(page_t* p, attribution_t* a) {
  uint64_t n = p->u.s.count;
  ZX_ASSERT(n >= 1);
  a->committed += PAGE_SIZE;
  if (n == 1) a->priv += PAGE_SIZE;
  a->scaled += PAGE_SIZE / n;
  // The remainder as a 63-bit fraction of a byte; carries go to whole bytes.
  unsigned __int128 rem = (unsigned __int128)(PAGE_SIZE % n) << 63;
  uint64_t frac = (uint64_t)(rem / n);
  a->frac += frac;
  if (a->frac >= ((uint64_t)1 << 63)) {
    a->frac -= (uint64_t)1 << 63;
    a->scaled += 1;
  }
}

static zx_status_t attribute_locked(vmo_t* v, attribution_t* a) {
  family_assert_exclusive(v->fam);
  memset(a, 0, sizeof(*a));
  if (v->kind == VMO_SLICE) return ZX_OK;
  family_t* fam = v->fam;
  dag_t d;
  bool ok = dag_walk_locked(fam, &d);
  dag_free(&d);
  if (!ok) return ZX_ERR_NO_MEMORY;
  vmo_t** order = os_malloc(fam->member_count * sizeof(*order));
  if (!order) return ZX_ERR_NO_MEMORY;
  ok = through_all_locked(fam, order);
  if (ok) {
    for (vmo_t* m = fam->members; m; m = m->fm.next) {
      for (size_t k = 0; k < m->through_n; k++) {
        if (through_visible_locked(m, &m->through[k])) m->through[k].p->u.s.count++;
      }
    }
    uint64_t i = v->base;
    uint64_t end = v->base + vmo_pages(v);
    page_t* p;
    while (i < end && (p = pmap_next(&v->map, &i, end)) != NULL) {
      if (!page_is_marker(p)) attribute_page(p, a);
      i++;
    }
    for (size_t k = 0; k < v->through_n; k++) {
      if (through_visible_locked(v, &v->through[k])) attribute_page(v->through[k].p, a);
    }
  }
  through_free_locked(fam);
  os_free(order);
  return ok ? ZX_OK : ZX_ERR_NO_MEMORY;
}

zx_status_t vmo_get_info(zx_object_t* obj, zx_rights_t rights, uint32_t topic, void* buffer,
                         size_t buffer_size, size_t* actual, size_t* avail) {
  size_t want;
  switch (topic) {
    case ZX_INFO_VMO_V1: want = sizeof(zx_info_vmo_v1_t); break;
    case ZX_INFO_VMO_V2: want = sizeof(zx_info_vmo_v2_t); break;
    case ZX_INFO_VMO_V3: want = sizeof(zx_info_vmo_v3_t); break;
    case ZX_INFO_VMO:
      want = sizeof(zx_info_vmo_t);
      // A caller built against an older, shorter layout gets that prefix.
      if (buffer_size == sizeof(zx_info_vmo_v1_t) || buffer_size == sizeof(zx_info_vmo_v2_t) ||
          buffer_size == sizeof(zx_info_vmo_v3_t)) {
        want = buffer_size;
      }
      break;
    default: return ZX_ERR_INVALID_ARGS;
  }
  if (avail) *avail = 1;
  if (buffer_size < want) {
    if (actual) *actual = 0;
    return ZX_ERR_BUFFER_TOO_SMALL;
  }
  if (!buffer) return ZX_ERR_INVALID_ARGS;  // where Zircon's copy-out would fault
  vmo_t* v = vmo_from_obj(obj);
  zx_info_vmo_t info;
  memset(&info, 0, sizeof(info));
  family_wrlock(v->fam);
  attribution_t a;
  // A VMO whose last handle was closed while this call ran is gone, as if first.
  zx_status_t st = v->alive ? attribute_locked(v, &a) : ZX_ERR_BAD_HANDLE;
  if (st == ZX_OK) {
    info.koid = v->obj.koid;
    object_get_name(&v->obj, info.name);
    info.size_bytes = v->size;
    info.parent_koid = v->parent ? v->parent->obj.koid : ZX_KOID_INVALID;
    info.num_children = v->num_children;
    info.num_mappings = 0;
    info.share_count = 1;  // Zircon: 1 unless mapped into two or more address spaces
    info.flags = ZX_INFO_VMO_TYPE_PAGED | ZX_INFO_VMO_VIA_HANDLE;
    if (v->resizable) info.flags |= ZX_INFO_VMO_RESIZABLE;
    if ((v->kind == VMO_SNAPSHOT || v->kind == VMO_ONEWAY) && v->parent) {
      info.flags |= ZX_INFO_VMO_IS_COW_CLONE;
    }
    if (v->immutable) info.flags |= ZX_INFO_VMO_IMMUTABLE;
    info.committed_bytes = a.committed;
    info.handle_rights = rights;
    info.cache_policy = ZX_CACHE_POLICY_CACHED;
    info.metadata_bytes = v->kind == VMO_SLICE ? 0 : pmap_count_nodes(v->map.root) * sizeof(pnode_t);
    info.committed_change_events = 0;
    info.populated_bytes = a.committed;
    info.committed_private_bytes = a.priv;
    info.populated_private_bytes = a.priv;
    info.committed_scaled_bytes = a.scaled;
    info.populated_scaled_bytes = a.scaled;
    info.committed_fractional_scaled_bytes = a.frac;
    info.populated_fractional_scaled_bytes = a.frac;
  }
  family_unlock(v->fam);
  if (st != ZX_OK) return st;
  memcpy(buffer, &info, want);
  if (actual) *actual = 1;
  return ZX_OK;
}
