// The reference model (see model.h). Written for obviousness: loops over flat slot
// arrays, no sharing tricks, no recursion. Each entry point mirrors one syscall and
// its checks in the order docs/behavior.md gives.
#include "model.h"

#include <stdlib.h>
#include <string.h>

#include <zircon/errors.h>
#include <zircon/rights.h>
#include <zircon/syscalls/object.h>

// The zero marker: a slot that reads as zero and hides the backing. Only its address
// is used.
static mrec_t g_marker;
#define MARKER (&g_marker)

#define DEFAULT_RIGHTS                                                                    \
  (ZX_RIGHT_DUPLICATE | ZX_RIGHT_TRANSFER | ZX_RIGHT_WAIT | ZX_RIGHT_INSPECT |           \
   ZX_RIGHT_READ | ZX_RIGHT_WRITE | ZX_RIGHT_GET_PROPERTY | ZX_RIGHT_SET_PROPERTY |       \
   ZX_RIGHT_MAP | ZX_RIGHT_SIGNAL)

static uint64_t min64(uint64_t a, uint64_t b) { return a < b ? a : b; }
// max(0, a - b) without wrapping.
static uint64_t sub_sat(uint64_t a, uint64_t b) { return a > b ? a - b : 0; }
static bool aligned(uint64_t x) { return (x & (M_PAGE - 1)) == 0; }
// Round up to a page; false if it wraps.
static bool round_up(uint64_t x, uint64_t* out) {
  if (x > UINT64_MAX - (M_PAGE - 1)) return false;
  *out = (x + M_PAGE - 1) & ~(M_PAGE - 1);
  return true;
}

// ---- records ----

static mrec_t* rec_new(model_t* m) {
  mrec_t* r = calloc(1, sizeof(*r));
  if (!r) abort();
  r->id = ++m->next_rec_id;
  r->next = m->live;
  if (m->live) m->live->prev = r;
  m->live = r;
  m->nlive++;
  return r;
}

static void rec_unref(model_t* m, mrec_t* r) {
  if (!r || r == MARKER) return;
  if (--r->refs > 0) return;
  if (r->prev) {
    r->prev->next = r->next;
  } else {
    m->live = r->next;
  }
  if (r->next) r->next->prev = r->prev;
  m->nlive--;
  free(r);
}

// Points slot x of v at r (NULL, marker or record), dropping what was there.
static void set_slot(model_t* m, mvmo_t* v, uint64_t x, mrec_t* r) {
  mrec_t* old = v->slots[x];
  if (r && r != MARKER) r->refs++;
  v->slots[x] = r;
  rec_unref(m, old);
}

// ---- views ----

// What non-slice VMO v shows at page x: a record, or NULL for zero.
static mrec_t* view(model_t* m, const mvmo_t* v, uint64_t x) {
  for (;;) {
    if (x >= v->pages) return NULL;
    mrec_t* s = v->slots[x];
    if (s) return s == MARKER ? NULL : s;
    if (v->kind == MK_ONEWAY && v->backing >= 0 && x < v->cut) {
      x += v->boff;
      v = &m->v[v->backing];
      continue;
    }
    return NULL;
  }
}

// What v would show at x if it had no own slot there.
static mrec_t* backing_view(model_t* m, const mvmo_t* v, uint64_t x) {
  if (v->kind != MK_ONEWAY || v->backing < 0 || x >= v->cut) return NULL;
  return view(m, &m->v[v->backing], x + v->boff);
}

// The VMO holding the pages behind v and v's page 0 in it.
static mvmo_t* content(model_t* m, mvmo_t* v, uint64_t* base) {
  if (v->kind == MK_SLICE) {
    *base = v->soff;
    return &m->v[v->root];
  }
  *base = 0;
  return v;
}

// Makes slot x of c a record referenced only by that slot, content unchanged (the
// write rule): in place if it already is one, else a fresh copy of the view.
static mrec_t* own_page(model_t* m, mvmo_t* c, uint64_t x) {
  mrec_t* s = c->slots[x];
  if (s && s != MARKER && s->refs == 1) return s;
  mrec_t* src = s == MARKER ? NULL : s ? s : backing_view(m, c, x);
  mrec_t* n = rec_new(m);
  if (src) memcpy(n->bytes, src->bytes, sizeof(n->bytes));
  set_slot(m, c, x, n);
  return n;
}

