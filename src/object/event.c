// SPDX-License-Identifier: BSD-3-Clause
// Event objects: nothing but the object header, with ZX_EVENT_SIGNALED settable by
// users. They are the library's general-purpose waitable object.
#include "handle.h"
#include "os.h"
#include "object.h"
#include "user_copy.h"

typedef struct event {
  zx_object_t base;
} event_t;

static void event_destroy(zx_object_t* obj) {
  pthread_mutex_destroy(&obj->lock);
  os_free((event_t*)obj);
}

static const object_ops_t event_ops = {
    .type = ZX_OBJ_TYPE_EVENT,
    .waitable = true,
    .user_settable = ZX_EVENT_SIGNALED,
    .on_zero_handles = NULL,
    .destroy = event_destroy,
};

ZX_API zx_status_t zx_event_create(uint32_t options, zx_handle_t* out) {
  if (process_forked()) return ZX_ERR_BAD_STATE;  // docs/behavior.md §17
  if (options != 0) return ZX_ERR_INVALID_ARGS;
  if (out == NULL) return ZX_ERR_INVALID_ARGS;
  event_t* ev = os_calloc(1, sizeof(*ev));
  if (ev == NULL) return ZX_ERR_NO_MEMORY;
  object_init(&ev->base, &event_ops, ZX_SIGNAL_NONE);
  zx_handle_t h;
  zx_status_t st = handle_create(&ev->base, ZX_DEFAULT_EVENT_RIGHTS, &h);
  // The handle holds its own reference; on failure this frees the event.
  object_unref(&ev->base);
  return st == ZX_OK ? user_put_handle(out, h) : st;
}
