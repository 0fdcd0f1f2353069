// SPDX-License-Identifier: BSD-3-Clause
// Handle values: a closed value does not come back within 2^24 create/close cycles,
// with an empty table or one full but for a single entry; values keep Zircon's form;
// processes hand out different values; the table's structure holds after heavy use;
// replace never fails for lack of room.
//
// The cycle tests log every value handed out (the table's fill included), then check
// that no value appears twice: the log is split into 256 buckets by the values' high
// bits and each bucket is checked against a bitmap of its 2^22 possible values, which
// keeps memory access sequential or cache-sized. They use handle_create() and
// handle_close() directly, the cheapest full create/close. The nearly full case lowers
// the table's capacity to NEARLY_FULL_CAP with handle_set_capacity() so that the fill
// takes no time, fills the table until it refuses (ZX_ERR_NO_RESOURCES), then frees
// one entry; nothing in the value scheme depends on the capacity
// (bench/bench_handle_reuse measures the built-in capacity, 1 << 20, the same way).
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zircon/syscalls.h>

#include "handle.h"
#include "helpers.h"

#define CYCLES ((uint32_t)1 << 24)
#define NEARLY_FULL_CAP ((uint32_t)1 << 12)
#define PRINT_ENV "ZXVMO_TEST_PRINT_FIRST_HANDLE"

// Run as a child by values_differ_between_processes (fork + exec of this program with
// PRINT_ENV set): prints the first handle value this process gets, then exits before
// the test runner starts.
__attribute__((constructor)) static void print_first_handle_if_asked(void) {
  if (getenv(PRINT_ENV) == NULL) return;
  zx_handle_t h;
  if (zx_event_create(0, &h) != ZX_OK) _exit(2);
  printf("%u\n", (unsigned)h);
  fflush(stdout);
  _exit(0);
}

typedef struct value_log {
  zx_handle_t* v;
  size_t n, cap;
} value_log_t;

static value_log_t log_new(size_t cap) {
  value_log_t l = {malloc(cap * sizeof(zx_handle_t)), 0, cap};
  cr_assert(l.v != NULL);
  return l;
}

static void log_add(value_log_t* l, zx_handle_t h) {
  if (l->n == l->cap) {
    l->cap *= 2;
    l->v = realloc(l->v, l->cap * sizeof(zx_handle_t));
    cr_assert(l->v != NULL);
  }
  l->v[l->n++] = h;
}

#define LOW_BITS 22u
#define BUCKETS ((size_t)1 << (30u - LOW_BITS))

// Fails the test if a value appears twice in the log, naming both positions.
static void check_distinct(const value_log_t* l) {
  static size_t start[BUCKETS + 1];
  memset(start, 0, sizeof(start));
  for (size_t i = 0; i < l->n; i++) start[(l->v[i] >> 2 >> LOW_BITS) + 1]++;
  for (size_t b = 0; b < BUCKETS; b++) start[b + 1] += start[b];
  uint32_t* low = malloc(l->n * sizeof(uint32_t));
  size_t* pos = malloc(BUCKETS * sizeof(size_t));
  uint64_t* bits = malloc(((size_t)1 << LOW_BITS) / 8);
  cr_assert(low != NULL && pos != NULL && bits != NULL);
  memcpy(pos, start, BUCKETS * sizeof(size_t));
  for (size_t i = 0; i < l->n; i++) {
    uint32_t p = l->v[i] >> 2;
    low[pos[p >> LOW_BITS]++] = p & ((1u << LOW_BITS) - 1);
  }
  for (size_t b = 0; b < BUCKETS; b++) {
    memset(bits, 0, ((size_t)1 << LOW_BITS) / 8);
    for (size_t j = start[b]; j < start[b + 1]; j++) {
      uint64_t bit = (uint64_t)1 << (low[j] & 63);
      if (bits[low[j] >> 6] & bit) {
        zx_handle_t h = (zx_handle_t)(((b << LOW_BITS) | low[j]) << 2) | 3u;
        size_t first = 0, second = 0;
        while (l->v[first] != h) first++;
        for (second = first + 1; l->v[second] != h; second++) {}
        cr_assert_fail("value %#x handed out at #%zu and again at #%zu", h, first, second);
      }
      bits[low[j] >> 6] |= bit;
    }
  }
  free(bits);
  free(pos);
  free(low);
}

