// SPDX-License-Identifier: BSD-3-Clause
// The page pool; see page_pool.h for the contract.
//
// Goal: freeing and reserving pages in different families scales with threads. A
// page op (one page written, copied or freed) costs a few hundred nanoseconds, so one
// lock or one shared counter cache line bouncing between cores on every page is
// already a large part of it. Hence:
//
// Per-thread caches. Each thread has a cache of free pages (`tcache_t`, thread-local):
// page_unref puts the page there, pool_reserve takes from it first, both without any
// shared lock. When a cache holds more than its limit it gives its oldest pages (and
// any zero ones) to the shared lists, down to half the limit, in one locked step; when
// a reservation finds it empty, it takes what is missing from the shared lists and
// refills the cache with up to half the limit in the same locked step. A thread's
// exit gives its cache back (a pthread key destructor), so cached pages are never lost.
//
// The limit adapts. It starts at TC_MIN (1 MiB of pages). A thread that refills after
// having flushed is recycling its own pages through the shared lists (its working
// set exceeds its cache): its limit grows by what it flushed (to a power of two times
// TC_MIN), up to TC_CAP (16 MiB), so a loop that writes and frees a few MiB per round
// ends up touching no shared lock at all and reusing its own cache-warm pages. A
// thread that flushes more than twice its limit without refilling is only freeing:
// its limit halves back towards TC_MIN, so freeing a large VMO leaves a small cache.
// Moving pages through the shared lists costs a lock per batch but also a trip of
// each page's descriptor and data between cores, which is why the working set is kept
// local rather than merely the lock made cheaper.
//
// Sharded counters. pages_in_use, the pages holding memory, zero fills and copies are
// counted per thread (`cnt`, written only by the owning thread, on its own cache line)
// and summed by readers under g_reg_lock over the registry of caches, plus the shards
// of exited threads (`g_retired`) and of threads without a cache (`g_shared`). A page
// charged by one thread and freed by another adds +1 to one shard and -1 to another:
// each shard wraps, the sum is exact. So pages_in_use is exact whenever no reservation
// or free is in progress, which is when zxvmo_check_invariants compares it.
//
// The budget stays exact with concurrent reservers. With no budget (the common case)
// a reservation adds to its own shard and then reads g_budget; pool_set_budget writes
// g_budget under g_reg_lock. Both sides are sequentially consistent (Dekker): either
// the reservation sees the budget and takes the locked path, or the budgeted
// reservers that come after pool_set_budget see its charge in their sum. With a
// budget, reservations check and charge under g_reg_lock against the summed shards
// (O(threads) each: budgeted reservations do not scale, exactness comes first).
//
// The shared lists (g_pool_lock) hold free pages by state: `dirty` ones hold memory
// (reused first: warm, already faulted in), `fresh` ones hold memory that reads as
// zero (from a new chunk, never handed out), `clean` ones had their memory given back
// and read as zero. Dirty pages come in two generations: when the newer one reaches
// POOL_RETAIN_LOW pages per thread with a cache (for at most as many threads as CPUs:
// retain_generation), the older one is detached (O(1)) and given back to the OS by
// the thread that detached it, after dropping the lock: sorted by address with a list
// merge sort (no allocation, so it cannot fail) and released in contiguous runs
// (MADV_REMOVE), then moved to `clean`. Each freed page is sorted and released at most
// once, so freeing is amortised O(log n) per page, and no lock is held meanwhile.
//
// Growth (fallocate, mmap) happens with no pool lock held (only os.c's own lock) and
// is all or nothing: the missing chunks are mapped onto a private list and join the
// pool only once all are there; if one fails, the chunks already mapped go back to
// the OS (os_chunk_unmap) and the pages already taken go back to the shared lists.
// So a failed reservation leaves the pool holding what it held (a failed 8 GiB COMMIT
// under a 3 GiB address-space limit used to keep 3 GiB of chunks for good), and a
// successful one less than one chunk of fresh pages beyond what it took.
//
// Lock order: family lock -> g_reg_lock, g_pool_lock, os lock, each taken alone (none
// is ever held while another is taken). Cache contents need no lock: only the owning
// thread touches them.
#include "page_pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include <zxvmo.h>

