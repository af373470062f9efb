/* SPDX-License-Identifier: Apache-2.0 */
/* The `ganglion` program's configuration: defaults, the JSON file, flags overriding it,
 * bad values and unknown keys rejected with a message naming them, --help listing every
 * key, and docs/configuration.md matching its generator. Single-threaded. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ftw.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "ganglion/error.h"
#include "ganglion/topic.h"

/* A parse with captured stdout/stderr. */
typedef struct run {
    gn_gateway_config_t cfg;
    int rc;
    char *out, *err;
    size_t out_len, err_len;
} run_t;

static void run_argv(run_t *r, int argc, char **argv)
{
    FILE *out = open_memstream(&r->out, &r->out_len);
    FILE *err = open_memstream(&r->err, &r->err_len);
    assert_non_null(out);
    assert_non_null(err);
    r->rc = gn_gateway_config_parse(&r->cfg, argc, argv, out, err);
    fclose(out);
    fclose(err);
}

/* args: NULL-terminated list after the program name. */
static void run_args(run_t *r, ...)
{
    char *argv[32] = {"ganglion"};
    int argc = 1;
    va_list ap;
    va_start(ap, r);
    for (char *a; (a = va_arg(ap, char *)) != NULL && argc < 31;)
        argv[argc++] = a;
    va_end(ap);
    argv[argc] = NULL;
    run_argv(r, argc, argv);
}

static void run_free(run_t *r)
{
    gn_gateway_config_free(&r->cfg);
    free(r->out);
    free(r->err);
}

static char tmpdir[] = "/tmp/gn_test_config_XXXXXX";

