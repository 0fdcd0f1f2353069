// SPDX-License-Identifier: BSD-3-Clause
// IOMMUs, BTIs and PMTs (bti.h): pinning, quarantine and the device's accesses.
#include "bti.h"

#include "os.h"
#include "user_copy.h"

typedef enum pmt_state { PMT_PINNED, PMT_QUARANTINED, PMT_DONE } pmt_state_t;

struct pmt {
  zx_object_t base;
  bti_t* bti;              // (c) holds a reference
  vmo_t* vmo;              // (c) held (object_hold) until done
  uint64_t off;            // (c) bytes into vmo
  uint64_t size;           // (c) bytes
  uint64_t dev;            // (c) device address of byte `off`
  uint32_t perms;          // (c) ZX_BTI_PERM_*
  vmo_pin_t pin;           // the VM side (vmo.h)
  pmt_state_t state;       // (bti lock)
  uint32_t unpinning;      // (bti lock) zx_pmt_unpin calls under way
  bool closed;             // (bti lock) its handle is gone
  pmt_t* next;             // (bti lock) the BTI's list, while not done
  pmt_t* prev;
};

struct bti {
  zx_object_t base;
  zx_object_t* iommu;      // (c) holds a reference
  uint64_t id;             // (c)
  pmt_t* pmts;             // (lock) pinned and quarantined PMTs, each holding a reference
  uint64_t pmo_count;      // (lock)
  uint64_t quarantine_count;  // (lock)
  bool closed;             // (lock) the last handle is gone
};

// ---- IOMMU ----

static void plain_destroy(zx_object_t* obj) {
  pthread_mutex_destroy(&obj->lock);
  os_free(obj);
}

static const object_ops_t iommu_ops = {
    .type = ZX_OBJ_TYPE_IOMMU,
    .waitable = false,
    .user_settable = 0,
    .on_zero_handles = NULL,
    .destroy = plain_destroy,
};

zx_object_t* iommu_create(void) {
  zx_object_t* o = os_calloc(1, sizeof(*o));
  if (o) object_init(o, &iommu_ops, ZX_SIGNAL_NONE);
  return o;
}

// ---- PMT ----

static void pmt_destroy(zx_object_t* obj) {
  pmt_t* p = (pmt_t*)obj;
  ZX_ASSERT(p->state == PMT_DONE);
  object_unref(&p->bti->base);
  plain_destroy(obj);
}

static void pmt_on_zero_handles(zx_object_t* obj);

static const object_ops_t pmt_ops = {
    .type = ZX_OBJ_TYPE_PMT,
    .waitable = true,
    .user_settable = 0,
    .on_zero_handles = pmt_on_zero_handles,
    .destroy = pmt_destroy,
};

zx_object_t* pmt_obj(pmt_t* p) { return &p->base; }

// Takes p off its BTI (lock held) if it is not done yet: true if this call did, and
// then the caller releases the pin, the hold and the list's reference.
static bool pmt_unlink_locked(pmt_t* p) {
  bti_t* b = p->bti;
  if (p->state == PMT_DONE) return false;
  if (p->state == PMT_QUARANTINED) b->quarantine_count--;
  b->pmo_count--;
  p->state = PMT_DONE;
  if (p->prev) {
    p->prev->next = p->next;
  } else {
    b->pmts = p->next;
  }
  if (p->next) p->next->prev = p->prev;
  p->next = p->prev = NULL;
  return true;
}

static void pmt_finish(pmt_t* p) {
  vmo_unpin(&p->pin);
  object_unhold(&p->vmo->obj);
  object_unref(&p->base);  // the BTI list's
}

void pmt_release(pmt_t* p) {
  object_lock(&p->bti->base);
  bool mine = pmt_unlink_locked(p);
  object_unlock(&p->bti->base);
  if (mine) pmt_finish(p);
}