#include "os.h"

#define PAGES_PER_CHUNK (OS_CHUNK_SIZE / PAGE_SIZE)
// Dirty pages kept in the shared lists: between LOW and 2 * LOW (two generations).
#define POOL_RETAIN_LOW 8192u
// A thread's cache limit, in pages: from TC_MIN (about 1 MiB, at least 16 pages) to
// TC_CAP (about 16 MiB). TC_CAP bounds what one thread can keep from the others.
#define TC_PAGES(bytes) ((uint64_t)(bytes) / PAGE_SIZE)
#define TC_MIN (TC_PAGES(1u << 20) >= 16 ? TC_PAGES(1u << 20) : 16)
#define TC_CAP (TC_PAGES(1u << 24) >= TC_MIN ? TC_PAGES(1u << 24) : TC_MIN)

static _Alignas(PAGE_SIZE) const uint8_t g_zero_data[PAGE_SIZE];
page_t g_zero_page = {.data = (uint8_t*)g_zero_data, .refs = 1, .zeroed = 1, .backed = 0};

// ---- page lists ------------------------------------------------------------------

// A LIFO list of free pages linked through u.next, with its tail for O(1) splicing.
typedef struct plist {
  page_t* head;
  page_t* tail;
  uint64_t count;
} plist_t;

static void plist_push(plist_t* l, page_t* p) {
  p->u.next = l->head;
  if (!l->head) l->tail = p;
  l->head = p;
  l->count++;
}

static page_t* plist_pop(plist_t* l) {
  page_t* p = l->head;
  if (!p) return NULL;
  l->head = p->u.next;
  if (!l->head) l->tail = NULL;
  l->count--;
  return p;
}

// Moves all of `src` on top of `dst`.
static void plist_splice(plist_t* dst, plist_t* src) {
  if (!src->head) return;
  src->tail->u.next = dst->head;
  if (!dst->head) dst->tail = src->tail;
  dst->head = src->head;
  dst->count += src->count;
  *src = (plist_t){NULL, NULL, 0};
}

// ---- counters and per-thread caches ------------------------------------------------

enum {
  CNT_IN_USE,      // pages charged (reserved or in a map) minus pages freed
  CNT_BACKED,      // pages holding memory: all but clean free ones
  CNT_ZERO_FILLS,  // pages handed out by pool_take_zero
  CNT_COPIES,      // pages copied because a shared page was written
  CNT_N
};

typedef struct tcache {
  // This thread's shards of the counters (each wraps; only sums mean anything).
  // (written only by the owning thread; read by others under g_reg_lock)
  _Atomic uint64_t cnt[CNT_N];
  _Atomic uint64_t dirty_pub;  // (same) dirty.count, published for pages_pooled
  plist_t dirty;               // (owning thread) free pages holding memory
  plist_t zero;                // (owning thread) free pages reading as zero (fresh or clean)
  uint64_t limit;              // (owning thread) TC_MIN..TC_CAP, 0 until registered
  uint64_t flushed;            // (owning thread) pages flushed since the last refill
  uint8_t state;               // (owning thread) TC_*
  struct tcache* next;         // (g_reg_lock) registry of live caches
  struct tcache* prev;         // (g_reg_lock)
} tcache_t;

// TC_OFF: the thread has no cache (registration failed, or the thread is exiting and
// already gave it back); it then uses the shared lists and shard.
enum { TC_UNSET, TC_ON, TC_OFF };
// The calling thread's cache (thread-local storage: no allocation, cannot fail).
static _Thread_local _Alignas(64) tcache_t t_cache;

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static pthread_key_t g_key;            // (g_once) destructor gives a cache back
static bool g_key_ok;                  // (g_once)

static pthread_mutex_t g_reg_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t g_reg_locked;          // (g_reg_lock) times taken (pool_lock_counts)
static tcache_t* g_caches;             // (g_reg_lock)
static _Atomic uint64_t g_ncaches;     // (written under g_reg_lock) caches registered
static _Atomic uint64_t g_retired[CNT_N];  // (written under g_reg_lock) exited threads' shards
static _Atomic uint64_t g_shared[CNT_N];   // (atomic adds) shard of threads without a cache
static _Atomic uint64_t g_budget;      // (written under g_reg_lock) 0 = unlimited
static _Atomic uint64_t g_peak;        // (atomic max) largest pages_in_use observed

