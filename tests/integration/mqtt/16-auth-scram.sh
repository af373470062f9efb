#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# MQTT 5 enhanced authentication (SCRAM-SHA-256/512) with MQTT.js (npm `mqtt`, pinned in
# tests/package.json; scram_client.js computes the client side with Node's crypto):
# client-first in CONNECT or in MQTT.js's authPacket, the server signature in CONNACK
# checked, re-authentication (AUTH 0x19) twice then with a wrong password (DISCONNECT
# 0x87), over TCP and WebSocket; wrong password / unknown user 0x86, unknown method 0x8C.
# Then raw frames for the protocol errors: Authentication Data without a method, AUTH
# without a method in CONNECT, other packets or a client AUTH 0x00 or another method
# during the exchange (CONNACK 0x82, never DISCONNECT before CONNACK), and an exchange
# left unfinished (closed at the CONNECT timeout). Ports 21906 (MQTT), 28196 (HTTP).
set -euo pipefail
. "$(dirname "$0")/common.bash"
SRC=${GN_SOURCE_DIR:-$(cd "$(dirname "$0")/../../.." && pwd)}
. "$SRC/tests/node_modules.bash"
need_node_modules "$SRC/tests" mqtt || fail "npm ci --prefix tests"
USERS=$DATA.users
"$GN_BUILD_DIR/ganglion-users" --file="$USERS" add alice --password=wonderland ||
    fail "ganglion-users add"
start_broker 21906 0 --auth.users.file="$USERS" --http.host=127.0.0.1 --http.port=28196
wait_port 28196

node "$(dirname "$0")/scram_client.js" "$SRC" mqtt://127.0.0.1:21906 ws://127.0.0.1:28196/mqtt ||
    fail "MQTT.js SCRAM"
grep -q 'client authenticated.*user=alice method=SCRAM-SHA-256' "$LOG" || fail "no authenticated line"
grep -q 'client re-authenticated.*user=alice' "$LOG" || fail "no re-authenticated line"
grep -q 'client connected.*transport=ws.*user=alice' "$LOG" || fail "no WebSocket client"
! grep -q wonderland "$LOG" || fail "a password in the log"

python3 - "$MQTT_PORT" <<'PY' || fail "raw protocol errors"
import socket, sys, time
port = int(sys.argv[1])
def varint(n):
    out = b""
    while True:
        b, n = n & 0x7F, n >> 7
        out += bytes([b | (0x80 if n else 0)])
        if not n:
            return out
def s(b): return len(b).to_bytes(2, "big") + b
def prop(i, b): return bytes([i]) + s(b)
METHOD, DATA = 0x15, 0x16
def connect(props=b"", cid=b"raw"):
    body = s(b"MQTT") + bytes([5, 2]) + (60).to_bytes(2, "big") + varint(len(props)) + props + s(cid)
    return bytes([0x10]) + varint(len(body)) + body
def auth(rc, props):
    body = bytes([rc]) + varint(len(props)) + props
    return bytes([0xF0]) + varint(len(body)) + body
def session(*frames, wait=2.0):
    c = socket.create_connection(("127.0.0.1", port))
    c.settimeout(wait)
    got = []
    for f in frames:
        c.sendall(f)
        try:
            b = c.recv(4096)
        except socket.timeout:
            b = None
        got.append(b)
    c.close()
    return got
scram = prop(METHOD, b"SCRAM-SHA-256") + prop(DATA, b"n,,n=alice,r=abc")
# Authentication Data without Authentication Method: CONNACK 0x82
r = session(connect(prop(DATA, b"x")))[0]
assert r[0] == 0x20 and r[3] == 0x82, r.hex()
# AUTH on a connection whose CONNECT had no method: DISCONNECT 0x82
r = session(connect(), auth(0x18, prop(METHOD, b"SCRAM-SHA-256")))
assert r[0][0] == 0x20 and r[0][3] == 0, r[0].hex()
assert r[1][:3] == bytes([0xE0, r[1][1], 0x82]), r[1].hex()
# the exchange starts with AUTH 0x18 carrying server-first ...
r = session(connect(scram), bytes.fromhex("300400016100"))  # PUBLISH "a", QoS 0
assert r[0][0] == 0xF0 and r[0][2] == 0x18 and b"r=abc" in r[0], r[0].hex()
# ... and a PUBLISH before its end gets CONNACK 0x82, not DISCONNECT
assert r[1][0] == 0x20 and r[1][3] == 0x82, r[1].hex()
# a client's AUTH 0x00, or another method, during the exchange: CONNACK 0x82
for bad in (auth(0x00, prop(METHOD, b"SCRAM-SHA-256")), auth(0x18, prop(METHOD, b"SCRAM-SHA-512")),
            auth(0x19, prop(METHOD, b"SCRAM-SHA-256"))):
    r = session(connect(scram), bad)
    assert r[1] and r[1][0] == 0x20 and r[1][3] == 0x82, (bad.hex(), r)
# a malformed client-final: CONNACK 0x87
r = session(connect(scram), auth(0x18, prop(METHOD, b"SCRAM-SHA-256") + prop(DATA, b"c=biws")))
assert r[1][0] == 0x20 and r[1][3] == 0x87, r[1].hex()
# an exchange the client never finishes is closed at the CONNECT timeout (10 s)
c = socket.create_connection(("127.0.0.1", port))
c.sendall(connect(scram))
c.settimeout(14)
t = time.time()
assert c.recv(4096)[0] == 0xF0
assert c.recv(4096) == b""
assert 8 < time.time() - t < 14, time.time() - t
PY
grep -q 'only AUTH or DISCONNECT before the CONNACK' "$LOG" || fail "no log line for PUBLISH"
grep -q 'AUTH without an authentication method in CONNECT' "$LOG" || fail "no log line for AUTH"
rm -f "$USERS"
echo ok
