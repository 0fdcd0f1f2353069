// SPDX-License-Identifier: BSD-3-Clause
/* zxvmo: library-specific extras (statistics, page budget, debugging). */
#ifndef ZXVMO_ZXVMO_H_
#define ZXVMO_ZXVMO_H_

#include <stdint.h>
#include <stdio.h>
#include <zircon/types.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct zxvmo_stats {
  uint64_t pages_in_use;      /* data pages currently held for VMO contents (not metadata, not pooled free pages) */
  uint64_t pages_pooled;      /* free pages kept by the pool for reuse */
  uint64_t page_budget;       /* current budget in pages (0 = unlimited) */
  uint64_t pages_peak;        /* high-water mark of pages_in_use */
  uint64_t cow_page_copies;   /* pages copied because a shared page was written */
  uint64_t zero_fills;        /* fresh zero pages committed */
  uint64_t tree_nodes;        /* page-map nodes alive (metadata) */
  uint64_t tree_node_copies;  /* page-map nodes copied by path copying */
  uint64_t vmos_alive;        /* VMO objects alive */
  uint64_t handles_alive;     /* handle table entries in use */
  /* Bytes of memory the page pool holds: pages in use plus free pages that still hold
   * memory (recently freed ones and fresh ones from a new chunk), i.e. what the pool
   * costs the system. Free pages whose memory was given back to the OS are not
   * counted. With no operation in progress, at least pages_in_use pages' worth. */
  uint64_t pool_bytes_held;
  /* Bytes of address space mapped for the pool's chunks (2 MiB each). */
  uint64_t pool_bytes_mapped;
} zxvmo_stats_t;

/* Fills *out with a snapshot of the library's counters. */
zx_status_t zxvmo_get_stats(zxvmo_stats_t* out);

/*
 * Page budget: the most data pages the library may hold; 0 = unlimited.
 * Also read once, at first use, from the environment variable
 * ZXVMO_PAGE_BUDGET (a page count). Setting it below pages_in_use is allowed:
 * later allocations fail with ZX_ERR_NO_MEMORY until usage drops.
 */
zx_status_t zxvmo_set_page_budget(uint64_t pages);

/*
 * Debug: walks every live VMO family and verifies all invariants. Returns
 * ZX_OK, or ZX_ERR_INTERNAL after printing the first violation to stderr.
 */
zx_status_t zxvmo_check_invariants(void);

/*
 * Debug: prints a readable dump of the VMO tree containing `vmo` (all related
 * VMOs, their windows and page-map statistics) to `out`.
 */
zx_status_t zxvmo_dump(zx_handle_t vmo, FILE* out);

/*
 * Emulated driver memory. A new handle to a resource covering the whole emulated
 * machine: the stand-in for the root (and system) resource that Fuchsia drivers and
 * their tests get from their environment. zx_resource_create() narrows it.
 */
zx_handle_t zxvmo_root_resource(void);

/*
 * The device side of a BTI: read or write `len` bytes at device address `addr`, as a
 * device behind `bti` would. The range must lie in memory pinned through `bti` (by a
 * live or quarantined PMT) with the permission the access needs.
 * ZX_ERR_NOT_FOUND: some byte is not pinned through `bti`; ZX_ERR_ACCESS_DENIED: the pin
 * does not allow the access (a write through a ZX_BTI_PERM_READ-only pin).
 */
zx_status_t zxvmo_dma_read(zx_handle_t bti, zx_paddr_t addr, void* buf, size_t len);
zx_status_t zxvmo_dma_write(zx_handle_t bti, zx_paddr_t addr, const void* buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* ZXVMO_ZXVMO_H_ */
