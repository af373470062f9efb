#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Stateless stream processors through /streams: filter+map and rekey over JSON records
# produced by kcat (with keys, three partitions) and by mosquitto_pub (MQTT), read back
# exactly with kcat; a value that is not JSON goes to the dead-letter topic, or is counted
# as skipped with a log line; bad definitions get 400/422 REST Proxy errors; pause and
# resume; the definitions survive a broker restart, which repeats nothing; delete.
# Ports 28501 (HTTP), 28511 (Kafka), 28521 (MQTT).
set -euo pipefail
source "$(dirname "$0")/lib.bash"
command -v mosquitto_pub >/dev/null || { echo "SKIP: mosquitto_pub not installed"; exit 0; }
B=127.0.0.1:28511
FLAGS=(--kafka.host=127.0.0.1 --kafka.port=28511 --mqtt.host=127.0.0.1 --mqtt.port=28521 --num.partitions=3)
start_broker 28501 "${FLAGS[@]}"

# bad definitions: REST Proxy error bodies and a log line
expect_eq "not JSON" "$(rest POST /streams 'nope')" 400
jq -e '.error_code == 40001' "$WORK/rest.json" >/dev/null || fail "400 body: $(cat "$WORK/rest.json")"
expect_eq "no source" "$(rest POST /streams '{"name":"x","sink":"s","steps":[{"map":{"set":{"a":1}}}]}')" 422
jq -e '.error_code == 42206 and (.message | test("source"))' "$WORK/rest.json" >/dev/null ||
    fail "422 body: $(cat "$WORK/rest.json")"
expect_eq "unknown step" "$(rest POST /streams '{"name":"x","source":"a","sink":"b","steps":[{"join":{}}]}')" 422
expect_eq "bad op" "$(rest POST /streams '{"name":"x","source":"a","sink":"b","steps":[{"filter":{"field":"f","op":"~","value":1}}]}')" 422
expect_eq "internal sink" "$(rest POST /streams '{"name":"x","source":"a","sink":"__consumer_offsets","steps":[{"rekey":{"field":"f"}}]}')" 422
expect_eq "count not last" "$(rest POST /streams '{"name":"x","source":"a","sink":"b","steps":[{"count":{"window_ms":10}},{"rekey":{"field":"f"}}]}')" 422
grep -q 'mod=streams.*request refused.*status=422' "$LOG" || fail "no log line for a refused definition"

# filter + map, with a dead-letter topic; rekey, without one
expect_eq "create big" "$(rest POST /streams '{"name":"big","source":"orders","sink":"big-orders","dead_letter_topic":"orders-dlq","steps":[
  {"filter":{"field":"amount","op":">=","value":100}},
  {"map":{"keep":["id","amount","customer"],"rename":{"amount":"total"},"set":{"src":"gn"}}}]}')" 201
jq -e '.name == "big" and .definition.sink == "big-orders"' "$WORK/rest.json" >/dev/null ||
    fail "create body: $(cat "$WORK/rest.json")"
expect_eq "create rekey" "$(rest POST /streams '{"name":"by-customer","source":"orders","sink":"by-customer","steps":[
  {"rekey":{"field":"customer"}},{"map":{"keep":["id"]}}]}')" 201
expect_eq "duplicate" "$(rest POST /streams '{"name":"big","source":"orders","sink":"x","steps":[{"rekey":{"field":"f"}}]}')" 409

for i in $(seq 1 20); do
    printf 'k%d|{"id":%d,"amount":%d,"customer":"c%d","extra":true}\n' "$i" "$i" $((i * 10)) $((i % 3))
done >"$WORK/in.txt"
echo 'k99|not json' >>"$WORK/in.txt"
timeout 20 kcat -b "$B" -P -t orders -K '|' -X acks=all <"$WORK/in.txt" || fail "kcat produce"

