#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Wills for 3.1.1 and 5.0: published when the client vanishes (killed), not after a
# normal DISCONNECT; the v5 will delay interval holds it back.
set -euo pipefail
. "$(dirname "$0")/common.bash"
start_broker 21887

for V in mqttv311 mqttv5; do
    sub -V $V -t "will$V" -C 1 >"$DATA.out" &
    S=$!
    sleep 0.4
    mosquitto_sub -h 127.0.0.1 -p $MQTT_PORT -V $V -t nothing -i "dying$V" \
        --will-topic "will$V" --will-payload gone -k 5 >/dev/null &
    C=$!
    sleep 0.5
    kill -9 $C
    wait $S || fail "$V: no will after kill"
    grep -qx gone "$DATA.out" || fail "$V: will payload"
    # graceful: no will
    pub -V $V -t x -m y --will-topic "will$V" --will-payload wrong
    ! sub -V $V -t "will$V" -C 1 -W 1 >/dev/null 2>&1 || fail "$V: will after DISCONNECT"
done

# v5 will delay 2 s with session expiry 10 s
sub -V mqttv5 -t delayed -C 1 -F '%p' >"$DATA.out" &
S=$!
sleep 0.4
mosquitto_sub -h 127.0.0.1 -p $MQTT_PORT -V mqttv5 -t nothing -i delayer -c \
    -x 10 -D will will-delay-interval 2 \
    --will-topic delayed --will-payload late >/dev/null &
C=$!
sleep 0.5
kill -9 $C
t0=$(date +%s%N)
wait $S || fail "delayed will never came"
dt=$((($(date +%s%N) - t0) / 1000000))
[ $dt -ge 1500 ] || fail "will delay not honoured: ${dt} ms"
echo ok