// Closing a PMT without unpinning quarantines it: the device keeps access until the
// BTI's quarantine is released, as on Zircon. A BTI already closed has no quarantine
// left to release, so the pin goes at once (D49).
static void pmt_on_zero_handles(zx_object_t* obj) {
  pmt_t* p = (pmt_t*)obj;
  bti_t* b = p->bti;
  object_lock(&b->base);
  p->closed = true;
  bool release = false;
  if (p->state == PMT_PINNED && p->unpinning == 0) {
    if (b->closed) {
      release = pmt_unlink_locked(p);
    } else {
      p->state = PMT_QUARANTINED;
      b->quarantine_count++;
    }
  }
  object_unlock(&b->base);
  if (release) pmt_finish(p);
}

void pmt_unpin_begin(pmt_t* p) {
  object_lock(&p->bti->base);
  p->unpinning++;
  object_unlock(&p->bti->base);
}

void pmt_unpin_end(pmt_t* p, bool closed) {
  bti_t* b = p->bti;
  object_lock(&b->base);
  p->unpinning--;
  bool release = false;
  if (closed) {
    release = pmt_unlink_locked(p);
  } else if (p->closed && p->state == PMT_PINNED && p->unpinning == 0) {
    // Another thread's close won (the handle was used twice): its outcome stands.
    p->state = PMT_QUARANTINED;
    b->quarantine_count++;
  }
  object_unlock(&b->base);
  if (release) pmt_finish(p);
}

// ---- BTI ----

static void bti_destroy(zx_object_t* obj) {
  bti_t* b = (bti_t*)obj;
  ZX_ASSERT(b->pmts == NULL);
  object_unref(b->iommu);
  plain_destroy(obj);
}

// Drops every quarantined PMT of b (pmt_release for each, outside the lock).
static void release_quarantined(bti_t* b) {
  for (;;) {
    object_lock(&b->base);
    pmt_t* p = b->pmts;
    while (p && p->state != PMT_QUARANTINED) p = p->next;
    bool mine = p && pmt_unlink_locked(p);
    object_unlock(&b->base);
    if (!mine) return;
    pmt_finish(p);
  }
}

static void bti_on_zero_handles(zx_object_t* obj) {
  bti_t* b = (bti_t*)obj;
  object_lock(&b->base);
  b->closed = true;
  object_unlock(&b->base);
  release_quarantined(b);
}

static const object_ops_t bti_ops = {
    .type = ZX_OBJ_TYPE_BTI,
    .waitable = true,
    .user_settable = 0,
    .on_zero_handles = bti_on_zero_handles,
    .destroy = bti_destroy,
};

zx_object_t* bti_obj(bti_t* b) { return &b->base; }

bti_t* bti_create(zx_object_t* iommu, uint64_t bti_id) {
  bti_t* b = os_calloc(1, sizeof(*b));
  if (!b) return NULL;
  object_init(&b->base, &bti_ops, ZX_SIGNAL_NONE);
  object_ref(iommu);
  b->iommu = iommu;
  b->id = bti_id;
  return b;
}

zx_status_t bti_pin(bti_t* b, vmo_t* v, uint64_t off, uint64_t size, uint32_t perms,
                    pmt_t** out, uint64_t* dev) {
  pmt_t* p = os_calloc(1, sizeof(*p));
  if (!p) return ZX_ERR_NO_MEMORY;
  zx_status_t st = vmo_pin(v, off, size, &p->pin);
  if (st != ZX_OK) {
    os_free(p);
    return st;
  }
  bool own = v->physical || v->contiguous;
  uint64_t addr = own ? vmo_paddr(v, off) : vmo_ram_alloc(size, PAGE_SHIFT);
  if (!own && addr == 0) {  // no RAM addresses left
    vmo_unpin(&p->pin);
    os_free(p);
    return ZX_ERR_NO_MEMORY;
  }
  object_init(&p->base, &pmt_ops, ZX_SIGNAL_NONE);
  object_hold(&v->obj);
  object_ref(&b->base);
  p->bti = b;
  p->vmo = v;
  p->off = off;
  p->size = size;
  p->perms = perms;
  p->dev = addr;
  object_lock(&b->base);
  // Zircon refuses new pins once the BTI is closed or while pages are quarantined.
  if (b->closed || b->quarantine_count > 0) {
    object_unlock(&b->base);
    p->state = PMT_DONE;
    vmo_unpin(&p->pin);
    object_unhold(&v->obj);
    object_unref(&p->base);
    return ZX_ERR_BAD_STATE;
  }
  p->state = PMT_PINNED;
  p->next = b->pmts;
  if (b->pmts) b->pmts->prev = p;
  b->pmts = p;
  b->pmo_count++;
  object_ref(&p->base);  // the list's
  object_unlock(&b->base);
  *dev = p->dev;
  *out = p;
  return ZX_OK;
}

