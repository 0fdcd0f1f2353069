// SPDX-License-Identifier: BSD-3-Clause
// Homes: where a mapped VMO's pages live, so that one kernel mapping shows them all.
//
// Pool pages sit at scattered offsets of the pool's memfd; mapping each at its own
// offset would cost one kernel mapping (VMA) per page, and a process has only 65,530.
// So the first time a content owner (a non-slice VMO) is mapped it gets a home: a
// span of HOME_SPAN bytes of one sparse memfd (os.h), in which slot s holds the
// owner's page at family index base + s. Every mapping of the owner, or of its
// slices, maps the span at the matching offset: one VMA per mapping, whatever happens
// to the pages.
//
// A home page is an ordinary page_t (refs, data) whose memory is its slot; the page
// maps reference it as any other page, so reads, snapshots and attribution need not
// know about homes. Slot s of home h is in one of three states:
//   - empty: a hole in the file; a mapping faults there (mapping.c serves it);
//   - OWN: the owner's map holds h's page for slot s at index base + s (and maybe
//     snapshots share it, at the same index);
//   - CACHE: the file holds a copy of what the owner shows there, which the owner's map
//     does not hold as a home page of its own: zero, a page seen through its backing
//     (one-way children), or a page of another map. Cache memory is not charged to the
//     budget and not committed; it is there so that a mapping can read it.
//
// Invariants (vmo_check.c):
//   H1 memory in slot s is referenced only by h's descriptor for s (never copied by
//      reference elsewhere), and that descriptor is either free (refs == 0) or sits at
//      index base + s of maps of h's family;
//   H2 if the owner is alive, every OWN slot's page is in the owner's map at base + s:
//      a shared OWN page is shared with snapshots at the same index, never held by
//      others while the owner has dropped it (home_unshare moves it away first);
//   H3 a CACHE slot's content equals what the owner shows at base + s; any change of
//      what a family member shows at index i drops every CACHE slot at i in the
//      family's homes (home_invalidate);
//   H4 in every mapping of the owner, a slot is writable in the page tables only if
//      it is OWN, its page is exclusive to the owner and no cache copies it
//      (`cached` clear); everything else is write-protected (mapping.c).
//
// Locking: every field is guarded by the family lock (held exclusively to change).
#ifndef ZXVMO_SRC_VM_HOME_H_
#define ZXVMO_SRC_VM_HOME_H_

#include "os.h"
#include "vmo.h"

#define HOME_SPAN_SHIFT 40u  // a VMO is mappable within its first 1 TiB
#define HOME_SPAN ((uint64_t)1 << HOME_SPAN_SHIFT)
#define HOME_MAX_SLOTS (HOME_SPAN >> PAGE_SHIFT)
#define WIN_SIZE ((uint64_t)OS_CHUNK_SIZE)
#define WIN_PAGES (WIN_SIZE >> PAGE_SHIFT)
#define WIN_WORDS ((WIN_PAGES + 63) / 64)
#define HOME_WINDOWS (HOME_SPAN / WIN_SIZE)
#define HOME_LEAF_BITS 9u
#define HOME_TOP (HOME_WINDOWS >> HOME_LEAF_BITS)

struct mapping;

// A window: WIN_SIZE bytes of the span, viewed by the library (`view`), with the
// descriptors of its slots.
typedef struct home_win {
  struct home* home;
  uint64_t index;              // window number in the span
  uint8_t* view;               // the library's read-write view of the window
  uint64_t cache[WIN_WORDS];   // CACHE slots
  uint64_t punch[WIN_WORDS];   // slots whose memory goes at the next home_flush
  struct home_win* punch_next; // home's list of windows with punch bits
  bool punch_listed;
  page_t desc[WIN_PAGES];      // slot descriptors; desc[i].win == this
} home_win_t;

typedef struct home {
  family_t* fam;
  vmo_t* owner;                // NULL once the owner is gone
  uint64_t base;               // family index of slot 0 (the owner's base)
  uint64_t id;                 // the span is [id << HOME_SPAN_SHIFT, +HOME_SPAN)
  home_win_t** top[HOME_TOP];  // two-level table of windows, created on demand
  // Address space reserved for the views of each leaf's windows (1 GiB of span), so
  // that the views of a large VMO merge into one kernel mapping instead of one per
  // window: NULL if none (views then go anywhere), with its length (at most the
  // owner's size when reserved, rounded up to windows).
  uint8_t* vres[HOME_TOP];
  uint64_t vres_len[HOME_TOP];
  uint64_t nwins;
  uint64_t live;               // descriptors with refs > 0
  uint64_t cached;             // CACHE slots
  struct mapping* maps;        // mappings of the owner and of its slices
  uint64_t nmaps;
  home_win_t* punch_list;
  struct home* f_next;         // the family's homes
  struct home* f_prev;
} home_t;

