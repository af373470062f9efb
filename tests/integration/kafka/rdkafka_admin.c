/* SPDX-License-Identifier: Apache-2.0 */
/* librdkafka's Admin API against a running broker (argv[1] = host:port): create
 * topics (with a config, and an invalid one refused), describe and alter topic
 * configs, create partitions, delete records and delete topics, checking each
 * outcome as an application would (results, then metadata and watermarks). Run by
 * 0101-rdkafka-admin.sh. Exit 0 on success. */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#define FAIL(...)                                                                                  \
    do {                                                                                           \
        fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                                       \
        fprintf(stderr, __VA_ARGS__);                                                              \
        fprintf(stderr, "\n");                                                                     \
        exit(1);                                                                                   \
    } while (0)

static rd_kafka_t *rk;
static rd_kafka_queue_t *q;

static rd_kafka_event_t *wait_result(rd_kafka_event_type_t type)
{
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 15000);
    if (!ev) FAIL("no admin result within 15 s");
    if (rd_kafka_event_type(ev) != type)
        FAIL("event %s: %s", rd_kafka_event_name(ev), rd_kafka_event_error_string(ev));
    if (rd_kafka_event_error(ev)) FAIL("request failed: %s", rd_kafka_event_error_string(ev));
    return ev;
}

static int partitions_of(const char *topic)
{
    const rd_kafka_metadata_t *md;
    rd_kafka_topic_t *t = rd_kafka_topic_new(rk, topic, NULL);
    if (rd_kafka_metadata(rk, 0, t, &md, 5000)) FAIL("metadata for %s", topic);
    int n = md->topic_cnt == 1 && !md->topics[0].err ? md->topics[0].partition_cnt : -1;
    rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(t);
    return n;
}

static bool topic_listed(const char *topic)
{
    const rd_kafka_metadata_t *md;
    if (rd_kafka_metadata(rk, 1, NULL, &md, 5000)) FAIL("metadata");
    bool found = false;
    for (int i = 0; i < md->topic_cnt; i++)
        if (!strcmp(md->topics[i].topic, topic)) found = true;
    rd_kafka_metadata_destroy(md);
    return found;
}

static void create_topics(void)
{
    char err[256];
    rd_kafka_NewTopic_t *nt[2];
    nt[0] = rd_kafka_NewTopic_new("admin-a", 3, 1, err, sizeof err);
    rd_kafka_NewTopic_set_config(nt[0], "retention.ms", "3600000");
    nt[1] = rd_kafka_NewTopic_new("admin-bad", 1, 1, err, sizeof err);
    rd_kafka_NewTopic_set_config(nt[1], "no.such.config", "1");
    rd_kafka_CreateTopics(rk, nt, 2, NULL, q);
    rd_kafka_event_t *ev = wait_result(RD_KAFKA_EVENT_CREATETOPICS_RESULT);
    size_t n;
    const rd_kafka_topic_result_t **res =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
    if (n != 2) FAIL("CreateTopics: %zu results", n);
    for (size_t i = 0; i < n; i++) {
        const char *name = rd_kafka_topic_result_name(res[i]);
        rd_kafka_resp_err_t e = rd_kafka_topic_result_error(res[i]);
        if (!strcmp(name, "admin-a") && e) FAIL("admin-a: %s", rd_kafka_err2str(e));
        if (!strcmp(name, "admin-bad") && e != RD_KAFKA_RESP_ERR_INVALID_CONFIG)
            FAIL("admin-bad: want INVALID_CONFIG, got %s", rd_kafka_err2name(e));
    }
    rd_kafka_event_destroy(ev);
    rd_kafka_NewTopic_destroy_array(nt, 2);
    if (partitions_of("admin-a") != 3) FAIL("admin-a has %d partitions", partitions_of("admin-a"));
    if (topic_listed("admin-bad")) FAIL("admin-bad was created");

    /* creating it again: TOPIC_ALREADY_EXISTS */
    nt[0] = rd_kafka_NewTopic_new("admin-a", 3, 1, err, sizeof err);
    rd_kafka_CreateTopics(rk, nt, 1, NULL, q);
    ev = wait_result(RD_KAFKA_EVENT_CREATETOPICS_RESULT);
    res = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
    if (n != 1 || rd_kafka_topic_result_error(res[0]) != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
        FAIL("second create: want TOPIC_ALREADY_EXISTS");
    rd_kafka_event_destroy(ev);
    rd_kafka_NewTopic_destroy_array(nt, 1);
}

static const char *config_value(const char *topic, const char *key, int *source)
{
    static char value[256];
    rd_kafka_ConfigResource_t *cr = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic);
    rd_kafka_DescribeConfigs(rk, &cr, 1, NULL, q);
    rd_kafka_event_t *ev = wait_result(RD_KAFKA_EVENT_DESCRIBECONFIGS_RESULT);
    size_t n;
    const rd_kafka_ConfigResource_t **res =
        rd_kafka_DescribeConfigs_result_resources(rd_kafka_event_DescribeConfigs_result(ev), &n);
    if (n != 1 || rd_kafka_ConfigResource_error(res[0]))
        FAIL("DescribeConfigs %s: %s", topic, rd_kafka_ConfigResource_error_string(res[0]));
    size_t ne;
    const rd_kafka_ConfigEntry_t **entries = rd_kafka_ConfigResource_configs(res[0], &ne);
    value[0] = 0;
    bool found = false;
    for (size_t i = 0; i < ne; i++) {
        if (strcmp(rd_kafka_ConfigEntry_name(entries[i]), key)) continue;
        const char *v = rd_kafka_ConfigEntry_value(entries[i]);
        snprintf(value, sizeof value, "%s", v ? v : "(null)");
        *source = rd_kafka_ConfigEntry_source(entries[i]);
        found = true;
    }
    if (ne < 10) FAIL("DescribeConfigs listed only %zu entries", ne);
    rd_kafka_event_destroy(ev);
    rd_kafka_ConfigResource_destroy(cr);
    if (!found) FAIL("%s not described", key);
    return value;
}

