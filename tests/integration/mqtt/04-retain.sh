#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Retained messages for 3.1.1 and 5.0: delivered on subscribe with the retain flag,
# replaced by a newer one, deleted by an empty payload, kept across a broker restart
# (compacted topic __mqtt_retained).
set -euo pipefail
. "$(dirname "$0")/common.bash"
start_broker 21886

for V in mqttv311 mqttv5; do
    pub -V $V -r -q 1 -t "r$V/a" -m old
    pub -V $V -r -q 1 -t "r$V/a" -m new
    pub -V $V -r -q 1 -t "r$V/b" -m bee
    sub -V $V -t "r$V/#" -C 2 -F '%r %t %p' | sort >"$DATA.out"
    printf '1 r%s/a new\n1 r%s/b bee\n' $V $V | diff - "$DATA.out" || fail "$V retained"
    pub -V $V -r -q 1 -t "r$V/b" -n
    sub -V $V -t "r$V/#" -C 1 -F '%t %p' >"$DATA.out"
    [ "$(cat "$DATA.out")" = "r$V/a new" ] || fail "$V delete: $(cat "$DATA.out")"
done
stop_broker
start_broker 21886
sub -t 'rmqttv5/#' -C 1 -F '%r %t %p' >"$DATA.out"
[ "$(cat "$DATA.out")" = "1 rmqttv5/a new" ] || fail "after restart: $(cat "$DATA.out")"
# 0 retained left for b after restart (the tombstone won)
! sub -t 'rmqttv5/b' -C 1 -W 1 >/dev/null 2>&1 || fail "deleted retained came back"
echo ok