void bti_release_quarantine(bti_t* b) { release_quarantined(b); }

void bti_get_info(bti_t* b, zx_info_bti_t* info) {
  object_lock(&b->base);
  info->minimum_contiguity = PAGE_SIZE;
  info->aspace_size = UINT64_MAX;
  info->pmo_count = b->pmo_count;
  info->quarantine_count = b->quarantine_count;
  object_unlock(&b->base);
}

// The PMT of b whose device range holds `addr` and allows `perm` (lock held), else one
// that holds it without, else NULL. Pins of the same physical or contiguous memory
// share addresses: an access needs one pin with its permission (§15), not the latest.
static pmt_t* find_locked(bti_t* b, uint64_t addr, uint32_t perm) {
  pmt_t* any = NULL;
  for (pmt_t* p = b->pmts; p; p = p->next) {
    if (addr < p->dev || addr - p->dev >= p->size) continue;
    if (p->perms & perm) return p;
    if (!any) any = p;
  }
  return any;
}

// One step of a device access: the VMO, offset and length (at most `len`) behind
// `addr`, with a reference on the VMO; or the error.
static zx_status_t dma_step(bti_t* b, uint64_t addr, size_t len, bool write, vmo_t** v,
                            uint64_t* off, size_t* n) {
  object_lock(&b->base);
  uint32_t perm = write ? ZX_BTI_PERM_WRITE : ZX_BTI_PERM_READ;
  pmt_t* p = find_locked(b, addr, perm);
  zx_status_t st = ZX_OK;
  if (!p) {
    st = ZX_ERR_NOT_FOUND;
  } else if (!(p->perms & perm)) {
    st = ZX_ERR_ACCESS_DENIED;
  } else {
    *v = p->vmo;
    object_ref(&p->vmo->obj);
    *off = p->off + (addr - p->dev);
    *n = (size_t)min_u64(len, p->size - (addr - p->dev));
  }
  object_unlock(&b->base);
  return st;
}

zx_status_t bti_dma(bti_t* b, uint64_t addr, void* buf, size_t len, bool write) {
  if (len > UINT64_MAX - addr) return ZX_ERR_NOT_FOUND;
  // First check that every byte is reachable, so that a refused access moves nothing.
  for (uint64_t a = addr, left = len; left > 0;) {
    vmo_t* v;
    uint64_t off;
    size_t n;
    zx_status_t st = dma_step(b, a, left, write, &v, &off, &n);
    if (st != ZX_OK) return st;
    object_unref(&v->obj);
    a += n;
    left -= n;
  }
  for (uint64_t a = addr, done = 0; done < len;) {
    vmo_t* v;
    uint64_t off;
    size_t n;
    zx_status_t st = dma_step(b, a, len - done, write, &v, &off, &n);
    if (st != ZX_OK) return st;  // unpinned meanwhile
    st = write ? vmo_write_user(v, (const uint8_t*)buf + done, off, n)
               : vmo_read_user(v, (uint8_t*)buf + done, off, n);
    object_unref(&v->obj);
    if (st != ZX_OK) return st;
    a += n;
    done += n;
  }
  return ZX_OK;
}
