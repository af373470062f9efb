/* SPDX-License-Identifier: Apache-2.0 */
/* The cluster as adapters see it (core/cluster): the live brokers and each partition's
 * leader, leader epoch, replicas and in-sync replicas, from this broker's metadata image
 * (the committed records of the controller quorum). Loop thread only. */
#ifndef GANGLION_CLUSTER_H
#define GANGLION_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker.h"

#define GN_CLUSTER_HOST_MAX     255
#define GN_CLUSTER_REPLICAS_MAX 16

typedef struct gn_cluster_broker {
    int32_t node_id;
    char host[GN_CLUSTER_HOST_MAX + 1]; /* its advertised Kafka listener */
    int32_t port;
    int32_t tls_port; /* its Kafka TLS listener on host; 0: none */
} gn_cluster_broker_t;

/* Registered, unfenced brokers in ascending node id, this one always among them; fills
 * up to cap and returns how many there are. */
size_t gn_cluster_brokers(gn_broker_t *broker, gn_cluster_broker_t *out, size_t cap);

/* Whether broker id is fenced because it asked to shut down (a controlled shutdown: it
 * is still running and hands its work over) rather than for missing heartbeats or a
 * restart (it is gone, or cut off). */
bool gn_cluster_broker_stopping(gn_broker_t *broker, int32_t id);

typedef struct gn_cluster_partition {
    int32_t leader; /* -1: no leader (offline) */
    int32_t leader_epoch;
    int32_t replicas[GN_CLUSTER_REPLICAS_MAX];
    size_t nreplicas;
    int32_t isr[GN_CLUSTER_REPLICAS_MAX];
    size_t nisr;
} gn_cluster_partition_t;

/* 0, or GN_EUNKNOWN_TOPIC. */
int gn_cluster_partition(gn_broker_t *broker, const char *topic, int32_t partition,
                         gn_cluster_partition_t *out);
/* This broker is among the partition's replicas (true for a partition the image does not
 * know, e.g. on a single node). Elsewhere gateway readers are served from a copy fetched
 * from the leader (gn_partition_want, partition.h). */
bool gn_cluster_holds_replica(gn_broker_t *broker, const char *topic, int32_t partition);
/* More than one controller voter. Then a partition the image does not have yet (a topic
 * created here whose record is not applied yet) has no leader: not this broker, which
 * would take writes the real leader never sees. A single node leads what it has. */
bool gn_cluster_replicated(gn_broker_t *broker);
/* The controller (Raft leader) node id, -1 while an election runs. */
int32_t gn_cluster_controller_id(gn_broker_t *broker);

#endif
