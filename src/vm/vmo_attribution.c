// SPDX-License-Identifier: BSD-3-Clause
// ZX_INFO_VMO and memory attribution.
//
// Attribution (docs/behavior.md §10). A page seen by N VMOs counts fully in each one's
// committed_bytes, in committed_private_bytes only when N == 1, and as PAGE/N in
// committed_scaled_bytes, the remainder in committed_fractional_scaled_bytes (1<<63 is
// one byte). N is the number of map roots whose tree reaches the page, plus one for
// each one-way VMO that sees it through its backing (a dead VMO kept for its slices
// sees only their windows). Slices report 0; a dead root kept for slices is a sharer.
//
// Shared, not exclusive. A query holds the family lock shared, so reads of contents
// proceed while it runs; queries are serialised among themselves by the family's
// scratch lock (family_walk.h), because the walk writes scratch in nodes, pages and
// VMOs. Writers hold the lock exclusively, so they never overlap a query.
//
// Cached. One walk computes the figures of every member of the family; each member
// keeps its own with the family generation (vmo->attr, attr_gen). Every exclusive
// operation bumps fam->gen, so figures computed at the current generation are exact,
// and a query at an unchanged generation costs a lock and a copy.
//
// The walk is by position. All maps of a family share one index space, so a node or
// a page sits at one position (a level and a first index) in every map holding it.
// The walk visits positions top-down from every map root at once, and at each one the
// distinct nodes the maps hold there, each with its weight: the number of map roots
// reaching it (the sum of its parents' weights). A page's N is the sum of the weights
// of the leaves holding it, plus its one-way viewers. The figures of a node (its
// pages, each with its N) are the same in every map holding it, so a map's figures
// are its root's, plus what it sees through its backing.
//
// The shortcut. Where a position holds a single node n of weight w, no map root
// starts strictly inside it, and no page in it is seen through a backing, every page
// under n has N = w: each path from a root into the position goes through n, and n's
// subtree is a tree (positions are unique), so each of its pages is reached by exactly
// the w paths through n. The walk stops there: n's figures are (pages under n) x f(w),
// and the pages are counted from the leaves' `count`, without reading a page. So a
// 1 GiB VMO with an untouched snapshot costs one pass over leaf headers, and after a
// write the walk descends only the copied path (64 slots per level), counting the
// shared siblings. Positions where the maps differ, or whose pages are seen through
// a backing ("hot"), are walked slot by slot down to the pages. Page counts are not
// memoised across generations: a subtree's sharing can change without its top node
// changing (a range snapshot shares a node below it; a node exclusive to one map is
// edited in place), and only page_map.c sees those edits, so no memo could be
// invalidated soundly from here.
//
// Markers. A zero marker is not a page, so counting by `count` is exact only for
// leaves without one. Markers are only ever written into one-way VMOs' maps, and only
// one-way maps take nodes from one-way maps; a family without a one-way member
// therefore holds none, and one with one counts leaves slot by slot. Checking builds
// verify the former.
//
// Invariants relied on: a node or a page is only ever shared at its own position
// (every page-map operation works at family indices; a node met at two positions in
// one walk trips an assertion), and a map holds pages only inside its owner's window
// (verified by the checker), so a map's figures are its root's.
//
// What a one-way VMO sees through its backing (its `through` list) is computed once
// per VMO, backings before children (a breadth-first walk down the one-way links), by
// merging the backing's own pages in the child's range with the backing's own list:
// no chain is walked per VMO, so a chain of 100,000 clones costs O(100,000).
//
// Order of reading. Where few nodes share a position (walk_few), their slot arrays
// stay in the cache and are read slot after slot, children told apart by comparing
// pointers (nothing is written into shared nodes). Where many do (walk_many: a wide
// family), reading one slot of every node in turn would miss the cache on every read,
// so each node's slots are read in order, twice: to gather children (stamped with
// their index), and to add their figures.
//
// Cost of a walk: O(positions where maps differ x 64 + leaves under shortcut nodes +
// pages at hot positions + the one-way lists). Computing every member's figures reads
// the nodes and pages where maps differ twice (sums, then figures), where a walk for
// one VMO would read them once: the first query after a change in a wide, diverged
// family costs up to about three times such a walk, and every other member's query
// at that generation is then free.
#include "vmo_attribution.h"

