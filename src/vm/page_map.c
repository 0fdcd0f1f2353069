// SPDX-License-Identifier: BSD-3-Clause
// Persistent radix tree of pages; see page_map.h for the contract and invariants.
//
// Index ranges are handled as [base, last] with `last` inclusive, because the root of
// the tallest tree covers 2^66 indices and its end does not fit in 64 bits.
#include "page_map.h"
#include "os.h"

#include <stdatomic.h>
#include <string.h>

static _Atomic uint64_t g_nodes_alive;
static _Atomic uint64_t g_node_copies;

uint64_t pmap_nodes_alive(void) { return atomic_load_explicit(&g_nodes_alive, memory_order_relaxed); }
uint64_t pmap_node_copies(void) { return atomic_load_explicit(&g_node_copies, memory_order_relaxed); }

static inline unsigned slot_of(uint64_t idx, unsigned level) {
  return (unsigned)(idx >> (PMAP_BITS * level)) & PMAP_SLOT_MASK;
}

// Last index covered by the node at `level` whose range contains `idx`.
static inline uint64_t node_last(uint64_t idx, unsigned level) {
  unsigned shift = PMAP_BITS * (level + 1);
  if (shift >= 64) return UINT64_MAX;
  return idx | (((uint64_t)1 << shift) - 1);
}

static inline uint64_t node_base(uint64_t idx, unsigned level) {
  unsigned shift = PMAP_BITS * (level + 1);
  if (shift >= 64) return 0;
  return idx & ~(((uint64_t)1 << shift) - 1);
}

static inline bool root_covers(const pnode_t* root, uint64_t idx) {
  return node_base(idx, root->level) == 0;
}

// A fresh empty node with one reference, or NULL if metadata memory ran out.
static pnode_t* node_new(unsigned level) {
  pnode_t* n = os_malloc(sizeof(*n));
  if (!n) return NULL;
  memset(n, 0, sizeof(*n));
  n->refs = 1;
  n->level = (uint8_t)level;
  atomic_fetch_add_explicit(&g_nodes_alive, 1, memory_order_relaxed);
  return n;
}

static void node_unref(pnode_t* n) {
  ZX_ASSERT(n->refs > 0);
  if (--n->refs > 0) return;
  for (unsigned s = 0; s < PMAP_FANOUT; s++) {
    void* c = n->slot[s];
    if (!c) continue;
    if (n->level == 0) {
      page_unref(c);
    } else {
      node_unref(c);  // recursion bounded by the tree height (<= PMAP_MAX_LEVELS)
    }
  }
  os_free(n);
  atomic_fetch_sub_explicit(&g_nodes_alive, 1, memory_order_relaxed);
}

static void slot_ref(const pnode_t* n, void* c) {
  if (n->level == 0) {
    page_ref(c);
  } else {
    ((pnode_t*)c)->refs++;
  }
}

// A private copy of shared node `n`; the caller's reference moves to the copy. NULL
// (and nothing changed) if metadata memory ran out.
static pnode_t* node_unshare(pnode_t* n) {
  ZX_ASSERT(n->refs > 1);
  pnode_t* c = node_new(n->level);
  if (!c) return NULL;
  c->count = n->count;
  memcpy(c->slot, n->slot, sizeof(c->slot));
  for (unsigned s = 0; s < PMAP_FANOUT; s++) {
    if (c->slot[s]) slot_ref(c, c->slot[s]);
  }
  n->refs--;
  atomic_fetch_add_explicit(&g_node_copies, 1, memory_order_relaxed);
  return c;
}

page_t* pmap_lookup(const pmap_t* m, uint64_t idx) {
  const pnode_t* leaf = pmap_leaf(m, idx);
  return leaf ? leaf->slot[idx & PMAP_SLOT_MASK] : NULL;
}

const pnode_t* pmap_leaf(const pmap_t* m, uint64_t idx) {
  const pnode_t* n = m->root;
  if (!n || !root_covers(n, idx)) return NULL;
  while (n->level > 0) {
    n = n->slot[slot_of(idx, n->level)];
    if (!n) return NULL;
  }
  return n;
}