// The void span: span id 0 is never given to a home, so its file range stays a hole.
// The part of a slice's mapping past the slice's end maps it (mapping.c): accesses
// there fault and are found past the end, instead of showing the root's pages.
#define HOME_VOID_OFF ((uint64_t)0)

// The owner's home, created if needed. ZX_ERR_NO_MEMORY (nothing changed) if
// metadata memory or the OS ran out.
zx_status_t home_get(vmo_t* owner, home_t** out);
// File offset of slot `s`.
static inline uint64_t home_off(const home_t* h, uint64_t s) {
  return (h->id << HOME_SPAN_SHIFT) + (s << PAGE_SHIFT);
}
// The window holding slot `s`, or NULL; with `create`, made if missing (NULL if
// memory ran out).
home_win_t* home_win(home_t* h, uint64_t s, bool create);
static inline uint64_t home_win_slot(const page_t* p) { return (uint64_t)(p - p->win->desc); }
static inline uint64_t home_page_slot(const page_t* p) {
  return p->win->index * WIN_PAGES + home_win_slot(p);
}
// True if `p` is `h`'s page for family index `idx`.
static inline bool home_owns(const home_t* h, const page_t* p, uint64_t idx) {
  return h && p && p->win && p->win->home == h && idx >= h->base &&
         home_page_slot(p) == idx - h->base;
}
static inline bool home_bit(const uint64_t* bits, uint64_t i) {
  return (bits[i / 64] >> (i % 64)) & 1;
}
static inline bool home_is_cache(home_win_t* w, uint64_t s) {
  return w && home_bit(w->cache, s % WIN_PAGES);
}

// Takes the descriptor of slot `s` (its window exists, refs == 0) for the owner's map:
// refs = 1. A CACHE slot becomes OWN with its content; an empty one reads as zero. The
// caller has charged the page to the budget (pool_charge).
page_t* home_take(home_t* h, uint64_t s);
// Marks slot `s` (window exists, descriptor free) as CACHE: its file page now holds a
// copy of what the owner shows.
void home_cache_set(home_t* h, uint64_t s);
// Drops every CACHE slot at family indices [lo, hi) in all of the family's homes:
// what a member shows there has changed (H3).
void home_invalidate(family_t* fam, uint64_t lo, uint64_t hi);
// Drops every CACHE slot of `h` (its last mapping is gone).
void home_drop_caches(home_t* h);
// Frees the memory of slots released during the operation (their pages were freed or
// their cache dropped) and the homes that nothing uses any more. Run at the end of
// every exclusive operation (vmo_after_op_locked), before the family lock is released:
// until then a mapping may still show a freed slot's old bytes.
void home_flush(family_t* fam);

// The owner is going away (its map is being settled): the home stays while pages of
// it are still referenced.
void home_owner_gone(vmo_t* owner);

// Copy-before-write (H2): `p` is c's own home page at `idx`, shared with other maps,
// and c's path to idx is exclusive. Gives every other map referencing it, at the same
// index, the page `copy` instead (a copy of p's content, refs 0 on entry), so that p
// becomes exclusive to c and can be written in place.
void home_relocate(vmo_t* c, uint64_t idx, page_t* p, page_t* copy);
// Number of c's own home pages in [lo, hi) that other maps share: each needs a pool
// page before c may drop it (home_unshare_range).
uint64_t home_count_shared(vmo_t* c, uint64_t lo, uint64_t hi);
// Relocates (home_relocate) every shared own home page of c in [lo, hi), taking the
// copies from `r`; c's paths there must be exclusive... c's leaves for those indices
// are made exclusive here, so it returns false (nothing changed) if metadata memory
// ran out.
bool home_unshare_range(vmo_t* c, uint64_t lo, uint64_t hi, page_reservation_t* r);

// fork(): takes (releases) the span-id lock (src/vmar/fork.c).
void home_fork_lock(void);
void home_fork_unlock(void);

// Write-protects family indices [lo, hi) in every mapping of `h` (mapping.c): pages
// there have become shared (a snapshot) or copied by a cache (H4).
// False if the kernel had no memory for page tables (some ranges may be protected).
bool home_write_protect(home_t* h, uint64_t lo, uint64_t hi);

#endif  // ZXVMO_SRC_VM_HOME_H_
