# SPDX-License-Identifier: Apache-2.0
# One Kafka connection for the raw-protocol test scripts (request bytes built by hand):
# request header v1 (v2 with flexible=True, for flexible request versions), size-prefixed
# frames, the correlation id checked; call() returns the response body after the response
# header. Imported by tests/cluster/raw_epochs.py, tests/cluster/raw_admin.py and
# tests/integration/kafka/raw_idempotent.py (they add this folder to sys.path).
import socket
import struct


class Conn:
    def __init__(self, hostport, client_id, timeout=20):
        host, port = hostport.rsplit(":", 1)
        self.s = socket.create_connection((host, int(port)), timeout=timeout)
        self.cid = client_id.encode()
        self.corr = 0

    def send(self, key, version, body, flexible=False):
        """Sends one request; returns its correlation id (read the answer with recv)."""
        self.corr += 1
        hdr = struct.pack(">hhih", key, version, self.corr, len(self.cid)) + self.cid
        msg = hdr + (b"\x00" if flexible else b"") + body  # v2: no tagged fields
        self.s.sendall(struct.pack(">i", len(msg)) + msg)
        return self.corr

    def recv(self, corr, flexible=False):
        size = struct.unpack(">i", self._read(4))[0]
        resp = self._read(size)
        assert struct.unpack(">i", resp[:4])[0] == corr, "correlation id mismatch"
        if flexible:  # response header v1: tagged fields, none expected
            assert resp[4] == 0, "unexpected tagged fields in the response header"
            return resp[5:]
        return resp[4:]

    def call(self, key, version, body, flexible=False):
        return self.recv(self.send(key, version, body, flexible), flexible)

    def _read(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.s.recv(n - len(buf))
            if not chunk:
                raise EOFError("connection closed")
            buf += chunk
        return buf
