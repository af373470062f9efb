#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# SSE live tail (curl): from=earliest replays, live records arrive, and a reconnect
# with the last event id resumes exactly: nothing lost, nothing repeated, across 3
# partitions; from=latest sees only new records; h2c streams too.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
start_broker 28082 --num.partitions=3

JSON='Content-Type: application/vnd.kafka.json.v2+json'
produce() { # produce FIRST LAST: values FIRST..LAST with keys k<i>
    local recs=""
    for ((i = $1; i <= $2; i++)); do recs+="${recs:+,}{\"key\":\"k$i\",\"value\":$i}"; done
    c -X POST -H "$JSON" --data "{\"records\":[$recs]}" "$URL/topics/tail" >/dev/null
}
values() { grep '^data: ' "$1" | sed 's/^data: //' | jq -r .value | sort -n | tr '\n' ' '; }

produce 1 10
# 1) replay from the beginning while more arrive live.
timeout 3 curl -sN "$URL/topics/tail/events?from=earliest" >"$WORK/a.txt" &
tail_pid=$!
sleep 1
produce 11 15
wait "$tail_pid" || true
expect_eq "replay + live" "$(values "$WORK/a.txt")" "$(seq 1 15 | tr '\n' ' ')"
last=$(grep '^id: ' "$WORK/a.txt" | tail -1 | sed 's/^id: //')
[[ "$last" =~ ^0:[0-9]+,1:[0-9]+,2:[0-9]+$ ]] || fail "event id '$last'"

# 2) offline: more records; resume with Last-Event-ID gets exactly those.
produce 16 30
timeout 2 curl -sN -H "Last-Event-ID: $last" "$URL/topics/tail/events" >"$WORK/b.txt" || true
expect_eq "resume" "$(values "$WORK/b.txt")" "$(seq 16 30 | tr '\n' ' ')"

# 3) from=latest: only what is produced after connecting.
timeout 2 curl -sN "$URL/topics/tail/events?from=latest" >"$WORK/c.txt" &
tail_pid=$!
sleep 0.7
produce 31 33
wait "$tail_pid" || true
expect_eq "latest" "$(values "$WORK/c.txt")" "31 32 33 "

# 4) h2c prior knowledge stream.
timeout 2 curl -sN --http2-prior-knowledge "$URL/topics/tail/events?from=earliest" >"$WORK/d.txt" || true
expect_eq "h2 replay count" "$(grep -c '^data: ' "$WORK/d.txt")" 33

# 5) a bad start and an unknown topic.
expect_eq "bad from" "$(status GET '/topics/tail/events?from=yesterday')" 422
expect_eq "unknown topic" "$(status GET /topics/none/events)" 404

# 6) a slow reader: 2000 records of 2 KiB; the reader pauses and still gets all.
python3 -c 'import json; print(json.dumps({"records": [{"value": "x" * 2000}] * 500}))' >"$WORK/big.json"
for ((b = 0; b < 4; b++)); do
    c -X POST -H "$JSON" --data @"$WORK/big.json" "$URL/topics/slow" >/dev/null
done
# (the tail never ends: read at 400 KiB/s until all 2000 arrived, at most 60 s)
curl -sN --limit-rate 400k "$URL/topics/slow/events?from=earliest" >"$WORK/e.txt" &
slow_pid=$!
for ((i = 0; i < 120; i++)); do
    [ "$(grep -c '^data: ' "$WORK/e.txt")" -ge 2000 ] && break
    sleep 0.5
done
kill "$slow_pid" 2>/dev/null || true
wait "$slow_pid" 2>/dev/null || true
expect_eq "slow reader got all" "$(grep -c '^data: ' "$WORK/e.txt")" 2000

stop_broker
echo ok
