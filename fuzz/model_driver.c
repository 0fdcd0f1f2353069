// SPDX-License-Identifier: BSD-3-Clause
// The reference model of driver memory (model_driver.h), from docs/behavior.md §15.
#include "model_driver.h"

#include <stdlib.h>
#include <string.h>

#include <zircon/rights.h>
#include <zircon/syscalls/object.h>

static uint64_t md_min64(uint64_t a, uint64_t b) { return a < b ? a : b; }

void m_drv_init(model_t* m, uint64_t window) {
  m_drv_t* d = calloc(1, sizeof(*d));
  if (!d) abort();
  d->phys = calloc(M_PHYS_PAGES, m->page);
  if (!d->phys) abort();
  d->window = window;
  m->drv = d;
}

void m_drv_fini(model_t* m) {
  if (!m->drv) return;
  free(m->drv->phys);
  free(m->drv);
  m->drv = NULL;
}

int m_pmt_count(const model_t* m) {
  int n = 0;
  for (int i = 0; m->drv && i < M_MAX_PMTS; i++) n += m->drv->pmt[i].used;
  return n;
}

// ---- hooks ----

bool m_drv_pinned(const model_t* m, const mvmo_t* c, uint64_t lo, uint64_t hi) {
  if (!m->drv) return false;
  model_t* mm = (model_t*)m;  // m_content changes nothing
  for (int i = 0; i < M_MAX_PMTS; i++) {
    const m_pmt_t* p = &m->drv->pmt[i];
    if (!p->used) continue;
    uint64_t base;
    if (m_content(mm, &mm->v[p->vmo], &base) != c) continue;
    uint64_t a = base + p->off, b = a + p->pages;
    if (a < hi && lo < b) return true;
  }
  return false;
}

uint8_t* m_drv_phys_page(model_t* m, const mvmo_t* c, uint64_t x) {
  uint64_t p = (c->paddr - m->drv->window) / m->page + x;
  if (p >= M_PHYS_PAGES) abort();  // the driver keeps physical VMOs in its window
  return m->drv->phys + p * m->page;
}

bool m_drv_addr(model_t* m, int vmo, uint64_t page, uint64_t* addr) {
  uint64_t base;
  mvmo_t* c = m_content(m, &m->v[vmo], &base);
  if (!(c->phys || c->contig) || c->paddr == 0) return false;
  *addr = c->paddr + (base + page) * m->page;
  return true;
}

// ---- creation ----

zx_status_t m_phys_create(model_t* m, int rsrc, uint64_t paddr, uint64_t size, bool out_null,
                          int* out) {
  // §15.2, in order. 1. The resource, judged first: the root grants every MMIO range
  // except one reaching into RAM (§15.1).
  if (rsrc == M_H_WRONG_TYPE) return ZX_ERR_WRONG_TYPE;
  if (rsrc != 0) return ZX_ERR_BAD_HANDLE;
  if (paddr >= M_RAM_BASE || size > M_RAM_BASE - paddr) return ZX_ERR_ACCESS_DENIED;
  // 2. round_up(size) wraps or exceeds MAX_SIZE.
  uint64_t rounded = (size + m->page - 1) / m->page * m->page;
  if (rounded < size || rounded > m->max_size) return ZX_ERR_OUT_OF_RANGE;
  // 3. paddr unaligned, size 0, or the end wraps.
  if (paddr % m->page || size == 0 || paddr > UINT64_MAX - (size - 1)) {
    return ZX_ERR_INVALID_ARGS;
  }
  // 4.
  if (out_null) return ZX_ERR_INVALID_ARGS;
  if (paddr < m->drv->window || rounded / m->page > M_PHYS_PAGES ||
      (paddr - m->drv->window) / m->page + rounded / m->page > M_PHYS_PAGES) {
    abort();  // the driver stays in its window
  }
  // "rounded size (and content size), rights ZX_DEFAULT_VMO_RIGHTS, cache policy
  // UNCACHED, no parent".
  mvmo_t* v = m_new_root(m, rounded, rounded, out);
  v->phys = true;
  v->paddr = paddr;
  v->cache = ZX_CACHE_POLICY_UNCACHED;
  m->h[*out].rights = ZX_DEFAULT_VMO_RIGHTS;
  return ZX_OK;
}

