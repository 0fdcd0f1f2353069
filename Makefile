# SPDX-License-Identifier: BSD-3-Clause
# zxvmo front door: a thin layer over CMake/ctest.
#   make          build the library (static and shared), examples and benchmarks
#   make run      build, then run the main job (examples/tour)
#   make test     build and run every test: plain (with the invariant checker),
#                 ASan+UBSan, TSan for the threaded tests, and 16 KiB pages;
#                 then test-install
#   make test-install  install to a temporary prefix and build the README's example
#                 against it: pkg-config and the CMake package, from C and C++
#   make bench    build and run the benchmarks
#   make fuzz     libFuzzer differential fuzzer for FUZZ_SECONDS seconds (clang)
#   make install PREFIX=/dir
JOBS      ?= $(shell nproc 2>/dev/null || echo 2)
PREFIX    ?= /usr/local
FUZZ_SECONDS ?= 60
CMAKE     ?= cmake
CTEST_FLAGS ?= --output-on-failure -j$(JOBS)
# The project's own builds: warnings are errors (a plain cmake configure leaves them
# warnings), and the test builds require Criterion (a plain configure skips the tests
# without it).
ZXVMO_CMAKE_FLAGS := -DZXVMO_WERROR=ON
ZXVMO_TEST_FLAGS  := $(ZXVMO_CMAKE_FLAGS) -DZXVMO_TESTS=ON

B_REL   := build/release
B_DBG   := build/debug
B_ASAN  := build/asan
B_TSAN  := build/tsan
B_FUZZ  := build/fuzz
B_P16K  := build/page16k

.PHONY: all run test test-license test-debug test-asan test-tsan test-page16k test-install bench fuzz \
        install clean deps deps-test deps-test-install

all: deps
	@$(CMAKE) -S . -B $(B_REL) -DCMAKE_BUILD_TYPE=Release -DZXVMO_TESTS=OFF \
	    $(ZXVMO_CMAKE_FLAGS) >/dev/null
	@$(CMAKE) --build $(B_REL) -j$(JOBS) -- --no-print-directory

run: all
	./$(B_REL)/tour

deps:
	@sh scripts/deps.sh build

deps-test:
	@sh scripts/deps.sh test

deps-test-install:
	@sh scripts/deps.sh test-install

test: deps-test test-license test-debug test-asan test-tsan test-page16k test-install
	@echo "make test: all suites passed"

# Every file the project writes carries an SPDX line (scripts/spdx.py --add adds them);
# data files are exempt. Needs a git checkout; skipped otherwise.
test-license:
	@if git rev-parse --git-dir >/dev/null 2>&1; then \
	  missing=$$(git ls-files | grep -v -e '^fuzz/corpus/' -e '^tests/regressions/' -e '^LICENSE$$' \
	    | xargs grep -L 'SPDX-License-Identifier: BSD-3-Clause'); \
	  if [ -n "$$missing" ]; then echo "files without an SPDX line:"; echo "$$missing"; exit 1; fi; \
	  echo "test-license: every file carries an SPDX line"; \
	fi

# Plain build with gcc and the invariant checker run after every operation.
test-debug:
	@$(CMAKE) -S . -B $(B_DBG) -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=gcc -DCMAKE_CXX_COMPILER=g++ \
	    -DZXVMO_CHECKS=ON -DZXVMO_BENCH=OFF $(ZXVMO_TEST_FLAGS) >/dev/null
	@$(CMAKE) --build $(B_DBG) -j$(JOBS)
	cd $(B_DBG) && ctest $(CTEST_FLAGS)

# clang with AddressSanitizer + UndefinedBehaviorSanitizer: the whole suite.
test-asan:
	@$(CMAKE) -S . -B $(B_ASAN) -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
	    -DZXVMO_SANITIZE=address -DZXVMO_CHECKS=ON -DZXVMO_BENCH=OFF $(ZXVMO_TEST_FLAGS) >/dev/null
	@$(CMAKE) --build $(B_ASAN) -j$(JOBS)
	cd $(B_ASAN) && ctest $(CTEST_FLAGS)

# clang with ThreadSanitizer: the tests labelled "threads".
test-tsan:
	@$(CMAKE) -S . -B $(B_TSAN) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
	    -DZXVMO_SANITIZE=thread -DZXVMO_BENCH=OFF $(ZXVMO_TEST_FLAGS) >/dev/null
	@$(CMAKE) --build $(B_TSAN) -j$(JOBS)
	cd $(B_TSAN) && ctest $(CTEST_FLAGS) -L threads

# The whole suite again with a 16 KiB library page on this host: nothing may assume
# 4096 (arm64 hosts with 16 KiB pages run the default build this way).
test-page16k:
	@$(CMAKE) -S . -B $(B_P16K) -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=gcc -DCMAKE_CXX_COMPILER=g++ \
	    -DZXVMO_CHECKS=ON -DZXVMO_BENCH=OFF -DZXVMO_PAGE_SIZE=16384 $(ZXVMO_TEST_FLAGS) >/dev/null
	@$(CMAKE) --build $(B_P16K) -j$(JOBS)
	cd $(B_P16K) && ctest $(CTEST_FLAGS)

# Install to a temporary prefix, then build and run the README's example
# (examples/readme_example.c) against the installed files only: with pkg-config from
# C and C++, with the CMake package (examples/find_package/) from C and C++.
test-install: deps-test-install
	@CMAKE="$(CMAKE)" JOBS=$(JOBS) sh scripts/test-install.sh

bench: all
	@for b in $(B_REL)/bench_*; do echo "== $$b"; ./$$b || exit 1; done

fuzz: deps
	@$(CMAKE) -S . -B $(B_FUZZ) -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
	    -DZXVMO_SANITIZE=address -DZXVMO_CHECKS=ON -DZXVMO_FUZZ=ON -DZXVMO_TESTS=OFF \
	    -DZXVMO_BENCH=OFF $(ZXVMO_CMAKE_FLAGS) >/dev/null
	@$(CMAKE) --build $(B_FUZZ) -j$(JOBS) --target fuzz_vmo
	mkdir -p $(B_FUZZ)/corpus
	./$(B_FUZZ)/fuzz/fuzz_vmo -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	    $(B_FUZZ)/corpus fuzz/corpus

install: all
	@$(CMAKE) -S . -B $(B_REL) -DCMAKE_INSTALL_PREFIX=$(PREFIX) >/dev/null
	@$(CMAKE) --build $(B_REL) -j$(JOBS) -- --no-print-directory
	@$(CMAKE) --install $(B_REL)

clean:
	rm -rf build
