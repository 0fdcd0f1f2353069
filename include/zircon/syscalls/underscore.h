// SPDX-License-Identifier: BSD-3-Clause
/* zxvmo: the underscore names of the calls. On Fuchsia every system call zx_foo() is
 * also exported as _zx_foo(), the name to use where zx_foo may be intercepted (by a
 * sanitizer or a test double). zxvmo exports each _zx_ name as an alias of the same
 * function: the same address, so either name may be called. Included by
 * <zircon/syscalls.h>; the build derives the list of aliases from this file, so a call
 * gains its _zx_ name by being declared here. */
#ifndef SYSROOT_ZIRCON_SYSCALLS_UNDERSCORE_H_
#define SYSROOT_ZIRCON_SYSCALLS_UNDERSCORE_H_

#include <stddef.h>
#include <stdint.h>
#include <zircon/compiler.h>
#include <zircon/syscalls/port.h>
#include <zircon/types.h>

__BEGIN_CDECLS

/* <zircon/syscalls.h> */
zx_status_t _zx_handle_close(zx_handle_t handle);
zx_status_t _zx_handle_close_many(const zx_handle_t* handles, size_t num_handles);
zx_status_t _zx_handle_duplicate(zx_handle_t handle, zx_rights_t rights, zx_handle_t* out);
zx_status_t _zx_handle_replace(zx_handle_t handle, zx_rights_t rights, zx_handle_t* out);
zx_status_t _zx_object_get_info(zx_handle_t handle, uint32_t topic, void* buffer,
                                size_t buffer_size, size_t* actual, size_t* avail);
zx_status_t _zx_object_get_property(zx_handle_t handle, uint32_t property, void* value,
                                    size_t value_size);
zx_status_t _zx_object_set_property(zx_handle_t handle, uint32_t property,
                                    const void* value, size_t value_size);
zx_status_t _zx_object_wait_one(zx_handle_t handle, zx_signals_t signals,
                                zx_time_t deadline, zx_signals_t* observed);
zx_status_t _zx_object_wait_many(zx_wait_item_t* items, size_t num_items,
                                 zx_time_t deadline);
zx_status_t _zx_object_signal(zx_handle_t handle, uint32_t clear_mask, uint32_t set_mask);
zx_status_t _zx_event_create(uint32_t options, zx_handle_t* out);
zx_status_t _zx_port_create(uint32_t options, zx_handle_t* out);
zx_status_t _zx_port_queue(zx_handle_t handle, const zx_port_packet_t* packet);
zx_status_t _zx_port_wait(zx_handle_t handle, zx_time_t deadline, zx_port_packet_t* packet);
zx_status_t _zx_port_cancel(zx_handle_t handle, zx_handle_t source, uint64_t key);
zx_status_t _zx_port_cancel_key(zx_handle_t handle, uint32_t options, uint64_t key);
zx_status_t _zx_object_wait_async(zx_handle_t handle, zx_handle_t port, uint64_t key,
                                  zx_signals_t signals, uint32_t options);
zx_time_t _zx_clock_get_monotonic(void);
zx_time_t _zx_deadline_after(zx_duration_t nanoseconds);
zx_status_t _zx_nanosleep(zx_time_t deadline);
uint32_t _zx_system_get_page_size(void);
zx_status_t _zx_vmo_create(uint64_t size, uint32_t options, zx_handle_t* out);
zx_status_t _zx_vmo_read(zx_handle_t handle, void* buffer, uint64_t offset,
                         size_t buffer_size);
zx_status_t _zx_vmo_write(zx_handle_t handle, const void* buffer, uint64_t offset,
                          size_t buffer_size);
zx_status_t _zx_vmo_get_size(zx_handle_t handle, uint64_t* size);
zx_status_t _zx_vmo_set_size(zx_handle_t handle, uint64_t size);
zx_status_t _zx_vmo_set_stream_size(zx_handle_t handle, uint64_t stream_size);
zx_status_t _zx_vmo_op_range(zx_handle_t handle, uint32_t op, uint64_t offset,
                             uint64_t size, void* buffer, size_t buffer_size);
zx_status_t _zx_vmo_create_child(zx_handle_t handle, uint32_t options, uint64_t offset,
                                 uint64_t size, zx_handle_t* out);
