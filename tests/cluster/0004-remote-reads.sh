#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Gateway reads through a broker holding no replica (remote reads, core/replica/
# remote_read.c): a topic of one partition with replication factor 1 lives on broker R;
# on another broker O an SSE tail (curl -N), a REST v2 consumer (manual assignment, from
# offset 0), a WebSocket JSON subscriber (Node ws) and mosquitto_sub read it. 100 records
# produced with kcat to R before they start (history) and 50 after (live) reach every one
# of them once and in order (MQTT: the live ones), through one fetch stream on O. Then R
# is killed: SSE and REST on O answer 503 with error_code 50301 and O logs why; the
# MQTT subscription stays, and records produced once R is back are delivered to it.
# Last, a topic of replication factor 2 read (SSE, MQTT) on the broker outside its
# replicas: its leader is killed between two batches and the reader follows the new
# leader with every record once and in order, on the same fetch stream.
# Ports 29600-29649 (GN_CLUSTER_PORTS).
set -euo pipefail
source "$(dirname "$0")/lib.bash"
for tool in kcat mosquitto_sub curl jq node; do
    command -v "$tool" >/dev/null || { echo "SKIP: $tool not installed"; exit 0; }
done
need_tests_node_modules ws

for n in 1 2 3; do start_broker "$n" --gateways --num.partitions=1; done
wait_for 20 "three brokers registered" brokers_in_metadata 3
base="http://127.0.0.1:$(http_port 1)"
for n in 1 2 3; do wait_for 20 "broker $n's HTTP listener" curl -sf "http://127.0.0.1:$(http_port "$n")/healthz"; done
cid=$(curl -sS "$base/v3/clusters" | jq -r '.data[0].cluster_id')
code=$(curl -sS -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
    --data '{"topic_name":"solo","partitions_count":1,"replication_factor":1}' "$base/v3/clusters/$cid/topics")
[[ $code == 201 ]] || fail "v3 create of solo (replication factor 1): HTTP $code"
for n in 1 2 3; do # listed without naming it (naming it would auto-create it)
    wait_for 20 "broker $n knows solo" bash -c "kcat -L -b 127.0.0.1:${GN_CLUSTER_PORTS}0$n -m 2 | grep -A1 'topic \"solo\"' | grep -q 'leader [123]'"
done
R=$(kcat -L -b "127.0.0.1:${GN_CLUSTER_PORTS}01" -m 2 | grep -A1 'topic "solo"' | sed -n 's/.*partition 0, leader \([0-9-]*\),.*/\1/p')
[[ "$R" =~ ^[123]$ ]] || fail "solo has no leader: $R"
O=1
[[ $R == 1 ]] && O=2
KR="127.0.0.1:${GN_CLUSTER_PORTS}0$R"
OH="http://127.0.0.1:$(http_port "$O")"
echo "solo's only replica on broker $R, readers on broker $O"

# ---- history: 100 records on R before any reader on O
seq 1 100 | sed 's/^/k:h/' | timeout 30 kcat -P -X acks=1 -b "$KR" -t solo -p 0 -K: || fail "kcat produce (history)"

curl -sS -N -m 90 "$OH/topics/solo/events?from=earliest" >"$WORK/sse.txt" 2>"$WORK/sse.err" &
BG+=($!)
node "$(dirname "$0")/ws_records.mjs" "$OH" solo 150 60 >"$WORK/ws.txt" 2>"$WORK/ws.err" &
WS=$!
BG+=($WS)
# the MQTT session store first: a CONNECT before __mqtt_sessions has a leader is refused
# 0x88 after 5 s (CI's broker 1 had not created it yet: it waits for three brokers)
wait_for 30 "__mqtt_sessions with a replica on every broker" isr_full __mqtt_sessions
mosquitto_sub -h 127.0.0.1 -p "$(mqtt_port "$O")" -V mqttv5 -i sub-o -q 1 -t 'solo/#' -C 50 -W 60 \
    >"$WORK/mqtt.txt" 2>"$WORK/mqtt.err" &
