/* SPDX-License-Identifier: Apache-2.0 */
/* The HTTP adapter's internal types: the server (libwebsockets context on the broker's
 * loop, libuv listener), one request, the route table, responses, SSE streams, the
 * WebSocket transport and metrics. Shared by the files of adapters/http only. Loop
 * thread only. */
#ifndef GN_HTTP_H
#define GN_HTTP_H

#include <jansson.h>
#include <libwebsockets.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "ganglion/acl.h"
#include "ganglion/adapter.h"
#include "ganglion/broker.h"
#include "ganglion/partition.h"
#include "ganglion/transport.h"

#define HTTP_MOD                "http"
#define HTTP_DEFAULT_MAX_BODY   (8L << 20) /* request bodies above this: 413 */
#define HTTP_MAX_PATH           1024
#define HTTP_MAX_PARAMS         4
#define HTTP_MAX_WS_ROUTES      8
#define HTTP_WS_DEFAULT_MAX_MSG (1u << 20)
#define HTTP_WS_MAX_QUEUE       (4u << 20)   /* bytes queued per WebSocket before pausing */
#define HTTP_LWS_SERV_BUF       (64u << 10)  /* lws's per-thread buffer (see server.c) */
#define HTTP_WS_COALESCE_BYTES  (64u << 10)  /* frames written with one send */
#define HTTP_WS_WRITEV_BYTES    (256u << 10) /* queued bytes one writev offers at most */
#define HTTP_PEEK_TIMEOUT_MS    10000
#define HTTP_LATENCY_BUCKETS    10

typedef struct http_server http_server_t;
typedef struct http_req http_req_t;
typedef struct http_auth http_auth_t;

#define HTTP_PRINCIPAL_MAX 512 /* GN_ACL_PRINCIPAL_MAX */
#define HTTP_HOST_MAX      64  /* an IP address */

typedef enum http_method {
    HTTP_GET = 0,
    HTTP_POST,
    HTTP_OPTIONS,
    HTTP_PUT,
    HTTP_PATCH,
    HTTP_DELETE,
    HTTP_CONNECT,
    HTTP_HEAD,
    HTTP_METHOD_COUNT,
} http_method_t;

const char *http_method_name(http_method_t m);

/* ---- metrics (metrics.c) ------------------------------------------------------ */
typedef struct http_metrics {
    uint64_t requests[HTTP_METHOD_COUNT][6];            /* by method and status class 1xx..5xx */
    uint64_t latency_buckets[HTTP_LATENCY_BUCKETS + 1]; /* cumulative at render */
    double latency_sum;
    uint64_t latency_count;
    uint64_t connections_total, connections_h2;
    int64_t connections_open;
    int64_t ws_open, sse_open;
    uint64_t ws_messages_in, ws_messages_out;
    uint64_t records_in, bytes_in;   /* produced through REST and WebSocket */
    uint64_t records_out, bytes_out; /* delivered through SSE and WebSocket */
} http_metrics_t;

void http_metrics_observe(http_server_t *srv, http_method_t m, int status, double seconds);
/* The Prometheus text exposition of every metric; malloc'd, *len set. */
char *http_metrics_render(http_server_t *srv, size_t *len);

/* ---- the server (server.c, accept.c) ------------------------------------------ */
typedef struct http_pending_accept http_pending_accept_t;

struct http_server {
    gn_broker_t *broker;
    uv_loop_t *loop;
    struct lws_context *ctx;
    struct lws_vhost *vh_h1;    /* HTTP/1.1 (and WebSocket upgrades) */
    struct lws_vhost *vh_h2c;   /* h2c with prior knowledge */
    struct lws_vhost *vh_https; /* h2 or HTTP/1.1 over lws's TLS (accept_tls.c); NULL: off */
    int tls_listen_fd;
    int tls_port;
    uv_poll_t tls_listen_poll;
    bool tls_listening;
    int listen_fd;
    int anchor[2]; /* a pipe whose read end is an idle lws wsi (see server.c) */
    uv_poll_t listen_poll;
    bool listening;
    bool stopping;
    int open_handles;               /* our own uv handles not yet closed */
    http_pending_accept_t *pending; /* sockets still being peeked */
    long max_body;
    char host[256];
    int port;
    char adv_host[256];
    int adv_port;
    gn_ws_route_t ws_routes[HTTP_MAX_WS_ROUTES];
    char ws_paths[HTTP_MAX_WS_ROUTES][64];
    char ws_subprotocols[HTTP_MAX_WS_ROUTES][128];
    size_t nws_routes;
    bool ws_route_state_owned[HTTP_MAX_WS_ROUTES]; /* made with protocol->state_new */
    http_req_t *reqs;                              /* live requests (for stop) */
    struct http_ws *ws_dirty; /* WebSockets whose queue went non-empty this turn */
    uv_check_t ws_flush;      /* writes them after the loop's I/O phase (ws_transport.c) */
    uv_idle_t ws_flush_spin;  /* active while ws_dirty is not empty: poll does not block */
    http_metrics_t metrics;
    struct http_consumers *consumers; /* REST consumer instances (consumer.c) */
    struct connect_registry *connect; /* Kafka Connect's connectors (connect.c) */
    struct streams_registry *streams; /* stream processors (streams.c) */
    http_auth_t *auth;                /* http.auth and its cache (auth.c) */
    uint8_t *ws_scratch; /* LWS_PRE + HTTP_WS_COALESCE_BYTES: coalesced WebSocket frames */
    uv_timer_t stop_timer;
    unsigned stop_ticks, idle_ticks;
    int wsi_live; /* every lws wsi of the context (WSI_CREATE - WSI_DESTROY) */
    gn_adapter_stopped_cb stop_cb;
    void *stop_arg;
    struct lws_context *ctx_destroyed; /* lws writes NULL here once fully destroyed */
};

