#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Consumer lag of partitions the group's coordinator holds no replica of: three brokers, a
# 6-partition topic with replication factor 1 (each broker leads two partitions, alone),
# 10+p records on partition p read and committed by a kcat group member, then p+1 more.
# Every broker's REST v3 .../lags answers, per partition, committed 10+p, log end 11+2p and
# lag p+1 (before, the coordinator reported -1 for the four partitions it did not hold),
# and .../lag-summary and the group list the total 21; the coordinator's /metrics has
# ganglion_consumer_group_lag p+1 for each partition. Through the Kafka protocol, as
# kafka-consumer-groups computes it: ListOffsets latest (both isolation levels) answers
# the end from each partition's leader and NOT_LEADER_OR_FOLLOWER from the other brokers,
# kcat -Q through a non-leader follows to the leader, and OffsetFetch at the coordinator
# has the commits. Last a partition leader that is not the coordinator is paused
# (SIGSTOP; brokers fenced after 15 s here): while the image still names it the lag views
# answer 503/504 instead of a lag they cannot know (/metrics answers without those
# samples); once it is fenced its partitions have no leader and show -1, the others stay
# exact; resumed, every lag is exact again. Ports GN_CLUSTER_PORTS (default 29600-29649);
# about a minute and a half.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
for tool in kcat curl jq python3; do
    command -v "$tool" >/dev/null || { echo "SKIP: $tool not installed"; exit 0; }
done
HERE="$(cd "$(dirname "$0")" && pwd)"
T=gl
G=gl-lag
P=6

for n in 1 2 3; do
    # a paused broker stays in the image (not fenced) 15 s: long enough to ask it in vain
    start_broker "$n" --gateways --group.initial.rebalance.delay.ms=0 --broker.session.timeout.ms=15000
done
wait_for 20 "three brokers registered" brokers_in_metadata 3
create() {
    [[ $(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
        --data "{\"topic_name\":\"$T\",\"partitions_count\":$P,\"replication_factor\":1}" \
        "http://127.0.0.1:$(http_port 1)/v3/clusters/ganglion/topics") == 201 ]]
}
wait_for 30 "topic $T created with replication factor 1" create
leaders() { kcat -L -b "$(bootstrap)" -t $T -m 2 2>/dev/null | sed -n 's/.*partition \([0-9]*\), leader \([123]\),.*/\1 \2/p' | sort -n; }
L=""
for ((i = 0; i < 100; i++)); do # a metadata request can come back empty while the topic forms
    L=$(leaders)
    [[ $(grep -c . <<<"$L") == "$P" ]] && break
    sleep 0.2
done
[[ $(grep -c . <<<"$L") == "$P" ]] || fail "$P partitions with a leader: '$L'"
declare -A LEADER=()
while read -r p l; do LEADER[$p]=$l; done <<<"$L"
echo "leaders: $(for p in $(seq 0 $((P - 1))); do printf '%s:%s ' "$p" "${LEADER[$p]}"; done)"

for p in $(seq 0 $((P - 1))); do
    seq 1 $((10 + p)) | kcat -P -b "$(bootstrap)" -t $T -p "$p" -X topic.request.required.acks=1 -X message.timeout.ms=10000 ||
        fail "produce to partition $p"
done
coordinator() { python3 "$HERE/group_probe.py" "127.0.0.1:${GN_CLUSTER_PORTS}01" "$1" | sed -n 's/^coordinator=\([0-9]*\).*/\1/p'; }
wait_for 30 "FindCoordinator answers (__consumer_offsets created)" coordinator $G
C=$(coordinator $G)
[[ $C =~ ^[123]$ ]] || fail "no coordinator for $G: '$C'"
missing=0
for p in $(seq 0 $((P - 1))); do [[ ${LEADER[$p]} != "$C" ]] && missing=$((missing + 1)); done
((missing > 0)) || fail "coordinator $C holds every partition: the test needs one it does not"
echo "group $G: coordinator $C, which holds no replica of $missing of $P partitions"

