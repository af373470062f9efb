#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Forwarded produce is duplicate-free (core/replica/forward.c, idempotent forwarding):
# MQTT 5 QoS 1 (MQTT.js, 20 PUBACKs outstanding), WebSocket JSON produce (Node ws, 20
# acks outstanding) and two REST producers (curl, 4 records a request) write through
# broker P, which does not lead the partition, while the leader is paused with SIGSTOP
# long enough to be fenced (its answers to P's forwards are lost or come back as "not
# the leader" after it appended and replicated them), then killed twice (P's forward
# connection drops after appends the new leader has). Every record in the log must be
# there once, every acknowledged one must be there, and each producer's records must be
# in the order it sent them. Without idempotent forwarding the resends append batches
# twice (the code before failed this in 3 of 4 runs). Ports 29600-29649
# (GN_CLUSTER_PORTS); under a minute here.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
for tool in kcat curl jq node; do
    command -v "$tool" >/dev/null || { echo "SKIP: $tool not installed"; exit 0; }
done
HERE="$(cd "$(dirname "$0")" && pwd)"
need_tests_node_modules mqtt ws

for n in 1 2 3; do start_broker "$n" --gateways --num.partitions=1; done
wait_for 20 "three brokers registered" brokers_in_metadata 3
wait_for 20 "topic xo with an ISR of three" isr_full xo
for n in 1 2 3; do
    wait_for 20 "broker $n knows xo" bash -c "kcat -L -b 127.0.0.1:${GN_CLUSTER_PORTS}0$n -t xo -m 2 | grep -q 'partition 0, leader [123]'"
done
L=$(leader_of xo)
P=1
[[ $L == 1 ]] && P=2
echo "leader $L, producing through $P"

STOP="$WORK/stop"
node "$HERE/mqtt_acked_pub.mjs" "mqtt://127.0.0.1:$(mqtt_port "$P")" xo/m m 20 "$STOP" 120 \
    >"$WORK/acked-m.txt" 2>"$WORK/mqtt.err" &
MQ=$!
node "$HERE/ws_acked_pub.mjs" "http://127.0.0.1:$(http_port "$P")" xo w w 20 "$STOP" 120 \
    >"$WORK/acked-w.txt" 2>"$WORK/ws.err" &
WS=$!

# REST producer K: 4 records a request, values rK-<n>; acknowledged = 200 and no error
rest_loop() {
    local k=$1 n=0 r
    while [[ ! -e $STOP ]] && ((n < 20000)); do
        local recs="" vals=()
        for j in 1 2 3 4; do
            n=$((n + 1))
            vals+=("$n")
            recs="$recs${recs:+,}{\"value\":\"r$k-$n\"}"
        done
        if r=$(curl -sS -m 45 -X POST -H 'Content-Type: application/vnd.kafka.json.v2+json' \
            -H 'Accept: application/vnd.kafka.v2+json' --data "{\"records\":[$recs]}" \
            "http://127.0.0.1:$(http_port "$P")/topics/xo" 2>&1) &&
            [[ $(jq -r '[.offsets[].error_code]|unique|tostring' <<<"$r" 2>/dev/null) == '[null]' ]]; then
            printf '%s\n' "${vals[@]}" >>"$WORK/acked-r$k.txt"
        else
            echo "${vals[*]}: $r" >>"$WORK/refused-r$k.txt"
        fi
    done
}
: >"$WORK/acked-r1.txt"
: >"$WORK/acked-r2.txt"
rest_loop 1 &
R1=$!
rest_loop 2 &
R2=$!

acked() { cat "$WORK"/acked-*.txt | wc -l; }
if ! bash -c "end=\$((SECONDS + 60)); until (( \$(cat '$WORK'/acked-*.txt | wc -l) >= 200 )); do ((SECONDS < end)) || exit 1; sleep 0.2; done"; then
    tail -3 "$WORK/mqtt.err" "$WORK"/refused-r?.txt 2>/dev/null || true
    fail "fewer than 200 records acknowledged through $P in 60 s"
