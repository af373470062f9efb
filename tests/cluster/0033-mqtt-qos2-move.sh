#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# QoS 2 in flight moves with an MQTT 5 session between brokers (three brokers, data topic
# qm of one partition, replication factor 3), driven packet by packet by a raw-socket
# client (mqtt_qos2.py):
# - Inbound: PUBLISH QoS 2 id 7 on broker A, PUBREC 7; the client goes (closes; takes its
#   session over from B while still connected to A; or stays while A is killed with -9)
#   and comes back on broker B: PUBLISH 7 again with DUP gets
#   PUBREC 7 and is not appended again, PUBREL 7 gets PUBCOMP 7 reason 0; the log holds
#   the message exactly once.
# - Outbound: a QoS 2 delivery on A answered PUBREC (A sent PUBREL, no PUBCOMP yet); the
#   client comes back on B (after closing; by takeover; or A killed): B's first packet is PUBREL for
#   that id, not the PUBLISH again, and nothing else follows PUBCOMP.
# Ports 29600-29649 (GN_CLUSTER_PORTS); about a minute.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
for tool in kcat mosquitto_pub python3; do
    command -v "$tool" >/dev/null || { echo "SKIP: $tool not installed"; exit 0; }
done
Q2="python3 $(dirname "$0")/mqtt_qos2.py"
CLIENTS=() # clients still running when the test ends (fails)
trap 'kill "${CLIENTS[@]}" 2>/dev/null || true; cleanup' EXIT

for n in 1 2 3; do start_broker "$n" --gateways --num.partitions=1; done
wait_for 20 "three brokers registered" brokers_in_metadata 3
# topic qm, created by a first message (refused while __mqtt_sessions is being created)
first_message() {
    mosquitto_pub -h 127.0.0.1 -p "$(mqtt_port 1)" -V mqttv5 -q 1 -t qm/init -m init >/dev/null 2>&1
    isr_full qm
}
wait_for 30 "topic qm with an ISR of three" first_message
wait_for 30 "__mqtt_sessions with a replica on every broker" isr_full __mqtt_sessions
for n in 1 2 3; do
    wait_for 20 "broker $n knows qm" bash -c "kcat -L -b 127.0.0.1:${GN_CLUSTER_PORTS}0$n -t qm -m 2 | grep -q 'partition 0, leader [123]'"
done

# copies of payload P in topic qm
count_in_log() {
    kcat -C -b "$(bootstrap)" -t qm -o beginning -e -q -f '%s\n' 2>/dev/null | grep -cx "$1" || true
}

# in_finish PORT ID TOPIC PAYLOAD: retried while CONNACK is 0x88 (the session store
# electing a leader after a kill)
retry_finish() {
    local i
    for i in $(seq 1 15); do
        if $Q2 "$@" 2>"$WORK/q2.err"; then return 0; fi
        grep -q 'CONNACK reason 0x88' "$WORK/q2.err" || return 1
        sleep 1
    done
    return 1
}

# ---- inbound, the client closes on A and comes back on B (A stays up)
$Q2 in-send "$(mqtt_port 1)" q2in-move qm/in/move once-move "$WORK/in-move.mark" 0 ||
    fail "inbound QoS 2 on broker 1 (PUBLISH, PUBREC)"
retry_finish in-finish "$(mqtt_port 2)" q2in-move qm/in/move once-move ||
    fail "inbound QoS 2 moved to broker 2: $(cat "$WORK/q2.err")"
n=$(count_in_log once-move)
((n == 1)) || fail "inbound QoS 2 moved to broker 2: the message is $n times in the log, want 1"
echo "inbound: PUBREC 7 on broker 1; on broker 2 the DUP PUBLISH 7 got PUBREC (no append), PUBREL 7 PUBCOMP 0; once in the log"

# ---- outbound, the client closes on A and comes back on B
$Q2 out-recv "$(mqtt_port 1)" q2out-move qm/out/move "$WORK/out-move.ready" "$WORK/out-move.mark" 0 \
    2>"$WORK/out-move.err" &
P=$!
CLIENTS+=("$P")
wait_for 15 "q2out-move subscribed on broker 1" test -s "$WORK/out-move.ready"
mosquitto_pub -h 127.0.0.1 -p "$(mqtt_port 3)" -V mqttv5 -q 2 -t qm/out/move -m deliver-move ||
    fail "publish qm/out/move"
