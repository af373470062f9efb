#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# FileStreamSink through Connect's REST API: records produced by kcat (Kafka) and by
# mosquitto_pub (MQTT, cross-protocol) are written to a file, one value a line, exactly;
# progress is the committed offsets of group connect-<name>, visible in REST v3's lag
# view; after a broker restart the sink continues from them: no line lost, none twice.
# Ports 28384 (HTTP), 28394 (Kafka), 28374 (MQTT).
set -euo pipefail
source "$(dirname "$0")/lib.bash"
command -v mosquitto_pub >/dev/null || { echo "SKIP: mosquitto_pub not installed"; exit 0; }
B=127.0.0.1:28394
FLAGS=(--kafka.host=127.0.0.1 --kafka.port=28394 --mqtt.host=127.0.0.1 --mqtt.port=28374)
start_broker 28384 "${FLAGS[@]}"

seq -f 'k%g' 1 100 | timeout 20 kcat -b "$B" -P -t kin -X acks=all || fail "kcat produce"
expect_eq "create" "$(rest PUT /connectors/snk/config '{"connector.class":"org.apache.kafka.connect.file.FileStreamSinkConnector","file":"out.txt","topics":"kin, min","tasks.max":"1"}')" 201
jq -e '.name == "snk" and .type == "sink" and .config.topics == "kin, min"' "$WORK/rest.json" >/dev/null ||
    fail "create body: $(cat "$WORK/rest.json")"
has() { [[ -f "$FILES/out.txt" && "$(cat "$FILES/out.txt")" == "$1" ]]; }
wait_for "kcat's 100 records in the file" 10 has "$(seq -f 'k%g' 1 100)"

# MQTT: topic min (one level: no key) is log topic min
for i in 1 2 3; do
    mosquitto_pub -h 127.0.0.1 -p 28374 -q 1 -t min -m "mqtt $i" || fail "mosquitto_pub"
done
wait_for "MQTT's 3 messages in the file" 10 has "$(seq -f 'k%g' 1 100; printf 'mqtt %s\n' 1 2 3)"

# progress: group connect-snk has committed every offset (REST v3 lag view)
cid=$(curl -sS --max-time 10 "$URL/v3/clusters" | jq -r '.data[0].cluster_id')
lag_zero() {
    curl -sS --max-time 10 "$URL/v3/clusters/$cid/consumer-groups/connect-snk/lags" >"$WORK/lags.json" &&
        jq -e '[.data[] | select(.topic_name == "kin")][0].current_offset == 100 and ([.data[].lag] | add) == 0' \
            "$WORK/lags.json" >/dev/null
}
wait_for "group connect-snk at the end with lag 0" 10 lag_zero

# restart: records produced while the sink is down are written once after it
stop_broker
start_broker 28384 "${FLAGS[@]}"
seq -f 'k%g' 101 150 | timeout 20 kcat -b "$B" -P -t kin -X acks=all || fail "kcat produce"
wait_for "every line once after the restart" 10 has "$(seq -f 'k%g' 1 100; printf 'mqtt %s\n' 1 2 3; seq -f 'k%g' 101 150)"
sleep 0.5 # nothing more may come
has "$(seq -f 'k%g' 1 100; printf 'mqtt %s\n' 1 2 3; seq -f 'k%g' 101 150)" || fail "lines written twice"
echo "PASS"
