// SPDX-License-Identifier: BSD-3-Clause
// The model of §16 (discardable VMOs, set_stream_size, REFERENCE children); see
// model_ref.h. Every rule cites docs/behavior.md.
#include "model_ref.h"

#include "model_driver.h"

zx_status_t m_disc_op(model_t* m, mvmo_t* v, zx_rights_t rights, uint32_t op, uint64_t off,
                      uint64_t len, bool buf_bad, zx_vmo_lock_state_t* ls) {
  // §16.2, in order: 1. neither READ nor WRITE -> ACCESS_DENIED.
  if (!(rights & (ZX_RIGHT_READ | ZX_RIGHT_WRITE))) return ZX_ERR_ACCESS_DENIED;
  // 2. not discardable -> NOT_SUPPORTED.
  if (!v->discardable) return ZX_ERR_NOT_SUPPORTED;
  // 3. overflow, or not exactly [0, size) -> OUT_OF_RANGE.
  if (len > UINT64_MAX - off) return ZX_ERR_OUT_OF_RANGE;
  if (off != 0 || len != v->pages * m->page) return ZX_ERR_OUT_OF_RANGE;
  if (op == ZX_VMO_OP_UNLOCK) {
    // 4. UNLOCK of a VMO not locked -> BAD_STATE.
    if (v->locks == 0) return ZX_ERR_BAD_STATE;
    // "A VMO becomes reclaimable at its first UNLOCK that brings the count to zero."
    if (--v->locks == 0) {
      v->reclaimable = true;
      v->unlocked_at = ++m->unlock_clock;
    }
    return ZX_OK;
  }
  // 4. TRY_LOCK of a discarded VMO -> UNAVAILABLE.
  bool was = v->discarded;
  if (op == ZX_VMO_OP_TRY_LOCK && was) return ZX_ERR_UNAVAILABLE;
  // "Locks nest"; "stops being [reclaimable] at its next LOCK"; "LOCK always succeeds on
  // a discarded VMO; its pages then read as zero" (they went at the discard).
  v->locks++;
  v->reclaimable = false;
  v->discarded = false;
  if (op == ZX_VMO_OP_LOCK) {
    // 5. a bad buffer -> INVALID_ARGS, after taking the lock, which is undone (an UNLOCK:
    // the VMO is no longer discarded, and reclaimable again if that was its only lock).
    if (buf_bad) {
      if (--v->locks == 0) {
        v->reclaimable = true;
        v->unlocked_at = ++m->unlock_clock;
      }
      return ZX_ERR_INVALID_ARGS;
    }
    // "LOCK writes offset and size as passed, and the discarded range: discarded_offset
    // 0 and discarded_size the VMO's size if it had been discarded since it was last
    // locked, else both 0."
    if (ls) {
      ls->offset = off;
      ls->size = len;
      ls->discarded_offset = 0;
      ls->discarded_size = was ? v->pages * m->page : 0;
    }
  }
  return ZX_OK;
}

zx_status_t m_vmo_lock_op(model_t* m, int h, uint32_t op, uint64_t off, uint64_t len,
                          bool buf_bad, zx_vmo_lock_state_t* ls) {
  // §8: zx_vmo_op_range looks the handle up needing no right; each op checks its own.
  mvmo_t* v;
  zx_rights_t rights;
  zx_status_t st = m_lookup(m, h, 0, &v, &rights);
  if (st != ZX_OK) return st;
  return m_disc_op(m, v, rights, op, off, len, buf_bad, ls);
}

zx_status_t m_ref_child(model_t* m, mvmo_t* p, uint32_t options, uint64_t offset,
                        uint64_t size, bool out_null) {
  (void)m;
  // §16.1, after §4 rules 1-6 (rule 1 the parent died: not in a single thread).
  // 2. offset or size not 0 -> INVALID_ARGS.
  if (offset != 0 || size != 0) return ZX_ERR_INVALID_ARGS;
  // 3. a slice (physical VMOs included) or a contiguous parent -> NOT_SUPPORTED.
  if ((p->kind == MK_SLICE && !p->ref) || p->phys || p->contig) return ZX_ERR_NOT_SUPPORTED;
  // 4. RESIZABLE of a parent that is not resizable -> NOT_SUPPORTED.
  if ((options & ZX_VMO_CHILD_RESIZABLE) && !p->resizable) return ZX_ERR_NOT_SUPPORTED;
  // 5. not cached -> BAD_STATE.
  if (p->cache != ZX_CACHE_POLICY_CACHED) return ZX_ERR_BAD_STATE;
  // 6. out NULL -> INVALID_ARGS.
  if (out_null) return ZX_ERR_INVALID_ARGS;
  return p->pbacked ? M_UNMODELLED : ZX_OK;
}