static void cache_exit(void* arg);

static void reg_lock(void) {
  pthread_mutex_lock(&g_reg_lock);
  g_reg_locked++;
}

static void reg_unlock(void) { pthread_mutex_unlock(&g_reg_lock); }

static void pool_init_once(void) {
  g_key_ok = pthread_key_create(&g_key, cache_exit) == 0;
  const char* e = getenv("ZXVMO_PAGE_BUDGET");
  if (e && *e) {
    char* end = NULL;
    unsigned long long v = strtoull(e, &end, 0);
    if (end && *end == '\0') atomic_store(&g_budget, v);
  }
}

static void pool_init(void) { pthread_once(&g_once, pool_init_once); }

// Registers the calling thread's cache; NULL (and TC_OFF for good) if it cannot be.
static tcache_t* cache_register(void) {
  pool_init();
  t_cache.state = TC_OFF;
  if (!g_key_ok || pthread_setspecific(g_key, &t_cache) != 0) return NULL;
  reg_lock();
  t_cache.prev = NULL;
  t_cache.next = g_caches;
  if (g_caches) g_caches->prev = &t_cache;
  g_caches = &t_cache;
  atomic_store(&g_ncaches, atomic_load(&g_ncaches) + 1);
  reg_unlock();
  t_cache.limit = TC_MIN;
  t_cache.state = TC_ON;
  return &t_cache;
}

// The calling thread's cache or NULL. Once it has returned, pool_init has run.
static inline tcache_t* cache_get(void) {
  tcache_t* tc = &t_cache;
  if (ZX_LIKELY(tc->state == TC_ON)) return tc;
  if (tc->state == TC_OFF) return NULL;
  return cache_register();
}

// Adds `d` (mod 2^64) to counter k of the caller's shard: a plain store for a cache's
// own shard (only its thread writes it), an atomic add for the shared one.
static inline void cnt_add(tcache_t* tc, unsigned k, uint64_t d) {
  if (tc) {
    uint64_t v = atomic_load_explicit(&tc->cnt[k], memory_order_relaxed);
    atomic_store_explicit(&tc->cnt[k], v + d, memory_order_relaxed);
  } else {
    atomic_fetch_add_explicit(&g_shared[k], d, memory_order_relaxed);
  }
}

static inline void cnt_sub(tcache_t* tc, unsigned k, uint64_t d) {
  cnt_add(tc, k, (uint64_t)0 - d);
}

// The sum of counter k over every shard. Exact when nothing is changing it.
static uint64_t cnt_sum_locked(unsigned k) {
  uint64_t s = atomic_load(&g_retired[k]) + atomic_load(&g_shared[k]);
  for (tcache_t* t = g_caches; t; t = t->next) s += atomic_load(&t->cnt[k]);
  return s;
}

static uint64_t cnt_sum(unsigned k) {
  reg_lock();
  uint64_t s = cnt_sum_locked(k);
  reg_unlock();
  return s;
}

static void note_peak(uint64_t v) {
  uint64_t p = atomic_load_explicit(&g_peak, memory_order_relaxed);
  while (v > p && !atomic_compare_exchange_weak_explicit(&g_peak, &p, v, memory_order_relaxed,
                                                         memory_order_relaxed)) {
  }
}

// ---- chunks and the shared lists ---------------------------------------------------

// A chunk and its descriptors. Chunks are never freed once added to the pool; only a
// reservation's private growth (never seen by anyone else) is given back.
typedef struct pool_chunk {
  os_chunk_t os;            // (c)
  struct pool_chunk* next;  // (g_pool_lock) g_chunks, or the growing reservation's list
  page_t pages[];           // PAGES_PER_CHUNK descriptors
} pool_chunk_t;

