#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# CONNECT/CONNACK for 3.1.1 and 5.0 with mosquitto clients and raw frames: accepted
# connections, unsupported protocol (0x01 / 0x84), second CONNECT, packets before
# CONNECT, session takeover (0x8E), and a client that never sends CONNECT.
set -euo pipefail
. "$(dirname "$0")/common.bash"
start_broker 21883

for V in mqttv311 mqttv5; do
    sub -V $V -t "c/$V" -C 1 >"$DATA.out" &
    S=$!
    sleep 0.5
    pub -V $V -t "c/$V" -m "hello-$V"
    wait $S || fail "$V: subscriber got nothing"
    grep -qx "hello-$V" "$DATA.out" || fail "$V: wrong payload $(cat "$DATA.out")"
done

# 3.1.1 CONNECT, clean, empty id -> CONNACK accepted
[ "$(raw 100c00044d5154540402003c0000)" = 20020000 ] || fail "3.1.1 raw connect"
# MQTT 3.1 (MQIsdp, level 3)
[ "$(raw 100f00064d514973647003020000000161)" = 20020000 ] || fail "3.1 connect"
# unknown level -> 3.1.1 CONNACK 0x01 and close
[ "$(raw 100c00044d5154540602003c0000)" = 20020001 ] || fail "level 6 not refused with 0x01"
# v5 with an unknown protocol name -> v5 CONNACK 0x84
[ "$(raw 100d00044d5154580502003c000000)" = 2003008400 ] || fail "bad name not refused with 0x84"
# second CONNECT: v5 gets DISCONNECT 0x82 after the first CONNACK
got=$(raw 100d00044d5154540502003c000000100d00044d5154540502003c000000)
case $got in 20*e00182) ;; *) fail "v5 second CONNECT: $got" ;; esac
# PUBLISH before CONNECT: closed, nothing sent
[ -z "$(raw 300500016178790a)" ] || fail "publish before connect answered"
grep -q 'protocol error, disconnecting' "$LOG" || fail "no log line for the protocol error"

# takeover: the first connection of client "dup" gets DISCONNECT 0x8E
python3 - "$MQTT_PORT" <<'PY' || fail "takeover"
import socket, sys, time
port = int(sys.argv[1])
c = bytes.fromhex("101000044d5154540502003c000003") + b"dup"
a = socket.create_connection(("127.0.0.1", port)); a.sendall(c)
a.settimeout(2); r = a.recv(64); assert r[0] == 0x20 and r[3] == 0, r.hex()
b = socket.create_connection(("127.0.0.1", port)); b.sendall(c)
b.settimeout(2); b.recv(64)
got = a.recv(64)
assert got[:3] == bytes.fromhex("e0018e"), got.hex()
PY

# a client that never sends CONNECT is dropped (10 s)
python3 - "$MQTT_PORT" <<'PY' || fail "silent client not dropped"
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.settimeout(13)
t = time.time()
assert s.recv(1) == b""
assert 8 < time.time() - t < 13
PY
echo ok
