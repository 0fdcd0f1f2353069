// SPDX-License-Identifier: BSD-3-Clause
// Zero ranges of a pager VMO: page ranges that read as zero without holding pages and
// without asking the pager (vmo_pager.c). Zircon has them too: growing a pager VMO or
// zeroing whole pages of it makes a dirty zero range (reported by
// zx_pager_query_dirty_ranges with ZX_VMO_DIRTY_RANGE_IS_ZERO), write-back moves it to
// awaiting-clean and then back to "absent" (the pager supplies it again), and an
// unbounded VMO's pages past its content size are an untracked zero range (neither
// dirty nor asked for).
//
// A set is a sorted array of disjoint, non-empty ranges. Adjacent ranges of the same
// state are merged. Operations that may split a range need spare capacity, reserved
// first with zr_reserve, so that the change itself cannot fail (the family's "fail
// cleanly" rule). Guarded by the family lock: lookups shared, changes exclusive.
#ifndef ZXVMO_SRC_VM_ZERO_RANGES_H_
#define ZXVMO_SRC_VM_ZERO_RANGES_H_

#include "internal.h"

typedef enum zr_state { ZR_DIRTY = 1, ZR_AWAITING_CLEAN = 2, ZR_UNTRACKED = 3 } zr_state_t;

typedef struct zrange {
  uint64_t lo, hi;  // page indices, lo < hi
  zr_state_t state;
} zrange_t;

typedef struct zr_set {
  zrange_t* v;
  size_t n, cap;
} zr_set_t;

void zr_free(zr_set_t* z);
// Makes room for `extra` more ranges. False if memory ran out (nothing changed).
bool zr_reserve(zr_set_t* z, size_t extra);
// The range containing page `i`, or NULL.
const zrange_t* zr_find(const zr_set_t* z, uint64_t i);
// The first range that ends after `i` (it may start after i), or NULL.
const zrange_t* zr_next(const zr_set_t* z, uint64_t i);
// Removes [lo, hi) from every range. Needs one spare slot (a range may split in two).
void zr_remove(zr_set_t* z, uint64_t lo, uint64_t hi);
// Makes [lo, hi) one range of `state` (replacing what was there). Needs two spare slots.
void zr_add(zr_set_t* z, uint64_t lo, uint64_t hi, zr_state_t state);
// Changes the parts of ranges in [lo, hi) whose state is `from` to `to` (0: removes
// them). Needs two spare slots.
void zr_change(zr_set_t* z, uint64_t lo, uint64_t hi, zr_state_t from, zr_state_t to);
// For the checker: sorted, disjoint, non-empty, below `end`, same-state neighbours
// merged. Returns a description of the first violation, or NULL.
const char* zr_check(const zr_set_t* z, uint64_t end);

#endif  // ZXVMO_SRC_VM_ZERO_RANGES_H_
