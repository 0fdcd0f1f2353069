#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# make test-install: checks what the README promises to someone who installs zxvmo.
# Installs the library to a temporary prefix, then builds the README's example
# (examples/readme_example.c, which must be exactly the code the README shows)
# against the installed files only, and runs it:
#   1. pkg-config, C (cc)        2. pkg-config, C++ (g++ on the same source)
#   3. CMake package, C          4. CMake package, C++   (examples/find_package/)
#   5. CMake package, static library, C
# and the C++ layer (lib/zx, lib/fzl, fbl), with nothing but the installed package:
#   6. examples/zx_hello.cc and tests/fuchsia_vmo_test.cc with pkg-config (g++ -std=c++17)
#   7. the same two with the CMake package
# plus checks on the installed tree: headers under include/zxvmo/, only zx_*, _zx_* and
# zxvmo_* symbols exported, no rpath anywhere.
# Environment: CMAKE, CC, CXX, JOBS; KEEP=1 keeps the temporary directory.
set -eu
cd "$(dirname "$0")/.."
src=$(pwd)
CMAKE=${CMAKE:-cmake}
CC=${CC:-cc}
CXX=${CXX:-g++}
JOBS=${JOBS:-2}
build=build/install-check
passed=0

tmp=$(mktemp -d "${TMPDIR:-/tmp}/zxvmo-install-check.XXXXXX")
cleanup() { if [ "${KEEP:-0}" = 1 ]; then echo "test-install: kept $tmp"; else rm -rf "$tmp"; fi; }
trap cleanup EXIT
trap 'exit 1' INT TERM
prefix=$tmp/prefix

fail() { echo "test-install: FAIL: $*" >&2; exit 1; }
step() { echo "test-install: $*"; }

# 0. The README's Example section shows exactly examples/readme_example.c.
awk '/^## Example/ { f = 1; next } f && /^```c$/ { g = 1; next } g && /^```/ { exit } g' \
  README.md > "$tmp/readme-block.c"
diff -u examples/readme_example.c "$tmp/readme-block.c" >&2 \
  || fail "README.md's Example section differs from examples/readme_example.c"

# 1. Build and install (the release library; no tests, no benchmarks).
step "building and installing to a temporary prefix"
"$CMAKE" -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DZXVMO_TESTS=OFF \
  -DZXVMO_BENCH=OFF -DZXVMO_WERROR=ON >/dev/null
"$CMAKE" --build "$build" -j"$JOBS" >/dev/null
"$CMAKE" --install "$build" --prefix "$prefix" >/dev/null

# 2. The installed tree.
[ -f "$prefix/include/zxvmo/zircon/syscalls.h" ] || fail "no include/zxvmo/zircon/syscalls.h"
[ -f "$prefix/include/zxvmo/zxvmo.h" ] || fail "no include/zxvmo/zxvmo.h"
for h in lib/zx/vmo.h lib/fzl/vmo-mapper.h fbl/ref_ptr.h zircon/compiler.h zircon/assert.h; do
  [ -f "$prefix/include/zxvmo/$h" ] || fail "no include/zxvmo/$h"
done
[ ! -e "$prefix/include/lib" ] || fail "headers installed to include/lib (clashes with a Fuchsia sysroot)"
[ ! -e "$prefix/include/zircon" ] || fail "headers installed to include/zircon (clashes with a Fuchsia sysroot)"
pc=$(find "$prefix" -name zxvmo.pc)
[ -n "$pc" ] || fail "zxvmo.pc not installed"
libdir=$(dirname "$(dirname "$pc")")
for f in libzxvmo.a libzxvmo.so cmake/zxvmo/zxvmo-config.cmake \
         cmake/zxvmo/zxvmo-config-version.cmake; do
  [ -e "$libdir/$f" ] || fail "$libdir/$f not installed"
done
! grep -q rpath "$pc" || fail "zxvmo.pc sets an rpath"
if readelf -d "$libdir/libzxvmo.so" | grep -Eq 'RPATH|RUNPATH'; then
  fail "libzxvmo.so carries an rpath"
fi
# The C++ layer is header-only: the library is C and needs no C++ runtime.
if readelf -d "$libdir/libzxvmo.so" | grep -Eq 'NEEDED.*(libstdc\+\+|libc\+\+)'; then
  fail "libzxvmo.so needs the C++ runtime"
fi
# Exported symbols: Zircon's calls (zx_ and their _zx_ aliases) and the zxvmo_ extras,
# nothing else.
extra=$(nm -D --defined-only "$libdir/libzxvmo.so" | awk '$2 ~ /[TDBRVW]/ { print $3 }' \
        | grep -Ev '^(_?zx_|zxvmo_|ZXVMO_)' || true)
