// SPDX-License-Identifier: Apache-2.0
// kafkajs 2.2.4 against a running broker (argv[2] = host:port): admin createTopics and
// fetchTopicMetadata (Metadata v6), a gzip produce with acks=-1 and headers to two
// partitions (Produce v7), fetchTopicOffsets and fetchTopicOffsetsByTimestamp
// (ListOffsets v3). Run by 0200-kafkajs.sh.
const { Kafka, logLevel, CompressionTypes } = require('kafkajs');
const broker = process.argv[2];
const kafka = new Kafka({ clientId: 'it', brokers: [broker], logLevel: logLevel.ERROR, retry: { retries: 3 } });
(async () => {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: 'kjs', numPartitions: 2 }], waitForLeaders: true });
  const md = await admin.fetchTopicMetadata({ topics: ['kjs'] });
  if (md.topics[0].partitions.length !== 2) throw new Error('partitions ' + JSON.stringify(md));
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const msgs = [];
  for (let i = 0; i < 50; i++) msgs.push({ key: 'k' + i, value: 'v' + i, headers: { h: 'x' + i }, partition: i % 2 });
  await producer.send({ topic: 'kjs', messages: msgs, acks: -1, compression: CompressionTypes.GZIP });
  await producer.disconnect();
  const offs = await admin.fetchTopicOffsets('kjs');
  const total = offs.reduce((s, p) => s + Number(p.high), 0);
  if (total !== 50) throw new Error('offsets ' + JSON.stringify(offs));
  const ts = await admin.fetchTopicOffsetsByTimestamp('kjs', Date.now() - 60000);
  if (ts.some(p => Number(p.offset) !== 0)) throw new Error('by timestamp ' + JSON.stringify(ts));
  await admin.disconnect();
  console.log('kafkajs ok');
})().catch(e => { console.error('FAIL', e); process.exit(1); });
