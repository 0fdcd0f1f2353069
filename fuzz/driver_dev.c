// SPDX-License-Identifier: BSD-3-Clause
// Driver memory in the differential driver (format 4, operations 48..63): physical
// VMOs over the driver's window of emulated physical memory, contiguous VMOs, pins
// through two BTIs, quarantine, the device's reads and writes (zxvmo_dma_*), cache
// policy, and the rules of §15.6 on pinned memory, each against model_driver.c.
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <zircon/process.h>
#include <zircon/rights.h>
#include <zircon/syscalls.h>
#include <zircon/syscalls/iommu.h>
#include <zircon/syscalls/object.h>
#include <zxvmo.h>

#include "driver_int.h"

#define MAX_PIN_PAGES 16

// Each driver's window: 16 pages (up to 1 MiB with the largest pages) of its own.
static _Atomic uint64_t g_windows;

uint64_t driver_phys_pages_held(void) { return atomic_load(&g_windows) * M_PHYS_PAGES; }

static zx_handle_t bti_handle(driver_t* d, int b) {
  if (b == M_H_WRONG_TYPE) return d->event;
  if (b < 0) return d->stale;
  return d->bti[b];
}

static void make_bti(driver_t* d, int slot) {
  zx_status_t st = zx_bti_create(d->iommu, 0, (uint64_t)slot, &d->bti[slot]);
  if (st != ZX_OK) fail(d, "zx_bti_create: %s", sname(st));
  if (slot == 0) {
    if (d->bti[M_BTI_WEAK] != ZX_HANDLE_INVALID) zx_handle_close(d->bti[M_BTI_WEAK]);
    st = zx_handle_duplicate(d->bti[0], M_BTI_WEAK_RIGHTS, &d->bti[M_BTI_WEAK]);
    if (st != ZX_OK) fail(d, "zx_handle_duplicate (BTI): %s", sname(st));
  }
}

void driver_dev_init(driver_t* d) {
  uint64_t window = ((uint64_t)1 << 32) + (atomic_fetch_add(&g_windows, 1) << 20);
  m_drv_init(&d->m, window);
  for (int i = 0; i < M_MAX_PMTS; i++) d->pmt[i] = ZX_HANDLE_INVALID;
  d->rsrc = zxvmo_root_resource();
  if (d->rsrc == ZX_HANDLE_INVALID) fail(d, "zxvmo_root_resource failed");
  zx_iommu_desc_dummy_t desc = {0};
  zx_status_t st = zx_iommu_create(d->rsrc, ZX_IOMMU_TYPE_DUMMY, &desc, sizeof(desc), &d->iommu);
  if (st != ZX_OK) fail(d, "zx_iommu_create: %s", sname(st));
  d->bti[M_BTI_WEAK] = ZX_HANDLE_INVALID;
  for (int i = 0; i < M_BTIS; i++) make_bti(d, i);
  // The window, mapped and every page touched by a write: the library commits
  // physical pages as they are first written (the model holds none of them).
  st = zx_vmo_create_physical(d->rsrc, window, M_PHYS_PAGES * PG, &d->window_vmo);
  if (st != ZX_OK) fail(d, "zx_vmo_create_physical (window): %s", sname(st));
  uintptr_t a;
  st = zx_vmar_map(zx_vmar_root_self(), ZX_VM_PERM_READ | ZX_VM_PERM_WRITE, 0, d->window_vmo, 0,
                   M_PHYS_PAGES * PG, &a);
  if (st != ZX_OK) fail(d, "zx_vmar_map (window): %s", sname(st));
  d->window_map = (uint8_t*)a;
  memset(d->window_map, 0, M_PHYS_PAGES * PG);
  if (d->check_global) {
    zxvmo_stats_t s;
    zxvmo_get_stats(&s);
    d->held_base = s.pages_in_use;
  }
}