[ -z "$extra" ] || fail "libzxvmo.so exports: $extra"
extra=$(nm -g --defined-only "$libdir/libzxvmo.a" 2>/dev/null | awk 'NF == 3 { print $3 }' \
        | grep -Ev '^(_?zx_|zxvmo_)' || true)
[ -z "$extra" ] || fail "libzxvmo.a has global symbols: $extra"

# A program's output must be the README's: "hello".
check() { # name, then the command that runs it
  name=$1; shift
  out=$("$@") || fail "$name exited with status $?"
  [ "$out" = hello ] || fail "$name printed '$out', not 'hello'"
  passed=$((passed + 1))
  step "ok: $name"
}

# 3. pkg-config, from C and from C++, in a directory holding only the example.
mkdir "$tmp/pc"
cp examples/readme_example.c "$tmp/pc/"
export PKG_CONFIG_PATH="$libdir/pkgconfig"
cflags=$(pkg-config --cflags zxvmo | sed 's/ *$//')
libs=$(pkg-config --libs zxvmo | sed 's/ *$//')
[ "$cflags" = "-I$prefix/include/zxvmo" ] || fail "pkg-config --cflags zxvmo gives '$cflags'"
[ "$(pkg-config --modversion zxvmo)" = "$(sed -n 's/^project(zxvmo VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)" ] \
  || fail "zxvmo.pc has the wrong version"
cd "$tmp/pc"
# shellcheck disable=SC2086
"$CC" -Wall -Wextra -Werror -o readme_c readme_example.c $cflags $libs
# shellcheck disable=SC2086
"$CXX" -x c++ -Wall -Wextra -Werror -o readme_cxx readme_example.c -x none $cflags $libs
cd "$src"
# Installed outside the loader's path: the README says to use LD_LIBRARY_PATH.
for p in readme_c readme_cxx; do
  LD_LIBRARY_PATH="$libdir" ldd "$tmp/pc/$p" | grep -q "$libdir/libzxvmo.so" \
    || fail "$p is not linked against the installed libzxvmo.so"
done
check "pkg-config, C" env LD_LIBRARY_PATH="$libdir" "$tmp/pc/readme_c"
check "pkg-config, C++" env LD_LIBRARY_PATH="$libdir" "$tmp/pc/readme_cxx"

# The C++ layer with pkg-config only: the example, and the Fuchsia-style test (which
# must pass, and says so on its last line).
cp examples/zx_hello.cc tests/fuchsia_vmo_test.cc "$tmp/pc/"
cd "$tmp/pc"
for p in zx_hello fuchsia_vmo_test; do
  # shellcheck disable=SC2086
  "$CXX" -std=c++17 -Wall -Wextra -Werror -o $p $p.cc $cflags $libs
done
cd "$src"
check "pkg-config, C++ layer (zx_hello.cc)" env LD_LIBRARY_PATH="$libdir" "$tmp/pc/zx_hello"
run_fuchsia_test() { # name, then the command that runs it
  name=$1; shift
  out=$("$@") || { echo "$out" >&2; fail "$name failed"; }
  echo "$out" | tail -n 1 | grep -Eq '^[1-9][0-9]* passed, 0 failed$' \
    || { echo "$out" >&2; fail "$name did not report its tests passing"; }
  passed=$((passed + 1))
  step "ok: $name ($(echo "$out" | tail -n 1))"
}
run_fuchsia_test "pkg-config, fuchsia_vmo_test.cc" env LD_LIBRARY_PATH="$libdir" \
  "$tmp/pc/fuchsia_vmo_test"

# 4. The CMake package, from C and from C++, and its static flavour.
"$CMAKE" -S examples/find_package -B "$tmp/cm" -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_C_COMPILER="$CC" -DCMAKE_CXX_COMPILER="$CXX" \
  -DCMAKE_C_FLAGS="-Wall -Wextra -Werror" -DCMAKE_CXX_FLAGS="-Wall -Wextra -Werror" >/dev/null
grep -qx "zxvmo_DIR:PATH=$libdir/cmake/zxvmo" "$tmp/cm/CMakeCache.txt" \
  || fail "find_package(zxvmo) did not find the temporary prefix's package"
"$CMAKE" --build "$tmp/cm" -j"$JOBS" >/dev/null
if readelf -d "$tmp/cm/readme_example_static" | grep -q 'libzxvmo\.so'; then
  fail "readme_example_static needs libzxvmo.so"
fi
# CMake gives the programs it builds an rpath to the imported library's directory.
check "CMake package, C" "$tmp/cm/readme_example_c"
check "CMake package, C++" "$tmp/cm/readme_example_cxx"
check "CMake package, static, C" "$tmp/cm/readme_example_static"
check "CMake package, C++ layer (zx_hello.cc)" "$tmp/cm/zx_hello"
run_fuchsia_test "CMake package, fuchsia_vmo_test.cc" "$tmp/cm/fuchsia_vmo_test"

echo "test-install: $passed passed, 0 failed"
