// SPDX-License-Identifier: BSD-3-Clause
// A file-backed pager: a VMO whose pages come from a file on disk, read when first
// touched and written back on request. Used by examples/tour.c, tests/test_file_pager.c
// and bench/bench_pager_seq.c; copy it into a program that wants the same.
//
// It is a header of `static inline` functions, not a .c file: every examples/*.c is
// built as a program of its own (CMakeLists.txt), and a header needs no library
// target. Only the public API is used; fallocate needs _GNU_SOURCE, which the build
// defines.
//
// How it works. file_pager_create() makes a pager, a port and a pager VMO, and starts
// one service thread that takes the VMO's page requests from the port:
//   READ [off, off+len)   the bytes are pread() from the file into a buffer, written
//                         into an aux VMO and supplied (zx_pager_supply_pages moves the
//                         aux VMO's pages into the pager VMO: no further copy), in
//                         chunks of FILE_PAGER_CHUNK bytes, each one pread and one
//                         supply, however many pages the request names. A read error,
//                         or a file that ends before the bytes it held when the pager
//                         last knew its size, fails the rest of the request with
//                         ZX_ERR_IO, which the blocked access returns (through a
//                         mapping: SIGBUS).
//   DIRTY (TRAP_DIRTY)    the first write to a clean page asks first: refused with
//                         ZX_ERR_BAD_STATE when the file is open read-only (write-back
//                         could never succeed), with ZX_ERR_NO_SPACE when the disk
//                         blocks for the range cannot be reserved (fallocate), else
//                         accepted (ZX_PAGER_OP_DIRTY).
//   COMPLETE              the VMO was detached: the thread ends.
// Pages past the end of the file read as zeros and cost no memory (the aux VMO holds
// no page there, which supplies a zero page).
//
// Why a buffer and then zx_vmo_write, two copies, rather than pread() straight into a
// mapping of the aux VMO: pread() into a mapped page that is not yet populated fails
// with EFAULT (the library serves faults of the program's own accesses only), and
// populating the mapping first costs a fault per page, more than the copy.
//
// Write-back. file_pager_flush() asks for the dirty ranges and, a chunk at a time,
// marks it ZX_PAGER_OP_WRITEBACK_BEGIN, reads it with zx_vmo_read, pwrite()s it and
// marks it ZX_PAGER_OP_WRITEBACK_END: a write after BEGIN leaves the page dirty for
// the next flush, so no write is lost between the read and END. Bytes past the VMO's
// content size (ZX_PROP_VMO_CONTENT_SIZE, the size given at creation unless changed)
// are never written: the file does not grow beyond it. file_pager_close() flushes,
// detaches the VMO, waits for the thread to see COMPLETE, joins it and frees all.
//
// Threads. flush may run on any thread, concurrently with the VMO's users and the
// service thread (flushes are serialised among themselves). close must be the last
// call, with no other call on this pager running or to come.
#ifndef ZXVMO_EXAMPLES_FILE_PAGER_H_
#define ZXVMO_EXAMPLES_FILE_PAGER_H_

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <zircon/syscalls-next.h>
#include <zircon/syscalls.h>
#include <zircon/syscalls/object.h>
#include <zircon/syscalls/port.h>

// The most bytes one pread (and one supply, and one write-back step) handles: big
// enough that per-call costs vanish, small enough for a buffer per thread. Raised to
// a page if pages are larger.
#define FILE_PAGER_CHUNK ((uint64_t)1 << 20)

// What the service thread did, for tuning and benchmarks: counts and the time spent
// in each step of serving READ requests.
typedef struct file_pager_stats {
  uint64_t requests;     // READ requests served (supplied or failed)
  uint64_t bytes_read;   // bytes pread from the file
  uint64_t ns_pread;     // in pread
  uint64_t ns_copy;      // in zx_vmo_write into the aux VMO
  uint64_t ns_supply;    // in zx_pager_supply_pages
} file_pager_stats_t;

typedef struct file_pager {
  int fd;                       // not owned: the caller closes it after file_pager_close
  bool writable;                // fd was opened for writing
  zx_handle_t pager, port, vmo;
  zx_handle_t aux;              // (service thread) holds no page between requests
  uint64_t vmo_size;            // page multiple
  uint64_t chunk;               // FILE_PAGER_CHUNK, at least a page
  // Bytes the file holds as far as the pager knows: its size at creation, raised by
  // write-back. A read expects the file to hold them; past it, pages read as zero.
  _Atomic uint64_t file_size;
  uint8_t* read_buf;            // (service thread) chunk bytes on their way in
  uint8_t* flush_buf;           // (flush_lock) chunk bytes on their way out
  pthread_mutex_t flush_lock;
  pthread_t thread;
  _Atomic uint64_t st_requests, st_bytes, st_pread, st_copy, st_supply;
} file_pager_t;

