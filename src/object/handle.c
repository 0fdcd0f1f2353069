// SPDX-License-Identifier: BSD-3-Clause
// The handle table: a process-wide map from zx_handle_t values to (object, rights).
//
// Values. A handle value is not tied to where its entry lives. Each process draws a
// random key and a random counter start (getrandom) when it first creates a handle;
// every new value (create, duplicate, replace) takes the next number of a 30-bit
// counter, passes it through a 4-round Feistel permutation of 30 bits keyed by that
// key, and adds Zircon's two fixed low bits:
//
//   value = permute_key(counter++ mod 2^30) << 2 | ZX_HANDLE_FIXED_BITS_MASK
//
// Values are never 0 (ZX_HANDLE_INVALID), always have both low bits set, differ from
// one process to the next, and look random: a made-up or mistyped value names an open
// handle with a chance of about one in 2^30 per open handle.
//
// Reuse. The permutation is a bijection, so a closed value comes back only when the
// counter has gone all the way round, 2^30 steps later, whatever the table's state
// (empty, or full but for one entry). Each new value takes one step; a value that is
// still open when the counter comes round again is skipped (one more step), as is a
// value whose shard a replace cannot fill (see "Layout"). In a child of fork() no
// handle works at all (docs/behavior.md §17). Entries are reused at once.
//
// Layout. The table is HANDLE_SHARDS open-addressed hash tables (linear probing),
// chosen by the value's low payload bits; an entry holds the value, the rights and
// the object, so a lookup reads one short run of contiguous entries. Value 0 marks an
// empty entry. A shard starts with a few entries inside its own struct and doubles
// its array when a create would fill it beyond 3/4; a removal shifts the following
// run back, so there are no tombstones. At least one entry stays empty, which ends
// every probe. Random values scatter the entries: in a table of many handles each
// create, lookup or close touches one cache line that is likely cold.
//
//   shards[(value >> 2) mod 64].entries[((value >> 8) + k) mod size], k = 0, 1, ...
//
// `table.alive` counts open handles and caps them at HANDLE_CAPACITY, then
// ZX_ERR_NO_RESOURCES (tests may lower the cap with handle_set_capacity()); a create
// that cannot grow its shard returns ZX_ERR_NO_MEMORY. Replace moves the entry to its
// new value's shard without allocating: if that shard is as full as it may get (one
// empty entry left), the value is skipped and the next one tried; one landing in the
// entry's own shard always fits (about one value in 64), so replace never fails for
// lack of room.
//
// Locking. Each shard has a reader-writer lock guarding its array: lookups take the
// read side, so lookups of values in different shards never serialise on one lock;
// create, close and replace take the write side (replace takes both shards' locks,
// lower address first, when the new value lands in another shard). handle_get() takes
// its object reference under the read side, so a concurrent close cannot drop the
// last reference underneath it; create counts the new handle on the object under the
// write side, so a failed create leaves nothing to undo but its reservation. Nothing
// else is locked while a shard lock is held.
//
// Legend: (s) guarded by the shard's lock, (c) constant after table_init, (a) atomic.
#include "handle.h"
#include "os.h"
#include "rwlock.h"

#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define HANDLE_CAPACITY (1u << 20)
#define HANDLE_SHARD_BITS 6u
#define HANDLE_SHARDS (1u << HANDLE_SHARD_BITS)
#define HANDLE_INLINE_ENTRIES 8u
#define HANDLE_PAYLOAD_BITS 30u
#define HANDLE_PAYLOAD_MASK ((1u << HANDLE_PAYLOAD_BITS) - 1u)
#define HANDLE_HALF_BITS (HANDLE_PAYLOAD_BITS / 2u)
#define HANDLE_HALF_MASK ((1u << HANDLE_HALF_BITS) - 1u)
#define HANDLE_ROUNDS 4u

_Static_assert(HANDLE_CAPACITY < (1u << HANDLE_PAYLOAD_BITS), "fewer handles than values");
_Static_assert(HANDLE_PAYLOAD_BITS + 2 == 32, "30 payload bits + 2 fixed bits");
_Static_assert((HANDLE_INLINE_ENTRIES & (HANDLE_INLINE_ENTRIES - 1)) == 0, "power of two");

typedef struct entry {
  zx_handle_t value;    // ZX_HANDLE_INVALID: empty
  zx_rights_t rights;
  zx_object_t* obj;
} entry_t;

