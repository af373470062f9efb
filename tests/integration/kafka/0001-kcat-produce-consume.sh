#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# kcat produces keyed messages from a file (-K: -l), including empty values and
# messages without a key, and consumes them back byte for byte from the beginning;
# then a consumer at the end sees nothing, and one from offset 2 sees the tail. A
# second batch without keys continues the offsets; record headers (-H) round-trip.
# Port 29092.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
start_broker 29092

IN="$WORK/in.txt"
for i in $(seq 1 500); do echo "key$i:value $i $(printf '%*s' $((i % 37)) '' | tr ' ' x)"; done >"$IN"
kc -P -t orders -K: -l "$IN" || fail "produce failed"
kc -C -t orders -o beginning -e -q -f '%k:%s\n' >"$WORK/out.txt" || fail "consume failed"
diff -q "$IN" "$WORK/out.txt" >/dev/null || fail "consumed records differ from produced ones"

# from an offset, and from the end
kc -C -t orders -o 498 -e -q -f '%o %k\n' >"$WORK/tail.txt" || fail "consume from offset failed"
[[ "$(cat "$WORK/tail.txt")" == $'498 key499\n499 key500' ]] || fail "tail: $(cat "$WORK/tail.txt")"
kc -C -t orders -o end -e -q -f '%o\n' >"$WORK/end.txt" || fail "consume from end failed"
[[ ! -s "$WORK/end.txt" ]] || fail "consumer from end got records"

# null keys (no -K) and a second batch: offsets continue
printf 'a\nb\n' | kc -P -t orders || fail "produce without keys failed"
kc -C -t orders -o 500 -e -q -f '%o:%K:%s\n' >"$WORK/nokey.txt" || fail "consume failed"
[[ "$(cat "$WORK/nokey.txt")" == $'500:-1:a\n501:-1:b' ]] || fail "null keys: $(cat "$WORK/nokey.txt")"
# record headers: several, with a repeated key
echo "payload" | kc -P -t hdrs -H trace=abc123 -H app=kcat -H app=again -k k1 ||
    fail "produce with headers failed"
kc -C -t hdrs -o beginning -e -q -f '%k|%h|%s\n' >"$WORK/hdrs.txt" || fail "consume failed"
[[ "$(cat "$WORK/hdrs.txt")" == "k1|trace=abc123,app=kcat,app=again|payload" ]] ||
    fail "headers: $(cat "$WORK/hdrs.txt")"
echo "PASS"
