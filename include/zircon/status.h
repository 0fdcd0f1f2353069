// SPDX-License-Identifier: BSD-3-Clause
/* zxvmo: printable names of zx_status_t values. */
#ifndef SYSROOT_ZIRCON_STATUS_H_
#define SYSROOT_ZIRCON_STATUS_H_

#include <zircon/compiler.h>
#include <zircon/types.h>

__BEGIN_CDECLS

/* Name of a status code, e.g. "ZX_ERR_BAD_HANDLE"; never NULL. */
const char* zx_status_get_string(zx_status_t status);

__END_CDECLS

#endif /* SYSROOT_ZIRCON_STATUS_H_ */
