#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# Concurrent admin requests through different brokers (raw Kafka: CreateTopics v4,
# CreatePartitions v1, IncrementalAlterConfigs v0, DescribeConfigs v0, Metadata v12 for
# topic ids), checking that the cluster decides each race once and that every broker then
# reports the same topic. Exits non-zero with a reason on the first violation. Used by
# tests/cluster/0030-admin-race.sh.
#   raw_admin.py create-race ROUNDS H:P H:P H:P
#   raw_admin.py partitions-race ROUNDS H:P H:P H:P
#   raw_admin.py configs-race ROUNDS H:P H:P H:P
#   raw_admin.py create TOPIC H:P (partitions 1, replication factor 3)
#   raw_admin.py lagging-auto-create ROUNDS CONTROLLER_H:P LAGGING_H:P LAGGING_PID H:P
# The first two send each round's pair through two different brokers, rotating the pair.
import os
import signal
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from kafka_raw import Conn  # noqa: E402

NONE, UNKNOWN_TOPIC, LEADER_NOT_AVAILABLE = 0, 3, 5
TOPIC_ALREADY_EXISTS, INVALID_PARTITIONS = 36, 37
PREFIX = os.environ.get("RACE_PREFIX", "race")


def fail(msg):
    print(f"FAIL: {msg}")
    sys.exit(1)


class Reader:
    def __init__(self, b):
        self.b, self.p = b, 0

    def take(self, fmt):
        v = struct.unpack_from(fmt, self.b, self.p)
        self.p += struct.calcsize(fmt)
        return v[0] if len(v) == 1 else v

    def uvarint(self):
        shift = v = 0
        while True:
            byte = self.b[self.p]
            self.p += 1
            v |= (byte & 0x7F) << shift
            if byte < 0x80:
                return v
            shift += 7

    def string(self):
        n = self.take(">h")
        s = self.b[self.p:self.p + max(n, 0)]
        self.p += max(n, 0)
        return s.decode() if n >= 0 else None

    def cstring(self):  # compact nullable
        n = self.uvarint() - 1
        s = self.b[self.p:self.p + max(n, 0)]
        self.p += max(n, 0)
        return s.decode() if n >= 0 else None

    def raw(self, n):
        s = self.b[self.p:self.p + n]
        self.p += n
        return s

    def tags(self):
        for _ in range(self.uvarint()):
            self.uvarint()
            self.raw(self.uvarint())


def kstr(s):
    return struct.pack(">h", len(s)) + s.encode()


def uvarint(v):
    out = b""
    while v >= 0x80:
        out += bytes([(v & 0x7F) | 0x80])
        v >>= 7
    return out + bytes([v])


def cstr(s):
    return uvarint(len(s) + 1) + s.encode()


def create_body(topic, partitions, rf):
    t = kstr(topic) + struct.pack(">ihii", partitions, rf, 0, 0)  # no assignments, configs
    return struct.pack(">i", 1) + t + struct.pack(">ib", 15000, 0)


def create_answer(body):
    r = Reader(body)
    r.take(">i")  # throttle
    assert r.take(">i") == 1
    r.string()
    return r.take(">h")


def partitions_body(topic, count):
    t = kstr(topic) + struct.pack(">ii", count, -1)  # assignments: null
    return struct.pack(">i", 1) + t + struct.pack(">ib", 15000, 0)


def partitions_answer(body):
    r = Reader(body)
    r.take(">i")
    assert r.take(">i") == 1
    r.string()
    return r.take(">h")


def alter_body(topic, key, value):
    cfg = struct.pack(">i", 1) + kstr(key) + struct.pack(">b", 0) + kstr(value)  # SET
    res = struct.pack(">b", 2) + kstr(topic) + cfg  # resource type 2: topic
    return struct.pack(">i", 1) + res + struct.pack(">b", 0)


def alter_answer(body):
    r = Reader(body)
    r.take(">i")
    assert r.take(">i") == 1
    return r.take(">h")


def describe_configs(hostport, topic):
    """The topic's non-default configs as one broker reports them."""
    body = struct.pack(">i", 1) + struct.pack(">b", 2) + kstr(topic) + struct.pack(">i", -1)
    c = Conn(hostport, "raw-admin")
    try:
        r = Reader(c.call(32, 0, body))
    finally:
        c.s.close()
    r.take(">i")
    assert r.take(">i") == 1
    err = r.take(">h")
    r.string()
    r.take(">b")
    r.string()
    out = {}
    for _ in range(max(r.take(">i"), 0)):
        name, value = r.string(), r.string()
        _, is_default, _ = r.take(">bbb")
        if not is_default:
            out[name] = value
    return err, out


