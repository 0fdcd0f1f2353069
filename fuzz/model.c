// SPDX-License-Identifier: BSD-3-Clause
// The reference model (see model.h). Written for obviousness: loops over flat slot
// arrays, no sharing tricks, no recursion. Each entry point is one syscall; its checks
// are written out one rule at a time, in the order the reference gives, each with the
// place it comes from:
//   §N         docs/behavior.md section N (the behaviour reference)
//   DESIGN     docs/DESIGN.md, "Decisions" (where the reference is silent)
//   Zircon     what Zircon does, where both are silent
// None of it is taken from src/.
#include "model.h"
#include "model_driver.h"
#include "model_ref.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zircon/errors.h>
#include <zircon/rights.h>
#include <zircon/syscalls-next.h>
#include <zircon/syscalls.h>
#include <zircon/syscalls/object.h>

// §1: the constants have Zircon's values. The model uses the header names, so check
// the header against the reference once, at compile time.
_Static_assert(ZX_VMO_CHILD_SNAPSHOT == (1u << 0), "§1");
_Static_assert(ZX_VMO_CHILD_RESIZABLE == (1u << 2), "§1");
_Static_assert(ZX_VMO_CHILD_SLICE == (1u << 3), "§1");
_Static_assert(ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE == (1u << 4), "§1");
_Static_assert(ZX_VMO_CHILD_NO_WRITE == (1u << 5), "§1");
_Static_assert(ZX_VMO_CHILD_COPY_ON_WRITE == (1u << 4), "§1");
_Static_assert(ZX_VMO_CHILD_PRIVATE_PAGER_COPY == (1u << 4), "§1");
_Static_assert(ZX_VMO_CHILD_REFERENCE == (1u << 6), "§1");
_Static_assert(ZX_VMO_CHILD_SNAPSHOT_MODIFIED == (1u << 7), "§1");
_Static_assert(ZX_VMO_RESIZABLE == (1u << 1), "§1");
_Static_assert(ZX_VMO_DISCARDABLE == (1u << 2), "§1");
_Static_assert(ZX_VMO_TRAP_DIRTY == (1u << 3), "§1");
_Static_assert(ZX_VMO_UNBOUNDED == (1u << 4), "§1");
_Static_assert(ZX_VMO_CLONE_COPY_ON_WRITE == (1u << 0), "§1");
_Static_assert(ZX_VMO_CLONE_NON_RESIZEABLE == (1u << 1), "§1");
_Static_assert(ZX_VMO_OP_COMMIT == 1 && ZX_VMO_OP_DECOMMIT == 2 && ZX_VMO_OP_LOCK == 3 &&
                   ZX_VMO_OP_UNLOCK == 4 && ZX_VMO_OP_LOOKUP == 5 && ZX_VMO_OP_CACHE_SYNC == 6 &&
                   ZX_VMO_OP_CACHE_INVALIDATE == 7 && ZX_VMO_OP_CACHE_CLEAN == 8 &&
                   ZX_VMO_OP_CACHE_CLEAN_INVALIDATE == 9 && ZX_VMO_OP_ZERO == 10 &&
                   ZX_VMO_OP_TRY_LOCK == 11 && ZX_VMO_OP_DONT_NEED == 12 &&
                   ZX_VMO_OP_ALWAYS_NEED == 13 && ZX_VMO_OP_PREFETCH == 14,
               "§1");
_Static_assert(ZX_VMO_ZERO_CHILDREN == (1u << 3), "§1");
_Static_assert(ZX_INFO_VMO_TYPE_PAGED == (1u << 0) && ZX_INFO_VMO_RESIZABLE == (1u << 1) &&
                   ZX_INFO_VMO_IS_COW_CLONE == (1u << 2) && ZX_INFO_VMO_VIA_HANDLE == (1u << 3) &&
                   ZX_INFO_VMO_IMMUTABLE == (1u << 8),
               "§1");

// The zero marker: a slot that reads as zero and hides the backing. Only its address
// is used.
static mrec_t g_marker;
#define MARKER (&g_marker)

static uint64_t min64(uint64_t a, uint64_t b) { return a < b ? a : b; }
// max(0, a - b) without wrapping.
static uint64_t sub_sat(uint64_t a, uint64_t b) { return a > b ? a - b : 0; }
static bool page_aligned(const model_t* m, uint64_t x) { return x % m->page == 0; }
// §1 "Sizes round up to a page": false if the round-up wraps past 2^64.
static bool round_up_page(const model_t* m, uint64_t x, uint64_t* out) {
  uint64_t r = x % m->page;
  if (r == 0) {
    *out = x;
    return true;
  }
  uint64_t add = m->page - r;
  if (x > UINT64_MAX - add) return false;
  *out = x + add;
  return true;
}
// a + b + c fits in 64 bits.
static bool sum_fits(uint64_t a, uint64_t b, uint64_t c) {
  if (a > UINT64_MAX - b) return false;
  return c <= UINT64_MAX - (a + b);
}

// ---- rights (§2, §11), spelled out one right at a time ----

// Each right that can appear on a VMO handle, for the loops below.
static const zx_rights_t k_all_rights[] = {
    ZX_RIGHT_DUPLICATE,   ZX_RIGHT_TRANSFER,     ZX_RIGHT_READ,        ZX_RIGHT_WRITE,
    ZX_RIGHT_EXECUTE,     ZX_RIGHT_MAP,          ZX_RIGHT_GET_PROPERTY, ZX_RIGHT_SET_PROPERTY,
    ZX_RIGHT_ENUMERATE,   ZX_RIGHT_DESTROY,      ZX_RIGHT_SET_POLICY,  ZX_RIGHT_GET_POLICY,
    ZX_RIGHT_SIGNAL,      ZX_RIGHT_SIGNAL_PEER,  ZX_RIGHT_WAIT,        ZX_RIGHT_INSPECT,
    ZX_RIGHT_MANAGE_JOB,  ZX_RIGHT_MANAGE_PROCESS, ZX_RIGHT_MANAGE_THREAD,
    ZX_RIGHT_APPLY_PROFILE, ZX_RIGHT_MANAGE_SOCKET, ZX_RIGHT_OP_CHILDREN, ZX_RIGHT_RESIZE,
    ZX_RIGHT_ATTACH_VMO,  ZX_RIGHT_MANAGE_VMO,
};
#define N_ALL_RIGHTS (sizeof(k_all_rights) / sizeof(k_all_rights[0]))

// §2 "A new VMO's handle: DUPLICATE, TRANSFER, READ, WRITE, MAP, GET_PROPERTY,
// SET_PROPERTY, WAIT, INSPECT, SIGNAL; plus RESIZE if the VMO is resizable."
static bool new_vmo_has(zx_rights_t right, bool resizable) {
  if (right == ZX_RIGHT_DUPLICATE) return true;
  if (right == ZX_RIGHT_TRANSFER) return true;
  if (right == ZX_RIGHT_READ) return true;
  if (right == ZX_RIGHT_WRITE) return true;
  if (right == ZX_RIGHT_MAP) return true;
  if (right == ZX_RIGHT_GET_PROPERTY) return true;
  if (right == ZX_RIGHT_SET_PROPERTY) return true;
  if (right == ZX_RIGHT_WAIT) return true;
  if (right == ZX_RIGHT_INSPECT) return true;
  if (right == ZX_RIGHT_SIGNAL) return true;
  if (right == ZX_RIGHT_RESIZE) return resizable;
  return false;  // EXECUTE among them: a new VMO is not executable
}

static zx_rights_t new_vmo_rights(bool resizable) {
  zx_rights_t out = 0;
  for (size_t i = 0; i < N_ALL_RIGHTS; i++) {
    if (new_vmo_has(k_all_rights[i], resizable)) out |= k_all_rights[i];
  }
  return out;
}

// What zx_vmo_create_child made, for the rights rule.
typedef enum child_type { CT_SLICE, CT_SNAPSHOT_TYPE } child_type_t;

// §2 "A child's handle", sentence by sentence, for one right.
static bool child_has(zx_rights_t right, bool parent_has, child_type_t type, bool resizable,
                      bool no_write) {
  // "start from the parent handle's rights,"
  bool has = parent_has;
  // "drop RESIZE, add RESIZE if the child is resizable,"
  if (right == ZX_RIGHT_RESIZE) has = resizable;
  // "always add GET_PROPERTY and SET_PROPERTY."
  if (right == ZX_RIGHT_GET_PROPERTY || right == ZX_RIGHT_SET_PROPERTY) has = true;
  // "Then: with NO_WRITE: remove WRITE (EXECUTE is kept);"
  if (no_write) {
    if (right == ZX_RIGHT_WRITE) has = false;
    return has;
  }
  // "else for snapshot types (SNAPSHOT, SNAPSHOT_AT_LEAST_ON_WRITE): add WRITE, remove
  // EXECUTE;"
  if (type == CT_SNAPSHOT_TYPE) {
    if (right == ZX_RIGHT_WRITE) has = true;
    if (right == ZX_RIGHT_EXECUTE) has = false;
    return has;
  }
  // "a slice gets nothing more (WRITE is not added, EXECUTE is kept)."
  return has;
}

static zx_rights_t child_rights_by_reference(zx_rights_t parent, child_type_t type,
                                             bool resizable, bool no_write) {
  zx_rights_t out = 0;
  for (size_t i = 0; i < N_ALL_RIGHTS; i++) {
    zx_rights_t r = k_all_rights[i];
    if (child_has(r, (parent & r) != 0, type, resizable, no_write)) out |= r;
  }
  return out;
}

// §11 "Its handle has the parent handle's rights plus WRITE, GET_PROPERTY and
// SET_PROPERTY, and RESIZE exactly when the clone is resizable."
static bool clone_has(zx_rights_t right, bool parent_has, bool resizable) {
  if (right == ZX_RIGHT_RESIZE) return resizable;
  if (right == ZX_RIGHT_WRITE) return true;
  if (right == ZX_RIGHT_GET_PROPERTY) return true;
  if (right == ZX_RIGHT_SET_PROPERTY) return true;
  return parent_has;
}

static zx_rights_t clone_rights_by_reference(zx_rights_t parent, bool resizable) {
  zx_rights_t out = 0;
  for (size_t i = 0; i < N_ALL_RIGHTS; i++) {
    zx_rights_t r = k_all_rights[i];
    if (clone_has(r, (parent & r) != 0, resizable)) out |= r;
  }
  return out;
}

// ---- records ----

