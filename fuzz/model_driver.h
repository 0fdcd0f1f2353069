// SPDX-License-Identifier: BSD-3-Clause
// The reference model of driver memory (docs/behavior.md §15), for differential testing
// (format 4 of the driver, driver_dev.c). Like model.c it is written from the reference
// alone and shares nothing with src/.
//
// The emulated machine as the model sees it:
// * Physical memory: the driver owns a window of M_PHYS_PAGES pages of the emulated
//   physical address space (a different one per driver, so drivers on other threads
//   never share bytes); the model keeps the window's bytes. A physical VMO is a root
//   with `phys` set and `paddr` its first byte's physical address: it has no page
//   records (§15.2: it commits nothing) and its bytes are the window's, so two physical
//   VMOs over the same range show the same bytes.
// * Contiguous VMOs: roots with `contig` set, every page a record from creation.
// * BTIs: M_BTIS slots, each holding one BTI object at a time (a slot's generation
//   counts the objects); PMTs: pins of a VMO range through a BTI with permissions and
//   the device address the library gave (checked: a physical or contiguous VMO pins at
//   its own addresses; any other VMO at a fresh RAM range).
// Handles to BTIs, as the entry points take them: 0..M_BTIS-1 a slot's handle (every
// right), M_BTI_WEAK a handle to slot 0's BTI with INSPECT | READ | DUPLICATE only
// (no MAP, no WRITE), M_H_INVALID and M_H_WRONG_TYPE as in model.h.
#ifndef ZXVMO_FUZZ_MODEL_DRIVER_H_
#define ZXVMO_FUZZ_MODEL_DRIVER_H_

#include "model.h"

#define M_PHYS_PAGES 16
#define M_MAX_PMTS 16
#define M_BTIS 2
#define M_BTI_WEAK M_BTIS
#define M_BTI_WEAK_RIGHTS (ZX_RIGHT_INSPECT | ZX_RIGHT_READ | ZX_RIGHT_DUPLICATE)
// §15: RAM (contiguous VMOs, pins of other VMOs) starts at 1 TiB.
#define M_RAM_BASE ((uint64_t)1 << 40)

typedef struct m_pmt {
  bool used;
  bool quarantined;     // its handle was closed without unpinning (§15.7)
  int bti;              // slot
  uint32_t bti_gen;     // the slot's BTI object it was pinned through
  int vmo;              // the VMO pinned (maybe a slice); the pin holds it alive
  uint64_t off, pages;  // pinned pages of `vmo`
  uint32_t perms;       // ZX_BTI_PERM_*
  uint64_t dev;         // device address of its first page
} m_pmt_t;

typedef struct m_drv {
  uint8_t* phys;        // M_PHYS_PAGES pages: the window's bytes
  uint64_t window;      // physical address of the window's first byte
  m_pmt_t pmt[M_MAX_PMTS];
  uint32_t bti_gen[M_BTIS];
  uint64_t ram_seen;    // end of the highest RAM address handed out so far
} m_drv_t;

void m_drv_init(model_t* m, uint64_t window);
void m_drv_fini(model_t* m);

// ---- hooks for model.c (each a rule of §4, §6, §7, §8 or §15) ----
// Whether a page in [lo, hi) of non-slice c is pinned (through c or a slice of it).
bool m_drv_pinned(const model_t* m, const mvmo_t* c, uint64_t lo, uint64_t hi);
// Page x of non-slice physical c: its bytes in the window.
uint8_t* m_drv_phys_page(model_t* m, const mvmo_t* c, uint64_t x);
// §15.2/§15.3: the address LOOKUP must give for page `page` of VMO `vmo`, if it is a
// physical or contiguous VMO (or a slice of one) whose address is known.
bool m_drv_addr(model_t* m, int vmo, uint64_t page, uint64_t* addr);

// ---- entry points (status zxvmo must return; outputs set on ZX_OK) ----
// `rsrc`: 0 the root resource, M_H_INVALID, M_H_WRONG_TYPE.
zx_status_t m_phys_create(model_t* m, int rsrc, uint64_t paddr, uint64_t size, bool out_null,
                          int* out);
zx_status_t m_contig_create(model_t* m, int bti, uint64_t size, uint32_t align_log2,
                            bool out_null, int* out);
// The library gave contiguous VMO `vmo` physical address `paddr` (its LOOKUP of page
// 0): false if that cannot be (unaligned, not in RAM, overlapping earlier RAM).
bool m_contig_place(model_t* m, int vmo, uint64_t paddr, uint32_t align_log2);
// zx_bti_pin. M_UNMODELLED: a pager-backed VMO that would be committed (the driver
// then makes no call). *pmt: the new PMT's slot, unplaced until m_pmt_place.
zx_status_t m_bti_pin(model_t* m, int bti, uint32_t options, int h, uint64_t off,
                      uint64_t size, bool addrs_null, uint64_t num_addrs, bool pmt_null,
                      int* pmt);
// The library's device address for the new PMT: false if it is not the one §15.6 and
// D48 require.
bool m_pmt_place(model_t* m, int pmt, uint64_t dev);
// zx_pmt_unpin of a live PMT (OK), and closing its handle (quarantine, §15.7).
void m_pmt_unpin(model_t* m, int pmt);
void m_pmt_close(model_t* m, int pmt);
zx_status_t m_bti_release_quarantine(model_t* m, int bti);
// The slot's BTI handle was closed (a new BTI takes the slot): its quarantine goes.
void m_bti_closed(model_t* m, int slot);
zx_status_t m_bti_info(model_t* m, int bti, uint64_t* pmo_count, uint64_t* quarantine_count);
// zxvmo_dma_read / _write: `buf` is read (write) or filled (read).
zx_status_t m_dma(model_t* m, int bti, uint64_t addr, uint8_t* buf, uint64_t len,
                  bool buf_null, bool write);
zx_status_t m_set_cache_policy(model_t* m, int h, uint32_t policy);
// Number of live or quarantined PMTs.
int m_pmt_count(const model_t* m);

#endif  // ZXVMO_FUZZ_MODEL_DRIVER_H_
