#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# MQTT persistent sessions through any broker of a three-broker cluster (MQTT and HTTP
# listeners on; data topic mv of one partition, replication factor 3, so every broker
# holds it: no remote reads needed).
# - Move (MQTT 5 and 3.1.1): mosquitto_sub -c -q 1 subscribes on broker 1 and leaves;
#   QoS 1 messages published through broker 3 and a record produced with kcat arrive,
#   exactly those, when the same client id comes back on broker 2.
# - Takeover: client T connected on broker 1 (mosquitto_sub v5; a raw 3.1.1 socket),
#   then on broker 2: the first connection gets DISCONNECT 0x8E (3.1.1: closed), the
#   second receives what is published next.
# - Expiry: a session expires once (one tombstone, by its owner), not on every broker.
# - Kill -9 the broker holding a connected session: the client reconnects on another
#   broker and gets every message published while it was cut off.
# - Two brokers gone: __mqtt_sessions takes no claim, CONNECT gets 0x88 (3.1.1: 3) and
#   the broker says why in its log.
# Ports 29600-29649 (GN_CLUSTER_PORTS); about a minute.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
for tool in kcat mosquitto_pub mosquitto_sub python3; do
    command -v "$tool" >/dev/null || { echo "SKIP: $tool not installed"; exit 0; }
done

for n in 1 2 3; do start_broker "$n" --gateways --num.partitions=1; done
wait_for 20 "three brokers registered" brokers_in_metadata 3
wait_for 30 "topic mv with an ISR of three" bash -c "[[ \"\$(kcat -L -b '$(bootstrap)' -t mv -m 2 | grep -o 'isrs: .*')\" =~ ^isrs:\ [0-9],[0-9],[0-9]$ ]]"
wait_for 30 "__mqtt_sessions with a replica on every broker" isr_full __mqtt_sessions
for n in 1 2 3; do
    wait_for 20 "broker $n knows mv" bash -c "kcat -L -b 127.0.0.1:${GN_CLUSTER_PORTS}0$n -t mv -m 2 | grep -q 'partition 0, leader [123]'"
done
M() { echo "-h 127.0.0.1 -p $(mqtt_port "$1")"; }

# ---- a session moves from broker 1 to broker 2
for V in mqttv5 mqttv311; do
    EXP=()
    [[ $V == mqttv5 ]] && EXP=(-x 600)
    id="mover-$V"
    # register the session and its subscription on broker 1, then leave
    mosquitto_sub $(M 1) -V $V -c "${EXP[@]}" -i "$id" -q 1 -t "mv/$V/#" -C 1 -W 1 >/dev/null 2>&1 || true
    for i in 1 2 3; do
        mosquitto_pub $(M 3) -V $V -q 1 -i "pub-$V" -t "mv/$V/k$i" -m "m$i" ||
            fail "$V: publish $i through broker 3 failed"
    done
    echo "m4" | kcat -P -b "$(bootstrap)" -t mv -k "$V/k4" || fail "kcat produce failed"
    mosquitto_sub $(M 2) -V $V -c "${EXP[@]}" -i "$id" -q 1 -t "mv/$V/#" -C 5 -W 8 \
        -F '%t %p' >"$WORK/move-$V.out" 2>"$WORK/move-$V.err" || true
    printf 'mv/%s/k1 m1\nmv/%s/k2 m2\nmv/%s/k3 m3\nmv/%s/k4 m4\n' $V $V $V $V >"$WORK/want.txt"
    diff "$WORK/want.txt" "$WORK/move-$V.out" >/dev/null ||
        fail "$V: session moved to broker 2 did not get exactly the messages sent while away: $(tr '\n' '|' <"$WORK/move-$V.out") $(cat "$WORK/move-$V.err")"
    echo "$V: session left broker 1, came back on broker 2, got the 4 messages sent while away"
done

# ---- takeover across brokers, MQTT 5: DISCONNECT 0x8E to the first connection
mosquitto_sub $(M 1) -V mqttv5 -c -x 600 -i taker -q 1 -t 'mv/t/#' -d >"$WORK/t1.out" 2>&1 &
T1=$!
wait_for 10 "taker connected on broker 1" grep -q 'client connected.*client=taker ' "$WORK/b1.log"
mosquitto_sub $(M 2) -V mqttv5 -c -x 600 -i taker -q 1 -t 'mv/t/#' -C 2 -W 20 -F '%t %p' \
    >"$WORK/t2.out" 2>"$WORK/t2.err" &
T2=$!
wait_for 10 "broker 1 closed the first connection" grep -q 'Received DISCONNECT (142)' "$WORK/t1.out"
wait "$T1" || true
wait_for 10 "taker connected on broker 2" grep -q 'client connected.*client=taker ' "$WORK/b2.log"
sleep 0.5
for i in 1 2; do mosquitto_pub $(M 3) -V mqttv5 -q 1 -t "mv/t/n$i" -m "n$i" || fail "publish n$i"; done
wait "$T2" || fail "second connection of taker got $(wc -l <"$WORK/t2.out") of 2: $(cat "$WORK/t2.err")"
[[ $(tr '\n' '|' <"$WORK/t2.out") == "mv/t/n1 n1|mv/t/n2 n2|" ]] || fail "taker on broker 2 got: $(cat "$WORK/t2.out")"
grep -q 'session taken over by another broker.*client=taker' "$WORK/b1.log" || fail "no takeover log line on broker 1"
echo "mqttv5: taker on broker 1 got DISCONNECT 0x8E when it connected on broker 2, which gets the next messages"

