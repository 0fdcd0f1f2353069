// SPDX-License-Identifier: BSD-3-Clause
// OS memory primitives; see os.h for the contract.
#include "os.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <linux/userfaultfd.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#define MADV_POPULATE_WRITE 23
#endif

static pthread_mutex_t g_os_lock = PTHREAD_MUTEX_INITIALIZER;
static int g_uffd = -1;            // the process's userfaultfd (os_uffd_init)
static _Atomic int g_home_fd = -1;  // the homes' memfd (home_file_init)
static bool g_uffd_user_only;
static int g_memfd = -1;           // (g_os_lock) the pool file, created on first use
static uint64_t g_file_size;       // (g_os_lock) bytes of the file in use or in holes
// Offsets of chunks given back in the middle of the file (holes, holding no memory).
// os_chunk_map() fills them first so that the file stays dense; a hole that cannot be
// recorded (no memory for the array) is simply never reused, which costs file offsets
// but no memory.
static uint64_t* g_holes;          // (g_os_lock)
static size_t g_nholes;            // (g_os_lock)
static size_t g_holes_cap;         // (g_os_lock)
static _Atomic uint64_t g_mapped;  // (written under g_os_lock) bytes of chunks mapped now
// Fault injection for a kind of call: the next `skip` calls work normally, then the
// next `fail` fail. Set by os_fail_chunks() / os_fail_map_calls(), then they only
// count down.
typedef struct countdown {
  _Atomic unsigned skip;
  _Atomic unsigned fail;
} countdown_t;
static countdown_t g_fail_chunk_maps;  // os_chunk_map
static countdown_t g_fail_map_calls;   // the calls behind mappings (os_fail_map_calls)
static countdown_t g_busy_fills;       // os_uffd_copy/zeropage answer EAGAIN (os_busy_fills)
static countdown_t g_fail_populates;   // os_populate does nothing (os_fail_populates)

uint64_t os_cpu_count(void) {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? (uint64_t)n : 1;
}

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

static void countdown_arm(countdown_t* c, unsigned skip, unsigned n) {
  atomic_store(&c->fail, 0);
  atomic_store(&c->skip, skip);
  atomic_store(&c->fail, n);
}

void os_fail_chunks(unsigned skip, unsigned n) { countdown_arm(&g_fail_chunk_maps, skip, n); }
void os_fail_next_chunks(unsigned n) { os_fail_chunks(0, n); }
void os_fail_map_calls(unsigned skip, unsigned n) { countdown_arm(&g_fail_map_calls, skip, n); }
void os_busy_fills(unsigned n) { countdown_arm(&g_busy_fills, 0, n); }
void os_fail_populates(unsigned n) { countdown_arm(&g_fail_populates, 0, n); }

// Whether this call is one a test asked to fail.
static bool should_fail(countdown_t* c) {
  if (ZX_LIKELY(atomic_load_explicit(&c->fail, memory_order_relaxed) == 0)) return false;
  unsigned k = atomic_load(&c->skip);
  while (k > 0) {
    if (atomic_compare_exchange_weak(&c->skip, &k, k - 1)) return false;
  }
  unsigned f = atomic_load(&c->fail);
  while (f > 0) {
    if (atomic_compare_exchange_weak(&c->fail, &f, f - 1)) return true;
  }
  return false;
}

// Frees the memory of file range [off, off + OS_CHUNK_SIZE) without changing the size.
static void punch_locked(uint64_t off) {
  (void)fallocate(g_memfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off,
                  (off_t)OS_CHUNK_SIZE);
}