static void configs(void)
{
    int source;
    const char *v = config_value("admin-a", "retention.ms", &source);
    if (strcmp(v, "3600000") || source != RD_KAFKA_CONFIG_SOURCE_DYNAMIC_TOPIC_CONFIG)
        FAIL("retention.ms = %s source %d", v, source);
    v = config_value("admin-a", "cleanup.policy", &source);
    if (strcmp(v, "delete") || source != RD_KAFKA_CONFIG_SOURCE_DEFAULT_CONFIG)
        FAIL("cleanup.policy = %s source %d", v, source);

    /* AlterConfigs replaces the overrides: retention.ms goes back to its default */
    rd_kafka_ConfigResource_t *cr = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, "admin-a");
    rd_kafka_ConfigResource_set_config(cr, "segment.bytes", "1048576");
    rd_kafka_AlterConfigs(rk, &cr, 1, NULL, q);
    rd_kafka_event_t *ev = wait_result(RD_KAFKA_EVENT_ALTERCONFIGS_RESULT);
    size_t n;
    const rd_kafka_ConfigResource_t **res =
        rd_kafka_AlterConfigs_result_resources(rd_kafka_event_AlterConfigs_result(ev), &n);
    if (n != 1 || rd_kafka_ConfigResource_error(res[0]))
        FAIL("AlterConfigs: %s", rd_kafka_ConfigResource_error_string(res[0]));
    rd_kafka_event_destroy(ev);
    rd_kafka_ConfigResource_destroy(cr);
    v = config_value("admin-a", "segment.bytes", &source);
    if (strcmp(v, "1048576")) FAIL("segment.bytes after alter = %s", v);
    v = config_value("admin-a", "retention.ms", &source);
    if (source != RD_KAFKA_CONFIG_SOURCE_DEFAULT_CONFIG) FAIL("retention.ms still overridden");

    /* an invalid value is refused */
    cr = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, "admin-a");
    rd_kafka_ConfigResource_set_config(cr, "segment.bytes", "not-a-number");
    rd_kafka_AlterConfigs(rk, &cr, 1, NULL, q);
    ev = wait_result(RD_KAFKA_EVENT_ALTERCONFIGS_RESULT);
    res = rd_kafka_AlterConfigs_result_resources(rd_kafka_event_AlterConfigs_result(ev), &n);
    if (n != 1 || rd_kafka_ConfigResource_error(res[0]) != RD_KAFKA_RESP_ERR_INVALID_CONFIG)
        FAIL("invalid alter: want INVALID_CONFIG");
    rd_kafka_event_destroy(ev);
    rd_kafka_ConfigResource_destroy(cr);
}