static bool is_holder(const mvmo_t* v) {
  return v->used && v->kind != MK_SLICE && (v->alive || v->nslices > 0);
}

// ---- setup ----

void m_init(model_t* m) {
  memset(m, 0, sizeof(*m));
  m->compat_dead_root_drops_backing = false;
}

static int vmo_alloc(model_t* m) {
  for (int i = 0; i < M_MAX_VMOS; i++) {
    if (!m->v[i].used) {
      memset(&m->v[i], 0, sizeof(m->v[i]));
      m->v[i].used = true;
      m->v[i].alive = true;
      m->v[i].parent = -1;
      m->v[i].backing = -1;
      m->v[i].root = -1;
      m->v[i].seq = ++m->next_seq;
      return i;
    }
  }
  return -1;
}

static int handle_alloc(model_t* m, int vmo, zx_rights_t rights) {
  for (int i = 0; i < M_MAX_HANDLES; i++) {
    if (!m->h[i].used) {
      m->h[i].used = true;
      m->h[i].vmo = vmo;
      m->h[i].rights = rights;
      m->v[vmo].handles++;
      return i;
    }
  }
  return -1;
}

int m_handle_count(const model_t* m) {
  int n = 0;
  for (int i = 0; i < M_MAX_HANDLES; i++) n += m->h[i].used;
  return n;
}

int m_handle_nth(const model_t* m, int k) {
  for (int i = 0; i < M_MAX_HANDLES; i++) {
    if (m->h[i].used && k-- == 0) return i;
  }
  return -1;
}

uint64_t m_pages_in_use(const model_t* m) { return m->nlive; }

uint64_t m_children(const model_t* m, int vmo) {
  uint64_t n = 0;
  for (int i = 0; i < M_MAX_VMOS; i++) {
    if (m->v[i].used && m->v[i].alive && m->v[i].parent == vmo) n++;
  }
  return n;
}

// Handle lookup in the library's order: BAD_HANDLE, WRONG_TYPE, ACCESS_DENIED.
static zx_status_t lookup(model_t* m, int h, zx_rights_t need, mvmo_t** v, zx_rights_t* rights) {
  if (h == M_H_WRONG_TYPE) return ZX_ERR_WRONG_TYPE;
  if (h < 0 || h >= M_MAX_HANDLES || !m->h[h].used) return ZX_ERR_BAD_HANDLE;
  if ((m->h[h].rights & need) != need) return ZX_ERR_ACCESS_DENIED;
  *v = &m->v[m->h[h].vmo];
  if (rights) *rights = m->h[h].rights;
  return ZX_OK;
}

static zx_status_t range(const mvmo_t* v, uint64_t off, uint64_t len) {
  uint64_t size = v->pages * M_PAGE;
  if (off > size || len > size - off) return ZX_ERR_OUT_OF_RANGE;
  return ZX_OK;
}

// ---- death ----

// Whether some live slice of root r windows r's page x.
static bool slice_sees(const model_t* m, const mvmo_t* r, uint64_t x) {
  int rid = (int)(r - m->v);
  for (int i = 0; i < M_MAX_VMOS; i++) {
    const mvmo_t* s = &m->v[i];
    if (s->used && s->kind == MK_SLICE && s->root == rid && x >= s->soff &&
        x < s->soff + s->pages) {
      return true;
    }
  }
  return false;
}

// Drops every page of dead root r that no live slice windows.
static void trim_to_slices(model_t* m, mvmo_t* r) {
  for (uint64_t x = 0; x < r->pages; x++) {
    if (!slice_sees(m, r, x)) set_slot(m, r, x, NULL);
  }
}

static void release(model_t* m, mvmo_t* v) {
  for (uint64_t x = 0; x < v->pages; x++) set_slot(m, v, x, NULL);
  free(v->slots);
  memset(v, 0, sizeof(*v));
  v->parent = v->backing = v->root = -1;
}

