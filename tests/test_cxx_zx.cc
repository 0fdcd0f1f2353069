// SPDX-License-Identifier: BSD-3-Clause
// lib/zx against the C calls: ownership (close on destruction and reset, release, moves,
// unowned), the object calls (get_info, properties, duplicate, replace, signals, waits),
// and each type's own calls: vmo, vmar, event, port, pager, process, clock and time.
#include <lib/zx/clock.h>
#include <lib/zx/event.h>
#include <lib/zx/handle.h>
#include <lib/zx/pager.h>
#include <lib/zx/port.h>
#include <lib/zx/process.h>
#include <lib/zx/time.h>
#include <lib/zx/vmar.h>
#include <lib/zx/vmo.h>
#include <string.h>

#include <utility>

#include "cxx_helpers.h"

// ---- ownership ----

Test(cxx_handle, destructor_and_reset_close) {
  zx_handle_t raw;
  {
    zx::vmo v;
    cr_assert_not(v.is_valid());
    cr_assert_not(static_cast<bool>(v));
    cr_assert_eq(zx::vmo::create(page(), 0, &v), ZX_OK);
    cr_assert(v.is_valid());
    raw = v.get();
    cr_assert(handle_valid(raw));
  }
  cr_assert_not(handle_valid(raw));

  zx::vmo v;
  cr_assert_eq(zx::vmo::create(page(), 0, &v), ZX_OK);
  raw = v.get();
  zx_handle_t other;
  cr_assert_eq(zx_vmo_create(page(), 0, &other), ZX_OK);
  v.reset(other);  // closes the old handle, takes the new one
  cr_assert_not(handle_valid(raw));
  cr_assert_eq(v.get(), other);
  v.reset();
  cr_assert_not(handle_valid(other));
  cr_assert_eq(v.get(), ZX_HANDLE_INVALID);
}

Test(cxx_handle, release_gives_up_ownership) {
  zx_handle_t raw;
  {
    zx::vmo v;
    cr_assert_eq(zx::vmo::create(page(), 0, &v), ZX_OK);
    raw = v.release();
    cr_assert_not(v.is_valid());
  }
  cr_assert(handle_valid(raw));
  cr_assert_eq(zx_handle_close(raw), ZX_OK);
}

Test(cxx_handle, moves_transfer_the_handle) {
  zx::vmo a;
  cr_assert_eq(zx::vmo::create(page(), 0, &a), ZX_OK);
  zx_handle_t raw = a.get();
  zx::vmo b(std::move(a));
  cr_assert_not(a.is_valid());
  cr_assert_eq(b.get(), raw);
  zx::vmo c;
  cr_assert_eq(zx::vmo::create(page(), 0, &c), ZX_OK);
  zx_handle_t old_c = c.get();
  c = std::move(b);  // closes c's handle
  cr_assert_not(handle_valid(old_c));
  cr_assert_eq(c.get(), raw);
  // A typed object moves into zx::handle, and back through the explicit constructor.
  zx::handle h(std::move(c));
  cr_assert_eq(h.get(), raw);
  zx::vmo d(std::move(h));
  cr_assert_eq(d.get(), raw);
  cr_assert_not(h.is_valid());
  zx::handle h2;
  h2 = std::move(d);
  cr_assert_eq(h2.get(), raw);
  // swap and comparisons.
  zx::handle h3;
  h2.swap(h3);
  cr_assert_eq(h3.get(), raw);
  cr_assert(h3 == raw);
  cr_assert(h2 != h3);
  cr_assert(h2 == ZX_HANDLE_INVALID);
  cr_assert(handle_valid(raw));
}

Test(cxx_handle, reset_and_get_address_closes_first) {
  zx::vmo v;
  cr_assert_eq(zx::vmo::create(page(), 0, &v), ZX_OK);
  zx_handle_t old = v.get();
  cr_assert_eq(zx_vmo_create(page(), 0, v.reset_and_get_address()), ZX_OK);
  cr_assert_not(handle_valid(old));
  cr_assert(handle_valid(v.get()));
}

