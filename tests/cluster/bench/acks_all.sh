#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Rough cluster benchmark with kcat (no latency percentiles: kcat gives none): acks=all
# throughput of 1 broker (replication factor 1) against 3 brokers (replication factor 3,
# min.insync.replicas 2) on loopback, N records of 100 B through one producer, and the
# failover time (SIGKILL of the leader until another broker leads, with
# broker.session.timeout.ms=3000). Prints; asserts nothing. Ports 29600-29629.
# usage: GN_BUILD_DIR=build tests/cluster/bench/acks_all.sh [N]
set -euo pipefail
source "$(dirname "$0")/../lib.bash"
N=${1:-200000}
seq -f '%0100.0f' 1 "$N" >"$WORK/in.txt" # N distinct 100-byte records

produce() { # bootstrap topic -> seconds
    local t0 t1
    t0=$(date +%s.%N)
    kcat -P -b "$1" -t "$2" -l -X acks=all -X linger.ms=5 -X batch.num.messages=10000 \
        -X queue.buffering.max.messages=1000000 "$WORK/in.txt" || fail "produce failed"
    t1=$(date +%s.%N)
    echo "$t1 - $t0" | bc
}

# one broker, replication factor 1
"$GANGLION" --node.id=1 --data.dir="$WORK/single" --kafka.host=127.0.0.1 --kafka.port=29609 \
    --mqtt.port=0 --http.port=0 >"$WORK/single.log" 2>&1 &
SINGLE=$!
sleep 1
echo warm | kcat -P -b 127.0.0.1:29609 -t one -X acks=all
s1=$(produce 127.0.0.1:29609 one)
kill -TERM $SINGLE
wait $SINGLE || true

# three brokers, replication factor 3
for n in 1 2 3; do start_broker "$n"; done
wait_for 20 "three brokers" brokers_in_metadata 3
echo warm | kcat -P -b "$(bootstrap)" -t three -X acks=all
wait_for 20 "ISR of three" bash -c "[[ \"\$(kcat -L -b '$(bootstrap)' -t three -m 2 | grep -o 'isrs: .*')\" =~ ^isrs:\ [0-9],[0-9],[0-9]$ ]]"
s3=$(produce "$(bootstrap)" three)

LEADER=$(leader_of three)
t0=$(date +%s.%N)
kill9 "$LEADER"
until l=$(leader_of three) && [[ $l =~ ^[123]$ && $l != "$LEADER" ]]; do sleep 0.05; done
t1=$(date +%s.%N)

printf 'acks=all, %d records of 100 B, one kcat producer (linger.ms=5):\n' "$N"
printf '  1 broker,  RF=1: %6.2f s  %9.0f records/s\n' "$s1" "$(echo "$N / $s1" | bc -l)"
printf '  3 brokers, RF=3: %6.2f s  %9.0f records/s\n' "$s3" "$(echo "$N / $s3" | bc -l)"
printf 'failover (SIGKILL of the leader until metadata names another, session 3000 ms): %.1f s\n' \
    "$(echo "$t1 - $t0" | bc)"
