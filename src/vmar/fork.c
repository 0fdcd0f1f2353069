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
// All of this only if the parent had used the library at the fork (a handle, the
// pool's or homes' memfd, or the userfaultfd): a process that had not (a test runner,
// say) forks children that use the library as their own.
//
// Every lock of the library that is not per object is taken before the fork, in the
// lock order (address space, families, then the leaf locks), and released on both
// sides: whichever child it is, it inherits none held. Per-object locks (an event's,
// a VMO's object lock) are not taken: only a child that uses the library can need
// them, and such a child had no object at the fork.
#include <pthread.h>

#include "handle.h"
#include "home.h"
#include "mapping.h"
#include "os.h"
#include "vmar.h"

static bool g_forked;
static bool g_shared_at_fork;  // (the forking thread, between before and after)

bool process_forked(void) { return g_forked; }

static void before_fork(void) {
  aspace_wrlock();
  family_list_lock_all();
  home_fork_lock();
  pool_fork_lock();
  os_fork_lock();
  vmar_fork_lock();
  process_fork_lock();
  handle_fork_lock();
  g_shared_at_fork = os_in_use_locked() || handle_count_alive() > 0;
}

static void unlock_all(void) {
  handle_fork_unlock();
  process_fork_unlock();
  vmar_fork_unlock();
  os_fork_unlock();
  pool_fork_unlock();
  home_fork_unlock();
  family_list_unlock_all();
  aspace_unlock();
}

static void after_fork_parent(void) { unlock_all(); }

static void after_fork_child(void) {
  if (g_shared_at_fork) {
    g_forked = true;
    os_uffd_forget();
    if (fault_init_child() == ZX_OK) aspace_for_each(mapping_fork_child, NULL);
  }
  unlock_all();
}

__attribute__((constructor)) static void fork_register(void) {
  pthread_atfork(before_fork, after_fork_parent, after_fork_child);
}
