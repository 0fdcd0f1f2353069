// SPDX-License-Identifier: BSD-3-Clause
// A guided tour of zxvmo: the main job of `make run`.
//
// Each section does something with VMOs, explains every term the first time it
// appears (in one sentence, marked "--"), and checks each claim it prints in code:
// a line starting "ok" is a claim that was just verified. If a claim turns out false
// the tour says which one and exits with status 1. The behaviour shown is specified
// in docs/behavior.md (section numbers in the comments below); nothing assumes a
// particular page size.
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zircon/process.h>
#include <zircon/rights.h>
#include <zircon/status.h>
#include <zircon/syscalls.h>
#include <zircon/syscalls/object.h>
#include <zxvmo.h>

#include "file_pager.h"

static uint64_t PAGE;  // zx_system_get_page_size(), read once in main
static int g_failed;

// A call that must succeed; the tour cannot go on meaningfully if it does not.
#define MUST(call)                                                                    \
  do {                                                                                \
    zx_status_t st_ = (call);                                                         \
    if (st_ != ZX_OK) {                                                               \
      printf("\nFAILED: %s returned %s (%s:%d)\n", #call, zx_status_get_string(st_),  \
             __FILE__, __LINE__);                                                     \
      exit(1);                                                                        \
    }                                                                                 \
  } while (0)

// Prints a claim that was just checked; a false one is reported and counted.
static void claim(int holds, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
static void claim(int holds, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs(holds ? "   ok  " : "   FALSE CLAIM: ", stdout);
  vprintf(fmt, ap);
  fputc('\n', stdout);
  va_end(ap);
  if (!holds) g_failed++;
}

// Explains a term where it first appears.
static void term(const char* name, const char* sentence) {
  printf("   -- %s: %s\n", name, sentence);
}

static void say(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("   ", stdout);
  vprintf(fmt, ap);
  fputc('\n', stdout);
  va_end(ap);
}

static char peek(zx_handle_t vmo, uint64_t off) {
  char c = '?';
  MUST(zx_vmo_read(vmo, &c, off, 1));
  return c;
}

static void poke(zx_handle_t vmo, uint64_t off, const char* s) {
  MUST(zx_vmo_write(vmo, s, off, strlen(s)));
}

static uint64_t pages_held(void) {
  zxvmo_stats_t s;
  MUST(zxvmo_get_stats(&s));
  return s.pages_in_use;
}

static zx_info_vmo_t info(zx_handle_t vmo) {
  zx_info_vmo_t i;
  MUST(zx_object_get_info(vmo, ZX_INFO_VMO, &i, sizeof(i), NULL, NULL));
  return i;
}

static zx_info_handle_basic_t basic(zx_handle_t h) {
  zx_info_handle_basic_t b;
  MUST(zx_object_get_info(h, ZX_INFO_HANDLE_BASIC, &b, sizeof(b), NULL, NULL));
  return b;
}

static int zero_children(zx_handle_t vmo) {
  zx_signals_t seen = 0;
  zx_status_t st = zx_object_wait_one(vmo, ZX_VMO_ZERO_CHILDREN, 0, &seen);
  if (st != ZX_OK && st != ZX_ERR_TIMED_OUT) MUST(st);
  return (seen & ZX_VMO_ZERO_CHILDREN) != 0;
}

// The names of the rights a VMO handle can have, for printing.
static const char* rights_str(zx_rights_t r) {
  static char buf[256];
  static const struct {
    zx_rights_t bit;
    const char* name;
  } names[] = {
      {ZX_RIGHT_DUPLICATE, "DUPLICATE"}, {ZX_RIGHT_TRANSFER, "TRANSFER"},
      {ZX_RIGHT_READ, "READ"},           {ZX_RIGHT_WRITE, "WRITE"},
      {ZX_RIGHT_EXECUTE, "EXECUTE"},     {ZX_RIGHT_MAP, "MAP"},
      {ZX_RIGHT_GET_PROPERTY, "GET_PROPERTY"}, {ZX_RIGHT_SET_PROPERTY, "SET_PROPERTY"},
      {ZX_RIGHT_SIGNAL, "SIGNAL"},       {ZX_RIGHT_WAIT, "WAIT"},
      {ZX_RIGHT_INSPECT, "INSPECT"},     {ZX_RIGHT_RESIZE, "RESIZE"},
  };
  buf[0] = '\0';
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
    if (r & names[i].bit) {
      if (buf[0]) strcat(buf, "|");
      strcat(buf, names[i].name);
    }
  }
  return buf;
}