Test(cxx_handle, unowned_never_closes) {
  zx::vmo v;
  cr_assert_eq(zx::vmo::create(page(), 0, &v), ZX_OK);
  {
    zx::unowned_vmo u(v);
    cr_assert_eq(u->get(), v.get());
    uint64_t size = 0;
    cr_assert_eq(u->get_size(&size), ZX_OK);
    cr_assert_eq(size, page());
    zx::unowned_vmo copy(u);
    zx::unowned_vmo assigned;
    assigned = copy;
    cr_assert(assigned == u);
    zx::unowned_vmo moved(std::move(copy));
    cr_assert_eq((*moved).get(), v.get());
    zx::unowned_vmo b = v.borrow();
    cr_assert(b == v);
  }
  cr_assert(handle_valid(v.get()));
  zx::unowned_handle uh(v.get());
  cr_assert_eq(basic_info(uh->get()).type, ZX_OBJ_TYPE_VMO);
}

// ---- object calls ----

Test(cxx_object, get_info_and_properties) {
  zx::vmo v;
  cr_assert_eq(zx::vmo::create(page(), 0, &v), ZX_OK);
  zx_info_handle_basic_t info;
  size_t actual = 0, avail = 0;
  cr_assert_eq(v.get_info(ZX_INFO_HANDLE_BASIC, &info, sizeof(info), &actual, &avail), ZX_OK);
  cr_assert_eq(actual, 1u);
  cr_assert_eq(avail, 1u);
  cr_assert_eq(info.type, ZX_OBJ_TYPE_VMO);
  cr_assert_eq(info.type, zx::vmo::TYPE);
  cr_assert_eq(info.rights, ZX_DEFAULT_VMO_RIGHTS);
  const char name[] = "cxx-vmo";
  cr_assert_eq(v.set_property(ZX_PROP_NAME, name, sizeof(name) - 1), ZX_OK);
  char got[ZX_MAX_NAME_LEN] = {};
  cr_assert_eq(v.get_property(ZX_PROP_NAME, got, sizeof(got)), ZX_OK);
  cr_assert_str_eq(got, name);
  // Errors come from the call underneath.
  zx::vmo invalid;
  cr_assert_eq(invalid.get_info(ZX_INFO_HANDLE_BASIC, &info, sizeof(info), nullptr, nullptr),
               ZX_ERR_BAD_HANDLE);
}

Test(cxx_object, duplicate_and_replace) {
  zx::vmo v;
  cr_assert_eq(zx::vmo::create(page(), 0, &v), ZX_OK);
  zx::vmo dup;
  cr_assert_eq(v.duplicate(ZX_RIGHT_READ | ZX_RIGHT_DUPLICATE, &dup), ZX_OK);
  cr_assert_neq(dup.get(), v.get());
  cr_assert_eq(basic_info(dup.get()).koid, basic_info(v.get()).koid);
  cr_assert_eq(basic_info(dup.get()).rights, ZX_RIGHT_READ | ZX_RIGHT_DUPLICATE);
  // A failed duplicate leaves the result empty.
  zx::vmo more;
  cr_assert_eq(dup.duplicate(ZX_RIGHT_WRITE, &more), ZX_ERR_INVALID_ARGS);
  cr_assert_not(more.is_valid());

  // replace consumes the source, also into itself.
  zx_handle_t before = dup.get();
  cr_assert_eq(dup.replace(ZX_RIGHT_READ, &dup), ZX_OK);
  cr_assert_not(handle_valid(before));
  cr_assert_eq(basic_info(dup.get()).rights, ZX_RIGHT_READ);
  zx::vmo r;
  before = dup.get();
  cr_assert_eq(dup.replace(ZX_RIGHT_SAME_RIGHTS, &r), ZX_OK);
  cr_assert_not(dup.is_valid());
  cr_assert_not(handle_valid(before));
  cr_assert_eq(basic_info(r.get()).rights, ZX_RIGHT_READ);
}

