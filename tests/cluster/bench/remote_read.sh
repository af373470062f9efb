#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Rough benchmark of remote reads (core/replica/remote_read.c): three brokers, a topic of
# one partition with replication factor 1 on broker R, N records of 100 B produced with
# kcat. Times, in one run: an SSE tail from the earliest offset (curl -N, until N events)
# on R itself (local), on another broker O whose copy starts empty (remote, cold: the
# copy fetches from R while SSE reads it), and on O again (the copy is local by then);
# and the copy's own catch-up (O's log end in /metrics from the first request to N).
# Prints records/s; asserts nothing. Ports 29600-29649 (GN_CLUSTER_PORTS).
# usage: GN_BUILD_DIR=build tests/cluster/bench/remote_read.sh [N]
set -euo pipefail
source "$(dirname "$0")/../lib.bash"
N=${1:-200000}
seq -f '%0100.0f' 1 "$N" >"$WORK/in.txt"

for n in 1 2 3; do start_broker "$n" --gateways --num.partitions=1; done
wait_for 20 "three brokers registered" brokers_in_metadata 3
for n in 1 2 3; do wait_for 20 "broker $n's HTTP listener" curl -sf "http://127.0.0.1:$(http_port "$n")/healthz"; done
base="http://127.0.0.1:$(http_port 1)"
cid=$(curl -sS "$base/v3/clusters" | jq -r '.data[0].cluster_id')
code=$(curl -sS -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
    --data '{"topic_name":"rr","partitions_count":1,"replication_factor":1,"configs":[{"name":"min.insync.replicas","value":"1"}]}' \
    "$base/v3/clusters/$cid/topics")
[[ $code == 201 ]] || fail "create rr: HTTP $code"
for n in 1 2 3; do
    wait_for 20 "broker $n knows rr" bash -c "kcat -L -b 127.0.0.1:${GN_CLUSTER_PORTS}0$n -m 2 | grep -A1 'topic \"rr\"' | grep -q 'leader [123]'"
done
R=$(kcat -L -b "127.0.0.1:${GN_CLUSTER_PORTS}01" -m 2 | grep -A1 'topic "rr"' | sed -n 's/.*partition 0, leader \([0-9-]*\),.*/\1/p')
O=1
[[ $R == 1 ]] && O=2
kcat -P -b "127.0.0.1:${GN_CLUSTER_PORTS}0$R" -t rr -p 0 -l -X acks=1 -X linger.ms=5 \
    -X batch.num.messages=10000 -X queue.buffering.max.messages=1000000 "$WORK/in.txt" ||
    fail "produce failed"
echo "rr: $N records of 100 B on broker $R; remote reads on broker $O; $(uptime)"

sse() { # sse BROKER -> seconds until the N-th event (curl is stopped then: the tail stays open)
    local t0 t1 got fifo="$WORK/sse.fifo" pid
    rm -f "$fifo"
    mkfifo "$fifo"
    t0=$(date +%s.%N)
    curl -sN -m 300 "http://127.0.0.1:$(http_port "$1")/topics/rr/events?from=earliest" >"$fifo" 2>/dev/null &
    pid=$!
    got=$(grep -m "$N" '^data:' <"$fifo" | wc -l || true)
    t1=$(date +%s.%N)
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    [[ $got == "$N" ]] || fail "SSE on $1: $got of $N events"
    echo "$t1 - $t0" | bc
}
rate() { echo "scale=0; $N / $1" | bc; }

t_local=$(sse "$R")
echo "SSE on $R (local replica):           $t_local s, $(rate "$t_local") records/s"
t0=$(date +%s.%N)
t_cold=$(sse "$O")
echo "SSE on $O (remote, copy from empty): $t_cold s, $(rate "$t_cold") records/s"
t_warm=$(sse "$O")
echo "SSE on $O (remote, copy caught up):  $t_warm s, $(rate "$t_warm") records/s"
echo "ratio remote cold / local: $(echo "scale=2; $t_local / $t_cold" | bc)"

# the fetch stream alone: a fresh topic read once on O, O's log end polled in /metrics
curl -sS -o /dev/null -X POST -H 'Content-Type: application/json' \
    --data '{"topic_name":"rr2","partitions_count":1,"replication_factor":1,"configs":[{"name":"min.insync.replicas","value":"1"}]}' \
    "$base/v3/clusters/$cid/topics"
for n in 1 2 3; do
    wait_for 20 "broker $n knows rr2" bash -c "kcat -L -b 127.0.0.1:${GN_CLUSTER_PORTS}0$n -m 2 | grep -A1 'topic \"rr2\"' | grep -q 'leader [123]'"
done
L2=$(kcat -L -b "127.0.0.1:${GN_CLUSTER_PORTS}01" -m 2 | grep -A1 'topic "rr2"' | sed -n 's/.*partition 0, leader \([0-9-]*\),.*/\1/p')
C=1
[[ $L2 == 1 ]] && C=2
kcat -P -b "127.0.0.1:${GN_CLUSTER_PORTS}0$L2" -t rr2 -p 0 -l -X acks=1 -X linger.ms=5 \
    -X batch.num.messages=10000 -X queue.buffering.max.messages=1000000 "$WORK/in.txt" ||
    fail "produce rr2 failed"
copy_end2() {
    curl -s "http://127.0.0.1:$(http_port "$C")/metrics" |
        sed -n 's/^ganglion_partition_log_end_offset{topic="rr2",partition="0"} \([0-9]*\).*/\1/p'
}
t0=$(date +%s.%N)
curl -s -m 1 "http://127.0.0.1:$(http_port "$C")/topics/rr2/events?from=latest" >/dev/null 2>&1 || true
until [[ $(copy_end2) == "$N" ]]; do sleep 0.05; done
t1=$(date +%s.%N)
t_copy=$(echo "$t1 - $t0" | bc)
echo "copy on $C of rr2 (fetch stream alone, $N records from $L2): $t_copy s, $(rate "$t_copy") records/s"
echo "$(uptime)"
stop_all
