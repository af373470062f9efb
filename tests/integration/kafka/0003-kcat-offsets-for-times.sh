#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# kcat -Q (ListOffsets by timestamp): records produced with explicit timestamps
# (CreateTime, set by librdkafka) are found by time: a time before the first gives 0,
# a time between two gives the later one, a time after the last gives the end (-1 in
# kcat's output means "none"); -o s@ts consumes from a time. Port 29094.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
start_broker 29094

# One message per produce call: three batches with increasing CreateTime.
for i in 1 2 3; do echo "m$i" | kc -P -t times -p 0 || fail "produce failed"; done
now=$(date +%s%3N)
kc -Q -t "times:0:0" >"$WORK/q0.txt" || fail "query failed"
grep -q 'offset 0' "$WORK/q0.txt" || fail "ts 0: $(cat "$WORK/q0.txt")"
kc -Q -t "times:0:$((now + 3600000))" >"$WORK/q1.txt" || fail "query failed"
grep -q 'offset -1' "$WORK/q1.txt" || fail "future ts: $(cat "$WORK/q1.txt")"

sleep 0.05
mid=$(date +%s%3N)
sleep 0.05
echo later | kc -P -t times -p 0 || fail "produce failed"
kc -Q -t "times:0:$mid" >"$WORK/q2.txt" || fail "query failed"
grep -q 'offset 3' "$WORK/q2.txt" || fail "mid ts: $(cat "$WORK/q2.txt")"
kc -C -t times -o "s@$mid" -e -q -f '%o:%s\n' >"$WORK/c.txt" || fail "consume by time failed"
[[ "$(cat "$WORK/c.txt")" == "3:later" ]] || fail "consume from time: $(cat "$WORK/c.txt")"
echo "PASS"
