#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Shared subscriptions ($share/G/filter, MQTT 5 and 3.1.1 clients alike): the sessions
# are members of consumer group G and split the topic's 4 partitions, so each message
# goes to one member; a plain subscriber still gets every message.
set -euo pipefail
. "$(dirname "$0")/common.bash"
start_broker 21883 0 --num.partitions=4 --group.initial.rebalance.delay.ms=100

pub -t jobs/seed -m 0 # creates the topic: a group member subscribes to existing partitions
sub -V mqttv5 -i sa -t '$share/g1/jobs/#' -C 10 -W 6 >"$DATA.a" 2>/dev/null &
A=$!
sub -V mqttv311 -i sb -t '$share/g1/jobs/#' -C 10 -W 6 >"$DATA.b" 2>/dev/null &
B=$!
sub -t 'jobs/#' -C 10 >"$DATA.all" &
ALL=$!
last_assigned() { grep "msg=\"shared subscription assigned\" client=$1 " "$LOG" | tail -1 | grep -o 'partitions=[0-9]*' || true; }
for _ in $(seq 1 40); do # both members hold 2 of the 4 partitions
    [ "$(last_assigned sa)" = partitions=2 ] && [ "$(last_assigned sb)" = partitions=2 ] && break
    sleep 0.1
done
for i in $(seq 1 10); do pub -q 1 -t "jobs/j$i" -m "$i"; done
wait $ALL || fail "plain subscriber"
wait $A || true
wait $B || true
na=$(wc -l <"$DATA.a")
nb=$(wc -l <"$DATA.b")
[ $((na + nb)) -eq 10 ] || fail "shared group got $na + $nb messages"
[ "$na" -gt 0 ] && [ "$nb" -gt 0 ] || fail "one member got everything: $na / $nb"
[ "$(wc -l <"$DATA.all")" -eq 10 ] || fail "plain subscriber count"
echo ok
