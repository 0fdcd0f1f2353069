// SPDX-License-Identifier: BSD-3-Clause
// Pager objects: see pager.h.
#include "pager.h"

#include "os.h"
#include "page_source.h"

typedef struct pager_entry {
  struct pager_entry* next;
  page_source_t* src;  // holds a reference
} pager_entry_t;

struct pager {
  zx_object_t base;
  pthread_mutex_t lock;
  bool closed;              // (lock) the last handle is closed
  pager_entry_t* entries;   // (lock) sources not detached yet
};

static void pager_destroy(zx_object_t* obj) {
  pager_t* p = pager_from_obj(obj);
  ZX_ASSERT(p->entries == NULL);  // on_zero_handles took them
  pthread_mutex_destroy(&p->lock);
  pthread_mutex_destroy(&obj->lock);
  os_free(p);
}

// Closing a pager detaches every VMO it serves: their waiters fail, their resident
// pages stay readable, and no COMPLETE packet is sent.
static void pager_on_zero_handles(zx_object_t* obj) {
  pager_t* p = pager_from_obj(obj);
  pthread_mutex_lock(&p->lock);
  p->closed = true;
  pager_entry_t* e = p->entries;
  p->entries = NULL;
  pthread_mutex_unlock(&p->lock);
  while (e) {
    pager_entry_t* next = e->next;
    source_detach(e->src, false);
    source_unref(e->src);
    os_free(e);
    e = next;
  }
}

static const object_ops_t pager_ops = {
    .type = ZX_OBJ_TYPE_PAGER,
    .user_settable = 0,
    .on_zero_handles = pager_on_zero_handles,
    .destroy = pager_destroy,
};

pager_t* pager_create(void) {
  pager_t* p = os_calloc(1, sizeof(*p));
  if (!p) return NULL;
  object_init(&p->base, &pager_ops, ZX_SIGNAL_NONE);
  int rc = pthread_mutex_init(&p->lock, NULL);
  ZX_ASSERT(rc == 0);
  return p;
}

zx_object_t* pager_obj(pager_t* p) { return &p->base; }

// Unlinks the entry of `src` from p, if it is still there; the caller frees it.
static pager_entry_t* entry_take(pager_t* p, page_source_t* src) {
  pthread_mutex_lock(&p->lock);
  pager_entry_t** link = &p->entries;
  while (*link && (*link)->src != src) link = &(*link)->next;
  pager_entry_t* e = *link;
  if (e) *link = e->next;
  pthread_mutex_unlock(&p->lock);
  return e;
}

static void entry_free(pager_entry_t* e) {
  if (!e) return;
  source_unref(e->src);
  os_free(e);
}

zx_status_t pager_create_vmo(pager_t* p, port_t* port, uint64_t key, uint64_t size,
                             uint64_t content_size, bool resizable, bool trap_dirty,
                             vmo_t** out) {
  pager_entry_t* e = os_calloc(1, sizeof(*e));
  if (!e) return ZX_ERR_NO_MEMORY;
  page_source_t* src = source_create(p->base.koid, port, key, trap_dirty);
  if (!src) {
    os_free(e);
    return ZX_ERR_NO_MEMORY;
  }
  e->src = src;  // the creator's reference
  // Listed before the VMO exists, so that a pager closing meanwhile detaches it.
  pthread_mutex_lock(&p->lock);
  bool closed = p->closed;
  if (!closed) {
    e->next = p->entries;
    p->entries = e;
  }
  pthread_mutex_unlock(&p->lock);
  if (closed) {
    entry_free(e);
    return ZX_ERR_BAD_STATE;
  }
  source_ref(src);  // the VMO's
  zx_status_t st = vmo_create_pager(size, content_size, resizable, src, out);
  if (st != ZX_OK) entry_free(entry_take(p, src));
  return st;
}

bool pager_owns_vmo(pager_t* p, vmo_t* v) {
  return vmo_is_pager_root(v) && source_pager(v->fam->source) == p->base.koid;
}

void pager_detach_vmo(pager_t* p, vmo_t* v) {
  ZX_ASSERT(pager_owns_vmo(p, v));
  pager_entry_t* e = entry_take(p, v->fam->source);
  vmo_pager_detach(v);
  entry_free(e);
}