#include <string.h>

#include <zircon/syscalls/object.h>

#include "family_walk.h"
#include "os.h"

#define FRAC_ONE ((uint64_t)1 << 63)

void (*vmo_attr_walk_hook)(vmo_t* v);

// ---- Figures ----

// a += b. Each fraction is below one byte, so their sum fits and carries at most one.
static void attr_add(vmo_attr_t* a, const vmo_attr_t* b) {
  a->committed += b->committed;
  a->priv += b->priv;
  a->scaled += b->scaled;
  a->nodes += b->nodes;
  a->frac += b->frac;
  if (a->frac >= FRAC_ONE) {
    a->frac -= FRAC_ONE;
    a->scaled += 1;
  }
}

// Adds `k` pages each seen by `n` VMOs. Exactly what adding them one at a time would
// give: a page's remainder is ((PAGE % n) << 63) / n, truncated, and the remainders'
// sum carries into whole bytes.
static void attr_pages(vmo_attr_t* a, uint64_t k, uint64_t n) {
  ZX_ASSERT(n >= 1);
  a->committed += k * PAGE_SIZE;
  if (n == 1) a->priv += k * PAGE_SIZE;
  unsigned __int128 frac = ((unsigned __int128)(PAGE_SIZE % n) << 63) / n;
  unsigned __int128 sum = frac * k + a->frac;
  a->scaled += k * (PAGE_SIZE / n) + (uint64_t)(sum >> 63);
  a->frac = (uint64_t)(sum & (FRAC_ONE - 1));
}

// ---- One-way views ----

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

// ---- The walk by position ----

#define NO_ROOT SIZE_MAX
#define FEW_NODES 8     // up to this many nodes at a position are read slot by slot
#define ONE_MAX 64      // one page's figures are tabled for fewer sharers than this

// A distinct node at the position being walked.
typedef struct wnode {
  pnode_t* n;
  uint64_t w;      // map roots reaching n
  vmo_attr_t f;    // n's pages, each with its N; nodes of n's tree
  size_t root;     // index in walk.roots if n is some map's root, else NO_ROOT
  uint64_t run_n;  // pages not yet in f: run_k of them, each seen by run_n VMOs
  uint64_t run_k;
} wnode_t;

typedef struct wvec {
  wnode_t* v;
  size_t n, cap;
} wvec_t;

// A distinct map root.
typedef struct wroot {
  pnode_t* n;
  uint64_t w;      // maps whose root it is
  vmo_attr_t f;    // its figures, once walked
} wroot_t;

typedef struct walk {
  uint64_t e_node;   // stamps nodes gathered at a position; node->paths = index there
  uint64_t e_hot;    // stamps pages seen through a backing; u.s.count = their viewers
  uint64_t e_page;   // stamps pages counted at a hot or divergent leaf; u.s.count = N
  bool markers;      // the family has a one-way member: leaves may hold markers
  // The distinct level-l nodes under the level-(l + 1) position being walked (the walk
  // is depth first: one position per level at a time): lv[l] those under the slot
  // being walked (walk_few), kids[l][s] those under each slot s (walk_many, allocated
  // when first needed).
  wvec_t lv[PMAP_MAX_LEVELS + 1];
  wvec_t* kids[PMAP_MAX_LEVELS + 1];
  wvec_t top;        // the roots of the highest level
  wroot_t* roots;
  size_t nroots;
  size_t* rorder;    // root indices by level: rorder[rfirst[l] .. rfirst[l + 1])
  size_t rfirst[PMAP_MAX_LEVELS + 2];
  unsigned min_root_level;
  uint64_t* hot;     // sorted distinct indices of pages seen through a backing
  size_t nhot;
  vmo_attr_t one[ONE_MAX];  // figures of one page seen by n VMOs, n < ONE_MAX...
  uint64_t one_have;        // ...computed where bit n is set
} walk_t;

// Appends node c (weight 0 for now) to v; if `stamp`, marks c with its index there.
static bool wvec_push(walk_t* w, wvec_t* v, pnode_t* c, size_t root, bool stamp) {
  if (v->n == v->cap) {
    size_t cap = v->cap ? v->cap * 2 : 4;
    wnode_t* nv = os_realloc(v->v, cap * sizeof(*nv));
    if (!nv) return false;
    v->v = nv;
    v->cap = cap;
  }
  wnode_t* e = &v->v[v->n];
  memset(e, 0, sizeof(*e));
  e->n = c;
  e->root = root;
  if (stamp) {
    c->epoch = w->e_node;
    c->paths = v->n;
  }
  v->n++;
  return true;
}