void driver_dev_reset(driver_t* d) {
  model_t* m = &d->m;
  for (int i = 0; i < M_MAX_PMTS; i++) {
    if (!m->drv->pmt[i].used || d->pmt[i] == ZX_HANDLE_INVALID) continue;
    EXPECT_STATUS(d, "zx_pmt_unpin (reset)", zx_pmt_unpin(d->pmt[i]), ZX_OK);
    d->pmt[i] = ZX_HANDLE_INVALID;
    m_pmt_unpin(m, i);
  }
  for (int b = 0; b < M_BTIS; b++) {
    EXPECT_STATUS(d, "zx_bti_release_quarantine (reset)", zx_bti_release_quarantine(d->bti[b]),
                  m_bti_release_quarantine(m, b));
  }
  if (m_pmt_count(m) != 0) fail(d, "model keeps %d PMTs after the reset", m_pmt_count(m));
  // Every run starts on a zeroed window (its pages stay committed).
  memset(d->window_map, 0, M_PHYS_PAGES * PG);
  memset(m->drv->phys, 0, M_PHYS_PAGES * PG);
}

void driver_dev_fini(driver_t* d) {
  zx_vmar_unmap(zx_vmar_root_self(), (uintptr_t)d->window_map, M_PHYS_PAGES * PG);
  zx_handle_close(d->window_vmo);
  for (int i = 0; i <= M_BTIS; i++) zx_handle_close(d->bti[i]);
  zx_handle_close(d->iommu);
  zx_handle_close(d->rsrc);
  m_drv_fini(&d->m);
}

void driver_dev_verify(driver_t* d) {
  model_t* m = &d->m;
  for (int b = 0; b <= M_BTIS; b++) {
    zx_info_bti_t info;
    memset(&info, 0x5a, sizeof(info));
    uint64_t pmo = 0, quar = 0;
    EXPECT_STATUS(d, "ZX_INFO_BTI",
                  zx_object_get_info(d->bti[b], ZX_INFO_BTI, &info, sizeof(info), NULL, NULL),
                  m_bti_info(m, b, &pmo, &quar));
    EXPECT_EQ64(d, "ZX_INFO_BTI.minimum_contiguity", info.minimum_contiguity, PG);
    EXPECT_EQ64(d, "ZX_INFO_BTI.aspace_size", info.aspace_size, UINT64_MAX);
    EXPECT_EQ64(d, "ZX_INFO_BTI.pmo_count", info.pmo_count, pmo);
    EXPECT_EQ64(d, "ZX_INFO_BTI.quarantine_count", info.quarantine_count, quar);
  }
  // The window's bytes, as every physical VMO over it shares them.
  if (memcmp(d->window_map, m->drv->phys, M_PHYS_PAGES * PG) != 0) {
    uint64_t k = 0;
    while (d->window_map[k] == m->drv->phys[k]) k++;
    fail(d, "physical window byte %#" PRIx64 ": zxvmo %#x, model %#x", k, d->window_map[k],
         m->drv->phys[k]);
  }
}

// ---- creation ----

static void op_phys_create(driver_t* d) {
  uint8_t k = u8(d) % 16;
  uint64_t p = u8(d) % M_PHYS_PAGES;
  uint64_t n = 1 + u8(d) % (M_PHYS_PAGES - p);
  uint64_t window = d->m.drv->window;
  uint64_t paddr = window + p * PG, size = n * PG;
  int rsrc = 0;
  bool out_null = false;
  switch (k) {
    case 0: case 1: case 2: case 3: case 4: case 5: case 6: break;
    case 7: case 8: size -= 1 + u16(d) % (PG - 1); break;  // rounded up
    case 9: paddr += 1 + u16(d) % (PG - 1); break;          // unaligned
    case 10: size = 0; break;
    case 11: paddr = M_RAM_BASE - PG; size = 2 * PG; break;  // reaches RAM
    case 12: paddr = M_RAM_BASE + p * PG; break;             // in RAM
    case 13: size = UINT64_MAX - (u8(d) % 3) * PG; break;
    case 14: rsrc = u8(d) & 1 ? M_H_WRONG_TYPE : M_H_INVALID; break;
    default: out_null = true; break;
  }
  int mh = -1;
  zx_status_t want = m_phys_create(&d->m, rsrc, paddr, size, out_null, &mh);
  char nb[32];
  trace(d, "vmo_create_physical(%s, paddr=%#" PRIx64 ", size=%#" PRIx64 "%s) = %s %s",
        rsrc == 0 ? "root" : rsrc == M_H_WRONG_TYPE ? "EVENT" : "BAD", paddr, size,
        out_null ? ", out=NULL" : "", sname(want), want == ZX_OK ? hname(d, mh, nb, sizeof(nb)) : "");
  zx_handle_t rh = ZX_HANDLE_INVALID;
  zx_handle_t r = rsrc == 0 ? d->rsrc : rsrc == M_H_WRONG_TYPE ? d->event : d->stale;
  zx_status_t got = zx_vmo_create_physical(r, paddr, size, out_null ? NULL : &rh);
  EXPECT_STATUS(d, "zx_vmo_create_physical", got, want);
  if (got == ZX_OK) bind_new(d, mh, rh);
}

