/* SPDX-License-Identifier: Apache-2.0 */
/* The table of every configuration key of the `ganglion` program: name, type, where
 * the value goes, default and one doc sentence. --help, docs/configuration.md, the JSON
 * file and the flags are all driven by it (config.c). Read-only data, any thread.
 * To add a key: add a field to gn_gateway_config_t (or use a topic-level name), add a
 * row here, rebuild and run `ganglion --print-config-doc > docs/configuration.md`. */
#include <stdbool.h>
#include <string.h>

#include "config_keys.h"

#define FIELD(member)                                                                              \
    .target = GN_CONFIG_FIELD, .offset = offsetof(gn_gateway_config_t, member),                    \
    .size = sizeof(((gn_gateway_config_t *)0)->member)
#define TOPIC(key) .target = GN_CONFIG_TOPIC, .topic_key = (key)

#define I64_MAX INT64_MAX
#define I32_MAX INT32_MAX

static const char *const log_levels[] = {"error", "warn", "info", "debug", NULL};
/* Index = gn_flush_policy_t value. */
static const char *const flush_policies[] = {"on_ack_all", "always", "interval", "os", NULL};
static const char *const timestamp_types[] = {"CreateTime", "LogAppendTime", NULL};
static const char *const compression_types[] = {"producer", "uncompressed", "gzip", "snappy",
                                                "lz4",      "zstd",         NULL};
/* Index = gn_tls_client_auth_t value (include/ganglion/tls.h). */
static const char *const client_auths[] = {"none", "requested", "required", NULL};
static const char *const http_auths[] = {"none", "basic", NULL};

/* The enum fields are written through an int. */
_Static_assert(sizeof(gn_log_level_t) == sizeof(int), "log level is int-sized");
_Static_assert(sizeof(gn_flush_policy_t) == sizeof(int), "flush policy is int-sized");

#define G_GENERAL "General"
#define G_LISTEN  "Listeners"
#define G_BROKER  "Broker"
#define G_TOPIC   "Topic defaults"
#define G_GROUPS  "Consumer groups"
#define G_AUTH    "Authentication"
#define G_TLS     "TLS"
#define G_AUTHZ   "Authorization"

