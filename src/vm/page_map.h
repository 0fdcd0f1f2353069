// SPDX-License-Identifier: BSD-3-Clause
// The page map: a persistent (path-copying) radix tree from page index to page.
//
// Every non-slice VMO owns one pmap. Maps of one family share subtrees: a snapshot
// takes a reference on the parent's nodes instead of copying them, so creating it
// costs O(height x fanout) whatever the number of committed pages. A node or page
// referenced more than once is immutable; whoever wants to change it first copies the
// path from the root to it (pmap_leaf_for_write), and copies a shared page before
// writing it.
//
// Shape: PMAP_FANOUT slots per node; a node at level L covers 64^(L+1) indices; leaves
// (level 0) hold page_t*, inner nodes hold pnode_t*. A map's root covers [0, 64^(h)).
// Heights are at most PMAP_MAX_LEVELS, so the recursive helpers here recurse at
// most that deep, whatever the user does.
//
// Invariants (checked by vmo_check): node->count is the number of non-NULL slots and
// is never 0 (empty nodes are freed); a child's level is its parent's minus one;
// node->refs and page->refs equal the number of references from the family's maps and
// nodes. All of a pmap's state is guarded by the owning family's lock; writers hold it
// exclusively.
#ifndef ZXVMO_SRC_PAGE_MAP_H_
#define ZXVMO_SRC_PAGE_MAP_H_

#include "internal.h"
#include "page_pool.h"

#define PMAP_BITS 6u
#define PMAP_FANOUT (1u << PMAP_BITS)
#define PMAP_SLOT_MASK (PMAP_FANOUT - 1)
#define PMAP_MAX_LEVELS 11u  // 66 bits of page index: more than any VMO needs

// Every field is guarded by the owning family's lock (f); `level` is constant (c).
typedef struct pnode {
  uint32_t refs;     // (f) references from parent nodes and map roots
  uint8_t level;     // (c) 0 for leaves
  uint8_t count;     // (f) non-NULL slots
  uint64_t epoch;    // (f) scratch for walkers (attribution, checker)
  uint64_t paths;    // (f) scratch: number of map roots reaching this node
  void* slot[PMAP_FANOUT];  // (f) pages (level 0) or nodes; immutable while refs > 1
} pnode_t;

typedef struct pmap {
  pnode_t* root;     // (f) NULL when the map holds no page
} pmap_t;

// Page at `idx`, or NULL.
page_t* pmap_lookup(const pmap_t* m, uint64_t idx);
// Leaf covering `idx` (slot idx & PMAP_SLOT_MASK), or NULL if there is none.
const pnode_t* pmap_leaf(const pmap_t* m, uint64_t idx);
// Leaf covering `idx`, made exclusive to this map (every node on the path has
// refs == 1, copying shared ones), creating missing nodes. Pages in it may still be
// shared (page->refs > 1). Returns NULL if metadata memory ran out; the map then
// reads exactly as before (nodes already copied stay copied, no empty node is left).
// Once it has succeeded for `idx`, calling it again for `idx` allocates nothing
// until the map is shared or pruned again: callers that must not fail half-way call
// it for every index they will touch first ("prepare"), then change pages.
pnode_t* pmap_leaf_for_write(pmap_t* m, uint64_t idx);
// Makes the nodes that exist on the path to `idx` exclusive to this map, creating
// none. False if metadata memory ran out (the map reads exactly as before).
bool pmap_unshare_path(pmap_t* m, uint64_t idx);
// Sets slot `s` of an exclusive leaf to `p` (taking over the caller's reference),
// dropping the reference of the page it held.
void pmap_leaf_set(pnode_t* leaf, unsigned s, page_t* p);
// Removes slot `s` of an exclusive leaf (dropping the page's reference). The leaf may
// become empty; pmap_prune(m, idx) then frees empty nodes on the path to idx.
void pmap_leaf_clear(pnode_t* leaf, unsigned s);
void pmap_prune(pmap_t* m, uint64_t idx);

// Removes every page with index in [lo, hi). Whole shared subtrees inside the range
// are dropped without being copied. False if metadata memory ran out, in which case
// nothing was removed (only the two boundary paths may have been copied).
bool pmap_remove_range(pmap_t* m, uint64_t lo, uint64_t hi);
// Makes `dst` (which must be empty) a map holding exactly src's pages in [lo, hi),
// sharing every subtree that lies wholly inside the range. False (dst left empty) if
// metadata memory ran out.
bool pmap_clone_range(pmap_t* dst, const pmap_t* src, uint64_t lo, uint64_t hi);
// Drops the map's reference to its nodes (freeing what nobody else references).
void pmap_destroy(pmap_t* m);

// First page with index in [*idx, hi): returns it and sets *idx, or returns NULL.
page_t* pmap_next(const pmap_t* m, uint64_t* idx, uint64_t hi);

// True if `idx` is present and the path and the page are referenced only by `m`.
bool pmap_exclusive(const pmap_t* m, uint64_t idx);

uint64_t pmap_nodes_alive(void);
uint64_t pmap_node_copies(void);

#endif  // ZXVMO_SRC_PAGE_MAP_H_
