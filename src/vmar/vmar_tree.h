// SPDX-License-Identifier: BSD-3-Clause
// The VMAR layer's own structures and operations, for the syscall layer
// (syscalls_vmar.c, syscalls_object.c). vmar.h is the part the mapping core sees.
//
// The tree. Every VMAR keeps its children (sub-VMARs and mapping records) in one array
// sorted by address; children never overlap and lie inside their VMAR. Beside the
// tree, one array sorted by address holds every mapping record of the address space
// (the index): aspace_lookup() is a binary search in it, and because VMARs never
// overlap, the records inside any range of a VMAR are one contiguous run of it, which
// is how protect, op_range and destroy find them without walking the tree.
//
// Lifetimes. A VMAR object lives while a handle or its parent holds it: the parent's
// children array holds one reference per sub-VMAR, dropped when the sub-VMAR is
// destroyed. Closing a VMAR's last handle changes nothing in the tree (as on Zircon).
// A mapping record (vmap_t) belongs to the children array that lists it and is freed
// when it is unmapped.
//
// Contracts. Functions named *_locked expect the address-space lock held exclusively
// (aspace_wrlock). The functions below take it themselves. Their arguments were checked
// by the syscall layer (flags known, perms valid, lengths rounded; non-zero except for
// map and allocate, which refuse 0 after BAD_STATE, as Zircon); they return the errors
// that depend on the tree's state, in Zircon's order. Every one that
// fails with ZX_ERR_NO_MEMORY changed nothing, except where its comment says otherwise.
//
// Legend: (c) constant after creation, (t) guarded by the address-space lock.
#ifndef ZXVMO_SRC_VMAR_VMAR_TREE_H_
#define ZXVMO_SRC_VMAR_VMAR_TREE_H_

#include "object.h"
#include "vmar.h"

typedef struct vmar vmar_t;

// A mapping record as the VMAR layer keeps it: the core's record, and the widest
// protection a later zx_vmar_protect may give it (the rights its VMO handle and VMAR
// handle had when it was mapped).
typedef struct vmap {
  mapping_t m;          // m.parent is the vmar_t listing it; m.next is unused
  uint32_t max_perms;   // (t) ZX_VM_PERM_* (only shrinks: split records copy it)
} vmap_t;

static inline vmap_t* vmap_of(mapping_t* m) { return (vmap_t*)m; }

// One child of a VMAR: exactly one of the two is set.
typedef struct vchild {
  vmar_t* sub;
  vmap_t* map;
} vchild_t;

struct vmar {
  zx_object_t obj;
  vmar_t* parent;       // (t) NULL for the root, and once destroyed
  uintptr_t base;       // (c) page aligned
  uint64_t len;         // (c) page multiple
  uint32_t flags;       // (c) ZX_VM_CAN_MAP_* | ZX_VM_COMPACT
  bool destroyed;       // (t)
  vchild_t* kids;       // (t) sorted by address
  size_t nkids;         // (t)
  size_t cap;           // (t) slots allocated in `kids`
};

#define VMAR_CAN_MAP_RWX (ZX_VM_CAN_MAP_READ | ZX_VM_CAN_MAP_WRITE | ZX_VM_CAN_MAP_EXECUTE)
#define VM_PERMS (ZX_VM_PERM_READ | ZX_VM_PERM_WRITE | ZX_VM_PERM_EXECUTE)

static inline vmar_t* vmar_from_obj(zx_object_t* o) { return (vmar_t*)o; }
// The ZX_VM_PERM_* that the CAN_MAP_* bits of `flags` allow.
static inline uint32_t vmar_perms_of(uint32_t flags) {
  return (flags & VMAR_CAN_MAP_RWX) >> 7;
}

// ---- vmar.c: the root, the tree and the index ----
// The root VMAR, made at the first call (reserving its address range); NULL if that
// failed (no address space, or no memory: a later call tries again). Not a new
// reference: the root lives for the life of the process.
vmar_t* vmar_root(void);
// The root's handle, made with the root (ZX_HANDLE_INVALID if vmar_root() is NULL).
zx_handle_t vmar_root_handle(void);

