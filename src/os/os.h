// SPDX-License-Identifier: BSD-3-Clause
// The one seam between zxvmo and the operating system for memory.
//
// Contract: every mmap/munmap/memfd/madvise/fallocate call and every metadata
// allocation (malloc and friends) of the library lives in os.c. Page memory is carved from one memfd ("zxvmo-pool") in chunks that are mapped
// MAP_SHARED, so that any pool page can later be mapped a second time into an address
// space (at its memfd offset) without copying. Fresh chunk memory reads as zero.
// os_chunk_map() returns false on failure (or when a test asked it to fail); it never
// aborts. A chunk can be given back (os_chunk_unmap): its address space and memory
// return to the OS and its file range is reused by a later chunk, so a pool that grew
// and gave back holds nothing for it. Nothing here takes a library lock; the os lock
// inside is a leaf.
#ifndef ZXVMO_SRC_OS_H_
#define ZXVMO_SRC_OS_H_

#include "internal.h"

// Bytes per chunk: a multiple of the page size.
#define OS_CHUNK_SIZE ((size_t)2 << 20)

typedef struct os_chunk {
  uint8_t* base;     // mapping of `size` bytes
  uint64_t offset;   // offset of the mapping in the pool's memfd
} os_chunk_t;

// Grows the pool file by one chunk (or fills a hole left by os_chunk_unmap), allocates
// its memory and maps it. Returns false on failure (nothing changed).
bool os_chunk_map(os_chunk_t* out);
// Gives a chunk from os_chunk_map() back: unmaps it and frees its memory (truncating
// the file when the chunk is at its end, else punching a hole that a later
// os_chunk_map() fills). The chunk's pages must no longer be used.
void os_chunk_unmap(const os_chunk_t* c);
// Bytes of address space currently mapped for chunks.
uint64_t os_chunk_bytes_mapped(void);
// Gives the memory of [addr, addr+len) inside a chunk back to the OS; it reads as
// zero afterwards and costs nothing until written again. Returns false (and changes
// nothing) if the OS refused.
bool os_release(uint8_t* addr, size_t len);
// Out-of-memory tests: after the next `skip` os_chunk_map() calls (which work), the
// following `n` fail; os_fail_chunks(0, 0) disarms. os_fail_next_chunks(n) is
// os_fail_chunks(0, n).
void os_fail_chunks(unsigned skip, unsigned n);
void os_fail_next_chunks(unsigned n);
// The same for the calls behind mappings that can run out of memory: os_home_view,
// os_home_map, os_uffd_register and os_uffd_wp when protecting.
void os_fail_map_calls(unsigned skip, unsigned n);
// The next n page fills (os_uffd_copy, os_uffd_zeropage) answer -EAGAIN without
// filling, as the kernel does when the page tables change under the call.
void os_busy_fills(unsigned n);
// The next n os_populate() calls enter nothing, as when the kernel refuses.
void os_fail_populates(unsigned n);

