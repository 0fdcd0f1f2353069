// The page pool; see page_pool.h for the contract.
//
// Memory layout: chunks of OS_CHUNK_SIZE bytes, each with a header holding its
// OS_CHUNK_SIZE / PAGE_SIZE descriptors. Free descriptors sit on one of three LIFO
// lists, by state: `dirty` pages hold memory (recently freed, cache-warm, reused first);
// `fresh` pages hold memory that reads as zero (from a chunk added by growth, never
// handed out); `clean` pages had their memory given back to the OS and read as zero.
// Reuse order is dirty, fresh, clean: memory already held is used before the OS is
// asked for more.
//
// Growth is all or nothing: a reservation that needs new chunks maps them onto a
// private list and adds them to the pool only once all are there; if one fails, the
// chunks already mapped go back to the OS (os_chunk_unmap) and the pages it had taken
// go back to the free lists. So a failed reservation leaves the pool as it found it;
// without that, a failed 8 GiB COMMIT under a 3 GiB address-space limit kept 3 GiB of
// chunks, unused, for good. A successful one leaves less than one chunk of fresh
// pages beyond what it took. When more than POOL_RETAIN_HIGH pages are dirty, the pool gives the memory of
// the oldest-freed ones back, down to POOL_RETAIN_LOW, in address-sorted runs, and
// moves them to `clean`: each page is sorted and released at most once per free, so
// freeing is amortised O(log n) per page.
#include "page_pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include <zxvmo.h>

#include "os.h"

#define PAGES_PER_CHUNK (OS_CHUNK_SIZE / PAGE_SIZE)
// Free pages holding memory kept for reuse; past HIGH the pool releases down to LOW.
#define POOL_RETAIN_HIGH 16384u
#define POOL_RETAIN_LOW 8192u

static _Alignas(PAGE_SIZE) const uint8_t g_zero_data[PAGE_SIZE];
page_t g_zero_page = {.data = (uint8_t*)g_zero_data, .refs = 1, .zeroed = 1, .backed = 0};

static pthread_mutex_t g_pool_lock = PTHREAD_MUTEX_INITIALIZER;
static page_t* g_dirty;           // (pool lock) free pages holding memory
static uint64_t g_dirty_count;    // (pool lock)
static page_t* g_fresh;           // (pool lock) free pages holding memory that reads as zero
static uint64_t g_fresh_count;    // (pool lock)
static page_t* g_clean;           // (pool lock) free pages whose memory was given back
static uint64_t g_clean_count;    // (pool lock)
// Pages holding memory: every page but `clean` free ones (a clean page handed out
// counts from when it is taken, since it is written then). Updated with relaxed atomic
// adds: takes happen outside the pool lock.
static _Atomic uint64_t g_backed;
static uint64_t g_in_use;         // (pool lock) pages handed out (reserved or in a map)
static uint64_t g_peak;           // (pool lock)
static uint64_t g_budget;         // (pool lock) 0 = unlimited
static bool g_budget_read;        // (pool lock) environment consulted
static _Atomic uint64_t g_copies;
static _Atomic uint64_t g_zero_fills;

static void read_env_budget_locked(void) {
  if (g_budget_read) return;
  g_budget_read = true;
  const char* e = getenv("ZXVMO_PAGE_BUDGET");
  if (e && *e) {
    char* end = NULL;
    unsigned long long v = strtoull(e, &end, 0);
    if (end && *end == '\0') g_budget = v;
  }
}

// A chunk and its descriptors. Chunks are never freed once added to the pool; only a
// reservation's private growth (never seen by anyone else) is given back.
typedef struct pool_chunk {
  os_chunk_t os;            // (c)
  struct pool_chunk* next;  // (pool lock) g_chunks, or the growing reservation's list
  page_t pages[];           // PAGES_PER_CHUNK descriptors
} pool_chunk_t;

static pool_chunk_t* g_chunks;    // (pool lock) every chunk of the pool

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

// Gives back every chunk of a private growth list, newest first (so each one ends the
// pool file and truncating it suffices).
static void chunks_give_back(pool_chunk_t* list) {
  while (list) {
    pool_chunk_t* next = list->next;
    os_chunk_unmap(&list->os);
    os_free(list);
    list = next;
  }
}

