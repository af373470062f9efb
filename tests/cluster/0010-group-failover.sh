#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Three brokers; a group's coordinator is the leader of its __consumer_offsets partition.
# A librdkafka group consumer (rdkafka_group_failover.c) reads numbered records and
# commits every 100; its coordinator is killed with SIGKILL mid-stream (the consumer is
# frozen meanwhile). The new leader of the partition loads the group: the offsets
# acknowledged before the kill are there (OffsetFetch from another client), the consumer
# goes on to read every record, re-reading at most what it had read and not committed
# (its session may expire while frozen: a rebalance resumes at the committed offsets),
# and its last commit covers every record. FindCoordinator answers the same leader on
# every broker; a group request to another broker answers NOT_COORDINATOR (group_probe.py,
# raw requests). Ports 29600-29629; bounded to about two minutes.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
command -v kcat >/dev/null || { echo "SKIP: kcat not installed"; exit 0; }
BIN="$BUILD/tests/cluster/rdkafka_group_failover"
[[ -x "$BIN" ]] || { echo "SKIP: $BIN not built (librdkafka-dev missing?)"; exit 0; }

GROUP=failover-group
TOPIC=gt
N=3000
EVERY=100

# Kafka's partition for a group: Utils.abs(groupId.hashCode()) % 50 (ASCII ids)
group_partition() {
    local s=$1 h=0 i
    for ((i = 0; i < ${#s}; i++)); do
        h=$(((31 * h + $(printf '%d' "'${s:i:1}")) & 0xffffffff))
    done
    echo $(((h & 0x7fffffff) % 50))
}
P=$(group_partition "$GROUP")

# the leader of __consumer_offsets partition P as every live broker's metadata says
offsets_leader() {
    kcat -L -b "127.0.0.1:${GN_CLUSTER_PORTS}0$1" -t __consumer_offsets -m 2 2>/dev/null |
        sed -n "s/.*partition $P, leader \([0-9-]*\),.*/\1/p"
}

for n in 1 2 3; do start_broker "$n" --num.partitions=3 --group.initial.rebalance.delay.ms=0; done
wait_for 20 "three brokers registered" brokers_in_metadata 3

# the topic (3 partitions, replication factor 3), then N numbered records with acks=all
wait_for 20 "ISR of three" bash -c "[[ \"\$(kcat -L -b '$(bootstrap)' -t $TOPIC -m 2 | grep -c 'isrs: [0-9],[0-9],[0-9]$')\" == 3 ]]"
produce() {
    seq 1 $N | kcat -P -b "$(bootstrap)" -t $TOPIC -X acks=all -X enable.idempotence=true \
        -X message.timeout.ms=10000 >"$WORK/producer.out" 2>&1 && [[ ! -s "$WORK/producer.out" ]]
}
produce || fail "producing $N records: $(head -3 "$WORK/producer.out")"

"$BIN" consume "$(bootstrap)" $GROUP $TOPIC $N $EVERY 3 "$WORK/acked" \
    >"$WORK/consumed.txt" 2>"$WORK/consumer.err" &
CONSUMER=$!
trap 'kill $CONSUMER 2>/dev/null || true; cleanup' EXIT # a failure stops the consumer too
wait_for 60 "1000 records consumed" bash -c "(( \$(wc -l <'$WORK/consumed.txt') >= 1000 ))"

# __consumer_offsets was created through the controller: 50 partitions, replication 3
meta=$(kcat -L -b "$(bootstrap)" -t __consumer_offsets -m 2)
[[ $(grep -c "partition .*, leader" <<<"$meta") == 50 ]] || fail "__consumer_offsets: $meta"
grep -q "partition $P, leader [123], replicas: [123],[123],[123], isrs" <<<"$meta" ||
    fail "partition $P of __consumer_offsets not replicated three ways: $(grep "partition $P," <<<"$meta")"
COORD=$(offsets_leader 1)
[[ "$COORD" =~ ^[123]$ ]] || fail "no leader for __consumer_offsets partition $P"
for n in 2 3; do
    [[ $(offsets_leader "$n") == "$COORD" ]] || fail "broker $n names another coordinator"
done
echo "group $GROUP: __consumer_offsets partition $P, coordinator broker $COORD"

# every broker's FindCoordinator names COORD; a group request elsewhere is refused
PROBE="$(dirname "$0")/group_probe.py"
for n in 1 2 3; do
    want=16 # NOT_COORDINATOR
    [[ $n == "$COORD" ]] && want=25 # UNKNOWN_MEMBER_ID: the coordinator knows the group
    got=$(python3 "$PROBE" "127.0.0.1:${GN_CLUSTER_PORTS}0$n" $GROUP) || fail "probe of broker $n"
    [[ $got == "coordinator=$COORD heartbeat=$want" ]] || fail "broker $n: $got, want coordinator=$COORD heartbeat=$want"
done

# the consumer is frozen (SIGSTOP) across the kill until the new coordinator has answered
# OffsetFetch, so what that answers was loaded from the log, not committed afterwards
kill -STOP $CONSUMER
kill9 "$COORD"
T0=$SECONDS
ACKED=$(tail -1 "$WORK/acked" | cut -d' ' -f1)
echo "killed the coordinator (broker $COORD) after $(wc -l <"$WORK/consumed.txt") reads; last acknowledged commit: offsets summing to $ACKED"

wait_for 30 "a new coordinator" bash -c "l=\$(kcat -L -b '$(bootstrap)' -t __consumer_offsets -m 2 2>/dev/null | sed -n 's/.*partition $P, leader \([0-9-]*\),.*/\1/p'); [[ \$l =~ ^[123]$ && \$l != $COORD ]]"
NEW=$COORD
for _ in $(seq 1 50); do # a broker may answer from an image a record behind: ask again
    for n in 1 2 3; do [[ $n != "$COORD" ]] && NEW=$(offsets_leader "$n") && break; done
    [[ $NEW =~ ^[123]$ && $NEW != "$COORD" ]] && break
    sleep 0.1
done
echo "new coordinator: broker $NEW after $((SECONDS - T0)) s"

# what was acknowledged before the kill is on the new coordinator (a commit answered
# after the freeze may have been stored too: at least ACKED)
committed_sum() { "$BIN" committed "$(bootstrap)" $GROUP $TOPIC 3 2>>"$WORK/committed.err"; }
wait_for 30 "OffsetFetch answered by the new coordinator" committed_sum
SUM=$(committed_sum)
kill -CONT $CONSUMER
((SUM >= ACKED)) || fail "committed offsets lost on the new coordinator: $SUM < $ACKED"
echo "committed on the new coordinator: $SUM (>= $ACKED acknowledged before the kill)"

wait "$CONSUMER" || fail "consumer failed: $(tail -5 "$WORK/consumer.err")"
tail -3 "$WORK/consumer.err"
READS=$(wc -l <"$WORK/consumed.txt")
DISTINCT=$(sort -un "$WORK/consumed.txt" | wc -l)
WINDOW=$(sed -n 's/.*window_max=\([0-9]*\).*/\1/p' "$WORK/consumer.err")
[[ $DISTINCT == "$N" ]] || fail "$DISTINCT distinct records read, want $N"
[[ "$(sort -un "$WORK/consumed.txt" | head -1) $(sort -un "$WORK/consumed.txt" | tail -1)" == "1 $N" ]] ||
    fail "values outside 1..$N read"
AGAIN=$((READS - N))
((AGAIN <= WINDOW)) || fail "$AGAIN records read again, more than the uncommitted window ($WINDOW)"
echo "every record read; $AGAIN read again (uncommitted window at most $WINDOW)"

SUM=$(committed_sum) || fail "OffsetFetch after the run"
[[ $SUM == "$N" ]] || fail "final committed offsets sum to $SUM, want $N"
grep -q "msg=\"coordinator for partition loaded\" partition=$P " "$WORK/b$NEW.log" ||
    fail "broker $NEW did not log loading partition $P"
echo "final commit on the new coordinator covers all $N records"

stop_all
check_logs
echo "PASS"
