/* SPDX-License-Identifier: Apache-2.0 */
/* This broker's topic registry follows the metadata image: after each topic record is
 * applied (on every broker, in log order, whoever proposed it) and when this broker's own
 * creation is decided, the registry's topic of that name becomes what the image says:
 * opened, grown, its overrides set, dropped, or replaced by the incarnation the log chose
 * (a creation of this broker that lost to another broker's). Loop thread only. */
#include <stdlib.h>
#include <string.h>

#include "cluster/cluster.h"
#include "ganglion/error.h"
#include "ganglion/logger.h"
#include "topic/topic_internal.h"

static bool same_overrides(const gn_topic_t *topic, const gn_topic_record_t *tr)
{
    if (topic->noverrides != tr->configs_count) return false;
    for (size_t i = 0; i < tr->configs_count; i++) {
        size_t j = 0;
        while (j < topic->noverrides && strcmp(topic->overrides[j].name, tr->configs[i].name) != 0)
            j++;
        if (j == topic->noverrides ||
            strcmp(topic->overrides[j].value ? topic->overrides[j].value : "",
                   tr->configs[i].value ? tr->configs[i].value : "") != 0)
            return false;
    }
    return true;
}

/* The same incarnation: partitions added and overrides changed. */
static void follow(gn_broker_t *broker, gn_topic_t *topic, const gn_topic_record_t *tr)
{
    int rc = 0;
    topic->creating = false; /* the log has it */
    if (tr->partitions > topic->partitions) {
        rc = gn__topic_grow(broker, topic, tr->partitions);
        if (rc == 0)
            GN_INFO("cluster", "partitions added | topic=%s partitions=%d", tr->name,
                    tr->partitions);
    }
    if (rc == 0 && !same_overrides(topic, tr))
        rc = gn__topic_set_overrides(broker, topic, tr->configs, tr->configs_count);
    if (rc < 0)
        GN_ERROR("cluster", "cannot apply a topic change | topic=%s err=%s", tr->name,
                 gn_strerror(rc));
}

void gn__topic_sync(gn_broker_t *broker, const char *name)
{
    if (broker->closing) return;
    const json_t *t =
        json_object_get(json_object_get(gn__cluster_image(broker->cluster), "topics"), name);
    gn_topic_t *topic = gn__topic_find(broker, name);
    gn_topic_record_t tr;
    gn_config_entry_t *entries = NULL;
    if (t && gn__cluster_topic_from_image(name, t, &tr, &entries) < 0) {
        GN_ERROR("cluster", "bad topic in the metadata image | topic=%s", name);
        free(entries);
        return;
    }
    if (topic && !t && topic->creating) return; /* this broker's creation, still in flight */
    if (topic && (!t || memcmp(topic->id, tr.id, sizeof(tr.id)) != 0)) {
        if (t && topic->creating)
            GN_WARN("cluster",
                    "topic created concurrently through another broker: the metadata log "
                    "kept the other; this broker's creation is dropped | topic=%s",
                    name);
        else
            GN_INFO("cluster", "topic %s | topic=%s", t ? "re-created" : "deleted", name);
        gn__topic_drop(broker, topic);
        topic = NULL;
    }
    if (t && topic) follow(broker, topic, &tr);
    if (t && !topic) {
        int rc = gn__topic_load(broker, &tr);
        if (rc < 0)
            GN_ERROR("cluster", "cannot open a topic created by the cluster | topic=%s err=%s",
                     name, gn_strerror(rc));
        else
            GN_INFO("cluster", "topic created by the cluster | topic=%s partitions=%d", name,
                    tr.partitions);
    }
    free(entries);
}
