// SPDX-License-Identifier: BSD-3-Clause
// IOMMUs, bus transaction initiators and pinned-memory tokens (ZX_OBJ_TYPE_IOMMU, BTI,
// PMT), and the device side of a BTI (zxvmo_dma_read / zxvmo_dma_write).
//
// The emulated IOMMU is Zircon's dummy one: it reports a page of minimum contiguity and
// the whole 64-bit device address space. A pin of a physical or contiguous VMO hands
// out its emulated physical addresses; a pin of any other VMO gets a fresh contiguous
// range of emulated RAM addresses for its life (docs/behavior.md D48). A device
// reaches pinned memory through the pinned VMO at the pinned offset, so it sees
// exactly what the VMO shows.
//
// A PMT is pinned, quarantined (its handle was closed without zx_pmt_unpin: the pin
// stays, and the device can still reach it, until zx_bti_release_quarantine), or done.
// Its BTI lists it, holding a reference, until it is done; it holds a reference on its
// BTI and a hold (as a handle would) on its VMO.
//
// Locking: each BTI's object lock guards its PMT list, counts and every PMT's `state`
// and `unpinning`. It is taken with no family lock held; VMO calls (pin, unpin, reads
// and writes for the device) are made after releasing it.
#ifndef ZXVMO_SRC_OBJECT_BTI_H_
#define ZXVMO_SRC_OBJECT_BTI_H_

#include "object.h"
#include "vmo.h"

typedef struct bti bti_t;
typedef struct pmt pmt_t;

// A new IOMMU, BTI: the caller owns the one reference; NULL if memory ran out.
zx_object_t* iommu_create(void);
bti_t* bti_create(zx_object_t* iommu, uint64_t bti_id);
zx_object_t* bti_obj(bti_t* b);
static inline bti_t* bti_from_obj(zx_object_t* o) { return (bti_t*)o; }

// Pins [off, off + size) of v (page aligned, size > 0, checked by the caller) through
// b with ZX_BTI_PERM_* `perms`, and makes its PMT (*out: the caller owns one
// reference) and its device address range (*dev). ZX_ERR_BAD_STATE if b's last
// handle is closed or it has quarantined PMTs (as Zircon refuses then); the errors of
// vmo_pin; ZX_ERR_NO_MEMORY.
zx_status_t bti_pin(bti_t* b, vmo_t* v, uint64_t off, uint64_t size, uint32_t perms,
                    pmt_t** out, uint64_t* dev);
zx_object_t* pmt_obj(pmt_t* p);
// Undoes bti_pin for good (a pinned or quarantined PMT); does nothing if done already.
void pmt_release(pmt_t* p);
// zx_pmt_unpin's bracket around closing the PMT's handle: while an unpin is under
// way, closing the handle does not quarantine the PMT. pmt_unpin_end(p, closed) ends
// it: if this thread's close worked it releases the pin, otherwise it does what the
// close that won would have done.
void pmt_unpin_begin(pmt_t* p);
void pmt_unpin_end(pmt_t* p, bool closed);

// zx_bti_release_quarantine.
void bti_release_quarantine(bti_t* b);
// ZX_INFO_BTI.
void bti_get_info(bti_t* b, zx_info_bti_t* info);
// The device's access to [addr, addr + len) through b: ZX_ERR_NOT_FOUND if some byte
// is not pinned through b, ZX_ERR_ACCESS_DENIED if its pin lacks the permission, or
// what reading or writing the VMO gives. `buf` may be anywhere the program can reach.
zx_status_t bti_dma(bti_t* b, uint64_t addr, void* buf, size_t len, bool write);

#endif  // ZXVMO_SRC_OBJECT_BTI_H_
