#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Wills of clients connected to a broker that is killed with -9 (three brokers; the one
# killed leads __mqtt_sessions, so the session store fails over too; data topic wl of one
# partition, replication factor 3). A watcher on a survivor subscribes to wl/#.
# - c1 (3.1.1, clean session, will): its will is published once, once the broker is
#   fenced for missing heartbeats (no grace: it was not a controlled shutdown).
# - c2 (MQTT 5, session expiry 600 s, will delay 3 s): published once, 3 s after c1's
#   (with it when the adoption comes over 3 s after the kill: the delay has run out).
# - c3 (MQTT 5, will delay 8 s) comes back on a survivor at once: never published.
# - c4 (3.1.1) and c5 (MQTT 5, persistent) sent DISCONNECT before the kill: never.
# - Exactly one survivor adopts each lost session (log line); after the killed broker
#   restarts, no will is published again.
# - Cut off instead (SIGSTOP, neither the controller nor the session store's leader) with
#   c6 (MQTT 5, will) connected: the others fence it and publish c6's will; resumed, it
#   finds the session adopted and closes c6's connection (DISCONNECT 0x8E) without
#   publishing the will again.
# - Stopped cleanly (SIGTERM: a controlled shutdown fences the broker while its clients
#   are still connected) with c7 (MQTT 5, persistent) and c8 (3.1.1) connected, both with
#   wills: they get DISCONNECT 0x8B (3.1.1: closed) and no will is published. (This step
#   catches an adopter that ignores the fence's `shutdown` mark only when one of its
#   sweeps falls between the fence and the offline saves: a run with no grace at all
#   passed it.)
# Ports 29600-29649 (GN_CLUSTER_PORTS); about two minutes.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
for tool in kcat mosquitto_pub mosquitto_sub; do
    command -v "$tool" >/dev/null || { echo "SKIP: $tool not installed"; exit 0; }
done

for n in 1 2 3; do start_broker "$n" --gateways --num.partitions=1; done
wait_for 20 "three brokers registered" brokers_in_metadata 3
# topic wl, created by a first message (refused while __mqtt_sessions is being created)
first_message() {
    mosquitto_pub -h 127.0.0.1 -p "$(mqtt_port 1)" -V mqttv5 -q 1 -t wl/init -m init >/dev/null 2>&1
    isr_full wl
}
wait_for 30 "topic wl with an ISR of three" first_message
wait_for 30 "__mqtt_sessions with a replica on every broker" isr_full __mqtt_sessions
M() { echo "-h 127.0.0.1 -p $(mqtt_port "$1")"; }
CLIENTS=() # MQTT clients still running when the test ends (fails)
trap 'kill "${CLIENTS[@]}" 2>/dev/null || true; cleanup' EXIT

K=$(leader_of __mqtt_sessions)
S1=$((K == 1 ? 2 : 1))
S2=$((6 - K - S1))
echo "broker $K (the session store's leader) is killed; watcher and c3 on broker $S2"
mosquitto_sub $(M "$S2") -V mqttv5 -i watcher -q 1 -t 'wl/#' -F '%U %t %p' >"$WORK/wills.out" 2>&1 &
W=$!
CLIENTS+=("$W")
wait_for 10 "watcher connected" grep -q 'client connected.*client=watcher ' "$WORK/b$S2.log"
for n in 1 2 3; do
    wait_for 20 "broker $n knows wl" bash -c "kcat -L -b 127.0.0.1:${GN_CLUSTER_PORTS}0$n -t wl -m 2 | grep -q 'partition 0, leader [123]'"
done

CL=()
mosquitto_sub $(M "$K") -V mqttv311 -i lw-c1 -t nothing --will-topic wl/c1 --will-payload c1-gone \
    --will-qos 1 >/dev/null 2>&1 &
CL+=($!)
CLIENTS+=($!)
mosquitto_sub $(M "$K") -V mqttv5 -c -x 600 -i lw-c2 -t nothing -D will will-delay-interval 3 \
    --will-topic wl/c2 --will-payload c2-gone --will-qos 1 >/dev/null 2>&1 &
CL+=($!)
CLIENTS+=($!)
mosquitto_sub $(M "$K") -V mqttv5 -c -x 600 -i lw-c3 -t nothing -D will will-delay-interval 8 \
    --will-topic wl/c3 --will-payload c3-wrong >/dev/null 2>&1 &
