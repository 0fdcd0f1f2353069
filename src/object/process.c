// SPDX-License-Identifier: BSD-3-Clause
// The process object: the one Linux process zxvmo runs in, as a handle for
// zx_object_get_info (ZX_INFO_PROCESS_MAPS and friends). It is made at the first
// zx_process_self() and kept, with its handle, for the life of the process; a failed
// attempt (no memory) is retried by the next call.
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include <zircon/process.h>

#include "handle.h"
#include "os.h"

typedef struct process {
  zx_object_t base;
} process_t;

static void process_destroy(zx_object_t* obj) {
  pthread_mutex_destroy(&obj->lock);
  os_free((process_t*)obj);
}

static const object_ops_t process_ops = {
    .type = ZX_OBJ_TYPE_PROCESS,
    .waitable = true,
    .user_settable = 0,
    .on_zero_handles = NULL,
    .destroy = process_destroy,
};

static pthread_mutex_t g_self_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic zx_handle_t g_self;

void process_fork_lock(void) { pthread_mutex_lock(&g_self_lock); }
void process_fork_unlock(void) { pthread_mutex_unlock(&g_self_lock); }

ZX_API zx_handle_t zx_process_self(void) {
  zx_handle_t h = atomic_load_explicit(&g_self, memory_order_acquire);
  // In an isolated child of fork() nothing is made: the value (if any) is dead there.
  if (ZX_LIKELY(h != ZX_HANDLE_INVALID) || process_forked()) return h;
  pthread_mutex_lock(&g_self_lock);
  h = atomic_load_explicit(&g_self, memory_order_relaxed);
  if (h == ZX_HANDLE_INVALID) {
    process_t* p = os_calloc(1, sizeof(*p));
    if (p != NULL) {
      object_init(&p->base, &process_ops, ZX_SIGNAL_NONE);
      const char* name = program_invocation_short_name;
      object_set_name(&p->base, name, strlen(name));
      // The library keeps the creation reference: the process object never dies.
      if (handle_create(&p->base, ZX_DEFAULT_PROCESS_RIGHTS, &h) == ZX_OK) {
        atomic_store_explicit(&g_self, h, memory_order_release);
      } else {
        h = ZX_HANDLE_INVALID;
        object_unref(&p->base);
      }
    }
  }
  pthread_mutex_unlock(&g_self_lock);
  return h;
}

ZX_API zx_handle_t zx_job_default(void) { return ZX_HANDLE_INVALID; }