// Returns a free page to the list matching its state.
static void push_free_locked(page_t* p) {
  if (!p->zeroed) {
    p->u.next = g_dirty;
    g_dirty = p;
    g_dirty_count++;
  } else if (p->backed) {
    p->u.next = g_fresh;
    g_fresh = p;
    g_fresh_count++;
  } else {
    p->u.next = g_clean;
    g_clean = p;
    g_clean_count++;
  }
}

// Pops a free page, NULL if none: warm ones first, then memory already held.
static page_t* pop_free_locked(void) {
  page_t* p;
  if (g_dirty) {
    p = g_dirty;
    g_dirty = p->u.next;
    g_dirty_count--;
  } else if (g_fresh) {
    p = g_fresh;
    g_fresh = p->u.next;
    g_fresh_count--;
  } else if (g_clean) {
    p = g_clean;
    g_clean = p->u.next;
    g_clean_count--;
  } else {
    return NULL;
  }
  return p;
}

// Pushes every page of a list back to the free lists.
static void push_list_locked(page_t* p) {
  while (p) {
    page_t* next = p->u.next;
    push_free_locked(p);
    p = next;
  }
}

zx_status_t pool_reserve(uint64_t n, page_reservation_t* r) {
  r->list = NULL;
  r->count = 0;
  if (n == 0) return ZX_OK;
  pthread_mutex_lock(&g_pool_lock);
  read_env_budget_locked();
  if (g_budget != 0 && (g_in_use > g_budget || n > g_budget - g_in_use)) goto fail;
  page_t* list = NULL;
  uint64_t got = 0;
  for (page_t* p; got < n && (p = pop_free_locked()) != NULL; got++) {
    p->u.next = list;
    list = p;
  }
  // Grow by what is missing, privately: all chunks or none join the pool.
  pool_chunk_t* grown = NULL;
  uint64_t fresh = 0;
  while (got + fresh < n) {
    pool_chunk_t* ch = chunk_new();
    if (!ch) {
      chunks_give_back(grown);
      push_list_locked(list);
      goto fail;
    }
    ch->next = grown;
    grown = ch;
    fresh += PAGES_PER_CHUNK;
  }
  while (grown) {
    pool_chunk_t* ch = grown;
    grown = ch->next;
    ch->next = g_chunks;
    g_chunks = ch;
    atomic_fetch_add_explicit(&g_backed, PAGES_PER_CHUNK, memory_order_relaxed);
    for (size_t i = PAGES_PER_CHUNK; i-- > 0;) {
      page_t* p = &ch->pages[i];
      if (got < n) {
        p->u.next = list;
        list = p;
        got++;
      } else {
        push_free_locked(p);
      }
    }
  }
  r->list = list;
  r->count = n;
  g_in_use += n;
  if (g_in_use > g_peak) g_peak = g_in_use;
  pthread_mutex_unlock(&g_pool_lock);
  return ZX_OK;
fail:
  pthread_mutex_unlock(&g_pool_lock);
  return ZX_ERR_NO_MEMORY;
}

static int cmp_page_addr(const void* a, const void* b) {
  const page_t* x = *(page_t* const*)a;
  const page_t* y = *(page_t* const*)b;
  return (x->data > y->data) - (x->data < y->data);
}

