// SPDX-License-Identifier: BSD-3-Clause
/* zxvmo: ports and their packets (zx_port_*, zx_object_wait_async), with Zircon's names,
 * values and layouts. A packet is 48 bytes: a 16-byte header and a 32-byte union, of
 * which zxvmo produces the user, signal and page-request forms. The hypervisor forms
 * whose layout depends on the architecture (guest memory, I/O and vCPU traps) are not
 * declared; the union keeps its 32 bytes without them. */
#ifndef SYSROOT_ZIRCON_SYSCALLS_PORT_H_
#define SYSROOT_ZIRCON_SYSCALLS_PORT_H_

#include <stdint.h>
#include <zircon/compiler.h>
#include <zircon/types.h>

__BEGIN_CDECLS

/* ---- zx_object_wait_async() options ----------------------------------- */

/* Zero: every asynchronous wait is one-shot. Kept for old code. */
#define ZX_WAIT_ASYNC_ONCE ((uint32_t)0u)
/* Stamp the packet with the monotonic time at which the wait was satisfied. */
#define ZX_WAIT_ASYNC_TIMESTAMP ((uint32_t)1u)
/* Ignore signals already asserted at the call: only a later change counts. */
#define ZX_WAIT_ASYNC_EDGE ((uint32_t)2u)
/* Stamp the packet with the boot-clock time instead (exclusive with TIMESTAMP). */
#define ZX_WAIT_ASYNC_BOOT_TIMESTAMP ((uint32_t)4u)

/* ---- Packet types ------------------------------------------------------ */

typedef uint32_t zx_packet_type_t;

#define ZX_PKT_TYPE_USER ((zx_packet_type_t)0x00u)
#define ZX_PKT_TYPE_SIGNAL_ONE ((zx_packet_type_t)0x01u)
/* 0x02 belonged to the retired repeating signal packets. */
#define ZX_PKT_TYPE_GUEST_BELL ((zx_packet_type_t)0x03u)
#define ZX_PKT_TYPE_GUEST_MEM ((zx_packet_type_t)0x04u)
#define ZX_PKT_TYPE_GUEST_IO ((zx_packet_type_t)0x05u)
#define ZX_PKT_TYPE_GUEST_VCPU ((zx_packet_type_t)0x06u)
#define ZX_PKT_TYPE_INTERRUPT ((zx_packet_type_t)0x07u)
#define ZX_PKT_TYPE_PAGE_REQUEST ((zx_packet_type_t)0x09u)

#define ZX_PKT_IS_USER(type) ((type) == ZX_PKT_TYPE_USER)
#define ZX_PKT_IS_SIGNAL_ONE(type) ((type) == ZX_PKT_TYPE_SIGNAL_ONE)
#define ZX_PKT_IS_GUEST_BELL(type) ((type) == ZX_PKT_TYPE_GUEST_BELL)
#define ZX_PKT_IS_GUEST_MEM(type) ((type) == ZX_PKT_TYPE_GUEST_MEM)
#define ZX_PKT_IS_GUEST_IO(type) ((type) == ZX_PKT_TYPE_GUEST_IO)
#define ZX_PKT_IS_GUEST_VCPU(type) ((type) == ZX_PKT_TYPE_GUEST_VCPU)
#define ZX_PKT_IS_INTERRUPT(type) ((type) == ZX_PKT_TYPE_INTERRUPT)
#define ZX_PKT_IS_PAGE_REQUEST(type) ((type) == ZX_PKT_TYPE_PAGE_REQUEST)

/* zx_port_create() option: interrupt packets (none in zxvmo) go ahead of others. */
#define ZX_PORT_BIND_TO_INTERRUPT ((uint32_t)(0x1u << 0))

/* zx_packet_guest_vcpu_t's type field (kept for the values). */
#define ZX_PKT_GUEST_VCPU_INTERRUPT ((uint32_t)0)
#define ZX_PKT_GUEST_VCPU_STARTUP ((uint32_t)1)
#define ZX_PKT_GUEST_VCPU_EXIT ((uint32_t)2)

/* zx_packet_page_request_t's command field. */
#define ZX_PAGER_VMO_READ ((uint16_t)0)
#define ZX_PAGER_VMO_COMPLETE ((uint16_t)1)
#define ZX_PAGER_VMO_DIRTY ((uint16_t)2)

/* ---- Packet bodies (32 bytes each) ------------------------------------- */

/* ZX_PKT_TYPE_USER: whatever zx_port_queue() was given. */
typedef union zx_packet_user {
  uint64_t u64[4];
  uint32_t u32[8];
  uint16_t u16[16];
  uint8_t c8[32];
} zx_packet_user_t;

/* ZX_PKT_TYPE_SIGNAL_ONE: the signals waited for, those asserted when the wait was
 * satisfied, a count that is always 1, and the time if the wait asked for one. */
typedef struct zx_packet_signal {
  zx_signals_t trigger;
  zx_signals_t observed;
  uint64_t count;
  zx_time_t timestamp;
  uint64_t reserved1;
} zx_packet_signal_t;

typedef struct zx_packet_guest_bell {
  zx_gpaddr_t addr;
  uint64_t reserved0;
  uint64_t reserved1;
  uint64_t reserved2;
} zx_packet_guest_bell_t;

typedef struct zx_packet_interrupt {
  zx_instant_boot_t timestamp;
  uint64_t reserved0;
  uint64_t reserved1;
  uint64_t reserved2;
} zx_packet_interrupt_t;

/* ZX_PKT_TYPE_PAGE_REQUEST: a pager's VMO needs [offset, offset + length). */
typedef struct zx_packet_page_request {
  uint16_t command;
  uint16_t flags;
  uint32_t reserved0;
  uint64_t offset;
  uint64_t length;
  uint64_t reserved1;
} zx_packet_page_request_t;

/* ---- The packet -------------------------------------------------------- */

typedef struct zx_port_packet {
  uint64_t key;
  zx_packet_type_t type;
  zx_status_t status;
  /* Anonymous, as on Zircon: standard from C11; __extension__ keeps C99 -pedantic quiet. */
  __extension__ union {
    zx_packet_user_t user;
    zx_packet_signal_t signal;
    zx_packet_guest_bell_t guest_bell;
    zx_packet_interrupt_t interrupt;
    zx_packet_page_request_t page_request;
  };
} zx_port_packet_t;

__END_CDECLS

#endif /* SYSROOT_ZIRCON_SYSCALLS_PORT_H_ */
