/* SPDX-License-Identifier: Apache-2.0 */
/* Topic-level configs: Kafka's defaults, set/get round trips, Kafka's validators. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ganglion/error.h"
#include "ganglion/topic.h"

static void check_value(const gn_topic_config_t *cfg, const char *name, const char *want)
{
    char buf[64];
    int n = gn_topic_config_get(cfg, name, buf, sizeof(buf));
    assert_true(n > 0);
    assert_string_equal(buf, want);
}

static void test_topic_config__kafka_defaults(void **state)
{
    gn_topic_config_t cfg;
    gn_topic_config_defaults(&cfg);
    assert_int_equal(cfg.retention_ms, 604800000);
    assert_int_equal(cfg.retention_bytes, -1);
    assert_int_equal(cfg.segment_bytes, 1073741824);
    assert_int_equal(cfg.segment_ms, 604800000);
    assert_int_equal(cfg.segment_index_bytes, 10485760);
    assert_int_equal(cfg.index_interval_bytes, 4096);
    assert_int_equal(cfg.max_message_bytes, 1048588);
    assert_int_equal(cfg.cleanup_policy, GN_CLEANUP_DELETE);
    assert_int_equal(cfg.delete_retention_ms, 86400000);
    assert_int_equal(cfg.min_compaction_lag_ms, 0);
    assert_true(cfg.max_compaction_lag_ms == INT64_MAX);
    assert_true(cfg.min_cleanable_dirty_ratio == 0.5);
    assert_int_equal(cfg.file_delete_delay_ms, 60000);
    assert_true(cfg.flush_messages == INT64_MAX);
    assert_true(cfg.flush_ms == INT64_MAX);
    assert_int_equal(cfg.min_insync_replicas, 1);
    assert_int_equal(cfg.timestamp_type, GN_TIMESTAMP_CREATE_TIME);
    assert_true(cfg.timestamp_before_max_ms == INT64_MAX);
    assert_true(cfg.timestamp_after_max_ms == INT64_MAX);
    assert_string_equal(cfg.compression_type, "producer");
    assert_false(cfg.unclean_leader_election);
    assert_false(cfg.preallocate);
}

/* Every key's rendered value equals its documented default. */
static void test_topic_config__table_renders_defaults(void **state)
{
    gn_topic_config_t cfg;
    gn_topic_config_defaults(&cfg);
    size_t n;
    const gn_topic_config_key_t *keys = gn_topic_config_keys(&n);
    assert_true(n >= 22);
    for (size_t i = 0; i < n; i++) {
        assert_non_null(keys[i].doc);
        assert_non_null(keys[i].type);
        check_value(&cfg, keys[i].name, keys[i].default_value);
    }
}

static void test_topic_config__set_get_round_trip(void **state)
{
    gn_topic_config_t cfg;
    gn_topic_config_defaults(&cfg);
    assert_int_equal(gn_topic_config_set(&cfg, "retention.ms", "-1"), 0);
    assert_int_equal(cfg.retention_ms, -1);
    assert_int_equal(gn_topic_config_set(&cfg, "segment.bytes", " 1048576 "), 0);
    assert_int_equal(cfg.segment_bytes, 1048576);
    assert_int_equal(gn_topic_config_set(&cfg, "cleanup.policy", "compact, delete"), 0);
    assert_int_equal(cfg.cleanup_policy, GN_CLEANUP_COMPACT | GN_CLEANUP_DELETE);
    check_value(&cfg, "cleanup.policy", "compact,delete");
    assert_int_equal(gn_topic_config_set(&cfg, "cleanup.policy", "compact"), 0);
    check_value(&cfg, "cleanup.policy", "compact");
    assert_int_equal(gn_topic_config_set(&cfg, "min.cleanable.dirty.ratio", "0.1"), 0);
    check_value(&cfg, "min.cleanable.dirty.ratio", "0.1");
    assert_int_equal(gn_topic_config_set(&cfg, "message.timestamp.type", "LogAppendTime"), 0);
    assert_int_equal(cfg.timestamp_type, GN_TIMESTAMP_LOG_APPEND_TIME);
    assert_int_equal(gn_topic_config_set(&cfg, "compression.type", "zstd"), 0);
    check_value(&cfg, "compression.type", "zstd");
    assert_int_equal(gn_topic_config_set(&cfg, "preallocate", "TRUE"), 0);
    assert_true(cfg.preallocate);
    assert_int_equal(gn_topic_config_set(&cfg, "max.message.bytes", "2097152"), 0);
    assert_int_equal(cfg.max_message_bytes, 2097152);
}

static void test_topic_config__validators_reject(void **state)
{
    gn_topic_config_t cfg, before;
    gn_topic_config_defaults(&cfg);
    before = cfg;
    static const char *bad[][2] = {
        {"no.such.key", "1"},
        {"retention.ms", "-2"},
        {"retention.ms", "abc"},
        {"retention.ms", ""},
        {"retention.ms", "99999999999999999999"},
        {"segment.bytes", "13"},
        {"segment.bytes", "2147483648"},
        {"segment.ms", "0"},
        {"segment.index.bytes", "3"},
        {"index.interval.bytes", "-1"},
        {"max.message.bytes", "-5"},
        {"cleanup.policy", "remove"},
        {"cleanup.policy", ""},
        {"cleanup.policy", "delete,"},
        {"min.cleanable.dirty.ratio", "1.5"},
        {"min.cleanable.dirty.ratio", "-0.1"},
        {"min.cleanable.dirty.ratio", "nan"},
        {"flush.messages", "0"},
        {"min.insync.replicas", "0"},
        {"max.compaction.lag.ms", "0"},
        {"message.timestamp.type", "createtime"},
        {"message.timestamp.before.max.ms", "-1"},
        {"compression.type", "brotli"},
        {"unclean.leader.election.enable", "yes"},
        {"delete.retention.ms", "1.5"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int rc = gn_topic_config_set(&cfg, bad[i][0], bad[i][1]);
        if (rc != GN_EINVALID_CONFIG) fail_msg("%s=%s accepted", bad[i][0], bad[i][1]);
    }
    /* a rejected value leaves the config unchanged */
    assert_memory_equal(&cfg, &before, sizeof(cfg));
    char buf[8];
    assert_int_equal(gn_topic_config_get(&cfg, "nope", buf, sizeof(buf)), GN_EINVALID_CONFIG);
    char tiny[4];
    assert_int_equal(gn_topic_config_get(&cfg, "retention.ms", tiny, sizeof(tiny)),
                     GN_EINVALID_CONFIG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_topic_config__kafka_defaults),
        cmocka_unit_test(test_topic_config__table_renders_defaults),
        cmocka_unit_test(test_topic_config__set_get_round_trip),
        cmocka_unit_test(test_topic_config__validators_reject),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
