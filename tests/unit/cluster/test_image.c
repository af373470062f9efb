/* SPDX-License-Identifier: Apache-2.0 */
/* core/cluster's metadata image: each record type applied in order, malformed records
 * changing nothing, partition states kept across a topic replace and reset on re-create. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
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
    assert_int_equal(apply(img, "{\"type\":\"topic_deleted\",\"name\":\"t\"}"), GN_EINVAL);
    json_decref(img);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_image__records),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