/* Writes text to <tmpdir>/<name> and returns the path (static: one per name). */
static const char *write_file(const char *name, const char *text)
{
    static char path[8][600];
    static int next;
    char *p = path[next++ % 8];
    snprintf(p, sizeof(path[0]), "%s/%s", tmpdir, name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return p;
}

static int setup(void **state)
{
    (void)state;
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static int teardown(void **state)
{
    (void)state;
    return nftw(tmpdir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

static void test_config__defaults(void **state)
{
    (void)state;
    run_t r;
    run_args(&r, NULL);
    assert_int_equal(r.rc, GN_GATEWAY_CONFIG_RUN);
    assert_string_equal(r.err, "");
    const gn_gateway_config_t *c = &r.cfg;
    assert_string_equal(c->config_path, "");
    assert_int_equal(c->broker.node_id, 1);
    assert_string_equal(c->broker.data_dir, "./data");
    assert_int_equal(c->log_level, GN_LEVEL_INFO);
    assert_int_equal(c->broker.flush, GN_FLUSH_ON_ACK_ALL);
    assert_string_equal(c->kafka_host, "0.0.0.0");
    assert_int_equal(c->kafka_port, 9092);
    assert_string_equal(c->kafka_advertised_host, "");
    assert_int_equal(c->kafka_advertised_port, 0);
    assert_string_equal(c->mqtt_host, "0.0.0.0");
    assert_int_equal(c->mqtt_port, 1883);
    assert_string_equal(c->http_host, "0.0.0.0");
    assert_int_equal(c->http_port, 8080);
    assert_int_equal(c->socket_request_max_bytes, 104857600);
    assert_int_equal(c->broker.num_partitions, 1);
    assert_int_equal(c->broker.default_replication_factor, 1);
    assert_true(c->broker.auto_create_topics);
    assert_int_equal(c->broker.retention_check_interval_ms, 300000);
    assert_int_equal(c->broker.cleaner_backoff_ms, 15000);
    assert_int_equal(c->broker.topic_defaults.retention_ms, 604800000);
    assert_int_equal(c->broker.topic_defaults.retention_bytes, -1);
    assert_int_equal(c->broker.topic_defaults.segment_bytes, 1073741824);
    assert_int_equal(c->broker.topic_defaults.max_message_bytes, 1048588);
    assert_int_equal(c->broker.topic_defaults.cleanup_policy, GN_CLEANUP_DELETE);
    assert_int_equal(c->broker.topic_defaults.min_insync_replicas, 1);
    assert_string_equal(c->broker.topic_defaults.compression_type, "producer");
    run_free(&r);
}

/* The table's defaults for the log.* keys are Kafka's, as the topic module has them. */
static void test_config__topic_defaults_match_topic_module(void **state)
{
    (void)state;
    gn_gateway_config_t cfg;
    assert_int_equal(gn_gateway_config_init(&cfg, stderr), 0);
    gn_topic_config_t kafka;
    gn_topic_config_defaults(&kafka);
    size_t n;
    const gn_topic_config_key_t *tkeys = gn_topic_config_keys(&n);
    for (size_t i = 0; i < n; i++) {
        char ours[128], theirs[128];
        assert_true(gn_topic_config_get(&cfg.broker.topic_defaults, tkeys[i].name, ours,
                                        sizeof(ours)) >= 0);
        assert_true(gn_topic_config_get(&kafka, tkeys[i].name, theirs, sizeof(theirs)) >= 0);
        if (strcmp(ours, theirs) != 0) fail_msg("%s: %s != %s", tkeys[i].name, ours, theirs);
    }
    gn_gateway_config_free(&cfg);
}

/* Every topic-level config has a broker-level key that sets its default. */
static void test_config__every_topic_config_has_a_broker_key(void **state)
{
    (void)state;
    size_t n, count;
    const gn_topic_config_key_t *tkeys = gn_topic_config_keys(&n);
    const gn_config_key_t *keys = gn_config_keys(&count);
    for (size_t i = 0; i < n; i++) {
        bool found = false;
        for (size_t j = 0; j < count; j++)
            if (keys[j].target == GN_CONFIG_TOPIC && strcmp(keys[j].topic_key, tkeys[i].name) == 0)
                found = true;
        if (!found) fail_msg("no broker key for topic config %s", tkeys[i].name);
    }
}

static void test_config__json_file_sets_keys(void **state)
{
    (void)state;
    const char *path =
        write_file("full.json", "{\n"
                                "  \"node.id\": 7,\n"
                                "  \"data.dir\": \"/var/lib/ganglion\",\n"
                                "  \"log.level\": \"debug\",\n"
                                "  \"flush\": \"os\",\n"
                                "  \"kafka.host\": \"127.0.0.1\",\n"
                                "  \"kafka.port\": 19092,\n"
                                "  \"kafka.advertised.host\": \"broker.example\",\n"
                                "  \"mqtt.port\": 0,\n"
                                "  \"auto.create.topics.enable\": false,\n"
                                "  \"default.replication.factor\": 3,\n"
                                "  \"log.retention.ms\": \"2h\",\n"
                                "  \"log.retention.bytes\": 1073741824,\n"
                                "  \"log.cleanup.policy\": \"compact\",\n"
                                "  \"log.cleaner.min.cleanable.ratio\": 0.25,\n"
                                "  \"log.message.timestamp.type\": \"LogAppendTime\",\n"
                                "  \"compression.type\": \"zstd\",\n"
                                "  \"log.cleaner.backoff.ms\": \"30s\"\n"
                                "}\n");
    char flag[700];
    snprintf(flag, sizeof(flag), "--config=%s", path);
    run_t r;
    run_args(&r, flag, NULL);
    assert_string_equal(r.err, "");
    assert_int_equal(r.rc, GN_GATEWAY_CONFIG_RUN);
    const gn_gateway_config_t *c = &r.cfg;
    assert_string_equal(c->config_path, path);
    assert_int_equal(c->broker.node_id, 7);
    assert_string_equal(c->broker.data_dir, "/var/lib/ganglion");
    assert_int_equal(c->log_level, GN_LEVEL_DEBUG);
    assert_int_equal(c->broker.flush, GN_FLUSH_OS);
    assert_string_equal(c->kafka_host, "127.0.0.1");
    assert_int_equal(c->kafka_port, 19092);
    assert_int_equal(c->mqtt_port, 0);
    assert_false(c->broker.auto_create_topics);
    assert_int_equal(c->broker.default_replication_factor, 3);
    assert_int_equal(c->broker.topic_defaults.retention_ms, 2 * 3600 * 1000);
    assert_int_equal(c->broker.topic_defaults.retention_bytes, 1073741824);
    assert_int_equal(c->broker.topic_defaults.cleanup_policy, GN_CLEANUP_COMPACT);
    assert_true(c->broker.topic_defaults.min_cleanable_dirty_ratio == 0.25);
    assert_int_equal(c->broker.topic_defaults.timestamp_type, GN_TIMESTAMP_LOG_APPEND_TIME);
    assert_string_equal(c->broker.topic_defaults.compression_type, "zstd");
    assert_int_equal(c->broker.cleaner_backoff_ms, 30000);

    gn_listener_config_t lc;
    assert_int_equal(gn_gateway_config_listener(c, "kafka", &lc), 0);
    assert_string_equal(lc.host, "127.0.0.1");
    assert_int_equal(lc.port, 19092);
    assert_string_equal(lc.advertised_host, "broker.example");
    assert_int_equal(lc.advertised_port, 0);
    assert_int_equal(lc.max_request_bytes, 104857600);
    assert_int_equal(gn_gateway_config_listener(c, "mqtt", &lc), 0);
    assert_int_equal(lc.port, 0);
    assert_null(lc.advertised_host);
    assert_true(lc.allow_anonymous); /* mqtt.allow.anonymous's default */
    assert_int_equal(gn_gateway_config_listener(c, "kafka", &lc), 0);
    assert_true(lc.allow_anonymous); /* no kafka.allow.anonymous key: true */
    char e[128];
    assert_int_equal(gn_gateway_config_set(&r.cfg, "mqtt.allow.anonymous", "false", e, sizeof e),
                     0);
    assert_int_equal(gn_gateway_config_listener(c, "mqtt", &lc), 0);
    assert_false(lc.allow_anonymous);
    assert_int_equal(gn_gateway_config_listener(c, "gopher", &lc), GN_ENOENT);
    run_free(&r);
}

/* Flags win over the file wherever --config stands on the line. */
static void test_config__flags_override_file(void **state)
{
    (void)state;
    const char *path =
        write_file("override.json",
                   "{\"kafka.port\": 1000, \"node.id\": 5, \"auto.create.topics.enable\": false}");
    run_t r;
    run_args(&r, "--kafka.port", "2000", "--config", path, "--auto.create.topics.enable", NULL);
    assert_int_equal(r.rc, GN_GATEWAY_CONFIG_RUN);
    assert_int_equal(r.cfg.kafka_port, 2000);
    assert_int_equal(r.cfg.broker.node_id, 5); /* from the file */
    assert_true(r.cfg.broker.auto_create_topics);
    run_free(&r);
}

static void test_config__flag_forms(void **state)
{
    (void)state;
    run_t r;
    run_args(&r, "--node.id=3", "--data.dir", "/tmp/x y", "--auto.create.topics.enable", "false",
             "--log.preallocate", "--http.port", "0", "--log.level=WARN", NULL);
    assert_string_equal(r.err, "");
    assert_int_equal(r.rc, GN_GATEWAY_CONFIG_RUN);
    assert_int_equal(r.cfg.broker.node_id, 3);
    assert_string_equal(r.cfg.broker.data_dir, "/tmp/x y");
    assert_false(r.cfg.broker.auto_create_topics);
    assert_true(r.cfg.broker.topic_defaults.preallocate);
    assert_int_equal(r.cfg.http_port, 0);
    assert_int_equal(r.cfg.log_level, GN_LEVEL_WARN);
    run_free(&r);
}

static void test_config__durations(void **state)
{
    (void)state;
    static const struct {
        const char *value;
        int64_t ms;
    } cases[] = {{"500", 500},    {"500ms", 500},    {"30s", 30000}, {"5m", 300000},
                 {"2h", 7200000}, {"7d", 604800000}, {"0", 0},       {"1d", 86400000}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        gn_gateway_config_t cfg;
        char msg[256] = "";
        assert_int_equal(gn_gateway_config_init(&cfg, stderr), 0);
        int rc =
            gn_gateway_config_set(&cfg, "log.cleaner.backoff.ms", cases[i].value, msg, sizeof(msg));
        if (rc != 0) fail_msg("%s: %s", cases[i].value, msg);
        assert_int_equal(cfg.broker.cleaner_backoff_ms, cases[i].ms);
        gn_gateway_config_free(&cfg);
    }
    /* -1 means forever where Kafka allows it. */
    gn_gateway_config_t cfg;
    char msg[256];
    assert_int_equal(gn_gateway_config_init(&cfg, stderr), 0);
    assert_int_equal(gn_gateway_config_set(&cfg, "log.retention.ms", "-1", msg, sizeof(msg)), 0);
    assert_int_equal(cfg.broker.topic_defaults.retention_ms, -1);
    gn_gateway_config_free(&cfg);
}

/* Each bad flag: exit with GN_EINVALID_CONFIG and a message holding `expect`. */
static void test_config__bad_values_rejected(void **state)
{
    (void)state;
    static const struct {
        const char *flag;
        const char *expect;
    } cases[] = {
        {"--kafka.port=70000", "--kafka.port: 70000 is out of range (0..65535)"},
        {"--kafka.port=-1", "out of range"},
        {"--node.id=abc", "--node.id: 'abc' is not an integer"},
        {"--node.id=", "'' is not an integer"},
        {"--num.partitions=0", "--num.partitions: 0 is out of range"},
        {"--default.replication.factor=40000", "out of range (1..32767)"},
        {"--log.level=loud", "--log.level: 'loud' is not one of error, warn, info, debug"},
        {"--flush=sometimes", "'sometimes' is not one of on_ack_all, always, interval, os"},
        {"--auto.create.topics.enable=maybe", "'maybe' is not a boolean"},
        {"--log.retention.ms=7 days", "'7 days' is not a duration"},
        {"--log.retention.ms=-2", "out of range"},
        {"--log.cleaner.backoff.ms=9999999999999999999d", "out of range"},
        {"--log.cleaner.min.cleanable.ratio=2", "not a valid value (topic config "
                                                "min.cleanable.dirty.ratio)"},
        {"--log.cleaner.min.cleanable.ratio=half", "'half' is not a number"},
        {"--log.cleanup.policy=shred", "'shred' is not a valid value (topic config "
                                       "cleanup.policy)"},
        {"--compression.type=brotli", "'brotli' is not one of producer"},
        {"--data.dir=", "data.dir must not be empty"},
        {"--mqtt.port=9092", "kafka.port and mqtt.port both listen on port 9092"},
        {"--kafka.host=", "kafka.host must not be empty"},
        {"--mqtt.allow.anonymous=false", "mqtt.allow.anonymous=false needs auth.users.file"},
        {"--tls.cert.file=server.pem", "tls.cert.file needs tls.key.file"},
        {"--ssl.client.auth=required", "ssl.client.auth=required needs tls.ca.file"},
        {"--ssl.client.auth=sometimes", "'sometimes' is not one of none, requested, required"},
        {"--cluster.tls.enabled=true", "cluster.tls.enabled needs cluster.tls.cert.file, "
                                       "cluster.tls.key.file and cluster.tls.ca.file"},
        {"--nope=1", "unknown flag --nope"},
        {"--kafka.prot=1", "unknown flag --kafka.prot (did you mean --kafka.port?"},
        {"stray", "unexpected argument 'stray'"},
        {"--node.id", "--node.id needs a value"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        run_t r;
        run_args(&r, cases[i].flag, NULL);
        if (r.rc != GN_EINVALID_CONFIG || !strstr(r.err, cases[i].expect))
            fail_msg("%s: rc=%d err=%s", cases[i].flag, r.rc, r.err);
        assert_string_equal(r.out, "");
        run_free(&r);
    }
}

/* A TLS port counts as a listener only with a certificate: then it may not take a port
 * another listener has, and without one it is off and takes nothing. */
static void test_config__tls_ports_only_with_a_certificate(void **state)
{
    (void)state;
    run_t r;
    run_args(&r, "--tls.cert.file=c.pem", "--tls.key.file=k.pem", "--mqtt.tls.port=1883", NULL);
    if (r.rc != GN_EINVALID_CONFIG ||
        !strstr(r.err, "mqtt.port and mqtt.tls.port both listen on port 1883"))
        fail_msg("rc=%d err=%s", r.rc, r.err);
    run_free(&r);
    run_args(&r, "--mqtt.tls.port=1883", "--kafka.tls.port=9092", NULL);
    if (r.rc != 0) fail_msg("TLS ports without a certificate: rc=%d err=%s", r.rc, r.err);
    run_free(&r);
}

static void test_config__bad_files_rejected(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        const char *expect;
    } cases[] = {
        {"{\"kafka.port\": 9093, \"colour\": \"blue\"}", "unknown key 'colour'"},
        {"{\"kafka.prot\": 1}", "unknown key 'kafka.prot' (did you mean 'kafka.port'?"},
        {"{\"kafka.port\": \"ninety\"}", "key 'kafka.port': 'ninety' is not an integer"},
        {"{\"kafka.port\": 1.5}", "key 'kafka.port': '1.5' is not an integer"},
        {"{\"auto.create.topics.enable\": 3}", "'3' is not a boolean"},
        {"{\"kafka\": {\"port\": 1}}", "unknown key 'kafka'"},
        {"{\"kafka.port\": [1]}", "key 'kafka.port': the value must be a string, number or "
                                  "boolean"},
        {"{\"kafka.port\": null}", "must be a string, number or boolean"},
        {"{\"config\": \"/etc/other.json\"}", "key 'config' is only accepted on the command line"},
        {"[1, 2]", "must hold one JSON object"},
        {"{\"kafka.port\": 1,", "bad.json:1:17: string or '}' expected"},
        {"{\"node.id\": 1, \"node.id\": 2}", "duplicate"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char flag[700];
        const char *path = write_file("bad.json", cases[i].text);
        snprintf(flag, sizeof(flag), "--config=%s", path);
        run_t r;
        run_args(&r, flag, NULL);
        if (r.rc != GN_EINVALID_CONFIG || !strstr(r.err, cases[i].expect) || !strstr(r.err, path))
            fail_msg("%s: rc=%d err=%s", cases[i].text, r.rc, r.err);
        run_free(&r);
    }
    run_t r;
    run_args(&r, "--config=/nonexistent/ganglion.json", NULL);
    assert_int_equal(r.rc, GN_EINVALID_CONFIG);
    assert_non_null(strstr(r.err, "cannot read config file /nonexistent/ganglion.json"));
    run_free(&r);
}

/* Every key's rendered value parses back to itself; a set value renders as given. */
static void test_config__get_round_trips(void **state)
{
    (void)state;
    gn_gateway_config_t cfg;
    char msg[256], before[300], after[300];
    assert_int_equal(gn_gateway_config_init(&cfg, stderr), 0);
    size_t count;
    const gn_config_key_t *keys = gn_config_keys(&count);
    for (size_t i = 0; i < count; i++) {
        assert_true(gn_gateway_config_get(&cfg, keys[i].name, before, sizeof(before)) >= 0);
        if (gn_gateway_config_set(&cfg, keys[i].name, before, msg, sizeof(msg)) != 0)
            fail_msg("%s=%s: %s", keys[i].name, before, msg);
        assert_true(gn_gateway_config_get(&cfg, keys[i].name, after, sizeof(after)) >= 0);
        assert_string_equal(before, after);
    }
    assert_int_equal(gn_gateway_config_set(&cfg, "log.retention.ms", "3d", msg, sizeof(msg)), 0);
    gn_gateway_config_get(&cfg, "log.retention.ms", after, sizeof(after));
    assert_string_equal(after, "259200000");
    assert_int_equal(gn_gateway_config_set(&cfg, "flush", "ALWAYS", msg, sizeof(msg)), 0);
    gn_gateway_config_get(&cfg, "flush", after, sizeof(after));
    assert_string_equal(after, "always");
    assert_int_equal(gn_gateway_config_get(&cfg, "nope", after, sizeof(after)), GN_EINVALID_CONFIG);
    gn_gateway_config_free(&cfg);
}

/* A failed set leaves the value as it was. */
static void test_config__set_is_atomic(void **state)
{
    (void)state;
    gn_gateway_config_t cfg;
    char msg[256];
    assert_int_equal(gn_gateway_config_init(&cfg, stderr), 0);
    assert_int_equal(gn_gateway_config_set(&cfg, "kafka.port", "70000", msg, sizeof(msg)),
                     GN_EINVALID_CONFIG);
    assert_int_equal(cfg.kafka_port, 9092);
    assert_int_equal(gn_gateway_config_set(&cfg, "log.cleanup.policy", "shred", msg, sizeof(msg)),
                     GN_EINVALID_CONFIG);
    assert_int_equal(cfg.broker.topic_defaults.cleanup_policy, GN_CLEANUP_DELETE);
    assert_int_equal(gn_gateway_config_set(&cfg, "no.such.key", "1", msg, sizeof(msg)),
                     GN_EINVALID_CONFIG);
    assert_non_null(strstr(msg, "unknown key 'no.such.key'"));
    gn_gateway_config_free(&cfg);
}

static void test_config__help_lists_every_key(void **state)
{
    (void)state;
    run_t r;
    run_args(&r, "--kafka.port=bogus", "--help", NULL); /* --help wins over a bad flag */
    assert_int_equal(r.rc, GN_GATEWAY_CONFIG_DONE);
    assert_string_equal(r.err, "");
    size_t count;
    const gn_config_key_t *keys = gn_config_keys(&count);
    assert_true(count >= 40);
    for (size_t i = 0; i < count; i++) {
        char needle[128];
        snprintf(needle, sizeof(needle), "  --%s=<", keys[i].name);
        if (!strstr(r.out, needle)) fail_msg("--help lacks %s", keys[i].name);
        /* The doc sentence's first word is there too. */
        char word[32];
        snprintf(word, sizeof(word), "%.*s", (int)strcspn(keys[i].doc, " "), keys[i].doc);
        assert_non_null(strstr(r.out, word));
    }
    assert_non_null(strstr(r.out, "--kafka.port=<int>  (default: 9092)"));
    assert_non_null(strstr(r.out, "--log.level=<error|warn|info|debug>  (default: info)"));
    assert_non_null(strstr(r.out, "Usage: ganglion"));
    run_free(&r);

    run_args(&r, "--version", NULL);
    assert_int_equal(r.rc, GN_GATEWAY_CONFIG_DONE);
    assert_non_null(strstr(r.out, "ganglion " GN_GATEWAY_VERSION));
    run_free(&r);
}

/* Every key has a name, group, default and a one-sentence doc ending in a period. */
static void test_config__table_is_complete(void **state)
{
    (void)state;
    size_t count;
    const gn_config_key_t *keys = gn_config_keys(&count);
    for (size_t i = 0; i < count; i++) {
        const gn_config_key_t *k = &keys[i];
        assert_non_null(k->name);
        assert_non_null(k->group);
        assert_non_null(k->default_value);
        assert_non_null(k->doc);
        size_t len = strlen(k->doc);
        if (len < 10 || k->doc[len - 1] != '.') fail_msg("%s: doc is not a sentence", k->name);
        if (k->type == GN_CONFIG_ENUM) assert_non_null(k->choices);
        if (k->target == GN_CONFIG_TOPIC) assert_non_null(k->topic_key);
        for (size_t j = i + 1; j < count; j++)
            if (strcmp(k->name, keys[j].name) == 0) fail_msg("%s listed twice", k->name);
    }
    /* The enums are stored by index: the index must be the header's value. */
    const gn_config_key_t *flush = gn_config_key_find("flush");
    for (int i = 0; flush->choices[i]; i++) {
        gn_flush_policy_t p;
        assert_int_equal(gn_flush_policy_parse(flush->choices[i], &p), 0);
        assert_int_equal((int)p, i);
    }
    const gn_config_key_t *level = gn_config_key_find("log.level");
    for (int i = 0; level->choices[i]; i++) {
        gn_log_level_t l;
        assert_int_equal(gn_logger_parse_level(level->choices[i], &l), 0);
        assert_int_equal((int)l, i);
    }
}

/* docs/configuration.md is the generator's output, byte for byte. Regenerate with
 * `ganglion --print-config-doc > docs/configuration.md`. */
static void test_config__doc_matches_committed_file(void **state)
{
    (void)state;
    char path[1024];
    const char *src = getenv("GN_SOURCE_DIR");
    if (src) {
        snprintf(path, sizeof(path), "%s/docs/configuration.md", src);
    } else {
        /* __FILE__ is absolute under CMake: <src>/tests/unit/gateway/test_config.c */
        const char *marker = strstr(__FILE__, "tests/unit/gateway/");
        assert_non_null(marker);
        snprintf(path, sizeof(path), "%.*sdocs/configuration.md", (int)(marker - __FILE__),
                 __FILE__);
    }
    FILE *f = fopen(path, "rb");
    if (!f) fail_msg("cannot open %s", path);
    char *committed = NULL;
    size_t committed_len = 0;
    FILE *m = open_memstream(&committed, &committed_len);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
        fwrite(buf, 1, n, m);
    fclose(f);
    fclose(m);

    char *gen = NULL;
    size_t gen_len = 0;
    m = open_memstream(&gen, &gen_len);
    gn_gateway_config_print_doc(m);
    fclose(m);
    if (gen_len != committed_len || memcmp(gen, committed, gen_len) != 0)
        fail_msg("%s differs from `ganglion --print-config-doc`; regenerate it", path);
    /* And it documents every key. */
    size_t count;
    const gn_config_key_t *keys = gn_config_keys(&count);
    for (size_t i = 0; i < count; i++) {
        char needle[128];
        snprintf(needle, sizeof(needle), "| `%s` |", keys[i].name);
        assert_non_null(strstr(committed, needle));
    }
    free(gen);
    free(committed);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config__defaults),
        cmocka_unit_test(test_config__topic_defaults_match_topic_module),
        cmocka_unit_test(test_config__every_topic_config_has_a_broker_key),
        cmocka_unit_test(test_config__json_file_sets_keys),
        cmocka_unit_test(test_config__flags_override_file),
        cmocka_unit_test(test_config__flag_forms),
        cmocka_unit_test(test_config__durations),
        cmocka_unit_test(test_config__bad_values_rejected),
        cmocka_unit_test(test_config__tls_ports_only_with_a_certificate),
        cmocka_unit_test(test_config__bad_files_rejected),
        cmocka_unit_test(test_config__set_is_atomic),
        cmocka_unit_test(test_config__get_round_trips),
        cmocka_unit_test(test_config__help_lists_every_key),
        cmocka_unit_test(test_config__table_is_complete),
        cmocka_unit_test(test_config__doc_matches_committed_file),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
