#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Internal topics ("__" prefix: __consumer_offsets, __mqtt_sessions, __mqtt_retained)
# hold the broker's own state: a client's append is refused in every protocol, as Kafka
# refuses appends to its internal topics, with a log line, and nothing reaches the log —
# kcat gets INVALID_TOPIC_EXCEPTION, REST a 422 with the v2 error body, MQTT 5 PUBACK
# 0x90 (Topic Name invalid). Nor may a client create or delete one (REST v3, Metadata
# auto-creation; the Kafka admin API: kafkajs_smoke.js). Reading them stays allowed.
# (WebSocket: ws_json.mjs.)
# Ports 28483 (HTTP), 28493 (Kafka), 28473 (MQTT).
set -euo pipefail
source "$(dirname "$0")/lib.bash"
for tool in kcat mosquitto_pub mosquitto_sub; do
    command -v "$tool" >/dev/null || { echo "SKIP: $tool not installed"; exit 0; }
done
start_broker 28483 --kafka.host=127.0.0.1 --kafka.port=28493 --mqtt.host=127.0.0.1 --mqtt.port=28473
BROKER=127.0.0.1:28493

# a persistent MQTT session and a group's committed offset: the internal topics exist
mosquitto_pub -h 127.0.0.1 -p 28473 -V mqttv5 -i it-sess -c -x 300 -q 1 -t it/a -m one ||
    fail "mosquitto_pub"
timeout 30 kcat -b "$BROKER" -G it-group -q -u -X auto.offset.reset=earliest -c 1 it >/dev/null ||
    fail "kcat group read"
junk_in_internal() { # how many records with the value "junk" the internal topics hold
    for t in __consumer_offsets __mqtt_sessions __mqtt_retained; do
        timeout 20 kcat -b "$BROKER" -C -t "$t" -e -q -f '%s\n' 2>/dev/null || true
    done | grep -c '^junk$' || true
}

for t in __consumer_offsets __mqtt_sessions __mqtt_retained; do
    out=$(echo junk | timeout 30 kcat -b "$BROKER" -P -t "$t" -k it-sess 2>&1 || true)
    grep -q "Invalid topic" <<<"$out" || fail "kcat produce to $t: '$out'"
done

code=$(c -o "$WORK/rest.json" -w '%{http_code}' -X POST -H 'Content-Type: application/vnd.kafka.json.v2+json' \
    --data '{"records":[{"key":"it-sess","value":"junk"}]}' "$URL/topics/__mqtt_sessions")
expect_eq "REST produce to __mqtt_sessions" "$code" 422
jq -e '.error_code == 42201 and (.message | length > 0)' "$WORK/rest.json" >/dev/null ||
    fail "REST error body: $(cat "$WORK/rest.json")"

out=$(mosquitto_pub -h 127.0.0.1 -p 28473 -V mqttv5 -q 1 -t __mqtt_sessions/it-sess -m junk -d 2>&1 || true)
grep -q "PUBACK.*rc:144\|reason code: 144\|(144)" <<<"$out" || grep -qi "topic name invalid" <<<"$out" ||
    fail "MQTT publish to __mqtt_sessions/it-sess: $(tr '\n' '|' <<<"$out")"

expect_eq "junk records in the internal topics" "$(junk_in_internal)" 0
(($(grep -c 'mod=topic msg="refused: clients may not produce to an internal topic"' "$LOG") >= 4)) ||
    fail "not a log line for each refused produce"

# REST v3: an internal topic is neither deleted nor created by a client
expect_eq "REST v3 delete of __mqtt_sessions" "$(status DELETE /v3/clusters/ganglion/topics/__mqtt_sessions)" 422
expect_eq "REST v3 create of __mine" "$(status POST /v3/clusters/ganglion/topics -H 'Content-Type: application/json' \
    --data '{"topic_name":"__mine","partitions_count":1}')" 422
kcat -b "$BROKER" -L 2>/dev/null | grep -q 'topic "__mqtt_sessions"' || fail "__mqtt_sessions is gone"
kcat -b "$BROKER" -L -t __auto 2>/dev/null | grep -q 'topic "__auto" with [1-9]' && fail "Metadata auto-created __auto"

# the session is intact: it comes back with its subscription state (session present)
out=$(mosquitto_sub -h 127.0.0.1 -p 28473 -V mqttv5 -i it-sess -c -x 300 -t it/a -W 2 -d 2>&1 || true)
grep -q "CONNACK (s1, rc0)\|session present: 1\|sp1" <<<"$out" ||
    grep -q 'client=it-sess .*session_present=1' "$LOG" || fail "session it-sess lost: $(tr '\n' '|' <<<"$out")"
timeout 10 kcat -b "$BROKER" -C -t __mqtt_sessions -e -q >/dev/null || fail "reading an internal topic"
stop_broker
echo ok
