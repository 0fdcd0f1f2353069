// SPDX-License-Identifier: BSD-3-Clause
// The reference model of zxvmo's VMO semantics, for differential testing.
//
// An independent oracle: everything here is derived from the behaviour reference
// (docs/behavior.md, cited by section as §N), from the decisions recorded in
// docs/DESIGN.md ("Decisions") where the reference is silent, and from Zircon where
// both are silent. Nothing is taken from src/: the point is that a mistake in the
// library's reading of the reference shows up as a divergence instead of being
// copied into the model.
//
// Deliberately naive, so that it is obviously right rather than fast: every VMO is a
// flat array of page slots; a snapshot copies the slot array eagerly; a slice aliases
// its root's slots; a one-way child reads through its backing where it has no slot.
// Page identity is explicit: a committed page is a refcounted record, and a slot
// points at a record (or at the zero marker, which hides a backing without holding
// memory). That makes attribution (who shares which page) and pages_in_use (how many
// distinct pages are held) directly countable.
//
// The page size is the library's, read once from zx_system_get_page_size() (§1):
// nothing here assumes 4096.
//
// The model also carries its own handle table and rights, so each entry point below
// returns the exact status the library must return for the same call. Handles are
// small indices (0..M_MAX_HANDLES-1); M_H_INVALID stands for a closed/invalid handle
// and M_H_WRONG_TYPE for a handle to a non-VMO object.
//
// A few calls the reference defines are outside the model (§16: REFERENCE and
// SNAPSHOT_MODIFIED children, DISCARDABLE and UNBOUNDED VMOs): for those the entry
// points return M_UNMODELLED once every check the model does know has passed, and the
// driver then only makes sure the library does not crash.
//
// Known library bugs: where the library is known (and reported) to deviate from the
// reference, the model can follow the library instead, so that the rest can still be
// fuzzed while the fix is pending. Each such place is one bit of M_KNOWN_BUGS below,
// tested as `m_tolerates(m, M_BUG_...)`. They are tolerated by default; with
// ZXVMO_FUZZ_STRICT=1 in the environment none is, and the model is the reference
// alone. When the library is fixed, delete the bit and its one use.
//
// Mappings (§12): the model keeps one address range of its own (the driver's sub-VMAR,
// M_VMAR_PAGES pages) and a list of mapping records in it, each a window of pages of one
// VMO with a protection. A mapping shows its VMO's bytes live (it holds no bytes of its
// own: reading through it is reading the VMO), keeps the VMO alive (a VMO is alive
// while it has handles or mappings, §12) and counts for num_mappings. Where each
// mapping lands is the library's choice (the reference fixes no placement): the driver
// tells the model (m_map_place) after checking the address is free.
//
// Not thread safe: one model per thread.
#ifndef ZXVMO_FUZZ_MODEL_H_
#define ZXVMO_FUZZ_MODEL_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <zircon/types.h>

#define M_MAX_VMOS 96
#define M_MAX_HANDLES 16
#define M_H_INVALID (-1)
#define M_H_WRONG_TYPE (-2)
// Not a Zircon status: "the reference defines this call, the model does not".
#define M_UNMODELLED ((zx_status_t)0x7fff0001)
#define M_NAME_LEN 32  // ZX_MAX_NAME_LEN (§10: name[32])
#define M_MAX_MAPS 32  // mapping records at most (splits included)
#define M_VMAR_PAGES 512  // pages of the model's address range

// M_BUG_MAP_FAR_OFFSET: zx_vmar_map of a VMO at an offset of 1 TiB or more (past its
// end, which Zircon accepts) fails with ZX_ERR_NO_MEMORY: a mapped VMO's pages live in
// a span of 1 TiB (docs/behavior.md D29), a documented limit. Tolerated by mapping such
// offsets only where vmo_offset + len overflows. Reproducer:
// tests/regressions/map-far-past-vmo-end.bin.
#define M_BUG_MAP_FAR_OFFSET (1u << 1)
#define M_KNOWN_BUGS (M_BUG_MAP_FAR_OFFSET)

