/* SPDX-License-Identifier: Apache-2.0 */
/* Authorization of HTTP requests (core/acl, Kafka's model): the ACL a route declares in
 * the route table (operation, resource type, the path parameter naming it) checked
 * before its handler runs, the checks handlers make on names from a body (a consumer's
 * topics, a topic to create), and the REST Proxy's 403. Loop thread only. */
#include "ganglion/acl.h"
#include "http.h"

bool http_allowed(http_req_t *req, gn_acl_op_t op, gn_acl_resource_type_t type, const char *name)
{
    return gn_acl_allowed(gn_broker_acl(req->srv->broker), req->principal, req->client_host, op,
                          type, name);
}

bool http_authorize(http_req_t *req, gn_acl_op_t op, gn_acl_resource_type_t type, const char *name)
{
    if (gn_acl_authorize(gn_broker_acl(req->srv->broker), req->principal, req->client_host, op,
                         type, name))
        return true;
    http_respond_error(req, 403, 40301, "Not authorized: %s may not %s %s %s", req->principal,
                       gn_acl_op_name(op), gn_acl_resource_type_name(type), name);
    return false;
}

bool http__route_authorize(http_req_t *req)
{
    const http_route_acl_t *acl = &req->route->acl;
    if (!acl->op) return true;
    const char *name = acl->param < 0 ? GN_ACL_CLUSTER_NAME : req->params[acl->param];
    return http_authorize(req, acl->op, acl->type, name);
}
