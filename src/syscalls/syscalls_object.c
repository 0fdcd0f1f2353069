// SPDX-License-Identifier: BSD-3-Clause
// The syscall layer for handles, generic objects, waiting and time.
//
// Every entry point checks its arguments and rights in Zircon's order and translates
// them for the layers below (handle.c, object.c, the VMO layer), which assume valid
// input. Lookups report, in this order: ZX_ERR_BAD_HANDLE, ZX_ERR_WRONG_TYPE,
// ZX_ERR_ACCESS_DENIED.
//
// Where Zircon differs from what one might guess, it is followed:
//  - zx_handle_replace() invalidates the source handle on every path that finds it
//    valid, including the "rights not a subset" error.
//  - zx_object_get_info(): an unknown topic is ZX_ERR_NOT_SUPPORTED, and ZX_INFO_VMO
//    needs no right beyond a valid VMO handle.
//  - zx_object_get/set_property(): a NULL value is ZX_ERR_INVALID_ARGS before the
//    handle is looked up; an unknown property is ZX_ERR_NOT_SUPPORTED; a too small
//    value is ZX_ERR_BUFFER_TOO_SMALL, checked before the object type.
//  - zx_object_wait_many() with no items sleeps until the deadline, then times out.
//  - Waits check ZX_RIGHT_WAIT before whether the object is waitable at all: a port or
//    VMAR, whose handles never have that right, is ACCESS_DENIED (D37).
#include <errno.h>
#include <string.h>
#include <time.h>

#include "bti.h"
#include "handle.h"
#include "resource.h"
#include "os.h"
#include "user_copy.h"
#include "process_info.h"
#include "object.h"
#include "vmar_tree.h"
#include "vmo.h"

ZX_API zx_status_t zx_handle_close(zx_handle_t handle) {
  // Like free(NULL): closing the never-valid value is not an error.
  if (handle == ZX_HANDLE_INVALID) return ZX_OK;
  return handle_close(handle);
}

ZX_API zx_status_t zx_handle_close_many(const zx_handle_t* handles, size_t num_handles) {
  if (num_handles == 0) return ZX_OK;
  if (handles == NULL) return ZX_ERR_INVALID_ARGS;
  zx_status_t first = ZX_OK;
  for (size_t i = 0; i < num_handles; i++) {
    if (handles[i] == ZX_HANDLE_INVALID) continue;
    zx_status_t st = handle_close(handles[i]);
    if (st != ZX_OK && first == ZX_OK) first = st;
  }
  return first;
}

// The rights of a duplicate or replacement: the source's for ZX_RIGHT_SAME_RIGHTS,
// else `requested`, which must be a subset of the source's.
static bool derive_rights(zx_rights_t source, zx_rights_t requested, zx_rights_t* out) {
  if (requested == ZX_RIGHT_SAME_RIGHTS) {
    *out = source;
    return true;
  }
  if ((source & requested) != requested) return false;
  *out = requested;
  return true;
}

ZX_API zx_status_t zx_handle_duplicate(zx_handle_t handle, zx_rights_t rights,
                                       zx_handle_t* out) {
  zx_object_t* obj;
  zx_rights_t have;
  zx_status_t st = handle_get(handle, ZX_OBJ_TYPE_NONE, ZX_RIGHT_DUPLICATE, &obj, &have);
  if (st != ZX_OK) return st;
  zx_rights_t want;
  if (!derive_rights(have, rights, &want) || out == NULL) {
    st = ZX_ERR_INVALID_ARGS;
  } else {
    zx_handle_t h;
    st = handle_create_another(obj, want, &h);
    if (st == ZX_OK) st = user_put_handle(out, h);
  }
  object_unref(obj);
  return st;
}

ZX_API zx_status_t zx_handle_replace(zx_handle_t handle, zx_rights_t rights, zx_handle_t* out) {
  zx_object_t* obj;
  zx_rights_t have;
  zx_status_t st = handle_get(handle, ZX_OBJ_TYPE_NONE, ZX_RIGHT_NONE, &obj, &have);
  if (st != ZX_OK) return st;
  zx_rights_t want;
  if (!derive_rights(have, rights, &want) || out == NULL) {
    // Zircon removes the source handle even when the replacement is refused.
    handle_close(handle);
    object_unref(obj);
    return ZX_ERR_INVALID_ARGS;
  }
  // In place: the slot takes the new rights and a new generation, so the old value
  // dies and the new one is born in one step. It cannot fail for lack of room, and
  // the object never passes through zero handles.
  zx_handle_t h;
  st = handle_replace(handle, want, &h);
  if (st == ZX_OK) st = user_put_handle(out, h);
  object_unref(obj);
  return st;
}