typedef struct mrec {
  uint32_t refs;        // slots (of any VMO) pointing at this record
  uint32_t id;          // for traces
  uintptr_t addr;       // address the library reported for it via LOOKUP (0: none yet)
  uint64_t mark;        // scratch for attribution walks
  uint64_t sharers;     // scratch: holders whose view includes this record
  struct mrec* next;    // live-record list
  struct mrec* prev;
  uint8_t bytes[];      // one page (model_t.page bytes)
} mrec_t;

typedef enum mkind { MK_ROOT, MK_SNAPSHOT, MK_ONEWAY, MK_SLICE } mkind_t;

// Pager VMOs (zx_pager_create_vmo): the state of each page of the pager VMO (a root).
// ABSENT: never supplied (or dropped): an access asks the pager service for it. CLEAN,
// DIRTY, AWAIT (write-back begun): a present page (its slot holds a record, or the zero
// marker for a page the service supplied as zeros). DZERO, AWAITZ: a zero range (the
// slot is empty, it reads zero and asks nothing), dirty or being written back.
enum { PS_ABSENT, PS_CLEAN, PS_DIRTY, PS_AWAIT, PS_DZERO, PS_AWAITZ };

typedef struct mvmo {
  bool used;            // entry in use (alive, or dead root kept for its slices)
  bool alive;           // has open handles
  mkind_t kind;
  bool legacy;          // made by zx_vmo_clone
  bool resizable;
  bool immutable;       // made with SNAPSHOT | NO_WRITE (§5)
  uint32_t seq;         // creation number, names the VMO in traces ("vmo#seq")
  uint64_t koid;        // set by the driver from the library's answer
  char name[M_NAME_LEN];
  uint32_t handles;     // open handles
  int parent;           // user-tree parent (alive), or -1
  uint64_t pages;       // size in pages
  uint64_t content_size;
  uint64_t acc;         // accumulated byte offset from the family origin (COW chain)
  mrec_t** slots;       // non-slice: `pages` own slots (NULL, marker or record)
  int backing;          // ONEWAY: VMO seen through, or -1
  uint64_t boff;        // ONEWAY: offset in backing, pages
  uint64_t cut;         // ONEWAY: pages >= cut never show the backing
  int root;             // SLICE: the non-slice VMO it windows
  uint64_t soff;        // SLICE: offset in root, pages
  uint32_t nslices;     // non-slice: live slices windowing it
  uint32_t maps;        // mapping records of this VMO (§12: alive while handles or maps)
  // Pager VMOs. `pbacked` is set on the pager VMO and every VMO made from it (ZX_INFO
  // flag PAGER_BACKED, no DECOMMIT, no SNAPSHOT); the rest only on the pager VMO.
  bool pbacked;
  bool pager;           // the pager VMO itself (a root)
  bool trap_dirty;      // made with ZX_VMO_TRAP_DIRTY
  bool detached;        // zx_pager_detach_vmo, its pager closed, or its last handle closed
  bool modified;        // zx_pager_query_vmo_stats' MODIFIED
  // MODIFIED is not known: a write through a mapping met only pages already dirty (and
  // writable there), so the library saw no fault (the contract is silent on whether
  // such writes count). Until the next reset of the stats, MODIFIED is not compared.
  bool mod_unknown;
  bool may_fail;        // the seed marks some pages as failing (the service FAILs them)
  uint8_t seed;         // the service's content: m_pager_byte(seed, offset)
  uint32_t pgen;        // the pager (m->pager_gen) that serves it
  uint8_t* pst;         // `pages` PS_* states
  // Driver memory (§15, model_driver.h). `phys`, `contig` and `cache` are copied to
  // slices (they share the root's memory); `paddr` is the root's: the physical address
  // of page 0 (phys: in the driver's window; contig: learned from the library).
  bool phys;            // a physical VMO or a slice of one
  bool contig;          // a contiguous VMO or a slice of one
  uint32_t cache;       // ZX_CACHE_POLICY_* (0: CACHED)
  uint64_t paddr;
  uint32_t pins;        // PMTs (live or quarantined) pinning this VMO: they keep it alive
  // Discardable VMOs (§16.2, model_ref.h): roots only; no child of any kind.
  bool discardable;
  uint32_t locks;       // LOCK/TRY_LOCK not yet UNLOCKed
  bool reclaimable;     // unlocked to zero at least once since the last LOCK
  bool discarded;       // its pages went; until the next LOCK
  uint64_t unlocked_at; // m->unlock_clock at the UNLOCK that made it reclaimable
  // A REFERENCE child (§16.1, model_ref.h): kind MK_SLICE over all of `root` (soff 0),
  // whose pages, content size and resizability follow the root's (m_ref_sync).
  bool ref;
} mvmo_t;

