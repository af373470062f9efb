/* SPDX-License-Identifier: Apache-2.0 */
/* The route table {method, pattern, handler}: every HTTP endpoint of the adapter in
 * one place (REST Proxy v2 and v3, SSE, metrics, health, the console). First match
 * wins, so literal routes precede patterns that would also match. Read-only data. */
#include "groups_view.h"
#include "http.h"

/* Schema formats (avro, jsonschema, protobuf) need a schema registry: 415. */
#define KAFKA_PRODUCE_TYPES                                                                        \
    "application/vnd.kafka.json.v2+json|application/vnd.kafka.binary.v2+json"
#define JSON_TYPES "application/json|application/vnd.kafka.v2+json|application/vnd.kafka.v3+json"

/* The ACL a route needs (docs/security.md): the operation on the topic or group named by
 * path parameter i, or on the cluster. Routes without one check in their handler (a
 * listing filtered by DESCRIBE, names from the body) or need none. */
// clang-format off
#define TOPIC(op, i) {GN_ACL_OP_##op, GN_ACL_RESOURCE_TOPIC, i}
#define GROUP(op, i) {GN_ACL_OP_##op, GN_ACL_RESOURCE_GROUP, i}
#define CLUSTER(op)  {GN_ACL_OP_##op, GN_ACL_RESOURCE_CLUSTER, -1}
#define NO_ACL       {0, 0, 0}
// clang-format on

