#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Consumer lag over HTTP: a real Kafka group (`kcat -G`) reads 6 of 20 records of a
# 2-partition topic and commits; a second member then joins without committing. The
# REST v3 consumer-groups endpoints (group, consumers, lags, lag-summary, 404s) and
# /metrics (members, state, committed offset, lag) must show lag = produced - committed.
# Ports 28481 (HTTP), 28494 (Kafka; 28492 is the console test's, which ctest may run beside this one).
set -euo pipefail
source "$(dirname "$0")/lib.bash"
start_broker 28481 --kafka.host=127.0.0.1 --kafka.port=28494 --num.partitions=2 \
    --group.initial.rebalance.delay.ms=0
BROKER=127.0.0.1:28494
V3="$URL/v3/clusters/ganglion"
KCAT_PID=""
trap 'if [[ -n "$KCAT_PID" ]]; then kill -TERM "$KCAT_PID" 2>/dev/null || true; wait "$KCAT_PID" 2>/dev/null || true; fi; cleanup' EXIT

# No group yet (no __consumer_offsets): an empty list, 404 for a group.
expect_eq "empty list" "$(jf "$(c "$V3/consumer-groups")" '.kind + " " + (.data|length|tostring)')" "KafkaConsumerGroupList 0"
expect_eq "unknown group" "$(status GET /v3/clusters/ganglion/consumer-groups/nope)" 404
c "$URL/metrics" | grep -q '^ganglion_consumer_group' && fail "group metrics without groups"

for p in 0 1; do
    seq 1 10 | sed "s/^/v$p-/" | timeout 30 kcat -b "$BROKER" -P -t lagt -p "$p" -X acks=all ||
        fail "kcat produce"
done

# Round 1: read 6 records, commit on close.
timeout 30 kcat -b "$BROKER" -G g-lag -q -u -X session.timeout.ms=6000 \
    -X auto.offset.reset=earliest -c 6 -f '%s\n' lagt >"$WORK/r1" 2>"$WORK/kcat.err" ||
    fail "kcat round 1: $(tail -3 "$WORK/kcat.err")"
[[ $(wc -l <"$WORK/r1") == 6 ]] || fail "round 1 read $(wc -l <"$WORK/r1")"

lags=$(c "$V3/consumer-groups/g-lag/lags")
expect_eq "lags kind" "$(jf "$lags" .kind)" KafkaConsumerLagList
# One row per committed partition (kcat may have read both or one of them).
R=$(jf "$lags" '.data|length')
[[ "$R" == 1 || "$R" == 2 ]] || fail "lag rows: $R"
WANT=$((10 * R - 6))
expect_eq "committed sum" "$(jf "$lags" '[.data[].current_offset]|add')" 6
expect_eq "log end" "$(jf "$lags" '[.data[].log_end_offset|select(. != 10)]|length')" 0
expect_eq "lag = end - committed" "$(jf "$lags" '[.data[]|select(.lag != .log_end_offset - .current_offset)]|length')" 0
expect_eq "total lag" "$(jf "$(c "$V3/consumer-groups/g-lag/lag-summary")" '.total_lag')" "$WANT"
g=$(c "$V3/consumer-groups/g-lag")
expect_eq "empty group" "$(jf "$g" '.kind + " " + .state + " " + (.members_count|tostring)')" "KafkaConsumerGroup EMPTY 0"
jf "$g" .metadata.self | grep -q "^$URL/v3/clusters/ganglion/consumer-groups/g-lag\$" || fail "metadata.self: $(jf "$g" .metadata.self)"

# Round 2: a live member that reads everything but never commits: the lag stays.
timeout 60 kcat -b "$BROKER" -G g-lag -q -u -X session.timeout.ms=6000 -X client.id=lag-test \
    -X enable.auto.commit=false -X enable.auto.offset.store=false -X auto.offset.reset=earliest -f '%s\n' lagt \
    >"$WORK/r2" 2>"$WORK/kcat2.err" &
KCAT_PID=$!
for ((i = 0; i < 150; i++)); do
    [[ "$(jf "$(c "$V3/consumer-groups/g-lag")" .state)" == STABLE ]] && break
    sleep 0.1
done
g=$(c "$V3/consumer-groups/g-lag")
expect_eq "stable group" "$(jf "$g" '.state + " " + (.members_count|tostring) + " " + .partition_assignor')" "STABLE 1 range"
cons=$(c "$V3/consumer-groups/g-lag/consumers")
expect_eq "consumers" "$(jf "$cons" '.kind + " " + (.data|length|tostring)')" "KafkaConsumerList 1"
member=$(jf "$cons" '.data[0].consumer_id')
expect_eq "assigned" "$(jf "$cons" '[.data[0].assigned_partitions[]|.topic_name + ":" + (.partition_id|tostring)]|join(",")')" "lagt:0,lagt:1"
expect_eq "assignments" "$(jf "$(c "$V3/consumer-groups/g-lag/consumers/$member/assignments")" '.data|length')" 2
lags=$(c "$V3/consumer-groups/g-lag/lags")
expect_eq "lag owner" "$(jf "$lags" "[.data[]|select(.consumer_id == \"$member\")]|length")" 2
ls=$(c "$V3/consumer-groups/g-lag/lag-summary")
sum=$(jq -r --arg m "$member" '(.total_lag|tostring) + " " + (.max_lag_consumer_id == $m | tostring)' <<<"$ls")
expect_eq "summary" "$sum" "$WANT true"
list=$(c "$V3/consumer-groups")
expect_eq "list" "$(jf "$list" '[.data[]|.consumer_group_id + " " + .state + " " + (.total_lag|tostring)]|join(",")')" "g-lag STABLE $WANT"

# /metrics: members, state, committed and lag per partition; every line still parses.
m=$(c "$URL/metrics")
grep -q '^ganglion_consumer_group_members{group="g-lag"} 1$' <<<"$m" || fail "members metric"
grep -q '^ganglion_consumer_group_state{group="g-lag",state="Stable"} 1$' <<<"$m" || fail "state metric"
grep -q '^ganglion_consumer_group_state{group="g-lag",state="Empty"} 0$' <<<"$m" || fail "state metric 0"
lsum=$(grep '^ganglion_consumer_group_lag{group="g-lag",topic="lagt",partition="[01]"}' <<<"$m" | awk '{s+=$2} END {print s}')
csum=$(grep '^ganglion_consumer_group_committed_offset{group="g-lag",topic="lagt",partition="[01]"}' <<<"$m" | awk '{s+=$2} END {print s}')
expect_eq "lag metric sum" "$lsum" "$WANT"
expect_eq "committed metric sum" "$csum" 6
bad=$(grep -v '^#' <<<"$m" | grep -Ev '^[a-z_]+(\{[^}]*\})? [-+0-9.e]+$|^[a-z_]+\{le="\+Inf"\} [0-9]+$' || true)
[[ -z "$bad" ]] || fail "unparsable lines: $bad"

# Errors: the v3 error body.
e=$(c "$V3/consumer-groups/nope/lags")
expect_eq "404 body" "$(jf "$e" '.error_code')" 404
expect_eq "404 status" "$(status GET /v3/clusters/ganglion/consumer-groups/nope/lag-summary)" 404
expect_eq "unknown consumer" "$(status GET "/v3/clusters/ganglion/consumer-groups/g-lag/consumers/nobody")" 404
expect_eq "unknown cluster" "$(status GET /v3/clusters/other/consumer-groups)" 404

kill -TERM "$KCAT_PID"
wait "$KCAT_PID" 2>/dev/null || true
KCAT_PID=""
stop_broker
echo ok
