// The handle table: a process-wide map from zx_handle_t values to (object, rights).
//
// Layout. Slots live in fixed-size blocks reached through a directory; a block is
// allocated the first time one of its slots is handed out and is never freed or
// moved, so a slot's address is stable and a lookup needs no lock to find it:
//
//   directory[HANDLE_BLOCKS] --> block 0: slot[0 .. HANDLE_BLOCK_SLOTS-1]
//                            --> block 1: slot[...]
//                            --> NULL (never used yet)
//
// Values. A value packs (generation, slot index) into 30 bits, scrambles them with a
// constant so that small made-up numbers land on slots that are never in use, and
// sets Zircon's two fixed low bits:
//
//   value = ((gen << HANDLE_INDEX_BITS | index) ^ HANDLE_SCRAMBLE) << 2 | 0x3
//
// Closing a slot bumps its generation, so a stale value stops matching.
//
// Locking. A slot's state (object, rights, generation) is guarded by one of
// HANDLE_SHARDS reader-writer locks, chosen by slot index: lookups take the read
// side, create and close the write side, so lookups of different slots never
// serialise on one lock. handle_get() takes its object reference while it holds the
// read side, so a concurrent close cannot drop the last reference underneath it.
// The free list and the fresh-slot cursor are guarded by `table.lock`, which only
// create and close take, and never while holding a shard lock.
//
// Reuse. Freed slots queue FIFO, and a slot is taken from the queue only when more
// than HANDLE_REUSE_DELAY slots are queued (or no fresh slot is left), so a slot's
// generation advances once per at least HANDLE_REUSE_DELAY closes elsewhere and a
// stale value would need HANDLE_GEN_LIMIT such rounds to match again.
//
// Legend: (s) guarded by the slot's shard lock, (t) guarded by table.lock,
// (a) atomic.
#include "handle.h"

#include <string.h>

#define HANDLE_INDEX_BITS 20u
#define HANDLE_GEN_BITS 10u
#define HANDLE_CAPACITY (1u << HANDLE_INDEX_BITS)
#define HANDLE_INDEX_MASK (HANDLE_CAPACITY - 1u)
#define HANDLE_GEN_LIMIT (1u << HANDLE_GEN_BITS)
#define HANDLE_GEN_MASK (HANDLE_GEN_LIMIT - 1u)
#define HANDLE_BLOCK_SHIFT 12u
#define HANDLE_BLOCK_SLOTS (1u << HANDLE_BLOCK_SHIFT)
#define HANDLE_BLOCKS (HANDLE_CAPACITY / HANDLE_BLOCK_SLOTS)
#define HANDLE_SHARDS 64u
#define HANDLE_REUSE_DELAY 4096u
#define HANDLE_SCRAMBLE ((0x2d5u << HANDLE_INDEX_BITS) | 0xf3c5au)
#define HANDLE_NO_SLOT UINT32_MAX

_Static_assert(HANDLE_INDEX_BITS + HANDLE_GEN_BITS == 30, "30 payload bits + 2 fixed bits");
_Static_assert(HANDLE_SCRAMBLE < (1u << 30), "scramble fits the payload");

typedef struct slot {
  zx_object_t* obj;     // (s) NULL while the slot is free
  zx_rights_t rights;   // (s)
  uint32_t gen;         // (s) generation of the current or next handle in this slot
  uint32_t next_free;   // (t) free-queue link while the slot is free
} slot_t;

// Pads each shard lock to its own cache line so readers of different shards do not
// bounce one line between them.
typedef struct shard {
  pthread_rwlock_t lock;
  char pad[64 - sizeof(pthread_rwlock_t) % 64];
} shard_t;

static struct {
  pthread_mutex_t lock;
  _Atomic(slot_t*) blocks[HANDLE_BLOCKS];  // (a) written once under lock, read lock-free
  uint32_t fresh;                          // (t) slots [fresh, CAPACITY) never used
  uint32_t free_head;                      // (t) oldest freed slot
  uint32_t free_tail;                      // (t) newest freed slot
  uint32_t free_count;                     // (t)
  _Atomic uint64_t alive;                  // (a) handles open
} table = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .free_head = HANDLE_NO_SLOT,
    .free_tail = HANDLE_NO_SLOT,
};

