#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A v5 will waiting for its delay survives a broker restart (the session has a session
# expiry, so the session survives too): saved with the session in __mqtt_sessions and
# published once after the restart when its delay ends; a client that comes back in
# time cancels it, also across a restart. Mosquitto loses such wills. The broker killed
# with -9 while a client is connected: its will is published after the restart (once);
# none for a client that had sent DISCONNECT. Port 21902.
set -euo pipefail
. "$(dirname "$0")/common.bash"
start_broker 21902

# vanish uncleanly with a 3 s will delay, then restart the broker at once
mosquitto_sub -h 127.0.0.1 -p $MQTT_PORT -V mqttv5 -t nothing -i wr1 -c -x 60 \
    -D will will-delay-interval 3 --will-topic wills/wr1 --will-payload gone >/dev/null &
C=$!
sleep 0.5
kill -9 $C
wait $C 2>/dev/null || true
sleep 0.2
stop_broker
start_broker 21902
sub -V mqttv5 -t 'wills/#' -C 1 -W 8 -F '%t %p' >"$DATA.out" || fail "will lost in the restart"
grep -qx 'wills/wr1 gone' "$DATA.out" || fail "wrong will: $(cat "$DATA.out")"
# published once: not again after another restart
stop_broker
start_broker 21902
! sub -V mqttv5 -t 'wills/#' -C 1 -W 4 >/dev/null 2>&1 || fail "will published twice"

# the client comes back before the delay ends (after a restart): no will, ever
mosquitto_sub -h 127.0.0.1 -p $MQTT_PORT -V mqttv5 -t nothing -i wr2 -c -x 60 \
    -D will will-delay-interval 3 --will-topic wills/wr2 --will-payload wrong >/dev/null &
C=$!
sleep 0.5
kill -9 $C
wait $C 2>/dev/null || true
sleep 0.2
stop_broker
start_broker 21902
sub -V mqttv5 -c -x 60 -i wr2 -t nothing -W 1 >/dev/null 2>&1 || true # back: cancels the will
stop_broker
start_broker 21902
! sub -V mqttv5 -t 'wills/#' -C 1 -W 5 >/dev/null 2>&1 || fail "cancelled will published"

# the broker is killed while wr3 is connected (wr4 left with DISCONNECT): wr3's will
# goes out once after the restart
mosquitto_sub -h 127.0.0.1 -p $MQTT_PORT -V mqttv311 -t nothing -i wr3 \
    --will-topic wills/wr3 --will-payload lost >/dev/null &
C=$!
pub -V mqttv5 -c -x 60 -i wr4 --will-topic wills/wr4 --will-payload wrong -t x -m y
sleep 0.5
kill -9 "$GN_PID"
wait "$GN_PID" 2>/dev/null || true
GN_PID=
kill $C 2>/dev/null || true
wait $C 2>/dev/null || true
start_broker 21902
sub -V mqttv5 -t 'wills/#' -C 2 -W 6 -F '%t %p' >"$DATA.out" 2>/dev/null || true
[ "$(cat "$DATA.out")" = "wills/wr3 lost" ] || fail "after a kill -9, wills: $(cat "$DATA.out")"
stop_broker
start_broker 21902
! sub -V mqttv5 -t 'wills/#' -C 1 -W 4 >/dev/null 2>&1 || fail "will of the killed broker's client published twice"
echo ok
