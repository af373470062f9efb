/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer harness for the Kafka request decoders: the input is one request frame
 * (size prefix, header, body). The frame decoder and header parser run as conn.c
 * runs them; then the body goes to the generated decoder of that API and version
 * (every API in the table), and whatever decoded is encoded again, which must not
 * crash either. No network, no broker. Seeds: tests/fuzz/corpus/kafka_request/. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../../adapters/kafka/api/group_msgs.h"
#include "../../adapters/kafka/kafka.h"
#include "ganglion/error.h"

static void decode(int16_t key, int16_t v, kafka_reader_t *r, kafka_arena_t *a, kafka_writer_t *w)
{
    switch (key) {
#define K(n, Name)                                                                                 \
    case n: {                                                                                      \
        kafka_##Name##_t m;                                                                        \
        if (kafka_##Name##_decode(r, v, a, &m) == 0) kafka_##Name##_encode(w, v, &m);              \
        return;                                                                                    \
    }
        K(0, ProduceRequest)
        K(1, FetchRequest)
        K(2, ListOffsetsRequest)
        K(3, MetadataRequest)
        K(8, OffsetCommitRequest)
        K(9, OffsetFetchRequest)
        K(10, FindCoordinatorRequest)
        K(11, JoinGroupRequest)
        K(12, HeartbeatRequest)
        K(13, LeaveGroupRequest)
        K(14, SyncGroupRequest)
        K(15, DescribeGroupsRequest)
        K(16, ListGroupsRequest)
        K(17, SaslHandshakeRequest)
        K(18, ApiVersionsRequest)
        K(19, CreateTopicsRequest)
        K(20, DeleteTopicsRequest)
        K(21, DeleteRecordsRequest)
        K(22, InitProducerIdRequest)
        K(23, OffsetForLeaderEpochRequest)
        K(29, DescribeAclsRequest)
        K(30, CreateAclsRequest)
        K(31, DeleteAclsRequest)
        K(32, DescribeConfigsRequest)
        K(33, AlterConfigsRequest)
        K(35, DescribeLogDirsRequest)
        K(36, SaslAuthenticateRequest)
        K(37, CreatePartitionsRequest)
        K(42, DeleteGroupsRequest)
        K(44, IncrementalAlterConfigsRequest)
        K(47, OffsetDeleteRequest)
        K(60, DescribeClusterRequest)
#undef K
    default:
        __builtin_trap(); /* an API in the table without a decoder here */
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int64_t n = kafka_frame_peek(data, size, 1 << 20);
    if (n <= 0) return 0;
    const uint8_t *frame = data + 4;
    size_t len = (size_t)n - 4;
    int16_t key, version;
    if (kafka_req_header_peek(frame, len, &key, &version) < 0) return 0;
    const kafka_api_t *api = kafka_api_find(key);
    if (!api || version < api->min_version || version > api->max_version) return 0;
    kafka_reader_t r;
    kafka_reader_init(&r, frame, len);
    kafka_req_header_t hdr;
    if (kafka_req_header_read(&r, version >= api->flexible_min, &hdr) < 0) return 0;
    kafka_arena_t a;
    kafka_arena_init(&a, 16u << 20);
    kafka_writer_t w;
    kafka_writer_init(&w, 16u << 20);
    decode(key, version, &r, &a, &w);
    (void)kafka_writer_finish(&w);
    kafka_writer_close(&w);
    kafka_arena_free(&a);
    return 0;
}
