#!/usr/bin/env bash
# The whole test suite: installs what is missing, starts a PostgreSQL server
# of its own, builds, runs every doctest suite through CTest and the web
# desk's browser tests (tests/web) and the packaging tests (tests/package),
# then the
# suites again under AddressSanitizer + UBSan, then runs
# each libFuzzer harness of tests/fuzz for a few seconds (clang).
set -euo pipefail
cd "$(dirname "$0")/.."
source cmake/install-deps.sh
plaint_install_deps

jobs=$(nproc 2>/dev/null || echo 2)

# One PostgreSQL server for the whole run (tests/pg/server.sh: a cluster in
# a temporary directory on a free loopback port, no system service); the
# PostgreSQL tests make a database each on it.
pg_dir=$(mktemp -d /tmp/plaint-pg.XXXXXX)
trap 'tests/pg/server.sh stop "$pg_dir"; rm -rf "$pg_dir"' EXIT
PLAINT_TEST_PG=$(tests/pg/server.sh start "$pg_dir")
export PLAINT_TEST_PG
echo "== PostgreSQL for the tests: $PLAINT_TEST_PG"

echo "== build (RelWithDebInfo)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$jobs"
echo "== tests"
(cd build && ctest -j"$jobs" --output-on-failure --timeout 300)

echo "== browser tests (headless Chromium, playwright-core)"
PLAINT_WEB_ARTIFACTS="$PWD/build/web-artifacts" bash tests/web/run.sh build/cli/plaint

echo "== package tests (the .deb, its unit, upgrades, find_package(plaint))"
bash tests/package/run.sh build

echo "== build (AddressSanitizer + UndefinedBehaviorSanitizer)"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DPLAINT_SANITIZE=ON -DPLAINT_BENCH=OFF >/dev/null
cmake --build build-asan -j"$jobs"
echo "== tests under sanitizers"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
(cd build-asan && ctest -j"$jobs" --output-on-failure --timeout 600)

echo "== fuzzing (libFuzzer + ASan + UBSan, 10 s per harness; bench/fuzz.sh runs them longer)"
fuzz_start=$(date +%s)
tests/fuzz/run.sh --fresh 10  # from the seeds: a grown corpus would take the 10 s to load
echo "== fuzzing took $(( $(date +%s) - fuzz_start )) s"
