/* SPDX-License-Identifier: Apache-2.0 */
/* InitProducerId (key 22), v0-4: hands out producer ids for idempotent producers
 * (epoch 0; v3+ a known id asking again gets its epoch bumped, KIP-360). The id
 * allocation lives here until the core keeps a persistent producer-id block; the
 * per-partition sequence and epoch checks need core support that does not exist yet
 * (docs/kafka.md). Transactional ids are refused: no transaction coordinator yet.
 * Loop thread. */
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
    } else if (in.ProducerId >= 0 && in.ProducerEpoch >= 0) {
        if (in.ProducerEpoch >= INT16_MAX - 1) {
            out.ProducerId = kafka_req_next_producer_id(req);
            out.ProducerEpoch = 0;
        } else {
            out.ProducerId = in.ProducerId;
            out.ProducerEpoch = (int16_t)(in.ProducerEpoch + 1);
        }
    } else {
        out.ProducerId = kafka_req_next_producer_id(req);
        out.ProducerEpoch = 0;
    }
    if (!out.ErrorCode && out.ProducerId < 0) out.ErrorCode = KAFKA_UNKNOWN_SERVER_ERROR;
    kafka_resp_begin(req);
    kafka_InitProducerIdResponse_encode(&req->w, req->version, &out);
    return KAFKA_DONE;
}
