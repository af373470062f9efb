// SPDX-License-Identifier: Apache-2.0
// WSS on the HTTPS listener: the WebSocket JSON protocol with Node `ws` (produce, ack,
// the record read back by a subscriber) and MQTT over WebSocket with MQTT.js (QoS 1
// publish and delivery), both trusting only the test CA.
import WebSocket from 'ws';
import mqtt from 'mqtt';
import fs from 'node:fs';
import assert from 'node:assert/strict';

const [base, caFile] = process.argv.slice(2); // https://127.0.0.1:PORT, ca.pem
const ca = fs.readFileSync(caFile);
const timeout = (ms, what) =>
  new Promise((_, rej) => setTimeout(() => rej(new Error('timeout: ' + what)), ms));

async function wsJson() {
  const ws = new WebSocket(base.replace('https', 'wss') + '/ws', { ca });
  const msgs = [];
  let wake = null;
  ws.on('message', (d) => { msgs.push(JSON.parse(d.toString())); if (wake) wake(); });
  const next = async (pred) => {
    for (;;) {
      const i = msgs.findIndex(pred);
      if (i >= 0) return msgs.splice(i, 1)[0];
      await Promise.race([new Promise((r) => { wake = r; }), timeout(8000, 'ws message')]);
    }
  };
  await Promise.race([new Promise((r, j) => { ws.on('open', r); ws.on('error', j); }),
    timeout(8000, 'wss open')]);
  assert.equal((await next((m) => m.type === 'welcome')).protocol, 'ganglion.v1.json');
  ws.send(JSON.stringify({ type: 'produce', topic: 'wss', key: 'k', value: 'over-wss', id: 1 }));
  const ack = await next((m) => m.type === 'ack');
  assert.equal(ack.id, 1);
  ws.send(JSON.stringify({ type: 'subscribe', topic: 'wss', from: 'earliest', id: 2 }));
  const rec = await next((m) => m.type === 'record');
  assert.equal(rec.value, 'over-wss');
  ws.close();
}

async function mqttWss() {
  const c = await mqtt.connectAsync(base.replace('https', 'wss') + '/mqtt',
    { ca, protocolVersion: 5, reconnectPeriod: 0, connectTimeout: 8000 });
  const got = new Promise((res) => c.on('message', (t, p) => res([t, p.toString()])));
  await c.subscribeAsync('wssmqtt/#', { qos: 1 });
  await c.publishAsync('wssmqtt/k', 'mqtt-over-wss', { qos: 1 });
  const [t, p] = await Promise.race([got, timeout(8000, 'mqtt message')]);
  assert.equal(t, 'wssmqtt/k');
  assert.equal(p, 'mqtt-over-wss');
  await c.endAsync();
}

await wsJson();
await mqttWss();
console.log('wss ok');