static inline uintptr_t vchild_base(const vchild_t* c) {
  return c->sub != NULL ? c->sub->base : c->map->m.base;
}
static inline uint64_t vchild_len(const vchild_t* c) {
  return c->sub != NULL ? c->sub->len : c->map->m.len;
}
// Index of the first child of `v` ending after `addr` (nkids if none).
size_t vmar_kid_at_locked(const vmar_t* v, uintptr_t addr);
// Makes room for `n` more children in `v` and `n` more records in the index, so that
// the inserts that follow cannot fail. ZX_ERR_NO_MEMORY (nothing visible changed).
zx_status_t vmar_reserve_locked(vmar_t* v, size_t n);
// Inserts a child at position `i` of `v` (and a mapping into the index); room was
// reserved. Removal takes it out of both.
void vmar_kid_insert_locked(vmar_t* v, size_t i, vchild_t c);
void vmar_kid_remove_locked(vmar_t* v, size_t i);
// Position of sub-VMAR or record `base` in `v`'s children (it must be there).
size_t vmar_kid_index_locked(const vmar_t* v, uintptr_t base);
// The index: position of the first record ending after `addr`, its length, an entry.
size_t aspace_index_at_locked(uintptr_t addr);
size_t aspace_index_count_locked(void);
vmap_t* aspace_index_get_locked(size_t i);
// A new sub-VMAR object of `parent` (not yet in the tree; the caller owns the one
// reference), or NULL without memory.
vmar_t* vmar_new(vmar_t* parent, uintptr_t base, uint64_t len, uint32_t flags);

// ---- vmar_ops.c: the zx_vmar_* operations ----
typedef struct vmar_map_args {
  uint32_t options;     // ZX_VM_PERM_*, SPECIFIC, SPECIFIC_OVERWRITE, OFFSET_IS_UPPER_LIMIT
  uint32_t max_perms;   // the perms the VMO handle and the VMAR handle allow together
  uint8_t align_pow2;   // 0 or 10..32
  bool map_range;
  uint64_t vmar_offset;
  uint64_t len;         // page multiple (0 is refused here, after BAD_STATE)
  vmo_t* vmo;
  uint64_t vmo_offset;  // page aligned, vmo_offset + len fits
  bool dry_run;         // the caller's out pointer is NULL: check everything, change nothing
} vmar_map_args_t;
// Errors, in order: BAD_STATE; INVALID_ARGS (len 0); ACCESS_DENIED (max_perms beyond
// the VMAR's CAN_MAP_*); INVALID_ARGS (SPECIFIC with UPPER_LIMIT, an offset without
// either, an unaligned offset); ACCESS_DENIED (no CAN_MAP_SPECIFIC); INVALID_ARGS (range,
// alignment); ALREADY_EXISTS; INVALID_ARGS (an overwrite over a sub-VMAR); NO_RESOURCES;
// INVALID_ARGS (dry_run); the core's fault_init error; NO_MEMORY. A SPECIFIC_OVERWRITE
// whose new mapping the core refuses leaves the range unmapped (as on Zircon).
zx_status_t vmar_map(vmar_t* v, const vmar_map_args_t* a, uintptr_t* out);
// `flags`: CAN_MAP_*, COMPACT, SPECIFIC, OFFSET_IS_UPPER_LIMIT. Errors as vmar_map's
// (CAN_MAP_* is the child's). On success *out holds a reference for the caller; the
// tree holds another.
zx_status_t vmar_allocate(vmar_t* v, uint32_t flags, uint8_t align_pow2, uint64_t offset,
                          uint64_t len, bool dry_run, vmar_t** out);
zx_status_t vmar_unmap(vmar_t* v, uintptr_t addr, uint64_t len, bool op_children);
zx_status_t vmar_protect(vmar_t* v, uintptr_t addr, uint64_t len, uint32_t perms,
                         bool op_children);
zx_status_t vmar_destroy(vmar_t* v);
zx_status_t vmar_op_range(vmar_t* v, uint32_t op, uintptr_t addr, uint64_t len,
                          bool op_children);
// Unmaps everything inside `v` and destroys it and every VMAR below it, without
// recursion; drops the tree's references. Cannot fail.
void vmar_destroy_locked(vmar_t* v);

// ---- vmar_info.c: ZX_INFO_VMAR, ZX_INFO_VMAR_MAPS, ZX_INFO_PROCESS_MAPS ----
// ZX_INFO_VMAR (one record: BUFFER_TOO_SMALL if it does not fit) or ZX_INFO_VMAR_MAPS
// (as many records as fit; BAD_STATE on a destroyed VMAR).
zx_status_t vmar_get_info(vmar_t* v, uint32_t topic, void* buffer, size_t buffer_size,
                          size_t* actual, size_t* avail);
// ZX_INFO_PROCESS_MAPS (and _V1, _V2) of `process`: its address space at depth 0, the
// root VMAR at depth 1, then the tree below it. ZX_ERR_NO_MEMORY if the root could not
// be made.
zx_status_t process_get_maps(zx_object_t* process, uint32_t topic, void* buffer,
                             size_t buffer_size, size_t* actual, size_t* avail);

#endif  // ZXVMO_SRC_VMAR_VMAR_TREE_H_
