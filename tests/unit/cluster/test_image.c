/* SPDX-License-Identifier: Apache-2.0 */
/* core/cluster's metadata image: each record type applied in order, malformed records
 * changing nothing, partition states kept across a topic replace and reset on re-create. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cluster/cluster.h"
#include "ganglion/error.h"

static int apply(json_t *img, const char *text)
{
    json_t *rec = json_loads(text, 0, NULL);
    assert_non_null(rec);
    int rc = gn__image_apply(img, rec);
    json_decref(rec);
    return rc;
}

static const json_t *state(const json_t *img, const char *topic, size_t p)
{
    return json_array_get(
        json_object_get(json_object_get(json_object_get(img, "topics"), topic), "states"), p);
}

static json_int_t ival(const json_t *o, const char *k)
{
    return json_integer_value(json_object_get(o, k));
}

static void test_image__records(void **state_)
{
    json_t *img = gn__image_new();
    assert_int_equal(apply(img,
                           "{\"type\":\"broker_registered\",\"id\":1,\"host\":\"a\",\"port\":1,"
                           "\"listener\":\"a:2\"}"),
                     0);
    assert_int_equal(
        apply(img, "{\"type\":\"broker_registered\",\"id\":1,\"host\":\"a\",\"port\":1}"), 0);
    const json_t *b1 = json_object_get(json_object_get(img, "brokers"), "1");
    assert_int_equal(ival(b1, "epoch"), 2);
    assert_int_equal(apply(img, "{\"type\":\"broker_fenced\",\"id\":1}"), 0);
    assert_true(json_is_true(
        json_object_get(json_object_get(json_object_get(img, "brokers"), "1"), "fenced")));
    assert_int_equal(apply(img, "{\"type\":\"broker_fenced\",\"id\":9}"), GN_EINVAL);

    /* a registration keeps its incarnation; a fence naming an older registration epoch
     * (proposed for a previous incarnation, committed after the broker registered again)
     * changes nothing */
    assert_int_equal(apply(img, "{\"type\":\"broker_registered\",\"id\":1,\"host\":\"a\","
                                "\"port\":1,\"incarnation\":\"00aa\"}"),
                     0);
    b1 = json_object_get(json_object_get(img, "brokers"), "1");
    assert_int_equal(ival(b1, "epoch"), 3);
    assert_string_equal(json_string_value(json_object_get(b1, "incarnation")), "00aa");
    assert_false(json_is_true(json_object_get(b1, "fenced")));
    assert_int_equal(apply(img, "{\"type\":\"broker_fenced\",\"id\":1,\"epoch\":2}"), 0);
    assert_false(json_is_true(json_object_get(b1, "fenced")));
    assert_int_equal(apply(img, "{\"type\":\"broker_fenced\",\"id\":1,\"epoch\":0}"), GN_EINVAL);
    assert_int_equal(apply(img, "{\"type\":\"broker_fenced\",\"id\":1,\"epoch\":3}"), 0);
    assert_true(json_is_true(json_object_get(b1, "fenced")));

    assert_int_equal(apply(img, "{\"type\":\"topic\",\"name\":\"t\",\"id\":\"A\",\"partitions\":2,"
                                "\"replication_factor\":2,\"replicas\":[[1,2],[2,1]]}"),
                     0);
    assert_int_equal(ival(state(img, "t", 1), "leader"), 2);
    assert_int_equal(apply(img, "{\"type\":\"partition\",\"topic\":\"t\",\"partition\":1,"
                                "\"leader\":1,\"leader_epoch\":1,\"isr\":[1]}"),
                     0);
    /* partitions added: the existing state stays, the new partition starts afresh */
    assert_int_equal(apply(img, "{\"type\":\"topic\",\"name\":\"t\",\"id\":\"A\",\"partitions\":3,"
                                "\"replication_factor\":2,\"configs\":{\"retention.ms\":\"5\"},"
                                "\"replicas\":[[1,2],[2,1],[1,2]]}"),
                     0);
    assert_int_equal(ival(state(img, "t", 1), "leader"), 1);
    assert_int_equal(ival(state(img, "t", 1), "leader_epoch"), 1);
    assert_int_equal(ival(state(img, "t", 2), "leader"), 1);
    assert_int_equal(ival(json_object_get(json_object_get(img, "topics"), "t"), "partitions"), 3);
    /* re-created (another id): every state afresh */
    assert_int_equal(apply(img, "{\"type\":\"topic\",\"name\":\"t\",\"id\":\"B\",\"partitions\":2,"
                                "\"replication_factor\":2,\"replicas\":[[1,2],[2,1]]}"),
                     0);
    assert_int_equal(ival(state(img, "t", 1), "leader"), 2);
    assert_int_equal(ival(state(img, "t", 1), "leader_epoch"), 0);

    /* malformed: nothing changes */
    assert_int_equal(apply(img, "{\"type\":\"partition\",\"topic\":\"t\",\"partition\":7,"
                                "\"leader\":1,\"leader_epoch\":1,\"isr\":[1]}"),
                     GN_EINVAL);
    assert_int_equal(apply(img, "{\"type\":\"topic\",\"name\":\"u\",\"id\":\"C\",\"partitions\":0,"
                                "\"replication_factor\":1}"),
                     GN_EINVAL);
    assert_null(json_object_get(json_object_get(img, "topics"), "u"));
    assert_int_equal(apply(img, "{\"type\":\"future_thing\"}"), GN_EINVAL);

    /* producer-id blocks: each from the image's next id, or from a higher floor */
    assert_int_equal(apply(img, "{\"type\":\"producer_ids\",\"broker\":1,\"size\":1000,"
                                "\"request\":7}"),
                     0);
    assert_int_equal(apply(img, "{\"type\":\"producer_ids\",\"broker\":2,\"first\":0,"
                                "\"size\":1000,\"request\":8}"),
                     0);
    json_t *blocks = json_object_get(img, "producer_id_blocks");
    assert_int_equal(ival(json_object_get(blocks, "1"), "first"), 0);
    assert_int_equal(ival(json_object_get(blocks, "1"), "request"), 7);
    assert_int_equal(ival(json_object_get(blocks, "2"), "first"), 1000);
    assert_int_equal(apply(img, "{\"type\":\"producer_ids\",\"broker\":1,\"first\":5000,"
                                "\"size\":1000}"),
                     0);
    assert_int_equal(ival(json_object_get(blocks, "1"), "first"), 5000);
    assert_int_equal(ival(img, "next_producer_id"), 6000);
    assert_int_equal(apply(img, "{\"type\":\"producer_ids\",\"broker\":1,\"size\":0}"), GN_EINVAL);
    assert_int_equal(ival(img, "next_producer_id"), 6000);
    assert_int_equal(apply(img, "{\"type\":\"topic_deleted\",\"name\":\"t\"}"), 0);
    assert_null(json_object_get(json_object_get(img, "topics"), "t"));
    assert_int_equal(apply(img, "{\"type\":\"topic_deleted\",\"name\":\"t\"}"), GN_EUNKNOWN_TOPIC);
    json_decref(img);
}