// Aligned to a cache line so that readers of different shards do not bounce one line
// between them.
typedef struct shard {
  _Alignas(64) rw_lock_t lock;  // fair: a close is never starved by lookups
  entry_t* entries;     // (s) `inline_entries` until the first growth
  uint32_t mask;        // (s) size of `entries` - 1; the size is a power of two
  uint32_t count;       // (s) entries in use
  entry_t inline_entries[HANDLE_INLINE_ENTRIES];
} shard_t;

static struct {
  uint32_t key[HANDLE_ROUNDS];    // (c) round keys of the value permutation
  _Atomic uint32_t counter;       // (a) number of the next value
  _Atomic uint64_t alive;         // (a) handles open or being created
  _Atomic uint32_t capacity;      // (a) most handles open at once (a test may lower it)
  _Atomic bool ready;             // (a) shards and key initialised
} table = {
    .capacity = HANDLE_CAPACITY,
};

static shard_t shards[HANDLE_SHARDS];
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

// The only memory allocation of this file (shard growth), through the library's seam.
static void* table_calloc(size_t n, size_t size) { return os_calloc(n, size); }
static void table_free(void* p) { os_free(p); }

// 64 random bits from the kernel; if it cannot give them yet, a mix of the clock,
// the pid and an address (ASLR) is good enough for handle values.
static uint64_t random_u64(void) {
  uint64_t r;
  if (getrandom(&r, sizeof(r), GRND_NONBLOCK) == (ssize_t)sizeof(r)) return r;
  static uint64_t fallback;  // only touched by table_init
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  fallback += 0x9e3779b97f4a7c15ull ^ (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30) ^
              ((uint64_t)getpid() << 40) ^ (uint64_t)(uintptr_t)&r;
  uint64_t z = fallback;  // splitmix64 finaliser
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static void table_init(void) {
  for (uint32_t i = 0; i < HANDLE_SHARDS; i++) {
    rw_init(&shards[i].lock);
    shards[i].entries = shards[i].inline_entries;
    shards[i].mask = HANDLE_INLINE_ENTRIES - 1;
  }
  for (uint32_t i = 0; i < HANDLE_ROUNDS; i += 2) {
    uint64_t r = random_u64();
    table.key[i] = (uint32_t)r;
    table.key[i + 1] = (uint32_t)(r >> 32);
  }
  atomic_store_explicit(&table.counter, (uint32_t)random_u64(), memory_order_relaxed);
  atomic_store_explicit(&table.ready, true, memory_order_release);
}

static uint32_t feistel_round(uint32_t half, uint32_t key) {
  uint32_t x = (half ^ key) * 0x9e3779b1u;
  x ^= x >> 15;
  x *= 0x85ebca6bu;
  x ^= x >> 13;
  return x & HANDLE_HALF_MASK;
}

// A bijection of [0, 2^30): a balanced Feistel network on two 15-bit halves.
static uint32_t permute(uint32_t n) {
  uint32_t l = (n >> HANDLE_HALF_BITS) & HANDLE_HALF_MASK;
  uint32_t r = n & HANDLE_HALF_MASK;
  for (uint32_t i = 0; i < HANDLE_ROUNDS; i++) {
    uint32_t t = l ^ feistel_round(r, table.key[i]);
    l = r;
    r = t;
  }
  return (l << HANDLE_HALF_BITS) | r;
}

static zx_handle_t next_value(void) {
  uint32_t n = atomic_fetch_add_explicit(&table.counter, 1, memory_order_relaxed);
  return (permute(n & HANDLE_PAYLOAD_MASK) << 2) | ZX_HANDLE_FIXED_BITS_MASK;
}

static shard_t* shard_of(zx_handle_t h) {
  return &shards[(h >> 2) & (HANDLE_SHARDS - 1)];
}

// Where `h` starts probing in an array of mask + 1 entries.
static uint32_t home_of(zx_handle_t h, uint32_t mask) {
  return (h >> (2 + HANDLE_SHARD_BITS)) & mask;
}

// The shard a lookup of `h` searches; NULL if `h` cannot be a handle (fixed bits
// clear, or no handle was ever created).
static shard_t* lookup_shard(zx_handle_t h) {
  if ((h & ZX_HANDLE_FIXED_BITS_MASK) != ZX_HANDLE_FIXED_BITS_MASK) return NULL;
  if (!atomic_load_explicit(&table.ready, memory_order_acquire)) return NULL;
  return shard_of(h);
}

// The entry holding `h`, or NULL if no open handle has that value. Called with the
// shard lock held, either side.
static entry_t* find_locked(shard_t* sh, zx_handle_t h) {
  for (uint32_t i = home_of(h, sh->mask);; i = (i + 1) & sh->mask) {
    entry_t* e = &sh->entries[i];
    if (e->value == h) return e;
    if (e->value == ZX_HANDLE_INVALID) return NULL;
  }
}

// Stores `e` in the first empty entry of its run. The caller made sure there is room
// (at least one entry stays empty).
static void insert_locked(shard_t* sh, entry_t e) {
  ZX_ASSERT(sh->count < sh->mask);
  uint32_t i = home_of(e.value, sh->mask);
  while (sh->entries[i].value != ZX_HANDLE_INVALID) i = (i + 1) & sh->mask;
  sh->entries[i] = e;
  sh->count++;
}

// Empties entry `e`, then moves back every later entry of the run that may live
// there (its home is not cyclically in (hole, its place]), so that no probe stops
// early.
static void remove_locked(shard_t* sh, entry_t* e) {
  uint32_t mask = sh->mask;
  uint32_t hole = (uint32_t)(e - sh->entries);
  for (uint32_t j = (hole + 1) & mask; sh->entries[j].value != ZX_HANDLE_INVALID;
       j = (j + 1) & mask) {
    uint32_t home = home_of(sh->entries[j].value, mask);
    if (((j - home) & mask) >= ((j - hole) & mask)) {
      sh->entries[hole] = sh->entries[j];
      hole = j;
    }
  }
  sh->entries[hole] = (entry_t){0};
  sh->count--;
}

// Makes room for one more entry while keeping the load at most 3/4, doubling the array
// if needed. False if that allocation failed.
static bool reserve_locked(shard_t* sh) {
  uint32_t size = sh->mask + 1;
  if ((uint64_t)(sh->count + 1) * 4 <= (uint64_t)size * 3) return true;
  entry_t* old = sh->entries;
  entry_t* grown = table_calloc((size_t)size * 2, sizeof(entry_t));
  if (grown == NULL) return false;
  sh->entries = grown;
  sh->mask = size * 2 - 1;
  sh->count = 0;
  for (uint32_t i = 0; i < size; i++) {
    if (old[i].value != ZX_HANDLE_INVALID) insert_locked(sh, old[i]);
  }
  if (old != sh->inline_entries) table_free(old);
  return true;
}

// Counts one more open handle unless the table is full.
static bool reserve_handle(void) {
  uint32_t cap = atomic_load_explicit(&table.capacity, memory_order_relaxed);
  uint64_t n = atomic_load_explicit(&table.alive, memory_order_relaxed);
  do {
    if (n >= cap) return false;
  } while (!atomic_compare_exchange_weak_explicit(&table.alive, &n, n + 1,
                                                  memory_order_relaxed,
                                                  memory_order_relaxed));
  return true;
}

// Adds one to obj->handles; with `only_if_live`, only while it is not zero (the
// object has not died). Returns false if it had died.
static bool count_handle(zx_object_t* obj, bool only_if_live) {
  if (!only_if_live) {
    atomic_fetch_add_explicit(&obj->handles, 1, memory_order_relaxed);
    return true;
  }
  uint64_t n = atomic_load_explicit(&obj->handles, memory_order_relaxed);
  do {
    if (n == 0) return false;
  } while (!atomic_compare_exchange_weak_explicit(&obj->handles, &n, n + 1,
                                                  memory_order_acq_rel,
                                                  memory_order_relaxed));
  return true;
}

static zx_status_t create(zx_object_t* obj, zx_rights_t rights, bool only_if_live,
                          zx_handle_t* out) {
  ZX_ASSERT(obj != NULL && out != NULL);
  pthread_once(&table_once, table_init);
  if (!reserve_handle()) return ZX_ERR_NO_RESOURCES;
  for (;;) {
    zx_handle_t h = next_value();
    shard_t* sh = shard_of(h);
    rw_wrlock(&sh->lock);
    if (find_locked(sh, h) != NULL) {
      // Still open since the counter last passed here: skip it.
      rw_unlock(&sh->lock);
      continue;
    }
    zx_status_t st = ZX_OK;
    if (!reserve_locked(sh)) {
      st = ZX_ERR_NO_MEMORY;
    } else if (!count_handle(obj, only_if_live)) {
      // Its last handle was closed meanwhile: a dead object gets no new handle.
      st = ZX_ERR_BAD_HANDLE;
    } else {
      object_ref(obj);
      insert_locked(sh, (entry_t){.value = h, .rights = rights, .obj = obj});
    }
    rw_unlock(&sh->lock);
    if (st != ZX_OK) {
      atomic_fetch_sub_explicit(&table.alive, 1, memory_order_relaxed);
      return st;
    }
    *out = h;
    return ZX_OK;
  }
}

zx_status_t handle_create(zx_object_t* obj, zx_rights_t rights, zx_handle_t* out) {
  return create(obj, rights, false, out);
}

zx_status_t handle_create_another(zx_object_t* obj, zx_rights_t rights, zx_handle_t* out) {
  return create(obj, rights, true, out);
}

zx_status_t handle_get(zx_handle_t h, zx_obj_type_t type, zx_rights_t required,
                       zx_object_t** obj, zx_rights_t* rights) {
  // In a child of fork() no handle works (docs/behavior.md §17); checked before any
  // lock, which another thread of the parent may have held at the fork.
  if (process_forked()) return ZX_ERR_BAD_HANDLE;
  shard_t* sh = lookup_shard(h);
  if (sh == NULL) return ZX_ERR_BAD_HANDLE;
  rw_rdlock(&sh->lock);
  zx_status_t st = ZX_OK;
  entry_t* e = find_locked(sh, h);
  zx_object_t* o = NULL;
  zx_rights_t r = 0;
  if (e == NULL) {
    st = ZX_ERR_BAD_HANDLE;
  } else {
    o = e->obj;
    r = e->rights;
    if (type != ZX_OBJ_TYPE_NONE && o->ops->type != type) {
      st = ZX_ERR_WRONG_TYPE;
    } else if ((r & required) != required) {
      st = ZX_ERR_ACCESS_DENIED;
    } else {
      object_ref(o);
    }
  }
  rw_unlock(&sh->lock);
  if (st != ZX_OK) return st;
  *obj = o;
  if (rights != NULL) *rights = r;
  return ZX_OK;
}

bool handle_refers_to(zx_handle_t h, const zx_object_t* obj) {
  shard_t* sh = lookup_shard(h);
  if (sh == NULL) return false;
  rw_rdlock(&sh->lock);
  entry_t* e = find_locked(sh, h);
  bool live = e != NULL && e->obj == obj;
  rw_unlock(&sh->lock);
  return live;
}

zx_status_t handle_close(zx_handle_t h) {
  if (process_forked()) return ZX_ERR_BAD_HANDLE;
  shard_t* sh = lookup_shard(h);
  if (sh == NULL) return ZX_ERR_BAD_HANDLE;
  rw_wrlock(&sh->lock);
  entry_t* e = find_locked(sh, h);
  if (e == NULL) {
    rw_unlock(&sh->lock);
    return ZX_ERR_BAD_HANDLE;
  }
  zx_object_t* obj = e->obj;
  remove_locked(sh, e);
  rw_unlock(&sh->lock);
  atomic_fetch_sub_explicit(&table.alive, 1, memory_order_relaxed);

  // The value is dead from here on, so a wait that links after this cancel finds it
  // dead in its re-check (see object.c).
  object_cancel_waits(obj, h);
  uint64_t old = atomic_fetch_sub_explicit(&obj->handles, 1, memory_order_acq_rel);
  ZX_ASSERT(old > 0);
  if (old == 1 && obj->ops->on_zero_handles != NULL) obj->ops->on_zero_handles(obj);
  object_unref(obj);
  return ZX_OK;
}

// Write-locks two shards (one if they are the same), lower address first.
static void lock_pair(shard_t* a, shard_t* b) {
  if (a == b) {
    rw_wrlock(&a->lock);
  } else if (a < b) {
    rw_wrlock(&a->lock);
    rw_wrlock(&b->lock);
  } else {
    rw_wrlock(&b->lock);
    rw_wrlock(&a->lock);
  }
}

static void unlock_pair(shard_t* a, shard_t* b) {
  rw_unlock(&a->lock);
  if (b != a) rw_unlock(&b->lock);
}

zx_status_t handle_replace(zx_handle_t h, zx_rights_t rights, zx_handle_t* out) {
  if (process_forked()) return ZX_ERR_BAD_HANDLE;
  shard_t* from = lookup_shard(h);
  if (from == NULL) return ZX_ERR_BAD_HANDLE;
  for (;;) {
    zx_handle_t v = next_value();
    shard_t* to = shard_of(v);
    lock_pair(from, to);
    entry_t* e = find_locked(from, h);
    if (e == NULL) {
      unlock_pair(from, to);
      return ZX_ERR_BAD_HANDLE;
    }
    // Skips a value still open since the counter last passed here, and a shard with
    // no room to spare (see "Layout").
    if (find_locked(to, v) != NULL || (to != from && to->count >= to->mask)) {
      unlock_pair(from, to);
      continue;
    }
    entry_t moved = *e;
    remove_locked(from, e);
    moved.value = v;
    moved.rights = rights;
    insert_locked(to, moved);
    // Held until the waits through the old value are canceled: the new value is
    // not ours alone once the locks are released.
    object_ref(moved.obj);
    unlock_pair(from, to);
    *out = v;
    object_cancel_waits(moved.obj, h);
    object_unref(moved.obj);
    return ZX_OK;
  }
}

zx_status_t handle_collect(zx_obj_type_t type, handle_ref_t** out, size_t* n) {
  *out = NULL;
  *n = 0;
  if (!atomic_load_explicit(&table.ready, memory_order_acquire)) return ZX_OK;
  size_t cap = 0;
  handle_ref_t* v = NULL;
  for (uint32_t i = 0; i < HANDLE_SHARDS; i++) {
    shard_t* sh = &shards[i];
    rw_rdlock(&sh->lock);
    for (uint32_t j = 0; j <= sh->mask; j++) {
      entry_t* e = &sh->entries[j];
      if (e->value == ZX_HANDLE_INVALID || e->obj->ops->type != type) continue;
      if (*n == cap) {
        size_t ncap = cap ? cap * 2 : 16;
        handle_ref_t* nv = os_realloc(v, ncap * sizeof(*nv));
        if (!nv) {
          rw_unlock(&sh->lock);
          handle_collect_free(v, *n);
          *n = 0;
          return ZX_ERR_NO_MEMORY;
        }
        v = nv;
        cap = ncap;
      }
      object_ref(e->obj);
      v[(*n)++] = (handle_ref_t){.obj = e->obj, .rights = e->rights};
    }
    rw_unlock(&sh->lock);
  }
  *out = v;
  return ZX_OK;
}

void handle_collect_free(handle_ref_t* v, size_t n) {
  for (size_t i = 0; i < n; i++) object_unref(v[i].obj);
  os_free(v);
}

void handle_fork_lock(void) {
  for (uint32_t i = 0; i < HANDLE_SHARDS; i++) rw_wrlock(&shards[i].lock);
}

void handle_fork_unlock(void) {
  for (uint32_t i = HANDLE_SHARDS; i-- > 0;) rw_unlock(&shards[i].lock);
}

uint64_t handle_count_alive(void) {
  return atomic_load_explicit(&table.alive, memory_order_relaxed);
}

void handle_check_table(void) {
  if (!atomic_load_explicit(&table.ready, memory_order_acquire)) return;
  uint64_t total = 0;
  for (uint32_t i = 0; i < HANDLE_SHARDS; i++) {
    shard_t* sh = &shards[i];
    rw_rdlock(&sh->lock);
    uint32_t used = 0;
    for (uint32_t j = 0; j <= sh->mask; j++) {
      entry_t* e = &sh->entries[j];
      if (e->value == ZX_HANDLE_INVALID) continue;
      used++;
      ZX_ASSERT((e->value & ZX_HANDLE_FIXED_BITS_MASK) == ZX_HANDLE_FIXED_BITS_MASK);
      ZX_ASSERT(shard_of(e->value) == sh);
      ZX_ASSERT(find_locked(sh, e->value) == e);
      ZX_ASSERT(e->obj != NULL);
      ZX_ASSERT(atomic_load_explicit(&e->obj->handles, memory_order_relaxed) > 0);
    }
    ZX_ASSERT(used == sh->count);
    ZX_ASSERT(sh->count < sh->mask + 1);
    total += used;
    rw_unlock(&sh->lock);
  }
  ZX_ASSERT(total == handle_count_alive());
}

uint32_t handle_shard_index(zx_handle_t h) { return (uint32_t)(shard_of(h) - shards); }

void handle_shard_usage(uint32_t shard, uint32_t* used, uint32_t* size) {
  ZX_ASSERT(shard < HANDLE_SHARDS);
  pthread_once(&table_once, table_init);
  shard_t* sh = &shards[shard];
  rw_rdlock(&sh->lock);
  *used = sh->count;
  *size = sh->mask + 1;
  rw_unlock(&sh->lock);
}

uint32_t handle_set_capacity(uint32_t cap) {
  ZX_ASSERT(cap <= HANDLE_CAPACITY);
  return atomic_exchange_explicit(&table.capacity, cap, memory_order_relaxed);
}
