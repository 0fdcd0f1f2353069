// SPDX-License-Identifier: BSD-3-Clause
/* zxvmo: Fuchsia's API-level annotations. zxvmo has a single API level (what it
 * implements), so the annotations expand to nothing; they exist so that code and
 * headers written for the Fuchsia SDK compile unchanged. */
#ifndef SYSROOT_ZIRCON_AVAILABILITY_H_
#define SYSROOT_ZIRCON_AVAILABILITY_H_

#define ZX_AVAILABLE_SINCE(level)
#define ZX_DEPRECATED_SINCE(level_deprecated, level_removed, msg)
#define ZX_REMOVED_SINCE(level_deprecated, level_removed, msg)

#endif /* SYSROOT_ZIRCON_AVAILABILITY_H_ */
