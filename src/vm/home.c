// SPDX-License-Identifier: BSD-3-Clause
// Homes; see home.h for the model and its invariants.
#include "home.h"

#include <pthread.h>
#include <string.h>

#include "page_pool.h"

// ---- span ids ------------------------------------------------------------------------

// Ids of spans given back, reused before new ones so the file's used range stays small.
static pthread_mutex_t g_id_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t* g_free_ids;   // (g_id_lock)
static size_t g_nfree, g_free_cap;
static uint64_t g_next_id = 1; // (g_id_lock) id 0 is the void span (home.h)

static bool id_alloc(uint64_t* out) {
  bool ok = true;
  pthread_mutex_lock(&g_id_lock);
  if (g_nfree > 0) {
    *out = g_free_ids[--g_nfree];
  } else if (g_next_id < (OS_HOME_FILE_SIZE >> HOME_SPAN_SHIFT)) {
    *out = g_next_id++;
  } else {
    ok = false;
  }
  pthread_mutex_unlock(&g_id_lock);
  return ok;
}

static void id_free(uint64_t id) {
  pthread_mutex_lock(&g_id_lock);
  if (g_nfree == g_free_cap) {
    size_t cap = g_free_cap ? g_free_cap * 2 : 64;
    uint64_t* n = os_realloc(g_free_ids, cap * sizeof(*n));
    if (!n) {  // the id is lost for good; a span of file offsets, no memory
      pthread_mutex_unlock(&g_id_lock);
      return;
    }
    g_free_ids = n;
    g_free_cap = cap;
  }
  g_free_ids[g_nfree++] = id;
  pthread_mutex_unlock(&g_id_lock);
}

void home_fork_lock(void) { pthread_mutex_lock(&g_id_lock); }
void home_fork_unlock(void) { pthread_mutex_unlock(&g_id_lock); }

// ---- homes and windows ---------------------------------------------------------------

zx_status_t home_get(vmo_t* owner, home_t** out) {
  family_assert_exclusive(owner->fam);
  ZX_ASSERT(owner->kind != VMO_SLICE);
  if (owner->home) {
    *out = owner->home;
    return ZX_OK;
  }
  home_t* h = os_calloc(1, sizeof(*h));
  if (!h) return ZX_ERR_NO_MEMORY;
  if (!id_alloc(&h->id)) {
    os_free(h);
    return ZX_ERR_NO_MEMORY;
  }
  h->fam = owner->fam;
  h->owner = owner;
  h->base = owner->base;
  family_t* f = owner->fam;
  h->f_next = f->homes;
  if (f->homes) f->homes->f_prev = h;
  f->homes = h;
  owner->home = h;
  *out = h;
  return ZX_OK;
}

home_win_t* home_win(home_t* h, uint64_t s, bool create) {
  ZX_ASSERT(s < HOME_MAX_SLOTS);
  uint64_t w = s / WIN_PAGES;
  home_win_t** leaf = h->top[w >> HOME_LEAF_BITS];
  if (!leaf) {
    if (!create) return NULL;
    leaf = os_calloc((size_t)1 << HOME_LEAF_BITS, sizeof(*leaf));
    if (!leaf) return NULL;
    h->top[w >> HOME_LEAF_BITS] = leaf;
  }
  home_win_t* win = leaf[w & ((1u << HOME_LEAF_BITS) - 1)];
  if (win || !create) return win;
  win = os_calloc(1, sizeof(*win));
  if (!win) return NULL;
  uint64_t t = w >> HOME_LEAF_BITS, in_leaf = w & ((1u << HOME_LEAF_BITS) - 1);
  if (!h->vres[t] && h->owner) {
    // Reserve room for the leaf's windows the owner can have now (no more: a process
    // with many small mapped VMOs must not reserve a GiB each).
    uint64_t leaf_bytes = WIN_SIZE << HOME_LEAF_BITS, first = t * leaf_bytes;
    uint64_t size = h->owner->size > first ? h->owner->size - first : 0;
    uint64_t len = min_u64(leaf_bytes, (size + WIN_SIZE - 1) / WIN_SIZE * WIN_SIZE);
    uintptr_t at;
    if (len > WIN_SIZE && os_reserve(len, &at)) {
      h->vres[t] = (uint8_t*)at;
      h->vres_len[t] = len;
    }
  }
  uint8_t* at = NULL;
  if (h->vres[t] && (in_leaf + 1) * WIN_SIZE <= h->vres_len[t]) at = h->vres[t] + in_leaf * WIN_SIZE;
  win->view = os_home_view(home_off(h, w * WIN_PAGES), WIN_SIZE, at);
  if (!win->view) {
    os_free(win);
    return NULL;
  }
  win->home = h;
  win->index = w;
  for (uint64_t i = 0; i < WIN_PAGES; i++) {
    win->desc[i].data = win->view + (i << PAGE_SHIFT);
    win->desc[i].win = win;
    win->desc[i].zeroed = 1;
  }
  leaf[w & ((1u << HOME_LEAF_BITS) - 1)] = win;
  h->nwins++;
  return win;
}

