#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Rough benchmark of produce forwarding (core/replica/forward.c): three brokers
# (replication factor 3, min.insync.replicas 2), one topic of one partition led by L.
# mosquitto_pub -l (one connection, MQTT 5, QoS 1, so acks=all) publishes N messages of
# 100 B to L itself, then to a broker that forwards them to L; prints both rates and their
# ratio. Asserts nothing. Ports 29600-29649 (GN_CLUSTER_PORTS).
# usage: GN_BUILD_DIR=build tests/cluster/bench/gateway_forward.sh [N]
set -euo pipefail
source "$(dirname "$0")/../lib.bash"
N=${1:-20000}
seq -f '%0100.0f' 1 "$N" >"$WORK/in.txt"

for n in 1 2 3; do start_broker "$n" --gateways --num.partitions=1; done
wait_for 20 "three brokers registered" brokers_in_metadata 3
wait_for 20 "topic bq with an ISR of three" bash -c "[[ \"\$(kcat -L -b '$(bootstrap)' -t bq -m 2 | grep -o 'isrs: .*')\" =~ ^isrs:\ [0-9],[0-9],[0-9]$ ]]"
L=$(leader_of bq)
F=1
[[ $L == 1 ]] && F=2
for n in 1 2 3; do
    wait_for 20 "broker $n knows bq" bash -c "kcat -L -b 127.0.0.1:${GN_CLUSTER_PORTS}0$n -t bq -m 2 | grep -q 'partition 0, leader [123]'"
done

publish() { # broker -> seconds
    local t0 t1
    t0=$(date +%s.%N)
    mosquitto_pub -h 127.0.0.1 -p "$(mqtt_port "$1")" -V mqttv5 -q 1 -t bq/k -l <"$WORK/in.txt" ||
        fail "publish to $1 failed"
    t1=$(date +%s.%N)
    echo "$t1 - $t0" | bc
}
direct=$(publish "$L")
forwarded=$(publish "$F")
echo "MQTT QoS 1, $N x 100 B, one mosquitto_pub -l connection:"
printf '  to the leader (broker %s):           %8.0f msg/s\n' "$L" "$(echo "$N / $direct" | bc -l)"
printf '  to a follower (broker %s, forwarded): %8.0f msg/s (%.2f of direct)\n' "$F" \
    "$(echo "$N / $forwarded" | bc -l)" "$(echo "$direct / $forwarded" | bc -l)"
stop_all
