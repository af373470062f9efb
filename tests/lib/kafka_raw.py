# SPDX-License-Identifier: Apache-2.0
# One Kafka connection for the raw-protocol test scripts (request bytes built by hand):
# request header v1, size-prefixed frames, the correlation id checked; call() returns the
# response body after the correlation id. Imported by tests/cluster/raw_epochs.py and
# tests/integration/kafka/raw_idempotent.py (they add this folder to sys.path).
import socket
import struct


class Conn:
    def __init__(self, hostport, client_id, timeout=20):
        host, port = hostport.rsplit(":", 1)
        self.s = socket.create_connection((host, int(port)), timeout=timeout)
        self.cid = client_id.encode()
        self.corr = 0

    def call(self, key, version, body):
        self.corr += 1
        hdr = struct.pack(">hhih", key, version, self.corr, len(self.cid)) + self.cid
        msg = hdr + body
        self.s.sendall(struct.pack(">i", len(msg)) + msg)
        size = struct.unpack(">i", self._read(4))[0]
        resp = self._read(size)
        assert struct.unpack(">i", resp[:4])[0] == self.corr, "correlation id mismatch"
        return resp[4:]

    def _read(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.s.recv(n - len(buf))
            if not chunk:
                raise EOFError("connection closed")
            buf += chunk
        return buf