// Map roots start at positions (level, 0): adds those of `level` to v.
static bool inject_roots(walk_t* w, wvec_t* v, unsigned level) {
  for (size_t k = w->rfirst[level]; k < w->rfirst[level + 1]; k++) {
    size_t i = w->rorder[k];
    if (!wvec_push(w, v, w->roots[i].n, i, true)) return false;
    v->v[v->n - 1].w = w->roots[i].w;
  }
  return true;
}

static uint64_t leaf_pages(const walk_t* w, const pnode_t* leaf) {
  if (!w->markers) {
#if ZXVMO_CHECKS
    for (unsigned s = 0; s < PMAP_FANOUT; s++) {
      ZX_ASSERT(!leaf->slot[s] || !page_is_marker(leaf->slot[s]));
    }
#endif
    return leaf->count;
  }
  uint64_t n = 0;
  for (unsigned s = 0; s < PMAP_FANOUT; s++) {
    const page_t* p = leaf->slot[s];
    n += p && !page_is_marker(p);
  }
  return n;
}

// The figures of one page seen by n < ONE_MAX VMOs, computed once per walk.
static const vmo_attr_t* one_page(walk_t* w, uint64_t n) {
  if (!(w->one_have & ((uint64_t)1 << n))) {
    memset(&w->one[n], 0, sizeof(w->one[n]));
    attr_pages(&w->one[n], 1, n);
    w->one_have |= (uint64_t)1 << n;
  }
  return &w->one[n];
}

// attr_pages without its 128-bit division for the usual small n.
static void add_pages(walk_t* w, vmo_attr_t* a, uint64_t k, uint64_t n) {
  if (n >= ONE_MAX) {
    attr_pages(a, k, n);
    return;
  }
  const vmo_attr_t* one = one_page(w, n);
  a->committed += k * one->committed;
  a->priv += k * one->priv;
  unsigned __int128 sum = (unsigned __int128)one->frac * k + a->frac;
  a->scaled += k * one->scaled + (uint64_t)(sum >> 63);
  a->frac = (uint64_t)(sum & (FRAC_ONE - 1));
}

// Pages and nodes under level-1 node x: its leaves' headers, asked for all at once
// (each is a cache miss, and they are independent).
static void count_level1(const walk_t* w, const pnode_t* x, uint64_t* pages, uint64_t* nodes) {
  for (unsigned s = 0; s < PMAP_FANOUT; s++) {
    if (x->slot[s]) __builtin_prefetch(x->slot[s]);
  }
  for (unsigned s = 0; s < PMAP_FANOUT; s++) {
    const pnode_t* leaf = x->slot[s];
    if (!leaf) continue;
    *pages += leaf_pages(w, leaf);
    *nodes += 1;
  }
}

// The shortcut: every page under e->n has N = e->w. Counts the pages and nodes of its
// tree, reading node headers (and leaf slots only where markers may be).
static void walk_subtree(walk_t* w, wnode_t* e) {
  const pnode_t* stack[PMAP_MAX_LEVELS + 1];
  unsigned pos[PMAP_MAX_LEVELS + 1];
  uint64_t pages = 0, nodes = 1;
  const pnode_t* n = e->n;
  if (n->level == 0) {
    pages = leaf_pages(w, n);
  } else if (n->level == 1) {
    count_level1(w, n, &pages, &nodes);
  } else {
    int sp = 0;
    stack[0] = n;
    pos[0] = 0;
    while (sp >= 0) {
      const pnode_t* x = stack[sp];
      if (pos[sp] == PMAP_FANOUT) {
        sp--;
        continue;
      }
      const pnode_t* c = x->slot[pos[sp]++];
      if (!c) continue;
      nodes++;
      if (c->level == 1) {
        count_level1(w, c, &pages, &nodes);
      } else {
        stack[++sp] = c;
        pos[sp] = 0;
      }
    }
  }
  memset(&e->f, 0, sizeof(e->f));
  add_pages(w, &e->f, pages, e->w);
  e->f.nodes = nodes;
}

