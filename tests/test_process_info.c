// SPDX-License-Identifier: BSD-3-Clause
// ZX_INFO_PROCESS_VMOS and ZX_INFO_TASK_STATS on zx_process_self() (docs/behavior.md
// §12): every VMO handle and every mapping is listed, with Zircon's flags, and the task
// stats count what the mappings map and commit.
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <zircon/process.h>
#include <zircon/syscalls.h>

#include "helpers.h"

// Index of the record for `koid` with `flag` in `v`, or -1.
static int find(const zx_info_vmo_t* v, size_t n, zx_koid_t koid, uint32_t flag) {
  for (size_t i = 0; i < n; i++) {
    if (v[i].koid == koid && (v[i].flags & flag)) return (int)i;
  }
  return -1;
}

Test(process_info, vmos_lists_handles_and_mappings) {
  zx_handle_t a = mkvmo(4 * PG), b = mkvmo(2 * PG);
  zx_vaddr_t addr;
  cr_assert_eq(zx_vmar_map(zx_vmar_root_self(), ZX_VM_PERM_READ | ZX_VM_PERM_WRITE, 0, b, 0,
                           2 * PG, &addr), ZX_OK);
  ((volatile uint8_t*)addr)[0] = 1;
  zx_info_vmo_t ia = vmo_info(a), ib = vmo_info(b);
  size_t actual = 0, avail = 0;
  cr_assert_eq(zx_object_get_info(zx_process_self(), ZX_INFO_PROCESS_VMOS, NULL, 0, &actual,
                                  &avail), ZX_OK);
  cr_assert_eq(actual, 0);
  cr_assert_geq(avail, 3);
  zx_info_vmo_t* v = calloc(avail, sizeof(*v));
  cr_assert_eq(zx_object_get_info(zx_process_self(), ZX_INFO_PROCESS_VMOS, v,
                                  avail * sizeof(*v), &actual, NULL), ZX_OK);
  cr_assert_eq(actual, avail);
  int ha = find(v, actual, ia.koid, ZX_INFO_VMO_VIA_HANDLE);
  int hb = find(v, actual, ib.koid, ZX_INFO_VMO_VIA_HANDLE);
  int mb = find(v, actual, ib.koid, ZX_INFO_VMO_VIA_MAPPING);
  cr_assert(ha >= 0 && hb >= 0 && mb >= 0);
  cr_assert_eq(find(v, actual, ia.koid, ZX_INFO_VMO_VIA_MAPPING), -1);
  cr_assert_eq(v[hb].handle_rights, ZX_DEFAULT_VMO_RIGHTS);
  cr_assert_eq(v[mb].handle_rights, 0);
  cr_assert_eq(v[mb].num_mappings, 1);
  cr_assert_eq(v[mb].committed_bytes, PG);
  cr_assert_eq(v[ha].size_bytes, 4 * PG);
  // A buffer with room for one record gets one, and the count of all.
  cr_assert_eq(zx_object_get_info(zx_process_self(), ZX_INFO_PROCESS_VMOS, v, sizeof(*v),
                                  &actual, &avail), ZX_OK);
  cr_assert_eq(actual, 1);
  free(v);
  // The mapped VMO stays listed through its mapping once its handle is closed.
  zx_koid_t kb = ib.koid;
  cr_assert_eq(zx_handle_close(b), ZX_OK);
  v = calloc(avail, sizeof(*v));
  cr_assert_eq(zx_object_get_info(zx_process_self(), ZX_INFO_PROCESS_VMOS, v,
                                  avail * sizeof(*v), &actual, NULL), ZX_OK);
  cr_assert_eq(find(v, actual, kb, ZX_INFO_VMO_VIA_HANDLE), -1);
  cr_assert_geq(find(v, actual, kb, ZX_INFO_VMO_VIA_MAPPING), 0);
  free(v);
  cr_assert_eq(zx_vmar_unmap(zx_vmar_root_self(), addr, 2 * PG), ZX_OK);
  zx_handle_close(a);
}

