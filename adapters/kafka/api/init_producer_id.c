/* SPDX-License-Identifier: Apache-2.0 */
/* InitProducerId (key 22), v0-4: a fresh producer id (epoch 0) for an idempotent
 * producer from the core's durable id blocks (gn_broker_next_producer_id). Without a
 * transactional id Kafka's TransactionCoordinator hands out a new id whatever
 * ProducerId/ProducerEpoch the request carries (v3+, KIP-360 bumps epochs only for
 * transactional ids), and so does this. Transactional ids are refused: no transaction
 * coordinator yet. The sequence and epoch checks are the core's (gn_produce). Loop thread. */
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
        out.ErrorCode = KAFKA_INVALID_REQUEST;
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
