// SPDX-License-Identifier: BSD-3-Clause
// The example file pager (examples/file_pager.h) against real files: what the VMO
// shows is the file, what is written reaches the file after a flush or at close, never
// past the content size, and read errors reach the accessing thread as ZX_ERR_IO.
#include <criterion/criterion.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <zircon/process.h>

#include "../examples/file_pager.h"
#include "helpers.h"
#include "map_helpers.h"  // also: ASan leaves SIGBUS to the death test

// The byte the test files hold at `off`: differs from page to page and within one.
static uint8_t pat(uint64_t off) { return (uint8_t)(off * 7u + off / PG * 3u + 1u); }

typedef struct tfile {
  char path[64];
  int fd;
} tfile_t;

// A temporary file of `size` pattern bytes, open with `flags` (O_RDWR, O_RDONLY...).
static tfile_t tfile(uint64_t size, int flags) {
  tfile_t f;
  snprintf(f.path, sizeof(f.path), "/tmp/zxvmo-fp-XXXXXX");
  int fd = mkstemp(f.path);
  cr_assert(fd >= 0);
  uint8_t* buf = malloc(size ? size : 1);
  cr_assert(buf != NULL);
  for (uint64_t i = 0; i < size; i++) buf[i] = pat(i);
  cr_assert_eq(pwrite(fd, buf, size, 0), (ssize_t)size);
  free(buf);
  close(fd);
  f.fd = open(f.path, flags);
  cr_assert(f.fd >= 0);
  return f;
}

static void tfile_drop(tfile_t* f) {
  close(f->fd);
  unlink(f->path);
}

static uint64_t file_size(const tfile_t* f) {
  struct stat sb;
  cr_assert_eq(stat(f->path, &sb), 0);
  return (uint64_t)sb.st_size;
}

// The file's byte at `off`, read past the pager.
static uint8_t file_byte(const tfile_t* f, uint64_t off) {
  int fd = open(f->path, O_RDONLY);
  cr_assert(fd >= 0);
  uint8_t b = 0;
  cr_assert_eq(pread(fd, &b, 1, (off_t)off), 1);
  close(fd);
  return b;
}

static file_pager_t* fpager(const tfile_t* f, uint64_t size, uint32_t options) {
  file_pager_t* fp = NULL;
  cr_assert_eq(file_pager_create(f->fd, size, options, &fp), ZX_OK);
  return fp;
}

// True if [off, off + len) of the VMO holds the pattern (zeros from `zero_from` on).
static bool vmo_shows_file(zx_handle_t vmo, uint64_t off, uint64_t len, uint64_t zero_from) {
  uint8_t* buf = malloc(len);
  cr_assert(buf != NULL);
  cr_assert_eq(zx_vmo_read(vmo, buf, off, len), ZX_OK);
  bool ok = true;
  for (uint64_t i = 0; i < len && ok; i++) {
    ok = buf[i] == (off + i < zero_from ? pat(off + i) : 0);
  }
  free(buf);
  return ok;
}

// ---- reads --------------------------------------------------------------------------

Test(file_pager, reads_show_the_file) {
  tfile_t f = tfile(5 * PG, O_RDWR);
  file_pager_t* fp = fpager(&f, 5 * PG, 0);
  zx_handle_t v = file_pager_vmo(fp);
  cr_assert(vmo_shows_file(v, PG + 3, 2 * PG, UINT64_MAX));
  cr_assert(vmo_shows_file(v, 0, 5 * PG, UINT64_MAX));
  cr_assert_eq(vmo_info(v).committed_bytes, 5 * PG);
  cr_assert_eq(file_pager_close(fp), ZX_OK);
  tfile_drop(&f);
}

Test(file_pager, reads_through_a_mapping_show_the_file) {
  tfile_t f = tfile(6 * PG, O_RDWR);
  file_pager_t* fp = fpager(&f, 6 * PG, 0);
  uint8_t* p = map_opts(file_pager_vmo(fp), MAP_R, 0, 6 * PG);
  for (uint64_t i = 0; i < 6 * PG; i += 61) cr_assert_eq(mrd(p + i), pat(i), "offset %lu", (unsigned long)i);
  // Each fault asks for its own page.
  cr_assert_eq(file_pager_stats(fp).requests, 6);
  unmap(p, 6 * PG);
  cr_assert_eq(file_pager_close(fp), ZX_OK);
  tfile_drop(&f);
}

