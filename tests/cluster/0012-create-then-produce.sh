#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A topic auto-created on a broker that is not the controller, written at once with
# acks=1 (kcat): until the broker has applied the topic's record it must not act as the
# partition's leader (Metadata says LEADER_NOT_AVAILABLE, a produce NOT_LEADER), or it
# takes records the real leader never sees and truncates them later as a divergent
# tail: acknowledged and lost (it did, for the topics led by another broker). Six fresh
# topics, each written once through the same non-controller broker; every acknowledged
# record is read back. Ports 29600-29629 (GN_CLUSTER_PORTS); about 20 s.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
command -v kcat >/dev/null || { echo "SKIP: kcat not installed"; exit 0; }

for n in 1 2 3; do start_broker "$n"; done
wait_for 20 "three brokers registered" brokers_in_metadata 3
controller() { kcat -L -b "$(bootstrap)" -m 2 2>/dev/null | sed -n 's/.*broker \([0-9]\) at .*(controller).*/\1/p'; }
wait_for 20 "a controller" bash -c "kcat -L -b '$(bootstrap)' -m 2 | grep -q '(controller)'"
CTL=$(controller)
B=1
[[ $CTL == 1 ]] && B=2
echo "controller $CTL; writing new topics through broker $B"

TOPICS=(nt1 nt2 nt3 nt4 nt5 nt6)
for t in "${TOPICS[@]}"; do
    echo "rec-$t" | kcat -P -b "127.0.0.1:${GN_CLUSTER_PORTS}0$B" -t "$t" -X acks=1 \
        -X message.timeout.ms=15000 >"$WORK/$t.out" 2>&1 || true
done
for t in "${TOPICS[@]}"; do
    grep -q . "$WORK/$t.out" && fail "$t: not acknowledged: $(head -2 "$WORK/$t.out")"
done
LEADERS=""
for t in "${TOPICS[@]}"; do
    wait_for 20 "ISR of three for $t" isr_full "$t"
    LEADERS="$LEADERS $t:$(leader_of "$t")"
    got=$(kcat -C -b "$(bootstrap)" -t "$t" -o beginning -e -q | tr '\n' ' ')
    [[ $got == "rec-$t " ]] ||
        fail "$t (leader $(leader_of "$t")): acknowledged rec-$t, read back '$got'"
done
echo "every acknowledged record read back (leaders$LEADERS)"
grep -q "truncating a divergent tail" "$WORK"/b*.log &&
    fail "a divergent tail was truncated: $(grep -h 'truncating a divergent tail' "$WORK"/b*.log | head -2)"
stop_all
check_logs
echo "PASS"
