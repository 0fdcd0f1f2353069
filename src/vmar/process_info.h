// SPDX-License-Identifier: BSD-3-Clause
// zx_object_get_info topics of the process handle that describe VMOs and mappings.
#ifndef ZXVMO_SRC_VMAR_PROCESS_INFO_H_
#define ZXVMO_SRC_VMAR_PROCESS_INFO_H_

#include "vmo.h"

// ZX_INFO_PROCESS_VMOS (and its older layouts): a list, as zx_object_get_info.
zx_status_t process_get_vmos(uint32_t topic, void* buffer, size_t buffer_size, size_t* actual,
                             size_t* avail);
// ZX_INFO_TASK_STATS (and _V1): one record.
zx_status_t process_get_task_stats(uint32_t topic, void* buffer, size_t buffer_size,
                                   size_t* actual, size_t* avail);

#endif  // ZXVMO_SRC_VMAR_PROCESS_INFO_H_
