#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# acks=all latency of three brokers (replication factor 3, min.insync.replicas 2) beside
# one broker (replication factor 1), in the same run: kafka_failover_probe (an idempotent
# librdkafka producer, acks=all, linger.ms=0) sends a small record to partition 0 every
# EVERY_MS for SECONDS, in ROUNDS alternating rounds; the latency of a record is
# produce() to its delivery report. Prints p50/p99/p99.9 and the rate per target (first
# second of each round left out). Asserts nothing. Ports GN_CLUSTER_PORTS (lib.bash).
# usage: GN_BUILD_DIR=build tests/cluster/bench/ack_latency.sh [SECONDS] [EVERY_MS] [ROUNDS]
set -euo pipefail
source "$(dirname "$0")/../lib.bash"
SECS=${1:-10} EVERY=${2:-1} ROUNDS=${3:-3}
PROBE="$BUILD/tests/kafka_failover_probe"
[[ -x $PROBE ]] || fail "$PROBE not built (GN_BENCH=ON)"

"$GANGLION" --node.id=1 --data.dir="$WORK/single" --kafka.host=127.0.0.1 --kafka.port=${GN_CLUSTER_PORTS}09 \
    --mqtt.port=0 --http.port=0 >"$WORK/single.log" 2>&1 &
SINGLE=$!
for n in 1 2 3; do start_broker "$n"; done
wait_for 20 "three brokers" brokers_in_metadata 3
echo warm | kcat -P -b 127.0.0.1:${GN_CLUSTER_PORTS}09 -t lat1 -X acks=all
wait_for 20 "ISR of three" bash -c "[[ \"\$(kcat -L -b '$(bootstrap)' -t lat3 -m 2 | grep -o 'isrs: .*')\" =~ ^isrs:\ [0-9],[0-9],[0-9]$ ]]"
echo warm | kcat -P -b "$(bootstrap)" -t lat3 -X acks=all

run() { # target-name bootstrap topic round
    "$PROBE" "$2" "$3" --seconds "$SECS" --every-ms "$EVERY" >"$WORK/$1-$4.txt" 2>"$WORK/$1-$4.err"
    # the first second is connection set-up and metadata
    awk 'NR == 1 {t0 = $1} $1 - t0 >= 1000 && $3 == "ok" {print $4}' "$WORK/$1-$4.txt" >>"$WORK/$1.lat"
    awk '$3 != "ok"' "$WORK/$1-$4.txt" >>"$WORK/$1.failed"
}
: >"$WORK/one.failed"
: >"$WORK/three.failed"
for r in $(seq 1 "$ROUNDS"); do
    if ((r % 2)); then
        run one 127.0.0.1:${GN_CLUSTER_PORTS}09 lat1 "$r"
        run three "$(bootstrap)" lat3 "$r"
    else
        run three "$(bootstrap)" lat3 "$r"
        run one 127.0.0.1:${GN_CLUSTER_PORTS}09 lat1 "$r"
    fi
done
kill -TERM $SINGLE
wait $SINGLE || true

pct() { sort -g "$1" | awk -v p="$2" '{a[NR]=$1} END {i = int(NR * p / 100 + 0.999); if (i < 1) i = 1; printf "%.2f", a[i]}'; }
report() { # name label
    local n
    n=$(wc -l <"$WORK/$1.lat")
    printf '%-28s %8d acks %7.0f rec/s   p50 %6s ms   p99 %6s ms   p99.9 %6s ms   failed %d\n' "$2" "$n" \
        "$(echo "$n / ($ROUNDS * ($SECS - 1))" | bc -l)" "$(pct "$WORK/$1.lat" 50)" \
        "$(pct "$WORK/$1.lat" 99)" "$(pct "$WORK/$1.lat" 99.9)" "$(wc -l <"$WORK/$1.failed")"
}
echo "acks=all latency, linger.ms=0, a record every ${EVERY} ms (poll-paced), $ROUNDS rounds of $SECS s, load $(cut -d' ' -f1-3 /proc/loadavg)"
report one "1 broker, RF=1"
report three "3 brokers, RF=3, min.isr 2"
