// SPDX-License-Identifier: BSD-3-Clause
// ZX_INFO_VMAR, ZX_INFO_VMAR_MAPS and ZX_INFO_PROCESS_MAPS: the tree, depth-first in
// pre-order, with the address-space lock held exclusively (the core's
// mapping_committed_bytes expects it so) for one consistent picture.
//
// Names: the address space entry takes the process's name, the root VMAR is "root",
// other VMARs "useralloc" (Zircon's names for them) and a mapping its VMO's name.
#include <string.h>

#include "vmar_tree.h"

// Where the records go: `cap` of them fit in `buffer`; `n` were produced so far.
typedef struct sink {
  uint32_t topic;
  uint8_t* buffer;
  size_t cap;
  size_t rec;
  size_t n;
} sink_t;

static size_t record_size(uint32_t topic) {
  switch (topic) {
    case ZX_INFO_PROCESS_MAPS_V1:
      return sizeof(zx_info_maps_v1_t);
    case ZX_INFO_PROCESS_MAPS_V2:
      return sizeof(zx_info_maps_v2_t);
    default:
      return sizeof(zx_info_maps_t);
  }
}

// Writes `e` in the topic's layout (older layouts count pages, not bytes).
static void sink_put(sink_t* s, const zx_info_maps_t* e) {
  if (s->n < s->cap) {
    uint8_t* at = s->buffer + s->n * s->rec;
    if (s->topic == ZX_INFO_PROCESS_MAPS_V1 || s->topic == ZX_INFO_PROCESS_MAPS_V2) {
      zx_info_maps_v2_t o;
      memset(&o, 0, sizeof(o));
      memcpy(o.name, e->name, sizeof(o.name));
      o.base = e->base;
      o.size = e->size;
      o.depth = e->depth;
      o.type = e->type;
      if (e->type == ZX_INFO_MAPS_TYPE_MAPPING) {
        o.u.mapping.mmu_flags = e->u.mapping.mmu_flags;
        o.u.mapping.vmo_koid = e->u.mapping.vmo_koid;
        o.u.mapping.vmo_offset = e->u.mapping.vmo_offset;
        o.u.mapping.committed_pages = e->u.mapping.committed_bytes / PAGE_SIZE;
        o.u.mapping.populated_pages = e->u.mapping.populated_bytes / PAGE_SIZE;
      }
      // V1 is V2 without populated_pages: a prefix.
      memcpy(at, &o, s->rec);
    } else {
      memcpy(at, e, sizeof(*e));
    }
  }
  s->n++;
}

static void put_node(sink_t* s, const char* name, uintptr_t base, uint64_t size, size_t depth,
                     zx_info_maps_type_t type) {
  zx_info_maps_t e;
  memset(&e, 0, sizeof(e));
  size_t n = strnlen(name, sizeof(e.name) - 1);
  memcpy(e.name, name, n);
  e.base = base;
  e.size = size;
  e.depth = depth;
  e.type = type;
  sink_put(s, &e);
}

static void put_vmar(sink_t* s, const vmar_t* v, size_t depth) {
  put_node(s, v->parent == NULL ? "root" : "useralloc", v->base, v->len, depth,
           ZX_INFO_MAPS_TYPE_VMAR);
}

static void put_mapping(sink_t* s, vmap_t* r, size_t depth) {
  zx_info_maps_t e;
  memset(&e, 0, sizeof(e));
  object_get_name(&r->m.vmo->obj, e.name);
  e.base = r->m.base;
  e.size = r->m.len;
  e.depth = depth;
  e.type = ZX_INFO_MAPS_TYPE_MAPPING;
  e.u.mapping.mmu_flags = r->m.perms;
  e.u.mapping.vmo_koid = r->m.vmo->obj.koid;
  e.u.mapping.vmo_offset = r->m.vmo_off;
  // TODO(mapping core): private and scaled figures need a per-mapping attribution
  // from the core; only the committed bytes are available through mapping.h.
  uint64_t committed = mapping_committed_bytes(&r->m);
  e.u.mapping.committed_bytes = committed;
  e.u.mapping.populated_bytes = committed;
  sink_put(s, &e);
}

// Pre-order from `top` (at `depth`), with the parent links as the stack.
static void walk_locked(sink_t* s, vmar_t* top, size_t depth) {
  put_vmar(s, top, depth);
  vmar_t* cur = top;
  size_t i = 0;
  for (;;) {
    if (i < cur->nkids) {
      vchild_t c = cur->kids[i];
      if (c.map != NULL) {
        put_mapping(s, c.map, depth + 1);
        i++;
      } else {
        put_vmar(s, c.sub, depth + 1);
        cur = c.sub;
        i = 0;
        depth++;
      }
      continue;
    }
    if (cur == top) return;
    vmar_t* p = cur->parent;
    i = vmar_kid_index_locked(p, cur->base) + 1;
    cur = p;
    depth--;
  }
}

// Multi-record topics: as many records as fit, *actual of them written, *avail in all.
static zx_status_t finish(sink_t* s, size_t* actual, size_t* avail) {
  if (actual != NULL) *actual = s->n < s->cap ? s->n : s->cap;
  if (avail != NULL) *avail = s->n;
  return ZX_OK;
}

zx_status_t vmar_get_info(vmar_t* v, uint32_t topic, void* buffer, size_t buffer_size,
                          size_t* actual, size_t* avail) {
  if (topic == ZX_INFO_VMAR) {
    zx_info_vmar_t info = {.base = v->base, .len = v->len};
    size_t n = 0;
    if (buffer_size >= sizeof(info)) {
      if (buffer == NULL) return ZX_ERR_INVALID_ARGS;
      memcpy(buffer, &info, sizeof(info));
      n = 1;
    }
    if (actual != NULL) *actual = n;
    if (avail != NULL) *avail = 1;
    return n == 1 ? ZX_OK : ZX_ERR_BUFFER_TOO_SMALL;
  }
  sink_t s = {.topic = topic, .buffer = buffer, .rec = record_size(topic), .n = 0};
  s.cap = buffer_size / s.rec;
  if (buffer == NULL && s.cap > 0) return ZX_ERR_INVALID_ARGS;
  aspace_wrlock();
  zx_status_t st = ZX_ERR_BAD_STATE;
  if (!v->destroyed) {
    walk_locked(&s, v, 0);
    st = ZX_OK;
  }
  aspace_unlock();
  return st == ZX_OK ? finish(&s, actual, avail) : st;
}

zx_status_t process_get_maps(zx_object_t* process, uint32_t topic, void* buffer,
                             size_t buffer_size, size_t* actual, size_t* avail) {
  sink_t s = {.topic = topic, .buffer = buffer, .rec = record_size(topic), .n = 0};
  s.cap = buffer_size / s.rec;
  if (buffer == NULL && s.cap > 0) return ZX_ERR_INVALID_ARGS;
  vmar_t* root = vmar_root();
  if (root == NULL) return ZX_ERR_NO_MEMORY;
  char name[ZX_MAX_NAME_LEN];
  object_get_name(process, name);
  aspace_wrlock();
  put_node(&s, name, root->base, root->len, 0, ZX_INFO_MAPS_TYPE_ASPACE);
  walk_locked(&s, root, 1);
  aspace_unlock();
  return finish(&s, actual, avail);
}
