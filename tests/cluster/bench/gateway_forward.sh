#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Rough benchmark of produce forwarding (core/replica/forward.c): three brokers
# (replication factor 3, min.insync.replicas 2), one topic of one partition led by L.
# PUBS MQTT.js connections at once (mqtt_qos1_rate.mjs: MQTT 5, QoS 1, so acks=all, up to
# WINDOW PUBACKs outstanding each, 64 = the broker's receive maximum) publish N messages
# of 100 B in all, to L itself (direct), then to a broker that forwards them to L, in
# ROUNDS alternating rounds; prints each round's rates and the median ratio
# forwarded/direct. Asserts nothing. Ports GN_CLUSTER_PORTS (lib.bash). (mosquitto_pub
# -l, used before, drops the messages still queued at EOF once the broker is fast.)
# usage: GN_BUILD_DIR=build [WINDOW=64] tests/cluster/bench/gateway_forward.sh [N] [PUBS] [ROUNDS]
set -euo pipefail
source "$(dirname "$0")/../lib.bash"
N=${1:-100000} PUBS=${2:-2} ROUNDS=${3:-3} WINDOW=${WINDOW:-64}
per=$((N / PUBS))

for n in 1 2 3; do start_broker "$n" --gateways --num.partitions=1; done
wait_for 20 "three brokers registered" brokers_in_metadata 3
wait_for 20 "topic bq with an ISR of three" isr_full bq
L=$(leader_of bq)
F=1
[[ $L == 1 ]] && F=2
for n in 1 2 3; do
    wait_for 20 "broker $n knows bq" bash -c "kcat -L -b 127.0.0.1:${GN_CLUSTER_PORTS}0$n -t bq -m 2 | grep -q 'partition 0, leader [123]'"
done
for n in "$L" "$F"; do # MQTT sessions need their internal topics: a first publish works
    wait_for 30 "MQTT on broker $n" mosquitto_pub -h 127.0.0.1 -p "$(mqtt_port "$n")" -V mqttv5 -q 1 -t bq/warm -m w
done

# PUBS publishers at once, each per messages; the rate is the sum of theirs
publish() { # broker -> msg/s
    local pids=() i
    for ((i = 0; i < PUBS; i++)); do
        node "$(dirname "$0")/mqtt_qos1_rate.mjs" "mqtt://127.0.0.1:$(mqtt_port "$1")" "bq/k$i" \
            "$per" "$WINDOW" >"$WORK/rate-$i" &
        pids+=($!)
    done
    for i in "${pids[@]}"; do wait "$i" || fail "a publisher to broker $1 failed"; done
    cat "$WORK"/rate-* | paste -sd+ | bc
}
echo "MQTT QoS 1, $((per * PUBS)) x 100 B over $PUBS MQTT.js connection(s), window $WINDOW, leader $L, forwarding $F:"
: >"$WORK/ratios"
for ((r = 1; r <= ROUNDS; r++)); do
    direct=$(publish "$L")
    forwarded=$(publish "$F")
    ratio=$(echo "$forwarded / $direct" | bc -l)
    echo "$ratio" >>"$WORK/ratios"
    printf '  round %d: direct %8.0f msg/s, forwarded %8.0f msg/s (%.2f of direct)\n' "$r" \
        "$direct" "$forwarded" "$ratio"
done
printf '  median ratio forwarded/direct: %.2f\n' "$(sort -g "$WORK/ratios" | sed -n "$(((ROUNDS + 1) / 2))p")"
stop_all
