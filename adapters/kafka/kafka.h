/* SPDX-License-Identifier: Apache-2.0 */
/* Internals shared by the files of the Kafka adapter: the server (listener), the
 * connection with its ordered response queue, one request in flight, and the API
 * table that drives dispatch and the ApiVersions answer. Loop thread only. */
#ifndef KAFKA_KAFKA_H
#define KAFKA_KAFKA_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <uv.h>

#include "codec.h"
#include "gen/kafka_msgs.h"
#include "ganglion/acl.h"
#include "ganglion/adapter.h"
#include "ganglion/broker.h"
#include "ganglion/cluster.h"

typedef struct kafka_server kafka_server_t;
typedef struct kafka_conn kafka_conn_t;
typedef struct kafka_req kafka_req_t;

/* Handler results (besides < 0: protocol error, the connection is closed). */
#define KAFKA_DONE        0 /* the response is in req->w */
#define KAFKA_ASYNC       1 /* the handler calls kafka_req_done later */
#define KAFKA_NO_RESPONSE 2 /* Produce acks=0: nothing is sent back */

typedef int (*kafka_handler_fn)(kafka_req_t *req, kafka_reader_t *body);

/* One row per API: dispatch and ApiVersions read the same table. */
typedef struct kafka_api {
    int16_t api_key;
    const char *name;
    int16_t min_version, max_version;
    int16_t flexible_min; /* first flexible request version (header v2, compact body) */
    kafka_handler_fn handler;
} kafka_api_t;

const kafka_api_t *kafka_api_table(size_t *count);
const kafka_api_t *kafka_api_find(int16_t api_key);

/* Request states in the connection's queue. */
enum { KAFKA_REQ_PENDING = 0, KAFKA_REQ_READY = 1, KAFKA_REQ_SKIP = 2 };

struct kafka_req {
    kafka_req_t *next;
    kafka_conn_t *conn; /* NULL once the connection is gone (async handlers check) */
    gn_broker_t *broker;
    const kafka_api_t *api;
    int16_t api_key, version;
    int32_t correlation_id;
    const char *client_id; /* the request header's, "" when null (in the arena) */
    bool flex;             /* flexible request version */
    int state;
    kafka_arena_t arena; /* the decoded request and the response structs */
    kafka_writer_t w;    /* the encoded response */
    /* Async handlers: called when the connection closes while the request is
     * PENDING. It must stop timers and watches and eventually call kafka_req_done,
     * which then frees the request. NULL: the handler's own completion frees it. */
    void (*cancel)(kafka_req_t *req);
    void *ctx;
};

/* Starts the response: size prefix headroom is already in w; writes the response
 * header (v0 for ApiVersions, v1 for flexible versions, else v0). */
void kafka_resp_begin(kafka_req_t *req);
/* Completes an async request: the encoded response (or KAFKA_NO_RESPONSE when
 * no_response) becomes sendable in order. Frees the request if the connection is gone. */
void kafka_req_done(kafka_req_t *req, bool no_response);

/* Connection facts for handlers (valid while req->conn != NULL). */
typedef struct kafka_endpoint {
    char host[256];
    int port;
} kafka_endpoint_t;
/* The host/port clients should use to reach this broker (Metadata, DescribeCluster):
 * the configured advertised address, else the local address of this connection. */
void kafka_req_advertised(const kafka_req_t *req, kafka_endpoint_t *ep);
const char *kafka_req_peer(const kafka_req_t *req); /* "ip:port" for log lines */
/* Another broker's port for this client: its TLS listener's to a client that came over
 * TLS (when it registered one), else its plain listener's (conn_tls.c). */
int32_t kafka_req_broker_port(const kafka_req_t *req, const gn_cluster_broker_t *b);

/* A NUL-terminated copy of a request string in the request's arena; NULL for a null
 * string, an embedded NUL (a name "a\0b" must not become "a") or no memory. */
const char *kafka_req_cstr(kafka_req_t *req, gn_bytes_t s);
/* A copy of a view into the request frame, in the request's arena: what an
 * asynchronous handler keeps for its response (the read buffer moves on). */