static const gn_config_key_t keys[] = {
    /* General */
    {.name = "config",
     .group = G_GENERAL,
     .type = GN_CONFIG_STRING,
     FIELD(config_path),
     .default_value = "",
     .doc = "Path of a JSON file holding a flat object of \"key\": value pairs, read before the "
            "command-line flags, which override it (command line only)."},
    {.name = "node.id",
     .group = G_GENERAL,
     .type = GN_CONFIG_INT,
     FIELD(broker.node_id),
     .min = 0,
     .max = I32_MAX,
     .default_value = "1",
     .doc = "This broker's id in the cluster, as Kafka clients see it in metadata."},
    {.name = "controller.quorum.voters",
     .group = G_GENERAL,
     .type = GN_CONFIG_STRING,
     FIELD(broker.quorum_voters),
     .default_value = "",
     .doc = "The controller quorum holding the cluster metadata (Raft): id@host:port of each "
            "voter, comma-separated, the same on every broker, e.g. "
            "1@10.0.0.1:9093,2@10.0.0.2:9093,3@10.0.0.3:9093. Empty: this node alone, a "
            "quorum of one (its Raft transport on an ephemeral loopback port)."},
    {.name = "cluster.listener",
     .group = G_GENERAL,
     .type = GN_CONFIG_STRING,
     FIELD(broker.cluster_listener),
     .default_value = "",
     .doc = "host:port of the internal listener other brokers reach this one on (heartbeats to "
            "the controller, forwarded metadata changes, replica fetches). Needed in a "
            "cluster of several brokers; empty: none."},
    {.name = "broker.session.timeout.ms",
     .group = G_GENERAL,
     .type = GN_CONFIG_DURATION,
     FIELD(broker.broker_session_timeout_ms),
     .min = 100,
     .max = I32_MAX,
     .default_value = "3000",
     .doc = "A broker whose heartbeats the controller misses this long is fenced; its "
            "partition leaderships move to other in-sync replicas (sooner when its heartbeat "
            "connection drops: two heartbeat intervals). Shorter than Kafka's 9000: failover "
            "under 5 s, and no GC pauses to ride out."},
    {.name = "broker.heartbeat.interval.ms",
     .group = G_GENERAL,
     .type = GN_CONFIG_DURATION,
     FIELD(broker.broker_heartbeat_interval_ms),
     .min = 10,
     .max = I32_MAX,
     .default_value = "500",
     .doc = "How often a broker heartbeats to the controller (six per session by default)."},
    {.name = "controlled.shutdown.timeout.ms",
     .group = G_GENERAL,
     .type = GN_CONFIG_DURATION,
     FIELD(broker.controlled_shutdown_timeout_ms),
     .min = 0,
     .max = I32_MAX,
     .default_value = "5000",
     .doc = "On SIGTERM/SIGINT in a cluster, how long a broker waits for the controller to move "
            "its partition leaderships (and the controller role) to other in-sync brokers "
            "before it stops; its listeners answer meanwhile, so clients move without waiting "
            "for a fence. 0: stop at once, as after a crash."},
    {.name = "replica.lag.time.max.ms",
     .group = G_GENERAL,
     .type = GN_CONFIG_DURATION,
     FIELD(broker.replica_lag_time_max_ms),
     .min = 10,
     .max = I32_MAX,
     .default_value = "30000",
     .doc = "A follower that has not caught up with the leader's log end for this long leaves "
            "the in-sync replicas."},
    {.name = "data.dir",
     .group = G_GENERAL,
     .type = GN_CONFIG_STRING,
     FIELD(broker.data_dir),
     .default_value = "./data",
     .doc = "Directory holding every partition's log and the broker's checkpoints (Kafka's "
            "log.dirs); created if missing."},
    {.name = "log.level",
     .group = G_GENERAL,
     .type = GN_CONFIG_ENUM,
     FIELD(log_level),
     .choices = log_levels,
     .default_value = "info",
     .doc = "Lowest level of the log lines written to stderr (logfmt)."},
    {.name = "flush",
     .group = G_GENERAL,
     .type = GN_CONFIG_ENUM,
     FIELD(broker.flush),
     .choices = flush_policies,
     .default_value = "on_ack_all",
     .doc = "When the leader fsyncs: before answering acks=all (group commit), before answering "
            "any produce, every log.flush.interval.ms/messages, or never (the OS writes back; "
            "fastest, loses acknowledged data on a power cut)."},

    /* Listeners */
    {.name = "kafka.host",
     .group = G_LISTEN,
     .type = GN_CONFIG_STRING,
     FIELD(kafka_host),
     .default_value = "0.0.0.0",
     .doc = "Address the Kafka protocol listener binds to."},
    {.name = "kafka.port",
     .group = G_LISTEN,
     .type = GN_CONFIG_INT,
     FIELD(kafka_port),
     .min = 0,
     .max = 65535,
     .default_value = "9092",
     .doc = "TCP port of the Kafka protocol listener; 0 turns it off."},
    {.name = "kafka.advertised.host",
     .group = G_LISTEN,
     .type = GN_CONFIG_STRING,
     FIELD(kafka_advertised_host),
     .default_value = "",
     .doc = "Host name given to Kafka clients in metadata; empty: the address the client "
            "connected to."},
    {.name = "kafka.advertised.port",
     .group = G_LISTEN,
     .type = GN_CONFIG_INT,
     FIELD(kafka_advertised_port),
     .min = 0,
     .max = 65535,
     .default_value = "0",
     .doc = "Port given to Kafka clients in metadata; 0: kafka.port."},
    {.name = "kafka.tls.port",
     .group = G_LISTEN,
     .type = GN_CONFIG_INT,
     FIELD(kafka_tls_port),
     .min = 0,
     .max = 65535,
     .default_value = "9093",
     .doc = "TCP port of the Kafka TLS listener on kafka.host (Kafka's SSL, or SASL_SSL with "
            "auth.users.file); on only when tls.cert.file is set, 0 turns it off."},
    {.name = "kafka.tls.advertised.port",
     .group = G_LISTEN,
     .type = GN_CONFIG_INT,
     FIELD(kafka_tls_advertised_port),
     .min = 0,
     .max = 65535,
     .default_value = "0",
     .doc = "Port given in metadata to Kafka clients connected over TLS; 0: kafka.tls.port."},
    {.name = "mqtt.host",
     .group = G_LISTEN,
     .type = GN_CONFIG_STRING,
     FIELD(mqtt_host),
     .default_value = "0.0.0.0",
     .doc = "Address the MQTT listener binds to."},
    {.name = "mqtt.port",
     .group = G_LISTEN,
     .type = GN_CONFIG_INT,
     FIELD(mqtt_port),
     .min = 0,
     .max = 65535,
     .default_value = "1883",
     .doc = "TCP port of the MQTT 3.1.1/5.0 listener; 0 turns it off."},
    {.name = "mqtt.tls.port",
     .group = G_LISTEN,
     .type = GN_CONFIG_INT,
     FIELD(mqtt_tls_port),
     .min = 0,
     .max = 65535,
     .default_value = "8883",
     .doc = "TCP port of the MQTT over TLS listener on mqtt.host; on only when tls.cert.file is "
            "set, 0 turns it off."},
    {.name = "http.host",
     .group = G_LISTEN,
     .type = GN_CONFIG_STRING,
     FIELD(http_host),
     .default_value = "0.0.0.0",
     .doc = "Address the HTTP listener (REST, SSE, WebSocket, console) binds to."},
    {.name = "http.port",
     .group = G_LISTEN,
     .type = GN_CONFIG_INT,
     FIELD(http_port),
     .min = 0,
     .max = 65535,
     .default_value = "8080",
     .doc = "TCP port of the HTTP listener (REST, SSE, WebSocket, console); 0 turns it off."},
    {.name = "http.tls.port",
     .group = G_LISTEN,
     .type = GN_CONFIG_INT,
     FIELD(http_tls_port),
     .min = 0,
     .max = 65535,
     .default_value = "8443",
     .doc = "TCP port of the HTTPS listener on http.host (REST, SSE, WebSocket as wss, console; "
            "HTTP/2 through ALPN); on only when tls.cert.file is set, 0 turns it off."},
    {.name = "socket.request.max.bytes",
     .group = G_LISTEN,
     .type = GN_CONFIG_LONG,
     FIELD(socket_request_max_bytes),
     .min = 1,
     .max = I32_MAX,
     .default_value = "104857600",
     .doc = "Largest request a client may send on any listener; a larger one closes the "
            "connection."},
    {.name = "connections.max.idle.ms",
     .group = G_LISTEN,
     .type = GN_CONFIG_LONG,
     FIELD(connections_max_idle_ms),
     .min = 0,
     .max = I64_MAX,
     .default_value = "600000",
     .doc = "A Kafka connection (plain or TLS, including one that never finishes its TLS "
            "handshake) that sent nothing and has no request in progress for this long is "
            "closed, as Kafka's connections.max.idle.ms; 0: never."},

    /* Authentication (core/auth; docs/security.md) */
    {.name = "auth.users.file",
     .group = G_AUTH,
     .type = GN_CONFIG_STRING,
     FIELD(auth_users_file),
     .default_value = "",
     .doc = "The users file (SCRAM-SHA-256/512 credentials, written by ganglion-users), read at "
            "start-up; MQTT checks user names and passwords and offers SCRAM enhanced "
            "authentication against it, Kafka offers SASL PLAIN and SCRAM-SHA-256/512. Empty: "
            "no users, MQTT credentials are not checked, Kafka offers no SASL mechanism."},
    {.name = "mqtt.allow.anonymous",
     .group = G_AUTH,
     .type = GN_CONFIG_BOOL,
     FIELD(mqtt_allow_anonymous),
     .default_value = "true",
     .doc = "Accept MQTT clients that send no user name (and no authentication method); "
            "false refuses them with CONNACK 0x87 (3.1.1: 5) and needs auth.users.file."},
    {.name = "kafka.allow.anonymous",
     .group = G_AUTH,
     .type = GN_CONFIG_BOOL,
     FIELD(kafka_allow_anonymous),
     .default_value = "true",
     .doc = "Serve Kafka clients that do not authenticate (SASL is still offered when "
            "auth.users.file is set); false closes a connection whose first request other "
            "than ApiVersions is not SASL (Kafka's SASL_PLAINTEXT listener) and needs "
            "auth.users.file."},
    {.name = "http.auth",
     .group = G_AUTH,
     .type = GN_CONFIG_ENUM,
     FIELD(http_auth),
     .choices = http_auths,
     .default_value = "none",
     .doc = "Authentication on the HTTP listeners (REST, SSE, the /ws WebSocket, Connect, "
            "/metrics, the console): none serves every client as User:ANONYMOUS (a verified "
            "TLS client certificate still names its subject); basic answers 401 to a request "
            "without a valid HTTP Basic user and password of auth.users.file (or a verified "
            "client certificate on http.tls.port). /healthz stays open; MQTT over WebSocket "
            "(/mqtt) checks its CONNECT credentials instead. basic needs auth.users.file."},

    /* Authorization (core/acl; docs/security.md) */
    {.name = "authorizer.enabled",
     .group = G_AUTHZ,
     .type = GN_CONFIG_BOOL,
     FIELD(broker.authorizer_enabled),
     .default_value = "false",
     .doc = "Check every Kafka request, MQTT PUBLISH and SUBSCRIBE, HTTP request and /ws "
            "message against the ACLs "
            "(Kafka's StandardAuthorizer model; managed with CreateAcls/DeleteAcls, kept in "
            "the cluster metadata log). false: every authenticated or anonymous client may do "
            "anything, and the ACL APIs answer SECURITY_DISABLED."},
    {.name = "super.users",
     .group = G_AUTHZ,
     .type = GN_CONFIG_STRING,
     FIELD(broker.super_users),
     .default_value = "",
     .doc = "Principals that bypass the ACLs, separated by ';' (\"User:admin;User:CN=ops\")."},
    {.name = "allow.everyone.if.no.acl.found",
     .group = G_AUTHZ,
     .type = GN_CONFIG_BOOL,
     FIELD(broker.allow_everyone_if_no_acl_found),
     .default_value = "true",
     .doc = "With authorizer.enabled, allow an operation on a resource that no ACL matches at "
            "all (for anyone); false denies it (only super.users and ACLs grant access)."},

    /* TLS (core/tls; docs/security.md) */
    {.name = "tls.cert.file",
     .group = G_TLS,
     .type = GN_CONFIG_STRING,
     FIELD(tls_cert_file),
     .default_value = "",
     .doc = "PEM file holding the server certificate (then its chain) of the TLS listeners "
            "(kafka.tls.port, mqtt.tls.port), read at start-up. Empty: no TLS listener."},
    {.name = "tls.key.file",
     .group = G_TLS,
     .type = GN_CONFIG_STRING,
     FIELD(tls_key_file),
     .default_value = "",
     .doc = "PEM file holding the unencrypted private key of tls.cert.file."},
    {.name = "tls.ca.file",
     .group = G_TLS,
     .type = GN_CONFIG_STRING,
     FIELD(tls_ca_file),
     .default_value = "",
     .doc = "PEM file of the CA certificates client certificates must chain to (needed by "
            "ssl.client.auth requested or required)."},
    {.name = "ssl.client.auth",
     .group = G_TLS,
     .type = GN_CONFIG_ENUM,
     FIELD(tls_client_auth),
     .choices = client_auths,
     .default_value = "none",
     .doc = "Client certificates on the TLS listeners, as Kafka's key: not asked for, asked "
            "for and checked against tls.ca.file when sent, or required (a client without one "
            "fails the handshake)."},
    {.name = "cluster.tls.enabled",
     .group = G_TLS,
     .type = GN_CONFIG_BOOL,
     FIELD(cluster_tls_enabled),
     .default_value = "false",
     .doc = "TLS between brokers, on the internal listener (cluster.listener) and the Raft "
            "transport (controller.quorum.voters), both ways with mutual authentication: each "
            "broker presents "
            "cluster.tls.cert.file and requires the other's certificate, "
            "checked against cluster.tls.ca.file (Kafka's inter-broker SSL listener with "
            "ssl.client.auth=required). A peer without a valid certificate, or speaking plain "
            "TCP, is refused and logged. Every broker of a cluster sets it alike."},
    {.name = "cluster.tls.cert.file",
     .group = G_TLS,
     .type = GN_CONFIG_STRING,
     FIELD(cluster_tls_cert_file),
     .default_value = "",
     .doc = "PEM file holding this broker's certificate (then its chain), presented to other "
            "brokers both as a server and as a client; needed by cluster.tls.enabled."},
    {.name = "cluster.tls.key.file",
     .group = G_TLS,
     .type = GN_CONFIG_STRING,
     FIELD(cluster_tls_key_file),
     .default_value = "",
     .doc = "PEM file holding the unencrypted private key of cluster.tls.cert.file."},
    {.name = "cluster.tls.ca.file",
     .group = G_TLS,
     .type = GN_CONFIG_STRING,
     FIELD(cluster_tls_ca_file),
     .default_value = "",
     .doc = "PEM file of the CA certificates every broker's certificate must chain to: any "
            "certificate they signed is a broker of this cluster (host names are not "
            "checked). Needed by cluster.tls.enabled."},

    /* Broker */
    {.name = "num.partitions",
     .group = G_BROKER,
     .type = GN_CONFIG_INT,
     FIELD(broker.num_partitions),
     .min = 1,
     .max = 1000000,
     .default_value = "1",
     .doc = "Number of partitions of a topic created without an explicit count (also by "
            "auto-creation)."},
    {.name = "default.replication.factor",
     .group = G_BROKER,
     .type = GN_CONFIG_INT,
     FIELD(broker.default_replication_factor),
     .min = 1,
     .max = 32767,
     .default_value = "1",
     .doc = "Replication factor of a topic created without an explicit one."},
    {.name = "auto.create.topics.enable",
     .group = G_BROKER,
     .type = GN_CONFIG_BOOL,
     FIELD(broker.auto_create_topics),
     .default_value = "true",
     .doc = "Create a topic on its first use by a producer, consumer, MQTT client or REST "
            "call."},
    {.name = "log.retention.check.interval.ms",
     .group = G_BROKER,
     .type = GN_CONFIG_DURATION,
     FIELD(broker.retention_check_interval_ms),
     .min = 1,
     .max = I64_MAX,
     .default_value = "300000",
     .doc = "How often the broker looks for segments to delete under the retention limits."},
    {.name = "log.cleaner.backoff.ms",
     .group = G_BROKER,
     .type = GN_CONFIG_DURATION,
     FIELD(broker.cleaner_backoff_ms),
     .min = 0,
     .max = I64_MAX,
     .default_value = "15000",
     .doc = "How long the log cleaner sleeps when no compacted log needs cleaning."},

    /* Consumer groups (core/group's coordinator; Kafka's names, units and defaults). */
    {.name = "group.min.session.timeout.ms",
     .group = G_GROUPS,
     .type = GN_CONFIG_INT,
     FIELD(broker.groups.group_min_session_timeout_ms),
     .min = 1,
     .max = I32_MAX,
     .default_value = "6000",
     .doc = "Shortest session.timeout.ms a group member may ask for; a shorter one is refused "
            "(INVALID_SESSION_TIMEOUT)."},
    {.name = "group.max.session.timeout.ms",
     .group = G_GROUPS,
     .type = GN_CONFIG_INT,
     FIELD(broker.groups.group_max_session_timeout_ms),
     .min = 1,
     .max = I32_MAX,
     .default_value = "1800000",
     .doc = "Longest session.timeout.ms a group member may ask for; a longer one is refused "
            "(INVALID_SESSION_TIMEOUT)."},
    {.name = "group.initial.rebalance.delay.ms",
     .group = G_GROUPS,
     .type = GN_CONFIG_INT,
     FIELD(broker.groups.group_initial_rebalance_delay_ms),
     .min = 0,
     .max = I32_MAX,
     .default_value = "3000",
     .doc = "How long the first rebalance of an empty group waits for more members to join "
            "(0: at once, handy in tests)."},
    {.name = "group.max.size",
     .group = G_GROUPS,
     .type = GN_CONFIG_INT,
     FIELD(broker.groups.group_max_size),
     .min = 1,
     .max = I32_MAX,
     .default_value = "2147483647",
     .doc = "Most members a group may have; further joins get GROUP_MAX_SIZE_REACHED."},
    {.name = "offsets.retention.minutes",
     .group = G_GROUPS,
     .type = GN_CONFIG_INT,
     FIELD(broker.groups.offsets_retention_minutes),
     .min = 1,
     .max = I32_MAX,
     .default_value = "10080",
     .doc = "Committed offsets of a group expire this long after the group became empty (or "
            "after the commit, for a group that never had members)."},
    {.name = "offsets.retention.check.interval.ms",
     .group = G_GROUPS,
     .type = GN_CONFIG_DURATION,
     FIELD(broker.groups.offsets_retention_check_interval_ms),
     .min = 1,
     .max = I32_MAX,
     .default_value = "600000",
     .doc = "How often the coordinator looks for expired committed offsets."},
    {.name = "offset.metadata.max.bytes",
     .group = G_GROUPS,
     .type = GN_CONFIG_INT,
     FIELD(broker.groups.offset_metadata_max_bytes),
     .min = 0,
     .max = I32_MAX,
     .default_value = "4096",
     .doc = "Largest metadata string of a committed offset; a larger one is refused "
            "(OFFSET_METADATA_TOO_LARGE)."},
    {.name = "offsets.topic.num.partitions",
     .group = G_GROUPS,
     .type = GN_CONFIG_INT,
     FIELD(broker.groups.offsets_topic_num_partitions),
     .min = 1,
     .max = 1000,
     .default_value = "50",
     .doc = "Partitions of __consumer_offsets, which decide each group's coordinator "
            "partition; used when the topic is created, fixed afterwards."},
    {.name = "offsets.topic.replication.factor",
     .group = G_GROUPS,
     .type = GN_CONFIG_INT,
     FIELD(broker.groups.offsets_topic_replication_factor),
     .min = -1,
     .max = 32767,
     .default_value = "3",
     .doc = "Replication factor of __consumer_offsets when created, at most the live "
            "brokers then; -1: default.replication.factor."},
    {.name = "offsets.topic.segment.bytes",
     .group = G_GROUPS,
     .type = GN_CONFIG_INT,
     FIELD(broker.groups.offsets_topic_segment_bytes),
     .min = 14,
     .max = I32_MAX,
     .default_value = "104857600",
     .doc = "segment.bytes of __consumer_offsets (kept small so compaction and loading at "
            "start-up stay quick)."},

    /* Broker-wide defaults of the topic-level configs (Kafka's broker names). */
    {.name = "log.retention.ms",
     .group = G_TOPIC,
     .type = GN_CONFIG_DURATION,
     TOPIC("retention.ms"),
     .min = -1,
     .max = I64_MAX,
     .default_value = "604800000",
     .doc = "Delete a segment once its newest record is older than this; -1 keeps "
            "everything (topic config retention.ms)."},
    {.name = "log.retention.bytes",
     .group = G_TOPIC,
     .type = GN_CONFIG_LONG,
     TOPIC("retention.bytes"),
     .min = -1,
     .max = I64_MAX,
     .default_value = "-1",
     .doc = "Delete the oldest segments while a partition is larger than this; -1 means no "
            "limit (retention.bytes)."},
    {.name = "log.segment.bytes",
     .group = G_TOPIC,
     .type = GN_CONFIG_INT,
     TOPIC("segment.bytes"),
     .min = 14,
     .max = I32_MAX,
     .default_value = "1073741824",
     .doc = "Roll to a new segment file when the active one reaches this size "
            "(segment.bytes)."},
    {.name = "log.roll.ms",
     .group = G_TOPIC,
     .type = GN_CONFIG_DURATION,
     TOPIC("segment.ms"),
     .min = 1,
     .max = I64_MAX,
     .default_value = "604800000",
     .doc = "Roll to a new segment file when the active one is older than this, so that "
            "retention can delete it (segment.ms)."},
    {.name = "log.segment.ms",
     .group = G_TOPIC,
     .type = GN_CONFIG_DURATION,
     TOPIC("segment.ms"),
     .min = 1,
     .max = I64_MAX,
     .default_value = "604800000",
     .doc = "Same as log.roll.ms (segment.ms); whichever is given last wins."},
    {.name = "log.index.size.max.bytes",
     .group = G_TOPIC,
     .type = GN_CONFIG_INT,
     TOPIC("segment.index.bytes"),
     .min = 4,
     .max = I32_MAX,
     .default_value = "10485760",
     .doc = "Largest offset or time index file of a segment; a full index rolls the segment "
            "(segment.index.bytes)."},
    {.name = "log.index.interval.bytes",
     .group = G_TOPIC,
     .type = GN_CONFIG_INT,
     TOPIC("index.interval.bytes"),
     .min = 0,
     .max = I32_MAX,
     .default_value = "4096",
     .doc = "Bytes of log between two entries of the sparse offset and time indexes "
            "(index.interval.bytes)."},
    {.name = "message.max.bytes",
     .group = G_TOPIC,
     .type = GN_CONFIG_INT,
     TOPIC("max.message.bytes"),
     .min = 0,
     .max = I32_MAX,
     .default_value = "1048588",
     .doc = "Largest record batch the broker accepts (max.message.bytes)."},
    {.name = "log.cleanup.policy",
     .group = G_TOPIC,
     .type = GN_CONFIG_STRING,
     TOPIC("cleanup.policy"),
     .default_value = "delete",
     .doc = "delete (retention), compact (keep the newest record per key) or delete,compact "
            "(cleanup.policy)."},
    {.name = "log.cleaner.delete.retention.ms",
     .group = G_TOPIC,
     .type = GN_CONFIG_DURATION,
     TOPIC("delete.retention.ms"),
     .min = 0,
     .max = I64_MAX,
     .default_value = "86400000",
     .doc = "How long compaction keeps tombstones so that consumers see the deletion "
            "(delete.retention.ms)."},
    {.name = "log.cleaner.min.compaction.lag.ms",
     .group = G_TOPIC,
     .type = GN_CONFIG_DURATION,
     TOPIC("min.compaction.lag.ms"),
     .min = 0,
     .max = I64_MAX,
     .default_value = "0",
     .doc = "A record stays uncompacted at least this long (min.compaction.lag.ms)."},
    {.name = "log.cleaner.max.compaction.lag.ms",
     .group = G_TOPIC,
     .type = GN_CONFIG_DURATION,
     TOPIC("max.compaction.lag.ms"),
     .min = 1,
     .max = I64_MAX,
     .default_value = "9223372036854775807",
     .doc = "A record is compacted at the latest this long after it was written "
            "(max.compaction.lag.ms)."},
    {.name = "log.cleaner.min.cleanable.ratio",
     .group = G_TOPIC,
     .type = GN_CONFIG_DOUBLE,
     TOPIC("min.cleanable.dirty.ratio"),
     .default_value = "0.5",
     .doc = "Compact a log once this share of it has not been compacted yet "
            "(min.cleanable.dirty.ratio)."},
    {.name = "log.segment.delete.delay.ms",
     .group = G_TOPIC,
     .type = GN_CONFIG_DURATION,
     TOPIC("file.delete.delay.ms"),
     .min = 0,
     .max = I64_MAX,
     .default_value = "60000",
     .doc = "Delay between removing a segment from the log and deleting its files "
            "(file.delete.delay.ms)."},
    {.name = "log.flush.interval.messages",
     .group = G_TOPIC,
     .type = GN_CONFIG_LONG,
     TOPIC("flush.messages"),
     .min = 1,
     .max = I64_MAX,
     .default_value = "9223372036854775807",
     .doc = "With flush=interval: fsync after this many messages (flush.messages)."},
    {.name = "log.flush.interval.ms",
     .group = G_TOPIC,
     .type = GN_CONFIG_DURATION,
     TOPIC("flush.ms"),
     .min = 0,
     .max = I64_MAX,
     .default_value = "9223372036854775807",
     .doc = "With flush=interval: fsync when the oldest unflushed message is this old "
            "(flush.ms)."},
    {.name = "min.insync.replicas",
     .group = G_TOPIC,
     .type = GN_CONFIG_INT,
     TOPIC("min.insync.replicas"),
     .min = 1,
     .max = I32_MAX,
     .default_value = "1",
     .doc = "Fewest in-sync replicas with which an acks=all produce succeeds "
            "(min.insync.replicas)."},
    {.name = "log.message.timestamp.type",
     .group = G_TOPIC,
     .type = GN_CONFIG_ENUM,
     TOPIC("message.timestamp.type"),
     .choices = timestamp_types,
     .default_value = "CreateTime",
     .doc = "Keep the producer's timestamp or stamp the broker's append time "
            "(message.timestamp.type)."},
    {.name = "log.message.timestamp.before.max.ms",
     .group = G_TOPIC,
     .type = GN_CONFIG_DURATION,
     TOPIC("message.timestamp.before.max.ms"),
     .min = 0,
     .max = I64_MAX,
     .default_value = "9223372036854775807",
     .doc = "Refuse a CreateTime record older than the broker's clock by more than this "
            "(message.timestamp.before.max.ms)."},
    {.name = "log.message.timestamp.after.max.ms",
     .group = G_TOPIC,
     .type = GN_CONFIG_DURATION,
     TOPIC("message.timestamp.after.max.ms"),
     .min = 0,
     .max = I64_MAX,
     .default_value = "9223372036854775807",
     .doc = "Refuse a CreateTime record newer than the broker's clock by more than this "
            "(message.timestamp.after.max.ms)."},
    {.name = "compression.type",
     .group = G_TOPIC,
     .type = GN_CONFIG_ENUM,
     TOPIC("compression.type"),
     .choices = compression_types,
     .default_value = "producer",
     .doc = "Store batches as the producer compressed them, or recompress them with this "
            "codec (compression.type)."},
    {.name = "unclean.leader.election.enable",
     .group = G_TOPIC,
     .type = GN_CONFIG_BOOL,
     TOPIC("unclean.leader.election.enable"),
     .default_value = "false",
     .doc = "Let a replica outside the ISR become leader, losing data, rather than leave the "
            "partition offline (unclean.leader.election.enable)."},
    {.name = "log.preallocate",
     .group = G_TOPIC,
     .type = GN_CONFIG_BOOL,
     TOPIC("preallocate"),
     .default_value = "false",
     .doc = "Preallocate a new segment file to its full size (preallocate)."},
};

const gn_config_key_t *gn_config_keys(size_t *count)
{
    *count = sizeof(keys) / sizeof(keys[0]);
    return keys;
}

const gn_config_key_t *gn_config_key_find(const char *name)
{
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (strcmp(keys[i].name, name) == 0) return &keys[i];
    return NULL;
}

const char *gn_config_type_name(gn_config_type_t type)
{
    static const char *const names[] = {"int",  "long",     "bool",  "string",
                                        "enum", "duration", "double"};
    return (unsigned)type < sizeof(names) / sizeof(names[0]) ? names[type] : "?";
}
