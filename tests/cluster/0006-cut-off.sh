#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A broker cut off rather than killed (SIGSTOP: its sockets stay open, nothing answers):
# the controller fences it and moves its leadership; records are written on the new
# leader; a consumer and an acks=1 producer connect to the paused broker and wait; it is
# resumed (SIGCONT). With a stale image it still believes it leads: it must not answer as
# leader (its metadata lease lapsed while paused: NOT_LEADER_OR_FOLLOWER until it has
# heard from the controller and applied what the controller had). So the consumer reads
# every record, never the stale prefix, and the producer's record, if acknowledged, is
# in the log. Then it catches up and rejoins the ISR with the same bytes as the others.
# The paused broker is a partition leader that is not the controller (a paused
# controller is a Raft question: see docs/architecture.md). Ports 29600-29629; about a
# minute.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
command -v kcat >/dev/null || { echo "SKIP: kcat not installed"; exit 0; }

for n in 1 2 3; do start_broker "$n" --num.partitions=3; done
wait_for 20 "three brokers registered" brokers_in_metadata 3

meta() { kcat -L -b "$(bootstrap)" -t co -m 2 2>/dev/null; }
leader_p() { meta | sed -n "s/.*partition $1, leader \([0-9-]*\),.*/\1/p"; }
isr_full_p() { [[ "$(meta | sed -n "s/.*partition $1, .*isrs: \(.*\)$/\1/p")" =~ ^[123],[123],[123]$ ]]; }
controller() { kcat -L -b "$(bootstrap)" -m 2 2>/dev/null | sed -n 's/.*broker \([0-9]\) at .*(controller).*/\1/p'; }
wait_for 20 "ISR of three on every partition" bash -c "$(declare -f meta isr_full_p bootstrap); $(declare -p PIDS); isr_full_p 0 && isr_full_p 1 && isr_full_p 2"

CTL=$(controller)
P=""
for p in 0 1 2; do
    l=$(leader_p $p)
    if [[ $l =~ ^[123]$ && $l != "$CTL" ]]; then P=$p L=$l && break; fi
done
[[ -n $P ]] || fail "no partition led by a broker other than the controller ($CTL)"
echo "controller $CTL; partition $P led by $L"

produce() { # BROKERS ACKS: records from stdin to partition P
    kcat -P -b "$1" -t co -p "$P" -X acks="$2" -X message.timeout.ms=10000 >"$WORK/p.out" 2>&1 &&
        ! grep -q . "$WORK/p.out"
}
wait_for 20 "records before the cut ($(cat "$WORK/p.out" 2>/dev/null))" \
    bash -c "$(declare -f produce); P=$P WORK=$WORK; seq -f 'a%g' 1 50 | produce '$(bootstrap)' all"

kill -STOP "${PIDS[$L]}"
T0=$SECONDS
OTHERS=""
for n in 1 2 3; do [[ $n == "$L" ]] || OTHERS="$OTHERS${OTHERS:+,}127.0.0.1:${GN_CLUSTER_PORTS}0$n"; done
wait_for 20 "leadership of partition $P moved off $L" bash -c \
    "l=\$(kcat -L -b '$OTHERS' -t co -m 2 2>/dev/null | sed -n 's/.*partition $P, leader \([0-9-]*\),.*/\1/p'); [[ \$l =~ ^[123]$ && \$l != $L ]]"
grep -q "fencing broker: no heartbeat.*id=$L" "$WORK"/b*.log || fail "broker $L was not fenced"
echo "broker $L fenced, leadership moved after $((SECONDS - T0)) s"
wait_for 20 "records on the new leader ($(cat "$WORK/p.out" 2>/dev/null))" \
    bash -c "$(declare -f produce); P=$P WORK=$WORK; seq -f 'b%g' 1 50 | produce '$OTHERS' all"

# clients of the paused broker: their requests wait in its sockets until it resumes
timeout 30 kcat -C -b "127.0.0.1:${GN_CLUSTER_PORTS}0$L" -t co -p "$P" -o beginning -e -q >"$WORK/stale.txt" \
    2>"$WORK/stale.err" &
READER=$!
echo stale-write | timeout 30 kcat -P -b "127.0.0.1:${GN_CLUSTER_PORTS}0$L" -t co -p "$P" -X acks=1 \
    -X message.timeout.ms=20000 >"$WORK/sw.out" 2>&1 &
WRITER=$!
sleep 1
kill -CONT "${PIDS[$L]}"
echo "broker $L resumed after $((SECONDS - T0)) s"
READ_RC=0
wait $READER || READ_RC=$?
WRITE_RC=0
wait $WRITER || WRITE_RC=$?

{ seq -f 'a%g' 1 50; seq -f 'b%g' 1 50; } >"$WORK/want.txt"
if ((READ_RC == 0)); then
    grep -v '^stale-write$' "$WORK/stale.txt" >"$WORK/stale.clean" || true
    diff -q "$WORK/want.txt" "$WORK/stale.clean" >/dev/null ||
        fail "a consumer of the resumed broker read $(wc -l <"$WORK/stale.txt") records, want 100 (stale read?)"
    echo "a consumer of the resumed broker read all 100 records (redirected to the leader)"
else
    echo "a consumer of the resumed broker got no stale data (kcat rc=$READ_RC)"
fi

wait_for 30 "broker $L back in the ISR of partition $P" bash -c \
    "$(declare -f meta isr_full_p bootstrap); $(declare -p PIDS); isr_full_p $P"
kcat -C -b "$(bootstrap)" -t co -p "$P" -o beginning -e -q >"$WORK/read.txt" || fail "consume failed"
if ((WRITE_RC == 0)) && ! grep -q "Delivery failed\|error" "$WORK/sw.out"; then
    grep -q '^stale-write$' "$WORK/read.txt" ||
        fail "an acks=1 write through the resumed broker was acknowledged and lost"
    echo "the write through the resumed broker reached the leader"
fi
grep -v '^stale-write$' "$WORK/read.txt" >"$WORK/read.clean" || true
diff -q "$WORK/want.txt" "$WORK/read.clean" >/dev/null || {
    diff "$WORK/want.txt" "$WORK/read.clean" | head -5
    fail "acks=all records not read back exactly once and in order"
}

wait_for 20 "identical segment bytes on the three brokers" same_logs "co-$P"
grep -q "metadata lease lost" "$WORK/b$L.log" || fail "broker $L did not notice its lease lapsed"
stop_all
check_logs
echo "PASS"