static int pick_bti(driver_t* d) {
  uint8_t k = u8(d) % 16;
  if (k < 12) return k % M_BTIS;
  if (k < 14) return M_BTI_WEAK;
  return k == 14 ? M_H_INVALID : M_H_WRONG_TYPE;
}

static void op_contig_create(driver_t* d) {
  int b = pick_bti(d);
  uint8_t k = u8(d) % 16;
  uint64_t size = (1 + u8(d) % 6) * PG;
  uint32_t align = 0;
  bool out_null = false;
  switch (k) {
    case 0: case 1: case 2: case 3: case 4: case 5: break;
    case 6: case 7: size -= 1 + u16(d) % (PG - 1); break;
    case 8: case 9: align = 12 + u8(d) % 10; break;  // maybe below the page shift
    case 10: align = 1 + u8(d) % 11; break;          // below the page shift
    case 11: align = 64 + u8(d) % 3; break;
    case 12: size = 0; break;
    case 13: size = UINT64_MAX - (u8(d) % 3) * PG; break;
    case 14: align = 16; size = PG; break;
    default: out_null = true; break;
  }
  int mh = -1;
  zx_status_t want = m_contig_create(&d->m, b, size, align, out_null, &mh);
  char nb[32];
  trace(d, "vmo_create_contiguous(bti%d, size=%#" PRIx64 ", align=%u%s) = %s %s", b, size, align,
        out_null ? ", out=NULL" : "", sname(want), want == ZX_OK ? hname(d, mh, nb, sizeof(nb)) : "");
  zx_handle_t rh = ZX_HANDLE_INVALID;
  zx_status_t got = zx_vmo_create_contiguous(bti_handle(d, b), size, align, out_null ? NULL : &rh);
  EXPECT_STATUS(d, "zx_vmo_create_contiguous", got, want);
  if (got != ZX_OK) return;
  bind_new(d, mh, rh);
  // Its address: page 0's LOOKUP; the rest must follow on (checked by every LOOKUP).
  zx_paddr_t pa = 0;
  EXPECT_STATUS(d, "LOOKUP of a contiguous VMO",
                zx_vmo_op_range(rh, ZX_VMO_OP_LOOKUP, 0, PG, &pa, sizeof(pa)), ZX_OK);
  if (!m_contig_place(&d->m, d->m.h[mh].vmo, pa, align)) {
    fail(d, "contiguous VMO at %#lx: not aligned to 2^%u, below RAM or not fresh",
         (unsigned long)pa, align);
  }
}

// ---- pins ----

static const uint32_t k_pin_opts[] = {
    ZX_BTI_PERM_READ,
    ZX_BTI_PERM_WRITE,
    ZX_BTI_PERM_READ | ZX_BTI_PERM_WRITE,
    ZX_BTI_PERM_READ | ZX_BTI_PERM_WRITE,
    ZX_BTI_PERM_READ | ZX_BTI_PERM_WRITE | ZX_BTI_PERM_EXECUTE,
    ZX_BTI_PERM_EXECUTE,
    ZX_BTI_PERM_READ | ZX_BTI_COMPRESS,
    ZX_BTI_PERM_READ | ZX_BTI_CONTIGUOUS,
    ZX_BTI_PERM_WRITE | ZX_BTI_PERM_READ | ZX_BTI_CONTIGUOUS,
    ZX_BTI_PERM_READ | ZX_BTI_COMPRESS | ZX_BTI_CONTIGUOUS,
    0,
    ZX_BTI_CONTIGUOUS,
    ZX_BTI_COMPRESS,
    ZX_BTI_PERM_READ | (1u << 5),
    ZX_BTI_PERM_WRITE | (1u << 31),
    ZX_BTI_PERM_READ | ZX_BTI_PERM_WRITE,
};

