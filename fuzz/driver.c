// SPDX-License-Identifier: BSD-3-Clause
// The differential driver (see driver.h).
//
// Input format: a sequence of operations, each one opcode byte followed by the bytes
// its arguments need; reading past the end yields zeros, so every byte string is a
// valid program. Argument generators are biased towards the interesting values
// (page boundaries, sizes around the VMO's size, unaligned values, overflowing
// values) rather than uniform, so short inputs reach deep states.
#include "driver.h"
#include "driver_int.h"

#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zircon/errors.h>
#include <zircon/process.h>
#include <zircon/rights.h>
#include <zircon/status.h>
#include <zircon/syscalls-next.h>
#include <zircon/syscalls.h>
#include <zircon/syscalls/object.h>
#include <zircon/syscalls/port.h>
#include <zxvmo.h>

// The one hook of the library's OS layer the driver uses (src/os/os.h; declared here so
// that the oracle includes nothing of src/): the next n page fills answer EAGAIN, as the
// kernel does when its page tables change under the call, which no input can cause.
void os_busy_fills(unsigned n);

// PG (driver_int.h): with 4 KiB pages every generator below yields exactly the values
// it always did, so the saved inputs in tests/regressions/ keep their meaning.

// §16 asks for zx_vmo_replace_as_executable, the only way a handle gets
// ZX_RIGHT_EXECUTE, without which §2's rules about EXECUTE cannot be observed. It is
// declared weak here, so the driver uses it as soon as the library has it (Zircon's
// signature) and builds without it until then.
zx_status_t zx_vmo_replace_as_executable(zx_handle_t handle, zx_handle_t vmex,
                                         zx_handle_t* out) __attribute__((weak));

// ---- reporting ----

// The driver running on this thread, for the abort handler.
static _Thread_local driver_t* t_current;

void trace(driver_t* d, const char* fmt, ...) {
  char* line = d->trace[d->ntrace % DRV_TRACE_LINES];
  int k = snprintf(line, DRV_TRACE_WIDTH, "%6" PRIu64 " ", d->ops);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line + k, DRV_TRACE_WIDTH - (size_t)k, fmt, ap);
  va_end(ap);
  d->ntrace++;
}

// Divergence: print the trace, save the input (so it can become a regression file),
// abort. abort() is what both libFuzzer and the test runners treat as a failure.
void fail(driver_t* d, const char* fmt, ...) {
  t_current = NULL;  // this report replaces the abort handler's
  fprintf(stderr, "\n==== zxvmo differential driver%s%s: DIVERGENCE ====\n",
          d->name ? " " : "", d->name ? d->name : "");
  uint64_t first = d->ntrace > DRV_TRACE_LINES ? d->ntrace - DRV_TRACE_LINES : 0;
  fprintf(stderr, "trace (last %" PRIu64 " operations; hN = handle slot, vmo#N = model VMO):\n",
          d->ntrace - first);
  for (uint64_t i = first; i < d->ntrace; i++) {
    fprintf(stderr, "  %s\n", d->trace[i % DRV_TRACE_LINES]);
  }
  va_list ap;
  va_start(ap, fmt);
  fputs("divergence: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  if (d->in) {
    char path[128];
    snprintf(path, sizeof(path), "/tmp/zxvmo-divergence-%d.bin", (int)getpid());
    FILE* f = fopen(path, "wb");
    if (f) {
      fwrite(d->in, 1, d->n, f);
      fclose(f);
      fprintf(stderr, "input (%zu bytes) saved to %s\n", d->n, path);
    }
  }
  abort();
}

// The handlers in place before the driver's, per signal: SIGABRT, SIGSEGV, SIGBUS.
static struct sigaction g_old_abrt, g_old_segv, g_old_bus;

static void put(const char* s) {
  size_t n = strlen(s);
  while (n > 0) {
    ssize_t k = write(2, s, n);
    if (k <= 0) return;
    s += k;
    n -= (size_t)k;
  }
}

// Saves the program being run to /tmp/zxvmo-abort-<pid>.bin with async-signal-safe
// calls only, so that a crash can become a regression file too.
static void save_input_raw(const driver_t* d) {
  if (!d->in) return;
  char path[64] = "/tmp/zxvmo-abort-";
  char digits[24];
  int n = 0;
  for (unsigned long pid = (unsigned long)getpid(); pid > 0 || n == 0; pid /= 10) {
    digits[n++] = (char)('0' + pid % 10);
  }
  size_t k = strlen(path);
  while (n > 0) path[k++] = digits[--n];
  memcpy(path + k, ".bin", 5);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return;
  size_t done = 0;
  while (done < d->n) {
    ssize_t w = write(fd, d->in + done, d->n - done);
    if (w <= 0) break;
    done += (size_t)w;
  }
  close(fd);
  put("input saved to ");
  put(path);
  put("\n");
}

// An abort inside the library (an assertion, the invariant checker), or a real fault
// (a mapped page the model wrongly thought accessible, a library crash), happens before
// the driver can report: print the trace that led there, then let the previous handler
// (libFuzzer's, which saves the input) or the default action proceed. The library
// installs its own SIGSEGV/SIGBUS handlers at its first mapping and passes the faults
// that are not its own on to these.
static void on_abort(int sig, siginfo_t* info, void* ctx) {
  driver_t* d = t_current;
  if (d) {
    t_current = NULL;
    put(sig == SIGABRT ? "\n==== zxvmo differential driver: abort"
                       : sig == SIGSEGV ? "\n==== zxvmo differential driver: SIGSEGV"
                                        : "\n==== zxvmo differential driver: SIGBUS");
    put("; trace of the last operations ====\n");
    uint64_t first = d->ntrace > DRV_TRACE_LINES ? d->ntrace - DRV_TRACE_LINES : 0;
    for (uint64_t i = first; i < d->ntrace; i++) {
      put("  ");
      put(d->trace[i % DRV_TRACE_LINES]);
      put("\n");
    }
    save_input_raw(d);
  }
  const struct sigaction* old = sig == SIGABRT ? &g_old_abrt
                                : sig == SIGSEGV ? &g_old_segv : &g_old_bus;
  if (old->sa_flags & SA_SIGINFO) {
    if (old->sa_sigaction) old->sa_sigaction(sig, info, ctx);
    return;
  }
  if (old->sa_handler != SIG_DFL && old->sa_handler != SIG_IGN) {
    old->sa_handler(sig);
    return;
  }
  signal(sig, SIG_DFL);
  // SIGABRT: raise it again; a fault: returning retries the access, now fatal.
  if (sig == SIGABRT) raise(SIGABRT);
}

static void install_abort_handler(void) {
  static _Atomic int installed;
  if (installed++) return;
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_sigaction = on_abort;
  sa.sa_flags = SA_SIGINFO | SA_NODEFER;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGABRT, &sa, &g_old_abrt);
  sigaction(SIGSEGV, &sa, &g_old_segv);
  sigaction(SIGBUS, &sa, &g_old_bus);
}

const char* sname(zx_status_t st) { return zx_status_get_string(st); }

// ---- input decoding ----

uint8_t u8(driver_t* d) { return d->pos < d->n ? d->in[d->pos++] : 0; }
uint16_t u16(driver_t* d) { return (uint16_t)(u8(d) | (u8(d) << 8)); }
uint64_t u64(driver_t* d) {
  uint64_t x = 0;
  for (int i = 0; i < 8; i++) x |= (uint64_t)u8(d) << (8 * i);
  return x;
}

// A handle: mostly a live one, sometimes a bad or wrong-type one.
int pick_handle(driver_t* d, bool allow_wrong_type) {
  uint8_t b = u8(d);
  if (b == 255) return M_H_INVALID;
  if (b == 254 && allow_wrong_type) return M_H_WRONG_TYPE;
  int n = m_handle_count(&d->m);
  if (n == 0) return M_H_INVALID;
  d->last_h = m_handle_nth(&d->m, b % n);
  return d->last_h;
}

zx_handle_t real_handle(driver_t* d, int h) {
  if (h == M_H_WRONG_TYPE) return d->event;
  if (h < 0) return d->stale;
  return d->real[h];
}

// Huge values for overflow checks, relative to the page size and the largest VMO size
// (§1); with 4 KiB pages: UINT64_MAX, UINT64_MAX - 1, 0xFFFFFFFFFFFFF001,
// 0xFFFFFFFFFFFFF000, 0xFFFFFFFFFFFE0001, 0xFFFFFFFFFFFE1000, 1 << 63, (1 << 63) + 1,
// 0xFFFFFFFFFFFF0000.
#define NHUGE 9
static uint64_t huge(driver_t* d, unsigned i) {
  const uint64_t max_size = d->m.max_size;
  switch (i % NHUGE) {
    case 0: return UINT64_MAX;
    case 1: return UINT64_MAX - 1;
    case 2: return UINT64_MAX - PG + 1;       // inside the top page
    case 3: return (uint64_t)0 - PG;          // the top page, aligned
    case 4: return max_size + 1;
    case 5: return max_size + PG;
    case 6: return (uint64_t)1 << 63;
    case 7: return ((uint64_t)1 << 63) + 1;
    default: return (uint64_t)0 - 16 * PG;    // 16 pages below the top
  }
}

// A VMO size: mostly small whole pages, sometimes unaligned, sometimes invalid.
// Valid sizes stay under ~20 pages so the model's flat arrays stay small.
static uint64_t gen_size(driver_t* d) {
  uint8_t k = u8(d);
  switch (k % 16) {
    case 0: return 0;
    case 1: case 2: case 3: case 4: case 5: case 6: case 7: case 8: case 9:
      return (uint64_t)(u8(d) % 17) * PG;
    case 10: case 11: case 12:
      return (uint64_t)(u8(d) % 17) * PG + 1 + u16(d) % (PG - 1);
    case 13: case 14:
      // Invalid: every value here rounds past MAX_SIZE or wraps (with 4 KiB pages:
      // UINT64_MAX, UINT64_MAX - 100, 0xFFFFFFFFFFFE0001, 0xFFFFFFFFFFFE1000,
      // 0xFFFFFFFFFFFFF000, 0xFFFFFFFFFFFFF001).
      switch (u8(d) % 6) {
        case 0: return UINT64_MAX;
        case 1: return UINT64_MAX - 100;
        case 2: return d->m.max_size + 1;
        case 3: return d->m.max_size + PG;
        case 4: return (uint64_t)0 - PG;
        default: return (uint64_t)0 - PG + 1;
      }
    default:
      return (uint64_t)(u8(d) % 21) * PG + (k & 0x10 ? 0 : 512);
  }
}

// The size in bytes of the VMO behind model handle h (0 for a bad handle): offsets
// and lengths are drawn relative to it, so most operations land in range.
uint64_t hsize(driver_t* d, int h) {
  return h >= 0 ? d->m.v[d->m.h[h].vmo].pages * PG : 0;
}

// A child offset: mostly whole pages inside or just past the parent, sometimes huge
// (overflow checks) or unaligned.
static uint64_t gen_child_offset(driver_t* d, uint64_t size) {
  uint8_t k = u8(d);
  uint64_t pages = size / PG;
  switch (k % 16) {
    case 0: case 1: case 2: return 0;
    case 3: case 4: case 5: case 6: case 7: case 8: case 9:
      return (uint64_t)(u8(d) % (pages + 2)) * PG;
    case 10: return (uint64_t)(u8(d) % 20) * PG;
    case 11: case 12: return u16(d) | 1;
    case 13: case 14: return huge(d, u8(d)) & (k & 0x10 ? ~(PG - 1) : UINT64_MAX);
    default: return u64(d);
  }
}

// A byte offset for read/write/op_range into a VMO of `size` bytes: mostly inside,
// often on or next to page boundaries, sometimes at or past the end, sometimes huge.
static uint64_t gen_off(driver_t* d, uint64_t size) {
  uint8_t k = u8(d);
  uint64_t pages = size / PG;
  switch (k % 10) {
    case 0: case 1: case 2: case 3: return size ? u16(d) % size : 0;
    case 4: case 5: return (uint64_t)(u8(d) % (pages + 1)) * PG;
    case 6: return (uint64_t)(u8(d) % (pages + 1)) * PG + (u8(d) % 8) - 4;
    case 7: return size;
    case 8: return u16(d) % (18 * PG);
    default: return huge(d, u8(d));
  }
}

// A length from `off` into a VMO of `size` bytes: mostly fitting, sometimes one
// too many, zero, or overflowing.
static uint64_t gen_len_any(driver_t* d, uint64_t off, uint64_t size) {
  uint8_t k = u8(d);
  uint64_t room = off <= size ? size - off : 0;
  if (room > MAX_RW - 1) room = MAX_RW - 1;  // room + 1 must still fit the buffers
  switch (k % 10) {
    case 0: case 1: case 2: case 3: return room ? u16(d) % room + 1 : 0;
    case 4: return room;
    case 5: return 0;
    case 6: return (uint64_t)(u8(d) % 4) * PG;
    case 7: return room + 1;
    case 8: return u16(d) % (2 * PG + 1);
    default:
      if (k & 0x10) return (uint64_t)0 - off;  // off + len wraps to 0
      return huge(d, u8(d));
  }
}