// Metadata allocation: every malloc/calloc/realloc/free of the library goes through
// these, so that a test can make any one of them fail. Same contracts as libc's
// (os_realloc leaves the block alone on failure); they never abort.
void* os_malloc(size_t n);
void* os_calloc(size_t n, size_t size);
void* os_realloc(void* p, size_t n);
void os_free(void* p);
// Fault injection for tests: the `nth` metadata allocation from now (1 = the next)
// fails, and with `persistent` every later one too; nth == 0 disarms. Returns nothing;
// os_alloc_count() tells how many allocations were attempted since the last arming.
void os_fail_alloc(uint64_t nth, bool persistent);
uint64_t os_alloc_count(void);
// Address space for the root VMAR. os_reserve() reserves `len` bytes of inaccessible
// address space anywhere (false if the OS refused). os_placeholder() turns
// [addr, addr+len), inside a reservation, back into an inaccessible placeholder,
// dropping whatever was mapped there; false only if the OS ran out of memory for its
// own bookkeeping (then the range is unchanged).
bool os_reserve(uint64_t len, uintptr_t* out);
void os_unreserve(uintptr_t addr, uint64_t len);
bool os_placeholder(uintptr_t addr, uint64_t len);
// Homes (src/vm/home.h): one sparse memfd, OS_HOME_FILE_SIZE bytes, in which every
// mapped VMO's pages live at offsets of its own. os_home_view() maps [off, off+len)
// of it read-write for the library (NULL if the OS refused); os_home_map() maps it at
// `addr` over a placeholder with protection `prot` (PROT_*) for a user mapping.
// os_home_punch() frees the memory of a range: it reads as zero again, and every
// mapping of it loses its page-table entries.
#define OS_HOME_FILE_SIZE ((uint64_t)1 << 62)
// With `at` (inside a reservation of os_reserve), the view goes there: views of
// contiguous file ranges placed contiguously merge into one kernel mapping.
uint8_t* os_home_view(uint64_t off, uint64_t len, uint8_t* at);
void os_home_unview(uint8_t* view, uint64_t len);
void os_home_punch(uint64_t off, uint64_t len);
bool os_home_map(uintptr_t addr, uint64_t len, int prot, uint64_t off);
// Copies [off, off+len) of the homes' file to `dst` (false if the OS refused).
bool os_home_pread(void* dst, uint64_t len, uint64_t off);
// Like os_home_map, but private: writes stay in this process (a child of fork()).
bool os_home_map_private(uintptr_t addr, uint64_t len, int prot, uint64_t off);
bool os_protect(uintptr_t addr, uint64_t len, int prot);
// Enters [addr, addr+len) in the page tables now, as an access (a write if `write`)
// would; best effort: a page the kernel cannot enter by itself is left alone.
void os_populate(uintptr_t addr, uint64_t len, bool write);

// userfaultfd, in SIGBUS mode: a fault on a registered range that needs the library
// raises SIGBUS in the faulting thread. os_uffd_init() opens the process's descriptor
// once (full mode if allowed, else user-mode faults only); registration covers missing
// pages and write protection. os_uffd_copy() fills [dst, dst+len) with a copy of
// `src` (write-protected with `wp`): 0, or -errno (-EEXIST: already filled).
#include <signal.h>
zx_status_t os_uffd_init(void);
bool os_uffd_user_mode_only(void);
bool os_uffd_register(uintptr_t addr, uint64_t len, bool wp);
// Fills [dst, dst+len) with zeros (a private mapping: the shared zero page).
int os_uffd_zeropage(uintptr_t dst, uint64_t len);
// In a child of fork(): drops the parent's descriptor (it acts on the parent's address
// space), so that os_uffd_init() opens the child's own.
void os_uffd_forget(void);
int os_uffd_copy(uintptr_t dst, const void* src, uint64_t len, bool wp);
bool os_uffd_wp(uintptr_t addr, uint64_t len, bool protect);
// Installs `h` (SA_SIGINFO) for `sig`, returning the previous action in `old`.
bool os_signal_install(int sig, void (*h)(int, siginfo_t*, void*), struct sigaction* old);
// Restores the default action of `sig`.
void os_signal_default(int sig);

// fork(): os_fork_lock() takes the os lock (so no pool growth is half-way) until
// os_fork_unlock(). os_in_use_locked(), with it held, tells whether the process holds
// something a child would share with it: the pool's or the homes' memfd, or the
// userfaultfd (which would act on the parent's address space).
void os_fork_lock(void);
void os_fork_unlock(void);
bool os_in_use_locked(void);
// Number of CPUs online (at least 1).
uint64_t os_cpu_count(void);
// Host page size; aborts with a message unless it divides the library's PAGE_SIZE
// (a build configured for the wrong host).
size_t os_page_size(void);

#endif  // ZXVMO_SRC_OS_H_