static pthread_mutex_t g_pool_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t g_pool_locked;    // (g_pool_lock) times taken (pool_lock_counts)
static plist_t g_dirty;           // (g_pool_lock) free pages holding memory, newer generation
static plist_t g_dirty_old;       // (g_pool_lock) older generation: the next given back
static plist_t g_fresh;           // (g_pool_lock) free pages holding memory reading as zero
static plist_t g_clean;           // (g_pool_lock) free pages whose memory was given back
static pool_chunk_t* g_chunks;    // (g_pool_lock) every chunk of the pool

static void shared_lock(void) {
  pthread_mutex_lock(&g_pool_lock);
  g_pool_locked++;
}

static void shared_unlock(void) { pthread_mutex_unlock(&g_pool_lock); }

// Size of one dirty generation: POOL_RETAIN_LOW per thread with a cache, for at most
// as many threads as there are CPUs. Each thread recycling its own working set then
// keeps as much warm memory as it would alone, instead of two threads' frees pushing
// each other's pages back to the OS (and refaulting them) once per round.
static uint64_t retain_generation(void) {
  static _Atomic uint64_t ncpus;
  uint64_t c = atomic_load_explicit(&ncpus, memory_order_relaxed);
  if (c == 0) {
    c = os_cpu_count();
    atomic_store_explicit(&ncpus, c, memory_order_relaxed);
  }
  uint64_t t = atomic_load_explicit(&g_ncaches, memory_order_relaxed);
  return POOL_RETAIN_LOW * (t < 1 ? 1 : t > c ? c : t);
}

// Puts a free page on the shared list of its state. When the newer dirty generation
// is full, the older one moves to `trim` for the caller to give back after unlocking.
static void shared_push_locked(page_t* p, plist_t* trim) {
  if (p->zeroed) {
    plist_push(p->backed ? &g_fresh : &g_clean, p);
    return;
  }
  plist_push(&g_dirty, p);
  if (g_dirty.count >= retain_generation()) {
    plist_splice(trim, &g_dirty_old);
    g_dirty_old = g_dirty;
    g_dirty = (plist_t){NULL, NULL, 0};
  }
}

// Pops a free page, NULL if none: warm ones first, then memory already held.
static page_t* shared_pop_locked(void) {
  page_t* p = plist_pop(&g_dirty);
  if (!p) p = plist_pop(&g_dirty_old);
  if (!p) p = plist_pop(&g_fresh);
  if (!p) p = plist_pop(&g_clean);
  return p;
}

static bool page_addr_lt(const page_t* a, const page_t* b) {
  return (uintptr_t)a->data < (uintptr_t)b->data;
}

static page_t* merge_by_addr(page_t* a, page_t* b) {
  page_t* head = NULL;
  page_t** tail = &head;
  while (a && b) {
    page_t** from = page_addr_lt(a, b) ? &a : &b;
    *tail = *from;
    tail = &(*from)->u.next;
    *from = (*from)->u.next;
  }
  *tail = a ? a : b;
  return head;
}

// Sorts a NULL-terminated page list by address: bottom-up merge sort, O(n log n) time
// and no allocation (bin i holds a sorted run of 2^i pages).
static page_t* sort_by_addr(page_t* list) {
  page_t* bins[64] = {NULL};
  while (list) {
    page_t* p = list;
    list = p->u.next;
    p->u.next = NULL;
    unsigned i = 0;
    for (; bins[i]; i++) {
      p = merge_by_addr(bins[i], p);
      bins[i] = NULL;
    }
    bins[i] = p;
  }
  page_t* r = NULL;
  for (unsigned i = 0; i < 64; i++) {
    if (bins[i]) r = merge_by_addr(bins[i], r);
  }
  return r;
}