// Lengths a read or write could accept never exceed the driver's buffers; huge
// lengths (which must fail the range check first) are kept.
static uint64_t gen_len(driver_t* d, uint64_t off, uint64_t size) {
  uint64_t len = gen_len_any(d, off, size);
  if (len > MAX_RW && len < ((uint64_t)1 << 32)) len = MAX_RW;
  return len;
}

void fill(uint8_t* buf, uint64_t len, uint8_t v) {
  switch (v % 4) {
    case 0: memset(buf, 0, len); break;
    case 1: memset(buf, v, len); break;
    default:
      for (uint64_t i = 0; i < len; i++) buf[i] = (uint8_t)(v + i * 13);
  }
}

// ---- comparisons ----

static uint64_t koid_of(driver_t* d, zx_handle_t h) {
  zx_info_handle_basic_t bi;
  zx_status_t st = zx_object_get_info(h, ZX_INFO_HANDLE_BASIC, &bi, sizeof(bi), NULL, NULL);
  if (st != ZX_OK) fail(d, "HANDLE_BASIC on a new handle: %s", sname(st));
  return bi.koid;
}

// A LOOKUP reported address `a` for model record r: the same record must always have
// the same address and different live records different addresses. Once mappings
// exist "always" means "within one moment" (see forget_addresses).
static void check_identity(driver_t* d, mrec_t* r, zx_paddr_t a, uint64_t page) {
  if (r->addr == a) return;
  if (r->addr != 0) {
    fail(d, "LOOKUP page %" PRIu64 ": record r%u was at %#lx, now at %#lx", page, r->id,
         (unsigned long)r->addr, (unsigned long)a);
  }
  for (const mrec_t* o = d->m.live; o; o = o->next) {
    if (o != r && o->addr == a) {
      fail(d, "LOOKUP page %" PRIu64 ": records r%u and r%u share address %#lx "
           "(model: distinct pages)", page, r->id, o->id, (unsigned long)a);
    }
  }
  r->addr = a;
}

// Serving a mapping's faults may move a page to where the mapping can show it
// (src/vmar/mapping.c: an exclusive page moves into the mapped VMO's home): its
// LOOKUP address changes, and the reference (D20, §8) promises no address that lasts.
// So once this world has had a mapping, addresses are compared within one moment only:
// between the operation and the comparisons after it, while no fault is served.
void driver_check_lookup(driver_t* d, int vmo, mrec_t* r, zx_paddr_t a, uint64_t page) {
  uint64_t want;
  // §15.2, §15.3: driver memory has fixed (emulated) physical addresses.
  if (d->m.drv && m_drv_addr(&d->m, vmo, page, &want)) {
    if (a != want) {
      fail(d, "LOOKUP page %" PRIu64 " of vmo#%u: zxvmo %#lx, model %#lx", page,
           d->m.v[vmo].seq, (unsigned long)a, (unsigned long)want);
    }
    return;
  }
  check_identity(d, r, a, page);
}

static void forget_addresses(driver_t* d) {
  if (!d->mapped) return;
  for (mrec_t* r = d->m.live; r; r = r->next) r->addr = 0;
}

static void verify_pager(driver_t* d, int h);

// Compares everything observable through model handle h.
static void verify_handle(driver_t* d, int h) {
  zx_handle_t rh = d->real[h];
  const mhandle_t* mh = &d->m.h[h];
  const mvmo_t* mv = &d->m.v[mh->vmo];
  char what[64];
  snprintf(what, sizeof(what), "h%d(vmo#%u)", h, mv->seq);

  uint64_t size = 0, msize = 0;
  EXPECT_STATUS(d, "get_size", zx_vmo_get_size(rh, &size), m_vmo_get_size(&d->m, h, &msize));
  EXPECT_EQ64(d, "get_size", size, msize);

  zx_info_handle_basic_t bi;
  EXPECT_STATUS(d, "HANDLE_BASIC",
                zx_object_get_info(rh, ZX_INFO_HANDLE_BASIC, &bi, sizeof(bi), NULL, NULL), ZX_OK);
  EXPECT_EQ64(d, "handle rights", bi.rights, mh->rights);
  EXPECT_EQ64(d, "handle koid", bi.koid, mv->koid);
  // Zircon: a VMO handle's type is ZX_OBJ_TYPE_VMO, and a VMO has no related koid.
  EXPECT_EQ64(d, "handle type", bi.type, ZX_OBJ_TYPE_VMO);
  EXPECT_EQ64(d, "handle related_koid", bi.related_koid, 0);

  zx_info_vmo_t info;
  m_info_t mi;
  EXPECT_STATUS(d, "ZX_INFO_VMO",
                zx_object_get_info(rh, ZX_INFO_VMO, &info, sizeof(info), NULL, NULL),
                m_vmo_info(&d->m, h, &mi));
  EXPECT_EQ64(d, "info.koid", info.koid, mv->koid);
  EXPECT_EQ64(d, "info.size_bytes", info.size_bytes, mi.size_bytes);
  EXPECT_EQ64(d, "info.parent_koid", info.parent_koid,
              mi.parent >= 0 ? d->m.v[mi.parent].koid : 0);
  EXPECT_EQ64(d, "info.num_children", info.num_children, mi.num_children);
  EXPECT_EQ64(d, "info.flags", info.flags, mi.flags);
  EXPECT_EQ64(d, "info.handle_rights", info.handle_rights, mi.rights);
  // §10 "A caller passing the size of an older, shorter version (zx_info_vmo_v1_t ..
  // v3) gets that prefix".
  static const size_t older[] = {sizeof(zx_info_vmo_v1_t), sizeof(zx_info_vmo_v2_t),
                                 sizeof(zx_info_vmo_v3_t)};
  for (size_t k = 0; k < sizeof(older) / sizeof(older[0]); k++) {
    zx_info_vmo_t prefix;
    memset(&prefix, 0x5a, sizeof(prefix));
    EXPECT_STATUS(d, "ZX_INFO_VMO with an older size",
                  zx_object_get_info(rh, ZX_INFO_VMO, &prefix, older[k], NULL, NULL), ZX_OK);
    if (memcmp(&prefix, &info, older[k]) != 0) {
      fail(d, "%s: ZX_INFO_VMO with the size of v%zu is not the prefix of the newest", what,
           k + 1);
    }
  }
  // §12 "ZX_INFO_VMO.num_mappings counts the VMO's mappings"; §15.8 cache policy.
  EXPECT_EQ64(d, "info.num_mappings", info.num_mappings, m_num_mappings(&d->m, mh->vmo));
  EXPECT_EQ64(d, "info.cache_policy", info.cache_policy, mi.cache_policy);
  if (memcmp(info.name, mi.name, sizeof(info.name)) != 0) {
    fail(d, "%s: info.name: zxvmo \"%.32s\", model \"%.32s\"", what, info.name, mi.name);
  }
  if (mh->rights & ZX_RIGHT_GET_PROPERTY) {
    char name[ZX_MAX_NAME_LEN];
    memset(name, 0x55, sizeof(name));
    EXPECT_STATUS(d, "get ZX_PROP_NAME",
                  zx_object_get_property(rh, ZX_PROP_NAME, name, sizeof(name)), ZX_OK);
    if (memcmp(name, mi.name, sizeof(name)) != 0) {
      fail(d, "%s: ZX_PROP_NAME: zxvmo \"%.32s\", model \"%.32s\"", what, name, mi.name);
    }
  }
  EXPECT_EQ64(d, "info.committed_bytes", info.committed_bytes, mi.committed);
  EXPECT_EQ64(d, "info.committed_private_bytes", info.committed_private_bytes, mi.priv);
  EXPECT_EQ64(d, "info.committed_scaled_bytes", info.committed_scaled_bytes, mi.scaled);
  EXPECT_EQ64(d, "info.committed_fractional_scaled_bytes",
              info.committed_fractional_scaled_bytes, mi.frac);
  EXPECT_EQ64(d, "info.populated_bytes", info.populated_bytes, mi.committed);
  EXPECT_EQ64(d, "info.populated_private_bytes", info.populated_private_bytes, mi.priv);
  EXPECT_EQ64(d, "info.populated_scaled_bytes", info.populated_scaled_bytes, mi.scaled);
  EXPECT_EQ64(d, "info.populated_fractional_scaled_bytes",
              info.populated_fractional_scaled_bytes, mi.frac);

  if (mh->rights & ZX_RIGHT_READ) {
    // Whole contents, a page at a time.
    uint8_t* a = d->buf_a;
    uint8_t* b = d->buf_b;
    for (uint64_t off = 0; off < msize; off += PG) {
      // A page a pager VMO lacks would be asked for (or fail): left for the program.
      if (m_page_absent(&d->m, mh->vmo, off / PG)) continue;
      zx_status_t rst = zx_vmo_read(rh, a, off, PG);
      EXPECT_STATUS(d, "verify read", rst, m_vmo_read(&d->m, h, b, off, PG));
      // Physical and uncached VMOs are not read this way (§15).
      if (rst != ZX_OK) break;
      if (memcmp(a, b, PG) != 0) {
        uint64_t i = 0;
        while (a[i] == b[i]) i++;
        fail(d, "%s: contents differ at byte %#" PRIx64 ": zxvmo %#x, model %#x", what,
             off + i, a[i], b[i]);
      }
    }
  }

  // Page identity: a one-page LOOKUP of every page (LOOKUP needs no rights).
  for (uint64_t off = 0; off < msize; off += PG) {
    zx_paddr_t pa = 0;
    mrec_t* rec = NULL;
    zx_status_t want = m_vmo_op_range(&d->m, h, ZX_VMO_OP_LOOKUP, off, PG, false, 1, &rec);
    zx_status_t got = zx_vmo_op_range(rh, ZX_VMO_OP_LOOKUP, off, PG, &pa, sizeof(pa));
    EXPECT_STATUS(d, "verify lookup", got, want);
    if (got == ZX_OK) driver_check_lookup(d, mh->vmo, rec, pa, off / PG);
  }

  if (mh->rights & ZX_RIGHT_GET_PROPERTY) {
    uint64_t cs = 0, mcs = 0;
    EXPECT_STATUS(d, "get content size",
                  zx_object_get_property(rh, ZX_PROP_VMO_CONTENT_SIZE, &cs, sizeof(cs)),
                  m_get_content_size(&d->m, h, &mcs));
    EXPECT_EQ64(d, "content size", cs, mcs);
  }

  zx_signals_t obs = 0;
  bool asserted = false;
  zx_status_t want = m_wait_zero_children(&d->m, h, &asserted);
  EXPECT_STATUS(d, "wait ZERO_CHILDREN", zx_object_wait_one(rh, ZX_VMO_ZERO_CHILDREN, 0, &obs),
                want);
  if (want != ZX_ERR_ACCESS_DENIED) {
    EXPECT_EQ64(d, "ZERO_CHILDREN observed", (obs & ZX_VMO_ZERO_CHILDREN) != 0, asserted);
  }
  if (mv->pager) verify_pager(d, h);
}

static void verify_all(driver_t* d) {
  for (int i = 0; i < M_MAX_HANDLES; i++) {
    if (d->m.h[i].used) verify_handle(d, i);
  }
}

static void check_global(driver_t* d, bool force) {
  if (!d->check_global) return;
  zxvmo_stats_t s;
  zxvmo_get_stats(&s);
  EXPECT_EQ64(d, "pages_in_use", s.pages_in_use, m_pages_in_use(&d->m) + d->held_base);
  // The whole-library walk costs more than the operation itself; checking builds
  // already verify the touched family after every operation, so every 16th is enough
  // (and the final check at reset always runs).
  if (!force && d->ops % 16 != 0) return;
  zx_status_t st = zxvmo_check_invariants();
  if (st != ZX_OK) fail(d, "zxvmo_check_invariants: %s", sname(st));
}

// ---- operations ----

const char* hname(driver_t* d, int h, char* buf, size_t n) {
  if (h == M_H_INVALID) return "BAD";
  if (h == M_H_WRONG_TYPE) return "EVENT";
  snprintf(buf, n, "h%d(vmo#%u)", h, d->m.v[d->m.h[h].vmo].seq);
  return buf;
}

// A new handle appeared in both worlds: bind them and learn the koid.
void bind_new(driver_t* d, int mh, zx_handle_t rh) {
  d->real[mh] = rh;
  d->last_h = mh;
  mvmo_t* v = &d->m.v[d->m.h[mh].vmo];
  uint64_t koid = koid_of(d, rh);
  if (v->koid != 0 && v->koid != koid) {
    fail(d, "new handle to vmo#%u has koid %" PRIu64 ", expected %" PRIu64, v->seq, koid,
         v->koid);
  }
  v->koid = koid;
}