// Gives the memory of dirty free pages back to the OS until LOW remain, and moves
// them to the clean list. Pages are sorted by address so contiguous runs cost one call.
static void trim_locked(void) {
  uint64_t n = g_dirty_count - POOL_RETAIN_LOW;
  page_t** v = os_malloc(n * sizeof(*v));
  if (!v) return;  // keep the memory; the next free tries again
  // The list is LIFO: the pages beyond the first LOW are the least recently freed.
  page_t* p = g_dirty;
  for (uint64_t i = 1; i < POOL_RETAIN_LOW; i++) p = p->u.next;
  page_t* keep_last = p;
  p = p->u.next;
  for (uint64_t i = 0; i < n; i++) {
    v[i] = p;
    p = p->u.next;
  }
  ZX_ASSERT(p == NULL);
  keep_last->u.next = NULL;
  g_dirty_count = POOL_RETAIN_LOW;
  qsort(v, n, sizeof(*v), cmp_page_addr);
  uint64_t i = 0;
  while (i < n) {
    uint64_t j = i + 1;
    while (j < n && v[j]->data == v[j - 1]->data + PAGE_SIZE &&
           (uintptr_t)v[j]->data % OS_CHUNK_SIZE != 0) {
      j++;
    }
    // Only memory the OS really took back reads as zero; the rest stays dirty.
    bool released = os_release(v[i]->data, (size_t)(j - i) * PAGE_SIZE);
    for (uint64_t m = i; m < j; m++) {
      v[m]->zeroed = released;
      v[m]->backed = !released;
    }
    if (released) atomic_fetch_sub_explicit(&g_backed, j - i, memory_order_relaxed);
    i = j;
  }
  for (i = 0; i < n; i++) push_free_locked(v[i]);
  os_free(v);
}

void pool_unreserve(page_reservation_t* r) {
  if (r->count == 0) return;
  pthread_mutex_lock(&g_pool_lock);
  page_t* p = r->list;
  while (p) {
    page_t* next = p->u.next;
    push_free_locked(p);
    p = next;
  }
  g_in_use -= r->count;
  pthread_mutex_unlock(&g_pool_lock);
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
  if (!p->backed) {
    p->backed = 1;
    atomic_fetch_add_explicit(&g_backed, 1, memory_order_relaxed);
  }
  return p;
}

page_t* pool_take_zero(page_reservation_t* r) {
  page_t* p = take(r);
  if (!p->zeroed) memset(p->data, 0, PAGE_SIZE);
  p->zeroed = 0;
  atomic_fetch_add_explicit(&g_zero_fills, 1, memory_order_relaxed);
  return p;
}

page_t* pool_take_copy(page_reservation_t* r, const page_t* src) {
  page_t* p = take(r);
  memcpy(p->data, src->data, PAGE_SIZE);
  p->zeroed = 0;
  return p;
}

page_t* pool_take_raw(page_reservation_t* r) {
  page_t* p = take(r);
  p->zeroed = 0;
  return p;
}

void pool_count_copy(void) { atomic_fetch_add_explicit(&g_copies, 1, memory_order_relaxed); }

void page_unref(page_t* p) {
  if (page_is_marker(p)) return;
  ZX_ASSERT(p->refs > 0);
  if (--p->refs > 0) return;
  pthread_mutex_lock(&g_pool_lock);
  p->zeroed = 0;
  push_free_locked(p);
  g_in_use--;
  if (g_dirty_count > POOL_RETAIN_HIGH) trim_locked();
  pthread_mutex_unlock(&g_pool_lock);
}

void pool_set_budget(uint64_t pages) {
  pthread_mutex_lock(&g_pool_lock);
  g_budget_read = true;
  g_budget = pages;
  pthread_mutex_unlock(&g_pool_lock);
}

uint64_t pool_get_budget(void) {
  pthread_mutex_lock(&g_pool_lock);
  read_env_budget_locked();
  uint64_t b = g_budget;
  pthread_mutex_unlock(&g_pool_lock);
  return b;
}

uint64_t pool_pages_in_use(void) {
  pthread_mutex_lock(&g_pool_lock);
  uint64_t n = g_in_use;
  pthread_mutex_unlock(&g_pool_lock);
  return n;
}

void pool_fill_stats(zxvmo_stats_t* s) {
  pthread_mutex_lock(&g_pool_lock);
  read_env_budget_locked();
  s->pages_in_use = g_in_use;
  s->pages_pooled = g_dirty_count;
  s->page_budget = g_budget;
  s->pages_peak = g_peak;
  pthread_mutex_unlock(&g_pool_lock);
  s->pool_bytes_held = atomic_load_explicit(&g_backed, memory_order_relaxed) * PAGE_SIZE;
  s->pool_bytes_mapped = os_chunk_bytes_mapped();
  s->cow_page_copies = atomic_load_explicit(&g_copies, memory_order_relaxed);
  s->zero_fills = atomic_load_explicit(&g_zero_fills, memory_order_relaxed);
}