gn_bytes_t kafka_req_keep(kafka_req_t *req, gn_bytes_t s);
static inline gn_bytes_t kafka_cstr_bytes(const char *s)
{
    return s ? (gn_bytes_t){(const uint8_t *)s, strlen(s)} : GN_BYTES_NULL;
}

/* Asynchronous admin requests (admin.c): one gn_admin_cb per topic operation; the
 * response is encoded by finish once every operation has completed. */
typedef struct kafka_admin kafka_admin_t;
typedef void (*kafka_admin_finish_fn)(kafka_req_t *req, void *resp);
kafka_admin_t *kafka_admin_new(kafka_req_t *req, kafka_admin_finish_fn finish, void *resp);
/* Registers one operation whose outcome lands in *error_code / *error_message (either
 * may be NULL); pass the result as the gn_admin_cb arg. NULL when out of memory. */
void *kafka_admin_op(kafka_admin_t *adm, int16_t *error_code, gn_bytes_t *error_message);
void kafka_admin_cb(void *op, int status); /* a gn_admin_cb */
/* The operation's call failed synchronously (its callback will never run). */
void kafka_admin_fail(void *op, int status);
/* The operation is refused before it starts, with a Kafka code (an authorization
 * failure: TOPIC_/CLUSTER_/GROUP_AUTHORIZATION_FAILED) and no message. */
void kafka_admin_refuse(void *op, int16_t error_code);
/* A handler that fails (out of memory) after starting operations: returns the error
 * when none is in flight, else KAFKA_ASYNC and the last completion closes the
 * connection (the client cannot get a well-formed answer). */
int kafka_admin_abort(kafka_admin_t *adm, int err);
/* After the last operation was started: KAFKA_DONE (all finished, response encoded)
 * or KAFKA_ASYNC (kafka_req_done follows from the last callback). */
int kafka_admin_complete(kafka_admin_t *adm);

/* Authorization (authz.c, core/acl): true when the authorizer is off or allows the
 * request's principal (from its connection's host) op on the resource; a refusal is
 * logged by the authorizer. kafka_allowed decides without the log line (filtering).
 * kafka_authorize_bytes takes a name from the request frame. */
bool kafka_authorize(kafka_req_t *req, gn_acl_op_t op, gn_acl_resource_type_t type,
                     const char *name);
bool kafka_allowed(kafka_req_t *req, gn_acl_op_t op, gn_acl_resource_type_t type, const char *name);
bool kafka_authorize_bytes(kafka_req_t *req, gn_acl_op_t op, gn_acl_resource_type_t type,
                           gn_bytes_t name);
bool kafka_authorize_cluster(kafka_req_t *req, gn_acl_op_t op);
/* op on some resource of the type (gn_acl_allowed_any); not logged. */
bool kafka_allowed_any(kafka_req_t *req, gn_acl_op_t op, gn_acl_resource_type_t type);
/* An ACL filter of DescribeAcls/DeleteAcls (describe_acls.c): null strings are any;
 * GN_EINVALID_REQUEST for values Kafka does not define or names holding a NUL. */
int kafka_acl_filter(kafka_req_t *req, int8_t type, gn_bytes_t name, int8_t pattern,
                     gn_bytes_t principal, gn_bytes_t host, int8_t op, int8_t permission,
                     gn_acl_binding_t *f);
/* "User:<name>" or "User:ANONYMOUS" (valid while the connection is). */
const char *kafka_req_principal(kafka_req_t *req);

/* Error translation at the edge (errors.c): gn error -> Kafka ErrorCode. */
int16_t kafka_err_from_gn(int err);