Test(file_pager, a_large_read_is_one_request_served_in_chunks) {
  uint64_t size = 3 * FILE_PAGER_CHUNK + 5 * PG;
  tfile_t f = tfile(size, O_RDWR);
  file_pager_t* fp = fpager(&f, size, 0);
  cr_assert(vmo_shows_file(file_pager_vmo(fp), 0, size, UINT64_MAX));
  file_pager_stats_t s = file_pager_stats(fp);
  cr_assert_eq(s.requests, 1);
  cr_assert_eq(s.bytes_read, size);
  cr_assert_eq(file_pager_close(fp), ZX_OK);
  tfile_drop(&f);
}

typedef struct reader {
  zx_handle_t vmo;
  uint64_t off, len;
  bool ok;
} reader_t;

static void* reader_main(void* arg) {
  reader_t* r = arg;
  r->ok = true;
  // Page by page, so that the threads' requests interleave.
  for (uint64_t o = r->off; o < r->off + r->len && r->ok; o += PG) {
    r->ok = vmo_shows_file(r->vmo, o, PG, UINT64_MAX);
  }
  return NULL;
}

Test(file_pager, concurrent_readers_see_the_file) {
  tfile_t f = tfile(64 * PG, O_RDWR);
  file_pager_t* fp = fpager(&f, 64 * PG, 0);
  reader_t r[4];
  pthread_t t[4];
  for (int i = 0; i < 4; i++) {
    // Overlapping quarters: some pages are asked for by two threads.
    r[i] = (reader_t){.vmo = file_pager_vmo(fp), .off = (uint64_t)i * 12 * PG, .len = 28 * PG};
    cr_assert_eq(pthread_create(&t[i], NULL, reader_main, &r[i]), 0);
  }
  for (int i = 0; i < 4; i++) {
    pthread_join(t[i], NULL);
    cr_assert(r[i].ok, "reader %d", i);
  }
  cr_assert_eq(file_pager_close(fp), ZX_OK);
  tfile_drop(&f);
}

// ---- sizes that are not page multiples -----------------------------------------------

Test(file_pager, an_unaligned_file_reads_zeros_past_its_end_and_never_grows) {
  uint64_t size = 2 * PG + 100;
  tfile_t f = tfile(size, O_RDWR);
  file_pager_t* fp = fpager(&f, size, 0);
  zx_handle_t v = file_pager_vmo(fp);
  uint64_t vsize = 0, content = 0;
  cr_assert_eq(zx_vmo_get_size(v, &vsize), ZX_OK);
  cr_assert_eq(vsize, 3 * PG);
  cr_assert_eq(zx_object_get_property(v, ZX_PROP_VMO_CONTENT_SIZE, &content, sizeof(content)),
               ZX_OK);
  cr_assert_eq(content, size);
  cr_assert(vmo_shows_file(v, 0, 3 * PG, size));
  // A write straddling the end of the content: only the part before it reaches the file.
  uint8_t ones[150];
  memset(ones, 0xEE, sizeof(ones));
  cr_assert_eq(zx_vmo_write(v, ones, size - 50, sizeof(ones)), ZX_OK);
  cr_assert_eq(file_pager_flush(fp), ZX_OK);
  cr_assert_eq(file_size(&f), size);
  cr_assert_eq(file_byte(&f, size - 51), pat(size - 51));
  cr_assert_eq(file_byte(&f, size - 50), 0xEE);
  cr_assert_eq(file_byte(&f, size - 1), 0xEE);
  cr_assert_eq(file_pager_close(fp), ZX_OK);
  tfile_drop(&f);
}

Test(file_pager, write_back_extends_the_file_up_to_the_content_size) {
  tfile_t f = tfile(0, O_RDWR);
  uint64_t size = 2 * PG + 10;
  file_pager_t* fp = fpager(&f, size, 0);
  zx_handle_t v = file_pager_vmo(fp);
  cr_assert(vmo_shows_file(v, 0, 3 * PG, 0));  // an empty file: all zeros
  cr_assert_eq(file_pager_stats(fp).bytes_read, 0);
  cr_assert_eq(vmo_info(v).committed_bytes, 0);  // zero pages hold no memory
  uint8_t b = 0x5A;
  cr_assert_eq(zx_vmo_write(v, &b, 2 * PG + 3, 1), ZX_OK);
  cr_assert_eq(file_pager_flush(fp), ZX_OK);
  cr_assert_eq(file_size(&f), size);
  cr_assert_eq(file_byte(&f, 2 * PG + 3), 0x5A);
  cr_assert_eq(file_byte(&f, 2 * PG + 9), 0);
  cr_assert_eq(file_pager_close(fp), ZX_OK);
  tfile_drop(&f);
}