static int free_pmt(driver_t* d) {
  for (int i = 0; i < M_MAX_PMTS; i++) {
    if (!d->m.drv->pmt[i].used) return i;
  }
  return -1;
}

static void op_pin(driver_t* d) {
  if (free_pmt(d) < 0) return;
  int b = pick_bti(d);
  uint32_t opts = k_pin_opts[u8(d) % 16];
  int h = pick_handle(d, true);
  uint64_t pages = hsize(d, h) / PG;
  if (h >= 0 && d->m.v[d->m.h[h].vmo].pbacked) {
    trace(d, "pin of a pager-backed VMO: skipped (not modelled)");
    return;
  }
  uint8_t k = u8(d) % 16;
  uint64_t op = pages ? u8(d) % pages : 0;
  uint64_t off = op * PG;
  uint64_t np = 1 + u8(d) % (pages > op ? pages - op : 1);
  if (np > MAX_PIN_PAGES) np = MAX_PIN_PAGES;
  uint64_t size = np * PG;
  bool addrs_null = false, pmt_null = false;
  switch (k) {
    case 0: case 1: case 2: case 3: case 4: case 5: case 6: case 7: break;
    case 8: off = 0; size = pages ? (pages < MAX_PIN_PAGES ? pages : MAX_PIN_PAGES) * PG : PG;
      break;
    case 9: off += 1 + u16(d) % (PG - 1); break;
    case 10: size = 0; break;
    case 11: size = (pages - op + 1) * PG; break;  // past the end
    case 12: off = (pages + u8(d) % 2) * PG; break;
    case 13: addrs_null = true; break;
    case 14: pmt_null = true; break;
    default: size -= 1 + u16(d) % (PG - 1); break;  // unaligned
  }
  uint64_t num = (opts & ZX_BTI_CONTIGUOUS) ? 1 : size / PG;
  uint8_t nk = u8(d) % 16;
  if (nk == 0) num++;
  else if (nk == 1) num = 0;
  else if (nk == 2) num = PG * 64 / sizeof(zx_paddr_t) + 1;
  else if (nk == 3) num = 1;
  int id = -1;
  zx_status_t want = m_bti_pin(&d->m, b, opts, h, off, size, addrs_null, num, pmt_null, &id);
  char hb[32];
  trace(d, "bti_pin(bti%d, opts=%#x, %s, off=%#" PRIx64 ", size=%#" PRIx64 ", n=%" PRIu64
        "%s%s) = %s pmt%d", b, opts, hname(d, h, hb, sizeof(hb)), off, size, num,
        addrs_null ? ", addrs=NULL" : "", pmt_null ? ", pmt=NULL" : "", sname(want), id);
  if (want == M_UNMODELLED) return;
  zx_paddr_t addrs[64];
  zx_handle_t ph = ZX_HANDLE_INVALID;
  zx_status_t got = zx_bti_pin(bti_handle(d, b), opts, real_handle(d, h), off, size,
                               addrs_null ? NULL : addrs, num, pmt_null ? NULL : &ph);
  EXPECT_STATUS(d, "zx_bti_pin", got, want);
  if (got != ZX_OK) return;
  d->pmt[id] = ph;
  for (uint64_t i = 1; i < num; i++) {
    if (addrs[i] != addrs[0] + i * PG) {
      fail(d, "zx_bti_pin: address %" PRIu64 " is %#lx, page 0's %#lx: not contiguous", i,
           (unsigned long)addrs[i], (unsigned long)addrs[0]);
    }
  }
  if (!m_pmt_place(&d->m, id, addrs[0])) {
    fail(d, "zx_bti_pin: device address %#lx is not the one §15.6/D48 require",
         (unsigned long)addrs[0]);
  }
}

