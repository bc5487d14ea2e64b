#!/bin/sh
# test.sh: installs dependencies, builds venus-c with clang under ASan/UBSan and -Werror, also
# checks that the tree builds warning-free with gcc, then runs every ctest test (unit,
# postgres, integration, fuzz) and prints ctest's summary.
#
#   ./scripts/test.sh            full run (as CI does)
#   BUILD_DIR=build-x ./scripts/test.sh
set -eu
cd "$(dirname "$0")/.."
./scripts/deps.sh
jobs=$(nproc 2>/dev/null || echo 2)
build=${BUILD_DIR:-build-test}

echo "== gcc -Werror build (no tests)"
cmake -S . -B "$build-gcc" -DCMAKE_C_COMPILER=gcc -DVC_WERROR=ON -DVC_FUZZ=OFF >/dev/null
cmake --build "$build-gcc" -j "$jobs" >/dev/null

echo "== clang ASan/UBSan build"
cmake -S . -B "$build" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug -DVC_WERROR=ON \
      -DVC_SANITIZE=address,undefined >/dev/null
cmake --build "$build" -j "$jobs"

echo "== ctest"
cd "$build"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
ctest --output-on-failure -j "$jobs" --timeout 600
