#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Committed offsets survive broker restarts, clean (SIGTERM) and crash (SIGKILL: with
# flush=on_ack_all a commit is fsynced before it is answered): a `kcat -G` consumer
# reads part of a 3-partition topic and exits (committing on close); after each
# restart the next consumer of the group resumes from the commits, so across the
# rounds every message is read exactly once: no loss, no replay. Port 29401.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
start_broker 29401 --num.partitions=3
T=cr
G=g-cr
for p in 0 1 2; do produce "$T" "$p" "a.$p" 1 10; done

# round OUT [kcat args]: one consumer session of the group, ends by -c or -e.
round() {
    local out="$WORK/$1"
    shift
    timeout 30 kcat -b "$BROKER" -G "$G" -q -u -X session.timeout.ms=6000 \
        -X auto.offset.reset=earliest -X enable.partition.eof=true -f '%s\n' "$@" "$T" \
        >"$out" 2>"$WORK/kcat.err" || fail "kcat round $(basename "$out") failed: $(tail -3 "$WORK/kcat.err")"
}

round r1 -c 12
[[ $(wc -l <"$WORK/r1") == 12 ]] || fail "round 1 read $(wc -l <"$WORK/r1") messages, expected 12"
stop_broker TERM
start_broker 29401 --num.partitions=3

round r2 -c 8
[[ $(wc -l <"$WORK/r2") == 8 ]] || fail "round 2 read $(wc -l <"$WORK/r2") messages, expected 8"
stop_broker KILL # crash: the commits are on disk already
start_broker 29401 --num.partitions=3
for p in 0 1 2; do produce "$T" "$p" "b.$p" 1 5; done

round r3 -e
all=$(cat "$WORK/r1" "$WORK/r2" "$WORK/r3" | sort)
want=$(for p in 0 1 2; do seq 1 10 | sed "s/^/a.$p-/"; seq 1 5 | sed "s/^/b.$p-/"; done | sort)
dups=$(echo "$all" | uniq -d | wc -l)
[[ "$dups" == 0 ]] || fail "$dups messages read twice (replay beyond the commit): $(echo "$all" | uniq -d | head -5 | tr '\n' ' ')"
missing=$(comm -13 <(echo "$all") <(echo "$want") | wc -l)
[[ "$missing" == 0 ]] || fail "$missing messages lost: $(comm -13 <(echo "$all") <(echo "$want") | head -5 | tr '\n' ' ')"
echo "rounds read $(wc -l <"$WORK/r1") + $(wc -l <"$WORK/r2") + $(wc -l <"$WORK/r3") = 45 messages, none twice"
echo "PASS"
