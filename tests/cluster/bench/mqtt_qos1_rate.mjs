// SPDX-License-Identifier: Apache-2.0
// QoS 1 publish rate for tests/cluster/bench/gateway_forward.sh (MQTT.js, MQTT 5): N
// messages of 100 B to TOPIC with up to WINDOW PUBACKs outstanding; waits for every
// PUBACK and prints the acknowledged messages per second. Exits 1 on a refused PUBACK
// or a lost connection (mosquitto_pub -l does not say when it drops messages at EOF).
// Usage: node mqtt_qos1_rate.mjs mqtt://127.0.0.1:PORT TOPIC N WINDOW
import mqtt from 'mqtt';

const [url, topic, count, win] = process.argv.slice(2);
const n = Number(count);
const window = Number(win);
const payload = Buffer.alloc(100, 'x');
const c = mqtt.connect(url, { protocolVersion: 5, reconnectPeriod: 0, clean: true });
let sent = 0;
let acked = 0;
let t0 = 0;
const die = (why) => {
  process.stderr.write(`${why} after ${acked} of ${n}\n`);
  process.exit(1);
};
c.on('error', (e) => die(`error: ${e.message}`));
c.on('close', () => die('connection closed'));
c.on('connect', () => {
  t0 = process.hrtime.bigint();
  fill();
});
function fill() {
  while (sent < n && sent - acked < window) {
    sent++;
    c.publish(topic, payload, { qos: 1 }, (err, pkt) => {
      if (err || (pkt && pkt.reasonCode >= 0x80)) die(`refused: ${err ? err.message : pkt.reasonCode}`);
      if (++acked === n) {
        const secs = Number(process.hrtime.bigint() - t0) / 1e9;
        process.stdout.write(`${(n / secs).toFixed(0)}\n`);
        c.removeAllListeners('close');
        c.end(true, () => process.exit(0));
      } else {
        fill();
      }
    });
  }
}
