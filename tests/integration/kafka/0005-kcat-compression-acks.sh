#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Every compression codec producers use (gzip, snappy, lz4, zstd) with acks=all, and
# an idempotent producer (InitProducerId): all records come back in order, each batch
# as the producer compressed it. Then 20,000 records in one consumer run exercise
# pipelined fetches and sendfile, and a slow raw client reads a 30 MB fetch (sendfile
# resuming on a full socket). Port 29096.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
start_broker 29096

for codec in none gzip snappy lz4 zstd; do
    seq 1 300 | sed "s/^/$codec-/" >"$WORK/$codec.txt"
    kc -P -t "z-$codec" -z "$codec" -X acks=all -l "$WORK/$codec.txt" || fail "$codec: produce failed"
    kc -C -t "z-$codec" -o beginning -e -q -f '%s\n' >"$WORK/$codec.out" || fail "$codec: consume failed"
    diff -q "$WORK/$codec.txt" "$WORK/$codec.out" >/dev/null || fail "$codec: records differ"
done

seq 1 200 >"$WORK/idem.txt"
kc -P -t idem -X enable.idempotence=true -l "$WORK/idem.txt" || fail "idempotent produce failed"
kc -C -t idem -o beginning -e -q -f '%s\n' >"$WORK/idem.out" || fail "consume failed"
diff -q "$WORK/idem.txt" "$WORK/idem.out" >/dev/null || fail "idempotent: records differ"

seq 1 20000 | sed 's/$/ some padding to make the records less tiny/' >"$WORK/big.txt"
kc -P -t big -X linger.ms=5 -l "$WORK/big.txt" || fail "bulk produce failed"
kc -C -t big -o beginning -e -q -X message.max.bytes=65536 -X fetch.max.bytes=65536 \
    -X max.partition.fetch.bytes=16384 \
    -f '%s\n' >"$WORK/big.out" || fail "bulk consume failed"
diff -q "$WORK/big.txt" "$WORK/big.out" >/dev/null || fail "bulk: records differ"

# 30 MB in one Fetch to a slow reader: sendfile stops on a full socket and resumes,
# and the pipelined answer behind it still arrives, in order.
yes "$(head -c 1000 /dev/zero | tr '\0' y)" | head -n 30000 >"$WORK/30m.txt" || true
kc -P -t slow -X linger.ms=20 -l "$WORK/30m.txt" || fail "30 MB produce failed"
timeout 60 python3 "$(dirname "$0")/slow_fetch.py" "$BROKER" slow 30000000 ||
    fail "slow reader of a 30 MB fetch"
echo "PASS"
