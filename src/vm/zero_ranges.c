// SPDX-License-Identifier: BSD-3-Clause
// Zero ranges: see zero_ranges.h. A sorted array: lookups are binary searches; a
// change moves the tail of the array (pager VMOs hold few such ranges).
#include "zero_ranges.h"

#include <string.h>

#include "os.h"

void zr_free(zr_set_t* z) {
  os_free(z->v);
  z->v = NULL;
  z->n = z->cap = 0;
}

bool zr_reserve(zr_set_t* z, size_t extra) {
  if (z->cap - z->n >= extra) return true;
  size_t cap = z->cap ? z->cap * 2 : 4;
  while (cap - z->n < extra) cap *= 2;
  zrange_t* v = os_realloc(z->v, cap * sizeof(*v));
  if (!v) return false;
  z->v = v;
  z->cap = cap;
  return true;
}

// Index of the first range whose end is past `i`.
static size_t first_after(const zr_set_t* z, uint64_t i) {
  size_t a = 0, b = z->n;
  while (a < b) {
    size_t m = a + (b - a) / 2;
    if (z->v[m].hi <= i) {
      a = m + 1;
    } else {
      b = m;
    }
  }
  return a;
}

const zrange_t* zr_next(const zr_set_t* z, uint64_t i) {
  size_t k = first_after(z, i);
  return k < z->n ? &z->v[k] : NULL;
}

const zrange_t* zr_find(const zr_set_t* z, uint64_t i) {
  const zrange_t* r = zr_next(z, i);
  return r && r->lo <= i ? r : NULL;
}

static void insert_at(zr_set_t* z, size_t k, zrange_t r) {
  ZX_ASSERT(z->n < z->cap);
  memmove(&z->v[k + 1], &z->v[k], (z->n - k) * sizeof(z->v[0]));
  z->v[k] = r;
  z->n++;
}

static void erase(zr_set_t* z, size_t k, size_t count) {
  if (count == 0) return;  // z->v may be NULL
  memmove(&z->v[k], &z->v[k + count], (z->n - k - count) * sizeof(z->v[0]));
  z->n -= count;
}

// Cuts ranges at `i` so that no range straddles it. Needs one spare slot.
static void split_at(zr_set_t* z, uint64_t i) {
  size_t k = first_after(z, i);
  if (k == z->n || z->v[k].lo >= i) return;
  zrange_t tail = z->v[k];
  tail.lo = i;
  z->v[k].hi = i;
  insert_at(z, k + 1, tail);
}

// Merges every pair of touching same-state neighbours (O(n): sets are small).
static void merge_all(zr_set_t* z) {
  size_t out = 0;
  for (size_t k = 0; k < z->n; k++) {
    if (out > 0 && z->v[out - 1].hi == z->v[k].lo && z->v[out - 1].state == z->v[k].state) {
      z->v[out - 1].hi = z->v[k].hi;
    } else {
      z->v[out++] = z->v[k];
    }
  }
  z->n = out;
}

void zr_remove(zr_set_t* z, uint64_t lo, uint64_t hi) {
  if (lo >= hi || z->n == 0) return;
  split_at(z, lo);  // at most one split leaves a range on both sides: one slot
  size_t k = first_after(z, lo);
  size_t e = k;
  while (e < z->n && z->v[e].hi <= hi) e++;
  erase(z, k, e - k);
  if (k < z->n && z->v[k].lo < hi) z->v[k].lo = hi;  // the straddling range's tail
}

void zr_add(zr_set_t* z, uint64_t lo, uint64_t hi, zr_state_t state) {
  if (lo >= hi) return;
  zr_remove(z, lo, hi);
  insert_at(z, first_after(z, lo), (zrange_t){.lo = lo, .hi = hi, .state = state});
  merge_all(z);
}

void zr_change(zr_set_t* z, uint64_t lo, uint64_t hi, zr_state_t from, zr_state_t to) {
  if (lo >= hi || z->n == 0) return;
  split_at(z, lo);
  split_at(z, hi);
  size_t k = first_after(z, lo);
  while (k < z->n && z->v[k].lo < hi) {
    if (z->v[k].state != from) {
      k++;
    } else if (to == 0) {
      erase(z, k, 1);
    } else {
      z->v[k++].state = to;
    }
  }
  merge_all(z);
}

const char* zr_check(const zr_set_t* z, uint64_t end) {
  for (size_t k = 0; k < z->n; k++) {
    const zrange_t* r = &z->v[k];
    if (r->lo >= r->hi) return "empty zero range";
    if (r->hi > end) return "zero range past the VMO's end";
    if (r->state < ZR_DIRTY || r->state > ZR_UNTRACKED) return "zero range state";
    if (k > 0 && z->v[k - 1].hi > r->lo) return "zero ranges overlap or are unsorted";
    if (k > 0 && z->v[k - 1].hi == r->lo && z->v[k - 1].state == r->state) {
      return "adjacent zero ranges of one state not merged";
    }
  }
  return NULL;
}