// ---- writes and write-back ------------------------------------------------------------

Test(file_pager, writes_reach_the_file_at_flush) {
  tfile_t f = tfile(8 * PG, O_RDWR);
  file_pager_t* fp = fpager(&f, 8 * PG, 0);
  zx_handle_t v = file_pager_vmo(fp);
  cr_assert_eq(zx_vmo_write(v, "via write", PG + 7, 9), ZX_OK);
  uint8_t* p = map_rw(v, 0, 8 * PG);
  mwr(p + 5 * PG + 1, 0xA5);
  mwr(p + 6 * PG, 0xA6);
  // Nothing is written before a flush.
  cr_assert_eq(file_byte(&f, PG + 7), pat(PG + 7));
  cr_assert_eq(file_byte(&f, 5 * PG + 1), pat(5 * PG + 1));
  cr_assert_eq(file_pager_flush(fp), ZX_OK);
  int fd = open(f.path, O_RDONLY);
  uint8_t* got = malloc(8 * PG);
  cr_assert_eq(pread(fd, got, 8 * PG, 0), (ssize_t)(8 * PG));
  close(fd);
  for (uint64_t i = 0; i < 8 * PG; i++) {
    uint8_t want = pat(i);
    if (i >= PG + 7 && i < PG + 16) want = (uint8_t)"via write"[i - PG - 7];
    if (i == 5 * PG + 1) want = 0xA5;
    if (i == 6 * PG) want = 0xA6;
    cr_assert_eq(got[i], want, "offset %lu", (unsigned long)i);
  }
  free(got);
  // Clean now: a write after the flush is the only one the next flush writes.
  mwr(p, 0x11);
  cr_assert_eq(file_pager_flush(fp), ZX_OK);
  cr_assert_eq(file_byte(&f, 0), 0x11);
  cr_assert_eq(file_size(&f), 8 * PG);
  unmap(p, 8 * PG);
  cr_assert_eq(file_pager_close(fp), ZX_OK);
  tfile_drop(&f);
}

Test(file_pager, close_flushes) {
  tfile_t f = tfile(3 * PG, O_RDWR);
  file_pager_t* fp = fpager(&f, 3 * PG, 0);
  cr_assert_eq(zx_vmo_write(file_pager_vmo(fp), "last words", 2 * PG, 10), ZX_OK);
  cr_assert_eq(file_pager_close(fp), ZX_OK);
  cr_assert_eq(file_byte(&f, 2 * PG), 'l');
  cr_assert_eq(file_byte(&f, 2 * PG + 9), 's');
  cr_assert_eq(file_byte(&f, 2 * PG + 10), pat(2 * PG + 10));
  tfile_drop(&f);
}

Test(file_pager, trap_dirty_writes_reach_the_file) {
  tfile_t f = tfile(4 * PG, O_RDWR);
  file_pager_t* fp = fpager(&f, 4 * PG, ZX_VMO_TRAP_DIRTY);
  zx_handle_t v = file_pager_vmo(fp);
  cr_assert_eq(zx_vmo_write(v, "td", 3 * PG, 2), ZX_OK);
  uint8_t* p = map_rw(v, 0, 4 * PG);
  mwr(p + PG + 2, 0x42);
  cr_assert_eq(file_pager_flush(fp), ZX_OK);
  cr_assert_eq(file_byte(&f, 3 * PG + 1), 'd');
  cr_assert_eq(file_byte(&f, PG + 2), 0x42);
  // Clean again: the next write asks again, and is written at close.
  mwr(p + PG + 3, 0x43);
  unmap(p, 4 * PG);
  cr_assert_eq(file_pager_close(fp), ZX_OK);
  cr_assert_eq(file_byte(&f, PG + 3), 0x43);
  tfile_drop(&f);
}

