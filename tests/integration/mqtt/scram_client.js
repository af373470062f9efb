// SPDX-License-Identifier: Apache-2.0
// MQTT 5 enhanced authentication with MQTT.js (tests/node_modules/mqtt): the client side
// of SCRAM (RFC 5802) computed here with Node's crypto, driven by MQTT.js's
// `properties.authenticationMethod/Data`, `authPacket` and `handleAuth`. Used by
// 16-auth-scram.sh; prints one line per case, exits 1 on the first failure.
// usage: node scram_client.js SRC URL_TCP URL_WS
'use strict';
const crypto = require('crypto');
const mqtt = require(process.argv[2] + '/tests/node_modules/mqtt');
const [tcpUrl, wsUrl] = [process.argv[3], process.argv[4]];
const fail = (m) => { console.error('FAIL ' + m); process.exit(1); };
setTimeout(() => fail('timeout'), 40000);

const HASH = { 'SCRAM-SHA-256': 'sha256', 'SCRAM-SHA-512': 'sha512' };

// One client-side SCRAM exchange: first() -> final(serverFirst) -> verify(serverFinal).
function scram(method, user, password) {
  const h = HASH[method];
  const cnonce = crypto.randomBytes(18).toString('base64');
  const bare = 'n=' + user.replace(/=/g, '=3D').replace(/,/g, '=2C') + ',r=' + cnonce;
  let serverKey, authMessage;
  return {
    first: () => Buffer.from('n,,' + bare),
    final(serverFirst) {
      const sf = serverFirst.toString();
      const attrs = Object.fromEntries(sf.split(',').map((a) => [a[0], a.slice(2)]));
      if (!attrs.r.startsWith(cnonce)) throw new Error('server nonce lacks ours: ' + sf);
      const salted = crypto.pbkdf2Sync(password, Buffer.from(attrs.s, 'base64'),
        Number(attrs.i), h === 'sha256' ? 32 : 64, h);
      const clientKey = crypto.createHmac(h, salted).update('Client Key').digest();
      const storedKey = crypto.createHash(h).update(clientKey).digest();
      serverKey = crypto.createHmac(h, salted).update('Server Key').digest();
      const without = 'c=biws,r=' + attrs.r;
      authMessage = bare + ',' + sf + ',' + without;
      const sig = crypto.createHmac(h, storedKey).update(authMessage).digest();
      const proof = Buffer.from(clientKey.map((b, i) => b ^ sig[i]));
      return Buffer.from(without + ',p=' + proof.toString('base64'));
    },
    verify(serverFinal) {
      const want = 'v=' + crypto.createHmac(h, serverKey).update(authMessage).digest('base64');
      if (!serverFinal || serverFinal.toString() !== want)
        throw new Error('server signature ' + serverFinal + ' != ' + want);
    },
  };
}

// Connects with enhanced authentication; resolves with the client (and the CONNACK)
// or rejects with MQTT.js's error. inAuthPacket: client-first in a first AUTH 0x18
// (MQTT.js's authPacket option) instead of CONNECT's Authentication Data.
function connect(url, method, user, password, inAuthPacket, extra) {
  return new Promise((resolve, reject) => {
    let ex = scram(method, user, password);
    const props = { authenticationMethod: method };
    const opts = { protocolVersion: 5, reconnectPeriod: 0, connectTimeout: 8000, properties: props,
      clientId: 'scram-' + crypto.randomBytes(4).toString('hex'), ...extra };
    if (inAuthPacket)
      opts.authPacket = { reasonCode: 0x18,
        properties: { authenticationMethod: method, authenticationData: ex.first() } };
    else
      props.authenticationData = ex.first();
    const client = mqtt.connect(url, { ...opts, manualConnect: true });
    client.reauths = 0;
    client.handleAuth = (packet, cb) => {
      try {
        const data = packet.properties && packet.properties.authenticationData;
        if (packet.reasonCode === 0x18) return cb(null, { cmd: 'auth', reasonCode: 0x18,
          properties: { authenticationMethod: method, authenticationData: ex.final(data) } });
        ex.verify(data); // 0x00: the end of a re-authentication
        client.reauths++;
        client.emit('reauthenticated');
        cb();
      } catch (e) { cb(e); }
    };
    // a new exchange for a re-authentication (AUTH 0x19)
    client.reauthenticate = (pw) => {
      ex = scram(method, user, pw);
      client._sendPacket({ cmd: 'auth', reasonCode: 0x19,
        properties: { authenticationMethod: method, authenticationData: ex.first() } });
    };
    client.once('connect', (ack) => {
      try {
        if (ack.properties.authenticationMethod !== method) throw new Error('method in CONNACK');
        ex.verify(ack.properties.authenticationData);
      } catch (e) { client.end(true); return reject(e); }
      resolve(client);
    });
    client.once('error', (e) => { client.end(true); reject(e); });
    client.once('close', () => reject(new Error('closed')));
    client.connect();
  });
}

