// SPDX-License-Identifier: Apache-2.0
// Sarama 1.22 (Go, Debian golang-github-shopify-sarama-dev), a Kafka client written
// without librdkafka: the cluster admin (create, describe and alter configs, create
// partitions, delete records, delete topics, describe cluster), an idempotent
// SyncProducer (acks=all) with none, gzip, snappy and lz4 (zstd refused: Sarama 1.22
// sends it in Produce v3), records read back exactly with a partition consumer, offsets
// by time (Sarama writes no batch max timestamp), and a consumer group that marks and
// commits part of the log, then (after a broker restart) resumes from its committed
// offsets with two members sharing the partitions. Run by 0401-sarama.sh:
// sarama_smoke BROKER first|resume STATEFILE.
package main

import (
	"context"
	"fmt"
	"io/ioutil"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/Shopify/sarama"
)

const (
	topic    = "go-topic"
	doomed   = "go-doomed"
	group    = "go-group"
	parts    = 3
	perCodec = 300
)

func fail(format string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "FAIL: "+format+"\n", a...)
	os.Exit(1)
}

func must(err error, what string) {
	if err != nil {
		fail("%s: %v", what, err)
	}
}

func config() *sarama.Config {
	c := sarama.NewConfig()
	c.Version = sarama.V2_1_0_0
	c.ClientID = "sarama-smoke"
	c.Metadata.Retry.Backoff = 100 * time.Millisecond
	return c
}

func adminPhase(broker string) {
	admin, err := sarama.NewClusterAdmin([]string{broker}, config())
	must(err, "cluster admin")
	defer admin.Close()
	ret := "3600000"
	must(admin.CreateTopic(topic, &sarama.TopicDetail{NumPartitions: parts, ReplicationFactor: 1,
		ConfigEntries: map[string]*string{"retention.ms": &ret}}, false), "create "+topic)
	must(admin.CreateTopic(doomed, &sarama.TopicDetail{NumPartitions: 1, ReplicationFactor: 1}, false),
		"create "+doomed)
	if err := admin.CreateTopic(topic, &sarama.TopicDetail{NumPartitions: 1, ReplicationFactor: 1},
		false); err == nil || !strings.Contains(err.Error(), "already exists") {
		fail("creating an existing topic: %v", err)
	}
	entries, err := admin.DescribeConfig(sarama.ConfigResource{Type: sarama.TopicResource, Name: topic})
	must(err, "describe configs")
	found := map[string]string{}
	for _, e := range entries {
		found[e.Name] = e.Value
	}
	if found["retention.ms"] != ret || found["cleanup.policy"] != "delete" {
		fail("described configs: retention.ms %q cleanup.policy %q", found["retention.ms"],
			found["cleanup.policy"])
	}
	compact := "compact"
	must(admin.AlterConfig(sarama.TopicResource, doomed, map[string]*string{"cleanup.policy": &compact},
		false), "alter configs")
	must(admin.CreatePartitions(doomed, 2, nil, false), "create partitions")
	md, err := admin.DescribeTopics([]string{doomed})
	must(err, "describe topics")
	if len(md) != 1 || len(md[0].Partitions) != 2 {
		fail("after create partitions: %+v", md)
	}
	// Sarama asks with Metadata v0, which has no controller id (it reports -1).
	brokers, _, err := admin.DescribeCluster()
	must(err, "describe cluster")
	if len(brokers) != 1 || brokers[0].Addr() != broker {
		fail("describe cluster: %d brokers, first %s", len(brokers), brokers[0].Addr())
	}
	// Delete records below offset 2 of a partition holding 3.
	pcfg := producerConfig(sarama.CompressionNone)
	pcfg.Producer.Partitioner = sarama.NewManualPartitioner
	p, err := sarama.NewSyncProducer([]string{broker}, pcfg)
	must(err, "producer")
	for i := 0; i < 3; i++ {
		_, _, err := p.SendMessage(&sarama.ProducerMessage{Topic: doomed, Partition: 0,
			Value: sarama.StringEncoder("x")})
		must(err, "send to "+doomed)
	}
	p.Close()
	// The admin's DeleteRecords drops the per-partition errors: ask the broker directly.
	client, err := sarama.NewClient([]string{broker}, config())
	must(err, "client")
	leader, err := client.Leader(doomed, 0)
	must(err, "leader")
	dr, err := leader.DeleteRecords(&sarama.DeleteRecordsRequest{Timeout: 10 * time.Second,
		Topics: map[string]*sarama.DeleteRecordsRequestTopic{
			doomed: {PartitionOffsets: map[int32]int64{0: 2}}}})
	must(err, "delete records")
	if r := dr.Topics[doomed].Partitions[0]; r.Err != sarama.ErrNoError || r.LowWatermark != 2 {
		fail("delete records: %v, low watermark %d", r.Err, r.LowWatermark)
	}
	if first, err := client.GetOffset(doomed, 0, sarama.OffsetOldest); err != nil || first != 2 {
		fail("log start after delete records: %d %v", first, err)
	}
	client.Close()
	must(admin.DeleteTopic(doomed), "delete topic")
	if err := admin.DeleteTopic("go-never"); err == nil {
		fail("deleting an unknown topic succeeded")
	}
	topics, err := admin.ListTopics()
	must(err, "list topics")
	if _, ok := topics[doomed]; ok {
		fail("%s still listed after delete", doomed)
	}
	if d, ok := topics[topic]; !ok || d.NumPartitions != parts {
		fail("%s listed as %+v", topic, d)
	}
}