// A mapping record (§12): pages [base, base+pages) of the model's range show pages
// [voff, voff+pages) of VMO `vmo`.
typedef struct mmap {
  bool used;
  bool placed;          // base is known (set by m_map_place unless SPECIFIC)
  int vmo;
  uint32_t seq;         // names it in traces ("map#seq")
  uint64_t base;        // first page, in the model's range
  uint64_t pages;
  uint64_t voff;        // VMO page shown at base
  uint32_t perms;       // ZX_VM_PERM_READ / _WRITE now
  uint32_t max_perms;   // what the VMO handle allowed when it was mapped
} mmap_t;

typedef struct mhandle {
  bool used;
  int vmo;
  zx_rights_t rights;
} mhandle_t;

typedef struct model {
  uint64_t page;        // zx_system_get_page_size()
  uint64_t max_size;    // §1: the largest multiple of 32 pages that fits in 64 bits
  mvmo_t v[M_MAX_VMOS];
  mhandle_t h[M_MAX_HANDLES];
  mrec_t* live;         // every record with refs > 0
  uint64_t nlive;
  uint32_t next_rec_id;
  uint32_t next_seq;
  uint64_t epoch;
  uint32_t tolerated;   // M_BUG_* bits followed as the library does (see above)
  mmap_t maps[M_MAX_MAPS];
  uint32_t next_map_seq;
  bool pager_open;      // the driver's current pager handle is open
  uint32_t pager_gen;   // counts the pagers made
  struct m_drv* drv;    // driver memory (model_driver.h), or NULL
  uint64_t unlock_clock;  // counts UNLOCKs that made a discardable VMO reclaimable
} model_t;

typedef struct m_info {
  int vmo;              // model VMO id
  uint64_t size_bytes;
  int parent;           // model id or -1
  uint64_t num_children;
  uint32_t flags;
  zx_rights_t rights;
  char name[M_NAME_LEN];
  uint64_t committed, priv, scaled, frac;
  uint32_t cache_policy;
} m_info_t;

// Reads the page size and checks the model against the reference's own worked
// examples (§2 rights, §10 attribution); aborts with a message if it disagrees.
void m_init(model_t* m);
// Removes every mapping and closes every handle; afterwards nlive must be 0.
void m_reset(model_t* m);

// Each returns the status zxvmo must return (or M_UNMODELLED); out parameters are
// set on ZX_OK.
zx_status_t m_vmo_create(model_t* m, uint64_t size, uint32_t options, int* out);
zx_status_t m_vmo_create_child(model_t* m, int h, uint32_t options, uint64_t offset,
                               uint64_t size, bool out_null, int* out);
zx_status_t m_vmo_clone(model_t* m, int h, uint32_t options, uint64_t offset, uint64_t size,
                        bool out_null, int* out);
zx_status_t m_vmo_read(model_t* m, int h, uint8_t* buf, uint64_t off, uint64_t len);
zx_status_t m_vmo_write(model_t* m, int h, const uint8_t* buf, uint64_t off, uint64_t len);
zx_status_t m_vmo_get_size(model_t* m, int h, uint64_t* size);
zx_status_t m_vmo_set_size(model_t* m, int h, uint64_t size);
// LOOKUP: `recs` receives one record per page (`nbuf` entries available).
zx_status_t m_vmo_op_range(model_t* m, int h, uint32_t op, uint64_t off, uint64_t len,
                           bool buf_null, size_t nbuf, mrec_t** recs);
