#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# An idempotent librdkafka producer (enable.idempotence=true, acks=all) streams 20000
# numbered records while the broker is killed (SIGKILL: producer state rebuilt by
# replaying the log) and later stopped (SIGTERM: reloaded from the close snapshot) and
# restarted on the same data directory. The producer retries its in-flight batches;
# the log must end up holding every record exactly once, in order. Port 29501.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
BIN="$GN_BUILD_DIR/tests/integration/kafka/rdkafka_idempotent"
[[ -x "$BIN" ]] || fail "$BIN not built (librdkafka-dev missing?)"
N=20000
start_broker 29501 --log.level=debug
timeout 200 "$BIN" "$BROKER" stream "$N" 300 >"$WORK/producer.out" 2>&1 &
PROD=$!
trap 'kill "$PROD" 2>/dev/null || true; cleanup' EXIT
restart() { # restart SIGNAL
    sleep 2
    kill -"$1" "$PID"
    wait "$PID" || true
    cp "$LOG" "$WORK/ganglion-$1.log"
    grep -q "Sanitizer" "$WORK/ganglion-$1.log" && fail "sanitizer report before SIG$1"
    sleep 0.5
    start_broker 29501 --log.level=debug
}
restart KILL
restart TERM
wait "$PROD" || { cat "$WORK/producer.out" >&2; fail "idempotent producer failed"; }
cat "$WORK/producer.out"
grep -h "producer state loaded" "$LOG" "$WORK"/ganglion-*.log || true
echo "retries answered as duplicates: $(cat "$LOG" "$WORK"/ganglion-*.log | grep -c "duplicate batch answered" || true)"
OUT="$WORK/consumed"
kc -C -t stream -p 0 -o beginning -e -q -f '%s\n' >"$OUT" || fail "kcat consume"
COUNT=$(wc -l <"$OUT")
DUPS=$(sort "$OUT" | uniq -d | wc -l)
[[ "$DUPS" -eq 0 ]] || fail "$DUPS records duplicated in the log"
[[ "$COUNT" -eq "$N" ]] || fail "expected $N records, got $COUNT"
awk '{ if ($1 != sprintf("%08d", NR - 1)) { print "record " NR - 1 " is " $1; exit 1 } }' "$OUT" ||
    fail "records out of order or missing"
echo "PASS ($N records once each across a SIGKILL and a SIGTERM restart)"