CL+=($!)
CLIENTS+=($!)
mosquitto_pub $(M "$K") -V mqttv311 -i lw-c4 --will-topic wl/c4 --will-payload c4-wrong -t wl/x -m c4 ||
    fail "c4 publish"
mosquitto_pub $(M "$K") -V mqttv5 -c -x 600 -i lw-c5 --will-topic wl/c5 --will-payload c5-wrong \
    -t wl/x -m c5 || fail "c5 publish"
for c in 1 2 3; do
    wait_for 10 "lw-c$c connected on broker $K" grep -q "client connected.*client=lw-c$c " "$WORK/b$K.log"
done
sleep 1.5 # their records (claims, states with the wills) are replicated

T_KILL=$(date +%s.%N)
kill9 "$K"
kill "${CL[@]}" 2>/dev/null || true
wait "${CL[@]}" 2>/dev/null || true
# c3 comes back on a survivor before its will delay ends (CONNACK 0x88 while the session
# store elects a leader: again)
C3=""
for _ in $(seq 1 20); do
    mosquitto_sub $(M "$S2") -V mqttv5 -c -x 600 -i lw-c3 -t nothing >"$WORK/c3.out" 2>&1 &
    C3=$!
    CLIENTS+=("$C3")
    sleep 1
    grep -q 'client connected.*client=lw-c3 ' "$WORK/b$S2.log" && break
    kill "$C3" 2>/dev/null || true
    wait "$C3" 2>/dev/null || true
    C3=""
done
[[ -n $C3 ]] || fail "c3 could not reconnect on broker $S2: $(cat "$WORK/c3.out")"
echo "c3 back on broker $S2"

wait_for 20 "c1's will" grep -q ' wl/c1 c1-gone$' "$WORK/wills.out"
wait_for 15 "c2's will" grep -q ' wl/c2 c2-gone$' "$WORK/wills.out"
sleep 10 # c3's will delay (8 s) has passed
got=$(grep -v ' wl/x ' "$WORK/wills.out" | cut -d' ' -f2- | sort | tr '\n' '|')
[[ $got == "wl/c1 c1-gone|wl/c2 c2-gone|" ]] || fail "wills published: $got (want c1 and c2, once each)"
t1=$(grep ' wl/c1 ' "$WORK/wills.out" | cut -d' ' -f1)
t2=$(grep ' wl/c2 ' "$WORK/wills.out" | cut -d' ' -f1)
echo "c1's will $(awk -v a="$t1" -v k="$T_KILL" 'BEGIN { printf "%.1f", a - k }') s after the kill"
# MQTT 5: the delay runs from the disconnection, which the survivors learn of when they
# fence the broker. If a survivor adopts the sessions after more than 3 s (a slow
# failover of the session store), both wills are due at once and may come together.
awk -v a="$t1" -v b="$t2" -v k="$T_KILL" 'BEGIN { exit !(b - a >= 2 || (b >= a && a - k >= 3)) }' ||
    fail "c2's will (delay 3 s) came $t2, c1's $t1 (kill at $T_KILL): the delay was not honoured"
for c in 1 2; do
    n=$(grep -l "session of a lost connection adopted\" client=lw-c$c " "$WORK"/b*.log | wc -l)
    ((n == 1)) || fail "lw-c$c adopted by $n brokers, want 1"
done
echo "wills: c1 once, c2 once (3 s later), none for c3 (back in time), c4 and c5 (DISCONNECT)"

# the killed broker comes back: nothing published again
start_broker "$K" --gateways --num.partitions=1
wait_for 20 "broker $K registered again" brokers_in_metadata 3
wait_for 20 "broker $K's MQTT listener again" bash -c "(( \$(grep -c 'mod=mqtt msg=\"listening\" host=127.0.0.1 port=$(mqtt_port "$K") ' '$WORK/b$K.log') >= 2 ))"
sleep 6
got=$(grep -v ' wl/x ' "$WORK/wills.out" | cut -d' ' -f2- | sort | tr '\n' '|')
[[ $got == "wl/c1 c1-gone|wl/c2 c2-gone|" ]] || fail "after broker $K restarted, wills: $got"
echo "broker $K restarted: no will published again"

