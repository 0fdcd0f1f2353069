// SPDX-License-Identifier: BSD-3-Clause
// A naive reference for ZX_INFO_VMO attribution, for white-box tests of the
// attribution walk (test_info.c, test_info_threads.c).
//
// It follows docs/behavior.md §10 from the definition, index by index, sharing no code
// with vmo_attribution.c: a page at index i is seen by every member whose own map
// holds it at i, and by every one-way member that has nothing of its own at i, whose
// window and cut admit i, whose backing shows it at i, and which is alive or windows
// i through a slice. Cost O(window x members x chain): small families only.
//
// Call it only while no other thread works on the family: it reads the family
// without its lock (tests are not compiled with the library's ZXVMO_CHECKS setting,
// on which family_t's layout and the lock's checking depend, so they use neither; the
// members are found through a function).
//
// Everything is static inline so that a file not using a helper does not warn.
#ifndef ZXVMO_TESTS_INFO_REF_H_
#define ZXVMO_TESTS_INFO_REF_H_

#include <criterion/criterion.h>
#include <string.h>
#include <zircon/syscalls.h>
#include <zircon/syscalls/object.h>

#include "family_walk.h"
#include "handle.h"
#include "vmo.h"

#define REF_FRAC_ONE ((uint64_t)1 << 63)

typedef struct ref_attr {
  uint64_t committed, priv, scaled, frac, metadata;
} ref_attr_t;

// The VMO behind a handle; the caller drops the reference with object_unref.
static inline vmo_t* ref_vmo(zx_handle_t h) {
  zx_object_t* obj = NULL;
  cr_assert_eq(handle_get(h, ZX_OBJ_TYPE_VMO, 0, &obj, NULL), ZX_OK);
  return vmo_from_obj(obj);
}

// Whether one-way member m sees page p through its backing at index i.
static inline bool ref_sees_through(vmo_t* m, uint64_t i, const page_t* p) {
  if (!m->backing || pmap_lookup(&m->map, i)) return false;
  if (i < m->base || i >= m->base + vmo_pages(m) || i >= m->cut) return false;
  if (vmo_view_locked(m->backing, i) != p) return false;
  if (m->alive) return true;
  for (const vmo_t* s = m->slices; s; s = s->sl.next) {
    uint64_t lo = m->base + s->slice_off;
    if (i >= lo && i < lo + vmo_pages(s)) return true;
  }
  return false;
}

// Number of VMOs of the family that see page p at index i.
static inline uint64_t ref_sharers(family_t* fam, uint64_t i, const page_t* p) {
  uint64_t n = 0;
  for (vmo_t* m = family_first_member(fam); m; m = m->fm.next) {
    if (pmap_lookup(&m->map, i) == p) n++;
    if (ref_sees_through(m, i, p)) n++;
  }
  return n;
}

// The figures of the VMO behind `h`, computed naively (no other thread may be working
// on its family).
static inline ref_attr_t ref_attribution(zx_handle_t h) {
  ref_attr_t a;
  memset(&a, 0, sizeof(a));
  vmo_t* v = ref_vmo(h);
  family_t* fam = v->fam;
  if (v->kind != VMO_SLICE) {
    for (uint64_t i = v->base; i < v->base + vmo_pages(v); i++) {
      const page_t* p = pmap_lookup(&v->map, i);
      if (!p && v->backing && ref_sees_through(v, i, vmo_view_locked(v->backing, i))) {
        p = vmo_view_locked(v->backing, i);
      }
      if (!p || page_is_marker(p)) continue;
      uint64_t n = ref_sharers(fam, i, p);
      cr_assert_geq(n, 1);
      a.committed += PAGE_SIZE;
      if (n == 1) a.priv += PAGE_SIZE;
      a.scaled += PAGE_SIZE / n;
      a.frac += (uint64_t)(((unsigned __int128)(PAGE_SIZE % n) << 63) / n);
      if (a.frac >= REF_FRAC_ONE) {
        a.frac -= REF_FRAC_ONE;
        a.scaled++;
      }
    }
    a.metadata = pmap_count_nodes(v->map.root) * sizeof(pnode_t);
  }
  object_unref(&v->obj);
  return a;
}

// Asserts that ZX_INFO_VMO on `h` reports exactly the reference figures.
static inline void ref_check(zx_handle_t h, const char* what) {
  ref_attr_t r = ref_attribution(h);
  zx_info_vmo_t i;
  memset(&i, 0, sizeof(i));
  cr_assert_eq(zx_object_get_info(h, ZX_INFO_VMO, &i, sizeof(i), NULL, NULL), ZX_OK);
  cr_assert_eq(i.committed_bytes, r.committed, "%s: committed %llu, reference %llu", what,
               (unsigned long long)i.committed_bytes, (unsigned long long)r.committed);
  cr_assert_eq(i.committed_private_bytes, r.priv, "%s: private %llu, reference %llu", what,
               (unsigned long long)i.committed_private_bytes, (unsigned long long)r.priv);
  cr_assert_eq(i.committed_scaled_bytes, r.scaled, "%s: scaled %llu, reference %llu", what,
               (unsigned long long)i.committed_scaled_bytes, (unsigned long long)r.scaled);
  cr_assert_eq(i.committed_fractional_scaled_bytes, r.frac, "%s: fraction %llu, reference %llu",
               what, (unsigned long long)i.committed_fractional_scaled_bytes,
               (unsigned long long)r.frac);
  cr_assert_eq(i.metadata_bytes, r.metadata, "%s: metadata %llu, reference %llu", what,
               (unsigned long long)i.metadata_bytes, (unsigned long long)r.metadata);
  cr_assert_eq(i.populated_bytes, i.committed_bytes, "%s", what);
  cr_assert_eq(i.populated_private_bytes, i.committed_private_bytes, "%s", what);
  cr_assert_eq(i.populated_scaled_bytes, i.committed_scaled_bytes, "%s", what);
  cr_assert_eq(i.populated_fractional_scaled_bytes, i.committed_fractional_scaled_bytes, "%s",
               what);
}

#endif  // ZXVMO_TESTS_INFO_REF_H_