// v's last handle closed (docs/behavior.md §5 and §9).
static void vmo_die(model_t* m, mvmo_t* v) {
  int vid = (int)(v - m->v);
  v->alive = false;
  // User tree: children move to v's parent.
  for (int i = 0; i < M_MAX_VMOS; i++) {
    if (m->v[i].used && m->v[i].alive && m->v[i].parent == vid) m->v[i].parent = v->parent;
  }
  v->parent = -1;
  if (v->kind == MK_SLICE) {
    mvmo_t* r = &m->v[v->root];
    r->nslices--;
    memset(v, 0, sizeof(*v));
    v->parent = v->backing = v->root = -1;
    if (!r->alive) {
      if (r->nslices) {
        trim_to_slices(m, r);
      } else {
        release(m, r);
      }
    }
    return;
  }
  // One-way children take over the pages they saw through v, then see v's backing.
  for (int i = 0; i < M_MAX_VMOS; i++) {
    mvmo_t* c = &m->v[i];
    if (!c->used || c->kind != MK_ONEWAY || c->backing != vid) continue;
    uint64_t lim = min64(c->cut, c->pages);
    for (uint64_t x = 0; x < lim; x++) {
      uint64_t px = x + c->boff;
      if (!c->slots[x] && px < v->pages && v->slots[px]) set_slot(m, c, x, v->slots[px]);
    }
    // A dead child kept for its slices holds only what they can see.
    if (!c->alive) trim_to_slices(m, c);
    if (v->kind == MK_ONEWAY && v->backing >= 0) {
      c->cut = min64(c->cut, sub_sat(v->cut, c->boff));
      c->boff += v->boff;
      c->backing = v->backing;
    } else {
      c->backing = -1;
      c->cut = 0;
    }
  }
  if (v->nslices) {
    if (m->compat_dead_root_drops_backing) {
      v->backing = -1;
      v->cut = 0;
    }
    trim_to_slices(m, v);
  } else {
    release(m, v);
  }
}

// ---- syscalls ----

zx_status_t m_vmo_create(model_t* m, uint64_t size, uint32_t options, int* out) {
  if ((options & ZX_VMO_RESIZABLE) && (options & ZX_VMO_UNBOUNDED)) return ZX_ERR_INVALID_ARGS;
  uint64_t rounded;
  if (!round_up(size, &rounded) || rounded > M_MAX_SIZE) return ZX_ERR_OUT_OF_RANGE;
  if (options & ~(ZX_VMO_RESIZABLE | ZX_VMO_DISCARDABLE | ZX_VMO_UNBOUNDED)) {
    return ZX_ERR_INVALID_ARGS;
  }
  if (options & ZX_VMO_DISCARDABLE) return ZX_ERR_NOT_SUPPORTED;
  if (options & ZX_VMO_UNBOUNDED) abort();  // the driver never asks: no flat array that big
  int id = vmo_alloc(m);
  if (id < 0) abort();  // the driver bounds live VMOs
  mvmo_t* v = &m->v[id];
  v->kind = MK_ROOT;
  v->resizable = (options & ZX_VMO_RESIZABLE) != 0;
  v->pages = rounded / M_PAGE;
  v->content_size = size;
  v->slots = calloc(v->pages ? v->pages : 1, sizeof(*v->slots));
  zx_rights_t r = DEFAULT_RIGHTS | (v->resizable ? ZX_RIGHT_RESIZE : 0);
  *out = handle_alloc(m, id, r);
  if (*out < 0) abort();
  return ZX_OK;
}

static void link_child(model_t* m, int parent, int child) { m->v[child].parent = parent; }

// Creates the child VMO entry once every check has passed. `kind` is final.
static int make_child(model_t* m, mvmo_t* p, mkind_t kind, bool legacy, bool resizable,
                      bool immutable, uint64_t offset, uint64_t rounded, uint64_t size) {
  int pid = (int)(p - m->v);
  int id = vmo_alloc(m);
  if (id < 0) abort();
  mvmo_t* c = &m->v[id];
  p = &m->v[pid];
  c->kind = kind;
  c->legacy = legacy;
  c->resizable = resizable;
  c->immutable = immutable;
  c->pages = rounded / M_PAGE;
  c->content_size = size;
  uint64_t o = offset / M_PAGE;
  if (kind == MK_SLICE) {
    if (p->kind == MK_SLICE) {
      c->root = p->root;
      c->soff = p->soff + o;
    } else {
      c->root = pid;
      c->soff = o;
    }
    m->v[c->root].nslices++;
  } else {
    c->acc = p->acc + offset;
    c->slots = calloc(c->pages ? c->pages : 1, sizeof(*c->slots));
    if (kind == MK_SNAPSHOT) {
      // An eager copy: share the parent's records page by page.
      for (uint64_t x = 0; x < c->pages; x++) {
        if (o + x < o) break;  // past the end of the index space: zeros
        mrec_t* r = view(m, p, o + x);
        if (r) set_slot(m, c, x, r);
      }
    } else {
      c->backing = pid;
      c->boff = o;
      c->cut = min64(c->pages, sub_sat(p->pages, o));
    }
  }
  link_child(m, pid, id);
  return id;
}

