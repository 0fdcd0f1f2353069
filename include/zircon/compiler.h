// SPDX-License-Identifier: BSD-3-Clause
/* zxvmo: C/C++ linkage helpers used by the Zircon-compatible headers. */
#ifndef SYSROOT_ZIRCON_COMPILER_H_
#define SYSROOT_ZIRCON_COMPILER_H_

/* Some libc headers (and Zircon's own compiler.h) may define these too. */
#ifndef __BEGIN_CDECLS
#ifdef __cplusplus
#define __BEGIN_CDECLS extern "C" {
#else
#define __BEGIN_CDECLS
#endif
#endif

#ifndef __END_CDECLS
#ifdef __cplusplus
#define __END_CDECLS }
#else
#define __END_CDECLS
#endif
#endif

#endif /* SYSROOT_ZIRCON_COMPILER_H_ */