// Copies one fixed-size record the way Zircon's single-record topics do: on a short
// buffer, *actual = 0, *avail = 1 and ZX_ERR_BUFFER_TOO_SMALL.
static zx_status_t single_record(void* buffer, size_t buffer_size, size_t* actual,
                                 size_t* avail, const void* record, size_t record_size) {
  size_t n = 0;
  if (buffer_size >= record_size) {
    if (buffer == NULL) return ZX_ERR_INVALID_ARGS;
    memcpy(buffer, record, record_size);
    n = 1;
  }
  if (actual != NULL) *actual = n;
  if (avail != NULL) *avail = 1;
  return n == 1 ? ZX_OK : ZX_ERR_BUFFER_TOO_SMALL;
}

static zx_status_t get_info(zx_handle_t handle, uint32_t topic, void* buffer,
                           size_t buffer_size, size_t* actual, size_t* avail);

// A buffer that lies in zxvmo's own mappings is filled through a bounce buffer: the
// records are written with locks held that a fault on the buffer could need
// (user_copy.h).
// Writes a count the call produced to the caller's pointer, if given (user_copy.h).
static zx_status_t put_count(size_t* to, bool given, size_t v) {
  return to && given ? user_copy_out(to, &v, sizeof(v)) : ZX_OK;
}

ZX_API zx_status_t zx_object_get_info(zx_handle_t handle, uint32_t topic, void* buffer,
                                      size_t buffer_size, size_t* actual, size_t* avail) {
  // Counts land in locals first, and are copied out only if the call produced them.
  size_t act = SIZE_MAX, av = SIZE_MAX;
  zx_status_t st;
  if (!buffer || !user_buffer_mapped(buffer, buffer_size)) {
    st = get_info(handle, topic, buffer, buffer_size, actual ? &act : NULL, avail ? &av : NULL);
  } else {
    void* bounce = os_malloc(buffer_size);
    if (!bounce) return ZX_ERR_NO_MEMORY;
    // The bounce starts as a copy of the buffer, so that copying it all back leaves
    // the bytes the call did not write as they were.
    st = user_copy_in(bounce, buffer, buffer_size);
    if (st == ZX_OK) {
      st = get_info(handle, topic, bounce, buffer_size, actual ? &act : NULL,
                    avail ? &av : NULL);
    }
    if (st == ZX_OK) st = user_copy_out(buffer, bounce, buffer_size);
    os_free(bounce);
  }
  zx_status_t c1 = put_count(actual, act != SIZE_MAX, act);
  zx_status_t c2 = put_count(avail, av != SIZE_MAX, av);
  if (c1 != ZX_OK || c2 != ZX_OK) return ZX_ERR_INVALID_ARGS;
  return st;
}

static zx_status_t get_info(zx_handle_t handle, uint32_t topic, void* buffer,
                           size_t buffer_size, size_t* actual, size_t* avail) {
  zx_object_t* obj;
  zx_rights_t rights;
  zx_status_t st;
  switch (topic) {
    case ZX_INFO_HANDLE_VALID:
      st = handle_get(handle, ZX_OBJ_TYPE_NONE, ZX_RIGHT_NONE, &obj, NULL);
      if (st == ZX_OK) object_unref(obj);
      return st;
    case ZX_INFO_HANDLE_BASIC: {
      st = handle_get(handle, ZX_OBJ_TYPE_NONE, ZX_RIGHT_NONE, &obj, &rights);
      if (st != ZX_OK) return st;
      zx_info_handle_basic_t info;
      memset(&info, 0, sizeof(info));
      info.koid = obj->koid;
      info.rights = rights;
      info.type = obj->ops->type;
      info.related_koid = ZX_KOID_INVALID;
      object_unref(obj);
      return single_record(buffer, buffer_size, actual, avail, &info, sizeof(info));
    }
    case ZX_INFO_VMO_V1:
    case ZX_INFO_VMO_V2:
    case ZX_INFO_VMO_V3:
    case ZX_INFO_VMO:
      st = handle_get(handle, ZX_OBJ_TYPE_VMO, ZX_RIGHT_NONE, &obj, &rights);
      if (st != ZX_OK) return st;
      st = vmo_get_info(obj, rights, topic, buffer, buffer_size, actual, avail);
      object_unref(obj);
      return st;
    case ZX_INFO_VMAR:
    case ZX_INFO_VMAR_MAPS:
      st = handle_get(handle, ZX_OBJ_TYPE_VMAR, ZX_RIGHT_INSPECT, &obj, NULL);
      if (st != ZX_OK) return st;
      st = vmar_get_info(vmar_from_obj(obj), topic, buffer, buffer_size, actual, avail);
      object_unref(obj);
      return st;
    case ZX_INFO_PROCESS_MAPS_V1:
    case ZX_INFO_PROCESS_MAPS_V2:
    case ZX_INFO_PROCESS_MAPS:
      st = handle_get(handle, ZX_OBJ_TYPE_PROCESS, ZX_RIGHT_INSPECT, &obj, NULL);
      if (st != ZX_OK) return st;
      st = process_get_maps(obj, topic, buffer, buffer_size, actual, avail);
      object_unref(obj);
      return st;
    case ZX_INFO_PROCESS_VMOS_V1:
    case ZX_INFO_PROCESS_VMOS_V2:
    case ZX_INFO_PROCESS_VMOS_V3:
    case ZX_INFO_PROCESS_VMOS:
    case ZX_INFO_TASK_STATS_V1:
    case ZX_INFO_TASK_STATS:
      st = handle_get(handle, ZX_OBJ_TYPE_PROCESS, ZX_RIGHT_INSPECT, &obj, NULL);
      if (st != ZX_OK) return st;
      object_unref(obj);  // the process object lives as long as the process
      if (topic == ZX_INFO_TASK_STATS_V1 || topic == ZX_INFO_TASK_STATS) {
        return process_get_task_stats(topic, buffer, buffer_size, actual, avail);
      }
      return process_get_vmos(topic, buffer, buffer_size, actual, avail);
    case ZX_INFO_BTI: {
      st = handle_get(handle, ZX_OBJ_TYPE_BTI, ZX_RIGHT_INSPECT, &obj, NULL);
      if (st != ZX_OK) return st;
      zx_info_bti_t info;
      bti_get_info(bti_from_obj(obj), &info);
      object_unref(obj);
      return single_record(buffer, buffer_size, actual, avail, &info, sizeof(info));
    }
    case ZX_INFO_RESOURCE: {
      st = handle_get(handle, ZX_OBJ_TYPE_RESOURCE, ZX_RIGHT_INSPECT, &obj, NULL);
      if (st != ZX_OK) return st;
      resource_t* r = resource_from_obj(obj);
      zx_info_resource_t info;
      memset(&info, 0, sizeof(info));
      info.kind = r->kind;
      info.flags = r->flags;
      info.base = r->rbase;
      info.size = r->size;
      object_get_name(obj, info.name);
      object_unref(obj);
      return single_record(buffer, buffer_size, actual, avail, &info, sizeof(info));
    }
    default:
      return ZX_ERR_NOT_SUPPORTED;
  }
}

