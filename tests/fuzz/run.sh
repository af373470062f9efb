#!/usr/bin/env bash
# Runs every libFuzzer harness in BUILD_DIR/tests for SECONDS each, starting from its
# seed corpus tests/fuzz/corpus/<name without fuzz_>/ (copied, so seeds stay clean).
set -euo pipefail
build=${1:-build-fuzz}
seconds=${2:-30}
here=$(cd "$(dirname "$0")" && pwd)
for bin in "$build"/tests/fuzz_*; do
  [ -x "$bin" ] || continue
  name=$(basename "$bin"); corpus="$here/corpus/${name#fuzz_}"
  work=$(mktemp -d); [ -d "$corpus" ] && cp -r "$corpus"/. "$work"/
  echo "== $name for ${seconds}s"
  "$bin" -max_total_time="$seconds" -print_final_stats=1 "$work" 2>&1 | tail -3
  rm -rf "$work"
done
