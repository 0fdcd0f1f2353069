// SPDX-License-Identifier: BSD-3-Clause
#include <stdio.h>
#include <zircon/syscalls.h>

int main(void) {
  zx_handle_t vmo, snap;
  zx_vmo_create(1ull << 30, 0, &vmo);                 // 1 GiB, nothing committed yet
  zx_vmo_write(vmo, "hello", 0, 5);
  zx_vmo_create_child(vmo, ZX_VMO_CHILD_SNAPSHOT, 0, 1ull << 30, &snap);  // O(1)
  zx_vmo_write(vmo, "HELLO", 0, 5);                   // the parent diverges...
  char buf[6] = {0};
  zx_vmo_read(snap, buf, 0, 5);                       // ...the snapshot still says "hello"
  printf("%s\n", buf);
  zx_handle_close(snap);
  zx_handle_close(vmo);
  return 0;
}
