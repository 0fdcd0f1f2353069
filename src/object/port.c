// SPDX-License-Identifier: BSD-3-Clause
// Ports (docs/behavior.md §13): a FIFO of packets that any number of threads take from,
// each packet going to exactly one of them.
//
// Every packet in a queue is a port_packet_t (port.h) that someone else owns while it
// is queued and gets back through `release`: a user packet (zx_port_queue) is a heap
// block its release frees; an asynchronous wait's packet lives in its observer, which
// its release frees; a producer's packet (a pager's request) lives in the producer.
//
// Observers. zx_object_wait_async() allocates one observer_t: a one-shot waiter_t
// linked on the object's waiter list (object.c) and, while it waits, on the port's
// `armed` list. Whoever takes it off the armed list, under the port lock, decides its
// fate; the other side, finding it disarmed, leaves it alone:
//
//   object side (notify, under the object lock, which has unlinked it):
//     a signal matched   -> its packet is queued; the queue owns the observer
//     its handle closed  -> freed there (the wait ends, no packet: Zircon's behaviour)
//   port side (zx_port_cancel*, last port handle closed):
//     claimed -> unlinked from its object (object_unlink_waiter) -> freed
//
// An armed observer's object is alive: the wait's handle is open, or its close is still
// inside object_cancel_waits() and will notify the observer before dropping its
// reference. So the port side may take a reference under the port lock and use the
// object after letting the lock go. Nothing holds a reference to a port on behalf of
// an observer: when the port's last handle closes, on_zero_handles claims every armed
// observer and discards the queue, so no observer outlives its port's handles and there
// is no reference cycle between objects and ports.
//
// Registration takes the object lock, checks that the wait's handle is still open (a
// lookup's read side: the only shard lock taken under an object lock), then the port
// lock, and either queues the packet at once (a requested signal is asserted, no EDGE)
// or arms and links the observer. Being atomic with respect to signal changes, handle
// closes and the port side, it never misses a change nor leaves an observer behind.
//
// Lock order: object lock -> port lock (leaf). A producer's locks come before the port
// lock too (port.h). `release` callbacks run with no port lock held.
//
// Legend: (c) constant after creation, (p) guarded by the port's lock.
#include "port.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <time.h>

#include "handle.h"
#include "os.h"

_Static_assert(sizeof(zx_port_packet_t) == 48, "Zircon's packet size");
_Static_assert(sizeof(zx_packet_user_t) == 32 && sizeof(zx_packet_signal_t) == 32 &&
                   sizeof(zx_packet_page_request_t) == 32,
               "every packet body is 32 bytes");

typedef struct observer observer_t;

struct port {
  zx_object_t base;
  pthread_mutex_t lock;
  pthread_cond_t cond;    // zx_port_wait sleepers; CLOCK_MONOTONIC, like deadlines
  port_packet_t* head;    // (p) oldest queued packet
  port_packet_t* tail;    // (p)
  observer_t* armed;      // (p) asynchronous waits not yet satisfied or ended
  bool dead;              // (p) the last handle was closed
};

struct observer {
  waiter_t w;             // on obj's waiter list until notified or claimed
  port_packet_t packet;   // key, type, status and trigger (c); the rest set when it fires
  port_t* port;           // (c)
  zx_object_t* obj;       // (c) the object waited on
  uint32_t options;       // (c) ZX_WAIT_ASYNC_*
  observer_t* next;       // (p) armed list; a claimer's private list once claimed
  observer_t* prev;       // (p)
  bool armed;             // (p)
};

static observer_t* observer_of_packet(port_packet_t* p) {
  return (observer_t*)((char*)p - offsetof(observer_t, packet));
}

port_t* port_from_obj(zx_object_t* obj) {
  ZX_ASSERT(obj->ops->type == ZX_OBJ_TYPE_PORT);
  return (port_t*)obj;
}

zx_object_t* port_obj(port_t* port) { return &port->base; }

// ---- The queue --------------------------------------------------------------------

