#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# REST Proxy v2 consumer instances with curl, as the Proxy's clients call them: create,
# subscribe, read records in the json and binary formats (long-poll, max_bytes),
# positions, commit and committed offsets; the same instance survives a broker restart
# and resumes after its committed offset; two instances of one group split a
# 4-partition topic; a REST instance and `kcat -G` split one (Kafka listener on 28192);
# and the Proxy's error codes (40403, 40902, 40903, 40601, 40401, 40402, 42201, 42204, 415).
set -euo pipefail
source "$(dirname "$0")/lib.bash"
KPORT=28192
FLAGS=(--num.partitions=4 --group.initial.rebalance.delay.ms=0 --kafka.host=127.0.0.1 --kafka.port=$KPORT)
start_broker 28180 "${FLAGS[@]}"
KCAT_PID=""
trap 'if [[ -n "$KCAT_PID" ]]; then kill "$KCAT_PID" 2>/dev/null || true; fi; cleanup' EXIT

CT='Content-Type: application/vnd.kafka.v2+json'
JSON='Content-Type: application/vnd.kafka.json.v2+json'
AJ='Accept: application/vnd.kafka.json.v2+json'
AB='Accept: application/vnd.kafka.binary.v2+json'

post() { # post PATH BODY -> body, status in $ST
    local out
    out=$(c -X POST -H "$CT" --data "$2" -w '\n%{http_code}' "$URL$1")
    ST=${out##*$'\n'}
    BODY=${out%$'\n'*}
}
records() { # records GROUP INSTANCE ACCEPT [query]
    c -H "$3" "$URL/consumers/$1/instances/$2/records?${4:-timeout=1000}"
}
# wait_records GROUP INSTANCE ACCEPT WANT: reads (bounded) until WANT records came in total.
wait_records() {
    local all='[]' r
    for ((i = 0; i < 30; i++)); do
        r=$(records "$1" "$2" "$3" "timeout=1000")
        all=$(jq -c --argjson a "$all" '$a + .' <<<"$r")
        [[ $(jq length <<<"$all") -ge $4 ]] && break
    done
    echo "$all"
}
assigned() { c "$URL/consumers/$1/instances/$2/assignments" | jq -c '[.partitions[].partition]|sort'; }

c -X POST -H 'Content-Type: application/json' --data '{"topic_name":"one","partitions_count":1}' \
    "$URL/v3/clusters/ganglion/topics" >/dev/null
r=$(c -X POST -H "$JSON" --data '{"records":[{"value":{"n":0}},{"value":{"n":1}},{"key":"k","value":"two"},{"value":[3]},{"value":4}]}' "$URL/topics/one")
expect_eq "produced 5" "$(jf "$r" '[.offsets[].offset]|tostring')" '[0,1,2,3,4]'

# ---- create, subscribe, read json ----------------------------------------------------
post /consumers/g1 '{"name":"c1","format":"json","auto.offset.reset":"earliest","auto.commit.enable":"false"}'
expect_eq "create status" "$ST" 200
expect_eq "instance id" "$(jf "$BODY" .instance_id)" c1
expect_eq "base uri" "$(jf "$BODY" .base_uri)" "$URL/consumers/g1/instances/c1"
post /consumers/g1 '{"name":"c1","format":"json"}'
expect_eq "duplicate 409" "$ST" 409
expect_eq "duplicate 40902" "$(jf "$BODY" .error_code)" 40902
post /consumers/g1/instances/c1/subscription '{"topics":["one"]}'
expect_eq "subscribe 204" "$ST" 204
expect_eq "subscription" "$(c "$URL/consumers/g1/instances/c1/subscription")" '{"topics":["one"]}'
all=$(wait_records g1 c1 "$AJ" 5)
expect_eq "json records" "$(jq -c '[.[].value]' <<<"$all")" '[{"n":0},{"n":1},"two",[3],4]'
expect_eq "json key" "$(jq -c '.[2].key' <<<"$all")" '"k"'
expect_eq "record fields" "$(jq -c '.[0]|keys' <<<"$all")" '["key","offset","partition","topic","value"]'
expect_eq "assignment" "$(assigned g1 c1)" '[0]'
ctype=$(c -o /dev/null -w '%{content_type}' -H "$AJ" "$URL/consumers/g1/instances/c1/records?timeout=0")
expect_eq "records media type" "$ctype" application/vnd.kafka.json.v2+json

# commit offset 2 (the Proxy commits offset + 1), read it back
post /consumers/g1/instances/c1/offsets '{"offsets":[{"topic":"one","partition":0,"offset":2}]}'
expect_eq "commit 200" "$ST" 200
got=$(c -X GET -H "$CT" --data '{"partitions":[{"topic":"one","partition":0}]}' "$URL/consumers/g1/instances/c1/offsets")
expect_eq "committed" "$(jf "$got" '.offsets[0].offset')" 3
expect_eq "committed (all assigned)" "$(jf "$(c "$URL/consumers/g1/instances/c1/offsets")" '.offsets[0].offset')" 3

# ---- restart: the same instance resumes after its committed offset --------------------
stop_broker
start_broker 28180 "${FLAGS[@]}"
grep -q 'msg="consumer instances restored" count=1' "$LOG" || fail "no restore line"
all=$(wait_records g1 c1 "$AJ" 2)
expect_eq "resumed after commit" "$(jq -c '[.[].offset]' <<<"$all")" '[3,4]'
# an empty commit commits everything consumed
post /consumers/g1/instances/c1/offsets ''
expect_eq "commit all 200" "$ST" 200
expect_eq "committed all" "$(jf "$(c "$URL/consumers/g1/instances/c1/offsets")" '.offsets[0].offset')" 5

# ---- long-poll: a record produced while the request waits answers it at once ----------
( sleep 1; c -X POST -H "$JSON" --data '{"records":[{"value":"late"}]}' "$URL/topics/one" >/dev/null ) &
LATE=$!
t0=$(date +%s%N)
r=$(records g1 c1 "$AJ" "timeout=8000")
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
wait "$LATE"
expect_eq "long-poll record" "$(jq -c '[.[].value]' <<<"$r")" '["late"]'
(( ms >= 700 && ms < 5000 )) || fail "long-poll answered after $ms ms (want ~1000)"
t0=$(date +%s%N)
expect_eq "long-poll timeout" "$(records g1 c1 "$AJ" "timeout=500")" '[]'
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
(( ms >= 400 && ms < 3000 )) || fail "empty poll answered after $ms ms (want ~500)"

# ---- binary, manual assignment, positions, max_bytes ------------------------------------
post /consumers/g1 '{"name":"b1","format":"binary","auto.offset.reset":"latest"}'
expect_eq "create binary" "$ST" 200
post /consumers/g1/instances/b1/assignments '{"partitions":[{"topic":"one","partition":0}]}'
expect_eq "assign 204" "$ST" 204
expect_eq "assignments" "$(c "$URL/consumers/g1/instances/b1/assignments")" '{"partitions":[{"topic":"one","partition":0}]}'
post /consumers/g1/instances/b1/positions/beginning '{"partitions":[{"topic":"one","partition":0}]}'
expect_eq "seek beginning 204" "$ST" 204
r=$(records g1 b1 "$AB" "timeout=2000&max_bytes=15")
expect_eq "max_bytes bounds the answer" "$(jq -c '[.[].offset]' <<<"$r")" '[0,1]'
expect_eq "binary value" "$(jq -r '.[0].value' <<<"$r" | base64 -d)" '{"n":0}'
expect_eq "binary null key" "$(jq -c '.[0].key' <<<"$r")" null
post /consumers/g1/instances/b1/positions '{"offsets":[{"topic":"one","partition":0,"offset":2}]}'
expect_eq "seek 204" "$ST" 204
r=$(records g1 b1 "$AB" "timeout=2000")
expect_eq "after seek" "$(jq -c '[.[].offset]' <<<"$r")" '[2,3,4,5]'
expect_eq "binary key" "$(jq -r '.[0].key' <<<"$r" | base64 -d)" '"k"'
post /consumers/g1/instances/b1/positions/end '{"partitions":[{"topic":"one","partition":0}]}'
expect_eq "seek end 204" "$ST" 204
expect_eq "nothing after end" "$(records g1 b1 "$AB" "timeout=0")" '[]'
ctype=$(c -o /dev/null -w '%{content_type}' -H "$AB" "$URL/consumers/g1/instances/b1/records?timeout=0")
expect_eq "binary media type" "$ctype" application/vnd.kafka.binary.v2+json

# ---- two instances split a 4-partition topic ---------------------------------------
c -X POST -H "$JSON" --data '{"records":[{"value":1,"partition":0},{"value":2,"partition":1},{"value":3,"partition":2},{"value":4,"partition":3}]}' "$URL/topics/four" >/dev/null
for n in a b; do
    post /consumers/g2 "{\"name\":\"$n\",\"format\":\"json\",\"auto.offset.reset\":\"earliest\"}"
    post /consumers/g2/instances/$n/subscription '{"topics":["four"]}'
    expect_eq "subscribe $n" "$ST" 204
done
for ((i = 0; i < 100; i++)); do
    [[ "$(assigned g2 a)" != '[]' && "$(assigned g2 b)" != '[]' &&
        $(( $(assigned g2 a | jq length) + $(assigned g2 b | jq length) )) == 4 ]] && break
    sleep 0.2
done
expect_eq "a and b split four" "$(jq -c -s 'add|sort' <(assigned g2 a) <(assigned g2 b))" '[0,1,2,3]'
expect_eq "a has two" "$(assigned g2 a | jq length)" 2
ra=$(wait_records g2 a "$AJ" 2)
rb=$(wait_records g2 b "$AJ" 2)
expect_eq "every record once" "$(jq -c -s 'add|[.[].value]|sort' <(echo "$ra") <(echo "$rb"))" '[1,2,3,4]'

# ---- a REST instance and kcat -G in one group (Kafka listener) ---------------------------
if command -v kcat >/dev/null; then
    post /consumers/g3 '{"name":"r","format":"json","auto.offset.reset":"earliest"}'
    post /consumers/g3/instances/r/subscription '{"topics":["four"]}'
    timeout 40 kcat -u -b 127.0.0.1:$KPORT -G g3 -X auto.offset.reset=earliest -f 'kcat %p %s\n' four \
        >"$WORK/kcat.out" 2>"$WORK/kcat.err" &
    KCAT_PID=$!
    for ((i = 0; i < 150; i++)); do
        grep -q 'assigned:' "$WORK/kcat.err" 2>/dev/null && [[ "$(assigned g3 r | jq length)" == 2 ]] && break
        sleep 0.2
    done
    kparts=$(grep 'assigned:' "$WORK/kcat.err" | tail -n 1 | grep -o 'four \[[0-9]*\]' | grep -o '[0-9]*' | jq -s -c sort)
    expect_eq "kcat got two" "$(jq length <<<"$kparts")" 2
    expect_eq "kcat and REST split four" "$(jq -c -s 'add|sort' <(echo "$kparts") <(assigned g3 r))" '[0,1,2,3]'
    rr=$(wait_records g3 r "$AJ" 2)
    for ((i = 0; i < 50; i++)); do [[ $(grep -c '^kcat' "$WORK/kcat.out") -ge 2 ]] && break; sleep 0.2; done
    got=$( (jq -r '.[].value' <<<"$rr"; grep '^kcat' "$WORK/kcat.out" | awk '{print $3}') | sort | tr '\n' ' ')
    expect_eq "kcat and REST read every record once" "$got" "1 2 3 4 "
    kill "$KCAT_PID" 2>/dev/null || true
    wait "$KCAT_PID" 2>/dev/null || true
    KCAT_PID=""
else
    echo "kcat not installed: cross-protocol group skipped" >&2
fi

# ---- errors -----------------------------------------------------------------------
expect_eq "unknown instance records" "$(c -o /dev/null -w '%{http_code}' -H "$AJ" "$URL/consumers/g1/instances/nope/records")" 404
expect_eq "unknown instance 40403" "$(jf "$(c -H "$AJ" "$URL/consumers/g1/instances/nope/records")" .error_code)" 40403
expect_eq "unknown instance delete" "$(jf "$(c -X DELETE "$URL/consumers/g1/instances/nope")" .error_code)" 40403
post /consumers/g9/instances/nope/subscription '{"topics":["one"]}'
expect_eq "unknown instance subscribe" "$(jf "$BODY" .error_code)" 40403
post /consumers/g1 '{"name":"x","format":"avro"}'
expect_eq "avro refused" "$ST:$(jf "$BODY" .error_code)" 422:42204
post /consumers/g1 '{"name":"x","auto.offset.reset":"sometimes"}'
expect_eq "bad reset" "$ST:$(jf "$BODY" .error_code)" 422:42204
post /consumers/g1 '{"name":"bad name!"}'
expect_eq "bad name" "$ST:$(jf "$BODY" .error_code)" 422:42204
post /consumers/g1 '{"name":'
expect_eq "malformed json" "$ST:$(jf "$BODY" .error_code)" 422:42201
expect_eq "415 on subscribe" "$(status POST /consumers/g1/instances/c1/subscription -H 'Content-Type: text/plain' --data x)" 415
expect_eq "format mismatch" "$(c -o /dev/null -w '%{http_code}' -H "$AB" "$URL/consumers/g1/instances/c1/records")" 406
expect_eq "format mismatch 40601" "$(jf "$(c -H "$AB" "$URL/consumers/g1/instances/c1/records")" .error_code)" 40601
post /consumers/g1/instances/c1/assignments '{"partitions":[{"topic":"one","partition":0}]}'
expect_eq "assign while subscribed" "$ST:$(jf "$BODY" .error_code)" 409:40903
post /consumers/g1/instances/b1/subscription '{"topics":["one"]}'
expect_eq "subscribe while assigned" "$ST:$(jf "$BODY" .error_code)" 409:40903
post /consumers/g1/instances/c1/subscription '{"topics":["one"],"topic_pattern":"o.*"}'
expect_eq "topics and pattern" "$ST:$(jf "$BODY" .error_code)" 422:42204
post /consumers/g1/instances/b1/positions '{"offsets":[{"topic":"four","partition":0,"offset":0}]}'
expect_eq "seek unassigned" "$ST:$(jf "$BODY" .error_code)" 409:40903
post /consumers/g1 '{"name":"m1"}'
post /consumers/g1/instances/m1/assignments '{"partitions":[{"topic":"nosuch","partition":0}]}'
expect_eq "assign unknown topic" "$ST:$(jf "$BODY" .error_code)" 404:40401
post /consumers/g1/instances/m1/assignments '{"partitions":[{"topic":"one","partition":7}]}'
expect_eq "assign unknown partition" "$ST:$(jf "$BODY" .error_code)" 404:40402
expect_eq "bad timeout" "$(jf "$(c -H "$AB" "$URL/consumers/g1/instances/m1/records?timeout=abc")" .error_code)" 42204
expect_eq "v2 error media type" "$(c -o /dev/null -w '%{content_type}' -X DELETE "$URL/consumers/g1/instances/nope")" application/vnd.kafka.v2+json

# ---- pattern subscription, unsubscribe, delete -------------------------------------------
post /consumers/g4 '{"name":"p","format":"json","auto.offset.reset":"earliest"}'
post /consumers/g4/instances/p/subscription '{"topic_pattern":"f.u?r"}'
expect_eq "pattern subscribe" "$ST" 204
expect_eq "pattern topics" "$(jf "$(c "$URL/consumers/g4/instances/p/subscription")" '.topics|tostring')" '["four"]'
expect_eq "unsubscribe" "$(status DELETE /consumers/g4/instances/p/subscription)" 204
expect_eq "subscription empty" "$(jf "$(c "$URL/consumers/g4/instances/p/subscription")" '.topics|tostring')" '[]'
expect_eq "delete 204" "$(status DELETE /consumers/g1/instances/c1)" 204
expect_eq "deleted is gone" "$(jf "$(c -H "$AJ" "$URL/consumers/g1/instances/c1/records")" .error_code)" 40403

# ---- h2c: the same endpoints over HTTP/2 prior knowledge -----------------------------
r=$(c --http2-prior-knowledge -X POST -H "$CT" --data '{"name":"h2","format":"binary"}' "$URL/consumers/g5")
expect_eq "h2 create" "$(jf "$r" .instance_id)" h2

# A deleted instance stays deleted after a restart; the others come back.
stop_broker
start_broker 28180 "${FLAGS[@]}"
expect_eq "c1 stays deleted" "$(jf "$(c -H "$AJ" "$URL/consumers/g1/instances/c1/records")" .error_code)" 40403
expect_eq "b1 back" "$(c -o /dev/null -w '%{http_code}' -H "$AB" "$URL/consumers/g1/instances/b1/assignments")" 200
stop_broker
echo ok