Test(cxx_object, signal_and_wait) {
  zx::event e;
  cr_assert_eq(zx::event::create(0, &e), ZX_OK);
  cr_assert_eq(basic_info(e.get()).type, ZX_OBJ_TYPE_EVENT);
  zx_signals_t pending = 0;
  cr_assert_eq(e.wait_one(ZX_USER_SIGNAL_0, zx::time(), &pending), ZX_ERR_TIMED_OUT);
  cr_assert_eq(e.signal(0, ZX_USER_SIGNAL_0 | ZX_EVENT_SIGNALED), ZX_OK);
  cr_assert_eq(e.wait_one(ZX_USER_SIGNAL_0, zx::time::infinite(), &pending), ZX_OK);
  cr_assert_eq(pending, ZX_USER_SIGNAL_0 | ZX_EVENT_SIGNALED);
  cr_assert_eq(e.signal(ZX_EVENT_SIGNALED, 0), ZX_OK);
  zx_wait_item_t items[2] = {{e.get(), ZX_EVENT_SIGNALED, 0}, {e.get(), ZX_USER_SIGNAL_0, 0}};
  cr_assert_eq(zx::event::wait_many(items, 2, zx::deadline_after(zx::msec(1))), ZX_OK);
  cr_assert_eq(items[1].pending, ZX_USER_SIGNAL_0);
  // The VMO's own signal.
  zx::vmo v;
  cr_assert_eq(zx::vmo::create(page(), 0, &v), ZX_OK);
  cr_assert_eq(v.wait_one(ZX_VMO_ZERO_CHILDREN, zx::time::infinite_past(), &pending), ZX_OK);
}

Test(cxx_object, wait_async_and_port) {
  zx::port port;
  cr_assert_eq(zx::port::create(0, &port), ZX_OK);
  cr_assert_eq(basic_info(port.get()).type, ZX_OBJ_TYPE_PORT);
  zx::event e;
  cr_assert_eq(zx::event::create(0, &e), ZX_OK);
  cr_assert_eq(e.wait_async(port, 42, ZX_USER_SIGNAL_1, 0), ZX_OK);
  cr_assert_eq(e.signal(0, ZX_USER_SIGNAL_1), ZX_OK);
  zx_port_packet_t packet;
  cr_assert_eq(port.wait(zx::time::infinite(), &packet), ZX_OK);
  cr_assert_eq(packet.key, 42u);
  cr_assert_eq(packet.type, ZX_PKT_TYPE_SIGNAL_ONE);
  cr_assert_eq(packet.signal.observed & ZX_USER_SIGNAL_1, ZX_USER_SIGNAL_1);
  // cancel removes a pending wait: nothing arrives.
  cr_assert_eq(e.signal(ZX_USER_SIGNAL_1, 0), ZX_OK);
  cr_assert_eq(e.wait_async(port, 7, ZX_USER_SIGNAL_1, 0), ZX_OK);
  cr_assert_eq(port.cancel(e, 7), ZX_OK);
  cr_assert_eq(e.signal(0, ZX_USER_SIGNAL_1), ZX_OK);
  cr_assert_eq(port.wait(zx::time(), &packet), ZX_ERR_TIMED_OUT);
  // User packets.
  zx_port_packet_t user{};
  user.key = 9;
  user.type = ZX_PKT_TYPE_USER;
  user.user.u64[0] = 0x1234;
  cr_assert_eq(port.queue(&user), ZX_OK);
  cr_assert_eq(port.wait(zx::deadline_after(zx::sec(5)), &packet), ZX_OK);
  cr_assert_eq(packet.user.u64[0], 0x1234u);
  cr_assert_eq(port.cancel_key(0, 9), ZX_ERR_NOT_FOUND);
}

// ---- zx::vmo ----

