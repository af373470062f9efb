#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A windowed count survives SIGKILL: three times, a backlog produced by kcat (keys k0..k4,
# three partitions) is being counted when the broker is killed with SIGKILL, then
# restarted. After the last restart the last emitted value of every (key, 1 s window) in
# the sink equals the count the source's own records give: nothing the changelog already
# held is counted twice, nothing is lost. The PASS line shows the updates re-emitted by a
# kill between the sink append and the changelog batch (more updates than records).
# Ports 28503 (HTTP), 28513 (Kafka). About 6 s.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
B=127.0.0.1:28513
FLAGS=(--kafka.host=127.0.0.1 --kafka.port=28513 --num.partitions=3)
start_broker 28503 "${FLAGS[@]}"

expect_eq "create" "$(rest POST /streams '{"name":"per-key","source":"events","sink":"event-counts","steps":[{"count":{"window_ms":1000}}]}')" 201

# Each round: a backlog of 6,000 records (~1.4 MB in batches of ≤ 200 records, so that a
# cycle, ≤ 256 KiB of whole batches, counts at most ~1,300) produced while the processor is
# paused, then resumed and killed once it has counted more than a cycle's records since:
# its first cycle is committed (a restart has state to restore) and the kill lands inside
# a later one (between sink append, changelog batch and commit). Should it finish first,
# it is killed idle.
PAD=$(printf '%0200d' 0)
backlog() { # backlog ROUND
    local i
    for ((i = 0; i < 6000; i++)); do printf 'k%d|{"r":%d,"i":%d,"pad":"%s"}\n' $((i % 5)) "$1" "$i" "$PAD"; done |
        timeout 20 kcat -b "$B" -P -t events -K '|' -X acks=all -X batch.num.messages=200 || fail "kcat produce"
}
status_ok() { # status_ok JQ: the processor's status satisfies JQ
    curl -sS --max-time 2 "$URL/streams/per-key/status" 2>/dev/null | jq -e "$1" >/dev/null 2>&1
}
kill_broker() {
    kill -KILL "$PID"
    wait "$PID" 2>/dev/null || true
    PID=""
}

for round in 1 2 3; do
    expect_eq "pause" "$(rest PUT /streams/per-key/pause)" 202
    wait_for "round $round: paused" 10 status_ok '.state == "PAUSED"'
    backlog "$round"
    rest GET /streams/per-key/status >/dev/null
    r0=$(jq .records_in "$WORK/rest.json")
    expect_eq "resume" "$(rest PUT /streams/per-key/resume)" 202
    end=$((SECONDS + 10))
    until curl -sS --max-time 2 "$URL/streams/per-key/status" | jq -e ".records_in > $r0 + 1400 or .lag == 0" >/dev/null; do
        ((SECONDS < end)) || fail "round $round: nothing counted"
    done
    kill_broker
    start_broker 28503 "${FLAGS[@]}"
done
wait_for "restored" 10 grep -q 'stream processor resumes" name=per-key partitions=3 aggregates=[1-9]' "$LOG"
printf 'k%d|{"last":true}\n' 0 1 2 3 4 | timeout 20 kcat -b "$B" -P -t events -K '|' -X acks=all || fail "kcat produce"
wait_for "caught up" 10 status_ok '.lag == 0 and .records_in >= 5'

expected() { # "key window_start count" from the source's own keys and timestamps
    records "$B" events '%k %T\n' | awk '{w = sprintf("%.0f", $2 - $2 % 1000); c[$1 " " w]++} END {for (k in c) print k, c[k]}' | sort
}
got() { # the last update of every (key, window): one key, one partition, emission order
    records "$B" event-counts '%s\n' | jq -r '[.key, .window_start, .count] | @tsv' |
        awk '{last[$1 " " $2] = $3} END {for (k in last) print k, last[k]}' | sort
}
want="$(expected)"
[[ $(wc -l <<<"$want") -ge 5 ]] || fail "too few windows: $want"
expect_eq "counts after three SIGKILLs" "$(got)" "$want"
n_in=$(records "$B" events '%o\n' | wc -l)
n_out=$(records "$B" event-counts '%o\n' | wc -l)
((n_out >= n_in)) || fail "fewer updates ($n_out) than records ($n_in)"
echo "PASS ($n_in records, $n_out updates)"