// Makes every node on the path from the (covering) root to `idx` exclusive to `m`,
// copying shared ones; with `create`, creates missing nodes down to the leaf and
// sets *leaf to it. False if metadata memory ran out: copies made so far hold what
// the originals held, but new empty nodes may remain (the caller prunes them).
static bool exclusive_path(pmap_t* m, uint64_t idx, bool create, pnode_t** leaf) {
  if (m->root->refs > 1) {
    pnode_t* c = node_unshare(m->root);
    if (!c) return false;
    m->root = c;
  }
  pnode_t* n = m->root;
  while (n->level > 0) {
    unsigned s = slot_of(idx, n->level);
    pnode_t* c = n->slot[s];
    if (!c) {
      if (!create) return true;
      if (!(c = node_new(n->level - 1u))) return false;
      n->slot[s] = c;
      n->count++;
    } else if (c->refs > 1) {
      if (!(c = node_unshare(c))) return false;
      n->slot[s] = c;
    }
    n = c;
  }
  *leaf = n;
  return true;
}

pnode_t* pmap_leaf_for_write(pmap_t* m, uint64_t idx) {
  if (!m->root) {
    unsigned level = 0;
    while (node_base(idx, level) != 0) level++;
    if (!(m->root = node_new(level))) return NULL;
  }
  while (!root_covers(m->root, idx)) {
    pnode_t* r = node_new(m->root->level + 1u);
    if (!r) goto fail;  // a taller root with one child is a valid map
    r->slot[0] = m->root;  // the map's reference moves into the new root
    r->count = 1;
    m->root = r;
  }
  pnode_t* leaf;
  if (exclusive_path(m, idx, true, &leaf)) return leaf;
fail:
  // Only empty nodes must go.
  pmap_prune(m, idx);
  return NULL;
}

bool pmap_unshare_path(pmap_t* m, uint64_t idx) {
  if (!m->root || !root_covers(m->root, idx)) return true;
  pnode_t* unused;
  return exclusive_path(m, idx, false, &unused);
}

void pmap_leaf_set(pnode_t* leaf, unsigned s, page_t* p) {
  ZX_ASSERT(leaf->level == 0 && leaf->refs == 1 && p != NULL);
  page_t* old = leaf->slot[s];
  if (old) {
    page_unref(old);
  } else {
    leaf->count++;
  }
  leaf->slot[s] = p;
}

void pmap_leaf_clear(pnode_t* leaf, unsigned s) {
  ZX_ASSERT(leaf->level == 0 && leaf->refs == 1);
  page_t* old = leaf->slot[s];
  if (!old) return;
  page_unref(old);
  leaf->slot[s] = NULL;
  leaf->count--;
}

void pmap_prune(pmap_t* m, uint64_t idx) {
  pnode_t* path[PMAP_MAX_LEVELS + 1];
  unsigned depth = 0;
  pnode_t* n = m->root;
  if (!n || !root_covers(n, idx)) return;
  for (;;) {
    path[depth++] = n;
    if (n->level == 0) break;
    n = n->slot[slot_of(idx, n->level)];
    if (!n) break;
  }
  while (depth > 0) {
    pnode_t* c = path[--depth];
    if (c->count != 0) return;
    ZX_ASSERT(c->refs == 1);
    if (depth == 0) {
      m->root = NULL;
    } else {
      pnode_t* p = path[depth - 1];
      p->slot[slot_of(idx, p->level)] = NULL;
      p->count--;
    }
    os_free(c);
    atomic_fetch_sub_explicit(&g_nodes_alive, 1, memory_order_relaxed);
  }
}

// Removes [lo, last] from the subtree `n` covering [base, ...]. Returns what the
// parent slot should now hold (n itself, a private copy of it, or NULL).
static pnode_t* remove_rec(pnode_t* n, uint64_t base, uint64_t lo, uint64_t last) {
  uint64_t nlast = node_last(base, n->level);
  if (nlast < lo || base > last) return n;
  if (lo <= base && nlast <= last) {
    node_unref(n);
    return NULL;
  }
  // A node straddling the range lies on the path to lo or to last, which
  // pmap_remove_range made exclusive beforehand: nothing here allocates.
  ZX_ASSERT(n->refs == 1);
  unsigned shift = PMAP_BITS * n->level;
  unsigned s_lo = lo <= base ? 0 : (unsigned)((lo - base) >> shift);
  unsigned s_hi = last >= nlast ? PMAP_SLOT_MASK : (unsigned)((last - base) >> shift);
  for (unsigned s = s_lo; s <= s_hi; s++) {
    void* c = n->slot[s];
    if (!c) continue;
    if (n->level == 0) {
      page_unref(c);
      n->slot[s] = NULL;
      n->count--;
    } else {
      pnode_t* r = remove_rec(c, base + ((uint64_t)s << shift), lo, last);
      if (r != c) {
        n->slot[s] = r;
        if (!r) n->count--;
      }
    }
  }
  if (n->count == 0) {
    ZX_ASSERT(n->refs == 1);
    os_free(n);
    atomic_fetch_sub_explicit(&g_nodes_alive, 1, memory_order_relaxed);
    return NULL;
  }
  return n;
}