// A PMT (live or quarantined with `quarantined`), or -1.
static int pick_pmt(driver_t* d, bool quarantined_too) {
  uint8_t k = u8(d);
  int ids[M_MAX_PMTS], n = 0;
  for (int i = 0; i < M_MAX_PMTS; i++) {
    const m_pmt_t* p = &d->m.drv->pmt[i];
    if (p->used && (quarantined_too || !p->quarantined)) ids[n++] = i;
  }
  return n ? ids[k % n] : -1;
}

static void op_unpin(driver_t* d, bool close) {
  uint8_t k = u8(d) % 16;
  int id = pick_pmt(d, false);
  if (k == 15 && !close) {
    // A handle that is not a PMT: consumed, WRONG_TYPE (§15.7); or a stale one.
    int h = pick_handle(d, false);
    char hb[32];
    trace(d, "pmt_unpin(%s)", hname(d, h, hb, sizeof(hb)));
    if (h < 0) {
      EXPECT_STATUS(d, "zx_pmt_unpin (stale)", zx_pmt_unpin(d->stale), ZX_ERR_BAD_HANDLE);
      return;
    }
    EXPECT_STATUS(d, "zx_pmt_unpin (a VMO handle)", zx_pmt_unpin(d->real[h]), ZX_ERR_WRONG_TYPE);
    EXPECT_STATUS(d, "the VMO handle passed to zx_pmt_unpin",
                  zx_handle_close(d->real[h]), ZX_ERR_BAD_HANDLE);
    m_handle_close(&d->m, h);
    d->stale = d->real[h];
    d->real[h] = ZX_HANDLE_INVALID;
    return;
  }
  if (id < 0) return;
  const m_pmt_t* p = &d->m.drv->pmt[id];
  trace(d, "%s(pmt%d: vmo#%u +%" PRIu64 "p %" PRIu64 "p perms=%#x dev=%#" PRIx64 ")",
        close ? "close" : "pmt_unpin", id, d->m.v[p->vmo].seq, p->off, p->pages, p->perms,
        p->dev);
  if (close) {
    EXPECT_STATUS(d, "zx_handle_close (PMT)", zx_handle_close(d->pmt[id]), ZX_OK);
    d->pmt[id] = ZX_HANDLE_INVALID;
    bool gone = p->bti_gen != d->m.drv->bti_gen[p->bti];
    if (gone) d->old_dev = p->dev;
    m_pmt_close(&d->m, id);
  } else {
    EXPECT_STATUS(d, "zx_pmt_unpin", zx_pmt_unpin(d->pmt[id]), ZX_OK);
    d->pmt[id] = ZX_HANDLE_INVALID;
    d->old_dev = p->dev;
    m_pmt_unpin(&d->m, id);
  }
}

static void op_bti(driver_t* d) {
  uint8_t k = u8(d) % 8;
  if (k < 5) {
    int b = pick_bti(d);
    trace(d, "bti_release_quarantine(bti%d)", b);
    EXPECT_STATUS(d, "zx_bti_release_quarantine", zx_bti_release_quarantine(bti_handle(d, b)),
                  m_bti_release_quarantine(&d->m, b));
  } else if (k < 7) {
    int b = pick_bti(d);
    zx_info_bti_t info;
    uint64_t pmo = 0, quar = 0;
    trace(d, "ZX_INFO_BTI(bti%d)", b);
    EXPECT_STATUS(d, "ZX_INFO_BTI",
                  zx_object_get_info(bti_handle(d, b), ZX_INFO_BTI, &info, sizeof(info), NULL,
                                     NULL),
                  m_bti_info(&d->m, b, &pmo, &quar));
  } else {
    // D49: closing a BTI releases its quarantine; its live PMTs stay until unpinned.
    int slot = u8(d) % M_BTIS;
    trace(d, "close(bti%d), then a new BTI in its place", slot);
    EXPECT_STATUS(d, "zx_handle_close (BTI)", zx_handle_close(d->bti[slot]), ZX_OK);
    if (slot == 0) {
      EXPECT_STATUS(d, "zx_handle_close (weak BTI)", zx_handle_close(d->bti[M_BTI_WEAK]), ZX_OK);
      d->bti[M_BTI_WEAK] = ZX_HANDLE_INVALID;
    }
    m_bti_closed(&d->m, slot);
    make_bti(d, slot);
  }
}

// ---- the device ----

