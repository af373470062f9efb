#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# MQTT and REST sessions work through any broker: three brokers with their MQTT and HTTP
# listeners on, one topic of one partition (replication factor 3) led by broker L.
# mosquitto_pub (QoS 1) on a broker P != L, mosquitto_sub on the third broker S: every
# message arrives once and in order, and the leader's log (kcat) holds them all once.
# A REST produce (curl) to a non-leader is read back with kcat from the leader. A
# retained message published on P is sent to a new subscriber on S. An SSE tail on a
# broker holding no replica of a replication-factor-1 topic gets its records from the
# leader (remote reads; tests/cluster/0004-remote-reads.sh covers every gateway).
# Ports 29600-29649 (GN_CLUSTER_PORTS).
set -euo pipefail
source "$(dirname "$0")/lib.bash"
for tool in kcat mosquitto_pub mosquitto_sub curl; do
    command -v "$tool" >/dev/null || { echo "SKIP: $tool not installed"; exit 0; }
done

for n in 1 2 3; do start_broker "$n" --gateways --num.partitions=1; done
wait_for 20 "three brokers registered" brokers_in_metadata 3
wait_for 20 "topic gw with an ISR of three" bash -c "[[ \"\$(kcat -L -b '$(bootstrap)' -t gw -m 2 | grep -o 'isrs: .*')\" =~ ^isrs:\ [0-9],[0-9],[0-9]$ ]]"
L=$(leader_of gw)
[[ "$L" =~ ^[123]$ ]] || fail "no leader: $L"
others=()
for n in 1 2 3; do [[ $n == "$L" ]] || others+=("$n"); done
P=${others[0]} S=${others[1]}
echo "leader $L, publisher on $P, subscriber on $S"
# every broker has the topic before a client uses it
for n in 1 2 3; do
    wait_for 20 "broker $n knows gw" bash -c "kcat -L -b 127.0.0.1:${GN_CLUSTER_PORTS}0$n -t gw -m 2 | grep -q 'partition 0, leader [123]'"
done

# ---- MQTT: QoS 1 through P, delivered on S
N=300
mosquitto_sub -h 127.0.0.1 -p "$(mqtt_port "$S")" -V mqttv5 -i sub-s -q 1 -t 'gw/#' -C "$N" \
    -W 60 >"$WORK/sub.txt" 2>"$WORK/sub.err" &
SUB=$!
# the subscription is in place once a probe topic's message reaches it... the subscriber
# counts messages, so wait for its connection in the broker log instead
wait_for 10 "subscriber connected on $S" grep -q 'client=sub-s' "$WORK/b$S.log"
sleep 0.5
seq 1 "$N" | mosquitto_pub -h 127.0.0.1 -p "$(mqtt_port "$P")" -V mqttv5 -i pub-p -q 1 \
    -t gw/k -l >"$WORK/pub.out" 2>&1 || fail "mosquitto_pub failed: $(tail -3 "$WORK/pub.out")"
grep -qi "error\|warning" "$WORK/pub.out" && fail "publish refused: $(head -3 "$WORK/pub.out")"
wait "$SUB" || fail "subscriber on $S got $(wc -l <"$WORK/sub.txt") of $N messages: $(cat "$WORK/sub.err")"
seq 1 "$N" >"$WORK/want.txt"
diff -q "$WORK/want.txt" "$WORK/sub.txt" >/dev/null ||
    fail "subscriber on $S: not every message once and in order ($(diff "$WORK/want.txt" "$WORK/sub.txt" | head -3))"
kcat -C -b "127.0.0.1:${GN_CLUSTER_PORTS}0$L" -t gw -p 0 -o beginning -e -q -f '%s\n' >"$WORK/log.txt"
diff -q "$WORK/want.txt" "$WORK/log.txt" >/dev/null ||
    fail "leader's log does not hold the $N messages once and in order"
echo "MQTT: $N QoS 1 messages published on $P, delivered on $S once and in order"

