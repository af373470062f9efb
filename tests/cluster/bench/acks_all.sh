#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Rough cluster benchmark with kcat (no latency percentiles: kcat gives none): acks=all
# throughput of 1 broker (replication factor 1) against 3 brokers (replication factor 3,
# min.insync.replicas 2) on loopback, N records of 100 B through one producer, and the
# failover time with the default timeouts (SIGKILL of the partition leader until the
# first acks=all success after it, as kafka_failover_probe sees it): the leader not the
# controller, the leader being the controller, each once staying down and once started
# again at once on its data dir (a supervisor or Docker's restart policy). Prints; asserts
# nothing. Ports 29600-29629 (GN_CLUSTER_PORTS, see lib.bash). GN_KEEP_LOGS=DIR keeps the
# failover brokers' logs and the probe's delivery reports. GN_FO_REPS=R repeats each
# failover R times (the median printed with every run); GN_NO_THROUGHPUT=1 skips the
# throughput rounds, GN_NO_FAILOVER=1 the failovers.
# usage: GN_BUILD_DIR=build [GN_REPS=3] [GN_FO_REPS=1] [GN_NO_FAILOVER=1] [GN_NO_THROUGHPUT=1]
#        tests/cluster/bench/acks_all.sh [N]
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
median=- REPS=${GN_REPS:-3}
if [[ -z ${GN_NO_THROUGHPUT:-} ]]; then
"$GANGLION" --node.id=1 --data.dir="$WORK/single" --kafka.host=127.0.0.1 --kafka.port=${GN_CLUSTER_PORTS}09 \
    --mqtt.port=0 --http.port=0 >"$WORK/single.log" 2>&1 &
SINGLE=$!
for n in 1 2 3; do start_broker "$n"; done
wait_for 20 "three brokers" brokers_in_metadata 3
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
fi

# failover, each on a fresh cluster with the default timeouts: the partition leader is
# not the controller, or it is (a Raft election first); it stays down, or is started again
# at once. The probe (an idempotent librdkafka producer, acks=all, a record every 5 ms)
# prints each delivery report; the failover time is from the SIGKILL to the first success
# acknowledged by another broker, or by the restarted one (its new process: a report
# printed 100 ms or more after its start).
PROBE="$BUILD/tests/kafka_failover_probe"
[[ -x $PROBE ]] || fail "$PROBE not built (GN_BENCH=ON)"
controller_id() { kcat -L -b "$(bootstrap)" -m 2 2>/dev/null | sed -n 's/.*broker \([0-9]*\) at .*(controller).*/\1/p'; }
failover() { # follower|controller [restart]: sets FO_SECS, FO_FAILS, FO_LEADER (logs in $WORK/failover-...)
    local want=$1 restart=${2:-} topic="" t l c i run
    run="$want${restart:+-$restart}-$(date +%s%N)"
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
    GN_PROBE_DEBUG=${GN_PROBE_DEBUG:-} "$PROBE" "$(bootstrap)" "$topic" --seconds 14 >"$WORK/probe-$run.txt" 2>"$WORK/probe-$run.err" &
    local probe=$!
    sleep 2
    local t0 t1=99999999999999
    t0=$(date +%s%3N)
    kill9 "$l"
    if [[ -n $restart ]]; then
        t1=$(date +%s%3N)
        start_broker "$l"
    fi
    wait $probe || true
    FO_LEADER=$(leader_of "$topic")
    stop_all
    mkdir -p "$WORK/failover-$run"
    mv "$WORK"/b*.log "$WORK/failover-$run/"
    FO_SECS=$(awk -v t0="$t0" -v t1="$t1" -v old="$l" '$1 > t0 && ($2 != old || $1 >= t1 + 100) && $3 == "ok" { print ($1 - t0) / 1000; exit }' "$WORK/probe-$run.txt")
    FO_FAILS=$(awk '$3 != "ok"' "$WORK/probe-$run.txt" | wc -l)
    FO_LEADER="$l -> $FO_LEADER"
}
# failovers WANT [restart]: GN_FO_REPS runs; prints each and the median
failovers() {
    local secs=() r line
    line=""
    for r in $(seq 1 "${GN_FO_REPS:-1}"); do
        failover "$@"
        secs+=("${FO_SECS:-none}")
        line="$line ${FO_SECS:-none} s ($FO_FAILS failed, leader $FO_LEADER);"
    done
    printf '%s | median %s s\n' "$line" "$(printf '%s\n' "${secs[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR + 1) / 2)]}')"
}
fo1=- fo2=- fo3=- fo4=-
if [[ -z ${GN_NO_FAILOVER:-} ]]; then
    fo1=$(failovers follower)
    fo2=$(failovers follower restart)
    fo3=$(failovers controller)
    fo4=$(failovers controller restart)
fi

[[ $median == - ]] ||
    printf 'acks=all, %d records of 100 B, one kcat producer (linger.ms=5): median ratio of %d rounds %.2f\n' \
        "$N" "$REPS" "$median"
printf 'failover (SIGKILL of the leader until the first acks=all success after it, default timeouts):\n'
printf '  leader not the controller, stays down:        %s\n' "$fo1"
printf '  leader not the controller, restarted at once: %s\n' "$fo2"
printf '  leader was the controller, stays down:        %s\n' "$fo3"
printf '  leader was the controller, restarted at once: %s\n' "$fo4"
[[ -z ${GN_KEEP_LOGS:-} ]] || { cp -r "$WORK"/failover-* "$WORK"/probe-* "$GN_KEEP_LOGS"/; }