static void op_dma(driver_t* d, bool write) {
  int b = pick_bti(d);
  uint8_t k = u8(d) % 16;
  int id = pick_pmt(d, true);
  uint64_t addr = 0, len = 1 + u16(d) % MAX_RW;
  bool buf_null = false;
  if (id >= 0) {
    const m_pmt_t* p = &d->m.drv->pmt[id];
    addr = p->dev + u16(d) % (p->pages * PG);
  }
  switch (k) {
    case 0: case 1: case 2: case 3: case 4: case 5: case 6: case 7: case 8: break;
    case 9: if (id >= 0) addr = d->m.drv->pmt[id].dev; len = PG; break;
    case 10: addr = d->old_dev + u16(d) % PG; break;  // unpinned since
    case 11: len = 0; break;
    case 12: buf_null = true; break;
    case 13: addr = UINT64_MAX - u8(d); break;
    default: if (id >= 0) addr = d->m.drv->pmt[id].dev - PG + u16(d) % PG; break;
  }
  if (len > MAX_RW) len = MAX_RW;
  uint8_t* a = d->buf_a;
  uint8_t* m = d->buf_b;
  if (write) {
    fill(a, len, u8(d));
    memcpy(m, a, len);
  } else {
    memset(a, 0xa5, len);
    memset(m, 0xa5, len);
  }
  zx_status_t want = m_dma(&d->m, b, addr, m, len, buf_null, write);
  trace(d, "dma_%s(bti%d, addr=%#" PRIx64 ", len=%#" PRIx64 "%s) = %s", write ? "write" : "read",
        b, addr, len, buf_null ? ", buf=NULL" : "", sname(want));
  zx_status_t got = write ? zxvmo_dma_write(bti_handle(d, b), addr, buf_null ? NULL : a, len)
                          : zxvmo_dma_read(bti_handle(d, b), addr, buf_null ? NULL : a, len);
  EXPECT_STATUS(d, write ? "zxvmo_dma_write" : "zxvmo_dma_read", got, want);
  if (got == ZX_OK && !write && memcmp(a, m, len) != 0) {
    uint64_t i = 0;
    while (a[i] == m[i]) i++;
    fail(d, "dma_read byte %" PRIu64 ": zxvmo %#x, model %#x", i, a[i], m[i]);
  }
}

// ---- cache policy and the rules on driver memory ----

static void op_cache_policy(driver_t* d) {
  int h = pick_handle(d, true);
  uint8_t k = u8(d) % 8;
  uint32_t policy = k < 4 ? k : k == 4 ? ZX_CACHE_POLICY_UNCACHED : k == 5 ? 4u : (1u << 31);
  char hb[32];
  zx_status_t want = m_set_cache_policy(&d->m, h, policy);
  trace(d, "vmo_set_cache_policy(%s, %#x) = %s", hname(d, h, hb, sizeof(hb)), policy,
        sname(want));
  EXPECT_STATUS(d, "zx_vmo_set_cache_policy", zx_vmo_set_cache_policy(real_handle(d, h), policy),
                want);
}

// A live handle to driver memory (physical or contiguous, or a slice of either) or to
// a pinned VMO, or -1.
static int pick_driver_handle(driver_t* d) {
  uint8_t k = u8(d);
  int ids[M_MAX_HANDLES], n = 0;
  for (int i = 0; i < M_MAX_HANDLES; i++) {
    if (!d->m.h[i].used) continue;
    const mvmo_t* v = &d->m.v[d->m.h[i].vmo];
    uint64_t base;
    const mvmo_t* c = m_content(&d->m, (mvmo_t*)v, &base);
    if (v->phys || v->contig || v->cache || m_drv_pinned(&d->m, c, 0, c->pages)) ids[n++] = i;
  }
  if (n == 0) return -1;
  d->last_h = ids[k % n];
  return d->last_h;
}

