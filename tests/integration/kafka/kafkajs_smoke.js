// SPDX-License-Identifier: Apache-2.0
// kafkajs 2.2.4 against a running broker (argv[2] = host:port): admin createTopics and
// fetchTopicMetadata (Metadata v6), a gzip produce with acks=-1 and headers to two
// partitions (Produce v7), fetchTopicOffsets and fetchTopicOffsetsByTimestamp
// (ListOffsets v3), a consumer group reading them back, and the admin calls refused on
// internal topics. Run by 0200-kafkajs.sh.
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
  const consumer = kafka.consumer({ groupId: 'kjs-group' });
  await consumer.connect();
  await consumer.subscribe({ topic: 'kjs', fromBeginning: true });
  let seen = 0;
  await new Promise((resolve) => consumer.run({ eachMessage: async () => { if (++seen === 50) resolve(); } }));
  await consumer.disconnect();
  const ts = await admin.fetchTopicOffsetsByTimestamp('kjs', Date.now() - 60000);
  if (ts.some(p => Number(p.offset) !== 0)) throw new Error('by timestamp ' + JSON.stringify(ts));
  // Internal topics are the broker's own state: no client creates, grows, deletes or
  // truncates one (INVALID_TOPIC_EXCEPTION); the group above made __consumer_offsets.
  const refused = async (what, f) => {
    try { await f(); } catch (err) {
      const e = err.cause || err; // retries wrap it
      const types = [e.type, ...(e.partitions || []).map((p) => p.error && p.error.type),
        ...(e.errors || []).map((x) => x.type)];
      if (types.includes('INVALID_TOPIC_EXCEPTION')) return;
      console.error(what, JSON.stringify(e.partitions || e.errors || e.type));
      throw err;
    }
    throw new Error(what + ' of an internal topic was not refused');
  };
  await refused('createTopics', () => admin.createTopics({ topics: [{ topic: '__mine' }] }));
  await refused('createPartitions', () => admin.createPartitions({ topicPartitions: [{ topic: '__consumer_offsets', count: 60 }] }));
  await refused('deleteTopics', () => admin.deleteTopics({ topics: ['__consumer_offsets'] }));
  await admin.fetchTopicMetadata({ topics: ['__consumer_offsets'] }); // its leaders, for kafkajs
  await refused('deleteTopicRecords', () => admin.deleteTopicRecords({ topic: '__consumer_offsets', partitions: [{ partition: 0, offset: '-1' }] }));
  if (!(await admin.listTopics()).includes('__consumer_offsets')) throw new Error('__consumer_offsets is gone');
  await admin.disconnect();
  console.log('kafkajs ok');
})().catch(e => { console.error('FAIL', e); process.exit(1); });