Test(file_pager, trap_dirty_refuses_writes_to_a_read_only_file) {
  tfile_t f = tfile(2 * PG, O_RDONLY);
  file_pager_t* fp = fpager(&f, 2 * PG, ZX_VMO_TRAP_DIRTY);
  zx_handle_t v = file_pager_vmo(fp);
  uint8_t b = 1;
  cr_assert_eq(zx_vmo_write(v, &b, 5, 1), ZX_ERR_BAD_STATE);
  cr_assert(vmo_shows_file(v, 0, 2 * PG, UINT64_MAX));  // unchanged, and readable
  cr_assert_eq(file_pager_close(fp), ZX_OK);
  tfile_drop(&f);
}

Test(file_pager, a_failed_write_back_is_zx_err_io_and_keeps_the_pages_dirty) {
  tfile_t f = tfile(2 * PG, O_RDONLY);
  file_pager_t* fp = fpager(&f, 2 * PG, 0);
  uint8_t b = 1;
  cr_assert_eq(zx_vmo_write(file_pager_vmo(fp), &b, PG, 1), ZX_OK);
  cr_assert_eq(file_pager_flush(fp), ZX_ERR_IO);
  cr_assert_eq(file_pager_flush(fp), ZX_ERR_IO);  // still dirty: tried again
  cr_assert_eq(file_pager_close(fp), ZX_ERR_IO);
  cr_assert_eq(file_byte(&f, PG), pat(PG));
  tfile_drop(&f);
}

// ---- read errors ---------------------------------------------------------------------

Test(file_pager, a_file_cut_short_behind_the_pagers_back_is_zx_err_io) {
  tfile_t f = tfile(4 * PG, O_RDWR);
  file_pager_t* fp = fpager(&f, 4 * PG, 0);
  zx_handle_t v = file_pager_vmo(fp);
  cr_assert_eq(ftruncate(f.fd, (off_t)(PG + 10)), 0);
  uint8_t buf[16];
  cr_assert_eq(zx_vmo_read(v, buf, 2 * PG, sizeof(buf)), ZX_ERR_IO);
  cr_assert_eq(zx_vmo_read(v, buf, PG, sizeof(buf)), ZX_ERR_IO);  // page 1 is short too
  cr_assert(vmo_shows_file(v, 0, PG, UINT64_MAX));
  // Failing changed nothing: once the file is whole again the pages read.
  uint8_t page[64];
  for (size_t i = 0; i < sizeof(page); i++) page[i] = pat(4 * PG - sizeof(page) + i);
  cr_assert_eq(pwrite(f.fd, page, sizeof(page), (off_t)(4 * PG - sizeof(page))), (ssize_t)sizeof(page));
  cr_assert_eq(zx_vmo_read(v, buf, 3 * PG + PG - 16, 16), ZX_OK);
  cr_assert_eq(buf[15], pat(4 * PG - 1));
  cr_assert_eq(file_pager_close(fp), ZX_OK);
  tfile_drop(&f);
}

Test(file_pager, an_unreadable_fd_is_zx_err_io) {
  tfile_t f = tfile(2 * PG, O_WRONLY);
  file_pager_t* fp = fpager(&f, 2 * PG, 0);
  uint8_t b;
  cr_assert_eq(zx_vmo_read(file_pager_vmo(fp), &b, 0, 1), ZX_ERR_IO);
  cr_assert_eq(zx_vmo_write(file_pager_vmo(fp), &b, PG, 1), ZX_ERR_IO);  // reads it first
  cr_assert_eq(file_pager_close(fp), ZX_OK);
  tfile_drop(&f);
}

Test(file_pager, a_read_error_through_a_mapping_is_sigbus, .signal = SIGBUS) {
  tfile_t f = tfile(2 * PG, O_WRONLY);
  file_pager_t* fp = fpager(&f, 2 * PG, 0);
  uint8_t* p = map_opts(file_pager_vmo(fp), MAP_R, 0, 2 * PG);
  unlink(f.path);
  (void)mrd(p + PG);
}

Test(file_pager, create_checks) {
  tfile_t f = tfile(PG, O_RDWR);
  file_pager_t* fp = NULL;
  cr_assert_eq(file_pager_create(f.fd, PG, ZX_VMO_RESIZABLE, &fp), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(file_pager_create(-1, PG, 0, &fp), ZX_ERR_IO);
  tfile_drop(&f);
}