func producerConfig(codec sarama.CompressionCodec) *sarama.Config {
	c := config()
	c.Producer.Idempotent = true
	c.Producer.RequiredAcks = sarama.WaitForAll
	c.Producer.Return.Successes = true
	c.Producer.Retry.Max = 5
	c.Producer.Compression = codec
	c.Net.MaxOpenRequests = 1
	return c
}

type sent struct {
	key, value string
	header     string
	ts         time.Time
}

// Each codec's records go out in one SendMessages call (batched per partition) and one
// at a time; offsets per partition must follow each other without gaps.
func producePhase(broker string) map[int32][]sent {
	log := map[int32][]sent{}
	base := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	codecs := []sarama.CompressionCodec{sarama.CompressionNone, sarama.CompressionGZIP,
		sarama.CompressionSnappy, sarama.CompressionLZ4}
	for ci, codec := range codecs {
		p, err := sarama.NewSyncProducer([]string{broker}, producerConfig(codec))
		must(err, "idempotent producer")
		var batch []*sarama.ProducerMessage
		for i := 0; i < perCodec; i++ {
			k := fmt.Sprintf("%v-%d", codec, i)
			m := &sarama.ProducerMessage{Topic: topic, Key: sarama.StringEncoder(k),
				Value:     sarama.StringEncoder(strings.Repeat("v", i%200) + k),
				Headers:   []sarama.RecordHeader{{Key: []byte("h"), Value: []byte(k)}},
				Timestamp: base.Add(time.Duration(ci*perCodec+i) * time.Millisecond)}
			if i < perCodec/2 {
				batch = append(batch, m)
				continue
			}
			part, off, err := p.SendMessage(m)
			must(err, fmt.Sprintf("send %s", k))
			if want := int64(len(log[part])); off != want {
				fail("%s: offset %d in partition %d, expected %d", k, off, part, want)
			}
			log[part] = append(log[part], sent{k, string(m.Value.(sarama.StringEncoder)), k, m.Timestamp})
		}
		must(p.SendMessages(batch), fmt.Sprintf("send batch %v", codec))
		sort.SliceStable(batch, func(a, b int) bool { return batch[a].Offset < batch[b].Offset })
		for _, m := range batch {
			k := string(m.Key.(sarama.StringEncoder))
			if want := int64(len(log[m.Partition])); m.Offset != want {
				fail("%s: batch offset %d in partition %d, expected %d", k, m.Offset, m.Partition, want)
			}
			log[m.Partition] = append(log[m.Partition],
				sent{k, string(m.Value.(sarama.StringEncoder)), k, m.Timestamp})
		}
		p.Close()
		fmt.Printf("produced %d records with %v, idempotent, acks=all\n", perCodec, codec)
	}
	zstdRefused(broker)
	return log
}

// Sarama 1.22 sends zstd in Produce v3; Kafka refuses zstd below v7, and so do we.
func zstdRefused(broker string) {
	p, err := sarama.NewSyncProducer([]string{broker}, producerConfig(sarama.CompressionZSTD))
	must(err, "zstd producer")
	defer p.Close()
	_, _, err = p.SendMessage(&sarama.ProducerMessage{Topic: topic, Value: sarama.StringEncoder("z")})
	if err != sarama.ErrUnsupportedCompressionType {
		fail("zstd in Produce v3: %v, expected UNSUPPORTED_COMPRESSION_TYPE", err)
	}
}