static zx_rights_t child_rights(zx_rights_t parent, bool resizable, bool no_write, bool cow) {
  zx_rights_t r = (parent & ~ZX_RIGHT_RESIZE) | ZX_RIGHT_GET_PROPERTY | ZX_RIGHT_SET_PROPERTY;
  if (resizable) r |= ZX_RIGHT_RESIZE;
  if (no_write) {
    r &= ~ZX_RIGHT_WRITE;
  } else if (cow) {
    r = (r | ZX_RIGHT_WRITE) & ~ZX_RIGHT_EXECUTE;
  }
  return r;
}

zx_status_t m_vmo_create_child(model_t* m, int h, uint32_t options, uint64_t offset,
                               uint64_t size, bool out_null, int* out) {
  uint64_t rounded;
  if (!round_up(size, &rounded) || rounded > M_MAX_SIZE) return ZX_ERR_OUT_OF_RANGE;
  if ((options & ZX_VMO_CHILD_NO_WRITE) && (options & ZX_VMO_CHILD_RESIZABLE)) {
    return ZX_ERR_INVALID_ARGS;
  }
  mvmo_t* p;
  zx_rights_t pr;
  zx_status_t st = lookup(m, h, ZX_RIGHT_DUPLICATE | ZX_RIGHT_READ, &p, &pr);
  if (st != ZX_OK) return st;
  bool no_write = (options & ZX_VMO_CHILD_NO_WRITE) != 0;
  bool resizable = (options & ZX_VMO_CHILD_RESIZABLE) != 0;
  uint32_t rest = options & ~ZX_VMO_CHILD_NO_WRITE;
  mkind_t kind;
  bool at_least = false;
  if (rest & ZX_VMO_CHILD_SLICE) {
    if (rest != ZX_VMO_CHILD_SLICE) return ZX_ERR_INVALID_ARGS;
    if (!aligned(offset)) return ZX_ERR_INVALID_ARGS;
    uint64_t psize = p->pages * M_PAGE;
    if (offset > psize || rounded > psize - offset) return ZX_ERR_INVALID_ARGS;
    if (p->resizable) return ZX_ERR_NOT_SUPPORTED;
    kind = MK_SLICE;
  } else {
    if (rest & ZX_VMO_CHILD_SNAPSHOT) {
      rest &= ~ZX_VMO_CHILD_SNAPSHOT;
    } else if (rest & ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE) {
      rest &= ~ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE;
      at_least = true;
    } else {
      return ZX_ERR_INVALID_ARGS;
    }
    if (rest & ~ZX_VMO_CHILD_RESIZABLE) return ZX_ERR_INVALID_ARGS;
    if (!aligned(offset)) return ZX_ERR_INVALID_ARGS;
    if (offset > UINT64_MAX - rounded) return ZX_ERR_OUT_OF_RANGE;
    if (p->kind == MK_SLICE) return ZX_ERR_NOT_SUPPORTED;
    kind = MK_SNAPSHOT;
    if (p->kind == MK_ONEWAY) {
      if (!at_least) return ZX_ERR_NOT_SUPPORTED;
      kind = MK_ONEWAY;
    }
    if (offset > UINT64_MAX - p->acc || rounded > UINT64_MAX - (p->acc + offset)) {
      return ZX_ERR_INVALID_ARGS;
    }
  }
  if (out_null) return ZX_ERR_INVALID_ARGS;
  // IMMUTABLE: the SNAPSHOT option itself with NO_WRITE (docs/behavior.md §5), not
  // SNAPSHOT_AT_LEAST_ON_WRITE even where it behaves as a snapshot.
  bool immutable = kind == MK_SNAPSHOT && no_write && !at_least;
  int id = make_child(m, p, kind, false, resizable, immutable, offset, rounded, size);
  *out = handle_alloc(m, id, child_rights(pr, resizable, no_write, kind != MK_SLICE));
  if (*out < 0) abort();
  return ZX_OK;
}