// Appends `p` and wakes one sleeper. A port without handles keeps what it is given
// (port_queue_owned's contract) but delivers nothing: none of its sleepers is woken.
static void queue_locked(port_t* port, port_packet_t* p) {
  ZX_ASSERT(!p->queued);
  p->next = NULL;
  p->prev = port->tail;
  if (port->tail != NULL) {
    port->tail->next = p;
  } else {
    port->head = p;
  }
  port->tail = p;
  p->queued = true;
  if (!port->dead) pthread_cond_signal(&port->cond);
}

static void unqueue_locked(port_t* port, port_packet_t* p) {
  ZX_ASSERT(p->queued);
  if (p->prev != NULL) {
    p->prev->next = p->next;
  } else {
    port->head = p->next;
  }
  if (p->next != NULL) {
    p->next->prev = p->prev;
  } else {
    port->tail = p->prev;
  }
  p->next = p->prev = NULL;
  p->queued = false;
}

// Moves `p` from the queue to the head of `*list`, a private list linked through
// `next`, for release_all() once the port lock is let go.
static void discard_locked(port_t* port, port_packet_t* p, port_packet_t** list) {
  unqueue_locked(port, p);
  p->next = *list;
  *list = p;
}

static void release_all(port_packet_t* list) {
  while (list != NULL) {
    port_packet_t* p = list;
    list = p->next;
    p->next = NULL;
    p->release(p, false);
  }
}

void port_queue_owned(port_t* port, port_packet_t* p) {
  pthread_mutex_lock(&port->lock);
  queue_locked(port, p);
  pthread_mutex_unlock(&port->lock);
}

bool port_cancel_owned(port_t* port, port_packet_t* p) {
  pthread_mutex_lock(&port->lock);
  bool was = p->queued;
  if (was) unqueue_locked(port, p);
  pthread_mutex_unlock(&port->lock);
  return was;
}

// ---- User packets -------------------------------------------------------------------

static void user_packet_release(port_packet_t* p, bool delivered) { os_free(p); }

zx_status_t port_queue_user(port_t* port, const zx_port_packet_t* pkt) {
  port_packet_t* p = os_calloc(1, sizeof(*p));
  if (p == NULL) return ZX_ERR_NO_MEMORY;
  p->pkt = *pkt;
  p->pkt.type = ZX_PKT_TYPE_USER;  // whatever the caller wrote, as Zircon
  p->release = user_packet_release;
  pthread_mutex_lock(&port->lock);
  bool dead = port->dead;
  if (!dead) queue_locked(port, p);
  pthread_mutex_unlock(&port->lock);
  if (dead) {
    // The last handle went while the call was in flight: as if it had gone before.
    os_free(p);
    return ZX_ERR_BAD_HANDLE;
  }
  return ZX_OK;
}

// ---- Waiting for a packet -------------------------------------------------------------

zx_status_t port_wait(port_t* port, zx_time_t deadline, zx_port_packet_t* out) {
  port_packet_t* p = NULL;
  bool expired = false;
  pthread_mutex_lock(&port->lock);
  for (;;) {
    if (!port->dead && port->head != NULL) {
      p = port->head;
      unqueue_locked(port, p);
      *out = p->pkt;
      break;
    }
    if (deadline == ZX_TIME_INFINITE) {
      pthread_cond_wait(&port->cond, &port->lock);
      continue;
    }
    // A deadline already past takes what is queued without sleeping. After a timeout
    // the queue is looked at once more: a wake-up meant for this thread may have raced
    // with the timeout, and its packet must not be left behind.
    if (expired || deadline <= clock_monotonic_ns()) break;
    struct timespec ts = timespec_from_ns(deadline);
    int rc = pthread_cond_timedwait(&port->cond, &port->lock, &ts);
    ZX_ASSERT(rc == 0 || rc == ETIMEDOUT);
    expired = rc == ETIMEDOUT;
  }
  pthread_mutex_unlock(&port->lock);
  if (p == NULL) return ZX_ERR_TIMED_OUT;
  p->release(p, true);
  return ZX_OK;
}

// ---- Asynchronous waits -------------------------------------------------------------