fi
# round 1 pauses the leader (SIGSTOP 6 s: it is fenced, answers late or "not the leader"
# for batches it appended); rounds 2 and 3 kill it (SIGKILL: P's connection drops after
# appends the new leader has), then restart it. When P leads, P is paused first so
# that the leadership moves away.
paused=0
for round in 1 2 3; do
    L=$(leader_of xo)
    for try in 1 2; do # P leads: pause P to move the leadership away (its clients wait)
        [[ $L == "$P" ]] || break
        echo "round $round: P leads, pausing it to move the leadership"
        kill -STOP "${PIDS[$P]}"
        sleep 6
        kill -CONT "${PIDS[$P]}"
        wait_for 30 "a leader other than $P" bash -c "L=\$(kcat -L -b '$(bootstrap)' -t xo -m 2 | sed -n 's/.*partition 0, leader \([0-9-]*\),.*/\1/p'); [[ \$L =~ ^[123]$ && \$L != $P ]]"
        wait_for 30 "broker $P back in the ISR" isr_full xo
        L=$(leader_of xo)
    done
    [[ $L =~ ^[123]$ && $L != "$P" ]] || { echo "round $round: leader is $L, skipped"; continue; }
    before=$(acked)
    if ((round == 1)); then
        kill -STOP "${PIDS[$L]}"
        echo "round $round: paused leader $L after $before acknowledged records"
        sleep 6
        kill -CONT "${PIDS[$L]}"
    else
        kill9 "$L"
        echo "round $round: killed leader $L after $before acknowledged records"
        sleep 1
        start_broker "$L" --gateways --num.partitions=1
    fi
    paused=$((paused + 1))
    wait_for 60 "records acknowledged after round $round" bash -c "(( \$(cat '$WORK'/acked-*.txt | wc -l) >= $before + 100 ))"
    wait_for 60 "broker $L back in the ISR" isr_full xo
done
((paused > 0)) || fail "the leader was never paused or killed"
touch "$STOP"
wait "$R1" "$R2"
wait "$MQ" || fail "the MQTT publisher failed: $(tail -3 "$WORK/mqtt.err")"
wait "$WS" || fail "the WebSocket producer failed: $(tail -3 "$WORK/ws.err")"
echo "acknowledged: mqtt $(wc -l <"$WORK/acked-m.txt"), websocket $(wc -l <"$WORK/acked-w.txt"), rest $(cat "$WORK"/acked-r?.txt | wc -l)"
cat "$WORK"/refused-r?.txt 2>/dev/null | head -3 || true
grep -m3 refused "$WORK/mqtt.err" || true

wait_for 20 "an ISR of three" isr_full xo
kcat -C -b "$(bootstrap)" -t xo -p 0 -o beginning -e -q -f '%s\n' | tr -d '"' >"$WORK/log.txt" ||
    fail "consume failed"
echo "$(wc -l <"$WORK/log.txt") records in the log"
dups=$(sort "$WORK/log.txt" | uniq -d | wc -l)
((dups == 0)) || fail "$dups records appended more than once, e.g. $(sort "$WORK/log.txt" | uniq -d | head -5 | tr '\n' ' ')"
for s in m w r1 r2; do
    # this producer's records in log order, as numbers
    sed -n "s/^$s-\([0-9]*\)$/\1/p" "$WORK/log.txt" >"$WORK/log-$s.txt"
    sort -n "$WORK/log-$s.txt" | cmp -s - "$WORK/log-$s.txt" ||
        fail "producer $s: records out of order in the log"
    sort "$WORK/acked-$s.txt" >"$WORK/want-$s.txt" # comm wants the collating order
    sort "$WORK/log-$s.txt" >"$WORK/have-$s.txt"
    lost=$(comm -23 "$WORK/want-$s.txt" "$WORK/have-$s.txt" | wc -l)
    ((lost == 0)) || fail "producer $s: $lost acknowledged records missing, e.g. $(comm -23 "$WORK/want-$s.txt" "$WORK/have-$s.txt" | head -5 | tr '\n' ' ')"
done
echo "every record once, every acknowledged one present, each producer's in order"

stop_all
check_logs
echo "PASS"
