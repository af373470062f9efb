/* SPDX-License-Identifier: Apache-2.0 */
/* The Kafka listener on a real libuv loop and a real broker (gn_broker_open in a temp
 * dir): a blocking client thread sends frames built with the generated codecs and
 * checks what a client would see: pipelined answers in request order (acks=0 gets
 * none), the ApiVersions unsupported-version rule, connections closed on an unknown
 * API key and on an oversized frame, and Fetch long-poll woken by a produce or ended
 * by MaxWaitMs; CreateAcls/DescribeAcls/DeleteAcls in their flexible versions (v2-3,
 * which librdkafka 2.0 does not send) with authorizer.enabled. Listens on 127.0.0.1:29099. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "../../../adapters/kafka/kafka.h"
#include "ganglion/ganglion.h"

#define PORT 29099

extern const gn_adapter_t gn_kafka_adapter;

typedef struct fixture {
    uv_loop_t loop;
    uv_async_t done;
    char dir[64];
    gn_broker_t *broker;
    void *state;
    void (*client)(struct fixture *f);
    pthread_t thread;
    int failed;
} fixture_t;

/* ---- client side (test thread) ---- */

static int client_connect(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(PORT)};
    inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
    if (connect(fd, (struct sockaddr *)&sin, sizeof sin) < 0) {
        close(fd);
        return -1;
    }
    struct timeval tv = {.tv_sec = 5};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

/* Starts a request frame: header v1/v2. */
static void req_begin(kafka_writer_t *w, int16_t key, int16_t version, int32_t corr, bool flex)
{
    kafka_writer_init(w, 0);
    kw_int16(w, key);
    kw_int16(w, version);
    kw_int32(w, corr);
    kw_string(w, false, GN_BYTES_STR("test"));
    kw_tags_empty(w, flex);
}

/* Reads one response frame into buf (malloc'd); returns its length, 0 on EOF, -1 on
 * timeout or error. */
static ssize_t read_full(int fd, void *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = recv(fd, (char *)buf + got, n - got, 0);
        if (r <= 0) return r;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

static ssize_t read_frame(int fd, uint8_t **out)
{
    uint8_t hdr[4];
    ssize_t r = read_full(fd, hdr, 4);
    if (r <= 0) return r;
    size_t len = ((size_t)hdr[0] << 24) | ((size_t)hdr[1] << 16) | ((size_t)hdr[2] << 8) | hdr[3];
    *out = malloc(len);
    if (read_full(fd, *out, len) != (ssize_t)len) return -1;
    return (ssize_t)len;
}

static void send_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t r = send(fd, p, n, MSG_NOSIGNAL);
        if (r <= 0) return;
        p += r;
        n -= (size_t)r;
    }
}

static int32_t corr_of(const uint8_t *frame)
{
    return (int32_t)ntohl(*(const uint32_t *)frame);
}

static gn_bytes_t one_batch(gn_batch_builder_t *b, const char *value)
{
    gn_batch_builder_init(b, GN_COMPRESSION_NONE);
    gn_batch_builder_add(b, GN_BYTES_NULL, (gn_bytes_t){(const uint8_t *)value, strlen(value)},
                         NULL, 0, gn_now_ms());
    gn_bytes_t out;
    gn_batch_builder_finish(b, 0, &out);
    return out;
}

static void add_produce(kafka_writer_t *w, int32_t corr, int16_t acks, const char *topic,
                        const char *value)
{
    gn_batch_builder_t b;
    gn_bytes_t batch = one_batch(&b, value);
    kafka_writer_t req;
    req_begin(&req, 0, 7, corr, false);
    kafka_ProduceRequest_t m;
    kafka_ProduceRequest_init(&m);
    m.TransactionalId = GN_BYTES_NULL;
    m.Acks = acks;
    m.TimeoutMs = 5000;
    kafka_ProduceRequest_PartitionProduceData_t pd = {.Index = 0, .Records.bytes = batch};
    kafka_ProduceRequest_TopicProduceData_t td = {.Name = {(const uint8_t *)topic, strlen(topic)},
                                                  .PartitionData = {&pd, 1, false}};
    m.TopicData = (kafka_ProduceRequest_TopicProduceData_array_t){&td, 1, false};
    kafka_ProduceRequest_encode(&req, 7, &m);
    kafka_writer_finish(&req);
    kw_raw(w, req.buf, req.len);
    kafka_writer_close(&req);
    gn_batch_builder_close(&b);
}