// A BTI handle as the model names it: the slot (or -1) and its rights.
static zx_status_t bti_lookup(int bti, zx_rights_t need, int* slot) {
  if (bti == M_H_WRONG_TYPE) return ZX_ERR_WRONG_TYPE;
  if (bti < 0 || bti > M_BTI_WEAK) return ZX_ERR_BAD_HANDLE;
  zx_rights_t have = bti == M_BTI_WEAK ? M_BTI_WEAK_RIGHTS : ZX_DEFAULT_BTI_RIGHTS;
  if ((have & need) != need) return ZX_ERR_ACCESS_DENIED;
  *slot = bti == M_BTI_WEAK ? 0 : bti;
  return ZX_OK;
}

zx_status_t m_contig_create(model_t* m, int bti, uint64_t size, uint32_t align_log2,
                            bool out_null, int* out) {
  // §15.3, in order.
  if (size == 0) return ZX_ERR_INVALID_ARGS;
  uint32_t shift = 0;
  while (((uint64_t)1 << shift) < m->page) shift++;
  if (align_log2 == 0) align_log2 = shift;
  if (align_log2 < shift || align_log2 >= 64) return ZX_ERR_INVALID_ARGS;
  int slot;
  zx_status_t st = bti_lookup(bti, ZX_RIGHT_MAP, &slot);
  if (st != ZX_OK) return st;
  uint64_t rounded = (size + m->page - 1) / m->page * m->page;
  if (rounded < size || rounded > m->max_size) return ZX_ERR_OUT_OF_RANGE;
  if (out_null) return ZX_ERR_INVALID_ARGS;
  // "committed whole at creation, not resizable, content size `size` exactly".
  mvmo_t* v = m_new_root(m, rounded, size, out);
  v->contig = true;
  for (uint64_t x = 0; x < v->pages; x++) m_own_page(m, v, x);
  m->h[*out].rights = ZX_DEFAULT_VMO_RIGHTS;
  return ZX_OK;
}

bool m_contig_place(model_t* m, int vmo, uint64_t paddr, uint32_t align_log2) {
  mvmo_t* v = &m->v[vmo];
  uint64_t align = align_log2 ? (uint64_t)1 << align_log2 : m->page;
  if (align < m->page) align = m->page;
  // D48: RAM above physical memory, never reused, aligned as asked.
  if (paddr % align || paddr < M_RAM_BASE || paddr < m->drv->ram_seen) return false;
  v->paddr = paddr;
  m->drv->ram_seen = paddr + v->pages * m->page;
  return true;
}

// ---- pins ----

