// SPDX-License-Identifier: Apache-2.0
// Apache Kafka's Java client (kafka-clients) against one ganglion broker, with the client's
// defaults unless said: the idempotent producer (acks=all, enable.idempotence=true) with
// keys, headers and each compression codec; a KafkaConsumer group that subscribes, polls,
// commits, and a second member of the group resuming at the committed offset; the
// AdminClient's topic, config, partition, record, offset and group calls. Prints one line
// per check; exits 1 at the first mismatch. Usage: GanglionSmoke BOOTSTRAP
import java.time.Duration;
import java.util.*;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.*;
import org.apache.kafka.clients.consumer.*;
import org.apache.kafka.clients.producer.*;
import org.apache.kafka.common.*;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.*;
import org.apache.kafka.common.utils.Utils;

public class GanglionSmoke {
    static String bootstrap;

    static void check(boolean ok, String what) {
        if (!ok) {
            System.out.println("FAIL: " + what);
            System.exit(1);
        }
        System.out.println("ok: " + what);
    }

    static Properties base() {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        return p;
    }

    static KafkaProducer<String, String> producer(String compression) {
        Properties p = base();
        p.put("key.serializer", StringSerializer.class.getName());
        p.put("value.serializer", StringSerializer.class.getName());
        p.put("compression.type", compression);
        return new KafkaProducer<>(p);
    }

    static KafkaConsumer<String, String> consumer(String group) {
        Properties p = base();
        p.put("key.deserializer", StringDeserializer.class.getName());
        p.put("value.deserializer", StringDeserializer.class.getName());
        p.put("group.id", group);
        p.put("auto.offset.reset", "earliest");
        p.put("enable.auto.commit", "false");
        p.put("max.poll.records", "10"); // so that a first member stops part-way
        return new KafkaConsumer<>(p);
    }