zx_status_t m_vmo_clone(model_t* m, int h, uint32_t options, uint64_t offset, uint64_t size,
                        bool out_null, int* out) {
  uint64_t rounded;
  if (!round_up(size, &rounded) || rounded > M_MAX_SIZE) return ZX_ERR_OUT_OF_RANGE;
  mvmo_t* p;
  zx_rights_t pr;
  zx_status_t st = lookup(m, h, ZX_RIGHT_DUPLICATE | ZX_RIGHT_READ, &p, &pr);
  if (st != ZX_OK) return st;
  if (!(options & ZX_VMO_CLONE_COPY_ON_WRITE) ||
      (options & ~(ZX_VMO_CLONE_COPY_ON_WRITE | ZX_VMO_CLONE_NON_RESIZEABLE))) {
    return ZX_ERR_INVALID_ARGS;
  }
  if (!aligned(offset)) return ZX_ERR_INVALID_ARGS;
  if (offset > UINT64_MAX - rounded) return ZX_ERR_OUT_OF_RANGE;
  if (p->kind == MK_SLICE) return ZX_ERR_NOT_SUPPORTED;
  if (offset > UINT64_MAX - p->acc || rounded > UINT64_MAX - (p->acc + offset)) {
    return ZX_ERR_INVALID_ARGS;
  }
  if (out_null) return ZX_ERR_INVALID_ARGS;
  bool resizable = !(options & ZX_VMO_CLONE_NON_RESIZEABLE);
  int id = make_child(m, p, MK_ONEWAY, true, resizable, false, offset, rounded, size);
  zx_rights_t r = (pr & ~ZX_RIGHT_RESIZE) | ZX_RIGHT_WRITE | ZX_RIGHT_GET_PROPERTY |
                  ZX_RIGHT_SET_PROPERTY | (resizable ? ZX_RIGHT_RESIZE : 0);
  *out = handle_alloc(m, id, r);
  if (*out < 0) abort();
  return ZX_OK;
}

zx_status_t m_vmo_read(model_t* m, int h, uint8_t* buf, uint64_t off, uint64_t len) {
  mvmo_t* v;
  zx_status_t st = lookup(m, h, ZX_RIGHT_READ, &v, NULL);
  if (st != ZX_OK) return st;
  st = range(v, off, len);
  if (st != ZX_OK) return st;
  uint64_t base;
  mvmo_t* c = content(m, v, &base);
  uint64_t i = 0;
  while (i < len) {
    uint64_t a = off + i;
    uint64_t in = a % M_PAGE;
    uint64_t n = min64(len - i, M_PAGE - in);
    mrec_t* r = view(m, c, base + a / M_PAGE);
    if (r) {
      memcpy(buf + i, r->bytes + in, n);
    } else {
      memset(buf + i, 0, n);
    }
    i += n;
  }
  return ZX_OK;
}

zx_status_t m_vmo_write(model_t* m, int h, const uint8_t* buf, uint64_t off, uint64_t len) {
  mvmo_t* v;
  zx_status_t st = lookup(m, h, ZX_RIGHT_WRITE, &v, NULL);
  if (st != ZX_OK) return st;
  st = range(v, off, len);
  if (st != ZX_OK) return st;
  uint64_t base;
  mvmo_t* c = content(m, v, &base);
  uint64_t i = 0;
  while (i < len) {
    uint64_t a = off + i;
    uint64_t in = a % M_PAGE;
    uint64_t n = min64(len - i, M_PAGE - in);
    mrec_t* r = own_page(m, c, base + a / M_PAGE);
    memcpy(r->bytes + in, buf + i, n);
    i += n;
  }
  return ZX_OK;
}

zx_status_t m_vmo_get_size(model_t* m, int h, uint64_t* size) {
  mvmo_t* v;
  zx_status_t st = lookup(m, h, 0, &v, NULL);
  if (st != ZX_OK) return st;
  *size = v->pages * M_PAGE;
  return ZX_OK;
}

// Makes bytes [in, in+n) of page x of c read zero: nothing if they already do, else
// the write rule.
static void zero_partial(model_t* m, mvmo_t* c, uint64_t x, uint64_t in, uint64_t n) {
  mrec_t* r = view(m, c, x);
  if (!r) return;
  bool zero = true;
  for (uint64_t i = 0; i < n && zero; i++) zero = r->bytes[in + i] == 0;
  if (zero) return;
  r = own_page(m, c, x);
  memset(r->bytes + in, 0, n);
}

