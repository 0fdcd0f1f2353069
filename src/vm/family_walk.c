// SPDX-License-Identifier: BSD-3-Clause
// The family DAG walk; see family_walk.h for the contract.
#include "family_walk.h"
#include "os.h"

#include <string.h>

void family_scratch_lock(family_t* fam) { rw_wrlock(&fam->info_lock); }

void family_scratch_unlock(family_t* fam) { rw_wrunlock(&fam->info_lock); }

vmo_t* family_first_member(family_t* fam) { return fam->members; }

bool dag_vec_push(node_vec_t* a, pnode_t* x) {
  if (a->n == a->cap) {
    size_t cap = a->cap ? a->cap * 2 : 64;
    pnode_t** nv = os_realloc(a->v, cap * sizeof(*nv));
    if (!nv) return false;
    a->v = nv;
    a->cap = cap;
  }
  a->v[a->n++] = x;
  return true;
}

void dag_free(dag_t* d) {
  for (unsigned l = 0; l <= PMAP_MAX_LEVELS; l++) os_free(d->level[l].v);
}

bool dag_walk_locked(family_t* fam, dag_t* d) {
  family_assert_exclusive(fam);
  memset(d, 0, sizeof(*d));
  d->epoch = ++fam->epoch;
  for (vmo_t* m = fam->members; m; m = m->fm.next) {
    pnode_t* r = m->map.root;
    if (!r) continue;
    if (r->epoch != d->epoch) {
      r->epoch = d->epoch;
      r->paths = 0;
      if (!dag_vec_push(&d->level[r->level], r)) return false;
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
          if (!dag_vec_push(&d->level[l - 1], c)) return false;
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

uint64_t pmap_count_nodes(const pnode_t* root) {
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
