// The handle table: maps zx_handle_t values to (object, rights).
//
// A handle value encodes a slot index and the slot's generation, with Zircon's fixed
// low bits (ZX_HANDLE_FIXED_BITS_MASK) set, so a closed or stale value never reaches
// an object created later, and made-up values are rejected. Lookups from many threads
// do not serialise on one lock.
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

// Number of handle-table entries in use.
uint64_t handle_count_alive(void);

#endif  // ZXVMO_SRC_HANDLE_H_