// ZERO on v (range already checked, len > 0).
static void zero_range(model_t* m, mvmo_t* v, uint64_t off, uint64_t len) {
  uint64_t base;
  mvmo_t* c = content(m, v, &base);
  uint64_t end = off + len;
  uint64_t a = off;
  while (a < end) {
    uint64_t x = a / M_PAGE;
    uint64_t in = a % M_PAGE;
    uint64_t n = min64(end - a, M_PAGE - in);
    if (n < M_PAGE) {
      zero_partial(m, c, base + x, in, n);
    } else {
      // A whole page: drop it; hide a backing page that would show through.
      set_slot(m, c, base + x, NULL);
      if (backing_view(m, c, base + x)) set_slot(m, c, base + x, MARKER);
    }
    a += n;
  }
}

zx_status_t m_vmo_set_size(model_t* m, int h, uint64_t size) {
  mvmo_t* v;
  zx_rights_t rights;
  zx_status_t st = lookup(m, h, ZX_RIGHT_WRITE, &v, &rights);
  if (st != ZX_OK) return st;
  uint64_t rounded = 0;
  if (v->resizable && !(rights & ZX_RIGHT_RESIZE)) return ZX_ERR_ACCESS_DENIED;
  if (!round_up(size, &rounded)) return ZX_ERR_OUT_OF_RANGE;
  if (!v->resizable) return ZX_ERR_UNAVAILABLE;
  if (rounded > M_MAX_SIZE) return ZX_ERR_OUT_OF_RANGE;
  // Growing keeps the accumulated offset plus the size within 64 bits (behavior.md §7).
  if (rounded > UINT64_MAX - v->acc) return ZX_ERR_INVALID_ARGS;
  if (rounded / M_PAGE > 4096) abort();  // the driver keeps VMOs small
  uint64_t old = v->pages * M_PAGE;
  if (!aligned(size) && size < old) zero_partial(m, v, size / M_PAGE, size % M_PAGE, M_PAGE - size % M_PAGE);
  uint64_t np = rounded / M_PAGE;
  int vid = (int)(v - m->v);
  if (np < v->pages) {
    for (uint64_t x = np; x < v->pages; x++) set_slot(m, v, x, NULL);
    if (v->kind == MK_ONEWAY) v->cut = min64(v->cut, np);
    for (int i = 0; i < M_MAX_VMOS; i++) {
      mvmo_t* c = &m->v[i];
      if (c->used && c->kind == MK_ONEWAY && c->backing == vid) {
        c->cut = min64(c->cut, sub_sat(np, c->boff));
      }
    }
  }
  mrec_t** ns = realloc(v->slots, (np ? np : 1) * sizeof(*ns));
  if (!ns) abort();
  for (uint64_t x = v->pages; x < np; x++) ns[x] = NULL;
  v->slots = ns;
  v->pages = np;
  v->content_size = size;
  return ZX_OK;
}

// DECOMMIT is refused on content holder c (docs/behavior.md §8, D5).
static bool decommit_refused(model_t* m, const mvmo_t* c) {
  if (c->legacy) return false;
  int cid = (int)(c - m->v);
  if (c->kind != MK_ROOT && c->parent >= 0) return true;
  for (int i = 0; i < M_MAX_VMOS; i++) {
    const mvmo_t* ch = &m->v[i];
    if (ch->used && ch->alive && ch->parent == cid && ch->kind == MK_SNAPSHOT) return true;
  }
  return false;
}