// Gives the memory of a detached batch of dirty pages back to the OS and moves them to
// the clean list. Called with no lock held; the pages belong to no list meanwhile.
// Address-contiguous runs cost one call (a run may span chunks that happen to be
// adjacent in the address space: madvise handles several mappings in one call).
static void trim(tcache_t* tc, plist_t* batch) {
  if (!batch->head) return;
  batch->tail->u.next = NULL;
  page_t* p = sort_by_addr(batch->head);
  plist_t released = {NULL, NULL, 0}, kept = {NULL, NULL, 0};
  while (p) {
    page_t* last = p;
    uint64_t k = 1;
    while (last->u.next && last->u.next->data == last->data + PAGE_SIZE) {
      last = last->u.next;
      k++;
    }
    page_t* next = last->u.next;
    // Only memory the OS really took back reads as zero; the rest stays dirty.
    bool ok = os_release(p->data, (size_t)(k * PAGE_SIZE));
    for (page_t* q = p; q != next;) {
      page_t* qn = q->u.next;
      q->zeroed = ok;
      q->backed = !ok;
      plist_push(ok ? &released : &kept, q);
      q = qn;
    }
    if (ok) cnt_sub(tc, CNT_BACKED, k);
    p = next;
  }
  shared_lock();
  plist_splice(&g_clean, &released);
  plist_splice(&g_dirty_old, &kept);
  shared_unlock();
  *batch = (plist_t){NULL, NULL, 0};
}

// Gives a list of free pages to the shared lists.
static void shared_put(tcache_t* tc, page_t* p) {
  plist_t batch = {NULL, NULL, 0};
  shared_lock();
  while (p) {
    page_t* next = p->u.next;
    shared_push_locked(p, &batch);
    p = next;
  }
  shared_unlock();
  trim(tc, &batch);
}

// Maps a chunk and makes its descriptors (all fresh). NULL if either fails; then
// nothing is left behind: a mapped chunk whose header cannot be allocated is unmapped.
static pool_chunk_t* chunk_new(void) {
  os_chunk_t c;
  if (!os_chunk_map(&c)) return NULL;
  pool_chunk_t* ch = os_calloc(1, sizeof(*ch) + PAGES_PER_CHUNK * sizeof(page_t));
  if (!ch) {
    os_chunk_unmap(&c);
    return NULL;
  }
  ch->os = c;
  for (size_t i = 0; i < PAGES_PER_CHUNK; i++) {
    ch->pages[i].data = c.base + i * PAGE_SIZE;
    ch->pages[i].zeroed = 1;
    ch->pages[i].backed = 1;
  }
  return ch;
}

// Adds `s` pages from new chunks to `out`, all or nothing: on failure every chunk
// mapped here is given back, newest first (so each one ends the pool file and
// truncating it suffices). Fresh pages left over go to the caller's cache (up to half
// its limit) and the shared fresh list. Takes no lock while mapping.
static bool grow(tcache_t* tc, uint64_t s, plist_t* out) {
  pool_chunk_t* grown = NULL;
  uint64_t have = 0;
  while (have < s) {
    pool_chunk_t* ch = chunk_new();
    if (!ch) {
      while (grown) {
        pool_chunk_t* next = grown->next;
        os_chunk_unmap(&grown->os);
        os_free(grown);
        grown = next;
      }
      return false;
    }
    ch->next = grown;
    grown = ch;
    have += PAGES_PER_CHUNK;
  }
  cnt_add(tc, CNT_BACKED, have);
  plist_t rest = {NULL, NULL, 0};
  pool_chunk_t* last = grown;
  for (pool_chunk_t* ch = grown; ch; ch = ch->next) {
    last = ch;
    for (size_t i = PAGES_PER_CHUNK; i-- > 0;) {
      page_t* p = &ch->pages[i];
      if (s > 0) {
        plist_push(out, p);
        s--;
      } else if (tc && tc->zero.count < tc->limit / 2) {
        plist_push(&tc->zero, p);
      } else {
        plist_push(&rest, p);
      }
    }
  }
  shared_lock();
  last->next = g_chunks;
  g_chunks = grown;
  plist_splice(&g_fresh, &rest);
  shared_unlock();
  return true;
}

// ---- the cache ---------------------------------------------------------------------

static void cache_publish(tcache_t* tc) {
  atomic_store_explicit(&tc->dirty_pub, tc->dirty.count, memory_order_relaxed);
}

static void cache_push(tcache_t* tc, page_t* p) {
  plist_push(p->zeroed ? &tc->zero : &tc->dirty, p);
}

// Moves up to `n` cached pages to `out`, dirty ones first. Returns how many.
static uint64_t cache_take(tcache_t* tc, uint64_t n, plist_t* out) {
  uint64_t got = 0;
  page_t* p;
  while (got < n && (p = plist_pop(&tc->dirty)) != NULL) {
    plist_push(out, p);
    got++;
  }
  while (got < n && (p = plist_pop(&tc->zero)) != NULL) {
    plist_push(out, p);
    got++;
  }
  cache_publish(tc);
  return got;
}

