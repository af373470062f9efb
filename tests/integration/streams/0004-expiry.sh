#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Window expiry: a count with 1 s windows and grace_ms 500 over 200 records whose event
# times (set by librdkafka) span 20 s keeps only the open window's aggregates (5, not
# 100); a late record (its window closed) is dropped, counted in the status and logged,
# while one within the grace period still counts; after a restart the closed windows stay
# closed (tombstones in the changelog) and stream time is restored, so a late record is
# still late. grace_ms is checked (422). Ports 28504 (HTTP), 28514 (Kafka). About 3 s.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
PRODUCE_TS="$GN_BUILD_DIR/tests/integration/streams/rdkafka_produce_ts"
[[ -x "$PRODUCE_TS" ]] || { echo "SKIP: rdkafka_produce_ts not built (librdkafka missing)"; exit 0; }
B=127.0.0.1:28514
FLAGS=(--kafka.host=127.0.0.1 --kafka.port=28514 --num.partitions=1)
start_broker 28504 "${FLAGS[@]}"

expect_eq "negative grace" "$(rest POST /streams '{"name":"g","source":"a","sink":"b","steps":[{"count":{"window_ms":1000,"grace_ms":-1}}]}')" 422
jq -e '.error_code == 42206 and (.message | test("grace_ms"))' "$WORK/rest.json" >/dev/null ||
    fail "422 body: $(cat "$WORK/rest.json")"
expect_eq "misspelt grace" "$(rest POST /streams '{"name":"g","source":"a","sink":"b","steps":[{"count":{"window_ms":1000,"grace":5}}]}')" 422
expect_eq "create" "$(rest POST /streams '{"name":"expiring","source":"ticks","sink":"tick-counts","steps":[{"count":{"window_ms":1000,"grace_ms":500}}]}')" 201

T0=1700000000000
produce() { # lines key|timestamp|value on stdin
    timeout 20 "$PRODUCE_TS" "$B" ticks || fail "rdkafka_produce_ts"
}
status_ok() {
    curl -sS --max-time 2 "$URL/streams/expiring/status" 2>/dev/null | jq -e "$1" >/dev/null 2>&1
}
status() {
    rest GET /streams/expiring/status >/dev/null
    cat "$WORK/rest.json"
}

# 200 records, one every 100 ms of event time: windows T0 .. T0+19000, five keys
for ((i = 0; i < 200; i++)); do printf 'k%d|%d|{"i":%d}\n' $((i % 5)) $((T0 + i * 100)) "$i"; done | produce
wait_for "200 records counted" 10 status_ok '.records_in == 200 and .lag == 0'
# stream time T0+19900: [T0+18000, T0+19000) closed at T0+19500; only T0+19000's are open
status | jq -e --argjson t $((T0 + 19900)) '.aggregates == 5 and .dropped_late == 0 and .stream_time == $t' >/dev/null ||
    fail "bounded state: $(status)"

# late (window T0+18000 closed) and within grace (window T0+19000, open until T0+20500)
printf 'k0|%d|{}\nk1|%d|{}\n' $((T0 + 18500)) $((T0 + 19050)) | produce
wait_for "late record seen" 10 status_ok '.records_in == 202 and .lag == 0'
status | jq -e '.dropped_late == 1 and .aggregates == 5' >/dev/null || fail "late record: $(status)"
expect_eq "updates" "$(records "$B" tick-counts '%o\n' | wc -l)" 201
expect_eq "last update" "$(records "$B" tick-counts '%s\n' | tail -1 | jq -c '[.key, .window_start - '$T0', .count]')" '["k1",19000,3]'
grep -q 'mod=streams.*late records dropped: window closed.*name=expiring count=1' "$LOG" ||
    fail "no log line for the late record"

# restart: the 95 closed windows do not come back, stream time does
stop_broker
start_broker 28504 "${FLAGS[@]}"
wait_for "restored" 10 grep -q 'stream processor resumes" name=expiring partitions=1 aggregates=5' "$LOG"
printf 'k2|%d|{}\n' $((T0 + 100)) | produce
wait_for "late after restart" 10 status_ok '.records_in == 1 and .dropped_late == 1 and .aggregates == 5'
tombstones=$(records "$B" __streams_expiring_state '%S\n' | grep -c '^-1$' || true)
((tombstones >= 95)) || fail "changelog tombstones: $tombstones, want >= 95"
echo "PASS"