static void check_form(zx_handle_t h) {
  cr_assert_neq(h, ZX_HANDLE_INVALID);
  cr_assert_eq(h & ZX_HANDLE_FIXED_BITS_MASK, ZX_HANDLE_FIXED_BITS_MASK, "value %#x", h);
}

static zx_object_t* event_object(zx_handle_t* keep) {
  cr_assert_eq(zx_event_create(0, keep), ZX_OK);
  zx_object_t* obj;
  cr_assert_eq(handle_get(*keep, ZX_OBJ_TYPE_EVENT, ZX_RIGHT_NONE, &obj, NULL), ZX_OK);
  return obj;
}

// Runs CYCLES create/close cycles on `obj`, logging every value.
static void cycle(zx_object_t* obj, value_log_t* seen) {
  for (uint32_t i = 0; i < CYCLES; i++) {
    zx_handle_t h;
    zx_status_t st = handle_create(obj, ZX_RIGHT_SAME_RIGHTS, &h);
    if (st != ZX_OK) cr_assert_fail("cycle %u: handle_create: %d", i, st);
    if ((h & ZX_HANDLE_FIXED_BITS_MASK) != ZX_HANDLE_FIXED_BITS_MASK) {
      cr_assert_fail("cycle %u: value %#x lacks the fixed bits", i, h);
    }
    log_add(seen, h);
    st = handle_close(h);
    if (st != ZX_OK) cr_assert_fail("cycle %u: handle_close: %d", i, st);
  }
}

// Every `step`-th value logged from `from` on is closed: no lookup or close finds it.
static void check_stale(const value_log_t* l, size_t from, size_t step) {
  for (size_t i = from; i < l->n; i += step) {
    zx_object_t* obj;
    cr_assert_eq(handle_get(l->v[i], ZX_OBJ_TYPE_NONE, ZX_RIGHT_NONE, &obj, NULL),
                 ZX_ERR_BAD_HANDLE, "closed value %#x is live", l->v[i]);
    cr_assert_eq(handle_close(l->v[i]), ZX_ERR_BAD_HANDLE);
  }
}

Test(handle_values, no_value_back_within_2p24_cycles_empty_table) {
  value_log_t seen = log_new(CYCLES + 1);
  zx_handle_t keep;
  zx_object_t* obj = event_object(&keep);
  log_add(&seen, keep);
  uint64_t base = handle_count_alive();
  cycle(obj, &seen);
  cr_assert_eq(handle_count_alive(), base);
  check_distinct(&seen);
  check_stale(&seen, 1, 4099);
  handle_check_table();
  object_unref(obj);
  cr_assert_eq(zx_handle_close(keep), ZX_OK);
  free(seen.v);
}

Test(handle_values, no_value_back_within_2p24_cycles_nearly_full_table) {
  value_log_t seen = log_new(CYCLES + NEARLY_FULL_CAP + 2);
  zx_handle_t keep;
  zx_object_t* obj = event_object(&keep);
  log_add(&seen, keep);
  const uint32_t built_in_cap = handle_set_capacity(NEARLY_FULL_CAP);
  zx_status_t st;
  for (;;) {
    zx_handle_t h;
    st = handle_create(obj, ZX_RIGHT_SAME_RIGHTS, &h);
    if (st != ZX_OK) break;
    log_add(&seen, h);
  }
  cr_assert_eq(st, ZX_ERR_NO_RESOURCES);
  // keep and the fill: values [0, open).
  const size_t open = seen.n;
  cr_assert_eq(open, NEARLY_FULL_CAP);
  cr_assert_eq(handle_count_alive(), NEARLY_FULL_CAP);
  // All but one entry in use: every cycle goes through that one.
  cr_assert_eq(handle_close(seen.v[open - 1]), ZX_OK);
  cycle(obj, &seen);
  zx_handle_t extra;
  cr_assert_eq(handle_create(obj, ZX_RIGHT_SAME_RIGHTS, &extra), ZX_OK);
  cr_assert_eq(handle_create(obj, ZX_RIGHT_SAME_RIGHTS, &extra), ZX_ERR_NO_RESOURCES);
  cr_assert_eq(handle_close(extra), ZX_OK);
  check_distinct(&seen);
  check_stale(&seen, open - 1, 4099);
  // The open handles were never disturbed.
  handle_check_table();
  for (size_t i = 1; i < open - 1; i++) {
    zx_object_t* o;
    cr_assert_eq(handle_get(seen.v[i], ZX_OBJ_TYPE_EVENT, ZX_RIGHT_NONE, &o, NULL), ZX_OK);
    cr_assert_eq(o, obj);
    object_unref(o);
    cr_assert_eq(handle_close(seen.v[i]), ZX_OK);
  }
  handle_check_table();
  handle_set_capacity(built_in_cap);
  object_unref(obj);
  cr_assert_eq(zx_handle_close(keep), ZX_OK);
  free(seen.v);
}

