#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# A raw Kafka client (request bytes built by hand) for 0010-group-failover.sh: asks one
# broker FindCoordinator v0 for a group, then sends it Heartbeat v0 for that group (an
# unknown member, generation 1) and prints "coordinator=<node id> heartbeat=<error code>":
# the coordinator answers UNKNOWN_MEMBER_ID (25), any other broker NOT_COORDINATOR (16).
# Usage: group_probe.py HOST:PORT GROUP
import socket
import struct
import sys


def kstr(s):
    b = s.encode()
    return struct.pack(">h", len(b)) + b


def call(sock, api_key, version, corr, body):
    req = struct.pack(">hhi", api_key, version, corr) + kstr("group-probe") + body
    sock.sendall(struct.pack(">i", len(req)) + req)
    size = struct.unpack(">i", recv(sock, 4))[0]
    resp = recv(sock, size)
    if struct.unpack(">i", resp[:4])[0] != corr:
        raise SystemExit("correlation id mismatch")
    return resp[4:]


def recv(sock, n):
    out = b""
    while len(out) < n:
        chunk = sock.recv(n - len(out))
        if not chunk:
            raise SystemExit("connection closed")
        out += chunk
    return out


def main():
    host, port = sys.argv[1].rsplit(":", 1)
    group = sys.argv[2]
    sock = socket.create_connection((host, int(port)), timeout=10)
    resp = call(sock, 10, 0, 1, kstr(group))  # FindCoordinator v0: error, node, host, port
    err, node = struct.unpack(">hi", resp[:6])
    if err:
        raise SystemExit(f"FindCoordinator error {err}")
    resp = call(sock, 12, 0, 2, kstr(group) + struct.pack(">i", 1) + kstr("probe-member"))
    (hb,) = struct.unpack(">h", resp[:2])  # Heartbeat v0: error code
    print(f"coordinator={node} heartbeat={hb}")


main()