// Takes back file range [off, off + OS_CHUNK_SIZE), whose memory is already given
// back: truncates the file when the range is at its end (with every recorded hole that
// then ends it), else records the hole for os_chunk_map() to fill.
static void add_hole_locked(uint64_t off) {
  if (off + OS_CHUNK_SIZE == g_file_size) {
    uint64_t size = off;
    for (size_t i = 0; i < g_nholes; i++) {
      if (g_holes[i] + OS_CHUNK_SIZE == size) {
        size -= OS_CHUNK_SIZE;
        i = (size_t)-1;  // rescan: another hole may now end the file
      }
    }
    if (ftruncate(g_memfd, (off_t)size) == 0) {
      g_file_size = size;
      size_t k = 0;
      for (size_t i = 0; i < g_nholes; i++) {
        if (g_holes[i] < size) g_holes[k++] = g_holes[i];
      }
      g_nholes = k;
      return;
    }
  }
  if (g_nholes == g_holes_cap) {
    size_t cap = g_holes_cap ? 2 * g_holes_cap : 16;
    uint64_t* h = os_realloc(g_holes, cap * sizeof(*h));
    if (!h) return;  // the offset is lost; the memory is already given back
    g_holes = h;
    g_holes_cap = cap;
  }
  g_holes[g_nholes++] = off;
}

bool os_chunk_map(os_chunk_t* out) {
  if (should_fail(&g_fail_chunk_maps)) return false;
  bool ok = false;
  pthread_mutex_lock(&g_os_lock);
  if (g_memfd < 0) {
    (void)os_page_size();
    g_memfd = memfd_create("zxvmo-pool", MFD_CLOEXEC);
    if (g_memfd < 0) goto out;
  }
  uint64_t off;
  bool reused = g_nholes > 0;
  if (reused) {
    off = g_holes[--g_nholes];
  } else {
    off = g_file_size;
    if (ftruncate(g_memfd, (off_t)(off + OS_CHUNK_SIZE)) != 0) goto out;
    g_file_size = off + OS_CHUNK_SIZE;
  }
  // Allocate the chunk's memory now: a shortage then shows up here, as a clean
  // failure, instead of as SIGBUS at a page's first touch; and a first write to a pool
  // page then only maps memory the file already has (about 20% cheaper per page).
  void* p = MAP_FAILED;
  if (fallocate(g_memfd, 0, (off_t)off, (off_t)OS_CHUNK_SIZE) == 0 || errno == EOPNOTSUPP) {
    // The pages enter the page tables in one pass, already dirty, so that the first
    // write to a pool page (a copy in a fault handler, say) takes no page fault: one
    // pass of write faults inside the kernel, which measured a quarter cheaper per page
    // than MAP_POPULATE's read faults (that map a shared page clean). Best effort: the
    // memory is the file's already, so a page left out (before Linux 5.14, all of them)
    // only faults in at its first touch.
    p = mmap(NULL, OS_CHUNK_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, g_memfd, (off_t)off);
    if (p != MAP_FAILED) os_populate((uintptr_t)p, OS_CHUNK_SIZE, true);
  }
  if (p == MAP_FAILED) {
    // Give back whatever fallocate took, and the offset: the file is as it was.
    punch_locked(off);
    add_hole_locked(off);
    goto out;
  }
  atomic_store_explicit(&g_mapped, atomic_load_explicit(&g_mapped, memory_order_relaxed) +
                        OS_CHUNK_SIZE, memory_order_relaxed);
  out->base = p;
  out->offset = off;
  ok = true;
out:
  pthread_mutex_unlock(&g_os_lock);
  return ok;
}

void os_chunk_unmap(const os_chunk_t* c) {
  pthread_mutex_lock(&g_os_lock);
  // If munmap fails (it cannot for a whole mapping we made) the mapping stays, unused;
  // the file range is given back anyway, and mapping it again later is harmless.
  if (munmap(c->base, OS_CHUNK_SIZE) == 0) {
    atomic_store_explicit(&g_mapped, atomic_load_explicit(&g_mapped, memory_order_relaxed) -
                          OS_CHUNK_SIZE, memory_order_relaxed);
  }
  punch_locked(c->offset);
  add_hole_locked(c->offset);
  pthread_mutex_unlock(&g_os_lock);
}

uint64_t os_chunk_bytes_mapped(void) {
  return atomic_load_explicit(&g_mapped, memory_order_relaxed);
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

// ---- address space -----------------------------------------------------------------

bool os_reserve(uint64_t len, uintptr_t* out) {
  void* p = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) return false;
  *out = (uintptr_t)p;
  return true;
}

