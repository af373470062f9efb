#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# MQTT <-> Kafka through the log: mosquitto_pub to sensors/room1/temp is read by kcat
# from topic sensors with key room1/temp (in the partition murmur2 picks for the key);
# kcat produce to sensors with a key reaches mosquitto_sub -t 'sensors/#' as
# sensors/<key>; user properties are headers both ways.
set -euo pipefail
. "$(dirname "$0")/common.bash"
KPORT=29181
start_broker 21884 $KPORT
K=(-b 127.0.0.1:$KPORT)

for V in mqttv311 mqttv5; do
    pub -V $V -q 1 -t sensors/room1/temp -m "21.5-$V"
done
pub -V mqttv5 -q 1 -t sensors/room2/hum -m 40 -D publish user-property unit pct
timeout 20 kcat "${K[@]}" -C -t sensors -o beginning -e -q -f '%k=%s %h\n' >"$DATA.out" ||
    fail "kcat consume"
grep -q '^room1/temp=21.5-mqttv311 mqtt.qos=1$' "$DATA.out" || fail "3.1.1 record: $(cat "$DATA.out")"
grep -q '^room1/temp=21.5-mqttv5 mqtt.qos=1$' "$DATA.out" || fail "v5 record: $(cat "$DATA.out")"
grep -q '^room2/hum=40 unit=pct,mqtt.qos=1$' "$DATA.out" || fail "headers: $(cat "$DATA.out")"

sub -V mqttv5 -t 'sensors/#' -C 2 -F '%t %p %P' >"$DATA.out" &
S=$!
sleep 0.5
printf 'room3/co2:415\n' | timeout 20 kcat "${K[@]}" -P -t sensors -K: -H origin=kafka ||
    fail "kcat produce"
printf 'noKey\n' | timeout 20 kcat "${K[@]}" -P -t sensors || fail "kcat produce (no key)"
wait $S || fail "mqtt subscriber got nothing from kafka: $(cat "$DATA.out")"
grep -q '^sensors/room3/co2 415 origin:kafka$' "$DATA.out" || fail "keyed: $(cat "$DATA.out")"
grep -q '^sensors noKey' "$DATA.out" || fail "keyless: $(cat "$DATA.out")"
echo ok
