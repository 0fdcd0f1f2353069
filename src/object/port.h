// SPDX-License-Identifier: BSD-3-Clause
// Ports: queues of packets (zx_port_*), fed by users (zx_port_queue), by asynchronous
// waits (zx_object_wait_async) and by the library itself (pager requests).
//
// Packets the library produces live in their producer's memory ("owned" packets), so
// that queueing one never allocates and cannot fail: a pager request, for example,
// must reach the pager even when memory has run out. The producer keeps the storage
// alive until the port gives the packet back through `release`.
//
// Lock order: anything a producer holds (a family lock, a page source's lock) -> the
// port's lock (leaf). `release` is called with no port lock held.
#ifndef ZXVMO_SRC_PORT_H_
#define ZXVMO_SRC_PORT_H_

#include <zircon/syscalls/port.h>

#include "object.h"

typedef struct port port_t;
typedef struct port_packet port_packet_t;

struct port_packet {
  port_packet_t* next;  // (port lock) queue link
  port_packet_t* prev;  // (port lock)
  bool queued;          // (port lock) in some port's queue
  // Set by the producer before queueing; not changed while queued.
  zx_port_packet_t pkt;
  // Called once for each time the packet was queued, after it left the queue:
  // `delivered` is true when zx_port_wait handed it to a user (which copied `pkt`
  // first), false when it was discarded (port_cancel_owned does not call it; the
  // port's destruction does, and so do the closing of its last handle and
  // zx_port_cancel_key with the packet's key, which discard queued packets as Zircon
  // does). Runs with no port lock held; may requeue the packet.
  void (*release)(port_packet_t* p, bool delivered);
};

// The port behind an object of type ZX_OBJ_TYPE_PORT.
port_t* port_from_obj(zx_object_t* obj);
// The port's object header (for object_ref / object_unref).
zx_object_t* port_obj(port_t* port);

// Appends producer-owned packet `p` (not queued anywhere) to the port's queue and wakes
// one waiter. Never allocates, never fails, even if the port has no handles left (the
// packet then waits there until the port is destroyed and is released undelivered).
void port_queue_owned(port_t* port, port_packet_t* p);
// Takes `p` out of the port's queue if it is still queued there. True if it was
// (its release is not called); false if it had already left (delivered or discarded:
// release has run or is running).
bool port_cancel_owned(port_t* port, port_packet_t* p);

// The syscall layer's side (syscalls_port.c checks arguments and rights first).

// A new port with one reference (the caller's) and no handle; NULL without memory.
port_t* port_create(void);
// Queues a copy of `pkt` as a ZX_PKT_TYPE_USER packet (allocated: ZX_ERR_NO_MEMORY).
// ZX_ERR_BAD_HANDLE if the port's last handle was closed meanwhile.
zx_status_t port_queue_user(port_t* port, const zx_port_packet_t* pkt);
// Takes the oldest packet into *out, sleeping until `deadline` (ZX_TIME_INFINITE:
// forever) for one to come: ZX_OK or ZX_ERR_TIMED_OUT. The packet's release runs
// (delivered) before it returns.
zx_status_t port_wait(port_t* port, zx_time_t deadline, zx_port_packet_t* out);
// zx_object_wait_async: one ZX_PKT_TYPE_SIGNAL_ONE packet with `key` when one of
// `signals` is asserted on waitable `obj` (with ZX_WAIT_ASYNC_EDGE, only after a later
// change), unless `handle` (through which the caller found `obj`) is closed first.
// ZX_ERR_NO_MEMORY; ZX_ERR_BAD_HANDLE if `handle` or the port's last handle was closed
// meanwhile.
zx_status_t port_wait_async(port_t* port, zx_object_t* obj, zx_handle_t handle, uint64_t key,
                            zx_signals_t signals, uint32_t options);
// zx_port_cancel: ends the asynchronous waits made through `handle` on `obj` with `key`
// and discards their queued packets. zx_port_cancel_key: ends every asynchronous wait
// on the port with `key` and discards every queued packet with `key`. True if anything
// was ended or discarded.
bool port_cancel_source(port_t* port, zx_object_t* obj, zx_handle_t handle, uint64_t key);
bool port_cancel_key(port_t* port, uint64_t key);

#endif  // ZXVMO_SRC_PORT_H_
