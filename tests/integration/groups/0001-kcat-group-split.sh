#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Two `kcat -G` consumers (librdkafka, range assignor) in one group on a 6-partition
# topic: the partitions split between them, disjoint and complete, and every message
# produced afterwards is read exactly once across both. Then one is killed with
# SIGKILL: the other takes over its partitions within the session timeout (6 s) plus
# a heartbeat, reads the new messages of every partition, and re-reads nothing its
# peer had committed. Port 29400.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
start_broker 29400 --num.partitions=6
T=split
G=g-split
SESSION_MS=6000

for p in 0 1 2 3 4 5; do produce "$T" "$p" p0 1 1; done # creates the topic (auto-create)

consumer() { # consumer NAME: background kcat -G (its own PID, stopped by cleanup), unbuffered
    kcat -b "$BROKER" -G "$G" -u ${KCAT_DEBUG:+-d "$KCAT_DEBUG"} -X session.timeout.ms=$SESSION_MS \
        -X heartbeat.interval.ms=500 -X auto.offset.reset=earliest -f '%p %s\n' "$T" >"$WORK/$1.out" 2>"$WORK/$1.err" &
    track $!
    eval "PID_$1=$!"
}
# assigned NAME: partitions of the consumer's latest assignment, sorted, one line.
assigned() {
    { grep 'assigned:' "$WORK/$1.err" || true; } | tail -n 1 | grep -o '\[[0-9]*\]' |
        tr -d '[]' | sort -n | tr '\n' ' '
}
assignments() { grep -c 'assigned:' "$WORK/$1.err" 2>/dev/null || true; }
split_done() {
    local a b
    a=$(assigned A)
    b=$(assigned B)
    [[ -n "$a" && -n "$b" ]] || return 1
    [[ "$(echo $a $b | tr ' ' '\n' | sort -n | tr '\n' ' ')" == "0 1 2 3 4 5 " ]]
}
count() { cat "$WORK/A.out" "$WORK/B.out" 2>/dev/null | grep -c " $1[.-]" || true; }
count_ge() { (($(count "$1") >= $2)); }                            # evaluated on every poll
a_count_ge() { (($(grep -c " $1" "$WORK/A.out" || true) >= $2)); } # A's lines only

consumer A
consumer B
wait_for 30 "both consumers assigned, disjoint, all 6 partitions" split_done
echo "split: A=[$(assigned A)] B=[$(assigned B)]"
wait_for 10 "phase-0 messages read" count_ge p0 6

for p in 0 1 2 3 4 5; do produce "$T" "$p" "p1.$p" 1 20; done
wait_for 20 "120 messages read across both" count_ge p1 120
# kcat applies -X auto.commit.interval.ms to the legacy topic config, so the group's
# auto commit runs every 5 s (librdkafka's default): one tick covers all of it.
sleep 5.5
[[ "$(count p1)" == 120 ]] || fail "phase 1 read $(count p1) times, expected 120 (duplicates)"
dups=$(cat "$WORK/A.out" "$WORK/B.out" | grep ' p1' | sort | uniq -d | wc -l)
[[ "$dups" == 0 ]] || fail "$dups messages read twice"
for who in A B; do # each consumer read only its own partitions
    for p in $(awk '/ p1/ {print $1}' "$WORK/$who.out" | sort -u); do
        [[ " $(assigned $who)" == *" $p "* ]] || fail "$who read partition $p it was not assigned"
    done
done

before=$(assignments A)
kill -KILL "$PID_B"
wait "$PID_B" 2>/dev/null || true
t0=$(date +%s%N)
wait_for 20 "A assigned all 6 partitions after B's death" \
    bash -c "[[ \$(grep -c 'assigned:' '$WORK/A.err') -gt $before ]] && \
             grep 'assigned:' '$WORK/A.err' | tail -n 1 | grep -q '\[0\].*\[1\].*\[2\].*\[3\].*\[4\].*\[5\]'"
takeover_ms=$((($(date +%s%N) - t0) / 1000000))
echo "takeover after SIGKILL: ${takeover_ms} ms (session.timeout.ms=$SESSION_MS)"
((takeover_ms < SESSION_MS + 4000)) || fail "takeover took ${takeover_ms} ms"

for p in 0 1 2 3 4 5; do produce "$T" "$p" "p2.$p" 1 10; done
wait_for 20 "A reads the 60 new messages" a_count_ge p2 60
for p in 0 1 2 3 4 5; do
    n=$(grep -c "^$p p2" "$WORK/A.out" || true)
    [[ "$n" == 10 ]] || fail "A read $n new messages of partition $p, expected 10"
done
sleep 0.5
[[ "$(count p1)" == 120 ]] || fail "A re-read $(($(count p1) - 120)) committed messages of B"
echo "PASS"
