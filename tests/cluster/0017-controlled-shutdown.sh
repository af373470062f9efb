#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Controlled shutdown (SIGTERM): a broker hands its partition leaderships to in-sync
# replicas before it stops, and the controller hands the Raft leadership over too.
# Three brokers; an idempotent kcat producer (acks=all) writes to partition 0 of a topic
# (replication factor 3) while its leader gets SIGTERM: the leader logs that nothing was
# left to hand over before it exits 0 (the controller logged the move from it), no
# delivery fails, and every record is read back exactly once and in order. Then the same
# with the controller (the Raft leader) stopped: it hands the quorum over (another broker
# is the controller before it exits). Each stopped broker restarts and rejoins the ISR.
# Ports 29600-29649 (GN_CLUSTER_PORTS); bounded to about a minute.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
command -v kcat >/dev/null || { echo "SKIP: kcat not installed"; exit 0; }

for n in 1 2 3; do start_broker "$n"; done
wait_for 20 "three brokers registered" brokers_in_metadata 3
isr3() { [[ "$(kcat -L -b "$(bootstrap)" -t "$1" -m 2 2>/dev/null | grep -o 'isrs: .*')" =~ ^isrs:\ [0-9],[0-9],[0-9]$ ]]; }

# stop_under_load TOPIC BROKER: SIGTERM BROKER while a producer writes N records to TOPIC
stop_under_load() {
    local t=$1 b=$2 n=2000 producer rc
    (
        for i in $(seq 1 $n); do
            echo "$i"
            ((i % 50 == 0)) && sleep 0.05
        done
    ) | kcat -P -b "$(bootstrap)" -t "$t" -p 0 -X acks=all -X enable.idempotence=true \
        -X message.timeout.ms=60000 -X linger.ms=5 >"$WORK/producer-$t.out" 2>&1 &
    producer=$!
    sleep 1
    kill -TERM "${PIDS[$b]}"
    rc=0
    wait "${PIDS[$b]}" || rc=$?
    unset "PIDS[$b]"
    [[ $rc == 0 ]] || fail "broker $b exited $rc after SIGTERM"
    grep -q 'controlled shutdown: nothing left to hand over' "$WORK/b$b.log" ||
        fail "broker $b stopped without handing its leaderships over: $(grep 'controlled shutdown' "$WORK/b$b.log" | tail -2)"
    wait "$producer" || fail "producer failed: $(tail -5 "$WORK/producer-$t.out")"
    grep -q "Delivery failed" "$WORK/producer-$t.out" && fail "deliveries failed: $(head -3 "$WORK/producer-$t.out")"
    kcat -C -b "$(bootstrap)" -t "$t" -o beginning -e -q >"$WORK/read-$t.txt" || fail "consume failed"
    seq 1 $n >"$WORK/want-$t.txt"
    diff -q "$WORK/want-$t.txt" "$WORK/read-$t.txt" >/dev/null ||
        fail "$t: acknowledged records not read back exactly once and in order ($(diff "$WORK/want-$t.txt" "$WORK/read-$t.txt" | head -3))"
}

# 1. a partition leader that is not the controller
C=$(controller_id)
[[ $C =~ ^[123]$ ]] || fail "no controller: '$C'"
T=""
for i in $(seq 1 20); do
    wait_for 20 "ISR of three on cs$i" isr3 "cs$i"
    [[ $(leader_of "cs$i") != "$C" ]] && { T=cs$i; break; }
done
[[ -n $T ]] || fail "every topic led by the controller"
L=$(leader_of "$T")
stop_under_load "$T" "$L"
# the controller moved the leadership before the broker had closed its logs
moved=$(grep -h "moving partition leadership.*topic=$T partition=0 from=$L " "$WORK"/b*.log | head -1 | sed 's/^ts=\([^ ]*\) .*/\1/')
closed=$(grep -h 'mod=broker msg="closed"' "$WORK/b$L.log" | tail -1 | sed 's/^ts=\([^ ]*\) .*/\1/')
[[ -n $moved && -n $closed && ! $moved > $closed ]] ||
    fail "leadership of $T moved at '${moved:-never}', broker $L closed at '${closed:-?}'"
echo "leader $L of $T stopped with SIGTERM: leadership handed over first, every record once"
start_broker "$L"
wait_for 30 "broker $L back in the ISR of $T" isr3 "$T"

# 2. the controller, leading a partition
C=$(controller_id)
T=""
for i in $(seq 21 40); do
    wait_for 20 "ISR of three on cs$i" isr3 "cs$i"
    [[ $(leader_of "cs$i") == "$C" ]] && { T=cs$i; break; }
done
[[ -n $T ]] || fail "no topic led by the controller $C"
stop_under_load "$T" "$C"
grep -q 'handing the controller over' "$WORK/b$C.log" || fail "controller $C did not hand the quorum over"
NEWC=$(controller_id)
[[ $NEWC =~ ^[123]$ && $NEWC != "$C" ]] || fail "controller after $C stopped: '$NEWC'"
echo "controller $C stopped with SIGTERM: quorum handed to $NEWC, every record once"
start_broker "$C"
wait_for 30 "broker $C back in the ISR of $T" isr3 "$T"

stop_all
check_logs
echo PASS