static void bit_set(uint64_t* bits, uint64_t i) { bits[i / 64] |= (uint64_t)1 << (i % 64); }
static void bit_clear(uint64_t* bits, uint64_t i) { bits[i / 64] &= ~((uint64_t)1 << (i % 64)); }

static void punch_later(home_win_t* w, uint64_t i) {
  bit_set(w->punch, i);
  if (!w->punch_listed) {
    w->punch_listed = true;
    w->punch_next = w->home->punch_list;
    w->home->punch_list = w;
  }
}

page_t* home_take(home_t* h, uint64_t s) {
  home_win_t* w = home_win(h, s, false);
  ZX_ASSERT(w != NULL);
  uint64_t i = s % WIN_PAGES;
  page_t* p = &w->desc[i];
  ZX_ASSERT(p->refs == 0);
  bool holds = home_bit(w->cache, i) || home_bit(w->punch, i);
  if (home_bit(w->cache, i)) {
    bit_clear(w->cache, i);
    h->cached--;
  }
  bit_clear(w->punch, i);
  p->refs = 1;
  p->zeroed = !holds;
  p->backed = 1;
  p->cached = 0;
  p->u.s.epoch = 0;
  p->u.s.count = 0;
  h->live++;
  return p;
}

void home_cache_set(home_t* h, uint64_t s) {
  home_win_t* w = home_win(h, s, false);
  ZX_ASSERT(w != NULL && w->desc[s % WIN_PAGES].refs == 0);
  uint64_t i = s % WIN_PAGES;
  bit_clear(w->punch, i);
  if (!home_bit(w->cache, i)) {
    bit_set(w->cache, i);
    h->cached++;
  }
}

void home_page_free(page_t* p) {
  home_win_t* w = p->win;
  home_t* h = w->home;
  ZX_ASSERT(h->live > 0);
  h->live--;
  p->zeroed = 0;
  p->cached = 0;
  pool_uncharge(1);
  punch_later(w, home_win_slot(p));
}

void home_invalidate(family_t* fam, uint64_t lo, uint64_t hi) {
  for (home_t* h = fam->homes; h; h = h->f_next) {
    if (h->cached == 0 || hi <= h->base) continue;
    uint64_t a = max_u64(lo, h->base) - h->base;
    uint64_t b = min_u64(hi - h->base, HOME_MAX_SLOTS);
    for (uint64_t s = a; s < b && h->cached > 0;) {
      uint64_t w = s / WIN_PAGES;
      if (!h->top[w >> HOME_LEAF_BITS]) {  // skip a whole empty leaf of the table
        s = ((w >> HOME_LEAF_BITS) + 1) << HOME_LEAF_BITS;
        s *= WIN_PAGES;
        continue;
      }
      home_win_t* win = home_win(h, s, false);
      uint64_t wend = min_u64(b, (w + 1) * WIN_PAGES);
      if (win) {
        for (uint64_t t = s; t < wend; t++) {
          uint64_t i = t % WIN_PAGES;
          if (home_bit(win->cache, i)) {
            bit_clear(win->cache, i);
            h->cached--;
            punch_later(win, i);
          }
        }
      }
      s = wend;
    }
  }
}

void home_drop_caches(home_t* h) {
  for (uint64_t t = 0; t < HOME_TOP && h->cached > 0; t++) {
    home_win_t** leaf = h->top[t];
    for (uint64_t k = 0; leaf && k < ((uint64_t)1 << HOME_LEAF_BITS); k++) {
      home_win_t* w = leaf[k];
      for (uint64_t i = 0; w && i < WIN_PAGES; i++) {
        if (!home_bit(w->cache, i)) continue;
        bit_clear(w->cache, i);
        h->cached--;
        punch_later(w, i);
      }
    }
  }
}

