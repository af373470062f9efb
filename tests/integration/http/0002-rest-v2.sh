#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Confluent REST Proxy v2 with curl, as its clients call it: produce in the json and
# binary formats (keys placed by murmur2 as a Kafka client would, per-record offsets),
# to a partition, topics/partitions/offsets/brokers metadata, and the Proxy's error
# bodies (40401, 40402, 42201, 42205, 406, 415).
set -euo pipefail
source "$(dirname "$0")/lib.bash"
start_broker 28081 --num.partitions=3

JSON='Content-Type: application/vnd.kafka.json.v2+json'
BIN='Content-Type: application/vnd.kafka.binary.v2+json'
V2='Accept: application/vnd.kafka.v2+json'

r=$(c -X POST -H "$JSON" -H "$V2" --data '{"records":[{"key":"a","value":{"n":1}},{"key":"a","value":{"n":2}},{"value":"no key"}]}' "$URL/topics/orders")
expect_eq "offsets count" "$(jf "$r" '.offsets|length')" 3
expect_eq "same key, same partition" "$(jf "$r" '.offsets[0].partition == .offsets[1].partition')" true
expect_eq "consecutive offsets" "$(jf "$r" '.offsets[1].offset - .offsets[0].offset')" 1
expect_eq "no error" "$(jf "$r" '[.offsets[].error_code]|unique|tostring')" '[null]'
expect_eq "schema ids null" "$(jf "$r" '.key_schema_id,.value_schema_id' | tr '\n' ' ')" "null null "
# JSON key "a" is stored as the JSON text "a" (quotes included), as the REST Proxy does;
# murmur2 of those 3 bytes over 3 partitions:
expect_eq "murmur2 placement" "$(jf "$r" '.offsets[0].partition')" "$(python3 - <<'PY'
def murmur2(data):
    m = 0x5bd1e995; r = 24; h = (0x9747b28c ^ len(data)) & 0xffffffff
    n = len(data) // 4
    for i in range(n):
        k = int.from_bytes(data[4*i:4*i+4], 'little')
        k = (k * m) & 0xffffffff; k ^= k >> r; k = (k * m) & 0xffffffff
        h = (h * m) & 0xffffffff; h ^= k
    rest = data[4*n:]
    if len(rest) == 3: h ^= rest[2] << 16
    if len(rest) >= 2: h ^= rest[1] << 8
    if len(rest) >= 1: h ^= rest[0]; h = (h * m) & 0xffffffff
    h ^= h >> 13; h = (h * m) & 0xffffffff; h ^= h >> 15
    return h
print((murmur2(b'"a"') & 0x7fffffff) % 3)
PY
)"

# Binary format, to one partition.
r=$(c -X POST -H "$BIN" --data '{"records":[{"key":"a2V5","value":"AAEC/w=="},{"value":null}]}' "$URL/topics/orders/partitions/1")
expect_eq "binary to partition 1" "$(jf "$r" '[.offsets[].partition]|unique|tostring')" '[1]'

# Metadata.
expect_eq "topics" "$(c "$URL/topics")" '["orders"]'
t=$(c "$URL/topics/orders")
expect_eq "topic name" "$(jf "$t" .name)" orders
expect_eq "topic partitions" "$(jf "$t" '.partitions|length')" 3
expect_eq "partitions list" "$(jf "$(c "$URL/topics/orders/partitions")" '[.[].partition]|tostring')" '[0,1,2]'
expect_eq "partition leader" "$(jf "$(c "$URL/topics/orders/partitions/2")" .leader)" 1
o=$(c "$URL/topics/orders/partitions/1/offsets")
expect_eq "beginning offset" "$(jf "$o" .beginning_offset)" 0
[[ "$(jf "$o" .end_offset)" -ge 2 ]] || fail "end offset of partition 1: $o"
expect_eq "brokers" "$(c "$URL/brokers")" '{"brokers":[1]}'
expect_eq "v2 media type" "$(c -o /dev/null -w '%{content_type}' "$URL/topics")" "application/vnd.kafka.v2+json"

# Errors, with the REST Proxy's codes.
expect_eq "unknown topic" "$(jf "$(c "$URL/topics/nope")" .error_code)" 40401
expect_eq "unknown topic status" "$(status GET /topics/nope)" 404
expect_eq "unknown partition" "$(jf "$(c "$URL/topics/orders/partitions/9")" .error_code)" 40402
expect_eq "produce to unknown partition" "$(jf "$(c -X POST -H "$JSON" --data '{"records":[{"value":1}]}' "$URL/topics/orders/partitions/7")" .error_code)" 40402
expect_eq "record partition out of range" "$(status POST /topics/orders -H "$JSON" --data '{"records":[{"value":1,"partition":5}]}')" 404
expect_eq "malformed JSON" "$(jf "$(c -X POST -H "$JSON" --data '{"records":[' "$URL/topics/orders")" .error_code)" 42201
expect_eq "malformed JSON status" "$(status POST /topics/orders -H "$JSON" --data '{"records":[')" 422
expect_eq "bad base64" "$(jf "$(c -X POST -H "$BIN" --data '{"records":[{"value":"!!!"}]}' "$URL/topics/orders")" .error_code)" 42205
expect_eq "no records array" "$(jf "$(c -X POST -H "$JSON" --data '{"value":1}' "$URL/topics/orders")" .error_code)" 42205
expect_eq "avro needs a registry" "$(status POST /topics/orders -H 'Content-Type: application/vnd.kafka.avro.v2+json' --data '{}')" 415
expect_eq "not acceptable" "$(status GET /topics -H 'Accept: text/html')" 406
# The broker's auto-create: producing to a new topic creates it (as Kafka would).
expect_eq "auto-create" "$(jf "$(c -X POST -H "$JSON" --data '{"records":[{"value":1}]}' "$URL/topics/fresh")" '.offsets[0].offset')" 0

# The same produce over h2c.
r=$(c --http2-prior-knowledge -X POST -H "$JSON" --data '{"records":[{"value":"h2"}]}' "$URL/topics/orders/partitions/0")
expect_eq "h2 produce" "$(jf "$r" '.offsets[0].error')" null
# Concurrent h2 streams with bodies on one connection (lws 4.1.6 dropped the connection
# when a body's last DATA frame shared a read with a later frame; h2_reads.c).
if command -v h2load >/dev/null; then
    python3 -c 'import json; print(json.dumps({"records": [{"value": "x" * 5900}]}))' >"$WORK/h2body"
    out=$(timeout 60 h2load -n 200 -c 2 -m 8 -H "$JSON" -d "$WORK/h2body" "$URL/topics/orders/partitions/0")
    expect_eq "h2 concurrent bodies" "$(grep -o '[0-9]* succeeded' <<<"$out")" "200 succeeded"
fi

stop_broker
echo ok