Test(cxx_vmo, read_write_size_and_content_size) {
  zx::vmo v;
  cr_assert_eq(zx::vmo::create(page(), ZX_VMO_RESIZABLE, &v), ZX_OK);
  const char msg[] = "hello";
  cr_assert_eq(v.write(msg, 10, sizeof(msg)), ZX_OK);
  char got[sizeof(msg)] = {};
  cr_assert_eq(v.read(got, 10, sizeof(got)), ZX_OK);
  cr_assert_str_eq(got, msg);
  uint64_t size = 0;
  cr_assert_eq(v.get_size(&size), ZX_OK);
  cr_assert_eq(size, page());
  cr_assert_eq(v.set_size(3 * page()), ZX_OK);
  cr_assert_eq(v.get_size(&size), ZX_OK);
  cr_assert_eq(size, 3 * page());
  uint64_t content = 0;
  cr_assert_eq(v.get_prop_content_size(&content), ZX_OK);
  cr_assert_eq(content, 3 * page());
  cr_assert_eq(v.set_prop_content_size(100), ZX_OK);
  cr_assert_eq(v.get_prop_content_size(&content), ZX_OK);
  cr_assert_eq(content, 100u);
  cr_assert_eq(v.read(got, 3 * page(), 1), ZX_ERR_OUT_OF_RANGE);
  // The stream size zeroes from the smaller size on and never resizes.
  cr_assert_eq(v.set_stream_size(3 * page() + 1), ZX_ERR_OUT_OF_RANGE);
  cr_assert_eq(v.set_stream_size(5), ZX_OK);
  cr_assert_eq(v.get_prop_content_size(&content), ZX_OK);
  cr_assert_eq(content, 5u);
  cr_assert_eq(v.get_size(&size), ZX_OK);
  cr_assert_eq(size, 3 * page());
  cr_assert_eq(v.read(got, 10, sizeof(got)), ZX_OK);
  cr_assert_eq(got[0], 0);
}

Test(cxx_vmo, op_range_and_children) {
  zx::vmo v;
  cr_assert_eq(zx::vmo::create(2 * page(), 0, &v), ZX_OK);
  cr_assert_eq(v.op_range(ZX_VMO_OP_COMMIT, 0, 2 * page(), nullptr, 0), ZX_OK);
  zx_info_vmo_t info;
  cr_assert_eq(v.get_info(ZX_INFO_VMO, &info, sizeof(info), nullptr, nullptr), ZX_OK);
  cr_assert_eq(info.committed_bytes, 2 * page());
  uint8_t one = 1;
  cr_assert_eq(v.write(&one, 0, 1), ZX_OK);

  zx::vmo child;
  cr_assert_eq(v.create_child(ZX_VMO_CHILD_SNAPSHOT, 0, page(), &child), ZX_OK);
  cr_assert_eq(child.get_info(ZX_INFO_VMO, &info, sizeof(info), nullptr, nullptr), ZX_OK);
  cr_assert_eq(info.parent_koid, basic_info(v.get()).koid);
  uint8_t b = 0;
  cr_assert_eq(child.read(&b, 0, 1), ZX_OK);
  cr_assert_eq(b, 1);
  zx_signals_t pending;
  cr_assert_eq(v.wait_one(ZX_VMO_ZERO_CHILDREN, zx::time(), &pending), ZX_ERR_TIMED_OUT);

  // A child into the same object: the parent handle is replaced by the child's.
  zx::vmo self;
  cr_assert_eq(v.duplicate(ZX_RIGHT_SAME_RIGHTS, &self), ZX_OK);
  zx_handle_t before = self.get();
  cr_assert_eq(self.create_child(ZX_VMO_CHILD_SLICE, 0, page(), &self), ZX_OK);
  cr_assert_not(handle_valid(before));
  cr_assert_eq(self.get_info(ZX_INFO_VMO, &info, sizeof(info), nullptr, nullptr), ZX_OK);
  cr_assert_eq(info.parent_koid, basic_info(v.get()).koid);

  cr_assert_eq(v.create_child(ZX_VMO_CHILD_SNAPSHOT, 1, page(), &child), ZX_ERR_INVALID_ARGS);
  cr_assert_not(child.is_valid());
}

