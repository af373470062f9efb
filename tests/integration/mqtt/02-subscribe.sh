#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# SUBSCRIBE/UNSUBSCRIBE with + and # for 3.1.1 and 5.0: what matches arrives, what does
# not match does not; "a/#" matches "a"; '$' topics are not matched by '#'; an invalid
# filter gets a failure code.
set -euo pipefail
. "$(dirname "$0")/common.bash"
start_broker 21884

for V in mqttv311 mqttv5; do
    sub -V $V -v -t "s$V/+/temp" -t "t$V/#" -C 4 >"$DATA.out" &
    S=$!
    sleep 0.5
    pub -V $V -t "s$V/room1/temp" -m 1
    pub -V $V -t "s$V/room1/hum" -m no
    pub -V $V -t "s$V/room2/temp" -m 2
    pub -V $V -t "t$V" -m 3
    pub -V $V -t "t$V/x/y/z" -m 4
    wait $S || fail "$V: subscriber timed out: $(cat "$DATA.out")"
    printf 's%s/room1/temp 1\ns%s/room2/temp 2\nt%s 3\nt%s/x/y/z 4\n' $V $V $V $V | sort >"$DATA.want"
    sort "$DATA.out" | diff - "$DATA.want" || fail "$V: wrong deliveries"
done

# '#' does not match $SYS, but $SYS/# does (broker statistics)
sub -t '$SYS/broker/uptime' -C 1 | grep -q seconds || fail '$SYS/broker/uptime'

# invalid filter: SUBACK 0x80 (3.1.1) / 0x8F (5)
got=$(raw 100c00044d5154540402003c000082080001000361232b00)
[ "${got: -2}" = 80 ] || fail "3.1.1 invalid filter: $got"
got=$(raw 100d00044d5154540502003c0000008209000100000361232b00)
[ "${got: -2}" = 8f ] || fail "v5 invalid filter: $got"

# UNSUBSCRIBE: v5 UNSUBACK success, then NO_SUBSCRIPTION_EXISTED
got=$(raw 100d00044d5154540502003c000000820700010000017501a206000200000175a206000300000175 | tr -d ' ')
case $got in *900400010001b00400020000b00400030011) ;; *) fail "unsubscribe: $got" ;; esac
echo ok
