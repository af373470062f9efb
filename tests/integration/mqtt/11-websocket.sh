#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# MQTT over WebSocket with MQTT.js (npm `mqtt`, pinned in tests/package.json) at
# ws://127.0.0.1:28190/mqtt, subprotocol "mqtt" (MQTT 3.1.1 and 5.0) and "mqttv3.1":
# subscribe + publish QoS 0/1 between two WebSocket clients, a mosquitto_pub over TCP
# reaching the WebSocket subscriber, and cross-protocol: a kcat produce reaches it too.
# Ports 21901 (MQTT), 28190 (HTTP), 29191 (Kafka).
set -euo pipefail
. "$(dirname "$0")/common.bash"
SRC=${GN_SOURCE_DIR:-$(cd "$(dirname "$0")/../../.." && pwd)}
. "$SRC/tests/node_modules.bash"
need_node_modules "$SRC/tests" mqtt || fail "npm ci --prefix tests"
start_broker 21901 29191 --http.host=127.0.0.1 --http.port=28190
wait_port 28190
echo seed | kcat -b 127.0.0.1:29191 -P -t wsx -k seed >/dev/null || fail "kcat produce"

cat >"$DATA.js" <<'JS'
const mqtt = require(process.argv[2] + '/tests/node_modules/mqtt');
const url = 'ws://127.0.0.1:28190/mqtt';
const [version, kcatCmd] = [Number(process.argv[3]), process.argv[4]];
const { execSync } = require('child_process');
const fail = (m) => { console.error('FAIL ' + m); process.exit(1); };
setTimeout(() => fail('timeout'), 15000);
const opts = { protocolVersion: version, reconnectPeriod: 0, connectTimeout: 5000 };
if (version === 3) opts.protocolId = 'MQIsdp'; // MQTT 3.1: MQTT.js asks for subprotocol mqttv3.1
const sub = mqtt.connect(url, { ...opts, clientId: 'ws-sub-' + version });
let ending = false; // the PUBACK of the last message may follow our DISCONNECT: not an error
sub.on('error', (e) => ending || fail('sub ' + e.message));
const got = [];
sub.on('message', (topic, payload, packet) => {
  got.push(topic + ' ' + payload.toString() + ' q' + packet.qos);
  if (got.length === 4) {
    const want = ['wsx/a m0 q0', 'wsx/b m1 q1', 'wsx/tcp mt q1', 'wsx/kafka mk q1'];
    for (const w of want) if (!got.includes(w)) fail('missing ' + w + ' in ' + JSON.stringify(got));
    console.log('v' + version + ' got ' + JSON.stringify(got));
    ending = true;
    setTimeout(() => sub.end(false, () => process.exit(0)), 50);
  }
});
sub.on('connect', (ack) => {
  if (ack.returnCode || ack.reasonCode) fail('connack ' + JSON.stringify(ack));
  sub.subscribe('wsx/#', { qos: 1 }, (err, granted) => {
    if (err || granted[0].qos !== 1) fail('suback ' + JSON.stringify(granted));
    const pub = mqtt.connect(url, { ...opts, clientId: 'ws-pub-' + version });
    pub.on('error', (e) => fail('pub ' + e.message));
    pub.on('connect', () => {
      pub.publish('wsx/a', 'm0', { qos: 0 }, () =>
        pub.publish('wsx/b', 'm1', { qos: 1 }, (e) => {
          if (e) fail('puback ' + e.message);
          execSync(process.argv[5]); // mosquitto_pub over TCP
          execSync(kcatCmd);         // a Kafka producer
          pub.end();
        }));
    });
  });
});
JS
for V in 4 5 3; do
    node "$DATA.js" "$SRC" $V \
        "echo 'kafka:mk' | kcat -b 127.0.0.1:29191 -P -t wsx -K:" \
        "mosquitto_pub -h 127.0.0.1 -p 21901 -q 1 -t wsx/tcp -m mt" || fail "MQTT.js protocol $V"
done
grep -q 'transport=ws' "$LOG" || fail "no WebSocket client in the log"
# a WebSocket subprotocol MQTT does not speak is refused
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Connection: Upgrade' -H 'Upgrade: websocket' \
    -H 'Sec-WebSocket-Version: 13' -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' \
    -H 'Sec-WebSocket-Protocol: xmpp' http://127.0.0.1:28190/mqtt || true)
[ "$code" != 101 ] || fail "subprotocol xmpp accepted on /mqtt"
echo ok
