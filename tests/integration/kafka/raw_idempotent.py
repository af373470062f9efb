#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# A raw Kafka client (sockets, request bytes built by hand) that does what a real
# idempotent producer does on a retry, deterministically: InitProducerId v0, then
# Produce v3 (acks=-1) of RecordBatch v2 batches with a producer id, epoch and
# sequence, some sent twice. Checks the broker answers a duplicate with NONE and the
# original base offset, a gap with OUT_OF_ORDER_SEQUENCE_NUMBER (45) and an older epoch
# with INVALID_PRODUCER_EPOCH (47). Prints the offsets; exit 0 on success.
# Run by 0300-idempotent-duplicates.sh: raw_idempotent.py HOST:PORT TOPIC STATEFILE
# (writes the producer id there); with --after-restart it re-sends the last batch of
# that producer (a duplicate, answered with its original offset) and the next one.
import os
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "lib"))
from kafka_raw import Conn  # noqa: E402

# CRC-32C (Castagnoli), reflected polynomial 0x82F63B78, as Kafka's RecordBatch v2
_T = []
for i in range(256):
    c = i
    for _ in range(8):
        c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
    _T.append(c)


def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c = _T[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def varint(v):
    v = (v << 1) ^ (v >> 63)  # zigzag
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def record_batch(pid, epoch, seq, values, ts):
    recs = b""
    for i, v in enumerate(values):
        body = b"\x00" + varint(0) + varint(i) + varint(-1) + varint(len(v)) + v + varint(0)
        recs += varint(len(body)) + body
    after_crc = struct.pack(">hiqqqhii", 0, len(values) - 1, ts, ts, pid, epoch, seq, len(values))
    after_crc += recs
    crc = crc32c(after_crc)
    tail = struct.pack(">ibI", -1, 2, crc) + after_crc  # leader epoch, magic, crc
    return struct.pack(">qi", 0, len(tail)) + tail


def init_producer_id(conn):
    body = struct.pack(">hi", -1, 60000)  # v0: TransactionalId null, timeout
    r = conn.call(22, 0, body)
    throttle, err, pid, epoch = struct.unpack(">ihqh", r[:16])
    assert err == 0, "InitProducerId error %d" % err
    return pid, epoch


def produce(conn, topic, batch):
    t = topic.encode()
    body = struct.pack(">hhi", -1, -1, 10000)  # v3: TransactionalId null, acks=-1, timeout
    body += struct.pack(">ih", 1, len(t)) + t
    body += struct.pack(">iii", 1, 0, len(batch)) + batch
    r = conn.call(0, 3, body)
    n = struct.unpack(">i", r[:4])[0]
    assert n == 1
    tl = struct.unpack(">h", r[4:6])[0]
    p = 6 + tl
    np_, idx, err, base, lat = struct.unpack(">iihqq", r[p : p + 26])
    assert np_ == 1 and idx == 0
    return err, base


def after_restart(hostport, topic, statefile):
    pid, epoch, base2, ts = (int(x) for x in open(statefile).read().split())
    conn = Conn(hostport, "raw-idempotent")
    err, dup = produce(conn, topic, record_batch(pid, epoch, 0, [b"raw-3"], ts))
    ok = err == 0 and dup == base2
    print("after restart: duplicate err=%d offset=%d (original %d)" % (err, dup, base2))
    err, nxt = produce(conn, topic, record_batch(pid, epoch, 1, [b"raw-4"], ts))
    print("after restart: next err=%d offset=%d" % (err, nxt))
    err2, _ = produce(conn, topic, record_batch(pid, epoch, 9, [b"gap"], ts))
    print("after restart: gap err=%d" % err2)
    return 0 if ok and err == 0 and nxt > base2 and err2 == 45 else 1


def main():
    hostport, topic, statefile = sys.argv[1], sys.argv[2], sys.argv[3]
    if len(sys.argv) > 4 and sys.argv[4] == "--after-restart":
        return after_restart(hostport, topic, statefile)
    conn = Conn(hostport, "raw-idempotent")
    pid, epoch = init_producer_id(conn)
    pid2, _ = init_producer_id(conn)
    assert pid2 != pid, "InitProducerId handed out the same id twice"
    ts = int(time.time() * 1000)
    b0 = record_batch(pid, epoch, 0, [b"raw-0", b"raw-1"], ts)
    b1 = record_batch(pid, epoch, 2, [b"raw-2"], ts)
    fails = 0

    def check(what, got, want):
        nonlocal fails
        ok = got == want
        print("%-40s got=%s want=%s %s" % (what, got, want, "ok" if ok else "FAIL"))
        if not ok:
            fails += 1

    err, base0 = produce(conn, topic, b0)
    check("first batch error", err, 0)
    err, base1 = produce(conn, topic, b1)
    check("second batch error", err, 0)
    check("second batch offset", base1, base0 + 2)
    # the retries: same bytes again, on the same and on a new connection
    err, dup0 = produce(conn, topic, b0)
    check("duplicate of first: error", err, 0)
    check("duplicate of first: original offset", dup0, base0)
    conn2 = Conn(hostport, "raw-idempotent")
    err, dup1 = produce(conn2, topic, b1)
    check("duplicate of second: error", err, 0)
    check("duplicate of second: original offset", dup1, base1)
    # a gap: sequence 5 after 2
    err, _ = produce(conn, topic, record_batch(pid, epoch, 5, [b"gap"], ts))
    check("sequence gap: OUT_OF_ORDER_SEQUENCE (45)", err, 45)
    # a new epoch starting at 0 is accepted; the old epoch is then fenced
    err, base2 = produce(conn, topic, record_batch(pid, epoch + 1, 0, [b"raw-3"], ts))
    check("new epoch at sequence 0", err, 0)
    check("new epoch offset", base2, base1 + 1)
    err, _ = produce(conn, topic, record_batch(pid, epoch, 3, [b"stale"], ts))
    check("older epoch: INVALID_PRODUCER_EPOCH (47)", err, 47)
    print("raw offsets base0=%d base1=%d base2=%d" % (base0, base1, base2))
    with open(statefile, "w") as f:
        f.write("%d %d %d %d\n" % (pid, epoch + 1, base2, ts))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