bool pmap_remove_range(pmap_t* m, uint64_t lo, uint64_t hi) {
  if (!m->root || lo >= hi) return true;
  // Every allocation happens here, before anything is removed: copies of the shared
  // nodes on the two boundary paths (they hold what the originals held).
  if (!pmap_unshare_path(m, lo) || !pmap_unshare_path(m, hi - 1)) return false;
  m->root = remove_rec(m->root, 0, lo, hi - 1);
  return true;
}

// A new reference to the part of subtree `n` (covering [base, ...]) inside
// [lo, last]: `n` itself when wholly inside, else a fresh node sharing what it can;
// NULL when nothing lies inside. Sets *oom (and returns NULL, having released what it
// built) if metadata memory ran out.
static pnode_t* restrict_rec(pnode_t* n, uint64_t base, uint64_t lo, uint64_t last, bool* oom) {
  uint64_t nlast = node_last(base, n->level);
  if (nlast < lo || base > last) return NULL;
  if (lo <= base && nlast <= last) {
    n->refs++;
    return n;
  }
  pnode_t* c = node_new(n->level);
  if (!c) {
    *oom = true;
    return NULL;
  }
  unsigned shift = PMAP_BITS * n->level;
  unsigned s_lo = lo <= base ? 0 : (unsigned)((lo - base) >> shift);
  unsigned s_hi = last >= nlast ? PMAP_SLOT_MASK : (unsigned)((last - base) >> shift);
  for (unsigned s = s_lo; s <= s_hi; s++) {
    void* x = n->slot[s];
    if (!x) continue;
    if (n->level == 0) {
      page_ref(x);
    } else {
      x = restrict_rec(x, base + ((uint64_t)s << shift), lo, last, oom);
      if (*oom) break;
      if (!x) continue;
    }
    c->slot[s] = x;
    c->count++;
  }
  if (*oom || c->count == 0) {
    node_unref(c);  // drops the references taken above and frees c
    return NULL;
  }
  return c;
}

bool pmap_clone_range(pmap_t* dst, const pmap_t* src, uint64_t lo, uint64_t hi) {
  ZX_ASSERT(dst->root == NULL);
  if (!src->root || lo >= hi) return true;
  bool oom = false;
  dst->root = restrict_rec(src->root, 0, lo, hi - 1, &oom);
  return !oom;
}

void pmap_destroy(pmap_t* m) {
  if (m->root) node_unref(m->root);
  m->root = NULL;
}

page_t* pmap_next(const pmap_t* m, uint64_t* idx, uint64_t hi) {
  uint64_t i = *idx;
  const pnode_t* root = m->root;
  if (!root) return NULL;
  while (i < hi) {
    if (!root_covers(root, i)) return NULL;
    const pnode_t* n = root;
    for (;;) {
      unsigned level = n->level;
      unsigned s = slot_of(i, level);
      unsigned t = s;
      while (t < PMAP_FANOUT && !n->slot[t]) t++;
      if (t == PMAP_FANOUT) {
        uint64_t nl = node_last(i, level);
        if (nl == UINT64_MAX) return NULL;
        i = nl + 1;
        break;  // restart from the root past this empty stretch
      }
      if (t != s) {
        i = node_base(i, level) + ((uint64_t)t << (PMAP_BITS * level));
      }
      if (level == 0) {
        if (i >= hi) return NULL;
        *idx = i;
        return n->slot[t];
      }
      n = n->slot[t];
    }
  }
  return NULL;
}

bool pmap_exclusive(const pmap_t* m, uint64_t idx) {
  const pnode_t* n = m->root;
  if (!n || !root_covers(n, idx)) return false;
  for (;;) {
    if (n->refs != 1) return false;
    if (n->level == 0) break;
    n = n->slot[slot_of(idx, n->level)];
    if (!n) return false;
  }
  const page_t* p = n->slot[idx & PMAP_SLOT_MASK];
  return p && !page_is_marker(p) && p->refs == 1;
}
