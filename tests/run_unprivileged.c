// SPDX-License-Identifier: BSD-3-Clause
// run_unprivileged PROGRAM [ARGS...]: runs a test program as an unprivileged user, so
// that the mapping suite is also checked where userfaultfd is restricted to user-mode
// faults (vm.unprivileged_userfaultfd=0, the default on Debian; docs/behavior.md §12).
//
// Run as root, it copies PROGRAM into a fresh world-readable directory under /tmp (the
// build tree may not be reachable by other users), drops to uid/gid 65534 (nobody)
// with setgroups/setgid/setuid in a child, execs the copy there with ARGS, removes the
// copy afterwards and exits as the program did (the same exit code, or the same
// signal). Run as anyone else, it just execs PROGRAM.
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define NOBODY 65534

static int copy_file(const char* from, const char* to) {
  int in = open(from, O_RDONLY | O_CLOEXEC);
  if (in < 0) return -1;
  int out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
  if (out < 0) {
    close(in);
    return -1;
  }
  char buf[1 << 16];
  ssize_t n;
  int rc = 0;
  while ((n = read(in, buf, sizeof(buf))) != 0) {
    if (n < 0) {
      if (errno == EINTR) continue;
      rc = -1;
      break;
    }
    for (ssize_t done = 0; done < n;) {
      ssize_t w = write(out, buf + done, (size_t)(n - done));
      if (w < 0) {
        if (errno == EINTR) continue;
        rc = -1;
        break;
      }
      done += w;
    }
    if (rc) break;
  }
  if (close(out) != 0) rc = -1;
  close(in);
  return rc == 0 ? chmod(to, 0755) : -1;
}

static void drop_privileges(void) {
  if (setgroups(0, NULL) != 0 || setgid(NOBODY) != 0 || setuid(NOBODY) != 0) {
    perror("run_unprivileged: dropping privileges");
    _exit(126);
  }
  if (getuid() != NOBODY || geteuid() != NOBODY || getgid() != NOBODY || setuid(0) == 0) {
    fprintf(stderr, "run_unprivileged: still privileged\n");
    _exit(126);
  }
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s PROGRAM [ARGS...]\n", argv[0]);
    return 2;
  }
  if (geteuid() != 0) {
    execv(argv[1], argv + 1);
    perror("run_unprivileged: exec");
    return 127;
  }
  char dir[] = "/tmp/zxvmo-unpriv-XXXXXX";
  if (!mkdtemp(dir) || chmod(dir, 0755) != 0) {
    perror("run_unprivileged: temporary directory");
    return 126;
  }
  char name[PATH_MAX];
  snprintf(name, sizeof(name), "%s", argv[1]);
  char copy[PATH_MAX + 64];
  snprintf(copy, sizeof(copy), "%s/%s", dir, basename(name));
  int status = 0;
  if (copy_file(argv[1], copy) != 0) {
    perror("run_unprivileged: copying the program");
    rmdir(dir);
    return 126;
  }
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0) {
    perror("run_unprivileged: fork");
    status = 126 << 8;
  } else if (pid == 0) {
    drop_privileges();
    if (chdir(dir) != 0) _exit(126);
    setenv("HOME", dir, 1);
    argv[1] = copy;
    execv(copy, argv + 1);
    perror("run_unprivileged: exec");
    _exit(127);
  } else {
    while (waitpid(pid, &status, 0) < 0) {
      if (errno != EINTR) {
        perror("run_unprivileged: waitpid");
        status = 126 << 8;
        break;
      }
    }
  }
  unlink(copy);
  rmdir(dir);
  if (WIFSIGNALED(status)) {
    signal(WTERMSIG(status), SIG_DFL);
    raise(WTERMSIG(status));
    return 128 + WTERMSIG(status);
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 126;
}