void os_unreserve(uintptr_t addr, uint64_t len) { munmap((void*)addr, len); }

bool os_placeholder(uintptr_t addr, uint64_t len) {
  void* p = mmap((void*)addr, len, PROT_NONE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
  return p != MAP_FAILED;
}

// ---- homes: the file that mapped VMOs' pages live in -------------------------------

static pthread_once_t g_home_once = PTHREAD_ONCE_INIT;

static void home_file_init(void) {
  int fd = memfd_create("zxvmo-homes", MFD_CLOEXEC);
  if (fd < 0) return;
  // A sparse file as large as any home span can reach; it costs nothing until written.
  if (ftruncate(fd, (off_t)OS_HOME_FILE_SIZE) != 0) {
    close(fd);
    return;
  }
  g_home_fd = fd;
}

static int home_fd(void) {
  pthread_once(&g_home_once, home_file_init);
  return g_home_fd;
}

uint8_t* os_home_view(uint64_t off, uint64_t len, uint8_t* at) {
  int fd = home_fd();
  if (fd < 0 || should_fail(&g_fail_map_calls)) return NULL;
  void* p = mmap(at, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE | (at ? MAP_FIXED : 0),
                 fd, (off_t)off);
  return p == MAP_FAILED ? NULL : p;
}

void os_home_unview(uint8_t* view, uint64_t len) { munmap(view, len); }

void os_home_punch(uint64_t off, uint64_t len) {
  // Cannot fail on a memfd for a range inside the file; the pages read as zero after,
  // and every mapping of them loses its page-table entries.
  int r = fallocate(home_fd(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off,
                    (off_t)len);
  ZX_ASSERT(r == 0);
}

bool os_home_pread(void* dst, uint64_t len, uint64_t off) {
  int fd = home_fd();
  uint8_t* d = dst;
  while (len > 0) {
    ssize_t r = pread(fd, d, len, (off_t)off);
    if (r <= 0) {
      if (r < 0 && errno == EINTR) continue;
      return false;
    }
    d += r;
    off += (uint64_t)r;
    len -= (uint64_t)r;
  }
  return true;
}

bool os_home_map(uintptr_t addr, uint64_t len, int prot, uint64_t off) {
  int fd = home_fd();
  if (fd < 0 || should_fail(&g_fail_map_calls)) return false;
  void* p = mmap((void*)addr, len, prot, MAP_SHARED | MAP_FIXED | MAP_NORESERVE, fd, (off_t)off);
  return p != MAP_FAILED;
}

bool os_home_map_private(uintptr_t addr, uint64_t len, int prot, uint64_t off) {
  int fd = home_fd();
  if (fd < 0) return false;
  void* p = mmap((void*)addr, len, prot, MAP_PRIVATE | MAP_FIXED | MAP_NORESERVE, fd, (off_t)off);
  return p != MAP_FAILED;
}

void os_populate(uintptr_t addr, uint64_t len, bool write) {
  if (should_fail(&g_fail_populates)) return;
  (void)madvise((void*)addr, len, write ? MADV_POPULATE_WRITE : MADV_POPULATE_READ);
}

bool os_protect(uintptr_t addr, uint64_t len, int prot) {
  return mprotect((void*)addr, len, prot) == 0;
}

void os_fork_lock(void) { pthread_mutex_lock(&g_os_lock); }
void os_fork_unlock(void) { pthread_mutex_unlock(&g_os_lock); }

bool os_in_use_locked(void) {
  return g_memfd >= 0 || atomic_load(&g_home_fd) >= 0 || g_uffd >= 0;
}

// ---- userfaultfd -------------------------------------------------------------------

#define UFFD_WP_UNPOPULATED_ (1ull << 13)  // not in older uapi headers


void os_uffd_forget(void) {
  if (g_uffd >= 0) close(g_uffd);
  g_uffd = -1;
}

zx_status_t os_uffd_init(void) {
  // Full mode first (root, or vm.unprivileged_userfaultfd=1); an unprivileged process
  // on a stock kernel may only ask for user-mode faults. The library serves faults in
  // the faulting thread (SIGBUS mode), so the two behave alike: see docs/DESIGN.md.
  int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
  bool user_only = false;
  if (fd < 0 && (errno == EPERM || errno == EACCES)) {
    fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
    user_only = true;
  }
  if (fd < 0) return errno == ENOMEM ? ZX_ERR_NO_MEMORY : ZX_ERR_NOT_SUPPORTED;
  struct uffdio_api probe = {.api = UFFD_API, .features = 0};
  if (ioctl(fd, UFFDIO_API, &probe) != 0) {
    close(fd);
    return ZX_ERR_NOT_SUPPORTED;
  }
  close(fd);  // the API handshake happens once per descriptor: open a fresh one
  uint64_t need = UFFD_FEATURE_SIGBUS | UFFD_FEATURE_MISSING_SHMEM | UFFD_FEATURE_WP_HUGETLBFS_SHMEM;
  if ((probe.features & need) != need) return ZX_ERR_NOT_SUPPORTED;
  fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | (user_only ? UFFD_USER_MODE_ONLY : 0));
  if (fd < 0) return ZX_ERR_NO_MEMORY;
  struct uffdio_api api = {.api = UFFD_API,
                           .features = need | (probe.features & UFFD_WP_UNPOPULATED_)};
  if (ioctl(fd, UFFDIO_API, &api) != 0) {
    close(fd);
    return ZX_ERR_NOT_SUPPORTED;
  }
  g_uffd = fd;
  g_uffd_user_only = user_only;
  return ZX_OK;
}

bool os_uffd_user_mode_only(void) { return g_uffd_user_only; }

bool os_uffd_register(uintptr_t addr, uint64_t len, bool wp) {
  if (should_fail(&g_fail_map_calls)) return false;
  struct uffdio_register reg = {
      .range = {.start = addr, .len = len},
      .mode = UFFDIO_REGISTER_MODE_MISSING | (wp ? UFFDIO_REGISTER_MODE_WP : 0),
  };
  return ioctl(g_uffd, UFFDIO_REGISTER, &reg) == 0;
}

int os_uffd_copy(uintptr_t dst, const void* src, uint64_t len, bool wp) {
  if (should_fail(&g_busy_fills)) return -EAGAIN;
  struct uffdio_copy c = {
      .dst = dst, .src = (uintptr_t)src, .len = len, .mode = wp ? UFFDIO_COPY_MODE_WP : 0};
  if (ioctl(g_uffd, UFFDIO_COPY, &c) == 0) return 0;
  return c.copy < 0 ? (int)c.copy : -errno;
}

int os_uffd_zeropage(uintptr_t dst, uint64_t len) {
  if (should_fail(&g_busy_fills)) return -EAGAIN;
  struct uffdio_zeropage z = {.range = {.start = dst, .len = len}, .mode = 0};
  if (ioctl(g_uffd, UFFDIO_ZEROPAGE, &z) == 0) return 0;
  return z.zeropage < 0 ? (int)z.zeropage : -errno;
}

bool os_uffd_wp(uintptr_t addr, uint64_t len, bool protect) {
  // Only protecting can fail for want of memory (page tables); unprotecting cannot.
  if (protect && should_fail(&g_fail_map_calls)) return false;
  struct uffdio_writeprotect w = {
      .range = {.start = addr, .len = len}, .mode = protect ? UFFDIO_WRITEPROTECT_MODE_WP : 0};
  return ioctl(g_uffd, UFFDIO_WRITEPROTECT, &w) == 0;
}

// ---- signals -----------------------------------------------------------------------

bool os_signal_install(int sig, void (*h)(int, siginfo_t*, void*), struct sigaction* old) {
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_sigaction = h;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&sa.sa_mask);
  return sigaction(sig, &sa, old) == 0;
}

void os_signal_default(int sig) { signal(sig, SIG_DFL); }