static void op_create(driver_t* d) {
  uint64_t size = gen_size(d);
  uint8_t k = u8(d);
  uint32_t opts;
  switch (k % 8) {
    case 0: case 1: case 2: case 3: opts = 0; break;
    case 4: case 5: opts = ZX_VMO_RESIZABLE; break;
    case 6: {
      static const uint32_t odd[] = {ZX_VMO_DISCARDABLE, ZX_VMO_RESIZABLE | ZX_VMO_UNBOUNDED,
                                     1u << 0, ZX_VMO_TRAP_DIRTY, 1u << 5, 0x80000000u,
                                     ZX_VMO_RESIZABLE | ZX_VMO_DISCARDABLE};
      opts = odd[u8(d) % (sizeof(odd) / sizeof(odd[0]))];
      break;
    }
    default:
      // Random bits, but never UNBOUNDED alone (a MAX_SIZE VMO has no flat model).
      opts = (uint32_t)u64(d);
      if ((opts & ZX_VMO_UNBOUNDED) && !(opts & ZX_VMO_RESIZABLE)) opts &= ~ZX_VMO_UNBOUNDED;
  }
  int mh = -1;
  zx_handle_t rh = ZX_HANDLE_INVALID;
  zx_status_t want = m_vmo_create(&d->m, size, opts, &mh);
  zx_status_t got = zx_vmo_create(size, opts, &rh);
  char hb[32];
  if (want == M_UNMODELLED) {
    trace(d, "create(size=%#" PRIx64 ", opts=%#x) = %s (not modelled; closed)", size, opts,
          sname(got));
    if (got == ZX_OK) zx_handle_close(rh);
    return;
  }
  trace(d, "create(size=%#" PRIx64 ", opts=%#x) = %s %s", size, opts, sname(want),
        want == ZX_OK ? hname(d, mh, hb, sizeof(hb)) : "");
  EXPECT_STATUS(d, "zx_vmo_create", got, want);
  if (got != ZX_OK) return;
  bind_new(d, mh, rh);
  // Every root gets a name of its own, so that children show whether they inherited
  // it (§4 rule 10). No input byte is consumed.
  char name[M_NAME_LEN];
  snprintf(name, sizeof(name), "vmo#%u", d->m.v[d->m.h[mh].vmo].seq);
  EXPECT_STATUS(d, "set ZX_PROP_NAME",
                zx_object_set_property(rh, ZX_PROP_NAME, name, strlen(name)),
                m_set_name(&d->m, mh, name));
  // Every other root becomes executable, where the library can do it (see the weak
  // declaration above), so that children show what happens to EXECUTE (§2).
  if (zx_vmo_replace_as_executable && d->m.v[d->m.h[mh].vmo].seq % 2 == 1) {
    zx_handle_t rx = ZX_HANDLE_INVALID;
    zx_status_t st = zx_vmo_replace_as_executable(rh, ZX_HANDLE_INVALID, &rx);
    trace(d, "replace_as_executable(%s) = %s", hname(d, mh, hb, sizeof(hb)), sname(st));
    if (st == ZX_OK) {
      d->real[mh] = rx;
      m_add_execute(&d->m, mh);
    } else {
      // Zircon: the handle is invalidated whether or not the call succeeds.
      d->real[mh] = ZX_HANDLE_INVALID;
      m_handle_close(&d->m, mh);
      d->stale = rh;
    }
  }
}

static const uint32_t k_child_opts[] = {
    ZX_VMO_CHILD_SNAPSHOT,
    ZX_VMO_CHILD_SNAPSHOT | ZX_VMO_CHILD_RESIZABLE,
    ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE,
    ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE | ZX_VMO_CHILD_RESIZABLE,
    ZX_VMO_CHILD_SLICE,
    ZX_VMO_CHILD_SLICE,
    ZX_VMO_CHILD_SNAPSHOT | ZX_VMO_CHILD_NO_WRITE,
    ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE | ZX_VMO_CHILD_NO_WRITE,
    ZX_VMO_CHILD_SLICE | ZX_VMO_CHILD_NO_WRITE,
    ZX_VMO_CHILD_SNAPSHOT | ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE,
    ZX_VMO_CHILD_SLICE | ZX_VMO_CHILD_RESIZABLE,
    ZX_VMO_CHILD_SNAPSHOT | ZX_VMO_CHILD_NO_WRITE | ZX_VMO_CHILD_RESIZABLE,
    0,
    ZX_VMO_CHILD_RESIZABLE,
    ZX_VMO_CHILD_SNAPSHOT | (1u << 1),
    ZX_VMO_CHILD_REFERENCE,
    ZX_VMO_CHILD_SLICE | ZX_VMO_CHILD_SNAPSHOT,
    ZX_VMO_CHILD_SNAPSHOT | ZX_VMO_CHILD_SNAPSHOT_MODIFIED,
};

static void op_create_child(driver_t* d) {
  int h = pick_handle(d, true);
  uint8_t k = u8(d);
  uint32_t opts = k == 255 ? (uint32_t)u64(d)
                           : k_child_opts[k % (sizeof(k_child_opts) / sizeof(k_child_opts[0]))];
  uint64_t off = gen_child_offset(d, hsize(d, h));
  uint64_t size = gen_size(d);
  bool out_null = u8(d) % 32 == 31;
  int mh = -1;
  zx_handle_t rh = ZX_HANDLE_INVALID;
  zx_status_t want = m_vmo_create_child(&d->m, h, opts, off, size, out_null, &mh);
  zx_status_t got = zx_vmo_create_child(real_handle(d, h), opts, off, size, out_null ? NULL : &rh);
  char hb[32], nb[32];
  if (want == M_UNMODELLED) {
    trace(d, "create_child(%s, opts=%#x, off=%#" PRIx64 ", size=%#" PRIx64 ") = %s (not "
          "modelled; closed)", hname(d, h, hb, sizeof(hb)), opts, off, size, sname(got));
    if (got == ZX_OK && !out_null) zx_handle_close(rh);
    return;
  }
  trace(d, "create_child(%s, opts=%#x, off=%#" PRIx64 ", size=%#" PRIx64 "%s) = %s %s",
        hname(d, h, hb, sizeof(hb)), opts, off, size, out_null ? ", out=NULL" : "", sname(want),
        want == ZX_OK ? hname(d, mh, nb, sizeof(nb)) : "");
  EXPECT_STATUS(d, "zx_vmo_create_child", got, want);
  if (got == ZX_OK) bind_new(d, mh, rh);
}

static void op_clone(driver_t* d) {
  int h = pick_handle(d, true);
  uint8_t k = u8(d);
  static const uint32_t opts_tab[] = {
      ZX_VMO_CLONE_COPY_ON_WRITE, ZX_VMO_CLONE_COPY_ON_WRITE,
      ZX_VMO_CLONE_COPY_ON_WRITE | ZX_VMO_CLONE_NON_RESIZEABLE,
      ZX_VMO_CLONE_COPY_ON_WRITE | ZX_VMO_CLONE_NON_RESIZEABLE,
      0, ZX_VMO_CLONE_NON_RESIZEABLE, ZX_VMO_CLONE_COPY_ON_WRITE | (1u << 2),
  };
  uint32_t opts = k == 255 ? (uint32_t)u64(d) : opts_tab[k % (sizeof(opts_tab) / sizeof(opts_tab[0]))];
  uint64_t off = gen_child_offset(d, hsize(d, h));
  uint64_t size = gen_size(d);
  bool out_null = u8(d) % 32 == 31;
  int mh = -1;
  zx_handle_t rh = ZX_HANDLE_INVALID;
  zx_status_t want = m_vmo_clone(&d->m, h, opts, off, size, out_null, &mh);
  zx_status_t got = zx_vmo_clone(real_handle(d, h), opts, off, size, out_null ? NULL : &rh);
  char hb[32], nb[32];
  trace(d, "clone(%s, opts=%#x, off=%#" PRIx64 ", size=%#" PRIx64 "%s) = %s %s",
        hname(d, h, hb, sizeof(hb)), opts, off, size, out_null ? ", out=NULL" : "", sname(want),
        want == ZX_OK ? hname(d, mh, nb, sizeof(nb)) : "");
  EXPECT_STATUS(d, "zx_vmo_clone", got, want);
  if (got == ZX_OK) bind_new(d, mh, rh);
}

static void op_write(driver_t* d) {
  int h = pick_handle(d, true);
  uint64_t off = gen_off(d, hsize(d, h));
  uint64_t len = gen_len(d, off, hsize(d, h));
  uint8_t v = u8(d);
  uint8_t* buf = d->buf_a;
  uint64_t n = len < MAX_RW ? len : MAX_RW;  // longer ones must fail the range check
  fill(buf, n, v);
  zx_status_t want = m_vmo_write(&d->m, h, buf, off, len);
  char hb[32];
  trace(d, "write(%s, off=%#" PRIx64 ", len=%#" PRIx64 ", fill=%#x) = %s",
        hname(d, h, hb, sizeof(hb)), off, len, v, sname(want));
  if (want == ZX_OK && len > MAX_RW) fail(d, "model accepted a write longer than the buffer");
  EXPECT_STATUS(d, "zx_vmo_write", zx_vmo_write(real_handle(d, h), buf, off, len), want);
}

static void op_read(driver_t* d) {
  int h = pick_handle(d, true);
  uint64_t off = gen_off(d, hsize(d, h));
  uint64_t len = gen_len(d, off, hsize(d, h));
  uint8_t* a = d->buf_a;
  uint8_t* b = d->buf_b;
  memset(a, 0xA5, MAX_RW);
  zx_status_t want = m_vmo_read(&d->m, h, b, off, len);
  char hb[32];
  trace(d, "read(%s, off=%#" PRIx64 ", len=%#" PRIx64 ") = %s", hname(d, h, hb, sizeof(hb)),
        off, len, sname(want));
  if (want == ZX_OK && len > MAX_RW) fail(d, "model accepted a read longer than the buffer");
  EXPECT_STATUS(d, "zx_vmo_read", zx_vmo_read(real_handle(d, h), a, off, len), want);
  if (want == ZX_OK && memcmp(a, b, len) != 0) {
    uint64_t i = 0;
    while (a[i] == b[i]) i++;
    fail(d, "read: byte %#" PRIx64 " differs: zxvmo %#x, model %#x", off + i, a[i], b[i]);
  }
}

// Whether model handle h is a pager-backed VMO on which the zero-range operations are
// not made (see driver.h, zero_ops).
static bool zero_gated(driver_t* d, int h) {
  return !d->zero_ops && h >= 0 && d->m.v[d->m.h[h].vmo].pbacked;
}

static void op_set_size(driver_t* d) {
  int h = pick_handle(d, true);
  uint64_t size = gen_size(d);
  if (zero_gated(d, h) && ((size % PG) != 0 || (d->m.v[d->m.h[h].vmo].pager && size > hsize(d, h)))) {
    char hb[32];
    trace(d, "set_size(%s, %#" PRIx64 "): skipped (zero ranges of pager VMOs are off)",
          hname(d, h, hb, sizeof(hb)), size);
    return;
  }
  zx_status_t want = m_vmo_set_size(&d->m, h, size);
  char hb[32];
  trace(d, "set_size(%s, %#" PRIx64 ") = %s", hname(d, h, hb, sizeof(hb)), size, sname(want));
  EXPECT_STATUS(d, "zx_vmo_set_size", zx_vmo_set_size(real_handle(d, h), size), want);
}

static void op_get_size(driver_t* d) {
  int h = pick_handle(d, true);
  uint64_t a = 0, b = 0;
  zx_status_t want = m_vmo_get_size(&d->m, h, &b);
  char hb[32];
  trace(d, "get_size(%s) = %s", hname(d, h, hb, sizeof(hb)), sname(want));
  EXPECT_STATUS(d, "zx_vmo_get_size", zx_vmo_get_size(real_handle(d, h), &a), want);
  if (want == ZX_OK) EXPECT_EQ64(d, "zx_vmo_get_size", a, b);
}

static const char* op_name(uint32_t op) {
  static const char* names[] = {"op0",         "COMMIT",      "DECOMMIT",   "LOCK",
                                "UNLOCK",      "LOOKUP",      "CACHE_SYNC", "CACHE_INVALIDATE",
                                "CACHE_CLEAN", "CACHE_CLEAN_INVALIDATE",    "ZERO",
                                "TRY_LOCK",    "DONT_NEED",   "ALWAYS_NEED", "PREFETCH"};
  return op < sizeof(names) / sizeof(names[0]) ? names[op] : "op?";
}

