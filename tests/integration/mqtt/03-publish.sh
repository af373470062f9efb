#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# PUBLISH QoS 0/1/2 in and out for 3.1.1 and 5.0 (mosquitto clients), QoS 2 packet-id
# deduplication, and bad input: a first level that is no log topic (0x90 in v5,
# connection closed in 3.1.1), wildcard topic names, topic alias out of range (0x94),
# a packet over the maximum size (0x95), invalid UTF-8 (malformed).
set -euo pipefail
. "$(dirname "$0")/common.bash"
start_broker 21885

for V in mqttv311 mqttv5; do
    for Q in 0 1 2; do
        sub -V $V -q $Q -t "p$V/q$Q" -C 3 >"$DATA.out" &
        S=$!
        sleep 0.4
        for i in 1 2 3; do pub -V $V -q $Q -t "p$V/q$Q" -m "m$i"; done
        wait $S || fail "$V QoS $Q: timed out: $(cat "$DATA.out")"
        [ "$(tr '\n' ' ' <"$DATA.out")" = "m1 m2 m3 " ] || fail "$V QoS $Q: $(cat "$DATA.out")"
    done
done

CONN5=100d00044d5154540502003c000000
CONN3=100c00044d5154540402003c0000
# QoS 2 resent with the same packet id: one append, two PUBRECs, then PUBCOMP
sub -t dedup -C 2 -W 3 >"$DATA.out" &
S=$!
sleep 0.4
python3 - "$MQTT_PORT" <<'PY' || fail "QoS 2 flow"
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1]))); s.settimeout(3)
def rx(n):
    b = b""
    while len(b) < n: b += s.recv(n - len(b))
    return b
s.sendall(bytes.fromhex("100c00044d5154540402003c0000")); assert rx(4) == bytes.fromhex("20020000")
p = bytes.fromhex("340d000564656475700005") + b"once"
s.sendall(p); assert rx(4) == bytes.fromhex("50020005")
s.sendall(bytes([0x3c]) + p[1:]); assert rx(4) == bytes.fromhex("50020005")  # DUP resend
s.sendall(bytes.fromhex("62020005")); assert rx(4) == bytes.fromhex("70020005")
PY
wait $S || true
[ "$(cat "$DATA.out")" = once ] || fail "QoS 2 dedup delivered: $(cat "$DATA.out")"

# first level not a log topic name: v5 PUBACK 0x90; 3.1.1 connection closed
got=$(raw ${CONN5}320c0005612162 2f630001007879 | tr -d ' ')
case $got in *4*000190*) ;; *) fail "v5 PUBACK 0x90: $got" ;; esac
grep -q 'publish refused.*reason=TOPIC_NAME_INVALID' "$LOG" || fail "no log line for 0x90"
got=$(raw ${CONN3}320b0005612162 2f6300017879 | tr -d ' ')
[ "$got" = 20020000 ] || fail "3.1.1 bad topic answered: $got"
# wildcard in a topic name: v5 DISCONNECT 0x90
got=$(raw ${CONN5}3006000361 2f2300 | tr -d ' ')
case $got in *e00190*) ;; *) fail "wildcard publish: $got" ;; esac
# topic alias 100 (> our maximum 32): DISCONNECT 0x94
got=$(raw ${CONN5}30080001610323006478 | tr -d ' ')
case $got in *e0*94*) ;; *) fail "alias out of range: $got" ;; esac
# remaining length 2 MiB (> 1 MiB maximum packet size): DISCONNECT 0x95
got=$(raw ${CONN5}3080808001)
case $got in *e00195) ;; *) fail "packet too large: $got" ;; esac
# invalid UTF-8 in a topic name: malformed (0x81)
got=$(raw ${CONN5}30060002c0af0078)
case $got in *e00181) ;; *) fail "invalid utf-8: $got" ;; esac
# the broker still serves others
sub -t after -C 1 >"$DATA.out" &
S=$!
sleep 0.4
pub -t after -m fine
wait $S && grep -qx fine "$DATA.out" || fail "broker unhealthy after bad input"
echo ok