static zx_time_t clock_boot_ns(void) {
  struct timespec ts;
  int rc = clock_gettime(CLOCK_BOOTTIME, &ts);
  ZX_ASSERT(rc == 0);
  return (zx_time_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void arm_locked(port_t* port, observer_t* o) {
  o->prev = NULL;
  o->next = port->armed;
  if (port->armed != NULL) port->armed->prev = o;
  port->armed = o;
  o->armed = true;
}

static void disarm_locked(port_t* port, observer_t* o) {
  ZX_ASSERT(o->armed);
  if (o->prev != NULL) {
    o->prev->next = o->next;
  } else {
    port->armed = o->next;
  }
  if (o->next != NULL) o->next->prev = o->prev;
  o->next = o->prev = NULL;
  o->armed = false;
}

// The wait is satisfied with the object's signals `signals`: completes the packet and
// queues it; from here the queue owns the observer.
static void fire_locked(port_t* port, observer_t* o, zx_signals_t signals) {
  zx_packet_signal_t* s = &o->packet.pkt.signal;
  s->observed = signals;
  s->count = 1;  // Zircon's fixed value since message counts went
  if (o->options & ZX_WAIT_ASYNC_TIMESTAMP) {
    s->timestamp = clock_monotonic_ns();
  } else if (o->options & ZX_WAIT_ASYNC_BOOT_TIMESTAMP) {
    s->timestamp = clock_boot_ns();
  }
  queue_locked(port, &o->packet);
}

// waiter_t callback, with the object lock held and the observer unlinked from it.
static void observer_notify(waiter_t* w, zx_signals_t signals, bool canceled) {
  observer_t* o = (observer_t*)w;
  port_t* port = o->port;
  pthread_mutex_lock(&port->lock);
  bool mine = o->armed;  // else the port side claimed it and frees it
  if (mine) {
    disarm_locked(port, o);
    if (!canceled) fire_locked(port, o, signals);
  }
  pthread_mutex_unlock(&port->lock);
  if (mine && canceled) os_free(o);
}

static void observer_release(port_packet_t* p, bool delivered) {
  os_free(observer_of_packet(p));
}

zx_status_t port_wait_async(port_t* port, zx_object_t* obj, zx_handle_t handle, uint64_t key,
                            zx_signals_t signals, uint32_t options) {
  ZX_ASSERT(obj->ops->waitable);
  observer_t* o = os_calloc(1, sizeof(*o));
  if (o == NULL) return ZX_ERR_NO_MEMORY;
  o->w.handle = handle;
  o->w.waitfor = signals;
  o->w.oneshot = true;
  o->w.notify = observer_notify;
  o->packet.pkt.key = key;
  o->packet.pkt.type = ZX_PKT_TYPE_SIGNAL_ONE;
  o->packet.pkt.status = ZX_OK;
  o->packet.pkt.signal.trigger = signals;
  o->packet.release = observer_release;
  o->port = port;
  o->obj = obj;
  o->options = options;

  zx_status_t st = ZX_OK;
  object_lock(obj);
  // A handle (or the port's last handle) closed since the caller looked it up: as if
  // it had been closed before the call.
  if (!handle_refers_to(handle, obj)) {
    st = ZX_ERR_BAD_HANDLE;
  } else {
    pthread_mutex_lock(&port->lock);
    if (port->dead) {
      st = ZX_ERR_BAD_HANDLE;
    } else if (!(options & ZX_WAIT_ASYNC_EDGE) && (obj->signals & signals) != 0) {
      fire_locked(port, o, obj->signals);
      o = NULL;
    } else {
      arm_locked(port, o);
      object_link_waiter_locked(obj, &o->w);
      o = NULL;
    }
    pthread_mutex_unlock(&port->lock);
  }
  object_unlock(obj);
  os_free(o);
  return st;
}

// ---- The port side: cancels and the last handle -------------------------------------

// Takes armed `o` for the port side onto private list `*list`, with a reference that
// keeps its object alive until drop_claimed() has unlinked it there.
static void claim_locked(port_t* port, observer_t* o, observer_t** list) {
  disarm_locked(port, o);
  object_ref(o->obj);
  o->next = *list;
  *list = o;
}

static void drop_claimed(observer_t* list) {
  while (list != NULL) {
    observer_t* o = list;
    list = o->next;
    zx_object_t* obj = o->obj;
    // False if a notification unlinked it meanwhile: it found the observer disarmed
    // and left it to us.
    object_unlink_waiter(obj, &o->w);
    os_free(o);
    object_unref(obj);
  }
}

// Which waits and packets a cancel takes: those with `key`, and with `obj` set, only
// the asynchronous waits made through `handle` on `obj` and their packets.
typedef struct cancel_filter {
  zx_object_t* obj;
  zx_handle_t handle;
  uint64_t key;
} cancel_filter_t;

static bool observer_matches(const observer_t* o, const cancel_filter_t* f) {
  return o->packet.pkt.key == f->key &&
         (f->obj == NULL || (o->obj == f->obj && o->w.handle == f->handle));
}

static bool port_cancel(port_t* port, const cancel_filter_t* f) {
  observer_t* claimed = NULL;
  port_packet_t* discarded = NULL;
  pthread_mutex_lock(&port->lock);
  observer_t* next_o;
  for (observer_t* o = port->armed; o != NULL; o = next_o) {
    next_o = o->next;
    if (observer_matches(o, f)) claim_locked(port, o, &claimed);
  }
  port_packet_t* next_p;
  for (port_packet_t* p = port->head; p != NULL; p = next_p) {
    next_p = p->next;
    bool match;
    if (f->obj == NULL) {
      match = p->pkt.key == f->key;
    } else {
      match = p->release == observer_release && observer_matches(observer_of_packet(p), f);
    }
    if (match) discard_locked(port, p, &discarded);
  }
  pthread_mutex_unlock(&port->lock);
  bool found = claimed != NULL || discarded != NULL;
  drop_claimed(claimed);
  release_all(discarded);
  return found;
}

bool port_cancel_source(port_t* port, zx_object_t* obj, zx_handle_t handle, uint64_t key) {
  cancel_filter_t f = {.obj = obj, .handle = handle, .key = key};
  return port_cancel(port, &f);
}

bool port_cancel_key(port_t* port, uint64_t key) {
  cancel_filter_t f = {.obj = NULL, .handle = ZX_HANDLE_INVALID, .key = key};
  return port_cancel(port, &f);
}

// The last handle is closed: every asynchronous wait on the port ends, and what is
// queued is discarded (as Zircon). Threads still in zx_port_wait keep sleeping until
// their deadline, as on Zircon, where closing a handle does not interrupt port waits.
static void port_on_zero_handles(zx_object_t* obj) {
  port_t* port = port_from_obj(obj);
  observer_t* claimed = NULL;
  port_packet_t* discarded = NULL;
  pthread_mutex_lock(&port->lock);
  port->dead = true;
  while (port->armed != NULL) claim_locked(port, port->armed, &claimed);
  while (port->head != NULL) discard_locked(port, port->head, &discarded);
  pthread_mutex_unlock(&port->lock);
  drop_claimed(claimed);
  release_all(discarded);
}

// Producers' packets queued after the last handle closed are released here.
static void port_destroy(zx_object_t* obj) {
  port_t* port = port_from_obj(obj);
  ZX_ASSERT(port->armed == NULL);
  port_packet_t* discarded = NULL;
  pthread_mutex_lock(&port->lock);
  while (port->head != NULL) discard_locked(port, port->head, &discarded);
  pthread_mutex_unlock(&port->lock);
  release_all(discarded);
  pthread_cond_destroy(&port->cond);
  pthread_mutex_destroy(&port->lock);
  pthread_mutex_destroy(&obj->lock);
  os_free(port);
}

static const object_ops_t port_ops = {
    .type = ZX_OBJ_TYPE_PORT,
    .waitable = false,
    .user_settable = 0,
    .on_zero_handles = port_on_zero_handles,
    .destroy = port_destroy,
};

port_t* port_create(void) {
  port_t* port = os_calloc(1, sizeof(*port));
  if (port == NULL) return NULL;
  object_init(&port->base, &port_ops, ZX_SIGNAL_NONE);
  int rc = pthread_mutex_init(&port->lock, NULL);
  ZX_ASSERT(rc == 0);
  cond_init_monotonic(&port->cond);
  return port;
}