static void op_op_range(driver_t* d) {
  int h = pick_handle(d, true);
  uint8_t k = u8(d);
  static const uint32_t common[] = {ZX_VMO_OP_COMMIT, ZX_VMO_OP_DECOMMIT, ZX_VMO_OP_ZERO,
                                    ZX_VMO_OP_LOOKUP};
  uint32_t op = k < 160 ? common[k % 4] : (k == 255 ? 1000u : k % 17u);
  uint64_t off, len;
  if (u8(d) & 1) {
    // Whole pages, as DECOMMIT wants.
    off = (uint64_t)(u8(d) % 18) * PG;
    len = (uint64_t)(u8(d) % 6) * PG;
  } else {
    off = gen_off(d, hsize(d, h));
    len = gen_len(d, off, hsize(d, h));
  }
  uint8_t bk = u8(d);
  bool buf_null = bk % 32 == 31;
  size_t nbuf = bk % MAX_LOOKUP + 1;
  if (op == ZX_VMO_OP_ZERO && zero_gated(d, h)) {
    trace(d, "op_range(ZERO) on a pager-backed VMO: skipped (zero ranges are off)");
    return;
  }
  zx_paddr_t addrs[MAX_LOOKUP];
  mrec_t* recs[MAX_LOOKUP];
  memset(addrs, 0, sizeof(addrs));
  zx_status_t want = m_vmo_op_range(&d->m, h, op, off, len, buf_null, nbuf, recs);
  char hb[32];
  trace(d, "op_range(%s, %s, off=%#" PRIx64 ", len=%#" PRIx64 ", buf=%s[%zu]) = %s",
        hname(d, h, hb, sizeof(hb)), op_name(op), off, len, buf_null ? "NULL" : "addrs", nbuf,
        sname(want));
  zx_status_t got = zx_vmo_op_range(real_handle(d, h), op, off, len, buf_null ? NULL : addrs,
                                    nbuf * sizeof(zx_paddr_t));
  EXPECT_STATUS(d, "zx_vmo_op_range", got, want);
  if (op == ZX_VMO_OP_LOOKUP && got == ZX_OK) {
    uint64_t first = off / PG;
    uint64_t pages = (off + len + PG - 1) / PG - first;
    int vmo = d->m.h[h].vmo;
    for (uint64_t i = 0; i < pages; i++) driver_check_lookup(d, vmo, recs[i], addrs[i], first + i);
  }
}

static const zx_rights_t k_some_rights[] = {
    ZX_RIGHT_READ,          ZX_RIGHT_WRITE,        ZX_RIGHT_DUPLICATE, ZX_RIGHT_WAIT,
    ZX_RIGHT_GET_PROPERTY,  ZX_RIGHT_SET_PROPERTY, ZX_RIGHT_RESIZE,    ZX_RIGHT_EXECUTE,
    ZX_RIGHT_MAP,           ZX_RIGHT_TRANSFER,
};
#define NRIGHTS (sizeof(k_some_rights) / sizeof(k_some_rights[0]))

static void op_duplicate(driver_t* d) {
  int h = pick_handle(d, false);
  uint8_t k = u8(d);
  zx_rights_t have = h >= 0 ? d->m.h[h].rights : ZX_DEFAULT_VMO_RIGHTS;
  zx_rights_t want_rights;
  // Mostly handles that can still do things; rights only ever shrink.
  switch (k % 8) {
    case 0: case 1: case 2: case 3: want_rights = ZX_RIGHT_SAME_RIGHTS; break;
    case 4: case 5: want_rights = have & ~k_some_rights[u8(d) % NRIGHTS]; break;  // one fewer
    case 6: want_rights = have & (zx_rights_t)u64(d); break;                       // a subset
    default: want_rights = have | k_some_rights[u8(d) % NRIGHTS]; break;           // maybe more
  }
  int mh = -1;
  zx_handle_t rh = ZX_HANDLE_INVALID;
  zx_status_t want = m_handle_duplicate(&d->m, h, want_rights, &mh);
  char hb[32], nb[32];
  trace(d, "duplicate(%s, rights=%#x) = %s %s", hname(d, h, hb, sizeof(hb)), want_rights,
        sname(want), want == ZX_OK ? hname(d, mh, nb, sizeof(nb)) : "");
  EXPECT_STATUS(d, "zx_handle_duplicate", zx_handle_duplicate(real_handle(d, h), want_rights, &rh),
                want);
  if (want == ZX_OK) bind_new(d, mh, rh);
}

void close_handle(driver_t* d, int h) {
  char hb[32];
  trace(d, "close(%s)", hname(d, h, hb, sizeof(hb)));
  zx_handle_t rh = d->real[h];
  EXPECT_STATUS(d, "zx_handle_close", zx_handle_close(rh), m_handle_close(&d->m, h));
  d->real[h] = ZX_HANDLE_INVALID;
  d->stale = rh;
}

static void op_close(driver_t* d) {
  int h = pick_handle(d, false);
  if (h >= 0) {
    close_handle(d, h);
    return;
  }
  // Closing ZX_HANDLE_INVALID is OK; a stale value is BAD_HANDLE.
  bool zero = u8(d) & 1;
  trace(d, "close(%s)", zero ? "ZX_HANDLE_INVALID" : "stale");
  EXPECT_STATUS(d, "zx_handle_close", zx_handle_close(zero ? ZX_HANDLE_INVALID : d->stale),
                zero ? ZX_OK : ZX_ERR_BAD_HANDLE);
}

static void op_content_size(driver_t* d) {
  int h = pick_handle(d, false);
  uint8_t k = u8(d);
  char hb[32];
  zx_handle_t rh = real_handle(d, h);
  if (k & 1) {
    uint64_t size = h >= 0 ? d->m.v[d->m.h[h].vmo].pages * PG : 0;
    uint64_t cs;
    switch ((k >> 1) % 5) {
      case 0: cs = size ? u16(d) % size : 0; break;
      case 1: cs = size; break;
      case 2: cs = size + u16(d); break;
      case 3: cs = (size / PG) * PG - (size ? PG : 0) + (u8(d) % 3) * (PG / 2); break;
      default: cs = u64(d); break;
    }
    if (zero_gated(d, h) && cs < size) {
      trace(d, "set content size below the size of a pager-backed VMO: skipped (zero "
            "ranges are off)");
      return;
    }
    // Open (not in the reference): lowering the content size of an uncached VMO, which
    // Zircon's ZeroRange refuses (and then sets the content size without zeroing).
    if (h >= 0 && d->m.v[d->m.h[h].vmo].cache && !d->m.v[d->m.h[h].vmo].phys && cs < size) {
      trace(d, "set content size below the size of an uncached VMO: skipped (open)");
      return;
    }
    zx_status_t want = m_set_content_size(&d->m, h, cs);
    trace(d, "set content size(%s, %#" PRIx64 ") = %s", hname(d, h, hb, sizeof(hb)), cs,
          sname(want));
    EXPECT_STATUS(d, "set ZX_PROP_VMO_CONTENT_SIZE",
                  zx_object_set_property(rh, ZX_PROP_VMO_CONTENT_SIZE, &cs, sizeof(cs)), want);
  } else {
    uint64_t a = 0, b = 0;
    zx_status_t want = m_get_content_size(&d->m, h, &b);
    trace(d, "get content size(%s) = %s", hname(d, h, hb, sizeof(hb)), sname(want));
    EXPECT_STATUS(d, "get ZX_PROP_VMO_CONTENT_SIZE",
                  zx_object_get_property(rh, ZX_PROP_VMO_CONTENT_SIZE, &a, sizeof(a)), want);
    if (want == ZX_OK) EXPECT_EQ64(d, "content size", a, b);
  }
}

static void op_wait(driver_t* d) {
  int h = pick_handle(d, false);
  bool asserted = false;
  zx_signals_t obs = 0;
  zx_status_t want = m_wait_zero_children(&d->m, h, &asserted);
  char hb[32];
  trace(d, "wait_one(%s, ZERO_CHILDREN, 0) = %s", hname(d, h, hb, sizeof(hb)), sname(want));
  EXPECT_STATUS(d, "zx_object_wait_one",
                zx_object_wait_one(real_handle(d, h), ZX_VMO_ZERO_CHILDREN, 0, &obs), want);
  if (want == ZX_OK || want == ZX_ERR_TIMED_OUT) {
    EXPECT_EQ64(d, "observed ZERO_CHILDREN", (obs & ZX_VMO_ZERO_CHILDREN) != 0, asserted);
  }
}

static void op_info(driver_t* d) {
  int h = pick_handle(d, true);
  char hb[32];
  trace(d, "verify(%s)", hname(d, h, hb, sizeof(hb)));
  if (h >= 0) {
    verify_handle(d, h);
    return;
  }
  zx_info_vmo_t info;
  m_info_t mi;
  EXPECT_STATUS(d, "ZX_INFO_VMO",
                zx_object_get_info(real_handle(d, h), ZX_INFO_VMO, &info, sizeof(info), NULL, NULL),
                m_vmo_info(&d->m, h, &mi));
}

// ---- mappings (§12) ----

static uint8_t* map_addr(driver_t* d, int id, uint64_t page) {
  return (uint8_t*)(d->vmar_base + (d->m.maps[id].base + page) * PG);
}

static const char* mname(driver_t* d, int id, char* buf, size_t n) {
  const mmap_t* p = &d->m.maps[id];
  snprintf(buf, n, "map#%u(vmo#%u @%#" PRIx64 "+%" PRIu64 "p %s%s)", p->seq, d->m.v[p->vmo].seq,
           p->base * PG, p->pages, p->perms & ZX_VM_PERM_READ ? "R" : "-",
           p->perms & ZX_VM_PERM_WRITE ? "W" : "-");
  return buf;
}

// Every page of every mapping that may be read without a fault shows exactly what the
// model's VMO holds there (§12 "Through a mapping a VMO behaves exactly as through
// zx_vmo_read/zx_vmo_write, at every moment").
static void verify_maps(driver_t* d) {
  for (int id = 0; id < M_MAX_MAPS; id++) {
    const mmap_t* p = &d->m.maps[id];
    if (!p->used) continue;
    for (uint64_t i = 0; i < p->pages; i++) {
      if (!m_map_page_ok(&d->m, id, i, false)) continue;
      m_map_read(&d->m, p->vmo, d->buf_b, (p->voff + i) * PG, PG);
      const uint8_t* a = map_addr(d, id, i);
      if (memcmp(a, d->buf_b, PG) != 0) {
        uint64_t k = 0;
        while (a[k] == d->buf_b[k]) k++;
        char mb[96];
        fail(d, "%s page %" PRIu64 " (VMO byte %#" PRIx64 "): zxvmo %#x, model %#x",
             mname(d, id, mb, sizeof(mb)), i, (p->voff + i) * PG + k, a[k], d->buf_b[k]);
      }
    }
  }
}

// The n-th mapping record (in record order), or -1 when there is none.
static int pick_map(driver_t* d) {
  uint8_t b = u8(d);
  int n = m_map_count(&d->m);
  if (n == 0) return -1;
  int k = b % n;
  for (int i = 0; i < M_MAX_MAPS; i++) {
    if (d->m.maps[i].used && k-- == 0) return i;
  }
  return -1;
}

// A run of whole pages [*first, *first + *npages) of mapping id: all of it, a head, a
// tail, a middle part or one page. With `splits` false only all of it (the model's
// records are nearly used up).
static void gen_map_pages(driver_t* d, int id, bool splits, uint64_t* first, uint64_t* npages) {
  uint64_t n = d->m.maps[id].pages;
  uint8_t k = splits ? u8(d) % 6 : 0;
  uint64_t a = 0, b = n;
  switch (k) {
    case 0: case 1: break;
    case 2: b = 1 + u8(d) % n; break;                    // head
    case 3: a = u8(d) % n; break;                        // tail
    case 4: a = u8(d) % n; b = a + 1 + u8(d) % (n - a); break;  // middle
    default: a = u8(d) % n; b = a + 1; break;            // one page
  }
  *first = d->m.maps[id].base + a;
  *npages = b - a;
}

// A run of up to MAX_RW bytes inside mapping id where every page may be accessed
// (write: written): false if the mapping has no such page.
static bool gen_map_bytes(driver_t* d, int id, bool write, uint64_t* off, uint64_t* len) {
  const mmap_t* p = &d->m.maps[id];
  uint8_t k = u8(d);
  uint64_t n = p->pages;
  uint64_t start = k % n;
  uint64_t i = start;
  // The first good page at or after `start` (wrapping).
  for (uint64_t t = 0; t < n; t++, i = (i + 1) % n) {
    if (m_map_page_ok(&d->m, id, i, write)) break;
  }
  if (!m_map_page_ok(&d->m, id, i, write)) return false;
  uint64_t run = 1;
  while (run < 3 && i + run < n && m_map_page_ok(&d->m, id, i + run, write)) run++;
  uint64_t room = run * PG;
  uint64_t o = u16(d) % room;
  if (u8(d) & 1) o = o - o % PG;  // page aligned half of the time
  uint64_t l = (uint64_t)u16(d) % (room - o) + 1;
  if ((k & 0xc0) == 0xc0) l = room - o;  // to the end of the run
  *off = i * PG + o;  // byte offset from the mapping's base
  *len = l;
  return true;
}

