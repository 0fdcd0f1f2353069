#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# The public headers and the libraries agree: every call declared in include/zircon/ is
# defined by libzxvmo.so and libzxvmo.a, and exported under its _zx_ name too, at the
# same address; every _zx_ declaration names a declared call; nothing zx_/_zx_ is
# exported that no header declares.
# Usage: check_exports.sh <include dir> <libzxvmo.so> <libzxvmo.a>
set -eu
inc=$1 so=$2 ar=$3
tmp=$(mktemp -d "${TMPDIR:-/tmp}/zxvmo-exports.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail=0
bad() { echo "FAIL: $*" >&2; fail=1; }

# Prototypes start in column 0 with their return type; the static inline helpers of
# <zircon/time.h> and <zircon/assert.h> are not calls.
find "$inc/zircon" -name '*.h' -exec cat {} + | grep -v static \
  | sed -n 's/^[a-z].*[ *]\(_\{0,1\}zx_[a-z0-9_]*\)(.*/\1/p' | sort -u > "$tmp/decl"
grep -v '^_' "$tmp/decl" > "$tmp/calls" || true
sed -n 's/^_//p' "$tmp/decl" > "$tmp/aliased"
[ -s "$tmp/calls" ] || bad "no declarations found under $inc/zircon"

nm -D --defined-only "$so" | awk '$2 ~ /^[TW]$/ { sub(/@.*/, "", $3); print $3, $1 }' \
  | sort > "$tmp/so"
nm -g --defined-only "$ar" 2>/dev/null | awk 'NF == 3 && $2 ~ /^[TW]$/ { print $3 }' \
  | sort -u > "$tmp/ar"

addr() { awk -v n="$1" '$1 == n { print $2 }' "$tmp/so"; }
while read -r f; do
  a=$(addr "$f")
  [ -n "$a" ] || bad "$f is declared but libzxvmo.so does not define it"
  grep -qx "$f" "$tmp/ar" || bad "$f is declared but libzxvmo.a does not define it"
  grep -qx "$f" "$tmp/aliased" || bad "$f has no _$f declaration (<zircon/syscalls/underscore.h>)"
  u=$(addr "_$f")
  [ -n "$u" ] || bad "libzxvmo.so does not export _$f"
  [ -z "$a" ] || [ "$u" = "$a" ] || bad "_$f is not at $f's address"
  grep -qx "_$f" "$tmp/ar" || bad "libzxvmo.a does not define _$f"
done < "$tmp/calls"
while read -r f; do
  grep -qx "$f" "$tmp/calls" || bad "_$f is declared but $f is not"
done < "$tmp/aliased"
awk '{ print $1 }' "$tmp/so" | grep -E '^_?zx_' | sed 's/^_//' | sort -u > "$tmp/exported"
while read -r f; do
  grep -qx "$f" "$tmp/calls" || bad "libzxvmo.so exports $f, which no header declares"
done < "$tmp/exported"

echo "check_exports: $(wc -l < "$tmp/calls") calls declared, $(wc -l < "$tmp/aliased") aliased"
[ "$fail" -eq 0 ]
