// SPDX-License-Identifier: BSD-3-Clause
/* zxvmo: handles a Zircon program gets from its runtime: its process and root VMAR. */
#ifndef SYSROOT_ZIRCON_PROCESS_H_
#define SYSROOT_ZIRCON_PROCESS_H_

#include <zircon/compiler.h>
#include <zircon/types.h>

__BEGIN_CDECLS

/*
 * The process's root VMAR: the address range the library reserved for its mappings,
 * with every ZX_VM_CAN_MAP_* and the rights ZX_DEFAULT_VMAR_RIGHTS | READ | WRITE |
 * EXECUTE. Every call returns the same handle; the library keeps it open for the life
 * of the process, so it must not be closed. ZX_HANDLE_INVALID if the address range could
 * not be reserved.
 */
zx_handle_t zx_vmar_root_self(void);

/*
 * The calling process (ZX_OBJ_TYPE_PROCESS, ZX_DEFAULT_PROCESS_RIGHTS): the object
 * ZX_INFO_PROCESS_MAPS describes. Same handle on every call; must not be closed.
 * ZX_HANDLE_INVALID if it could not be created (out of memory).
 */
zx_handle_t zx_process_self(void);

/* zxvmo has no jobs: always ZX_HANDLE_INVALID, as for a Fuchsia process started
 * without a default job. */
zx_handle_t zx_job_default(void);

__END_CDECLS

#endif /* SYSROOT_ZIRCON_PROCESS_H_ */
