#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A v5 will waiting for its delay survives a broker restart (the session has a session
# expiry, so the session survives too): saved with the session in __mqtt_sessions and
# published once after the restart when its delay ends; a client that comes back in
# time cancels it, also across a restart. Mosquitto loses such wills. Port 21902.
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
echo ok