// Whether a copy of `len` bytes from VMO src at soff to VMO dst at doff is
// order-dependent: some byte would be written where a byte still to be read (or
// already read) lives, seen through any child relation. The reference leaves the
// result of such overlapping copies open, so they are not made.
static bool copy_overlaps(driver_t* d, int src, uint64_t soff, int dst, uint64_t doff,
                          uint64_t len) {
  if (len == 0) return false;
  for (uint64_t sp = soff / PG; sp <= (soff + len - 1) / PG; sp++) {
    uint64_t sa = sp * PG > soff ? sp * PG : soff;
    uint64_t sb = (sp + 1) * PG < soff + len ? (sp + 1) * PG : soff + len;
    for (uint64_t dp = doff / PG; dp <= (doff + len - 1) / PG; dp++) {
      uint64_t da = dp * PG > doff ? dp * PG : doff;
      uint64_t db = (dp + 1) * PG < doff + len ? (dp + 1) * PG : doff + len;
      if (!m_page_aliases(&d->m, src, sp, dst, dp)) continue;
      // In-page byte ranges of the two sides.
      uint64_t x0 = sa - sp * PG, x1 = sb - sp * PG, y0 = da - dp * PG, y1 = db - dp * PG;
      if (x0 < y1 && y0 < x1) return true;
    }
  }
  return false;
}

// Free runs of at least `pages` pages in the driver's VMAR: the k-th one's first page,
// or -1.
static int64_t free_spot(driver_t* d, uint64_t pages, uint8_t k) {
  int64_t starts[M_VMAR_PAGES];
  int n = 0;
  uint64_t x = 0;
  while (x < M_VMAR_PAGES) {
    if (m_map_at(&d->m, x) >= 0) { x++; continue; }
    uint64_t e = x;
    while (e < M_VMAR_PAGES && m_map_at(&d->m, e) < 0) e++;
    if (e - x >= pages) {
      // Its start, and sometimes a spot inside it.
      starts[n++] = (int64_t)x;
      if (e - x > pages) starts[n++] = (int64_t)(x + (e - x - pages) / 2);
    }
    x = e;
  }
  return n ? starts[k % n] : -1;
}

// Writes fresh bytes through mapping id at a random writable spot (or nothing when it
// has none), right after the operation that made it or emptied its pages: the write
// then meets a page the mapping never touched.
static void touch_map(driver_t* d, int id) {
  uint64_t off, len;
  if (id < 0 || !gen_map_bytes(d, id, true, &off, &len)) return;
  const mmap_t* p = &d->m.maps[id];
  uint8_t v = u8(d);
  fill(d->buf_a, len, v);
  char mb[96];
  trace(d, "  write through %s at +%#" PRIx64 ", len=%#" PRIx64 ", fill=%#x",
        mname(d, id, mb, sizeof(mb)), off, len, v);
  memcpy((uint8_t*)(d->vmar_base + p->base * PG + off), d->buf_a, len);
  m_map_write(&d->m, p->vmo, d->buf_a, p->voff * PG + off, len);
}

static void op_unmap_one(driver_t* d, int id) {
  char mb[96];
  const mmap_t* p = &d->m.maps[id];
  uint64_t off = p->base * PG, len = p->pages * PG;
  trace(d, "unmap(%s) (room for new mappings)", mname(d, id, mb, sizeof(mb)));
  EXPECT_STATUS(d, "zx_vmar_unmap", zx_vmar_unmap(d->vmar, d->vmar_base + off, len),
                m_vmar_unmap(&d->m, off, len));
}

static void op_map(driver_t* d) {
  if (m_map_count(&d->m) >= DRV_MAX_MAPS) {
    int id = pick_map(d);
    if (id >= 0) op_unmap_one(d, id);
    return;
  }
  int h = pick_handle(d, true);
  uint8_t k = u8(d);
  uint8_t f = u8(d);
  uint32_t perms;
  switch (k % 8) {
    case 0: case 1: case 2: perms = ZX_VM_PERM_READ; break;
    case 7: perms = k & 0x80 ? ZX_VM_PERM_WRITE : 0; break;  // INVALID_ARGS / no perms
    default: perms = ZX_VM_PERM_READ | ZX_VM_PERM_WRITE; break;
  }
  uint64_t size = hsize(d, h);
  uint64_t vmo_off;
  switch ((k >> 3) % 8) {
    case 0: case 1: case 2: vmo_off = 0; break;
    case 3: case 4: vmo_off = (uint64_t)(u8(d) % (size / PG + 1)) * PG; break;
    case 5: vmo_off = size + (uint64_t)(u8(d) % 3) * PG; break;  // at or past the end
    case 6: vmo_off = (u8(d) & 1) ? huge(d, u8(d)) & ~(PG - 1) : PG / 2; break;
    default: vmo_off = (uint64_t)(u8(d) % 24) * PG; break;
  }
  uint64_t len;
  uint64_t rest = vmo_off < size ? size - vmo_off : 0;
  switch (f % 8) {
    case 0: case 1: case 2: len = rest ? rest : PG; break;                  // to the end
    case 3: len = rest + (uint64_t)(1 + u8(d) % 3) * PG; break;             // past the end
    case 4: case 5: len = (uint64_t)(1 + u8(d) % 24) * PG; break;
    case 6: len = (uint64_t)(u8(d) % 4) * PG + 1 + u16(d) % (PG - 1); break;  // rounded up
    default: len = (u8(d) & 3) == 0 ? 0 : (uint64_t)(1 + u8(d) % 4) * PG; break;
  }
  if (len > 40 * PG) len = 40 * PG;
  if (m_tolerates(&d->m, M_BUG_MAP_FAR_OFFSET) && vmo_off >= ((uint64_t)1 << 40) &&
      (len + PG - 1) / PG * PG <= UINT64_MAX - vmo_off) {  // no overflow: would map
    vmo_off = size + PG;  // past the end, but not far
  }
  bool specific = (f & 0x18) == 0x18;
  uint64_t vmar_off = 0;
  if (specific) {
    uint8_t s = u8(d);
    uint64_t pages = (len + PG - 1) / PG;
    int64_t spot = free_spot(d, pages ? pages : 1, s);
    switch (s % 8) {
      case 0: vmar_off = (uint64_t)(u8(d) % M_VMAR_PAGES) * PG; break;  // maybe taken
      case 1: vmar_off = (uint64_t)(M_VMAR_PAGES - u8(d) % 4) * PG; break;  // past the end
      case 2: vmar_off = spot >= 0 ? (uint64_t)spot * PG + PG / 2 : PG / 2; break;  // unaligned
      default: vmar_off = spot >= 0 ? (uint64_t)spot * PG : 0; break;
    }
  }
  bool touch = (f & 0x20) != 0;
  uint32_t opts = perms | (specific ? ZX_VM_SPECIFIC : 0);
  int id = -1;
  zx_status_t want = m_vmar_map(&d->m, h, perms, specific, vmar_off, vmo_off, len, &id);
  zx_vaddr_t addr = 0;
  zx_status_t got = zx_vmar_map(d->vmar, opts, vmar_off, real_handle(d, h), vmo_off, len, &addr);
  char hb[32];
  trace(d, "vmar_map(%s%s%s, vmar_off=%#" PRIx64 ", %s, vmo_off=%#" PRIx64 ", len=%#" PRIx64
        ") = %s map#%u @%#" PRIx64, perms & ZX_VM_PERM_READ ? "R" : "", perms & ZX_VM_PERM_WRITE ? "W" : "",
        specific ? "|SPECIFIC" : "", vmar_off, hname(d, h, hb, sizeof(hb)), vmo_off, len,
        sname(want), want == ZX_OK ? d->m.maps[id].seq : 0,
        got == ZX_OK ? (uint64_t)(addr - d->vmar_base) : 0);
  EXPECT_STATUS(d, "zx_vmar_map", got, want);
  if (got != ZX_OK) return;
  d->mapped = true;
  if (addr < d->vmar_base || !m_map_place(&d->m, id, addr - d->vmar_base)) {
    fail(d, "zx_vmar_map put map#%u at %#lx: not a free page-aligned range of the VMAR at "
         "%#lx (or not the SPECIFIC address)", d->m.maps[id].seq, (unsigned long)addr,
         (unsigned long)d->vmar_base);
  }
  if (touch) touch_map(d, id);
}

static void op_unmap(driver_t* d) {
  int id = pick_map(d);
  uint8_t k = u8(d);
  uint64_t first, npages;
  if (id < 0 || k % 16 == 15) {
    // A range that may hold anything: gaps, parts of mappings.
    first = u16(d) % M_VMAR_PAGES;
    npages = 1 + u8(d) % 8;
    if (first + npages > M_VMAR_PAGES) npages = M_VMAR_PAGES - first;
    if (m_map_count(&d->m) > M_MAX_MAPS - 3) return;
  } else {
    bool splits = m_map_count(&d->m) <= M_MAX_MAPS - 3;
    gen_map_pages(d, id, splits, &first, &npages);
    // Sometimes on into whatever follows (a gap, another mapping).
    if (splits && k % 16 == 14) npages += 1 + u8(d) % 4;
    if (first + npages > M_VMAR_PAGES) npages = M_VMAR_PAGES - first;
  }
  uint64_t off = first * PG, len = npages * PG;
  if (k & 0x80) len -= PG - 1 - u8(d) % (PG - 1);  // unaligned: rounded up
  if (k == 0x70) len = 0;
  trace(d, "vmar_unmap(+%#" PRIx64 ", len=%#" PRIx64 ")", off, len);
  EXPECT_STATUS(d, "zx_vmar_unmap", zx_vmar_unmap(d->vmar, d->vmar_base + off, len),
                m_vmar_unmap(&d->m, off, len));
}

static void op_protect(driver_t* d) {
  int id = pick_map(d);
  if (id < 0) return;
  uint8_t k = u8(d);
  uint32_t perms;
  switch (k % 8) {
    case 0: case 1: case 2: perms = ZX_VM_PERM_READ; break;
    case 3: case 4: case 5: perms = ZX_VM_PERM_READ | ZX_VM_PERM_WRITE; break;
    case 6: perms = 0; break;
    default: perms = ZX_VM_PERM_WRITE; break;
  }
  bool splits = m_map_count(&d->m) <= M_MAX_MAPS - 3;
  uint64_t first, npages;
  gen_map_pages(d, id, splits, &first, &npages);
  if (splits && (k & 0x30) == 0x30) npages += 1 + u8(d) % 4;  // on past its end
  if (first + npages > M_VMAR_PAGES) npages = M_VMAR_PAGES - first;
  uint64_t off = first * PG, len = npages * PG;
  zx_status_t want = m_vmar_protect(&d->m, perms, off, len);
  zx_status_t got = zx_vmar_protect(d->vmar, perms, d->vmar_base + off, len);
  trace(d, "vmar_protect(%s%s, +%#" PRIx64 ", len=%#" PRIx64 ") = %s",
        perms & ZX_VM_PERM_READ ? "R" : "-", perms & ZX_VM_PERM_WRITE ? "W" : "-", off, len,
        want == M_UNMODELLED ? "NOT_FOUND or ACCESS_DENIED" : sname(want));
  if (want == M_UNMODELLED) {
    if (got != ZX_ERR_NOT_FOUND && got != ZX_ERR_ACCESS_DENIED) {
      fail(d, "zx_vmar_protect: zxvmo %s, model NOT_FOUND or ACCESS_DENIED", sname(got));
    }
    return;
  }
  EXPECT_STATUS(d, "zx_vmar_protect", got, want);
}

// The kernel may refuse a page fill with EAGAIN when its page tables change under the
// call; `busy` fills in a row are refused this way (the fault path retries, then fills
// through the library's view): what the access sees must not change.
static void busy_fills(driver_t* d, unsigned busy) {
  if (busy) trace(d, "  (the next %u page fills answer EAGAIN)", busy);
  os_busy_fills(busy);
}

static void op_map_read(driver_t* d, unsigned busy) {
  int id = pick_map(d);
  uint64_t off, len;
  if (id < 0 || !gen_map_bytes(d, id, false, &off, &len)) return;
  const mmap_t* p = &d->m.maps[id];
  char mb[96];
  trace(d, "read through %s at +%#" PRIx64 ", len=%#" PRIx64, mname(d, id, mb, sizeof(mb)),
        off, len);
  busy_fills(d, busy);
  memcpy(d->buf_a, (const uint8_t*)(d->vmar_base + p->base * PG + off), len);
  os_busy_fills(0);
  m_map_read(&d->m, p->vmo, d->buf_b, p->voff * PG + off, len);
  if (memcmp(d->buf_a, d->buf_b, len) != 0) {
    uint64_t i = 0;
    while (d->buf_a[i] == d->buf_b[i]) i++;
    fail(d, "read through the mapping: VMO byte %#" PRIx64 ": zxvmo %#x, model %#x",
         p->voff * PG + off + i, d->buf_a[i], d->buf_b[i]);
  }
}

