/* SPDX-License-Identifier: Apache-2.0 */
/* FindCoordinator (key 10), v0-2: there is no group or transaction coordinator yet,
 * so every key gets COORDINATOR_NOT_AVAILABLE. The API is listed anyway because
 * librdkafka 2.0.2 enables LZ4 only when the broker advertises FindCoordinator v0
 * (rdkafka_feature.c). Loop thread. */
#include "../kafka.h"

#include "ganglion/error.h"

int kafka_handle_FindCoordinator(kafka_req_t *req, kafka_reader_t *body)
{
    kafka_FindCoordinatorRequest_t in;
    int rc = kafka_FindCoordinatorRequest_decode(body, req->version, &req->arena, &in);
    if (rc < 0) return rc;
    kafka_FindCoordinatorResponse_t out;
    kafka_FindCoordinatorResponse_init(&out);
    out.ErrorCode = KAFKA_COORDINATOR_NOT_AVAILABLE;
    out.ErrorMessage = GN_BYTES_STR("consumer groups and transactions are not implemented yet");
    out.NodeId = -1;
    out.Host = GN_BYTES_STR("");
    out.Port = -1;
    kafka_resp_begin(req);
    kafka_FindCoordinatorResponse_encode(&req->w, req->version, &out);
    return KAFKA_DONE;
}