// Runs this program again (fork + exec) with PRINT_ENV set; returns the value printed.
static zx_handle_t first_value_of_new_process(void) {
  int fds[2];
  cr_assert_eq(pipe(fds), 0);
  pid_t pid = fork();
  cr_assert_geq(pid, 0);
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    close(fds[0]);
    close(fds[1]);
    setenv(PRINT_ENV, "1", 1);
    char* argv[] = {"test_handle_values", NULL};
    execv("/proc/self/exe", argv);
    _exit(127);
  }
  close(fds[1]);
  char buf[32] = {0};
  size_t got = 0;
  ssize_t r;
  while (got < sizeof(buf) - 1 && (r = read(fds[0], buf + got, sizeof(buf) - 1 - got)) > 0) {
    got += (size_t)r;
  }
  close(fds[0]);
  int status = 0;
  cr_assert_eq(waitpid(pid, &status, 0), pid);
  cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %#x", status);
  unsigned long v = strtoul(buf, NULL, 10);
  check_form((zx_handle_t)v);
  return (zx_handle_t)v;
}

Test(handle_values, values_differ_between_processes) {
  zx_handle_t a = first_value_of_new_process();
  zx_handle_t b = first_value_of_new_process();
  zx_handle_t c = first_value_of_new_process();
  // Each process draws its own key and start: equal first values would mean a shared
  // sequence (chance of a false failure: about 3 in 2^30).
  cr_assert_neq(a, b);
  cr_assert_neq(b, c);
  cr_assert_neq(a, c);
}

// In a child of fork() no handle works and no object can be made
// (docs/behavior.md §17): the child must not touch memory it shares with the parent.
// The parent's handles are untouched by what the child tried.
Test(handle_values, forked_children_get_no_handles) {
  zx_handle_t keep, vmo;
  cr_assert_eq(zx_event_create(0, &keep), ZX_OK);
  cr_assert_eq(zx_vmo_create(PG, 0, &vmo), ZX_OK);
  cr_assert_eq(zx_vmo_write(vmo, "x", 0, 1), ZX_OK);  // memory the child would share
  pid_t pid = fork();
  cr_assert_geq(pid, 0);
  if (pid == 0) {
    zx_handle_t h;
    if (zx_handle_duplicate(keep, ZX_RIGHT_SAME_RIGHTS, &h) != ZX_ERR_BAD_HANDLE) _exit(2);
    if (zx_object_signal(keep, 0, ZX_USER_SIGNAL_0) != ZX_ERR_BAD_HANDLE) _exit(3);
    if (zx_handle_close(keep) != ZX_ERR_BAD_HANDLE) _exit(4);
    if (zx_event_create(0, &h) != ZX_ERR_BAD_STATE) _exit(5);
    if (zx_vmo_create(PG, 0, &h) != ZX_ERR_BAD_STATE) _exit(6);
    _exit(0);
  }
  int status = 0;
  cr_assert_eq(waitpid(pid, &status, 0), pid);
  cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %#x", status);
  zx_signals_t seen = 0;
  cr_assert_eq(zx_object_wait_one(keep, ZX_USER_SIGNAL_0, 0, &seen), ZX_ERR_TIMED_OUT);
  cr_assert_eq(zx_handle_close(keep), ZX_OK);
  cr_assert_eq(zx_handle_close(vmo), ZX_OK);
}

