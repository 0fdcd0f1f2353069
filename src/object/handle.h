// SPDX-License-Identifier: BSD-3-Clause
// The handle table: maps zx_handle_t values to (object, rights).
//
// Handle values have Zircon's fixed low bits (ZX_HANDLE_FIXED_BITS_MASK) set and are
// never 0. They come from a per-process keyed permutation of a counter, not from the
// entry's place in the table: a closed value comes back only after about 2^30 new
// values, whatever the table's state, so a stale value does not reach an object created
// later, made-up values are rejected, and processes hand out different values.
// Lookups from many threads do not serialise on one lock (see handle.c).
#ifndef ZXVMO_SRC_HANDLE_H_
#define ZXVMO_SRC_HANDLE_H_

#include "object.h"

// Creates a handle to `obj` with `rights`. Takes a reference and counts a handle.
// Returns ZX_ERR_NO_RESOURCES when the table is full, ZX_ERR_NO_MEMORY on OOM.
zx_status_t handle_create(zx_object_t* obj, zx_rights_t rights, zx_handle_t* out);
// handle_create for an object found through another handle (duplicate, replace):
// ZX_ERR_BAD_HANDLE if that object's last handle was closed meanwhile, so a dead
// object never comes back to life.
zx_status_t handle_create_another(zx_object_t* obj, zx_rights_t rights, zx_handle_t* out);

// Looks `h` up. Errors, in this order: ZX_ERR_BAD_HANDLE (invalid, closed or stale),
// ZX_ERR_WRONG_TYPE (type != ZX_OBJ_TYPE_NONE and the object's type differs),
// ZX_ERR_ACCESS_DENIED (rights lacks any bit of `required`). On ZX_OK returns the
// object with a reference the caller drops with object_unref, and the handle's rights.
zx_status_t handle_get(zx_handle_t h, zx_obj_type_t type, zx_rights_t required,
                       zx_object_t** obj, zx_rights_t* rights);

// Closes `h`: cancels waits through it, drops the handle count (running
// on_zero_handles when it reaches zero) and the reference.
zx_status_t handle_close(zx_handle_t h);

// True while `h` is open and refers to `obj`. object_wait_many() uses it after linking
// its waiters to catch a close that ran between the lookup and the link.
bool handle_refers_to(zx_handle_t h, const zx_object_t* obj);

// Gives live handle `h` the rights `rights` (the caller checked they are a subset)
// under a new value returned in *out; `h` is invalid afterwards and waits through it
// are canceled. ZX_ERR_BAD_HANDLE if `h` was closed meanwhile. Never allocates.
zx_status_t handle_replace(zx_handle_t h, zx_rights_t rights, zx_handle_t* out);

// The objects of `type` behind every open handle (one entry per handle, duplicates
// included), each with a reference the caller drops with handle_collect_free, and the
// handle's rights. ZX_ERR_NO_MEMORY (nothing returned) if the array could not grow.
// Takes each shard's lock in turn; no other lock is held meanwhile.
typedef struct handle_ref {
  zx_object_t* obj;
  zx_rights_t rights;
} handle_ref_t;
zx_status_t handle_collect(zx_obj_type_t type, handle_ref_t** out, size_t* n);
void handle_collect_free(handle_ref_t* v, size_t n);

// fork(): takes (releases) every shard lock, in shard order (src/vmar/fork.c).
void handle_fork_lock(void);
void handle_fork_unlock(void);

// Number of handle-table entries in use.
uint64_t handle_count_alive(void);

// White-box hooks for tests. handle_check_table() verifies the table's structure and
// aborts on a violation: every entry is found from its value, is a live handle
// (fixed bits, a counted object), each shard's count matches its entries and leaves
// one entry empty, and the counts add up to handle_count_alive(). Call it while no
// handle is being created or closed.
void handle_check_table(void);
// Caps the table at `cap` handles (at most the built-in capacity, 1 << 20) and returns
// the previous cap; creates beyond it fail with ZX_ERR_NO_RESOURCES. Handles already
// open stay open.
uint32_t handle_set_capacity(uint32_t cap);
// The shard whose entries hold value `h`, and a shard's entries in use and size.
uint32_t handle_shard_index(zx_handle_t h);
void handle_shard_usage(uint32_t shard, uint32_t* used, uint32_t* size);

#endif  // ZXVMO_SRC_HANDLE_H_
