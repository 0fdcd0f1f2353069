// Walking a family's shared page-map DAG once, top level first: the common step of
// memory attribution, the invariant checker and the page census.
//
// dag_walk_locked() visits every distinct node reachable from the family's map roots
// exactly once (no recursion: level by level) and leaves, for this walk's epoch,
// node->paths = the number of map roots reaching the node, and for every page
// page->u.s.count = the number of (root, leaf slot) paths reaching it. The scratch
// fields are the family's: the caller holds the family lock exclusively.
#ifndef ZXVMO_SRC_FAMILY_WALK_H_
#define ZXVMO_SRC_FAMILY_WALK_H_

#include "vmo.h"

// A growable array of nodes, one per tree level.
typedef struct node_vec {
  pnode_t** v;
  size_t n, cap;
} node_vec_t;

typedef struct dag {
  node_vec_t level[PMAP_MAX_LEVELS + 1];
  uint64_t epoch;
} dag_t;

// Appends; false on allocation failure (the vector is unchanged).
bool dag_vec_push(node_vec_t* a, pnode_t* x);
void dag_free(dag_t* d);
// The walk described above. Returns false on allocation failure; dag_free() is
// needed either way.
bool dag_walk_locked(family_t* fam, dag_t* d);
// Number of nodes of the tree under `root` (shared subtrees counted once per path).
uint64_t pmap_count_nodes(const pnode_t* root);

#endif  // ZXVMO_SRC_FAMILY_WALK_H_