/* accept.c: the plain listener, the TLS one (when the HTTPS vhost exists), and stopping
 * both with the connections still being peeked. */
int http__accept_start(http_server_t *srv);
int http__tls_accept_start(http_server_t *srv);
void http__accept_stop(http_server_t *srv);
/* A bound, listening, non-blocking socket on host:port, or -errno (accept.c). */
int http__listen_socket(const char *host, int port);
/* "ip:port" of a socket's peer, "-:0" when unknown (accept.c). */
void http__peer_name(int fd, char *buf, size_t cap);
/* accept_tls.c: the HTTPS vhost when cfg has a TLS context and port (0 otherwise). */
int http__tls_vhost(http_server_t *srv, const gn_listener_config_t *cfg);
/* The answer to LWS_CALLBACK_OPENSSL_PERFORM_CLIENT_CERT_VERIFICATION: 0 when OpenSSL
 * accepted the client certificate, else 1 (refused, logged with the client). */
int http__tls_verify(struct lws *wsi, void *x509_store_ctx, size_t preverify_ok);
/* "https" on a connection of the TLS listener, else "http" (absolute URLs we answer). */
const char *http_req_scheme(const http_req_t *req);
extern const struct lws_protocols http__protocols[];
void http__server_handle_closed(http_server_t *srv);
/* ws_transport.c: the once-per-turn direct write of WebSocket queues (start: init the
 * handles; stop: close them, each counted in open_handles). */
void http__ws_flush_start(http_server_t *srv);
void http__ws_flush_stop(http_server_t *srv);
/* h2_reads.c: bound recv() on an h2c socket to DATA frame ends (lws 4.1.6 h2 bug). */
void http__h2_reads_track(int fd, bool on);
/* The same for a socket of the TLS port, once its ALPN choice is h2 (SSL_read). */
void http__h2_reads_track_tls(int fd);
int http__lws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                       size_t len);

/* ---- authentication (auth.c) --------------------------------------------------- */
int http__auth_init(http_server_t *srv, const gn_listener_config_t *cfg);
void http__auth_free(http_server_t *srv);
/* http.auth=basic: requests without valid credentials are refused. */
bool http__auth_required(const http_server_t *srv);
/* Paths served without authentication (health checks of load balancers). */
bool http__auth_open_path(const char *path);
/* The client of wsi (a request or WebSocket upgrade): principal gets "User:<user>" from
 * checked Basic credentials (http.auth=basic), "User:<subject DN>" from a verified TLS
 * client certificate, else GN_ACL_ANONYMOUS. 0, or GN_EAUTH (credentials wrong, or
 * none while required) or GN_ETHROTTLED (the client's host failed too often lately:
 * not checked) with a sentence in why. */
int http__auth_principal(http_server_t *srv, struct lws *wsi, char *principal, size_t cap,
                         const char **why);
/* The client's IP address (no port), as ACL bindings name hosts. */
void http__auth_client_host(struct lws *wsi, char *host, size_t cap);
/* The refusal's log line: client address, path, reason (never a credential). */
/* The WARN line of a refusal (rc GN_EAUTH: 401; GN_ETHROTTLED: 429, at most one line a
 * second, with the number of refusals it stands for). */
void http__auth_log_refusal(struct lws *wsi, const char *path, int rc, const char *why);
/* The WWW-Authenticate value of a 401. */
extern const char http__auth_challenge[];
/* A 401 with WWW-Authenticate and the REST Proxy's error body (error_code 40101). */
void http_respond_unauthorized(http_req_t *req, const char *why);
/* 429 with Retry-After: a client whose authentications kept failing (GN_ETHROTTLED). */
void http_respond_throttled(http_req_t *req, const char *why);

