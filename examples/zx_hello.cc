// SPDX-License-Identifier: BSD-3-Clause
// The C++ layer in a few lines: a VMO created and mapped by fzl::VmoMapper, written
// through the mapping, then read back through a snapshot child with zx::vmo. Prints
// "hello". Build against an installed zxvmo with
//   c++ -std=c++17 zx_hello.cc $(pkg-config --cflags --libs zxvmo)
#include <lib/fzl/vmo-mapper.h>
#include <lib/zx/vmo.h>
#include <stdio.h>
#include <string.h>
#include <zircon/status.h>

int main() {
  fzl::VmoMapper mapper;
  zx::vmo vmo;
  zx_status_t status = mapper.CreateAndMap(zx_system_get_page_size(),
                                           ZX_VM_PERM_READ | ZX_VM_PERM_WRITE, nullptr, &vmo);
  if (status != ZX_OK) {
    fprintf(stderr, "CreateAndMap: %s\n", zx_status_get_string(status));
    return 1;
  }
  memcpy(mapper.start(), "hello", 6);

  zx::vmo snapshot;
  status = vmo.create_child(ZX_VMO_CHILD_SNAPSHOT, 0, zx_system_get_page_size(), &snapshot);
  if (status != ZX_OK) {
    fprintf(stderr, "create_child: %s\n", zx_status_get_string(status));
    return 1;
  }
  char buf[6] = {};
  status = snapshot.read(buf, 0, sizeof(buf));
  if (status != ZX_OK) {
    fprintf(stderr, "read: %s\n", zx_status_get_string(status));
    return 1;
  }
  printf("%s\n", buf);
  return 0;
}
