// SPDX-License-Identifier: BSD-3-Clause
// ZX_INFO_PROCESS_VMOS and ZX_INFO_TASK_STATS on the process handle (docs/behavior.md
// §12): what the program reaches through handles and mappings, and what its mappings
// cost.
//
// PROCESS_VMOS lists one record per VMO handle (flag VIA_HANDLE, the handle's rights)
// and one per mapping (flag VIA_MAPPING, rights 0), duplicates included, as Zircon
// does. The VMOs are collected first (references taken, no lock kept), then described
// one at a time, so no handle-table or address-space lock is held while a family lock
// is taken for ZX_INFO_VMO.
#include <string.h>

#include <zircon/syscalls/object.h>

#include "handle.h"
#include "os.h"
#include "process_info.h"
#include "user_copy.h"
#include "vmar.h"

static size_t vmo_record_size(uint32_t topic) {
  switch (topic) {
    case ZX_INFO_PROCESS_VMOS_V1:
      return sizeof(zx_info_vmo_v1_t);
    case ZX_INFO_PROCESS_VMOS_V2:
      return sizeof(zx_info_vmo_v2_t);
    case ZX_INFO_PROCESS_VMOS_V3:
      return sizeof(zx_info_vmo_v3_t);
    default:
      return sizeof(zx_info_vmo_t);
  }
}

// The ZX_INFO_VMO topic whose layout a PROCESS_VMOS topic uses.
static uint32_t vmo_topic(uint32_t topic) {
  switch (topic) {
    case ZX_INFO_PROCESS_VMOS_V1:
      return ZX_INFO_VMO_V1;
    case ZX_INFO_PROCESS_VMOS_V2:
      return ZX_INFO_VMO_V2;
    case ZX_INFO_PROCESS_VMOS_V3:
      return ZX_INFO_VMO_V3;
    default:
      return ZX_INFO_VMO;
  }
}

typedef struct collect {
  handle_ref_t* v;
  size_t n, cap;
  bool oom;
} collect_t;

static void collect_mapping(mapping_t* m, void* ctx) {
  collect_t* c = ctx;
  if (c->oom) return;
  if (c->n == c->cap) {
    size_t cap = c->cap ? c->cap * 2 : 16;
    handle_ref_t* v = os_realloc(c->v, cap * sizeof(*v));
    if (!v) {
      c->oom = true;
      return;
    }
    c->v = v;
    c->cap = cap;
  }
  object_ref(&m->vmo->obj);
  c->v[c->n++] = (handle_ref_t){.obj = &m->vmo->obj, .rights = 0};
}

zx_status_t process_get_vmos(uint32_t topic, void* buffer, size_t buffer_size, size_t* actual,
                             size_t* avail) {
  size_t rec = vmo_record_size(topic);
  if (!buffer && buffer_size > 0) return ZX_ERR_INVALID_ARGS;
  handle_ref_t* hv;
  size_t hn;
  zx_status_t st = handle_collect(ZX_OBJ_TYPE_VMO, &hv, &hn);
  if (st != ZX_OK) return st;
  collect_t mc = {NULL, 0, 0, false};
  aspace_rdlock();
  aspace_for_each(collect_mapping, &mc);
  aspace_unlock();
  size_t cap = buffer ? buffer_size / rec : 0;
  size_t total = 0, out = 0;
  if (mc.oom) st = ZX_ERR_NO_MEMORY;
  for (size_t i = 0; st == ZX_OK && i < hn + mc.n; i++) {
    bool via_map = i >= hn;
    handle_ref_t* r = via_map ? &mc.v[i - hn] : &hv[i];
    zx_info_vmo_t info;
    // A VMO whose last handle went meanwhile is no longer the process's: skipped.
    if (vmo_get_info(r->obj, r->rights, vmo_topic(topic), &info, rec, NULL, NULL) != ZX_OK) {
      continue;
    }
    if (via_map) {
      info.flags = (info.flags & ~ZX_INFO_VMO_VIA_HANDLE) | ZX_INFO_VMO_VIA_MAPPING;
      info.handle_rights = 0;
    }
    total++;
    if (out < cap) {
      st = user_copy_out((uint8_t*)buffer + out * rec, &info, rec);
      out++;
    }
  }
  handle_collect_free(hv, hn);
  handle_collect_free(mc.v, mc.n);
  if (st != ZX_OK) return st;
  if (actual) *actual = out;
  if (avail) *avail = total;
  return ZX_OK;
}

typedef struct stats_acc {
  uint64_t mapped, committed;
} stats_acc_t;

static void add_mapping(mapping_t* m, void* ctx) {
  stats_acc_t* a = ctx;
  a->mapped += m->len;
  a->committed += mapping_committed_bytes(m);
}

zx_status_t process_get_task_stats(uint32_t topic, void* buffer, size_t buffer_size,
                                   size_t* actual, size_t* avail) {
  size_t rec = topic == ZX_INFO_TASK_STATS_V1 ? sizeof(zx_info_task_stats_v1_t)
                                              : sizeof(zx_info_task_stats_t);
  if (!buffer || buffer_size < rec) {
    // As every single-record topic: nothing written, one record available.
    if (actual) *actual = 0;
    if (avail) *avail = 1;
    return ZX_ERR_BUFFER_TOO_SMALL;
  }
  stats_acc_t a = {0, 0};
  aspace_rdlock();
  aspace_for_each(add_mapping, &a);
  aspace_unlock();
  // One process: every committed byte it maps is private to it.
  zx_info_task_stats_t s;
  memset(&s, 0, sizeof(s));
  s.mem_mapped_bytes = a.mapped;
  s.mem_private_bytes = a.committed;
  zx_status_t st = user_copy_out(buffer, &s, rec);
  if (st != ZX_OK) return st;
  if (actual) *actual = 1;
  if (avail) *avail = 1;
  return ZX_OK;
}