ZX_API zx_status_t zx_object_get_property(zx_handle_t handle, uint32_t property, void* value,
                                          size_t value_size) {
  if (value == NULL) return ZX_ERR_INVALID_ARGS;
  zx_object_t* obj;
  zx_status_t st = handle_get(handle, ZX_OBJ_TYPE_NONE, ZX_RIGHT_GET_PROPERTY, &obj, NULL);
  if (st != ZX_OK) return st;
  switch (property) {
    case ZX_PROP_NAME: {
      if (value_size < ZX_MAX_NAME_LEN) {
        st = ZX_ERR_BUFFER_TOO_SMALL;
        break;
      }
      char name[ZX_MAX_NAME_LEN];
      object_get_name(obj, name);
      st = user_copy_out(value, name, ZX_MAX_NAME_LEN);
      break;
    }
    case ZX_PROP_VMO_CONTENT_SIZE: {
      if (value_size < sizeof(uint64_t)) {
        st = ZX_ERR_BUFFER_TOO_SMALL;
      } else if (obj->ops->type != ZX_OBJ_TYPE_VMO) {
        st = ZX_ERR_WRONG_TYPE;
      } else {
        uint64_t size = 0;
        st = vmo_get_content_size(obj, &size);
        if (st == ZX_OK) st = user_copy_out(value, &size, sizeof(size));
      }
      break;
    }
    default:
      st = ZX_ERR_NOT_SUPPORTED;
      break;
  }
  object_unref(obj);
  return st;
}

ZX_API zx_status_t zx_object_set_property(zx_handle_t handle, uint32_t property,
                                          const void* value, size_t value_size) {
  if (value == NULL) return ZX_ERR_INVALID_ARGS;
  zx_object_t* obj;
  zx_rights_t rights;
  zx_status_t st = handle_get(handle, ZX_OBJ_TYPE_NONE, ZX_RIGHT_SET_PROPERTY, &obj, &rights);
  if (st != ZX_OK) return st;
  switch (property) {
    case ZX_PROP_NAME:
      // Longer names are cut to ZX_MAX_NAME_LEN - 1 bytes, as on Zircon.
    {
      // Read through user_copy_in: the value may lie in a mapping (user_copy.h).
      char name[ZX_MAX_NAME_LEN];
      size_t n = value_size < sizeof(name) ? value_size : sizeof(name);
      st = user_copy_in(name, value, n);
      if (st == ZX_OK) object_set_name(obj, name, n);
    }
      break;
    case ZX_PROP_VMO_CONTENT_SIZE: {
      // Lowering the content size zeroes data, so (as on Zircon) it needs WRITE too;
      // the type is checked before that right, as everywhere.
      if (value_size < sizeof(uint64_t)) {
        st = ZX_ERR_BUFFER_TOO_SMALL;
      } else if (obj->ops->type != ZX_OBJ_TYPE_VMO) {
        st = ZX_ERR_WRONG_TYPE;
      } else if (!(rights & ZX_RIGHT_WRITE)) {
        st = ZX_ERR_ACCESS_DENIED;
      } else {
        uint64_t size;
        st = user_copy_in(&size, value, sizeof(size));
        if (st == ZX_OK) st = vmo_set_content_size(obj, size);
      }
      break;
    }
    default:
      st = ZX_ERR_NOT_SUPPORTED;
      break;
  }
  object_unref(obj);
  return st;
}

