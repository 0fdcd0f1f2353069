// SPDX-License-Identifier: BSD-3-Clause
// fork() (docs/behavior.md §17).
//
// Page memory is MAP_SHARED memfd memory, so a child of fork() shares it with the
// parent: left alone, the child's writes through a mapping, or any library call in it,
// would change the parent's VMOs. So:
//   - before the fork, the forking thread takes the address-space lock and every
//     family lock, so the child inherits every structure between operations and no
//     lock held half-way (other threads cannot be in the library's middle);
//   - in the child, every mapping is replaced by a private mapping of the same home
//     range at the same address, with the same protection: it reads what the parent's
//     mapping showed, its writes stay in the child, accesses past a VMO's end still
//     raise SIGBUS, and holes are served from the fork's state (mapping_fault_child);
//   - in the child every call on a handle returns ZX_ERR_BAD_HANDLE and calls that
//     create objects return ZX_ERR_BAD_STATE: the child never touches shared memory
//     through the library.
// All of this only if the parent held shared memory at the fork (os_shares_memory):
// a process that had made no VMO yet (a test runner, say) forks children that use the
// library as their own, from their private copy of its state.
#include <pthread.h>

#include "mapping.h"
#include "os.h"
#include "vmar.h"

static bool g_forked;
static bool g_shared_at_fork;  // (the forking thread, between before and after)

bool process_forked(void) { return g_forked; }

static void before_fork(void) {
  aspace_wrlock();
  family_list_lock_all();
  g_shared_at_fork = os_shares_memory();
}

static void after_fork_parent(void) {
  family_list_unlock_all();
  aspace_unlock();
}

static void after_fork_child(void) {
  if (g_shared_at_fork) {
    g_forked = true;
    os_uffd_forget();
    if (fault_init_child() == ZX_OK) aspace_for_each(mapping_fork_child, NULL);
  }
  family_list_unlock_all();
  aspace_unlock();
}

__attribute__((constructor)) static void fork_register(void) {
  pthread_atfork(before_fork, after_fork_parent, after_fork_child);
}
