#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Three brokers, one topic (replication factor 3, min.insync.replicas 2). An idempotent
# librdkafka producer (kcat, acks=all) writes numbered records while the partition
# leader is killed with SIGKILL: leadership moves to an in-sync replica and every
# acknowledged record is read back afterwards exactly once and in order; the killed
# broker is restarted and rejoins the ISR. (Two of three killed: 0009; the controller
# killed: 0008.) Ports 29600-29629 (GN_CLUSTER_PORTS); bounded to about a minute.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
command -v kcat >/dev/null || { echo "SKIP: kcat not installed"; exit 0; }

for n in 1 2 3; do start_broker "$n"; done
wait_for 20 "three brokers registered" brokers_in_metadata 3

# create the topic (auto-created by a metadata request, with the broker defaults) and
# wait until every broker has it with a full ISR
wait_for 20 "ISR of three" bash -c "[[ \"\$(kcat -L -b '$(bootstrap)' -t ft -m 2 | grep -o 'isrs: .*')\" =~ ^isrs:\ [0-9],[0-9],[0-9]$ ]]"
LEADER=$(leader_of ft)
[[ "$LEADER" =~ ^[123]$ ]] || fail "no leader: $LEADER"
echo "leader before failover: $LEADER"
# the first record; retried while a broker has not applied the topic yet (a refused
# record was not written, so it is never there twice)
first_record() {
    echo 0 | kcat -P -b "$(bootstrap)" -t ft -X acks=all -X enable.idempotence=true \
        -X message.timeout.ms=5000 >"$WORK/first.out" 2>&1 && [[ ! -s "$WORK/first.out" ]]
}
wait_for 20 "the first record written ($(cat "$WORK/first.out" 2>/dev/null))" first_record

# numbered records, a few ms apart, through the failover
N=3000
(
    for i in $(seq 1 $N); do
        echo "$i"
        ((i % 50 == 0)) && sleep 0.05
    done
) | kcat -P -b "$(bootstrap)" -t ft -X acks=all -X enable.idempotence=true \
    -X message.timeout.ms=60000 -X linger.ms=5 >"$WORK/producer.out" 2>&1 &
PRODUCER=$!
sleep 1
T0=$SECONDS
kill9 "$LEADER"
echo "killed broker $LEADER"
wait_for 30 "a new leader" bash -c "l=\$(kcat -L -b '$(bootstrap)' -t ft -m 2 2>/dev/null | sed -n 's/.*partition 0, leader \([0-9-]*\),.*/\1/p'); [[ \$l =~ ^[123]$ && \$l != $LEADER ]]"
NEW=$LEADER
for _ in $(seq 1 50); do # every broker's image agrees soon
    NEW=$(leader_of ft)
    [[ $NEW != "$LEADER" ]] && break
    sleep 0.1
done
echo "new leader: $NEW after $((SECONDS - T0)) s"
wait "$PRODUCER" || fail "producer failed: $(tail -5 "$WORK/producer.out")"
grep -q "Delivery failed" "$WORK/producer.out" && fail "deliveries failed: $(head -3 "$WORK/producer.out")"

kcat -C -b "$(bootstrap)" -t ft -o beginning -e -q >"$WORK/read.txt" || fail "consume failed"
{ echo 0; seq 1 $N; } >"$WORK/want.txt"
if ! diff -q "$WORK/want.txt" "$WORK/read.txt" >/dev/null; then
    echo "read $(wc -l <"$WORK/read.txt") records, want $((N + 1)); first difference:"
    diff "$WORK/want.txt" "$WORK/read.txt" | head -5
    fail "acknowledged records not read back exactly once and in order"
fi
echo "failover: $((N + 1)) records read back exactly once, in order"

# the old leader comes back as a follower and catches up into the ISR
start_broker "$LEADER"
wait_for 30 "ISR of three again" bash -c "[[ \"\$(kcat -L -b '$(bootstrap)' -t ft -m 2 | grep -o 'isrs: .*')\" =~ ^isrs:\ [0-9],[0-9],[0-9]$ ]]"
wait_for 20 "identical segment bytes on the three brokers" same_logs "ft-0"
echo "broker $LEADER restarted, rejoined the ISR, holds the same bytes"

stop_all
check_logs
echo "PASS"