wait "$P" || fail "outbound QoS 2 on broker 1: $(cat "$WORK/out-move.err")"
pid=$(cat "$WORK/out-move.mark")
retry_finish out-finish "$(mqtt_port 2)" q2out-move "$pid" ||
    fail "outbound QoS 2 moved to broker 2: $(cat "$WORK/q2.err")"
echo "outbound: PUBREC $pid on broker 1; broker 2 resumed with PUBREL $pid, not the PUBLISH"

# ---- takeover: both clients still connected on broker 1 when they connect on broker 3
$Q2 in-send "$(mqtt_port 1)" q2in-take qm/in/take once-take "$WORK/in-take.mark" 60 \
    2>"$WORK/in-take.err" &
P1=$!
CLIENTS+=("$P1")
$Q2 out-recv "$(mqtt_port 1)" q2out-take qm/out/take "$WORK/out-take.ready" "$WORK/out-take.mark" 60 \
    2>"$WORK/out-take.err" &
P2=$!
CLIENTS+=("$P2")
wait_for 15 "q2out-take subscribed on broker 1" test -s "$WORK/out-take.ready"
mosquitto_pub -h 127.0.0.1 -p "$(mqtt_port 2)" -V mqttv5 -q 2 -t qm/out/take -m deliver-take ||
    fail "publish qm/out/take"
wait_for 15 "PUBREC 7 on broker 1" test -s "$WORK/in-take.mark"
wait_for 15 "PUBREL on broker 1" test -s "$WORK/out-take.mark"
retry_finish in-finish "$(mqtt_port 3)" q2in-take qm/in/take once-take ||
    fail "inbound QoS 2 taken over on broker 3: $(cat "$WORK/q2.err")"
n=$(count_in_log once-take)
((n == 1)) || fail "inbound QoS 2 taken over: the message is $n times in the log, want 1"
pid=$(cat "$WORK/out-take.mark")
retry_finish out-finish "$(mqtt_port 3)" q2out-take "$pid" ||
    fail "outbound QoS 2 taken over on broker 3: $(cat "$WORK/q2.err")"
kill "$P1" "$P2" 2>/dev/null || true
wait "$P1" "$P2" 2>/dev/null || true
echo "takeover: on broker 3, PUBREL 7 got PUBCOMP 0 (once in the log); outbound resumed with PUBREL $pid"

# ---- the broker holding both connections is killed with -9 while they are open
L=$(leader_of __mqtt_sessions)
K=$((L == 1 ? 2 : 1)) # not the session store's leader: its records are replicated
R=$((6 - K - L))
echo "__mqtt_sessions leader $L; clients on broker $K, killed; they come back on broker $R"
$Q2 in-send "$(mqtt_port "$K")" q2in-kill qm/in/kill once-kill "$WORK/in-kill.mark" 60 \
    2>"$WORK/in-kill.err" &
P1=$!
CLIENTS+=("$P1")
$Q2 out-recv "$(mqtt_port "$K")" q2out-kill qm/out/kill "$WORK/out-kill.ready" "$WORK/out-kill.mark" 60 \
    2>"$WORK/out-kill.err" &
P2=$!
CLIENTS+=("$P2")
wait_for 15 "q2out-kill subscribed on broker $K" test -s "$WORK/out-kill.ready"
mosquitto_pub -h 127.0.0.1 -p "$(mqtt_port "$R")" -V mqttv5 -q 2 -t qm/out/kill -m deliver-kill ||
    fail "publish qm/out/kill"
wait_for 15 "PUBREC 7 on broker $K" test -s "$WORK/in-kill.mark"
wait_for 15 "PUBREL on broker $K" test -s "$WORK/out-kill.mark"
kill9 "$K"
kill "$P1" "$P2" 2>/dev/null || true
wait "$P1" "$P2" 2>/dev/null || true
retry_finish in-finish "$(mqtt_port "$R")" q2in-kill qm/in/kill once-kill ||
    fail "inbound QoS 2 after broker $K was killed: $(cat "$WORK/q2.err")"
n=$(count_in_log once-kill)
((n == 1)) || fail "inbound QoS 2 after the kill: the message is $n times in the log, want 1"
pid=$(cat "$WORK/out-kill.mark")
retry_finish out-finish "$(mqtt_port "$R")" q2out-kill "$pid" ||
    fail "outbound QoS 2 after broker $K was killed: $(cat "$WORK/q2.err")"
echo "kill -9: inbound PUBREL 7 got PUBCOMP 0 on broker $R (once in the log); outbound resumed with PUBREL $pid"

stop_all
check_logs
echo "PASS"
