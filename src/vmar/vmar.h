// SPDX-License-Identifier: BSD-3-Clause
// The address space: the root VMAR the library reserves at start, its sub-VMARs and
// the mapping records (mapping.h) inside them.
//
// The root VMAR is one range reserved with os_reserve(); everything in it that holds no
// mapping is an inaccessible placeholder, so it never overlaps memory the program maps
// with mmap itself. A VMAR's children (sub-VMARs and mappings) never overlap and lie
// inside it.
//
// Locking. One reader-writer lock guards the whole tree: every zx_vmar_* call that
// changes it holds it exclusively; lookups by address (the fault path, buffer checks)
// hold it shared.
#ifndef ZXVMO_SRC_VMAR_VMAR_H_
#define ZXVMO_SRC_VMAR_VMAR_H_

#include "mapping.h"

void aspace_rdlock(void);
void aspace_wrlock(void);
void aspace_unlock(void);

// The mapping containing `addr`, or NULL. Caller holds the address-space lock.
mapping_t* aspace_lookup(uintptr_t addr);
// True if [addr, addr+len) overlaps the root VMAR's range (no lock needed: the range
// is fixed once reserved). False before the first zx_vmar_* call.
bool aspace_contains(uintptr_t addr, uint64_t len);

// fork(): takes (releases) the lock that makes the root VMAR (src/vmar/fork.c).
void vmar_fork_lock(void);
void vmar_fork_unlock(void);

// Calls fn on every mapping, in address order. Caller holds the lock.
void aspace_for_each(void (*fn)(mapping_t* m, void* ctx), void* ctx);

#endif  // ZXVMO_SRC_VMAR_VMAR_H_
