#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# A group as one broker's coordinator reports it, with raw Kafka requests (tests/lib/
# kafka_raw.py), for 0012-gateway-groups.sh: DescribeGroups v0 (state and members) and
# OffsetFetch v1 (committed offsets of partitions 0..N-1 of a topic). Prints
#   state=<state> error=<code>
#   member client_id=<id> host=<host> partitions=<p,p,...>
#   offset partition=<p> offset=<committed> error=<code>
# Usage: group_view.py HOST:PORT GROUP TOPIC PARTITIONS
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from kafka_raw import Conn  # noqa: E402


class Reader:
    def __init__(self, b):
        self.b, self.o = b, 0

    def take(self, fmt):
        v = struct.unpack_from(fmt, self.b, self.o)
        self.o += struct.calcsize(fmt)
        return v[0]

    def string(self):
        n = self.take(">h")
        if n < 0:
            return None
        s = self.b[self.o:self.o + n].decode()
        self.o += n
        return s

    def bytes(self):
        n = self.take(">i")
        if n < 0:
            return b""
        v = self.b[self.o:self.o + n]
        self.o += n
        return v


def kstr(s):
    b = s.encode()
    return struct.pack(">h", len(b)) + b


def assigned_partitions(assignment, topic):
    """ConsumerProtocol assignment: version, [topic, [partition]], user data."""
    if not assignment:
        return []
    r = Reader(assignment)
    r.take(">h")
    out = []
    for _ in range(r.take(">i")):
        name = r.string()
        parts = [r.take(">i") for _ in range(r.take(">i"))]
        if name == topic:
            out += parts
    return sorted(out)


def main():
    hostport, group, topic, nparts = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    conn = Conn(hostport, "group-view")
    r = Reader(conn.call(15, 0, struct.pack(">i", 1) + kstr(group)))  # DescribeGroups v0
    for _ in range(r.take(">i")):
        err = r.take(">h")
        r.string()
        state = r.string()
        r.string()
        r.string()
        print(f"state={state} error={err}")
        for _ in range(r.take(">i")):
            r.string()
            client_id, host = r.string(), r.string()
            r.bytes()
            parts = assigned_partitions(r.bytes(), topic)
            print(f"member client_id={client_id} host={host} "
                  f"partitions={','.join(map(str, parts))}")
    body = kstr(group) + struct.pack(">i", 1) + kstr(topic) + struct.pack(">i", nparts)
    body += b"".join(struct.pack(">i", p) for p in range(nparts))
    r = Reader(conn.call(9, 1, body))  # OffsetFetch v1
    for _ in range(r.take(">i")):
        r.string()
        for _ in range(r.take(">i")):
            p, off = r.take(">i"), r.take(">q")
            r.string()
            print(f"offset partition={p} offset={off} error={r.take('>h')}")


main()