def metadata_body(topic, auto_create):
    t = bytes(16) + cstr(topic) + b"\x00"
    return uvarint(2) + t + struct.pack(">bb", 1 if auto_create else 0, 0) + b"\x00"


def metadata_answer(body):
    """(topic error, topic id hex, [(partition, leader, replicas)]) and the controller."""
    r = Reader(body)
    r.take(">i")
    for _ in range(r.uvarint() - 1):  # brokers
        r.take(">i")
        r.cstring()
        r.take(">i")
        r.cstring()
        r.tags()
    r.cstring()  # cluster id
    controller = r.take(">i")
    assert r.uvarint() - 1 == 1
    err = r.take(">h")
    r.cstring()
    tid = r.raw(16).hex()
    r.take(">b")
    parts = []
    for _ in range(r.uvarint() - 1):
        _, index, leader, _ = r.take(">hiii")
        replicas = [r.take(">i") for _ in range(r.uvarint() - 1)]
        for _ in range(2):  # isr, offline
            for _ in range(r.uvarint() - 1):
                r.take(">i")
        r.tags()
        parts.append((index, replicas))
    return (err, tid, sorted(parts)), controller


def metadata(hostport, topic, auto_create=False):
    c = Conn(hostport, "raw-admin")
    try:
        return metadata_answer(c.call(3, 12, metadata_body(topic, auto_create), flexible=True))[0]
    finally:
        c.s.close()


def concurrently(jobs):
    """Runs (hostport, key, version, body) requests at once, one connection each."""
    conns = [Conn(h, "raw-admin") for h, _, _, _ in jobs]
    barrier = threading.Barrier(len(jobs))
    out = [None] * len(jobs)

    def run(i):
        _, key, version, body = jobs[i]
        barrier.wait()
        out[i] = conns[i].call(key, version, body)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for c in conns:
        c.s.close()
    return out


def agreed(brokers, topic, want_parts, secs=15):
    """Every broker reports topic with want_parts partitions and the same id and
    replicas; returns the id."""
    end = time.time() + secs
    while True:
        views = [metadata(b, topic) for b in brokers]
        if all(v[0] == NONE and len(v[2]) == want_parts for v in views):
            if len({(v[1], str(v[2])) for v in views}) != 1:
                fail(f"{topic}: brokers disagree: {views}")
            return views[0][1]
        if time.time() > end:
            fail(f"{topic}: brokers never agreed on {want_parts} partitions: {views}")
        time.sleep(0.1)


def create_race(rounds, brokers):
    for i in range(rounds):
        topic = f"{PREFIX}-create-{i}"
        a, b = brokers[i % 3], brokers[(i + 1) % 3]
        body = create_body(topic, 2, 3)
        errs = [create_answer(x) for x in concurrently([(a, 19, 4, body), (b, 19, 4, body)])]
        if sorted(errs) != [NONE, TOPIC_ALREADY_EXISTS]:
            fail(f"{topic} through {a} and {b}: errors {errs}, want one 0 and one 36")
        tid = agreed(brokers, topic, 2)
        time.sleep(0.2)  # a late second incarnation would show now
        if agreed(brokers, topic, 2) != tid:
            fail(f"{topic}: the topic id changed after both answers")
    print(f"create-race: {rounds} rounds, one success and one TOPIC_ALREADY_EXISTS each")


def partitions_race(rounds, brokers):
    topic = f"{PREFIX}-grow"
    if create_answer(Conn(brokers[0], "raw-admin").call(19, 4, create_body(topic, 1, 3))):
        fail(f"cannot create {topic}")
    n = 1
    agreed(brokers, topic, n)
    for i in range(rounds):
        a, b = brokers[i % 3], brokers[(i + 1) % 3]
        if i % 2 == 0:  # the same count through both: exactly one increase
            counts = [n + 1, n + 1]
        else:  # different counts: the larger one wins in any order
            counts = [n + 1, n + 2]
        res = concurrently([(a, 37, 1, partitions_body(topic, counts[0])),
                            (b, 37, 1, partitions_body(topic, counts[1]))])
        errs = [partitions_answer(x) for x in res]
        if counts[0] == counts[1] and sorted(errs) != [NONE, INVALID_PARTITIONS]:
            fail(f"round {i} to {counts}: errors {errs}, want one 0 and one 37")
        if counts[0] != counts[1] and (errs[1] != NONE or errs[0] not in (NONE, INVALID_PARTITIONS)):
            fail(f"round {i} to {counts}: errors {errs}, want the larger to succeed")
        n = max(counts)
        agreed(brokers, topic, n)
    print(f"partitions-race: {rounds} rounds, {n} partitions, the same replicas everywhere")