SUB=$!
BG+=($SUB)
AJ='Accept: application/vnd.kafka.json.v2+json'
# the instance is stored in __http_consumers (acks=all): retried while its ISR forms
wait_for 30 "REST consumer created on $O" rest_consumer "$OH" rr c1 earliest
wait_for 30 "REST assignment on $O" rest_assign "$OH" rr c1 solo
rest_records() { # rest_records WANT: reads (bounded) until WANT values came, prints them
    local all='[]' got
    for ((i = 0; i < 40; i++)); do
        got=$(curl -sS -H "$AJ" "$OH/consumers/rr/instances/c1/records?timeout=1000")
        all=$(jq -c --argjson a "$all" '$a + .' <<<"$got") || fail "REST records: $got"
        [[ $(jq length <<<"$all") -ge $1 ]] && break
    done
    jq -r '.[].value' <<<"$all"
}
rest_records 100 >"$WORK/rest.txt"
seq 1 100 | sed 's/^/h/' >"$WORK/want-h.txt"
diff -q "$WORK/want-h.txt" "$WORK/rest.txt" >/dev/null ||
    fail "REST consumer on $O (history): $(diff "$WORK/want-h.txt" "$WORK/rest.txt" | head -3)"
echo "REST v2 consumer on $O: the 100 records of history, in order"

# ---- live: 50 records on R once every reader is in place
wait_for 20 "SSE on $O has the history" bash -c "[[ \$(grep -c '^data:' '$WORK/sse.txt') -ge 100 ]]"
wait_for 10 "MQTT subscriber connected on $O" grep -q 'client=sub-o' "$WORK/b$O.log"
sleep 1
seq 1 50 | sed 's/^/k:l/' | timeout 30 kcat -P -X acks=1 -b "$KR" -t solo -p 0 -K: || fail "kcat produce (live)"
seq 1 50 | sed 's/^/l/' >"$WORK/want-l.txt"
cat "$WORK/want-h.txt" "$WORK/want-l.txt" >"$WORK/want.txt"

wait "$WS" || fail "WebSocket subscriber on $O: $(wc -l <"$WORK/ws.txt") of 150 records: $(cat "$WORK/ws.err")"
diff -q "$WORK/want.txt" "$WORK/ws.txt" >/dev/null ||
    fail "WebSocket on $O: not every record once and in order ($(diff "$WORK/want.txt" "$WORK/ws.txt" | head -3))"
echo "WebSocket subscriber on $O: 150 records (history and live) once and in order"

wait_for 20 "SSE on $O has the live records" bash -c "[[ \$(grep -c '^data:' '$WORK/sse.txt') -ge 150 ]]"
grep '^data:' "$WORK/sse.txt" | sed 's/^data: *//' | jq -r '.value' >"$WORK/sse-values.txt"
diff -q "$WORK/want.txt" "$WORK/sse-values.txt" >/dev/null ||
    fail "SSE on $O: not every record once and in order ($(diff "$WORK/want.txt" "$WORK/sse-values.txt" | head -3))"
echo "SSE tail on $O: 150 records (history and live) once and in order"

wait "$SUB" || fail "mosquitto_sub on $O got $(wc -l <"$WORK/mqtt.txt") of 50: $(cat "$WORK/mqtt.err")"
diff -q "$WORK/want-l.txt" "$WORK/mqtt.txt" >/dev/null ||
    fail "MQTT on $O: not the 50 live records once and in order ($(diff "$WORK/want-l.txt" "$WORK/mqtt.txt" | head -3))"
echo "mosquitto_sub on $O: the 50 live records once and in order (no history replayed)"

rest_records 50 >"$WORK/rest-l.txt"
diff -q "$WORK/want-l.txt" "$WORK/rest-l.txt" >/dev/null ||
    fail "REST consumer on $O (live): $(diff "$WORK/want-l.txt" "$WORK/rest-l.txt" | head -3)"
