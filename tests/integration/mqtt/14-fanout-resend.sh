#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A fan-out encodes each PUBLISH once and patches every subscriber's own packet id into
# its copy: two persistent QoS 1 subscribers (raw sockets, so that one can hold back its
# PUBACKs) whose packet ids differ get the same messages, each with its own ids; the one
# that never acknowledged reconnects and gets them again with DUP and the same ids. A
# mosquitto_sub subscriber of the same topic receives them once.
set -euo pipefail
. "$(dirname "$0")/common.bash"
start_broker 21904

sub -q 1 -t fr/all -C 2 >"$DATA.out" &
S=$!
python3 - "$MQTT_PORT" <<'PY' || fail "fan-out packet ids and DUP resend"
import socket, subprocess, sys, time
port = int(sys.argv[1])

def conn(cid):
    s = socket.create_connection(("127.0.0.1", port)); s.settimeout(3)
    vh = b"\x00\x04MQTT\x04\x00\x00\x3c"  # 3.1.1, clean session 0, keepalive 60
    body = vh + len(cid).to_bytes(2, "big") + cid
    s.sendall(bytes([0x10, len(body)]) + body)
    return s

def packet(s):
    def rx(n):
        b = b""
        while len(b) < n:
            c = s.recv(n - len(b))
            assert c, "connection closed"
            b += c
        return b
    first = rx(1)[0]; rl = 0; mul = 1
    while True:
        d = rx(1)[0]; rl += (d & 0x7F) * mul; mul *= 128
        if not d & 0x80: break
    return first, rx(rl)

def publish(s):  # (dup, qos, pid, topic, payload) of the next packet, a PUBLISH
    first, b = packet(s)
    assert first >> 4 == 3, "expected PUBLISH, got type %d" % (first >> 4)
    qos = first >> 1 & 3; tl = int.from_bytes(b[:2], "big"); pos = 2 + tl
    pid = int.from_bytes(b[pos:pos + 2], "big") if qos else 0
    return bool(first & 8), qos, pid, b[2:2 + tl], b[pos + (2 if qos else 0):]

def subscribe(s, topic):
    body = b"\x00\x01" + len(topic).to_bytes(2, "big") + topic + b"\x01"
    s.sendall(bytes([0x82, len(body)]) + body)
    first, _ = packet(s); assert first == 0x90, "SUBACK"

def pub(topic, msg):
    subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(port), "-q", "1", "-t", topic,
                    "-m", msg], check=True)

a = conn(b"fr-a"); assert packet(a) == (0x20, b"\x00\x00"), "CONNACK a"
b = conn(b"fr-b"); assert packet(b) == (0x20, b"\x00\x00"), "CONNACK b"
# b uses packet id 1 first, so a's and b's ids for the fan-out differ
subscribe(b, b"fr/b")
pub("fr/b", "first")
dup, qos, pid, topic, payload = publish(b)
assert (qos, pid, payload) == (1, 1, b"first"), (qos, pid, payload)
b.sendall(bytes([0x40, 2, 0, 1]))
subscribe(a, b"fr/all"); subscribe(b, b"fr/all")
time.sleep(0.3)
pub("fr/all", "hello"); pub("fr/all", "world")
got_a = [publish(a) for _ in range(2)]
got_b = [publish(b) for _ in range(2)]
assert got_a == [(False, 1, 1, b"fr/all", b"hello"), (False, 1, 2, b"fr/all", b"world")], got_a
assert got_b == [(False, 1, 2, b"fr/all", b"hello"), (False, 1, 3, b"fr/all", b"world")], got_b
for _, _, pid, _, _ in got_b:
    b.sendall(bytes([0x40, 2, pid >> 8, pid & 0xFF]))
a.close()  # never acknowledged: resent on reconnect, with DUP and the same ids
time.sleep(0.3)
a = conn(b"fr-a"); assert packet(a) == (0x20, b"\x01\x00"), "CONNACK a: session present"
again = [publish(a) for _ in range(2)]
assert again == [(True, 1, 1, b"fr/all", b"hello"), (True, 1, 2, b"fr/all", b"world")], again
for _, _, pid, _, _ in again:
    a.sendall(bytes([0x40, 2, pid >> 8, pid & 0xFF]))
a.sendall(b"\xe0\x00"); b.sendall(b"\xe0\x00")
PY
wait $S || fail "mosquitto_sub: $(cat "$DATA.out")"
[ "$(tr '\n' ' ' <"$DATA.out")" = "hello world " ] || fail "mosquitto_sub got: $(cat "$DATA.out")"
echo "PASS 14-fanout-resend"
