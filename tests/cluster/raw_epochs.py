#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# A raw Kafka client (request bytes built by hand) for what librdkafka 2.0 does not send:
# OffsetForLeaderEpoch v3 and Fetch v11 with a CurrentLeaderEpoch (KIP-320).
#   raw_epochs.py HOST:PORT TOPIC PARTITION epoch-end CURRENT_EPOCH EPOCH
#     -> "error=E epoch=L end=O"
#   raw_epochs.py HOST:PORT TOPIC PARTITION fetch CURRENT_EPOCH OFFSET
#     -> "error=E hw=H epochs=e1,e2,..." (the partitionLeaderEpoch of each batch returned)
# Used by tests/cluster/0005-divergent-tail.sh.
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from kafka_raw import Conn  # noqa: E402


class Reader:
    def __init__(self, b):
        self.b, self.p = b, 0

    def take(self, fmt):
        v = struct.unpack_from(fmt, self.b, self.p)
        self.p += struct.calcsize(fmt)
        return v[0] if len(v) == 1 else v

    def string(self):
        n = self.take(">h")
        s = self.b[self.p:self.p + max(n, 0)]
        self.p += max(n, 0)
        return s

    def bytes_(self):
        n = self.take(">i")
        s = self.b[self.p:self.p + max(n, 0)]
        self.p += max(n, 0)
        return s


def kstr(s):
    return struct.pack(">h", len(s)) + s.encode()


def epoch_end(c, topic, part, current, epoch):
    body = struct.pack(">i", -1) + struct.pack(">i", 1) + kstr(topic)
    body += struct.pack(">i", 1) + struct.pack(">iii", part, current, epoch)
    r = Reader(c.call(23, 3, body))
    r.take(">i")  # throttle
    assert r.take(">i") == 1
    r.string()
    assert r.take(">i") == 1
    err, _, leader_epoch, end = r.take(">hiiq")
    print(f"error={err} epoch={leader_epoch} end={end}")


def batch_epochs(records):
    out, p = [], 0
    while p + 61 <= len(records):
        length = struct.unpack_from(">i", records, p + 8)[0]
        out.append(struct.unpack_from(">i", records, p + 12)[0])
        p += 12 + length
    return out


def fetch(c, topic, part, current, offset):
    body = struct.pack(">iiiibii", -1, 100, 1, 1 << 20, 0, 0, -1)
    body += struct.pack(">i", 1) + kstr(topic)
    body += struct.pack(">i", 1) + struct.pack(">iiqqi", part, current, offset, -1, 1 << 20)
    body += struct.pack(">i", 0) + kstr("")
    r = Reader(c.call(1, 11, body))
    r.take(">ihi")  # throttle, error, session
    assert r.take(">i") == 1
    r.string()
    assert r.take(">i") == 1
    _, err, hw, _, _ = r.take(">ihqqq")
    n = r.take(">i")
    for _ in range(max(n, 0)):
        r.take(">qq")
    r.take(">i")  # preferred read replica
    epochs = batch_epochs(r.bytes_())
    print(f"error={err} hw={hw} epochs={','.join(map(str, epochs))}")


def main():
    hostport, topic, part, cmd = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    c = Conn(hostport, "raw-epochs")
    if cmd == "epoch-end":
        epoch_end(c, topic, part, int(sys.argv[5]), int(sys.argv[6]))
    elif cmd == "fetch":
        fetch(c, topic, part, int(sys.argv[5]), int(sys.argv[6]))
    else:
        sys.exit(f"unknown command {cmd}")


if __name__ == "__main__":
    main()