async function refused(what, code, promise) {
  try {
    const c = await promise;
    c.end(true);
  } catch (e) {
    if (e.code !== code) fail(what + ': wanted reason ' + code + ', got ' + e.code + ' ' + e.message);
    console.log('ok ' + what + ' refused with 0x' + code.toString(16));
    return;
  }
  fail(what + ': accepted');
}

async function roundTrip(client, topic) {
  await new Promise((res, rej) => client.subscribe(topic, { qos: 1 }, (e) => (e ? rej(e) : res())));
  const got = new Promise((res) => client.once('message', (t, p) => res(p.toString())));
  await new Promise((res, rej) => client.publish(topic, 'hi', { qos: 1 }, (e) => (e ? rej(e) : res())));
  const m = await got;
  if (m !== 'hi') fail('round trip got ' + m);
}

(async () => {
  // SCRAM-SHA-256, client-first in CONNECT; then publish/subscribe works
  const a = await connect(tcpUrl, 'SCRAM-SHA-256', 'alice', 'wonderland', false).catch((e) =>
    fail('SCRAM-SHA-256 connect: ' + e.message));
  await roundTrip(a, 'scram/a');
  console.log('ok SCRAM-SHA-256 in CONNECT, server signature verified, publish/subscribe');

  // re-authentication (AUTH 0x19 ... AUTH 0x00), twice; the session goes on
  for (let i = 1; i <= 2; i++) {
    const done = new Promise((res) => a.once('reauthenticated', res));
    a.reauthenticate('wonderland');
    await done;
  }
  if (a.reauths !== 2) fail('reauths ' + a.reauths);
  await roundTrip(a, 'scram/a2');
  console.log('ok re-authenticated twice, server signatures verified');

  // a re-authentication with a wrong password ends the connection: DISCONNECT 0x87
  const disc = new Promise((res) => a.once('disconnect', (p) => res(p.reasonCode)));
  a.reauthenticate('wrong');
  const rc = await disc;
  if (rc !== 0x87) fail('failed re-authentication: DISCONNECT ' + rc);
  a.end(true);
  console.log('ok failed re-authentication gets DISCONNECT 0x87');

  // client-first in a first AUTH 0x18 (MQTT.js authPacket), SCRAM-SHA-512
  const b = await connect(tcpUrl, 'SCRAM-SHA-512', 'alice', 'wonderland', true).catch((e) =>
    fail('authPacket connect: ' + e.message));
  b.end(true);
  console.log('ok SCRAM-SHA-512 with client-first in authPacket');

  // over WebSocket, the same path
  const w = await connect(wsUrl, 'SCRAM-SHA-256', 'alice', 'wonderland', false).catch((e) =>
    fail('WebSocket connect: ' + e.message));
  await roundTrip(w, 'scram/ws');
  w.end(true);
  console.log('ok SCRAM-SHA-256 over WebSocket');

  await refused('wrong password', 0x86, connect(tcpUrl, 'SCRAM-SHA-256', 'alice', 'nope', false));
  await refused('unknown user', 0x86, connect(tcpUrl, 'SCRAM-SHA-256', 'mallory', 'x', false));
  await refused('unknown method', 0x8c, connect(tcpUrl, 'SCRAM-SHA-1', 'alice', 'wonderland', false));
  await refused('user name other than SCRAM user', 0x87,
    connect(tcpUrl, 'SCRAM-SHA-256', 'alice', 'wonderland', false, { username: 'bob' }));
  process.exit(0);
})().catch((e) => fail(e.stack || e.message));
