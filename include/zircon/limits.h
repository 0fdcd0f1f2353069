// SPDX-License-Identifier: BSD-3-Clause
/* zxvmo: page-size limits, with Zircon's names.
 *
 * ZX_PAGE_SHIFT/SIZE/MASK are Zircon's fixed 4 KiB. zxvmo's own page size may be larger
 * (a 16 KiB host, or a build with ZXVMO_PAGE_SIZE): programs must ask
 * zx_system_get_page_size() at run time, as Fuchsia asks them to; the bounds below say
 * what it can return. */
#ifndef SYSROOT_ZIRCON_LIMITS_H_
#define SYSROOT_ZIRCON_LIMITS_H_

#include <stdint.h>

#define ZX_PAGE_SHIFT ((uint32_t)12u)
#define ZX_PAGE_SIZE ((uintptr_t)(1u << ZX_PAGE_SHIFT))
#define ZX_PAGE_MASK (ZX_PAGE_SIZE - 1u)

/* zxvmo accepts library pages from 4 KiB to 2 MiB on every architecture. */
#define ZX_MIN_PAGE_SHIFT ((uint32_t)12u)
#define ZX_MAX_PAGE_SHIFT ((uint32_t)21u)
#define ZX_MIN_PAGE_SIZE ((uintptr_t)(1u << ZX_MIN_PAGE_SHIFT))
#define ZX_MAX_PAGE_SIZE ((uintptr_t)(1u << ZX_MAX_PAGE_SHIFT))

#endif /* SYSROOT_ZIRCON_LIMITS_H_ */
