/* SPDX-License-Identifier: Apache-2.0 */
/* GET /healthz: a JSON liveness answer (status, node id, topic count, listener
 * counters) for load balancers and orchestrators. Loop thread only. */
#include "ganglion/broker.h"
#include "ganglion/topic.h"
#include "http.h"

static void count_topic(void *arg, const gn_topic_info_t *info)
{
    (void)info;
    (*(int *)arg)++;
}

int http_handle_healthz(http_req_t *req)
{
    http_server_t *srv = req->srv;
    int topics = 0;
    gn_topic_list(srv->broker, count_topic, &topics);
    const gn_broker_config_t *cfg = gn_broker_config(srv->broker);
    json_t *j =
        json_pack("{s:s,s:i,s:i,s:I,s:I}", "status", "ok", "node_id", cfg ? (int)cfg->node_id : 0,
                  "topics", topics, "connections", (json_int_t)srv->metrics.connections_open,
                  "time_ms", (json_int_t)gn_now_ms());
    http_respond_json(req, 200, j);
    return 0;
}
