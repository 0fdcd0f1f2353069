// SPDX-License-Identifier: BSD-3-Clause
// Handles and generic objects: creation, closing, stale values, duplicate/replace,
// zx_object_get_info (handle topics), properties, status strings and time helpers.
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <zircon/status.h>
#include <zircon/syscalls.h>

#include "handle.h"
#include "helpers.h"

static zx_handle_t mkevent(void) {
  zx_handle_t h = ZX_HANDLE_INVALID;
  cr_assert_eq(zx_event_create(0, &h), ZX_OK);
  return h;
}

static zx_info_handle_basic_t basic(zx_handle_t h) {
  zx_info_handle_basic_t info;
  memset(&info, 0xAB, sizeof(info));
  cr_assert_eq(zx_object_get_info(h, ZX_INFO_HANDLE_BASIC, &info, sizeof(info), NULL, NULL),
               ZX_OK);
  return info;
}

static zx_status_t valid(zx_handle_t h) {
  return zx_object_get_info(h, ZX_INFO_HANDLE_VALID, NULL, 0, NULL, NULL);
}

static int cmp_u32(const void* a, const void* b) {
  uint32_t x = *(const uint32_t*)a, y = *(const uint32_t*)b;
  return x < y ? -1 : x > y;
}

Test(handles, event_create_basic_info) {
  zx_handle_t h = mkevent();
  cr_assert_neq(h, ZX_HANDLE_INVALID);
  cr_assert_eq(h & ZX_HANDLE_FIXED_BITS_MASK, ZX_HANDLE_FIXED_BITS_MASK);
  zx_info_handle_basic_t info = basic(h);
  cr_assert_geq(info.koid, ZX_KOID_FIRST);
  cr_assert_eq(info.rights, ZX_DEFAULT_EVENT_RIGHTS);
  cr_assert_eq(info.rights, ZX_RIGHTS_BASIC | ZX_RIGHT_SIGNAL);
  cr_assert_eq(info.type, ZX_OBJ_TYPE_EVENT);
  cr_assert_eq(info.related_koid, 0);
  cr_assert_eq(info.reserved, 0);
  cr_assert_eq(zx_handle_close(h), ZX_OK);
}

