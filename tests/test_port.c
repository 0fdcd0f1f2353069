// SPDX-License-Identifier: BSD-3-Clause
// Ports and asynchronous waits, single-threaded (docs/behavior.md §13): every call, its
// checks in order, FIFO delivery, deadlines, zx_object_wait_async on events, VMOs and
// the process (level, EDGE, timestamps), cancels, the ends of handles and ports,
// producer-owned packets (port.h), allocation failures and fork().
#include <stdatomic.h>
#include <sys/wait.h>
#include <zircon/process.h>
#include <unistd.h>

#include "helpers.h"
#include "os.h"
#include "port.h"
#include "port_helpers.h"

static zx_port_packet_t take(zx_handle_t port) {
  zx_port_packet_t p;
  memset(&p, 0xcd, sizeof(p));
  cr_assert_eq(zx_port_wait(port, 0, &p), ZX_OK);
  return p;
}

static void expect_signal_packet(const zx_port_packet_t* p, uint64_t key, zx_signals_t trigger,
                                 zx_signals_t observed) {
  cr_assert_eq(p->key, key);
  cr_assert_eq(p->type, ZX_PKT_TYPE_SIGNAL_ONE);
  cr_assert_eq(p->status, ZX_OK);
  cr_assert_eq(p->signal.trigger, trigger);
  cr_assert_eq(p->signal.observed, observed);
  cr_assert_eq(p->signal.count, 1u);
}

// ---- The header -----------------------------------------------------------------------

Test(port, layout_and_values) {
  cr_assert_eq(sizeof(zx_port_packet_t), 48u);
  cr_assert_eq(offsetof(zx_port_packet_t, user), 16u);
  cr_assert_eq(offsetof(zx_port_packet_t, signal.timestamp), 32u);
  cr_assert_eq(offsetof(zx_port_packet_t, page_request.offset), 24u);
  cr_assert_eq(sizeof(zx_packet_page_request_t), 32u);
  cr_assert_eq(ZX_PKT_TYPE_USER, 0u);
  cr_assert_eq(ZX_PKT_TYPE_SIGNAL_ONE, 1u);
  cr_assert_eq(ZX_PKT_TYPE_PAGE_REQUEST, 9u);
  cr_assert(ZX_PKT_IS_PAGE_REQUEST(9u) && !ZX_PKT_IS_USER(9u));
  cr_assert_eq(ZX_PAGER_VMO_READ, 0);
  cr_assert_eq(ZX_PAGER_VMO_COMPLETE, 1);
  cr_assert_eq(ZX_PAGER_VMO_DIRTY, 2);
  cr_assert_eq(ZX_WAIT_ASYNC_ONCE, 0u);
  cr_assert_eq(ZX_WAIT_ASYNC_TIMESTAMP, 1u);
  cr_assert_eq(ZX_WAIT_ASYNC_EDGE, 2u);
  cr_assert_eq(ZX_WAIT_ASYNC_BOOT_TIMESTAMP, 4u);
  cr_assert_eq(ZX_PORT_BIND_TO_INTERRUPT, 1u);
}

// ---- zx_port_create -------------------------------------------------------------------

Test(port, create) {
  zx_handle_t p = ZX_HANDLE_INVALID;
  cr_assert_eq(zx_port_create(0, &p), ZX_OK);
  zx_info_handle_basic_t info;
  cr_assert_eq(zx_object_get_info(p, ZX_INFO_HANDLE_BASIC, &info, sizeof(info), NULL, NULL),
               ZX_OK);
  cr_assert_eq(info.type, ZX_OBJ_TYPE_PORT);
  cr_assert_eq(info.rights, ZX_DEFAULT_PORT_RIGHTS);
  cr_assert_eq(info.rights, ZX_RIGHT_DUPLICATE | ZX_RIGHT_TRANSFER | ZX_RIGHT_INSPECT |
                                ZX_RIGHT_READ | ZX_RIGHT_WRITE);
  cr_assert(port_empty(p));
  cr_assert_eq(zx_handle_close(p), ZX_OK);
  // The interrupt option is accepted (no interrupt ever binds to it).
  cr_assert_eq(zx_port_create(ZX_PORT_BIND_TO_INTERRUPT, &p), ZX_OK);
  queue_key(p, 5);
  cr_assert_eq(take(p).key, 5u);
  cr_assert_eq(zx_handle_close(p), ZX_OK);
}

