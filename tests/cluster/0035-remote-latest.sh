#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `latest` on a cold remote copy is the leader's end: three topics of one partition with
# replication factor 1, each with 2000 records of history on its only replica; on a
# broker without a replica that has never read it (no copy yet) one reader each: an SSE
# tail (curl -N, from=latest), a WebSocket subscriber (Node ws, from latest) and a REST
# v2 consumer (manual assignment, auto.offset.reset=latest); then 5 records are produced.
# Each reader gets exactly those 5, in order, and none of the history its copy fetched
# (gn_partition_latest: the leader's high watermark once the copy has heard from it).
# Ports 29600-29649 (GN_CLUSTER_PORTS).
set -euo pipefail
source "$(dirname "$0")/lib.bash"
for tool in kcat curl jq node; do
    command -v "$tool" >/dev/null || { echo "SKIP: $tool not installed"; exit 0; }
done
need_tests_node_modules ws

for n in 1 2 3; do start_broker "$n" --gateways --num.partitions=1; done
wait_for 20 "three brokers registered" brokers_in_metadata 3
base="http://127.0.0.1:$(http_port 1)"
for n in 1 2 3; do wait_for 20 "broker $n's HTTP listener" curl -sf "http://127.0.0.1:$(http_port "$n")/healthz"; done
# topic_on NAME: a topic of one partition, replication factor 1, with 2000 records of
# history; sets LEADER[NAME] and READER[NAME] (a broker without a replica, which has
# never read it). One topic per reader kind, so each starts its own cold copy.
declare -A LEADER=() READER=()
topic_on() {
    local t=$1 code r
    code=$(curl -sS -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
        --data "{\"topic_name\":\"$t\",\"partitions_count\":1,\"replication_factor\":1}" "$base/v3/clusters/ganglion/topics")
    [[ $code == 201 ]] || fail "v3 create of $t (replication factor 1): HTTP $code"
    for n in 1 2 3; do # listed without naming it (naming it would auto-create it)
        wait_for 20 "broker $n knows $t" bash -c "kcat -L -b 127.0.0.1:${GN_CLUSTER_PORTS}0$n -m 2 | grep -A1 'topic \"$t\"' | grep -q 'leader [123]'"
    done
    r=$(kcat -L -b "127.0.0.1:${GN_CLUSTER_PORTS}01" -m 2 | grep -A1 "topic \"$t\"" | sed -n 's/.*partition 0, leader \([0-9-]*\),.*/\1/p')
    [[ "$r" =~ ^[123]$ ]] || fail "$t has no leader: $r"
    LEADER[$t]=$r
    READER[$t]=$((r % 3 + 1))
    seq 1 2000 | sed 's/^/k:h/' | timeout 30 kcat -P -X acks=1 -b "127.0.0.1:${GN_CLUSTER_PORTS}0$r" -t "$t" -p 0 -K: ||
        fail "kcat produce (history of $t)"
    echo "$t: only replica on broker $r, read on broker ${READER[$t]}"
}
http_of() { echo "http://127.0.0.1:$(http_port "${READER[$1]}")"; }
live() { seq 1 5 | sed 's/^/k:l/' | timeout 30 kcat -P -X acks=1 -b "127.0.0.1:${GN_CLUSTER_PORTS}0${LEADER[$1]}" -t "$1" -p 0 -K: || fail "kcat produce (live, $1)"; }
seq 1 5 | sed 's/^/l/' >"$WORK/want.txt"
for t in late-sse late-ws late-rest; do topic_on $t; done

# SSE
curl -sS -N -m 60 "$(http_of late-sse)/topics/late-sse/events?from=latest" >"$WORK/sse.txt" 2>"$WORK/sse.err" &
BG+=($!)
wait_for 20 "broker ${READER[late-sse]} fetches late-sse" grep -q 'remote read started.*topic=late-sse' "$WORK/b${READER[late-sse]}.log"
sleep 1 # the copy has the history by now: none of it may reach the tail
live late-sse
wait_for 20 "SSE has 5 records" bash -c "[[ \$(grep -c '^data:' '$WORK/sse.txt') -ge 5 ]]"
sleep 0.5
grep '^data:' "$WORK/sse.txt" | sed 's/^data: *//' | jq -r '.value' >"$WORK/sse-values.txt"
diff -q "$WORK/want.txt" "$WORK/sse-values.txt" >/dev/null ||
    fail "SSE (from=latest): $(head -3 "$WORK/sse-values.txt" | tr '\n' ' ') ... not the 5 live records"
echo "SSE (from=latest): the 5 live records only"

# WebSocket
node "$(dirname "$0")/ws_records.mjs" "$(http_of late-ws)" late-ws 5 40 latest >"$WORK/ws.txt" 2>"$WORK/ws.err" &
WS=$!
BG+=($WS)
wait_for 20 "WebSocket subscribed" grep -q '^subscribed' "$WORK/ws.err"
sleep 1
live late-ws
wait "$WS" || fail "WebSocket: $(wc -l <"$WORK/ws.txt") records: $(cat "$WORK/ws.err")"
diff -q "$WORK/want.txt" "$WORK/ws.txt" >/dev/null ||
    fail "WebSocket (latest): $(head -3 "$WORK/ws.txt" | tr '\n' ' ') ... not the 5 live records"
echo "WebSocket (latest): the 5 live records only ($(grep '^subscribed' "$WORK/ws.err"))"

# REST v2 consumer
OH=$(http_of late-rest)
AJ='Accept: application/vnd.kafka.json.v2+json'
wait_for 30 "REST consumer created" rest_consumer "$OH" lt c1 latest
wait_for 30 "REST assignment" rest_assign "$OH" lt c1 late-rest
first=$(curl -sS -H "$AJ" "$OH/consumers/lt/instances/c1/records?timeout=1000")
[[ $(jq length <<<"$first") == 0 ]] || fail "REST consumer (latest) read history: $(jq -c '.[0:3]' <<<"$first")"
live late-rest
all='[]'
for ((i = 0; i < 20; i++)); do
    got=$(curl -sS -H "$AJ" "$OH/consumers/lt/instances/c1/records?timeout=1000")
    all=$(jq -c --argjson a "$all" '$a + .' <<<"$got") || fail "REST records: $got"
    [[ $(jq length <<<"$all") -ge 5 ]] && break
done
jq -r '.[].value' <<<"$all" >"$WORK/rest.txt"
diff -q "$WORK/want.txt" "$WORK/rest.txt" >/dev/null ||
    fail "REST consumer (latest): $(head -3 "$WORK/rest.txt" | tr '\n' ' ') ... not the 5 live records"
echo "REST v2 consumer (auto.offset.reset=latest): the 5 live records only"

stop_all
check_logs
echo "PASS"