zx_status_t m_handle_duplicate(model_t* m, int h, zx_rights_t rights, int* out);
zx_status_t m_handle_close(model_t* m, int h);
zx_status_t m_handle_rights(model_t* m, int h, zx_rights_t* rights, int* vmo);
zx_status_t m_vmo_info(model_t* m, int h, m_info_t* out);
zx_status_t m_get_content_size(model_t* m, int h, uint64_t* out);
zx_status_t m_set_content_size(model_t* m, int h, uint64_t cs);
// ZX_PROP_NAME (needs SET_PROPERTY; longer names are cut to 31 bytes, as on Zircon).
zx_status_t m_set_name(model_t* m, int h, const char* name);
// zx_vmo_replace_as_executable succeeded on h: Zircon's new handle has h's rights
// plus EXECUTE (the driver keeps the model's handle index).
void m_add_execute(model_t* m, int h);
// zx_object_wait_one(h, ZX_VMO_ZERO_CHILDREN, 0): ZX_OK when asserted, else TIMED_OUT.
zx_status_t m_wait_zero_children(model_t* m, int h, bool* asserted);

// ---- mappings (§12) ----
// Addresses and lengths are byte offsets into the model's range (the driver adds its
// VMAR's base). The driver makes only calls whose VMAR checks are not in question
// (its VMAR is valid, has every right needed and CAN_MAP_READ/WRITE/SPECIFIC).

// zx_vmar_map(vmar, perms [| SPECIFIC], vmar_off, h, vmo_off, len): *out is the new
// record; unless SPECIFIC it is unplaced until m_map_place.
zx_status_t m_vmar_map(model_t* m, int h, uint32_t perms, bool specific, uint64_t vmar_off,
                       uint64_t vmo_off, uint64_t len, int* out);
// The library put mapping `id` at byte offset `off`: false if that is not a free,
// aligned range inside the model's range (a divergence).
bool m_map_place(model_t* m, int id, uint64_t off);
// zx_vmar_unmap: removes what the range covers, splitting records it cuts.
zx_status_t m_vmar_unmap(model_t* m, uint64_t off, uint64_t len);
// M_UNMODELLED: the range has both a gap (NOT_FOUND) and a mapping that may not get
// `perms` (ACCESS_DENIED), and the reference does not order the two; either status is
// right and nothing changes.
zx_status_t m_vmar_protect(model_t* m, uint32_t perms, uint64_t off, uint64_t len);
// ZX_VMAR_OP_COMMIT, _DECOMMIT, _ZERO and the hints over [off, off+len).
zx_status_t m_vmar_op_range(model_t* m, uint32_t op, uint64_t off, uint64_t len);
// The mapping record covering page `page` of the range, or -1.
int m_map_at(const model_t* m, uint64_t page);
// Whether page i of mapping id may be read (write: written) without a fault: the
// mapping allows it and the page lies inside the VMO's current size.
bool m_map_page_ok(const model_t* m, int id, uint64_t i, bool write);
// Bytes [off, off+len) of VMO `vmo`, as a mapping shows them (no rights: a mapping
// was checked when it was made); written through a mapping, exactly as zx_vmo_write.
void m_map_read(model_t* m, int vmo, uint8_t* buf, uint64_t off, uint64_t len);
void m_map_write(model_t* m, int vmo, const uint8_t* buf, uint64_t off, uint64_t len);
// num_mappings (§12) of VMO `vmo`.
uint64_t m_num_mappings(const model_t* m, int vmo);
// Whether writing page dpage of VMO dst can change what page spage of VMO src shows
// (the same page, or one src sees through): a copy between them is order-dependent.
bool m_page_aliases(model_t* m, int src, uint64_t spage, int dst, uint64_t dpage);
int m_map_count(const model_t* m);
// Whether the model follows the library on known bug `bug` (an M_BUG_* bit).
bool m_tolerates(const model_t* m, uint32_t bug);

