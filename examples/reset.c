// SPDX-License-Identifier: BSD-3-Clause
// Resetting a heap to a saved state (snapshot fuzzing, undo).
//
// The heap is a VMO mapped into the address space. To save its state, take a snapshot:
// O(1) for the memory itself, and later writes to the heap copy only the pages they
// touch. To reset, map a fresh snapshot of the saved state over the heap, at the same
// address (ZX_VM_SPECIFIC_OVERWRITE), and close the old heap VMO: the pages written
// since the save are dropped, whatever their number, and pointers into the heap stay
// valid. The saved snapshot itself is never written, so it can be reset to again.
//
// Build: with the project (cmake --build build/...), then run ./reset.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zircon/process.h>
#include <zircon/status.h>
#include <zircon/syscalls.h>
#include <zircon/syscalls/object.h>

#define HEAP_SIZE ((uint64_t)64 << 20)  // 64 MiB

static void must(zx_status_t st, const char* what) {
  if (st != ZX_OK) {
    fprintf(stderr, "reset: %s failed: %s\n", what, zx_status_get_string(st));
    exit(1);
  }
}

int main(void) {
  zx_handle_t root = zx_vmar_root_self();
  zx_info_vmar_t root_info;  // the root VMAR's base: ZX_VM_SPECIFIC offsets are from it
  must(zx_object_get_info(root, ZX_INFO_VMAR, &root_info, sizeof(root_info), NULL, NULL),
       "zx_object_get_info");

  // A heap: a VMO mapped read-write. Fill it with an initial state.
  zx_handle_t heap_vmo;
  zx_vaddr_t addr;
  must(zx_vmo_create(HEAP_SIZE, 0, &heap_vmo), "zx_vmo_create");
  must(zx_vmar_map(root, ZX_VM_PERM_READ | ZX_VM_PERM_WRITE, 0, heap_vmo, 0, HEAP_SIZE, &addr),
       "zx_vmar_map");
  char* heap = (char*)addr;
  strcpy(heap, "initial state");
  strcpy(heap + HEAP_SIZE / 2, "the middle of the heap");

  // Save: a snapshot of the heap VMO.
  zx_handle_t saved;
  must(zx_vmo_create_child(heap_vmo, ZX_VMO_CHILD_SNAPSHOT, 0, HEAP_SIZE, &saved), "save");

  for (int run = 1; run <= 3; run++) {
    // Work on the heap: here, scribble on a few pages.
    snprintf(heap, 64, "run %d was here", run);
    memset(heap + HEAP_SIZE / 2, 'x', 4096 * 3);
    printf("run %d: heap says \"%.20s\"\n", run, heap);

    // Reset: a fresh snapshot of the saved state, mapped over the heap in place.
    zx_handle_t fresh;
    must(zx_vmo_create_child(saved, ZX_VMO_CHILD_SNAPSHOT, 0, HEAP_SIZE, &fresh), "snapshot");
    must(zx_vmar_map(root, ZX_VM_PERM_READ | ZX_VM_PERM_WRITE | ZX_VM_SPECIFIC_OVERWRITE,
                     (zx_vaddr_t)heap - root_info.base, fresh, 0, HEAP_SIZE, &addr),
         "zx_vmar_map(SPECIFIC_OVERWRITE)");
    must(zx_handle_close(heap_vmo), "zx_handle_close");
    heap_vmo = fresh;

    int ok = (char*)addr == heap && strcmp(heap, "initial state") == 0 &&
             strcmp(heap + HEAP_SIZE / 2, "the middle of the heap") == 0;
    printf("run %d: after the reset the heap says \"%s\" (%s)\n", run, heap,
           ok ? "ok" : "WRONG");
    if (!ok) return 1;
  }

  must(zx_vmar_unmap(root, (zx_vaddr_t)heap, HEAP_SIZE), "zx_vmar_unmap");
  zx_handle_close(heap_vmo);
  zx_handle_close(saved);
  return 0;
}
