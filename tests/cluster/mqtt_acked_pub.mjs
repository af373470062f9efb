// SPDX-License-Identifier: Apache-2.0
// An MQTT 5 QoS 1 publisher (MQTT.js) for the cluster scripts that knows which messages
// were acknowledged: publishes PREFIX-1, PREFIX-2, ... to TOPIC on one broker with up to
// WINDOW PUBACKs outstanding, and prints the number of each message acknowledged with a
// success reason code, one a line, in acknowledgement order. A refused message (PUBACK
// >= 0x80) is printed to stderr. Never resends: a lost connection leaves its outstanding
// messages unknown (neither acknowledged nor refused) and a new connection continues.
// Stops when the file STOP exists or after SECONDS.
// Usage: node mqtt_acked_pub.mjs mqtt://127.0.0.1:PORT TOPIC PREFIX WINDOW STOP [SECONDS]
import mqtt from 'mqtt';

const [url, topic, prefix, win, stopFile, secs] = process.argv.slice(2);
const window = Number(win);
const end = Date.now() + 1000 * Number(secs || 120);
let next = 0;
let outstanding = 0;
let client = null;
const fs = await import('node:fs');

function done() {
  return fs.existsSync(stopFile) || Date.now() > end;
}

function connect() {
  // one client per connection: after a loss, its unanswered messages stay unknown
  const c = mqtt.connect(url, { protocolVersion: 5, reconnectPeriod: 0, clean: true,
                                connectTimeout: 10000 });
  client = c;
  outstanding = 0;
  c.on('connect', () => fill(c));
  c.on('error', (e) => {
    process.stderr.write(`error: ${e.message}\n`);
    lost(c);
  });
  c.on('close', () => lost(c));
}

// the connection is gone (or unusable): its outstanding messages stay unknown
function lost(c) {
  if (client !== c) return;
  client = null;
  c.end(true);
  if (!done()) setTimeout(connect, 200);
  else finish();
}

function fill(c) {
  while (client === c && outstanding < window && !done()) {
    const i = ++next;
    outstanding++;
    c.publish(topic, `${prefix}-${i}`, { qos: 1 }, (err, pkt) => {
      if (client !== c) return;
      outstanding--;
      const rc = pkt && pkt.reasonCode ? pkt.reasonCode : 0;
      if (err || rc >= 0x80) process.stderr.write(`refused ${i}: ${err ? err.message : rc}\n`);
      else process.stdout.write(`${i}\n`);
      if (done()) {
        if (outstanding === 0) finish();
      } else {
        fill(c);
      }
    });
  }
}

function finish() {
  if (client) client.end(true);
  client = null;
  process.exit(0);
}

setInterval(() => {
  if (done() && (!client || outstanding === 0)) finish();
}, 200);
setTimeout(finish, 1000 * Number(secs || 120) + 30000);
connect();
