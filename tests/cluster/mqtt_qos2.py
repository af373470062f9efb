# SPDX-License-Identifier: Apache-2.0
"""A raw-socket MQTT 5 client for the exact QoS 2 packet sequences of
tests/cluster/0033 (no client library lets a test stop between PUBREC and PUBREL).

  mqtt_qos2.py in-send PORT ID TOPIC PAYLOAD MARK HOLD
      connects (clean start, session expiry 600), PUBLISH QoS 2 packet id 7, waits for
      PUBREC 7, writes MARK, then holds the connection HOLD seconds (0: closes it at
      once, without DISCONNECT)
  mqtt_qos2.py in-finish PORT ID TOPIC PAYLOAD
      connects (no clean start): session present; PUBLISH 7 again with DUP: PUBREC 7;
      PUBREL 7: PUBCOMP 7 reason 0
  mqtt_qos2.py out-recv PORT ID TOPIC READY MARK HOLD
      connects (clean start, expiry 600), subscribes TOPIC at QoS 2, writes READY, waits
      for a QoS 2 PUBLISH, answers PUBREC, waits for PUBREL, writes MARK (the packet id)
      and holds HOLD seconds without sending PUBCOMP
  mqtt_qos2.py out-finish PORT ID PID
      connects (no clean start): session present; the first packet is PUBREL PID (not a
      PUBLISH again); PUBCOMP; nothing else comes within 3 s
Exit 0 on success, 1 with a message on stderr otherwise; 2: CONNACK refused (the
caller may retry while the session store elects a leader)."""
import socket
import struct
import sys
import time


def fail(msg, code=1):
    sys.stderr.write(msg + "\n")
    sys.exit(code)


def varint(n):
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        out += bytes([b | (0x80 if n else 0)])
        if not n:
            return out


def s16(s):
    b = s.encode()
    return struct.pack(">H", len(b)) + b


def packet(first, body):
    return bytes([first]) + varint(len(body)) + body


def read_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise EOFError("connection closed")
        buf += chunk
    return buf


def read_packet(sock, timeout):
    sock.settimeout(timeout)
    first = read_exact(sock, 1)[0]
    n, shift = 0, 0
    while True:
        b = read_exact(sock, 1)[0]
        n |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            break
    return first, read_exact(sock, n)


def connect(port, cid, clean):
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    props = b"\x11" + struct.pack(">I", 600)  # session expiry 600 s
    body = s16("MQTT") + bytes([5, 0x02 if clean else 0]) + struct.pack(">H", 60)
    body += varint(len(props)) + props + s16(cid)
    sock.sendall(packet(0x10, body))
    first, body = read_packet(sock, 15)
    if first >> 4 != 2:
        fail("expected CONNACK, got type %d" % (first >> 4))
    if body[1] != 0:
        fail("CONNACK reason 0x%02x" % body[1], 2)
    return sock, bool(body[0] & 1)


def publish_qos2(sock, topic, payload, pid, dup):
    body = s16(topic) + struct.pack(">HB", pid, 0) + payload.encode()
    sock.sendall(packet(0x34 | (0x08 if dup else 0), body))


def ack(kind, pid, reason=0):
    """PUBREC 0x50, PUBREL 0x62, PUBCOMP 0x70."""
    return packet(kind, struct.pack(">HB", pid, reason))


def expect_ack(sock, ptype, pid, name):
    first, body = read_packet(sock, 15)
    if first >> 4 != ptype:
        fail("expected %s %d, got packet type %d: %s" % (name, pid, first >> 4, body.hex()))
    got = struct.unpack(">H", body[:2])[0]
    reason = body[2] if len(body) > 2 else 0
    if got != pid or reason != 0:
        fail("expected %s %d reason 0, got id %d reason 0x%02x" % (name, pid, got, reason))


def mark(path, text):
    with open(path, "w") as f:
        f.write(text)


def hold(sock, secs):
    if secs > 0:
        time.sleep(secs)
    sock.close()


def in_send(port, cid, topic, payload, markf, secs):
    sock, _ = connect(port, cid, True)
    publish_qos2(sock, topic, payload, 7, False)
    expect_ack(sock, 5, 7, "PUBREC")
    mark(markf, "7")
    hold(sock, secs)


def in_finish(port, cid, topic, payload):
    sock, present = connect(port, cid, False)
    if not present:
        fail("no session present on the new broker")
    publish_qos2(sock, topic, payload, 7, True)
    expect_ack(sock, 5, 7, "PUBREC")
    sock.sendall(ack(0x62, 7))
    expect_ack(sock, 7, 7, "PUBCOMP")
    sock.sendall(b"\xe0\x00")  # DISCONNECT
    sock.close()


def out_recv(port, cid, topic, ready, markf, secs):
    sock, _ = connect(port, cid, True)
    body = struct.pack(">HB", 1, 0) + s16(topic) + b"\x02"
    sock.sendall(packet(0x82, body))
    first, _ = read_packet(sock, 15)
    if first >> 4 != 9:
        fail("expected SUBACK, got type %d" % (first >> 4))
    mark(ready, "1")
    while True:
        first, body = read_packet(sock, 30)
        if first >> 4 == 3:
            break
    if (first >> 1) & 3 != 2:
        fail("PUBLISH delivered at QoS %d, not 2" % ((first >> 1) & 3))
    tlen = struct.unpack(">H", body[:2])[0]
    pid = struct.unpack(">H", body[2 + tlen : 4 + tlen])[0]
    sock.sendall(ack(0x50, pid))
    expect_ack(sock, 6, pid, "PUBREL")
    mark(markf, str(pid))
    hold(sock, secs)


def out_finish(port, cid, pid):
    sock, present = connect(port, cid, False)
    if not present:
        fail("no session present on the new broker")
    first, body = read_packet(sock, 10)
    if first >> 4 != 6:
        fail("expected PUBREL %d first, got packet type %d: %s" % (pid, first >> 4, body.hex()))
    got = struct.unpack(">H", body[:2])[0]
    if got != pid:
        fail("PUBREL for id %d, want %d" % (got, pid))
    sock.sendall(ack(0x70, pid))
    try:
        first, body = read_packet(sock, 3)
        fail("after PUBCOMP: packet type %d: %s" % (first >> 4, body.hex()))
    except socket.timeout:
        pass
    sock.sendall(b"\xe0\x00")
    sock.close()


def main():
    a = sys.argv[1:]
    try:
        if a[0] == "in-send":
            in_send(int(a[1]), a[2], a[3], a[4], a[5], float(a[6]))
        elif a[0] == "in-finish":
            in_finish(int(a[1]), a[2], a[3], a[4])
        elif a[0] == "out-recv":
            out_recv(int(a[1]), a[2], a[3], a[4], a[5], float(a[6]))
        elif a[0] == "out-finish":
            out_finish(int(a[1]), a[2], int(a[3]))
        else:
            fail("unknown command " + a[0])
    except (EOFError, OSError) as e:
        fail("%s: %s" % (a[0], e))


main()
