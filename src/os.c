// OS memory primitives; see os.h for the contract.
#include "os.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <unistd.h>

static pthread_mutex_t g_os_lock = PTHREAD_MUTEX_INITIALIZER;
static int g_memfd = -1;           // (g_os_lock) the pool file, created on first use
static uint64_t g_file_size;       // (g_os_lock) bytes of the file mapped so far
static _Atomic unsigned g_fail_chunks;

size_t os_page_size(void) {
  long ps = sysconf(_SC_PAGESIZE);
  if (ps <= 0 || PAGE_SIZE % (uint64_t)ps != 0) {
    // A build configured for a smaller page than the host's cannot map its pages.
    fprintf(stderr, "zxvmo: built for %llu-byte pages, but the host's page is %ld bytes\n",
            (unsigned long long)PAGE_SIZE, ps);
    abort();
  }
  return (size_t)ps;
}

void os_fail_next_chunks(unsigned n) { atomic_store(&g_fail_chunks, n); }

bool os_chunk_map(os_chunk_t* out) {
  unsigned f = atomic_load(&g_fail_chunks);
  while (f > 0) {
    if (atomic_compare_exchange_weak(&g_fail_chunks, &f, f - 1)) return false;
  }
  bool ok = false;
  pthread_mutex_lock(&g_os_lock);
  if (g_memfd < 0) {
    (void)os_page_size();
    g_memfd = memfd_create("zxvmo-pool", MFD_CLOEXEC);
    if (g_memfd < 0) goto out;
  }
  uint64_t off = g_file_size;
  if (ftruncate(g_memfd, (off_t)(off + OS_CHUNK_SIZE)) != 0) goto out;
  // Allocate the chunk's memory now: a shortage then shows up here, as a clean
  // failure, instead of as SIGBUS at a page's first touch; and a first write to a pool
  // page then only maps memory the file already has (about 20% cheaper per page).
  if (fallocate(g_memfd, 0, (off_t)off, (off_t)OS_CHUNK_SIZE) != 0 && errno != EOPNOTSUPP) {
    (void)ftruncate(g_memfd, (off_t)off);
    goto out;
  }
  void* p = mmap(NULL, OS_CHUNK_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, g_memfd, (off_t)off);
  if (p == MAP_FAILED) {
    // Leave the file as it was so that offsets stay dense.
    (void)ftruncate(g_memfd, (off_t)off);
    goto out;
  }
  g_file_size = off + OS_CHUNK_SIZE;
  out->base = p;
  out->offset = off;
  ok = true;
out:
  pthread_mutex_unlock(&g_os_lock);
  return ok;
}

// Fault injection. g_fail_armed keeps the common path to one relaxed load.
static _Atomic bool g_fail_armed;
static _Atomic uint64_t g_alloc_seq;    // allocations attempted since arming
static _Atomic uint64_t g_fail_nth;
static _Atomic bool g_fail_persistent;

void os_fail_alloc(uint64_t nth, bool persistent) {
  atomic_store(&g_alloc_seq, 0);
  atomic_store(&g_fail_nth, nth);
  atomic_store(&g_fail_persistent, persistent);
  atomic_store(&g_fail_armed, nth != 0);
}

uint64_t os_alloc_count(void) { return atomic_load(&g_alloc_seq); }

static bool alloc_should_fail(void) {
  if (ZX_LIKELY(!atomic_load_explicit(&g_fail_armed, memory_order_relaxed))) return false;
  uint64_t k = atomic_fetch_add(&g_alloc_seq, 1) + 1;
  uint64_t nth = atomic_load(&g_fail_nth);
  return nth != 0 && (k == nth || (k > nth && atomic_load(&g_fail_persistent)));
}

void* os_malloc(size_t n) { return alloc_should_fail() ? NULL : malloc(n); }
void* os_calloc(size_t n, size_t size) { return alloc_should_fail() ? NULL : calloc(n, size); }
void* os_realloc(void* p, size_t n) { return alloc_should_fail() ? NULL : realloc(p, n); }
void os_free(void* p) { free(p); }

bool os_release(uint8_t* addr, size_t len) {
  // MADV_REMOVE frees the shared memory behind the range (a hole in the memfd).
  return madvise(addr, len, MADV_REMOVE) == 0;
}