echo "REST v2 consumer on $O: the 50 live records, in order"

starts=$(grep -c 'remote read started.*topic=solo' "$WORK/b$O.log" || true)
[[ $starts == 1 ]] || fail "broker $O started $starts fetch streams for solo, want 1 shared by every reader"
echo "one fetch stream on $O for four readers"

# ---- the only replica dies: a clear 503 on SSE and REST, MQTT waits for it
mosquitto_sub -h 127.0.0.1 -p "$(mqtt_port "$O")" -V mqttv5 -i sub-back -q 1 -t 'solo/#' \
    -C 5 -W 90 >"$WORK/mqtt-back.txt" 2>"$WORK/mqtt-back.err" &
BACK=$!
BG+=($BACK)
wait_for 10 "second MQTT subscriber connected on $O" grep -q 'client=sub-back' "$WORK/b$O.log"
kill9 "$R"
wait_for 30 "broker $O sees solo without a leader" bash -c "kcat -L -b 127.0.0.1:${GN_CLUSTER_PORTS}0$O -m 2 | grep -A1 'topic \"solo\"' | grep -q 'leader -1'"
body=$(curl -sS -m 5 -w ' %{http_code}' "$OH/topics/solo/events?from=earliest" || true)
[[ $body == *'"error_code":50301'*"no leader"*" 503" ]] || fail "SSE on $O while solo has no leader: $body"
body=$(curl -sS -m 5 -w ' %{http_code}' -H "$AJ" "$OH/consumers/rr/instances/c1/records?timeout=0" || true)
[[ $body == *'"error_code":50301'*" 503" ]] || fail "REST records on $O while solo has no leader: $body"
wait_for 10 "broker $O logs that solo has no leader to read from" \
    grep -q 'partition has no leader to read from.*topic=solo' "$WORK/b$O.log"
echo "solo without a leader: SSE and REST on $O answer 503 50301, and $O logs it"
start_broker "$R" --gateways --num.partitions=1
wait_for 30 "solo led by $R again" bash -c "kcat -L -b 127.0.0.1:${GN_CLUSTER_PORTS}0$O -m 2 | grep -A1 'topic \"solo\"' | grep -q 'leader $R'"
seq 1 5 | sed 's/^/k:b/' | timeout 30 kcat -P -X acks=1 -b "$KR" -t solo -p 0 -K: || fail "kcat produce (back)"
wait "$BACK" || fail "MQTT subscriber on $O got $(wc -l <"$WORK/mqtt-back.txt") of 5 after $R came back: $(cat "$WORK/mqtt-back.err")"
[[ $(tr '\n' ' ' <"$WORK/mqtt-back.txt") == 'b1 b2 b3 b4 b5 ' ]] ||
    fail "MQTT on $O after $R came back: $(tr '\n' ' ' <"$WORK/mqtt-back.txt")"
echo "MQTT subscription on $O kept while solo had no leader, delivered once it came back"

# ---- a remote reader follows a leader change: topic duo, replication factor 2, read on
# the broker X outside its replicas; its leader killed between two batches
code=$(curl -sS -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
    --data '{"topic_name":"duo","partitions_count":1,"replication_factor":2,"configs":[{"name":"min.insync.replicas","value":"1"}]}' \
    "$OH/v3/clusters/$cid/topics" || true)
[[ $code == 201 ]] || fail "v3 create of duo (replication factor 2): HTTP $code"
duo_line() { kcat -L -b "$(bootstrap)" -m 2 2>/dev/null | grep -A1 'topic "duo"' | tail -1 || true; }
wait_for 20 "duo has a leader and an ISR of two" bash -c "kcat -L -b '$(bootstrap)' -m 2 | grep -A1 'topic \"duo\"' | grep -q 'isrs: [123],[123]$'"
reps="" L=""
for ((i = 0; i < 50; i++)); do # one metadata answer for both
    line=$(duo_line)
    reps=$(sed -n 's/.*replicas: \([0-9],[0-9]\),.*/\1/p' <<<"$line")
    L=$(sed -n 's/.*partition 0, leader \([0-9-]*\),.*/\1/p' <<<"$line")
    [[ -n $reps && $L =~ ^[123]$ ]] && break
    sleep 0.2
