// SPDX-License-Identifier: BSD-3-Clause
// Pager objects (ZX_OBJ_TYPE_PAGER): the set of page sources a pager serves.
//
// A pager keeps one entry per VMO it created and has not detached, so that closing
// its last handle can detach them all (without COMPLETE packets, as on Zircon). The
// VMOs do not keep the pager alive; a source knows its pager only by koid.
//
// Locking: the pager's `lock` guards its entry list and `closed`; it is a leaf taken
// with no family lock held, never together with a source's lock.
#ifndef ZXVMO_SRC_OBJECT_PAGER_H_
#define ZXVMO_SRC_OBJECT_PAGER_H_

#include "object.h"
#include "port.h"
#include "vmo.h"

typedef struct pager pager_t;

static inline pager_t* pager_from_obj(zx_object_t* o) { return (pager_t*)o; }

// A new pager; the caller owns the one reference. NULL if memory ran out.
pager_t* pager_create(void);
zx_object_t* pager_obj(pager_t* p);
// Creates a pager VMO of `size` bytes (page multiple) whose absent pages are asked
// for on `port` with `key`. ZX_ERR_BAD_STATE if the pager's last handle is already
// closed, ZX_ERR_NO_MEMORY. The caller owns the VMO's one reference.
zx_status_t pager_create_vmo(pager_t* p, port_t* port, uint64_t key, uint64_t size,
                             uint64_t content_size, bool resizable, bool trap_dirty,
                             vmo_t** out);
// True if `v` is a pager VMO this pager created (not a child or slice of one).
bool pager_owns_vmo(pager_t* p, vmo_t* v);
// Detaches v (owned by p) from p: zx_pager_detach_vmo.
void pager_detach_vmo(pager_t* p, vmo_t* v);

#endif  // ZXVMO_SRC_OBJECT_PAGER_H_