static void create_partitions(void)
{
    char err[256];
    rd_kafka_NewPartitions_t *np = rd_kafka_NewPartitions_new("admin-a", 5, err, sizeof err);
    rd_kafka_CreatePartitions(rk, &np, 1, NULL, q);
    rd_kafka_event_t *ev = wait_result(RD_KAFKA_EVENT_CREATEPARTITIONS_RESULT);
    size_t n;
    const rd_kafka_topic_result_t **res =
        rd_kafka_CreatePartitions_result_topics(rd_kafka_event_CreatePartitions_result(ev), &n);
    if (n != 1 || rd_kafka_topic_result_error(res[0]))
        FAIL("CreatePartitions: %s", rd_kafka_topic_result_error_string(res[0]));
    rd_kafka_event_destroy(ev);
    rd_kafka_NewPartitions_destroy(np);
    if (partitions_of("admin-a") != 5) FAIL("after CreatePartitions: %d", partitions_of("admin-a"));
}

static void delete_records(void)
{
    /* 10 records into partition 1, then delete below offset 4 */
    for (int i = 0; i < 10; i++)
        if (rd_kafka_producev(rk, RD_KAFKA_V_TOPIC("admin-a"), RD_KAFKA_V_PARTITION(1),
                              RD_KAFKA_V_VALUE("x", 1), RD_KAFKA_V_END))
            FAIL("producev");
    rd_kafka_flush(rk, 10000);
    rd_kafka_topic_partition_list_t *tp = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(tp, "admin-a", 1)->offset = 4;
    rd_kafka_DeleteRecords_t *dr = rd_kafka_DeleteRecords_new(tp);
    rd_kafka_topic_partition_list_destroy(tp);
    rd_kafka_DeleteRecords(rk, &dr, 1, NULL, q);
    rd_kafka_event_t *ev = wait_result(RD_KAFKA_EVENT_DELETERECORDS_RESULT);
    const rd_kafka_topic_partition_list_t *off =
        rd_kafka_DeleteRecords_result_offsets(rd_kafka_event_DeleteRecords_result(ev));
    if (off->cnt != 1 || off->elems[0].err || off->elems[0].offset != 4)
        FAIL("DeleteRecords: err %s low %" PRId64, rd_kafka_err2str(off->elems[0].err),
             off->elems[0].offset);
    rd_kafka_event_destroy(ev);
    rd_kafka_DeleteRecords_destroy(dr);
    int64_t lo, hi;
    if (rd_kafka_query_watermark_offsets(rk, "admin-a", 1, &lo, &hi, 5000))
        FAIL("query watermarks");
    if (lo != 4 || hi != 10) FAIL("watermarks %" PRId64 "..%" PRId64, lo, hi);
}

static void delete_topics(void)
{
    rd_kafka_DeleteTopic_t *dt = rd_kafka_DeleteTopic_new("admin-a");
    rd_kafka_DeleteTopics(rk, &dt, 1, NULL, q);
    rd_kafka_event_t *ev = wait_result(RD_KAFKA_EVENT_DELETETOPICS_RESULT);
    size_t n;
    const rd_kafka_topic_result_t **res =
        rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(ev), &n);
    if (n != 1 || rd_kafka_topic_result_error(res[0]))
        FAIL("DeleteTopics: %s", rd_kafka_topic_result_error_string(res[0]));
    rd_kafka_event_destroy(ev);
    rd_kafka_DeleteTopic_destroy(dt);
    if (topic_listed("admin-a")) FAIL("admin-a still listed after delete");
    /* deleting it again: UNKNOWN_TOPIC_OR_PART */
    dt = rd_kafka_DeleteTopic_new("admin-a");
    rd_kafka_DeleteTopics(rk, &dt, 1, NULL, q);
    ev = wait_result(RD_KAFKA_EVENT_DELETETOPICS_RESULT);
    res = rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(ev), &n);
    if (n != 1 || rd_kafka_topic_result_error(res[0]) != RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
        FAIL("second delete: want UNKNOWN_TOPIC_OR_PART");
    rd_kafka_event_destroy(ev);
    rd_kafka_DeleteTopic_destroy(dt);
}

int main(int argc, char **argv)
{
    if (argc < 2) return 2;
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", argv[1], err, sizeof err);
    rd_kafka_conf_set(conf, "allow.auto.create.topics", "false", err, sizeof err);
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk) FAIL("rd_kafka_new: %s", err);
    q = rd_kafka_queue_new(rk);
    create_topics();
    printf("create topics: ok\n");
    configs();
    printf("describe/alter configs: ok\n");
    create_partitions();
    printf("create partitions: ok\n");
    delete_records();
    printf("delete records: ok\n");
    delete_topics();
    printf("delete topics: ok\n");
    rd_kafka_queue_destroy(q);
    rd_kafka_destroy(rk);
    return 0;
}
