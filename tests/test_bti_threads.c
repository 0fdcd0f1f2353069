// SPDX-License-Identifier: BSD-3-Clause
// Pins under concurrency (docs/behavior.md §15): threads pin and unpin ranges of the
// same VMOs (an ordinary one, a contiguous one, a physical one) through one BTI, close
// PMTs into quarantine and release it, while others take snapshots, DECOMMIT and ZERO,
// change the cache policy, play the device (zxvmo_dma_*) at addresses that come and go,
// and pin through duplicates of the VMO handles they then close. Every outcome must be
// one of those the reference allows at that moment, and the invariants hold throughout
// and at the end, when nothing may stay pinned.
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include <zircon/process.h>
#include <zircon/syscalls.h>
#include <zircon/syscalls/iommu.h>
#include <zircon/syscalls/object.h>
#include <zxvmo.h>

#include "helpers.h"

#define PAGES 8
#define ITERS 400
#define NADDR 16
#define PHYS_BASE ((zx_paddr_t)0xfd400000u)

enum { V_PLAIN, V_CONTIG, V_PHYS, V_CACHE, NV };

typedef struct shared {
  zx_handle_t bti;
  zx_handle_t vmo[NV];
  _Atomic uint64_t addrs[NADDR];  // device addresses pinned at some point (maybe gone)
  _Atomic int pins_ok;
} shared_t;

typedef struct arg {
  shared_t* sh;
  uint64_t seed;
} arg_t;

static uint64_t rnd(uint64_t* s) {
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return *s;
}

// Allowed: st is OK, a or b (the same status twice when only one error is allowed).
static bool one_of(zx_status_t st, zx_status_t a, zx_status_t b) {
  return st == ZX_OK || st == a || st == b;
}

static void* pinner(void* p) {
  arg_t* a = p;
  shared_t* sh = a->sh;
  uint64_t s = a->seed;
  for (int i = 0; i < ITERS; i++) {
    int v = (int)(rnd(&s) % NV);
    uint64_t off = rnd(&s) % PAGES, n = 1 + rnd(&s) % (PAGES - off);
    bool contig = v == V_CONTIG || v == V_PHYS;
    uint32_t opts = ZX_BTI_PERM_READ | ZX_BTI_PERM_WRITE | (contig ? ZX_BTI_CONTIGUOUS : 0);
    zx_paddr_t addrs[PAGES];
    zx_handle_t pmt;
    zx_status_t st = zx_bti_pin(sh->bti, opts, sh->vmo[v], off * PG, n * PG, addrs,
                                contig ? 1 : n, &pmt);
    // BAD_STATE: another thread's PMT is quarantined right now (§15.6 rule 7).
    cr_assert(one_of(st, ZX_ERR_BAD_STATE, ZX_ERR_BAD_STATE), "pin: %d", st);
    if (st != ZX_OK) continue;
    atomic_fetch_add(&sh->pins_ok, 1);
    atomic_store(&sh->addrs[rnd(&s) % NADDR], addrs[0]);
    // Our own pin: the device reaches it whatever the others do.
    uint8_t w = (uint8_t)(rnd(&s) | 1), r = 0;
    cr_assert_eq(zxvmo_dma_write(sh->bti, addrs[0] + 5, &w, 1), ZX_OK);
    cr_assert_eq(zxvmo_dma_read(sh->bti, addrs[0] + 5, &r, 1), ZX_OK);
    // DECOMMIT of what we pinned is refused while the pin lasts (never for physical
    // memory, which has no DECOMMIT at all; contiguous memory neither).
    st = zx_vmo_op_range(sh->vmo[v], ZX_VMO_OP_DECOMMIT, off * PG, n * PG, NULL, 0);
    // (A mutator's snapshot child may make the plain VMO refuse with NOT_SUPPORTED first.)
    if (v == V_PLAIN || v == V_CACHE) {
      cr_assert(st == ZX_ERR_BAD_STATE || (v == V_PLAIN && st == ZX_ERR_NOT_SUPPORTED), "%d", st);
    } else {
      cr_assert_eq(st, ZX_ERR_NOT_SUPPORTED);
    }
    if (rnd(&s) % 3 == 0) {
      cr_assert_eq(zx_handle_close(pmt), ZX_OK);  // into quarantine
    } else {
      cr_assert_eq(zx_pmt_unpin(pmt), ZX_OK);
    }
  }
  return NULL;
}