// Adds k pages seen by n VMOs to e. Consecutive pages mostly have the same N, so they
// are added a run at a time (wnode_flush).
static void wnode_pages(walk_t* w, wnode_t* e, uint64_t k, uint64_t n) {
  if (n != e->run_n) {
    if (e->run_k) add_pages(w, &e->f, e->run_k, e->run_n);
    e->run_n = n;
    e->run_k = 0;
  }
  e->run_k += k;
}

static void wnode_flush(walk_t* w, wnode_t* e) {
  if (e->run_k) add_pages(w, &e->f, e->run_k, e->run_n);
  e->run_k = 0;
}

// A leaf position holding several leaves, or hot pages: each page's N is the weight
// of the leaves holding it (plus its one-way viewers), then each leaf adds its pages.
// Without hot pages and with few leaves, N is found by comparing the leaves' slots,
// which reads no page; otherwise it is summed in the pages' scratch (u.s), where
// mark_hot_locked left the viewers of hot pages.
static void walk_leaves(walk_t* w, wvec_t* cur, bool hot) {
  if (!hot && cur->n <= FEW_NODES) {
    for (unsigned s = 0; s < PMAP_FANOUT; s++) {
      for (size_t k = 0; k < cur->n; k++) {
        const page_t* p = cur->v[k].n->slot[s];
        if (!p || page_is_marker(p)) continue;
        uint64_t n = 0;
        for (size_t j = 0; j < cur->n; j++) {
          if (cur->v[j].n->slot[s] == p) n += cur->v[j].w;
        }
        wnode_pages(w, &cur->v[k], 1, n);
      }
    }
  } else {
    // Leaf by leaf (each leaf's slots are contiguous): all the sums, then the figures.
    for (size_t k = 0; k < cur->n; k++) {
      for (unsigned s = 0; s < PMAP_FANOUT; s++) {
        page_t* p = cur->v[k].n->slot[s];
        if (!p || page_is_marker(p)) continue;
        if (p->u.s.epoch != w->e_page) {
          if (p->u.s.epoch != w->e_hot) p->u.s.count = 0;
          p->u.s.epoch = w->e_page;
        }
        p->u.s.count += cur->v[k].w;
      }
    }
    for (size_t k = 0; k < cur->n; k++) {
      for (unsigned s = 0; s < PMAP_FANOUT; s++) {
        page_t* p = cur->v[k].n->slot[s];
        if (p && !page_is_marker(p)) wnode_pages(w, &cur->v[k], 1, p->u.s.count);
      }
    }
  }
  for (size_t k = 0; k < cur->n; k++) {
    wnode_flush(w, &cur->v[k]);
    cur->v[k].f.nodes = 1;
  }
}

static bool walk_position(walk_t* w, unsigned l, uint64_t base, size_t h0, size_t h1,
                          wvec_t* cur);

// The indices of the children of a level-l position: slot s covers [*cbase, *clast].
// False for slots past index 2^64 - 1, where nothing exists (the top level, 10,
// covers 2^66 indices).
static bool slot_range(unsigned l, uint64_t base, unsigned s, uint64_t* cbase, uint64_t* clast) {
  unsigned shift = PMAP_BITS * l;  // a child covers 2^shift indices
  ZX_ASSERT(shift < 64);
  if (s > (UINT64_MAX >> shift)) return false;
  *cbase = base + ((uint64_t)s << shift);
  *clast = *cbase + (((uint64_t)1 << shift) - 1);
  return true;
}

// The end of the hot indices at or below `last`, from h.
static size_t hot_end(const walk_t* w, size_t h, size_t h1, uint64_t last) {
  while (h < h1 && w->hot[h] <= last) h++;
  return h;
}

