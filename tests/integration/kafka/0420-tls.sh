#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Kafka over TLS (kafka.tls.port, Kafka's SSL listener) with kcat (librdkafka):
# security.protocol=ssl produces and consumes back exactly, including ~24 MiB fetched
# in large Fetch responses (the file slices go through pread + SSL_write instead of
# sendfile); Metadata gives a client on the TLS port the TLS address (and the plain port
# on the plain listener, also with an advertised host); a plaintext client on the TLS
# port is refused with a log line; SASL_SSL with SCRAM-SHA-256 and PLAIN
# (kafka.allow.anonymous=false); ssl.client.auth=required: a client with a certificate
# of tls.ca.file is served, one without is refused. Ports 29417 (plain), 29418 (TLS).
set -euo pipefail
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/../tls_certs.bash"
CERTS="$WORK/certs"
make_tls_certs "$CERTS" || fail "making certificates"
TLS=127.0.0.1:29418
TLS_FLAGS=(--kafka.tls.port=29418 --tls.cert.file="$CERTS/server.pem"
    --tls.key.file="$CERTS/server.key")
ks() { timeout 60 kcat -b "$TLS" -X security.protocol=ssl -X ssl.ca.location="$CERTS/ca.pem" "$@"; }

start_broker 29417 "${TLS_FLAGS[@]}"
grep -q 'mod=kafka msg="listening" listener=tls host=127.0.0.1 port=29418' "$LOG" ||
    fail "no TLS listening line"

# produce and consume back exactly over TLS
seq 1 2000 | sed 's/^/key&:value-&/' >"$WORK/small"
ks -P -t tls-small -K: -l "$WORK/small" || fail "produce over TLS"
ks -C -t tls-small -o beginning -e -q -f '%k:%s\n' >"$WORK/got" || fail "consume over TLS"
cmp -s "$WORK/small" "$WORK/got" || fail "consumed over TLS differs ($(wc -l <"$WORK/got") lines)"
# the same records through the plain listener: one log behind both
kc -C -t tls-small -o beginning -e -q -f '%k:%s\n' >"$WORK/got" || fail "consume over TCP"
cmp -s "$WORK/small" "$WORK/got" || fail "consumed over TCP differs"

# large fetches: 6000 records of 4 KiB, read back in responses of up to 8 MiB
python3 - "$WORK/large" <<'PY'
import base64, os, sys
with open(sys.argv[1], "w") as f:
    for i in range(6000):
        f.write("%d:%s\n" % (i, base64.b64encode(os.urandom(3000)).decode()))
PY
ks -P -t tls-large -K: -l -X batch.size=1000000 "$WORK/large" || fail "large produce over TLS"
ks -C -t tls-large -o beginning -e -q -f '%k:%s\n' -X fetch.max.bytes=8388608 \
    -X max.partition.fetch.bytes=8388608 -X fetch.message.max.bytes=8388608 >"$WORK/got" ||
    fail "large consume over TLS"
cmp -s "$WORK/large" "$WORK/got" || fail "large fetch over TLS differs ($(wc -c <"$WORK/got") bytes)"

# Metadata: the address of the listener the client reached
ks -L -t tls-small >"$WORK/md" || fail "metadata over TLS"
grep -q 'broker 1 at 127.0.0.1:29418' "$WORK/md" || fail "TLS metadata: $(cat "$WORK/md")"
kc -L -t tls-small >"$WORK/md" || fail "metadata over TCP"
grep -q 'broker 1 at 127.0.0.1:29417' "$WORK/md" || fail "TCP metadata: $(cat "$WORK/md")"

# a plaintext client on the TLS port
timeout 10 kcat -b "$TLS" -L -m 3 >/dev/null 2>&1 && fail "a plaintext client was served on the TLS port"
grep -q 'mod=kafka msg="TLS handshake failed; closing" client=127.0.0.1:[0-9]* reason=' "$LOG" ||
    fail "no log line for the plaintext client"
ks -L -t tls-small >/dev/null || fail "TLS not served after a plaintext client"
stop_ganglion

# an advertised host: each listener advertises it with its own port
start_broker 29417 "${TLS_FLAGS[@]}" --kafka.advertised.host=localhost
ks -L -t tls-small >"$WORK/md" || fail "metadata over TLS (advertised)"
grep -q 'broker 1 at localhost:29418' "$WORK/md" || fail "advertised TLS metadata: $(cat "$WORK/md")"
kc -L -t tls-small >"$WORK/md" || fail "metadata over TCP (advertised)"
grep -q 'broker 1 at localhost:29417' "$WORK/md" || fail "advertised TCP metadata: $(cat "$WORK/md")"
stop_ganglion

# SASL_SSL: SCRAM and PLAIN over TLS, anonymous clients refused
USERS="$WORK/users"
"$GN_BUILD_DIR/ganglion-users" --file="$USERS" add alice --password=wonderland >/dev/null ||
    fail "ganglion-users add"
start_broker 29417 "${TLS_FLAGS[@]}" --auth.users.file="$USERS" --kafka.allow.anonymous=false
for mech in SCRAM-SHA-256 PLAIN; do
    kss() {
        ks -X security.protocol=sasl_ssl -X sasl.mechanisms=$mech -X sasl.username=alice \
            -X sasl.password="$1" "${@:2}"
    }
    echo "over sasl_ssl $mech" | kss wonderland -P -t secure -p 0 || fail "$mech: produce"
    kss wonderland -C -t secure -p 0 -o -1 -e -q -f '%s\n' >"$WORK/got" || fail "$mech: consume"
    [ "$(cat "$WORK/got")" = "over sasl_ssl $mech" ] || fail "$mech: got $(cat "$WORK/got")"
    kss wrong -L -m 3 >/dev/null 2>&1 && fail "$mech: a wrong password was served"
done
grep -q 'msg="SASL authenticated".*user=alice' "$LOG" || fail "no SASL authenticated line"
ks -C -t secure -p 0 -o beginning -e -q -m 5 >/dev/null 2>&1 &&
    fail "an anonymous TLS client was served with kafka.allow.anonymous=false"
! grep -q wonderland "$LOG" || fail "a password in the log"
stop_ganglion

# client certificates required
start_broker 29417 "${TLS_FLAGS[@]}" --tls.ca.file="$CERTS/ca.pem" --ssl.client.auth=required
ks -X ssl.certificate.location="$CERTS/client.pem" -X ssl.key.location="$CERTS/client.key" \
    -C -t tls-small -o beginning -e -q -f '%k:%s\n' >"$WORK/got" || fail "consume with a certificate"
cmp -s "$WORK/small" "$WORK/got" || fail "consumed with a certificate differs"
ks -L -m 3 >/dev/null 2>&1 && fail "a client without a certificate was served"
grep -q 'TLS handshake failed; closing.*reason="peer did not return a certificate"' "$LOG" ||
    fail "no log line for the missing client certificate"
stop_ganglion
echo PASS
