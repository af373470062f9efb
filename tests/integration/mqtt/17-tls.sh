#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# MQTT over TLS (mqtt.tls.port) with mosquitto_pub/sub --cafile, MQTT 3.1.1 and 5.0,
# QoS 1: a TLS subscriber gets what a TLS and a plain TCP publisher send, and a TLS
# publisher reaches a plain subscriber (one set of sessions behind both listeners); a
# plaintext client on the TLS port and a client trusting another CA are refused with a
# log line naming them, and the broker goes on serving; with ssl.client.auth=required a
# client without a certificate or with one from another CA is refused and one with a
# certificate of tls.ca.file connects; a bad key file stops the start (exit 1).
# Ports 21917 (TCP) and 21918 (TLS).
set -euo pipefail
. "$(dirname "$0")/common.bash"
. "$(dirname "$0")/../tls_certs.bash"
CERTS=$DATA.certs
trap 'cleanup; rm -rf "$CERTS"' EXIT
make_tls_certs "$CERTS" || fail "making certificates"
TLS_PORT=21918
TLS_FLAGS=(--mqtt.tls.port=$TLS_PORT --tls.cert.file="$CERTS/server.pem"
    --tls.key.file="$CERTS/server.key")
tpub() { mosquitto_pub -h 127.0.0.1 -p $TLS_PORT --cafile "$CERTS/ca.pem" "$@"; }
tsub() { timeout 10 mosquitto_sub -h 127.0.0.1 -p $TLS_PORT --cafile "$CERTS/ca.pem" -W 8 "$@"; }

start_broker 21917 0 "${TLS_FLAGS[@]}"
wait_port $TLS_PORT
grep -q 'msg="listening".*listener=tls.*port=21918' "$LOG" || fail "no TLS listening line"

for V in mqttv311 mqttv5; do
    tsub -V $V -q 1 -t "tls/$V" -C 2 >"$DATA.out" &
    S=$!
    sleep 0.5
    tpub -V $V -q 1 -t "tls/$V" -m "over-tls-$V" || fail "$V: TLS publish"
    pub -V $V -q 1 -t "tls/$V" -m "over-tcp-$V" || fail "$V: TCP publish"
    wait $S || fail "$V: the TLS subscriber did not get both messages"
    [ "$(sort "$DATA.out" | tr '\n' ' ')" = "over-tcp-$V over-tls-$V " ] ||
        fail "$V: TLS subscriber got '$(cat "$DATA.out")'"

    sub -V $V -q 1 -t "back/$V" -C 1 >"$DATA.out" &
    S=$!
    sleep 0.5
    tpub -V $V -q 1 -t "back/$V" -m "to-tcp-$V" || fail "$V: TLS publish to a TCP subscriber"
    wait $S || fail "$V: the TCP subscriber got nothing"
    grep -qx "to-tcp-$V" "$DATA.out" || fail "$V: TCP subscriber got '$(cat "$DATA.out")'"
done
grep -q 'client connected.*transport=tls version=5' "$LOG" || fail "no v5 TLS connection line"
grep -q 'client connected.*transport=tls version=4' "$LOG" || fail "no 3.1.1 TLS connection line"

# a plaintext client on the TLS port, and one trusting another CA
timeout 10 mosquitto_pub -h 127.0.0.1 -p $TLS_PORT -t tls/plain -m x 2>/dev/null &&
    fail "a plaintext client was served on the TLS port"
grep -q 'TLS handshake failed; closing.*client=127.0.0.1:[0-9]*.*reason="wrong version number"' \
    "$LOG" || fail "no log line for the plaintext client"
timeout 10 mosquitto_pub -h 127.0.0.1 -p $TLS_PORT --cafile "$CERTS/other-ca.pem" -t tls/x -m x \
    2>/dev/null && fail "a client trusting another CA connected"
grep -q 'TLS handshake failed; closing.*client=127.0.0.1:[0-9]*.*unknown ca' "$LOG" ||
    fail "no log line for the client trusting another CA"
# raw garbage on the TLS port
python3 -c 'import socket; s=socket.create_connection(("127.0.0.1", 21918)); s.sendall(b"\x16\x03\x01\x00\x05hello" * 50); s.close()'
tpub -V mqttv5 -q 1 -t tls/after -m still-up || fail "broker not serving TLS after bad clients"
kill -0 "$GN_PID" || fail "broker died"
stop_broker

# client certificates required
start_broker 21917 0 "${TLS_FLAGS[@]}" --tls.ca.file="$CERTS/ca.pem" --ssl.client.auth=required
wait_port $TLS_PORT
for V in mqttv311 mqttv5; do
    tpub -V $V -q 1 -t tls/nocert -m x 2>/dev/null && fail "$V: a client without a certificate"
    tpub -V $V -q 1 -t tls/other --cert "$CERTS/other-client.pem" --key "$CERTS/other-client.key" \
        -m x 2>/dev/null && fail "$V: a client certificate of another CA was accepted"
    tsub -V $V -q 1 -t "cert/$V" -C 1 --cert "$CERTS/client.pem" --key "$CERTS/client.key" \
        >"$DATA.out" &
    S=$!
    sleep 0.5
    tpub -V $V -q 1 -t "cert/$V" -m "with-cert-$V" --cert "$CERTS/client.pem" \
        --key "$CERTS/client.key" || fail "$V: a client with a good certificate was refused"
    wait $S || fail "$V: the subscriber with a certificate got nothing"
    grep -qx "with-cert-$V" "$DATA.out" || fail "$V: got '$(cat "$DATA.out")'"
done
grep -q 'TLS handshake failed; closing.*reason="peer did not return a certificate"' "$LOG" ||
    fail "no log line for the missing client certificate"
grep -q 'TLS handshake failed; closing.*reason="certificate verify failed' "$LOG" ||
    fail "no log line for the client certificate of another CA"
stop_broker

# a key that does not match the certificate: no start
rc=0
"$GN" --data.dir="$DATA" --mqtt.host=127.0.0.1 --mqtt.port=21917 --kafka.port=0 --http.port=0 \
    --mqtt.tls.port=$TLS_PORT --tls.cert.file="$CERTS/server.pem" \
    --tls.key.file="$CERTS/client.key" >>"$LOG" 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "a mismatched key: exit $rc, wanted 1"
grep -q 'cannot set up TLS.*client.key: key values mismatch' "$LOG" || fail "no line for the bad key"
echo "PASS"
