#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Windowed count and sum: records produced by kcat (keys u0..u3, three partitions) are
# counted per key and 1 s tumbling window, and their field n summed per rekeyed user;
# each record emits the updated aggregate to the sink. A broker restart in the middle
# (SIGTERM) restores the aggregates from __streams_<name>_state: the last emitted value of
# every (key, window) equals what the source's own timestamps give, and the sink has one
# update per record (nothing doubled or lost).
# Ports 28502 (HTTP), 28512 (Kafka).
set -euo pipefail
source "$(dirname "$0")/lib.bash"
B=127.0.0.1:28512
FLAGS=(--kafka.host=127.0.0.1 --kafka.port=28512 --num.partitions=3)
start_broker 28502 "${FLAGS[@]}"

expect_eq "create count" "$(rest POST /streams '{"name":"clicks-per-key","source":"clicks","sink":"click-counts","steps":[{"count":{"window_ms":1000}}]}')" 201
expect_eq "create sum" "$(rest POST /streams '{"name":"n-per-user","source":"clicks","sink":"n-sums","steps":[{"rekey":{"field":"user"}},{"sum":{"field":"n","window_ms":1000}}]}')" 201
expect_eq "bad window" "$(rest POST /streams '{"name":"w","source":"clicks","sink":"x","steps":[{"count":{"window_ms":0}}]}')" 422

# produce FROM TO: records i = FROM..TO, key u(i%4), value {"user":"p(i%3)","n":i}, in
# four bursts so that several windows are likely
produce() {
    local i
    for ((i = $1; i <= $2; i++)); do
        printf 'u%d|{"user":"p%d","n":%d}\n' $((i % 4)) $((i % 3)) "$i"
        ((i % 25 == 0)) && sleep 0.3
    done | timeout 20 kcat -b "$B" -P -t clicks -K '|' -X acks=all -X linger.ms=0 2>/dev/null || fail "kcat produce"
}
# done_with N: both processors have read N records and have no lag
done_with() {
    local s
    for s in clicks-per-key n-per-user; do
        curl -sS --max-time 5 "$URL/streams/$s/status" | jq -e ".lag == 0 and .records_in >= $1" >/dev/null || return 1
    done
}
# expected: from the source's own keys and timestamps, "key window_start aggregate" sorted
expected_counts() {
    records "$B" clicks '%k %T\n' | awk '{w = sprintf("%.0f", $2 - $2 % 1000); c[$1 " " w]++} END {for (k in c) print k, c[k]}' | sort
}
expected_sums() {
    timeout 20 kcat -b "$B" -C -t clicks -e -q -J 2>/dev/null |
        jq -r '(.payload | fromjson) as $v | "\($v.user) \(.ts) \($v.n)"' |
        awk '{w = sprintf("%.0f", $2 - $2 % 1000); s[$1 " " w] += $3} END {for (k in s) print k, s[k]}' | sort
}
# got SINK FIELD: the last update of every (key, window) in the sink (one key, one partition:
# partition order is emission order)
got() {
    records "$B" "$1" '%s\n' | jq -r "[.key, .window_start, .$2, .window_end - .window_start] | @tsv" |
        awk '$4 != 1000 {print "bad window", $0} {last[$1 " " $2] = $3} END {for (k in last) print k, last[k]}' | sort
}
check_exact() {
    expect_eq "$1: counts" "$(got click-counts count)" "$(expected_counts)"
    expect_eq "$1: sums" "$(got n-sums sum)" "$(expected_sums)"
}

produce 1 100
wait_for "100 records aggregated" 10 done_with 100
check_exact "before the restart"
stop_broker
start_broker 28502 "${FLAGS[@]}"
grep -q 'stream processor resumes" name=clicks-per-key partitions=3 aggregates=[1-9]' "$LOG" ||
    wait_for "state restored" 5 grep -q 'stream processor resumes" name=clicks-per-key partitions=3 aggregates=[1-9]' "$LOG"
produce 101 200
wait_for "200 records aggregated" 10 done_with 100
check_exact "after a restart"
expect_eq "one update per record" "$(records "$B" click-counts '%o\n' | wc -l)" 200
rest GET /streams/clicks-per-key/status >/dev/null
jq -e '.aggregates > 0 and .state == "RUNNING"' "$WORK/rest.json" >/dev/null || fail "status: $(cat "$WORK/rest.json")"

echo "PASS"
