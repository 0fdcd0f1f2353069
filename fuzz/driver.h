// SPDX-License-Identifier: BSD-3-Clause
// The differential driver: decodes a byte string into VMO operations and runs each
// one against zxvmo and against the reference model (model.h) side by side,
// comparing every observable result. On the first divergence it prints the operation
// trace, writes the input to a file and aborts. Mappings (§12) are made in a sub-VMAR of
// the driver's own; their pages are read and written only where the model knows they
// are mapped with the right protection and inside the VMO's current size, so a wrong
// model faults for real (SIGSEGV/SIGBUS), which the fuzzer reports as a crash.
//
// One driver per thread; its VMOs form families of their own, so several drivers can
// run concurrently as long as check_global is off (pages_in_use and the invariant
// checker are process-wide).
#ifndef ZXVMO_FUZZ_DRIVER_H_
#define ZXVMO_FUZZ_DRIVER_H_

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <zircon/types.h>

#include "model.h"
#include "model_driver.h"

#define DRV_MAX_LIVE 12      // live handles at most
#define DRV_TRACE_LINES 256  // operations kept for the divergence report
#define DRV_TRACE_WIDTH 200
#define DRV_MAX_MAPS 20      // mappings made at most (splits may add a few records)

// Input formats. A program is a sequence of operations, each one opcode byte and its
// arguments. Format 1 (the original; every byte string that does not start with a
// format byte): opcode % 24, VMO and handle operations only. Format 2 (first byte
// DRV_FORMAT_MAPS): opcode % 40, the same 24 operations with the same numbers and
// arguments, then mapping operations 24..39. Saved inputs keep their meaning: a new
// operation gets a new format byte (and a larger modulus), never a renumbering.
#define DRV_FORMAT_MAPS 0xF2
// Format 3 (first byte DRV_FORMAT_PAGER): opcode % 48, the 40 operations of format 2
// with the same numbers and arguments, then user-pager operations 40..47 (pager VMOs
// served by the driver's pager service thread, detach, zx_pager_op_range, the queries,
// closing the pager, children of pager VMOs).
#define DRV_FORMAT_PAGER 0xF3
// Format 4 (first byte DRV_FORMAT_DRIVER): opcode % 64, the 48 operations of format 3
// with the same numbers and arguments, then driver-memory operations 48..63 (physical
// and contiguous VMOs, pins, quarantine, the device's reads and writes, cache policy,
// and the rules pinned memory obeys; driver_dev.c).
#define DRV_FORMAT_DRIVER 0xF4
// Format 5 (first byte DRV_FORMAT_REF): opcode % 80, the 64 operations of format 4 with
// the same numbers and arguments, then §16 operations 64..79 (discardable VMOs, LOCK,
// TRY_LOCK, UNLOCK, discarding under page-budget pressure, zx_vmo_set_stream_size,
// REFERENCE children; driver_ref.c).
#define DRV_FORMAT_REF 0xF5

// The pager service's record of one pager VMO: the service's own handle to it (so
// that it can supply pages; closed when the model says the VMO died) and its content.
typedef struct drv_svc {
  bool used;
  uint64_t key;      // the port key: the model VMO's seq
  zx_handle_t vmo;
  uint8_t seed;
  bool may_fail;
} drv_svc_t;

typedef struct driver {
  model_t m;
  zx_handle_t real[M_MAX_HANDLES];  // library handle for each model handle index
  zx_handle_t stale;                // a closed handle value: BAD_HANDLE
  zx_handle_t event;                // a non-VMO handle: WRONG_TYPE
  // Compare pages_in_use with the model and run zxvmo_check_invariants() after every
  // operation. Needs the driver to be alone in the process.
  bool check_global;
  // Compare every handle's state after every operation (default: only the handle the
  // operation touched plus one more in rotation, and all of them at the end of a run).
  bool verify_all;
  const char* name;                 // tag in reports (thread name)
  const uint8_t* in;
  size_t n, pos;
  uint64_t ops;                     // operations run since init
  int last_h;                       // model handle the current operation touched
  uint8_t* buf_a;                   // two buffers of MAX_RW (3 pages) bytes
  uint8_t* buf_b;
  int format;                       // of the program being run (1 or 2, see above)
  zx_handle_t vmar;                 // the driver's own sub-VMAR: M_VMAR_PAGES pages
  uintptr_t vmar_base;
  bool mapped;                      // a mapping was made since the last reset
  // User pagers (format 3). The pager is made at the first pager VMO of a run and
  // closed at every reset; the port and the service thread live until driver_fini.
  zx_handle_t pager;                // ZX_HANDLE_INVALID when closed
  zx_handle_t port;
  bool service_running;
  pthread_t service;
  pthread_mutex_t svc_lock;         // svc[], pager: the service reads them under it
  drv_svc_t svc[M_MAX_VMOS];        // by model VMO id
  char svc_error[160];              // the service's first failure (reported as divergence)
  // Zero ranges of pager VMOs (growing one, ZX_VMO_OP_ZERO and content-size cuts on
  // pager-backed VMOs, unaligned shrinks, WRITEBACK_BEGIN with IS_ZERO): made unless
  // ZXVMO_FUZZ_PAGER_ZERO=0.
  bool zero_ops;
  // No pager VMOs are made (operations 40 and 41 do nothing): the stress tests run
  // format 4 for driver memory this way, pagers having their own.
  bool no_pager_vmos;
  // Driver memory (format 4, driver_dev.c), made at driver_init: the root resource, an
  // IOMMU, a BTI per model slot plus a weak handle to slot 0's (M_BTI_WEAK), a PMT
  // handle per model PMT (ZX_HANDLE_INVALID once closed), and the driver's window of
  // physical memory, kept mapped (outside the driver's VMAR) to compare its bytes and
  // to zero them at every reset. Every page of the window is committed at init, so
  // the library holds `held_base` pages beyond the model's (for every driver so far).
  zx_handle_t rsrc, iommu;
  zx_handle_t bti[M_BTIS + 1];
  zx_handle_t pmt[M_MAX_PMTS];
  zx_handle_t window_vmo;
  uint8_t* window_map;
  uint64_t held_base;
  uint64_t old_dev;                 // a device address unpinned since (NOT_FOUND)
  char trace[DRV_TRACE_LINES][DRV_TRACE_WIDTH];
  uint64_t ntrace;
} driver_t;

// d must be zeroed or fresh; allocates the event handle, the buffers and the sub-VMAR
// (its own, so that drivers on other threads never take its addresses).
void driver_init(driver_t* d, bool check_global);
// Runs the operations encoded in data[0..n), then compares every live handle.
// Handles stay open across calls (a later call continues the same world).
void driver_run(driver_t* d, const uint8_t* data, size_t n);
// Unmaps everything and closes every handle in both worlds and checks that nothing is left: with
// check_global, pages_in_use must drop to 0 and the invariants hold.
void driver_reset(driver_t* d);
// Pages of emulated physical memory the library holds for every driver made so far
// (each commits its window at driver_init, and physical memory is never freed).
uint64_t driver_phys_pages_held(void);
// driver_reset, then releases the event handle, the buffers and the sub-VMAR.
void driver_fini(driver_t* d);

#endif  // ZXVMO_FUZZ_DRIVER_H_