def configs_race(rounds, brokers):
    """Two brokers set two different keys at once: both changes stay, on every broker
    (each record carries only its own key)."""
    topic = f"{PREFIX}-configs"
    if create_answer(Conn(brokers[0], "raw-admin").call(19, 4, create_body(topic, 1, 3))):
        fail(f"cannot create {topic}")
    agreed(brokers, topic, 1)
    for i in range(rounds):
        a, b = brokers[i % 3], brokers[(i + 1) % 3]
        want = {"retention.ms": str(100000 + i), "max.message.bytes": str(200000 + i)}
        res = concurrently([(a, 44, 0, alter_body(topic, "retention.ms", want["retention.ms"])),
                            (b, 44, 0, alter_body(topic, "max.message.bytes",
                                                  want["max.message.bytes"]))])
        errs = [alter_answer(x) for x in res]
        if errs != [NONE, NONE]:
            fail(f"round {i}: IncrementalAlterConfigs errors {errs}")
        end = time.time() + 15
        while True:
            views = [describe_configs(x, topic) for x in brokers]
            if all(v == (NONE, want) for v in views):
                break
            if time.time() > end:
                fail(f"round {i}: want {want} on every broker, got {views}")
            time.sleep(0.1)
    print(f"configs-race: {rounds} rounds, both keys kept on every broker")


def lagging_auto_create(rounds, via, lagging, pid, other):
    """A creation through one broker while another is stopped; that one is resumed with a
    Metadata request allowing auto-creation already queued: it must answer with the
    created topic or LEADER_NOT_AVAILABLE, and never make a second incarnation."""
    brokers = [via, lagging, other]
    hits = 0
    for i in range(rounds):
        topic = f"{PREFIX}-lag-{i}"
        os.kill(pid, signal.SIGSTOP)
        try:
            c = Conn(via, "raw-admin")
            if create_answer(c.call(19, 4, create_body(topic, 1, 3))):
                fail(f"cannot create {topic}")
            (err, created, _), _ = metadata_answer(c.call(3, 12, metadata_body(topic, False),
                                                          flexible=True))
            if err != NONE:
                fail(f"{topic}: metadata through {via} after its creation: error {err}")
            lag = Conn(lagging, "raw-admin")  # the kernel accepts while the broker is stopped
            corr = lag.send(3, 12, metadata_body(topic, True), flexible=True)
        finally:
            os.kill(pid, signal.SIGCONT)
        (err, tid, _), _ = metadata_answer(lag.recv(corr, flexible=True))
        if err == LEADER_NOT_AVAILABLE:
            hits += 1  # it had not applied the creation yet: its own create was refused
        elif err != NONE or tid != created:
            fail(f"{topic}: lagging broker answered error {err} id {tid}, created {created}")
        if agreed(brokers, topic, 1) != created:
            fail(f"{topic}: a second incarnation replaced {created}")
    print(f"lagging-auto-create: {rounds} rounds, {hits} answered before the broker caught up")


def main():
    cmd = sys.argv[1]
    if cmd == "create":
        err = create_answer(Conn(sys.argv[3], "raw-admin").call(19, 4, create_body(sys.argv[2], 1, 3)))
        if err:
            fail(f"CreateTopics {sys.argv[2]}: error {err}")
        return
    rounds = int(sys.argv[2])
    if cmd == "create-race":
        create_race(rounds, sys.argv[3:6])
    elif cmd == "partitions-race":
        partitions_race(rounds, sys.argv[3:6])
    elif cmd == "configs-race":
        configs_race(rounds, sys.argv[3:6])
    elif cmd == "lagging-auto-create":
        lagging_auto_create(rounds, sys.argv[3], sys.argv[4], int(sys.argv[5]), sys.argv[6])
    else:
        fail(f"unknown command {cmd}")


if __name__ == "__main__":
    main()
