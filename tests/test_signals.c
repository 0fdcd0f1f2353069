// SPDX-License-Identifier: BSD-3-Clause
// Signals and single-threaded waits: zx_object_signal, zx_object_wait_one and
// zx_object_wait_many with deadlines in the past and short timeouts.
#include <criterion/criterion.h>
#include <zircon/syscalls.h>

#include "handle.h"
#include "helpers.h"
#include "object.h"

static zx_handle_t mkevent(void) {
  zx_handle_t h = ZX_HANDLE_INVALID;
  cr_assert_eq(zx_event_create(0, &h), ZX_OK);
  return h;
}

static zx_handle_t dup_rights(zx_handle_t h, zx_rights_t r) {
  zx_handle_t d = ZX_HANDLE_INVALID;
  cr_assert_eq(zx_handle_duplicate(h, r, &d), ZX_OK);
  return d;
}

static zx_signals_t observe(zx_handle_t h) {
  zx_signals_t seen = 0xdeadbeef;
  zx_status_t st = zx_object_wait_one(h, 0, 0, &seen);
  cr_assert_eq(st, ZX_ERR_TIMED_OUT);
  return seen;
}

Test(signals, new_event_has_no_signals) {
  zx_handle_t e = mkevent();
  cr_assert_eq(observe(e), 0);
  cr_assert_eq(zx_handle_close(e), ZX_OK);
}

Test(signals, set_and_clear) {
  zx_handle_t e = mkevent();
  cr_assert_eq(zx_object_signal(e, 0, ZX_USER_SIGNAL_0 | ZX_USER_SIGNAL_7), ZX_OK);
  cr_assert_eq(observe(e), ZX_USER_SIGNAL_0 | ZX_USER_SIGNAL_7);
  cr_assert_eq(zx_object_signal(e, ZX_USER_SIGNAL_0, ZX_EVENT_SIGNALED), ZX_OK);
  cr_assert_eq(observe(e), ZX_USER_SIGNAL_7 | ZX_EVENT_SIGNALED);
  // Clear is applied before set: clearing and setting one bit leaves it set.
  cr_assert_eq(zx_object_signal(e, ZX_USER_SIGNAL_7, ZX_USER_SIGNAL_7), ZX_OK);
  cr_assert_eq(observe(e), ZX_USER_SIGNAL_7 | ZX_EVENT_SIGNALED);
  cr_assert_eq(zx_object_signal(e, ZX_USER_SIGNAL_ALL | ZX_EVENT_SIGNALED, 0), ZX_OK);
  cr_assert_eq(observe(e), 0);
  // Signals belong to the object, not the handle.
  zx_handle_t d = dup_rights(e, ZX_RIGHT_SAME_RIGHTS);
  cr_assert_eq(zx_object_signal(d, 0, ZX_USER_SIGNAL_3), ZX_OK);
  cr_assert_eq(observe(e), ZX_USER_SIGNAL_3);
  zx_handle_t both[] = {e, d};
  cr_assert_eq(zx_handle_close_many(both, 2), ZX_OK);
}

