/* SPDX-License-Identifier: Apache-2.0 */
/* ApiVersions (key 18), v0-3: the supported range of every API, read from the API
 * table. An unsupported ApiVersions version gets a v0-format body with error 35 and
 * the table, so clients retry with a version we speak. Loop thread. */
#include "../kafka.h"

static void fill(kafka_req_t *req, kafka_ApiVersionsResponse_t *resp)
{
    size_t n;
    const kafka_api_t *apis = kafka_api_table(&n);
    kafka_ApiVersionsResponse_init(resp);
    resp->ApiKeys.items = kafka_arena_calloc(&req->arena, n, sizeof *resp->ApiKeys.items);
    if (!resp->ApiKeys.items) return;
    resp->ApiKeys.count = (int32_t)n;
    for (size_t i = 0; i < n; i++) {
        resp->ApiKeys.items[i].ApiKey = apis[i].api_key;
        resp->ApiKeys.items[i].MinVersion = apis[i].min_version;
        resp->ApiKeys.items[i].MaxVersion = apis[i].max_version;
    }
}

int kafka_handle_ApiVersions(kafka_req_t *req, kafka_reader_t *body)
{
    kafka_ApiVersionsRequest_t in;
    int rc = kafka_ApiVersionsRequest_decode(body, req->version, &req->arena, &in);
    if (rc < 0) return rc;
    kafka_ApiVersionsResponse_t resp;
    fill(req, &resp);
    kafka_resp_begin(req);
    kafka_ApiVersionsResponse_encode(&req->w, req->version, &resp);
    return KAFKA_DONE;
}

void kafka__api_versions_unsupported(kafka_req_t *req)
{
    kafka_ApiVersionsResponse_t resp;
    fill(req, &resp);
    resp.ErrorCode = KAFKA_UNSUPPORTED_VERSION;
    kafka_resp_begin(req);
    kafka_ApiVersionsResponse_encode(&req->w, 0, &resp);
}
