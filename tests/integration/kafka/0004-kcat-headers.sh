#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Record headers survive the round trip: kcat -H on produce, %h on consume, including
# several headers and a repeated key. Port 29095.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
start_broker 29095

echo "payload" | kc -P -t hdrs -H trace=abc123 -H app=kcat -H app=again -k k1 ||
    fail "produce failed"
kc -C -t hdrs -o beginning -e -q -f '%k|%h|%s\n' >"$WORK/out.txt" || fail "consume failed"
[[ "$(cat "$WORK/out.txt")" == "k1|trace=abc123,app=kcat,app=again|payload" ]] ||
    fail "headers: $(cat "$WORK/out.txt")"
echo "PASS"
