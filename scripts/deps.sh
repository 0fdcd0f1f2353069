#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Makes sure the tools and packages a build needs are present on a Debian machine.
# As root it installs what is missing with apt-get; otherwise it names the exact
# command and fails. Usage: deps.sh build|test-install|test
#   build         what `make` needs
#   test-install  also g++ and pkg-config (`make test-install` builds the README's
#                 example from C and C++ against an installed zxvmo)
#   test          all of the above, plus clang, its sanitizer runtimes and Criterion
set -eu
need=""
have_cmd() { command -v "$1" >/dev/null 2>&1; }
have_hdr() { [ -f "/usr/include/$1" ] || [ -f "/usr/local/include/$1" ]; }

have_cmd cmake || need="$need cmake"
have_cmd gcc || need="$need gcc"
have_cmd make || need="$need make"
mode=${1:-build}
case "$mode" in
  build|test-install|test) ;;
  *) echo "deps: unknown mode '$mode' (build, test-install or test)" >&2; exit 2 ;;
esac
if [ "$mode" = test-install ] || [ "$mode" = test ]; then
  have_cmd g++ || need="$need g++"
  have_cmd pkg-config || need="$need pkg-config"
fi
if [ "$mode" = test ]; then
  have_cmd clang || need="$need clang"
  # ASan/UBSan/TSan and libFuzzer runtimes for clang
  ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.asan-x86_64.a >/dev/null 2>&1 \
    || ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.asan-*.a >/dev/null 2>&1 \
    || need="$need libclang-rt-dev"
  have_hdr criterion/criterion.h || need="$need libcriterion-dev"
fi
[ -z "$need" ] && exit 0

if [ "$(id -u)" = 0 ] && have_cmd apt-get; then
  echo "deps: installing:$need"
  export DEBIAN_FRONTEND=noninteractive
  # shellcheck disable=SC2086
  apt-get install -y -q $need >/dev/null 2>&1 || {
    apt-get update -q >/dev/null && apt-get install -y -q $need >/dev/null
  }
  exit 0
fi
echo "deps: missing:$need" >&2
echo "deps: run: sudo apt-get install -y$need" >&2
exit 1
