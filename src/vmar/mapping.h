// SPDX-License-Identifier: BSD-3-Clause
// The mapping core: what a mapping of a VMO shows, and how its page faults are served.
//
// Division of labour. The VMAR layer (vmar.[ch]) owns the address space: it places
// regions, keeps the tree of VMARs and mappings, checks arguments and rights, splits
// mapping records when a call covers part of one, and keeps every range of the root
// VMAR that holds no mapping as an inaccessible placeholder (os_placeholder). This
// core owns what is mapped there: it binds a record to its VMO's pages, serves the
// faults, keeps every mapping consistent with zx_vmo_read/zx_vmo_write, and counts
// mappings per VMO (num_mappings, and a mapped VMO stays alive without handles).
//
// Locking. Every function here except mapping_fault is called with the address-space
// lock (aspace_wrlock, vmar.h) held exclusively; each takes the VMO's family lock
// itself. Lock order: address-space lock -> family lock -> (object, pool) locks.
//
// Legend: (v) set by the VMAR layer, constant while attached except through
// mapping_split / mapping_protect; (m) private to this core, guarded by the mapped
// VMO's family lock.
#ifndef ZXVMO_SRC_VMAR_MAPPING_H_
#define ZXVMO_SRC_VMAR_MAPPING_H_

#include "vmo.h"

typedef struct home home_t;
struct vmar;

typedef struct mapping {
  uintptr_t base;          // (v) page aligned
  uint64_t len;            // (v) bytes, a page multiple, > 0
  vmo_t* vmo;              // (v) the VMO mapped; the mapping holds a reference
  uint64_t vmo_off;        // (v) bytes, page aligned: where `base` shows
  uint32_t perms;          // (v) ZX_VM_PERM_READ | _WRITE | _EXECUTE
  struct vmar* parent;     // (v) for the VMAR layer's own use
  struct mapping* next;    // (v) for the VMAR layer's own use (sibling order)
  // The core's bookkeeping.
  home_t* home;            // (m) home of the content owner (see mapping.c)
  struct mapping* h_next;  // (m) the home's list of mappings
  struct mapping* h_prev;  // (m)
} mapping_t;

// Binds `m` (fields (v) set, the rest zero) to its VMO and maps it over the
// placeholder at [base, base+len): takes a VMO reference. With `map_range`, pages the
// VMO holds now are entered in the page tables now (committing nothing).
// ZX_ERR_NO_MEMORY if the OS or the metadata allocator refused; then nothing changed
// (the placeholder is intact and no reference is held).
zx_status_t mapping_attach(mapping_t* m, bool map_range);
// Unmaps all of `m` (the placeholder returns), drops its VMO reference; the VMO dies
// if that was the last of its handles and mappings. `m` is not freed.
void mapping_detach(mapping_t* m);
// Splits `m` at `at` (base < at < base + len): `tail`, zero-filled by the caller,
// becomes the mapping of [at, base+len) with the same VMO (taking its own reference),
// offset and perms; `m` keeps [base, at). Cannot fail.
void mapping_split(mapping_t* m, uintptr_t at, mapping_t* tail);
// Changes the protection of all of `m` to `perms` (already checked against the rights
// and the VMAR). ZX_ERR_NO_MEMORY if the OS refused (nothing changed).
zx_status_t mapping_protect(mapping_t* m, uint32_t perms);
// zx_vmar_op_range on [addr, addr+len) inside `m`: ZX_VMAR_OP_COMMIT, DECOMMIT,
// MAP_RANGE, ZERO, PREFETCH, DONT_NEED, ALWAYS_NEED (checked by the caller). Never
// waits for a pager (the caller holds the address-space lock): ZX_ERR_SHOULD_WAIT
// with *req when one must supply pages first; the caller waits and starts over.
zx_status_t mapping_op_range(mapping_t* m, uint32_t op, uintptr_t addr, uint64_t len,
                             struct page_request** req);
// Pages of [base, base+len) of `m` backed by committed memory (ZX_INFO_PROCESS_MAPS).
uint64_t mapping_committed_bytes(mapping_t* m);

// How a fault was served.
typedef enum fault_result {
  FAULT_RESOLVED,   // the access can be retried
  FAULT_GENUINE,    // the program's own fault (past the VMO's end): SIGBUS
  FAULT_NO_MEMORY,  // no memory for the page: SIGBUS, as Zircon's out-of-memory fault
  FAULT_WAIT,       // a pager must supply (or agree to dirty) the page first: wait on
                    // the request, with no lock held, then retry the access
} fault_result_t;

// Serves a fault at `addr` inside `m` (a write if `write`): see mapping.c. Caller holds
// the address-space lock (shared is enough) and m's family lock exclusively. On a
// pager-backed VMO the page may have to come from the pager first: FAULT_WAIT with
// *req (page_source.h) to wait on, or, if `req` is NULL, FAULT_WAIT with nothing asked.
// A pager that failed or left the page gives FAULT_GENUINE (SIGBUS), as on Zircon.
fault_result_t mapping_fault_locked(mapping_t* m, uintptr_t addr, bool write,
                                    struct page_request** req);

// In a child of fork() (fork.c): remaps `m` privately, and serves a fault at `addr`
// in it from the state the fork left.
void mapping_fork_child(mapping_t* m, void* ctx);
fault_result_t mapping_fault_child(mapping_t* m, uintptr_t addr);

// The fault path (fault.c): installs the signal handlers once (idempotent), before the
// first mapping is attached. ZX_ERR_NO_MEMORY / ZX_ERR_NOT_SUPPORTED if the kernel
// offers no userfaultfd.
zx_status_t fault_init(void);
// In a child of fork(): opens the child's own userfaultfd (fork.c).
zx_status_t fault_init_child(void);
// Copies `n` bytes where `dst` or `src` may lie in zxvmo's mappings; the caller holds no
// library lock, so faults are served as for the program. False if a genuine fault
// (unmapped, protected, past a VMO's end) stopped it; some bytes may have been copied.
bool fault_probe_copy(void* dst, const void* src, size_t n);

#endif  // ZXVMO_SRC_VMAR_MAPPING_H_
