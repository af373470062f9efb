#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Runs every benchmark built from tests/bench/*.c in BUILD_DIR with its defaults, then
# every tests/bench/*_bench.sh script, and prints each one's table (`make bench` calls this). Benchmarks print, they do not
# assert; this exits non-zero only if a benchmark failed to run.
# Usage: tests/bench/run.sh BUILD_DIR
set -u
build=${1:?usage: tests/bench/run.sh BUILD_DIR}
here=$(cd "$(dirname "$0")" && pwd)
status=0
for src in "$here"/*.c; do
    name=$(basename "$src" .c)
    [ -e "$here/$name.sh" ] && continue # a load generator its script drives (below)
    exe=$(find "$build" -maxdepth 3 -type f -name "$name" -perm -u+x 2>/dev/null | head -n 1)
    if [ -z "$exe" ]; then
        echo "== $name: not built in $build (cmake -DGN_BENCH=ON), skipped"
        continue
    fi
    echo "== $name ($exe)"
    "$exe" || { echo "== $name FAILED (exit $?)"; status=1; }
    echo
done
# Script benchmarks (tests/bench/*_bench.sh) take the build directory too.
for script in "$here"/*_bench.sh; do
    [ -e "$script" ] || continue
    echo "== $(basename "$script")"
    "$script" "$build" || { echo "== $(basename "$script") FAILED (exit $?)"; status=1; }
    echo
done
exit $status
