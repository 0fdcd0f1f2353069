// The page pool; see page_pool.h for the contract.
//
// Memory layout: chunks of OS_CHUNK_SIZE bytes, each with its OS_CHUNK_SIZE / PAGE_SIZE
// descriptors in a separate array. Free descriptors sit on one of two LIFO lists:
// `dirty` pages still hold memory (recently freed, cache-warm, reused first); `clean`
// pages had their memory given back to the OS (or were never touched) and read as
// zero. When more than POOL_RETAIN_HIGH pages are dirty, the pool gives the memory of
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
page_t g_zero_page = {.data = (uint8_t*)g_zero_data, .refs = 1, .zeroed = 1};

static pthread_mutex_t g_pool_lock = PTHREAD_MUTEX_INITIALIZER;
static page_t* g_dirty;           // (pool lock) free pages holding memory
static uint64_t g_dirty_count;    // (pool lock)
static page_t* g_clean;           // (pool lock) free pages whose memory was given back
static uint64_t g_clean_count;    // (pool lock)
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

static bool grow_locked(void) {
  os_chunk_t c;
  if (!os_chunk_map(&c)) return false;
  page_t* d = os_calloc(PAGES_PER_CHUNK, sizeof(page_t));
  if (!d) return false;  // the chunk stays mapped but unused; rare and bounded
  for (size_t i = PAGES_PER_CHUNK; i-- > 0;) {
    d[i].data = c.base + i * PAGE_SIZE;
    d[i].zeroed = 1;
    d[i].u.next = g_clean;
    g_clean = &d[i];
  }
  g_clean_count += PAGES_PER_CHUNK;
  return true;
}

// Pops a free page, warm ones first.
static page_t* pop_free_locked(void) {
  page_t* p;
  if (g_dirty) {
    p = g_dirty;
    g_dirty = p->u.next;
    g_dirty_count--;
  } else {
    p = g_clean;
    ZX_ASSERT(p != NULL);
    g_clean = p->u.next;
    g_clean_count--;
  }
  return p;
}

zx_status_t pool_reserve(uint64_t n, page_reservation_t* r) {
  r->list = NULL;
  r->count = 0;
  if (n == 0) return ZX_OK;
  pthread_mutex_lock(&g_pool_lock);
  read_env_budget_locked();
  if (g_budget != 0 && (g_in_use > g_budget || n > g_budget - g_in_use)) goto fail;
  while (g_dirty_count + g_clean_count < n) {
    if (!grow_locked()) goto fail;
  }
  for (uint64_t i = 0; i < n; i++) {
    page_t* p = pop_free_locked();
    p->u.next = r->list;
    r->list = p;
  }
  g_in_use += n;
  if (g_in_use > g_peak) g_peak = g_in_use;
  pthread_mutex_unlock(&g_pool_lock);
  r->count = n;
  return ZX_OK;
fail:
  pthread_mutex_unlock(&g_pool_lock);
  return ZX_ERR_NO_MEMORY;
}

// Returns a free page to the list matching its state.
static void push_free_locked(page_t* p) {
  if (p->zeroed) {
    p->u.next = g_clean;
    g_clean = p;
    g_clean_count++;
  } else {
    p->u.next = g_dirty;
    g_dirty = p;
    g_dirty_count++;
  }
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
    for (uint64_t m = i; m < j; m++) v[m]->zeroed = released;
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
  s->cow_page_copies = atomic_load_explicit(&g_copies, memory_order_relaxed);
  s->zero_fills = atomic_load_explicit(&g_zero_fills, memory_order_relaxed);
}
