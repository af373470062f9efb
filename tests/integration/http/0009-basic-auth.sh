#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# http.auth=basic against auth.users.file with curl (HTTP/1.1 and h2c), an SSE GET and
# Node ws: /healthz stays open; no credentials, a wrong password or an unknown user get
# 401 with WWW-Authenticate and {"error_code":40101} (also a POST with a body, and the
# /ws upgrade), each refusal one log line naming the client and never the password;
# alice's credentials are served (REST produce and listing, SSE, WebSocket); the /mqtt
# upgrade is not HTTP-authenticated (MQTT's CONNECT is). A host whose checks keep failing
# is throttled: 429 with Retry-After and {"error_code":42901}, its passwords not checked
# (bob's right one too) until a token comes back, while alice's cached check still serves
# her; one log line a second. Ports 28449 (HTTP), 28453 (MQTT).
set -euo pipefail
source "$(dirname "$0")/lib.bash"
HERE="$(cd "$(dirname "$0")" && pwd)"
USERS="$WORK/users"
"$GN_BUILD_DIR/ganglion-users" --file="$USERS" add alice --password=wonder-pass-7 >/dev/null ||
    fail "ganglion-users add"
"$GN_BUILD_DIR/ganglion-users" --file="$USERS" add bob --password=builder-pass-3 >/dev/null ||
    fail "ganglion-users add bob"
start_broker 28449 --http.auth=basic --auth.users.file="$USERS" --mqtt.host=127.0.0.1 \
    --mqtt.port=28453 --mqtt.tls.port=0
grep -q 'mod=http msg="listening".* auth=basic' "$LOG" || fail "no auth=basic in the listening line"
A=(-u alice:wonder-pass-7)
PT='Content-Type: application/vnd.kafka.json.v2+json'

expect_eq "health without credentials" "$(status GET /healthz)" "200"
out=$(c -D "$WORK/h" -w ' %{http_code}' "$URL/topics")
[[ $out == '{"error_code":40101,"message":"Unauthorized: no credentials"} 401' ]] ||
    fail "no credentials: $out"
grep -qi '^WWW-Authenticate: Basic realm="ganglion"' "$WORK/h" || fail "no WWW-Authenticate: $(cat "$WORK/h")"
expect_eq "wrong password" "$(status GET /topics -u alice:bad-secret-9)" "401"
expect_eq "unknown user" "$(status GET /metrics -u mallory:wonder-pass-7)" "401"
expect_eq "not Basic" "$(status GET /topics -H 'Authorization: Bearer x')" "401"
expect_eq "no colon" "$(status GET /topics -H "Authorization: Basic $(printf alice | base64)")" "401"
expect_eq "not base64" "$(status GET /topics -H 'Authorization: Basic !!!')" "401"
expect_eq "a 2 KiB header" "$(status GET /topics -H "Authorization: Basic $(head -c 1600 /dev/zero | base64 -w0)")" "401"
expect_eq "unknown path without credentials" "$(status GET /nope)" "401"
expect_eq "POST with a body, no credentials" \
    "$(status POST /topics/t -H "$PT" -d '{"records":[{"value":1}]}')" "401"
expect_eq "h2c without credentials" "$(status GET /topics --http2-prior-knowledge)" "401"

# served: HTTP/1.1, h2c (twice: the second check comes from the cache), SSE
out=$(c "${A[@]}" -X POST -H "$PT" -d '{"records":[{"key":"k","value":{"n":1}}]}' "$URL/topics/t")
expect_eq "produce as alice" "$(jq -c '[.offsets[].offset]' <<<"$out")" "[0]"
expect_eq "h2c as alice" "$(c "${A[@]}" --http2-prior-knowledge -o /dev/null \
    -w '%{http_version} %{http_code}' "$URL/topics")" "2 200"
expect_eq "h2c list as alice" "$(c "${A[@]}" --http2-prior-knowledge "$URL/topics" | jq -c .)" '["t"]'
expect_eq "SSE without credentials" "$(status GET '/topics/t/events?from=earliest')" "401"
c "${A[@]}" -N --max-time 2 "$URL/topics/t/events?from=earliest" >"$WORK/sse" 2>/dev/null || true
grep -q '"offset":0' "$WORK/sse" || fail "SSE as alice: $(head -c 300 "$WORK/sse")"

source "$HERE/../../node_modules.bash"
need_node_modules "$HERE/../.." ws || fail "cannot install the Node clients (npm ci --prefix tests)"
timeout 20 node "$HERE/ws_auth.mjs" "$URL" alice wonder-pass-7 || fail "WebSocket clients"

# an upgrade without credentials: /mqtt switches protocols, /ws is refused
UP=(-H 'Connection: Upgrade' -H 'Upgrade: websocket' -H 'Sec-WebSocket-Version: 13'
    -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==')
expect_eq "/mqtt upgrade" "$(c --max-time 1 -o /dev/null -w '%{http_code}' "${UP[@]}" \
    -H 'Sec-WebSocket-Protocol: mqtt' "$URL/mqtt" || true)" "101"
expect_eq "/ws upgrade" "$(c -o /dev/null -w '%{http_code}' "${UP[@]}" "$URL/ws")" "401"

n=$(grep -c 'msg="authentication failed; answered 401" client=127.0.0.1:[0-9]*' "$LOG" || true)
[[ $n -eq 14 ]] || fail "want 14 refusal lines, got $n: $(grep 'authentication failed' "$LOG")"
grep -q 'path=/topics reason="unknown user or wrong password"' "$LOG" || fail "no wrong-password line"
grep -q 'bad-secret\|wonder-pass' "$LOG" && fail "a password is in the log"

# throttling: a burst of failed checks (GN_AUTH_THROTTLE_BURST, 10), then 429s; one curl
# process sends the 14 guesses so that no token comes back (2 a second) on the way
args=()
for i in $(seq 1 14); do
    args+=(--next -s -o /dev/null -w '%{http_code} ' -u "alice:guess-$i" "$URL/topics")
done
codes=$(curl "${args[@]:1}")
n401=$(grep -o 401 <<<"$codes" | wc -l)
[[ $codes == 401* && $codes == *429\  && $n401 -le 11 ]] || fail "throttling: $codes"
out=$(curl -s -o /dev/null -u alice:guess-x "$URL/topics" --next -s -D "$WORK/hb" \
    -u bob:builder-pass-3 -w ' %{http_code}' "$URL/topics")
expect_eq "bob while throttled" "$out" \
    '{"error_code":42901,"message":"Too Many Requests: too many failed authentications from this address; retry later"} 429'
grep -qi '^Retry-After: 1' "$WORK/hb" || fail "no Retry-After: $(cat "$WORK/hb")"
expect_eq "alice (a cached check) while throttled" "$(status GET /topics "${A[@]}")" "200"
sleep 0.6 # a token back
expect_eq "bob after a token came back" "$(status GET /topics -u bob:builder-pass-3)" "200"
grep -q 'msg="authentication throttled; answered 429" client=127.0.0.1:[0-9]* path=/topics .*refusals_since_last_line=' "$LOG" ||
    fail "no throttled line: $(grep 'throttled' "$LOG")"
grep -q 'guess-\|builder-pass' "$LOG" && fail "a password is in the log"
stop_broker
echo PASS