// Gives the shared lists all zero pages of the cache and its dirty pages beyond the
// `keep` most recently freed, in one locked step.
static void cache_flush(tcache_t* tc, uint64_t keep) {
  plist_t out = {NULL, NULL, 0};
  if (tc->dirty.count > keep) {
    if (keep == 0) {
      out = tc->dirty;
      tc->dirty = (plist_t){NULL, NULL, 0};
    } else {
      page_t* cut = tc->dirty.head;
      for (uint64_t i = 1; i < keep; i++) cut = cut->u.next;
      out.head = cut->u.next;
      out.tail = tc->dirty.tail;
      out.count = tc->dirty.count - keep;
      cut->u.next = NULL;
      tc->dirty.tail = cut;
      tc->dirty.count = keep;
    }
  }
  cache_publish(tc);
  plist_t batch = {NULL, NULL, 0};
  shared_lock();
  for (page_t* p; (p = plist_pop(&tc->zero)) != NULL;) shared_push_locked(p, &batch);
  if (out.head) {
    plist_splice(&g_dirty, &out);
    if (g_dirty.count >= retain_generation()) {
      plist_splice(&batch, &g_dirty_old);
      g_dirty_old = g_dirty;
      g_dirty = (plist_t){NULL, NULL, 0};
    }
  }
  shared_unlock();
  trim(tc, &batch);
}

// Flushes a cache above its limit down to half of it. Past twice the limit flushed
// without a refill, the thread is only freeing: the limit halves (file comment).
static void cache_trim_excess(tcache_t* tc) {
  uint64_t n = tc->dirty.count + tc->zero.count;
  if (ZX_LIKELY(n <= tc->limit)) return;
  tc->flushed += n - tc->limit / 2;
  if (tc->flushed > 2 * tc->limit && tc->limit > TC_MIN) {
    tc->limit /= 2;
    tc->flushed = 0;
  }
  cache_flush(tc, tc->limit / 2);
}

// The pthread key destructor: the exiting thread gives its pages to the shared lists
// and its shards to g_retired, and uses no cache from now on (a later call from
// another destructor takes the shared paths).
static void cache_exit(void* arg) {
  tcache_t* tc = arg;
  cache_flush(tc, 0);
  tc->state = TC_OFF;
  reg_lock();
  for (unsigned k = 0; k < CNT_N; k++) {
    atomic_store(&g_retired[k], atomic_load(&g_retired[k]) + atomic_load(&tc->cnt[k]));
    atomic_store(&tc->cnt[k], 0);
  }
  if (tc->prev) {
    tc->prev->next = tc->next;
  } else {
    g_caches = tc->next;
  }
  if (tc->next) tc->next->prev = tc->prev;
  atomic_store(&g_ncaches, atomic_load(&g_ncaches) - 1);
  reg_unlock();
}

// ---- reservations ------------------------------------------------------------------

// Charges `n` pages to the budget in the caller's shard; false if the budget forbids.
static bool charge(tcache_t* tc, uint64_t n) {
  _Atomic uint64_t* cell = tc ? &tc->cnt[CNT_IN_USE] : &g_shared[CNT_IN_USE];
  if (atomic_load_explicit(&g_budget, memory_order_relaxed) == 0) {
    // Charge, then look at the budget (both seq_cst; pool_set_budget writes it seq_cst
    // and budgeted reservers sum with seq_cst loads): if it is still unlimited, this
    // charge is ordered before the budget and every later budgeted sum counts it.
    atomic_fetch_add(cell, n);
    if (atomic_load(&g_budget) == 0) return true;
    atomic_fetch_sub(cell, n);  // a budget appeared meanwhile: check against it
  }
  reg_lock();
  uint64_t b = atomic_load(&g_budget);
  uint64_t used = cnt_sum_locked(CNT_IN_USE);
  bool ok = b == 0 || (used <= b && n <= b - used);
  if (ok) {
    atomic_fetch_add(cell, n);
    note_peak(used + n);
  }
  reg_unlock();
  return ok;
}

