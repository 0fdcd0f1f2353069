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
echo "check_headers: $checked compilations, $failed failed"
[ "$failed" -eq 0 ]