static void op_driver_rule(driver_t* d) {
  int h = pick_driver_handle(d);
  if (h < 0) return;
  uint8_t k = u8(d) % 8;
  uint64_t pages = hsize(d, h) / PG;
  uint64_t off = (uint64_t)(u8(d) % (pages + 1)) * PG;
  uint64_t len = (uint64_t)(u8(d) % (pages + 1 - off / PG) + (k & 1)) * PG;
  char hb[32], nb[32];
  zx_status_t want, got;
  if (k < 4) {
    if (m_handle_count(&d->m) >= DRV_MAX_LIVE) return;
    static const uint32_t opts[] = {ZX_VMO_CHILD_SLICE, ZX_VMO_CHILD_SNAPSHOT,
                                    ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE,
                                    ZX_VMO_CHILD_SLICE | ZX_VMO_CHILD_NO_WRITE};
    int mh = -1;
    zx_handle_t rh = ZX_HANDLE_INVALID;
    uint64_t size = pages * PG - off;
    want = m_vmo_create_child(&d->m, h, opts[k], off, size, false, &mh);
    trace(d, "create_child(%s, opts=%#x, off=%#" PRIx64 ", size=%#" PRIx64 ") = %s %s",
          hname(d, h, hb, sizeof(hb)), opts[k], off, size, sname(want),
          want == ZX_OK ? hname(d, mh, nb, sizeof(nb)) : "");
    got = zx_vmo_create_child(d->real[h], opts[k], off, size, &rh);
    EXPECT_STATUS(d, "zx_vmo_create_child (driver memory)", got, want);
    if (got == ZX_OK) bind_new(d, mh, rh);
    return;
  }
  if (k < 6) {
    uint32_t op = k == 4 ? ZX_VMO_OP_DECOMMIT : ZX_VMO_OP_ZERO;
    want = m_vmo_op_range(&d->m, h, op, off, len, true, 0, NULL);
    trace(d, "op_range(%s, %s, off=%#" PRIx64 ", len=%#" PRIx64 ") = %s",
          hname(d, h, hb, sizeof(hb)), k == 4 ? "DECOMMIT" : "ZERO", off, len, sname(want));
    got = zx_vmo_op_range(d->real[h], op, off, len, NULL, 0);
    EXPECT_STATUS(d, "zx_vmo_op_range (driver memory)", got, want);
    return;
  }
  if (k == 6) {
    want = m_vmo_set_size(&d->m, h, off);
    trace(d, "set_size(%s, %#" PRIx64 ") = %s", hname(d, h, hb, sizeof(hb)), off, sname(want));
    EXPECT_STATUS(d, "zx_vmo_set_size (driver memory)", zx_vmo_set_size(d->real[h], off), want);
    return;
  }
  // A clone (one-way): allowed over pins, refused for driver memory.
  if (m_handle_count(&d->m) >= DRV_MAX_LIVE) return;
  int mh = -1;
  zx_handle_t rh = ZX_HANDLE_INVALID;
  want = m_vmo_clone(&d->m, h, ZX_VMO_CLONE_COPY_ON_WRITE, off, len, false, &mh);
  trace(d, "clone(%s, off=%#" PRIx64 ", size=%#" PRIx64 ") = %s %s", hname(d, h, hb, sizeof(hb)),
        off, len, sname(want), want == ZX_OK ? hname(d, mh, nb, sizeof(nb)) : "");
  got = zx_vmo_clone(d->real[h], ZX_VMO_CLONE_COPY_ON_WRITE, off, len, &rh);
  EXPECT_STATUS(d, "zx_vmo_clone (driver memory)", got, want);
  if (got == ZX_OK) bind_new(d, mh, rh);
}

void driver_dev_op(driver_t* d, uint8_t op) {
  bool full = m_handle_count(&d->m) >= DRV_MAX_LIVE;
  switch (op % 64) {
    case 48: case 49:
      if (full) { close_handle(d, m_handle_nth(&d->m, op % DRV_MAX_LIVE)); break; }
      op_phys_create(d);
      break;
    case 50:
      if (full) { close_handle(d, m_handle_nth(&d->m, op % DRV_MAX_LIVE)); break; }
      op_contig_create(d);
      break;
    case 51: case 52: case 53: op_pin(d); break;
    case 54: op_unpin(d, false); break;
    case 55: op_unpin(d, true); break;
    case 56: op_bti(d); break;
    case 57: case 58: op_dma(d, false); break;
    case 59: case 60: op_dma(d, true); break;
    case 61: op_cache_policy(d); break;
    default: op_driver_rule(d); break;
  }
}
