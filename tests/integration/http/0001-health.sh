#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# /healthz over HTTP/1.1 and h2c prior knowledge on one port (curl and nghttp), JSON
# 404/405/415/413 bodies, and a clean stop on SIGTERM.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
start_broker 28080

body=$(c "$URL/healthz")
expect_eq "healthz status" "$(jf "$body" .status)" ok
expect_eq "healthz over HTTP/1.1" "$(c -o /dev/null -w '%{http_version}' "$URL/healthz")" 1.1

# HTTP/2 with prior knowledge on the same port: curl and nghttp (an independent client).
expect_eq "h2c version" "$(c --http2-prior-knowledge -o /dev/null -w '%{http_version}' "$URL/healthz")" 2
h2=$(timeout 20 nghttp "$URL/healthz")
expect_eq "nghttp healthz" "$(jf "$h2" .status)" ok
# Several streams on one h2 connection.
n=$(timeout 20 nghttp -n -s -m 10 "$URL/healthz" | grep -c '200' || true)
[[ "$n" -ge 1 ]] || fail "nghttp -m 10 saw no 200"
# Responses larger than lws's default 4 KiB buffer arrive whole over h2 (they stalled
# after 4 KiB before server.c raised pt_serv_buf_size): a console file and a 1,000-record
# produce answer (~63 KB), with curl and nghttp.
h1len=$(c -o /dev/null -w '%{size_download}' "$URL/console/app.js")
[[ "$h1len" -gt 4096 ]] || fail "console/app.js is only $h1len bytes: pick a larger file"
expect_eq "h2 large file (curl)" "$(c --http2-prior-knowledge -o /dev/null -w '%{size_download}' "$URL/console/app.js")" "$h1len"
expect_eq "h2 large file (nghttp)" "$(timeout 20 nghttp "$URL/console/app.js" | wc -c)" "$h1len"
recs=$(seq -s, 1 1000 | sed 's/\([0-9]*\)/{"value":\1}/g')
r=$(c --http2-prior-knowledge -X POST -H 'Content-Type: application/vnd.kafka.json.v2+json' --data "{\"records\":[$recs]}" "$URL/topics/h2big")
expect_eq "h2 large answer" "$(jq '.offsets | length' <<<"$r")" 1000

# Unknown routes, wrong methods, wrong media types, oversized bodies: JSON errors.
expect_eq "404 status" "$(status GET /no/such/thing)" 404
expect_eq "404 body" "$(jf "$(c "$URL/no/such/thing")" .error_code)" 40401
expect_eq "405 status" "$(status DELETE /healthz)" 405
expect_eq "405 body" "$(jf "$(c -X DELETE "$URL/healthz")" .error_code)" 40501
expect_eq "405 on h2" "$(c --http2-prior-knowledge -o /dev/null -w '%{http_code}' -X PUT "$URL/healthz")" 405
expect_eq "415 status" "$(status POST /topics/t -H 'Content-Type: text/plain' -d x)" 415
expect_eq "415 body" "$(jf "$(c -X POST -H 'Content-Type: text/plain' -d x "$URL/topics/t")" .error_code)" 41501
big="$WORK/big.json"
head -c $((9 * 1024 * 1024)) /dev/zero | tr '\0' ' ' >"$big"
expect_eq "413 status" "$(status POST /topics/t -H 'Content-Type: application/vnd.kafka.json.v2+json' --data-binary @"$big")" 413
expect_eq "413 on h2" "$(c --http2-prior-knowledge -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/vnd.kafka.json.v2+json' --data-binary @"$big" "$URL/topics/t")" 413
# The listener still answers after a refused body.
expect_eq "healthz after 413" "$(status GET /healthz)" 200

# Keep-alive: several requests on one HTTP/1.1 connection.
out=$(c -o /dev/null -o /dev/null -o /dev/null -w '%{http_code}:%{num_connects}\n' \
    "$URL/healthz" "$URL/healthz" "$URL/nope")
expect_eq "keep-alive answers" "$(tr '\n' ' ' <<<"$out")" "200:1 200:0 404:0 "

stop_broker
echo ok
