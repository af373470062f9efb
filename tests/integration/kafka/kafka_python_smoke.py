#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# kafka-python 2.0.2 (Debian python3-kafka), a pure-Python protocol implementation
# independent of librdkafka: the admin client (create, describe configs, delete topics,
# create partitions, alter configs, list/describe groups), a producer with acks=all for
# every codec it has without extra modules (none, gzip; snappy, lz4 and zstd too when
# their modules are installed), keys, null values, headers and timestamps read back
# exactly, offsets by time, and a consumer group that commits, stops and resumes from
# its committed offsets. Run by 0400-kafka-python.sh with the broker address, the phase
# and a state file: "first" (admin, produce, the group reads about half and commits) or
# "resume" (after a broker restart: the group resumes where it committed).
import sys
import time

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import ConfigResource, ConfigResourceType, NewPartitions, NewTopic
from kafka.errors import TopicAlreadyExistsError, UnknownTopicOrPartitionError
from kafka import codec
from kafka.structs import OffsetAndMetadata

TOPIC = "kp-topic"
GROUP = "kp-group"
PARTS = 3
PER_CODEC = 200


def check(cond, what):
    if not cond:
        print("FAIL: " + what, file=sys.stderr)
        sys.exit(1)


def codecs():
    have = {"gzip": codec.has_gzip(), "snappy": codec.has_snappy(), "lz4": codec.has_lz4(),
            "zstd": codec.has_zstd()}
    return [None] + [c for c, ok in have.items() if ok]


def admin_phase(bootstrap):
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="kp-admin",
                             request_timeout_ms=15000)
    admin.create_topics([NewTopic(TOPIC, PARTS, 1, topic_configs={"retention.ms": "3600000"}),
                         NewTopic("kp-doomed", 1, 1)])
    check(TOPIC in admin.list_topics(), "created topic missing from list_topics")
    try:
        admin.create_topics([NewTopic(TOPIC, 1, 1)])
        check(False, "creating an existing topic succeeded")
    except TopicAlreadyExistsError:
        pass
    res = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, TOPIC)])
    entries = {e[0]: e[1] for e in res[0].resources[0][4]}
    check(entries.get("retention.ms") == "3600000",
          "retention.ms override not described: %r" % entries.get("retention.ms"))
    check("cleanup.policy" in entries, "cleanup.policy not described")
    broker = admin.describe_configs([ConfigResource(ConfigResourceType.BROKER, "1")])
    check(broker[0].resources[0][0] == 0, "broker describe_configs error")
    admin.create_partitions({"kp-doomed": NewPartitions(3)}, timeout_ms=15000)
    parts = [t["partitions"] for t in admin.describe_topics(["kp-doomed"])][0]
    check(sorted(q["partition"] for q in parts) == [0, 1, 2],
          "create_partitions: partitions %r" % (parts,))
    admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, "kp-doomed",
                                        configs={"cleanup.policy": "compact"})])
    res = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, "kp-doomed")])
    entries = {e[0]: e[1] for e in res[0].resources[0][4]}
    check(entries.get("cleanup.policy") == "compact", "alter_configs not applied")
    admin.delete_topics(["kp-doomed"], timeout_ms=15000)
    deadline = time.time() + 10
    while "kp-doomed" in admin.list_topics() and time.time() < deadline:
        time.sleep(0.1)
    check("kp-doomed" not in admin.list_topics(), "deleted topic still listed")
    try:
        admin.delete_topics(["kp-never"], timeout_ms=5000)
        check(False, "deleting an unknown topic succeeded")
    except UnknownTopicOrPartitionError:
        pass
    admin.close()


def produce_phase(bootstrap, first_ts):
    """Every codec, acks=all; returns {(partition, offset): (key, value, headers, ts)}."""
    sent = {}
    for c in codecs():
        p = KafkaProducer(bootstrap_servers=bootstrap, acks="all", compression_type=c,
                          linger_ms=5, retries=3)
        futs = []
        for i in range(PER_CODEC):
            key = ("%s-%d" % (c or "none", i)).encode()
            value = None if i % 50 == 7 else (b"v" * (i % 300)) + key
            headers = [("h", key), ("n", b"")] if i % 3 == 0 else []
            ts = first_ts + i
            futs.append((key, value, headers, ts,
                         p.send(TOPIC, key=key, value=value, headers=headers,
                                timestamp_ms=ts)))
        p.flush(30)
        for key, value, headers, ts, f in futs:
            md = f.get(timeout=30)
            check(md.topic == TOPIC and md.offset >= 0, "bad record metadata %r" % (md,))
            sent[(md.partition, md.offset)] = (key, value, headers, ts)
        p.close(10)
        print("produced %d records with compression %s, acks=all" % (PER_CODEC, c or "none"))
    return sent


def read_all(consumer, want, timeout_s):
    got = {}
    deadline = time.time() + timeout_s
    while len(got) < want and time.time() < deadline:
        for tp, msgs in consumer.poll(timeout_ms=500).items():
            for m in msgs:
                got[(tp.partition, m.offset)] = m
    return got


