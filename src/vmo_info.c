// What the library tells about VMOs: ZX_INFO_VMO with memory attribution, the
// content-size property, the invariant checker, the debug dump and the counters.
//
// Attribution (docs/behavior.md §10). A page seen by N VMOs counts fully in each one's
// committed_bytes, in committed_private_bytes only when N == 1, and as PAGE/N in
// committed_scaled_bytes, the remainder in committed_fractional_scaled_bytes (1<<63 is
// one byte). N is found by walking the family once: every map root reaching a node
// adds one path to it, paths flow down the shared DAG level by level (no recursion),
// and a page's N is the sum of the paths of the leaves holding it, plus one for each
// one-way VMO that sees it through its backing. Cost: O(nodes + pages) of the family.
#include <stdatomic.h>
#include <string.h>

#include <zircon/syscalls/object.h>
#include <zxvmo.h>

#include "handle.h"
#include "vmo.h"


// A growable array of nodes, one per tree level.
typedef struct node_vec {
  pnode_t** v;
  size_t n, cap;
} node_vec_t;

static bool vec_push(node_vec_t* a, pnode_t* x) {
  if (a->n == a->cap) {
    size_t cap = a->cap ? a->cap * 2 : 64;
    pnode_t** nv = realloc(a->v, cap * sizeof(*nv));
    if (!nv) return false;
    a->v = nv;
    a->cap = cap;
  }
  a->v[a->n++] = x;
  return true;
}

typedef struct dag {
  node_vec_t level[PMAP_MAX_LEVELS + 1];
  uint64_t epoch;
} dag_t;

static void dag_free(dag_t* d) {
  for (unsigned l = 0; l <= PMAP_MAX_LEVELS; l++) free(d->level[l].v);
}

// Visits every distinct node of the family once, top level first. For each node,
// `paths` ends up as the number of map roots reaching it and `epoch` as d->epoch.
// Each page's u.s.count becomes the number of (root, leaf slot) paths reaching it.
// Returns false on allocation failure.
static bool dag_walk_locked(family_t* fam, dag_t* d) {
  family_assert_exclusive(fam);
  memset(d, 0, sizeof(*d));
  d->epoch = ++fam->epoch;
  for (vmo_t* m = fam->members; m; m = m->fm.next) {
    pnode_t* r = m->map.root;
    if (!r) continue;
    if (r->epoch != d->epoch) {
      r->epoch = d->epoch;
      r->paths = 0;
      if (!vec_push(&d->level[r->level], r)) return false;
    }
    r->paths++;
  }
  for (unsigned l = PMAP_MAX_LEVELS; l > 0; l--) {
    node_vec_t* lv = &d->level[l];
    for (size_t k = 0; k < lv->n; k++) {
      pnode_t* n = lv->v[k];
      for (unsigned s = 0; s < PMAP_FANOUT; s++) {
        pnode_t* c = n->slot[s];
        if (!c) continue;
        if (c->epoch != d->epoch) {
          c->epoch = d->epoch;
          c->paths = 0;
          if (!vec_push(&d->level[l - 1], c)) return false;
        }
        c->paths += n->paths;
      }
    }
  }
  node_vec_t* leaves = &d->level[0];
  for (size_t k = 0; k < leaves->n; k++) {
    pnode_t* n = leaves->v[k];
    for (unsigned s = 0; s < PMAP_FANOUT; s++) {
      page_t* p = n->slot[s];
      if (!p || page_is_marker(p)) continue;
      if (p->u.s.epoch != d->epoch) {
        p->u.s.epoch = d->epoch;
        p->u.s.count = 0;
      }
      p->u.s.count += n->paths;
    }
  }
  return true;
}

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
    vis_entry_t* nv = realloc(a->v, cap * sizeof(*nv));
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
      free(out.v);
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
    free(m->through);
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
  vmo_t** order = malloc(fam->member_count * sizeof(*order));
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
  free(order);
  return ok ? ZX_OK : ZX_ERR_NO_MEMORY;
}