/* ---- authorization (authz.c) ----------------------------------------------------- */
/* The request's principal may perform op on the resource (no log line: filtering). */
bool http_allowed(http_req_t *req, gn_acl_op_t op, gn_acl_resource_type_t type, const char *name);
/* The same, logged by the authorizer when refused, and then answered 403 with
 * {"error_code":40301}. */
bool http_authorize(http_req_t *req, gn_acl_op_t op, gn_acl_resource_type_t type, const char *name);
/* The route's own ACL (http_route_acl_t), answered 403 when refused. */
bool http__route_authorize(http_req_t *req);

/* ---- one request (request.c, response.c) -------------------------------------- */
typedef int (*http_handler_fn)(http_req_t *req);

/* The ACL a route needs before its handler runs (authz.c): op 0 none. */
typedef struct http_route_acl {
    gn_acl_op_t op;
    gn_acl_resource_type_t type;
    int param; /* the path parameter naming the resource; -1: the cluster */
} http_route_acl_t;

typedef struct http_route {
    http_method_t method;
    const char *pattern; /* "/topics/{}/partitions/{}": {} matches one segment */
    http_handler_fn handler;
    bool body;                 /* reads a request body */
    const char *content_types; /* accepted Content-Types, '|' separated; NULL: any */
    http_route_acl_t acl;
} http_route_t;

typedef enum http_req_state {
    HTTP_REQ_HEADERS = 0, /* routing done, waiting for the body */
    HTTP_REQ_RUNNING,     /* handler running (maybe async) */
    HTTP_REQ_RESPONDING,  /* response queued */
    HTTP_REQ_STREAMING,   /* SSE: events follow */
    HTTP_REQ_DONE,
} http_req_state_t;

typedef struct http_sse http_sse_t;

/* Per-connection (per-stream on h2) data lws allocates for us. */
typedef struct http_pss {
    http_req_t *req;
    void *ws; /* http_ws_t once upgraded */
} http_pss_t;

struct http_req {
    http_server_t *srv;
    struct lws *wsi; /* NULL once the connection closed under an async handler */
    http_req_t *prev, *next;
    http_method_t method;
    char path[HTTP_MAX_PATH];
    char params[HTTP_MAX_PARAMS][256]; /* decoded path segments matched by {} */
    const http_route_t *route;
    char principal[HTTP_PRINCIPAL_MAX]; /* "User:alice", "User:ANONYMOUS" (auth.c) */
    char client_host[HTTP_HOST_MAX];    /* the client's IP address, for ACLs */
    char content_type[128];
    char accept[256];
    long content_length; /* -1 unknown */
    uint8_t *body;
    size_t body_len, body_cap;
    bool body_too_large;
    uint64_t start_ns;
    http_req_state_t state;
    int async; /* operations in flight that call back into this request */
    /* response */
    int status;
    char resp_type[96];
    char *resp;
    size_t resp_len, resp_off;
    bool headers_sent;
    bool close_after;
    char extra_headers[512]; /* "Name: value\r\n"... */
    http_sse_t *sse;
    void *ctx; /* the handler's own state */
    void (*ctx_free)(void *ctx);
};

/* Routing (router.c). Returns the route, or NULL with *status 404/405. */
const http_route_t *http_route_match(const char *path, http_method_t m, char params[][256],
                                     int *status);
/* True when the media type (ignoring parameters) is in the '|' list. */
bool http_media_type_in(const char *content_type, const char *list);

/* Responses (response.c). Each takes ownership of nothing; json is serialized. */
void http_respond(http_req_t *req, int status, const char *content_type, const char *body,
                  size_t len);
void http_respond_json(http_req_t *req, int status, json_t *json); /* steals json */
/* {"error_code": code, "message": msg}: the REST Proxy's error body. */
void http_respond_error(http_req_t *req, int status, int error_code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void http_respond_gn_error(http_req_t *req, int err);
void http_req_add_header(http_req_t *req, const char *name, const char *value);
/* Called from the lws writeable callback: writes the pending response. <0 closes. */
int http__req_write(http_req_t *req);
void http__req_free(http_req_t *req);
/* A request's async operation finished: frees it if the connection is gone. Returns
 * true when req is still usable. */
bool http_req_async_done(http_req_t *req);
/* The value of a query parameter (decoded), or NULL. */
const char *http_req_query(http_req_t *req, const char *name, char *buf, int cap);
/* A request header by lws token, or "" */
const char *http_req_header(http_req_t *req, enum lws_token_indexes tok, char *buf, int cap);

/* Errors (errors.c): one function from gn errors to HTTP status, and the REST Proxy's
 * error_code for it. */
int http_status_from_gn(int err);
int http_rest_code_from_gn(int err);

/* ---- SSE (sse.c) ---------------------------------------------------------------- */
int http__sse_writeable(http_req_t *req);
void http__sse_free(http_sse_t *sse);

/* ---- WebSocket transport (ws_transport.c) -------------------------------------- */
typedef struct http_ws http_ws_t;
/* Picks the route for a WebSocket upgrade; -1 when none matches (refuse). */
int http__ws_route_for(http_server_t *srv, const char *path, const char *subprotocol);
/* LWS_CALLBACK_HTTP_CONFIRM_UPGRADE: 0 lets the upgrade to subprotocol proceed; 1 after
 * answering 401 (http.auth and a route the protocol does not authenticate itself). */
int http__ws_confirm_upgrade(http_server_t *srv, struct lws *wsi, const char *subprotocol);
int http__ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void **pws, void *in,
                      size_t len);

