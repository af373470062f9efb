#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Shared subscriptions ($share/G/filter, MQTT 5 and 3.1.1 clients alike): each message
# goes to one member of the group; a plain subscriber still gets every message.
set -euo pipefail
. "$(dirname "$0")/common.bash"
start_broker 21883

sub -V mqttv5 -t '$share/g1/jobs/#' -C 10 -W 4 >"$DATA.a" 2>/dev/null &
A=$!
sub -V mqttv311 -t '$share/g1/jobs/#' -C 10 -W 4 >"$DATA.b" 2>/dev/null &
B=$!
sub -t 'jobs/#' -C 10 >"$DATA.all" &
ALL=$!
sleep 0.5
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