/* Kafka error codes used by the handlers (wire int16, in response ErrorCode fields). */
enum {
    KAFKA_NONE = 0,
    KAFKA_UNKNOWN_SERVER_ERROR = -1,
    KAFKA_OFFSET_OUT_OF_RANGE = 1,
    KAFKA_CORRUPT_MESSAGE = 2,
    KAFKA_UNKNOWN_TOPIC_OR_PARTITION = 3,
    KAFKA_INVALID_FETCH_SIZE = 4,
    KAFKA_LEADER_NOT_AVAILABLE = 5,
    KAFKA_NOT_LEADER_OR_FOLLOWER = 6,
    KAFKA_REQUEST_TIMED_OUT = 7,
    KAFKA_MESSAGE_TOO_LARGE = 10,
    KAFKA_NETWORK_EXCEPTION = 13,
    KAFKA_COORDINATOR_LOAD_IN_PROGRESS = 14,
    KAFKA_COORDINATOR_NOT_AVAILABLE = 15,
    KAFKA_NOT_COORDINATOR = 16,
    KAFKA_INVALID_TOPIC_EXCEPTION = 17,
    KAFKA_RECORD_LIST_TOO_LARGE = 18,
    KAFKA_NOT_ENOUGH_REPLICAS = 19,
    KAFKA_NOT_ENOUGH_REPLICAS_AFTER_APPEND = 20,
    KAFKA_INVALID_REQUIRED_ACKS = 21,
    KAFKA_ILLEGAL_GENERATION = 22,
    KAFKA_INCONSISTENT_GROUP_PROTOCOL = 23,
    KAFKA_INVALID_GROUP_ID = 24,
    KAFKA_UNKNOWN_MEMBER_ID = 25,
    KAFKA_INVALID_SESSION_TIMEOUT = 26,
    KAFKA_REBALANCE_IN_PROGRESS = 27,
    KAFKA_INVALID_COMMIT_OFFSET_SIZE = 28,
    KAFKA_TOPIC_AUTHORIZATION_FAILED = 29,
    KAFKA_GROUP_AUTHORIZATION_FAILED = 30,
    KAFKA_CLUSTER_AUTHORIZATION_FAILED = 31,
    KAFKA_INVALID_TIMESTAMP = 32,
    KAFKA_UNSUPPORTED_SASL_MECHANISM = 33,
    KAFKA_ILLEGAL_SASL_STATE = 34,
    KAFKA_UNSUPPORTED_VERSION = 35,
    KAFKA_TOPIC_ALREADY_EXISTS = 36,
    KAFKA_INVALID_PARTITIONS = 37,
    KAFKA_INVALID_REPLICATION_FACTOR = 38,
    KAFKA_INVALID_REPLICA_ASSIGNMENT = 39,
    KAFKA_INVALID_CONFIG = 40,
    KAFKA_NOT_CONTROLLER = 41,
    KAFKA_INVALID_REQUEST = 42,
    KAFKA_UNSUPPORTED_FOR_MESSAGE_FORMAT = 43,
    KAFKA_POLICY_VIOLATION = 44,
    KAFKA_OUT_OF_ORDER_SEQUENCE_NUMBER = 45,
    KAFKA_DUPLICATE_SEQUENCE_NUMBER = 46,
    KAFKA_INVALID_PRODUCER_EPOCH = 47,
    KAFKA_INVALID_TXN_STATE = 48,
    KAFKA_INVALID_PRODUCER_ID_MAPPING = 49,
    KAFKA_INVALID_TRANSACTION_TIMEOUT = 50,
    KAFKA_CONCURRENT_TRANSACTIONS = 51,
    KAFKA_KAFKA_STORAGE_ERROR = 56,
    KAFKA_LOG_DIR_NOT_FOUND = 57,
    KAFKA_SASL_AUTHENTICATION_FAILED = 58,
    KAFKA_UNKNOWN_PRODUCER_ID = 59,
    KAFKA_REASSIGNMENT_IN_PROGRESS = 60,
    KAFKA_GROUP_ID_NOT_FOUND = 69,
    KAFKA_SECURITY_DISABLED = 54,
    KAFKA_TRANSACTIONAL_ID_AUTHORIZATION_FAILED = 53,
    KAFKA_FETCH_SESSION_ID_NOT_FOUND = 70,
    KAFKA_INVALID_FETCH_SESSION_EPOCH = 71,
    KAFKA_NON_EMPTY_GROUP = 68,
    KAFKA_OFFSET_METADATA_TOO_LARGE = 12,
    KAFKA_GROUP_SUBSCRIBED_TO_TOPIC = 86,
    KAFKA_FENCED_LEADER_EPOCH = 74,
    KAFKA_UNKNOWN_LEADER_EPOCH = 75,
    KAFKA_UNSUPPORTED_COMPRESSION_TYPE = 76,
    KAFKA_OFFSET_NOT_AVAILABLE = 78,
    KAFKA_MEMBER_ID_REQUIRED = 79,
    KAFKA_GROUP_MAX_SIZE_REACHED = 81,
    KAFKA_FENCED_INSTANCE_ID = 82,
    KAFKA_INVALID_RECORD = 87,
    KAFKA_UNSTABLE_OFFSET_COMMIT = 88,
    KAFKA_UNKNOWN_TOPIC_ID = 100,
};