    static List<ConsumerRecord<String, String>> pollN(KafkaConsumer<String, String> c, int n) {
        List<ConsumerRecord<String, String>> got = new ArrayList<>();
        long end = System.currentTimeMillis() + 20000;
        while (got.size() < n && System.currentTimeMillis() < end)
            for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(200))) got.add(r);
        return got;
    }

    public static void main(String[] args) throws Exception {
        bootstrap = args[0];
        try (Admin admin = Admin.create(base())) {
            adminChecks(admin);
            produceConsume(admin);
            adminAfter(admin);
        }
        System.out.println("PASS");
    }

    static void adminChecks(Admin admin) throws Exception {
        DescribeClusterResult dc = admin.describeCluster();
        check(dc.nodes().get().size() == 1 && dc.controller().get() != null,
              "describeCluster: one node and a controller");
        admin.createTopics(List.of(new NewTopic("java-smoke", 4, (short) 1),
                                   new NewTopic("java-admin", 1, (short) 1)
                                       .configs(Map.of("retention.ms", "3600000"))))
            .all().get();
        TopicDescription td = admin.describeTopics(List.of("java-smoke")).allTopicNames().get()
                                  .get("java-smoke");
        check(td.partitions().size() == 4, "createTopics + describeTopics: java-smoke has 4 partitions");
        try {
            admin.createTopics(List.of(new NewTopic("java-smoke", 1, (short) 1))).all().get();
            check(false, "createTopics of an existing topic fails");
        } catch (ExecutionException e) {
            check(e.getCause() instanceof org.apache.kafka.common.errors.TopicExistsException,
                  "createTopics of an existing topic: TopicExistsException");
        }
        check(admin.listTopics().names().get().containsAll(List.of("java-smoke", "java-admin")),
              "listTopics");
        ConfigResource cr = new ConfigResource(ConfigResource.Type.TOPIC, "java-admin");
        Config cfg = admin.describeConfigs(List.of(cr)).all().get().get(cr);
        check("3600000".equals(cfg.get("retention.ms").value()), "describeConfigs: retention.ms as created");
        admin.incrementalAlterConfigs(Map.of(cr, List.of(new AlterConfigOp(
            new ConfigEntry("retention.ms", "7200000"), AlterConfigOp.OpType.SET)))).all().get();
        cfg = admin.describeConfigs(List.of(cr)).all().get().get(cr);
        check("7200000".equals(cfg.get("retention.ms").value()), "incrementalAlterConfigs: retention.ms set");
        admin.createPartitions(Map.of("java-admin", NewPartitions.increaseTo(3))).all().get();
        td = admin.describeTopics(List.of("java-admin")).allTopicNames().get().get("java-admin");
        check(td.partitions().size() == 3, "createPartitions: java-admin grown to 3");
    }

    static void produceConsume(Admin admin) throws Exception {
        String[] codecs = {"none", "gzip", "snappy", "lz4", "zstd"};
        Map<String, Integer> partitionOf = new HashMap<>();
        int n = 0;
        for (String codec : codecs) {
            try (KafkaProducer<String, String> p = producer(codec)) {
                for (int i = 0; i < 20; i++, n++) {
                    String key = "key-" + n;
                    ProducerRecord<String, String> r = new ProducerRecord<>("java-smoke", key, codec + "-" + i);
                    r.headers().add("codec", codec.getBytes());
                    RecordMetadata md = p.send(r).get();
                    partitionOf.put(key, md.partition());
                    int want = Utils.toPositive(Utils.murmur2(key.getBytes())) % 4;
                    if (md.partition() != want) check(false, key + " in partition " + md.partition() + ", murmur2 says " + want);
                }
                p.send(new ProducerRecord<>("java-smoke", 0, null, (String) null)).get();
                n++;
            }
            check(true, "idempotent producer (acks=all) with compression " + codec + ": 20 keyed records + a null record acknowledged");
        }
        check(true, "every key in the partition of Java's default partitioner (murmur2)");

        List<ConsumerRecord<String, String>> got;
        try (KafkaConsumer<String, String> c = consumer("java-group")) {
            c.subscribe(List.of("java-smoke"));
            got = pollN(c, 60);
            check(got.size() >= 60 && got.size() < 105, "consumer group: subscribe + poll, " + got.size() + " of 105 records before the commit");
            // commit exactly what was read, per partition
            Map<TopicPartition, OffsetAndMetadata> offs = new HashMap<>();
            for (ConsumerRecord<String, String> r : got)
                offs.merge(new TopicPartition(r.topic(), r.partition()), new OffsetAndMetadata(r.offset() + 1),
                           (a, b) -> a.offset() > b.offset() ? a : b);
            // records polled past what we keep are not committed: count what is committed
            c.commitSync(offs);
            check(true, "commitSync of " + offs.size() + " partitions");
        }
        for (ConsumerRecord<String, String> r : got) {
            Header h = r.headers().lastHeader("codec");
            if (r.key() != null && (h == null || !r.value().startsWith(new String(h.value()))))
                check(false, "header of " + r.key() + " matches its value");
            if (r.key() != null && partitionOf.get(r.key()) != r.partition())
                check(false, "record " + r.key() + " read from its partition");
        }
        check(true, "headers and partitions of the records read back");
        Map<TopicPartition, OffsetAndMetadata> committed =
            admin.listConsumerGroupOffsets("java-group").partitionsToOffsetAndMetadata().get();
        long sum = committed.values().stream().mapToLong(OffsetAndMetadata::offset).sum();
        try (KafkaConsumer<String, String> c = consumer("java-group")) {
            c.subscribe(List.of("java-smoke"));
            List<ConsumerRecord<String, String>> rest = pollN(c, (int) (105 - sum));
            check(rest.size() == 105 - sum, "second member resumes at the committed offsets: " + rest.size() + " more, " + (sum + rest.size()) + " in all");
            Set<String> seen = new HashSet<>();
            for (ConsumerRecord<String, String> r : got) seen.add(r.partition() + "/" + r.offset());
            for (ConsumerRecord<String, String> r : rest)
                if (r.offset() < committed.getOrDefault(new TopicPartition(r.topic(), r.partition()),
                                                        new OffsetAndMetadata(0)).offset())
                    check(false, "record " + r.partition() + "/" + r.offset() + " before the committed offset read again");
            c.commitSync();
        }
        Collection<ConsumerGroupListing> groups = admin.listConsumerGroups().all().get();
        check(groups.stream().anyMatch(g -> g.groupId().equals("java-group")), "listConsumerGroups");
        ConsumerGroupDescription gd = admin.describeConsumerGroups(List.of("java-group")).all().get().get("java-group");
        check(gd.state() == ConsumerGroupState.EMPTY, "describeConsumerGroups: java-group empty after its members left (" + gd.state() + ")");
        committed = admin.listConsumerGroupOffsets("java-group").partitionsToOffsetAndMetadata().get();
        check(committed.values().stream().mapToLong(OffsetAndMetadata::offset).sum() == 105,
              "listConsumerGroupOffsets: 105 committed in all");
    }

    static void adminAfter(Admin admin) throws Exception {
        TopicPartition tp0 = new TopicPartition("java-smoke", 0);
        Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> latest =
            admin.listOffsets(Map.of(tp0, OffsetSpec.latest())).all().get();
        long end = latest.get(tp0).offset();
        check(end > 5, "listOffsets latest of partition 0: " + end);
        admin.deleteRecords(Map.of(tp0, RecordsToDelete.beforeOffset(2))).all().get();
        long start = admin.listOffsets(Map.of(tp0, OffsetSpec.earliest())).all().get().get(tp0).offset();
        check(start == 2, "deleteRecords before 2: earliest is now " + start);
        admin.deleteConsumerGroups(List.of("java-group")).all().get();
        check(true, "deleteConsumerGroups");
        admin.deleteTopics(List.of("java-smoke", "java-admin")).all().get();
        Set<String> names = admin.listTopics().names().get();
        check(!names.contains("java-smoke") && !names.contains("java-admin"), "deleteTopics");
    }
}
