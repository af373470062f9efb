#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A `$share/G/...` MQTT subscriber (mosquitto_sub) and a librdkafka consumer (kcat -G G)
# are members of one consumer group G on a 4-partition topic: the partitions split
# between them (disjoint, complete), and every record produced afterwards is delivered
# exactly once across both. Ports 21900 (MQTT) and 29190 (Kafka).
set -euo pipefail
. "$(dirname "$0")/common.bash"
K=127.0.0.1:29190
start_broker 21900 29190 --num.partitions=4 --group.initial.rebalance.delay.ms=200
T=jobs
G=mixed

for p in 0 1 2 3; do # creates the topic (auto-create, 4 partitions)
    echo "seed" | kcat -b $K -P -t $T -p $p || fail "kcat produce"
done

timeout 60 mosquitto_sub -h 127.0.0.1 -p 21900 -V mqttv5 -i mq-member -q 1 \
    -t "\$share/$G/$T/#" -v >"$DATA.mqtt" 2>"$DATA.mqtt.err" &
sleep 0.5
timeout 60 kcat -b $K -G $G -u -X session.timeout.ms=6000 -X heartbeat.interval.ms=300 \
    -X auto.offset.reset=latest -f '%p %s\n' $T >"$DATA.kafka" 2>"$DATA.kafka.err" &

assigned() { # partitions of kcat's latest assignment
    { grep 'assigned:' "$DATA.kafka.err" || true; } | tail -n 1 | grep -o '\[[0-9]*\]' |
        tr -d '[]' | sort -n | tr '\n' ' ' || true
}
for _ in $(seq 1 200); do
    a=$(assigned)
    n=$(echo $a | wc -w)
    gen=$(grep -c 'shared subscription assigned" client=mq-member' "$LOG" || true)
    if [ "$n" -ge 1 ] && [ "$n" -le 3 ] && [ "$gen" -ge 2 ]; then break; fi
    sleep 0.1
done
a=$(assigned)
n=$(echo $a | wc -w)
[ "$n" -ge 1 ] && [ "$n" -le 3 ] || fail "kcat was assigned [$a], expected a share of 4"
sleep 1 # both members settled in the same generation
grep 'shared subscription assigned" client=mq-member' "$LOG" | tail -1 || fail "no assignment logged"
echo "kcat assigned: $a"

for p in 0 1 2 3; do
    for i in $(seq 1 10); do echo "k$i:p$p-$i"; done | kcat -b $K -P -t $T -p $p -K: ||
        fail "kcat produce"
done

total() { echo $(($(grep -c ' p[0-9]-' "$DATA.mqtt" || true) + $(grep -c ' p[0-9]-' "$DATA.kafka" || true))); }
for _ in $(seq 1 100); do
    [ "$(total)" -ge 40 ] && break
    sleep 0.1
done
sleep 1 # anything extra would be a duplicate
[ "$(total)" -eq 40 ] || fail "delivered $(total) records across both members, expected 40"
mq_parts=$(grep -o ' p[0-9]-' "$DATA.mqtt" | tr -dc '0-9\n' | sort -u | tr '\n' ' ' || true)
kf_parts=$(grep -o '^[0-9]' "$DATA.kafka" | sort -u | tr '\n' ' ' || true)
echo "mqtt read partitions [$mq_parts], kcat read [$kf_parts]"
[ -n "$mq_parts" ] && [ -n "$kf_parts" ] || fail "one member got everything"
for p in $mq_parts; do [[ " $kf_parts" != *" $p "* ]] || fail "partition $p read by both"; done
[ "$(echo $mq_parts $kf_parts | wc -w)" -eq 4 ] || fail "not every partition was read"
[ "$kf_parts" == "$a" ] || fail "kcat read [$kf_parts], assigned [$a]"
dups=$(cat "$DATA.mqtt" "$DATA.kafka" | grep -o 'p[0-9]-[0-9]*' | sort | uniq -d | wc -l)
[ "$dups" -eq 0 ] || fail "$dups records delivered twice"
echo ok
