// A guided tour of zxvmo: the main job of `make run`.
//
// It walks through what the library does, printing each step: creating, writing,
// reading, resizing and committing VMOs; then each kind of child (SNAPSHOT, SLICE,
// SNAPSHOT_AT_LEAST_ON_WRITE, the legacy zx_vmo_clone); memory attribution; and what
// happens when VMOs are closed. It exits non-zero if anything behaves unexpectedly.
#include <stdio.h>
#include <string.h>

#include <zircon/status.h>
#include <zircon/syscalls.h>
#include <zxvmo.h>

#define PAGE 4096u

static int g_failures;

#define CHECK(call)                                                              \
  do {                                                                           \
    zx_status_t st_ = (call);                                                    \
    if (st_ != ZX_OK) {                                                          \
      printf("  !! %s failed: %s\n", #call, zx_status_get_string(st_));          \
      g_failures++;                                                              \
    }                                                                            \
  } while (0)

static void expect(int ok, const char* what) {
  printf("  %s %s\n", ok ? "ok:" : "!! WRONG:", what);
  if (!ok) g_failures++;
}

static char peek(zx_handle_t vmo, uint64_t off) {
  char c = '?';
  CHECK(zx_vmo_read(vmo, &c, off, 1));
  return c;
}

static void poke(zx_handle_t vmo, uint64_t off, const char* s) {
  CHECK(zx_vmo_write(vmo, s, off, strlen(s)));
}

static uint64_t pages_held(void) {
  zxvmo_stats_t s;
  zxvmo_get_stats(&s);
  return s.pages_in_use;
}

static void show_info(const char* label, zx_handle_t vmo) {
  zx_info_vmo_t info;
  CHECK(zx_object_get_info(vmo, ZX_INFO_VMO, &info, sizeof(info), NULL, NULL));
  printf("  %-10s koid %lu size %5lu committed %5lu private %5lu scaled %5lu children %lu parent %lu%s\n",
         label, (unsigned long)info.koid, (unsigned long)info.size_bytes,
         (unsigned long)info.committed_bytes, (unsigned long)info.committed_private_bytes,
         (unsigned long)info.committed_scaled_bytes, (unsigned long)info.num_children,
         (unsigned long)info.parent_koid,
         (info.flags & ZX_INFO_VMO_IS_COW_CLONE) ? " cow-clone" : "");
}

static int zero_children(zx_handle_t vmo) {
  zx_signals_t seen = 0;
  zx_object_wait_one(vmo, ZX_VMO_ZERO_CHILDREN, 0, &seen);
  return (seen & ZX_VMO_ZERO_CHILDREN) != 0;
}

int main(void) {
  printf("zxvmo tour (page size %u)\n\n", zx_system_get_page_size());

  printf("1. A VMO is lazily committed memory\n");
  zx_handle_t vmo;
  CHECK(zx_vmo_create(1ull << 40, ZX_VMO_RESIZABLE, &vmo));
  printf("  created a 1 TiB resizable VMO; pages held: %lu\n", (unsigned long)pages_held());
  poke(vmo, 0, "hello");
  poke(vmo, (1ull << 40) - PAGE, "far away");
  printf("  wrote two pages; pages held: %lu; read back \"%c\" and \"%c\"\n",
         (unsigned long)pages_held(), peek(vmo, 0), peek(vmo, (1ull << 40) - PAGE));
  expect(pages_held() == 2, "only written pages cost memory");
  CHECK(zx_vmo_set_size(vmo, 4 * PAGE));
  uint64_t size = 0;
  CHECK(zx_vmo_get_size(vmo, &size));
  printf("  resized to %lu bytes; pages held: %lu\n", (unsigned long)size,
         (unsigned long)pages_held());
  CHECK(zx_vmo_op_range(vmo, ZX_VMO_OP_COMMIT, PAGE, 2 * PAGE, NULL, 0));
  printf("  committed pages 1-2; pages held: %lu\n", (unsigned long)pages_held());
  char buf[6] = {0};
  zx_status_t st = zx_vmo_read(vmo, buf, 4 * PAGE, 1);
  printf("  reading past the end: %s\n", zx_status_get_string(st));
  expect(st == ZX_ERR_OUT_OF_RANGE, "out-of-range reads are refused");

  printf("\n2. SNAPSHOT: an O(1) copy that diverges lazily\n");
  zx_handle_t snap;
  CHECK(zx_vmo_create_child(vmo, ZX_VMO_CHILD_SNAPSHOT, 0, 4 * PAGE, &snap));
  expect(!zero_children(vmo), "the parent's ZX_VMO_ZERO_CHILDREN went inactive");
  poke(vmo, 0, "HELLO");
  poke(snap, 0, "jello");
  printf("  parent reads \"%c\", snapshot reads \"%c\"\n", peek(vmo, 0), peek(snap, 0));
  expect(peek(vmo, 0) == 'H' && peek(snap, 0) == 'j', "writes on each side stay private");
  show_info("parent", vmo);
  show_info("snapshot", snap);

  zx_handle_t alow, ro;
  CHECK(zx_vmo_create_child(vmo, ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE, PAGE, 2 * PAGE, &alow));
  CHECK(zx_vmo_create_child(vmo, ZX_VMO_CHILD_SNAPSHOT | ZX_VMO_CHILD_NO_WRITE, 0, PAGE, &ro));
  st = zx_vmo_write(ro, "x", 0, 1);
  printf("  SNAPSHOT_AT_LEAST_ON_WRITE at offset %u behaves as SNAPSHOT here; a NO_WRITE\n"
         "  snapshot refuses writes: %s\n", PAGE, zx_status_get_string(st));
  expect(st == ZX_ERR_ACCESS_DENIED, "NO_WRITE children have no WRITE right");
  CHECK(zx_handle_close(alow));
  CHECK(zx_handle_close(ro));

  printf("\n3. SLICE: a window onto the parent's pages\n");
  zx_handle_t fixed, slice;
  CHECK(zx_vmo_create(4 * PAGE, 0, &fixed));
  CHECK(zx_vmo_create_child(fixed, ZX_VMO_CHILD_SLICE, 2 * PAGE, PAGE, &slice));
  poke(slice, 0, "via slice");
  printf("  wrote through the slice; the parent reads \"%c\" at offset %u\n",
         peek(fixed, 2 * PAGE), 2 * PAGE);
  expect(peek(fixed, 2 * PAGE) == 'v', "slices share pages with their parent");

  printf("\n4. Legacy zx_vmo_clone: one-way copy on write\n");
  zx_handle_t clone;
  CHECK(zx_vmo_clone(fixed, ZX_VMO_CLONE_COPY_ON_WRITE, 0, 4 * PAGE, &clone));
  poke(fixed, 2 * PAGE, "V");
  printf("  the parent wrote 'V'; the clone sees \"%c\"\n", peek(clone, 2 * PAGE));
  poke(clone, 2 * PAGE, "c");
  CHECK(zx_vmo_op_range(clone, ZX_VMO_OP_DECOMMIT, 2 * PAGE, PAGE, NULL, 0));
  printf("  after the clone wrote and decommitted, it sees the parent again: \"%c\"\n",
         peek(clone, 2 * PAGE));
  expect(peek(clone, 2 * PAGE) == 'V', "decommit on a clone reveals the parent's page");

  printf("\n5. Attribution: shared pages are divided among their sharers\n");
  zx_handle_t a, s1, s2;
  CHECK(zx_vmo_create(PAGE, 0, &a));
  poke(a, 0, "x");
  CHECK(zx_vmo_create_child(a, ZX_VMO_CHILD_SNAPSHOT, 0, PAGE, &s1));
  CHECK(zx_vmo_create_child(a, ZX_VMO_CHILD_SNAPSHOT, 0, PAGE, &s2));
  show_info("original", a);
  show_info("snap 1", s1);
  show_info("snap 2", s2);

  printf("\n6. Closing: pages nobody can see are freed at once\n");
  printf("  pages held before closing: %lu\n", (unsigned long)pages_held());
  zx_handle_t handles[] = {a, s1, s2, clone, slice, fixed, snap, vmo};
  for (size_t i = 0; i < sizeof(handles) / sizeof(handles[0]); i++) {
    CHECK(zx_handle_close(handles[i]));
  }
  printf("  pages held after closing everything: %lu\n", (unsigned long)pages_held());
  expect(pages_held() == 0, "no page outlives the VMOs that can see it");
  CHECK(zxvmo_check_invariants());

  printf("\n%s\n", g_failures ? "tour FAILED" : "tour complete: everything behaved as documented");
  return g_failures ? 1 : 0;
}
