// SPDX-License-Identifier: BSD-3-Clause
// What driver.c shares with driver_dev.c (the driver-memory operations of format 4):
// reporting, input decoding and handle bookkeeping. Internal to the fuzzer.
#ifndef ZXVMO_FUZZ_DRIVER_INT_H_
#define ZXVMO_FUZZ_DRIVER_INT_H_

#include <inttypes.h>

#include <zircon/status.h>
#include <zircon/syscalls.h>

#include "driver.h"

// The library's page size (§1: zx_system_get_page_size()); nothing here assumes 4096.
#define PG ((uint64_t)zx_system_get_page_size())
#define MAX_RW (3 * PG)     // longest read or write
#define MAX_LOOKUP 24       // LOOKUP buffer entries

// Names of the shared helpers, kept apart from the library's symbols.
#define trace(...) drv_trace(__VA_ARGS__)
#define fail(...) drv_fail(__VA_ARGS__)
#define sname(...) drv_sname(__VA_ARGS__)
#define u8(...) drv_u8(__VA_ARGS__)
#define u16(...) drv_u16(__VA_ARGS__)
#define u64(...) drv_u64(__VA_ARGS__)
#define pick_handle(...) drv_pick_handle(__VA_ARGS__)
#define real_handle(...) drv_real_handle(__VA_ARGS__)
#define hsize(...) drv_hsize(__VA_ARGS__)
#define fill(...) drv_fill(__VA_ARGS__)
#define hname(...) drv_hname(__VA_ARGS__)
#define bind_new(...) drv_bind_new(__VA_ARGS__)
#define close_handle(...) drv_close_handle(__VA_ARGS__)

void trace(driver_t* d, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
// Divergence: prints the trace, saves the input, aborts.
void fail(driver_t* d, const char* fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
const char* sname(zx_status_t st);
uint8_t u8(driver_t* d);
uint16_t u16(driver_t* d);
uint64_t u64(driver_t* d);
// A model VMO handle: mostly a live one, sometimes M_H_INVALID or M_H_WRONG_TYPE.
int pick_handle(driver_t* d, bool allow_wrong_type);
zx_handle_t real_handle(driver_t* d, int h);
// The model size of h's VMO (0 for a bad handle).
uint64_t hsize(driver_t* d, int h);
void fill(uint8_t* buf, uint64_t len, uint8_t v);
const char* hname(driver_t* d, int h, char* buf, size_t n);
// A new handle appeared in both worlds: bind them and learn the koid.
void bind_new(driver_t* d, int mh, zx_handle_t rh);
void close_handle(driver_t* d, int h);

#define EXPECT_STATUS(d, what, got, want)                                              \
  do {                                                                                 \
    if ((got) != (want)) {                                                             \
      fail(d, "%s: zxvmo %s, model %s", what, sname(got), sname(want));                \
    }                                                                                  \
  } while (0)

#define EXPECT_EQ64(d, what, got, want)                                                \
  do {                                                                                 \
    uint64_t g_ = (uint64_t)(got), w_ = (uint64_t)(want);                              \
    if (g_ != w_) {                                                                    \
      fail(d, "%s: zxvmo %#" PRIx64 " (%" PRIu64 "), model %#" PRIx64 " (%" PRIu64 ")", \
           what, g_, g_, w_, w_);                                                      \
    }                                                                                  \
  } while (0)

// ---- driver_dev.c: driver memory (format 4) ----
// Set up at driver_init (root resource, IOMMU, BTIs, the physical window) and undone
// at driver_fini; driver_dev_reset unpins everything and zeroes the window.
void driver_dev_init(driver_t* d);
void driver_dev_reset(driver_t* d);
void driver_dev_fini(driver_t* d);
// Runs driver-memory operation `op` (48..63).
void driver_dev_op(driver_t* d, uint8_t op);
// After each operation: ZX_INFO_BTI of every BTI.
void driver_dev_verify(driver_t* d);
// A LOOKUP of VMO `vmo` gave address `a` for its page `page` (model record r, NULL for
// physical memory): checks it as §15 and D20 say.
void driver_check_lookup(driver_t* d, int vmo, mrec_t* r, zx_paddr_t a, uint64_t page);
void driver_check_identity(driver_t* d, mrec_t* r, zx_paddr_t a, uint64_t page);

// ---- driver_ref.c: §16 (format 5) ----
// Runs §16 operation `op` (64..79).
void driver_ref_op(driver_t* d, uint8_t op);

#endif  // ZXVMO_FUZZ_DRIVER_INT_H_
