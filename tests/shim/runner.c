// SPDX-License-Identifier: BSD-3-Clause
// The runner of the Criterion stand-in (see criterion/criterion.h): each test runs in
// a forked child so that library state never leaks between tests.
#include <criterion/criterion.h>

#include <stdarg.h>
#include <sys/wait.h>
#include <unistd.h>

static struct shim_test* g_tests;
static bool g_failed;

void shim_register(struct shim_test* t) {
  t->next = g_tests;
  g_tests = t;
}

void shim_fail(const char* file, int line, bool fatal, const char* what, const char* fmt, ...) {
  va_list ap;
  fprintf(stderr, "%s:%d: assertion failed: %s: ", file, line, what);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  g_failed = true;
  if (fatal) _exit(1);
}

void shim_skip(void) { _exit(77); }

int main(int argc, char** argv) {
  (void)argc;
  (void)argv;
  int passed = 0, failed = 0, skipped = 0;
  for (struct shim_test* t = g_tests; t; t = t->next) {
    if (t->opts.disabled) {
      skipped++;
      continue;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
      if (t->opts.timeout > 0) alarm((unsigned)t->opts.timeout + 1);
      if (t->opts.init) t->opts.init();
      t->fn();
      if (t->opts.fini) t->opts.fini();
      _exit(g_failed ? 1 : 0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    bool ok;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 77) {
      skipped++;
      printf("[SKIP] %s::%s\n", t->suite, t->name);
      continue;
    }
    if (t->opts.signal) {
      ok = WIFSIGNALED(status) && WTERMSIG(status) == t->opts.signal;
    } else {
      ok = WIFEXITED(status) && WEXITSTATUS(status) == t->opts.exit_code;
    }
    printf("[%s] %s::%s\n", ok ? "PASS" : "FAIL", t->suite, t->name);
    if (ok) {
      passed++;
    } else {
      failed++;
    }
  }
  printf("Synthesis: Tested: %d | Passing: %d | Failing: %d | Crashing: 0\n",
         passed + failed, passed, failed);
  printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
  return failed ? 1 : 0;
}
