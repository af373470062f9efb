/* SPDX-License-Identifier: Apache-2.0 */
/* InitProducerId (key 22), v0-4: a fresh producer id (epoch 0) for an idempotent
 * producer from the core's durable id blocks (gn_broker_next_producer_id). Without a
 * transactional id Kafka's TransactionCoordinator hands out a new id whatever
 * ProducerId/ProducerEpoch the request carries (v3+, KIP-360 bumps epochs only for
 * transactional ids), and so does this. Transactional ids are refused: no transaction
 * coordinator yet. The sequence and epoch checks are the core's (gn_produce). With the
 * authorizer, an idempotent producer needs IDEMPOTENT_WRITE on the cluster or WRITE on
 * some topic (Kafka 2.8+), a transactional id WRITE on it. Loop thread. */
#include "../kafka.h"

#include "ganglion/error.h"

int kafka_handle_InitProducerId(kafka_req_t *req, kafka_reader_t *body)
{
    kafka_InitProducerIdRequest_t in;
    int rc = kafka_InitProducerIdRequest_decode(body, req->version, &req->arena, &in);
    if (rc < 0) return rc;
    kafka_InitProducerIdResponse_t out;
    kafka_InitProducerIdResponse_init(&out);
    out.ProducerId = -1;
    out.ProducerEpoch = -1;
    if (in.TransactionalId.ptr) {
        out.ErrorCode = kafka_authorize_bytes(req, GN_ACL_OP_WRITE,
                                              GN_ACL_RESOURCE_TRANSACTIONAL_ID, in.TransactionalId)
                            ? KAFKA_INVALID_REQUEST
                            : KAFKA_TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
    } else if (!kafka_allowed_any(req, GN_ACL_OP_WRITE, GN_ACL_RESOURCE_TOPIC) &&
               !kafka_authorize_cluster(req, GN_ACL_OP_IDEMPOTENT_WRITE)) {
        out.ErrorCode = KAFKA_CLUSTER_AUTHORIZATION_FAILED;
    } else {
        int64_t id;
        rc = gn_broker_next_producer_id(req->broker, &id);
        if (rc < 0) {
            out.ErrorCode = kafka_err_from_gn(rc);
        } else {
            out.ProducerId = id;
            out.ProducerEpoch = 0;
        }
    }
    kafka_resp_begin(req);
    kafka_InitProducerIdResponse_encode(&req->w, req->version, &out);
    return KAFKA_DONE;
}