// walk_position for a position holding few nodes, slot after slot: each slot's
// children are gathered into w->lv[l - 1] (told apart by comparing pointers, which
// writes nothing into the nodes), walked, and added to their parents. The few slot
// arrays stay in the cache, and their children are asked for all at once.
static bool walk_few(walk_t* w, unsigned l, uint64_t base, size_t h0, size_t h1, wvec_t* cur,
                     bool roots_inside) {
  for (size_t k = 0; k < cur->n; k++) {
    for (unsigned s = 0; s < PMAP_FANOUT; s++) {
      if (cur->v[k].n->slot[s]) __builtin_prefetch(cur->v[k].n->slot[s]);
    }
  }
  wvec_t* nxt = &w->lv[l - 1];
  size_t h = h0;
  for (unsigned s = 0; s < PMAP_FANOUT; s++) {
    uint64_t cbase, clast;
    if (!slot_range(l, base, s, &cbase, &clast)) break;
    size_t he = hot_end(w, h, h1, clast);
    nxt->n = 0;
    // Roots starting further down are met only by going down slot 0.
    if (roots_inside && s == 0 && !inject_roots(w, nxt, l - 1)) return false;
    size_t kid_of[FEW_NODES];  // cur->v[k]'s child: nxt->v[kid_of[k]], or SIZE_MAX
    for (size_t k = 0; k < cur->n; k++) {
      pnode_t* c = cur->v[k].n->slot[s];
      kid_of[k] = SIZE_MAX;
      if (!c) continue;
      size_t j = 0;
      while (j < nxt->n && nxt->v[j].n != c) j++;
      if (j == nxt->n && !wvec_push(w, nxt, c, NO_ROOT, false)) return false;
      nxt->v[j].w += cur->v[k].w;
      kid_of[k] = j;
    }
    if (l == 1 && nxt->n == 1 && h == he) {
      // The shortcut for a leaf alone at its position, inline (the most frequent case
      // where maps differ): its parents add its pages as a run.
      uint64_t pages = leaf_pages(w, nxt->v[0].n);
      for (size_t k = 0; k < cur->n; k++) {
        if (kid_of[k] == SIZE_MAX) continue;
        wnode_pages(w, &cur->v[k], pages, nxt->v[0].w);
        cur->v[k].f.nodes += 1;
      }
      if (nxt->v[0].root != NO_ROOT) {  // also a map's root: its own figures
        walk_subtree(w, &nxt->v[0]);
        w->roots[nxt->v[0].root].f = nxt->v[0].f;
      }
    } else if (nxt->n > 0 || (roots_inside && s == 0)) {
      if (!walk_position(w, l - 1, cbase, h, he, nxt)) return false;
      for (size_t j = 0; j < nxt->n; j++) {
        if (nxt->v[j].root != NO_ROOT) w->roots[nxt->v[j].root].f = nxt->v[j].f;
      }
      for (size_t k = 0; k < cur->n; k++) {
        if (kid_of[k] != SIZE_MAX) attr_add(&cur->v[k].f, &nxt->v[kid_of[k]].f);
      }
    }
    h = he;
  }
  return true;
}

// The index of child c in v, the children under one slot of a position walked by
// walk_many (where each carries its index in node->epoch/paths), or SIZE_MAX.
static size_t kid_index(const walk_t* w, const wvec_t* v, const pnode_t* c) {
  if (c->epoch != w->e_node) return SIZE_MAX;
  // A node met at two positions would break the shortcut's reasoning.
  ZX_ASSERT(c->paths < v->n && v->v[c->paths].n == c);
  return c->paths;
}