static _Alignas(64) shard_t shards[HANDLE_SHARDS];
static pthread_once_t shards_once = PTHREAD_ONCE_INIT;

static void shards_init(void) {
  for (uint32_t i = 0; i < HANDLE_SHARDS; i++) {
    int rc = pthread_rwlock_init(&shards[i].lock, NULL);
    ZX_ASSERT(rc == 0);
  }
}

static pthread_rwlock_t* shard_of(uint32_t index) {
  return &shards[index % HANDLE_SHARDS].lock;
}

static zx_handle_t encode(uint32_t index, uint32_t gen) {
  uint32_t payload = ((gen << HANDLE_INDEX_BITS) | index) ^ HANDLE_SCRAMBLE;
  return (payload << 2) | ZX_HANDLE_FIXED_BITS_MASK;
}

// Splits a value into slot and generation. False for values that cannot be handles
// (fixed bits clear, or a slot never handed out).
static bool decode(zx_handle_t h, slot_t** slot, uint32_t* index, uint32_t* gen) {
  if ((h & ZX_HANDLE_FIXED_BITS_MASK) != ZX_HANDLE_FIXED_BITS_MASK) return false;
  uint32_t payload = (h >> 2) ^ HANDLE_SCRAMBLE;
  uint32_t i = payload & HANDLE_INDEX_MASK;
  slot_t* block =
      atomic_load_explicit(&table.blocks[i >> HANDLE_BLOCK_SHIFT], memory_order_acquire);
  if (block == NULL) return false;
  *slot = &block[i & (HANDLE_BLOCK_SLOTS - 1)];
  *index = i;
  *gen = payload >> HANDLE_INDEX_BITS;
  // The shards are initialised before the first block is published.
  return true;
}

static slot_t* slot_at(uint32_t index) {
  slot_t* block =
      atomic_load_explicit(&table.blocks[index >> HANDLE_BLOCK_SHIFT], memory_order_acquire);
  ZX_ASSERT(block != NULL);
  return &block[index & (HANDLE_BLOCK_SLOTS - 1)];
}

// Picks a free slot: an old freed one if enough are queued, else a fresh one.
static zx_status_t slot_alloc_locked(uint32_t* out) {
  bool fresh_left = table.fresh < HANDLE_CAPACITY;
  if (table.free_count > HANDLE_REUSE_DELAY || (!fresh_left && table.free_count > 0)) {
    uint32_t i = table.free_head;
    slot_t* s = slot_at(i);
    table.free_head = s->next_free;
    if (table.free_head == HANDLE_NO_SLOT) table.free_tail = HANDLE_NO_SLOT;
    table.free_count--;
    s->next_free = HANDLE_NO_SLOT;
    *out = i;
    return ZX_OK;
  }
  if (!fresh_left) return ZX_ERR_NO_RESOURCES;
  uint32_t i = table.fresh;
  _Atomic(slot_t*)* dir = &table.blocks[i >> HANDLE_BLOCK_SHIFT];
  if (atomic_load_explicit(dir, memory_order_relaxed) == NULL) {
    slot_t* block = calloc(HANDLE_BLOCK_SLOTS, sizeof(slot_t));
    if (block == NULL) return ZX_ERR_NO_MEMORY;
    // Publishes the zeroed slots to lock-free decode().
    atomic_store_explicit(dir, block, memory_order_release);
  }
  table.fresh++;
  *out = i;
  return ZX_OK;
}

static void slot_free_locked(uint32_t index) {
  slot_t* s = slot_at(index);
  s->next_free = HANDLE_NO_SLOT;
  if (table.free_tail == HANDLE_NO_SLOT) {
    table.free_head = index;
  } else {
    slot_at(table.free_tail)->next_free = index;
  }
  table.free_tail = index;
  table.free_count++;
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
  pthread_once(&shards_once, shards_init);
  uint32_t index;
  pthread_mutex_lock(&table.lock);
  zx_status_t st = slot_alloc_locked(&index);
  pthread_mutex_unlock(&table.lock);
  if (st != ZX_OK) return st;

  if (!count_handle(obj, only_if_live)) {
    // Its last handle was closed meanwhile: a dead object gets no new handle.
    pthread_mutex_lock(&table.lock);
    slot_free_locked(index);
    pthread_mutex_unlock(&table.lock);
    return ZX_ERR_BAD_HANDLE;
  }
  object_ref(obj);
  atomic_fetch_add_explicit(&table.alive, 1, memory_order_relaxed);

  slot_t* s = slot_at(index);
  pthread_rwlock_t* lock = shard_of(index);
  pthread_rwlock_wrlock(lock);
  ZX_ASSERT(s->obj == NULL);
  s->obj = obj;
  s->rights = rights;
  uint32_t gen = s->gen;
  pthread_rwlock_unlock(lock);

  *out = encode(index, gen);
  return ZX_OK;
}

