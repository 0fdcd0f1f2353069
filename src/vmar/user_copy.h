// SPDX-License-Identifier: BSD-3-Clause
// Moving bytes between VMOs and user buffers that may themselves be mapped VMOs.
//
// A buffer inside the root VMAR is never touched while a library lock is held: a
// fault on it may need that very lock (a read into a mapping of the same VMO, say).
// Such buffers go through a bounce buffer, copied with fault_probe_copy; a genuine
// fault there (past a VMO's end, protected, unmapped) is ZX_ERR_INVALID_ARGS, Zircon's
// answer for a faulting user buffer (docs/behavior.md §12). Other buffers are used
// directly, as before.
#ifndef ZXVMO_SRC_VMAR_USER_COPY_H_
#define ZXVMO_SRC_VMAR_USER_COPY_H_

#include "vmo.h"

zx_status_t vmo_read_user(vmo_t* v, void* buf, uint64_t off, uint64_t len);
zx_status_t vmo_write_user(vmo_t* v, const void* buf, uint64_t off, uint64_t len);
// True if [p, p+n) may lie in zxvmo's mappings (then use user_copy_out).
bool user_buffer_mapped(const void* p, size_t n);
// Copies `n` bytes of `src` (library memory) to user buffer `dst`: ZX_OK or
// ZX_ERR_INVALID_ARGS.
zx_status_t user_copy_out(void* dst, const void* src, size_t n);
// Copies `n` bytes of user buffer `src` to library memory `dst`: ZX_OK or
// ZX_ERR_INVALID_ARGS.
zx_status_t user_copy_in(void* dst, const void* src, size_t n);
// Stores new handle `h` at the caller's `out`; if that faults, closes `h` (the object
// it named goes as if never made) and returns ZX_ERR_INVALID_ARGS.
zx_status_t user_put_handle(zx_handle_t* out, zx_handle_t h);

#endif  // ZXVMO_SRC_VMAR_USER_COPY_H_