const http_route_t http_routes[] = {
    {HTTP_GET, "/healthz", http_handle_healthz, false, NULL, NO_ACL},
    {HTTP_GET, "/metrics", http_handle_metrics, false, NULL, CLUSTER(DESCRIBE)},
    /* REST Proxy v2 */
    {HTTP_GET, "/topics", http_handle_topics_list, false, NULL, NO_ACL},
    {HTTP_GET, "/topics/{}", http_handle_topic_get, false, NULL, TOPIC(DESCRIBE, 0)},
    {HTTP_POST, "/topics/{}", http_handle_topic_produce, true, KAFKA_PRODUCE_TYPES,
     TOPIC(WRITE, 0)},
    {HTTP_GET, "/topics/{}/events", http_handle_topic_events, false, NULL, TOPIC(READ, 0)},
    {HTTP_GET, "/topics/{}/partitions", http_handle_partitions_list, false, NULL,
     TOPIC(DESCRIBE, 0)},
    {HTTP_GET, "/topics/{}/partitions/{}", http_handle_partition_get, false, NULL,
     TOPIC(DESCRIBE, 0)},
    {HTTP_POST, "/topics/{}/partitions/{}", http_handle_partition_produce, true,
     KAFKA_PRODUCE_TYPES, TOPIC(WRITE, 0)},
    {HTTP_GET, "/topics/{}/partitions/{}/offsets", http_handle_partition_offsets, false, NULL,
     TOPIC(DESCRIBE, 0)},
    {HTTP_GET, "/brokers", http_handle_brokers, false, NULL, NO_ACL},
    /* REST Proxy v2 consumer instances (bodies checked by the handlers: may be empty) */
    {HTTP_POST, "/consumers/{}", http_handle_consumer_create, true, NULL, GROUP(READ, 0)},
    {HTTP_DELETE, "/consumers/{}/instances/{}", http_handle_consumer_delete, false, NULL,
     GROUP(READ, 0)},
    {HTTP_POST, "/consumers/{}/instances/{}/subscription", http_handle_subscription_set, true, NULL,
     GROUP(READ, 0)},
    {HTTP_GET, "/consumers/{}/instances/{}/subscription", http_handle_subscription_get, false, NULL,
     GROUP(READ, 0)},
    {HTTP_DELETE, "/consumers/{}/instances/{}/subscription", http_handle_subscription_delete, false,
     NULL, GROUP(READ, 0)},
    {HTTP_POST, "/consumers/{}/instances/{}/assignments", http_handle_assignments_set, true, NULL,
     GROUP(READ, 0)},
    {HTTP_GET, "/consumers/{}/instances/{}/assignments", http_handle_assignments_get, false, NULL,
     GROUP(READ, 0)},
    {HTTP_POST, "/consumers/{}/instances/{}/positions", http_handle_positions_set, true, NULL,
     GROUP(READ, 0)},
    {HTTP_POST, "/consumers/{}/instances/{}/positions/beginning", http_handle_positions_beginning,
     true, NULL, GROUP(READ, 0)},
    {HTTP_POST, "/consumers/{}/instances/{}/positions/end", http_handle_positions_end, true, NULL,
     GROUP(READ, 0)},
    {HTTP_GET, "/consumers/{}/instances/{}/records", http_handle_consumer_records, false, NULL,
     GROUP(READ, 0)},
    {HTTP_POST, "/consumers/{}/instances/{}/offsets", http_handle_offsets_commit, true, NULL,
     GROUP(READ, 0)},
    {HTTP_GET, "/consumers/{}/instances/{}/offsets", http_handle_offsets_get, true, NULL,
     GROUP(READ, 0)},
    /* REST Proxy v3 */
    {HTTP_GET, "/v3/clusters", http_handle_v3_clusters, false, NULL, NO_ACL},
    {HTTP_GET, "/v3/clusters/{}", http_handle_v3_clusters, false, NULL, NO_ACL},
    {HTTP_GET, "/v3/clusters/{}/topics", http_handle_v3_topics_list, false, NULL, NO_ACL},
    {HTTP_POST, "/v3/clusters/{}/topics", http_handle_v3_topic_create, true, JSON_TYPES, NO_ACL},
    {HTTP_GET, "/v3/clusters/{}/topics/{}", http_handle_v3_topic_get, false, NULL,
     TOPIC(DESCRIBE, 1)},
    {HTTP_DELETE, "/v3/clusters/{}/topics/{}", http_handle_v3_topic_delete, false, NULL,
     TOPIC(DELETE, 1)},
    {HTTP_GET, "/v3/clusters/{}/topics/{}/partitions", http_handle_v3_partitions, false, NULL,
     TOPIC(DESCRIBE, 1)},
    {HTTP_GET, "/v3/clusters/{}/topics/{}/configs", http_handle_v3_configs, false, NULL,
     TOPIC(DESCRIBE_CONFIGS, 1)},
    {HTTP_POST, "/v3/clusters/{}/topics/{}/records", http_handle_v3_records, true, JSON_TYPES,
     TOPIC(WRITE, 1)},
    {HTTP_GET, "/v3/clusters/{}/consumer-groups", http_handle_v3_groups_list, false, NULL,
     CLUSTER(DESCRIBE)},
    {HTTP_GET, "/v3/clusters/{}/consumer-groups/{}", http_handle_v3_group_get, false, NULL,
     GROUP(DESCRIBE, 1)},
    {HTTP_GET, "/v3/clusters/{}/consumer-groups/{}/consumers", http_handle_v3_group_consumers,
     false, NULL, GROUP(DESCRIBE, 1)},
    {HTTP_GET, "/v3/clusters/{}/consumer-groups/{}/consumers/{}", http_handle_v3_group_consumer_get,
     false, NULL, GROUP(DESCRIBE, 1)},
    {HTTP_GET, "/v3/clusters/{}/consumer-groups/{}/consumers/{}/assignments",
     http_handle_v3_group_consumer_assignments, false, NULL, GROUP(DESCRIBE, 1)},
    {HTTP_GET, "/v3/clusters/{}/consumer-groups/{}/lags", http_handle_v3_group_lags, false, NULL,
     GROUP(DESCRIBE, 1)},
    {HTTP_GET, "/v3/clusters/{}/consumer-groups/{}/lag-summary", http_handle_v3_group_lag_summary,
     false, NULL, GROUP(DESCRIBE, 1)},
    /* stream processors (docs/streams.md) */
    {HTTP_GET, "/streams", http_handle_streams_list, false, NULL, CLUSTER(DESCRIBE)},
    {HTTP_POST, "/streams", http_handle_stream_create, true, "application/json", CLUSTER(ALTER)},
    {HTTP_GET, "/streams/{}", http_handle_stream_get, false, NULL, CLUSTER(DESCRIBE)},
    {HTTP_DELETE, "/streams/{}", http_handle_stream_delete, false, NULL, CLUSTER(ALTER)},
    {HTTP_GET, "/streams/{}/status", http_handle_stream_status, false, NULL, CLUSTER(DESCRIBE)},
    {HTTP_PUT, "/streams/{}/pause", http_handle_stream_pause, false, NULL, CLUSTER(ALTER)},
    {HTTP_PUT, "/streams/{}/resume", http_handle_stream_resume, false, NULL, CLUSTER(ALTER)},
    /* Kafka Connect */
    {HTTP_GET, "/connectors", http_handle_connectors_list, false, NULL, CLUSTER(DESCRIBE)},
    {HTTP_POST, "/connectors", http_handle_connector_create, true, "application/json",
     CLUSTER(ALTER)},
    {HTTP_GET, "/connectors/{}", http_handle_connector_get, false, NULL, CLUSTER(DESCRIBE)},
    {HTTP_DELETE, "/connectors/{}", http_handle_connector_delete, false, NULL, CLUSTER(ALTER)},
    {HTTP_GET, "/connectors/{}/config", http_handle_connector_config_get, false, NULL,
     CLUSTER(DESCRIBE)},
    {HTTP_PUT, "/connectors/{}/config", http_handle_connector_config_put, true, "application/json",
     CLUSTER(ALTER)},
    {HTTP_GET, "/connectors/{}/status", http_handle_connector_status, false, NULL,
     CLUSTER(DESCRIBE)},
    {HTTP_GET, "/connectors/{}/tasks", http_handle_connector_tasks, false, NULL, CLUSTER(DESCRIBE)},
    {HTTP_PUT, "/connectors/{}/pause", http_handle_connector_pause, false, NULL, CLUSTER(ALTER)},
    {HTTP_PUT, "/connectors/{}/resume", http_handle_connector_resume, false, NULL, CLUSTER(ALTER)},
    {HTTP_POST, "/connectors/{}/restart", http_handle_connector_restart, false, NULL,
     CLUSTER(ALTER)},
    {HTTP_POST, "/connectors/{}/tasks/{}/restart", http_handle_connector_task_restart, false, NULL,
     CLUSTER(ALTER)},
    {HTTP_GET, "/connector-plugins", http_handle_connector_plugins, false, NULL, CLUSTER(DESCRIBE)},
    /* the console (web/) */
    {HTTP_GET, "/", http_handle_static, false, NULL, NO_ACL},
    {HTTP_GET, "/console/*", http_handle_static, false, NULL, NO_ACL},
};

const size_t http_routes_count = sizeof(http_routes) / sizeof(http_routes[0]);