Test(process_info, task_stats_count_mapped_and_committed) {
  zx_info_task_stats_t before, after;
  cr_assert_eq(zx_object_get_info(zx_process_self(), ZX_INFO_TASK_STATS, &before,
                                  sizeof(before), NULL, NULL), ZX_OK);
  zx_handle_t v = mkvmo(8 * PG);
  zx_vaddr_t addr;
  cr_assert_eq(zx_vmar_map(zx_vmar_root_self(), ZX_VM_PERM_READ | ZX_VM_PERM_WRITE, 0, v, 0,
                           8 * PG, &addr), ZX_OK);
  for (int i = 0; i < 3; i++) ((volatile uint8_t*)addr)[i * PG] = 1;
  (void)((volatile uint8_t*)addr)[5 * PG];  // a read commits nothing
  cr_assert_eq(zx_object_get_info(zx_process_self(), ZX_INFO_TASK_STATS, &after, sizeof(after),
                                  NULL, NULL), ZX_OK);
  cr_assert_eq(after.mem_mapped_bytes - before.mem_mapped_bytes, 8 * PG);
  cr_assert_eq(after.mem_private_bytes - before.mem_private_bytes, 3 * PG);
  cr_assert_eq(after.mem_shared_bytes, 0);
  zx_info_task_stats_v1_t v1;
  cr_assert_eq(zx_object_get_info(zx_process_self(), ZX_INFO_TASK_STATS_V1, &v1, sizeof(v1),
                                  NULL, NULL), ZX_OK);
  cr_assert_eq(v1.mem_mapped_bytes, after.mem_mapped_bytes);
  cr_assert_eq(zx_object_get_info(zx_process_self(), ZX_INFO_TASK_STATS, &after, 8, NULL, NULL),
               ZX_ERR_BUFFER_TOO_SMALL);
  cr_assert_eq(zx_object_get_info(v, ZX_INFO_TASK_STATS, &after, sizeof(after), NULL, NULL),
               ZX_ERR_WRONG_TYPE);
  cr_assert_eq(zx_vmar_unmap(zx_vmar_root_self(), addr, 8 * PG), ZX_OK);
  zx_handle_close(v);
}

// The record buffer may itself be a mapped VMO: filled without deadlocking on the
// locks the call holds.
Test(process_info, info_buffer_in_a_mapping) {
  zx_handle_t v = mkvmo(PG), buf = mkvmo(PG);
  zx_vaddr_t addr;
  cr_assert_eq(zx_vmar_map(zx_vmar_root_self(), ZX_VM_PERM_READ | ZX_VM_PERM_WRITE, 0, buf, 0,
                           PG, &addr), ZX_OK);
  zx_info_vmo_t* out = (zx_info_vmo_t*)addr;
  cr_assert_eq(zx_object_get_info(v, ZX_INFO_VMO, out, sizeof(*out), NULL, NULL), ZX_OK);
  cr_assert_eq(out->size_bytes, PG);
  // Even the info of the buffer's own VMO.
  cr_assert_eq(zx_object_get_info(buf, ZX_INFO_VMO, out, sizeof(*out), NULL, NULL), ZX_OK);
  cr_assert_eq(out->num_mappings, 1);
  cr_assert_eq(out->committed_bytes, PG);
  zx_info_maps_t* maps = (zx_info_maps_t*)addr;
  size_t n = 0;
  cr_assert_eq(zx_object_get_info(zx_process_self(), ZX_INFO_PROCESS_MAPS, maps,
                                  PG / sizeof(*maps) * sizeof(*maps), &n, NULL), ZX_OK);
  cr_assert_geq(n, 3);
  cr_assert_eq(zx_vmar_unmap(zx_vmar_root_self(), addr, PG), ZX_OK);
  zx_handle_close(v);
  zx_handle_close(buf);
}
