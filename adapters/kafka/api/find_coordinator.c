/* SPDX-License-Identifier: Apache-2.0 */
/* FindCoordinator (key 10), v0-4: a group is coordinated by the leader of its
 * __consumer_offsets partition (gn_group_coordinator_locate), this broker or another,
 * answered with that broker's advertised endpoint; v4 answers a batch of keys.
 * Transaction coordinators (KeyType 1) do not exist yet: COORDINATOR_NOT_AVAILABLE.
 * (librdkafka 2.0.2 also enables LZ4 only when the broker advertises this API.) Loop
 * thread. */
#include "../kafka.h"

#include "ganglion/cluster.h"
#include "ganglion/error.h"
#include "ganglion/group.h"

#define KEY_TYPE_GROUP 0

/* Another live broker's advertised Kafka listener; GN_ECOORDINATOR_NOT_AVAILABLE when
 * the image does not list it (fenced: the controller moves its leaderships soon). */
static int other_broker(kafka_req_t *req, int32_t node, gn_bytes_t *host, int32_t *port)
{
    gn_cluster_broker_t cbs[64];
    size_t n = gn_cluster_brokers(req->broker, cbs, 64);
    for (size_t i = 0; i < n && i < 64; i++) {
        if (cbs[i].node_id != node) continue;
        *host = kafka_req_keep(req, kafka_cstr_bytes(cbs[i].host));
        *port = kafka_req_broker_port(req, &cbs[i]);
        return 0;
    }
    return GN_ECOORDINATOR_NOT_AVAILABLE;
}

/* The answer for one key: the coordinator's endpoint, or an error. */
static int16_t locate(kafka_req_t *req, int8_t key_type, gn_bytes_t key, int32_t *node,
                      gn_bytes_t *host, int32_t *port, gn_bytes_t *message)
{
    *node = -1;
    *host = GN_BYTES_STR("");
    *port = -1;
    *message = GN_BYTES_NULL;
    if (key_type != KEY_TYPE_GROUP) {
        *message = GN_BYTES_STR("transactions are not implemented yet");
        return KAFKA_COORDINATOR_NOT_AVAILABLE;
    }
    if (!key.ptr || key.len == 0) {
        *message = GN_BYTES_STR("empty group id");
        return kafka_err_from_gn(GN_EINVALID_GROUP_ID);
    }
    /* made on first use: __consumer_offsets is created and loaded from here on */
    gn_group_coordinator_t *coord = gn_broker_group_coordinator(req->broker);
    const char *group = kafka_req_cstr(req, key);
    if (group && !kafka_authorize(req, GN_ACL_OP_DESCRIBE, GN_ACL_RESOURCE_GROUP, group))
        return KAFKA_GROUP_AUTHORIZATION_FAILED; /* Kafka: DESCRIBE on the group */
    int32_t leader = -1;
    int rc = coord && group ? gn_group_coordinator_locate(coord, group, &leader)
                            : GN_ECOORDINATOR_NOT_AVAILABLE;
    if (rc == 0 && leader != gn_broker_config(req->broker)->node_id)
        rc = other_broker(req, leader, host, port);
    if (rc < 0) {
        *message = kafka_cstr_bytes(gn_strerror(rc));
        return kafka_err_from_gn(rc);
    }
    if (leader == gn_broker_config(req->broker)->node_id) {
        kafka_endpoint_t ep; /* the listener the client reached */
        kafka_req_advertised(req, &ep);
        *host = kafka_req_keep(req, kafka_cstr_bytes(ep.host));
        *port = ep.port;
    }
    *node = leader;
    return KAFKA_NONE;
}

int kafka_handle_FindCoordinator(kafka_req_t *req, kafka_reader_t *body)
{
    kafka_FindCoordinatorRequest_t in;
    int rc = kafka_FindCoordinatorRequest_decode(body, req->version, &req->arena, &in);
    if (rc < 0) return rc;
    kafka_FindCoordinatorResponse_t out;
    kafka_FindCoordinatorResponse_init(&out);
    int8_t key_type = req->version >= 1 ? in.KeyType : KEY_TYPE_GROUP;
    if (req->version < 4) {
        out.ErrorCode =
            locate(req, key_type, in.Key, &out.NodeId, &out.Host, &out.Port, &out.ErrorMessage);
    } else {
        int32_t n = in.CoordinatorKeys.count > 0 ? in.CoordinatorKeys.count : 0;
        out.Coordinators.items =
            kafka_arena_calloc(&req->arena, (size_t)n + 1, sizeof *out.Coordinators.items);
        if (!out.Coordinators.items) return GN_ENOMEM;
        out.Coordinators.count = n;
        for (int32_t i = 0; i < n; i++) {
            kafka_FindCoordinatorResponse_Coordinator_t *c = &out.Coordinators.items[i];
            c->Key = in.CoordinatorKeys.items[i];
            c->ErrorCode =
                locate(req, key_type, c->Key, &c->NodeId, &c->Host, &c->Port, &c->ErrorMessage);
        }
    }
    kafka_resp_begin(req);
    kafka_FindCoordinatorResponse_encode(&req->w, req->version, &out);
    return KAFKA_DONE;
}
