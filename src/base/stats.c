// SPDX-License-Identifier: BSD-3-Clause
// The library's own extras (zxvmo.h): counters, the page budget and the debug dump.
#include <string.h>

#include <zxvmo.h>

#include "family_walk.h"
#include "handle.h"

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
    case VMO_SLICE: return v->reference ? "reference" : "slice";
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
          (unsigned long)pmap_count_nodes(v->map.root));
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