zx_status_t m_bti_pin(model_t* m, int bti, uint32_t options, int h, uint64_t off,
                      uint64_t size, bool addrs_null, uint64_t num_addrs, bool pmt_null,
                      int* pmt) {
  // §15.6, in order. 1.
  int slot;
  zx_status_t st = bti_lookup(bti, ZX_RIGHT_MAP, &slot);
  if (st != ZX_OK) return st;
  // 2. Alignment; at most 64 pages' worth of addresses.
  if (off % m->page || size % m->page || num_addrs > m->page * 64 / sizeof(zx_paddr_t)) {
    return ZX_ERR_INVALID_ARGS;
  }
  // 3.
  mvmo_t* v;
  zx_rights_t rights;
  st = m_lookup(m, h, ZX_RIGHT_MAP, &v, &rights);
  if (st != ZX_OK) return st;
  // 4.
  if ((options & ZX_BTI_PERM_READ) && !(rights & ZX_RIGHT_READ)) return ZX_ERR_ACCESS_DENIED;
  if ((options & ZX_BTI_PERM_WRITE) && !(rights & ZX_RIGHT_WRITE)) return ZX_ERR_ACCESS_DENIED;
  if ((options & ZX_BTI_PERM_EXECUTE) && !(rights & ZX_RIGHT_READ)) return ZX_ERR_ACCESS_DENIED;
  // 5.
  const uint32_t perms = ZX_BTI_PERM_READ | ZX_BTI_PERM_WRITE | ZX_BTI_PERM_EXECUTE;
  bool compress = options & ZX_BTI_COMPRESS, contiguous = options & ZX_BTI_CONTIGUOUS;
  if (compress && contiguous) return ZX_ERR_INVALID_ARGS;
  if (contiguous && !v->phys && !v->contig) return ZX_ERR_INVALID_ARGS;
  if (options & ~(perms | ZX_BTI_COMPRESS | ZX_BTI_CONTIGUOUS)) return ZX_ERR_INVALID_ARGS;
  // 6.
  if (size == 0) return ZX_ERR_INVALID_ARGS;
  if (off > v->pages * m->page || size > v->pages * m->page - off) return ZX_ERR_OUT_OF_RANGE;
  // 7. Committed (a pager VMO's pages would come through the pager: not modelled
  // here), then pinned. Physical memory is there already.
  uint64_t base;
  mvmo_t* c = m_content(m, v, &base);
  if (v->pbacked) return M_UNMODELLED;
  // §16.2 is silent on pinning a discarded VMO (which would commit its pages).
  if (c->discarded) return M_UNMODELLED;
  if (!c->phys) {
    for (uint64_t x = off / m->page; x < (off + size) / m->page; x++) m_own_page(m, c, base + x);
  }
  for (int i = 0; i < M_MAX_PMTS; i++) {
    const m_pmt_t* p = &m->drv->pmt[i];
    if (p->used && p->quarantined && p->bti == slot && p->bti_gen == m->drv->bti_gen[slot]) {
      return ZX_ERR_BAD_STATE;
    }
  }
  // 8. Checked once pinned; the pin is undone (the commit stays).
  if (!(options & perms)) return ZX_ERR_INVALID_ARGS;
  if (num_addrs != (contiguous ? 1 : size / m->page)) return ZX_ERR_INVALID_ARGS;
  if (pmt_null || addrs_null) return ZX_ERR_INVALID_ARGS;
  int id = -1;
  for (int i = 0; i < M_MAX_PMTS && id < 0; i++) {
    if (!m->drv->pmt[i].used) id = i;
  }
  if (id < 0) abort();  // the driver bounds the PMTs
  m_pmt_t* p = &m->drv->pmt[id];
  memset(p, 0, sizeof(*p));
  p->used = true;
  p->bti = slot;
  p->bti_gen = m->drv->bti_gen[slot];
  p->vmo = (int)(v - m->v);
  p->off = off / m->page;
  p->pages = size / m->page;
  p->perms = options & perms;
  v->pins++;  // "A pin holds its VMO alive as a handle would"
  *pmt = id;
  return ZX_OK;
}

bool m_pmt_place(model_t* m, int id, uint64_t dev) {
  m_pmt_t* p = &m->drv->pmt[id];
  p->dev = dev;
  uint64_t want;
  // "A physical or contiguous VMO pins at its own addresses".
  if (m_drv_addr(m, p->vmo, p->off, &want)) return dev == want;
  // "any other VMO gets a fresh contiguous range of RAM addresses for the pin (D48)".
  if (dev % m->page || dev < M_RAM_BASE || dev < m->drv->ram_seen) return false;
  m->drv->ram_seen = dev + p->pages * m->page;
  return true;
}

static void pmt_drop(model_t* m, m_pmt_t* p) {
  mvmo_t* v = &m->v[p->vmo];
  p->used = false;
  v->pins--;
  m_vmo_unhold(m, v);
}

void m_pmt_unpin(model_t* m, int id) { pmt_drop(m, &m->drv->pmt[id]); }

void m_pmt_close(model_t* m, int id) {
  m_pmt_t* p = &m->drv->pmt[id];
  // §15.7 quarantine; D49: a closed BTI has no quarantine, the pin goes.
  if (p->bti_gen != m->drv->bti_gen[p->bti]) {
    pmt_drop(m, p);
  } else {
    p->quarantined = true;
  }
}

static void release_quarantine(model_t* m, int slot) {
  for (int i = 0; i < M_MAX_PMTS; i++) {
    m_pmt_t* p = &m->drv->pmt[i];
    if (p->used && p->quarantined && p->bti == slot && p->bti_gen == m->drv->bti_gen[slot]) {
      pmt_drop(m, p);
    }
  }
}

zx_status_t m_bti_release_quarantine(model_t* m, int bti) {
  // §15.7 "needs WRITE on the BTI; always OK".
  int slot;
  zx_status_t st = bti_lookup(bti, ZX_RIGHT_WRITE, &slot);
  if (st != ZX_OK) return st;
  release_quarantine(m, slot);
  return ZX_OK;
}

void m_bti_closed(model_t* m, int slot) {
  release_quarantine(m, slot);  // D49
  m->drv->bti_gen[slot]++;
}

