#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Persistent sessions for 3.1.1 (-c) and 5.0 (session expiry): QoS 1 messages published
# while the subscriber was away arrive when it reconnects (read from the log at its
# saved offsets), also across a broker restart; a clean session gets nothing old.
set -euo pipefail
. "$(dirname "$0")/common.bash"
start_broker 21888

for V in mqttv311 mqttv5; do
    EXP=(); [ $V = mqttv5 ] && EXP=(-x 600)
    # register the session and its subscription, then leave
    sub -V $V -c "${EXP[@]}" -i "p$V" -q 1 -t "away$V/#" -C 1 -W 1 >/dev/null 2>&1 || true
    for i in 1 2 3; do pub -V $V -q 1 -t "away$V/k$i" -m "m$i"; done
    sub -V $V -c "${EXP[@]}" -i "p$V" -q 1 -t "away$V/#" -C 3 -F '%t %p' >"$DATA.out" ||
        fail "$V: offline messages missing: $(cat "$DATA.out")"
    printf 'away%s/k1 m1\naway%s/k2 m2\naway%s/k3 m3\n' $V $V $V | diff - "$DATA.out" ||
        fail "$V: wrong offline messages"
    # now across a restart
    for i in 4 5; do pub -V $V -q 1 -t "away$V/k$i" -m "m$i"; done
    stop_broker
    start_broker 21888
    # QoS 1 is at least once: the client's last PUBACKs may race its DISCONNECT, so
    # redelivered earlier messages are allowed; k4 and k5 must both arrive.
    sub -V $V -c "${EXP[@]}" -i "p$V" -q 1 -t "away$V/#" -C 4 -W 3 -F '%t %p' >"$DATA.out" || true
    grep -qx "away$V/k4 m4" "$DATA.out" && grep -qx "away$V/k5 m5" "$DATA.out" ||
        fail "$V: offline messages lost in restart: $(cat "$DATA.out")"
    ! grep -q "k1 m1" "$DATA.out" || fail "$V: acknowledged message redelivered"
    # a clean session with the same id starts empty
    pub -V $V -q 1 -t "away$V/k6" -m m6
    ! sub -V $V -i "p$V" -q 1 -t "away$V/#" -C 1 -W 1 >/dev/null 2>&1 || fail "$V: clean got old"
done
echo ok