// Keeps g_peak after a successful reservation. Exact while only the caller has a
// cache (the sum then needs no other thread's shard, so no lock); with several
// threads it is sampled when the reservation went to the shared lists anyway.
static void note_reserve_peak(tcache_t* tc, bool slow) {
  if (atomic_load_explicit(&g_ncaches, memory_order_relaxed) <= (tc ? 1u : 0u)) {
    uint64_t v = atomic_load_explicit(&g_retired[CNT_IN_USE], memory_order_relaxed) +
                 atomic_load_explicit(&g_shared[CNT_IN_USE], memory_order_relaxed);
    if (tc) v += atomic_load_explicit(&tc->cnt[CNT_IN_USE], memory_order_relaxed);
    note_peak(v);
  } else if (slow) {
    note_peak(cnt_sum(CNT_IN_USE));
  }
}

// Takes `m` pages from the shared lists (growing the pool if they are short) and
// refills the caller's empty cache on the way. False, with nothing taken, on failure.
static bool shared_take(tcache_t* tc, uint64_t m, plist_t* out) {
  plist_t mine = {NULL, NULL, 0};
  page_t* p;
  shared_lock();
  while (mine.count < m && (p = shared_pop_locked()) != NULL) plist_push(&mine, p);
  if (mine.count == m && tc) {
    // Refilling after a flush: the working set does not fit. Grow the cache by what
    // it had to flush (in powers of two), so that the next round fits.
    uint64_t want = tc->limit + tc->flushed;
    while (tc->limit < want && tc->limit < TC_CAP) tc->limit *= 2;
    tc->flushed = 0;
    for (uint64_t i = 0; i < tc->limit / 2 && (p = shared_pop_locked()) != NULL; i++) {
      cache_push(tc, p);
    }
  }
  shared_unlock();
  if (tc) cache_publish(tc);
  if (mine.count < m && !grow(tc, m - mine.count, &mine)) {
    shared_put(tc, mine.head);
    return false;
  }
  plist_splice(out, &mine);
  return true;
}

zx_status_t pool_reserve(uint64_t n, page_reservation_t* r) {
  r->list = NULL;
  r->count = 0;
  if (n == 0) return ZX_OK;
  tcache_t* tc = cache_get();  // (has run pool_init: the environment's budget is read)
  if (!charge(tc, n)) return ZX_ERR_NO_MEMORY;
  plist_t got = {NULL, NULL, 0};
  if (tc) cache_take(tc, n, &got);
  bool slow = got.count < n;
  if (slow) {
    plist_t more = {NULL, NULL, 0};
    if (!shared_take(tc, n - got.count, &more)) {
      shared_put(tc, got.head);
      cnt_sub(tc, CNT_IN_USE, n);
      return ZX_ERR_NO_MEMORY;
    }
    plist_splice(&got, &more);
  }
  if (got.tail) got.tail->u.next = NULL;
  r->list = got.head;
  r->count = n;
  note_reserve_peak(tc, slow);
  return ZX_OK;
}

void pool_unreserve(page_reservation_t* r) {
  if (r->count == 0) return;
  tcache_t* tc = cache_get();
  cnt_sub(tc, CNT_IN_USE, r->count);
  if (tc) {
    for (page_t* p = r->list; p;) {
      page_t* next = p->u.next;
      cache_push(tc, p);
      p = next;
    }
    cache_trim_excess(tc);
    cache_publish(tc);
  } else {
    shared_put(NULL, r->list);
  }
  r->list = NULL;
  r->count = 0;
}

static page_t* take(page_reservation_t* r) {
  ZX_ASSERT(r->count > 0);
  page_t* p = r->list;
  r->list = p->u.next;
  r->count--;
  p->u.next = NULL;
  p->u.s.epoch = 0;
  p->u.s.count = 0;
  p->refs = 1;
  p->dirty = PAGE_CLEAN;
  atomic_store_explicit(&p->referenced, 0, memory_order_relaxed);
  if (!p->backed) {  // a page whose memory was given back holds memory again once used
    p->backed = 1;
    cnt_add(cache_get(), CNT_BACKED, 1);
  }
  return p;
}

