// SPDX-License-Identifier: Apache-2.0
// The /ws upgrade under http.auth=basic with the Node `ws` client: refused with 401 and
// WWW-Authenticate without credentials and with a wrong password; with an Authorization
// header the JSON protocol is served (welcome, a produce acknowledged). With a fourth
// argument (a topic the user may not read, under authorizer.enabled) a subscribe to it
// is answered "not_authorized" and the connection stays usable.
import WebSocket from 'ws';
import assert from 'node:assert/strict';

const [base, user, password, forbidden] = process.argv.slice(2); // http://127.0.0.1:PORT
const url = base.replace('http', 'ws') + '/ws';
const basic = (u, p) => 'Basic ' + Buffer.from(u + ':' + p).toString('base64');
const timeout = (ms, what) =>
  new Promise((_, rej) => setTimeout(() => rej(new Error('timeout: ' + what)), ms));

async function refused(headers, what) {
  const ws = new WebSocket(url, { headers });
  const res = await Promise.race([new Promise((resolve, reject) => {
    ws.on('unexpected-response', (req, r) => resolve(r));
    ws.on('open', () => reject(new Error(what + ': upgrade accepted')));
    ws.on('error', reject);
  }), timeout(5000, what)]);
  assert.equal(res.statusCode, 401, what);
  assert.match(res.headers['www-authenticate'] || '', /^Basic realm="ganglion"/, what);
  res.destroy();
}

async function served() {
  const ws = new WebSocket(url, { headers: { Authorization: basic(user, password) } });
  const msgs = [];
  let wake = null;
  ws.on('message', (d) => { msgs.push(JSON.parse(d.toString())); if (wake) wake(); });
  const next = async (pred) => {
    for (;;) {
      const i = msgs.findIndex(pred);
      if (i >= 0) return msgs.splice(i, 1)[0];
      await Promise.race([new Promise((r) => { wake = r; }), timeout(5000, 'ws message')]);
    }
  };
  await Promise.race([new Promise((r, j) => { ws.on('open', r); ws.on('error', j); }),
    timeout(5000, 'ws open')]);
  assert.equal((await next((m) => m.type === 'welcome')).protocol, 'ganglion.v1.json');
  ws.send(JSON.stringify({ type: 'produce', topic: 'wsauth', key: 'k', value: 'v', id: 1 }));
  const ack = await next((m) => m.type === 'ack' || m.type === 'error');
  assert.equal(ack.type, 'ack', JSON.stringify(ack));
  if (forbidden) {
    ws.send(JSON.stringify({ type: 'subscribe', topic: forbidden, from: 'earliest', id: 2 }));
    const err = await next((m) => m.id === 2);
    assert.equal(err.type, 'error', JSON.stringify(err));
    assert.equal(err.code, 'not_authorized', JSON.stringify(err));
    ws.send(JSON.stringify({ type: 'produce', topic: 'wsauth', key: 'k', value: 'v2', id: 3 }));
    assert.equal((await next((m) => m.id === 3)).type, 'ack');
  }
  ws.close();
}

await refused({}, 'no credentials');
await refused({ Authorization: basic(user, 'bad-secret-9') }, 'wrong password');
await served();
console.log('ws auth ok');
