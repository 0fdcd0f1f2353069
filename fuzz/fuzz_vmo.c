// SPDX-License-Identifier: BSD-3-Clause
// libFuzzer entry point: each input is one program for the differential driver,
// run in a fresh world (every handle closed, pages_in_use back to 0 afterwards).
// Any divergence, crash, leak or invariant violation aborts, which libFuzzer reports
// as a crash and saves the input.
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "driver.h"

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // One driver for the whole process (it holds 50 KiB of trace), reset per input.
  static driver_t* d;
  if (!d) {
    d = malloc(sizeof(*d));
    if (!d) abort();
    driver_init(d, true);
    d->name = "fuzz_vmo";
  }
  // Long inputs run slowly and mostly repeat themselves; ~100 operations reach
  // deep enough states.
  if (size > 1024) size = 1024;
  d->ntrace = 0;
  d->ops = 0;
  driver_run(d, data, size);
  driver_reset(d);
  return 0;
}