# a member that reads everything and commits on close (-e)
timeout 60 kcat -C -b "$(bootstrap)" -G $G -e -X auto.offset.reset=earliest \
    -X session.timeout.ms=6000 $T >"$WORK/member.out" 2>"$WORK/member.err" ||
    fail "kcat member: $(tail -3 "$WORK/member.err")"
read_n=$(wc -l <"$WORK/member.out")
((read_n == 75)) || fail "the member read $read_n records, not 75"
for p in $(seq 0 $((P - 1))); do
    seq 1 $((p + 1)) | kcat -P -b "$(bootstrap)" -t $T -p "$p" -X topic.request.required.acks=1 -X message.timeout.ms=10000 ||
        fail "produce to partition $p"
done

# expected per partition: committed 10+p, end 11+2p, lag p+1; total 21, max 6
want=$(for p in $(seq 0 $((P - 1))); do echo "$p $((10 + p)) $((11 + 2 * p)) $((p + 1))"; done)
v3() { curl -s --max-time 15 "http://127.0.0.1:$(http_port "$1")/v3/clusters/ganglion/consumer-groups$2"; }
code() { curl -s -o /dev/null -w '%{http_code}' --max-time 15 "http://127.0.0.1:$(http_port "$1")/v3/clusters/ganglion/consumer-groups$2"; }
lags_of() { v3 "$1" "/$G/lags" | jq -r '(.data // []) | sort_by(.partition_id)[] | "\(.partition_id) \(.current_offset) \(.log_end_offset) \(.lag)"'; }
exact() { # N: broker N's lag views are exactly the expected ones
    [[ $(lags_of "$1") == "$want" ]] || return 1
    [[ $(v3 "$1" "/$G/lag-summary" | jq -r '"\(.total_lag) \(.max_lag) \(.max_lag_partition_id)"') == "21 6 5" ]] || return 1
    [[ $(v3 "$1" "" | tee "$WORK/list.json" | jq -r --arg g $G '(.data // [])[] | select(.consumer_group_id == $g) | .total_lag') == 21 ]]
}
# (a broker whose coordinator the list's first "view" call creates answers loading a moment)
exact_within() { # SECONDS N
    local end=$((SECONDS + $1))
    until exact "$2"; do
        ((SECONDS < end)) || return 1
        sleep 0.2
    done
}
lags_within() { # SECONDS N WANT: broker N's lags become WANT
    local end=$((SECONDS + $1))
    until [[ $(lags_of "$2") == "$3" ]]; do
        ((SECONDS < end)) || return 1
        sleep 0.2
    done
}
for n in 1 2 3; do
    exact_within 10 "$n" || fail "broker $n: lags (partition committed end lag) are
$(lags_of "$n")
not
$want
lag-summary: $(v3 "$n" "/$G/lag-summary")
list: $(cat "$WORK/list.json")"
done
# /metrics is per broker: the coordinator's has the group, with the leaders' ends too
metric_lags() { # N: "partition lag" lines of broker N's ganglion_consumer_group_lag for $G
    curl -s --max-time 15 "http://127.0.0.1:$(http_port "$1")/metrics" |
        sed -n "s/^ganglion_consumer_group_lag{group=\"$G\",topic=\"$T\",partition=\"\([0-9]*\)\"} \([0-9-]*\)$/\1 \2/p" | sort -n
}
want_metrics=$(for p in $(seq 0 $((P - 1))); do echo "$p $((p + 1))"; done)
[[ $(metric_lags "$C") == "$want_metrics" ]] || fail "broker $C's /metrics lags: $(metric_lags "$C")"
echo "every broker's REST v3 lags, lag-summary and group list are exact, and /metrics at $C"