static inline uint64_t file_pager_now_ns_(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

// Reads (or with `out`, writes) exactly `len` bytes at `off`, retrying short transfers:
// ZX_ERR_IO on an error, or if a read meets the end of the file first.
static inline zx_status_t file_pager_io_all_(int fd, uint8_t* buf, uint64_t len, uint64_t off,
                                             bool out) {
  while (len > 0) {
    ssize_t n = out ? pwrite(fd, buf, len, (off_t)off) : pread(fd, buf, len, (off_t)off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return ZX_ERR_IO;
    buf += n;
    len -= (uint64_t)n;
    off += (uint64_t)n;
  }
  return ZX_OK;
}

// Supplies [off, off + len) (len <= chunk, page multiples) from the file.
static inline zx_status_t file_pager_supply_chunk_(file_pager_t* fp, uint64_t off,
                                                   uint64_t len) {
  uint64_t size = atomic_load(&fp->file_size);
  uint64_t want = off >= size ? 0 : (size - off < len ? size - off : len);
  zx_status_t st = ZX_OK;
  if (want > 0) {
    uint64_t t0 = file_pager_now_ns_();
    st = file_pager_io_all_(fp->fd, fp->read_buf, want, off, false);
    uint64_t t1 = file_pager_now_ns_();
    atomic_fetch_add_explicit(&fp->st_pread, t1 - t0, memory_order_relaxed);
    if (st != ZX_OK) return st;
    atomic_fetch_add_explicit(&fp->st_bytes, want, memory_order_relaxed);
    // The rest of the last page stays zero: aux holds no page before this write.
    st = zx_vmo_write(fp->aux, fp->read_buf, 0, want);
    atomic_fetch_add_explicit(&fp->st_copy, file_pager_now_ns_() - t1, memory_order_relaxed);
  }
  if (st == ZX_OK) {
    uint64_t t0 = file_pager_now_ns_();
    st = zx_pager_supply_pages(fp->pager, fp->vmo, off, len, fp->aux, 0);
    atomic_fetch_add_explicit(&fp->st_supply, file_pager_now_ns_() - t0,
                              memory_order_relaxed);
  }
  // A failed supply may leave pages in aux: they must not show in a later chunk.
  if (st != ZX_OK) (void)zx_vmo_op_range(fp->aux, ZX_VMO_OP_DECOMMIT, 0, fp->chunk, NULL, 0);
  return st;
}

static inline void file_pager_serve_read_(file_pager_t* fp, uint64_t off, uint64_t len) {
  atomic_fetch_add_explicit(&fp->st_requests, 1, memory_order_relaxed);
  uint64_t end = off + len;
  for (; off < end; off += fp->chunk) {
    uint64_t n = end - off < fp->chunk ? end - off : fp->chunk;
    if (file_pager_supply_chunk_(fp, off, n) != ZX_OK) {
      // Fails with BAD_STATE if the VMO was detached meanwhile: nobody waits then.
      (void)zx_pager_op_range(fp->pager, ZX_PAGER_OP_FAIL, fp->vmo, off, end - off,
                              (uint64_t)(int64_t)ZX_ERR_IO);
      return;
    }
  }
}

static inline void file_pager_serve_dirty_(file_pager_t* fp, uint64_t off, uint64_t len) {
  zx_status_t refuse = ZX_OK;
  if (!fp->writable) {
    refuse = ZX_ERR_BAD_STATE;
  } else {
    // Reserve the blocks write-back will need, without growing the file: ENOSPC now
    // is a failed write the caller sees, rather than a write-back that cannot happen.
    int rc = fallocate(fp->fd, FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len);
    if (rc != 0 && errno == ENOSPC) refuse = ZX_ERR_NO_SPACE;
  }
  if (refuse == ZX_OK &&
      zx_pager_op_range(fp->pager, ZX_PAGER_OP_DIRTY, fp->vmo, off, len, 0) == ZX_OK) {
    return;
  }
  // Refused, or DIRTY failed (the range is no longer what the request saw): the
  // writer must not wait forever.
  (void)zx_pager_op_range(fp->pager, ZX_PAGER_OP_FAIL, fp->vmo, off, len,
                          (uint64_t)(int64_t)(refuse != ZX_OK ? refuse : ZX_ERR_BAD_STATE));
}

static inline void* file_pager_main_(void* arg) {
  file_pager_t* fp = arg;
  for (;;) {
    zx_port_packet_t p;
    if (zx_port_wait(fp->port, ZX_TIME_INFINITE, &p) != ZX_OK) return NULL;
    if (p.type == ZX_PKT_TYPE_USER) return NULL;  // file_pager_close's fallback
    if (p.type != ZX_PKT_TYPE_PAGE_REQUEST) continue;
    const zx_packet_page_request_t* r = &p.page_request;
    switch (r->command) {
      case ZX_PAGER_VMO_READ:
        file_pager_serve_read_(fp, r->offset, r->length);
        break;
      case ZX_PAGER_VMO_DIRTY:
        file_pager_serve_dirty_(fp, r->offset, r->length);
        break;
      case ZX_PAGER_VMO_COMPLETE:
        return NULL;
      default:
        break;
    }
  }
}

static inline void file_pager_free_(file_pager_t* fp) {
  zx_handle_t hs[] = {fp->vmo, fp->aux, fp->port, fp->pager};
  for (size_t i = 0; i < sizeof(hs) / sizeof(hs[0]); i++) {
    if (hs[i] != ZX_HANDLE_INVALID) zx_handle_close(hs[i]);
  }
  pthread_mutex_destroy(&fp->flush_lock);
  free(fp->read_buf);
  free(fp->flush_buf);
  free(fp);
}

// Creates a pager VMO of `size` bytes (its content size; the VMO's size is that
// rounded up to pages) showing the file open as `fd`, and starts its service thread.
// `vmo_options`: 0 or ZX_VMO_TRAP_DIRTY. The file's bytes past its size now read as
// zeros; write-back may extend the file up to `size`, never beyond. `fd` must stay
// open until file_pager_close(); reads need it readable, write-back writable.
// ZX_ERR_INVALID_ARGS (other options), ZX_ERR_IO (fstat failed), ZX_ERR_NO_MEMORY, or
// what creating the objects returned.
static inline zx_status_t file_pager_create(int fd, uint64_t size, uint32_t vmo_options,
                                            file_pager_t** out) {
  if (vmo_options & ~ZX_VMO_TRAP_DIRTY) return ZX_ERR_INVALID_ARGS;
  struct stat sb;
  if (fstat(fd, &sb) != 0) return ZX_ERR_IO;
  file_pager_t* fp = calloc(1, sizeof(*fp));
  if (!fp) return ZX_ERR_NO_MEMORY;
  pthread_mutex_init(&fp->flush_lock, NULL);
  fp->fd = fd;
  int mode = fcntl(fd, F_GETFL);
  fp->writable = mode >= 0 && (mode & O_ACCMODE) != O_RDONLY;
  atomic_init(&fp->file_size, (uint64_t)sb.st_size);
  uint64_t page = zx_system_get_page_size();
  fp->chunk = FILE_PAGER_CHUNK < page ? page : FILE_PAGER_CHUNK;
  fp->read_buf = malloc(fp->chunk);
  fp->flush_buf = malloc(fp->chunk);
  zx_status_t st = fp->read_buf && fp->flush_buf ? ZX_OK : ZX_ERR_NO_MEMORY;
  if (st == ZX_OK) st = zx_pager_create(0, &fp->pager);
  if (st == ZX_OK) st = zx_port_create(0, &fp->port);
  if (st == ZX_OK) st = zx_vmo_create(fp->chunk, 0, &fp->aux);
  if (st == ZX_OK) st = zx_pager_create_vmo(fp->pager, vmo_options, fp->port, 0, size, &fp->vmo);
  if (st == ZX_OK) st = zx_vmo_get_size(fp->vmo, &fp->vmo_size);
  if (st == ZX_OK && pthread_create(&fp->thread, NULL, file_pager_main_, fp) != 0) {
    st = ZX_ERR_NO_RESOURCES;
  }
  if (st != ZX_OK) {
    file_pager_free_(fp);
    return st;
  }
  *out = fp;
  return ZX_OK;
}

// The pager VMO: the file pager keeps the handle (duplicate it to keep the VMO past
// file_pager_close).
static inline zx_handle_t file_pager_vmo(const file_pager_t* fp) { return fp->vmo; }

static inline file_pager_stats_t file_pager_stats(file_pager_t* fp) {
  file_pager_stats_t s = {
      .requests = atomic_load(&fp->st_requests),
      .bytes_read = atomic_load(&fp->st_bytes),
      .ns_pread = atomic_load(&fp->st_pread),
      .ns_copy = atomic_load(&fp->st_copy),
      .ns_supply = atomic_load(&fp->st_supply),
  };
  return s;
}

// Writes back [off, off + len) (page multiples, at most a chunk), dirty at the query:
// bytes at or past `limit` are not written. IS_ZERO ranges hold no page to read.
static inline zx_status_t file_pager_write_back_(file_pager_t* fp, uint64_t off, uint64_t len,
                                                 uint64_t limit, bool zero) {
  uint64_t data = zero ? ZX_VMO_DIRTY_RANGE_IS_ZERO : 0;
  zx_status_t st =
      zx_pager_op_range(fp->pager, ZX_PAGER_OP_WRITEBACK_BEGIN, fp->vmo, off, len, data);
  if (st != ZX_OK) return st;
  uint64_t n = off >= limit ? 0 : (limit - off < len ? limit - off : len);
  if (n > 0) {
    if (zero) {
      memset(fp->flush_buf, 0, n);
    } else if ((st = zx_vmo_read(fp->vmo, fp->flush_buf, off, n)) != ZX_OK) {
      return st;
    }
    // On failure the pages stay awaiting clean, which counts as dirty: the next flush
    // tries again.
    if ((st = file_pager_io_all_(fp->fd, fp->flush_buf, n, off, true)) != ZX_OK) return st;
    uint64_t size = atomic_load(&fp->file_size);
    while (off + n > size && !atomic_compare_exchange_weak(&fp->file_size, &size, off + n)) {
    }
  }
  return zx_pager_op_range(fp->pager, ZX_PAGER_OP_WRITEBACK_END, fp->vmo, off, len, 0);
}

// Writes every dirty page back to the file (not beyond the content size) and leaves it
// clean, unless written again meanwhile. ZX_OK, or ZX_ERR_IO if a write failed (the
// pages not written stay dirty), or what a pager call returned.
static inline zx_status_t file_pager_flush(file_pager_t* fp) {
  pthread_mutex_lock(&fp->flush_lock);
  uint64_t limit = 0;
  zx_status_t st = zx_object_get_property(fp->vmo, ZX_PROP_VMO_CONTENT_SIZE, &limit,
                                          sizeof(limit));
  if (limit > fp->vmo_size) limit = fp->vmo_size;
  uint64_t off = 0;
  while (st == ZX_OK && off < fp->vmo_size) {
    zx_vmo_dirty_range_t r[16];
    size_t actual = 0, avail = 0;
    st = zx_pager_query_dirty_ranges(fp->pager, fp->vmo, off, fp->vmo_size - off, r,
                                     sizeof(r), &actual, &avail);
    if (st != ZX_OK || actual == 0) break;
    for (size_t i = 0; i < actual && st == ZX_OK; i++) {
      uint64_t end = r[i].offset + r[i].length;
      bool zero = (r[i].options & ZX_VMO_DIRTY_RANGE_IS_ZERO) != 0;
      for (uint64_t o = r[i].offset; o < end && st == ZX_OK; o += fp->chunk) {
        uint64_t n = end - o < fp->chunk ? end - o : fp->chunk;
        st = file_pager_write_back_(fp, o, n, limit, zero);
      }
    }
    off = r[actual - 1].offset + r[actual - 1].length;
  }
  pthread_mutex_unlock(&fp->flush_lock);
  return st;
}

// Flushes, detaches the VMO (its clean pages go; later accesses to absent pages fail
// with ZX_ERR_BAD_STATE), waits for the service thread to see COMPLETE and frees
// everything but the fd. Returns the flush's status: the file pager is gone either way.
static inline zx_status_t file_pager_close(file_pager_t* fp) {
  zx_status_t st = file_pager_flush(fp);
  if (zx_pager_detach_vmo(fp->pager, fp->vmo) != ZX_OK) {
    // Cannot fail with the handles this file pager holds; if it did, no COMPLETE
    // would come, so a user packet tells the thread to end instead.
    zx_port_packet_t stop = {.type = ZX_PKT_TYPE_USER};
    (void)zx_port_queue(fp->port, &stop);
  }
  pthread_join(fp->thread, NULL);
  file_pager_free_(fp);
  return st;
}

#endif  // ZXVMO_EXAMPLES_FILE_PAGER_H_