ZX_API zx_status_t zx_object_wait_one(zx_handle_t handle, zx_signals_t signals,
                                      zx_time_t deadline, zx_signals_t* observed) {
  zx_object_t* obj;
  zx_status_t st = handle_get(handle, ZX_OBJ_TYPE_NONE, ZX_RIGHT_WAIT, &obj, NULL);
  if (st != ZX_OK) return st;
  if (!obj->ops->waitable) {
    object_unref(obj);
    return ZX_ERR_NOT_SUPPORTED;
  }
  zx_signals_t pending = 0;
  st = object_wait_many(&obj, &handle, &signals, &pending, 1, deadline);
  object_unref(obj);
  if (observed != NULL && user_copy_out(observed, &pending, sizeof(pending)) != ZX_OK) {
    st = ZX_ERR_INVALID_ARGS;
  }
  return st;
}

ZX_API zx_status_t zx_object_wait_many(zx_wait_item_t* items, size_t num_items,
                                       zx_time_t deadline) {
  if (num_items == 0) {
    zx_nanosleep(deadline);
    return ZX_ERR_TIMED_OUT;
  }
  if (num_items > ZX_WAIT_MANY_MAX_ITEMS) return ZX_ERR_OUT_OF_RANGE;
  if (items == NULL) return ZX_ERR_INVALID_ARGS;

  zx_object_t* objs[ZX_WAIT_MANY_MAX_ITEMS];
  zx_handle_t handles[ZX_WAIT_MANY_MAX_ITEMS];
  zx_signals_t waitfor[ZX_WAIT_MANY_MAX_ITEMS];
  zx_signals_t pending[ZX_WAIT_MANY_MAX_ITEMS];
  size_t found = 0;
  zx_status_t st = ZX_OK;
  for (; found < num_items; found++) {
    handles[found] = items[found].handle;
    waitfor[found] = items[found].waitfor;
    st = handle_get(handles[found], ZX_OBJ_TYPE_NONE, ZX_RIGHT_WAIT, &objs[found], NULL);
    if (st != ZX_OK) break;
    if (!objs[found]->ops->waitable) {
      st = ZX_ERR_NOT_SUPPORTED;
      found++;  // its reference is dropped below with the others
      break;
    }
  }
  if (st == ZX_OK) {
    st = object_wait_many(objs, handles, waitfor, pending, num_items, deadline);
    for (size_t i = 0; i < num_items; i++) items[i].pending = pending[i];
  }
  for (size_t i = 0; i < found; i++) object_unref(objs[i]);
  return st;
}

ZX_API zx_status_t zx_object_signal(zx_handle_t handle, uint32_t clear_mask,
                                    uint32_t set_mask) {
  zx_object_t* obj;
  zx_status_t st = handle_get(handle, ZX_OBJ_TYPE_NONE, ZX_RIGHT_SIGNAL, &obj, NULL);
  if (st != ZX_OK) return st;
  zx_signals_t allowed = ZX_USER_SIGNAL_ALL | obj->ops->user_settable;
  if (((clear_mask | set_mask) & ~allowed) != 0) {
    st = ZX_ERR_INVALID_ARGS;
  } else {
    object_update_signals(obj, clear_mask, set_mask);
  }
  object_unref(obj);
  return st;
}

ZX_API zx_time_t zx_clock_get_monotonic(void) { return clock_monotonic_ns(); }

ZX_API zx_time_t zx_deadline_after(zx_duration_t nanoseconds) {
  return zx_time_add_duration(clock_monotonic_ns(), nanoseconds);
}

ZX_API zx_status_t zx_nanosleep(zx_time_t deadline) {
  if (deadline <= 0) return ZX_OK;
  struct timespec ts;
  ts.tv_sec = (time_t)(deadline / 1000000000);
  ts.tv_nsec = (long)(deadline % 1000000000);
  // Absolute sleeps resume correctly after a signal handler interrupts them.
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
  }
  return ZX_OK;
}

ZX_API uint32_t zx_system_get_page_size(void) { return (uint32_t)PAGE_SIZE; }
