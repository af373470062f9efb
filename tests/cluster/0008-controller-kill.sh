#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# 0001 with the controller killed: three brokers, topic ck of three partitions
# (replication factor 3, min.insync.replicas 2); the controller (the Raft leader) also
# leads partition P. An idempotent kcat producer (acks=all) writes numbered records over
# every partition and a librdkafka group consumer (rdkafka_group_failover.c, commits
# every 100) reads them while the controller is killed with SIGKILL: the two others elect
# a new controller, which moves P to an in-sync replica. Every acknowledged record is
# read back exactly once and in order per partition; the consumer reads every record and
# its last commit covers them all; the killed broker, restarted, rejoins every ISR and
# holds the leader's bytes of P. Ports 29600-29629 (GN_CLUSTER_PORTS); about a minute.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
command -v kcat >/dev/null || { echo "SKIP: kcat not installed"; exit 0; }
BIN="$BUILD/tests/cluster/rdkafka_group_failover"
[[ -x "$BIN" ]] || { echo "SKIP: $BIN not built (librdkafka-dev missing?)"; exit 0; }

for n in 1 2 3; do start_broker "$n" --num.partitions=3 --group.initial.rebalance.delay.ms=0; done
wait_for 20 "three brokers registered" brokers_in_metadata 3

meta() { kcat -L -b "${1:-$(bootstrap)}" -t ck -m 2 2>/dev/null; }
leader_p() { meta "${2:-}" | sed -n "s/.*partition $1, leader \([0-9-]*\),.*/\1/p"; }
all_isr_full() { [[ $(meta | grep -c 'isrs: [123],[123],[123]$') == 3 ]]; }
controller() { kcat -L -b "${1:-$(bootstrap)}" -m 2 2>/dev/null | sed -n 's/.*broker \([0-9]\) at .*(controller).*/\1/p'; }
wait_for 30 "ISR of three on every partition" all_isr_full

CTL=$(controller)
[[ "$CTL" =~ ^[123]$ ]] || fail "no controller: $CTL"
P=""
for p in 0 1 2; do [[ $(leader_p $p) == "$CTL" ]] && P=$p && break; done
[[ -n $P ]] || fail "the controller ($CTL) leads no partition of ck: $(meta | grep partition)"
OTHERS=""
for n in 1 2 3; do [[ $n == "$CTL" ]] || OTHERS="$OTHERS${OTHERS:+,}127.0.0.1:${GN_CLUSTER_PORTS}0$n"; done
echo "controller $CTL leads partition $P"

# numbered records, a few ms apart, over the three partitions through the kill
N=3000
(
    for i in $(seq 1 $N); do
        echo "$i"
        ((i % 50 == 0)) && sleep 0.1
    done
) | kcat -P -b "$(bootstrap)" -t ck -X acks=all -X enable.idempotence=true \
    -X message.timeout.ms=60000 -X linger.ms=5 >"$WORK/producer.out" 2>&1 &
PRODUCER=$!
"$BIN" consume "$(bootstrap)" ck-group ck $N 100 0 "$WORK/acked" \
    >"$WORK/consumed.txt" 2>"$WORK/consumer.err" &
CONSUMER=$!
trap 'kill $CONSUMER $PRODUCER 2>/dev/null || true; cleanup' EXIT
wait_for 60 "the consumer reading" bash -c "(( \$(wc -l <'$WORK/consumed.txt') >= 200 ))"

kill9 "$CTL"
T0=$SECONDS
echo "killed the controller (broker $CTL) after $(wc -l <"$WORK/consumed.txt") reads"
new_controller() { c=$(controller "$OTHERS") && [[ $c =~ ^[123]$ && $c != "$CTL" ]]; }
wait_for 30 "a new controller" new_controller
moved() { l=$(leader_p "$P" "$OTHERS") && [[ $l =~ ^[123]$ && $l != "$CTL" ]]; }
wait_for 30 "partition $P moved off $CTL" moved
echo "controller $(controller "$OTHERS"), partition $P led by $(leader_p "$P" "$OTHERS") after $((SECONDS - T0)) s"

wait "$PRODUCER" || fail "producer failed: $(tail -5 "$WORK/producer.out")"
grep -q "Delivery failed" "$WORK/producer.out" && fail "deliveries failed: $(head -3 "$WORK/producer.out")"
for p in 0 1 2; do
    kcat -C -b "$(bootstrap)" -t ck -p "$p" -o beginning -e -q >"$WORK/read-$p.txt" || fail "consume $p failed"
    sort -n -c -u "$WORK/read-$p.txt" 2>/dev/null || fail "partition $p not in order or read twice"
done
sort -n "$WORK"/read-[012].txt | diff -q <(seq 1 $N) - >/dev/null ||
    fail "$(cat "$WORK"/read-[012].txt | wc -l) records read back, want each of 1..$N once"
echo "every acknowledged record read back once, in order per partition"

# the group goes on: every record read, the last commit covers them all
wait_for 60 "the consumer done" bash -c "! kill -0 $CONSUMER"
wait "$CONSUMER" || fail "consumer failed: $(tail -5 "$WORK/consumer.err")"
[[ $(sort -un "$WORK/consumed.txt" | wc -l) == "$N" ]] ||
    fail "the group read $(sort -un "$WORK/consumed.txt" | wc -l) distinct records, want $N"
SUM=$("$BIN" committed "$(bootstrap)" ck-group ck 3) || fail "OffsetFetch after the run"
[[ $SUM == "$N" ]] || fail "the group's committed offsets sum to $SUM, want $N"
echo "the group read every record ($(tail -1 "$WORK/consumer.err")), committed $SUM"

# the old controller returns, rejoins every ISR and holds P's bytes
start_broker "$CTL" --num.partitions=3 --group.initial.rebalance.delay.ms=0
wait_for 30 "broker $CTL back in every ISR" all_isr_full
wait_for 20 "identical segment bytes of ck-$P on the three brokers" same_logs "ck-$P"
echo "broker $CTL restarted, rejoined every ISR, holds the same bytes"
stop_all
check_logs
echo "PASS"