zx_status_t m_bti_info(model_t* m, int bti, uint64_t* pmo_count, uint64_t* quarantine_count) {
  int slot;
  zx_status_t st = bti_lookup(bti, ZX_RIGHT_INSPECT, &slot);
  if (st != ZX_OK) return st;
  *pmo_count = *quarantine_count = 0;
  for (int i = 0; i < M_MAX_PMTS; i++) {
    const m_pmt_t* p = &m->drv->pmt[i];
    if (!p->used || p->bti != slot || p->bti_gen != m->drv->bti_gen[slot]) continue;
    ++*pmo_count;
    *quarantine_count += p->quarantined;
  }
  return ZX_OK;
}

// ---- the device ----

// The PMT of slot's BTI covering device address a, preferring one that allows `perm`:
// *any is set when some PMT covers it at all.
static m_pmt_t* dev_find(model_t* m, int slot, uint64_t a, uint32_t perm, bool* any) {
  *any = false;
  for (int i = 0; i < M_MAX_PMTS; i++) {
    m_pmt_t* p = &m->drv->pmt[i];
    if (!p->used || p->bti != slot || p->bti_gen != m->drv->bti_gen[slot]) continue;
    if (a < p->dev || a - p->dev >= p->pages * m->page) continue;
    *any = true;
    if (p->perms & perm) return p;
  }
  return NULL;
}

zx_status_t m_dma(model_t* m, int bti, uint64_t addr, uint8_t* buf, uint64_t len,
                  bool buf_null, bool write) {
  // §15: `bti` a BTI handle, no right needed; buf NULL with len > 0.
  int slot;
  zx_status_t st = bti_lookup(bti, 0, &slot);
  if (st != ZX_OK) return st;
  if (buf_null && len > 0) return ZX_ERR_INVALID_ARGS;
  // "Every byte must lie in memory pinned through that BTI (by a live or quarantined
  // PMT): otherwise NOT_FOUND and nothing moves. A read needs a pin with
  // ZX_BTI_PERM_READ, a write one with ZX_BTI_PERM_WRITE: otherwise ACCESS_DENIED."
  // The first byte that fails decides.
  const uint32_t perm = write ? ZX_BTI_PERM_WRITE : ZX_BTI_PERM_READ;
  if (len > UINT64_MAX - addr) return ZX_ERR_NOT_FOUND;
  for (uint64_t a = addr; a < addr + len;) {
    bool any;
    if (!dev_find(m, slot, a, perm, &any)) return any ? ZX_ERR_ACCESS_DENIED : ZX_ERR_NOT_FOUND;
    a = (a / m->page + 1) * m->page;  // pins cover whole pages
  }
  // "The device reaches the pinned VMO at the pinned offset, so it sees exactly what
  // zx_vmo_read or a mapping of that VMO shows".
  for (uint64_t a = addr; a < addr + len;) {
    bool any;
    m_pmt_t* p = dev_find(m, slot, a, perm, &any);
    uint64_t n = md_min64(addr + len - a, m->page - a % m->page);
    uint64_t voff = p->off * m->page + (a - p->dev);
    if (write) {
      m_map_write(m, p->vmo, buf + (a - addr), voff, n);
    } else {
      m_map_read(m, p->vmo, buf + (a - addr), voff, n);
    }
    a += n;
  }
  return ZX_OK;
}

// ---- cache policy ----

zx_status_t m_set_cache_policy(model_t* m, int h, uint32_t policy) {
  // §15.8, in order.
  if (policy & ~ZX_CACHE_POLICY_MASK) return ZX_ERR_INVALID_ARGS;
  mvmo_t* v;
  zx_status_t st = m_lookup(m, h, ZX_RIGHT_MAP, &v, NULL);
  if (st != ZX_OK) return st;
  int vid = (int)(v - m->v);
  bool tied = m_num_mappings(m, vid) > 0 || m_children(m, vid) > 0 || v->parent >= 0 ||
              v->kind != MK_ROOT;
  if (v->phys) {
    if (policy == v->cache) return ZX_OK;
    if (tied) return ZX_ERR_BAD_STATE;
  } else {
    uint64_t base;
    mvmo_t* c = m_content(m, v, &base);
    bool committed = false;
    for (uint64_t x = 0; x < v->pages; x++) {
      if (c->slots[base + x]) committed = true;
    }
    if (committed && v->cache != ZX_CACHE_POLICY_CACHED) return ZX_ERR_BAD_STATE;
    if (m_drv_pinned(m, c, base, base + v->pages)) return ZX_ERR_BAD_STATE;
    if (tied) return ZX_ERR_BAD_STATE;
  }
  v->cache = policy;
  return ZX_OK;
}
