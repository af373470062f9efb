// SPDX-License-Identifier: Apache-2.0
// A WebSocket JSON subscriber (Node `ws`) for the cluster scripts: subscribes to a topic
// from FROM (default earliest) on one broker and prints each record's value, one a line,
// until it has N of them (exit 0) or the time runs out (exit 1); the `subscribed` answer
// goes to stderr.
// Usage: node ws_records.mjs http://127.0.0.1:PORT TOPIC N [SECONDS] [FROM]
import WebSocket from 'ws';

const [base, topic, want, secs, from] = process.argv.slice(2);
const n = Number(want);
const ws = new WebSocket(base.replace('http', 'ws') + '/ws');
let got = 0;
const timer = setTimeout(() => {
  console.error(`timeout: ${got} of ${n} records`);
  process.exit(1);
}, 1000 * Number(secs || 60));
ws.on('open', () => ws.send(JSON.stringify({ type: 'subscribe', id: 1, topic, from: from || 'earliest' })));
ws.on('message', (data) => {
  const msg = JSON.parse(data.toString());
  if (msg.type === 'error') {
    console.error('error: ' + JSON.stringify(msg));
    process.exit(2);
  }
  if (msg.type === 'subscribed') console.error('subscribed ' + JSON.stringify(msg.partitions));
  if (msg.type !== 'record') return;
  process.stdout.write(`${msg.value}\n`);
  if (++got === n) {
    clearTimeout(timer);
    ws.close();
    process.exit(0);
  }
});
ws.on('error', (e) => {
  console.error('ws error: ' + e.message);
  process.exit(3);
});
