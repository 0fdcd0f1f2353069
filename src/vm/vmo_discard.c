// SPDX-License-Identifier: BSD-3-Clause
// Discardable VMOs (ZX_VMO_DISCARDABLE): ZX_VMO_OP_LOCK / TRY_LOCK / UNLOCK, and
// discarding whole unlocked VMOs, least recently unlocked first, when the page budget
// needs memory (docs/behavior.md §16.2, DESIGN.md "Discardable VMOs").
//
// The discard list holds every RECLAIMABLE discardable VMO, in the order they became
// so (the head is the least recently unlocked). Its lock is a leaf below the family
// lock: a VMO's state changes with both held, so the evictor, which holds only the
// list lock while it picks a VMO, reads a state no one is changing. Every VMO on the
// list is alive (it leaves the list when it dies), so it has a handle and a reference
// the evictor can add to.
#include "home.h"
#include "vmo.h"

static pthread_mutex_t g_disc_lock = PTHREAD_MUTEX_INITIALIZER;
static vmo_t* g_disc_head;  // (g_disc_lock)
static vmo_t* g_disc_tail;  // (g_disc_lock)
static uint64_t g_disc_pass;  // (g_disc_lock) numbers the passes of vmo_discard_for_budget

static void unlist_locked(vmo_t* v) {
  if (v->dl.prev) {
    v->dl.prev->dl.next = v->dl.next;
  } else {
    g_disc_head = v->dl.next;
  }
  if (v->dl.next) {
    v->dl.next->dl.prev = v->dl.prev;
  } else {
    g_disc_tail = v->dl.prev;
  }
  v->dl.next = v->dl.prev = NULL;
}

static void append_locked(vmo_t* v) {
  v->dl.next = NULL;
  v->dl.prev = g_disc_tail;
  if (g_disc_tail) {
    g_disc_tail->dl.next = v;
  } else {
    g_disc_head = v;
  }
  g_disc_tail = v;
}

// Moves v to `state`, keeping the list in step. Family lock held exclusively.
static void set_state_locked(vmo_t* v, uint8_t state) {
  family_assert_exclusive(v->fam);
  pthread_mutex_lock(&g_disc_lock);
  if (v->dstate == DISC_RECLAIMABLE) unlist_locked(v);
  v->dstate = state;
  if (state == DISC_RECLAIMABLE) append_locked(v);
  pthread_mutex_unlock(&g_disc_lock);
}

void vmo_discard_unlist_locked(vmo_t* v) {
  if (!v->discardable) return;
  set_state_locked(v, DISC_UNSET);
  v->lock_count = 0;  // no handle can unlock it now
}

zx_status_t vmo_lock_op(vmo_t* v, uint32_t op, uint64_t off, uint64_t len,
                        zx_vmo_lock_state_t* ls) {
  if (!v->discardable) return ZX_ERR_NOT_SUPPORTED;
  if (len > UINT64_MAX - off) return ZX_ERR_OUT_OF_RANGE;
  family_t* fam = v->fam;
  family_wrlock(fam);
  zx_status_t st = ZX_OK;
  if (!v->alive) {
    st = ZX_ERR_BAD_HANDLE;
  } else if (off != 0 || len != v->size) {
    st = ZX_ERR_OUT_OF_RANGE;  // only the whole VMO is locked and unlocked
  } else if (op == ZX_VMO_OP_UNLOCK) {
    if (v->lock_count == 0) {
      st = ZX_ERR_BAD_STATE;
    } else if (--v->lock_count == 0) {
      set_state_locked(v, DISC_RECLAIMABLE);
    }
  } else {
    bool was_discarded = vmo_discarded(v);
    if (was_discarded && op == ZX_VMO_OP_TRY_LOCK) {
      st = ZX_ERR_UNAVAILABLE;
    } else {
      if (v->lock_count++ == 0) set_state_locked(v, DISC_UNRECLAIMABLE);
      if (ls) {
        ls->offset = off;
        ls->size = len;
        ls->discarded_offset = 0;
        ls->discarded_size = was_discarded ? v->size : 0;
      }
    }
  }
  vmo_after_op_locked(fam);
  family_unlock(fam);
  return st;
}

void vmo_lock_undo(vmo_t* v) {
  family_t* fam = v->fam;
  family_wrlock(fam);
  ZX_ASSERT(v->lock_count > 0);
  if (--v->lock_count == 0) set_state_locked(v, DISC_RECLAIMABLE);
  vmo_after_op_locked(fam);
  family_unlock(fam);
}

// Drops every page of reclaimable discardable v and marks it discarded. Returns the
// pages freed, or -1 if it is not to be discarded now (pinned, busy with settling, or
// metadata memory ran out). Family lock held exclusively.
static int64_t discard_locked(vmo_t* v) {
  family_t* fam = v->fam;
  uint64_t lo = v->base, hi = v->base + vmo_pages(v);
  if (!v->alive || v->dstate != DISC_RECLAIMABLE || vmo_pinned_locked(v, lo, hi) ||
      fam->pending || fam->drops) {
    return -1;
  }
  int64_t n = 0;
  uint64_t i = lo;
  while (pmap_next(&v->map, &i, hi)) {
    n++;
    i++;
  }
  // A discardable VMO has no child: no other map shares its pages, so taking them
  // out of its home should need no page; if it does, the reservation says so.
  page_reservation_t r;
  if (pool_reserve(home_count_shared(v, lo, hi), &r) != ZX_OK) return -1;
  bool ok = home_unshare_range(v, lo, hi, &r) && pmap_remove_range(&v->map, lo, hi);
  pool_unreserve(&r);
  if (!ok) return -1;
  if (fam->homes) home_invalidate(fam, lo, hi);  // mappings fault, and fail, from now on
  set_state_locked(v, DISC_DISCARDED);
  return n;
}

bool vmo_discard_for_budget(void) {
  // Each VMO is looked at once, in list order; one that cannot go now keeps its place
  // (§16.2: the least recently unlocked first, skipping those with a pinned page, so a
  // VMO skipped once is still first when it can go). A pass marks what it has seen.
  pthread_mutex_lock(&g_disc_lock);
  uint64_t pass = ++g_disc_pass;
  uint64_t candidates = 0;
  for (vmo_t* v = g_disc_head; v; v = v->dl.next) candidates++;
  pthread_mutex_unlock(&g_disc_lock);
  while (candidates-- > 0) {
    pthread_mutex_lock(&g_disc_lock);
    vmo_t* v = g_disc_head;
    while (v && v->dl_pass == pass) v = v->dl.next;
    if (v) {
      v->dl_pass = pass;
      object_ref(&v->obj);
    }
    pthread_mutex_unlock(&g_disc_lock);
    if (!v) return false;
    family_t* fam = v->fam;
    family_wrlock(fam);
    int64_t n = discard_locked(v);
    vmo_after_op_locked(fam);
    family_unlock(fam);
    object_unref(&v->obj);
    if (n > 0) return true;
  }
  return false;
}
