/* SPDX-License-Identifier: Apache-2.0 */
/* The one table of the `ganglion` program's configuration keys and the struct they fill.
 * Each row says where a key's value lives (offsetof into gn_gateway_config_t, or a
 * topic-level config name for the log.* broker defaults), its type, default and doc
 * sentence; config.c parses, validates, prints --help and docs/configuration.md from it.
 * Read-only data; start-up (main thread) only. */
#ifndef GN_GATEWAY_CONFIG_KEYS_H
#define GN_GATEWAY_CONFIG_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ganglion/broker.h"
#include "ganglion/logger.h"

/* Every string field is heap-owned by the config (gn_gateway_config_free) and never
 * NULL after gn_gateway_config_init; "" means unset. */
typedef struct gn_gateway_config {
    char *config_path;         /* config: the JSON file read before the flags */
    gn_log_level_t log_level;  /* log.level */
    gn_broker_config_t broker; /* data_dir is one of our owned strings */

    /* Listeners, one group per adapter, found by name: "<adapter>.host" etc. */
    char *kafka_host;
    int kafka_port;
    char *kafka_advertised_host;
    int kafka_advertised_port;
    int kafka_tls_port;            /* "<adapter>.tls.port": the same host, over TLS */
    int kafka_tls_advertised_port; /* "<adapter>.tls.advertised.port" */
    char *mqtt_host;
    int mqtt_port;
    int mqtt_tls_port;
    char *http_host;
    int http_port;
    int http_tls_port;

    int64_t socket_request_max_bytes; /* socket.request.max.bytes, every listener */
    int64_t connections_max_idle_ms;  /* connections.max.idle.ms: the Kafka listeners */

    char *auth_users_file;      /* auth.users.file: "" none */
    bool mqtt_allow_anonymous;  /* mqtt.allow.anonymous */
    bool kafka_allow_anonymous; /* kafka.allow.anonymous */
    int http_auth;              /* http.auth: 0 none, 1 basic */

    char *tls_cert_file; /* tls.cert.file: "" no TLS listener */
    char *tls_key_file;  /* tls.key.file */
    char *tls_ca_file;   /* tls.ca.file: "" none */
    int tls_client_auth; /* ssl.client.auth: gn_tls_client_auth_t */

    bool cluster_tls_enabled;    /* cluster.tls.enabled: TLS between brokers */
    char *cluster_tls_cert_file; /* cluster.tls.cert.file: this broker's certificate */
    char *cluster_tls_key_file;  /* cluster.tls.key.file */
    char *cluster_tls_ca_file;   /* cluster.tls.ca.file: the CA of every broker's */
} gn_gateway_config_t;

typedef enum gn_config_type {
    GN_CONFIG_INT = 0,  /* integer stored in a 2- or 4-byte field (size in the row) */
    GN_CONFIG_LONG,     /* int64_t */
    GN_CONFIG_BOOL,     /* bool: true|false (also 1|0, yes|no, on|off) */
    GN_CONFIG_STRING,   /* char *, owned */
    GN_CONFIG_ENUM,     /* int field holding the index of the value in choices */
    GN_CONFIG_DURATION, /* int64_t milliseconds; "500", "500ms", "30s", "5m", "2h", "7d" */
    GN_CONFIG_DOUBLE,   /* only for topic-level rows (log.cleaner.min.cleanable.ratio) */
} gn_config_type_t;

/* Where a row's value goes. */
typedef enum gn_config_target {
    GN_CONFIG_FIELD = 0, /* a field of gn_gateway_config_t at offset/size */
    GN_CONFIG_TOPIC,     /* cfg.broker.topic_defaults via gn_topic_config_set(topic_key) */
} gn_config_target_t;

typedef struct gn_config_key {
    const char *name;  /* Kafka's broker name where one exists */
    const char *group; /* section in --help and docs/configuration.md */
    gn_config_type_t type;
    gn_config_target_t target;
    size_t offset;              /* GN_CONFIG_FIELD */
    size_t size;                /* GN_CONFIG_FIELD: sizeof the field (checks the int width) */
    const char *topic_key;      /* GN_CONFIG_TOPIC: topic-level name, e.g. "retention.ms" */
    const char *const *choices; /* GN_CONFIG_ENUM: NULL-terminated, index = stored value */
    int64_t min, max;           /* INT, LONG, DURATION: accepted range (inclusive) */
    const char *default_value;  /* string form, parsed like any other value */
    const char *doc;            /* one sentence */
} gn_config_key_t;

/* The table, in --help order. */
const gn_config_key_t *gn_config_keys(size_t *count);
/* The row named name, or NULL. */
const gn_config_key_t *gn_config_key_find(const char *name);
/* "int", "long", "bool", "string", "enum", "duration", "double". */
const char *gn_config_type_name(gn_config_type_t type);

#endif