static uint64_t count_nodes(const pnode_t* root) {
  // Iterative walk with an explicit stack bounded by the tree height.
  const pnode_t* stack[PMAP_MAX_LEVELS + 1];
  unsigned pos[PMAP_MAX_LEVELS + 1];
  if (!root) return 0;
  uint64_t n = 1;
  int sp = 0;
  stack[0] = root;
  pos[0] = 0;
  while (sp >= 0) {
    const pnode_t* x = stack[sp];
    if (x->level == 0 || pos[sp] == PMAP_FANOUT) {
      sp--;
      continue;
    }
    const pnode_t* c = x->slot[pos[sp]++];
    if (c) {
      n++;
      stack[++sp] = c;
      pos[sp] = 0;
    }
  }
  return n;
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
    info.metadata_bytes = v->kind == VMO_SLICE ? 0 : count_nodes(v->map.root) * sizeof(pnode_t);
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

zx_status_t vmo_get_content_size(zx_object_t* obj, uint64_t* out) {
  vmo_t* v = vmo_from_obj(obj);
  family_rdlock(v->fam);
  *out = v->content_size;
  family_unlock(v->fam);
  return ZX_OK;
}

zx_status_t vmo_set_content_size(zx_object_t* obj, uint64_t size) {
  vmo_t* v = vmo_from_obj(obj);
  family_wrlock(v->fam);
  zx_status_t st = v->alive ? ZX_OK : ZX_ERR_BAD_HANDLE;
  // Zircon allows a content size past the VMO's size; one below it zeroes the rest.
  if (st == ZX_OK && size < v->size) st = vmo_zero_locked(v, size, v->size - size);
  if (st == ZX_OK) v->content_size = size;
  vmo_after_op_locked(v->fam);
  family_unlock(v->fam);
  return st;
}

// ---- The invariant checker ----

#define CHECK(cond, ...)                                          \
  do {                                                            \
    if (!(cond)) {                                                \
      fprintf(stderr, "zxvmo: invariant violated: %s: ", #cond);  \
      fprintf(stderr, __VA_ARGS__);                               \
      fputc('\n', stderr);                                        \
      goto fail;                                                  \
    }                                                             \
  } while (0)

// Checks the user-tree links of alive VMO v and stamps its children and one-way
// children with `epoch` (so that membership is verified in one pass per list: the
// checker stays linear in the family's size).
static bool check_lists_locked(vmo_t* v, uint64_t epoch) {
  uint64_t n = 0;
  for (vmo_t* c = v->children; c; c = c->sib.next) {
    CHECK(c->parent == v && c->alive, "koid %lu child %lu", (unsigned long)v->obj.koid,
          (unsigned long)c->obj.koid);
    c->mark_sib = epoch;
    n++;
  }
  CHECK(n == v->num_children, "koid %lu: %lu listed, num_children %lu",
        (unsigned long)v->obj.koid, (unsigned long)n, (unsigned long)v->num_children);
  bool zc = (object_get_signals(&v->obj) & ZX_VMO_ZERO_CHILDREN) != 0;
  CHECK(zc == (n == 0), "koid %lu: ZERO_CHILDREN %d with %lu children",
        (unsigned long)v->obj.koid, zc, (unsigned long)n);
  for (vmo_t* c = v->oneway_children; c; c = c->ow.next) {
    CHECK(c->backing == v, "koid %lu: one-way child link", (unsigned long)v->obj.koid);
    c->mark_ow = epoch;
  }
  return true;
fail:
  return false;
}

// Second pass: v's own links point at lists that contain it.
static bool check_back_links_locked(const vmo_t* v, uint64_t epoch) {
  if (v->parent) {
    CHECK(v->alive && v->parent->alive && v->mark_sib == epoch, "koid %lu: parent link",
          (unsigned long)v->obj.koid);
  }
  if (v->backing) {
    CHECK(v->mark_ow == epoch, "koid %lu: not in its backing's list", (unsigned long)v->obj.koid);
  }
  return true;
fail:
  return false;
}

static bool check_member_locked(vmo_t* m) {
  uint64_t end = m->base + vmo_pages(m);
  uint64_t i = 0;
  CHECK(pmap_next(&m->map, &i, m->base) == NULL, "koid %lu: page %lu below window",
        (unsigned long)m->obj.koid, (unsigned long)i);
  i = end;
  CHECK(pmap_next(&m->map, &i, UINT64_MAX) == NULL, "koid %lu: page %lu past window end %lu",
        (unsigned long)m->obj.koid, (unsigned long)i, (unsigned long)end);
  CHECK(m->kind != VMO_SLICE, "slice %lu holds content", (unsigned long)m->obj.koid);
  if (m->backing) {
    vmo_t* b = m->backing;
    CHECK(m->kind == VMO_ONEWAY && b->alive && b->member, "koid %lu: backing %lu not live",
          (unsigned long)m->obj.koid, (unsigned long)b->obj.koid);
    // cut == base (nothing shows through) is fine even when base lies past the
    // backing's end.
    CHECK(m->base >= b->base && m->cut >= m->base &&
              (m->cut == m->base || m->cut <= b->base + vmo_pages(b)),
          "koid %lu: cut %lu outside [%lu, %lu]", (unsigned long)m->obj.koid,
          (unsigned long)m->cut, (unsigned long)m->base,
          (unsigned long)(b->base + vmo_pages(b)));
  }
  for (vmo_t* s = m->slices; s; s = s->sl.next) {
    CHECK(s->root == m && s->alive && s->slice_off + vmo_pages(s) <= vmo_pages(m),
          "koid %lu: slice %lu", (unsigned long)m->obj.koid, (unsigned long)s->obj.koid);
  }
  if (!m->alive) {
    // Kept only for its slices: every page must lie in some slice's window.
    CHECK(m->slices != NULL && m->oneway_children == NULL && m->children == NULL,
          "dead koid %lu kept without slices", (unsigned long)m->obj.koid);
    uint64_t j = m->base;
    while (pmap_next(&m->map, &j, end)) {
      bool seen = false;
      for (vmo_t* s = m->slices; s && !seen; s = s->sl.next) {
        uint64_t lo = m->base + s->slice_off;
        seen = j >= lo && j < lo + vmo_pages(s);
      }
      CHECK(seen, "dead koid %lu holds page %lu no slice sees", (unsigned long)m->obj.koid,
            (unsigned long)j);
      j++;
    }
  }
  return true;
fail:
  return false;
}

bool vmo_check_family_locked(family_t* fam) {
  family_assert_exclusive(fam);
  dag_t d;
  bool ok = false;
  memset(&d, 0, sizeof(d));
  uint64_t n_members = 0;
  uint64_t links = ++fam->epoch;
  for (vmo_t* m = fam->members; m; m = m->fm.next) {
    n_members++;
    CHECK(m->member && m->fam == fam, "member flag");
    if (!check_member_locked(m)) goto fail;
    if (m->alive && !check_lists_locked(m, links)) goto fail;
    for (vmo_t* s = m->slices; s; s = s->sl.next) {
      if (!check_lists_locked(s, links)) goto fail;
    }
  }
  CHECK(n_members == fam->member_count, "member_count %lu != %lu",
        (unsigned long)fam->member_count, (unsigned long)n_members);
  for (vmo_t* m = fam->members; m; m = m->fm.next) {
    if (!check_back_links_locked(m, links)) goto fail;
    for (vmo_t* s = m->slices; s; s = s->sl.next) {
      if (!check_back_links_locked(s, links)) goto fail;
    }
  }
  // Reference counts: walk the DAG counting incoming references in `paths`.
  d.epoch = ++fam->epoch;
  for (vmo_t* m = fam->members; m; m = m->fm.next) {
    pnode_t* r = m->map.root;
    if (!r) continue;
    if (r->epoch != d.epoch) {
      r->epoch = d.epoch;
      r->paths = 0;
      CHECK(vec_push(&d.level[r->level], r), "out of memory");
    }
    r->paths++;
  }
  for (unsigned l = PMAP_MAX_LEVELS + 1; l-- > 0;) {
    node_vec_t* lv = &d.level[l];
    for (size_t k = 0; k < lv->n; k++) {
      pnode_t* n = lv->v[k];
      unsigned cnt = 0;
      for (unsigned s = 0; s < PMAP_FANOUT; s++) {
        void* c = n->slot[s];
        if (!c) continue;
        cnt++;
        if (l == 0) {
          page_t* p = c;
          if (page_is_marker(p)) continue;
          if (p->u.s.epoch != d.epoch) {
            p->u.s.epoch = d.epoch;
            p->u.s.count = 0;
          }
          p->u.s.count++;
          continue;
        }
        pnode_t* cn = c;
        CHECK(cn->level + 1u == n->level, "level %u under %u", cn->level, n->level);
        if (cn->epoch != d.epoch) {
          cn->epoch = d.epoch;
          cn->paths = 0;
          CHECK(vec_push(&d.level[l - 1], cn), "out of memory");
        }
        cn->paths++;
      }
      CHECK(cnt == n->count && cnt > 0, "node count %u, %u slots used", n->count, cnt);
      CHECK(n->refs == n->paths, "node refs %u, %lu references", n->refs,
            (unsigned long)n->paths);
    }
  }
  for (size_t k = 0; k < d.level[0].n; k++) {
    pnode_t* n = d.level[0].v[k];
    for (unsigned s = 0; s < PMAP_FANOUT; s++) {
      page_t* p = n->slot[s];
      if (!p || page_is_marker(p)) continue;
      CHECK(p->refs == p->u.s.count, "page refs %u, %lu references", p->refs,
            (unsigned long)p->u.s.count);
    }
  }
  ok = true;
fail:
  dag_free(&d);
  return ok;
}

void vmo_after_op_locked(family_t* fam) {
  family_assert_exclusive(fam);
#if ZXVMO_CHECKS
  // Every operation on small families; on large ones often enough that the checker
  // costs O(1) amortised per operation.
  if (++fam->ops_since_check * 64 < fam->member_count) return;
  fam->ops_since_check = 0;
  if (!vmo_check_family_locked(fam)) {
    fputs("zxvmo: aborting on invariant violation\n", stderr);
    abort();
  }
#else
  (void)fam;
#endif
}

// ---- Library-wide extras (zxvmo.h) ----

typedef struct count_ctx {
  uint64_t pages;
} count_ctx_t;

static bool count_family_pages(family_t* fam, void* ctx) {
  count_ctx_t* c = ctx;
  dag_t d;
  bool ok = dag_walk_locked(fam, &d);
  if (ok) {
    for (size_t k = 0; k < d.level[0].n; k++) {
      pnode_t* n = d.level[0].v[k];
      for (unsigned s = 0; s < PMAP_FANOUT; s++) {
        page_t* p = n->slot[s];
        if (!p || page_is_marker(p) || p->u.s.epoch == UINT64_MAX) continue;
        // Count each distinct page once: mark it with an impossible epoch.
        p->u.s.epoch = UINT64_MAX;
        c->pages++;
      }
    }
  }
  dag_free(&d);
  return ok;
}

static bool check_one_family(family_t* fam, void* ctx) {
  (void)ctx;
  return vmo_check_family_locked(fam);
}

ZX_API zx_status_t zxvmo_check_invariants(void) {
  if (!family_list_visit(check_one_family, NULL)) return ZX_ERR_INTERNAL;
  count_ctx_t c = {.pages = 0};
  if (!family_list_visit(count_family_pages, &c)) return ZX_ERR_NO_MEMORY;
  uint64_t held = pool_pages_in_use();
  if (c.pages != held) {
    fprintf(stderr, "zxvmo: invariant violated: %lu pages reachable, %lu held\n",
            (unsigned long)c.pages, (unsigned long)held);
    return ZX_ERR_INTERNAL;
  }
  return ZX_OK;
}

ZX_API zx_status_t zxvmo_get_stats(zxvmo_stats_t* out) {
  if (!out) return ZX_ERR_INVALID_ARGS;
  memset(out, 0, sizeof(*out));
  pool_fill_stats(out);
  out->tree_nodes = pmap_nodes_alive();
  out->tree_node_copies = pmap_node_copies();
  out->vmos_alive = vmo_count_alive();
  out->handles_alive = handle_count_alive();
  return ZX_OK;
}

ZX_API zx_status_t zxvmo_set_page_budget(uint64_t pages) {
  pool_set_budget(pages);
  return ZX_OK;
}

static const char* kind_name(const vmo_t* v) {
  switch (v->kind) {
    case VMO_ROOT: return "root";
    case VMO_SNAPSHOT: return "snapshot";
    case VMO_ONEWAY: return v->legacy ? "clone" : "one-way";
    case VMO_SLICE: return "slice";
  }
  return "?";
}

static void dump_one(const vmo_t* v, FILE* out) {
  uint64_t own = 0;
  uint64_t i = 0;
  if (v->kind != VMO_SLICE) {
    while (pmap_next(&v->map, &i, UINT64_MAX)) {
      own++;
      if (++i == 0) break;
    }
  }
  fprintf(out, "  koid %-6lu %-8s %-5s size %#lx parent %lu children %lu", (unsigned long)v->obj.koid,
          kind_name(v), v->alive ? "alive" : "dead", (unsigned long)v->size,
          (unsigned long)(v->parent ? v->parent->obj.koid : 0), (unsigned long)v->num_children);
  if (v->kind == VMO_SLICE) {
    fprintf(out, " root %lu offset %#lx\n", (unsigned long)v->root->obj.koid,
            (unsigned long)(v->slice_off << PAGE_SHIFT));
    return;
  }
  fprintf(out, " base %#lx own-pages %lu nodes %lu", (unsigned long)v->base, (unsigned long)own,
          (unsigned long)count_nodes(v->map.root));
  if (v->backing) {
    fprintf(out, " backing %lu cut %#lx", (unsigned long)v->backing->obj.koid,
            (unsigned long)v->cut);
  }
  fputc('\n', out);
}

ZX_API zx_status_t zxvmo_dump(zx_handle_t h, FILE* out) {
  zx_object_t* obj;
  zx_rights_t rights;
  if (!out) return ZX_ERR_INVALID_ARGS;
  zx_status_t st = handle_get(h, ZX_OBJ_TYPE_VMO, 0, &obj, &rights);
  if (st != ZX_OK) return st;
  vmo_t* v = vmo_from_obj(obj);
  family_t* fam = v->fam;
  family_rdlock(fam);
  fprintf(out, "zxvmo family of koid %lu: %lu content holders\n", (unsigned long)v->obj.koid,
          (unsigned long)fam->member_count);
  for (vmo_t* m = fam->members; m; m = m->fm.next) {
    dump_one(m, out);
    for (vmo_t* s = m->slices; s; s = s->sl.next) dump_one(s, out);
  }
  family_unlock(fam);
  object_unref(obj);
  return ZX_OK;
}