static void add_metadata(kafka_writer_t *w, int32_t corr, const char *topic)
{
    kafka_writer_t req;
    req_begin(&req, 3, 4, corr, false);
    kafka_MetadataRequest_t m;
    kafka_MetadataRequest_init(&m);
    kafka_MetadataRequest_MetadataRequestTopic_t t = {
        .Name = {(const uint8_t *)topic, strlen(topic)}};
    m.Topics = (kafka_MetadataRequest_MetadataRequestTopic_array_t){&t, 1, false};
    m.AllowAutoTopicCreation = true;
    kafka_MetadataRequest_encode(&req, 4, &m);
    kafka_writer_finish(&req);
    kw_raw(w, req.buf, req.len);
    kafka_writer_close(&req);
}

static void add_api_versions(kafka_writer_t *w, int32_t corr, int16_t version)
{
    kafka_writer_t req;
    req_begin(&req, 18, version, corr, version >= 3);
    kafka_ApiVersionsRequest_t m;
    kafka_ApiVersionsRequest_init(&m);
    kafka_ApiVersionsRequest_encode(&req, version >= 3 ? 3 : version, &m);
    kafka_writer_finish(&req);
    kw_raw(w, req.buf, req.len);
    kafka_writer_close(&req);
}

static void add_fetch(kafka_writer_t *w, int32_t corr, const char *topic, int64_t offset,
                      int32_t max_wait)
{
    kafka_writer_t req;
    req_begin(&req, 1, 11, corr, false);
    kafka_FetchRequest_t m;
    kafka_FetchRequest_init(&m);
    m.ReplicaId = -1;
    m.MaxWaitMs = max_wait;
    m.MinBytes = 1;
    m.MaxBytes = 1 << 20;
    m.SessionEpoch = -1;
    kafka_FetchRequest_FetchPartition_t p;
    memset(&p, 0, sizeof p);
    p.Partition = 0;
    p.FetchOffset = offset;
    p.LogStartOffset = -1;
    p.PartitionMaxBytes = 1 << 20;
    p.CurrentLeaderEpoch = -1;
    kafka_FetchRequest_FetchTopic_t t;
    memset(&t, 0, sizeof t);
    t.Topic = (gn_bytes_t){(const uint8_t *)topic, strlen(topic)};
    t.Partitions = (kafka_FetchRequest_FetchPartition_array_t){&p, 1, false};
    m.Topics = (kafka_FetchRequest_FetchTopic_array_t){&t, 1, false};
    m.RackId = GN_BYTES_STR("");
    kafka_FetchRequest_encode(&req, 11, &m);
    kafka_writer_finish(&req);
    kw_raw(w, req.buf, req.len);
    kafka_writer_close(&req);
}

