// SPDX-License-Identifier: BSD-3-Clause
// See user_copy.h.
#include "user_copy.h"

#include "handle.h"
#include "mapping.h"
#include "os.h"
#include "vmar.h"

// Bytes per bounce: one read chunk (a writer waits for at most one per reader).
#define BOUNCE ((uint64_t)64 << 10)

bool user_buffer_mapped(const void* p, size_t n) {
  return n > 0 && aspace_contains((uintptr_t)p, n);
}

zx_status_t user_copy_out(void* dst, const void* src, size_t n) {
  if (!user_buffer_mapped(dst, n)) {
    __builtin_memcpy(dst, src, n);
    return ZX_OK;
  }
  return fault_probe_copy(dst, src, n) ? ZX_OK : ZX_ERR_INVALID_ARGS;
}

zx_status_t user_put_handle(zx_handle_t* out, zx_handle_t h) {
  if (user_copy_out(out, &h, sizeof(h)) == ZX_OK) return ZX_OK;
  handle_close(h);  // nobody can name it: as if never made
  return ZX_ERR_INVALID_ARGS;
}

zx_status_t user_copy_in(void* dst, const void* src, size_t n) {
  if (!user_buffer_mapped(src, n)) {
    __builtin_memcpy(dst, src, n);
    return ZX_OK;
  }
  return fault_probe_copy(dst, src, n) ? ZX_OK : ZX_ERR_INVALID_ARGS;
}

zx_status_t vmo_read_user(vmo_t* v, void* buf, uint64_t off, uint64_t len) {
  if (!user_buffer_mapped(buf, len)) return vmo_read(v, buf, off, len);
  zx_status_t st = vmo_check_range(v, off, len);
  if (st != ZX_OK) return st;
  uint8_t* bounce = os_malloc(min_u64(len, BOUNCE));
  if (!bounce) return ZX_ERR_NO_MEMORY;
  for (uint64_t done = 0; done < len && st == ZX_OK;) {
    uint64_t n = min_u64(len - done, BOUNCE);
    st = vmo_read(v, bounce, off + done, n);
    if (st == ZX_OK && !fault_probe_copy((uint8_t*)buf + done, bounce, n)) {
      st = ZX_ERR_INVALID_ARGS;
    }
    done += n;
  }
  os_free(bounce);
  return st;
}

zx_status_t vmo_write_user(vmo_t* v, const void* buf, uint64_t off, uint64_t len) {
  if (!user_buffer_mapped(buf, len)) return vmo_write(v, buf, off, len);
  zx_status_t st = vmo_check_range(v, off, len);
  if (st != ZX_OK) return st;
  // Every page of the buffer must be readable before the first byte is written, so
  // that a bad buffer changes nothing.
  const uint8_t* b = buf;
  uint8_t probe;
  for (uint64_t a = 0; a < len; a = (a | PAGE_MASK) + 1) {
    if (!fault_probe_copy(&probe, b + a, 1)) return ZX_ERR_INVALID_ARGS;
  }
  if (!fault_probe_copy(&probe, b + len - 1, 1)) return ZX_ERR_INVALID_ARGS;
  uint8_t* bounce = os_malloc(min_u64(len, BOUNCE));
  if (!bounce) return ZX_ERR_NO_MEMORY;
  for (uint64_t done = 0; done < len && st == ZX_OK;) {
    uint64_t n = min_u64(len - done, BOUNCE);
    st = fault_probe_copy(bounce, b + done, n) ? vmo_write(v, bounce, off + done, n)
                                               : ZX_ERR_INVALID_ARGS;
    done += n;
  }
  os_free(bounce);
  return st;
}