expected_big() {
    for i in $(seq 10 20); do
        printf 'k%d {"customer":"c%d","id":%d,"src":"gn","total":%d}\n' "$i" $((i % 3)) "$i" $((i * 10))
    done
    (($#)) && printf "%s\n" "$@"; true
}
# key and canonical value of each sink record, sorted
sink_lines() {
    records "$B" "$1" '%k|%s\n' | while IFS='|' read -r k v; do
        printf '%s %s\n' "$k" "$(jq -cS . <<<"$v")"
    done | sort
}
has_big() { [[ "$(sink_lines big-orders)" == "$(expected_big "$@" | sort)" ]]; }
wait_for "filter+map output" 10 has_big
has_rekey() {
    [[ "$(records "$B" by-customer '%k %s\n' | sort)" == "$(for i in $(seq 1 20); do printf 'c%d {"id":%d}\n' $((i % 3)) "$i"; done | sort)" ]]
}
wait_for "rekey output" 10 has_rekey
# partitioning by key holds: one partition per key in the sink
[[ "$(records "$B" by-customer '%k %p\n' | sort -u | cut -d' ' -f1 | uniq -d)" == "" ]] ||
    fail "a key in two sink partitions"
expect_eq "dead letter" "$(records "$B" orders-dlq '%k|%s\n')" "k99|not json"
expect_eq "status" "$(rest GET /streams/big/status)" 200
jq -e '.state == "RUNNING" and .records_in == 21 and .records_out == 11 and .dead_lettered == 1 and .skipped == 0 and .lag == 0' \
    "$WORK/rest.json" >/dev/null || fail "big status: $(cat "$WORK/rest.json")"
rest GET /streams/by-customer/status >/dev/null
jq -e '.skipped == 1 and .records_out == 20' "$WORK/rest.json" >/dev/null || fail "rekey status: $(cat "$WORK/rest.json")"
grep -q 'records skipped (no dead-letter topic)" name=by-customer count=1' "$LOG" || fail "no log line for the skipped record"

# MQTT: topic orders (one level: no key) is log topic orders
mosquitto_pub -h 127.0.0.1 -p 28521 -q 1 -t orders -m '{"id":500,"amount":500,"customer":"m"}' || fail "mosquitto_pub"
wait_for "the MQTT record processed" 10 has_big ' {"customer":"m","id":500,"src":"gn","total":500}'

# pause: nothing processed until resume
expect_eq "pause" "$(rest PUT /streams/big/pause)" 202
wait_for "PAUSED" 5 bash -c "curl -s $URL/streams/big/status | jq -e '.state == \"PAUSED\"' >/dev/null"
echo 'k21|{"id":21,"amount":210,"customer":"c0"}' | timeout 20 kcat -b "$B" -P -t orders -K '|' -X acks=all
sleep 0.5
has_big ' {"customer":"m","id":500,"src":"gn","total":500}' || fail "processed while paused"
expect_eq "resume" "$(rest PUT /streams/big/resume)" 202
after_21=(' {"customer":"m","id":500,"src":"gn","total":500}' 'k21 {"customer":"c0","id":21,"src":"gn","total":210}')
wait_for "processed after resume" 10 has_big "${after_21[@]}"

# restart: definitions back, nothing repeated, new records processed once
stop_broker
start_broker 28501 "${FLAGS[@]}"
expect_eq "list" "$(rest GET /streams)" 200
expect_eq "names" "$(jq -c '[.[].name] | sort' "$WORK/rest.json")" '["big","by-customer"]'
echo 'k22|{"id":22,"amount":220,"customer":"c1"}' | timeout 20 kcat -b "$B" -P -t orders -K '|' -X acks=all
wait_for "processed after the restart" 10 has_big "${after_21[@]}" 'k22 {"customer":"c1","id":22,"src":"gn","total":220}'
sleep 0.5
has_big "${after_21[@]}" 'k22 {"customer":"c1","id":22,"src":"gn","total":220}' || fail "records repeated after the restart"

expect_eq "delete" "$(rest DELETE /streams/by-customer)" 204
expect_eq "deleted" "$(rest GET /streams/by-customer)" 404
jq -e '.error_code == 40403' "$WORK/rest.json" >/dev/null || fail "404 body: $(cat "$WORK/rest.json")"
echo "PASS"
