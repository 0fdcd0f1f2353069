// SPDX-License-Identifier: BSD-3-Clause
/* zxvmo: the calls and constants Zircon keeps in <zircon/syscalls-next.h> (newer
 * interfaces): the pager's dirty tracking and write-back. */
#ifndef SYSROOT_ZIRCON_SYSCALLS_NEXT_H_
#define SYSROOT_ZIRCON_SYSCALLS_NEXT_H_

#include <stdint.h>
#include <zircon/syscalls.h>

__BEGIN_CDECLS

/* zx_pager_op_range() operations beyond ZX_PAGER_OP_FAIL. */
#define ZX_PAGER_OP_DIRTY ((uint32_t)2u)
#define ZX_PAGER_OP_WRITEBACK_BEGIN ((uint32_t)3u)
#define ZX_PAGER_OP_WRITEBACK_END ((uint32_t)4u)

/* zx_vmo_dirty_range_t.options, and the data of ZX_PAGER_OP_WRITEBACK_BEGIN: the range
 * reads as zero (no page holds it). */
#define ZX_VMO_DIRTY_RANGE_IS_ZERO ((uint64_t)1u)

/* One range of zx_pager_query_dirty_ranges(), in bytes. */
typedef struct zx_vmo_dirty_range {
  uint64_t offset;
  uint64_t length;
  uint64_t options;
} zx_vmo_dirty_range_t;

/* zx_pager_query_vmo_stats(): whether the VMO was modified (since the last reset). */
#define ZX_PAGER_VMO_STATS_MODIFIED ((uint32_t)1u)
typedef struct zx_pager_vmo_stats {
  uint32_t modified;
} zx_pager_vmo_stats_t;
/* zx_pager_query_vmo_stats() option: clear the statistics once read. */
#define ZX_PAGER_RESET_VMO_STATS ((uint32_t)1u)

zx_status_t zx_pager_query_dirty_ranges(zx_handle_t pager, zx_handle_t pager_vmo,
                                        uint64_t offset, uint64_t length, void* buffer,
                                        size_t buffer_size, size_t* actual, size_t* avail);
zx_status_t zx_pager_query_vmo_stats(zx_handle_t pager, zx_handle_t pager_vmo,
                                     uint32_t options, void* buffer, size_t buffer_size);

__END_CDECLS

#endif /* SYSROOT_ZIRCON_SYSCALLS_NEXT_H_ */