Test(signals, signal_errors) {
  zx_handle_t e = mkevent();
  // Bits an event does not let users change.
  cr_assert_eq(zx_object_signal(e, 0, ZX_OBJECT_SIGNAL_0), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(zx_object_signal(e, ZX_OBJECT_SIGNAL_4, 0), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(zx_object_signal(e, 0, ZX_SIGNAL_HANDLE_CLOSED), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(zx_object_signal(e, 0, ZX_USER_SIGNAL_0 | ZX_OBJECT_SIGNAL_1),
               ZX_ERR_INVALID_ARGS);
  // A refused call changes nothing.
  cr_assert_eq(observe(e), 0);
  // Right checks.
  zx_handle_t w = dup_rights(e, ZX_RIGHT_WAIT);
  cr_assert_eq(zx_object_signal(w, 0, ZX_USER_SIGNAL_0), ZX_ERR_ACCESS_DENIED);
  cr_assert_eq(zx_object_signal(w, 0, ZX_OBJECT_SIGNAL_0), ZX_ERR_ACCESS_DENIED);
  cr_assert_eq(zx_object_signal(ZX_HANDLE_INVALID, 0, ZX_USER_SIGNAL_0), ZX_ERR_BAD_HANDLE);
  zx_handle_t s = dup_rights(e, ZX_RIGHT_SIGNAL);
  cr_assert_eq(zx_object_signal(s, 0, ZX_USER_SIGNAL_1), ZX_OK);
  cr_assert_eq(observe(e), ZX_USER_SIGNAL_1);
  cr_assert_eq(zx_handle_close(s), ZX_OK);
  cr_assert_eq(zx_object_signal(s, 0, ZX_USER_SIGNAL_1), ZX_ERR_BAD_HANDLE);
  zx_handle_t rest[] = {e, w};
  cr_assert_eq(zx_handle_close_many(rest, 2), ZX_OK);
}

Test(signals, vmo_signals) {
  zx_handle_t v = mkvmo(PG);
  zx_signals_t seen = 0;
  // A VMO without children asserts ZERO_CHILDREN from creation.
  cr_assert_eq(zx_object_wait_one(v, ZX_VMO_ZERO_CHILDREN, 0, &seen), ZX_OK);
  cr_assert(seen & ZX_VMO_ZERO_CHILDREN);
  cr_assert_eq(zx_object_signal(v, 0, ZX_USER_SIGNAL_2), ZX_OK);
  cr_assert_eq(zx_object_wait_one(v, ZX_USER_SIGNAL_2, 0, &seen), ZX_OK);
  cr_assert_eq(seen, ZX_VMO_ZERO_CHILDREN | ZX_USER_SIGNAL_2);
  // Users cannot fake the VMO's own signal.
  cr_assert_eq(zx_object_signal(v, ZX_VMO_ZERO_CHILDREN, 0), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(zx_object_signal(v, 0, ZX_EVENT_SIGNALED), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(zx_handle_close(v), ZX_OK);
}

Test(wait_one, already_asserted_returns_at_once) {
  zx_handle_t e = mkevent();
  cr_assert_eq(zx_object_signal(e, 0, ZX_EVENT_SIGNALED | ZX_USER_SIGNAL_5), ZX_OK);
  zx_signals_t seen = 0;
  cr_assert_eq(zx_object_wait_one(e, ZX_EVENT_SIGNALED, ZX_TIME_INFINITE, &seen), ZX_OK);
  cr_assert_eq(seen, ZX_EVENT_SIGNALED | ZX_USER_SIGNAL_5);
  // Any one of the requested bits is enough.
  cr_assert_eq(zx_object_wait_one(e, ZX_USER_SIGNAL_0 | ZX_USER_SIGNAL_5, 0, &seen), ZX_OK);
  // Even with a deadline long past.
  cr_assert_eq(zx_object_wait_one(e, ZX_USER_SIGNAL_5, ZX_TIME_INFINITE_PAST, NULL), ZX_OK);
  cr_assert_eq(zx_handle_close(e), ZX_OK);
}

Test(wait_one, past_deadline_times_out_and_reports) {
  zx_handle_t e = mkevent();
  cr_assert_eq(zx_object_signal(e, 0, ZX_USER_SIGNAL_1), ZX_OK);
  const zx_time_t past[] = {ZX_TIME_INFINITE_PAST, -1, 0, 1,
                            zx_clock_get_monotonic() - ZX_MSEC(1)};
  for (size_t i = 0; i < sizeof(past) / sizeof(past[0]); i++) {
    zx_signals_t seen = 0;
    zx_time_t t0 = zx_clock_get_monotonic();
    cr_assert_eq(zx_object_wait_one(e, ZX_USER_SIGNAL_0, past[i], &seen), ZX_ERR_TIMED_OUT);
    cr_assert_lt(zx_clock_get_monotonic() - t0, ZX_SEC(1));
    cr_assert_eq(seen, ZX_USER_SIGNAL_1);
  }
  cr_assert_eq(zx_object_wait_one(e, ZX_USER_SIGNAL_0, 0, NULL), ZX_ERR_TIMED_OUT);
  // Waiting for nothing never succeeds.
  cr_assert_eq(zx_object_wait_one(e, 0, 0, NULL), ZX_ERR_TIMED_OUT);
  cr_assert_eq(zx_handle_close(e), ZX_OK);
}

Test(wait_one, short_deadline_times_out_after_it) {
  zx_handle_t e = mkevent();
  zx_time_t t0 = zx_clock_get_monotonic();
  zx_time_t deadline = t0 + ZX_MSEC(30);
  zx_signals_t seen = 0xffff;
  cr_assert_eq(zx_object_wait_one(e, ZX_EVENT_SIGNALED, deadline, &seen), ZX_ERR_TIMED_OUT);
  zx_time_t t1 = zx_clock_get_monotonic();
  cr_assert_geq(t1, deadline);
  cr_assert_lt(t1 - t0, ZX_SEC(5));
  cr_assert_eq(seen, 0);
  cr_assert_eq(zx_handle_close(e), ZX_OK);
}

Test(wait_one, errors) {
  zx_handle_t e = mkevent();
  zx_handle_t s = dup_rights(e, ZX_RIGHT_SIGNAL);
  zx_signals_t seen = 0x1234;
  cr_assert_eq(zx_object_wait_one(s, ZX_EVENT_SIGNALED, 0, &seen), ZX_ERR_ACCESS_DENIED);
  cr_assert_eq(seen, 0x1234);
  cr_assert_eq(zx_object_wait_one(ZX_HANDLE_INVALID, ZX_EVENT_SIGNALED, 0, &seen),
               ZX_ERR_BAD_HANDLE);
  zx_handle_t w = dup_rights(e, ZX_RIGHT_WAIT);
  cr_assert_eq(zx_object_signal(e, 0, ZX_EVENT_SIGNALED), ZX_OK);
  cr_assert_eq(zx_object_wait_one(w, ZX_EVENT_SIGNALED, 0, &seen), ZX_OK);
  cr_assert_eq(seen, ZX_EVENT_SIGNALED);
  cr_assert_eq(zx_handle_close(w), ZX_OK);
  cr_assert_eq(zx_object_wait_one(w, ZX_EVENT_SIGNALED, 0, &seen), ZX_ERR_BAD_HANDLE);
  zx_handle_t rest[] = {e, s};
  cr_assert_eq(zx_handle_close_many(rest, 2), ZX_OK);
}

Test(wait_many, pending_for_every_item) {
  zx_handle_t a = mkevent(), b = mkevent(), c = mkevent();
  cr_assert_eq(zx_object_signal(a, 0, ZX_USER_SIGNAL_4), ZX_OK);
  cr_assert_eq(zx_object_signal(b, 0, ZX_EVENT_SIGNALED), ZX_OK);
  zx_wait_item_t items[3] = {
      {.handle = a, .waitfor = ZX_EVENT_SIGNALED, .pending = 77},
      {.handle = b, .waitfor = ZX_EVENT_SIGNALED, .pending = 77},
      {.handle = c, .waitfor = ZX_EVENT_SIGNALED, .pending = 77},
  };
  cr_assert_eq(zx_object_wait_many(items, 3, ZX_TIME_INFINITE), ZX_OK);
  cr_assert_eq(items[0].pending, ZX_USER_SIGNAL_4);
  cr_assert_eq(items[1].pending, ZX_EVENT_SIGNALED);
  cr_assert_eq(items[2].pending, 0);
  cr_assert_eq(items[1].handle, b);
  cr_assert_eq(items[1].waitfor, ZX_EVENT_SIGNALED);
  // Nothing asserted, deadline past.
  cr_assert_eq(zx_object_signal(b, ZX_EVENT_SIGNALED, 0), ZX_OK);
  cr_assert_eq(zx_object_wait_many(items, 3, 0), ZX_ERR_TIMED_OUT);
  cr_assert_eq(items[0].pending, ZX_USER_SIGNAL_4);
  cr_assert_eq(items[1].pending, 0);
  cr_assert_eq(items[2].pending, 0);
  // The same object twice is fine.
  zx_wait_item_t same[2] = {{.handle = a, .waitfor = ZX_USER_SIGNAL_0},
                            {.handle = a, .waitfor = ZX_USER_SIGNAL_4}};
  cr_assert_eq(zx_object_wait_many(same, 2, 0), ZX_OK);
  cr_assert_eq(same[0].pending, ZX_USER_SIGNAL_4);
  cr_assert_eq(same[1].pending, ZX_USER_SIGNAL_4);
  zx_handle_t all[] = {a, b, c};
  cr_assert_eq(zx_handle_close_many(all, 3), ZX_OK);
}

Test(wait_many, short_deadline) {
  zx_handle_t a = mkevent(), b = mkevent();
  zx_wait_item_t items[2] = {{.handle = a, .waitfor = ZX_EVENT_SIGNALED},
                             {.handle = b, .waitfor = ZX_EVENT_SIGNALED}};
  zx_time_t t0 = zx_clock_get_monotonic();
  cr_assert_eq(zx_object_wait_many(items, 2, t0 + ZX_MSEC(25)), ZX_ERR_TIMED_OUT);
  cr_assert_geq(zx_clock_get_monotonic(), t0 + ZX_MSEC(25));
  zx_handle_t all[] = {a, b};
  cr_assert_eq(zx_handle_close_many(all, 2), ZX_OK);
}

Test(wait_many, zero_items_sleeps_until_deadline) {
  zx_time_t t0 = zx_clock_get_monotonic();
  cr_assert_eq(zx_object_wait_many(NULL, 0, t0 + ZX_MSEC(20)), ZX_ERR_TIMED_OUT);
  cr_assert_geq(zx_clock_get_monotonic(), t0 + ZX_MSEC(20));
  cr_assert_eq(zx_object_wait_many(NULL, 0, 0), ZX_ERR_TIMED_OUT);
  cr_assert_eq(zx_object_wait_many(NULL, 0, ZX_TIME_INFINITE_PAST), ZX_ERR_TIMED_OUT);
}

Test(wait_many, errors) {
  zx_handle_t a = mkevent(), b = mkevent();
  zx_handle_t s = dup_rights(b, ZX_RIGHT_SIGNAL);
  zx_handle_t dead = mkevent();
  cr_assert_eq(zx_handle_close(dead), ZX_OK);
  zx_wait_item_t big[ZX_WAIT_MANY_MAX_ITEMS + 1];
  for (size_t i = 0; i < ZX_WAIT_MANY_MAX_ITEMS + 1; i++) {
    big[i].handle = a;
    big[i].waitfor = ZX_EVENT_SIGNALED;
    big[i].pending = 0;
  }
  cr_assert_eq(zx_object_wait_many(big, ZX_WAIT_MANY_MAX_ITEMS + 1, 0), ZX_ERR_OUT_OF_RANGE);
  // Exactly the maximum is accepted.
  cr_assert_eq(zx_object_signal(a, 0, ZX_EVENT_SIGNALED), ZX_OK);
  cr_assert_eq(zx_object_wait_many(big, ZX_WAIT_MANY_MAX_ITEMS, 0), ZX_OK);
  cr_assert_eq(big[ZX_WAIT_MANY_MAX_ITEMS - 1].pending, ZX_EVENT_SIGNALED);
  cr_assert_eq(zx_object_wait_many(NULL, 1, 0), ZX_ERR_INVALID_ARGS);

  zx_wait_item_t bad[2] = {{.handle = a, .waitfor = ZX_EVENT_SIGNALED, .pending = 5},
                           {.handle = dead, .waitfor = ZX_EVENT_SIGNALED, .pending = 5}};
  cr_assert_eq(zx_object_wait_many(bad, 2, 0), ZX_ERR_BAD_HANDLE);
  cr_assert_eq(bad[0].pending, 5);
  zx_wait_item_t denied[2] = {{.handle = a, .waitfor = ZX_EVENT_SIGNALED},
                              {.handle = s, .waitfor = ZX_EVENT_SIGNALED}};
  cr_assert_eq(zx_object_wait_many(denied, 2, 0), ZX_ERR_ACCESS_DENIED);
  // Items are checked in order: the first failure is reported.
  zx_wait_item_t both[2] = {{.handle = s, .waitfor = ZX_EVENT_SIGNALED},
                            {.handle = dead, .waitfor = ZX_EVENT_SIGNALED}};
  cr_assert_eq(zx_object_wait_many(both, 2, 0), ZX_ERR_ACCESS_DENIED);
  zx_wait_item_t both2[2] = {{.handle = dead, .waitfor = ZX_EVENT_SIGNALED},
                             {.handle = s, .waitfor = ZX_EVENT_SIGNALED}};
  cr_assert_eq(zx_object_wait_many(both2, 2, 0), ZX_ERR_BAD_HANDLE);
  zx_handle_t all[] = {a, b, s};
  cr_assert_eq(zx_handle_close_many(all, 3), ZX_OK);
}

// White-box: a close that lands between a wait's handle lookup and the linking of its
// waiter must still cancel the wait (it cannot have seen the waiter). Modelled by
// looking up, closing, then waiting on the object through the closed value.
Test(wait_one, close_between_lookup_and_wait_cancels) {
  zx_handle_t e = mkevent();
  zx_handle_t d = dup_rights(e, ZX_RIGHT_SAME_RIGHTS);
  zx_object_t* obj;
  cr_assert_eq(handle_get(d, ZX_OBJ_TYPE_EVENT, ZX_RIGHT_WAIT, &obj, NULL), ZX_OK);
  cr_assert_eq(zx_handle_close(d), ZX_OK);
  zx_signals_t want = ZX_EVENT_SIGNALED, pending = 0;
  zx_time_t t0 = zx_clock_get_monotonic();
  cr_assert_eq(object_wait_many(&obj, &d, &want, &pending, 1, t0 + ZX_SEC(10)),
               ZX_ERR_CANCELED);
  cr_assert_lt(zx_clock_get_monotonic() - t0, ZX_SEC(5));
  cr_assert_eq(pending, ZX_SIGNAL_HANDLE_CLOSED);
  object_unref(obj);
  cr_assert_eq(zx_handle_close(e), ZX_OK);
}