static const json_t *topic(const json_t *img, const char *name)
{
    return json_object_get(json_object_get(img, "topics"), name);
}

/* Every broker applies the same records in the same order: a change whose precondition
 * no longer holds is refused with the client's error and changes nothing (the serialized
 * image is byte-identical before and after). */
static void assert_rejected(json_t *img, const char *rec, int err)
{
    char *before = json_dumps(img, JSON_SORT_KEYS);
    assert_int_equal(apply(img, rec), err);
    char *after = json_dumps(img, JSON_SORT_KEYS);
    assert_string_equal(before, after);
    free(before);
    free(after);
}

static void test_image__preconditions(void **state_)
{
    json_t *img = gn__image_new();
    /* two creates of one name (two brokers raced): the first in the log wins */
    assert_int_equal(apply(img, "{\"type\":\"topic\",\"op\":\"create\",\"name\":\"t\","
                                "\"id\":\"A\",\"partitions\":2,\"replication_factor\":2,"
                                "\"configs\":{\"retention.ms\":\"5\"},\"replicas\":[[1,2],[2,1]]}"),
                     0);
    assert_rejected(img,
                    "{\"type\":\"topic\",\"op\":\"create\",\"name\":\"t\",\"id\":\"B\","
                    "\"partitions\":5,\"replication_factor\":1,\"replicas\":[[3],[3],[3],[3],[3]]}",
                    GN_ETOPIC_EXISTS);
    assert_string_equal(json_string_value(json_object_get(topic(img, "t"), "id")), "A");
    /* a name colliding once '.' == '_' */
    assert_int_equal(apply(img, "{\"type\":\"topic\",\"op\":\"create\",\"name\":\"a.b\","
                                "\"id\":\"C\",\"partitions\":1,\"replication_factor\":1,"
                                "\"replicas\":[[1]]}"),
                     0);
    assert_rejected(img,
                    "{\"type\":\"topic\",\"op\":\"create\",\"name\":\"a_b\",\"id\":\"D\","
                    "\"partitions\":1,\"replication_factor\":1,\"replicas\":[[1]]}",
                    GN_EINVALID_TOPIC);

    /* partitions: two increases to 4 proposed from 2; the second is no increase any more */
    assert_int_equal(apply(img, "{\"type\":\"partition\",\"topic\":\"t\",\"partition\":1,"
                                "\"leader\":1,\"leader_epoch\":3,\"isr\":[1]}"),
                     0);
    assert_int_equal(apply(img, "{\"type\":\"topic\",\"op\":\"partitions\",\"name\":\"t\","
                                "\"id\":\"A\",\"partitions\":4,"
                                "\"replicas\":[[1,2],[2,1],[1,2],[2,1]]}"),
                     0);
    assert_int_equal(ival(topic(img, "t"), "partitions"), 4);
    assert_int_equal(ival(topic(img, "t"), "replication_factor"), 2);
    assert_int_equal(ival(state(img, "t", 1), "leader_epoch"), 3); /* kept */
    assert_int_equal(ival(state(img, "t", 3), "leader"), 2);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(topic(img, "t"), "configs"), "retention.ms")),
                        "5");
    assert_rejected(img,
                    "{\"type\":\"topic\",\"op\":\"partitions\",\"name\":\"t\",\"id\":\"A\","
                    "\"partitions\":4,\"replicas\":[[2,1],[1,2],[2,1],[1,2]]}",
                    GN_EINVALID_PARTITIONS);
    assert_rejected(img,
                    "{\"type\":\"topic\",\"op\":\"partitions\",\"name\":\"t\",\"id\":\"A\","
                    "\"partitions\":3,\"replicas\":[[2,1],[1,2],[2,1]]}",
                    GN_EINVALID_PARTITIONS);
    /* ... and a larger increase still applies on top (Kafka decides on the latest count) */
    assert_int_equal(apply(img, "{\"type\":\"topic\",\"op\":\"partitions\",\"name\":\"t\","
                                "\"id\":\"A\",\"partitions\":5,"
                                "\"replicas\":[[9],[9],[9],[9],[1,2]]}"),
                     0);
    assert_int_equal(ival(state(img, "t", 3), "leader"), 2);
    assert_int_equal(ival(state(img, "t", 4), "leader"), 1);
    /* another incarnation's id, or a name that is gone */
    assert_rejected(img,
                    "{\"type\":\"topic\",\"op\":\"partitions\",\"name\":\"t\",\"id\":\"B\","
                    "\"partitions\":9,\"replicas\":[]}",
                    GN_EUNKNOWN_TOPIC);
    assert_rejected(img,
                    "{\"type\":\"topic\",\"op\":\"partitions\",\"name\":\"x\",\"id\":\"A\","
                    "\"partitions\":9,\"replicas\":[]}",
                    GN_EUNKNOWN_TOPIC);

    /* configs: deltas keep what a concurrent change of another key set */
    assert_int_equal(apply(img, "{\"type\":\"topic\",\"op\":\"configs\",\"name\":\"t\","
                                "\"id\":\"A\",\"set\":{\"segment.bytes\":\"1048576\"}}"),
                     0);
    assert_int_equal(apply(img, "{\"type\":\"topic\",\"op\":\"configs\",\"name\":\"t\","
                                "\"id\":\"A\",\"delete\":[\"retention.ms\"],"
                                "\"set\":{\"cleanup.policy\":\"compact\"}}"),
                     0);
    const json_t *cfg = json_object_get(topic(img, "t"), "configs");
    assert_int_equal(json_object_size(cfg), 2);
    assert_string_equal(json_string_value(json_object_get(cfg, "segment.bytes")), "1048576");
    assert_string_equal(json_string_value(json_object_get(cfg, "cleanup.policy")), "compact");
    assert_int_equal(ival(topic(img, "t"), "partitions"), 5);
    assert_int_equal(apply(img, "{\"type\":\"topic\",\"op\":\"configs\",\"name\":\"t\","
                                "\"id\":\"A\",\"replace\":true,\"set\":{\"retention.ms\":\"7\"}}"),
                     0);
    cfg = json_object_get(topic(img, "t"), "configs");
    assert_int_equal(json_object_size(cfg), 1);
    assert_rejected(img,
                    "{\"type\":\"topic\",\"op\":\"configs\",\"name\":\"t\",\"id\":\"B\","
                    "\"set\":{\"retention.ms\":\"1\"}}",
                    GN_EUNKNOWN_TOPIC);
    assert_rejected(img,
                    "{\"type\":\"topic\",\"op\":\"configs\",\"name\":\"t\",\"id\":\"A\","
                    "\"set\":{\"retention.ms\":1}}",
                    GN_EINVAL);
    assert_rejected(img, "{\"type\":\"topic\",\"op\":\"rename\",\"name\":\"t\",\"id\":\"A\"}",
                    GN_EINVAL);

    /* deletion names the incarnation: a stale delete (the topic re-created) is refused */
    assert_rejected(img, "{\"type\":\"topic_deleted\",\"name\":\"t\",\"id\":\"B\"}",
                    GN_EUNKNOWN_TOPIC);
    assert_int_equal(apply(img, "{\"type\":\"topic_deleted\",\"name\":\"t\",\"id\":\"A\"}"), 0);
    assert_null(topic(img, "t"));
    assert_rejected(img, "{\"type\":\"topic_deleted\",\"name\":\"t\",\"id\":\"A\"}",
                    GN_EUNKNOWN_TOPIC);
    /* the name is free again: a create succeeds, partition states afresh */
    assert_int_equal(apply(img, "{\"type\":\"topic\",\"op\":\"create\",\"name\":\"t\","
                                "\"id\":\"E\",\"partitions\":2,\"replication_factor\":1,"
                                "\"replicas\":[[3],[3]]}"),
                     0);
    assert_int_equal(ival(state(img, "t", 1), "leader_epoch"), 0);
    assert_int_equal(json_object_size(json_object_get(topic(img, "t"), "configs")), 0);
    json_decref(img);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_image__records),
        cmocka_unit_test(test_image__preconditions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