zx_status_t _zx_vmo_replace_as_executable(zx_handle_t handle, zx_handle_t vmex,
                                          zx_handle_t* out);
zx_status_t _zx_vmo_set_cache_policy(zx_handle_t handle, uint32_t cache_policy);
zx_status_t _zx_vmo_clone(zx_handle_t handle, uint32_t options, uint64_t offset,
                          uint64_t size, zx_handle_t* out);
zx_status_t _zx_vmar_allocate(zx_handle_t parent_vmar, zx_vm_option_t options,
                              size_t offset, size_t size, zx_handle_t* child_vmar,
                              zx_vaddr_t* child_addr);
zx_status_t _zx_vmar_destroy(zx_handle_t handle);
zx_status_t _zx_vmar_map(zx_handle_t handle, zx_vm_option_t options, size_t vmar_offset,
                         zx_handle_t vmo, uint64_t vmo_offset, size_t len,
                         zx_vaddr_t* mapped_addr);
zx_status_t _zx_vmar_unmap(zx_handle_t handle, zx_vaddr_t addr, size_t len);
zx_status_t _zx_vmar_protect(zx_handle_t handle, zx_vm_option_t options, zx_vaddr_t addr,
                             size_t len);
zx_status_t _zx_vmar_op_range(zx_handle_t handle, uint32_t op, zx_vaddr_t address,
                              size_t size, void* buffer, size_t buffer_size);
zx_status_t _zx_pager_create(uint32_t options, zx_handle_t* out);
zx_status_t _zx_pager_create_vmo(zx_handle_t pager, uint32_t options, zx_handle_t port,
                                 uint64_t key, uint64_t size, zx_handle_t* out);
zx_status_t _zx_pager_detach_vmo(zx_handle_t pager, zx_handle_t vmo);
zx_status_t _zx_pager_supply_pages(zx_handle_t pager, zx_handle_t pager_vmo,
                                   uint64_t offset, uint64_t length, zx_handle_t aux_vmo,
                                   uint64_t aux_offset);
zx_status_t _zx_pager_op_range(zx_handle_t pager, uint32_t op, zx_handle_t pager_vmo,
                               uint64_t offset, uint64_t length, uint64_t data);
zx_status_t _zx_resource_create(zx_handle_t parent_rsrc, uint32_t options, uint64_t base,
                                size_t size, const char* name, size_t name_size,
                                zx_handle_t* resource_out);
zx_status_t _zx_vmo_create_physical(zx_handle_t resource, zx_paddr_t paddr, size_t size,
                                    zx_handle_t* out);
zx_status_t _zx_vmo_create_contiguous(zx_handle_t bti, size_t size, uint32_t alignment_log2,
                                      zx_handle_t* out);
zx_status_t _zx_iommu_create(zx_handle_t resource, uint32_t type, const void* desc,
                             size_t desc_size, zx_handle_t* out);
zx_status_t _zx_bti_create(zx_handle_t iommu, uint32_t options, uint64_t bti_id,
                           zx_handle_t* out);
zx_status_t _zx_bti_pin(zx_handle_t handle, uint32_t options, zx_handle_t vmo,
                        uint64_t offset, uint64_t size, zx_paddr_t* addrs, size_t num_addrs,
                        zx_handle_t* pmt);
zx_status_t _zx_bti_release_quarantine(zx_handle_t handle);
zx_status_t _zx_pmt_unpin(zx_handle_t handle);

/* <zircon/syscalls-next.h> */
zx_status_t _zx_pager_query_dirty_ranges(zx_handle_t pager, zx_handle_t pager_vmo,
                                         uint64_t offset, uint64_t length, void* buffer,
                                         size_t buffer_size, size_t* actual, size_t* avail);
zx_status_t _zx_pager_query_vmo_stats(zx_handle_t pager, zx_handle_t pager_vmo,
                                      uint32_t options, void* buffer, size_t buffer_size);

/* <zircon/process.h> */
zx_handle_t _zx_vmar_root_self(void);
zx_handle_t _zx_process_self(void);
zx_handle_t _zx_job_default(void);

/* <zircon/status.h> */
const char* _zx_status_get_string(zx_status_t status);

__END_CDECLS

#endif /* SYSROOT_ZIRCON_SYSCALLS_UNDERSCORE_H_ */