// walk_position for a position holding many nodes, node after node: reading one slot
// of every node in turn would miss the cache on each read once the nodes outgrow it.
// Each node's slots are read once to gather the children of every slot (each child
// stamped with its index), then each slot's children are walked, then each node's
// slots are read once more to add its children's figures.
static bool walk_many(walk_t* w, unsigned l, uint64_t base, size_t h0, size_t h1, wvec_t* cur,
                      bool roots_inside) {
  if (!w->kids[l - 1]) {
    w->kids[l - 1] = os_calloc(PMAP_FANOUT, sizeof(wvec_t));
    if (!w->kids[l - 1]) return false;
  }
  wvec_t* kids = w->kids[l - 1];
  for (unsigned s = 0; s < PMAP_FANOUT; s++) kids[s].n = 0;
  if (roots_inside && !inject_roots(w, &kids[0], l - 1)) return false;
  for (size_t k = 0; k < cur->n; k++) {
    void* const* slot = cur->v[k].n->slot;
    for (unsigned s = 0; s < PMAP_FANOUT; s++) {
      pnode_t* c = slot[s];
      if (!c) continue;
      size_t j = kid_index(w, &kids[s], c);
      if (j == SIZE_MAX) {
        if (!wvec_push(w, &kids[s], c, NO_ROOT, true)) return false;
        j = kids[s].n - 1;
      }
      kids[s].v[j].w += cur->v[k].w;
    }
  }
  size_t h = h0;
  for (unsigned s = 0; s < PMAP_FANOUT; s++) {
    uint64_t cbase, clast;
    if (!slot_range(l, base, s, &cbase, &clast)) break;
    size_t he = hot_end(w, h, h1, clast);
    if (kids[s].n > 0 || (roots_inside && s == 0)) {
      if (!walk_position(w, l - 1, cbase, h, he, &kids[s])) return false;
      for (size_t j = 0; j < kids[s].n; j++) {
        if (kids[s].v[j].root != NO_ROOT) w->roots[kids[s].v[j].root].f = kids[s].v[j].f;
      }
    }
    h = he;
  }
  for (size_t k = 0; k < cur->n; k++) {
    void* const* slot = cur->v[k].n->slot;
    for (unsigned s = 0; s < PMAP_FANOUT; s++) {
      if (slot[s]) attr_add(&cur->v[k].f, &kids[s].v[kid_index(w, &kids[s], slot[s])].f);
    }
  }
  return true;
}

// Computes the figures of every node in cur, the distinct nodes at the level-l position
// starting at index `base`; w->hot[h0, h1) are the hot indices inside it. Recursion is
// bounded by the tree height.
static bool walk_position(walk_t* w, unsigned l, uint64_t base, size_t h0, size_t h1,
                          wvec_t* cur) {
  bool roots_inside = base == 0 && w->min_root_level < l;
  if (cur->n == 1 && h0 == h1 && !roots_inside) {
    walk_subtree(w, &cur->v[0]);
    return true;
  }
  if (l == 0) {
    walk_leaves(w, cur, h0 < h1);
    return true;
  }
  size_t injected = roots_inside ? w->rfirst[l] - w->rfirst[l - 1] : 0;
  bool ok = cur->n <= FEW_NODES && injected <= FEW_NODES
                ? walk_few(w, l, base, h0, h1, cur, roots_inside)
                : walk_many(w, l, base, h0, h1, cur, roots_inside);
  if (!ok) return false;
  for (size_t k = 0; k < cur->n; k++) {
    wnode_flush(w, &cur->v[k]);
    cur->v[k].f.nodes += 1;
  }
  return true;
}

// Sorts a[0, n) made of ascending runs (one per one-way member: their lists are
// sorted) by merging neighbouring runs until one is left: O(n log runs), and O(n) in
// the usual case of one run. False if the scratch buffer could not be allocated.
static bool sort_runs(uint64_t* a, size_t n) {
  size_t runs = 1;
  for (size_t i = 1; i < n; i++) runs += a[i] < a[i - 1];
  if (runs <= 1) return true;
  uint64_t* b = os_malloc(n * sizeof(*b));
  if (!b) return false;
  uint64_t* src = a;
  uint64_t* dst = b;
  while (runs > 1) {
    runs = 0;
    size_t i = 0;
    while (i < n) {
      size_t m = i + 1;  // [i, m): first run; [m, e): second
      while (m < n && src[m] >= src[m - 1]) m++;
      size_t e = m < n ? m + 1 : n;
      while (e < n && src[e] >= src[e - 1]) e++;
      size_t x = i, y = m, o = i;
      while (x < m && y < e) dst[o++] = src[y] < src[x] ? src[y++] : src[x++];
      while (x < m) dst[o++] = src[x++];
      while (y < e) dst[o++] = src[y++];
      runs++;
      i = e;
    }
    uint64_t* t = src;
    src = dst;
    dst = t;
  }
  if (src != a) memcpy(a, src, n * sizeof(*a));
  os_free(b);
  return true;
}