# ---- REST produce to a non-leader, read back from the leader
JSON='Content-Type: application/vnd.kafka.json.v2+json'
V2='Accept: application/vnd.kafka.v2+json'
r=$(curl -sS -X POST -H "$JSON" -H "$V2" \
    --data '{"records":[{"value":"rest-1"},{"value":"rest-2"},{"value":"rest-3"}]}' \
    "http://127.0.0.1:$(http_port "$P")/topics/gw") || fail "REST produce failed"
[[ $(jq -r '[.offsets[].error_code]|unique|tostring' <<<"$r") == '[null]' ]] || fail "REST produce errors: $r"
[[ $(jq -r '.offsets[0].offset' <<<"$r") == "$N" ]] || fail "REST offsets are not the leader's: $r"
kcat -C -b "127.0.0.1:${GN_CLUSTER_PORTS}0$L" -t gw -p 0 -o "$N" -e -q -f '%s\n' >"$WORK/rest.txt"
[[ $(tr '\n' ' ' <"$WORK/rest.txt") == '"rest-1" "rest-2" "rest-3" ' ]] ||
    fail "REST records read from the leader: $(cat "$WORK/rest.txt")"
echo "REST: 3 records produced on $P at offsets $N.. read back from leader $L"

# ---- a retained message published on P is served on S
mosquitto_pub -h 127.0.0.1 -p "$(mqtt_port "$P")" -q 1 -r -t gw/status -m on-$P ||
    fail "retained publish failed"
got=""
for _ in $(seq 1 50); do
    got=$(mosquitto_sub -h 127.0.0.1 -p "$(mqtt_port "$S")" -t gw/status -C 1 -W 1 2>/dev/null || true)
    [[ $got == "on-$P" ]] && break
    sleep 0.1
done
[[ $got == "on-$P" ]] || fail "retained message not seen on $S: '$got'"
echo "retained: published on $P, sent to a subscriber on $S"

# ---- remote reads: an SSE tail on a broker without a replica is served from the leader
base="http://127.0.0.1:$(http_port "$P")"
cid=$(curl -sS "$base/v3/clusters" | jq -r '.data[0].cluster_id')
code=$(curl -sS -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
    --data '{"topic_name":"solo","partitions_count":1,"replication_factor":1,"configs":[{"name":"min.insync.replicas","value":"1"}]}' "$base/v3/clusters/$cid/topics")
[[ $code == 201 ]] || fail "v3 create of solo (replication factor 1): HTTP $code"
# listed without naming it: a Metadata request naming solo would auto-create it (with
# the default replication factor) on a broker that has not applied the create yet
for n in 1 2 3; do
    wait_for 20 "broker $n knows solo" bash -c "kcat -L -b 127.0.0.1:${GN_CLUSTER_PORTS}0$n -m 2 | grep -A1 'topic \"solo\"' | grep -q 'leader [123]'"
done
R=$(kcat -L -b "127.0.0.1:${GN_CLUSTER_PORTS}0$P" -m 2 | grep -A1 'topic "solo"' | sed -n 's/.*partition 0, leader \([0-9-]*\),.*/\1/p')
O=1
[[ $R == 1 ]] && O=2
r=$(curl -sS -X POST -H "$JSON" -H "$V2" --data '{"records":[{"value":"solo-1"}]}' \
    "http://127.0.0.1:$(http_port "$O")/topics/solo") || fail "REST produce to solo on $O failed"
[[ $(jq -r '.offsets[0].offset' <<<"$r") == 0 ]] || fail "REST produce to solo on $O: $r"
body=$(curl -s -N -m 5 "http://127.0.0.1:$(http_port "$O")/topics/solo/events?from=earliest" || true)
[[ $body == *'data:'*'solo-1'* ]] || fail "SSE on broker $O without a replica of solo (leader $R): $body"
echo "SSE on a broker without a replica: the record, read from leader $R"
# Brokers outside solo's replica set never follow it (a remote read is no follower), so
# its ISR stays its one replica (it grew to 3 when every broker followed every
# replicated-looking partition).
sleep 2
isr=$(kcat -L -b "127.0.0.1:${GN_CLUSTER_PORTS}0$R" -t solo -m 2 | grep -o 'isrs: .*')
[[ $isr == "isrs: $R" ]] || fail "solo's ISR is '$isr', want 'isrs: $R'"

stop_all
check_logs
echo "PASS"
