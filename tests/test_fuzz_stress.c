// SPDX-License-Identifier: BSD-3-Clause
// The differential driver (fuzz/driver.c) fed from a seeded PRNG: many short
// programs of random operations, each run against zxvmo and the reference model
// (fuzz/model.c) side by side. A divergence aborts with the operation trace and saves
// the program under /tmp, ready to be copied into tests/regressions/.
//
// The driver and model are compiled into this test directly, so tests/CMakeLists.txt
// needs nothing beyond its usual one-file-per-test rule.
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../fuzz/driver.c"
#include "../fuzz/driver_dev.c"
#include "../fuzz/driver_ref.c"
#include "../fuzz/model.c"
#include "../fuzz/model_driver.c"
#include "../fuzz/model_ref.c"

#define OPS_PER_PROGRAM 200
#define BYTES_PER_OP 12  // the driver reads a variable number of bytes per operation

static uint64_t splitmix(uint64_t* s) {
  uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

// Runs programs from `seed` until `max_ops` operations or `budget_s` seconds, whichever
// first (the time bound keeps slow sanitizer builds inside the test timeout). Every
// `reset_every` programs the world is torn down and pages_in_use must reach 0.
static uint64_t run_programs(uint64_t seed, uint64_t max_ops, double budget_s, int reset_every,
                             bool verify_all) {
  const uint64_t seed0 = seed;
  driver_t* d = calloc(1, sizeof(*d));
  cr_assert(d != NULL);
  driver_init(d, true);
  d->verify_all = verify_all;
  d->name = "stress";
  d->no_pager_vmos = true;
  size_t len = OPS_PER_PROGRAM * BYTES_PER_OP;
  uint8_t* prog = malloc(len);
  cr_assert(prog != NULL);
  double start = now_s();
  int programs = 0;
  while (d->ops < max_ops && now_s() - start < budget_s) {
    for (size_t i = 0; i < len; i += 8) {
      uint64_t x = splitmix(&seed);
      memcpy(prog + i, &x, len - i < 8 ? len - i : 8);
    }
    // Two programs in four in the format with mappings (fuzz/driver.h), one with driver
    // memory, the fourth in the original one or (one in eight) with §16's operations.
    if (programs % 4 < 2) prog[0] = DRV_FORMAT_MAPS;
    if (programs % 4 == 2) prog[0] = DRV_FORMAT_DRIVER;  // without pager VMOs (below)
    if (programs % 8 == 3) prog[0] = DRV_FORMAT_REF;     // without pager VMOs either
    d->ntrace = 0;
    driver_run(d, prog, len);
    if (++programs % reset_every == 0) driver_reset(d);
  }
  driver_fini(d);
  uint64_t ops = d->ops;
  fprintf(stderr, "fuzz_stress seed %#llx (start): %llu operations in %d programs, %.1f s\n",
          (unsigned long long)seed0, (unsigned long long)ops, programs, now_s() - start);
  zxvmo_stats_t s;
  zxvmo_get_stats(&s);
  cr_assert_eq(s.pages_in_use, driver_phys_pages_held());
  cr_assert_eq(zxvmo_check_invariants(), ZX_OK);
  free(prog);
  free(d);
  return ops;
}

// Fresh world for every program: many shallow states.
Test(fuzz_stress, short_programs, .timeout = 120) {
  uint64_t ops = run_programs(0x5eed0001, 100000, 40.0, 1, false);
  cr_assert_gt(ops, 1000);
}

// The world persists across 8 programs: deeper families, more deaths and re-homing.
Test(fuzz_stress, long_lived_world, .timeout = 120) {
  uint64_t ops = run_programs(0x5eed0002, 100000, 40.0, 8, false);
  cr_assert_gt(ops, 1000);
}

// Every handle compared after every operation: slower, catches a divergence at the
// exact operation that caused it.
Test(fuzz_stress, verify_everything, .timeout = 120) {
  uint64_t ops = run_programs(0x5eed0003, 50000, 40.0, 2, true);
  cr_assert_gt(ops, 1000);
}

// Different seeds, so each run of the suite covers new ground only if asked to:
// ZXVMO_FUZZ_SEED overrides the fixed seed (reproducible by default).
Test(fuzz_stress, env_seed, .timeout = 120) {
  const char* e = getenv("ZXVMO_FUZZ_SEED");
  uint64_t seed = e ? strtoull(e, NULL, 0) : 0x5eed0004;
  uint64_t ops = run_programs(seed, 100000, 40.0, 4, false);
  cr_assert_gt(ops, 1000);
}