zx_status_t handle_create(zx_object_t* obj, zx_rights_t rights, zx_handle_t* out) {
  return create(obj, rights, false, out);
}

zx_status_t handle_create_another(zx_object_t* obj, zx_rights_t rights, zx_handle_t* out) {
  return create(obj, rights, true, out);
}

zx_status_t handle_get(zx_handle_t h, zx_obj_type_t type, zx_rights_t required,
                       zx_object_t** obj, zx_rights_t* rights) {
  slot_t* s;
  uint32_t index, gen;
  if (!decode(h, &s, &index, &gen)) return ZX_ERR_BAD_HANDLE;
  pthread_rwlock_t* lock = shard_of(index);
  pthread_rwlock_rdlock(lock);
  zx_status_t st = ZX_OK;
  zx_object_t* o = s->obj;
  zx_rights_t r = s->rights;
  if (o == NULL || s->gen != gen) {
    st = ZX_ERR_BAD_HANDLE;
  } else if (type != ZX_OBJ_TYPE_NONE && o->ops->type != type) {
    st = ZX_ERR_WRONG_TYPE;
  } else if ((r & required) != required) {
    st = ZX_ERR_ACCESS_DENIED;
  } else {
    object_ref(o);
  }
  pthread_rwlock_unlock(lock);
  if (st != ZX_OK) return st;
  *obj = o;
  if (rights != NULL) *rights = r;
  return ZX_OK;
}

bool handle_refers_to(zx_handle_t h, const zx_object_t* obj) {
  slot_t* s;
  uint32_t index, gen;
  if (!decode(h, &s, &index, &gen)) return false;
  pthread_rwlock_t* lock = shard_of(index);
  pthread_rwlock_rdlock(lock);
  bool live = s->obj == obj && s->gen == gen;
  pthread_rwlock_unlock(lock);
  return live;
}

zx_status_t handle_close(zx_handle_t h) {
  slot_t* s;
  uint32_t index, gen;
  if (!decode(h, &s, &index, &gen)) return ZX_ERR_BAD_HANDLE;
  pthread_rwlock_t* lock = shard_of(index);
  pthread_rwlock_wrlock(lock);
  zx_object_t* obj = s->obj;
  if (obj == NULL || s->gen != gen) {
    pthread_rwlock_unlock(lock);
    return ZX_ERR_BAD_HANDLE;
  }
  s->obj = NULL;
  s->rights = 0;
  s->gen = (gen + 1) & HANDLE_GEN_MASK;
  pthread_rwlock_unlock(lock);

  pthread_mutex_lock(&table.lock);
  slot_free_locked(index);
  pthread_mutex_unlock(&table.lock);
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

zx_status_t handle_replace(zx_handle_t h, zx_rights_t rights, zx_handle_t* out) {
  slot_t* s;
  uint32_t index, gen;
  if (!decode(h, &s, &index, &gen)) return ZX_ERR_BAD_HANDLE;
  pthread_rwlock_t* lock = shard_of(index);
  pthread_rwlock_wrlock(lock);
  zx_object_t* obj = s->obj;
  if (obj == NULL || s->gen != gen) {
    pthread_rwlock_unlock(lock);
    return ZX_ERR_BAD_HANDLE;
  }
  // Held until the waits through the old value are canceled: the new value is
  // not ours alone once the lock is released.
  object_ref(obj);
  s->rights = rights;
  s->gen = (gen + 1) & HANDLE_GEN_MASK;
  *out = encode(index, s->gen);
  pthread_rwlock_unlock(lock);
  object_cancel_waits(obj, h);
  object_unref(obj);
  return ZX_OK;
}

uint64_t handle_count_alive(void) {
  return atomic_load_explicit(&table.alive, memory_order_relaxed);
}