static void* releaser(void* p) {
  shared_t* sh = ((arg_t*)p)->sh;
  for (int i = 0; i < ITERS; i++) {
    cr_assert_eq(zx_bti_release_quarantine(sh->bti), ZX_OK);
    zx_info_bti_t info;
    cr_assert_eq(zx_object_get_info(sh->bti, ZX_INFO_BTI, &info, sizeof(info), NULL, NULL),
                 ZX_OK);
    cr_assert_leq(info.quarantine_count, info.pmo_count);
    if (i % 64 == 0) cr_assert_eq(zxvmo_check_invariants(), ZX_OK);
  }
  return NULL;
}

static void* mutator(void* p) {
  arg_t* a = p;
  shared_t* sh = a->sh;
  uint64_t s = a->seed;
  for (int i = 0; i < ITERS; i++) {
    int v = (int)(rnd(&s) % NV);
    uint64_t off = rnd(&s) % PAGES, n = 1 + rnd(&s) % (PAGES - off);
    zx_handle_t c;
    zx_status_t st;
    switch (rnd(&s) % 4) {
      case 0:
        st = zx_vmo_create_child(sh->vmo[v], ZX_VMO_CHILD_SNAPSHOT, 0, PAGES * PG, &c);
        if (v == V_PHYS) {
          cr_assert_eq(st, ZX_ERR_NOT_SUPPORTED);
        } else if (v == V_CONTIG) {
          cr_assert_eq(st, ZX_ERR_INVALID_ARGS);
        } else {
          // Pinned now, or (the cache VMO) not cached now.
          cr_assert(one_of(st, ZX_ERR_BAD_STATE, ZX_ERR_BAD_STATE), "%d", st);
        }
        if (st == ZX_OK) cr_assert_eq(zx_handle_close(c), ZX_OK);
        break;
      case 1:
        st = zx_vmo_op_range(sh->vmo[v], ZX_VMO_OP_DECOMMIT, off * PG, n * PG, NULL, 0);
        if (v == V_PHYS || v == V_CONTIG) {
          cr_assert_eq(st, ZX_ERR_NOT_SUPPORTED);
        } else {
          // Pinned now, or the other mutator's snapshot child is alive (§8).
          cr_assert(one_of(st, ZX_ERR_BAD_STATE, ZX_ERR_NOT_SUPPORTED), "%d",
                    st);
        }
        break;
      case 2:
        st = zx_vmo_op_range(sh->vmo[v], ZX_VMO_OP_ZERO, off * PG, n * PG, NULL, 0);
        if (v == V_PHYS) {
          cr_assert_eq(st, ZX_ERR_NOT_SUPPORTED);
        } else {
          // Pinned pages are zeroed in place; the cache VMO may be uncached now.
          cr_assert(one_of(st, v == V_CACHE ? ZX_ERR_BAD_STATE : ZX_OK, ZX_OK), "%d", st);
        }
        break;
      default: {
        // Only the cache VMO changes policy: committed pages, once uncached, never
        // change again; pinned, BAD_STATE.
        uint32_t pol = (uint32_t)(rnd(&s) % 4);
        st = zx_vmo_set_cache_policy(sh->vmo[V_CACHE], pol);
        cr_assert(one_of(st, ZX_ERR_BAD_STATE, ZX_ERR_BAD_STATE), "%d", st);
        break;
      }
    }
  }
  return NULL;
}

static void* device(void* p) {
  arg_t* a = p;
  shared_t* sh = a->sh;
  uint64_t s = a->seed;
  uint8_t buf[64];
  for (int i = 0; i < ITERS * 4; i++) {
    uint64_t addr = atomic_load(&sh->addrs[rnd(&s) % NADDR]);
    if (addr == 0) continue;
    addr += rnd(&s) % (2 * PG);
    size_t len = 1 + rnd(&s) % sizeof(buf);
    memset(buf, 0x3c, sizeof(buf));
    zx_status_t st = rnd(&s) & 1 ? zxvmo_dma_write(sh->bti, addr, buf, len)
                                 : zxvmo_dma_read(sh->bti, addr, buf, len);
    // Every pin here allows both, so only whether the bytes are pinned now counts.
    cr_assert(one_of(st, ZX_ERR_NOT_FOUND, ZX_ERR_NOT_FOUND), "%d", st);
  }
  return NULL;
}