// ListOffsets by time: the first offset whose record is stamped at or after the time.
// Sarama 1.22 sends batches with maxTimestamp -1; the broker must index the records' own.
func offsetsForTimes(broker string, log map[int32][]sent) {
	client, err := sarama.NewClient([]string{broker}, config())
	must(err, "client")
	defer client.Close()
	for part, recs := range log {
		for _, k := range []int{0, len(recs) / 3, len(recs) / 2, len(recs) - 1} {
			t := recs[k].ts
			want := int64(-1)
			for o, r := range recs {
				if !r.ts.Before(t) {
					want = int64(o)
					break
				}
			}
			got, err := client.GetOffset(topic, part, t.UnixNano()/int64(time.Millisecond))
			must(err, "offset for time")
			if got != want {
				fail("partition %d: offset for time %v is %d, expected %d", part, t, got, want)
			}
		}
	}
}

// Reads every partition from offset 0 with a partition consumer and compares.
func readBack(broker string, log map[int32][]sent) {
	c, err := sarama.NewConsumer([]string{broker}, config())
	must(err, "consumer")
	defer c.Close()
	for part, want := range log {
		pc, err := c.ConsumePartition(topic, part, sarama.OffsetOldest)
		must(err, "consume partition")
		for i, w := range want {
			select {
			case m := <-pc.Messages():
				if m.Offset != int64(i) || string(m.Key) != w.key || string(m.Value) != w.value ||
					len(m.Headers) != 1 || string(m.Headers[0].Value) != w.header ||
					!m.Timestamp.Equal(w.ts) {
					fail("partition %d offset %d: got key %q ts %v, want %q %v", part, m.Offset,
						m.Key, m.Timestamp, w.key, w.ts)
				}
			case err := <-pc.Errors():
				fail("partition consumer: %v", err)
			case <-time.After(20 * time.Second):
				fail("partition %d: nothing at offset %d in 20 s", part, i)
			}
		}
		pc.Close()
	}
}

// tally: what the members of one runGroup received between them, per partition. A
// member's handler marks (and so commits) offsets below limit[p] only (every offset when
// limit is nil) and counts only those.
type tally struct {
	mu    sync.Mutex
	got   map[int32][]int64
	limit map[int32]int64
	total int64
	want  int64
	done  chan struct{}
	once  sync.Once
}

func (t *tally) Setup(sarama.ConsumerGroupSession) error   { return nil }
func (t *tally) Cleanup(sarama.ConsumerGroupSession) error { return nil }
func (t *tally) ConsumeClaim(s sarama.ConsumerGroupSession, c sarama.ConsumerGroupClaim) error {
	for msg := range c.Messages() {
		t.mu.Lock()
		if t.limit == nil || msg.Offset < t.limit[msg.Partition] {
			t.got[msg.Partition] = append(t.got[msg.Partition], msg.Offset)
			s.MarkMessage(msg, "")
			t.total++
			if t.total == t.want {
				t.once.Do(func() { close(t.done) })
			}
		}
		t.mu.Unlock()
	}
	return nil
}

func groupConfig() *sarama.Config {
	c := config()
	c.Consumer.Offsets.Initial = sarama.OffsetOldest
	c.Consumer.Offsets.CommitInterval = 200 * time.Millisecond
	c.Consumer.Group.Heartbeat.Interval = 500 * time.Millisecond
	c.Consumer.Return.Errors = true
	return c
}

// Runs n members of the group until want messages arrived between them; returns
// what each partition delivered.
func runGroup(broker string, n int, limit map[int32]int64, want int64) map[int32][]int64 {
	t := &tally{got: map[int32][]int64{}, limit: limit, want: want, done: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var groups []sarama.ConsumerGroup
	for i := 0; i < n; i++ {
		g, err := sarama.NewConsumerGroup([]string{broker}, group, groupConfig())
		must(err, "consumer group")
		groups = append(groups, g)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				if err := g.Consume(ctx, []string{topic}, t); err != nil && ctx.Err() == nil {
					fail("group consume: %v", err)
				}
			}
		}()
		go func() {
			for err := range g.Errors() {
				fmt.Fprintf(os.Stderr, "group error: %v\n", err)
			}
		}()
	}
	select {
	case <-t.done:
	case <-time.After(60 * time.Second):
		fail("group received %d of %d in 60 s", t.total, want)
	}
	time.Sleep(500 * time.Millisecond) // nothing more may arrive
	cancel()
	wg.Wait()
	for _, g := range groups {
		must(g.Close(), "group close") // commits what was marked
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.total != want {
		fail("group received %d, expected %d", t.total, want)
	}
	return t.got
}

