#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# kcat -L: this node is the only broker at the address the client connected to (and
# at kafka.advertised.host when set), topics list their partitions with this node as
# leader, replica and ISR; an invalid topic name gets an error. Port 29093.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
start_broker 29093 --num.partitions=3

echo x | kc -P -t meta.topic || fail "produce failed"
kc -L -J >"$WORK/md.json" || fail "metadata failed"
jq -e '.brokers == [{"id":1,"name":"127.0.0.1:29093"}]' "$WORK/md.json" >/dev/null ||
    fail "brokers: $(jq -c .brokers "$WORK/md.json")"
jq -e '.topics[] | select(.topic=="meta.topic") | (.partitions|length)==3 and
       all(.partitions[]; .leader==1 and .replicas==[{"id":1}] and .isrs==[{"id":1}])' \
    "$WORK/md.json" >/dev/null || fail "topic: $(jq -c .topics "$WORK/md.json")"

kc -L -t 'bad/name' -J >"$WORK/bad.json" 2>/dev/null || true
jq -e '.topics[0].error != null' "$WORK/bad.json" >/dev/null ||
    fail "invalid topic name not reported: $(cat "$WORK/bad.json")"
kill -TERM "$PID"; wait "$PID" || true

# advertised address
PID=""
rm -f "$LOG"
start_broker 29093 --kafka.advertised.host=broker.example --kafka.advertised.port=19999
kc -L -J -m 5 >"$WORK/adv.json" 2>/dev/null || true
jq -e '.brokers == [{"id":1,"name":"broker.example:19999"}]' "$WORK/adv.json" >/dev/null ||
    fail "advertised: $(jq -c .brokers "$WORK/adv.json")"
echo "PASS"
