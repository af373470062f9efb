// SPDX-License-Identifier: Apache-2.0
// Fan-out with shared live tails: 40 live subscribers on a 2-partition topic, one paused
// reader (its socket stops reading while ~4 MiB of records are produced, so the broker
// pauses it at its log position and it leaves the shared feed), and one subscriber from
// "earliest" that starts mid-stream and catches up alone before it joins the live tail.
// Every one of them must get every record of each partition exactly once, in offset
// order, with the right value, whatever path delivered it.
import WebSocket from 'ws';
import assert from 'node:assert/strict';

const base = process.argv[2];
const wsUrl = base.replace('http', 'ws') + '/ws';
const topic = 'fanout-' + Date.now();
const LIVE = 40, N = 4000, VALUE = 'x'.repeat(1000);

function subscriber(from) {
  const ws = new WebSocket(wsUrl, { perMessageDeflate: false });
  const got = [new Map(), new Map()]; // partition -> offset -> value tag
  const order = [[], []];
  let count = 0, subscribed, errors = [];
  const ready = new Promise((res) => { subscribed = res; });
  ws.on('open', () => ws.send(JSON.stringify({ type: 'subscribe', topic, from })));
  ws.on('message', (data) => {
    const m = JSON.parse(data.toString());
    if (m.type === 'subscribed') return subscribed();
    if (m.type === 'error') return errors.push(m);
    if (m.type !== 'record') return;
    assert.ok(!got[m.partition].has(m.offset), `offset ${m.offset} twice`);
    got[m.partition].set(m.offset, m.key);
    order[m.partition].push(m.offset);
    count++;
  });
  return { ws, got, order, ready, errors, count: () => count };
}

function check(s, name, produced) {
  assert.deepEqual(s.errors, [], name + ': errors');
  for (const p of [0, 1]) {
    const offs = s.order[p];
    assert.equal(offs.length, produced[p].size, `${name} partition ${p}: ${offs.length} of ${produced[p].size}`);
    for (let i = 1; i < offs.length; i++) assert.ok(offs[i] > offs[i - 1], `${name}: out of order`);
    for (const [off, key] of produced[p]) assert.equal(s.got[p].get(off), key, `${name} p${p} offset ${off}`);
  }
}

async function main() {
  const prod = new WebSocket(wsUrl, { perMessageDeflate: false });
  const acks = new Map();
  const produced = [new Map(), new Map()];
  prod.on('message', (data) => {
    const m = JSON.parse(data.toString());
    if (m.type === 'ack' && acks.has(m.id)) { acks.get(m.id)(m); acks.delete(m.id); }
  });
  await new Promise((res) => prod.on('open', res));
  const produce = (i) => new Promise((res) => {
    acks.set(i, (m) => { produced[m.partition].set(m.offset, 'k' + i); res(); });
    prod.send(JSON.stringify({ type: 'produce', id: i, topic, key: 'k' + i, partition: i % 2, value: VALUE }));
  });
  await produce(0); // creates the topic before anyone subscribes: only "earliest" gets it
  const before = [new Map(produced[0]), new Map()];
  produced[0].clear();
  const live = [];
  for (let i = 0; i < LIVE; i++) live.push(subscriber('latest'));
  const slow = subscriber('latest');
  await Promise.all([...live, slow].map((s) => s.ready));
  slow.ws._socket.pause();
  let late = null;
  for (let i = 0; i < N; i += 100) {
    const burst = [];
    for (let k = i + 1; k <= i + 100; k++) burst.push(produce(k));
    await Promise.all(burst);
    if (i === N / 2) late = subscriber('earliest');
  }
  const want = LIVE * N;
  for (let t = 0; t < 300 && live.reduce((a, s) => a + s.count(), 0) < want; t++)
    await new Promise((res) => setTimeout(res, 100));
  live.forEach((s, i) => check(s, 'live ' + i, produced));
  slow.ws._socket.resume();
  const lateWant = N + 1; // "earliest" also has the record produced before
  for (let t = 0; t < 300 && (slow.count() < N || late.count() < lateWant); t++)
    await new Promise((res) => setTimeout(res, 100));
  check(slow, 'paused', produced);
  check(late, 'earliest', produced.map((m, p) => new Map([...before[p], ...m])));
  [...live, slow, late, { ws: prod }].forEach((s) => s.ws.close());
  console.log(`ok: ${LIVE} live + 1 paused + 1 late subscriber, ${N} records each`);
}

main().then(() => process.exit(0), (err) => { console.error(err); process.exit(1); });