Test(cxx_vmo, replace_as_executable_and_cache_policy) {
  zx::vmo v;
  cr_assert_eq(zx::vmo::create(page(), 0, &v), ZX_OK);
  zx_handle_t before = v.get();
  zx::vmo x;
  cr_assert_eq(v.replace_as_executable(zx::resource(), &x), ZX_OK);
  cr_assert_not(v.is_valid());
  cr_assert_not(handle_valid(before));
  cr_assert(basic_info(x.get()).rights & ZX_RIGHT_EXECUTE);

  zx::vmo c;
  cr_assert_eq(zx::vmo::create(page(), 0, &c), ZX_OK);
  cr_assert_eq(c.set_cache_policy(ZX_CACHE_POLICY_UNCACHED), ZX_OK);
  zx_info_vmo_t info;
  cr_assert_eq(c.get_info(ZX_INFO_VMO, &info, sizeof(info), nullptr, nullptr), ZX_OK);
  cr_assert_eq(info.cache_policy, ZX_CACHE_POLICY_UNCACHED);
  cr_assert_eq(c.set_cache_policy(4), ZX_ERR_INVALID_ARGS);
}

// ---- zx::vmar ----

Test(cxx_vmar, root_self_map_protect_unmap) {
  zx::unowned_vmar root = zx::vmar::root_self();
  cr_assert_eq(root->get(), zx_vmar_root_self());
  zx::vmo v;
  cr_assert_eq(zx::vmo::create(2 * page(), 0, &v), ZX_OK);
  zx_vaddr_t addr = 0;
  cr_assert_eq(root->map(ZX_VM_PERM_READ | ZX_VM_PERM_WRITE, 0, v, 0, 2 * page(), &addr), ZX_OK);
  auto* p = reinterpret_cast<volatile uint8_t*>(addr);
  p[page()] = 77;
  uint8_t b = 0;
  cr_assert_eq(v.read(&b, page(), 1), ZX_OK);
  cr_assert_eq(b, 77);
  // COMMIT needs WRITE in the mapping's limit (what the handles allowed when it was
  // mapped), not in its current protection.
  cr_assert_eq(root->protect(ZX_VM_PERM_READ, addr, page()), ZX_OK);
  cr_assert_eq(root->op_range(ZX_VMAR_OP_COMMIT, addr, page(), nullptr, 0), ZX_OK);
  zx::vmo read_only;
  cr_assert_eq(v.duplicate(ZX_RIGHT_READ | ZX_RIGHT_MAP, &read_only), ZX_OK);
  zx_vaddr_t ro = 0;
  cr_assert_eq(root->map(ZX_VM_PERM_READ, 0, read_only, 0, page(), &ro), ZX_OK);
  cr_assert_eq(root->op_range(ZX_VMAR_OP_COMMIT, ro, page(), nullptr, 0), ZX_ERR_ACCESS_DENIED);
  cr_assert_eq(root->unmap(ro, page()), ZX_OK);
  cr_assert_eq(root->unmap(addr, 2 * page()), ZX_OK);
  zx_info_vmo_t info;
  cr_assert_eq(v.get_info(ZX_INFO_VMO, &info, sizeof(info), nullptr, nullptr), ZX_OK);
  cr_assert_eq(info.num_mappings, 0u);
  cr_assert_eq(root->unmap(addr, 0), ZX_ERR_INVALID_ARGS);
  // The root VMAR handle survives its unowned wrappers.
  cr_assert(handle_valid(zx_vmar_root_self()));
}