// Pins through a duplicate of a VMO handle and closes the duplicate while pinned: the
// pin keeps the VMO and the device's access.
static void* closer(void* p) {
  arg_t* a = p;
  shared_t* sh = a->sh;
  uint64_t s = a->seed;
  for (int i = 0; i < ITERS; i++) {
    int v = rnd(&s) % 2 ? V_PLAIN : V_CONTIG;
    zx_handle_t dup, pmt;
    cr_assert_eq(zx_handle_duplicate(sh->vmo[v], ZX_RIGHT_SAME_RIGHTS, &dup), ZX_OK);
    zx_paddr_t addr;
    uint32_t opts = ZX_BTI_PERM_READ | (v == V_CONTIG ? ZX_BTI_CONTIGUOUS : 0);
    zx_status_t st = zx_bti_pin(sh->bti, opts, dup, 0, PG, &addr, 1, &pmt);
    cr_assert(one_of(st, ZX_ERR_BAD_STATE, ZX_ERR_BAD_STATE), "%d", st);
    cr_assert_eq(zx_handle_close(dup), ZX_OK);
    if (st != ZX_OK) continue;
    uint8_t b;
    cr_assert_eq(zxvmo_dma_read(sh->bti, addr, &b, 1), ZX_OK);
    // A read-only pin: no writes, unless (contiguous memory pins at its own addresses)
    // a pinner's read-write pin covers the same bytes now.
    st = zxvmo_dma_write(sh->bti, addr, &b, 1);
    if (v == V_PLAIN) cr_assert_eq(st, ZX_ERR_ACCESS_DENIED);
    else cr_assert(st == ZX_ERR_ACCESS_DENIED || st == ZX_OK, "%d", st);
    cr_assert_eq(zx_pmt_unpin(pmt), ZX_OK);
  }
  return NULL;
}

Test(bti_threads, pins_against_snapshots_decommit_cache_policy_device_and_closes) {
  shared_t sh;
  memset(&sh, 0, sizeof(sh));
  zx_handle_t rr = zxvmo_root_resource(), iommu;
  cr_assert_neq(rr, ZX_HANDLE_INVALID);
  zx_iommu_desc_dummy_t desc = {0};
  cr_assert_eq(zx_iommu_create(rr, ZX_IOMMU_TYPE_DUMMY, &desc, sizeof(desc), &iommu), ZX_OK);
  cr_assert_eq(zx_bti_create(iommu, 0, 1, &sh.bti), ZX_OK);
  sh.vmo[V_PLAIN] = mkvmo_filled(PAGES, 3);
  cr_assert_eq(zx_vmo_create_contiguous(sh.bti, PAGES * PG, 0, &sh.vmo[V_CONTIG]), ZX_OK);
  cr_assert_eq(zx_vmo_create_physical(rr, PHYS_BASE, PAGES * PG, &sh.vmo[V_PHYS]), ZX_OK);
  sh.vmo[V_CACHE] = mkvmo(PAGES * PG);
  void* (*fns[])(void*) = {pinner, pinner, releaser, mutator, mutator, device, closer};
  enum { NT = sizeof(fns) / sizeof(fns[0]) };
  pthread_t t[NT];
  arg_t args[NT];
  for (int i = 0; i < NT; i++) {
    args[i].sh = &sh;
    args[i].seed = 0x9e3779b97f4a7c15ull * (uint64_t)(i + 1);
    cr_assert_eq(pthread_create(&t[i], NULL, fns[i], &args[i]), 0);
  }
  for (int i = 0; i < NT; i++) pthread_join(t[i], NULL);
  cr_assert_gt(atomic_load(&sh.pins_ok), 0);
  // Nothing pinned once the quarantine is released: the device reaches nothing and
  // every rule on pinned memory is lifted.
  cr_assert_eq(zx_bti_release_quarantine(sh.bti), ZX_OK);
  zx_info_bti_t info;
  cr_assert_eq(zx_object_get_info(sh.bti, ZX_INFO_BTI, &info, sizeof(info), NULL, NULL), ZX_OK);
  cr_assert_eq(info.pmo_count, 0u);
  cr_assert_eq(info.quarantine_count, 0u);
  for (int k = 0; k < NADDR; k++) {
    uint64_t addr = atomic_load(&sh.addrs[k]);
    uint8_t b;
    if (addr) cr_assert_eq(zxvmo_dma_read(sh.bti, addr, &b, 1), ZX_ERR_NOT_FOUND);
  }
  cr_assert_eq(zx_vmo_op_range(sh.vmo[V_PLAIN], ZX_VMO_OP_DECOMMIT, 0, PAGES * PG, NULL, 0),
               ZX_OK);
  zx_handle_t c;
  cr_assert_eq(zx_vmo_create_child(sh.vmo[V_PLAIN], ZX_VMO_CHILD_SNAPSHOT, 0, PG, &c), ZX_OK);
  cr_assert_eq(zx_handle_close(c), ZX_OK);
  for (int i = 0; i < NV; i++) cr_assert_eq(zx_handle_close(sh.vmo[i]), ZX_OK);
  cr_assert_eq(zx_handle_close(sh.bti), ZX_OK);
  cr_assert_eq(zx_handle_close(iommu), ZX_OK);
  cr_assert_eq(zx_handle_close(rr), ZX_OK);
  cr_assert_eq(zxvmo_check_invariants(), ZX_OK);
}
