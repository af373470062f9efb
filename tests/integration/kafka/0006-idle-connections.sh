#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# connections.max.idle.ms (1 s here): a client that connects and sends nothing is closed,
# on the plain port and on the TLS port (a TLS client that never starts its handshake),
# with a log line naming it; a kcat consumer long-polling for 4 s (requests in progress
# all along) and a kcat producer afterwards are served on the same broker. Ports 29088
# (plain) and 29089 (TLS).
set -euo pipefail
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/../tls_certs.bash"
CERTS="$WORK/certs"
make_tls_certs "$CERTS" || fail "making certificates"
start_broker 29088 --connections.max.idle.ms=1000 --kafka.tls.port=29089 \
    --tls.cert.file="$CERTS/server.pem" --tls.key.file="$CERTS/server.key"

# silent_client PORT: connects, sends nothing, prints how many seconds until the broker
# closed the connection (or "open" after 8 s)
silent_client() {
    python3 - "$1" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.settimeout(8)
t0 = time.monotonic()
try:
    data = s.recv(1)
    print("%.1f" % (time.monotonic() - t0) if data == b"" else "data")
except socket.timeout:
    print("open")
PY
}
for port in 29088 29089; do
    took=$(silent_client $port)
    [[ $took =~ ^[0-9.]+$ ]] || fail "a silent client on $port was not closed: $took"
    awk -v t="$took" 'BEGIN { exit !(t >= 0.9 && t < 4) }' ||
        fail "a silent client on $port was closed after ${took} s (limit 1 s)"
done
grep -q 'mod=kafka msg="closing an idle connection" client=127.0.0.1:[0-9]* idle_ms=[0-9]* tls=false' "$LOG" ||
    fail "no log line for the idle plain connection"
grep -q 'mod=kafka msg="closing an idle connection" client=127.0.0.1:[0-9]* idle_ms=[0-9]* tls=true' "$LOG" ||
    fail "no log line for the idle TLS connection"

# a consumer waiting on an empty topic keeps a Fetch in progress (3 s long polls, silent
# between them): not idle
kc -P -t idle -p 0 <<<"first" || fail "kcat produce"
timeout 10 kcat -b "$BROKER" -C -t idle -p 0 -o end -q -u -X fetch.wait.max.ms=3000 >"$WORK/consumed" 2>"$WORK/consumer.err" &
CONS=$!
sleep 4
kc -P -t idle -p 0 <<<"second" || fail "kcat produce after 4 s"
for _ in $(seq 1 50); do grep -q second "$WORK/consumed" && break; sleep 0.1; done
kill "$CONS" 2>/dev/null || true
grep -q second "$WORK/consumed" || fail "the long-polling consumer lost its connection: $(tail -3 "$WORK/consumer.err")"
grep -q 'Disconnected\|Broker transport failure' "$WORK/consumer.err" &&
    fail "the consumer was disconnected: $(grep -m1 'Disconnected\|failure' "$WORK/consumer.err")"
echo PASS