Test(cxx_vmar, allocate_and_destroy) {
  zx::vmar child;
  uintptr_t base = 0;
  cr_assert_eq(zx::vmar::root_self()->allocate(
                   ZX_VM_CAN_MAP_READ | ZX_VM_CAN_MAP_WRITE | ZX_VM_CAN_MAP_SPECIFIC, 0,
                   4 * page(), &child, &base),
               ZX_OK);
  cr_assert_eq(basic_info(child.get()).type, ZX_OBJ_TYPE_VMAR);
  zx_info_vmar_t vi;
  cr_assert_eq(child.get_info(ZX_INFO_VMAR, &vi, sizeof(vi), nullptr, nullptr), ZX_OK);
  cr_assert_eq(vi.base, base);
  cr_assert_eq(vi.len, 4 * page());
  zx::vmo v;
  cr_assert_eq(zx::vmo::create(page(), 0, &v), ZX_OK);
  zx_vaddr_t addr = 0;
  cr_assert_eq(child.map(ZX_VM_PERM_READ | ZX_VM_SPECIFIC, page(), v, 0, page(), &addr), ZX_OK);
  cr_assert_eq(addr, base + page());
  cr_assert_eq(child.destroy(), ZX_OK);
  cr_assert_eq(child.map(ZX_VM_PERM_READ, 0, v, 0, page(), &addr), ZX_ERR_BAD_STATE);
  // Destroying the object only closes the handle; destroy() above removed the region.
  zx_handle_t raw = child.get();
  child.reset();
  cr_assert_not(handle_valid(raw));
}

// ---- zx::pager ----

Test(cxx_pager, create_supply_and_detach) {
  zx::pager pager;
  cr_assert_eq(zx::pager::create(0, &pager), ZX_OK);
  zx::port port;
  cr_assert_eq(zx::port::create(0, &port), ZX_OK);
  zx::vmo pv;
  cr_assert_eq(pager.create_vmo(0, port, 5, page(), &pv), ZX_OK);
  zx::vmo aux;
  cr_assert_eq(zx::vmo::create(page(), 0, &aux), ZX_OK);
  uint8_t seven = 7;
  cr_assert_eq(aux.write(&seven, 3, 1), ZX_OK);
  cr_assert_eq(pager.supply_pages(pv, 0, page(), aux, 0), ZX_OK);
  uint8_t b = 0;
  cr_assert_eq(pv.read(&b, 3, 1), ZX_OK);
  cr_assert_eq(b, 7);
  zx_pager_vmo_stats_t stats;
  cr_assert_eq(pager.query_vmo_stats(pv, 0, &stats, sizeof(stats)), ZX_OK);
  size_t actual = 1, avail = 1;
  zx_vmo_dirty_range_t range;
  cr_assert_eq(pager.query_dirty_ranges(pv, 0, page(), &range, sizeof(range), &actual, &avail),
               ZX_OK);
  cr_assert_eq(actual, 0u);
  cr_assert_eq(pager.op_range(ZX_PAGER_OP_FAIL, pv, 0, page(), ZX_ERR_IO), ZX_OK);
  cr_assert_eq(pager.detach_vmo(pv), ZX_OK);
  zx_port_packet_t packet;
  cr_assert_eq(port.wait(zx::time::infinite(), &packet), ZX_OK);
  cr_assert_eq(packet.type, ZX_PKT_TYPE_PAGE_REQUEST);
  cr_assert_eq(packet.page_request.command, ZX_PAGER_VMO_COMPLETE);
}

// ---- zx::process, clock and time ----

