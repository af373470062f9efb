/* SPDX-License-Identifier: Apache-2.0 */
/* DescribeCluster (key 60), v0-1: this node as the only broker and the controller, at
 * its advertised address, and the cluster id of meta.properties. Loop thread. */
#include "../kafka.h"

#include "ganglion/error.h"

int kafka_handle_DescribeCluster(kafka_req_t *req, kafka_reader_t *body)
{
    kafka_DescribeClusterRequest_t in;
    int rc = kafka_DescribeClusterRequest_decode(body, req->version, &req->arena, &in);
    if (rc < 0) return rc;
    int32_t node = gn_broker_config(req->broker)->node_id;
    kafka_DescribeClusterResponse_t out;
    kafka_DescribeClusterResponse_init(&out);
    out.ErrorMessage = GN_BYTES_NULL;
    out.ClusterId = kafka_cstr_bytes(gn_broker_cluster_id(req->broker));
    if (!kafka_authorize_cluster(req, GN_ACL_OP_DESCRIBE)) {
        out.ErrorCode = KAFKA_CLUSTER_AUTHORIZATION_FAILED;
        out.ControllerId = -1;
        kafka_resp_begin(req);
        kafka_DescribeClusterResponse_encode(&req->w, req->version, &out);
        return KAFKA_DONE;
    }
    kafka_endpoint_t ep;
    kafka_req_advertised(req, &ep);
    kafka_DescribeClusterResponse_DescribeClusterBroker_t *b =
        kafka_arena_alloc(&req->arena, sizeof *b);
    const char *host = kafka_arena_strdup(&req->arena, kafka_cstr_bytes(ep.host));
    if (!b || !host) return GN_ENOMEM;
    b->BrokerId = node;
    b->Host = kafka_cstr_bytes(host);
    b->Port = ep.port;
    b->Rack = GN_BYTES_NULL;
    out.ErrorMessage = GN_BYTES_NULL;
    out.EndpointType = in.EndpointType;
    out.ClusterId = kafka_cstr_bytes(gn_broker_cluster_id(req->broker));
    out.ControllerId = node;
    out.Brokers = (kafka_DescribeClusterResponse_DescribeClusterBroker_array_t){b, 1, false};
    kafka_resp_begin(req);
    kafka_DescribeClusterResponse_encode(&req->w, req->version, &out);
    return KAFKA_DONE;
}
