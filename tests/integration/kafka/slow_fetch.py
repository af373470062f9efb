#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# A raw Kafka client for 0005: pipelines Fetch v4 (all of partition 0 of TOPIC, up to
# 100 MiB, MaxWaitMs 0) and ApiVersions v0, then reads slowly (a 2 ms pause per recv
# for the first 8 MB) so the broker's socket fills and sendfile must resume when it
# drains; checks both answers arrive complete and in order. Usage: HOST:PORT TOPIC MIN_BYTES
import socket
import struct
import sys
import time

host, port = sys.argv[1].split(':')
topic = sys.argv[2].encode()
min_bytes = int(sys.argv[3])


def req(key, ver, corr, body):
    m = struct.pack('>hhih', key, ver, corr, 4) + b'test' + body
    return struct.pack('>i', len(m)) + m


fetch = (struct.pack('>iiiib', -1, 0, 0, 100 << 20, 0) + struct.pack('>i', 1) +
         struct.pack('>h', len(topic)) + topic + struct.pack('>i', 1) +
         struct.pack('>iqi', 0, 0, 100 << 20))
s = socket.create_connection((host, int(port)))
s.settimeout(10)
s.sendall(req(1, 4, 7, fetch) + req(18, 0, 8, b''))
got = 0


def readn(n):
    global got
    out = bytearray()
    while len(out) < n:
        d = s.recv(min(65536, n - len(out)))
        if not d:
            sys.exit('connection closed after %d bytes' % got)
        out += d
        got += len(d)
        if got < 8_000_000:
            time.sleep(0.002)
    return bytes(out)


size = struct.unpack('>i', readn(4))[0]
data = readn(size)
size2 = struct.unpack('>i', readn(4))[0]
data2 = readn(size2)
corr1, corr2 = struct.unpack('>i', data[:4])[0], struct.unpack('>i', data2[:4])[0]
if (corr1, corr2) != (7, 8):
    sys.exit('answers out of order: %d, %d' % (corr1, corr2))
if size < min_bytes:
    sys.exit('fetch answer too small: %d' % size)
print('fetch: %d bytes, then ApiVersions' % size)
