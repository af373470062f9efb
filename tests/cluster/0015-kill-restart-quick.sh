#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A killed broker that comes back at once (a supervisor, Docker's restart policy), under
# an idempotent acks=all librdkafka producer (rdkafka_acked_producer.c; replication
# factor 3, min.insync.replicas 2, topic kr of three partitions). Twice on one cluster:
# a partition leader that is not the controller, then the controller (the Raft leader),
# each killed with SIGKILL and started again on its data dir at once (GN_RESTART_DELAY
# seconds later, default 0), inside its broker session. Each time: the partitions it led
# have another leader at a new leader epoch (the new incarnation does not resume them at
# the epoch its previous one led; it follows and catches up), every partition has a
# leader whose broker answers acks=all (a probe record through each partition), the
# producer's every record is acknowledged, and the restarted broker is back in every ISR
# with the same segment bytes as the others. At the end every acknowledged record is read
# back exactly once, at the offset its acknowledgement gave, in order per partition.
# Ports 29600-29629 (GN_CLUSTER_PORTS); bounded to about two minutes.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
command -v kcat >/dev/null || { echo "SKIP: kcat not installed"; exit 0; }
BIN="$BUILD/tests/cluster/rdkafka_acked_producer"
RAW="$(dirname "$0")/raw_epochs.py"
[[ -x "$BIN" ]] || { echo "SKIP: $BIN not built (librdkafka-dev missing?)"; exit 0; }
FLAGS=(--num.partitions=3)
for n in 1 2 3; do start_broker "$n" "${FLAGS[@]}"; done
wait_for 20 "three brokers registered" brokers_in_metadata 3

meta() { kcat -L -b "$(bootstrap)" -t kr -m 2 2>/dev/null; }
leader_p() { meta | sed -n "s/.*partition $1, leader \([0-9-]*\),.*/\1/p"; }
all_isr_full() { [[ $(meta | grep -c 'isrs: [123],[123],[123]$') == 3 ]]; }
controller() { kcat -L -b "$(bootstrap)" -m 2 2>/dev/null | sed -n 's/.*broker \([0-9]\) at .*(controller).*/\1/p'; }
# acked_produce PARTITION: records from stdin, a delivery report per record on stdout
acked_produce() {
    "$BIN" "$(bootstrap)" kr "$1" acks=all enable.idempotence=true linger.ms=5 \
        message.timeout.ms=60000
}
# every partition led by a live broker that takes an acks=all write (a probe record,
# told apart from the numbered ones by its p prefix)
probe() { echo "p$1-$2" | acked_produce "$1" | grep -q '^ok '; }
all_writable() { for p in 0 1 2; do probe "$p" "$1" || return 1; done; }
# the highest partitionLeaderEpoch of partition P's batches, as its leader serves them
max_epoch() {
    "$RAW" "127.0.0.1:${GN_CLUSTER_PORTS}0$(leader_p "$1")" kr "$1" fetch -1 0 |
        sed -n 's/^error=0 .*epochs=\([0-9,]*\)$/\1/p' | tr ',' '\n' | sort -n | tail -1
}
wait_for 30 "ISR of three on every partition" all_isr_full
wait_for 20 "the first probes acknowledged" all_writable 0