zx_status_t m_vmo_op_range(model_t* m, int h, uint32_t op, uint64_t off, uint64_t len,
                           bool buf_null, size_t nbuf, mrec_t** recs) {
  mvmo_t* v;
  zx_rights_t rights;
  zx_status_t st = lookup(m, h, 0, &v, &rights);
  if (st != ZX_OK) return st;
  bool can_r = (rights & ZX_RIGHT_READ) != 0;
  bool can_w = (rights & ZX_RIGHT_WRITE) != 0;
  uint64_t base;
  mvmo_t* c = content(m, v, &base);
  switch (op) {
    case ZX_VMO_OP_COMMIT: {
      if (!can_w) return ZX_ERR_ACCESS_DENIED;
      if (len > UINT64_MAX - off) return ZX_ERR_OUT_OF_RANGE;
      uint64_t end;
      if (!round_up(off + len, &end)) return ZX_ERR_OUT_OF_RANGE;
      uint64_t start = off & ~(M_PAGE - 1);
      st = range(v, start, end - start);
      if (st != ZX_OK) return st;
      for (uint64_t x = start / M_PAGE; x < end / M_PAGE; x++) own_page(m, c, base + x);
      return ZX_OK;
    }
    case ZX_VMO_OP_DECOMMIT:
      if (!can_w) return ZX_ERR_ACCESS_DENIED;
      st = range(v, off, len);
      if (st != ZX_OK || len == 0) return st;
      if (decommit_refused(m, c)) return ZX_ERR_NOT_SUPPORTED;
      if (!aligned(off) || !aligned(len)) return ZX_ERR_INVALID_ARGS;
      for (uint64_t x = off / M_PAGE; x < (off + len) / M_PAGE; x++) {
        set_slot(m, c, base + x, NULL);
      }
      return ZX_OK;
    case ZX_VMO_OP_ZERO:
      if (!can_w) return ZX_ERR_ACCESS_DENIED;
      st = range(v, off, len);
      if (st != ZX_OK || len == 0) return st;
      zero_range(m, v, off, len);
      return ZX_OK;
    case ZX_VMO_OP_LOCK:
    case ZX_VMO_OP_TRY_LOCK:
    case ZX_VMO_OP_UNLOCK:
      if (!can_r && !can_w) return ZX_ERR_ACCESS_DENIED;
      return ZX_ERR_NOT_SUPPORTED;
    case ZX_VMO_OP_CACHE_SYNC:
    case ZX_VMO_OP_CACHE_CLEAN:
    case ZX_VMO_OP_CACHE_CLEAN_INVALIDATE:
    case ZX_VMO_OP_CACHE_INVALIDATE:
      if (op == ZX_VMO_OP_CACHE_INVALIDATE ? !can_w : !can_r) return ZX_ERR_ACCESS_DENIED;
      if (len == 0) return ZX_ERR_INVALID_ARGS;
      return range(v, off, len);
    case ZX_VMO_OP_PREFETCH:
      if (!can_r) return ZX_ERR_ACCESS_DENIED;
      return range(v, off, len);
    case ZX_VMO_OP_DONT_NEED:
    case ZX_VMO_OP_ALWAYS_NEED:
      return range(v, off, len);
    case ZX_VMO_OP_LOOKUP: {
      if (buf_null) return ZX_ERR_INVALID_ARGS;
      uint64_t end;
      if (len > UINT64_MAX - off || !round_up(off + len, &end)) return ZX_ERR_OUT_OF_RANGE;
      uint64_t pages = (end - (off & ~(M_PAGE - 1))) / M_PAGE;
      if (pages > nbuf) return ZX_ERR_BUFFER_TOO_SMALL;
      if (len == 0) return ZX_ERR_INVALID_ARGS;
      st = range(v, off, len);
      if (st != ZX_OK) return st;
      uint64_t first = off / M_PAGE;
      for (uint64_t k = 0; k < pages; k++) {
        mrec_t* r = view(m, c, base + first + k);
        if (!r) return ZX_ERR_NO_MEMORY;  // nothing committed there
        recs[k] = r;
      }
      return ZX_OK;
    }
    default:
      return ZX_ERR_INVALID_ARGS;
  }
}

zx_status_t m_handle_duplicate(model_t* m, int h, zx_rights_t rights, int* out) {
  mvmo_t* v;
  zx_rights_t have;
  if (h == M_H_WRONG_TYPE) abort();  // the driver only duplicates VMO handles
  zx_status_t st = lookup(m, h, ZX_RIGHT_DUPLICATE, &v, &have);
  if (st != ZX_OK) return st;
  zx_rights_t want = rights == ZX_RIGHT_SAME_RIGHTS ? have : rights;
  if ((have & want) != want) return ZX_ERR_INVALID_ARGS;
  *out = handle_alloc(m, (int)(v - m->v), want);
  if (*out < 0) abort();
  return ZX_OK;
}

zx_status_t m_handle_close(model_t* m, int h) {
  if (h < 0 || h >= M_MAX_HANDLES || !m->h[h].used) return ZX_ERR_BAD_HANDLE;
  mvmo_t* v = &m->v[m->h[h].vmo];
  m->h[h].used = false;
  if (--v->handles == 0) vmo_die(m, v);
  return ZX_OK;
}

void m_reset(model_t* m) {
  for (int i = 0; i < M_MAX_HANDLES; i++) {
    if (m->h[i].used) m_handle_close(m, i);
  }
}