page_t* pool_take_zero(page_reservation_t* r) {
  page_t* p = take(r);
  if (!p->zeroed) memset(p->data, 0, PAGE_SIZE);
  p->zeroed = 0;
  cnt_add(cache_get(), CNT_ZERO_FILLS, 1);
  return p;
}

page_t* pool_take_copy(page_reservation_t* r, const page_t* src) {
  return pool_take_copy_of(r, src->data);
}

page_t* pool_take_copy_of(page_reservation_t* r, const void* data) {
  page_t* p = take(r);
  memcpy(p->data, data, PAGE_SIZE);
  p->zeroed = 0;
  return p;
}

page_t* pool_take_raw(page_reservation_t* r) {
  page_t* p = take(r);
  p->zeroed = 0;
  return p;
}

void pool_count_copy(void) { cnt_add(cache_get(), CNT_COPIES, 1); }

void pool_fork_lock(void) {
  reg_lock();
  shared_lock();
}

void pool_fork_unlock(void) {
  shared_unlock();
  reg_unlock();
}

zx_status_t pool_charge(uint64_t n) {
  if (n == 0) return ZX_OK;
  tcache_t* tc = cache_get();
  if (!charge(tc, n)) return ZX_ERR_NO_MEMORY;
  note_reserve_peak(tc, false);
  return ZX_OK;
}

void pool_charge_force(uint64_t n) {
  tcache_t* tc = cache_get();
  cnt_add(tc, CNT_IN_USE, n);
  note_reserve_peak(tc, false);
}

void pool_uncharge(uint64_t n) { cnt_sub(cache_get(), CNT_IN_USE, n); }

void page_unref(page_t* p) {
  if (page_is_marker(p)) return;
  ZX_ASSERT(p->refs > 0);
  if (--p->refs > 0) return;
  if (p->win) {
    home_page_free(p);
    return;
  }
  p->zeroed = 0;
  tcache_t* tc = cache_get();
  cnt_sub(tc, CNT_IN_USE, 1);
  if (tc) {
    plist_push(&tc->dirty, p);
    cache_trim_excess(tc);
    cache_publish(tc);
  } else {
    p->u.next = NULL;
    shared_put(NULL, p);
  }
}

// ---- budget and stats --------------------------------------------------------------

void pool_set_budget(uint64_t pages) {
  pool_init();
  reg_lock();
  atomic_store(&g_budget, pages);
  reg_unlock();
}

uint64_t pool_get_budget(void) {
  pool_init();
  return atomic_load(&g_budget);
}

uint64_t pool_pages_in_use(void) { return cnt_sum(CNT_IN_USE); }

void pool_fill_stats(zxvmo_stats_t* s) {
  pool_init();
  uint64_t cached_dirty = 0;
  reg_lock();
  s->pages_in_use = cnt_sum_locked(CNT_IN_USE);
  s->pool_bytes_held = cnt_sum_locked(CNT_BACKED) * PAGE_SIZE;
  s->cow_page_copies = cnt_sum_locked(CNT_COPIES);
  s->zero_fills = cnt_sum_locked(CNT_ZERO_FILLS);
  for (tcache_t* t = g_caches; t; t = t->next) {
    cached_dirty += atomic_load_explicit(&t->dirty_pub, memory_order_relaxed);
  }
  reg_unlock();
  note_peak(s->pages_in_use);
  shared_lock();
  s->pages_pooled = g_dirty.count + g_dirty_old.count + cached_dirty;
  shared_unlock();
  s->page_budget = atomic_load(&g_budget);
  s->pages_peak = atomic_load(&g_peak);
  s->pool_bytes_mapped = os_chunk_bytes_mapped();
}

void pool_lock_counts(uint64_t* shared, uint64_t* registry) {
  // Taken directly, so that looking does not count.
  pthread_mutex_lock(&g_pool_lock);
  *shared = g_pool_locked;
  pthread_mutex_unlock(&g_pool_lock);
  pthread_mutex_lock(&g_reg_lock);
  *registry = g_reg_locked;
  pthread_mutex_unlock(&g_reg_lock);
}
