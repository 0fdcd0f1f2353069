// SPDX-License-Identifier: BSD-3-Clause
// Replays every input saved in tests/regressions/ through the differential driver
// (fuzz/driver.c against the model in fuzz/model.c). Each file is one program that
// once exposed a bug; it must now run without divergence, crash or leak. The seed
// inputs of fuzz/corpus/ (every input format, the pager's included) are replayed too.
//
// The directories are found relative to this source file (__FILE__), so the test needs
// no compile definition; ZXVMO_REGRESSIONS_DIR in the environment overrides the first.
#include <criterion/criterion.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../fuzz/driver.c"
#include "../fuzz/driver_dev.c"
#include "../fuzz/driver_ref.c"
#include "../fuzz/model.c"
#include "../fuzz/model_driver.c"
#include "../fuzz/model_ref.c"

// `rel` (relative to this file's directory), or `env` from the environment.
static void input_dir(char* out, size_t n, const char* env, const char* rel) {
  const char* e = env ? getenv(env) : NULL;
  if (e) {
    snprintf(out, n, "%s", e);
    return;
  }
  snprintf(out, n, "%s", __FILE__);
  char* slash = strrchr(out, '/');
  if (slash) {
    *slash = '\0';
  } else {
    snprintf(out, n, ".");
  }
  size_t k = strlen(out);
  snprintf(out + k, n - k, "/%s", rel);
}

static int cmp_names(const void* a, const void* b) {
  return strcmp(*(char* const*)a, *(char* const*)b);
}

static uint8_t* slurp(const char* path, size_t* len) {
  FILE* f = fopen(path, "rb");
  cr_assert(f != NULL, "cannot open %s", path);
  fseek(f, 0, SEEK_END);
  long sz = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t* buf = malloc(sz > 0 ? (size_t)sz : 1);
  cr_assert(buf != NULL);
  *len = fread(buf, 1, (size_t)(sz > 0 ? sz : 0), f);
  fclose(f);
  return buf;
}

// Replays every input file of `dir` in name order.
static void replay_dir(const char* dir) {
  DIR* dp = opendir(dir);
  cr_assert(dp != NULL, "no input directory at %s", dir);
  char* names[4096];
  size_t count = 0;
  struct dirent* de;
  while ((de = readdir(dp)) != NULL && count < 4096) {
    if (de->d_name[0] == '.' || strstr(de->d_name, ".md")) continue;
    names[count++] = strdup(de->d_name);
  }
  closedir(dp);
  qsort(names, count, sizeof(names[0]), cmp_names);

  driver_t* d = calloc(1, sizeof(*d));
  cr_assert(d != NULL);
  driver_init(d, true);
  d->verify_all = true;  // replays are few: compare everything after every operation
  for (size_t i = 0; i < count; i++) {
    char path[PATH_MAX + 256];
    snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
    size_t len = 0;
    uint8_t* data = slurp(path, &len);
    fprintf(stderr, "replaying %s (%zu bytes)\n", names[i], len);
    d->name = names[i];
    d->ntrace = 0;
    driver_run(d, data, len);
    driver_reset(d);
    free(data);
    free(names[i]);
  }
  driver_fini(d);
  free(d);
  zxvmo_stats_t s;
  zxvmo_get_stats(&s);
  cr_assert_eq(s.pages_in_use, driver_phys_pages_held());
  cr_assert_eq(zxvmo_check_invariants(), ZX_OK);
}

Test(fuzz_regressions, replay_all, .timeout = 300) {
  char dir[PATH_MAX];
  input_dir(dir, sizeof(dir), "ZXVMO_REGRESSIONS_DIR", "regressions");
  replay_dir(dir);
}

Test(fuzz_regressions, replay_corpus, .timeout = 300) {
  char dir[PATH_MAX];
  input_dir(dir, sizeof(dir), NULL, "../fuzz/corpus");
  replay_dir(dir);
}