/* ---- handlers (routes_*.c) ----------------------------------------------------- */
extern const http_route_t http_routes[];
extern const size_t http_routes_count;

int http_handle_healthz(http_req_t *req);
int http_handle_metrics(http_req_t *req);
int http_handle_static(http_req_t *req);
int http_handle_topics_list(http_req_t *req);
int http_handle_topic_get(http_req_t *req);
int http_handle_topic_produce(http_req_t *req);
int http_handle_partition_produce(http_req_t *req);
int http_handle_partitions_list(http_req_t *req);
int http_handle_partition_get(http_req_t *req);
int http_handle_partition_offsets(http_req_t *req);
int http_handle_brokers(http_req_t *req);
int http_handle_topic_events(http_req_t *req);
int http_handle_v3_clusters(http_req_t *req);
int http_handle_v3_topics_list(http_req_t *req);
int http_handle_v3_topic_create(http_req_t *req);
int http_handle_v3_topic_get(http_req_t *req);
int http_handle_v3_topic_delete(http_req_t *req);
int http_handle_v3_partitions(http_req_t *req);
int http_handle_v3_configs(http_req_t *req);
int http_handle_v3_records(http_req_t *req);
int http_handle_consumer_create(http_req_t *req);
int http_handle_consumer_delete(http_req_t *req);
int http_handle_subscription_set(http_req_t *req);
int http_handle_subscription_get(http_req_t *req);
int http_handle_subscription_delete(http_req_t *req);
int http_handle_assignments_set(http_req_t *req);
int http_handle_assignments_get(http_req_t *req);
int http_handle_positions_set(http_req_t *req);
int http_handle_positions_beginning(http_req_t *req);
int http_handle_positions_end(http_req_t *req);
int http_handle_consumer_records(http_req_t *req);
int http_handle_offsets_commit(http_req_t *req);
int http_handle_offsets_get(http_req_t *req);
/* Kafka Connect (routes_connect.c) */
int http_handle_connectors_list(http_req_t *req);
int http_handle_connector_create(http_req_t *req);
int http_handle_connector_get(http_req_t *req);
int http_handle_connector_config_get(http_req_t *req);
int http_handle_connector_config_put(http_req_t *req);
int http_handle_connector_status(http_req_t *req);
int http_handle_connector_tasks(http_req_t *req);
int http_handle_connector_pause(http_req_t *req);
int http_handle_connector_resume(http_req_t *req);
int http_handle_connector_restart(http_req_t *req);
int http_handle_connector_task_restart(http_req_t *req);
int http_handle_connector_delete(http_req_t *req);
int http_handle_connector_plugins(http_req_t *req);
/* topic_scan.c: calls each(arg, key, value) for the records of partition 0 of topic from
 * *next up to its high watermark; *next moves past them. 0 (also when the topic does not
 * exist) or a negative error. */
typedef void (*http_record_cb)(void *arg, gn_bytes_t key, gn_bytes_t value);
int http__topic_scan(gn_broker_t *broker, const char *topic, int64_t *next, http_record_cb each,
                     void *arg);
/* Stream processors (routes_streams.c) */
int http_handle_streams_list(http_req_t *req);
int http_handle_stream_create(http_req_t *req);
int http_handle_stream_get(http_req_t *req);
int http_handle_stream_status(http_req_t *req);
int http_handle_stream_pause(http_req_t *req);
int http_handle_stream_resume(http_req_t *req);
int http_handle_stream_delete(http_req_t *req);
/* streams.c: the stream processor registry, started and stopped with the server */
int http__streams_start(http_server_t *srv);
void http__streams_stop(http_server_t *srv);
/* connect.c: the connector registry, started and stopped with the server */
int http__connect_start(http_server_t *srv);
void http__connect_stop(http_server_t *srv);

#endif
