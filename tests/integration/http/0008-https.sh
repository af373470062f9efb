#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# HTTPS on http.tls.port (libwebsockets' TLS): curl --cacert over HTTP/2 (ALPN) and
# HTTP/1.1 (health, a REST v2 produce, a REST consumer's base_uri with https), nghttp
# (h2 via ALPN), h2load with concurrent request bodies, WSS with Node ws (the JSON protocol) and MQTT.js (MQTT over WebSocket);
# a plaintext client on the TLS port gets a 400 and a log line naming it, and a client
# trusting another CA refuses the broker; with ssl.client.auth=required curl with a
# certificate of tls.ca.file is served and one without is not. Ports 28446 (HTTP),
# 28447 (HTTPS), 28448 (MQTT, for the /mqtt route).
set -euo pipefail
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/../tls_certs.bash"
HERE="$(cd "$(dirname "$0")" && pwd)"
CERTS="$WORK/certs"
make_tls_certs "$CERTS" || fail "making certificates"
HTTPS=https://127.0.0.1:28447
TLS_FLAGS=(--http.tls.port=28447 --tls.cert.file="$CERTS/server.pem"
    --tls.key.file="$CERTS/server.key" --mqtt.host=127.0.0.1 --mqtt.port=28448 --mqtt.tls.port=0)
cs() { c --cacert "$CERTS/ca.pem" "$@"; }

start_broker 28446 "${TLS_FLAGS[@]}"
grep -q 'mod=http msg="listening" listener=tls host=127.0.0.1 port=28447' "$LOG" ||
    fail "no HTTPS listening line"
expect_eq "h2 health" "$(cs -o /dev/null -w '%{http_version} %{http_code}' "$HTTPS/healthz")" "2 200"
expect_eq "h1 health" "$(cs --http1.1 -o /dev/null -w '%{http_version} %{http_code}' \
    "$HTTPS/healthz")" "1.1 200"
body='{"records":[{"key":"k","value":{"n":1}},{"key":"k","value":{"n":2}}]}'
out=$(cs -X POST -H 'Content-Type: application/vnd.kafka.json.v2+json' -d "$body" "$HTTPS/topics/tls")
expect_eq "REST produce over h2+TLS" "$(jq -c '[.offsets[].offset]' <<<"$out")" "[0,1]"
out=$(cs --http1.1 -X POST -H 'Content-Type: application/vnd.kafka.v2+json' \
    -d '{"name":"c1","format":"json","auto.offset.reset":"earliest"}' "$HTTPS/consumers/g1")
[[ $(jq -r .base_uri <<<"$out") == https://127.0.0.1:28447/consumers/g1/instances/c1 ]] ||
    fail "consumer base_uri over HTTPS: $out"
nghttp -v "$HTTPS/healthz" >"$WORK/nghttp" 2>&1 || fail "nghttp over TLS: $(tail -3 "$WORK/nghttp")"
grep -q 'The negotiated protocol: h2' "$WORK/nghttp" || fail "nghttp did not negotiate h2"
grep -q ':status: 200' "$WORK/nghttp" || fail "nghttp: no 200"
# concurrent h2 streams with bodies over TLS (lws 4.1.6's h2 body bug, bounded reads in
# adapters/http/h2_reads.c: without them none of these succeeded)
python3 -c "import json; print(json.dumps({'records': [{'key': 'k%d' % i, 'value': {'v': 'x' * 50}} for i in range(60)]}))" >"$WORK/body.json"
timeout 60 h2load -n 400 -c 2 -m 8 -d "$WORK/body.json" \
    -H 'Content-Type: application/vnd.kafka.json.v2+json' "$HTTPS/topics/h2tls" >"$WORK/h2load" 2>&1 ||
    fail "h2load over TLS: $(tail -3 "$WORK/h2load")"
grep -q 'Application protocol: h2' "$WORK/h2load" || fail "h2load did not negotiate h2"
grep -q 'requests: 400 total, 400 started, 400 done, 400 succeeded' "$WORK/h2load" ||
    fail "h2load over TLS: $(grep -E 'requests:|status codes' "$WORK/h2load")"
# the plain listener is unchanged
expect_eq "plain health" "$(c -o /dev/null -w '%{http_code}' "$URL/healthz")" "200"

source "$HERE/../../node_modules.bash"
need_node_modules "$HERE/../.." ws mqtt || fail "cannot install the Node clients (npm ci --prefix tests)"
timeout 60 node "$HERE/https_wss.mjs" "$HTTPS" "$CERTS/ca.pem" || fail "WSS clients"

# refused: plaintext on the TLS port (400 with a JSON body, and a log line), a client
# trusting another CA
out=$(curl -s -w ' %{http_code}' "http://127.0.0.1:28447/healthz" || true)
[[ $out == *'"error_code":400'*' 400' ]] || fail "plaintext on the TLS port: $out"
grep -q 'mod=http msg="TLS handshake failed; closing" client=127.0.0.1:[0-9]* listener=tls reason="not a TLS ClientHello' "$LOG" ||
    fail "no log line for the plaintext client"
c --cacert "$CERTS/other-ca.pem" -o /dev/null "$HTTPS/healthz" 2>/dev/null &&
    fail "a client trusting another CA accepted the broker"
expect_eq "served after bad clients" "$(cs -o /dev/null -w '%{http_code}' "$HTTPS/healthz")" "200"
stop_broker

# client certificates required
start_broker 28446 "${TLS_FLAGS[@]}" --tls.ca.file="$CERTS/ca.pem" --ssl.client.auth=required
expect_eq "with a client certificate" "$(cs --cert "$CERTS/client.pem" --key "$CERTS/client.key" \
    -o /dev/null -w '%{http_code}' "$HTTPS/healthz")" "200"
cs -o /dev/null "$HTTPS/healthz" 2>/dev/null && fail "served without a client certificate"
cs --cert "$CERTS/other-client.pem" --key "$CERTS/other-client.key" -o /dev/null "$HTTPS/healthz" \
    2>/dev/null && fail "served with a client certificate of another CA"
grep -q 'TLS handshake failed; closing.*listener=tls reason="unable to get local issuer' "$LOG" ||
    fail "no log line for the client certificate of another CA"
stop_broker
echo PASS