func endOffsets(broker string) map[int32]int64 {
	client, err := sarama.NewClient([]string{broker}, config())
	must(err, "client")
	defer client.Close()
	ends := map[int32]int64{}
	for p := int32(0); p < parts; p++ {
		off, err := client.GetOffset(topic, p, sarama.OffsetNewest)
		must(err, "latest offset")
		ends[p] = off
	}
	return ends
}

func committed(broker string) map[int32]int64 {
	admin, err := sarama.NewClusterAdmin([]string{broker}, config())
	must(err, "cluster admin")
	defer admin.Close()
	r, err := admin.ListConsumerGroupOffsets(group, map[string][]int32{topic: {0, 1, 2}})
	must(err, "list group offsets")
	out := map[int32]int64{}
	for p := int32(0); p < parts; p++ {
		b := r.GetBlock(topic, p)
		if b == nil || b.Err != sarama.ErrNoError {
			fail("group offset of partition %d: %+v", p, b)
		}
		out[p] = b.Offset
	}
	return out
}

func firstPhase(broker, state string) {
	adminPhase(broker)
	log := producePhase(broker)
	readBack(broker, log)
	offsetsForTimes(broker, log)
	limit := map[int32]int64{}
	var want int64
	for p := int32(0); p < parts; p++ {
		limit[p] = int64(len(log[p]) / 2)
		want += limit[p]
	}
	got := runGroup(broker, 1, limit, want)
	for p, offs := range got {
		for i, o := range offs {
			if o != int64(i) {
				fail("group: partition %d delivered offset %d at position %d", p, o, i)
			}
		}
	}
	c := committed(broker)
	var b strings.Builder
	for p := int32(0); p < parts; p++ {
		if c[p] != limit[p] {
			fail("partition %d committed %d, marked up to %d", p, c[p], limit[p])
		}
		fmt.Fprintf(&b, "%d %d\n", p, c[p])
	}
	must(ioutil.WriteFile(state, []byte(b.String()), 0644), "state file")
	fmt.Printf("group %s committed %v\n", group, c)
}

func resumePhase(broker, state string) {
	raw, err := ioutil.ReadFile(state)
	must(err, "state file")
	want := map[int32]int64{}
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		var p int32
		var o int64
		fmt.Sscanf(line, "%d %d", &p, &o)
		want[p] = o
	}
	c := committed(broker)
	for p, o := range want {
		if c[p] != o {
			fail("after restart partition %d committed %d, was %d", p, c[p], o)
		}
	}
	ends := endOffsets(broker)
	var rest int64
	for p := int32(0); p < parts; p++ {
		rest += ends[p] - want[p]
	}
	got := runGroup(broker, 2, nil, rest)
	for p := int32(0); p < parts; p++ {
		offs := got[p]
		sort.Slice(offs, func(a, b int) bool { return offs[a] < offs[b] })
		if int64(len(offs)) != ends[p]-want[p] || (len(offs) > 0 && offs[0] != want[p]) {
			fail("partition %d resumed with %d records from %v, committed %d, end %d", p,
				len(offs), offs[:1], want[p], ends[p])
		}
	}
	c = committed(broker)
	for p := int32(0); p < parts; p++ {
		if c[p] != ends[p] {
			fail("final commit of partition %d: %d, end %d", p, c[p], ends[p])
		}
	}
	fmt.Printf("group %s resumed after a restart with two members: %d records\n", group, rest)
}

func main() {
	if len(os.Args) != 4 {
		fail("usage: sarama_smoke BROKER first|resume STATEFILE")
	}
	switch os.Args[2] {
	case "first":
		firstPhase(os.Args[1], os.Args[3])
	case "resume":
		resumePhase(os.Args[1], os.Args[3])
	default:
		fail("unknown phase %s", os.Args[2])
	}
	fmt.Println("ok")
}