// Attribution of one VMO in pages, for printing: "3 committed, 1 private, 2.000 scaled".
static void show_attribution(const char* label, zx_handle_t vmo) {
  zx_info_vmo_t i = info(vmo);
  double frac = (double)i.committed_fractional_scaled_bytes / 9223372036854775808.0;
  say("%-9s committed %.1f pages, private %.1f, scaled %.4f pages (fraction %.3f byte)",
      label, (double)i.committed_bytes / (double)PAGE,
      (double)i.committed_private_bytes / (double)PAGE,
      ((double)i.committed_scaled_bytes + frac) / (double)PAGE, frac);
}

int main(void) {
  PAGE = zx_system_get_page_size();
  printf("zxvmo tour (page size %llu bytes)\n", (unsigned long long)PAGE);

  // ---------------------------------------------------------------------------
  printf("\n1. A VMO is memory committed only where it is used (docs/behavior.md §3, §6)\n");
  term("VMO", "a virtual memory object: an array of bytes, read and written through a handle.");
  term("handle", "a process-local number naming an object, together with the rights it grants.");
  term("pages held", "data pages zxvmo holds for all VMOs (zxvmo_get_stats().pages_in_use).");
  const uint64_t TIB = 1ull << 40;
  zx_handle_t vmo;
  MUST(zx_vmo_create(TIB, ZX_VMO_RESIZABLE, &vmo));
  claim(pages_held() == 0, "a new 1 TiB resizable VMO holds no pages");
  char c = peek(vmo, TIB / 2);
  claim(c == 0 && pages_held() == 0, "reading a page never written gives zeros and holds nothing");
  poke(vmo, 0, "hello");
  poke(vmo, TIB - PAGE, "far away");
  claim(pages_held() == 2 && peek(vmo, 0) == 'h' && peek(vmo, TIB - PAGE) == 'f',
        "writing two pages 1 TiB apart holds exactly 2 pages, and they read back");

  term("koid", "the kernel object id: one number per object, however many handles name it.");
  zx_handle_t dup;
  MUST(zx_handle_duplicate(vmo, ZX_RIGHT_SAME_RIGHTS, &dup));
  zx_info_handle_basic_t b = basic(vmo), bd = basic(dup);
  say("handle %#x and its duplicate %#x both name koid %llu", vmo, dup,
      (unsigned long long)b.koid);
  claim(vmo != dup && b.koid == bd.koid, "two handles, one object");
  MUST(zx_handle_close(dup));

  term("rights", "what a handle allows (READ to read, WRITE to write, RESIZE to change the size...).");
  say("rights of the new VMO's handle: %s", rights_str(b.rights));
  claim((b.rights & ZX_RIGHT_RESIZE) && !(b.rights & ZX_RIGHT_EXECUTE),
        "a resizable VMO's handle has RESIZE and no EXECUTE (§2)");

  MUST(zx_vmo_set_size(vmo, 4 * PAGE));
  uint64_t size = 0;
  MUST(zx_vmo_get_size(vmo, &size));
  claim(size == 4 * PAGE && pages_held() == 1,
        "shrinking to 4 pages frees the far page: 1 page held");
  term("committed bytes", "the bytes of the pages a VMO holds in memory (ZX_INFO_VMO committed_bytes).");
  term("populated bytes", "committed bytes plus compressed ones; zxvmo never compresses, so they are equal.");
  term("COMMIT", "a zx_vmo_op_range operation that gives a range its pages now rather than at first write.");
  MUST(zx_vmo_op_range(vmo, ZX_VMO_OP_COMMIT, PAGE, 2 * PAGE, NULL, 0));
  zx_info_vmo_t iv = info(vmo);
  claim(iv.committed_bytes == 3 * PAGE && peek(vmo, PAGE) == 0,
        "COMMIT of pages 1-2 commits them (3 pages now) and they still read as zero");
  claim(iv.populated_bytes == iv.committed_bytes, "populated bytes equal committed bytes");
  char buf[2];
  zx_status_t st = zx_vmo_read(vmo, buf, 4 * PAGE, 1);
  claim(st == ZX_ERR_OUT_OF_RANGE, "reading past the end fails with %s", zx_status_get_string(st));

  // ---------------------------------------------------------------------------
  printf("\n2. SNAPSHOT: a copy made in O(1) that diverges lazily (§4, §5)\n");
  term("ZX_VMO_ZERO_CHILDREN", "a signal a VMO asserts while it has no children; waiting for it tells when the last child is gone.");
  claim(zero_children(vmo), "a VMO without children asserts ZX_VMO_ZERO_CHILDREN");
  zx_handle_t snap;
  MUST(zx_vmo_create_child(vmo, ZX_VMO_CHILD_SNAPSHOT, 0, 4 * PAGE, &snap));
  claim(!zero_children(vmo), "once it has a child, the signal is no longer asserted");
  term("parent koid", "the koid of the VMO a child was made from (0 for a VMO without a parent).");
  zx_info_vmo_t is = info(snap);
  say("snapshot koid %llu, parent koid %llu", (unsigned long long)is.koid,
      (unsigned long long)is.parent_koid);
  claim(is.parent_koid == b.koid && info(vmo).num_children == 1,
        "the snapshot's parent koid is the VMO's koid, and the VMO's num_children is 1");
  poke(vmo, 0, "HELLO");
  claim(peek(snap, 0) == 'h', "after the parent wrote \"HELLO\", the snapshot still reads 'h'");
  poke(snap, 0, "jello");
  claim(peek(vmo, 0) == 'H' && peek(snap, 0) == 'j',
        "after the snapshot wrote \"jello\", the parent still reads 'H'");

  term("SNAPSHOT_AT_LEAST_ON_WRITE", "a child that may see later parent writes; without a pager zxvmo makes it a plain SNAPSHOT.");
  zx_handle_t alow;
  MUST(zx_vmo_create_child(vmo, ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE, 0, PAGE, &alow));
  poke(vmo, 0, "W");
  claim(peek(alow, 0) == 'H',
        "it behaves as SNAPSHOT here: the parent then wrote 'W' and the child reads '%c'",
        peek(alow, 0));
  MUST(zx_handle_close(alow));

  term("NO_WRITE", "a child option that withholds WRITE; a SNAPSHOT made with it gets the info flag IMMUTABLE, as nothing can ever write it.");
  zx_handle_t ro;
  MUST(zx_vmo_create_child(vmo, ZX_VMO_CHILD_SNAPSHOT | ZX_VMO_CHILD_NO_WRITE, 0, PAGE, &ro));
  st = zx_vmo_write(ro, "x", 0, 1);
  zx_info_vmo_t iro = info(ro);
  claim(st == ZX_ERR_ACCESS_DENIED && !(iro.handle_rights & ZX_RIGHT_WRITE) &&
            (iro.flags & ZX_INFO_VMO_IMMUTABLE),
        "a SNAPSHOT | NO_WRITE child has no WRITE right (write: %s) and is IMMUTABLE",
        zx_status_get_string(st));
  MUST(zx_handle_close(ro));

  // ---------------------------------------------------------------------------
  printf("\n3. SLICE: a window onto the parent's own pages (§4 rule 8, §5)\n");
  zx_handle_t fixed, slice;
  MUST(zx_vmo_create(4 * PAGE, 0, &fixed));
  st = zx_vmo_create_child(vmo, ZX_VMO_CHILD_SLICE, 0, PAGE, &slice);
  claim(st == ZX_ERR_NOT_SUPPORTED, "a resizable VMO cannot be sliced (%s), so slice a fixed one",
        zx_status_get_string(st));
  MUST(zx_vmo_create_child(fixed, ZX_VMO_CHILD_SLICE, 2 * PAGE, PAGE, &slice));
  poke(slice, 0, "via slice");
  poke(fixed, 2 * PAGE + 4, "P");
  claim(peek(fixed, 2 * PAGE) == 'v' && peek(slice, 4) == 'P',
        "writes through either side are seen by the other (slice offset 0 = parent offset %llu)",
        (unsigned long long)(2 * PAGE));
  claim(info(slice).committed_bytes == 0 && info(fixed).committed_bytes == PAGE,
        "the page is the parent's: the slice reports 0 committed bytes (§10)");
  zx_handle_t rdonly, rslice, rsnap;
  MUST(zx_handle_duplicate(fixed, ZX_RIGHT_READ | ZX_RIGHT_DUPLICATE, &rdonly));
  MUST(zx_vmo_create_child(rdonly, ZX_VMO_CHILD_SLICE, 0, PAGE, &rslice));
  MUST(zx_vmo_create_child(rdonly, ZX_VMO_CHILD_SNAPSHOT, 0, PAGE, &rsnap));
  zx_rights_t rs = basic(rslice).rights, rn = basic(rsnap).rights;
  say("from a READ|DUPLICATE handle: slice gets %s", rights_str(rs));
  say("                              snapshot gets %s", rights_str(rn));
  claim(!(rs & ZX_RIGHT_WRITE) && (rn & ZX_RIGHT_WRITE),
        "a slice never gains WRITE; a snapshot always does, since it writes only its copy (§2)");
  MUST(zx_handle_close(rslice));
  MUST(zx_handle_close(rsnap));
  MUST(zx_handle_close(rdonly));

  // ---------------------------------------------------------------------------
  printf("\n4. Legacy zx_vmo_clone: one-way copy on write (§11)\n");
  zx_handle_t clone;
  MUST(zx_vmo_clone(fixed, ZX_VMO_CLONE_COPY_ON_WRITE, 0, 4 * PAGE, &clone));
  term("ZX_INFO_VMO_IS_COW_CLONE", "an info flag set on a copy-on-write child while it has a parent.");
  claim(info(clone).flags & ZX_INFO_VMO_IS_COW_CLONE, "the clone has IS_COW_CLONE set");
  poke(fixed, 2 * PAGE, "V");
  claim(peek(clone, 2 * PAGE) == 'V',
        "unlike a snapshot, it sees the parent's later write ('V') to a page it has not written");
  poke(clone, 2 * PAGE, "c");
  claim(peek(clone, 2 * PAGE) == 'c' && peek(fixed, 2 * PAGE) == 'V',
        "once it writes the page ('c'), the page is its own and the parent keeps 'V'");
  term("DECOMMIT", "a zx_vmo_op_range operation that frees a range's pages (a legacy clone frees only its own).");
  MUST(zx_vmo_op_range(clone, ZX_VMO_OP_DECOMMIT, 2 * PAGE, PAGE, NULL, 0));
  claim(peek(clone, 2 * PAGE) == 'V', "DECOMMIT drops its page and the parent's shows through again");

  // ---------------------------------------------------------------------------
  printf("\n5. Attribution: who pays for shared pages (§10)\n");
  term("private bytes", "committed bytes no other VMO sees (committed_private_bytes, the USS).");
  term("scaled bytes", "each page's size divided by the number of VMOs that see it (committed_scaled_bytes, the PSS), so summing over VMOs counts every page once.");
  zx_handle_t two, twin;
  MUST(zx_vmo_create(2 * PAGE, 0, &two));
  poke(two, 0, "a");
  poke(two, PAGE, "b");
  MUST(zx_vmo_create_child(two, ZX_VMO_CHILD_SNAPSHOT, 0, 2 * PAGE, &twin));
  show_attribution("parent", two);
  show_attribution("snapshot", twin);
  zx_info_vmo_t a = info(two), t = info(twin);
  claim(a.committed_bytes == 2 * PAGE && a.committed_private_bytes == 0 &&
            a.committed_scaled_bytes == PAGE && t.committed_scaled_bytes == PAGE,
        "two shared pages: each side has 2 committed, 0 private and 1 scaled page");
  poke(two, 0, "A");
  show_attribution("parent", two);
  show_attribution("snapshot", twin);
  a = info(two);
  t = info(twin);
  claim(a.committed_private_bytes == PAGE && a.committed_scaled_bytes == PAGE + PAGE / 2 &&
            t.committed_scaled_bytes == PAGE + PAGE / 2,
        "after the parent writes page 0 it owns a copy: 1 private and 1.5 scaled pages each");
  term("fractional part", "what is left when a page does not divide evenly among its sharers, in units of 2^-63 byte (committed_fractional_scaled_bytes).");
  zx_handle_t one, s1, s2;
  MUST(zx_vmo_create(PAGE, 0, &one));
  poke(one, 0, "x");
  MUST(zx_vmo_create_child(one, ZX_VMO_CHILD_SNAPSHOT, 0, PAGE, &s1));
  MUST(zx_vmo_create_child(one, ZX_VMO_CHILD_SNAPSHOT, 0, PAGE, &s2));
  show_attribution("3 sharers", s1);
  zx_info_vmo_t i1 = info(s1);
  uint64_t third = (uint64_t)(((unsigned __int128)(PAGE % 3) << 63) / 3);
  claim(i1.committed_scaled_bytes == PAGE / 3 && i1.committed_fractional_scaled_bytes == third,
        "one page seen by 3 VMOs: %llu whole bytes each, and the fraction holds the %llu/3 byte left",
        (unsigned long long)(PAGE / 3), (unsigned long long)(PAGE % 3));

  // ---------------------------------------------------------------------------
  printf("\n6. Mappings: a VMO as ordinary memory, and a snapshot of it (§12)\n");
  term("VMAR", "a region of the address space; zx_vmar_root_self() is the one zxvmo reserves, and zx_vmar_map places a VMO's pages in it.");
  zx_handle_t heap;
  MUST(zx_vmo_create(4 * PAGE, 0, &heap));
  zx_vaddr_t at;
  MUST(zx_vmar_map(zx_vmar_root_self(), ZX_VM_PERM_READ | ZX_VM_PERM_WRITE, 0, heap, 0,
                   4 * PAGE, &at));
  char* mem = (char*)at;
  say("mapped 4 pages at %p", (void*)mem);
  strcpy(mem, "state 1");
  claim(peek(heap, 0) == 's' && info(heap).committed_bytes == PAGE,
        "a write through the pointer is the VMO's content (zx_vmo_read agrees) and commits one page");
  (void)*(volatile char*)(mem + 2 * PAGE);
  claim(info(heap).committed_bytes == PAGE, "reading a page never written commits nothing");
  zx_handle_t saved;
  MUST(zx_vmo_create_child(heap, ZX_VMO_CHILD_SNAPSHOT, 0, 4 * PAGE, &saved));
  strcpy(mem, "state 2");
  claim(peek(saved, 6) == '1' && mem[6] == '2',
        "after a snapshot, writes through the mapping change the VMO but not the snapshot");
  zx_vaddr_t at2;
  MUST(zx_vmar_map(zx_vmar_root_self(), ZX_VM_PERM_READ, 0, saved, 0, 4 * PAGE, &at2));
  claim(((char*)at2)[6] == '1', "the snapshot can be mapped too, and reads \"state 1\"");
  term("num_mappings", "how many mappings show a VMO; a mapping keeps its VMO alive even with no handle left.");
  claim(info(heap).num_mappings == 1 && info(saved).num_mappings == 1,
        "each VMO reports its one mapping in num_mappings");
  MUST(zx_vmar_unmap(zx_vmar_root_self(), at2, 4 * PAGE));
  MUST(zx_vmar_unmap(zx_vmar_root_self(), at, 4 * PAGE));
  MUST(zx_handle_close(saved));
  MUST(zx_handle_close(heap));

  // ---------------------------------------------------------------------------
  printf("\n7. A pager: a VMO whose pages come from a file (§14, examples/file_pager.h)\n");
  term("pager", "a thread that supplies a VMO's pages when they are first touched: the access waits for it, so the VMO can show a file without reading it all first.");
  term("write-back", "the pager asks which pages were written (dirty), writes them to the file, and marks them clean.");
  const char* dir = getenv("TMPDIR");
  char path[4096];
  snprintf(path, sizeof(path), "%s/zxvmo-tour-XXXXXX", dir && *dir ? dir : "/tmp");
  int fd = mkstemp(path);
  if (fd < 0) {
    printf("\nFAILED: mkstemp(%s)\n", path);
    exit(1);
  }
  // Two and a half pages: a file is rarely a page multiple.
  const uint64_t fsize = 2 * PAGE + PAGE / 2;
  char* text = calloc(1, fsize);
  if (!text) exit(1);
  strcpy(text, "page 0 of the file");
  strcpy(text + 2 * PAGE, "the last half page");
  if (pwrite(fd, text, fsize, 0) != (ssize_t)fsize) {
    printf("\nFAILED: writing %s\n", path);
    exit(1);
  }
  file_pager_t* fp;
  MUST(file_pager_create(fd, fsize, 0, &fp));
  zx_handle_t fv = file_pager_vmo(fp);
  say("a file of %llu bytes behind a pager VMO", (unsigned long long)fsize);
  claim(info(fv).committed_bytes == 0 && (info(fv).flags & ZX_INFO_VMO_PAGER_BACKED),
        "nothing is read yet: the VMO holds no page, and is flagged PAGER_BACKED");
  char line[24] = {0};
  MUST(zx_vmo_read(fv, line, 2 * PAGE, 18));
  claim(strcmp(line, "the last half page") == 0 && file_pager_stats(fp).requests == 1 &&
            info(fv).committed_bytes == PAGE,
        "reading the last page asks the pager once and brings in that page only: \"%s\"", line);
  uint64_t fvsize = 0;
  MUST(zx_vmo_get_size(fv, &fvsize));
  claim(fvsize == 3 * PAGE && peek(fv, fsize) == 0,
        "the VMO's size is rounded up to 3 pages; past the file's end it reads zeros");
  zx_vaddr_t fat;
  MUST(zx_vmar_map(zx_vmar_root_self(), ZX_VM_PERM_READ | ZX_VM_PERM_WRITE, 0, fv, 0,
                   3 * PAGE, &fat));
  char* fmem = (char*)fat;
  claim(strcmp(fmem, "page 0 of the file") == 0,
        "mapped, the first page faults in from the file too: \"%s\"", fmem);
  memcpy(fmem, "PAGE", 4);
  poke(fv, 2 * PAGE, "THE");
  char ondisk[8] = {0};
  claim(pread(fd, ondisk, 4, 0) == 4 && memcmp(ondisk, "page", 4) == 0,
        "writes (through the mapping and zx_vmo_write) stay in memory until flushed: the file still says \"page\"");
  MUST(file_pager_flush(fp));
  char last[8] = {0};
  claim(pread(fd, ondisk, 4, 0) == 4 && memcmp(ondisk, "PAGE", 4) == 0 &&
            pread(fd, last, 3, (off_t)(2 * PAGE)) == 3 && memcmp(last, "THE", 3) == 0 &&
            lseek(fd, 0, SEEK_END) == (off_t)fsize,
        "after a flush the file holds both writes, and its size is still %llu bytes",
        (unsigned long long)fsize);
  MUST(zx_vmar_unmap(zx_vmar_root_self(), fat, 3 * PAGE));
  MUST(file_pager_close(fp));
  close(fd);
  unlink(path);
  free(text);

  // ---------------------------------------------------------------------------
  printf("\n8. Closing: children move up, and no page outlives its last viewer (§9, §10)\n");
  zx_handle_t mid, grand;
  MUST(zx_vmo_create_child(one, ZX_VMO_CHILD_SNAPSHOT, 0, PAGE, &mid));
  MUST(zx_vmo_create_child(mid, ZX_VMO_CHILD_SNAPSHOT, 0, PAGE, &grand));
  MUST(zx_handle_close(mid));
  claim(info(grand).parent_koid == basic(one).koid,
        "closing a VMO re-homes its child to its own parent (parent koid now %llu)",
        (unsigned long long)info(grand).parent_koid);
  MUST(zx_handle_close(s1));
  MUST(zx_handle_close(s2));
  claim(!zero_children(one), "the VMO still has a child (the re-homed one)");
  MUST(zx_handle_close(grand));
  claim(zero_children(one), "closing the last child asserts ZX_VMO_ZERO_CHILDREN again");
  MUST(zx_handle_close(snap));
  claim(zero_children(vmo), "the same holds for the first VMO once its snapshot is closed");
  say("pages held before closing the rest: %llu", (unsigned long long)pages_held());
  zx_handle_t rest[] = {one, two, twin, clone, slice, fixed, vmo};
  for (size_t i = 0; i < sizeof(rest) / sizeof(rest[0]); i++) MUST(zx_handle_close(rest[i]));
  claim(pages_held() == 0, "after closing every handle, 0 pages are held");
  claim(zxvmo_check_invariants() == ZX_OK, "the library's internal invariants hold");

  if (g_failed) {
    printf("\ntour FAILED: %d claim(s) above did not hold\n", g_failed);
    return 1;
  }
  printf("\ntour complete: every claim above was checked and holds\n");
  return 0;
}
