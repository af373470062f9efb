/* SPDX-License-Identifier: Apache-2.0 */
/* Subscriptions and partitions held by other brokers: the subscribers here learn of new
 * records through the append observer, which a broker outside a partition's replica set
 * sees only while it fetches the partition from its leader (gn_partition_want). Every
 * log topic some filter may match is wanted at each subscribe and each 1 s sweep; a
 * partition without a leader is logged at subscribe and delivered once it has one.
 * Loop thread only. */
#include <string.h>

#include "ganglion/logger.h"
#include "ganglion/partition.h"
#include "ganglion/topic.h"
#include "mqtt.h"

typedef struct want_ctx {
    mqtt_server_t *srv;
    const mqtt_session_t *sess; /* set at subscribe: partitions without a leader are logged */
} want_ctx_t;

static void want_topic(void *arg, const gn_topic_info_t *info)
{
    want_ctx_t *w = arg;
    /* internal topics are never MQTT topics (mapping.c) */
    if (gn_topic_name_internal(info->name) || !mqtt__trie_may_match_first(w->srv->trie, info->name))
        return;
    for (int32_t p = 0; p < info->partitions; p++) {
        gn_partition_t *part = gn_partition_get(w->srv->broker, info->name, p);
        if (!part) continue;
        gn_partition_want(part);
        if (w->sess && gn_partition_check_read(part) < 0)
            GN_WARN(MQTT_MOD,
                    "subscriber on a partition held elsewhere that has no leader: delivered "
                    "once it has one | client=%s topic=%s partition=%d",
                    w->sess->client_id, info->name, (int)p);
    }
}

void mqtt__remote_want(mqtt_server_t *srv, const mqtt_session_t *subscriber)
{
    want_ctx_t w = {srv, subscriber};
    gn_topic_list(srv->broker, want_topic, &w);
}
