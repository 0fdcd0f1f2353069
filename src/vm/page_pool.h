// SPDX-License-Identifier: BSD-3-Clause
// The page pool: where every data page of every VMO comes from.
//
// A page is a PAGE_SIZE block inside an os chunk (memfd-backed, see os.h) plus a
// descriptor. Descriptors are referenced from page-map leaves; `refs` counts those
// leaf slots. All leaf slots referencing one page belong to one family, so `refs` is
// guarded by that family's lock, not by the pool.
//
// Budget and reservations. An operation that will need pages first reserves exactly
// as many as it needs (pool_reserve): that charges the budget and takes the pages
// out of the pool in one step, so the operation itself cannot fail half-way and
// "fails cleanly, changing nothing" is simple to keep. Pages not used are given back
// with pool_unreserve. pages_in_use counts pages handed out, reserved ones included
// from the moment they are taken.
//
// Free pages are kept for reuse, those still holding memory first (a thread reuses the
// pages it freed itself before anyone else's); beyond a limit the pool gives their
// memory back to the OS in address-sorted runs, and such pages read as zero. Every
// function here may be called from any thread, with or without family locks held;
// page frees and small reservations normally take no shared lock (per-thread caches,
// see page_pool.c). pool_pages_in_use() is exact whenever no reservation or free is in
// progress; no reservation takes pages_in_use past the budget, even with concurrent
// reservations.
#ifndef ZXVMO_SRC_PAGE_POOL_H_
#define ZXVMO_SRC_PAGE_POOL_H_

#include "internal.h"

struct home_win;

typedef struct page {
  uint8_t* data;        // (c) PAGE_SIZE bytes in a pool chunk, or in a home's view
  // NULL for pool pages. For the pages of a home (home.h): the window whose slot this
  // descriptor is; such a page never enters the pool's lists, and freeing it gives
  // its slot back to the home.
  struct home_win* win; // (c)
  uint32_t refs;        // (family lock) leaf slots referencing this page; 0 when free
  // These three belong to whoever holds the free page: the pool lock on the shared
  // lists, the owning thread in its cache or its reservation.
  uint8_t zeroed;       // memory known to read as zero
  uint8_t backed;       // holds memory (0 only for a free page whose memory was given back)
  // (family lock) A home page that a CACHE slot of another home copies (home.h, H4):
  // writing it in place must first drop those copies.
  uint8_t cached;
  // (family lock) Pages of a pager VMO (vmo_pager.c): PAGE_CLEAN as the pager supplied
  // them, PAGE_DIRTY once written, PAGE_AWAITING_CLEAN while written back (a write
  // makes it PAGE_DIRTY again). Fresh pages start clean; elsewhere it is unused.
  uint8_t dirty;
  // A pager VMO's page: the evictor's passes it may survive (vmo_pager.c's clock).
  // Set by readers holding the family lock shared, so atomic.
  _Atomic uint8_t referenced;
  union {
    struct page* next;  // free list, cache or reservation link
    struct {            // (family lock) scratch for attribution and checking
      uint64_t epoch;
      uint64_t count;
    } s;
  } u;
} page_t;

enum { PAGE_CLEAN = 0, PAGE_DIRTY = 1, PAGE_AWAITING_CLEAN = 2 };
// page_t.referenced after a read (a supply gives 1).
#define PAGE_READ_CREDIT 3

// The shared zero page: a marker that a page-map slot reads as zero. It hides a
// one-way parent's page without holding memory. It is never counted, never freed,
// and writing through it allocates a real page.
extern page_t g_zero_page;
static inline bool page_is_marker(const page_t* p) { return p == &g_zero_page; }

// A set of pages taken from the pool by pool_reserve.
typedef struct page_reservation {
  page_t* list;
  uint64_t count;
} page_reservation_t;

// Takes `n` pages out of the pool for the caller. ZX_ERR_NO_MEMORY if that would
// exceed the budget or the OS has no memory; then nothing was taken, and the pool
// holds no more memory or address space than before (growth it did is given back).
// The reservation belongs to the calling thread: the same thread takes from it and
// gives back the rest.
zx_status_t pool_reserve(uint64_t n, page_reservation_t* r);
// Returns the pages of `r` not used.
void pool_unreserve(page_reservation_t* r);
// Takes one page of `r` (which must not be empty) and fills it with zeros / a copy.
page_t* pool_take_zero(page_reservation_t* r);
page_t* pool_take_copy(page_reservation_t* r, const page_t* src);
// The same, copying PAGE_SIZE bytes at `data` (another view of a page's memory).
page_t* pool_take_copy_of(page_reservation_t* r, const void* data);
// Takes one page whose contents the caller overwrites entirely.
page_t* pool_take_raw(page_reservation_t* r);

static inline void page_ref(page_t* p) {
  if (!page_is_marker(p)) p->refs++;
}
// Drops one reference; the page goes back to the pool when none remain.
void page_unref(page_t* p);

// Charges / uncharges `n` pages to pages_in_use and the budget without taking pool
// pages: for memory a home provides (home.h). ZX_ERR_NO_MEMORY if the budget forbids.
zx_status_t pool_charge(uint64_t n);
void pool_uncharge(uint64_t n);
// Charges without asking the budget: for a page that replaces one being freed in the
// same step (a move), so that the total does not grow.
void pool_charge_force(uint64_t n);
// fork(): takes (releases) the pool's locks, so that none is held half-way in the
// child (src/vmar/fork.c).
void pool_fork_lock(void);
void pool_fork_unlock(void);
// Implemented by home.c: a home page's last reference is gone.
void home_page_free(page_t* p);

void pool_set_budget(uint64_t pages);
uint64_t pool_get_budget(void);
uint64_t pool_pages_in_use(void);
// Fills the pool-related fields of the stats. pages_peak is the largest pages_in_use
// observed: exact while one thread uses the pool, sampled whenever a reservation goes
// to the shared lists when several do.
struct zxvmo_stats;
void pool_fill_stats(struct zxvmo_stats* s);
void pool_count_copy(void);
// For tests: how many times the shared free lists' lock and the registry lock have
// been taken so far, this call not counted. Page frees and small
// reservations that the caller's cache serves take neither.
void pool_lock_counts(uint64_t* shared, uint64_t* registry);

#endif  // ZXVMO_SRC_PAGE_POOL_H_
