#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The idempotent producer, duplicates injected on purpose: librdkafka
# (enable.idempotence=true, acks=all) writes 2000 records in order; then a raw client
# (raw_idempotent.py) sends batches with a producer id twice and checks the retry is
# answered with NONE and the original offset, a sequence gap with 45 and an older
# epoch with 47; the log must hold every batch exactly once. Port 29500.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
BIN="$GN_BUILD_DIR/tests/integration/kafka/rdkafka_idempotent"
[[ -x "$BIN" ]] || fail "$BIN not built (librdkafka-dev missing?)"
start_broker 29500
N=2000
timeout 120 "$BIN" "$BROKER" idem "$N" 0 || fail "idempotent librdkafka producer failed"
RAW="$(dirname "$0")/raw_idempotent.py"
timeout 60 python3 "$RAW" "$BROKER" idem "$WORK/raw.state" || fail "raw duplicates"
OUT="$WORK/consumed"
kc -C -t idem -p 0 -o beginning -e -q -f '%o %s\n' >"$OUT" || fail "kcat consume"
[[ "$(wc -l <"$OUT")" -eq $((N + 4)) ]] || fail "expected $((N + 4)) records, got $(wc -l <"$OUT")"
for v in raw-0 raw-1 raw-2 raw-3; do
    [[ "$(grep -c " $v\$" "$OUT")" -eq 1 ]] || fail "$v not exactly once in the log"
done
grep -q " stale\$\| gap\$" "$OUT" && fail "a refused batch reached the log"
awk 'NR <= 2000 { if ($2 != sprintf("%08d", NR - 1)) { print "bad record " NR ": " $0; exit 1 } }' \
    "$OUT" || fail "librdkafka records out of order or missing"
# the producer state outlives a clean restart: the same retry is still a duplicate
kill -TERM "$PID"; wait "$PID" || true
ls "$WORK/data/idem-0/"*.snapshot >/dev/null || fail "no producer snapshot written at close"
start_broker 29500
timeout 60 python3 "$RAW" "$BROKER" idem "$WORK/raw.state" --after-restart || fail "duplicate after restart"
kc -C -t idem -p 0 -o beginning -e -q -f '%s\n' >"$OUT" || fail "kcat consume"
[[ "$(grep -c '^raw-3$' "$OUT")" -eq 1 && "$(grep -c '^raw-4$' "$OUT")" -eq 1 ]] ||
    fail "retry after restart appended again, or next batch missing"
[[ "$(wc -l <"$OUT")" -eq $((N + 5)) ]] || fail "expected $((N + 5)) records after restart"
echo "PASS"