Test(handles, event_create_errors) {
  zx_handle_t h = ZX_HANDLE_INVALID;
  cr_assert_eq(zx_event_create(1, &h), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(h, ZX_HANDLE_INVALID);
  cr_assert_eq(zx_event_create(0x80000000u, &h), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(zx_event_create(0, NULL), ZX_ERR_INVALID_ARGS);
}

Test(handles, koids_unique_and_increasing) {
  zx_handle_t a = mkevent(), b = mkevent(), c = mkevent();
  zx_koid_t ka = basic(a).koid, kb = basic(b).koid, kc = basic(c).koid;
  cr_assert_lt(ka, kb);
  cr_assert_lt(kb, kc);
  cr_assert_neq(a, b);
  cr_assert_neq(b, c);
  zx_handle_t all[] = {a, b, c};
  cr_assert_eq(zx_handle_close_many(all, 3), ZX_OK);
}

Test(handles, close_twice_and_invalid) {
  zx_handle_t h = mkevent();
  cr_assert_eq(valid(h), ZX_OK);
  cr_assert_eq(zx_handle_close(h), ZX_OK);
  cr_assert_eq(valid(h), ZX_ERR_BAD_HANDLE);
  cr_assert_eq(zx_handle_close(h), ZX_ERR_BAD_HANDLE);
  cr_assert_eq(zx_handle_close(ZX_HANDLE_INVALID), ZX_OK);
  cr_assert_eq(valid(ZX_HANDLE_INVALID), ZX_ERR_BAD_HANDLE);
}

Test(handles, made_up_values_are_bad) {
  zx_handle_t live = mkevent();
  const zx_handle_t bogus[] = {1u, 2u, 3u, 4u, 7u, 0x10u, 0x13u, 0xffu, 0x12345678u,
                               0x12345677u, 0xfffffffcu, 0xffffffffu, 0x7fffffffu,
                               live & ~ZX_HANDLE_FIXED_BITS_MASK, live ^ 1u, live ^ 2u,
                               live ^ 0x80000000u, live ^ 0x40000000u};
  for (size_t i = 0; i < sizeof(bogus) / sizeof(bogus[0]); i++) {
    cr_assert_eq(valid(bogus[i]), ZX_ERR_BAD_HANDLE, "value %#x", bogus[i]);
    cr_assert_eq(zx_object_signal(bogus[i], 0, ZX_USER_SIGNAL_0), ZX_ERR_BAD_HANDLE);
    cr_assert_eq(zx_handle_close(bogus[i]), ZX_ERR_BAD_HANDLE, "value %#x", bogus[i]);
  }
  // None of the failed closes touched the live handle.
  cr_assert_eq(valid(live), ZX_OK);
  cr_assert_eq(zx_handle_close(live), ZX_OK);
}

// Creating and closing many handles reuses table entries; no closed value may ever
// reach a later object, and no value is handed out twice.
Test(handles, stale_values_never_reach_later_objects) {
  enum { N = 12000, LIVE = 64 };
  zx_handle_t* old = calloc(N, sizeof(zx_handle_t));
  zx_koid_t* koid = calloc(N, sizeof(zx_koid_t));
  cr_assert(old != NULL && koid != NULL);
  for (int i = 0; i < N; i++) {
    old[i] = mkevent();
    koid[i] = basic(old[i]).koid;
    cr_assert_eq(zx_handle_close(old[i]), ZX_OK);
  }
  zx_handle_t live[LIVE];
  for (int i = 0; i < LIVE; i++) live[i] = mkevent();
  for (int i = 0; i < N; i++) {
    cr_assert_eq(valid(old[i]), ZX_ERR_BAD_HANDLE, "stale value %#x (#%d) is live", old[i], i);
    cr_assert_eq(zx_object_signal(old[i], 0, ZX_USER_SIGNAL_0), ZX_ERR_BAD_HANDLE);
    for (int j = 0; j < LIVE; j++) cr_assert_neq(old[i], live[j]);
  }
  // Every live handle still names its own, newer object.
  for (int j = 0; j < LIVE; j++) cr_assert_gt(basic(live[j]).koid, koid[N - 1]);
  qsort(old, N, sizeof(zx_handle_t), cmp_u32);
  for (int i = 1; i < N; i++) cr_assert_neq(old[i - 1], old[i], "value handed out twice");
  cr_assert_eq(zx_handle_close_many(live, LIVE), ZX_OK);
  free(old);
  free(koid);
}

Test(handles, count_alive_tracks_open_handles) {
  uint64_t base = handle_count_alive();
  zx_handle_t a = mkevent(), b = mkevent();
  zx_handle_t c;
  cr_assert_eq(zx_handle_duplicate(a, ZX_RIGHT_SAME_RIGHTS, &c), ZX_OK);
  cr_assert_eq(handle_count_alive(), base + 3);
  cr_assert_eq(zx_handle_close(a), ZX_OK);
  cr_assert_eq(handle_count_alive(), base + 2);
  zx_handle_t rest[] = {b, c};
  cr_assert_eq(zx_handle_close_many(rest, 2), ZX_OK);
  cr_assert_eq(handle_count_alive(), base);
}

Test(handles, close_many) {
  zx_handle_t a = mkevent(), b = mkevent();
  zx_handle_t hs[] = {ZX_HANDLE_INVALID, a, ZX_HANDLE_INVALID, b};
  cr_assert_eq(zx_handle_close_many(hs, 4), ZX_OK);
  cr_assert_eq(valid(a), ZX_ERR_BAD_HANDLE);
  cr_assert_eq(valid(b), ZX_ERR_BAD_HANDLE);
  cr_assert_eq(zx_handle_close_many(NULL, 0), ZX_OK);
  zx_handle_t none[] = {ZX_HANDLE_INVALID, ZX_HANDLE_INVALID};
  cr_assert_eq(zx_handle_close_many(none, 2), ZX_OK);
}

Test(handles, close_many_closes_all_valid_and_reports_error) {
  zx_handle_t a = mkevent(), b = mkevent(), dead = mkevent();
  cr_assert_eq(zx_handle_close(dead), ZX_OK);
  zx_handle_t hs[] = {a, dead, b};
  cr_assert_eq(zx_handle_close_many(hs, 3), ZX_ERR_BAD_HANDLE);
  cr_assert_eq(valid(a), ZX_ERR_BAD_HANDLE);
  cr_assert_eq(valid(b), ZX_ERR_BAD_HANDLE);
  // The same value twice: the second close finds it closed.
  zx_handle_t c = mkevent();
  zx_handle_t twice[] = {c, c};
  cr_assert_eq(zx_handle_close_many(twice, 2), ZX_ERR_BAD_HANDLE);
  cr_assert_eq(valid(c), ZX_ERR_BAD_HANDLE);
}

Test(handles, duplicate_same_rights) {
  zx_handle_t h = mkevent();
  zx_handle_t d = ZX_HANDLE_INVALID;
  cr_assert_eq(zx_handle_duplicate(h, ZX_RIGHT_SAME_RIGHTS, &d), ZX_OK);
  cr_assert_neq(d, h);
  cr_assert_eq(d & ZX_HANDLE_FIXED_BITS_MASK, ZX_HANDLE_FIXED_BITS_MASK);
  cr_assert_eq(basic(d).koid, basic(h).koid);
  cr_assert_eq(basic(d).rights, basic(h).rights);
  // The object outlives the original handle.
  cr_assert_eq(zx_handle_close(h), ZX_OK);
  cr_assert_eq(valid(d), ZX_OK);
  cr_assert_eq(zx_object_signal(d, 0, ZX_EVENT_SIGNALED), ZX_OK);
  cr_assert_eq(zx_handle_close(d), ZX_OK);
}

Test(handles, duplicate_rights_subset) {
  zx_handle_t h = mkevent();
  zx_handle_t d;
  cr_assert_eq(zx_handle_duplicate(h, ZX_RIGHT_WAIT | ZX_RIGHT_DUPLICATE, &d), ZX_OK);
  cr_assert_eq(basic(d).rights, ZX_RIGHT_WAIT | ZX_RIGHT_DUPLICATE);
  zx_handle_t d2;
  cr_assert_eq(zx_handle_duplicate(d, ZX_RIGHT_WAIT, &d2), ZX_OK);
  cr_assert_eq(basic(d2).rights, ZX_RIGHT_WAIT);
  zx_handle_t none;
  cr_assert_eq(zx_handle_duplicate(h, ZX_RIGHT_NONE, &none), ZX_OK);
  cr_assert_eq(basic(none).rights, ZX_RIGHT_NONE);
  cr_assert_eq(basic(none).koid, basic(h).koid);
  zx_handle_t all[] = {h, d, d2, none};
  cr_assert_eq(zx_handle_close_many(all, 4), ZX_OK);
}

Test(handles, duplicate_errors) {
  zx_handle_t h = mkevent();
  zx_handle_t out = ZX_HANDLE_INVALID;
  // Rights beyond the source's.
  cr_assert_eq(zx_handle_duplicate(h, ZX_RIGHT_WAIT | ZX_RIGHT_EXECUTE, &out),
               ZX_ERR_INVALID_ARGS);
  cr_assert_eq(zx_handle_duplicate(h, ZX_DEFAULT_EVENT_RIGHTS | ZX_RIGHT_READ, &out),
               ZX_ERR_INVALID_ARGS);
  cr_assert_eq(out, ZX_HANDLE_INVALID);
  cr_assert_eq(valid(h), ZX_OK);
  cr_assert_eq(zx_handle_duplicate(h, ZX_RIGHT_SAME_RIGHTS, NULL), ZX_ERR_INVALID_ARGS);
  // No DUPLICATE right: denied whatever is asked for.
  zx_handle_t w;
  cr_assert_eq(zx_handle_duplicate(h, ZX_RIGHT_WAIT, &w), ZX_OK);
  cr_assert_eq(zx_handle_duplicate(w, ZX_RIGHT_SAME_RIGHTS, &out), ZX_ERR_ACCESS_DENIED);
  cr_assert_eq(zx_handle_duplicate(w, ZX_RIGHT_WAIT, &out), ZX_ERR_ACCESS_DENIED);
  // Access is checked before the rights subset.
  cr_assert_eq(zx_handle_duplicate(w, ZX_RIGHT_READ, &out), ZX_ERR_ACCESS_DENIED);
  cr_assert_eq(out, ZX_HANDLE_INVALID);
  // Bad handles before everything else.
  cr_assert_eq(zx_handle_duplicate(ZX_HANDLE_INVALID, ZX_RIGHT_SAME_RIGHTS, &out),
               ZX_ERR_BAD_HANDLE);
  cr_assert_eq(zx_handle_close(w), ZX_OK);
  cr_assert_eq(zx_handle_duplicate(w, ZX_RIGHT_SAME_RIGHTS, NULL), ZX_ERR_BAD_HANDLE);
  cr_assert_eq(zx_handle_close(h), ZX_OK);
}

Test(handles, replace_same_and_subset) {
  zx_handle_t h = mkevent();
  zx_koid_t k = basic(h).koid;
  zx_handle_t r;
  cr_assert_eq(zx_handle_replace(h, ZX_RIGHT_SAME_RIGHTS, &r), ZX_OK);
  cr_assert_eq(valid(h), ZX_ERR_BAD_HANDLE);
  cr_assert_eq(basic(r).koid, k);
  cr_assert_eq(basic(r).rights, ZX_DEFAULT_EVENT_RIGHTS);
  zx_handle_t r2;
  cr_assert_eq(zx_handle_replace(r, ZX_RIGHT_WAIT, &r2), ZX_OK);
  cr_assert_eq(valid(r), ZX_ERR_BAD_HANDLE);
  cr_assert_eq(basic(r2).rights, ZX_RIGHT_WAIT);
  // Replace needs no right: not even DUPLICATE.
  zx_handle_t r3;
  cr_assert_eq(zx_handle_replace(r2, ZX_RIGHT_NONE, &r3), ZX_OK);
  cr_assert_eq(basic(r3).rights, ZX_RIGHT_NONE);
  cr_assert_eq(basic(r3).koid, k);
  cr_assert_eq(zx_handle_close(r3), ZX_OK);
}

// As on Zircon, the source handle is invalidated even when the replace is refused.
Test(handles, replace_errors) {
  zx_handle_t h = mkevent();
  zx_handle_t keep;
  cr_assert_eq(zx_handle_duplicate(h, ZX_RIGHT_SAME_RIGHTS, &keep), ZX_OK);
  zx_handle_t w;
  cr_assert_eq(zx_handle_replace(h, ZX_RIGHT_WAIT, &w), ZX_OK);
  zx_handle_t out = ZX_HANDLE_INVALID;
  cr_assert_eq(zx_handle_replace(w, ZX_RIGHT_WAIT | ZX_RIGHT_SIGNAL, &out), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(out, ZX_HANDLE_INVALID);
  cr_assert_eq(valid(w), ZX_ERR_BAD_HANDLE);
  // The object itself is untouched.
  cr_assert_eq(valid(keep), ZX_OK);
  cr_assert_eq(zx_handle_replace(w, ZX_RIGHT_SAME_RIGHTS, &out), ZX_ERR_BAD_HANDLE);
  cr_assert_eq(zx_handle_replace(ZX_HANDLE_INVALID, ZX_RIGHT_SAME_RIGHTS, &out),
               ZX_ERR_BAD_HANDLE);
  cr_assert_eq(zx_handle_close(keep), ZX_OK);
}

Test(handles, get_info_handle_valid) {
  zx_handle_t h = mkevent();
  zx_handle_t none;
  cr_assert_eq(zx_handle_duplicate(h, ZX_RIGHT_NONE, &none), ZX_OK);
  cr_assert_eq(valid(h), ZX_OK);
  cr_assert_eq(valid(none), ZX_OK);
  zx_handle_t both[] = {h, none};
  cr_assert_eq(zx_handle_close_many(both, 2), ZX_OK);
  cr_assert_eq(valid(h), ZX_ERR_BAD_HANDLE);
  cr_assert_eq(valid(none), ZX_ERR_BAD_HANDLE);
}

Test(handles, get_info_handle_basic_buffers) {
  zx_handle_t h = mkevent();
  zx_info_handle_basic_t info;
  size_t actual = 99, avail = 99;
  cr_assert_eq(zx_object_get_info(h, ZX_INFO_HANDLE_BASIC, &info, 4, &actual, &avail),
               ZX_ERR_BUFFER_TOO_SMALL);
  cr_assert_eq(actual, 0);
  cr_assert_eq(avail, 1);
  cr_assert_eq(zx_object_get_info(h, ZX_INFO_HANDLE_BASIC, &info, sizeof(info) - 1, NULL,
                                  NULL),
               ZX_ERR_BUFFER_TOO_SMALL);
  cr_assert_eq(zx_object_get_info(h, ZX_INFO_HANDLE_BASIC, NULL, 0, &actual, NULL),
               ZX_ERR_BUFFER_TOO_SMALL);
  actual = avail = 99;
  cr_assert_eq(zx_object_get_info(h, ZX_INFO_HANDLE_BASIC, &info, sizeof(info), &actual,
                                  &avail),
               ZX_OK);
  cr_assert_eq(actual, 1);
  cr_assert_eq(avail, 1);
  cr_assert_eq(info.type, ZX_OBJ_TYPE_EVENT);
  // A larger buffer is fine; only the record is written.
  uint8_t big[sizeof(info) + 16];
  memset(big, 0x5a, sizeof(big));
  cr_assert_eq(zx_object_get_info(h, ZX_INFO_HANDLE_BASIC, big, sizeof(big), NULL, NULL), ZX_OK);
  cr_assert_eq(big[sizeof(info)], 0x5a);
  // A handle without any right can still be inspected this way.
  zx_handle_t none;
  cr_assert_eq(zx_handle_duplicate(h, ZX_RIGHT_NONE, &none), ZX_OK);
  cr_assert_eq(basic(none).rights, ZX_RIGHT_NONE);
  cr_assert_eq(basic(none).type, ZX_OBJ_TYPE_EVENT);
  // Bad handle before buffer checks.
  cr_assert_eq(zx_object_get_info(ZX_HANDLE_INVALID, ZX_INFO_HANDLE_BASIC, &info, 1, NULL, NULL),
               ZX_ERR_BAD_HANDLE);
  zx_handle_t both[] = {h, none};
  cr_assert_eq(zx_handle_close_many(both, 2), ZX_OK);
}

Test(handles, get_info_topic_errors) {
  zx_handle_t h = mkevent();
  uint8_t buf[256];
  cr_assert_eq(zx_object_get_info(h, ZX_INFO_NONE, buf, sizeof(buf), NULL, NULL),
               ZX_ERR_NOT_SUPPORTED);
  cr_assert_eq(zx_object_get_info(h, 0x7777u, buf, sizeof(buf), NULL, NULL),
               ZX_ERR_NOT_SUPPORTED);
  cr_assert_eq(zx_object_get_info(h, ZX_INFO_PROCESS, buf, sizeof(buf), NULL, NULL),
               ZX_ERR_NOT_SUPPORTED);
  // ZX_INFO_VMO of something else: bad handle, then type.
  cr_assert_eq(zx_object_get_info(h, ZX_INFO_VMO, buf, sizeof(buf), NULL, NULL),
               ZX_ERR_WRONG_TYPE);
  cr_assert_eq(zx_object_get_info(h, ZX_INFO_VMO_V1, buf, sizeof(buf), NULL, NULL),
               ZX_ERR_WRONG_TYPE);
  zx_handle_t none;
  cr_assert_eq(zx_handle_duplicate(h, ZX_RIGHT_NONE, &none), ZX_OK);
  cr_assert_eq(zx_object_get_info(none, ZX_INFO_VMO, buf, sizeof(buf), NULL, NULL),
               ZX_ERR_WRONG_TYPE);
  cr_assert_eq(zx_object_get_info(ZX_HANDLE_INVALID, ZX_INFO_VMO, buf, sizeof(buf), NULL, NULL),
               ZX_ERR_BAD_HANDLE);
  zx_handle_t both[] = {h, none};
  cr_assert_eq(zx_handle_close_many(both, 2), ZX_OK);
}

Test(handles, property_errors_on_event) {
  zx_handle_t h = mkevent();
  char name[ZX_MAX_NAME_LEN];
  uint64_t v = 0;
  // NULL value is refused before the handle is looked at.
  cr_assert_eq(zx_object_get_property(ZX_HANDLE_INVALID, ZX_PROP_NAME, NULL, 32),
               ZX_ERR_INVALID_ARGS);
  cr_assert_eq(zx_object_set_property(ZX_HANDLE_INVALID, ZX_PROP_NAME, NULL, 3),
               ZX_ERR_INVALID_ARGS);
  cr_assert_eq(zx_object_get_property(ZX_HANDLE_INVALID, ZX_PROP_NAME, name, sizeof(name)),
               ZX_ERR_BAD_HANDLE);
  cr_assert_eq(zx_object_set_property(ZX_HANDLE_INVALID, ZX_PROP_NAME, "x", 1),
               ZX_ERR_BAD_HANDLE);
  // Events are created without the property rights.
  cr_assert_eq(zx_object_get_property(h, ZX_PROP_NAME, name, sizeof(name)),
               ZX_ERR_ACCESS_DENIED);
  cr_assert_eq(zx_object_set_property(h, ZX_PROP_NAME, "x", 1), ZX_ERR_ACCESS_DENIED);
  cr_assert_eq(zx_object_get_property(h, ZX_PROP_VMO_CONTENT_SIZE, &v, sizeof(v)),
               ZX_ERR_ACCESS_DENIED);
  cr_assert_eq(zx_object_set_property(h, ZX_PROP_VMO_CONTENT_SIZE, &v, sizeof(v)),
               ZX_ERR_ACCESS_DENIED);
  cr_assert_eq(zx_handle_close(h), ZX_OK);
}

Test(handles, vmo_names) {
  zx_handle_t v = mkvmo(PG);
  char name[ZX_MAX_NAME_LEN];
  memset(name, 'x', sizeof(name));
  cr_assert_eq(zx_object_get_property(v, ZX_PROP_NAME, name, sizeof(name)), ZX_OK);
  cr_assert_eq(name[0], '\0');
  cr_assert_eq(zx_object_set_property(v, ZX_PROP_NAME, "hello", 5), ZX_OK);
  cr_assert_eq(zx_object_get_property(v, ZX_PROP_NAME, name, sizeof(name)), ZX_OK);
  cr_assert_str_eq(name, "hello");
  for (size_t i = 5; i < sizeof(name); i++) cr_assert_eq(name[i], '\0');
  // A shorter length cuts the name.
  cr_assert_eq(zx_object_set_property(v, ZX_PROP_NAME, "abcdef", 3), ZX_OK);
  cr_assert_eq(zx_object_get_property(v, ZX_PROP_NAME, name, sizeof(name)), ZX_OK);
  cr_assert_str_eq(name, "abc");
  // Longer than ZX_MAX_NAME_LEN - 1: truncated to 31 bytes.
  const char* longname = "0123456789abcdefghijklmnopqrstuvwxyz";
  cr_assert_eq(zx_object_set_property(v, ZX_PROP_NAME, longname, strlen(longname)), ZX_OK);
  cr_assert_eq(zx_object_get_property(v, ZX_PROP_NAME, name, sizeof(name)), ZX_OK);
  cr_assert_eq(strlen(name), ZX_MAX_NAME_LEN - 1);
  cr_assert_eq(memcmp(name, longname, ZX_MAX_NAME_LEN - 1), 0);
  // Empty name.
  cr_assert_eq(zx_object_set_property(v, ZX_PROP_NAME, "", 0), ZX_OK);
  cr_assert_eq(zx_object_get_property(v, ZX_PROP_NAME, name, sizeof(name)), ZX_OK);
  cr_assert_str_eq(name, "");
  // The name belongs to the object: a duplicate sees it.
  cr_assert_eq(zx_object_set_property(v, ZX_PROP_NAME, "shared", 6), ZX_OK);
  zx_handle_t d;
  cr_assert_eq(zx_handle_duplicate(v, ZX_RIGHT_SAME_RIGHTS, &d), ZX_OK);
  cr_assert_eq(zx_object_get_property(d, ZX_PROP_NAME, name, sizeof(name)), ZX_OK);
  cr_assert_str_eq(name, "shared");
  // Buffer too small, unknown property.
  cr_assert_eq(zx_object_get_property(v, ZX_PROP_NAME, name, ZX_MAX_NAME_LEN - 1),
               ZX_ERR_BUFFER_TOO_SMALL);
  cr_assert_eq(zx_object_get_property(v, 0x999u, name, sizeof(name)), ZX_ERR_NOT_SUPPORTED);
  cr_assert_eq(zx_object_set_property(v, 0x999u, name, sizeof(name)), ZX_ERR_NOT_SUPPORTED);
  cr_assert_eq(zx_object_get_property(v, ZX_PROP_PROCESS_DEBUG_ADDR, name, sizeof(name)),
               ZX_ERR_NOT_SUPPORTED);
  zx_handle_t both[] = {v, d};
  cr_assert_eq(zx_handle_close_many(both, 2), ZX_OK);
}

Test(handles, vmo_property_rights) {
  zx_handle_t v = mkvmo(PG);
  char name[ZX_MAX_NAME_LEN];
  zx_handle_t ro, wo;
  cr_assert_eq(zx_handle_duplicate(v, ZX_RIGHT_GET_PROPERTY, &ro), ZX_OK);
  cr_assert_eq(zx_handle_duplicate(v, ZX_RIGHT_SET_PROPERTY, &wo), ZX_OK);
  cr_assert_eq(zx_object_set_property(ro, ZX_PROP_NAME, "a", 1), ZX_ERR_ACCESS_DENIED);
  cr_assert_eq(zx_object_get_property(wo, ZX_PROP_NAME, name, sizeof(name)),
               ZX_ERR_ACCESS_DENIED);
  cr_assert_eq(zx_object_set_property(wo, ZX_PROP_NAME, "b", 1), ZX_OK);
  cr_assert_eq(zx_object_get_property(ro, ZX_PROP_NAME, name, sizeof(name)), ZX_OK);
  cr_assert_str_eq(name, "b");
  zx_handle_t all[] = {v, ro, wo};
  cr_assert_eq(zx_handle_close_many(all, 3), ZX_OK);
}

Test(handles, vmo_content_size_property) {
  zx_handle_t v = mkvmo(PG + 5);
  uint64_t cs = 0;
  cr_assert_eq(zx_object_get_property(v, ZX_PROP_VMO_CONTENT_SIZE, &cs, sizeof(cs)), ZX_OK);
  cr_assert_eq(cs, PG + 5);
  cr_assert_eq(zx_object_get_property(v, ZX_PROP_VMO_CONTENT_SIZE, &cs, sizeof(cs) - 1),
               ZX_ERR_BUFFER_TOO_SMALL);
  uint64_t set = 100;
  cr_assert_eq(zx_object_set_property(v, ZX_PROP_VMO_CONTENT_SIZE, &set, sizeof(set) - 1),
               ZX_ERR_BUFFER_TOO_SMALL);
  cr_assert_eq(zx_object_set_property(v, ZX_PROP_VMO_CONTENT_SIZE, &set, sizeof(set)), ZX_OK);
  cr_assert_eq(zx_object_get_property(v, ZX_PROP_VMO_CONTENT_SIZE, &cs, sizeof(cs)), ZX_OK);
  cr_assert_eq(cs, 100);
  cr_assert_eq(zx_handle_close(v), ZX_OK);
}

Test(handles, vmo_info_and_basic_agree) {
  zx_handle_t v = mkvmo(2 * PG);
  zx_info_handle_basic_t b = basic(v);
  cr_assert_eq(b.type, ZX_OBJ_TYPE_VMO);
  cr_assert_eq(b.rights, ZX_DEFAULT_VMO_RIGHTS);
  zx_info_vmo_t info = vmo_info(v);
  cr_assert_eq(info.koid, b.koid);
  cr_assert_eq(info.size_bytes, 2 * PG);
  cr_assert_eq(info.handle_rights, b.rights);
  // ZX_INFO_VMO needs no particular right.
  zx_handle_t none;
  cr_assert_eq(zx_handle_duplicate(v, ZX_RIGHT_NONE, &none), ZX_OK);
  zx_info_vmo_t i2;
  cr_assert_eq(zx_object_get_info(none, ZX_INFO_VMO, &i2, sizeof(i2), NULL, NULL), ZX_OK);
  cr_assert_eq(i2.koid, b.koid);
  cr_assert_eq(i2.handle_rights, ZX_RIGHT_NONE);
  zx_handle_t both[] = {v, none};
  cr_assert_eq(zx_handle_close_many(both, 2), ZX_OK);
}

// Error order: BAD_HANDLE, then WRONG_TYPE, then ACCESS_DENIED.
Test(handles, vmo_calls_on_wrong_handles) {
  zx_handle_t ev = mkevent();
  zx_handle_t ev_none;
  cr_assert_eq(zx_handle_duplicate(ev, ZX_RIGHT_NONE, &ev_none), ZX_OK);
  uint8_t b = 0;
  cr_assert_eq(zx_vmo_read(ev, &b, 0, 1), ZX_ERR_WRONG_TYPE);
  cr_assert_eq(zx_vmo_read(ev_none, &b, 0, 1), ZX_ERR_WRONG_TYPE);
  cr_assert_eq(zx_vmo_write(ev_none, &b, 0, 1), ZX_ERR_WRONG_TYPE);
  cr_assert_eq(zx_vmo_read(ZX_HANDLE_INVALID, &b, 0, 1), ZX_ERR_BAD_HANDLE);
  zx_handle_t v = mkvmo(PG);
  zx_handle_t v_none;
  cr_assert_eq(zx_handle_duplicate(v, ZX_RIGHT_NONE, &v_none), ZX_OK);
  cr_assert_eq(zx_vmo_read(v_none, &b, 0, 1), ZX_ERR_ACCESS_DENIED);
  cr_assert_eq(zx_vmo_write(v_none, &b, 0, 1), ZX_ERR_ACCESS_DENIED);
  cr_assert_eq(zx_vmo_read(v, &b, 0, 1), ZX_OK);
  cr_assert_eq(zx_handle_close(v_none), ZX_OK);
  cr_assert_eq(zx_vmo_read(v_none, &b, 0, 1), ZX_ERR_BAD_HANDLE);
  zx_handle_t all[] = {ev, ev_none, v};
  cr_assert_eq(zx_handle_close_many(all, 3), ZX_OK);
}

Test(handles, stale_vmo_handle_is_bad) {
  zx_handle_t v = mkvmo(PG);
  cr_assert_eq(zx_handle_close(v), ZX_OK);
  uint8_t b;
  cr_assert_eq(zx_vmo_read(v, &b, 0, 1), ZX_ERR_BAD_HANDLE);
  zx_handle_t v2 = mkvmo(PG);
  cr_assert_neq(v2, v);
  cr_assert_eq(zx_vmo_read(v, &b, 0, 1), ZX_ERR_BAD_HANDLE);
  cr_assert_eq(zx_handle_close(v2), ZX_OK);
}

Test(status, strings) {
  cr_assert_str_eq(zx_status_get_string(ZX_OK), "ZX_OK");
  cr_assert_str_eq(zx_status_get_string(ZX_ERR_NO_MEMORY), "ZX_ERR_NO_MEMORY");
  cr_assert_str_eq(zx_status_get_string(ZX_ERR_BAD_HANDLE), "ZX_ERR_BAD_HANDLE");
  cr_assert_str_eq(zx_status_get_string(ZX_ERR_WRONG_TYPE), "ZX_ERR_WRONG_TYPE");
  cr_assert_str_eq(zx_status_get_string(ZX_ERR_ACCESS_DENIED), "ZX_ERR_ACCESS_DENIED");
  cr_assert_str_eq(zx_status_get_string(ZX_ERR_CANCELED), "ZX_ERR_CANCELED");
  cr_assert_str_eq(zx_status_get_string(ZX_ERR_TIMED_OUT), "ZX_ERR_TIMED_OUT");
  cr_assert_str_eq(zx_status_get_string(ZX_ERR_NO_SPACE), "ZX_ERR_NO_SPACE");
  cr_assert_str_eq(zx_status_get_string(ZX_ERR_CONNECTION_ABORTED),
                   "ZX_ERR_CONNECTION_ABORTED");
  cr_assert_str_eq(zx_status_get_string(ZX_ERR_INTERNAL_INTR_KILLED),
                   "ZX_ERR_INTERNAL_INTR_KILLED");
  cr_assert_str_eq(zx_status_get_string(-5), "(UNKNOWN)");
  cr_assert_str_eq(zx_status_get_string(1), "(UNKNOWN)");
  cr_assert_str_eq(zx_status_get_string(-1000), "(UNKNOWN)");
  // Every code from -1 to -600 has a name of its own or "(UNKNOWN)"; named codes
  // round-trip to distinct strings beginning with "ZX_".
  for (zx_status_t s = 0; s >= -600; s--) {
    const char* str = zx_status_get_string(s);
    cr_assert(str != NULL);
    cr_assert(strcmp(str, "(UNKNOWN)") == 0 || strncmp(str, "ZX_", 3) == 0);
  }
}

Test(time, clock_and_deadlines) {
  cr_assert_eq(zx_system_get_page_size(), PAGE_SIZE);
  zx_time_t a = zx_clock_get_monotonic();
  zx_time_t b = zx_clock_get_monotonic();
  cr_assert_gt(a, 0);
  cr_assert_geq(b, a);
  zx_time_t d = zx_deadline_after(ZX_MSEC(10));
  cr_assert_geq(d, b + ZX_MSEC(10));
  cr_assert_lt(d, zx_clock_get_monotonic() + ZX_MSEC(10) + ZX_SEC(5));
  cr_assert_eq(zx_deadline_after(ZX_TIME_INFINITE), ZX_TIME_INFINITE);
  cr_assert_eq(zx_deadline_after(ZX_TIME_INFINITE - 1), ZX_TIME_INFINITE);
  cr_assert_lt(zx_deadline_after(ZX_TIME_INFINITE_PAST), 0);
  cr_assert_lt(zx_deadline_after(-ZX_SEC(1)), zx_clock_get_monotonic());
}

Test(time, nanosleep) {
  zx_time_t t0 = zx_clock_get_monotonic();
  cr_assert_eq(zx_nanosleep(0), ZX_OK);
  cr_assert_eq(zx_nanosleep(ZX_TIME_INFINITE_PAST), ZX_OK);
  cr_assert_eq(zx_nanosleep(t0 - 1), ZX_OK);
  cr_assert_eq(zx_nanosleep(zx_deadline_after(ZX_MSEC(20))), ZX_OK);
  cr_assert_geq(zx_clock_get_monotonic() - t0, ZX_MSEC(20));
}

// The table holds at least 1 << 20 handles; beyond its capacity creation fails
// cleanly and closing makes room again.
Test(handles, table_full_is_no_resources) {
  enum { MAX = (1 << 20) + 8192 };
  zx_handle_t e = mkevent();
  zx_handle_t* hs = malloc(MAX * sizeof(zx_handle_t));
  cr_assert(hs != NULL);
  size_t n = 0;
  zx_status_t st = ZX_OK;
  while (n < MAX) {
    st = zx_handle_duplicate(e, ZX_RIGHT_SAME_RIGHTS, &hs[n]);
    if (st != ZX_OK) break;
    n++;
  }
  cr_assert_eq(st, ZX_ERR_NO_RESOURCES);
  cr_assert_geq(n + 1, (size_t)1 << 20);
  zx_handle_t extra;
  cr_assert_eq(zx_event_create(0, &extra), ZX_ERR_NO_RESOURCES);
  cr_assert_eq(zx_handle_close(hs[n - 1]), ZX_OK);
  // The freed room is used again, under a new value.
  cr_assert_eq(zx_event_create(0, &extra), ZX_OK);
  cr_assert_neq(extra, hs[n - 1]);
  cr_assert_eq(valid(hs[n - 1]), ZX_ERR_BAD_HANDLE);
  cr_assert_eq(zx_handle_close_many(hs, n - 1), ZX_OK);
  cr_assert_eq(zx_handle_close(extra), ZX_OK);
  cr_assert_eq(valid(hs[0]), ZX_ERR_BAD_HANDLE);
  cr_assert_eq(zx_handle_close(e), ZX_OK);
  free(hs);
}