# ---- cut off rather than killed
L=$(leader_of __mqtt_sessions)
CTL=$(kcat -L -b "$(bootstrap)" -m 2 2>/dev/null | sed -n 's/.*broker \([0-9]\) at .*(controller).*/\1/p')
X=""
for n in 3 2 1; do [[ $n != "$L" && $n != "$CTL" ]] && X=$n && break; done
O=$((L == X ? CTL : L))
echo "broker $X (not the controller $CTL nor the store's leader $L) is paused; watcher on broker $O"
wait_for 30 "__mqtt_sessions with a replica on every broker again" isr_full __mqtt_sessions
mosquitto_sub $(M "$O") -V mqttv5 -i watcher2 -q 1 -t 'wl/#' -F '%t %p' >"$WORK/wills2.out" 2>&1 &
W2=$!
CLIENTS+=("$W2")
mosquitto_sub $(M "$X") -V mqttv5 -i lw-c6 -t nothing --will-topic wl/c6 --will-payload c6-gone -d \
    >"$WORK/c6.out" 2>&1 &
C6=$!
CLIENTS+=("$C6")
wait_for 10 "watcher2 connected" grep -q 'client connected.*client=watcher2 ' "$WORK/b$O.log"
wait_for 10 "lw-c6 connected on broker $X" grep -q 'client connected.*client=lw-c6 ' "$WORK/b$X.log"
sleep 1.5
kill -STOP "${PIDS[$X]}"
wait_for 20 "c6's will while broker $X is paused" grep -q '^wl/c6 c6-gone$' "$WORK/wills2.out"
kill -CONT "${PIDS[$X]}"
wait_for 30 "broker $X closed c6's connection (DISCONNECT 0x8E)" grep -q 'Received DISCONNECT (142)' "$WORK/c6.out"
sleep 3
n=$(grep -c '^wl/c6 ' "$WORK/wills2.out" || true)
((n == 1)) || fail "c6's will published $n times, want 1: $(tr '\n' '|' <"$WORK/wills2.out")"
echo "cut off: c6's will published once by the others; broker $X, resumed, closed c6 with 0x8E"

# ---- stopped cleanly: no will
Y=$((O == 1 ? 2 : 1))
wait_for 30 "broker $X back in the ISR of __mqtt_sessions" isr_full __mqtt_sessions
mosquitto_sub $(M "$Y") -V mqttv5 -c -x 600 -i lw-c7 -t nothing --will-topic wl/c7 \
    --will-payload c7-wrong -d >"$WORK/c7.out" 2>&1 &
C7=$!
CLIENTS+=("$C7")
mosquitto_sub $(M "$Y") -V mqttv311 -i lw-c8 -t nothing --will-topic wl/c8 --will-payload c8-wrong \
    >/dev/null 2>&1 &
C8=$!
CLIENTS+=("$C8")
for c in 7 8; do
    wait_for 10 "lw-c$c connected on broker $Y" grep -q "client connected.*client=lw-c$c " "$WORK/b$Y.log"
done
sleep 1.5
kill -TERM "${PIDS[$Y]}"
wait "${PIDS[$Y]}" 2>/dev/null || true
unset "PIDS[$Y]"
sleep 12 # past the grace a broker in a controlled shutdown gets (its 5 s timeout + 2 s)
! grep -q ' wl/c[78] \|^wl/c[78] ' "$WORK/wills.out" "$WORK/wills2.out" ||
    fail "wills published after broker $Y stopped cleanly: $(grep -h 'c[78]-wrong' "$WORK/wills.out" "$WORK/wills2.out" | tr '\n' '|')"
grep -q 'Received DISCONNECT (139)' "$WORK/c7.out" ||
    fail "c7 did not get DISCONNECT 0x8B from broker $Y: $(grep -i disconnect "$WORK/c7.out" | tr '\n' '|')"
echo "stopped cleanly: c7 got DISCONNECT 0x8B, no will for c7 or c8"

kill "$C3" "$W" "$W2" "$C6" "$C7" "$C8" 2>/dev/null || true
wait "$C3" "$W" "$W2" "$C6" "$C7" "$C8" 2>/dev/null || true
stop_all
check_logs
echo "PASS"
