// SPDX-License-Identifier: Apache-2.0
// The WebSocket JSON protocol with the Node `ws` client against a running broker:
// welcome, errors without disconnect, produce/ack, subscribe from earliest, offset and
// time, live records (also produced over REST), base64 binary values, groups with
// commit, 1009 on an oversized message, and a paused reader that still gets every record.
import WebSocket from 'ws';
import assert from 'node:assert/strict';

const base = process.argv[2]; // http://127.0.0.1:PORT
const wsUrl = base.replace('http', 'ws') + '/ws';

function open() {
  const ws = new WebSocket(wsUrl);
  const queue = [];
  const waiters = [];
  ws.on('message', (data) => {
    const msg = JSON.parse(data.toString());
    const i = waiters.findIndex((w) => w.pred(msg));
    if (i >= 0) waiters.splice(i, 1)[0].resolve(msg);
    else queue.push(msg);
  });
  const next = (pred, ms = 8000) => {
    const i = queue.findIndex(pred);
    if (i >= 0) return Promise.resolve(queue.splice(i, 1)[0]);
    return new Promise((resolve, reject) => {
      const w = { pred, resolve };
      waiters.push(w);
      setTimeout(() => reject(new Error('timeout waiting for a message; queue: ' +
        JSON.stringify(queue.slice(0, 3)))), ms);
    });
  };
  const send = (o) => ws.send(typeof o === 'string' ? o : JSON.stringify(o));
  const ready = new Promise((res, rej) => { ws.on('open', res); ws.on('error', rej); });
  return { ws, next, send, ready, queue };
}

const type = (t) => (m) => m.type === t;

async function main() {
  const c = open();
  await c.ready;
  assert.equal((await c.next(type('welcome'))).protocol, 'ganglion.v1.json');

  // Malformed input: an error message, and the connection stays.
  c.send('{not json');
  assert.equal((await c.next(type('error'))).code, 'bad_json');
  c.send({ type: 'launch', topic: 'x' });
  assert.equal((await c.next(type('error'))).code, 'unknown_type');
  c.send({ type: 'subscribe', topic: 'no-such-topic', id: 7 });
  let e = await c.next(type('error'));
  assert.equal(e.code, 'unknown_topic');
  assert.equal(e.id, 7);
  c.send({ type: 'ping', id: 'p' });
  assert.equal((await c.next(type('pong'))).id, 'p');

  // An internal topic is the broker's own state: clients may not write it.
  c.send({ type: 'produce', id: 'i', topic: '__consumer_offsets', value: 'junk' });
  e = await c.next(type('error'));
  assert.equal(e.code, 'invalid_topic');
  assert.equal(e.id, 'i');

  // Produce (creates the topic), acked with partition and offset.
  c.send({ type: 'produce', id: 1, topic: 'wst', key: 'k', value: 'v1', headers: { h: 'x' } });
  const ack = await c.next(type('ack'));
  assert.equal(ack.id, 1);
  assert.equal(ack.offset, 0);
  assert.equal(typeof ack.partition, 'number');

  // Subscribe from earliest: the record, with its headers.
  c.send({ type: 'subscribe', id: 2, topic: 'wst', from: 'earliest' });
  const sub = await c.next(type('subscribed'));
  assert.equal(sub.id, 2);
  let r = await c.next(type('record'));
  assert.deepEqual([r.key, r.value, r.headers.h, r.offset], ['k', 'v1', 'x', 0]);

  // Live: produced over REST, delivered here.
  const t0 = Date.now();
  const res = await fetch(base + '/topics/wst', {
    method: 'POST',
    headers: { 'Content-Type': 'application/vnd.kafka.binary.v2+json' },
    body: JSON.stringify({ records: [{ key: Buffer.from('k').toString('base64'), value: Buffer.from([0, 1, 255]).toString('base64') }] }),
  });
  assert.equal(res.status, 200);
  r = await c.next(type('record'));
  assert.equal(r.encoding, 'base64');
  assert.deepEqual([...Buffer.from(r.value, 'base64')], [0, 1, 255]);
  assert.equal(r.offset, 1);

  // Binary produce over the socket.
  c.send({ type: 'produce', id: 3, topic: 'wst', key: 'aw==', value: Buffer.from([9, 8, 250]).toString('base64'), encoding: 'base64' });
  await c.next(type('ack'));
  r = await c.next(type('record'));
  assert.deepEqual([...Buffer.from(r.value, 'base64')], [9, 8, 250]);
  c.send({ type: 'produce', topic: 'wst', value: '%%%', encoding: 'base64' });
  assert.equal((await c.next(type('error'))).code, 'invalid_request');

  // A second client: from an offset, and from a time.
  const d = open();
  await d.ready;
  d.send({ type: 'subscribe', topic: 'wst', from: 2 });
  await d.next(type('subscribed'));
  assert.equal((await d.next(type('record'))).offset, 2);
  d.send({ type: 'subscribe', topic: 'wst', from: { timestamp: t0 } });
  await d.next(type('subscribed'));
  assert.equal((await d.next(type('record'))).offset, 1);
  d.send({ type: 'unsubscribe', topic: 'wst' });
  await d.next(type('unsubscribed'));

  // Groups: commit an offset, then a group member starts from it.
  // The coordinator loads __consumer_offsets on first use: retry while it says so.
  let cm;
  for (let i = 0; i < 50; i++) {
    d.send({ type: 'commit', id: 'c', topic: 'wst', group: 'g1', partition: ack.partition, offset: 2 });
    cm = await d.next((m) => m.type === 'committed' || m.type === 'error', 15000);
    if (cm.type !== 'error' || cm.code !== 'coordinator_loading') break;
    await new Promise((res) => setTimeout(res, 200));
  }
  assert.equal(cm.type, 'committed', JSON.stringify(cm));
  d.send({ type: 'subscribe', topic: 'wst', group: 'g1' });
  await d.next(type('subscribed'));
  const asg = await d.next(type('assigned'), 20000);
  assert.deepEqual(asg.partitions, [{ partition: ack.partition, offset: 2 }]);
  assert.equal((await d.next(type('record'))).offset, 2);
  d.ws.close();

  // An oversized message closes with 1009.
  const big = open();
  await big.ready;
  const closed = new Promise((res) => big.ws.on('close', (code) => res(code)));
  big.send('x'.repeat(1024 * 1024 + 10));
  assert.equal(await closed, 1009);

  // A reader that stops reading for a while still gets every record, in order.
  const N = 3000;
  const recs = Array.from({ length: 100 }, (_, i) => ({ value: 'y'.repeat(1000) }));
  for (let i = 0; i < N / 100; i++) {
    const rr = await fetch(base + '/topics/bulk', {
      method: 'POST',
      headers: { 'Content-Type': 'application/vnd.kafka.json.v2+json' },
      body: JSON.stringify({ records: recs }),
    });
    assert.equal(rr.status, 200);
  }
  const slow = open();
  await slow.ready;
  slow.send({ type: 'subscribe', topic: 'bulk', from: 'earliest' });
  await slow.next(type('subscribed'));
  slow.ws._socket.pause();
  await new Promise((res) => setTimeout(res, 1000));
  slow.ws._socket.resume();
  let last = -1;
  for (let i = 0; i < N; i++) {
    const m = await slow.next(type('record'));
    assert.equal(m.offset, last + 1);
    last = m.offset;
  }
  slow.ws.close();
  c.ws.close();
  console.log('ok');
}

main().then(() => process.exit(0), (err) => { console.error(err); process.exit(1); });