// ---- user pagers ----
// The pager service the driver runs answers a READ request page by page in ascending
// order: it supplies pages whose content is m_pager_byte(seed, offset) (a page of class
// M_PG_ZERO is supplied as an uncommitted page of the aux VMO: zeros that hold no
// memory), and at the first page of class M_PG_FAIL it FAILs the rest with ZX_ERR_IO.
// DIRTY requests it answers with ZX_PAGER_OP_DIRTY. So, for the model, an access that
// needs absent pages brings them in one by one, ascending, until a failing one
// (ZX_ERR_IO) or until it finds the VMO detached (ZX_ERR_BAD_STATE).
enum { M_PG_NORMAL, M_PG_ZERO, M_PG_FAIL };
int m_pager_class(uint8_t seed, bool may_fail, uint64_t page);
uint8_t m_pager_byte(uint8_t seed, uint64_t off);
// The driver made a new pager (its previous one, if any, was closed).
void m_pager_new(model_t* m);
// The driver closed its pager: every VMO it served is detached (its pages stay).
void m_pager_close(model_t* m);
// For the pager calls below, `ph` is 0 for the driver's current pager handle,
// M_H_INVALID for a closed or invalid one, M_H_WRONG_TYPE for an event.
zx_status_t m_pager_create_vmo(model_t* m, int ph, uint32_t options, uint64_t size,
                               uint8_t seed, bool may_fail, int* out);
zx_status_t m_pager_detach(model_t* m, int ph, int h);
zx_status_t m_pager_op_range(model_t* m, int ph, uint32_t op, int h, uint64_t off,
                             uint64_t len, uint64_t data);
// Ranges as zx_pager_query_dirty_ranges gives them (at most `cap` in out[], each
// {offset, length, options}); *actual and *avail as the call sets them.
zx_status_t m_pager_dirty_ranges(model_t* m, int ph, int h, uint64_t off, uint64_t len,
                                 size_t cap, uint64_t (*out)[3], size_t* actual,
                                 size_t* avail);
zx_status_t m_pager_stats(model_t* m, int ph, int h, uint32_t options, size_t buf_size,
                          bool* modified);
// Whether reading page `page` of VMO `vmo` needs a page its pager VMO lacks (such an
// access would ask the service, or fail): the driver's checks leave those alone.
bool m_page_absent(model_t* m, int vmo, uint64_t page);

// Number of handles in use, and the i-th one (index into m->h).
int m_handle_count(const model_t* m);
int m_handle_nth(const model_t* m, int i);
// Distinct live page records: must equal zxvmo's pages_in_use.
uint64_t m_pages_in_use(const model_t* m);
uint64_t m_children(const model_t* m, int vmo);
// The model's own attribution adds up to the pages it holds (§10).
bool m_attribution_conserved(model_t* m);

// ---- for model_driver.c (driver memory, §15) ----
// §2's lookup of a VMO handle needing `need` (rights may be NULL).
zx_status_t m_lookup(model_t* m, int h, zx_rights_t need, mvmo_t** v, zx_rights_t* rights);
// The VMO holding v's pages and v's page 0 in it (a slice's root).
mvmo_t* m_content(model_t* m, mvmo_t* v, uint64_t* base);
// Makes page x of non-slice c its own (COMMIT's rule, §8).
void m_own_page(model_t* m, mvmo_t* c, uint64_t x);
// A new root VMO of `rounded` bytes with content size `size` and a handle (*out).
mvmo_t* m_new_root(model_t* m, uint64_t rounded, uint64_t size, int* out);
// A hold on v (a pin) went: v dies if nothing else keeps it (handles, mappings, pins).
void m_vmo_unhold(model_t* m, mvmo_t* v);
// ---- for model_ref.c (§16) ----
// ZERO's effect on bytes [off, off+len) of v (range checked, len > 0), pager rules
// included.
zx_status_t m_zero_range(model_t* m, mvmo_t* v, uint64_t off, uint64_t len);
// Frees every page of non-slice v (its slots become empty).
void m_drop_pages(model_t* m, mvmo_t* v);

#endif  // ZXVMO_FUZZ_MODEL_H_