static void win_free(home_t* h, home_win_t* w) {
  os_home_punch(home_off(h, w->index * WIN_PAGES), WIN_SIZE);
  uint64_t t = w->index >> HOME_LEAF_BITS;
  bool reserved = h->vres[t] && w->view >= h->vres[t] && w->view < h->vres[t] + h->vres_len[t];
  if (!reserved) os_home_unview(w->view, WIN_SIZE);  // else unmapped with its reservation
  os_free(w);
}

static void home_destroy(home_t* h) {
  ZX_ASSERT(h->live == 0 && h->nmaps == 0 && h->owner == NULL);
  for (uint64_t t = 0; t < HOME_TOP; t++) {
    home_win_t** leaf = h->top[t];
    if (!leaf) continue;
    for (uint64_t k = 0; k < ((uint64_t)1 << HOME_LEAF_BITS); k++) {
      if (leaf[k]) win_free(h, leaf[k]);
    }
    os_free(leaf);
    if (h->vres[t]) os_unreserve((uintptr_t)h->vres[t], h->vres_len[t]);
  }
  family_t* f = h->fam;
  if (h->f_prev) {
    h->f_prev->f_next = h->f_next;
  } else {
    f->homes = h->f_next;
  }
  if (h->f_next) h->f_next->f_prev = h->f_prev;
  id_free(h->id);
  os_free(h);
}

void home_flush(family_t* fam) {
  for (home_t* h = fam->homes, *next; h; h = next) {
    next = h->f_next;
    while (h->punch_list) {
      home_win_t* w = h->punch_list;
      h->punch_list = w->punch_next;
      w->punch_listed = false;
      // Coalesce runs of slots into one punch each.
      for (uint64_t i = 0; i < WIN_PAGES;) {
        if (!home_bit(w->punch, i)) {
          i++;
          continue;
        }
        uint64_t j = i;
        while (j < WIN_PAGES && home_bit(w->punch, j)) bit_clear(w->punch, j++);
        os_home_punch(home_off(h, w->index * WIN_PAGES + i), (j - i) << PAGE_SHIFT);
        for (uint64_t k = i; k < j; k++) w->desc[k].zeroed = 1;
        i = j;
      }
    }
    if (h->owner == NULL && h->live == 0 && h->nmaps == 0) home_destroy(h);
  }
}

void home_owner_gone(vmo_t* owner) {
  home_t* h = owner->home;
  if (!h) return;
  ZX_ASSERT(h->nmaps == 0);
  h->owner = NULL;
  owner->home = NULL;
}

// ---- copy-before-write -----------------------------------------------------------------

void home_relocate(vmo_t* c, uint64_t idx, page_t* p, page_t* copy) {
  family_assert_exclusive(c->fam);
  unsigned s = (unsigned)(idx & PMAP_SLOT_MASK);
  copy->refs = 0;
  for (vmo_t* m = c->fam->members; m; m = m->fm.next) {
    if (m == c) continue;
    // Changing a leaf that other maps share is safe here: every map that reaches it
    // is one whose reference must move, and the copy reads exactly as `p`.
    pnode_t* leaf = (pnode_t*)pmap_leaf(&m->map, idx);
    if (leaf && leaf->slot[s] == p) {
      leaf->slot[s] = copy;
      copy->refs++;
      p->refs--;
    }
  }
  ZX_ASSERT(p->refs == 1 && copy->refs > 0);
}

static bool shared_own_at(vmo_t* c, page_t* p, uint64_t i) {
  return home_owns(c->home, p, i) && (p->refs > 1 || !pmap_exclusive(&c->map, i));
}

uint64_t home_count_shared(vmo_t* c, uint64_t lo, uint64_t hi) {
  if (!c->home || c->home->live == 0) return 0;
  uint64_t n = 0;
  page_t* p;
  for (uint64_t i = lo; i < hi && (p = pmap_next(&c->map, &i, hi)) != NULL; i++) {
    n += shared_own_at(c, p, i);
  }
  return n;
}

bool home_unshare_range(vmo_t* c, uint64_t lo, uint64_t hi, page_reservation_t* r) {
  if (!c->home || c->home->live == 0) return true;
  page_t* p;
  for (uint64_t i = lo; i < hi && (p = pmap_next(&c->map, &i, hi)) != NULL; i++) {
    if (!shared_own_at(c, p, i)) continue;
    pnode_t* leaf = pmap_leaf_for_write(&c->map, i);
    if (!leaf) return false;  // what was relocated reads the same: nothing changed
    p = leaf->slot[i & PMAP_SLOT_MASK];
    if (p->refs > 1) {
      page_t* q = pool_take_copy(r, p);
      pool_count_copy();
      home_relocate(c, i, p, q);
    }
  }
  return true;
}
