#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Every public header compiles alone (as the first and only include), warning-free with
# -Wall -Wextra -pedantic -Werror: the C headers (include/zircon/, include/zxvmo.h) as
# C99, C11, C++17 and C++20; the C++ headers (include/lib/, include/fbl/) as C++17 and
# C++20; each with gcc and clang (whichever are installed).
# Usage: check_headers.sh <include dir>
set -eu
inc=$(cd "$1" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/zxvmo-headers.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
flags="-Wall -Wextra -pedantic -Werror -Wshadow -fsyntax-only"
checked=0
failed=0
compile() { # compiler, language flag, header
  printf '#include <%s>\ntypedef int zxvmo_header_check_t;\n' "$3" > "$tmp/t.src"
  if ! "$1" $2 $flags -I"$inc" "$tmp/t.src" 2> "$tmp/err"; then
    echo "FAIL: $1 $2 <$3>" >&2
    cat "$tmp/err" >&2
    failed=$((failed + 1))
  fi
  checked=$((checked + 1))
}
compilers_c=""
compilers_cxx=""
for c in gcc clang; do command -v $c >/dev/null 2>&1 && compilers_c="$compilers_c $c"; done
for c in g++ clang++; do command -v $c >/dev/null 2>&1 && compilers_cxx="$compilers_cxx $c"; done
cd "$inc"
for h in $(find zircon zxvmo.h -name '*.h' | sort); do
  for c in $compilers_c; do
    for std in c99 c11; do compile "$c" "-x c -std=$std" "$h"; done
  done
  for c in $compilers_cxx; do
    for std in c++17 c++20; do compile "$c" "-x c++ -std=$std" "$h"; done
  done
done
for h in $(find lib fbl -name '*.h' 2>/dev/null | sort); do
  for c in $compilers_cxx; do
    for std in c++17 c++20; do compile "$c" "-x c++ -std=$std" "$h"; done
  done
done
# lib/zx refuses at compile time what the object type cannot do (object_traits.h), and
# never converts a handle of one type into another implicitly. Each snippet must fail to
# compile, while the same program with the line replaced by a valid call compiles.
refuse() { # description, offending statement
  for c in $compilers_cxx; do
    for stmt in "$2" "(void)0;"; do
      cat > "$tmp/r.cc" <<EOT
#include <lib/zx/bti.h>
#include <lib/zx/event.h>
#include <lib/zx/handle.h>
#include <lib/zx/pmt.h>
#include <lib/zx/port.h>
#include <lib/zx/vmar.h>
#include <utility>
void f(zx::port& port, zx::pmt& pmt, zx::vmar& vmar, zx::vmo& vmo, zx::handle& h) {
  zx_signals_t pending;
  (void)pending; (void)port; (void)pmt; (void)vmar; (void)vmo; (void)h;
  $stmt
}
EOT
      if "$c" -x c++ -std=c++17 -fsyntax-only -I"$inc" "$tmp/r.cc" 2> "$tmp/err"; then
        ok=1
      else
        ok=0
      fi
      checked=$((checked + 1))
      if [ "$stmt" = "(void)0;" ] && [ $ok -eq 0 ]; then
        echo "FAIL: $c: the program of \"$1\" does not compile without its bad line" >&2
        cat "$tmp/err" >&2
        failed=$((failed + 1))
      elif [ "$stmt" != "(void)0;" ] && [ $ok -eq 1 ]; then
        echo "FAIL: $c: $1 compiles: $2" >&2
        failed=$((failed + 1))
      fi
    done
  done
}
refuse "waiting on a port" "port.wait_one(ZX_USER_SIGNAL_0, zx::time(), &pending);"
refuse "duplicating a PMT" "zx::pmt other; pmt.duplicate(ZX_RIGHT_SAME_RIGHTS, &other);"
refuse "signalling a VMAR" "vmar.signal(0, ZX_USER_SIGNAL_0);"
refuse "a handle assigned to a vmo implicitly" "vmo = std::move(h);"
refuse "a vmo assigned to a vmar" "vmar = std::move(vmo);"

echo "check_headers: $checked compilations, $failed failed"
[ "$failed" -eq 0 ]