static void op_map_write(driver_t* d, unsigned busy) {
  int id = pick_map(d);
  busy_fills(d, busy);
  touch_map(d, id);
  os_busy_fills(0);
}

// zx_vmo_read(h) into mapped memory, or zx_vmo_write(h) from it (§12: a buffer in a
// mapping is an ordinary buffer, whatever VMO it shows, h's own included).
static void op_vmo_rw_mapped(driver_t* d, bool read) {
  int h = pick_handle(d, true);
  int id = pick_map(d);
  uint64_t moff, len;
  // vmo_read writes into the buffer, vmo_write reads it.
  if (id < 0 || !gen_map_bytes(d, id, read, &moff, &len)) return;
  const mmap_t* p = &d->m.maps[id];
  uint64_t off = gen_off(d, hsize(d, h));
  uint8_t* addr = (uint8_t*)(d->vmar_base + p->base * PG + moff);
  uint64_t mvoff = p->voff * PG + moff;  // the buffer's offset in the mapped VMO
  char hb[32], mb[96];
  if (h >= 0) {
    int hv = d->m.h[h].vmo;
    bool overlap = read ? copy_overlaps(d, hv, off, p->vmo, mvoff, len)
                        : copy_overlaps(d, p->vmo, mvoff, hv, off, len);
    if (overlap) {
      trace(d, "vmo_%s(%s, off=%#" PRIx64 ", len=%#" PRIx64 ") through %s: skipped (the "
            "copy overlaps itself)", read ? "read" : "write", hname(d, h, hb, sizeof(hb)),
            off, len, mname(d, id, mb, sizeof(mb)));
      return;
    }
  }
  zx_status_t want;
  if (read) {
    want = m_vmo_read(&d->m, h, d->buf_b, off, len);
    if (want == ZX_OK) m_map_write(&d->m, p->vmo, d->buf_b, mvoff, len);
  } else {
    m_map_read(&d->m, p->vmo, d->buf_b, mvoff, len);
    want = m_vmo_write(&d->m, h, d->buf_b, off, len);
  }
  trace(d, "vmo_%s(%s, off=%#" PRIx64 ", len=%#" PRIx64 ") with the buffer in %s at +%#"
        PRIx64 " = %s", read ? "read" : "write", hname(d, h, hb, sizeof(hb)), off, len,
        mname(d, id, mb, sizeof(mb)), moff, sname(want));
  zx_status_t got = read ? zx_vmo_read(real_handle(d, h), addr, off, len)
                         : zx_vmo_write(real_handle(d, h), addr, off, len);
  EXPECT_STATUS(d, read ? "zx_vmo_read into a mapping" : "zx_vmo_write from a mapping", got,
                want);
}

// zx_vmo_read into mapped memory that cannot be written: read-only or inaccessible,
// past its VMO's end, or not mapped at all. §12: "ZX_ERR_INVALID_ARGS ..., not a
// crash". Only buffers no byte of which can be written, so that nothing changes.
static void op_vmo_read_bad_buffer(driver_t* d) {
  int h = pick_handle(d, true);
  uint8_t k = u8(d);
  uint64_t first = u16(d) % M_VMAR_PAGES;
  uint64_t npages = 1 + k % 3;
  if (first + npages > M_VMAR_PAGES) first = M_VMAR_PAGES - npages;
  if (k & 0x80) {
    // Start in a mapping: one of its pages that cannot be written.
    int id = pick_map(d);
    if (id >= 0) {
      const mmap_t* p = &d->m.maps[id];
      uint64_t i = u8(d) % p->pages;
      for (uint64_t t = 0; t < p->pages && m_map_page_ok(&d->m, id, i, true); t++) {
        i = (i + 1) % p->pages;
      }
      first = p->base + i;
      if (first + npages > M_VMAR_PAGES) npages = M_VMAR_PAGES - first;
    }
  }
  for (uint64_t x = first; x < first + npages; x++) {
    int id = m_map_at(&d->m, x);
    if (id >= 0 && m_map_page_ok(&d->m, id, x - d->m.maps[id].base, true)) return;
  }
  uint64_t off = gen_off(d, hsize(d, h));
  uint64_t inpage = u16(d) % PG;
  uint64_t len = 1 + u16(d) % (npages * PG - inpage);
  // A pager-backed VMO brings in only the pages of the chunk the copy failed in: left
  // out (the reference leaves which pages open).
  if (h >= 0 && d->m.v[d->m.h[h].vmo].pbacked) return;
  zx_status_t want = m_vmo_read(&d->m, h, d->buf_b, off, len);
  if (want == ZX_OK) want = ZX_ERR_INVALID_ARGS;
  char hb[32];
  trace(d, "vmo_read(%s, off=%#" PRIx64 ", len=%#" PRIx64 ") into unwritable +%#" PRIx64
        " = %s", hname(d, h, hb, sizeof(hb)), off, len, first * PG + inpage, sname(want));
  EXPECT_STATUS(d, "zx_vmo_read into an unwritable buffer",
                zx_vmo_read(real_handle(d, h), (void*)(d->vmar_base + first * PG + inpage), off,
                            len),
                want);
}

static const char* vmar_op_name(uint32_t op) {
  switch (op) {
    case ZX_VMAR_OP_COMMIT: return "COMMIT";
    case ZX_VMAR_OP_DECOMMIT: return "DECOMMIT";
    case ZX_VMAR_OP_ZERO: return "ZERO";
    case ZX_VMAR_OP_MAP_RANGE: return "MAP_RANGE";
    case ZX_VMAR_OP_PREFETCH: return "PREFETCH";
    case ZX_VMAR_OP_DONT_NEED: return "DONT_NEED";
    default: return "ALWAYS_NEED";
  }
}

static void op_vmar_op_range(driver_t* d) {
  int id = pick_map(d);
  uint8_t k = u8(d);
  static const uint32_t ops[] = {
      ZX_VMAR_OP_COMMIT,   ZX_VMAR_OP_COMMIT,   ZX_VMAR_OP_DECOMMIT,  ZX_VMAR_OP_DECOMMIT,
      ZX_VMAR_OP_ZERO,     ZX_VMAR_OP_ZERO,     ZX_VMAR_OP_MAP_RANGE, ZX_VMAR_OP_PREFETCH,
      ZX_VMAR_OP_DONT_NEED, ZX_VMAR_OP_ALWAYS_NEED,
  };
  uint32_t op = ops[k % (sizeof(ops) / sizeof(ops[0]))];
  uint64_t first, npages;
  if (id < 0 || (k & 0xf0) == 0xf0) {
    first = u16(d) % M_VMAR_PAGES;  // anywhere: a gap is BAD_STATE
    npages = 1;
  } else {
    gen_map_pages(d, id, true, &first, &npages);
  }
  uint64_t off = first * PG, len = npages * PG;
  if (op == ZX_VMAR_OP_ZERO && !d->zero_ops) {
    for (uint64_t x = first; x < first + npages; x++) {
      int i = m_map_at(&d->m, x);
      if (i >= 0 && d->m.v[d->m.maps[i].vmo].pbacked) {
        trace(d, "vmar_op_range(ZERO) over a pager-backed VMO: skipped (zero ranges are off)");
        return;
      }
    }
  }
  zx_status_t want = m_vmar_op_range(&d->m, op, off, len);
  trace(d, "vmar_op_range(%s, +%#" PRIx64 ", len=%#" PRIx64 ") = %s", vmar_op_name(op), off,
        len, sname(want));
  EXPECT_STATUS(d, "zx_vmar_op_range",
                zx_vmar_op_range(d->vmar, op, d->vmar_base + off, len, NULL, 0), want);
  if (want == ZX_OK && (k & 0x08) && id >= 0) touch_map(d, id);
}

// ---- user pagers (format 3) ----

// The service's failure, kept for the driver thread to report (it cannot abort with
// the trace from the service thread without racing the driver's own report).
static void svc_error(driver_t* d, const char* what, uint64_t key, zx_status_t st) {
  if (d->svc_error[0]) return;
  snprintf(d->svc_error, sizeof(d->svc_error), "pager service: %s (key %" PRIu64 "): %s", what,
           key, sname(st));
}

// Supplies pages [a, b) of e's VMO with the seed's content: an aux VMO holds it, and
// pages of class M_PG_ZERO are left uncommitted there (zeros without memory).
static void svc_supply(driver_t* d, const drv_svc_t* e, uint64_t a, uint64_t b) {
  zx_handle_t aux;
  zx_status_t st = zx_vmo_create((b - a) * PG, 0, &aux);
  if (st != ZX_OK) {
    svc_error(d, "aux zx_vmo_create", e->key, st);
    return;
  }
  uint8_t* page = malloc(PG);
  if (!page) abort();
  for (uint64_t x = a; x < b; x++) {
    if (m_pager_class(e->seed, e->may_fail, x) != M_PG_NORMAL) continue;
    for (uint64_t i = 0; i < PG; i++) page[i] = m_pager_byte(e->seed, x * PG + i);
    st = zx_vmo_write(aux, page, (x - a) * PG, PG);
    if (st != ZX_OK) svc_error(d, "aux zx_vmo_write", e->key, st);
  }
  free(page);
  st = zx_pager_supply_pages(d->pager, e->vmo, a * PG, (b - a) * PG, aux, 0);
  if (st != ZX_OK) svc_error(d, "zx_pager_supply_pages", e->key, st);
  zx_handle_close(aux);
}

// One request: READ supplies the pages up to the first failing one and FAILs the rest
// with ZX_ERR_IO (model.h); DIRTY is granted with ZX_PAGER_OP_DIRTY.
static void svc_serve(driver_t* d, const zx_port_packet_t* p) {
  const drv_svc_t* e = NULL;
  for (int i = 0; i < M_MAX_VMOS; i++) {
    if (d->svc[i].used && d->svc[i].key == p->key) e = &d->svc[i];
  }
  const zx_packet_page_request_t* r = &p->page_request;
  if (!e || r->command == ZX_PAGER_VMO_COMPLETE) return;  // over, or a VMO now gone
  uint64_t a = r->offset / PG, b = (r->offset + r->length) / PG;
  if (r->offset % PG || r->length % PG || a >= b) {
    svc_error(d, "a request not of whole pages", e->key, ZX_ERR_INVALID_ARGS);
    return;
  }
  if (r->command == ZX_PAGER_VMO_READ) {
    uint64_t f = a;
    while (f < b && m_pager_class(e->seed, e->may_fail, f) != M_PG_FAIL) f++;
    if (f > a) svc_supply(d, e, a, f);
    if (f < b) {
      zx_status_t st = zx_pager_op_range(d->pager, ZX_PAGER_OP_FAIL, e->vmo, f * PG,
                                         (b - f) * PG, (uint64_t)(int64_t)ZX_ERR_IO);
      if (st != ZX_OK) svc_error(d, "ZX_PAGER_OP_FAIL", e->key, st);
    }
  } else if (r->command == ZX_PAGER_VMO_DIRTY) {
    zx_status_t st = zx_pager_op_range(d->pager, ZX_PAGER_OP_DIRTY, e->vmo, a * PG,
                                       (b - a) * PG, 0);
    if (st != ZX_OK) {
      svc_error(d, "ZX_PAGER_OP_DIRTY for a DIRTY request", e->key, st);
      // Release the writer rather than leave it blocked: the report follows.
      zx_pager_op_range(d->pager, ZX_PAGER_OP_FAIL, e->vmo, a * PG, (b - a) * PG,
                        (uint64_t)(int64_t)ZX_ERR_IO);
    }
  } else {
    svc_error(d, "unknown command", e->key, ZX_ERR_NOT_SUPPORTED);
  }
}

static void* svc_main(void* arg) {
  driver_t* d = arg;
  for (;;) {
    zx_port_packet_t p;
    zx_status_t st = zx_port_wait(d->port, ZX_TIME_INFINITE, &p);
    if (st != ZX_OK) {
      svc_error(d, "zx_port_wait", 0, st);
      return NULL;
    }
    if (p.type == ZX_PKT_TYPE_USER) return NULL;  // driver_fini
    if (p.type != ZX_PKT_TYPE_PAGE_REQUEST) continue;
    pthread_mutex_lock(&d->svc_lock);
    svc_serve(d, &p);
    pthread_mutex_unlock(&d->svc_lock);
  }
}