/* Handlers, one file each under api/. */
int kafka_handle_Produce(kafka_req_t *req, kafka_reader_t *body);
int kafka_handle_Fetch(kafka_req_t *req, kafka_reader_t *body);
int kafka_handle_ListOffsets(kafka_req_t *req, kafka_reader_t *body);
int kafka_handle_OffsetForLeaderEpoch(kafka_req_t *req, kafka_reader_t *body);
int kafka_handle_Metadata(kafka_req_t *req, kafka_reader_t *body);
int kafka_handle_FindCoordinator(kafka_req_t *req, kafka_reader_t *body);
int kafka_handle_ApiVersions(kafka_req_t *req, kafka_reader_t *body);
int kafka_handle_CreateTopics(kafka_req_t *req, kafka_reader_t *body);
int kafka_handle_DeleteTopics(kafka_req_t *req, kafka_reader_t *body);
int kafka_handle_DeleteRecords(kafka_req_t *req, kafka_reader_t *body);
int kafka_handle_InitProducerId(kafka_req_t *req, kafka_reader_t *body);
int kafka_handle_DescribeConfigs(kafka_req_t *req, kafka_reader_t *body);
int kafka_handle_AlterConfigs(kafka_req_t *req, kafka_reader_t *body);
int kafka_handle_DescribeLogDirs(kafka_req_t *req, kafka_reader_t *body);
int kafka_handle_CreatePartitions(kafka_req_t *req, kafka_reader_t *body);
int kafka_handle_IncrementalAlterConfigs(kafka_req_t *req, kafka_reader_t *body);
int kafka_handle_DescribeCluster(kafka_req_t *req, kafka_reader_t *body);
int kafka_handle_SaslHandshake(kafka_req_t *req, kafka_reader_t *body);
int kafka_handle_SaslAuthenticate(kafka_req_t *req, kafka_reader_t *body);
int kafka_handle_DescribeAcls(kafka_req_t *req, kafka_reader_t *body);
int kafka_handle_CreateAcls(kafka_req_t *req, kafka_reader_t *body);
int kafka_handle_DeleteAcls(kafka_req_t *req, kafka_reader_t *body);
/* A raw SASL token frame after a v0 SaslHandshake: the raw answer in req->w
 * (KAFKA_DONE), or < 0 to close the connection (a failed token). */
int kafka_sasl_raw_frame(kafka_req_t *req, const uint8_t *frame, size_t len);

/* ApiVersions answer for an unsupported ApiVersions version (v0 body, error 35). */
void kafka__api_versions_unsupported(kafka_req_t *req);

/* Request lifecycle (conn.c); also used by tests and the fuzzer without a socket. */
kafka_req_t *kafka__req_new(gn_broker_t *broker, const kafka_api_t *api, int16_t version,
                            int32_t correlation_id, size_t arena_max);
void kafka__req_free(kafka_req_t *req);
void kafka__conn_close(kafka_conn_t *conn, const char *why);
/* Runs the API's handler on body (the bytes after the request header). */
int kafka__req_dispatch(kafka_req_t *req, kafka_reader_t *body);

#endif