// A process that has not used the library yet forks children that use it as their own
// (a test runner, say): nothing is shared with the parent, which still works after.
Test(handle_values, children_of_a_fresh_process_use_the_library) {
  pid_t pid = fork();
  cr_assert_geq(pid, 0);
  if (pid == 0) {
    zx_handle_t v, ev;
    char c = 0;
    if (zx_event_create(0, &ev) != ZX_OK) _exit(2);
    if (zx_vmo_create(PG, 0, &v) != ZX_OK) _exit(3);
    if (zx_vmo_write(v, "y", 0, 1) != ZX_OK || zx_vmo_read(v, &c, 0, 1) != ZX_OK) _exit(4);
    _exit(c == 'y' ? 0 : 5);
  }
  int status = 0;
  cr_assert_eq(waitpid(pid, &status, 0), pid);
  cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %#x", status);
  zx_handle_t v;
  char c = 0;
  cr_assert_eq(zx_vmo_create(PG, 0, &v), ZX_OK);
  cr_assert_eq(zx_vmo_read(v, &c, 0, 1), ZX_OK);
  cr_assert_eq(c, 0);
  cr_assert_eq(zx_handle_close(v), ZX_OK);
}

// Replace moves an entry to its new value's shard without allocating. Fills one shard
// through replaces alone until it has no entry to spare; later replaces from other
// shards skip values landing there, and still succeed.
Test(handle_values, replace_skips_a_full_shard_and_never_fails) {
  enum { MAX = 4096, TRIES = 1 << 20 };
  static zx_handle_t hs[MAX];
  zx_handle_t keep;
  cr_assert_eq(zx_event_create(0, &keep), ZX_OK);
  const uint32_t target = handle_shard_index(keep) ^ 1;
  uint32_t used, size;
  // Enough handles outside the target shard to fill it, plus one.
  size_t n = 0, outside = 0;
  for (;;) {
    handle_shard_usage(target, &used, &size);
    if (outside > size - used) break;
    cr_assert_lt(n, MAX);
    cr_assert_eq(zx_handle_duplicate(keep, ZX_RIGHT_SAME_RIGHTS, &hs[n]), ZX_OK);
    if (handle_shard_index(hs[n]) != target) outside++;
    n++;
  }
  // Moves outside handles in until the target shard keeps just one entry empty.
  size_t i = 0;
  while (used < size - 1) {
    cr_assert_lt(i, n);
    if (handle_shard_index(hs[i]) == target) {
      i++;
      continue;
    }
    for (int t = 0; handle_shard_index(hs[i]) != target; t++) {
      cr_assert_lt(t, TRIES, "no replace of %#x landed in shard %u", hs[i], target);
      cr_assert_eq(zx_handle_replace(hs[i], ZX_RIGHT_SAME_RIGHTS, &hs[i]), ZX_OK);
    }
    uint32_t now_size;
    handle_shard_usage(target, &used, &now_size);
    cr_assert_eq(now_size, size, "replace grew a shard");
  }
  handle_check_table();
  // Replaces from outside now never land in the full shard (about one try in 64 would).
  while (handle_shard_index(hs[i]) == target) i++;
  cr_assert_lt(i, n);
  for (int t = 0; t < 20000; t++) {
    zx_handle_t old = hs[i];
    cr_assert_eq(zx_handle_replace(old, ZX_RIGHT_SAME_RIGHTS, &hs[i]), ZX_OK);
    cr_assert_neq(handle_shard_index(hs[i]), target, "replace overfilled shard %u", target);
    cr_assert_eq(zx_object_get_info(old, ZX_INFO_HANDLE_VALID, NULL, 0, NULL, NULL),
                 ZX_ERR_BAD_HANDLE);
  }
  // A handle inside the full shard may still be replaced, into it or out of it.
  size_t in = 0;
  while (handle_shard_index(hs[in]) != target) in++;
  for (int t = 0; t < 20000; t++) {
    cr_assert_eq(zx_handle_replace(hs[in], ZX_RIGHT_SAME_RIGHTS, &hs[in]), ZX_OK);
    handle_shard_usage(target, &used, &size);
    cr_assert_lt(used, size);
    if (handle_shard_index(hs[in]) != target) break;
  }
  handle_check_table();
  for (size_t k = 0; k < n; k++) cr_assert_eq(zx_handle_close(hs[k]), ZX_OK);
  cr_assert_eq(zx_handle_close(keep), ZX_OK);
  handle_check_table();
}
