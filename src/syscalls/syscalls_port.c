// SPDX-License-Identifier: BSD-3-Clause
// The syscall layer for ports and asynchronous waits (docs/behavior.md §13).
//
// Checks come in the order of Zircon's kernel, which differs from its documentation in
// places (D37): a source handle of zx_port_cancel needs ZX_RIGHT_WAIT, not WRITE;
// waiting on a port is ACCESS_DENIED, as port handles never have ZX_RIGHT_WAIT.
// Packets move through user_copy, as every buffer that may lie in a mapping does.
#include "handle.h"
#include "port.h"
#include "user_copy.h"

#define WAIT_ASYNC_OPTIONS \
  (ZX_WAIT_ASYNC_TIMESTAMP | ZX_WAIT_ASYNC_EDGE | ZX_WAIT_ASYNC_BOOT_TIMESTAMP)

ZX_API zx_status_t zx_port_create(uint32_t options, zx_handle_t* out) {
  if (process_forked()) return ZX_ERR_BAD_STATE;  // docs/behavior.md §17
  // No interrupt is ever bound to a port in zxvmo, so the option changes nothing.
  if (options != 0 && options != ZX_PORT_BIND_TO_INTERRUPT) return ZX_ERR_INVALID_ARGS;
  if (out == NULL) return ZX_ERR_INVALID_ARGS;
  port_t* port = port_create();
  if (port == NULL) return ZX_ERR_NO_MEMORY;
  zx_handle_t h;
  zx_status_t st = handle_create(port_obj(port), ZX_DEFAULT_PORT_RIGHTS, &h);
  // The handle holds its own reference; on failure this frees the port.
  object_unref(port_obj(port));
  return st == ZX_OK ? user_put_handle(out, h) : st;
}

ZX_API zx_status_t zx_port_queue(zx_handle_t handle, const zx_port_packet_t* packet) {
  zx_object_t* obj;
  zx_status_t st = handle_get(handle, ZX_OBJ_TYPE_PORT, ZX_RIGHT_WRITE, &obj, NULL);
  if (st != ZX_OK) return st;
  zx_port_packet_t pkt;
  if (packet == NULL || user_copy_in(&pkt, packet, sizeof(pkt)) != ZX_OK) {
    st = ZX_ERR_INVALID_ARGS;
  } else {
    st = port_queue_user(port_from_obj(obj), &pkt);
  }
  object_unref(obj);
  return st;
}

// A packet is taken from the queue only if it can be handed over: an output that would
// fault is refused before waiting (D39), by copying its bytes in and back.
static bool packet_writable(zx_port_packet_t* packet) {
  if (packet == NULL) return false;
  if (!user_buffer_mapped(packet, sizeof(*packet))) return true;
  zx_port_packet_t probe;
  return user_copy_in(&probe, packet, sizeof(probe)) == ZX_OK &&
         user_copy_out(packet, &probe, sizeof(probe)) == ZX_OK;
}

ZX_API zx_status_t zx_port_wait(zx_handle_t handle, zx_time_t deadline,
                                zx_port_packet_t* packet) {
  zx_object_t* obj;
  zx_status_t st = handle_get(handle, ZX_OBJ_TYPE_PORT, ZX_RIGHT_READ, &obj, NULL);
  if (st != ZX_OK) return st;
  zx_port_packet_t pkt;
  if (!packet_writable(packet)) {
    st = ZX_ERR_INVALID_ARGS;
  } else {
    st = port_wait(port_from_obj(obj), deadline, &pkt);
    // Fails only if another thread unmapped the buffer meanwhile: the packet is then
    // lost, as on Zircon.
    if (st == ZX_OK) st = user_copy_out(packet, &pkt, sizeof(pkt));
  }
  object_unref(obj);
  return st;
}

// The object behind `handle` for an asynchronous wait or its cancel: BAD_HANDLE,
// ACCESS_DENIED (no WAIT), then NOT_SUPPORTED (not waitable).
static zx_status_t get_waitable(zx_handle_t handle, zx_object_t** out) {
  zx_status_t st = handle_get(handle, ZX_OBJ_TYPE_NONE, ZX_RIGHT_WAIT, out, NULL);
  if (st == ZX_OK && !(*out)->ops->waitable) {
    object_unref(*out);
    st = ZX_ERR_NOT_SUPPORTED;
  }
  return st;
}

ZX_API zx_status_t zx_port_cancel(zx_handle_t handle, zx_handle_t source, uint64_t key) {
  zx_object_t* obj;
  zx_status_t st = handle_get(handle, ZX_OBJ_TYPE_PORT, ZX_RIGHT_WRITE, &obj, NULL);
  if (st != ZX_OK) return st;
  zx_object_t* src;
  st = get_waitable(source, &src);
  if (st == ZX_OK) {
    if (!port_cancel_source(port_from_obj(obj), src, source, key)) st = ZX_ERR_NOT_FOUND;
    object_unref(src);
  }
  object_unref(obj);
  return st;
}

ZX_API zx_status_t zx_port_cancel_key(zx_handle_t handle, uint32_t options, uint64_t key) {
  if (options != 0) return ZX_ERR_INVALID_ARGS;
  zx_object_t* obj;
  zx_status_t st = handle_get(handle, ZX_OBJ_TYPE_PORT, ZX_RIGHT_WRITE, &obj, NULL);
  if (st != ZX_OK) return st;
  if (!port_cancel_key(port_from_obj(obj), key)) st = ZX_ERR_NOT_FOUND;
  object_unref(obj);
  return st;
}

ZX_API zx_status_t zx_object_wait_async(zx_handle_t handle, zx_handle_t port, uint64_t key,
                                        zx_signals_t signals, uint32_t options) {
  if ((options & ~WAIT_ASYNC_OPTIONS) != 0) return ZX_ERR_INVALID_ARGS;
  // One clock or the other.
  if ((options & ZX_WAIT_ASYNC_TIMESTAMP) && (options & ZX_WAIT_ASYNC_BOOT_TIMESTAMP)) {
    return ZX_ERR_INVALID_ARGS;
  }
  zx_object_t* pobj;
  zx_status_t st = handle_get(port, ZX_OBJ_TYPE_PORT, ZX_RIGHT_WRITE, &pobj, NULL);
  if (st != ZX_OK) return st;
  zx_object_t* obj;
  st = get_waitable(handle, &obj);
  if (st == ZX_OK) {
    st = port_wait_async(port_from_obj(pobj), obj, handle, key, signals, options);
    object_unref(obj);
  }
  object_unref(pobj);
  return st;
}