Test(cxx_process, self_get_info) {
  zx::unowned_process self = zx::process::self();
  cr_assert_eq(self->get(), zx_process_self());
  cr_assert_eq(basic_info(self->get()).type, ZX_OBJ_TYPE_PROCESS);
  zx::vmo v;
  cr_assert_eq(zx::vmo::create(page(), 0, &v), ZX_OK);
  zx_vaddr_t addr = 0;
  cr_assert_eq(zx::vmar::root_self()->map(ZX_VM_PERM_READ, 0, v, 0, page(), &addr), ZX_OK);
  size_t actual = 0, avail = 0;
  cr_assert_eq(self->get_info(ZX_INFO_PROCESS_MAPS, nullptr, 0, &actual, &avail), ZX_OK);
  cr_assert_geq(avail, 3u);  // the address space, the root VMAR and the mapping
  zx_info_task_stats_t stats;
  cr_assert_eq(self->get_info(ZX_INFO_TASK_STATS, &stats, sizeof(stats), nullptr, nullptr), ZX_OK);
  cr_assert_geq(stats.mem_mapped_bytes, page());
  cr_assert_eq(zx::vmar::root_self()->unmap(addr, page()), ZX_OK);
}

Test(cxx_time, arithmetic_saturates_and_clocks_advance) {
  constexpr zx::duration d = zx::msec(3) + zx::usec(500);
  static_assert(d.to_usecs() == 3500, "constexpr arithmetic");
  cr_assert_eq((zx::sec(1) / zx::msec(1)), 1000);
  cr_assert_eq((zx::min(2) - zx::sec(60)).to_secs(), 60);
  cr_assert_eq((2 * zx::hour(1)).to_mins(), 120);
  cr_assert_eq((-zx::nsec(5)).get(), -5);
  cr_assert(zx::duration::infinite() + zx::sec(1) == zx::duration::infinite());
  cr_assert(zx::time::infinite() + zx::sec(1) == zx::time::infinite());
  cr_assert(zx::time::infinite_past() - zx::sec(1) == zx::time::infinite_past());
  zx::duration acc = zx::sec(1);
  acc *= 3;
  acc -= zx::sec(1);
  acc /= 2;
  cr_assert_eq(acc.to_msecs(), 1000);
  std::timespec ts = zx::msec(1500).to_timespec();
  cr_assert_eq(ts.tv_sec, 1);
  cr_assert_eq(ts.tv_nsec, 500000000);
  cr_assert(zx::duration(ts) == zx::msec(1500));
  ts.tv_sec = INT64_MAX / 2;
  cr_assert(zx::duration(ts) == zx::duration::infinite());
  cr_assert_eq(zx::time(zx::usec(3).to_timespec()).to_timespec().tv_nsec, 3000);

  zx::time_monotonic t0 = zx::clock::get_monotonic();
  zx::instant_mono deadline = zx::deadline_after(zx::msec(2));
  cr_assert_geq(deadline.get(), t0.get() + ZX_MSEC(2));
  cr_assert_eq(zx::nanosleep(deadline), ZX_OK);
  zx::time t1 = zx::clock::get_monotonic();
  cr_assert(t1 >= deadline);
  zx::duration_mono elapsed = t1 - t0;
  cr_assert_geq(elapsed.to_msecs(), 2);
  zx::time_boot boot(5);
  boot += zx::nsec(5);
  cr_assert_eq(boot.get(), 10);
}


// ---- <zircon/assert.h> ----

#include <signal.h>
#include <zircon/assert.h>

Test(cxx_assert, passing_assertions_evaluate_once) {
  int evaluated = 0;
  ZX_ASSERT(++evaluated == 1);
  ZX_ASSERT_MSG(++evaluated == 2, "with a message %d", evaluated);
  ZX_DEBUG_ASSERT(++evaluated > 0);
  ZX_DEBUG_ASSERT_MSG(++evaluated > 0, "message");
  // Debug assertions run only when enabled (ZX_ASSERT_LEVEL, else NDEBUG).
  cr_assert_eq(evaluated, ZX_DEBUG_ASSERT_IMPLEMENTED ? 4 : 2);
}

Test(cxx_assert, failing_assert_aborts, .signal = SIGABRT) {
  volatile int zero = 0;
  ZX_ASSERT_MSG(zero == 1, "zero is %d", zero);
}

Test(cxx_assert, panic_aborts, .signal = SIGABRT) { ZX_PANIC("panic %s", "now"); }