Test(port, create_errors) {
  uint64_t before = handle_count_alive();
  zx_handle_t p = ZX_HANDLE_INVALID;
  cr_assert_eq(zx_port_create(2, &p), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(zx_port_create(ZX_PORT_BIND_TO_INTERRUPT | 2, &p), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(zx_port_create(0xffffffffu, &p), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(zx_port_create(0, NULL), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(p, ZX_HANDLE_INVALID);
  cr_assert_eq(handle_count_alive(), before);
}

// ---- zx_port_queue / zx_port_wait -----------------------------------------------------

Test(port, queue_then_wait_returns_the_packet) {
  zx_handle_t port = mkport();
  zx_port_packet_t in = user_packet(12);
  in.type = ZX_PKT_TYPE_USER + 5;  // overridden, as Zircon does
  in.status = -3;                  // kept
  cr_assert_eq(zx_port_queue(port, &in), ZX_OK);
  zx_port_packet_t out;
  memset(&out, 0, sizeof(out));
  cr_assert_eq(zx_port_wait(port, ZX_TIME_INFINITE, &out), ZX_OK);
  cr_assert_eq(out.key, 12u);
  cr_assert_eq(out.type, ZX_PKT_TYPE_USER);
  cr_assert_eq(out.status, -3);
  cr_assert_eq(memcmp(&out.user, &in.user, sizeof(in.user)), 0);
  cr_assert(port_empty(port));
  cr_assert_eq(zx_handle_close(port), ZX_OK);
}

Test(port, fifo_order) {
  zx_handle_t port = mkport();
  for (uint64_t k = 0; k < 200; k++) queue_key(port, k * 7);
  for (uint64_t k = 0; k < 200; k++) {
    zx_port_packet_t p = take(port);
    cr_assert_eq(p.key, k * 7);
    cr_assert_eq(p.user.u64[3], k * 7 + 3);
  }
  cr_assert(port_empty(port));
  cr_assert_eq(zx_handle_close(port), ZX_OK);
}

Test(port, queue_errors_in_order) {
  zx_handle_t port = mkport();
  zx_handle_t ev = mkev();
  zx_port_packet_t pk = user_packet(1);
  // Lookup: BAD_HANDLE, WRONG_TYPE, ACCESS_DENIED (WRITE), then the packet pointer.
  cr_assert_eq(zx_port_queue(ZX_HANDLE_INVALID, &pk), ZX_ERR_BAD_HANDLE);
  cr_assert_eq(zx_port_queue(ZX_HANDLE_INVALID, NULL), ZX_ERR_BAD_HANDLE);
  cr_assert_eq(zx_port_queue(ev, &pk), ZX_ERR_WRONG_TYPE);
  zx_handle_t ro = dup_with(port, ZX_DEFAULT_PORT_RIGHTS & ~ZX_RIGHT_WRITE);
  cr_assert_eq(zx_port_queue(ro, &pk), ZX_ERR_ACCESS_DENIED);
  cr_assert_eq(zx_port_queue(ro, NULL), ZX_ERR_ACCESS_DENIED);
  cr_assert_eq(zx_port_queue(port, NULL), ZX_ERR_INVALID_ARGS);
  cr_assert(port_empty(port));
  // The read-only handle still takes packets.
  queue_key(port, 9);
  zx_port_packet_t out;
  cr_assert_eq(zx_port_wait(ro, 0, &out), ZX_OK);
  cr_assert_eq(out.key, 9u);
  zx_handle_t hs[] = {port, ev, ro};
  cr_assert_eq(zx_handle_close_many(hs, 3), ZX_OK);
  cr_assert_eq(zx_port_queue(port, &pk), ZX_ERR_BAD_HANDLE);
}

Test(port, wait_errors_in_order) {
  zx_handle_t port = mkport();
  zx_handle_t ev = mkev();
  zx_port_packet_t out;
  cr_assert_eq(zx_port_wait(ZX_HANDLE_INVALID, 0, &out), ZX_ERR_BAD_HANDLE);
  cr_assert_eq(zx_port_wait(ev, 0, &out), ZX_ERR_WRONG_TYPE);
  zx_handle_t wo = dup_with(port, ZX_DEFAULT_PORT_RIGHTS & ~ZX_RIGHT_READ);
  queue_key(wo, 4);  // WRITE alone queues
  cr_assert_eq(zx_port_wait(wo, 0, &out), ZX_ERR_ACCESS_DENIED);
  cr_assert_eq(zx_port_wait(wo, 0, NULL), ZX_ERR_ACCESS_DENIED);
  // A NULL packet pointer is refused before anything is taken (D39).
  cr_assert_eq(zx_port_wait(port, 0, NULL), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(zx_port_wait(port, ZX_TIME_INFINITE, NULL), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(take(port).key, 4u);
  zx_handle_t hs[] = {port, ev, wo};
  cr_assert_eq(zx_handle_close_many(hs, 3), ZX_OK);
}

Test(port, deadlines) {
  zx_handle_t port = mkport();
  zx_port_packet_t out;
  // In the past: immediately, without sleeping.
  zx_time_t t0 = zx_clock_get_monotonic();
  cr_assert_eq(zx_port_wait(port, 0, &out), ZX_ERR_TIMED_OUT);
  cr_assert_eq(zx_port_wait(port, -1, &out), ZX_ERR_TIMED_OUT);
  cr_assert_eq(zx_port_wait(port, ZX_TIME_INFINITE_PAST, &out), ZX_ERR_TIMED_OUT);
  cr_assert_eq(zx_port_wait(port, zx_clock_get_monotonic(), &out), ZX_ERR_TIMED_OUT);
  cr_assert_lt(zx_clock_get_monotonic() - t0, ZX_MSEC(500));
  // A short deadline is waited for.
  t0 = zx_clock_get_monotonic();
  cr_assert_eq(zx_port_wait(port, zx_deadline_after(ZX_MSEC(30)), &out), ZX_ERR_TIMED_OUT);
  cr_assert_geq(zx_clock_get_monotonic() - t0, ZX_MSEC(30));
  // A packet already there is taken whatever the deadline.
  queue_key(port, 1);
  cr_assert_eq(zx_port_wait(port, ZX_TIME_INFINITE_PAST, &out), ZX_OK);
  queue_key(port, 2);
  cr_assert_eq(zx_port_wait(port, ZX_TIME_INFINITE, &out), ZX_OK);
  cr_assert_eq(out.key, 2u);
  cr_assert_eq(zx_handle_close(port), ZX_OK);
}

// A packet output that faults (a read-only mapping) is INVALID_ARGS and takes nothing.
Test(port, wait_into_a_read_only_mapping) {
  zx_handle_t port = mkport();
  zx_handle_t vmo = mkvmo(PG);
  zx_vaddr_t addr = 0;
  cr_assert_eq(zx_vmar_map(zx_vmar_root_self(), ZX_VM_PERM_READ, 0, vmo, 0, PG, &addr), ZX_OK);
  queue_key(port, 77);
  cr_assert_eq(zx_port_wait(port, 0, (zx_port_packet_t*)addr), ZX_ERR_INVALID_ARGS);
  // The packet is still there; a packet can be queued from a readable mapping.
  cr_assert_eq(take(port).key, 77u);
  cr_assert_eq(zx_port_queue(port, (const zx_port_packet_t*)addr), ZX_OK);
  zx_port_packet_t z = take(port);
  cr_assert_eq(z.key, 0u);
  cr_assert_eq(z.user.u64[0], 0u);
  // Into a writable mapping it works.
  zx_vaddr_t waddr = 0;
  cr_assert_eq(zx_vmar_map(zx_vmar_root_self(), ZX_VM_PERM_READ | ZX_VM_PERM_WRITE, 0, vmo, 0,
                           PG, &waddr),
               ZX_OK);
  queue_key(port, 78);
  cr_assert_eq(zx_port_wait(port, 0, (zx_port_packet_t*)waddr), ZX_OK);
  cr_assert_eq(((zx_port_packet_t*)addr)->key, 78u);
  cr_assert_eq(zx_vmar_unmap(zx_vmar_root_self(), addr, PG), ZX_OK);
  cr_assert_eq(zx_vmar_unmap(zx_vmar_root_self(), waddr, PG), ZX_OK);
  zx_handle_t hs[] = {port, vmo};
  cr_assert_eq(zx_handle_close_many(hs, 2), ZX_OK);
}

// ---- Ports are not waitable -----------------------------------------------------------

Test(port, ports_are_not_waitable) {
  zx_handle_t port = mkport();
  zx_handle_t ev = mkev();
  zx_signals_t seen = 0;
  // The handle has no WAIT: the rights check comes first (D37).
  cr_assert_eq(zx_object_wait_one(port, ZX_USER_SIGNAL_0, 0, &seen), ZX_ERR_ACCESS_DENIED);
  zx_wait_item_t items[2] = {{ev, ZX_USER_SIGNAL_0, 0}, {port, ZX_USER_SIGNAL_0, 0}};
  cr_assert_eq(zx_object_wait_many(items, 2, 0), ZX_ERR_ACCESS_DENIED);
  cr_assert_eq(zx_object_wait_async(port, port, 1, ZX_USER_SIGNAL_0, 0), ZX_ERR_ACCESS_DENIED);
  cr_assert_eq(zx_object_signal(port, 0, ZX_USER_SIGNAL_0), ZX_ERR_ACCESS_DENIED);
  cr_assert_eq(zx_port_cancel(port, port, 1), ZX_ERR_ACCESS_DENIED);
  // White-box: a port handle that did have WAIT meets the waitability check.
  zx_object_t* obj;
  cr_assert_eq(handle_get(port, ZX_OBJ_TYPE_PORT, ZX_RIGHT_NONE, &obj, NULL), ZX_OK);
  zx_handle_t w = ZX_HANDLE_INVALID;
  cr_assert_eq(handle_create(obj, ZX_DEFAULT_PORT_RIGHTS | ZX_RIGHT_WAIT, &w), ZX_OK);
  object_unref(obj);
  cr_assert_eq(zx_object_wait_one(w, ZX_USER_SIGNAL_0, 0, &seen), ZX_ERR_NOT_SUPPORTED);
  items[1].handle = w;
  cr_assert_eq(zx_object_wait_many(items, 2, 0), ZX_ERR_NOT_SUPPORTED);
  cr_assert_eq(zx_object_wait_async(w, port, 1, ZX_USER_SIGNAL_0, 0), ZX_ERR_NOT_SUPPORTED);
  cr_assert_eq(zx_port_cancel(port, w, 1), ZX_ERR_NOT_SUPPORTED);
  cr_assert_eq(waiters_on(ev), 0);
  // VMARs are not waitable either (and their handles have no WAIT).
  cr_assert_eq(zx_object_wait_async(zx_vmar_root_self(), port, 1, 1, 0), ZX_ERR_ACCESS_DENIED);
  zx_handle_t hs[] = {port, ev, w};
  cr_assert_eq(zx_handle_close_many(hs, 3), ZX_OK);
}

// ---- zx_object_wait_async -------------------------------------------------------------

Test(wait_async, level_already_asserted_fires_at_once) {
  zx_handle_t port = mkport();
  zx_handle_t ev = mkev();
  cr_assert_eq(zx_object_signal(ev, 0, ZX_EVENT_SIGNALED | ZX_USER_SIGNAL_3), ZX_OK);
  cr_assert_eq(zx_object_wait_async(ev, port, 42, ZX_EVENT_SIGNALED, 0), ZX_OK);
  zx_port_packet_t p = take(port);
  // Every asserted signal is reported, not only the requested ones.
  expect_signal_packet(&p, 42, ZX_EVENT_SIGNALED, ZX_EVENT_SIGNALED | ZX_USER_SIGNAL_3);
  cr_assert_eq(p.signal.timestamp, 0);
  cr_assert_eq(p.signal.reserved1, 0u);
  // One-shot: nothing more, whatever the signal does.
  cr_assert_eq(zx_object_signal(ev, ZX_EVENT_SIGNALED, 0), ZX_OK);
  cr_assert_eq(zx_object_signal(ev, 0, ZX_EVENT_SIGNALED), ZX_OK);
  cr_assert(port_empty(port));
  cr_assert_eq(waiters_on(ev), 0);
  zx_handle_t hs[] = {port, ev};
  cr_assert_eq(zx_handle_close_many(hs, 2), ZX_OK);
}

Test(wait_async, fires_when_a_signal_rises) {
  zx_handle_t port = mkport();
  zx_handle_t ev = mkev();
  cr_assert_eq(zx_object_wait_async(ev, port, 7, ZX_EVENT_SIGNALED | ZX_USER_SIGNAL_2,
                                    ZX_WAIT_ASYNC_ONCE),
               ZX_OK);
  cr_assert_eq(waiters_on(ev), 1);
  cr_assert(port_empty(port));
  // Signals outside the trigger do nothing.
  cr_assert_eq(zx_object_signal(ev, 0, ZX_USER_SIGNAL_0), ZX_OK);
  cr_assert(port_empty(port));
  cr_assert_eq(zx_object_signal(ev, 0, ZX_USER_SIGNAL_2), ZX_OK);
  zx_port_packet_t p = take(port);
  expect_signal_packet(&p, 7, ZX_EVENT_SIGNALED | ZX_USER_SIGNAL_2,
                       ZX_USER_SIGNAL_0 | ZX_USER_SIGNAL_2);
  cr_assert_eq(waiters_on(ev), 0);
  cr_assert(port_empty(port));
  zx_handle_t hs[] = {port, ev};
  cr_assert_eq(zx_handle_close_many(hs, 2), ZX_OK);
}

// Zircon's core test AsyncWaitEventRepeat: re-armed each round, set then cleared before
// the port is read, so the packet reports the signals of the moment it fired.
Test(wait_async, repeat_rearmed) {
  zx_handle_t port = mkport();
  zx_handle_t ev = mkev();
  int saw_user2 = 0;
  for (int i = 0; i < 24; i++) {
    cr_assert_eq(zx_object_wait_async(ev, port, 1122, ZX_EVENT_SIGNALED | ZX_USER_SIGNAL_2, 0),
                 ZX_OK);
    zx_signals_t ub = (i % 2) ? 0u : ZX_USER_SIGNAL_2;
    cr_assert_eq(zx_object_signal(ev, 0, ZX_EVENT_SIGNALED | ub), ZX_OK);
    cr_assert_eq(zx_object_signal(ev, ZX_EVENT_SIGNALED | ub, 0), ZX_OK);
    zx_port_packet_t p = take(port);
    cr_assert(p.signal.observed & ZX_EVENT_SIGNALED);
    cr_assert_eq(p.signal.observed & ~(ZX_EVENT_SIGNALED | ZX_USER_SIGNAL_2), 0u);
    if (p.signal.observed & ZX_USER_SIGNAL_2) saw_user2++;
  }
  cr_assert_eq(saw_user2, 12);
  zx_handle_t hs[] = {port, ev};
  cr_assert_eq(zx_handle_close_many(hs, 2), ZX_OK);
}

Test(wait_async, many_waits_each_fire) {
  zx_handle_t port = mkport();
  zx_handle_t ev = mkev();
  for (uint64_t k = 0; k < 7; k++) {
    cr_assert_eq(zx_object_wait_async(ev, port, k, ZX_EVENT_SIGNALED, 0), ZX_OK);
  }
  cr_assert_eq(zx_object_signal(ev, 0, ZX_EVENT_SIGNALED), ZX_OK);
  uint64_t sum = 0;
  for (int i = 0; i < 7; i++) sum += take(port).key;
  cr_assert_eq(sum, 21u);
  cr_assert(port_empty(port));
  zx_handle_t hs[] = {port, ev};
  cr_assert_eq(zx_handle_close_many(hs, 2), ZX_OK);
}

Test(wait_async, edge_ignores_signals_already_asserted) {
  zx_handle_t port = mkport();
  zx_handle_t ev = mkev();
  cr_assert_eq(zx_object_signal(ev, 0, ZX_USER_SIGNAL_1), ZX_OK);
  cr_assert_eq(zx_object_wait_async(ev, port, 3, ZX_USER_SIGNAL_1, ZX_WAIT_ASYNC_EDGE), ZX_OK);
  cr_assert(port_empty(port));
  // Clearing raises nothing.
  cr_assert_eq(zx_object_signal(ev, ZX_USER_SIGNAL_1, 0), ZX_OK);
  cr_assert(port_empty(port));
  cr_assert_eq(zx_object_signal(ev, 0, ZX_USER_SIGNAL_1), ZX_OK);
  zx_port_packet_t p = take(port);
  expect_signal_packet(&p, 3, ZX_USER_SIGNAL_1, ZX_USER_SIGNAL_1);
  cr_assert_eq(zx_handle_close(ev), ZX_OK);
  // Without EDGE the same registration fires at once.
  ev = mkev();
  cr_assert_eq(zx_object_signal(ev, 0, ZX_USER_SIGNAL_1), ZX_OK);
  cr_assert_eq(zx_object_wait_async(ev, port, 4, ZX_USER_SIGNAL_1, 0), ZX_OK);
  cr_assert_eq(take(port).key, 4u);
  zx_handle_t hs[] = {port, ev};
  cr_assert_eq(zx_handle_close_many(hs, 2), ZX_OK);
}

// Zircon's kernel notifies on any raised signal while a requested one is asserted, so
// an EDGE wait whose signal stayed asserted fires when another signal rises (D38).
Test(wait_async, edge_fires_on_another_rising_signal) {
  zx_handle_t port = mkport();
  zx_handle_t ev = mkev();
  cr_assert_eq(zx_object_signal(ev, 0, ZX_USER_SIGNAL_1), ZX_OK);
  cr_assert_eq(zx_object_wait_async(ev, port, 3, ZX_USER_SIGNAL_1, ZX_WAIT_ASYNC_EDGE), ZX_OK);
  cr_assert_eq(zx_object_signal(ev, 0, ZX_USER_SIGNAL_1), ZX_OK);  // no change: nothing
  cr_assert(port_empty(port));
  cr_assert_eq(zx_object_signal(ev, 0, ZX_USER_SIGNAL_5), ZX_OK);
  zx_port_packet_t p = take(port);
  expect_signal_packet(&p, 3, ZX_USER_SIGNAL_1, ZX_USER_SIGNAL_1 | ZX_USER_SIGNAL_5);
  zx_handle_t hs[] = {port, ev};
  cr_assert_eq(zx_handle_close_many(hs, 2), ZX_OK);
}

Test(wait_async, timestamps) {
  zx_handle_t port = mkport();
  zx_handle_t ev = mkev();
  cr_assert_eq(zx_object_wait_async(ev, port, 1, ZX_USER_SIGNAL_0, ZX_WAIT_ASYNC_TIMESTAMP),
               ZX_OK);
  zx_time_t before = zx_clock_get_monotonic();
  zx_nanosleep(zx_deadline_after(ZX_MSEC(2)));
  zx_time_t fire = zx_clock_get_monotonic();
  cr_assert_eq(zx_object_signal(ev, 0, ZX_USER_SIGNAL_0), ZX_OK);
  zx_time_t after = zx_clock_get_monotonic();
  zx_nanosleep(zx_deadline_after(ZX_MSEC(2)));
  zx_port_packet_t p = take(port);
  // The time the wait was satisfied, not the time of the call or of the read.
  cr_assert_geq(p.signal.timestamp, fire);
  cr_assert_leq(p.signal.timestamp, after);
  cr_assert_gt(p.signal.timestamp, before);
  // Level-triggered at registration: stamped then.
  before = zx_clock_get_monotonic();
  cr_assert_eq(zx_object_wait_async(ev, port, 2, ZX_USER_SIGNAL_0, ZX_WAIT_ASYNC_TIMESTAMP),
               ZX_OK);
  p = take(port);
  cr_assert_geq(p.signal.timestamp, before);
  cr_assert_leq(p.signal.timestamp, zx_clock_get_monotonic());
  // The boot clock: a time, on another timeline.
  cr_assert_eq(zx_object_wait_async(ev, port, 3, ZX_USER_SIGNAL_0,
                                    ZX_WAIT_ASYNC_BOOT_TIMESTAMP | ZX_WAIT_ASYNC_EDGE),
               ZX_OK);
  cr_assert_eq(zx_object_signal(ev, 0, ZX_USER_SIGNAL_6), ZX_OK);
  p = take(port);
  cr_assert_eq(p.key, 3u);
  cr_assert_gt(p.signal.timestamp, 0);
  zx_handle_t hs[] = {port, ev};
  cr_assert_eq(zx_handle_close_many(hs, 2), ZX_OK);
}

Test(wait_async, errors_in_order) {
  zx_handle_t port = mkport();
  zx_handle_t ev = mkev();
  zx_handle_t vmo = mkvmo(PG);
  // Options first, before any handle.
  cr_assert_eq(zx_object_wait_async(0, 0, 1, 1, 8), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(zx_object_wait_async(ev, port, 1, 1, 0x10), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(zx_object_wait_async(ev, port, 1, 1,
                                    ZX_WAIT_ASYNC_TIMESTAMP | ZX_WAIT_ASYNC_BOOT_TIMESTAMP),
               ZX_ERR_INVALID_ARGS);
  // Then the port: BAD_HANDLE, WRONG_TYPE, ACCESS_DENIED (WRITE)...
  cr_assert_eq(zx_object_wait_async(ZX_HANDLE_INVALID, ZX_HANDLE_INVALID, 1, 1, 0),
               ZX_ERR_BAD_HANDLE);
  cr_assert_eq(zx_object_wait_async(ev, ZX_HANDLE_INVALID, 1, 1, 0), ZX_ERR_BAD_HANDLE);
  cr_assert_eq(zx_object_wait_async(ZX_HANDLE_INVALID, vmo, 1, 1, 0), ZX_ERR_WRONG_TYPE);
  cr_assert_eq(zx_object_wait_async(ev, ev, 1, 1, 0), ZX_ERR_WRONG_TYPE);
  zx_handle_t ro = dup_with(port, ZX_DEFAULT_PORT_RIGHTS & ~ZX_RIGHT_WRITE);
  cr_assert_eq(zx_object_wait_async(ZX_HANDLE_INVALID, ro, 1, 1, 0), ZX_ERR_ACCESS_DENIED);
  // ...then the object: BAD_HANDLE, ACCESS_DENIED (WAIT).
  cr_assert_eq(zx_object_wait_async(ZX_HANDLE_INVALID, port, 1, 1, 0), ZX_ERR_BAD_HANDLE);
  zx_handle_t nowait = dup_with(ev, ZX_DEFAULT_EVENT_RIGHTS & ~ZX_RIGHT_WAIT);
  cr_assert_eq(zx_object_wait_async(nowait, port, 1, 1, 0), ZX_ERR_ACCESS_DENIED);
  // WAIT alone is enough.
  zx_handle_t waitonly = dup_with(ev, ZX_RIGHT_WAIT);
  cr_assert_eq(zx_object_wait_async(waitonly, port, 1, ZX_USER_SIGNAL_0, 0), ZX_OK);
  cr_assert_eq(waiters_on(ev), 1);
  cr_assert(port_empty(port));
  zx_handle_t hs[] = {port, ev, vmo, ro, nowait, waitonly};
  cr_assert_eq(zx_handle_close_many(hs, 6), ZX_OK);
}

Test(wait_async, no_signals_never_fires) {
  zx_handle_t port = mkport();
  zx_handle_t ev = mkev();
  cr_assert_eq(zx_object_wait_async(ev, port, 1, 0, 0), ZX_OK);
  cr_assert_eq(zx_object_signal(ev, 0, ZX_EVENT_SIGNALED | ZX_USER_SIGNAL_ALL), ZX_OK);
  cr_assert(port_empty(port));
  cr_assert_eq(zx_port_cancel(port, ev, 1), ZX_OK);
  cr_assert_eq(waiters_on(ev), 0);
  zx_handle_t hs[] = {port, ev};
  cr_assert_eq(zx_handle_close_many(hs, 2), ZX_OK);
}

Test(wait_async, vmo_zero_children) {
  zx_handle_t port = mkport();
  zx_handle_t vmo = mkvmo(PG);
  // A VMO starts with ZERO_CHILDREN asserted.
  cr_assert_eq(zx_object_wait_async(vmo, port, 1, ZX_VMO_ZERO_CHILDREN, 0), ZX_OK);
  zx_port_packet_t p = take(port);
  expect_signal_packet(&p, 1, ZX_VMO_ZERO_CHILDREN, ZX_VMO_ZERO_CHILDREN);
  // Edge: only when the last child goes.
  cr_assert_eq(zx_object_wait_async(vmo, port, 2, ZX_VMO_ZERO_CHILDREN, ZX_WAIT_ASYNC_EDGE),
               ZX_OK);
  cr_assert(port_empty(port));
  zx_handle_t child = ZX_HANDLE_INVALID;
  cr_assert_eq(zx_vmo_create_child(vmo, ZX_VMO_CHILD_SNAPSHOT, 0, PG, &child), ZX_OK);
  // Level: the child is live, so it waits.
  cr_assert_eq(zx_object_wait_async(vmo, port, 3, ZX_VMO_ZERO_CHILDREN, 0), ZX_OK);
  cr_assert(port_empty(port));
  cr_assert_eq(waiters_on(vmo), 2);
  cr_assert_eq(zx_handle_close(child), ZX_OK);
  zx_port_packet_t a = take(port), b = take(port);
  cr_assert_eq(a.key + b.key, 5u);
  expect_signal_packet(&a, a.key, ZX_VMO_ZERO_CHILDREN, ZX_VMO_ZERO_CHILDREN);
  cr_assert(port_empty(port));
  cr_assert_eq(waiters_on(vmo), 0);
  // A child's own wait, then its parent dies: nothing is asserted on the child.
  cr_assert_eq(zx_vmo_create_child(vmo, ZX_VMO_CHILD_SLICE, 0, PG, &child), ZX_OK);
  cr_assert_eq(zx_object_wait_async(child, port, 4, ZX_VMO_ZERO_CHILDREN, ZX_WAIT_ASYNC_EDGE),
               ZX_OK);
  cr_assert_eq(zx_object_wait_async(vmo, port, 5, ZX_VMO_ZERO_CHILDREN, 0), ZX_OK);
  cr_assert_eq(zx_handle_close(child), ZX_OK);  // ends the wait on the child
  cr_assert_eq(take(port).key, 5u);
  cr_assert(port_empty(port));
  zx_handle_t hs[] = {port, vmo};
  cr_assert_eq(zx_handle_close_many(hs, 2), ZX_OK);
}

Test(wait_async, process_user_signals) {
  zx_handle_t port = mkport();
  zx_handle_t self = zx_process_self();
  cr_assert_eq(zx_object_wait_async(self, port, 9, ZX_USER_SIGNAL_4, 0), ZX_OK);
  cr_assert(port_empty(port));
  cr_assert_eq(zx_object_signal(self, 0, ZX_USER_SIGNAL_4), ZX_OK);
  cr_assert_eq(take(port).key, 9u);
  cr_assert_eq(zx_object_signal(self, ZX_USER_SIGNAL_4, 0), ZX_OK);
  cr_assert_eq(zx_handle_close(port), ZX_OK);
}

// ---- Handles and ports closing ------------------------------------------------------

Test(wait_async, closing_the_waited_handle_ends_the_wait) {
  zx_handle_t port = mkport();
  zx_handle_t ev = mkev();
  zx_handle_t d = dup_with(ev, ZX_RIGHT_SAME_RIGHTS);
  cr_assert_eq(zx_object_wait_async(d, port, 1, ZX_EVENT_SIGNALED, 0), ZX_OK);
  cr_assert_eq(zx_object_wait_async(ev, port, 2, ZX_EVENT_SIGNALED, 0), ZX_OK);
  cr_assert_eq(waiters_on(ev), 2);
  cr_assert_eq(zx_handle_close(d), ZX_OK);
  // No packet for the closed handle's wait (not even a CANCELED one), the other stays.
  cr_assert(port_empty(port));
  cr_assert_eq(waiters_on(ev), 1);
  cr_assert_eq(zx_object_signal(ev, 0, ZX_EVENT_SIGNALED), ZX_OK);
  cr_assert_eq(take(port).key, 2u);
  cr_assert(port_empty(port));
  zx_handle_t hs[] = {port, ev};
  cr_assert_eq(zx_handle_close_many(hs, 2), ZX_OK);
}

Test(wait_async, closing_the_waited_handle_keeps_queued_packets) {
  zx_handle_t port = mkport();
  zx_handle_t ev = mkev();
  cr_assert_eq(zx_object_signal(ev, 0, ZX_EVENT_SIGNALED), ZX_OK);
  cr_assert_eq(zx_object_wait_async(ev, port, 1, ZX_EVENT_SIGNALED, 0), ZX_OK);
  cr_assert_eq(zx_handle_close(ev), ZX_OK);
  zx_port_packet_t p = take(port);
  expect_signal_packet(&p, 1, ZX_EVENT_SIGNALED, ZX_EVENT_SIGNALED);
  cr_assert_eq(zx_handle_close(port), ZX_OK);
}

Test(wait_async, replacing_the_waited_handle_ends_the_wait) {
  zx_handle_t port = mkport();
  zx_handle_t ev = mkev();
  cr_assert_eq(zx_object_wait_async(ev, port, 1, ZX_EVENT_SIGNALED, 0), ZX_OK);
  zx_handle_t r = ZX_HANDLE_INVALID;
  cr_assert_eq(zx_handle_replace(ev, ZX_RIGHT_SAME_RIGHTS, &r), ZX_OK);
  cr_assert_eq(waiters_on(r), 0);
  cr_assert_eq(zx_object_signal(r, 0, ZX_EVENT_SIGNALED), ZX_OK);
  cr_assert(port_empty(port));
  zx_handle_t hs[] = {port, r};
  cr_assert_eq(zx_handle_close_many(hs, 2), ZX_OK);
}

// Zircon's core test AsyncWaitCloseOrder, with an event and its duplicate for the
// channel's two ends: every order of closing works and leaves nothing behind.
Test(wait_async, close_orders) {
  for (int order = 0; order < 6; order++) {
    static const int perm[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 2, 0},
                                   {1, 0, 2}, {2, 1, 0}, {2, 0, 1}};
    uint64_t before = handle_count_alive();
    zx_handle_t h[3];
    h[2] = mkport();
    h[0] = mkev();
    h[1] = dup_with(h[0], ZX_RIGHT_SAME_RIGHTS);
    cr_assert_eq(zx_object_wait_async(h[1], h[2], 1122, ZX_USER_SIGNAL_0 | ZX_USER_SIGNAL_1, 0),
                 ZX_OK);
    cr_assert_eq(zx_object_wait_async(h[0], h[2], 1123, ZX_USER_SIGNAL_1, 0), ZX_OK);
    cr_assert_eq(zx_object_signal(h[0], 0, ZX_USER_SIGNAL_1), ZX_OK);
    cr_assert_eq(zx_object_wait_async(h[0], h[2], 1124, ZX_USER_SIGNAL_2, 0), ZX_OK);
    for (int i = 0; i < 3; i++) cr_assert_eq(zx_handle_close(h[perm[order][i]]), ZX_OK);
    cr_assert_eq(handle_count_alive(), before);
  }
}

static atomic_int g_released, g_delivered;
static void count_release(port_packet_t* p, bool delivered) {
  atomic_fetch_add(&g_released, 1);
  if (delivered) atomic_fetch_add(&g_delivered, 1);
}

// The port's last handle: pending waits end (the object keeps no waiter), queued
// packets are discarded (a producer's are released undelivered).
Test(port, closing_the_port_ends_waits_and_discards_packets) {
  zx_handle_t port = mkport();
  zx_handle_t ev = mkev();
  zx_handle_t vmo = mkvmo(PG);
  queue_key(port, 1);
  cr_assert_eq(zx_object_wait_async(ev, port, 2, ZX_EVENT_SIGNALED, 0), ZX_OK);
  cr_assert_eq(zx_object_wait_async(vmo, port, 3, ZX_VMO_ZERO_CHILDREN, ZX_WAIT_ASYNC_EDGE),
               ZX_OK);
  cr_assert_eq(zx_object_wait_async(vmo, port, 4, ZX_VMO_ZERO_CHILDREN, 0), ZX_OK);  // queued
  zx_object_t* obj;
  cr_assert_eq(handle_get(port, ZX_OBJ_TYPE_PORT, ZX_RIGHT_NONE, &obj, NULL), ZX_OK);
  port_packet_t owned = {.pkt = {.key = 5, .type = ZX_PKT_TYPE_PAGE_REQUEST},
                         .release = count_release};
  port_queue_owned(port_from_obj(obj), &owned);
  cr_assert_eq(waiters_on(ev), 1);
  cr_assert_eq(waiters_on(vmo), 1);
  zx_handle_t keep = dup_with(port, ZX_RIGHT_SAME_RIGHTS);
  cr_assert_eq(zx_handle_close(port), ZX_OK);  // not the last handle: nothing happens
  cr_assert_eq(waiters_on(ev), 1);
  cr_assert_eq(zx_handle_close(keep), ZX_OK);
  cr_assert_eq(waiters_on(ev), 0);
  cr_assert_eq(waiters_on(vmo), 0);
  cr_assert_eq(atomic_load(&g_released), 1);
  cr_assert_eq(atomic_load(&g_delivered), 0);
  cr_assert(!owned.queued);
  // A producer may still queue on the dead port: held until the port is destroyed.
  port_queue_owned(port_from_obj(obj), &owned);
  cr_assert_eq(atomic_load(&g_released), 1);
  cr_assert_eq(zx_object_signal(ev, 0, ZX_EVENT_SIGNALED), ZX_OK);
  object_unref(obj);
  cr_assert_eq(atomic_load(&g_released), 2);
  cr_assert_eq(atomic_load(&g_delivered), 0);
  zx_handle_t hs[] = {ev, vmo};
  cr_assert_eq(zx_handle_close_many(hs, 2), ZX_OK);
}

// ---- zx_port_cancel -------------------------------------------------------------------

Test(port_cancel, pending_waits_with_the_key) {
  zx_handle_t port = mkport();
  zx_handle_t ev = mkev();
  const uint64_t keys[] = {128, 13, 7, 13};
  for (int i = 0; i < 4; i++) {
    cr_assert_eq(zx_object_wait_async(ev, port, keys[i], ZX_EVENT_SIGNALED, 0), ZX_OK);
  }
  cr_assert_eq(zx_port_cancel(port, ev, 13), ZX_OK);
  cr_assert_eq(waiters_on(ev), 2);
  cr_assert_eq(zx_port_cancel(port, ev, 13), ZX_ERR_NOT_FOUND);
  cr_assert_eq(zx_object_signal(ev, 0, ZX_EVENT_SIGNALED), ZX_OK);
  uint64_t sum = take(port).key + take(port).key;
  cr_assert_eq(sum, 135u);
  cr_assert(port_empty(port));
  // After delivery there is nothing left to cancel.
  cr_assert_eq(zx_port_cancel(port, ev, 128), ZX_ERR_NOT_FOUND);
  zx_handle_t hs[] = {port, ev};
  cr_assert_eq(zx_handle_close_many(hs, 2), ZX_OK);
}

// Zircon's CancelEventKeyAfter: queued packets of the source and key go too.
Test(port_cancel, queued_packets_of_the_source) {
  zx_handle_t port = mkport();
  zx_handle_t ev[3] = {mkev(), mkev(), mkev()};
  const uint64_t keys[] = {128, 3, 3};
  for (int i = 0; i < 3; i++) {
    cr_assert_eq(zx_object_wait_async(ev[i], port, keys[i], ZX_EVENT_SIGNALED, 0), ZX_OK);
  }
  cr_assert_eq(zx_object_signal(ev[0], 0, ZX_EVENT_SIGNALED), ZX_OK);
  cr_assert_eq(zx_object_signal(ev[1], 0, ZX_EVENT_SIGNALED), ZX_OK);
  queue_key(port, 3);  // a user packet with the same key is not the source's
  cr_assert_eq(zx_port_cancel(port, ev[1], 3), ZX_OK);  // a queued packet
  cr_assert_eq(zx_port_cancel(port, ev[2], 3), ZX_OK);  // a pending wait
  cr_assert_eq(zx_object_signal(ev[2], 0, ZX_EVENT_SIGNALED), ZX_OK);
  zx_port_packet_t a = take(port);
  cr_assert_eq(a.key, 128u);
  zx_port_packet_t b = take(port);
  cr_assert_eq(b.key, 3u);
  cr_assert_eq(b.type, ZX_PKT_TYPE_USER);
  cr_assert(port_empty(port));
  zx_handle_t hs[] = {port, ev[0], ev[1], ev[2]};
  cr_assert_eq(zx_handle_close_many(hs, 4), ZX_OK);
}

// Waits are matched by the handle they were made through, not by the object.
Test(port_cancel, by_handle_not_object) {
  zx_handle_t port = mkport();
  zx_handle_t ev = mkev();
  zx_handle_t d = dup_with(ev, ZX_RIGHT_SAME_RIGHTS);
  cr_assert_eq(zx_object_wait_async(d, port, 1, ZX_EVENT_SIGNALED, 0), ZX_OK);
  cr_assert_eq(zx_port_cancel(port, ev, 1), ZX_ERR_NOT_FOUND);
  // Another port's waits are not this port's.
  zx_handle_t other = mkport();
  cr_assert_eq(zx_port_cancel(other, d, 1), ZX_ERR_NOT_FOUND);
  cr_assert_eq(zx_port_cancel(port, d, 2), ZX_ERR_NOT_FOUND);
  cr_assert_eq(zx_port_cancel(port, d, 1), ZX_OK);
  cr_assert_eq(waiters_on(ev), 0);
  zx_handle_t hs[] = {port, ev, d, other};
  cr_assert_eq(zx_handle_close_many(hs, 4), ZX_OK);
}

Test(port_cancel, errors_in_order) {
  zx_handle_t port = mkport();
  zx_handle_t ev = mkev();
  cr_assert_eq(zx_port_cancel(ZX_HANDLE_INVALID, ZX_HANDLE_INVALID, 1), ZX_ERR_BAD_HANDLE);
  cr_assert_eq(zx_port_cancel(ev, ZX_HANDLE_INVALID, 1), ZX_ERR_WRONG_TYPE);
  zx_handle_t ro = dup_with(port, ZX_DEFAULT_PORT_RIGHTS & ~ZX_RIGHT_WRITE);
  cr_assert_eq(zx_port_cancel(ro, ZX_HANDLE_INVALID, 1), ZX_ERR_ACCESS_DENIED);
  cr_assert_eq(zx_port_cancel(port, ZX_HANDLE_INVALID, 1), ZX_ERR_BAD_HANDLE);
  // The source needs WAIT (Zircon's kernel; the documentation says WRITE: D37)...
  zx_handle_t nowait = dup_with(ev, ZX_DEFAULT_EVENT_RIGHTS & ~ZX_RIGHT_WAIT);
  cr_assert_eq(zx_port_cancel(port, nowait, 1), ZX_ERR_ACCESS_DENIED);
  // ...and nothing else: events never have WRITE.
  cr_assert_eq(zx_object_wait_async(ev, port, 1, ZX_EVENT_SIGNALED, 0), ZX_OK);
  cr_assert_eq(zx_port_cancel(port, ev, 1), ZX_OK);
  cr_assert_eq(zx_port_cancel(port, ev, 1), ZX_ERR_NOT_FOUND);
  zx_handle_t hs[] = {port, ev, ro, nowait};
  cr_assert_eq(zx_handle_close_many(hs, 4), ZX_OK);
}

// ---- zx_port_cancel_key ---------------------------------------------------------------

Test(port_cancel_key, waits_and_packets_with_the_key) {
  zx_handle_t port = mkport();
  zx_handle_t ev = mkev();
  zx_handle_t ev2 = mkev();
  cr_assert_eq(zx_object_wait_async(ev, port, 1, ZX_EVENT_SIGNALED, 0), ZX_OK);
  cr_assert_eq(zx_object_wait_async(ev, port, 2, ZX_EVENT_SIGNALED, 0), ZX_OK);
  cr_assert_eq(zx_object_wait_async(ev, port, 2, ZX_USER_SIGNAL_0, 0), ZX_OK);
  cr_assert_eq(zx_object_wait_async(ev2, port, 2, ZX_USER_SIGNAL_0, 0), ZX_OK);
  cr_assert_eq(zx_port_cancel_key(port, 0, 1), ZX_OK);
  cr_assert_eq(zx_object_signal(ev, 0, ZX_EVENT_SIGNALED), ZX_OK);
  queue_key(port, 2);
  queue_key(port, 6);
  // The queued signal packet, the user packet, and both pending waits with key 2.
  cr_assert_eq(zx_port_cancel_key(port, 0, 2), ZX_OK);
  cr_assert_eq(zx_port_cancel_key(port, 0, 2), ZX_ERR_NOT_FOUND);
  cr_assert_eq(waiters_on(ev), 0);
  cr_assert_eq(waiters_on(ev2), 0);
  cr_assert_eq(take(port).key, 6u);
  cr_assert(port_empty(port));
  cr_assert_eq(zx_object_signal(ev, 0, ZX_USER_SIGNAL_0), ZX_OK);
  cr_assert_eq(zx_object_signal(ev2, 0, ZX_USER_SIGNAL_0), ZX_OK);
  cr_assert(port_empty(port));
  cr_assert_eq(zx_port_cancel_key(port, 0, 3), ZX_ERR_NOT_FOUND);
  zx_handle_t hs[] = {port, ev, ev2};
  cr_assert_eq(zx_handle_close_many(hs, 3), ZX_OK);
}

Test(port_cancel_key, errors_in_order) {
  zx_handle_t port = mkport();
  zx_handle_t ev = mkev();
  cr_assert_eq(zx_port_cancel_key(ZX_HANDLE_INVALID, 1, 0), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(zx_port_cancel_key(port, 1, 0), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(zx_port_cancel_key(ZX_HANDLE_INVALID, 0, 0), ZX_ERR_BAD_HANDLE);
  cr_assert_eq(zx_port_cancel_key(ev, 0, 0), ZX_ERR_WRONG_TYPE);
  zx_handle_t ro = dup_with(port, ZX_DEFAULT_PORT_RIGHTS & ~ZX_RIGHT_WRITE);
  cr_assert_eq(zx_port_cancel_key(ro, 0, 0), ZX_ERR_ACCESS_DENIED);
  cr_assert_eq(zx_port_cancel_key(port, 0, 0), ZX_ERR_NOT_FOUND);
  zx_handle_t hs[] = {port, ev, ro};
  cr_assert_eq(zx_handle_close_many(hs, 3), ZX_OK);
}

// ---- Producer-owned packets (port.h) --------------------------------------------------

Test(port, owned_packets) {
  zx_handle_t port = mkport();
  zx_object_t* obj;
  cr_assert_eq(handle_get(port, ZX_OBJ_TYPE_PORT, ZX_RIGHT_NONE, &obj, NULL), ZX_OK);
  port_t* pt = port_from_obj(obj);
  cr_assert_eq(port_obj(pt), obj);
  port_packet_t a = {.pkt = {.key = 1, .type = ZX_PKT_TYPE_PAGE_REQUEST},
                     .release = count_release};
  a.pkt.page_request.command = ZX_PAGER_VMO_READ;
  a.pkt.page_request.offset = 3 * PG;
  a.pkt.page_request.length = PG;
  port_packet_t b = a;
  b.pkt.key = 2;
  queue_key(port, 0);
  port_queue_owned(pt, &a);
  port_queue_owned(pt, &b);
  cr_assert(a.queued && b.queued);
  // Taken out before delivery: no release.
  cr_assert(port_cancel_owned(pt, &b));
  cr_assert(!b.queued);
  cr_assert(!port_cancel_owned(pt, &b));
  cr_assert_eq(atomic_load(&g_released), 0);
  cr_assert_eq(take(port).key, 0u);
  zx_port_packet_t p = take(port);
  cr_assert_eq(p.key, 1u);
  cr_assert_eq(p.type, ZX_PKT_TYPE_PAGE_REQUEST);
  cr_assert_eq(p.page_request.offset, 3 * PG);
  cr_assert_eq(p.page_request.length, PG);
  cr_assert_eq(atomic_load(&g_released), 1);
  cr_assert_eq(atomic_load(&g_delivered), 1);
  cr_assert(!port_cancel_owned(pt, &a));
  // zx_port_cancel_key discards them too (released undelivered).
  port_queue_owned(pt, &a);
  cr_assert_eq(zx_port_cancel_key(port, 0, 1), ZX_OK);
  cr_assert_eq(atomic_load(&g_released), 2);
  cr_assert_eq(atomic_load(&g_delivered), 1);
  cr_assert(!a.queued);
  object_unref(obj);
  cr_assert_eq(zx_handle_close(port), ZX_OK);
}

// ---- Allocation failures --------------------------------------------------------------

// Fails the 1st, 2nd, ... allocation of `call` until it succeeds; each failure must be
// NO_MEMORY with `unchanged` still true.
#define EACH_ALLOCATION_FAILS(call, unchanged)                        \
  do {                                                                \
    for (uint64_t nth = 1;; nth++) {                                  \
      os_fail_alloc(nth, false);                                      \
      zx_status_t st_ = (call);                                       \
      os_fail_alloc(0, false);                                        \
      if (st_ == ZX_OK) break;                                        \
      cr_assert_eq(st_, ZX_ERR_NO_MEMORY, "allocation %lu", (unsigned long)nth); \
      cr_assert(unchanged, "allocation %lu", (unsigned long)nth);     \
      cr_assert_lt(nth, 16u);                                         \
    }                                                                 \
  } while (0)

Test(port_oom, create_queue_and_wait_async) {
  uint64_t before = handle_count_alive();
  zx_handle_t port = ZX_HANDLE_INVALID;
  EACH_ALLOCATION_FAILS(zx_port_create(0, &port),
                        handle_count_alive() == before && port == ZX_HANDLE_INVALID);
  cr_assert_neq(port, ZX_HANDLE_INVALID);
  zx_port_packet_t pk = user_packet(5);
  EACH_ALLOCATION_FAILS(zx_port_queue(port, &pk), port_empty(port));
  cr_assert_eq(take(port).key, 5u);
  zx_handle_t ev = mkev();
  cr_assert_eq(zx_object_signal(ev, 0, ZX_EVENT_SIGNALED), ZX_OK);
  EACH_ALLOCATION_FAILS(zx_object_wait_async(ev, port, 6, ZX_EVENT_SIGNALED, 0),
                        port_empty(port) && waiters_on(ev) == 0);
  cr_assert_eq(take(port).key, 6u);
  EACH_ALLOCATION_FAILS(zx_object_wait_async(ev, port, 7, ZX_EVENT_SIGNALED, ZX_WAIT_ASYNC_EDGE),
                        port_empty(port) && waiters_on(ev) == 0);
  cr_assert_eq(waiters_on(ev), 1);
  // Nothing else allocates: waits, cancels and closes never fail for memory.
  queue_key(port, 8);
  os_fail_alloc(1, true);
  cr_assert_eq(zx_port_cancel(port, ev, 7), ZX_OK);
  cr_assert_eq(take(port).key, 8u);
  cr_assert_eq(zx_port_cancel_key(port, 0, 7), ZX_ERR_NOT_FOUND);
  zx_handle_t hs[] = {port, ev};
  cr_assert_eq(zx_handle_close_many(hs, 2), ZX_OK);
  os_fail_alloc(0, false);
}

// ---- fork() ---------------------------------------------------------------------------

Test(port, isolated_child_of_fork) {
  zx_handle_t port = mkport();
  zx_handle_t ev = mkev();
  queue_key(port, 1);
  pid_t pid = fork();
  if (pid == 0) {
    zx_handle_t p2 = ZX_HANDLE_INVALID;
    zx_port_packet_t pk = user_packet(2), out;
    int bad = 0;
    bad |= zx_port_create(0, &p2) != ZX_ERR_BAD_STATE;
    bad |= zx_port_queue(port, &pk) != ZX_ERR_BAD_HANDLE;
    bad |= zx_port_wait(port, 0, &out) != ZX_ERR_BAD_HANDLE;
    bad |= zx_port_cancel(port, ev, 1) != ZX_ERR_BAD_HANDLE;
    bad |= zx_port_cancel_key(port, 0, 1) != ZX_ERR_BAD_HANDLE;
    bad |= zx_port_cancel_key(port, 1, 1) != ZX_ERR_INVALID_ARGS;  // checked first
    bad |= zx_object_wait_async(ev, port, 1, 1, 0) != ZX_ERR_BAD_HANDLE;
    _exit(bad);
  }
  int status = 0;
  cr_assert_eq(waitpid(pid, &status, 0), pid);
  cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  // The parent's port is untouched.
  cr_assert_eq(take(port).key, 1u);
  zx_handle_t hs[] = {port, ev};
  cr_assert_eq(zx_handle_close_many(hs, 2), ZX_OK);
}
