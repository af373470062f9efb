#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Rough cluster benchmark with kcat (no latency percentiles: kcat gives none): acks=all
# throughput of 1 broker (replication factor 1) against 3 brokers (replication factor 3,
# min.insync.replicas 2) on loopback, N records of 100 B through one producer, and the
# failover time with the default timeouts (SIGKILL of the partition leader until the
# first acks=all success on another broker, as kafka_failover_probe sees it), once with
# the controller alive and once with the leader being the controller. Prints; asserts
# nothing. Ports 29600-29629 (GN_CLUSTER_PORTS, see lib.bash). GN_KEEP_LOGS=DIR keeps the
# failover brokers' logs and the probe's delivery reports.
# usage: GN_BUILD_DIR=build [GN_REPS=3] [GN_NO_FAILOVER=1] tests/cluster/bench/acks_all.sh [N]
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

# one broker (replication factor 1) beside three (replication factor 3), both up; REPS
# rounds, each a fresh topic on either, one after the other; the ratio per round
"$GANGLION" --node.id=1 --data.dir="$WORK/single" --kafka.host=127.0.0.1 --kafka.port=${GN_CLUSTER_PORTS}09 \
    --mqtt.port=0 --http.port=0 >"$WORK/single.log" 2>&1 &
SINGLE=$!
for n in 1 2 3; do start_broker "$n"; done
wait_for 20 "three brokers" brokers_in_metadata 3
REPS=${GN_REPS:-3}
ratios=()
for r in $(seq 1 "$REPS"); do
    echo warm | kcat -P -b 127.0.0.1:${GN_CLUSTER_PORTS}09 -t "one$r" -X acks=all
    wait_for 20 "ISR of three" bash -c "[[ \"\$(kcat -L -b '$(bootstrap)' -t three$r -m 2 | grep -o 'isrs: .*')\" =~ ^isrs:\ [0-9],[0-9],[0-9]$ ]]"
    echo warm | kcat -P -b "$(bootstrap)" -t "three$r" -X acks=all
    s1=$(produce 127.0.0.1:${GN_CLUSTER_PORTS}09 "one$r")
    s3=$(produce "$(bootstrap)" "three$r")
    ratios+=("$(echo "$s1 / $s3" | bc -l)")
    printf 'round %d: 1 broker RF=1 %6.2f s %9.0f rec/s | 3 brokers RF=3 %6.2f s %9.0f rec/s | ratio %.2f\n' \
        "$r" "$s1" "$(echo "$N / $s1" | bc -l)" "$s3" "$(echo "$N / $s3" | bc -l)" "${ratios[-1]}"
done
kill -TERM $SINGLE
wait $SINGLE || true
stop_all
median=$(printf '%s\n' "${ratios[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR + 1) / 2)]}')

# failover, twice on a fresh cluster with the default timeouts: the partition leader is
# not the controller, then it is (a Raft election first). The probe (an idempotent
# librdkafka producer, acks=all, a record every 5 ms) prints each delivery report; the
# failover time is from the SIGKILL to the first success acknowledged by another broker.
PROBE="$BUILD/tests/kafka_failover_probe"
[[ -x $PROBE ]] || fail "$PROBE not built (GN_BENCH=ON)"
controller_id() { kcat -L -b "$(bootstrap)" -m 2 2>/dev/null | sed -n 's/.*broker \([0-9]*\) at .*(controller).*/\1/p'; }
failover() { # follower|controller: sets FO_SECS, FO_FAILS (broker logs in $WORK/failover-$1)
    local want=$1 topic="" t l c i
    rm -rf "$WORK"/d[123]
    for n in 1 2 3; do start_broker "$n"; done
    wait_for 20 "three brokers" brokers_in_metadata 3
    c=$(controller_id)
    for i in $(seq 1 20); do # a topic led by (or not by) the controller
        t="fo$want$i"
        wait_for 20 "ISR of three on $t" bash -c "[[ \"\$(kcat -L -b '$(bootstrap)' -t $t -m 2 | grep -o 'isrs: .*')\" =~ ^isrs:\ [0-9],[0-9],[0-9]$ ]]"
        l=$(leader_of "$t")
        if [[ $want == controller && $l == "$c" ]] || [[ $want == follower && $l != "$c" ]]; then
            topic=$t
            break
        fi
    done
    [[ -n $topic ]] || fail "no topic led by the wanted broker (controller $c, last leader $l)"
    GN_PROBE_DEBUG=${GN_PROBE_DEBUG:-} "$PROBE" "$(bootstrap)" "$topic" --seconds 14 >"$WORK/probe-$want.txt" 2>"$WORK/probe-$want.err" &
    local probe=$!
    sleep 2
    local t0
    t0=$(date +%s%3N)
    kill9 "$l"
    wait $probe || true
    stop_all
    mkdir -p "$WORK/failover-$want"
    mv "$WORK"/b*.log "$WORK/failover-$want/"
    FO_SECS=$(awk -v t0="$t0" -v old="$l" '$1 > t0 && $2 != old && $3 == "ok" { print ($1 - t0) / 1000; exit }' "$WORK/probe-$want.txt")
    FO_FAILS=$(awk '$3 != "ok"' "$WORK/probe-$want.txt" | wc -l)
}
fo1=- fo2=- fail1=- fail2=-
if [[ -z ${GN_NO_FAILOVER:-} ]]; then
    failover follower
    fo1=$FO_SECS fail1=$FO_FAILS
    failover controller
    fo2=$FO_SECS fail2=$FO_FAILS
fi

printf 'acks=all, %d records of 100 B, one kcat producer (linger.ms=5): median ratio of %d rounds %.2f\n' \
    "$N" "$REPS" "$median"
printf 'failover (SIGKILL of the leader until the first acks=all success on another broker, default timeouts):\n'
printf '  leader not the controller: %s s (%s failed deliveries)\n' "${fo1:-none}" "$fail1"
printf '  leader was the controller: %s s (%s failed deliveries)\n' "${fo2:-none}" "$fail2"
[[ -z ${GN_KEEP_LOGS:-} ]] || { cp -r "$WORK"/failover-* "$WORK"/probe-* "$GN_KEEP_LOGS"/; }