# Kafka's view: ListOffsets at the leader only, OffsetFetch at the coordinator
for n in 1 2 3; do
    out=$(python3 "$HERE/list_offsets.py" "127.0.0.1:${GN_CLUSTER_PORTS}0$n" $T $P) || fail "ListOffsets at broker $n"
    for p in $(seq 0 $((P - 1))); do
        for iso in 0 1; do
            if [[ ${LEADER[$p]} == "$n" ]]; then
                expect="error=0 offset=$((11 + 2 * p))"
            else
                expect="error=6 offset=-1"
            fi
            grep -qx "partition=$p isolation=$iso $expect" <<<"$out" ||
                fail "broker $n: ListOffsets of partition $p (isolation $iso) is not '$expect': $out"
        done
    done
done
committed=$(python3 "$HERE/group_view.py" "127.0.0.1:${GN_CLUSTER_PORTS}0$C" $G $T $P | sed -n 's/^offset partition=\([0-9]*\) offset=\([0-9-]*\) error=0$/\1 \2/p')
for p in $(seq 0 $((P - 1))); do
    grep -qx "$p $((10 + p))" <<<"$committed" || fail "OffsetFetch at $C: partition $p: $committed"
    other=$((LEADER[$p] % 3 + 1)) # a broker that does not lead p: librdkafka moves to the leader
    end=$(kcat -Q -b "127.0.0.1:${GN_CLUSTER_PORTS}0$other" -t "$T:$p:-1" | sed -n "s/^$T \[$p\] offset \([0-9-]*\)$/\1/p")
    [[ $end == $((11 + 2 * p)) ]] || fail "kcat -Q through broker $other: partition $p ends at '$end'"
done
echo "Kafka protocol: ListOffsets from the leaders only (NOT_LEADER_OR_FOLLOWER elsewhere), OffsetFetch: lag p+1"

# a leader that cannot be reached: an error, not a lag made up. Not the controller: a
# paused controller loses the quorum's leadership, and the next one fences it within ~2 s
# (its grace for the previous controller), not after the 15 s session this step needs.
K=$(controller_id)
X=""
for p in $(seq 0 $((P - 1))); do
    [[ ${LEADER[$p]} != "$C" && ${LEADER[$p]} != "$K" ]] && X=${LEADER[$p]} && break
done
[[ -n $X ]] || fail "every partition is led by the coordinator $C or the controller $K"
Y=$((6 - C - X))
kill -STOP "${PIDS[$X]}"
seen=""
for n in $C $Y; do
    for path in "/$G/lags" "/$G/lag-summary"; do
        c=$(code "$n" "$path")
        [[ $c == 503 || $c == 504 ]] || fail "broker $n with leader $X paused: $path answers $c: $(v3 "$n" "$path")"
        seen="$seen $c"
    done
done
echo "leader $X paused: brokers $C and $Y answer$seen"
# /metrics still answers, without the lag samples it cannot know (no replica at $C)
want_paused=$(for p in $(seq 0 $((P - 1))); do if [[ ${LEADER[$p]} != "$X" ]]; then echo "$p $((p + 1))"; fi; done)
[[ $(metric_lags "$C") == "$want_paused" ]] || fail "broker $C's /metrics lags with $X paused: $(metric_lags "$C")"
# once it is fenced its partitions have no leader at all: their end is unknown (-1, as a
# partition nobody can answer for), the others' lags are exact
want_off=$(for p in $(seq 0 $((P - 1))); do
    if [[ ${LEADER[$p]} == "$X" ]]; then echo "$p $((10 + p)) -1 -1"; else echo "$p $((10 + p)) $((11 + 2 * p)) $((p + 1))"; fi
done)
for n in $C $Y; do
    lags_within 40 "$n" "$want_off" || fail "broker $n: lags 40 s after broker $X paused:
$(lags_of "$n")
not
$want_off"
done
echo "broker $X fenced: its partitions' lag is -1 (no leader), the others exact"
kill -CONT "${PIDS[$X]}"
for n in 1 2 3; do
    exact_within 30 "$n" || fail "broker $n's lags not exact 30 s after broker $X resumed: $(lags_of "$n")"
done
echo "broker $X resumed: exact lags again"
stop_all # a clean stop: leak reports in sanitizer builds
check_logs
echo PASS
