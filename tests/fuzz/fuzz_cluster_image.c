/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer harness for the metadata image (core/cluster/image.c): the input is a
 * sequence of metadata records, one JSON document per line, applied in order to a fresh
 * image as every broker applies the committed Raft log. A record is whatever a peer
 * proposed, so a malformed one must be refused (GN_EINVAL) without a crash, a leak or
 * unbounded work, and the image must stay well formed: every topic has as many partition
 * states as partitions, each with an integer leader and an id array as ISR, and every
 * ACL binding is valid and held once (core/acl/records.c). Seeds:
 * tests/fuzz/corpus/cluster_image. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "acl/acl_internal.h"
#include "cluster/cluster.h"

static void check_acls(const json_t *acls)
{
    size_t i, k;
    const json_t *a, *b;
    json_array_foreach(acls, i, a)
    {
        gn_acl_binding_t x, y;
        if (gn__acl_binding_from_json(a, &x) < 0) abort();
        json_array_foreach(acls, k, b) if (k != i && gn__acl_binding_from_json(b, &y) == 0 &&
                                           gn__acl_binding_equal(&x, &y)) abort();
    }
}

static void check_image(const json_t *image)
{
    check_acls(json_object_get(image, "acls"));
    const char *name;
    json_t *t;
    json_object_foreach(json_object_get(image, "topics"), name, t)
    {
        json_t *states = json_object_get(t, "states");
        json_int_t n = json_integer_value(json_object_get(t, "partitions"));
        if (!json_is_array(states) || (json_int_t)json_array_size(states) != n) abort();
        size_t p;
        json_t *st;
        json_array_foreach(states, p, st)
        {
            if (!json_is_integer(json_object_get(st, "leader"))) abort();
            if (!json_is_array(json_object_get(st, "isr"))) abort();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *image = gn__image_new();
    if (!image) return 0;
    const uint8_t *p = data, *end = data + size;
    while (p < end) {
        const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        json_t *rec = json_loadb((const char *)p, len, 0, NULL);
        if (rec) {
            gn__image_apply(image, rec);
            json_decref(rec);
            check_image(image);
        }
        p += len + 1;
    }
    json_decref(image);
    return 0;
}