static void send_writer(int fd, kafka_writer_t *w)
{
    send_all(fd, w->buf + 4, w->len - 4); /* the outer writer's own headroom is unused */
    kafka_writer_close(w);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Decodes a Fetch v11 response body; returns the record bytes of partition 0. */
static int64_t fetch_records_len(kafka_arena_t *a, const uint8_t *frame, size_t len, int16_t *err)
{
    kafka_reader_t r;
    kafka_reader_init(&r, frame + 4, len - 4);
    kafka_FetchResponse_t resp;
    if (kafka_FetchResponse_decode(&r, 11, a, &resp) < 0 || resp.Responses.count != 1) return -1;
    *err = resp.Responses.items[0].Partitions.items[0].ErrorCode;
    return (int64_t)resp.Responses.items[0].Partitions.items[0].Records.bytes.len;
}

/* Sends one request (key, version, flexible header) whose body encode() writes, and
 * returns the response body after its header (v1: tagged fields) in *frame (free it). */
static kafka_reader_t round_trip(int fd, int16_t key, int16_t version, int32_t corr,
                                 void (*encode)(kafka_writer_t *, int16_t, void *), void *m,
                                 uint8_t **frame)
{
    kafka_writer_t w, req;
    kafka_writer_init(&w, 0);
    req_begin(&req, key, version, corr, true);
    encode(&req, version, m);
    kafka_writer_finish(&req);
    kw_raw(&w, req.buf, req.len);
    kafka_writer_close(&req);
    send_writer(fd, &w);
    ssize_t n = read_frame(fd, frame);
    assert_true(n > 5);
    assert_int_equal(corr_of(*frame), corr);
    assert_int_equal((*frame)[4], 0); /* no tagged fields in the response header */
    kafka_reader_t r;
    kafka_reader_init(&r, *frame + 5, (size_t)n - 5);
    return r;
}

static void encode_create(kafka_writer_t *w, int16_t v, void *m)
{
    kafka_CreateAclsRequest_encode(w, v, m);
}
static void encode_describe(kafka_writer_t *w, int16_t v, void *m)
{
    kafka_DescribeAclsRequest_encode(w, v, m);
}
static void encode_delete(kafka_writer_t *w, int16_t v, void *m)
{
    kafka_DeleteAclsRequest_encode(w, v, m);
}

/* DescribeAcls v2 of every binding: how many resources and ACLs it lists. */
static void describe_all(int fd, int32_t corr, int32_t *resources, int32_t *acls)
{
    kafka_DescribeAclsRequest_t d;
    kafka_DescribeAclsRequest_init(&d);
    d.ResourceTypeFilter = GN_ACL_RESOURCE_ANY;
    d.ResourceNameFilter = d.PrincipalFilter = d.HostFilter = GN_BYTES_NULL;
    d.PatternTypeFilter = GN_ACL_PATTERN_ANY;
    d.Operation = GN_ACL_OP_ANY;
    d.PermissionType = GN_ACL_PERMISSION_ANY;
    uint8_t *frame;
    kafka_reader_t r = round_trip(fd, 29, 2, corr, encode_describe, &d, &frame);
    kafka_arena_t a;
    kafka_arena_init(&a, 0);
    kafka_DescribeAclsResponse_t resp;
    assert_int_equal(kafka_DescribeAclsResponse_decode(&r, 2, &a, &resp), 0);
    assert_int_equal(resp.ErrorCode, 0);
    *resources = resp.Resources.count;
    *acls = 0;
    for (int32_t i = 0; i < resp.Resources.count; i++)
        *acls += resp.Resources.items[i].Acls.count;
    kafka_arena_free(&a);
    free(frame);
}

/* ---- scenarios (client thread) ---- */

static void scenario_acls_flexible(fixture_t *f)
{
    (void)f;
    int fd = client_connect();
    assert_true(fd >= 0);
    kafka_CreateAclsRequest_AclCreation_t c[3] = {
        {GN_ACL_RESOURCE_TOPIC, GN_BYTES_STR("t"), GN_ACL_PATTERN_LITERAL, GN_BYTES_STR("User:a"),
         GN_BYTES_STR("*"), GN_ACL_OP_READ, GN_ACL_PERMISSION_ALLOW},
        {GN_ACL_RESOURCE_TOPIC, GN_BYTES_STR("t"), GN_ACL_PATTERN_LITERAL, GN_BYTES_STR("User:b"),
         GN_BYTES_STR("*"), GN_ACL_OP_WRITE, GN_ACL_PERMISSION_DENY},
        {GN_ACL_RESOURCE_GROUP, GN_BYTES_STR("g"), GN_ACL_PATTERN_MATCH, GN_BYTES_STR("User:a"),
         GN_BYTES_STR("*"), GN_ACL_OP_READ, GN_ACL_PERMISSION_ALLOW}, /* MATCH: refused */
    };
    kafka_CreateAclsRequest_t cr;
    kafka_CreateAclsRequest_init(&cr);
    cr.Creations = (kafka_CreateAclsRequest_AclCreation_array_t){c, 3, false};
    uint8_t *frame;
    kafka_reader_t r = round_trip(fd, 30, 3, 1, encode_create, &cr, &frame);
    kafka_arena_t a;
    kafka_arena_init(&a, 0);
    kafka_CreateAclsResponse_t cresp;
    assert_int_equal(kafka_CreateAclsResponse_decode(&r, 3, &a, &cresp), 0);
    assert_int_equal(cresp.Results.count, 3);
    assert_int_equal(cresp.Results.items[0].ErrorCode, 0);
    assert_int_equal(cresp.Results.items[1].ErrorCode, 0);
    assert_int_equal(cresp.Results.items[2].ErrorCode, KAFKA_INVALID_REQUEST);
    free(frame);
    int32_t resources, acls;
    describe_all(fd, 2, &resources, &acls);
    assert_int_equal(resources, 1); /* both on TOPIC t LITERAL */
    assert_int_equal(acls, 2);

    kafka_DeleteAclsRequest_DeleteAclsFilter_t df = {
        GN_ACL_RESOURCE_TOPIC, GN_BYTES_NULL, GN_ACL_PATTERN_MATCH, GN_BYTES_STR("User:b"),
        GN_BYTES_NULL,         GN_ACL_OP_ANY, GN_ACL_PERMISSION_ANY};
    df.ResourceNameFilter = GN_BYTES_STR("t");
    kafka_DeleteAclsRequest_t dr;
    kafka_DeleteAclsRequest_init(&dr);
    dr.Filters = (kafka_DeleteAclsRequest_DeleteAclsFilter_array_t){&df, 1, false};
    r = round_trip(fd, 31, 3, 3, encode_delete, &dr, &frame);
    kafka_DeleteAclsResponse_t dresp;
    assert_int_equal(kafka_DeleteAclsResponse_decode(&r, 3, &a, &dresp), 0);
    assert_int_equal(dresp.FilterResults.count, 1);
    assert_int_equal(dresp.FilterResults.items[0].ErrorCode, 0);
    assert_int_equal(dresp.FilterResults.items[0].MatchingAcls.count, 1);
    assert_int_equal(dresp.FilterResults.items[0].MatchingAcls.items[0].PermissionType,
                     GN_ACL_PERMISSION_DENY);
    free(frame);
    kafka_arena_free(&a);
    describe_all(fd, 4, &resources, &acls);
    assert_int_equal(acls, 1);
    close(fd);
}

static void scenario_pipelined(fixture_t *f)
{
    int fd = client_connect();
    assert_true(fd >= 0);
    kafka_writer_t w;
    kafka_writer_init(&w, 0);
    add_metadata(&w, 1, "pipe");
    add_produce(&w, 2, 0, "pipe", "first");  /* acks=0: no answer */
    add_produce(&w, 3, 1, "pipe", "second"); /* acks=1 */
    add_api_versions(&w, 4, 0);
    send_writer(fd, &w);
    int32_t want[] = {1, 3, 4};
    for (int i = 0; i < 3; i++) {
        uint8_t *frame = NULL;
        ssize_t n = read_frame(fd, &frame);
        assert_true(n > 4);
        assert_int_equal(corr_of(frame), want[i]);
        if (want[i] == 3) {
            kafka_arena_t a;
            kafka_arena_init(&a, 0);
            kafka_reader_t r;
            kafka_reader_init(&r, frame + 4, (size_t)n - 4);
            kafka_ProduceResponse_t resp;
            assert_int_equal(kafka_ProduceResponse_decode(&r, 7, &a, &resp), 0);
            assert_int_equal(resp.Responses.items[0].PartitionResponses.items[0].ErrorCode, 0);
            /* the acks=0 record went first */
            assert_int_equal(resp.Responses.items[0].PartitionResponses.items[0].BaseOffset, 1);
            kafka_arena_free(&a);
        }
        free(frame);
    }
    close(fd);
}

static void scenario_api_versions_unsupported(fixture_t *f)
{
    int fd = client_connect();
    kafka_writer_t w;
    kafka_writer_init(&w, 0);
    add_api_versions(&w, 9, 9); /* v9: header v2 (flexible), a version we do not speak */
    send_writer(fd, &w);
    uint8_t *frame = NULL;
    ssize_t n = read_frame(fd, &frame);
    assert_true(n > 4);
    assert_int_equal(corr_of(frame), 9);
    kafka_arena_t a;
    kafka_arena_init(&a, 0);
    kafka_reader_t r;
    kafka_reader_init(&r, frame + 4, (size_t)n - 4); /* header v0, body v0 */
    kafka_ApiVersionsResponse_t resp;
    assert_int_equal(kafka_ApiVersionsResponse_decode(&r, 0, &a, &resp), 0);
    assert_int_equal(kafka_reader_left(&r), 0);
    assert_int_equal(resp.ErrorCode, 35);
    bool has18 = false;
    for (int32_t i = 0; i < resp.ApiKeys.count; i++)
        if (resp.ApiKeys.items[i].ApiKey == 18 && resp.ApiKeys.items[i].MaxVersion == 3)
            has18 = true;
    assert_true(has18);
    kafka_arena_free(&a);
    free(frame);
    close(fd);
}

static void scenario_closes_on_bad_input(fixture_t *f)
{
    /* unknown API key */
    int fd = client_connect();
    kafka_writer_t w;
    req_begin(&w, 999, 0, 1, false);
    kafka_writer_finish(&w);
    send_all(fd, w.buf, w.len);
    kafka_writer_close(&w);
    uint8_t *frame = NULL;
    assert_int_equal(read_frame(fd, &frame), 0);
    close(fd);
    /* unsupported Produce version */
    fd = client_connect();
    req_begin(&w, 0, 2, 1, false);
    kafka_writer_finish(&w);
    send_all(fd, w.buf, w.len);
    kafka_writer_close(&w);
    assert_int_equal(read_frame(fd, &frame), 0);
    close(fd);
    /* a frame over socket.request.max.bytes (1 MiB here): closed before it is read */
    fd = client_connect();
    uint8_t big[4] = {0x00, 0x20, 0x00, 0x00}; /* 2 MiB */
    send_all(fd, big, sizeof big);
    assert_int_equal(read_frame(fd, &frame), 0);
    close(fd);
    /* a truncated body inside a complete frame */
    fd = client_connect();
    req_begin(&w, 3, 4, 1, false);
    kw_int32(&w, 5); /* 5 topics, none present */
    kafka_writer_finish(&w);
    send_all(fd, w.buf, w.len);
    kafka_writer_close(&w);
    assert_int_equal(read_frame(fd, &frame), 0);
    close(fd);
}

static void scenario_fetch_long_poll(fixture_t *f)
{
    int fd = client_connect();
    kafka_writer_t w;
    kafka_writer_init(&w, 0);
    add_metadata(&w, 1, "poll");
    send_writer(fd, &w);
    uint8_t *frame = NULL;
    assert_true(read_frame(fd, &frame) > 0);
    free(frame);

    /* nothing arrives: answered empty after MaxWaitMs */
    int64_t t0 = now_ms();
    kafka_writer_init(&w, 0);
    add_fetch(&w, 2, "poll", 0, 300);
    send_writer(fd, &w);
    ssize_t n = read_frame(fd, &frame);
    int64_t waited = now_ms() - t0;
    assert_true(n > 0);
    kafka_arena_t a;
    kafka_arena_init(&a, 0);
    int16_t err = -1;
    assert_int_equal(fetch_records_len(&a, frame, (size_t)n, &err), 0);
    assert_int_equal(err, 0);
    assert_true(waited >= 250 && waited < 3000);
    free(frame);

    /* a produce on another connection wakes a waiting fetch long before MaxWaitMs */
    t0 = now_ms();
    kafka_writer_init(&w, 0);
    add_fetch(&w, 3, "poll", 0, 10000);
    send_writer(fd, &w);
    usleep(100 * 1000);
    int fd2 = client_connect();
    kafka_writer_init(&w, 0);
    add_produce(&w, 1, 1, "poll", "wake up");
    send_writer(fd2, &w);
    n = read_frame(fd, &frame);
    waited = now_ms() - t0;
    assert_true(n > 0);
    assert_int_equal(corr_of(frame), 3);
    assert_true(fetch_records_len(&a, frame, (size_t)n, &err) > 61);
    assert_int_equal(err, 0);
    assert_true(waited < 5000);
    free(frame);
    uint8_t *pframe = NULL;
    assert_true(read_frame(fd2, &pframe) > 0);
    free(pframe);

    /* out of range */
    kafka_writer_init(&w, 0);
    add_fetch(&w, 4, "poll", 99, 100);
    send_writer(fd, &w);
    n = read_frame(fd, &frame);
    assert_true(n > 0);
    assert_int_equal(fetch_records_len(&a, frame, (size_t)n, &err), 0);
    assert_int_equal(err, 1);
    free(frame);
    kafka_arena_free(&a);
    close(fd2);
    /* closing while a fetch waits must not leak or crash (ASan run) */
    kafka_writer_init(&w, 0);
    add_fetch(&w, 5, "poll", 1, 10000);
    send_writer(fd, &w);
    usleep(50 * 1000);
    close(fd);
}

/* ---- loop side ---- */

static void *client_main(void *arg)
{
    fixture_t *f = arg;
    f->client(f);
    uv_async_send(&f->done);
    return NULL;
}

static void on_stopped(void *arg)
{
    fixture_t *f = arg;
    gn_broker_close(f->broker, NULL, NULL);
    uv_close((uv_handle_t *)&f->done, NULL);
}

static void on_done(uv_async_t *a)
{
    fixture_t *f = a->data;
    gn_kafka_adapter.stop(f->state, on_stopped, f);
}

static void run(void (*client)(fixture_t *))
{
    fixture_t f;
    memset(&f, 0, sizeof f);
    snprintf(f.dir, sizeof f.dir, "/tmp/gn-kafka-unit-XXXXXX");
    assert_non_null(mkdtemp(f.dir));
    assert_int_equal(uv_loop_init(&f.loop), 0);
    gn_broker_config_t cfg;
    gn_broker_config_defaults(&cfg);
    cfg.data_dir = f.dir;
    cfg.flush = GN_FLUSH_OS;
    cfg.authorizer_enabled = client == scenario_acls_flexible;
    assert_int_equal(gn_broker_open(&f.loop, &cfg, &f.broker), 0);
    gn_listener_config_t lcfg = {.host = "127.0.0.1", .port = PORT, .max_request_bytes = 1 << 20};
    assert_int_equal(gn_kafka_adapter.start(f.broker, &lcfg, &f.state), 0);
    uv_async_init(&f.loop, &f.done, on_done);
    f.done.data = &f;
    f.client = client;
    /* cmocka's assertions longjmp: run the client on its own thread, failures abort */
    pthread_create(&f.thread, NULL, client_main, &f);
    uv_run(&f.loop, UV_RUN_DEFAULT);
    pthread_join(f.thread, NULL);
    assert_int_equal(uv_loop_close(&f.loop), 0);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f.dir);
    assert_int_equal(system(cmd), 0);
}

static void test_server__pipelined_answers_in_order(void **state)
{
    run(scenario_pipelined);
}
static void test_server__api_versions_unsupported_version(void **state)
{
    run(scenario_api_versions_unsupported);
}
static void test_server__closes_on_bad_input(void **state)
{
    run(scenario_closes_on_bad_input);
}
static void test_server__fetch_long_poll(void **state)
{
    run(scenario_fetch_long_poll);
}
static void test_server__acls_flexible_versions(void **state)
{
    run(scenario_acls_flexible);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_server__pipelined_answers_in_order),
        cmocka_unit_test(test_server__api_versions_unsupported_version),
        cmocka_unit_test(test_server__closes_on_bad_input),
        cmocka_unit_test(test_server__fetch_long_poll),
        cmocka_unit_test(test_server__acls_flexible_versions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
