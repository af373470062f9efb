// SPDX-License-Identifier: Apache-2.0
// A WebSocket JSON producer (Node `ws`) for the cluster scripts that knows which records
// were acknowledged: sends produce PREFIX-1, PREFIX-2, ... (key KEY) to TOPIC on one
// broker with up to WINDOW acks outstanding, prints the number of each acknowledged one,
// one a line; an error answer goes to stderr ("refused N: code"). Never resends: a lost
// connection leaves its outstanding records unknown and a new connection continues.
// Stops when the file STOP exists or after SECONDS.
// Usage: node ws_acked_pub.mjs http://127.0.0.1:PORT TOPIC KEY PREFIX WINDOW STOP [SECONDS]
import fs from 'node:fs';
import WebSocket from 'ws';

const [base, topic, key, prefix, win, stopFile, secs] = process.argv.slice(2);
const window = Number(win);
const end = Date.now() + 1000 * Number(secs || 120);
let next = 0;
let ws = null;
let pending = new Set();

const done = () => fs.existsSync(stopFile) || Date.now() > end;

function finish() {
  if (ws) ws.terminate();
  process.exit(0);
}

function connect() {
  const c = new WebSocket(base.replace('http', 'ws') + '/ws');
  ws = c;
  pending = new Set();
  c.on('open', () => fill(c));
  c.on('message', (data) => {
    if (ws !== c) return;
    const msg = JSON.parse(data.toString());
    if (!pending.has(msg.id)) return;
    pending.delete(msg.id);
    if (msg.type === 'ack') process.stdout.write(`${msg.id}\n`);
    else process.stderr.write(`refused ${msg.id}: ${msg.code}\n`);
    if (done()) {
      if (pending.size === 0) finish();
    } else {
      fill(c);
    }
  });
  const lost = () => {
    if (ws !== c) return;
    ws = null;
    c.terminate();
    if (done()) finish();
    else setTimeout(connect, 200);
  };
  c.on('close', lost);
  c.on('error', (e) => {
    process.stderr.write(`error: ${e.message}\n`);
    lost();
  });
}

function fill(c) {
  while (ws === c && pending.size < window && !done()) {
    const i = ++next;
    pending.add(i);
    c.send(JSON.stringify({ type: 'produce', id: i, topic, key, value: `${prefix}-${i}` }));
  }
}

setInterval(() => {
  if (done() && (!ws || pending.size === 0)) finish();
}, 200);
setTimeout(finish, 1000 * Number(secs || 120) + 30000);
connect();
