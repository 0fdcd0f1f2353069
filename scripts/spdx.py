#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# Every file the project writes carries an SPDX line. `spdx.py --check` lists the
# tracked files without one (exit 1 if any); `spdx.py --add` inserts it where missing,
# as a comment in the file's own syntax. Data files (fuzz corpora, regression inputs)
# and the license itself are exempt.
import subprocess, sys

TAG = "SPDX-License-Identifier: BSD-3-Clause"
EXEMPT_PREFIX = ("fuzz/corpus/", "tests/regressions/")
EXEMPT = {"LICENSE"}

def comment_for(path):
    name = path.rsplit("/", 1)[-1]
    if path.endswith((".c", ".h", ".cc", ".cpp", ".hpp", ".map")):
        return "// " + TAG if not path.endswith(".map") else "/* " + TAG + " */"
    if path.endswith(".md"):
        return "<!-- " + TAG + " -->"
    if name in ("Makefile", "CMakeLists.txt", "run", ".gitignore") or path.endswith(
            (".sh", ".py", ".cmake", ".in", ".txt")) or "/" not in path and name.startswith("."):
        return "# " + TAG
    return "# " + TAG

def files():
    out = subprocess.run(["git", "ls-files"], capture_output=True, text=True, check=True)
    return [f for f in out.stdout.split("\n") if f and f not in EXEMPT
            and not f.startswith(EXEMPT_PREFIX)]

def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else "--check"
    missing = []
    for f in files():
        with open(f, encoding="utf-8", errors="replace") as fh:
            text = fh.read()
        if TAG in text:
            continue
        missing.append(f)
        if mode == "--add":
            lines = text.split("\n")
            at = 1 if lines and lines[0].startswith("#!") else 0
            lines.insert(at, comment_for(f))
            with open(f, "w", encoding="utf-8") as fh:
                fh.write("\n".join(lines))
    if mode == "--check" and missing:
        print("files without an SPDX line:\n  " + "\n  ".join(missing))
        return 1
    return 0

sys.exit(main())