// The pager (a new one after a close), with the port and the service thread at first.
static void ensure_pager(driver_t* d) {
  if (!d->service_running) {
    zx_status_t st = zx_port_create(0, &d->port);
    if (st != ZX_OK) fail(d, "zx_port_create: %s", sname(st));
    pthread_mutex_init(&d->svc_lock, NULL);
    if (pthread_create(&d->service, NULL, svc_main, d) != 0) fail(d, "pthread_create");
    d->service_running = true;
  }
  if (d->pager != ZX_HANDLE_INVALID) return;
  pthread_mutex_lock(&d->svc_lock);
  zx_status_t st = zx_pager_create(0, &d->pager);
  pthread_mutex_unlock(&d->svc_lock);
  if (st != ZX_OK) fail(d, "zx_pager_create: %s", sname(st));
  m_pager_new(&d->m);
  trace(d, "  (new pager)");
}

static void close_pager(driver_t* d) {
  if (d->pager == ZX_HANDLE_INVALID) return;
  trace(d, "close(pager)");
  pthread_mutex_lock(&d->svc_lock);
  zx_status_t st = zx_handle_close(d->pager);
  d->pager = ZX_HANDLE_INVALID;
  pthread_mutex_unlock(&d->svc_lock);
  EXPECT_STATUS(d, "zx_handle_close(pager)", st, ZX_OK);
  m_pager_close(&d->m);
}

// The service's handles of pager VMOs the model says died: closed now (the library's
// VMO dies with them, just after the model's).
static void svc_sync(driver_t* d) {
  if (d->svc_error[0]) fail(d, "%s", d->svc_error);
  for (int i = 0; i < M_MAX_VMOS; i++) {
    drv_svc_t* e = &d->svc[i];
    if (!e->used) continue;
    const mvmo_t* v = &d->m.v[i];
    if (v->used && v->alive && v->seq == e->key) continue;
    pthread_mutex_lock(&d->svc_lock);
    zx_handle_close(e->vmo);
    e->used = false;
    pthread_mutex_unlock(&d->svc_lock);
  }
}

// The pager handle to pass: mostly the driver's, sometimes an event (WRONG_TYPE).
static int pick_pager(driver_t* d, zx_handle_t* out) {
  if (u8(d) % 16 == 15) {
    *out = d->event;
    return M_H_WRONG_TYPE;
  }
  *out = d->pager;
  return d->pager == ZX_HANDLE_INVALID ? M_H_INVALID : 0;
}

static void op_pager_create(driver_t* d) {
  uint64_t size = gen_size(d);
  uint8_t k = u8(d);
  uint8_t seed = u8(d);
  uint32_t opts;
  switch (k % 8) {
    case 0: case 1: case 2: opts = 0; break;
    case 3: opts = ZX_VMO_RESIZABLE; break;
    case 4: case 5: opts = ZX_VMO_TRAP_DIRTY; break;
    case 6: {
      static const uint32_t odd[] = {ZX_VMO_UNBOUNDED, ZX_VMO_RESIZABLE | ZX_VMO_UNBOUNDED,
                                     1u << 0, ZX_VMO_DISCARDABLE, 1u << 5, 0x80000000u};
      opts = odd[u8(d) % (sizeof(odd) / sizeof(odd[0]))];
      break;
    }
    default: opts = ZX_VMO_RESIZABLE | ZX_VMO_TRAP_DIRTY; break;
  }
  // Failing pages only where the input says so (a quarter of the VMOs).
  bool may_fail = (k & 0x60) == 0x60;
  ensure_pager(d);
  zx_handle_t ph_real;
  int ph = pick_pager(d, &ph_real);
  uint64_t key = d->m.next_seq + 1;  // the seq the model will give it
  int mh = -1;
  zx_handle_t rh = ZX_HANDLE_INVALID;
  zx_status_t want = m_pager_create_vmo(&d->m, ph, opts, size, seed, may_fail, &mh);
  zx_status_t got = zx_pager_create_vmo(ph_real, opts, d->port, key, size, &rh);
  char hb[32];
  if (want == M_UNMODELLED) {
    trace(d, "pager_create_vmo(size=%#" PRIx64 ", opts=%#x) = %s (not modelled; closed)", size,
          opts, sname(got));
    if (got == ZX_OK) zx_handle_close(rh);
    return;
  }
  trace(d, "pager_create_vmo(%s, size=%#" PRIx64 ", opts=%#x, seed=%u%s) = %s %s",
        ph == 0 ? "pager" : "EVENT", size, opts, seed, may_fail ? ", failing pages" : "",
        sname(want), want == ZX_OK ? hname(d, mh, hb, sizeof(hb)) : "");
  EXPECT_STATUS(d, "zx_pager_create_vmo", got, want);
  if (got != ZX_OK) return;
  int id = d->m.h[mh].vmo;
  EXPECT_EQ64(d, "pager VMO seq (port key)", d->m.v[id].seq, key);
  bind_new(d, mh, rh);
  char name[M_NAME_LEN];
  snprintf(name, sizeof(name), "vmo#%u", d->m.v[id].seq);
  EXPECT_STATUS(d, "set ZX_PROP_NAME", zx_object_set_property(rh, ZX_PROP_NAME, name, strlen(name)),
                m_set_name(&d->m, mh, name));
  // The service's own handle: it supplies through it.
  zx_handle_t sh = ZX_HANDLE_INVALID;
  zx_status_t st = zx_handle_duplicate(rh, ZX_RIGHT_SAME_RIGHTS, &sh);
  if (st != ZX_OK) fail(d, "duplicating the pager VMO for the service: %s", sname(st));
  pthread_mutex_lock(&d->svc_lock);
  d->svc[id] = (drv_svc_t){.used = true, .key = key, .vmo = sh, .seed = seed, .may_fail = may_fail};
  pthread_mutex_unlock(&d->svc_lock);
}

static void op_pager_detach(driver_t* d) {
  zx_handle_t ph_real;
  int ph = pick_pager(d, &ph_real);
  int h = pick_handle(d, true);
  zx_status_t want = m_pager_detach(&d->m, ph, h);
  char hb[32];
  trace(d, "pager_detach_vmo(%s) = %s", hname(d, h, hb, sizeof(hb)), sname(want));
  EXPECT_STATUS(d, "zx_pager_detach_vmo", zx_pager_detach_vmo(ph_real, real_handle(d, h)), want);
}

static const char* pager_op_name(uint32_t op) {
  switch (op) {
    case ZX_PAGER_OP_FAIL: return "FAIL";
    case ZX_PAGER_OP_DIRTY: return "DIRTY";
    case ZX_PAGER_OP_WRITEBACK_BEGIN: return "WRITEBACK_BEGIN";
    case ZX_PAGER_OP_WRITEBACK_END: return "WRITEBACK_END";
    default: return "op?";
  }
}

static void op_pager_op_range(driver_t* d) {
  zx_handle_t ph_real;
  int ph = pick_pager(d, &ph_real);
  int h = pick_handle(d, true);
  uint8_t k = u8(d);
  static const uint32_t ops[] = {ZX_PAGER_OP_WRITEBACK_BEGIN, ZX_PAGER_OP_WRITEBACK_BEGIN,
                                 ZX_PAGER_OP_WRITEBACK_END,   ZX_PAGER_OP_WRITEBACK_END,
                                 ZX_PAGER_OP_DIRTY,           ZX_PAGER_OP_DIRTY,
                                 ZX_PAGER_OP_FAIL,            0};
  uint32_t op = ops[k % 8];
  if (op == 0) op = (k & 0x80) ? 5 : 0;
  uint64_t pages = hsize(d, h) / PG;
  uint64_t off, len;
  if ((k & 0x70) == 0x70) {
    off = gen_off(d, hsize(d, h));  // anything: unaligned, past the end, huge
    len = gen_len_any(d, off, hsize(d, h));
  } else {
    off = (uint64_t)(u8(d) % (pages + 2)) * PG;
    len = (uint64_t)(u8(d) % (pages + 2)) * PG;
    if ((k & 0x70) == 0x60) len = off <= pages * PG ? pages * PG - off : 0;  // to the end
  }
  uint64_t data = 0;
  uint8_t db = u8(d);
  switch (op) {
    case ZX_PAGER_OP_FAIL:
      data = db % 8 == 7 ? (db & 0x80 ? 100 : 0) : (uint64_t)(int64_t)ZX_ERR_IO;
      break;
    case ZX_PAGER_OP_WRITEBACK_BEGIN:
      if (db % 8 == 6 && d->zero_ops) data = ZX_VMO_DIRTY_RANGE_IS_ZERO;
      if (db % 8 == 7) data = 2;
      break;
    default:
      if (db % 8 == 7) data = 1;
      break;
  }
  zx_status_t want = m_pager_op_range(&d->m, ph, op, h, off, len, data);
  char hb[32];
  trace(d, "pager_op_range(%s, %s, off=%#" PRIx64 ", len=%#" PRIx64 ", data=%#" PRIx64 ") = %s",
        pager_op_name(op), hname(d, h, hb, sizeof(hb)), off, len, data, sname(want));
  EXPECT_STATUS(d, "zx_pager_op_range",
                zx_pager_op_range(ph_real, op, real_handle(d, h), off, len, data), want);
}

#define MAX_RANGES 8

// zx_pager_query_dirty_ranges over [off, off+len) with room for `cap` ranges.
static void check_dirty_ranges(driver_t* d, int ph, zx_handle_t ph_real, int h, uint64_t off,
                               uint64_t len, size_t cap) {
  zx_vmo_dirty_range_t got[MAX_RANGES];
  uint64_t want_r[MAX_RANGES][3];
  memset(got, 0x5a, sizeof(got));
  size_t actual = 999, avail = 999, m_actual = 0, m_avail = 0;
  zx_status_t want = m_pager_dirty_ranges(&d->m, ph, h, off, len, cap, want_r, &m_actual,
                                          &m_avail);
  zx_status_t st = zx_pager_query_dirty_ranges(ph_real, real_handle(d, h), off, len, got,
                                               cap * sizeof(got[0]), &actual, &avail);
  EXPECT_STATUS(d, "zx_pager_query_dirty_ranges", st, want);
  if (st != ZX_OK) return;
  EXPECT_EQ64(d, "dirty ranges: avail", avail, m_avail);
  EXPECT_EQ64(d, "dirty ranges: actual", actual, m_actual);
  for (size_t i = 0; i < actual; i++) {
    if (got[i].offset != want_r[i][0] || got[i].length != want_r[i][1] ||
        got[i].options != want_r[i][2]) {
      fail(d, "dirty range %zu: zxvmo {%#" PRIx64 ", %#" PRIx64 ", %" PRIu64 "}, model {%#"
           PRIx64 ", %#" PRIx64 ", %" PRIu64 "}", i, got[i].offset, got[i].length,
           got[i].options, want_r[i][0], want_r[i][1], want_r[i][2]);
    }
  }
}

static void op_pager_query(driver_t* d) {
  zx_handle_t ph_real;
  int ph = pick_pager(d, &ph_real);
  int h = pick_handle(d, true);
  uint8_t k = u8(d);
  uint64_t pages = hsize(d, h) / PG;
  uint64_t off, len;
  if ((k & 0x70) == 0x70) {
    off = gen_off(d, hsize(d, h));
    len = gen_len_any(d, off, hsize(d, h));
  } else {
    off = (uint64_t)(u8(d) % (pages + 1)) * PG;
    len = (k & 0x40) ? (uint64_t)(u8(d) % (pages + 2)) * PG : pages * PG - off;
  }
  size_t cap = k % (MAX_RANGES + 1);
  char hb[32];
  trace(d, "pager_query_dirty_ranges(%s, off=%#" PRIx64 ", len=%#" PRIx64 ", cap=%zu)",
        hname(d, h, hb, sizeof(hb)), off, len, cap);
  check_dirty_ranges(d, ph, ph_real, h, off, len, cap);
}

static void op_pager_stats(driver_t* d) {
  zx_handle_t ph_real;
  int ph = pick_pager(d, &ph_real);
  int h = pick_handle(d, true);
  uint8_t k = u8(d);
  uint32_t options = k % 4 == 0 ? 0 : k % 4 == 1 ? ZX_PAGER_RESET_VMO_STATS : k % 4 == 2 ? 0 : 2;
  size_t bs = (k & 0x80) ? 0 : sizeof(zx_pager_vmo_stats_t);
  bool mod = false;
  bool unknown = h >= 0 && d->m.v[d->m.h[h].vmo].mod_unknown;
  zx_status_t want = m_pager_stats(&d->m, ph, h, options, bs, &mod);
  char hb[32];
  trace(d, "pager_query_vmo_stats(%s, options=%#x, size=%zu) = %s modified=%d",
        hname(d, h, hb, sizeof(hb)), options, bs, sname(want), (int)mod);
  zx_pager_vmo_stats_t s = {.modified = 0x5a5a};
  EXPECT_STATUS(d, "zx_pager_query_vmo_stats",
                zx_pager_query_vmo_stats(ph_real, real_handle(d, h), options, &s, bs), want);
  if (want == ZX_OK && !unknown) {
    EXPECT_EQ64(d, "stats.modified", s.modified, mod ? ZX_PAGER_VMO_STATS_MODIFIED : 0);
  }
}

