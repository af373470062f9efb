#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# MQTT 5 features through libmosquitto (mqtt_features.c): no-local, retain-as-published,
# retain handling 0/1/2, subscription identifiers, topic aliases both ways, receive
# maximum flow control (raw socket), request/response properties, and the 3.1.1
# behaviour for the same traffic. Port 21903.
set -euo pipefail
. "$(dirname "$0")/common.bash"
PROG=$GN_BUILD_DIR/tests/integration/mqtt/mqtt_features
[ -x "$PROG" ] || fail "$PROG not built (libmosquitto-dev missing?)"
start_broker 21903
timeout 60 "$PROG" 127.0.0.1 21903 || fail "feature checks"

# What libmosquitto 2.0.11 cannot receive, with MQTT.js: server -> client topic aliases
# (QoS 0) and several subscription identifiers on one delivery (overlapping filters).
SRC=${GN_SOURCE_DIR:-$(cd "$(dirname "$0")/../../.." && pwd)}
. "$SRC/tests/node_modules.bash"
need_node_modules "$SRC/tests" mqtt || fail "npm ci --prefix tests"
cat >"$DATA.js" <<'JS'
const mqtt = require(process.argv[2] + '/tests/node_modules/mqtt');
const { execSync } = require('child_process');
const fail = (m) => { console.error('FAIL ' + m); process.exit(1); };
setTimeout(() => fail('timeout'), 10000);
const c = mqtt.connect('mqtt://127.0.0.1:21903',
  { protocolVersion: 5, reconnectPeriod: 0, properties: { topicAliasMaximum: 4 } });
c.on('error', (e) => fail(e.message));
const got = [];
c.on('message', (topic, payload, pk) => {
  got.push({ topic, payload: payload.toString(), props: pk.properties || {} });
  if (got.length < 4) return;
  const al = got.filter((m) => m.topic === 'fx/alias/long/topic');
  if (al.length !== 3 || !al.every((m) => m.props.topicAlias === al[0].props.topicAlias))
    fail('topic aliases: ' + JSON.stringify(al));
  const ov = got.find((m) => m.topic === 'fx/ov/x');
  const ids = ov && [].concat(ov.props.subscriptionIdentifier).sort();
  if (!ids || ids.join(',') !== '3,5') fail('subscription identifiers: ' + JSON.stringify(ov));
  console.log('MQTT.js: aliases ' + al[0].props.topicAlias + ', ids ' + ids);
  process.exit(0);
});
c.on('connect', () =>
  c.subscribe('fx/alias/#', { qos: 0 }, () =>
    c.subscribe('fx/ov/#', { qos: 0, properties: { subscriptionIdentifier: 3 } }, () =>
      c.subscribe('fx/+/x', { qos: 0, properties: { subscriptionIdentifier: 5 } }, () => {
        for (let i = 0; i < 3; i++)
          execSync('mosquitto_pub -h 127.0.0.1 -p 21903 -t fx/alias/long/topic -m a' + i);
        execSync('mosquitto_pub -h 127.0.0.1 -p 21903 -t fx/ov/x -m both');
      }))));
JS
node "$DATA.js" "$SRC" || fail "MQTT.js checks"
echo ok