def check_records(got, sent):
    for k, m in got.items():
        key, value, headers, ts = sent[k]
        check(m.key == key and m.value == value, "record %r differs" % (k,))
        check(list(m.headers) == headers, "headers of %r differ: %r" % (k, m.headers))
        check(m.timestamp == ts, "timestamp of %r: %d, sent %d" % (k, m.timestamp, ts))


def group_consumer(bootstrap):
    c = KafkaConsumer(bootstrap_servers=bootstrap, group_id=GROUP, enable_auto_commit=False,
                      auto_offset_reset="earliest", session_timeout_ms=10000,
                      heartbeat_interval_ms=1000, max_poll_records=100)
    c.subscribe([TOPIC])
    return c


def first_phase(bootstrap):
    admin_phase(bootstrap)
    first_ts = int(time.time() * 1000) - 100000
    sent = produce_phase(bootstrap, first_ts)
    total = len(sent)

    # Offsets by time and the watermarks (ListOffsets), assign() without a group.
    a = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    tps = [TopicPartition(TOPIC, i) for i in range(PARTS)]
    ends = a.end_offsets(tps)
    check(sum(ends.values()) == total, "end offsets sum %d, produced %d" %
          (sum(ends.values()), total))
    check(all(v == 0 for v in a.beginning_offsets(tps).values()), "beginning offsets not 0")
    mid = first_ts + PER_CODEC // 2
    for tp, ot in a.offsets_for_times({tp: mid for tp in tps}).items():
        if ot is None:
            continue
        a.assign([tp])
        a.seek(tp, ot.offset)
        m = next(iter(a.poll(timeout_ms=5000, max_records=1).get(tp, [])), None)
        check(m is not None and m.timestamp >= mid, "offsets_for_times gave %r" % (ot,))
    a.close()

    # The group reads about half, commits exactly what it read, and leaves.
    c = group_consumer(bootstrap)
    got = read_all(c, total // 2, 60)
    check(len(got) >= total // 2, "group consumer read %d of %d" % (len(got), total))
    check_records(got, sent)
    read_to = {}
    for (p, off) in got:
        read_to[p] = max(read_to.get(p, -1), off)
    # Commit only a prefix of each partition so that some records stay unread.
    commits = {TopicPartition(TOPIC, p): min(o + 1, ends[TopicPartition(TOPIC, p)] // 2)
               for p, o in read_to.items()}
    c.commit({tp: OffsetAndMetadata(o, "kp") for tp, o in commits.items()})
    for tp, o in commits.items():
        check(c.committed(tp) == o, "committed(%r) = %r, wanted %d" % (tp, c.committed(tp), o))
    c.close()
    with open(sys.argv[3], "w") as f:
        for tp, o in sorted(commits.items()):
            f.write("%d %d\n" % (tp.partition, o))
    print("group %s committed %s after reading %d of %d" %
          (GROUP, sorted((tp.partition, o) for tp, o in commits.items()), len(got), total))


def resume_phase(bootstrap):
    commits = {}
    with open(sys.argv[3]) as f:
        for line in f:
            p, o = line.split()
            commits[int(p)] = int(o)
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=15000)
    offs = admin.list_consumer_group_offsets(GROUP)
    for p, o in commits.items():
        check(offs[TopicPartition(TOPIC, p)].offset == o,
              "group offset of %d after restart: %r" % (p, offs.get(TopicPartition(TOPIC, p))))
    check(GROUP in [g[0] for g in admin.list_consumer_groups()], "group not listed")
    desc = admin.describe_consumer_groups([GROUP])[0]
    check(desc.state == "Empty" and desc.protocol_type == "consumer",
          "described group %r" % (desc,))
    admin.close()
    c = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    tps = [TopicPartition(TOPIC, i) for i in range(PARTS)]
    ends = c.end_offsets(tps)
    c.close()
    want = sum(ends[TopicPartition(TOPIC, p)] - commits.get(p, 0) for p in range(PARTS))
    c = group_consumer(bootstrap)
    got = read_all(c, want, 60)
    check(len(got) == want, "resumed group read %d, %d were left" % (len(got), want))
    for p in range(PARTS):
        offs = sorted(o for (q, o) in got if q == p)
        first = commits.get(p, 0)
        check(offs == list(range(first, ends[TopicPartition(TOPIC, p)])),
              "partition %d resumed at %r, committed %d" % (p, offs[:1], first))
    # Nothing past the end: one more poll returns nothing.
    check(not c.poll(timeout_ms=1000), "records past the end")
    c.commit()
    c.close()
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=15000)
    offs = admin.list_consumer_group_offsets(GROUP)
    check(all(offs[tp].offset == ends[tp] for tp in tps), "final commit: %r" % (offs,))
    admin.close()
    print("group %s resumed from its committed offsets after a restart: %d records" %
          (GROUP, len(got)))


if __name__ == "__main__":
    {"first": first_phase, "resume": resume_phase}[sys.argv[2]](sys.argv[1])
    print("ok")