// A child of a pager-backed VMO: one-way children, slices, clones, and the refused
// SNAPSHOT.
static void op_pager_child(driver_t* d) {
  uint8_t b = u8(d);
  int cand[M_MAX_HANDLES], n = 0;
  for (int i = 0; i < M_MAX_HANDLES; i++) {
    if (d->m.h[i].used && d->m.v[d->m.h[i].vmo].pbacked) cand[n++] = i;
  }
  if (n == 0) return;
  int h = cand[b % n];
  d->last_h = h;
  uint8_t k = u8(d);
  static const uint32_t opts_tab[] = {
      ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE,
      ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE,
      ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE | ZX_VMO_CHILD_RESIZABLE,
      ZX_VMO_CHILD_SLICE,
      ZX_VMO_CHILD_SLICE,
      ZX_VMO_CHILD_SNAPSHOT,
      ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE | ZX_VMO_CHILD_NO_WRITE,
      0,  // zx_vmo_clone
  };
  uint32_t opts = opts_tab[k % 8];
  uint64_t pages = hsize(d, h) / PG;
  uint64_t off = (uint64_t)(u8(d) % (pages + 1)) * PG;
  uint64_t size = (k & 0x80) ? (uint64_t)(u8(d) % (pages + 3)) * PG : pages * PG - off;
  int mh = -1;
  zx_handle_t rh = ZX_HANDLE_INVALID;
  zx_status_t want, got;
  if (k % 8 == 7) {
    want = m_vmo_clone(&d->m, h, ZX_VMO_CLONE_COPY_ON_WRITE, off, size, false, &mh);
    got = zx_vmo_clone(d->real[h], ZX_VMO_CLONE_COPY_ON_WRITE, off, size, &rh);
  } else {
    want = m_vmo_create_child(&d->m, h, opts, off, size, false, &mh);
    got = zx_vmo_create_child(d->real[h], opts, off, size, &rh);
  }
  char hb[32], nb[32];
  trace(d, "%s(%s, opts=%#x, off=%#" PRIx64 ", size=%#" PRIx64 ") = %s %s",
        k % 8 == 7 ? "clone" : "create_child", hname(d, h, hb, sizeof(hb)), opts, off, size,
        sname(want), want == ZX_OK ? hname(d, mh, nb, sizeof(nb)) : "");
  EXPECT_STATUS(d, "child of a pager-backed VMO", got, want);
  if (got == ZX_OK) bind_new(d, mh, rh);
}

// After each operation on a pager VMO: its dirty ranges and MODIFIED (not reset).
static void verify_pager(driver_t* d, int h) {
  if (d->pager == ZX_HANDLE_INVALID) return;
  const mvmo_t* v = &d->m.v[d->m.h[h].vmo];
  if (v->pgen != d->m.pager_gen) return;  // another pager's (closed): INVALID_ARGS
  check_dirty_ranges(d, 0, d->pager, h, 0, v->pages * PG, MAX_RANGES);
  if ((d->m.h[h].rights & ZX_RIGHT_READ) && !v->mod_unknown) {
    bool mod = false;
    zx_pager_vmo_stats_t s = {.modified = 0x5a5a};
    EXPECT_STATUS(d, "verify zx_pager_query_vmo_stats",
                  zx_pager_query_vmo_stats(d->pager, d->real[h], 0, &s, sizeof(s)),
                  m_pager_stats(&d->m, 0, h, 0, sizeof(s), &mod));
    EXPECT_EQ64(d, "verify stats.modified", s.modified, mod ? ZX_PAGER_VMO_STATS_MODIFIED : 0);
  }
}

// A handle to verify after an operation besides the one it touched: each live handle
// in turn, so every state is compared within a few operations of changing.
static int rotating(driver_t* d) {
  int n = m_handle_count(&d->m);
  return n ? m_handle_nth(&d->m, (int)(d->ops % (uint64_t)n)) : -1;
}

void driver_run(driver_t* d, const uint8_t* data, size_t n) {
  d->in = data;
  d->n = n;
  d->pos = 0;
  d->format = 1;
  if (n > 0 && data[0] == DRV_FORMAT_MAPS) {
    d->format = 2;
    d->pos = 1;
  } else if (n > 0 && data[0] == DRV_FORMAT_PAGER) {
    d->format = 3;
    d->pos = 1;
  } else if (n > 0 && data[0] == DRV_FORMAT_DRIVER) {
    d->format = 4;
    d->pos = 1;
  } else if (n > 0 && data[0] == DRV_FORMAT_REF) {
    d->format = 5;
    d->pos = 1;
  }
  t_current = d;
  while (d->pos < d->n) {
    uint8_t op = u8(d);
    d->last_h = -1;
    forget_addresses(d);
    bool full = m_handle_count(&d->m) >= DRV_MAX_LIVE;
    // Format 1: 24 operations; format 2: the same 24, then the mapping operations.
    static const unsigned k_ops[] = {24, 24, 40, 48, 64, 80};  // by format
    switch (op % k_ops[d->format]) {
      case 0: case 1: case 2:
        if (full) { close_handle(d, m_handle_nth(&d->m, op % DRV_MAX_LIVE)); break; }
        op_create(d);
        break;
      case 3: case 4: case 5: case 6:
        if (full) { close_handle(d, m_handle_nth(&d->m, op % DRV_MAX_LIVE)); break; }
        op_create_child(d);
        break;
      case 7:
        if (full) { close_handle(d, m_handle_nth(&d->m, op % DRV_MAX_LIVE)); break; }
        op_clone(d);
        break;
      case 8: case 9: case 10: case 11: op_write(d); break;
      case 12: case 13: op_read(d); break;
      case 14: op_set_size(d); break;
      case 15: case 16: case 17: op_op_range(d); break;
      case 18:
        if (full) { close_handle(d, m_handle_nth(&d->m, op % DRV_MAX_LIVE)); break; }
        op_duplicate(d);
        break;
      case 19: case 20: op_close(d); break;
      case 21: op_content_size(d); break;
      case 22: op_wait(d); break;
      case 23:
        if (op & 0x80) {
          op_get_size(d);
        } else {
          op_info(d);
        }
        break;
      // Format 2 only.
      case 24: case 25: case 26: op_map(d); break;
      case 27: case 28: op_unmap(d); break;
      case 29: case 30: op_protect(d); break;
      // The op byte's high part: how many page fills the kernel refuses (0 to 6).
      case 31: op_map_read(d, op / k_ops[d->format]); break;
      case 32: case 33: op_map_write(d, op / k_ops[d->format]); break;
      case 34: op_vmo_rw_mapped(d, true); break;
      case 35: op_vmo_rw_mapped(d, false); break;
      case 36: case 37: op_vmar_op_range(d); break;
      case 38: case 39: op_vmo_read_bad_buffer(d); break;
      // Format 3 only.
      case 40: case 41:
        if (full) { close_handle(d, m_handle_nth(&d->m, op % DRV_MAX_LIVE)); break; }
        if (d->no_pager_vmos) { trace(d, "pager_create_vmo: skipped (no pager VMOs)"); break; }
        op_pager_create(d);
        break;
      case 42: op_pager_detach(d); break;
      case 43: case 44: op_pager_op_range(d); break;
      case 45: op_pager_query(d); break;
      case 46:
        if (u8(d) % 8 == 0) {
          close_pager(d);
        } else {
          op_pager_stats(d);
        }
        break;
      case 47:
        if (full) { close_handle(d, m_handle_nth(&d->m, op % DRV_MAX_LIVE)); break; }
        op_pager_child(d);
        break;
      // Format 4 and 5; 64..79 format 5 only.
      default:
        if (op % k_ops[d->format] >= 64) {
          driver_ref_op(d, (uint8_t)(op % k_ops[d->format]));
        } else {
          // Format 4 passes the opcode as it always did (saved inputs keep their meaning).
          driver_dev_op(d, d->format == 4 ? op : (uint8_t)(op % k_ops[d->format]));
        }
        break;
    }
    if (d->format >= 4) driver_dev_verify(d);
    svc_sync(d);
    d->ops++;
    if (d->ops % 16 == 0 && !m_attribution_conserved(&d->m)) {
      fail(d, "model: scaled bytes over all VMOs do not add up to the pages held (§10)");
    }
    check_global(d, false);
    verify_maps(d);
    forget_addresses(d);
    if (d->verify_all) {
      verify_all(d);
    } else {
      if (d->last_h >= 0 && d->m.h[d->last_h].used) verify_handle(d, d->last_h);
      int h = rotating(d);
      if (h >= 0 && h != d->last_h) verify_handle(d, h);
    }
  }
  verify_all(d);
  t_current = NULL;
  d->in = NULL;
  d->n = d->pos = 0;
}

void driver_init(driver_t* d, bool check_global_) {
  memset(d, 0, sizeof(*d));
  install_abort_handler();
  m_init(&d->m);
  d->buf_a = malloc(MAX_RW);
  d->buf_b = malloc(MAX_RW);
  if (!d->buf_a || !d->buf_b) fail(d, "out of memory for the buffers");
  d->check_global = check_global_;
  d->verify_all = false;
  zx_status_t st = zx_event_create(0, &d->event);
  if (st != ZX_OK) fail(d, "zx_event_create: %s", sname(st));
  // A stale VMO handle value: created and closed at once.
  zx_handle_t h;
  st = zx_vmo_create(0, 0, &h);
  if (st != ZX_OK) fail(d, "zx_vmo_create: %s", sname(st));
  zx_handle_close(h);
  d->stale = h;
  // The driver's own sub-VMAR (§12), so that its addresses are its own.
  st = zx_vmar_allocate(zx_vmar_root_self(),
                        ZX_VM_CAN_MAP_READ | ZX_VM_CAN_MAP_WRITE | ZX_VM_CAN_MAP_SPECIFIC, 0,
                        M_VMAR_PAGES * PG, &d->vmar, &d->vmar_base);
  if (st != ZX_OK) fail(d, "zx_vmar_allocate: %s", sname(st));
  d->pager = ZX_HANDLE_INVALID;
  d->port = ZX_HANDLE_INVALID;
  // Zero-range ops on pager VMOs are on; ZXVMO_FUZZ_PAGER_ZERO=0 turns them off.
  const char* z = getenv("ZXVMO_FUZZ_PAGER_ZERO");
  d->zero_ops = !z || strcmp(z, "0") != 0;
  driver_dev_init(d);
}

void driver_reset(driver_t* d) {
  t_current = d;
  trace(d, "reset: unmapping everything, closing every handle");
  EXPECT_STATUS(d, "zx_vmar_unmap (all)", zx_vmar_unmap(d->vmar, d->vmar_base, M_VMAR_PAGES * PG),
                m_vmar_unmap(&d->m, 0, M_VMAR_PAGES * PG));
  driver_dev_reset(d);
  for (int i = 0; i < M_MAX_HANDLES; i++) {
    if (d->m.h[i].used) close_handle(d, i);
  }
  svc_sync(d);
  // Every run starts without a pager (a pager VMO's first op makes one).
  close_pager(d);
  if (m_pages_in_use(&d->m) != 0) fail(d, "model leaks %" PRIu64 " pages", m_pages_in_use(&d->m));
  for (int i = 0; i < M_MAX_VMOS; i++) {
    if (d->m.v[i].used) fail(d, "model keeps vmo#%u after every handle closed", d->m.v[i].seq);
  }
  check_global(d, true);
  d->mapped = false;  // every page is gone: addresses start afresh
  t_current = NULL;
}

void driver_fini(driver_t* d) {
  driver_reset(d);
  if (d->service_running) {
    zx_port_packet_t p;
    memset(&p, 0, sizeof(p));
    p.type = ZX_PKT_TYPE_USER;
    zx_status_t st = zx_port_queue(d->port, &p);
    if (st != ZX_OK) fail(d, "zx_port_queue (stopping the pager service): %s", sname(st));
    pthread_join(d->service, NULL);
    pthread_mutex_destroy(&d->svc_lock);
    zx_handle_close(d->port);
    d->port = ZX_HANDLE_INVALID;
    d->service_running = false;
  }
  driver_dev_fini(d);
  zx_handle_close(d->event);
  d->event = ZX_HANDLE_INVALID;
  EXPECT_STATUS(d, "zx_vmar_destroy", zx_vmar_destroy(d->vmar), ZX_OK);
  zx_handle_close(d->vmar);
  d->vmar = ZX_HANDLE_INVALID;
  free(d->buf_a);
  free(d->buf_b);
  d->buf_a = d->buf_b = NULL;
}