// Keeps in each member's `through` list only the entries it sees (every list has
// been computed: children's lists no longer need their backing's), stamps every page
// so seen with its number of such viewers, and lists their indices in w->hot, sorted
// and distinct. An index is listed when a page is first seen there, so a page seen
// by many one-way VMOs costs one entry, and the list is mostly in order already.
static bool mark_hot_locked(family_t* fam, walk_t* w) {
  size_t n = 0, cap = 0;
  for (vmo_t* m = fam->members; m; m = m->fm.next) {
    size_t kept = 0;
    for (size_t k = 0; k < m->through_n; k++) {
      vis_entry_t* e = &m->through[k];
      if (!through_visible_locked(m, e)) continue;
      m->through[kept++] = *e;
      if (e->p->u.s.epoch == w->e_hot) {
        e->p->u.s.count++;
        continue;
      }
      e->p->u.s.epoch = w->e_hot;
      e->p->u.s.count = 1;
      if (n == cap) {
        size_t ncap = cap ? cap * 2 : 256;
        uint64_t* nh = os_realloc(w->hot, ncap * sizeof(*nh));
        if (!nh) return false;
        w->hot = nh;
        cap = ncap;
      }
      w->hot[n++] = e->idx;
    }
    m->through_n = kept;
  }
  if (n == 0) return true;
  if (!sort_runs(w->hot, n)) return false;
  size_t d = 0;
  for (size_t k = 0; k < n; k++) {
    if (d == 0 || w->hot[d - 1] != w->hot[k]) w->hot[d++] = w->hot[k];
  }
  w->nhot = d;
  return true;
}

// The table of distinct map roots, with their weights, ordered by level.
static bool collect_roots_locked(family_t* fam, walk_t* w) {
  uint64_t e_root = ++fam->epoch;
  w->roots = os_malloc(fam->member_count * sizeof(*w->roots));
  w->rorder = os_malloc(fam->member_count * sizeof(*w->rorder));
  if (!w->roots || !w->rorder) return false;
  size_t per_level[PMAP_MAX_LEVELS + 1] = {0};
  for (vmo_t* m = fam->members; m; m = m->fm.next) {
    pnode_t* r = m->map.root;
    if (!r) continue;
    if (r->epoch != e_root) {
      r->epoch = e_root;
      r->paths = w->nroots;
      memset(&w->roots[w->nroots], 0, sizeof(w->roots[0]));
      w->roots[w->nroots++].n = r;
      per_level[r->level]++;
    }
    w->roots[r->paths].w++;
  }
  w->rfirst[0] = 0;
  for (unsigned l = 0; l <= PMAP_MAX_LEVELS; l++) w->rfirst[l + 1] = w->rfirst[l] + per_level[l];
  size_t fill[PMAP_MAX_LEVELS + 1];
  memcpy(fill, w->rfirst, sizeof(fill));
  w->min_root_level = PMAP_MAX_LEVELS;
  for (size_t i = 0; i < w->nroots; i++) {
    unsigned l = w->roots[i].n->level;
    w->rorder[fill[l]++] = i;
    if (l < w->min_root_level) w->min_root_level = l;
  }
  return true;
}

static void walk_free(walk_t* w) {
  for (unsigned l = 0; l <= PMAP_MAX_LEVELS; l++) {
    os_free(w->lv[l].v);
    for (unsigned s = 0; w->kids[l] && s < PMAP_FANOUT; s++) os_free(w->kids[l][s].v);
    os_free(w->kids[l]);
  }
  os_free(w->top.v);
  os_free(w->roots);
  os_free(w->rorder);
  os_free(w->hot);
}

