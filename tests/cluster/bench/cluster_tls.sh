#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The cost of TLS between brokers (cluster.tls.*): acks=all throughput of three brokers,
# replication factor 3 (min.insync.replicas 2), with plain TCP between them and with TLS
# (mutual certificates, EC P-256), in alternating rounds on a fresh cluster each; N
# records of 100 B through one kcat producer (as acks_all.sh), clients plain in both.
# Also the CPU time the three brokers used (user + system, start-up included): steadier
# than the wall clock on a shared machine. Prints; asserts nothing. Ports as lib.bash
# (GN_CLUSTER_PORTS).
# usage: GN_BUILD_DIR=build [GN_REPS=3] tests/cluster/bench/cluster_tls.sh [N]
set -euo pipefail
source "$(dirname "$0")/../lib.bash"
N=${1:-500000}
REPS=${GN_REPS:-3}
seq -f '%0100.0f' 1 "$N" >"$WORK/in.txt" # N distinct 100-byte records
(
    cd "$WORK"
    openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout ca.key -out ca.pem -days 2 -subj "/CN=bench CA" 2>/dev/null
    for n in 1 2 3; do
        openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
            -keyout "b$n.key" -out "b$n.csr" -subj "/CN=broker-$n" 2>/dev/null
        openssl x509 -req -in "b$n.csr" -CA ca.pem -CAkey ca.key -CAcreateserial \
            -out "b$n.pem" -days 2 2>/dev/null
    done
) || fail "making certificates"

produce() { # bootstrap topic -> seconds
    local t0 t1
    t0=$(date +%s.%N)
    kcat -P -b "$1" -t "$2" -l -X acks=all -X linger.ms=5 -X batch.num.messages=10000 \
        -X queue.buffering.max.messages=1000000 "$WORK/in.txt" || fail "produce failed"
    t1=$(date +%s.%N)
    echo "$t1 - $t0" | bc
}

cpu() { # the brokers' CPU seconds so far
    local n ticks=0
    for n in "${!PIDS[@]}"; do
        ticks=$((ticks + $(awk '{print $14 + $15}' "/proc/${PIDS[$n]}/stat")))
    done
    echo "$ticks / $(getconf CLK_TCK)" | bc -l
}

round() { # plain|tls round: sets R_SECS and R_CPU (in this shell: its brokers are ours)
    local n flags=()
    rm -rf "$WORK"/d[123]
    for n in 1 2 3; do
        [[ $1 == tls ]] && flags=(--cluster.tls.enabled=true --cluster.tls.cert.file="$WORK/b$n.pem"
            --cluster.tls.key.file="$WORK/b$n.key" --cluster.tls.ca.file="$WORK/ca.pem")
        start_broker "$n" "${flags[@]}"
    done
    wait_for 20 "three brokers" brokers_in_metadata 3
    wait_for 20 "ISR of three" isr_full "t$2"
    echo warm | kcat -P -b "$(bootstrap)" -t "t$2" -X acks=all
    R_SECS=$(produce "$(bootstrap)" "t$2")
    R_CPU=$(cpu)
    stop_all
}

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR + 1) / 2)]}'; }
ratios=() cpus=()
for r in $(seq 1 "$REPS"); do
    round plain "$r"
    sp=$R_SECS cp=$R_CPU
    round tls "$r"
    st=$R_SECS ct=$R_CPU
    ratios+=("$(echo "$sp / $st" | bc -l)")
    cpus+=("$(echo "$ct / $cp" | bc -l)")
    printf 'round %d: plain %5.2f s %8.0f rec/s cpu %5.2f s | TLS %5.2f s %8.0f rec/s cpu %5.2f s | throughput TLS/plain %.2f, cpu TLS/plain %.2f\n' \
        "$r" "$sp" "$(echo "$N / $sp" | bc -l)" "$cp" "$st" "$(echo "$N / $st" | bc -l)" "$ct" \
        "${ratios[-1]}" "${cpus[-1]}"
done
printf 'acks=all, RF=3, %d records of 100 B, median of %d rounds: throughput TLS/plain %.2f, brokers cpu TLS/plain %.2f\n' \
    "$N" "$REPS" "$(printf '%s\n' "${ratios[@]}" | median)" "$(printf '%s\n' "${cpus[@]}" | median)"
