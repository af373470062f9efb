#!/usr/bin/env bash
# Runs every libFuzzer harness in BUILD_DIR/tests (or only those named after SECONDS) for
# SECONDS each, one at a time, starting from its seed corpus tests/fuzz/corpus/<name
# without fuzz_>/ (copied, so seeds stay clean). A UBSan report stops a harness like a
# crash (halt_on_error). Inputs that crash, leak or time out are kept in
# ARTIFACTS (default fuzz-artifacts/<name>/); the exit status is 1 if any harness failed.
# Usage: tests/fuzz/run.sh [BUILD_DIR] [SECONDS] [fuzz_name...]
set -uo pipefail
build=${1:-build-fuzz}
seconds=${2:-30}
shift 2 2>/dev/null || shift $#
here=$(cd "$(dirname "$0")" && pwd)
artifacts=${ARTIFACTS:-fuzz-artifacts}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
failed=()
bins=("$@")
[ ${#bins[@]} -gt 0 ] || bins=("$build"/tests/fuzz_*)
for bin in "${bins[@]}"; do
  [ -x "$bin" ] || bin="$build/tests/$bin"
  [ -x "$bin" ] || continue
  name=$(basename "$bin"); corpus="$here/corpus/${name#fuzz_}"
  work=$(mktemp -d); [ -d "$corpus" ] && cp -r "$corpus"/. "$work"/
  mkdir -p "$artifacts/$name"
  echo "== $name for ${seconds}s"
  if ! "$bin" -max_total_time="$seconds" -timeout=10 -print_final_stats=1 \
      -artifact_prefix="$artifacts/$name/" "$work" > "$artifacts/$name/log" 2>&1; then
    failed+=("$name")
    grep -E "ERROR|runtime error|SUMMARY|Test unit written" "$artifacts/$name/log" | head -5
  fi
  grep -E "DONE|stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)" \
    "$artifacts/$name/log" | tail -4
  rm -rf "$work"
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "FAILED: ${failed[*]} (inputs and logs in $artifacts/)"
  exit 1
fi
