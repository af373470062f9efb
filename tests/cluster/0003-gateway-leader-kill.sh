#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# QoS 1 through a broker that does not lead the partition, while the leader is killed
# with SIGKILL: mosquitto_pub (MQTT 5, one connection per message, so each PUBACK is
# known) publishes numbered messages to broker P; the leader L dies mid-loop; P's forwards
# go to the new leader once the controller elects it. Every message P acknowledged is in
# the log afterwards (duplicates are allowed: QoS 1 is at least once), and messages are
# acknowledged again after the failover. Ports 29600-29649 (GN_CLUSTER_PORTS); bounded to about a minute.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
for tool in kcat mosquitto_pub; do
    command -v "$tool" >/dev/null || { echo "SKIP: $tool not installed"; exit 0; }
done

for n in 1 2 3; do start_broker "$n" --gateways --num.partitions=1; done
wait_for 20 "three brokers registered" brokers_in_metadata 3
wait_for 20 "topic kq with an ISR of three" bash -c "[[ \"\$(kcat -L -b '$(bootstrap)' -t kq -m 2 | grep -o 'isrs: .*')\" =~ ^isrs:\ [0-9],[0-9],[0-9]$ ]]"
L=$(leader_of kq)
[[ "$L" =~ ^[123]$ ]] || fail "no leader: $L"
P=1
[[ $L == 1 ]] && P=2
for n in 1 2 3; do
    wait_for 20 "broker $n knows kq" bash -c "kcat -L -b 127.0.0.1:${GN_CLUSTER_PORTS}0$n -t kq -m 2 | grep -q 'partition 0, leader [123]'"
done
echo "leader $L, publishing on $P"

# one message per connection: acknowledged = exit 0 and nothing printed (a PUBACK with a
# failure reason code prints a warning)
publish_loop() {
    local i=0 out end=$((SECONDS + 120))
    while [[ ! -e "$WORK/stop" && -d "$WORK" ]] && ((SECONDS < end)); do
        i=$((i + 1))
        if out=$(timeout 40 mosquitto_pub -h 127.0.0.1 -p "$(mqtt_port "$P")" -V mqttv5 -q 1 \
            -i "pub-$i" -t kq/k -m "$i" 2>&1) && [[ -z $out ]]; then
            echo "$i" >>"$WORK/acked.txt"
        else
            echo "$i ${out:-exit $?}" >>"$WORK/refused.txt"
        fi
    done
}
: >"$WORK/acked.txt"
publish_loop &
LOOP=$!
wait_for 20 "messages acknowledged before the kill" bash -c "(( \$(wc -l <'$WORK/acked.txt') >= 20 ))"
before=$(wc -l <"$WORK/acked.txt")
kill9 "$L"
echo "killed leader $L after $before acknowledged messages"
wait_for 40 "messages acknowledged after the failover" bash -c "(( \$(wc -l <'$WORK/acked.txt') >= $before + 20 ))"
touch "$WORK/stop"
wait "$LOOP"
acked=$(wc -l <"$WORK/acked.txt")
refused=$(wc -l <"$WORK/refused.txt" 2>/dev/null || echo 0)
echo "acknowledged $acked, refused $refused (refused during the failover is allowed)"
[[ -s "$WORK/refused.txt" ]] && head -3 "$WORK/refused.txt"

NEW=$(leader_of kq)
[[ "$NEW" =~ ^[123]$ && $NEW != "$L" ]] || fail "no new leader: $NEW"
kcat -C -b "$(bootstrap)" -t kq -p 0 -o beginning -e -q -f '%s\n' >"$WORK/log.txt" || fail "consume failed"
sort -n "$WORK/log.txt" | uniq >"$WORK/have.txt"
sort -n "$WORK/acked.txt" >"$WORK/want.txt"
lost=$(comm -23 "$WORK/want.txt" "$WORK/have.txt" | wc -l)
((lost == 0)) || fail "$lost acknowledged messages lost, e.g. $(comm -23 "$WORK/want.txt" "$WORK/have.txt" | head -5 | tr '\n' ' ')"
echo "no acknowledged message lost ($(wc -l <"$WORK/log.txt") records in the log, new leader $NEW)"

stop_all
check_logs
echo "PASS"
