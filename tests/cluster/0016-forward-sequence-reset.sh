#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Forwarded produce renumbers after a hole (core/replica/forward.c): the topic allows
# timestamps at most 1 ms old (message.timestamp.before.max.ms=1), so the leader refuses
# for good (INVALID_TIMESTAMP) whichever forwarded batches took longer than that to reach
# it; their sequence numbers leave holes, the batches sent behind them come back out of
# order, and the forwarding broker takes a new epoch and sends them again numbered from
# 0. MQTT 5 QoS 1 (MQTT.js) and a REST producer (curl) write through broker P, which does
# not lead the partition, for 10 s. Every record in the log must be there once, every
# acknowledged one present, no refused one present, each producer's in order, and P must
# have taken a new epoch. Ports 29600-29649 (GN_CLUSTER_PORTS); about half a minute.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
for tool in kcat curl jq node; do
    command -v "$tool" >/dev/null || { echo "SKIP: $tool not installed"; exit 0; }
done
HERE="$(cd "$(dirname "$0")" && pwd)"
need_tests_node_modules mqtt

for n in 1 2 3; do start_broker "$n" --gateways --num.partitions=1; done
wait_for 20 "three brokers registered" brokers_in_metadata 3
base="http://127.0.0.1:$(http_port 1)"
wait_for 20 "REST v3 on broker 1" bash -c "curl -sf '$base/v3/clusters' | jq -e '.data[0].cluster_id'"
cid=$(curl -sS "$base/v3/clusters" | jq -r '.data[0].cluster_id')
code=$(curl -sS -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
    --data '{"topic_name":"ts","partitions_count":1,"configs":[{"name":"message.timestamp.before.max.ms","value":"1"}]}' \
    "$base/v3/clusters/$cid/topics")
[[ $code == 201 ]] || fail "v3 create of ts: HTTP $code"
for n in 1 2 3; do # listed without naming it: naming it would auto-create it
    wait_for 20 "broker $n knows ts" bash -c "kcat -L -b 127.0.0.1:${GN_CLUSTER_PORTS}0$n -m 2 | grep -A1 'topic \"ts\"' | grep -q 'leader [123]'"
done
L=$(kcat -L -b "$(bootstrap)" -m 2 | grep -A1 'topic "ts"' | sed -n 's/.*partition 0, leader \([0-9-]*\),.*/\1/p')
P=1
[[ $L == 1 ]] && P=2
echo "leader $L, producing through $P"

STOP="$WORK/stop"
node "$HERE/mqtt_acked_pub.mjs" "mqtt://127.0.0.1:$(mqtt_port "$P")" ts/m m 20 "$STOP" 60 \
    >"$WORK/acked-m.txt" 2>"$WORK/mqtt.err" &
MQ=$!
: >"$WORK/acked-r1.txt"
: >"$WORK/refused-r1.txt"
(
    n=0
    while [[ ! -e $STOP ]]; do
        n=$((n + 1))
        if r=$(curl -sS -m 45 -X POST -H 'Content-Type: application/vnd.kafka.json.v2+json' \
            -H 'Accept: application/vnd.kafka.v2+json' --data "{\"records\":[{\"value\":\"r1-$n\"}]}" \
            "http://127.0.0.1:$(http_port "$P")/topics/ts" 2>&1) &&
            [[ $(jq -r '.offsets[0].error_code' <<<"$r" 2>/dev/null) == null ]]; then
            echo "$n" >>"$WORK/acked-r1.txt"
        elif [[ $(jq -r '.offsets[0].error_code' <<<"$r" 2>/dev/null) =~ ^[0-9]+$ ]]; then
            echo "$n" >>"$WORK/refused-r1.txt" # answered with an error: not written
        fi
    done
) &
R1=$!
sleep 10
touch "$STOP"
wait "$R1"
wait "$MQ" || fail "the MQTT publisher failed: $(tail -3 "$WORK/mqtt.err")"
sed -n 's/^refused \([0-9]*\): .*/\1/p' "$WORK/mqtt.err" >"$WORK/refused-m.txt"
echo "mqtt: $(wc -l <"$WORK/acked-m.txt") acknowledged, $(wc -l <"$WORK/refused-m.txt") refused;" \
    "rest: $(wc -l <"$WORK/acked-r1.txt") acknowledged, $(wc -l <"$WORK/refused-r1.txt") refused"
grep -m2 "^refused" "$WORK/mqtt.err" || true

kcat -C -b "$(bootstrap)" -t ts -p 0 -o beginning -e -q -f '%s\n' | tr -d '"' >"$WORK/log.txt" ||
    fail "consume failed"
echo "$(wc -l <"$WORK/log.txt") records in the log"
dups=$(sort "$WORK/log.txt" | uniq -d | wc -l)
((dups == 0)) || fail "$dups records appended more than once, e.g. $(sort "$WORK/log.txt" | uniq -d | head -5 | tr '\n' ' ')"
for s in m r1; do
    sed -n "s/^$s-\([0-9]*\)$/\1/p" "$WORK/log.txt" >"$WORK/log-$s.txt"
    sort -n "$WORK/log-$s.txt" | cmp -s - "$WORK/log-$s.txt" || fail "producer $s: records out of order in the log"
    sort "$WORK/log-$s.txt" >"$WORK/have-$s.txt"
    sort "$WORK/acked-$s.txt" >"$WORK/want-$s.txt"
    sort -u "$WORK/refused-$s.txt" >"$WORK/not-$s.txt"
    lost=$(comm -23 "$WORK/want-$s.txt" "$WORK/have-$s.txt" | wc -l)
    ((lost == 0)) || fail "producer $s: $lost acknowledged records missing"
    wrong=$(comm -12 "$WORK/not-$s.txt" "$WORK/have-$s.txt" | wc -l)
    ((wrong == 0)) || fail "producer $s: $wrong refused records are in the log, e.g. $(comm -12 "$WORK/not-$s.txt" "$WORK/have-$s.txt" | head -3 | tr '\n' ' ')"
done
(($(cat "$WORK"/refused-?*.txt | wc -l) > 0)) || fail "no record was refused: the topic's timestamp bound did not bite"
grep -q 'produce forward: new producer epoch' "$WORK/b$P.log" || fail "broker $P never took a new epoch"
echo "every record once, acknowledged ones present, refused ones absent, in order; $(grep -c 'new producer epoch' "$WORK/b$P.log") new epochs on $P"

stop_all
check_logs
echo "PASS"