static mrec_t* rec_new(model_t* m) {
  mrec_t* r = calloc(1, sizeof(*r) + m->page);
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

// ---- pager VMOs ----

// The service's content, a pure function of (seed, offset) (model.h).
static uint32_t mix32(uint32_t x) {
  x ^= x >> 16;
  x *= 0x7feb352du;
  x ^= x >> 15;
  x *= 0x846ca68bu;
  x ^= x >> 16;
  return x;
}

int m_pager_class(uint8_t seed, bool may_fail, uint64_t page) {
  uint32_t h = mix32((uint32_t)seed * 0x9e3779b9u ^ (uint32_t)page ^ (uint32_t)(page >> 32));
  if (h % 5 == 0) return M_PG_ZERO;
  if (may_fail && h % 7 == 1) return M_PG_FAIL;
  return M_PG_NORMAL;
}

uint8_t m_pager_byte(uint8_t seed, uint64_t off) {
  return (uint8_t)(seed * 31u + off * 7u + (off >> 9) * 13u + 1u);
}

// Where non-slice v's view of page x ends at a page its pager VMO lacks (absent: an
// access asks the pager for it): that pager VMO, and the page in it (*rx). Else NULL
// (a page, a zero range, zeros past a cut or past the end).
static mvmo_t* absent_root(model_t* m, mvmo_t* v, uint64_t x, uint64_t* rx) {
  for (;;) {
    if (x >= v->pages) return NULL;
    if (v->slots[x]) return NULL;
    if (v->kind == MK_ONEWAY && v->backing >= 0 && x < v->cut) {
      x += v->boff;
      v = &m->v[v->backing];
      continue;
    }
    if (v->pager && v->pst[x] == PS_ABSENT) {
      *rx = x;
      return v;
    }
    return NULL;
  }
}

static void set_slot(model_t* m, mvmo_t* v, uint64_t x, mrec_t* r);
static mrec_t* rec_new(model_t* m);

// Page x of non-slice c as an access needs it: if it is absent, the pager service
// supplies it (model.h), fails it (ZX_ERR_IO), or the VMO is detached (BAD_STATE).
static zx_status_t fetch(model_t* m, mvmo_t* c, uint64_t x) {
  uint64_t rx = 0;
  mvmo_t* r = absent_root(m, c, x, &rx);
  if (!r) return ZX_OK;
  if (r->detached) return ZX_ERR_BAD_STATE;
  int cls = m_pager_class(r->seed, r->may_fail, rx);
  if (cls == M_PG_FAIL) return ZX_ERR_IO;
  if (cls == M_PG_ZERO) {
    // An uncommitted page of the aux VMO: zeros that hold no memory.
    set_slot(m, r, rx, MARKER);
  } else {
    mrec_t* n = rec_new(m);
    for (uint64_t i = 0; i < m->page; i++) n->bytes[i] = m_pager_byte(r->seed, rx * m->page + i);
    set_slot(m, r, rx, n);
  }
  r->pst[rx] = PS_CLEAN;
  return ZX_OK;
}

static mvmo_t* content(model_t* m, mvmo_t* v, uint64_t* base);

// An access to bytes [off, off+len) of v (range already checked): the absent pages it
// needs come in first, one by one, ascending, until one cannot (the pages before it
// stay). A write to a TRAP_DIRTY pager VMO also needs the pager's consent for each page
// not dirty yet, which a detached VMO cannot get (BAD_STATE).
static zx_status_t prepare(model_t* m, mvmo_t* v, uint64_t off, uint64_t len, bool write) {
  if (len == 0) return ZX_OK;
  uint64_t base;
  mvmo_t* c = content(m, v, &base);
  uint64_t a = base + off / m->page, b = base + (off + len - 1) / m->page + 1;
  for (uint64_t x = a; x < b; x++) {
    zx_status_t st = fetch(m, c, x);
    if (st != ZX_OK) return st;
  }
  if (write && c->pager && c->trap_dirty && c->detached) {
    for (uint64_t x = a; x < b; x++) {
      if (c->pst[x] != PS_DIRTY) return ZX_ERR_BAD_STATE;
    }
  }
  return ZX_OK;
}

// Page x of pager VMO c was written: it is dirty, and the VMO modified.
static void mark_written(mvmo_t* c, uint64_t x) {
  if (!c->pager) return;
  c->pst[x] = PS_DIRTY;
  c->modified = true;
  c->mod_unknown = false;
}

// The VMO holding the pages behind v and v's page 0 in it (§5: a slice acts on the
// parent's pages at offset + x; a slice of a slice is a slice of the root, §4 rule 8).
static mvmo_t* content(model_t* m, mvmo_t* v, uint64_t* base) {
  if (v->kind == MK_SLICE) {
    *base = v->soff;
    return &m->v[v->root];
  }
  *base = 0;
  return v;
}

// §6 "A write to a page shared with another VMO copies it first": makes slot x of c a
// record referenced only by that slot, content unchanged: in place if it already is
// one, else a fresh copy of what c shows there.
static mrec_t* backing_view(model_t* m, const mvmo_t* v, uint64_t x);
static mrec_t* own_page(model_t* m, mvmo_t* c, uint64_t x) {
  mrec_t* s = c->slots[x];
  if (s && s != MARKER && s->refs == 1) return s;
  mrec_t* src = s == MARKER ? NULL : s ? s : backing_view(m, c, x);
  mrec_t* n = rec_new(m);
  if (src) memcpy(n->bytes, src->bytes, m->page);
  set_slot(m, c, x, n);
  return n;
}

// Holds pages for attribution (§10): a live non-slice VMO, or a dead one kept for
// the slices that window it (DESIGN: it counts as a sharer of what they window).
// A dead pager VMO is kept whole while one-way children or slices see through it
// (its children keep asking it for pages, and fail once it is detached).
static bool is_holder(const mvmo_t* v) {
  return v->used && v->kind != MK_SLICE && (v->alive || v->nslices > 0 || v->pager);
}

// Whether dead holder v sees its own page x for attribution: a dead root kept for its
// slices sees only what they window (DESIGN); a kept pager VMO all of its pages.
static bool slice_sees(const model_t* m, const mvmo_t* r, uint64_t x);
static bool dead_sees(const model_t* m, const mvmo_t* v, uint64_t x) {
  return v->alive || v->pager || slice_sees(m, v, x);
}

// ---- setup ----

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

// §9 "num_children: live direct children (clones and slices), counting re-homed ones."
uint64_t m_children(const model_t* m, int vmo) {
  uint64_t n = 0;
  for (int i = 0; i < M_MAX_VMOS; i++) {
    if (m->v[i].used && m->v[i].alive && m->v[i].parent == vmo) n++;
  }
  return n;
}

// A VMO handle with the rights `need`. §2: "A wrong-type handle is WRONG_TYPE even
// when it also lacks the rights (type is checked before rights). An invalid or closed
// handle is BAD_HANDLE." Lacking a right is ACCESS_DENIED (§4 rule 3, §6, §7).
static zx_status_t lookup(model_t* m, int h, zx_rights_t need, mvmo_t** v, zx_rights_t* rights) {
  if (h == M_H_WRONG_TYPE) return ZX_ERR_WRONG_TYPE;
  if (h < 0 || h >= M_MAX_HANDLES || !m->h[h].used) return ZX_ERR_BAD_HANDLE;
  if ((m->h[h].rights & need) != need) return ZX_ERR_ACCESS_DENIED;
  *v = &m->v[m->h[h].vmo];
  if (rights) *rights = m->h[h].rights;
  return ZX_OK;
}

static uint64_t size_bytes(const model_t* m, const mvmo_t* v) { return v->pages * m->page; }

// [off, off+len) lies inside v; overflow counts as outside (§6, §8).
static bool in_range(const model_t* m, const mvmo_t* v, uint64_t off, uint64_t len) {
  uint64_t size = size_bytes(m, v);
  if (off > size) return false;
  return len <= size - off;
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

// Drops every page of dead root r that no live slice windows (§10: "pages only it
// saw are freed").
static void trim_to_slices(model_t* m, mvmo_t* r) {
  for (uint64_t x = 0; x < r->pages; x++) {
    if (!slice_sees(m, r, x)) set_slot(m, r, x, NULL);
  }
}

static void release(model_t* m, mvmo_t* v) {
  for (uint64_t x = 0; x < v->pages; x++) set_slot(m, v, x, NULL);
  free(v->slots);
  free(v->pst);
  memset(v, 0, sizeof(*v));
  v->parent = v->backing = v->root = -1;
}

// Whether dead pager VMO rid is still seen through: by a slice, or by a one-way VMO
// looking through it.
static bool pager_root_kept(const model_t* m, int rid) {
  if (m->v[rid].nslices) return true;
  for (int i = 0; i < M_MAX_VMOS; i++) {
    const mvmo_t* c = &m->v[i];
    if (c->used && c->kind == MK_ONEWAY && c->backing == rid) return true;
  }
  return false;
}

// Releases every dead pager VMO nothing sees through any more.
static void settle_pager_roots(model_t* m) {
  for (int i = 0; i < M_MAX_VMOS; i++) {
    mvmo_t* r = &m->v[i];
    if (r->used && r->pager && !r->alive && !pager_root_kept(m, i)) release(m, r);
  }
}

// One-way c looks through v, which is dead: c takes over the pages it sees of v's own,
// then looks through v's backing (DESIGN, D11).
static void take_over(model_t* m, mvmo_t* c, mvmo_t* v) {
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

// v's last handle closed.
static void vmo_die(model_t* m, mvmo_t* v) {
  int vid = (int)(v - m->v);
  v->alive = false;
  // §9 "When a VMO dies, its children are re-homed to its parent."
  for (int i = 0; i < M_MAX_VMOS; i++) {
    if (m->v[i].used && m->v[i].alive && m->v[i].parent == vid) m->v[i].parent = v->parent;
  }
  v->parent = -1;
  if (v->pager) {
    // Closing the pager VMO's last handle detaches it; its children keep seeing what it
    // holds, and fail where it has nothing (BAD_STATE).
    v->detached = true;
    if (!pager_root_kept(m, vid)) release(m, v);
    return;
  }
  if (v->kind == MK_SLICE) {
    mvmo_t* r = &m->v[v->root];
    r->nslices--;
    memset(v, 0, sizeof(*v));
    v->parent = v->backing = v->root = -1;
    if (!r->alive) {
      if (r->pager) {
        // Kept whole (below).
      } else if (r->nslices) {
        trim_to_slices(m, r);
      } else {
        release(m, r);
      }
    }
    // A dead pager VMO seen through r (or r itself) may be seen by nothing now.
    settle_pager_roots(m);
    return;
  }
  // DESIGN: "A one-way clone whose parent dies keeps what it saw then, and goes on
  // seeing the grandparent through the same window." So each one-way child takes
  // over the pages it saw of v's own, then looks through v's backing.
  for (int i = 0; i < M_MAX_VMOS; i++) {
    mvmo_t* c = &m->v[i];
    if (c->used && c->kind == MK_ONEWAY && c->backing == vid) take_over(m, c, v);
  }
  // A dead VMO that slices still window keeps (only) the pages they see; it keeps
  // seeing its own backing, so what its slices read does not change at its death.
  if (v->nslices) {
    trim_to_slices(m, v);
  } else {
    release(m, v);
  }
  settle_pager_roots(m);
}

// ---- zx_vmo_create (§3) ----

// A new root of `rounded` bytes and its handle (*out), once every check has passed.
static mvmo_t* new_root(model_t* m, uint64_t rounded, uint64_t size, bool resizable, int* out) {
  int id = vmo_alloc(m);
  if (id < 0) abort();  // the driver bounds live VMOs
  mvmo_t* v = &m->v[id];
  v->kind = MK_ROOT;
  v->resizable = resizable;
  v->pages = rounded / m->page;
  // "The content size (ZX_PROP_VMO_CONTENT_SIZE) is the unrounded size."
  v->content_size = size;
  v->slots = calloc(v->pages ? v->pages : 1, sizeof(*v->slots));
  if (!v->slots) abort();
  // §2 a new VMO's rights, RESIZE if resizable.
  *out = handle_alloc(m, id, new_vmo_rights(v->resizable));
  if (*out < 0) abort();
  return v;
}

zx_status_t m_vmo_create(model_t* m, uint64_t size, uint32_t options, int* out) {
  const uint32_t known = ZX_VMO_RESIZABLE | ZX_VMO_DISCARDABLE | ZX_VMO_UNBOUNDED;
  // §3 "Order: RESIZABLE with UNBOUNDED -> INVALID_ARGS;"
  if ((options & ZX_VMO_RESIZABLE) && (options & ZX_VMO_UNBOUNDED)) return ZX_ERR_INVALID_ARGS;
  // "size round-up wraps or > MAX_SIZE -> OUT_OF_RANGE;"
  uint64_t rounded;
  if (!round_up_page(m, size, &rounded)) return ZX_ERR_OUT_OF_RANGE;
  if (rounded > m->max_size) return ZX_ERR_OUT_OF_RANGE;
  // "unknown option bits -> INVALID_ARGS." (TRAP_DIRTY is for pager VMOs, §1.)
  if ((options & ~known) != 0) return ZX_ERR_INVALID_ARGS;
  // §3 UNBOUNDED: outside the model.
  if (options & ZX_VMO_UNBOUNDED) return M_UNMODELLED;
  mvmo_t* v = new_root(m, rounded, size, (options & ZX_VMO_RESIZABLE) != 0, out);
  // §16.2 (model_ref.c).
  v->discardable = (options & ZX_VMO_DISCARDABLE) != 0;
  return ZX_OK;
}

// ---- children (§4, §5, §11) ----

// Creates the child VMO entry once every check has passed. `kind` is final.
static int make_child(model_t* m, mvmo_t* p, zx_rights_t prights, mkind_t kind, bool legacy,
                      bool resizable, bool immutable, uint64_t offset, uint64_t rounded,
                      uint64_t size) {
  int pid = (int)(p - m->v);
  int id = vmo_alloc(m);
  if (id < 0) abort();
  mvmo_t* c = &m->v[id];
  p = &m->v[pid];
  c->kind = kind;
  c->legacy = legacy;
  c->pbacked = p->pbacked;
  // §15: slices of driver memory are driver memory, with the parent's cache policy.
  c->phys = p->phys;
  c->contig = p->contig;
  c->cache = p->cache;
  c->resizable = resizable;
  c->immutable = immutable;
  c->pages = rounded / m->page;
  // §4 rule 10 "The child's content size is the unrounded size argument."
  c->content_size = size;
  // §4 rule 10 "The child's name is the parent's if the parent handle had
  // GET_PROPERTY."
  if (prights & ZX_RIGHT_GET_PROPERTY) memcpy(c->name, p->name, sizeof(c->name));
  uint64_t o = offset / m->page;
  if (kind == MK_SLICE) {
    // §4 rule 8 "a slice of a slice is a slice of the root."
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
      // §5 "as if the parent's range [offset, offset+size) were copied at creation";
      // "Parent content beyond the parent's size at creation reads as zero." A
      // reference's pages are its target's (§16.1).
      const mvmo_t* src = p->ref ? &m->v[p->root] : p;
      for (uint64_t x = 0; x < c->pages; x++) {
        if (o + x < o) break;  // past the end of the index space: zeros
        mrec_t* r = view(m, src, o + x);
        if (r) set_slot(m, c, x, r);
      }
    } else if (p->kind == MK_SLICE) {
      // §14 a one-way child of a slice looks through to the slice's root, no further
      // than the slice's window.
      c->acc = m->v[p->root].acc + p->soff * m->page + offset;
      c->backing = p->root;
      c->boff = p->soff + o;
      c->cut = min64(c->pages, sub_sat(p->pages, o));
    } else {
      // §11 one-way: sees the parent's pages (within the parent's size now) until
      // it writes them.
      c->backing = pid;
      c->boff = o;
      c->cut = min64(c->pages, sub_sat(p->pages, o));
    }
  }
  // §9 parent_koid: the VMO it was made from (DESIGN: also for a slice of a slice).
  c->parent = pid;
  return id;
}

// §16 SNAPSHOT_MODIFIED of a one-way clone in a pager family: `c`, made a one-way
// child of that clone, takes the records the clone shows from anywhere short of the
// pager VMO (what the clone and the clones it looks through changed), then looks
// straight through to the pager VMO for the rest, no further than the clone saw.
static void snapshot_modified(model_t* m, mvmo_t* c) {
  for (uint64_t x = 0; x < c->cut; x++) {
    const mvmo_t* v = &m->v[c->backing];
    uint64_t y = x + c->boff;
    while (!v->pager && y < v->pages) {
      mrec_t* s = v->slots[y];
      if (s) {
        set_slot(m, c, x, s);  // a MARKER too: zeros the clone wrote
        break;
      }
      if (v->kind != MK_ONEWAY || v->backing < 0 || y >= v->cut) break;
      y += v->boff;
      v = &m->v[v->backing];
    }
  }
  uint64_t boff = c->boff, cut = c->cut;
  int b = c->backing;
  while (b >= 0 && !m->v[b].pager) {
    const mvmo_t* v = &m->v[b];
    cut = v->backing < 0 || v->cut <= boff ? 0 : min64(cut, v->cut - boff);
    boff += v->boff;
    b = v->backing;
  }
  c->backing = b;
  c->boff = boff;
  c->cut = b >= 0 ? cut : 0;
}

// D11 ("Writes made later through the dead parent's slices are not seen"): a one-way
// child made through a reference whose parent is dead (§16.1) looks through a dead VMO
// from its start, so it keeps what it sees now, as if that VMO had died just after.
// A pager VMO is the exception (kept whole for its children, §14).
static void oneway_of_dead(model_t* m, mvmo_t* c) {
  while (c->kind == MK_ONEWAY && c->backing >= 0 && !m->v[c->backing].alive &&
         !m->v[c->backing].pager) {
    take_over(m, c, &m->v[c->backing]);
  }
}

zx_status_t m_vmo_create_child(model_t* m, int h, uint32_t options, uint64_t offset,
                               uint64_t size, bool out_null, int* out) {
  const bool no_write = (options & ZX_VMO_CHILD_NO_WRITE) != 0;
  const bool resizable = (options & ZX_VMO_CHILD_RESIZABLE) != 0;
  // §4, "checks, in this order":
  // 1. "Size round-up wraps or > MAX_SIZE -> OUT_OF_RANGE (before the handle is looked
  //    up)."
  uint64_t rounded;
  if (!round_up_page(m, size, &rounded)) return ZX_ERR_OUT_OF_RANGE;
  if (rounded > m->max_size) return ZX_ERR_OUT_OF_RANGE;
  // 2. "NO_WRITE together with RESIZABLE -> INVALID_ARGS (any child type)."
  if (no_write && resizable) return ZX_ERR_INVALID_ARGS;
  // 3. "Handle: invalid -> BAD_HANDLE; not a VMO -> WRONG_TYPE; lacks DUPLICATE or READ
  //    -> ACCESS_DENIED."
  mvmo_t* p;
  zx_rights_t prights;
  zx_status_t st = lookup(m, h, ZX_RIGHT_DUPLICATE | ZX_RIGHT_READ, &p, &prights);
  if (st != ZX_OK) return st;
  // 4. "Discardable parent -> NOT_SUPPORTED."
  if (p->discardable) return ZX_ERR_NOT_SUPPORTED;
  // 5. "SLICE with any other option bit (other than NO_WRITE) -> INVALID_ARGS."
  const bool slice = (options & ZX_VMO_CHILD_SLICE) != 0;
  if (slice && (options & ~(ZX_VMO_CHILD_SLICE | ZX_VMO_CHILD_NO_WRITE)) != 0) {
    return ZX_ERR_INVALID_ARGS;
  }
  bool snapshot = false;  // the SNAPSHOT type (else SNAPSHOT_AT_LEAST_ON_WRITE or a slice)
  bool modified = false;  // SNAPSHOT_MODIFIED
  if (!slice) {
    // 6. "Otherwise exactly one type: SNAPSHOT wins over SNAPSHOT_AT_LEAST_ON_WRITE;
    //    no type bit, or any bit left after removing the type and RESIZABLE (two types,
    //    unknown bits) -> INVALID_ARGS." REFERENCE and SNAPSHOT_MODIFIED are types too
    //    (§1, §16); NO_WRITE is allowed with every type (rule 5, §5 IMMUTABLE).
    uint32_t type;
    if (options & ZX_VMO_CHILD_SNAPSHOT) {
      type = ZX_VMO_CHILD_SNAPSHOT;
    } else if (options & ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE) {
      type = ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE;
    } else if (options & ZX_VMO_CHILD_SNAPSHOT_MODIFIED) {
      type = ZX_VMO_CHILD_SNAPSHOT_MODIFIED;
    } else if (options & ZX_VMO_CHILD_REFERENCE) {
      type = ZX_VMO_CHILD_REFERENCE;
    } else {
      return ZX_ERR_INVALID_ARGS;  // no type bit
    }
    uint32_t left = options & ~(type | ZX_VMO_CHILD_RESIZABLE | ZX_VMO_CHILD_NO_WRITE);
    if (left != 0) return ZX_ERR_INVALID_ARGS;
    // §16.1 REFERENCE children (model_ref.c): a slice over the whole of what p shares.
    if (type == ZX_VMO_CHILD_REFERENCE) {
      st = m_ref_child(m, p, options, offset, size, out_null);
      if (st != ZX_OK) return st;
      const mvmo_t* t = m_ref_target(m, p);
      int id = make_child(m, p, prights, MK_SLICE, false, t->resizable, false, 0,
                          t->pages * m->page, t->content_size);
      m->v[id].ref = true;
      *out = handle_alloc(m, id, m_ref_rights(prights, options));
      if (*out < 0) abort();
      return ZX_OK;
    }
    // §16 SNAPSHOT_MODIFIED: SNAPSHOT outside pager families; inside one, a one-way
    // child (of a one-way clone: with a snapshot of what the clone changed, below).
    modified = type == ZX_VMO_CHILD_SNAPSHOT_MODIFIED;
    snapshot = type == ZX_VMO_CHILD_SNAPSHOT || (modified && !p->pbacked);
  }
  mkind_t kind;
  if (!slice) {
    // 7. Snapshot types:
    //    "offset not page-aligned -> INVALID_ARGS;"
    if (!page_aligned(m, offset)) return ZX_ERR_INVALID_ARGS;
    //    "offset + size overflows 64 bits -> OUT_OF_RANGE;" (DESIGN: judged on the
    //    page-rounded size)
    if (!sum_fits(offset, rounded, 0)) return ZX_ERR_OUT_OF_RANGE;
    //    §15 (after rule 7.3): a physical parent -> NOT_SUPPORTED; a contiguous one
    //    (or a slice of one) -> INVALID_ARGS; one not cached -> BAD_STATE.
    if (p->phys) return ZX_ERR_NOT_SUPPORTED;
    if (p->contig) return ZX_ERR_INVALID_ARGS;
    if (p->cache != ZX_CACHE_POLICY_CACHED) return ZX_ERR_BAD_STATE;
    //    "any snapshot type of a slice -> NOT_SUPPORTED", except §14: below a pager
    //    VMO, SNAPSHOT_AT_LEAST_ON_WRITE of a slice is a one-way child that sees the
    //    slice's window.
    //    §16.1: a reference's children are made of the pages it shares (its target's),
    //    as children of the target would be.
    if (p->kind == MK_SLICE && !p->ref && (!p->pbacked || snapshot)) return ZX_ERR_NOT_SUPPORTED;
    const mvmo_t* pt = m_ref_target(m, p);
    //    DESIGN: SNAPSHOT of a one-way VMO is NOT_SUPPORTED (as Zircon refuses SNAPSHOT
    //    of a pager-backed VMO); SNAPSHOT_AT_LEAST_ON_WRITE of one is another one-way
    //    clone (D6 for pager-backed VMOs). Elsewhere D6: it behaves as SNAPSHOT.
    //    Pager-backed parents likewise (Zircon: SNAPSHOT of a pager-backed VMO is
    //    NOT_SUPPORTED, SNAPSHOT_AT_LEAST_ON_WRITE gives a one-way child).
    if (pt->kind == MK_ONEWAY || p->pbacked) {
      if (snapshot) return ZX_ERR_NOT_SUPPORTED;
      kind = MK_ONEWAY;
    } else {
      kind = MK_SNAPSHOT;
    }
    //    §15 (after rule 7.5): an eager copy while a page of the parent is pinned ->
    //    BAD_STATE.
    if (kind == MK_SNAPSHOT && m_drv_pinned(m, pt, 0, pt->pages)) return ZX_ERR_BAD_STATE;
    //    "the accumulated offset down a chain of clones overflowing 64 bits ->
    //    INVALID_ARGS." (DESIGN: the accumulated offset plus the size must fit.)
    //    A slice's chain is its root's plus the slice's offset (§14: a one-way child of
    //    a slice sees the root through the slice's window).
    uint64_t pacc = p->kind == MK_SLICE ? m->v[p->root].acc + p->soff * m->page : p->acc;
    if (!sum_fits(pacc, offset, rounded)) return ZX_ERR_INVALID_ARGS;
  } else {
    // 8. Slices: "offset not aligned -> INVALID_ARGS;"
    if (!page_aligned(m, offset)) return ZX_ERR_INVALID_ARGS;
    //    "not wholly inside the parent (including offset + size overflow) ->
    //    INVALID_ARGS (a zero-size slice at offset == parent size is fine);"
    if (!in_range(m, p, offset, rounded)) return ZX_ERR_INVALID_ARGS;
    //    "parent resizable -> NOT_SUPPORTED (checked after containment)"
    if (p->resizable) return ZX_ERR_NOT_SUPPORTED;
    //    §15.8: a slice of a VMO not cached -> BAD_STATE unless it is contiguous (or
    //    physical, §15.2: slices of those work). The reference gives no place in the
    //    order; after the containment and resizable checks, as Zircon.
    if (p->cache != ZX_CACHE_POLICY_CACHED && !p->contig && !p->phys) return ZX_ERR_BAD_STATE;
    kind = MK_SLICE;
  }
  // 9. "A bad out pointer (NULL): nothing is leaked; INVALID_ARGS."
  if (out_null) return ZX_ERR_INVALID_ARGS;
  // §5 "IMMUTABLE info flag: set exactly on children made with SNAPSHOT | NO_WRITE."
  bool immutable = snapshot && no_write;
  // §5 "SLICE ... Never resizable."
  int id = make_child(m, p, prights, kind, false, slice ? false : resizable, immutable, offset,
                      rounded, size);
  if (modified && kind == MK_ONEWAY && p->kind == MK_ONEWAY) snapshot_modified(m, &m->v[id]);
  oneway_of_dead(m, &m->v[id]);
  zx_rights_t r = child_rights_by_reference(prights, slice ? CT_SLICE : CT_SNAPSHOT_TYPE,
                                            resizable, no_write);
  *out = handle_alloc(m, id, r);
  if (*out < 0) abort();
  return ZX_OK;
}

zx_status_t m_vmo_clone(model_t* m, int h, uint32_t options, uint64_t offset, uint64_t size,
                        bool out_null, int* out) {
  // §11 "Same handle, offset, size and ZERO_CHILDREN rules as section 4": so §4 rule 1
  // (size, before the handle), then rule 3 (handle), then the options, then rule 7.
  uint64_t rounded;
  if (!round_up_page(m, size, &rounded)) return ZX_ERR_OUT_OF_RANGE;
  if (rounded > m->max_size) return ZX_ERR_OUT_OF_RANGE;
  mvmo_t* p;
  zx_rights_t prights;
  zx_status_t st = lookup(m, h, ZX_RIGHT_DUPLICATE | ZX_RIGHT_READ, &p, &prights);
  if (st != ZX_OK) return st;
  // §16.2 "has no children of any kind (§4 rule 4, zx_vmo_clone too: NOT_SUPPORTED)".
  if (p->discardable) return ZX_ERR_NOT_SUPPORTED;
  // "options must contain ZX_VMO_CLONE_COPY_ON_WRITE, else INVALID_ARGS; unknown bits
  // -> INVALID_ARGS."
  if (!(options & ZX_VMO_CLONE_COPY_ON_WRITE)) return ZX_ERR_INVALID_ARGS;
  if (options & ~(ZX_VMO_CLONE_COPY_ON_WRITE | ZX_VMO_CLONE_NON_RESIZEABLE)) {
    return ZX_ERR_INVALID_ARGS;
  }
  // §4 rule 7, as for a snapshot type.
  if (!page_aligned(m, offset)) return ZX_ERR_INVALID_ARGS;
  if (!sum_fits(offset, rounded, 0)) return ZX_ERR_OUT_OF_RANGE;
  // §15, as for create_child.
  if (p->phys) return ZX_ERR_NOT_SUPPORTED;
  if (p->contig) return ZX_ERR_INVALID_ARGS;
  if (p->cache != ZX_CACHE_POLICY_CACHED) return ZX_ERR_BAD_STATE;
  // DESIGN: "Any copy-on-write child of a slice, zx_vmo_clone included, is
  // NOT_SUPPORTED."
  if (p->kind == MK_SLICE && !p->ref) return ZX_ERR_NOT_SUPPORTED;
  if (!sum_fits(m_ref_target(m, p)->acc, offset, rounded)) return ZX_ERR_INVALID_ARGS;
  // §4 rule 9.
  if (out_null) return ZX_ERR_INVALID_ARGS;
  // "The clone is resizable unless ZX_VMO_CLONE_NON_RESIZEABLE."
  bool resizable = !(options & ZX_VMO_CLONE_NON_RESIZEABLE);
  int id = make_child(m, p, prights, MK_ONEWAY, true, resizable, false, offset, rounded, size);
  oneway_of_dead(m, &m->v[id]);
  *out = handle_alloc(m, id, clone_rights_by_reference(prights, resizable));
  if (*out < 0) abort();
  return ZX_OK;
}

// ---- read, write, size (§6, §7) ----

// Bytes [off, off+len) of v (range already checked).
static void read_bytes(model_t* m, mvmo_t* v, uint8_t* buf, uint64_t off, uint64_t len) {
  uint64_t base;
  mvmo_t* c = content(m, v, &base);
  uint64_t i = 0;
  while (i < len) {  // a page at a time
    uint64_t a = off + i;
    uint64_t in = a % m->page;
    uint64_t n = min64(len - i, m->page - in);
    if (c->phys) {  // §15: the window's bytes
      memcpy(buf + i, m_drv_phys_page(m, c, base + a / m->page) + in, n);
      i += n;
      continue;
    }
    mrec_t* r = view(m, c, base + a / m->page);
    if (r) {
      memcpy(buf + i, r->bytes + in, n);
    } else {
      memset(buf + i, 0, n);
    }
    i += n;
  }
}

// Writes bytes [off, off+len) of v (range already checked).
static void write_bytes(model_t* m, mvmo_t* v, const uint8_t* buf, uint64_t off, uint64_t len) {
  uint64_t base;
  mvmo_t* c = content(m, v, &base);
  uint64_t i = 0;
  while (i < len) {  // a page at a time
    uint64_t a = off + i;
    uint64_t in = a % m->page;
    uint64_t n = min64(len - i, m->page - in);
    if (c->phys) {  // §15: the window's bytes
      memcpy(m_drv_phys_page(m, c, base + a / m->page) + in, buf + i, n);
      i += n;
      continue;
    }
    mrec_t* r = own_page(m, c, base + a / m->page);
    memcpy(r->bytes + in, buf + i, n);
    mark_written(c, base + a / m->page);
    i += n;
  }
}

zx_status_t m_vmo_read(model_t* m, int h, uint8_t* buf, uint64_t off, uint64_t len) {
  // §6 "READ right, else ACCESS_DENIED; non-VMO -> WRONG_TYPE."
  mvmo_t* v;
  zx_status_t st = lookup(m, h, ZX_RIGHT_READ, &v, NULL);
  if (st != ZX_OK) return st;
  // §6 rule 1 (§15): "a physical VMO -> NOT_SUPPORTED, a VMO whose cache policy is not
  // cached -> BAD_STATE".
  if (v->phys) return ZX_ERR_NOT_SUPPORTED;
  if (v->cache != ZX_CACHE_POLICY_CACHED) return ZX_ERR_BAD_STATE;
  // "offset + len overflowing or past the size -> OUT_OF_RANGE, checked before any
  // byte moves. A zero-length access at offset == size is OK."
  if (!in_range(m, v, off, len)) return ZX_ERR_OUT_OF_RANGE;
  // §16.2 a discarded VMO: "zx_vmo_read and zx_vmo_write (after their range checks) ...
  // return NOT_FOUND"; "Empty accesses still succeed."
  if (v->discarded && len > 0) return ZX_ERR_NOT_FOUND;
  // Pager VMOs: the absent pages come in first.
  st = prepare(m, v, off, len, false);
  if (st != ZX_OK) return st;
  read_bytes(m, v, buf, off, len);
  return ZX_OK;
}

zx_status_t m_vmo_write(model_t* m, int h, const uint8_t* buf, uint64_t off, uint64_t len) {
  // §6, as for reads with the WRITE right.
  mvmo_t* v;
  zx_status_t st = lookup(m, h, ZX_RIGHT_WRITE, &v, NULL);
  if (st != ZX_OK) return st;
  if (v->phys) return ZX_ERR_NOT_SUPPORTED;
  if (v->cache != ZX_CACHE_POLICY_CACHED) return ZX_ERR_BAD_STATE;
  if (!in_range(m, v, off, len)) return ZX_ERR_OUT_OF_RANGE;
  if (v->discarded && len > 0) return ZX_ERR_NOT_FOUND;  // §16.2
  st = prepare(m, v, off, len, true);
  if (st != ZX_OK) return st;
  write_bytes(m, v, buf, off, len);
  return ZX_OK;
}

zx_status_t m_vmo_get_size(model_t* m, int h, uint64_t* size) {
  // §7 "get_size needs no rights."
  mvmo_t* v;
  zx_status_t st = lookup(m, h, 0, &v, NULL);
  if (st != ZX_OK) return st;
  *size = size_bytes(m, v);
  return ZX_OK;
}

// Makes bytes [in, in+n) of page x of c read zero: nothing if they already do (§8
// ZERO: "partial pages are zeroed in place only if they do not already read as zero"),
// else the write rule.
static zx_status_t zero_partial(model_t* m, mvmo_t* c, uint64_t x, uint64_t in, uint64_t n) {
  // Pager VMOs: an absent page comes in first.
  zx_status_t st = fetch(m, c, x);
  if (st != ZX_OK) return st;
  if (c->pager) {
    // §14 zeroing part of a pager VMO's page is a write, whatever the bytes were: the
    // page is dirty after it. With TRAP_DIRTY the pager first dirties it, which makes
    // a zero page or a zero range a real page; without, those stay as they are.
    uint8_t ps = c->pst[x];
    bool zeros = c->slots[x] == MARKER || ps == PS_DZERO || ps == PS_AWAITZ;
    if (zeros && !c->trap_dirty) return ZX_OK;
    mrec_t* w = own_page(m, c, x);
    memset(w->bytes + in, 0, n);
    mark_written(c, x);
    return ZX_OK;
  }
  mrec_t* r = view(m, c, x);
  if (!r) return ZX_OK;
  bool zero = true;
  for (uint64_t i = 0; i < n; i++) {
    if (r->bytes[in + i] != 0) zero = false;
  }
  if (zero) return ZX_OK;
  r = own_page(m, c, x);
  memset(r->bytes + in, 0, n);
  mark_written(c, x);
  return ZX_OK;
}

// ZERO on v (range already checked, len > 0).
static zx_status_t zero_range(model_t* m, mvmo_t* v, uint64_t off, uint64_t len) {
  uint64_t base;
  mvmo_t* c = content(m, v, &base);
  uint64_t end = off + len;
  // Pager VMOs: partial pages are written, so absent ones come in first (the first
  // page, then the last), before anything changes.
  if (off % m->page) {
    zx_status_t st = fetch(m, c, base + off / m->page);
    if (st != ZX_OK) return st;
  }
  if (end % m->page) {
    zx_status_t st = fetch(m, c, base + end / m->page);
    if (st != ZX_OK) return st;
  }
  // ... and, on a detached TRAP_DIRTY VMO, a partial page not dirty yet cannot be.
  if (c->pager && c->trap_dirty && c->detached) {
    uint64_t ends[2] = {off % m->page ? off / m->page : UINT64_MAX,
                        end % m->page ? end / m->page : UINT64_MAX};
    for (int k = 0; k < 2; k++) {
      if (ends[k] != UINT64_MAX && c->pst[base + ends[k]] != PS_DIRTY) return ZX_ERR_BAD_STATE;
    }
  }
  if (c->pager) {
    c->modified = true;
    c->mod_unknown = false;
  }
  // §8 (D53): a contiguous VMO, or a range holding a pinned page, is zeroed in place
  // page by page, each as a partial page would be: its pages stay committed.
  bool in_place = c->contig ||
                  m_drv_pinned(m, c, base + off / m->page, base + (end - 1) / m->page + 1);
  uint64_t a = off;
  while (a < end) {
    uint64_t x = a / m->page;
    uint64_t in = a % m->page;
    uint64_t n = min64(end - a, m->page - in);
    if (n < m->page || in_place) {
      (void)zero_partial(m, c, base + x, in, n);  // fetched above
    } else if (c->pager) {
      // A pager VMO's whole pages become a dirty zero range (the pages are dropped).
      set_slot(m, c, base + x, NULL);
      c->pst[base + x] = PS_DZERO;
    } else {
      // §8 "whole pages are dropped rather than written where possible"; §5 a one-way
      // clone's zeroed page is its own: the parent's later writes do not show there.
      // So drop the page, and on a one-way VMO hide the backing wherever it could
      // ever show (inside the window, below the cut).
      set_slot(m, c, base + x, NULL);
      if (c->kind == MK_ONEWAY && c->backing >= 0 && base + x < c->cut) {
        set_slot(m, c, base + x, MARKER);
      }
    }
    a += n;
  }
  return ZX_OK;
}

zx_status_t m_vmo_set_size(model_t* m, int h, uint64_t size) {
  // §7 set_size, in order:
  // "WRITE right else ACCESS_DENIED;"
  mvmo_t* v;
  zx_rights_t rights;
  zx_status_t st = lookup(m, h, ZX_RIGHT_WRITE, &v, &rights);
  if (st != ZX_OK) return st;
  // "resizable VMO whose handle lacks RESIZE -> ACCESS_DENIED;"
  if (v->resizable && !(rights & ZX_RIGHT_RESIZE)) return ZX_ERR_ACCESS_DENIED;
  // §16.1 "Resizing a reference resizes its parent and every other reference".
  v = m_ref_target(m, v);
  // "round-up wraps -> OUT_OF_RANGE;"
  uint64_t rounded;
  if (!round_up_page(m, size, &rounded)) return ZX_ERR_OUT_OF_RANGE;
  // §7 rule 4 (§15.2): "A physical VMO -> NOT_SUPPORTED".
  if (v->phys) return ZX_ERR_NOT_SUPPORTED;
  // "VMO not resizable (every slice, every child made without RESIZABLE) ->
  // UNAVAILABLE;"
  if (!v->resizable) return ZX_ERR_UNAVAILABLE;
  // "> MAX_SIZE -> OUT_OF_RANGE."
  if (rounded > m->max_size) return ZX_ERR_OUT_OF_RANGE;
  // §16 "Growing a child with zx_vmo_set_size obeys the same accumulated-offset
  // overflow rule as creating it (section 4 rule 7): INVALID_ARGS."
  if (!sum_fits(v->acc, rounded, 0)) return ZX_ERR_INVALID_ARGS;
  uint64_t np = rounded / m->page;
  if (np > 4096) abort();  // the driver keeps VMOs small
  uint64_t old = size_bytes(m, v);
  // §7 rule 7: "shrinking over a pinned page -> BAD_STATE" (§15.6).
  if (np < v->pages && m_drv_pinned(m, v, np, v->pages)) return ZX_ERR_BAD_STATE;
  // "After shrinking to an unaligned size, the tail of the last page reads 0."
  // §14.8: a pager VMO's page the pager cannot give (failing, or detached), or that a
  // detached TRAP_DIRTY VMO cannot dirty, is left as it is and the resize still
  // succeeds (Zircon ignores the status of this zeroing).
  if (!page_aligned(m, size) && size < old) {
    uint64_t in = size % m->page, x = size / m->page;
    if (!(v->pager && v->trap_dirty && v->detached && v->pst[x] != PS_DIRTY)) {
      (void)zero_partial(m, v, x, in, m->page - in);
    }
  }
  int vid = (int)(v - m->v);
  if (np < v->pages) {
    // "Shrinking frees the pages beyond the new size."
    for (uint64_t x = np; x < v->pages; x++) set_slot(m, v, x, NULL);
    // §5 "Shrinking a node permanently cuts its children's view of the cut range (they
    // see zeros there even if it grows back)"; §5 "Growing any COW child exposes
    // zeros, never parent content": both by lowering `cut`, which never rises.
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
  if (v->pager) {
    // Pager VMOs: growing adds a dirty zero range; either way the VMO is modified.
    uint8_t* ps = realloc(v->pst, np ? np : 1);
    if (!ps) abort();
    for (uint64_t x = v->pages; x < np; x++) ps[x] = PS_DZERO;
    v->pst = ps;
    v->modified = true;
    v->mod_unknown = false;
  }
  v->pages = np;
  // Zircon: zx_vmo_set_size sets the content size to `size`.
  v->content_size = size;
  m_ref_sync(m, v);
  return ZX_OK;
}

// ---- op_range (§8, §11) ----

// §8 DECOMMIT "on a VMO that has a live COW parent, or that currently has a live
// SNAPSHOT child -> NOT_SUPPORTED"; D5: clones made by zx_vmo_clone keep the legacy
// behaviour (DECOMMIT allowed). DESIGN: one-way children do not block their parent's
// DECOMMIT. `c` holds the pages (a slice's root).
static bool decommit_refused(model_t* m, const mvmo_t* c) {
  // Pager-backed VMOs (the pager VMO and everything made from it): NOT_SUPPORTED.
  if (c->pbacked) return true;
  if (c->legacy) return false;
  bool cow_child = c->kind == MK_SNAPSHOT || c->kind == MK_ONEWAY;
  if (cow_child && c->parent >= 0) return true;
  int cid = (int)(c - m->v);
  for (int i = 0; i < M_MAX_VMOS; i++) {
    const mvmo_t* ch = &m->v[i];
    // §16.1: a child of a reference to c is a child of c's pages.
    bool of_c = ch->parent == cid || (ch->parent >= 0 && m->v[ch->parent].ref &&
                                      m->v[ch->parent].root == cid);
    if (ch->used && ch->alive && of_c && ch->kind == MK_SNAPSHOT) return true;
  }
  return false;
}

// zx_vmo_op_range on v through a handle with `rights`.
static zx_status_t vmo_op(model_t* m, mvmo_t* v, zx_rights_t rights, uint32_t op, uint64_t off,
                          uint64_t len, bool buf_null, size_t nbuf, mrec_t** recs) {
  const bool can_read = (rights & ZX_RIGHT_READ) != 0;
  const bool can_write = (rights & ZX_RIGHT_WRITE) != 0;
  uint64_t base;
  mvmo_t* c = content(m, v, &base);
  // Zircon's order throughout: the op's right first, then its own checks.
  switch (op) {
    case ZX_VMO_OP_COMMIT: {
      // §8 "COMMIT ... need WRITE"
      if (!can_write) return ZX_ERR_ACCESS_DENIED;
      // §15.2: COMMIT, DECOMMIT, ZERO of a physical VMO -> NOT_SUPPORTED.
      if (v->phys) return ZX_ERR_NOT_SUPPORTED;
      // "range rounded out to pages"; the rounded range must lie in the VMO ("A range
      // past the size -> OUT_OF_RANGE"); an end that overflows is out of range.
      if (!sum_fits(off, len, 0)) return ZX_ERR_OUT_OF_RANGE;
      uint64_t end;
      if (!round_up_page(m, off + len, &end)) return ZX_ERR_OUT_OF_RANGE;
      uint64_t start = off - off % m->page;
      if (!in_range(m, v, start, end - start)) return ZX_ERR_OUT_OF_RANGE;
      // §16.2 COMMIT of a discarded VMO -> NOT_FOUND (not an empty one).
      if (v->discarded && end > start) return ZX_ERR_NOT_FOUND;
      // Pager VMOs: the absent pages come in first (through a child too).
      zx_status_t st = prepare(m, v, start, end - start, false);
      if (st != ZX_OK) return st;
      // §14: committing a zero range of a TRAP_DIRTY pager VMO asks the pager to dirty
      // it, which a detached VMO cannot.
      if (c->pager && c->trap_dirty && c->detached) {
        for (uint64_t x = start / m->page; x < end / m->page; x++) {
          uint8_t ps = c->pst[base + x];
          if (ps == PS_DZERO || ps == PS_AWAITZ) return ZX_ERR_BAD_STATE;
        }
      }
      // "every page in range becomes the child's own page with unchanged content"
      // (D7); DESIGN: on roots as on children.
      for (uint64_t x = start / m->page; x < end / m->page; x++) {
        own_page(m, c, base + x);
        // §14: a pager VMO's zero range committed is dirty pages (not zero ranges).
        uint8_t* ps = c->pager ? &c->pst[base + x] : NULL;
        if (ps && (*ps == PS_DZERO || *ps == PS_AWAITZ)) *ps = PS_DIRTY;
      }
      return ZX_OK;
    }
    case ZX_VMO_OP_DECOMMIT:
      if (!can_write) return ZX_ERR_ACCESS_DENIED;
      if (v->phys) return ZX_ERR_NOT_SUPPORTED;
      // §8: "a contiguous VMO -> NOT_SUPPORTED" first.
      if (v->contig) return ZX_ERR_NOT_SUPPORTED;
      // DESIGN: "Check order (Zircon's): range -> length 0 is OK -> NOT_SUPPORTED ->
      // alignment."
      if (!in_range(m, v, off, len)) return ZX_ERR_OUT_OF_RANGE;
      if (len == 0) return ZX_OK;
      if (decommit_refused(m, c)) return ZX_ERR_NOT_SUPPORTED;
      if (!page_aligned(m, off) || !page_aligned(m, len)) return ZX_ERR_INVALID_ARGS;
      // "a pinned page in the range -> BAD_STATE (§15.6)".
      if (m_drv_pinned(m, c, base + off / m->page, base + (off + len) / m->page)) {
        return ZX_ERR_BAD_STATE;
      }
      // "Decommitted pages read as zero and are freed." On a legacy clone, §11: "the
      // parent's page shows through again": the slot is emptied, not hidden.
      for (uint64_t x = off / m->page; x < (off + len) / m->page; x++) {
        set_slot(m, c, base + x, NULL);
      }
      return ZX_OK;
    case ZX_VMO_OP_ZERO:
      if (!can_write) return ZX_ERR_ACCESS_DENIED;
      // §8 (§15): physical -> NOT_SUPPORTED, "not cached -> BAD_STATE" before the range.
      if (v->phys) return ZX_ERR_NOT_SUPPORTED;
      if (v->cache != ZX_CACHE_POLICY_CACHED) return ZX_ERR_BAD_STATE;
      if (!in_range(m, v, off, len)) return ZX_ERR_OUT_OF_RANGE;
      if (len == 0) return ZX_OK;
      return zero_range(m, v, off, len);
    case ZX_VMO_OP_LOCK:
    case ZX_VMO_OP_TRY_LOCK:
    case ZX_VMO_OP_UNLOCK:
      // §16.2 (model_ref.c); LOCK's buffer is the LOOKUP buffer here.
      return m_disc_op(m, v, rights, op, off, len,
                       buf_null || nbuf * sizeof(zx_paddr_t) < sizeof(zx_vmo_lock_state_t),
                       NULL);
    case ZX_VMO_OP_CACHE_SYNC:
    case ZX_VMO_OP_CACHE_CLEAN:
    case ZX_VMO_OP_CACHE_CLEAN_INVALIDATE:
      // §8 "CACHE_SYNC, CACHE_CLEAN, CACHE_CLEAN_INVALIDATE ... need READ"
      if (!can_read) return ZX_ERR_ACCESS_DENIED;
      // "CACHE_*: range checks only (size == 0 -> INVALID_ARGS)" (Zircon: size first)
      if (len == 0) return ZX_ERR_INVALID_ARGS;
      return in_range(m, v, off, len) ? ZX_OK : ZX_ERR_OUT_OF_RANGE;
    case ZX_VMO_OP_CACHE_INVALIDATE:
      // "CACHE_INVALIDATE need[s] WRITE"
      if (!can_write) return ZX_ERR_ACCESS_DENIED;
      if (len == 0) return ZX_ERR_INVALID_ARGS;
      return in_range(m, v, off, len) ? ZX_OK : ZX_ERR_OUT_OF_RANGE;
    case ZX_VMO_OP_PREFETCH:
      // "PREFETCH need[s] READ"; "hints; range check, then OK."
      if (!can_read) return ZX_ERR_ACCESS_DENIED;
      return in_range(m, v, off, len) ? ZX_OK : ZX_ERR_OUT_OF_RANGE;
    case ZX_VMO_OP_DONT_NEED:
    case ZX_VMO_OP_ALWAYS_NEED:
      // "DONT_NEED, ALWAYS_NEED need none"; "range check, then OK."
      return in_range(m, v, off, len) ? ZX_OK : ZX_ERR_OUT_OF_RANGE;
    case ZX_VMO_OP_LOOKUP: {
      // §11 legacy LOOKUP: "fills buffer with one address per page, the parent's page
      // where the clone has not written". No right (old Zircon checked none). Check
      // order, old Zircon's: a buffer is needed; the page table must fit the buffer
      // (BUFFER_TOO_SMALL); then zero length is INVALID_ARGS; then the range; DESIGN:
      // "a page committed nowhere is ZX_ERR_NO_MEMORY".
      if (buf_null) return ZX_ERR_INVALID_ARGS;
      if (!sum_fits(off, len, 0)) return ZX_ERR_OUT_OF_RANGE;
      uint64_t end;
      if (!round_up_page(m, off + len, &end)) return ZX_ERR_OUT_OF_RANGE;
      uint64_t first = off / m->page;
      uint64_t pages = end / m->page - first;
      if (pages > nbuf) return ZX_ERR_BUFFER_TOO_SMALL;
      if (len == 0) return ZX_ERR_INVALID_ARGS;
      if (!in_range(m, v, off, len)) return ZX_ERR_OUT_OF_RANGE;
      for (uint64_t k = 0; k < pages; k++) {
        // §15.2 "LOOKUP gives the physical addresses" (m_drv_addr): no record.
        if (c->phys) {
          recs[k] = NULL;
          continue;
        }
        mrec_t* r = view(m, c, base + first + k);
        if (!r) return ZX_ERR_NO_MEMORY;
        recs[k] = r;
      }
      return ZX_OK;
    }
    default:
      // §8 "Unknown op -> INVALID_ARGS."
      return ZX_ERR_INVALID_ARGS;
  }
}

zx_status_t m_vmo_op_range(model_t* m, int h, uint32_t op, uint64_t off, uint64_t len,
                           bool buf_null, size_t nbuf, mrec_t** recs) {
  mvmo_t* v;
  zx_rights_t rights;
  zx_status_t st = lookup(m, h, 0, &v, &rights);
  if (st != ZX_OK) return st;
  return vmo_op(m, v, rights, op, off, len, buf_null, nbuf, recs);
}

// ---- mappings (§12) ----

int m_map_count(const model_t* m) {
  int n = 0;
  for (int i = 0; i < M_MAX_MAPS; i++) n += m->maps[i].used;
  return n;
}

// §12 "num_mappings counts the VMO's mappings": one per record (Zircon: a split
// mapping is two mappings).
uint64_t m_num_mappings(const model_t* m, int vmo) {
  uint64_t n = 0;
  for (int i = 0; i < M_MAX_MAPS; i++) {
    if (m->maps[i].used && m->maps[i].vmo == vmo) n++;
  }
  return n;
}

int m_map_at(const model_t* m, uint64_t page) {
  for (int i = 0; i < M_MAX_MAPS; i++) {
    const mmap_t* p = &m->maps[i];
    if (p->used && p->placed && page >= p->base && page - p->base < p->pages) return i;
  }
  return -1;
}

// Pages [a, b) of the range hold no mapping.
static bool range_free(const model_t* m, uint64_t a, uint64_t b) {
  for (uint64_t x = a; x < b; x++) {
    if (m_map_at(m, x) >= 0) return false;
  }
  return true;
}

static int map_alloc(model_t* m) {
  for (int i = 0; i < M_MAX_MAPS; i++) {
    if (!m->maps[i].used) {
      memset(&m->maps[i], 0, sizeof(m->maps[i]));
      m->maps[i].used = true;
      m->maps[i].seq = ++m->next_map_seq;
      return i;
    }
  }
  abort();  // the driver bounds the records
}

// A new record of VMO vmo: §12 "A mapping keeps its VMO alive".
static int map_new(model_t* m, int vmo) {
  int id = map_alloc(m);
  m->maps[id].vmo = vmo;
  m->v[vmo].maps++;
  return id;
}

// Drops record id. §12 "A VMO dies when it has neither handles nor mappings."
static void map_drop(model_t* m, int id) {
  mvmo_t* v = &m->v[m->maps[id].vmo];
  m->maps[id].used = false;
  if (--v->maps == 0 && v->handles == 0 && v->pins == 0) vmo_die(m, v);
}

zx_status_t m_vmar_map(model_t* m, int h, uint32_t perms, bool specific, uint64_t vmar_off,
                       uint64_t vmo_off, uint64_t len, int* out) {
  // §12 "The order of these checks is sys_vmar_map's: VMAR handle, VMO handle, MAP
  // right, WRITE without READ, other rights, vmo_offset alignment, overflow, then the
  // VMAR's state and range." (The driver's VMAR handle is always good.)
  mvmo_t* v;
  zx_rights_t rights;
  zx_status_t st = lookup(m, h, 0, &v, &rights);
  if (st != ZX_OK) return st;
  // "the VMO handle needs ZX_RIGHT_MAP -> else ACCESS_DENIED"
  if (!(rights & ZX_RIGHT_MAP)) return ZX_ERR_ACCESS_DENIED;
  // "PERM_WRITE or PERM_EXECUTE without PERM_READ -> INVALID_ARGS"
  if ((perms & ZX_VM_PERM_WRITE) && !(perms & ZX_VM_PERM_READ)) return ZX_ERR_INVALID_ARGS;
  // "each PERM_* needs ... the VMO handle's right"
  if ((perms & ZX_VM_PERM_READ) && !(rights & ZX_RIGHT_READ)) return ZX_ERR_ACCESS_DENIED;
  if ((perms & ZX_VM_PERM_WRITE) && !(rights & ZX_RIGHT_WRITE)) return ZX_ERR_ACCESS_DENIED;
  // "unaligned offsets ... -> INVALID_ARGS" (vmo_offset here)
  if (!page_aligned(m, vmo_off)) return ZX_ERR_INVALID_ARGS;
  // "an unaligned len is rounded up to a page"; "vmo_offset + len overflowing ->
  // OUT_OF_RANGE"
  uint64_t rlen;
  if (!round_up_page(m, len, &rlen)) return ZX_ERR_OUT_OF_RANGE;
  if (!sum_fits(vmo_off, rlen, 0)) return ZX_ERR_OUT_OF_RANGE;
  // Then the VMAR: "len 0, a range past the VMAR ... -> INVALID_ARGS"; "overlap is
  // ALREADY_EXISTS"; "no room -> NO_RESOURCES".
  if (rlen == 0) return ZX_ERR_INVALID_ARGS;
  uint64_t pages = rlen / m->page;
  uint64_t base = 0;
  if (specific) {
    if (!page_aligned(m, vmar_off)) return ZX_ERR_INVALID_ARGS;
    if (vmar_off > M_VMAR_PAGES * m->page || rlen > M_VMAR_PAGES * m->page - vmar_off) {
      return ZX_ERR_INVALID_ARGS;
    }
    base = vmar_off / m->page;
    if (!range_free(m, base, base + pages)) return ZX_ERR_ALREADY_EXISTS;
  } else {
    // Any free run long enough will do (the reference fixes no placement).
    bool room = false;
    for (uint64_t a = 0; a + pages <= M_VMAR_PAGES && !room; a++) room = range_free(m, a, a + pages);
    if (!room) return ZX_ERR_NO_RESOURCES;
  }
  int id = map_new(m, (int)(v - m->v));
  mmap_t* p = &m->maps[id];
  p->placed = specific;
  p->base = base;
  p->pages = pages;
  p->voff = vmo_off / m->page;
  p->perms = perms & (ZX_VM_PERM_READ | ZX_VM_PERM_WRITE);
  // The widest protection zx_vmar_protect may give it later: what the VMO handle
  // allowed (§12 "raising rights beyond what the mapping's VMO handle or the VMAR
  // allowed -> ACCESS_DENIED"; the driver's VMAR allows READ and WRITE).
  p->max_perms = 0;
  if (rights & ZX_RIGHT_READ) p->max_perms |= ZX_VM_PERM_READ;
  if (rights & ZX_RIGHT_WRITE) p->max_perms |= ZX_VM_PERM_WRITE;
  *out = id;
  return ZX_OK;
}

bool m_map_place(model_t* m, int id, uint64_t off) {
  mmap_t* p = &m->maps[id];
  if (p->placed) return off == p->base * m->page;
  if (!page_aligned(m, off) || off / m->page + p->pages > M_VMAR_PAGES) return false;
  if (!range_free(m, off / m->page, off / m->page + p->pages)) return false;
  p->base = off / m->page;
  p->placed = true;
  return true;
}

// Cuts record id at page `at` (base < at < base + pages): the tail becomes a new
// record of the same VMO, offset and protection (a second mapping, §12 "the range may
// split a mapping").
static void map_split(model_t* m, int id, uint64_t at) {
  int t = map_new(m, m->maps[id].vmo);
  mmap_t* p = &m->maps[id];
  mmap_t* q = &m->maps[t];
  uint64_t head = at - p->base;
  q->placed = true;
  q->base = at;
  q->pages = p->pages - head;
  q->voff = p->voff + head;
  q->perms = p->perms;
  q->max_perms = p->max_perms;
  p->pages = head;
}

// Splits the records that straddle page a or page b, so that [a, b) is a union of
// whole records and gaps.
static void split_at_edges(model_t* m, uint64_t a, uint64_t b) {
  int i = m_map_at(m, a);
  if (i >= 0 && m->maps[i].base < a) map_split(m, i, a);
  i = m_map_at(m, b - 1);
  if (i >= 0 && m->maps[i].base + m->maps[i].pages > b) map_split(m, i, b);
}

// [off, off+len) lies inside the model's range.
static bool in_vmar(const model_t* m, uint64_t off, uint64_t len) {
  uint64_t size = M_VMAR_PAGES * m->page;
  return off <= size && len <= size - off;
}

zx_status_t m_vmar_unmap(model_t* m, uint64_t off, uint64_t len) {
  // Zircon: an unaligned address, or a length 0, is INVALID_ARGS; the length is
  // rounded up to a page; a range outside the VMAR is INVALID_ARGS; gaps are fine.
  uint64_t rlen;
  if (!page_aligned(m, off)) return ZX_ERR_INVALID_ARGS;
  if (!round_up_page(m, len, &rlen) || rlen == 0) return ZX_ERR_INVALID_ARGS;
  if (!in_vmar(m, off, rlen)) return ZX_ERR_INVALID_ARGS;
  uint64_t a = off / m->page, b = a + rlen / m->page;
  split_at_edges(m, a, b);
  for (int i = 0; i < M_MAX_MAPS; i++) {
    mmap_t* p = &m->maps[i];
    if (p->used && p->base >= a && p->base < b) map_drop(m, i);
  }
  return ZX_OK;
}

zx_status_t m_vmar_protect(model_t* m, uint32_t perms, uint64_t off, uint64_t len) {
  // §12 "PERM_WRITE without PERM_READ -> INVALID_ARGS"; Zircon: the address must be
  // aligned, the length is rounded up and may not be 0, the range must lie in the VMAR.
  if ((perms & ZX_VM_PERM_WRITE) && !(perms & ZX_VM_PERM_READ)) return ZX_ERR_INVALID_ARGS;
  uint64_t rlen;
  if (!page_aligned(m, off)) return ZX_ERR_INVALID_ARGS;
  if (!round_up_page(m, len, &rlen) || rlen == 0) return ZX_ERR_INVALID_ARGS;
  if (!in_vmar(m, off, rlen)) return ZX_ERR_INVALID_ARGS;
  uint64_t a = off / m->page, b = a + rlen / m->page;
  // §12 "NOT_FOUND if part of the range is unmapped"; "raising rights beyond what the
  // mapping's VMO handle ... allowed -> ACCESS_DENIED". Both are checked before
  // anything changes; which wins when both apply the reference does not say.
  bool gap = false, denied = false;
  for (uint64_t x = a; x < b; x++) {
    int i = m_map_at(m, x);
    if (i < 0) {
      gap = true;
    } else if (perms & ~m->maps[i].max_perms) {
      denied = true;
    }
  }
  if (gap && denied) return M_UNMODELLED;
  if (gap) return ZX_ERR_NOT_FOUND;
  if (denied) return ZX_ERR_ACCESS_DENIED;
  split_at_edges(m, a, b);
  for (uint64_t x = a; x < b; x++) m->maps[m_map_at(m, x)].perms = perms;
  return ZX_OK;
}

zx_status_t m_vmar_op_range(model_t* m, uint32_t op, uint64_t off, uint64_t len) {
  // §12 "zx_vmar_op_range: the ops of the newest Zircon (COMMIT, DECOMMIT, MAP_RANGE,
  // ZERO, PREFETCH, DONT_NEED, ALWAYS_NEED) over the mappings in a range (gaps ->
  // BAD_STATE)". Zircon: the address must be aligned and the length (rounded up to a
  // page) not 0, else INVALID_ARGS; a range outside the VMAR is OUT_OF_RANGE; COMMIT,
  // DECOMMIT and ZERO need a mapping that may be writable (its VMO handle had WRITE),
  // PREFETCH one that may be readable, else ACCESS_DENIED. Each mapping's part acts on its VMO as the VMO op would (§12
  // "Through a mapping a VMO behaves exactly as through zx_vmo_*"), mapping after
  // mapping in address order.
  uint64_t rlen;
  if (!page_aligned(m, off)) return ZX_ERR_INVALID_ARGS;
  if (!round_up_page(m, len, &rlen) || rlen == 0) return ZX_ERR_INVALID_ARGS;
  if (!in_vmar(m, off, rlen)) return ZX_ERR_OUT_OF_RANGE;
  uint32_t vop;
  switch (op) {
    case ZX_VMAR_OP_COMMIT: vop = ZX_VMO_OP_COMMIT; break;
    case ZX_VMAR_OP_DECOMMIT: vop = ZX_VMO_OP_DECOMMIT; break;
    case ZX_VMAR_OP_ZERO: vop = ZX_VMO_OP_ZERO; break;
    default: vop = 0; break;  // hints and MAP_RANGE change nothing a program sees
  }
  uint64_t x = off / m->page, b = x + rlen / m->page;
  while (x < b) {
    int i = m_map_at(m, x);
    if (i < 0) return ZX_ERR_BAD_STATE;
    mmap_t* p = &m->maps[i];
    if (vop != 0 && !(p->max_perms & ZX_VM_PERM_WRITE)) return ZX_ERR_ACCESS_DENIED;
    if (op == ZX_VMAR_OP_PREFETCH && !(p->max_perms & ZX_VM_PERM_READ)) {
      return ZX_ERR_ACCESS_DENIED;
    }
    uint64_t stop = min64(b, p->base + p->pages);
    if (vop != 0) {
      zx_status_t st = vmo_op(m, &m->v[p->vmo], ZX_RIGHT_READ | ZX_RIGHT_WRITE, vop,
                              (p->voff + (x - p->base)) * m->page, (stop - x) * m->page, true,
                              0, NULL);
      if (st != ZX_OK) return st;
    }
    x = stop;
  }
  return ZX_OK;
}

bool m_map_page_ok(const model_t* m, int id, uint64_t i, bool write) {
  const mmap_t* p = &m->maps[id];
  if (!p->used || !p->placed || i >= p->pages) return false;
  if (!(p->perms & ZX_VM_PERM_READ)) return false;
  if (write && !(p->perms & ZX_VM_PERM_WRITE)) return false;
  // §12 "Access to a page of a mapping past the VMO's current size raises SIGBUS".
  if (p->voff + i >= m->v[p->vmo].pages) return false;
  // §16.2 "an access through a mapping [of a discarded VMO] raises SIGBUS".
  if (m->v[p->vmo].discarded) return false;
  // Pager VMOs: a page that cannot be had (a failing page, a detached VMO's absent
  // page, a detached TRAP_DIRTY VMO's page not dirty yet for a write) is SIGBUS too.
  model_t* mm = (model_t*)m;  // the walk below changes nothing
  uint64_t base, rx = 0;
  mvmo_t* c = content(mm, &mm->v[p->vmo], &base);
  uint64_t x = base + p->voff + i;
  mvmo_t* r = absent_root(mm, c, x, &rx);
  if (r && (r->detached || m_pager_class(r->seed, r->may_fail, rx) == M_PG_FAIL)) return false;
  if (write && c->pager && c->trap_dirty && c->detached && c->pst[x] != PS_DIRTY) return false;
  return true;
}

void m_map_read(model_t* m, int vmo, uint8_t* buf, uint64_t off, uint64_t len) {
  // A fault on an absent page of a pager VMO asks for it.
  (void)prepare(m, &m->v[vmo], off, len, false);
  read_bytes(m, &m->v[vmo], buf, off, len);
}

void m_map_write(model_t* m, int vmo, const uint8_t* buf, uint64_t off, uint64_t len) {
  // §12 "Memory written through a mapping is committed to the VMO exactly as a
  // zx_vmo_write would".
  (void)prepare(m, &m->v[vmo], off, len, true);
  // A pager VMO's pages already dirty take the write without a fault: whether that
  // counts for MODIFIED is left open (model.h, mod_unknown).
  uint64_t base;
  mvmo_t* c = content(m, &m->v[vmo], &base);
  bool was_modified = c->modified, all_dirty = true;
  if (c->pager && len > 0) {
    for (uint64_t x = base + off / m->page; x <= base + (off + len - 1) / m->page; x++) {
      if (c->pst[x] != PS_DIRTY) all_dirty = false;
    }
  }
  write_bytes(m, &m->v[vmo], buf, off, len);
  if (c->pager && len > 0 && all_dirty && !was_modified) {
    c->modified = false;
    c->mod_unknown = true;
  }
}

bool m_page_aliases(model_t* m, int src, uint64_t spage, int dst, uint64_t dpage) {
  // A write to dst's page lands in slot dx of dst's content c (a slice writes its
  // root's slot). src's page shows the first filled slot on its chain (own slot, then
  // the backing's, ...); the write shows through src if that chain passes c's slot dx
  // before (or at) the first filled slot.
  uint64_t db, sb;
  mvmo_t* dc = content(m, &m->v[dst], &db);
  mvmo_t* c = content(m, &m->v[src], &sb);
  uint64_t x = sb + spage, dx = db + dpage;
  // §15: physical VMOs over the same physical page are the same bytes.
  if (c->phys || dc->phys) {
    return c->phys && dc->phys && c->paddr + x * m->page == dc->paddr + dx * m->page;
  }
  for (;;) {
    if (c == dc && x == dx) return true;
    if (x >= c->pages || c->slots[x]) return false;
    if (c->kind != MK_ONEWAY || c->backing < 0 || x >= c->cut) return false;
    x += c->boff;
    c = &m->v[c->backing];
  }
}

// ---- handles and objects (Zircon) ----

zx_status_t m_handle_duplicate(model_t* m, int h, zx_rights_t rights, int* out) {
  // Zircon: the handle needs DUPLICATE (ACCESS_DENIED); rights that are not a subset
  // of the handle's are INVALID_ARGS; ZX_RIGHT_SAME_RIGHTS keeps them.
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
  // §12 "A VMO dies when it has neither handles nor mappings."
  // §15.6: a pin holds its VMO alive as a handle would.
  if (--v->handles == 0 && v->maps == 0 && v->pins == 0) vmo_die(m, v);
  return ZX_OK;
}

void m_reset(model_t* m) {
  for (int i = 0; i < M_MAX_MAPS; i++) {
    if (m->maps[i].used) map_drop(m, i);
  }
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

// ---- attribution (§10) ----

// A byte count with a fractional part: `part` counts units of 2^-63 byte (§10:
// "63-bit fixed point, 1<<63 = one byte").
typedef struct scaled {
  uint64_t whole;
  uint64_t part;
} scaled_t;

#define ONE_BYTE ((uint64_t)1 << 63)

// Adds one page's share: "a page seen by N VMOs counts ... as PAGE/N in
// committed_scaled_bytes (PSS) with the remainder in committed_fractional_scaled_bytes".
// The remainder (PAGE mod N bytes, shared N ways) is written in units, rounded down;
// a part that reaches a whole byte carries into `whole`.
static void add_share(scaled_t* s, uint64_t page, uint64_t n) {
  s->whole += page / n;
  uint64_t rem = page % n;  // rem/n of a byte is left
  unsigned __int128 units = ((unsigned __int128)rem * ONE_BYTE) / n;
  s->part += (uint64_t)units;
  if (s->part >= ONE_BYTE) {
    s->part -= ONE_BYTE;
    s->whole += 1;
  }
}

// Attribution of non-slice v: "a page seen by N VMOs counts fully in each one's
// committed_bytes (RSS), in none of their committed_private_bytes (USS) unless N == 1".
static void attribute(model_t* m, const mvmo_t* v, m_info_t* out) {
  // N for every record: the number of holders whose view includes it.
  for (mrec_t* r = m->live; r; r = r->next) r->sharers = 0;
  for (int i = 0; i < M_MAX_VMOS; i++) {
    const mvmo_t* hv = &m->v[i];
    if (!is_holder(hv)) continue;
    uint64_t e = ++m->epoch;
    for (uint64_t x = 0; x < hv->pages; x++) {
      // A dead root kept by its slices sees only what they window (DESIGN).
      if (!dead_sees(m, hv, x)) continue;
      mrec_t* r = view(m, hv, x);
      if (r && r->mark != e) {
        r->mark = e;
        r->sharers++;
      }
    }
  }
  scaled_t s = {0, 0};
  uint64_t e = ++m->epoch;
  for (uint64_t x = 0; x < v->pages; x++) {
    if (!dead_sees(m, v, x)) continue;  // as above
    mrec_t* r = view(m, v, x);
    if (!r || r->mark == e) continue;
    r->mark = e;
    uint64_t n = r->sharers;
    if (n == 0) abort();  // v is a holder, so it counted itself
    out->committed += m->page;
    if (n == 1) out->priv += m->page;
    add_share(&s, m->page, n);
  }
  out->scaled = s.whole;
  out->frac = s.part;
}

// §10 "The sum of scaled bytes over all VMOs equals the pages actually held": summed
// over every holder (a dead root kept by slices included), the scaled bytes and their
// fractions come to the bytes of the distinct pages held, less what truncating each
// share to 2^-63 byte loses (under one byte in all). Checks the model itself.
bool m_attribution_conserved(model_t* m) {
  scaled_t total = {0, 0};
  for (int i = 0; i < M_MAX_VMOS; i++) {
    mvmo_t* v = &m->v[i];
    if (!is_holder(v)) continue;
    m_info_t one;
    memset(&one, 0, sizeof(one));
    attribute(m, v, &one);
    total.whole += one.scaled;
    total.part += one.frac;
    while (total.part >= ONE_BYTE) {
      total.part -= ONE_BYTE;
      total.whole++;
    }
  }
  uint64_t held = m->nlive * m->page;
  return total.whole == held || (held > 0 && total.whole == held - 1 && total.part > 0);
}

zx_status_t m_vmo_info(model_t* m, int h, m_info_t* out) {
  // DESIGN: "ZX_INFO_VMO needs no right."
  mvmo_t* v;
  zx_rights_t rights;
  zx_status_t st = lookup(m, h, 0, &v, &rights);
  if (st != ZX_OK) return st;
  memset(out, 0, sizeof(*out));
  out->vmo = (int)(v - m->v);
  out->size_bytes = size_bytes(m, v);
  // §9 "parent_koid: koid of the current live parent; 0 when none."
  out->parent = v->parent;
  out->num_children = m_children(m, out->vmo);
  // §1 flags: paged (TYPE_PAGED), seen through a handle (VIA_HANDLE);
  // §10 (§15): TYPE_PHYSICAL for physical VMOs, CONTIGUOUS for them and contiguous ones.
  out->flags = (v->phys ? ZX_INFO_VMO_TYPE_PHYSICAL : ZX_INFO_VMO_TYPE_PAGED) |
               ZX_INFO_VMO_VIA_HANDLE;
  if (v->phys || v->contig) out->flags |= ZX_INFO_VMO_CONTIGUOUS;
  out->cache_policy = v->cache;
  if (v->resizable) out->flags |= ZX_INFO_VMO_RESIZABLE;
  // §9 "IS_COW_CLONE: set on a COW child while it has a parent; never on slices."
  if ((v->kind == MK_SNAPSHOT || v->kind == MK_ONEWAY) && v->parent >= 0) {
    out->flags |= ZX_INFO_VMO_IS_COW_CLONE;
  }
  if (v->immutable) out->flags |= ZX_INFO_VMO_IMMUTABLE;
  // Pager VMOs and every VMO made from one.
  if (v->pbacked) out->flags |= ZX_INFO_VMO_PAGER_BACKED;
  // §16.2 "ZX_INFO_VMO flags it DISCARDABLE."
  if (v->discardable) out->flags |= ZX_INFO_VMO_DISCARDABLE;
  out->rights = rights;
  memcpy(out->name, v->name, sizeof(out->name));
  // §10 "Slices report 0."
  if (v->kind != MK_SLICE) attribute(m, v, out);
  return ZX_OK;
}

zx_status_t m_get_content_size(model_t* m, int h, uint64_t* out) {
  // Zircon: reading a property needs GET_PROPERTY.
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
  // DESIGN: "setting it below zeroes the bytes from there to the end (Zircon), so
  // setting it needs ZX_RIGHT_WRITE as well as ZX_RIGHT_SET_PROPERTY"; "may be set
  // past the VMO's size".
  zx_status_t st = lookup(m, h, ZX_RIGHT_SET_PROPERTY | ZX_RIGHT_WRITE, &v, NULL);
  if (st != ZX_OK) return st;
  // §10 (§15): physical and contiguous VMOs -> NOT_SUPPORTED.
  if (v->phys || v->contig) return ZX_ERR_NOT_SUPPORTED;
  v = m_ref_target(m, v);  // §16.1 "the content size ... is shared"
  uint64_t size = size_bytes(m, v);
  if (cs < size) {
    st = zero_range(m, v, cs, size - cs);
    if (st != ZX_OK) return st;
  }
  v->content_size = cs;
  m_ref_sync(m, v);
  return ZX_OK;
}

zx_status_t m_set_name(model_t* m, int h, const char* name) {
  // Zircon: setting a property needs SET_PROPERTY; names are cut to 31 bytes.
  mvmo_t* v;
  zx_status_t st = lookup(m, h, ZX_RIGHT_SET_PROPERTY, &v, NULL);
  if (st != ZX_OK) return st;
  memset(v->name, 0, sizeof(v->name));
  size_t n = strlen(name);
  if (n > M_NAME_LEN - 1) n = M_NAME_LEN - 1;
  memcpy(v->name, name, n);
  return ZX_OK;
}

void m_add_execute(model_t* m, int h) { m->h[h].rights |= ZX_RIGHT_EXECUTE; }

zx_status_t m_wait_zero_children(model_t* m, int h, bool* asserted) {
  // Zircon: waiting needs the WAIT right. §9 "ZX_VMO_ZERO_CHILDREN is active when the
  // VMO has no live child"; §3 "asserted from creation".
  mvmo_t* v;
  if (h == M_H_WRONG_TYPE) abort();
  zx_status_t st = lookup(m, h, ZX_RIGHT_WAIT, &v, NULL);
  if (st != ZX_OK) return st;
  *asserted = m_children(m, (int)(v - m->v)) == 0;
  return *asserted ? ZX_OK : ZX_ERR_TIMED_OUT;
}

// ---- the reference's worked examples, run on the model itself ----

static void self_fail(const char* what, uint64_t got, uint64_t want) {
  fprintf(stderr, "zxvmo model: disagrees with docs/behavior.md: %s: model %#llx, reference %#llx\n",
          what, (unsigned long long)got, (unsigned long long)want);
  abort();
}

static void self_expect(const char* what, uint64_t got, uint64_t want) {
  if (got != want) self_fail(what, got, want);
}

static void m_init_bare(model_t* m) {
  memset(m, 0, sizeof(*m));
  m->page = zx_system_get_page_size();
  if (m->page == 0 || (m->page & (m->page - 1)) != 0) self_fail("page size", m->page, 4096);
  // §1 "MAX_SIZE of a VMO: the largest multiple of 32 pages that fits in 64 bits".
  uint64_t unit = 32 * m->page;
  m->max_size = (UINT64_MAX / unit) * unit;
}

static void self_test(void) {
  model_t* m = calloc(1, sizeof(*m));
  if (!m) abort();
  m_init_bare(m);
  const uint64_t P = m->page;
  // §1 "0xFFFF_FFFF_FFFE_0000 with 4 KiB pages".
  if (P == 4096) self_expect("§1 MAX_SIZE", m->max_size, 0xFFFFFFFFFFFE0000ull);
  // §2 "Example: parent handle READ|DUPLICATE, SNAPSHOT child:
  // READ|DUPLICATE|WRITE|GET_PROPERTY|SET_PROPERTY."
  self_expect("§2 example",
              child_rights_by_reference(ZX_RIGHT_READ | ZX_RIGHT_DUPLICATE, CT_SNAPSHOT_TYPE,
                                        false, false),
              ZX_RIGHT_READ | ZX_RIGHT_DUPLICATE | ZX_RIGHT_WRITE | ZX_RIGHT_GET_PROPERTY |
                  ZX_RIGHT_SET_PROPERTY);
  // §10 "2-page VMO with both pages written, then a SNAPSHOT child: parent and child
  // each scaled = 1 page; parent writes page 0 -> 1.5 pages each; child writes page 1
  // -> 2 pages each."
  int p, c, d;
  uint8_t b = 1;
  m_info_t ip, ic, id;
  if (m_vmo_create(m, 2 * P, 0, &p) != ZX_OK) self_fail("§10 create", 1, 0);
  m_vmo_write(m, p, &b, 0, 1);
  m_vmo_write(m, p, &b, P, 1);
  if (m_vmo_create_child(m, p, ZX_VMO_CHILD_SNAPSHOT, 0, 2 * P, false, &c) != ZX_OK) {
    self_fail("§10 snapshot", 1, 0);
  }
  m_vmo_info(m, p, &ip);
  m_vmo_info(m, c, &ic);
  self_expect("§10 example, parent scaled", ip.scaled, P);
  self_expect("§10 example, child scaled", ic.scaled, P);
  m_vmo_write(m, p, &b, 0, 1);
  m_vmo_info(m, p, &ip);
  m_vmo_info(m, c, &ic);
  self_expect("§10 example, parent scaled after parent write", ip.scaled, P + P / 2);
  self_expect("§10 example, child scaled after parent write", ic.scaled, P + P / 2);
  m_vmo_write(m, c, &b, P, 1);
  m_vmo_info(m, p, &ip);
  m_vmo_info(m, c, &ic);
  self_expect("§10 example, parent scaled after child write", ip.scaled, 2 * P);
  self_expect("§10 example, child scaled after child write", ic.scaled, 2 * P);
  self_expect("§10 example, private = scaled when nothing is shared", ic.priv, 2 * P);
  m_reset(m);
  // "Two snapshots of one 1-page VMO -> each of the three VMOs scaled = PAGE/3 (plus
  // fractions)."
  m_vmo_create(m, P, 0, &p);
  m_vmo_write(m, p, &b, 0, 1);
  m_vmo_create_child(m, p, ZX_VMO_CHILD_SNAPSHOT, 0, P, false, &c);
  m_vmo_create_child(m, p, ZX_VMO_CHILD_SNAPSHOT, 0, P, false, &d);
  m_vmo_info(m, p, &ip);
  m_vmo_info(m, c, &ic);
  m_vmo_info(m, d, &id);
  uint64_t third_units = (uint64_t)(((unsigned __int128)(P % 3) << 63) / 3);
  self_expect("§10 three sharers, scaled", ip.scaled, P / 3);
  self_expect("§10 three sharers, fraction", ip.frac, third_units);
  self_expect("§10 three sharers, snapshot 1", ic.scaled, P / 3);
  self_expect("§10 three sharers, snapshot 2", id.scaled, P / 3);
  self_expect("§10 three sharers, committed", ic.committed, P);
  self_expect("§10 three sharers, private", ic.priv, 0);
  // "Closing a VMO moves nothing: pages only it saw are freed; pages others still see
  // stay, and are now shared by fewer."
  m_handle_close(m, p);
  m_vmo_info(m, c, &ic);
  self_expect("§10 after close, pages held", m->nlive, 1);
  self_expect("§10 after close, scaled", ic.scaled, P / 2);
  m_reset(m);
  if (m->nlive != 0) self_fail("self test leaks", m->nlive, 0);
  free(m);
}

bool m_tolerates(const model_t* m, uint32_t bug) { return (m->tolerated & bug) != 0; }

void m_init(model_t* m) {
  self_test();
  m_init_bare(m);
  const char* strict = getenv("ZXVMO_FUZZ_STRICT");
  m->tolerated = strict && strcmp(strict, "0") != 0 ? 0 : M_KNOWN_BUGS;
}

// ---- user pagers ----
// The contract (the lead's, for zx_pager_*): per page of the pager VMO one of the PS_*
// states of model.h; accesses bring absent pages in through the service (prepare);
// DECOMMIT and SNAPSHOT refused below a pager VMO (above); detach drops clean pages.

void m_pager_new(model_t* m) {
  m->pager_gen++;
  m->pager_open = true;
}

void m_pager_close(model_t* m) {
  // Closing the pager: accesses that need absent pages fail (BAD_STATE); present pages
  // stay readable.
  for (int i = 0; i < M_MAX_VMOS; i++) {
    mvmo_t* v = &m->v[i];
    if (v->used && v->pager && v->pgen == m->pager_gen) v->detached = true;
  }
  m->pager_open = false;
}

zx_status_t m_pager_create_vmo(model_t* m, int ph, uint32_t options, uint64_t size,
                               uint8_t seed, bool may_fail, int* out) {
  // Zircon's order: the pager handle (ATTACH_VMO), the port (the driver's, WRITE), then
  // RESIZABLE with UNBOUNDED, the size, unknown options.
  if (ph == M_H_WRONG_TYPE) return ZX_ERR_WRONG_TYPE;
  if (ph < 0 || !m->pager_open) return ZX_ERR_BAD_HANDLE;
  if ((options & ZX_VMO_RESIZABLE) && (options & ZX_VMO_UNBOUNDED)) return ZX_ERR_INVALID_ARGS;
  uint64_t rounded;
  if (!round_up_page(m, size, &rounded) || rounded > m->max_size) return ZX_ERR_OUT_OF_RANGE;
  if (options & ~(ZX_VMO_RESIZABLE | ZX_VMO_TRAP_DIRTY | ZX_VMO_UNBOUNDED)) {
    return ZX_ERR_INVALID_ARGS;
  }
  if (options & ZX_VMO_UNBOUNDED) return M_UNMODELLED;
  mvmo_t* v = new_root(m, rounded, size, (options & ZX_VMO_RESIZABLE) != 0, out);
  v->pst = calloc(v->pages ? v->pages : 1, 1);  // every page absent
  if (!v->pst) abort();
  v->pbacked = v->pager = true;
  v->trap_dirty = (options & ZX_VMO_TRAP_DIRTY) != 0;
  v->seed = seed;
  v->may_fail = may_fail;
  v->pgen = m->pager_gen;
  return ZX_OK;
}

// The pager handle, then h with `need` as one of that pager's VMOs (INVALID_ARGS for
// any other VMO: a plain one, a child or slice of a pager VMO, another pager's).
static zx_status_t pager_vmo(model_t* m, int ph, int h, zx_rights_t need, mvmo_t** v) {
  if (ph == M_H_WRONG_TYPE) return ZX_ERR_WRONG_TYPE;
  if (ph < 0 || !m->pager_open) return ZX_ERR_BAD_HANDLE;
  zx_status_t st = lookup(m, h, need, v, NULL);
  if (st != ZX_OK) return st;
  if (!(*v)->pager || (*v)->pgen != m->pager_gen) return ZX_ERR_INVALID_ARGS;
  return ZX_OK;
}

zx_status_t m_pager_detach(model_t* m, int ph, int h) {
  mvmo_t* v;
  zx_status_t st = pager_vmo(m, ph, h, ZX_RIGHT_WRITE, &v);
  if (st != ZX_OK) return st;
  // Clean pages are dropped (the pager cannot be asked for them again); dirty and
  // awaiting pages and zero ranges stay. Again on a detached VMO: the same, no error.
  for (uint64_t x = 0; x < v->pages; x++) {
    if (v->pst[x] == PS_CLEAN) {
      set_slot(m, v, x, NULL);
      v->pst[x] = PS_ABSENT;
    }
  }
  v->detached = true;
  return ZX_OK;
}

// The statuses a pager may fail a request with (Zircon's list).
static bool valid_failure(uint64_t data) {
  int64_t s = (int64_t)data;
  return s == ZX_ERR_IO || s == ZX_ERR_IO_DATA_INTEGRITY || s == ZX_ERR_BAD_STATE ||
         s == ZX_ERR_NO_SPACE || s == ZX_ERR_BUFFER_TOO_SMALL;
}

zx_status_t m_pager_op_range(model_t* m, int ph, uint32_t op, int h, uint64_t off,
                             uint64_t len, uint64_t data) {
  // Zircon: offset and length page-aligned (before any handle), the pager
  // (MANAGE_VMO), the VMO (WRITE), then the op's own checks.
  if (!page_aligned(m, off) || !page_aligned(m, len)) return ZX_ERR_INVALID_ARGS;
  mvmo_t* v;
  zx_status_t st = pager_vmo(m, ph, h, ZX_RIGHT_WRITE, &v);
  if (st != ZX_OK) return st;
  uint64_t a = off / m->page, b;
  switch (op) {
    case ZX_PAGER_OP_FAIL:
      if (!valid_failure(data)) return ZX_ERR_INVALID_ARGS;
      if (!in_range(m, v, off, len)) return ZX_ERR_OUT_OF_RANGE;
      if (v->detached) return ZX_ERR_BAD_STATE;
      return ZX_OK;  // nothing outstanding (the driver waits for no access): no change
    case ZX_PAGER_OP_DIRTY:
      if (data != 0) return ZX_ERR_INVALID_ARGS;
      if (!v->trap_dirty) return ZX_ERR_NOT_SUPPORTED;  // before the range
      if (!in_range(m, v, off, len)) return ZX_ERR_OUT_OF_RANGE;
      if (v->detached) return ZX_ERR_BAD_STATE;
      b = a + len / m->page;
      // NOT_FOUND if any page is absent; else all dirty (zero pages become real ones).
      for (uint64_t x = a; x < b; x++) {
        if (v->pst[x] == PS_ABSENT) return ZX_ERR_NOT_FOUND;
      }
      for (uint64_t x = a; x < b; x++) {
        if (!v->slots[x] || v->slots[x] == MARKER) own_page(m, v, x);
        v->pst[x] = PS_DIRTY;
      }
      return ZX_OK;
    case ZX_PAGER_OP_WRITEBACK_BEGIN:
      if (data & ~ZX_VMO_DIRTY_RANGE_IS_ZERO) return ZX_ERR_INVALID_ARGS;
      if (!in_range(m, v, off, len)) return ZX_ERR_OUT_OF_RANGE;
      b = a + len / m->page;
      // Dirty pages await cleaning (not with IS_ZERO), dirty zero ranges await too.
      for (uint64_t x = a; x < b; x++) {
        if (v->pst[x] == PS_DIRTY && data == 0) v->pst[x] = PS_AWAIT;
        if (v->pst[x] == PS_DZERO) v->pst[x] = PS_AWAITZ;
      }
      return ZX_OK;
    case ZX_PAGER_OP_WRITEBACK_END:
      if (data != 0) return ZX_ERR_INVALID_ARGS;
      if (!in_range(m, v, off, len)) return ZX_ERR_OUT_OF_RANGE;
      b = a + len / m->page;
      // Awaiting pages are clean; an awaiting zero range is absent again (the next
      // access asks the service).
      for (uint64_t x = a; x < b; x++) {
        if (v->pst[x] == PS_AWAIT) v->pst[x] = PS_CLEAN;
        if (v->pst[x] == PS_AWAITZ) v->pst[x] = PS_ABSENT;
      }
      return ZX_OK;
    default:
      return ZX_ERR_NOT_SUPPORTED;
  }
}

zx_status_t m_pager_dirty_ranges(model_t* m, int ph, int h, uint64_t off, uint64_t len,
                                 size_t cap, uint64_t (*out)[3], size_t* actual,
                                 size_t* avail) {
  mvmo_t* v;
  zx_status_t st = pager_vmo(m, ph, h, ZX_RIGHT_READ, &v);
  if (st != ZX_OK) return st;
  if (!in_range(m, v, off, len)) return ZX_ERR_OUT_OF_RANGE;
  size_t n = 0, total = 0;
  if (len > 0) {
    uint64_t a = off / m->page, b = (off + len + m->page - 1) / m->page;
    // Kind of each page: 0 none, 1 dirty or awaiting clean (options 0), 2 a zero range
    // (IS_ZERO). Runs of one kind are one range.
    uint64_t x = a;
    while (x < b) {
      uint8_t s = v->pst[x];
      int k = s == PS_DIRTY || s == PS_AWAIT ? 1 : s == PS_DZERO || s == PS_AWAITZ ? 2 : 0;
      uint64_t e = x + 1;
      while (e < b) {
        uint8_t t = v->pst[e];
        int k2 = t == PS_DIRTY || t == PS_AWAIT ? 1 : t == PS_DZERO || t == PS_AWAITZ ? 2 : 0;
        if (k2 != k) break;
        e++;
      }
      if (k != 0) {
        if (n < cap) {
          out[n][0] = x * m->page;
          out[n][1] = (e - x) * m->page;
          out[n][2] = k == 2 ? ZX_VMO_DIRTY_RANGE_IS_ZERO : 0;
          n++;
        }
        total++;
      }
      x = e;
    }
  }
  *actual = n;
  *avail = total;
  return ZX_OK;
}

zx_status_t m_pager_stats(model_t* m, int ph, int h, uint32_t options, size_t buf_size,
                          bool* modified) {
  mvmo_t* v;
  zx_status_t st = pager_vmo(m, ph, h, ZX_RIGHT_READ, &v);
  if (st != ZX_OK) return st;
  if (buf_size < sizeof(zx_pager_vmo_stats_t)) return ZX_ERR_BUFFER_TOO_SMALL;
  if (options & ~ZX_PAGER_RESET_VMO_STATS) return ZX_ERR_INVALID_ARGS;
  *modified = v->modified;
  if (options & ZX_PAGER_RESET_VMO_STATS) v->modified = v->mod_unknown = false;
  return ZX_OK;
}

bool m_page_absent(model_t* m, int vmo, uint64_t page) {
  uint64_t base, rx;
  mvmo_t* c = content(m, &m->v[vmo], &base);
  return absent_root(m, c, base + page, &rx) != NULL;
}

// ---- for model_driver.c ----

zx_status_t m_lookup(model_t* m, int h, zx_rights_t need, mvmo_t** v, zx_rights_t* rights) {
  return lookup(m, h, need, v, rights);
}

mvmo_t* m_content(model_t* m, mvmo_t* v, uint64_t* base) { return content(m, v, base); }

void m_own_page(model_t* m, mvmo_t* c, uint64_t x) { (void)own_page(m, c, x); }

mvmo_t* m_new_root(model_t* m, uint64_t rounded, uint64_t size, int* out) {
  return new_root(m, rounded, size, false, out);
}

void m_vmo_unhold(model_t* m, mvmo_t* v) {
  if (v->handles == 0 && v->maps == 0 && v->pins == 0) vmo_die(m, v);
}

// ---- for model_ref.c ----

zx_status_t m_zero_range(model_t* m, mvmo_t* v, uint64_t off, uint64_t len) {
  return zero_range(m, v, off, len);
}

void m_drop_pages(model_t* m, mvmo_t* v) {
  for (uint64_t x = 0; x < v->pages; x++) set_slot(m, v, x, NULL);
}
