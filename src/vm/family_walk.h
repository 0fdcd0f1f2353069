// SPDX-License-Identifier: BSD-3-Clause
// Walking a family's shared page-map DAG once, top level first: the common step of
// the invariant checker and the page census; and who may write the walkers' scratch.
//
// Scratch. Walkers stamp nodes and pages with a fresh epoch (fam->epoch) and keep
// per-walk values next to the stamp: node->epoch/paths, page->u.s, and the VMO fields
// vmo->through/through_n (one-way views) and vmo->attr/attr_gen (cached figures). They
// belong to whoever holds the family lock exclusively (the checker, the census), or
// holds it shared together with the family's scratch lock (family_scratch_lock:
// ZX_INFO_VMO queries). Readers of contents hold the lock shared and never touch them;
// writers hold it exclusively, so never overlap a query; the scratch lock keeps
// queries apart.
//
// dag_walk_locked() visits every distinct node reachable from the family's map roots
// exactly once (no recursion: level by level) and leaves, for this walk's epoch,
// node->paths = the number of map roots reaching the node, and for every page
// page->u.s.count = the number of (root, leaf slot) paths reaching it. The caller
// holds the family lock exclusively.
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

// fam->members, as a function: white-box tests are not compiled with the library's
// ZXVMO_CHECKS setting, so family_t's layout (unlike vmo_t's) may differ in them.
// Caller holds the family lock, or no other thread works on the family.
vmo_t* family_first_member(family_t* fam);

// Takes the family's scratch lock (fam->info_lock, used as a mutex); the caller holds
// the family lock shared. Lock order: family lock -> scratch lock -> object and pool
// locks.
void family_scratch_lock(family_t* fam);
void family_scratch_unlock(family_t* fam);

#endif  // ZXVMO_SRC_FAMILY_WALK_H_