# ---- takeover across brokers, MQTT 3.1.1: the first connection is closed
python3 - "$(mqtt_port 1)" "$(mqtt_port 2)" <<'PY' || fail "3.1.1 takeover across brokers"
import socket, sys
p1, p2 = int(sys.argv[1]), int(sys.argv[2])
# CONNECT 3.1.1, clean session 0, keep alive 60, client id "taker311"
c = bytes.fromhex("101400044d5154540400003c0008") + b"taker311"
a = socket.create_connection(("127.0.0.1", p1)); a.sendall(c)
a.settimeout(10); r = a.recv(64); assert r[:2] == b"\x20\x02" and r[3] == 0, r.hex()
b = socket.create_connection(("127.0.0.1", p2)); b.sendall(c)
b.settimeout(10); r = b.recv(64); assert r[:2] == b"\x20\x02" and r[2] == 1 and r[3] == 0, r.hex()
assert a.recv(64) == b"", "first connection not closed"
PY
echo "mqttv311: the first connection on broker 1 was closed when taker311 connected on broker 2 (session present)"

# ---- expiry: a session left on broker 1 expires once (a tombstone from its owner only),
# and the client id back on broker 2 finds no session (nothing published meanwhile)
mosquitto_sub $(M 1) -V mqttv5 -c -x 2 -i brief -q 1 -t 'mv/e/#' -C 1 -W 1 >/dev/null 2>&1 || true
mosquitto_pub $(M 3) -V mqttv5 -q 1 -t mv/e/x -m while-away || fail "publish mv/e/x"
sleep 5 # expired after 2 s
out=$(mosquitto_sub $(M 2) -V mqttv5 -c -i brief -q 1 -t 'mv/e/#' -C 1 -W 3 -F '%p' 2>/dev/null || true)
[[ $out != *while-away* ]] || fail "expired session resumed on broker 2: $out"
sleep 1
ends=$(kcat -C -b "$(bootstrap)" -t __mqtt_sessions -o beginning -e -q -f '%k %S\n' | grep -c '^brief -1$' || true)
# the expiry's, written by broker 1 alone (mosquitto_sub -c without -x asks for a session
# that never expires, so the second one stays)
((ends == 1)) || fail "session brief ended $ends times in __mqtt_sessions, want 1: $(kcat -C -b "$(bootstrap)" -t __mqtt_sessions -o beginning -e -q -f '%k %S %h\n' | grep '^brief')"
echo "expiry: the session expired once on its owner; broker 2 started a new one"

# ---- kill -9 the broker holding a connected session
L=$(leader_of mv)
K=1
[[ $L == 1 ]] && K=2
R=3
[[ $L == 3 ]] && R=$((K == 1 ? 2 : 1))
echo "mv leader $L; session on broker $K, killed; comes back on broker $R"
mosquitto_sub $(M "$K") -V mqttv5 -c -x 600 -i survivor -q 1 -t 'mv/s/#' -F '%t %p' >"$WORK/k1.out" 2>&1 &
K1=$!
wait_for 10 "survivor connected on broker $K" grep -q 'client connected.*client=survivor ' "$WORK/b$K.log"
sleep 0.5
for i in 1 2 3; do mosquitto_pub $(M "$R") -V mqttv5 -q 1 -t "mv/s/a$i" -m "a$i" || fail "publish a$i"; done
wait_for 10 "survivor received a1..a3" bash -c "(( \$(wc -l <'$WORK/k1.out') >= 3 ))"
sleep 2 # its acknowledged positions reach the other brokers (saved each second)
kill9 "$K"
kill "$K1" 2>/dev/null || true
wait "$K1" 2>/dev/null || true
for i in 1 2 3; do
    mosquitto_pub $(M "$R") -V mqttv5 -q 1 -t "mv/s/b$i" -m "b$i" || fail "publish b$i after the kill"
done
got=0
for _ in $(seq 1 10); do # CONNACK 0x88 while __mqtt_sessions elects a new leader
    if mosquitto_sub $(M "$R") -V mqttv5 -c -x 600 -i survivor -q 1 -t 'mv/s/#' -C 6 -W 10 \
        -F '%t %p' >"$WORK/k2.out" 2>"$WORK/k2.err" || [[ -s "$WORK/k2.out" ]]; then
        got=1
        break
    fi
    sleep 1
done
((got)) || fail "survivor could not reconnect on broker $R: $(cat "$WORK/k2.err")"
for i in 1 2 3; do
    grep -qx "mv/s/b$i b$i" "$WORK/k2.out" || fail "b$i published while survivor was cut off is lost: $(tr '\n' '|' <"$WORK/k2.out")"
done
dups=$(grep -c ' a[123]$' "$WORK/k2.out" || true)
echo "survivor: the session moved from killed broker $K to $R with b1..b3 ($dups of a1..a3 again, QoS 1 allows)"

# ---- __mqtt_sessions unavailable: CONNACK 0x88 (MQTT 5) and 3 (3.1.1)
O=$((6 - K - R))
kill9 "$O"
sleep 4 # broker R loses the metadata lease: no leader for __mqtt_sessions
out=$(mosquitto_sub $(M "$R") -V mqttv5 -i lonely -t 'mv/#' -C 1 -W 15 2>&1 || true)
[[ $out == *"Server unavailable"* ]] || fail "v5 CONNECT without a session store: $out"
out=$(mosquitto_sub $(M "$R") -V mqttv311 -i lonely311 -t 'mv/#' -C 1 -W 15 2>&1 || true)
[[ $out == *"unavailable"* ]] || fail "3.1.1 CONNECT without a session store: $out"
grep -q 'session store unavailable, CONNECT refused.*client=lonely ' "$WORK/b$R.log" ||
    fail "no log line for the refused CONNECT"
echo "alone: CONNECT answered 0x88 (v5) / 3 (3.1.1), logged"

stop_all
check_logs
echo "PASS"
