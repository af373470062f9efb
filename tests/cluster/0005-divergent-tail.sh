#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Leader epochs (KIP-101/KIP-279): a returning replica truncates a divergent tail at the
# epoch boundary. Three brokers with flush=always (every record is on disk, so a restart's
# high watermark would keep the tail: only the epoch lookup finds it). Committed acks=all
# records; the followers paused (SIGSTOP) while the leader A takes acks=1 records nobody
# replicates; A killed (-9), the followers resumed, a new leader elected that takes new
# acks=all records; A restarted: it must cut its tail at the new epoch's start, catch up,
# rejoin the ISR and hold the same bytes as the others (segment files compared). Every
# acks=all record is read back exactly once, in order; the acks=1 tail is gone.
# Ports 29600-29629; bounded to about a minute.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
command -v kcat >/dev/null || { echo "SKIP: kcat not installed"; exit 0; }

CLUSTER_TIMEOUTS=(--broker.heartbeat.interval.ms=2000 --broker.session.timeout.ms=9000)
for n in 1 2 3; do start_broker "$n" --flush=always; done
wait_for 20 "three brokers registered" brokers_in_metadata 3
wait_for 20 "ISR of three" isr_full dv
A=$(leader_of dv)
[[ "$A" =~ ^[123]$ ]] || fail "no leader: $A"
FOLLOWERS=()
for n in 1 2 3; do [[ $n == "$A" ]] || FOLLOWERS+=("$n"); done
echo "leader A=$A, followers ${FOLLOWERS[*]}"

produce() { # BROKERS ACKS: records from stdin, one kcat, no delivery failure
    kcat -P -b "$1" -t dv -p 0 -X acks="$2" -X message.timeout.ms=10000 >"$WORK/p.out" 2>&1 &&
        ! grep -q . "$WORK/p.out"
}
first_records() { seq -f 'c%g' 1 100 | produce "$(bootstrap)" all; }
wait_for 20 "the committed records written ($(cat "$WORK/p.out" 2>/dev/null))" first_records
wait_for 10 "ISR of three after the first records" isr_full dv

# the tail: followers paused (shorter than a broker session, so nothing is fenced), A
# writes acks=1 records only it has
for n in "${FOLLOWERS[@]}"; do kill -STOP "${PIDS[$n]}"; done
# a fetch parked at A before the pause is answered at A's next append, tail included (and
# read on resume), so wait until A has answered the parked fetches empty (a 500 ms wait);
# A acts as leader for two heartbeat intervals after its last answered heartbeat (the
# controller may be paused too): 2 s intervals leave it at least 2 s of them
sleep 1
seq -f 'u%g' 1 50 | produce "127.0.0.1:${GN_CLUSTER_PORTS}0$A" 1 || fail "acks=1 tail: $(cat "$WORK/p.out")"
kill9 "$A"
for n in "${FOLLOWERS[@]}"; do kill -CONT "${PIDS[$n]}"; done
echo "A wrote an unreplicated tail and was killed"

wait_for 30 "a new leader" bash -c "l=\$(kcat -L -b '$(bootstrap)' -t dv -m 2 2>/dev/null | sed -n 's/.*partition 0, leader \([0-9-]*\),.*/\1/p'); [[ \$l =~ ^[123]$ && \$l != $A ]]"
B=$(leader_of dv)
echo "new leader B=$B"
new_records() { seq -f 'n%g' 1 100 | produce "$(bootstrap)" all; }
wait_for 30 "acks=all records on the new leader ($(cat "$WORK/p.out" 2>/dev/null))" new_records

start_broker "$A" --flush=always
wait_for 30 "A back in the ISR" isr_full dv
grep -q 'truncating a divergent tail.*by=leader epoch' "$WORK/b$A.log" ||
    fail "A did not truncate by leader epoch: $(grep -i truncat "$WORK/b$A.log" | tail -3)"
grep 'truncating a divergent tail' "$WORK/b$A.log" | tail -1 | sed 's/^.*msg=/A: /'

# every acks=all record once, in order; nothing of the tail
kcat -C -b "$(bootstrap)" -t dv -o beginning -e -q >"$WORK/read.txt" || fail "consume failed"
{ seq -f 'c%g' 1 100; seq -f 'n%g' 1 100; } >"$WORK/want.txt"
if ! diff -q "$WORK/want.txt" "$WORK/read.txt" >/dev/null; then
    diff "$WORK/want.txt" "$WORK/read.txt" | head -5
    fail "acks=all records not read back exactly once and in order"
fi

wait_for 20 "identical segment bytes on the three brokers" same_logs "dv-0"

# the epochs over Kafka (raw requests: OffsetForLeaderEpoch v3, Fetch v11): epoch 0 ended
# at 100 where B's epoch began; B stamped its epoch on its batches; a stale
# CurrentLeaderEpoch is fenced; a follower does not serve
RAW="$(dirname "$0")/raw_epochs.py"
B=$(leader_of dv)
out=$("$RAW" "127.0.0.1:${GN_CLUSTER_PORTS}0$B" dv 0 epoch-end -1 0)
[[ $out == "error=0 epoch=0 end=100" ]] || fail "OffsetForLeaderEpoch(0) on B: $out"
out=$("$RAW" "127.0.0.1:${GN_CLUSTER_PORTS}0$B" dv 0 fetch -1 0)
[[ $out =~ ^error=0\ hw=200\ epochs=0(,0)*(,([1-9][0-9]*))+$ ]] || fail "batch epochs on B: $out"
NEW_EPOCH=${out##*,}
out=$("$RAW" "127.0.0.1:${GN_CLUSTER_PORTS}0$B" dv 0 epoch-end -1 "$NEW_EPOCH")
[[ $out == "error=0 epoch=$NEW_EPOCH end=200" ]] || fail "OffsetForLeaderEpoch($NEW_EPOCH): $out"
out=$("$RAW" "127.0.0.1:${GN_CLUSTER_PORTS}0$B" dv 0 fetch 0 0)
[[ $out == error=74* ]] || fail "a stale CurrentLeaderEpoch was not fenced: $out"
out=$("$RAW" "127.0.0.1:${GN_CLUSTER_PORTS}0$A" dv 0 fetch -1 0)
[[ $out == error=6* ]] || fail "follower A served a fetch: $out"
echo "epochs over Kafka: epoch 0 ended at 100, epoch $NEW_EPOCH at the log end; fencing ok"
echo "A cut its tail at the epoch boundary; three identical logs of $(wc -l <"$WORK/read.txt") records"
stop_all
check_logs
echo "PASS"