// Computes and caches the figures of every alive member of the family. The caller
// holds the family lock shared (or exclusively) and the scratch lock. `v` is the VMO
// queried (for the test seam).
static zx_status_t attribute_family_locked(family_t* fam, vmo_t* v) {
  // The walk's state is a few KiB: on the heap, not on a caller's stack.
  walk_t* w = os_calloc(1, sizeof(*w));
  vmo_t** order = os_malloc(fam->member_count * sizeof(*order));
  bool ok = false;
  if (!w || !order) goto out;
  w->e_hot = ++fam->epoch;
  w->e_node = ++fam->epoch;
  w->e_page = ++fam->epoch;
  for (vmo_t* m = fam->members; m; m = m->fm.next) w->markers |= m->kind == VMO_ONEWAY || fam->source != NULL;
  if (!through_all_locked(fam, order) || !mark_hot_locked(fam, w)) goto out;
  if (vmo_attr_walk_hook) vmo_attr_walk_hook(v);
  if (!collect_roots_locked(fam, w)) goto out;
  if (w->nroots > 0) {
    unsigned top = w->roots[w->rorder[w->nroots - 1]].n->level;
    if (!inject_roots(w, &w->top, top) || !walk_position(w, top, 0, 0, w->nhot, &w->top)) {
      goto out;
    }
    for (size_t j = 0; j < w->top.n; j++) w->roots[w->top.v[j].root].f = w->top.v[j].f;
    // Point each root at its entry, for its maps below.
    for (size_t i = 0; i < w->nroots; i++) w->roots[i].n->paths = i;
  }
  uint64_t gen = fam->gen + 1;
  for (vmo_t* m = fam->members; m; m = m->fm.next) {
    if (!m->alive) continue;  // kept for slices, or pending: never queried
    vmo_attr_t a;
    memset(&a, 0, sizeof(a));
    if (m->map.root) a = w->roots[m->map.root->paths].f;
    wnode_t run;  // consecutive pages mostly have the same N: add them a run at a time
    memset(&run, 0, sizeof(run));
    for (size_t k = 0; k < m->through_n; k++) {  // only what m sees (mark_hot_locked)
      const page_t* p = m->through[k].p;
      // Hot, so counted by the walk: its N is final.
      ZX_ASSERT(p->u.s.epoch == w->e_page);
      wnode_pages(w, &run, 1, p->u.s.count);
    }
    wnode_flush(w, &run);
    attr_add(&a, &run.f);
    m->attr = a;
    m->attr_gen = gen;
  }
  ok = true;
out:
  through_free_locked(fam);
  os_free(order);
  if (w) walk_free(w);
  os_free(w);
  return ok ? ZX_OK : ZX_ERR_NO_MEMORY;
}

// v's figures: the cached ones if the family has not changed since they were
// computed, else a walk of the family. Caller holds the family lock (shared).
static zx_status_t attribute_locked(vmo_t* v, vmo_attr_t* a) {
  family_t* fam = v->fam;
  family_scratch_lock(fam);
  zx_status_t st = ZX_OK;
  if (v->attr_gen != fam->gen + 1) st = attribute_family_locked(fam, v);
  if (st == ZX_OK) {
    ZX_ASSERT(v->attr_gen == fam->gen + 1);  // v is an alive member: the walk filled it
    *a = v->attr;
  }
  family_scratch_unlock(fam);
  return st;
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
  vmo_attr_t a;
  memset(&a, 0, sizeof(a));
  family_rdlock(v->fam);
  // A VMO whose last handle was closed while this call ran is gone, as if first.
  zx_status_t st = v->alive ? ZX_OK : ZX_ERR_BAD_HANDLE;
  if (st == ZX_OK && v->kind != VMO_SLICE) st = attribute_locked(v, &a);
  if (st == ZX_OK) {
    info.koid = v->obj.koid;
    object_get_name(&v->obj, info.name);
    info.size_bytes = v->size;
    info.parent_koid = v->parent ? v->parent->obj.koid : ZX_KOID_INVALID;
    info.num_children = v->num_children;
    info.num_mappings = v->mapping_count;
    info.share_count = 1;  // Zircon: 1 unless mapped into two or more address spaces
    // Physical memory is not paged; it is contiguous, as Zircon reports it.
    info.flags = (v->physical ? ZX_INFO_VMO_TYPE_PHYSICAL : ZX_INFO_VMO_TYPE_PAGED) |
                 ZX_INFO_VMO_VIA_HANDLE;
    if (v->physical || v->contiguous) info.flags |= ZX_INFO_VMO_CONTIGUOUS;
    if (v->resizable) info.flags |= ZX_INFO_VMO_RESIZABLE;
    if ((v->kind == VMO_SNAPSHOT || v->kind == VMO_ONEWAY) && v->parent) {
      info.flags |= ZX_INFO_VMO_IS_COW_CLONE;
    }
    if (v->immutable) info.flags |= ZX_INFO_VMO_IMMUTABLE;
    if (v->discardable) info.flags |= ZX_INFO_VMO_DISCARDABLE;
    if (v->fam->source) info.flags |= ZX_INFO_VMO_PAGER_BACKED;  // and its children
    info.committed_bytes = a.committed;
    info.handle_rights = rights;
    info.cache_policy = v->cache_policy;
    info.metadata_bytes = a.nodes * sizeof(pnode_t);  // slices: 0
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
