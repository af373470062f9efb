#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The group coordinator's create of __consumer_offsets fails while the controller is
# unreachable, and is tried again: three brokers, the controller paused (SIGSTOP); the
# first group request (OffsetFetch from librdkafka, rdkafka_group_failover.c committed)
# goes to another broker, whose coordinator starts and asks for the topic, which times
# out; the controller resumes (or another is elected). The group must become usable: it
# did not (a coordinator whose create had failed answered COORDINATOR_LOAD_IN_PROGRESS
# until its broker restarted; 0008 hit it when a controller election fell on the create).
# Ports 29600-29629 (GN_CLUSTER_PORTS); about 30 s.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
command -v kcat >/dev/null || { echo "SKIP: kcat not installed"; exit 0; }
BIN="$BUILD/tests/cluster/rdkafka_group_failover"
[[ -x "$BIN" ]] || { echo "SKIP: $BIN not built (librdkafka-dev missing?)"; exit 0; }

for n in 1 2 3; do start_broker "$n"; done
wait_for 20 "three brokers registered" brokers_in_metadata 3
wait_for 20 "ISR of three" isr_full gtopic
CTL=$(kcat -L -b "$(bootstrap)" -m 2 | sed -n 's/.*broker \([0-9]\) at .*(controller).*/\1/p')
[[ $CTL =~ ^[123]$ ]] || fail "no controller"
B=1
[[ $CTL == 1 ]] && B=2
CTL_PID=${PIDS[$CTL]}
trap 'kill -CONT $CTL_PID 2>/dev/null || true; cleanup' EXIT
kill -STOP "$CTL_PID"
echo "controller $CTL paused; the first group request goes to broker $B"
timeout 8 "$BIN" committed "127.0.0.1:${GN_CLUSTER_PORTS}0$B" g1 gtopic 1 >/dev/null 2>&1 || true
sleep 5 # the create (forwarded to the paused controller) times out meanwhile
kill -CONT "$CTL_PID"
T0=$SECONDS
usable() { timeout 10 "$BIN" committed "$(bootstrap)" g1 gtopic 1; }
wait_for 20 "the group usable (OffsetFetch answered)" usable
grep -q "cannot create __consumer_offsets yet; retrying" "$WORK/b$B.log" ||
    echo "(the first create did not fail this time: nothing retried)"
echo "the group is usable $((SECONDS - T0)) s after the controller resumed"
stop_all
check_logs
echo "PASS"