done
X=""
for n in 1 2 3; do [[ ,$reps, == *,$n,* ]] || X=$n; done
[[ -n $X && $L =~ ^[123]$ ]] || fail "duo: replicas '$reps', leader '$L'"
F=${reps/$L/}
F=${F//,/}
echo "duo on brokers $reps (leader $L), read on broker $X"
XH="http://127.0.0.1:$(http_port "$X")"
curl -sS -N -m 120 "$XH/topics/duo/events?from=earliest" >"$WORK/duo-sse.txt" 2>/dev/null &
BG+=($!)
mosquitto_sub -h 127.0.0.1 -p "$(mqtt_port "$X")" -V mqttv5 -i sub-duo -q 1 -t 'duo/#' -C 100 -W 90 \
    >"$WORK/duo-mqtt.txt" 2>"$WORK/duo-mqtt.err" &
DUO=$!
BG+=($DUO)
wait_for 10 "MQTT subscriber connected on $X" grep -q 'client=sub-duo' "$WORK/b$X.log"
wait_for 10 "broker $X fetches duo" grep -q 'remote read started.*topic=duo' "$WORK/b$X.log"
seq 1 50 | sed 's/^/k:a/' | timeout 30 kcat -P -X acks=all -b "127.0.0.1:${GN_CLUSTER_PORTS}0$L" -t duo -p 0 -K: ||
    fail "kcat produce to duo (before)"
wait_for 20 "SSE on $X has duo's first 50" bash -c "[[ \$(grep -c '^data:' '$WORK/duo-sse.txt') -ge 50 ]]"
kill9 "$L"
wait_for 30 "duo led by $F" bash -c "kcat -L -b 127.0.0.1:${GN_CLUSTER_PORTS}0$X -m 2 | grep -A1 'topic \"duo\"' | grep -q 'leader $F,'"
seq 1 50 | sed 's/^/k:b/' | timeout 30 kcat -P -X acks=all -b "127.0.0.1:${GN_CLUSTER_PORTS}0$F" -t duo -p 0 -K: ||
    fail "kcat produce to duo (after)"
(seq 1 50 | sed 's/^/a/'; seq 1 50 | sed 's/^/b/') >"$WORK/duo-want.txt"
wait_for 30 "SSE on $X has duo's 100" bash -c "[[ \$(grep -c '^data:' '$WORK/duo-sse.txt') -ge 100 ]]"
grep '^data:' "$WORK/duo-sse.txt" | sed 's/^data: *//' | jq -r '.value' >"$WORK/duo-sse-values.txt"
diff -q "$WORK/duo-want.txt" "$WORK/duo-sse-values.txt" >/dev/null ||
    fail "SSE on $X across duo's leader change: $(diff "$WORK/duo-want.txt" "$WORK/duo-sse-values.txt" | head -3)"
wait "$DUO" || fail "mosquitto_sub on $X got $(wc -l <"$WORK/duo-mqtt.txt") of 100 across the leader change: $(cat "$WORK/duo-mqtt.err")"
diff -q "$WORK/duo-want.txt" "$WORK/duo-mqtt.txt" >/dev/null ||
    fail "MQTT on $X across duo's leader change: $(diff "$WORK/duo-want.txt" "$WORK/duo-mqtt.txt" | head -3)"
starts=$(grep -c 'remote read started.*topic=duo' "$WORK/b$X.log" || true)
[[ $starts == 1 ]] || fail "broker $X restarted duo's fetch stream ($starts starts) instead of following the leader"
echo "leader of duo killed ($L -> $F): SSE and MQTT on $X got all 100 once and in order, one stream"

stop_all
check_logs
echo "PASS"
