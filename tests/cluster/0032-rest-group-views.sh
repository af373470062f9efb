#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# REST v3 consumer-group views are the cluster's, whichever broker answers: three brokers
# with their HTTP listeners, a 3-partition topic, and groups rv-0, rv-1, ... (kcat members
# that read 30 records and commit) until at least two brokers coordinate some of them.
# Then every broker's GET /v3/clusters/ganglion/consumer-groups lists every group with its
# real coordinator (FindCoordinator, group_probe.py), and every broker answers each group's
# GET, consumers and lag-summary (10 records produced after the commits: total_lag 10)
# from its coordinator — a group coordinated elsewhere is not a 404. Last a coordinating
# broker is killed: once its groups have moved, the survivors list every group again.
# Ports 29600-29649 (GN_CLUSTER_PORTS); bounded to about a minute and a half.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
for tool in kcat curl jq python3; do
    command -v "$tool" >/dev/null || { echo "SKIP: $tool not installed"; exit 0; }
done
HERE="$(cd "$(dirname "$0")" && pwd)"
T=rv

for n in 1 2 3; do
    start_broker "$n" --gateways --num.partitions=3 --group.initial.rebalance.delay.ms=0
done
wait_for 20 "three brokers registered" brokers_in_metadata 3
# replicated on every broker (0036 covers partitions the coordinator holds no replica
# of); created through REST v3 once the three are live
create() {
    [[ $(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
        --data "{\"topic_name\":\"$T\",\"partitions_count\":3,\"replication_factor\":3}" \
        "http://127.0.0.1:$(http_port 1)/v3/clusters/ganglion/topics") == 201 ]]
}
wait_for 30 "topic $T created with replication factor 3" create
wait_for 20 "topic $T: 3 partitions with an ISR of three" bash -c \
    "[[ \"\$(kcat -L -b '$(bootstrap)' -t $T -m 2 | grep -c 'isrs: [0-9],[0-9],[0-9]$')\" == 3 ]]"
seq 1 30 | kcat -P -b "$(bootstrap)" -t $T -k k -X topic.request.required.acks=-1 || fail "produce"
coordinator() { python3 "$HERE/group_probe.py" "127.0.0.1:${GN_CLUSTER_PORTS}01" "$1" | sed -n 's/^coordinator=\([0-9]*\).*/\1/p'; }
wait_for 30 "FindCoordinator answers (__consumer_offsets created)" coordinator rv-probe

# groups until two brokers coordinate some (at most 12)
declare -A COORD=()
GROUPS_=()
for i in $(seq 0 11); do
    c=$(coordinator "rv-$i")
    [[ $c =~ ^[123]$ ]] || fail "no coordinator for rv-$i: '$c'"
    COORD[rv-$i]=$c
    GROUPS_+=("rv-$i")
    distinct=$(printf '%s\n' "${COORD[@]}" | sort -u | wc -l)
    ((${#GROUPS_[@]} >= 3 && distinct >= 2)) && break
done
((distinct >= 2)) || fail "every group coordinated by one broker: ${COORD[*]}"
for g in "${GROUPS_[@]}"; do echo "group $g: coordinator ${COORD[$g]}"; done

MEMBERS=()
for g in "${GROUPS_[@]}"; do # members that read everything and commit on close (-e)
    timeout 60 kcat -C -b "127.0.0.1:${GN_CLUSTER_PORTS}0${COORD[$g]}" -G "$g" -e \
        -X auto.offset.reset=earliest -X session.timeout.ms=6000 $T >"$WORK/$g.out" 2>"$WORK/$g.err" &
    MEMBERS+=($!)
done
for i in "${!MEMBERS[@]}"; do
    wait "${MEMBERS[$i]}" || fail "kcat member of ${GROUPS_[$i]}: $(tail -3 "$WORK/${GROUPS_[$i]}.err")"
    [[ $(wc -l <"$WORK/${GROUPS_[$i]}.out") -ge 30 ]] || fail "${GROUPS_[$i]} read $(wc -l <"$WORK/${GROUPS_[$i]}.out") records"
done
seq 1 10 | kcat -P -b "$(bootstrap)" -t $T -k k -X topic.request.required.acks=-1 # the partition the groups committed

v3() { curl -s --max-time 10 "http://127.0.0.1:$(http_port "$1")/v3/clusters/ganglion/consumer-groups$2"; }
code() { curl -s -o /dev/null -w '%{http_code}' --max-time 10 "http://127.0.0.1:$(http_port "$1")/v3/clusters/ganglion/consumer-groups$2"; }
# lists_all N [BROKERS...]: broker N lists every group, each with its coordinator
lists_all() {
    local list g want
    list=$(v3 "$1" "") || return 1
    for g in "${GROUPS_[@]}"; do
        want=${COORD[$g]}
        [[ $(jq -r --arg g "$g" '.data[] | select(.consumer_group_id == $g) | .coordinator.related' <<<"$list") == */brokers/$want ]] || return 1
    done
}
lag_is_10() { # N GROUP: broker N reports GROUP's total lag as 10 (within 10 s)
    local i lags
    for ((i = 0; i < 50; i++)); do
        [[ $(v3 "$1" "/$2/lag-summary" | jq -r .total_lag) == 10 ]] && return 0
        sleep 0.2
    done
    lags=$(v3 "$1" "/$2/lags" | jq -c '[.data[] | {partition_id, current_offset, log_end_offset, lag}]')
    fail "broker $1: $2's total lag is not 10: $lags (committed by its member: $(tail -2 "$WORK/$2.err" | tr '\n' ' '))"
}
for n in 1 2 3; do
    lists_all "$n" || fail "broker $n does not list every group with its coordinator: $(v3 "$n" "")"
    for g in "${GROUPS_[@]}"; do
        [[ $(code "$n" "/$g") == 200 ]] || fail "broker $n: GET $g answers $(code "$n" "/$g")"
        [[ $(v3 "$n" "/$g" | jq -r .state) == EMPTY ]] || fail "broker $n: $g: $(v3 "$n" "/$g")"
        [[ $(code "$n" "/$g/consumers") == 200 ]] || fail "broker $n: $g consumers: $(code "$n" "/$g/consumers")"
        lag_is_10 "$n" "$g"
    done
    [[ $(code "$n" "/rv-none") == 404 ]] || fail "broker $n: an unknown group answers $(code "$n" "/rv-none")"
done
echo "every broker lists ${#GROUPS_[@]} groups with their coordinators and lag"

# a coordinating broker dies: its groups move, the survivors list every group again
K=${COORD[${GROUPS_[0]}]}
kill9 "$K"
S=1
[[ $K == 1 ]] && S=2
for g in "${GROUPS_[@]}"; do
    wait_for 30 "$g has a live coordinator" bash -c "c=\$(python3 '$HERE/group_probe.py' 127.0.0.1:${GN_CLUSTER_PORTS}0$S $g | sed -n 's/^coordinator=\([0-9]*\).*/\1/p'); [[ \$c =~ ^[123]$ && \$c != $K ]]"
    COORD[$g]=$(python3 "$HERE/group_probe.py" "127.0.0.1:${GN_CLUSTER_PORTS}0$S" "$g" | sed -n 's/^coordinator=\([0-9]*\).*/\1/p')
done
wait_for 30 "broker $S lists every group after broker $K died" lists_all "$S"
lag_is_10 "$S" "${GROUPS_[0]}"
echo "after broker $K died, broker $S lists every group"
check_logs
echo PASS