mvmo_t* m_ref_target(model_t* m, mvmo_t* v) { return v->ref ? &m->v[v->root] : v; }

void m_ref_sync(model_t* m, mvmo_t* t) {
  // §16.1 "one size and one content size with the parent"; "a reference of a resizable
  // VMO is resizable".
  int tid = (int)(t - m->v);
  for (int i = 0; i < M_MAX_VMOS; i++) {
    mvmo_t* r = &m->v[i];
    if (!r->used || !r->ref || r->root != tid) continue;
    r->pages = t->pages;
    r->content_size = t->content_size;
    r->resizable = t->resizable;
  }
}

zx_rights_t m_ref_rights(zx_rights_t prights, uint32_t options) {
  // §2: the parent's rights without RESIZE, RESIZE if RESIZABLE was asked, plus
  // GET_PROPERTY and SET_PROPERTY; NO_WRITE removes WRITE; nothing further.
  zx_rights_t r = prights & ~ZX_RIGHT_RESIZE;
  if (options & ZX_VMO_CHILD_RESIZABLE) r |= ZX_RIGHT_RESIZE;
  r |= ZX_RIGHT_GET_PROPERTY | ZX_RIGHT_SET_PROPERTY;
  if (options & ZX_VMO_CHILD_NO_WRITE) r &= ~ZX_RIGHT_WRITE;
  return r;
}

zx_status_t m_set_stream_size(model_t* m, int h, uint64_t stream_size) {
  // §16.3, in order: 1. a VMO handle with WRITE.
  mvmo_t* v;
  zx_status_t st = m_lookup(m, h, ZX_RIGHT_WRITE, &v, NULL);
  if (st != ZX_OK) return st;
  // §16.3 "A reference shares it with its parent."
  v = m_ref_target(m, v);
  // 2. physical or contiguous -> NOT_SUPPORTED (3. died meanwhile: not here).
  if (v->phys || v->contig) return ZX_ERR_NOT_SUPPORTED;
  // 4. the same stream size -> OK, nothing done.
  if (stream_size == v->content_size) return ZX_OK;
  // 5. beyond the VMO's size -> OUT_OF_RANGE.
  uint64_t size = v->pages * m->page;
  if (stream_size > size) return ZX_ERR_OUT_OF_RANGE;
  // 6. something to zero on a VMO not cached -> BAD_STATE.
  uint64_t from = stream_size < v->content_size ? stream_size : v->content_size;
  if (from < size && v->cache != ZX_CACHE_POLICY_CACHED) return ZX_ERR_BAD_STATE;
  // "On success that range reads as zero (as by ZERO, §8; on a pager VMO it becomes a
  // dirty zero range, D61)".
  if (from < size) {
    st = m_zero_range(m, v, from, size - from);
    if (st != ZX_OK) return st;
  }
  v->content_size = stream_size;
  m_ref_sync(m, v);
  return ZX_OK;
}

zx_status_t m_disc_pressure(model_t* m) {
  // D60, §16.2: "reclaimable VMOs are discarded whole, the least recently unlocked
  // first, skipping those with a pinned page, until one frees pages".
  for (;;) {
    mvmo_t* next = NULL;
    for (int i = 0; i < M_MAX_VMOS; i++) {
      mvmo_t* v = &m->v[i];
      if (!v->used || !v->alive || !v->discardable || !v->reclaimable || v->discarded) {
        continue;
      }
      if (m_drv_pinned(m, v, 0, v->pages)) continue;
      if (!next || v->unlocked_at < next->unlocked_at) next = v;
    }
    if (!next) return ZX_ERR_NO_MEMORY;
    uint64_t before = m_pages_in_use(m);
    m_drop_pages(m, next);
    next->discarded = true;
    next->reclaimable = false;
    if (m_pages_in_use(m) < before) return ZX_OK;
  }
}

bool m_has_pager_pages(const model_t* m) {
  for (int i = 0; i < M_MAX_VMOS; i++) {
    if (m->v[i].used && m->v[i].pbacked) return true;
  }
  return false;
}