# kill_restart VICTIM FIRST LAST: numbered records FIRST..LAST through the kill of VICTIM
# and its restart about a second later
kill_restart() {
    local victim=$1 first=$2 last=$3 t0 p led=() before=()
    for p in 0 1 2; do
        [[ $(leader_p $p) == "$victim" ]] || continue
        led+=("$p")
        before+=("$(max_epoch "$p")")
        [[ ${before[-1]} =~ ^[0-9]+$ ]] || fail "no leader epoch of partition $p: ${before[-1]}"
    done
    for i in $(seq "$first" "$last"); do
        echo "$i"
        ((i % 50 == 0)) && sleep 0.05
    done | acked_produce -1 >"$WORK/reports-$first.txt" 2>"$WORK/producer-$first.err" &
    local producer=$!
    sleep 1
    kill9 "$victim"
    t0=$SECONDS
    sleep "${GN_RESTART_DELAY:-0}"
    start_broker "$victim" "${FLAGS[@]}"
    echo "killed broker $victim (leading partitions ${led[*]:-none}), started it again"
    wait_for 30 "every partition writable again after broker $victim came back" all_writable "$first"
    echo "every partition takes acks=all writes $((SECONDS - t0)) s after the kill" \
        "(leaders $(leader_p 0),$(leader_p 1),$(leader_p 2))"
    for i in "${!led[@]}"; do
        p=${led[$i]}
        local after="" try
        # the broker asked for metadata may name the leader a moment late, and a broker that
        # is not (yet) the leader answers the fetch with an error: ask again, bounded
        for ((try = 0; try < 50; try++)); do
            after=$(max_epoch "$p")
            [[ $after =~ ^[0-9]+$ && $after -gt ${before[$i]} ]] && break
            sleep 0.2
        done
        [[ $after =~ ^[0-9]+$ && $after -gt ${before[$i]} ]] ||
            fail "partition $p: written at leader epoch ${after:-none} after the restart, ${before[$i]} before (its leadership did not move)"
        echo "partition $p: led by $(leader_p "$p") at leader epoch $after (${before[$i]} before)"
    done
    wait "$producer" || fail "producer failed: $(tail -3 "$WORK/producer-$first.err")"
    local acked
    acked=$(grep -c '^ok ' "$WORK/reports-$first.txt" || true)
    [[ $acked == $((last - first + 1)) ]] ||
        fail "$acked of $((last - first + 1)) records acknowledged: $(grep '^err ' "$WORK/reports-$first.txt" | head -3 | tr '\n' ' ')"
    wait_for 30 "broker $victim back in every ISR" all_isr_full
    for p in 0 1 2; do wait_for 20 "identical segment bytes of kr-$p" same_logs "kr-$p"; done
    echo "all $acked records acknowledged; broker $victim rejoined every ISR with the same bytes"
}

CTL=$(controller)
[[ "$CTL" =~ ^[123]$ ]] || fail "no controller: $CTL"
VICTIM=""
for p in 0 1 2; do
    l=$(leader_p $p)
    [[ $l =~ ^[123]$ && $l != "$CTL" ]] && VICTIM=$l && break
done
[[ -n $VICTIM ]] || fail "every partition led by the controller $CTL: $(meta | grep partition)"
echo "controller $CTL; leaders $(leader_p 0),$(leader_p 1),$(leader_p 2); killing leader $VICTIM"
kill_restart "$VICTIM" 1 3000

CTL=$(controller)
[[ "$CTL" =~ ^[123]$ ]] || fail "no controller: $CTL"
echo "controller $CTL; leaders $(leader_p 0),$(leader_p 1),$(leader_p 2); killing the controller"
kill_restart "$CTL" 3001 6000

# every acknowledged record read back exactly once, at its offset, in order per partition
cat "$WORK"/reports-*.txt | awk '$1 == "ok" {print $3, $4, $2}' | sort >"$WORK/acked-at.txt"
for p in 0 1 2; do
    kcat -C -b "$(bootstrap)" -t kr -p "$p" -o beginning -e -q -f "$p %o %s\n" >"$WORK/read-$p.txt" ||
        fail "consume of partition $p failed"
    grep -v ' p' "$WORK/read-$p.txt" | awk '{print $3}' >"$WORK/values-$p.txt"
    sort -n -c -u "$WORK/values-$p.txt" 2>/dev/null ||
        fail "partition $p: records out of order or twice ($(sort -n "$WORK/values-$p.txt" | uniq -d | head -3 | tr '\n' ' '))"
done
sort -n "$WORK"/values-[012].txt | uniq -d >"$WORK/dups.txt"
[[ ! -s "$WORK/dups.txt" ]] || fail "records in two partitions: $(head -3 "$WORK/dups.txt" | tr '\n' ' ')"
sort "$WORK"/read-[012].txt | comm -23 "$WORK/acked-at.txt" - >"$WORK/lost.txt"
[[ ! -s "$WORK/lost.txt" ]] ||
    fail "$(wc -l <"$WORK/lost.txt") acknowledged records not read back at their offset: $(head -3 "$WORK/lost.txt" | tr '\n' ' ')"
[[ $(cat "$WORK"/values-[012].txt | wc -l) == 6000 ]] ||
    fail "$(cat "$WORK"/values-[012].txt | wc -l) numbered records in the log, want 6000"
echo "6000 acknowledged records read back exactly once, at their offsets, in order per partition"

stop_all
check_logs
echo "PASS"
