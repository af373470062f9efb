#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# ListOffsets v2 "latest" (-1) for partitions 0..N-1 of a topic at one broker, raw (request
# bytes built by hand, tests/lib/kafka_raw.py), under both isolation levels, for
# 0036-group-lag-remote.sh: what kafka-consumer-groups' lag reads (the end offset consumers
# see) and that a broker which does not lead a partition answers NOT_LEADER_OR_FOLLOWER (6).
# Prints "partition=<p> isolation=<0|1> error=<code> offset=<offset>" per partition and level.
# Usage: list_offsets.py HOST:PORT TOPIC PARTITIONS
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from kafka_raw import Conn  # noqa: E402


def kstr(s):
    b = s.encode()
    return struct.pack(">h", len(b)) + b


def main():
    hostport, topic, nparts = sys.argv[1], sys.argv[2], int(sys.argv[3])
    conn = Conn(hostport, "list-offsets")
    for isolation in (0, 1):
        body = struct.pack(">ibi", -1, isolation, 1) + kstr(topic) + struct.pack(">i", nparts)
        body += b"".join(struct.pack(">iq", p, -1) for p in range(nparts))
        resp = conn.call(2, 2, body)
        o = 4  # ThrottleTimeMs
        (ntopics,) = struct.unpack_from(">i", resp, o)
        o += 4
        for _ in range(ntopics):
            (n,) = struct.unpack_from(">h", resp, o)
            o += 2 + n
            (count,) = struct.unpack_from(">i", resp, o)
            o += 4
            for _ in range(count):
                p, err, _ts, off = struct.unpack_from(">ihqq", resp, o)
                o += 22
                print(f"partition={p} isolation={isolation} error={err} offset={off}")


main()
