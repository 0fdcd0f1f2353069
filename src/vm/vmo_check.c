// SPDX-License-Identifier: BSD-3-Clause
// The invariant checker: walks a whole family and verifies every invariant listed in
// vmo.h and page_map.h, run after every operation in checking builds
// (ZXVMO_CHECKS), and zxvmo_check_invariants(), which also checks the page census.
#include <string.h>

#include <zircon/syscalls/object.h>
#include <zxvmo.h>

#include "family_walk.h"
#include "home.h"
#include "mapping.h"
#include "os.h"

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
    // A dead backing is pending, a pager VMO kept for its children, or a VMO kept for
    // its slices: a one-way child of one of those slices looks through it, inside the
    // slice's window, which trimming keeps.
    CHECK(m->kind == VMO_ONEWAY &&
              (b->alive || b->pending || vmo_is_pager_root(b) || b->slices) && b->member,
          "koid %lu: backing %lu not live",
          (unsigned long)m->obj.koid, (unsigned long)b->obj.koid);
    // cut == base (nothing shows through) is fine even when base lies past the
    // backing's end.
    CHECK(m->base >= b->base && m->cut >= m->base &&
              (m->cut == m->base || m->cut <= b->base + vmo_pages(b)),
          "koid %lu: cut %lu outside [%lu, %lu]", (unsigned long)m->obj.koid,
          (unsigned long)m->cut, (unsigned long)m->base,
          (unsigned long)(b->base + vmo_pages(b)));
  }
  uint64_t nrefs = 0;
  for (vmo_t* s = m->slices; s; s = s->sl.next) {
    CHECK(s->root == m && s->alive && s->slice_off + vmo_pages(s) <= vmo_pages(m),
          "koid %lu: slice %lu", (unsigned long)m->obj.koid, (unsigned long)s->obj.koid);
    // A reference windows all of its root, whatever resizes happened since.
    CHECK(!s->reference || (s->slice_off == 0 && s->size == m->size &&
                            s->resizable == m->resizable && !s->physical),
          "koid %lu: reference %lu does not match it", (unsigned long)m->obj.koid,
          (unsigned long)s->obj.koid);
    nrefs += s->reference;
  }
  CHECK(nrefs == m->nrefs, "koid %lu: %lu references, counted %lu",
        (unsigned long)m->obj.koid, (unsigned long)nrefs, (unsigned long)m->nrefs);
  CHECK(!m->reference, "reference %lu holds content", (unsigned long)m->obj.koid);
  // Discardable VMOs: roots without children of any kind; locked iff UNRECLAIMABLE;
  // a discarded one holds no page (docs/DESIGN.md "Discardable VMOs").
  if (m->discardable) {
    CHECK(m->kind == VMO_ROOT && !m->children && !m->slices && !m->oneway_children,
          "discardable koid %lu has children", (unsigned long)m->obj.koid);
    CHECK((m->lock_count > 0) == (m->dstate == DISC_UNRECLAIMABLE),
          "discardable koid %lu: lock count %u in state %u", (unsigned long)m->obj.koid,
          (unsigned)m->lock_count, (unsigned)m->dstate);
    uint64_t k = m->base;
    CHECK(!vmo_discarded(m) || pmap_next(&m->map, &k, end) == NULL,
          "discarded koid %lu holds page %lu", (unsigned long)m->obj.koid, (unsigned long)k);
    CHECK(m->alive || m->dstate == DISC_UNSET, "dead koid %lu still listed",
          (unsigned long)m->obj.koid);
  } else {
    CHECK(m->dstate == DISC_UNSET && m->lock_count == 0, "koid %lu locked, not discardable",
          (unsigned long)m->obj.koid);
  }
  // Pins lie inside their owner's window (no shrink cuts a pinned page) and name it.
  for (const vmo_pin_t* p = m->pins; p; p = p->next) {
    CHECK(p->owner == m && p->lo < p->hi && p->lo >= m->base &&
              p->hi <= m->base + vmo_pages(m),
          "koid %lu: pin [%lu, %lu) outside its window", (unsigned long)m->obj.koid,
          (unsigned long)p->lo, (unsigned long)p->hi);
  }
  CHECK(!m->pending || !m->alive, "live koid %lu pending", (unsigned long)m->obj.koid);
  if (!m->alive && !m->pending && vmo_is_pager_root(m)) {
    // A pager VMO stays whole while children see through it (vmo.c, settling).
    CHECK(m->slices != NULL || m->oneway_children != NULL,
          "dead pager koid %lu kept without children", (unsigned long)m->obj.koid);
  } else if (!m->alive && !m->pending) {
    // Kept only for its slices: every page must lie in some slice's window, and so
    // must what each one-way child (made below one of those slices) looks through.
    CHECK(m->slices != NULL && m->children == NULL, "dead koid %lu kept without slices",
          (unsigned long)m->obj.koid);
    for (vmo_t* ch = m->oneway_children; ch; ch = ch->ow.next) {
      bool inside = ch->cut == ch->base;
      for (vmo_t* s = m->slices; s && !inside; s = s->sl.next) {
        uint64_t lo = m->base + s->slice_off;
        inside = ch->base >= lo && ch->cut <= lo + vmo_pages(s);
      }
      CHECK(inside, "dead koid %lu: one-way child %lu sees [%lu, %lu) outside its slices",
            (unsigned long)m->obj.koid, (unsigned long)ch->obj.koid,
            (unsigned long)ch->base, (unsigned long)ch->cut);
    }
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

// Homes (home.h): counts, H1 (a home page sits at its own index in every map holding
// it), H2 (an alive owner holds each of its live home pages) and cache bits on free
// slots only. Runs after home_flush: no punch is pending.
static bool check_homes_locked(family_t* fam) {
  for (home_t* h = fam->homes; h; h = h->f_next) {
    CHECK(h->fam == fam, "home of another family");
    CHECK(!h->owner || (h->owner->home == h && h->owner->member), "home owner link");
    CHECK(h->punch_list == NULL, "punches pending after the operation");
    uint64_t nmaps = 0, live = 0, cached = 0, nwins = 0;
    for (struct mapping* m = h->maps; m; m = m->h_next) nmaps++;
    for (uint64_t t = 0; t < HOME_TOP; t++) {
      home_win_t** leaf = h->top[t];
      for (uint64_t k = 0; leaf && k < ((uint64_t)1 << HOME_LEAF_BITS); k++) {
        home_win_t* w = leaf[k];
        if (!w) continue;
        nwins++;
        CHECK(w->home == h && w->index == (t << HOME_LEAF_BITS) + k, "window link");
        for (uint64_t i = 0; i < WIN_PAGES; i++) {
          page_t* p = &w->desc[i];
          bool cache = home_bit(w->cache, i);
          CHECK(!home_bit(w->punch, i), "slot %lu still to punch", (unsigned long)i);
          CHECK(p->win == w, "descriptor link");
          cached += cache;
          if (p->refs == 0) continue;
          live++;
          CHECK(!cache, "slot both cached and owned");
          uint64_t idx = h->base + w->index * WIN_PAGES + i;
          CHECK(!h->owner || !h->owner->alive || pmap_lookup(&h->owner->map, idx) == p,
                "H2: home page at index %lu not held by its owner", (unsigned long)idx);
        }
      }
    }
    CHECK(nmaps == h->nmaps && live == h->live && cached == h->cached && nwins == h->nwins,
          "home counts: maps %lu/%lu live %lu/%lu cached %lu/%lu", (unsigned long)nmaps,
          (unsigned long)h->nmaps, (unsigned long)live, (unsigned long)h->live,
          (unsigned long)cached, (unsigned long)h->cached);
  }
  for (vmo_t* m = fam->members; m; m = m->fm.next) {
    page_t* p;
    for (uint64_t i = 0; (p = pmap_next(&m->map, &i, UINT64_MAX)) != NULL; i++) {
      if (page_is_marker(p) || !p->win) continue;
      CHECK(p->win->home->fam == fam && p->win->home->base + home_page_slot(p) == i,
            "H1: home page at index %lu of another slot", (unsigned long)i);
      if (i == UINT64_MAX) break;
    }
  }
  return true;
fail:
  return false;
}

zx_status_t vmo_check_family_locked(family_t* fam) {
  family_assert_exclusive(fam);
  dag_t d;
  zx_status_t st = ZX_ERR_INTERNAL;
  memset(&d, 0, sizeof(d));
  uint64_t n_members = 0;
  uint64_t links = ++fam->epoch;
  for (vmo_t* m = fam->members; m; m = m->fm.next) {
    n_members++;
    CHECK(m->member && m->fam == fam, "member flag");
    if (!check_member_locked(m)) goto fail;
    if (m->alive && !check_lists_locked(m, links)) goto fail;
    if (!m->alive) {
      // A dead VMO's one-way children still look through it: while it is pending,
      // kept whole as a pager VMO, or kept for the slices they were made below.
      for (vmo_t* c = m->oneway_children; c; c = c->ow.next) {
        CHECK((m->pending || vmo_is_pager_root(m) || m->slices) && c->backing == m,
              "dead koid %lu has one-way children",
              (unsigned long)m->obj.koid);
        c->mark_ow = links;
      }
    }
    for (vmo_t* s = m->slices; s; s = s->sl.next) {
      if (!check_lists_locked(s, links)) goto fail;
    }
  }
  if (fam->source) {
    // Zero ranges: well formed, inside the pager VMO, and holding no page.
    vmo_t* root = NULL;
    for (vmo_t* m = fam->members; m; m = m->fm.next) {
      if (vmo_is_pager_root(m)) root = m;
    }
    const char* bad = zr_check(&fam->zr, root ? root->base + vmo_pages(root) : 0);
    CHECK(bad == NULL, "%s", bad);
    for (size_t k = 0; root && k < fam->zr.n; k++) {
      uint64_t i = fam->zr.v[k].lo;
      CHECK(pmap_next(&root->map, &i, fam->zr.v[k].hi) == NULL,
            "page %lu inside a zero range", (unsigned long)i);
    }
  }
  CHECK(n_members == fam->member_count, "member_count %lu != %lu",
        (unsigned long)fam->member_count, (unsigned long)n_members);
  uint64_t n_pending = 0;
  for (vmo_t* m = fam->pending; m; m = m->pd.next) {
    CHECK(m->pending && m->member && !m->alive, "koid %lu on the pending list",
          (unsigned long)m->obj.koid);
    n_pending++;
  }
  for (vmo_t* m = fam->members; m; m = m->fm.next) n_pending -= m->pending;
  CHECK(n_pending == 0, "pending flags and list disagree");
  if (fam->homes && !check_homes_locked(fam)) goto fail;
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
      if (!dag_vec_push(&d.level[r->level], r)) goto oom;
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
          if (!dag_vec_push(&d.level[l - 1], cn)) goto oom;
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
  st = ZX_OK;
  goto fail;
oom:
  st = ZX_ERR_NO_MEMORY;
fail:
  dag_free(&d);
  return st;
}

void vmo_after_op_locked(family_t* fam) {
  family_assert_exclusive(fam);
  fam->gen++;
  if (fam->pending || fam->drops) family_settle_locked(fam);
  if (fam->homes) home_flush(fam);
#if ZXVMO_CHECKS
  // Every operation on small families; on large ones often enough that the checker
  // costs O(1) amortised per operation.
  if (++fam->ops_since_check * 64 < fam->member_count) return;
  fam->ops_since_check = 0;
  // Running out of memory for the checker's own scratch skips one check.
  if (vmo_check_family_locked(fam) == ZX_ERR_INTERNAL) {
    fputs("zxvmo: aborting on invariant violation\n", stderr);
    abort();
  }
#else
  (void)fam;
#endif
}

typedef struct count_ctx {
  uint64_t pages;
} count_ctx_t;

// Counts the distinct pages reachable from the family's maps into *ctx.
static zx_status_t count_family_pages(family_t* fam, void* ctx) {
  uint64_t* pages = ctx;
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
        (*pages)++;
      }
    }
  }
  dag_free(&d);
  return ok ? ZX_OK : ZX_ERR_NO_MEMORY;
}

static zx_status_t check_one_family(family_t* fam, void* ctx) {
  zx_status_t st = vmo_check_family_locked(fam);
  return st == ZX_OK ? count_family_pages(fam, ctx) : st;
}

// Holds every family lock at once (family_list_visit), so no operation is half-way
// through a reservation and pages_in_use is exactly the pages maps reach, whatever
// other threads are doing.
static zx_status_t census_locked(void* ctx) {
  uint64_t reachable = *(uint64_t*)ctx;
  uint64_t held = pool_pages_in_use();
  if (reachable != held) {
    fprintf(stderr, "zxvmo: invariant violated: %lu pages reachable, %lu held\n",
            (unsigned long)reachable, (unsigned long)held);
    return ZX_ERR_INTERNAL;
  }
  return ZX_OK;
}

ZX_API zx_status_t zxvmo_check_invariants(void) {
  uint64_t reachable = 0;
  return family_list_visit(check_one_family, census_locked, &reachable);
}