zx_status_t m_handle_rights(model_t* m, int h, zx_rights_t* rights, int* vmo) {
  mvmo_t* v;
  zx_status_t st = lookup(m, h, 0, &v, rights);
  if (st == ZX_OK) *vmo = (int)(v - m->v);
  return st;
}

// Attribution of non-slice v: each distinct record r v sees counts in full, privately
// when only one holder sees it, and as PAGE/N (plus a 63-bit fraction) when N do.
static void attribute(model_t* m, const mvmo_t* v, m_info_t* out) {
  for (mrec_t* r = m->live; r; r = r->next) r->sharers = 0;
  for (int i = 0; i < M_MAX_VMOS; i++) {
    const mvmo_t* hv = &m->v[i];
    if (!is_holder(hv)) continue;
    uint64_t e = ++m->epoch;
    for (uint64_t x = 0; x < hv->pages; x++) {
      // A dead root kept by its slices sees only what they window.
      if (!hv->alive && !slice_sees(m, hv, x)) continue;
      mrec_t* r = view(m, hv, x);
      if (r && r->mark != e) {
        r->mark = e;
        r->sharers++;
      }
    }
  }
  uint64_t e = ++m->epoch;
  for (uint64_t x = 0; x < v->pages; x++) {
    mrec_t* r = view(m, v, x);
    if (!r || r->mark == e) continue;
    r->mark = e;
    uint64_t n = r->sharers;
    if (n == 0) abort();  // v is a holder, so it counted itself
    out->committed += M_PAGE;
    if (n == 1) out->priv += M_PAGE;
    out->scaled += M_PAGE / n;
    unsigned __int128 rem = (unsigned __int128)(M_PAGE % n) << 63;
    out->frac += (uint64_t)(rem / n);
    if (out->frac >= ((uint64_t)1 << 63)) {
      out->frac -= (uint64_t)1 << 63;
      out->scaled += 1;
    }
  }
}

zx_status_t m_vmo_info(model_t* m, int h, m_info_t* out) {
  mvmo_t* v;
  zx_rights_t rights;
  zx_status_t st = lookup(m, h, 0, &v, &rights);
  if (st != ZX_OK) return st;
  memset(out, 0, sizeof(*out));
  out->vmo = (int)(v - m->v);
  out->size_bytes = v->pages * M_PAGE;
  out->parent = v->parent;
  out->num_children = m_children(m, out->vmo);
  out->flags = ZX_INFO_VMO_TYPE_PAGED | ZX_INFO_VMO_VIA_HANDLE;
  if (v->resizable) out->flags |= ZX_INFO_VMO_RESIZABLE;
  if ((v->kind == MK_SNAPSHOT || v->kind == MK_ONEWAY) && v->parent >= 0) {
    out->flags |= ZX_INFO_VMO_IS_COW_CLONE;
  }
  if (v->immutable) out->flags |= ZX_INFO_VMO_IMMUTABLE;
  out->rights = rights;
  if (v->kind != MK_SLICE) attribute(m, v, out);
  return ZX_OK;
}

zx_status_t m_get_content_size(model_t* m, int h, uint64_t* out) {
  mvmo_t* v;
  if (h == M_H_WRONG_TYPE) abort();  // not generated: the rights check would come first
  zx_status_t st = lookup(m, h, ZX_RIGHT_GET_PROPERTY, &v, NULL);
  if (st != ZX_OK) return st;
  *out = v->content_size;
  return ZX_OK;
}

zx_status_t m_set_content_size(model_t* m, int h, uint64_t cs) {
  mvmo_t* v;
  if (h == M_H_WRONG_TYPE) abort();
  // Zircon: setting the content size can zero data, so it needs WRITE too.
  zx_status_t st = lookup(m, h, ZX_RIGHT_SET_PROPERTY | ZX_RIGHT_WRITE, &v, NULL);
  if (st != ZX_OK) return st;
  uint64_t size = v->pages * M_PAGE;
  if (cs < size) zero_range(m, v, cs, size - cs);
  v->content_size = cs;
  return ZX_OK;
}

zx_status_t m_wait_zero_children(model_t* m, int h, bool* asserted) {
  mvmo_t* v;
  if (h == M_H_WRONG_TYPE) abort();
  zx_status_t st = lookup(m, h, ZX_RIGHT_WAIT, &v, NULL);
  if (st != ZX_OK) return st;
  *asserted = m_children(m, (int)(v - m->v)) == 0;
  return *asserted ? ZX_OK : ZX_ERR_TIMED_OUT;
}
