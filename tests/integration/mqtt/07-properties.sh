#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# MQTT 5 properties end to end (mosquitto clients): user properties, content type,
# response topic, correlation data, payload format, message expiry (remaining time,
# expired messages not delivered from an offline queue), subscription identifiers,
# topic aliases from the client; 3.1.1 subscribers get the same payload without them.
set -euo pipefail
. "$(dirname "$0")/common.bash"
start_broker 21889

sub -V mqttv5 -t 'props/#' -D subscribe subscription-identifier 7 -C 1 \
    -F '%t|%p|%P|%C|%R|%D|%F|%S|%E' >"$DATA.out" &
S=$!
sub -V mqttv311 -t 'props/#' -C 1 -F '%t|%p' >"$DATA.out3" &
S3=$!
sleep 0.5
pub -V mqttv5 -t props/dev1 -m '{"t":21}' -D publish user-property unit celsius \
    -D publish content-type application/json -D publish response-topic reply/dev1 \
    -D publish correlation-data c0ffee -D publish payload-format-indicator 1 \
    -D publish message-expiry-interval 300
wait $S || fail "v5 subscriber got nothing"
wait $S3 || fail "3.1.1 subscriber got nothing"
IFS='|' read -r t p up ct rt cd pf sid exp <"$DATA.out"
[ "$t" = props/dev1 ] && [ "$p" = '{"t":21}' ] || fail "topic/payload: $(cat "$DATA.out")"
[ "$up" = "unit:celsius" ] || fail "user property: $up"
[ "$ct" = application/json ] || fail "content type: $ct"
[ "$rt" = reply/dev1 ] || fail "response topic: $rt"
[ "$cd" = c0ffee ] || fail "correlation data: $cd"
[ "$pf" = 1 ] || fail "payload format: $pf"
[ "$sid" = 7 ] || fail "subscription identifier: $sid"
[ "$exp" -gt 290 ] && [ "$exp" -le 300 ] || fail "message expiry: $exp"
[ "$(cat "$DATA.out3")" = 'props/dev1|{"t":21}' ] || fail "3.1.1 view: $(cat "$DATA.out3")"

# expiry: a message that expires while the subscriber is away is not delivered
sub -V mqttv5 -c -x 600 -i expsub -q 1 -t 'exp/#' -C 1 -W 1 >/dev/null 2>&1 || true
pub -V mqttv5 -q 1 -t exp/a -m short -D publish message-expiry-interval 1
pub -V mqttv5 -q 1 -t exp/b -m long -D publish message-expiry-interval 600
sleep 2.2
sub -V mqttv5 -c -x 600 -i expsub -q 1 -t 'exp/#' -C 1 -F '%p' >"$DATA.out"
[ "$(cat "$DATA.out")" = long ] || fail "expired message delivered: $(cat "$DATA.out")"

# topic alias from the client: mosquitto_pub -D publish topic-alias sends it
sub -V mqttv5 -t alias/x -C 1 >"$DATA.out" &
S=$!
sleep 0.4
pub -V mqttv5 -t alias/x -m via-alias -D publish topic-alias 3
wait $S && grep -qx via-alias "$DATA.out" || fail "topic alias"
echo ok
