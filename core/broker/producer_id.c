/* SPDX-License-Identifier: Apache-2.0 */
/* Producer-id allocation for idempotent producers (InitProducerId), as Kafka's
 * ProducerIdManager: blocks of 1000 ids, each block recorded durably in
 * DATA/producer-id-block before its first id is handed out, so a restart never hands an
 * id out twice. One blocking small-file write per block. Loop thread only. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/broker_internal.h"
#include "cluster/cluster.h"
#include "ganglion/error.h"
#include "ganglion/logger.h"
#include "topic/atomic_file.h"

#define PRODUCER_ID_FILE  "producer-id-block"
#define PRODUCER_ID_BLOCK 1000 /* Kafka's ProducerIdsBlock size */

/* "version=0\nblock.end=<N>\n": every id below N may have been handed out. */
static int read_block_end(const char *path, int64_t *end)
{
    char *text = NULL;
    size_t len;
    int rc = gn__read_small_file(path, 4096, &text, &len);
    if (rc == -ENOENT) {
        *end = 0;
        return 0;
    }
    if (rc < 0) return rc;
    const char *p = strstr(text, "block.end=");
    char *stop = NULL;
    long long v = p ? strtoll(p + 10, &stop, 10) : -1;
    rc = (!p || stop == p + 10 || v < 0 || strncmp(text, "version=0\n", 10) != 0) ? GN_ECORRUPT : 0;
    if (rc == 0) *end = v;
    free(text);
    return rc;
}

int gn_broker_next_producer_id(gn_broker_t *broker, int64_t *id)
{
    char path[PATH_MAX], text[64];
    int rc;
    if (!broker || !id) return GN_EINVAL;
    if (snprintf(path, sizeof(path), "%s/%s", broker->data_dir, PRODUCER_ID_FILE) >=
        (int)sizeof(path))
        return -ENAMETOOLONG;
    if (!broker->producer_ids_loaded) {
        int64_t end;
        if ((rc = read_block_end(path, &end)) < 0) {
            GN_ERROR("broker", "cannot read producer id block | file=%s err=%s", path,
                     gn_strerror(rc));
            return rc;
        }
        /* the rest of the last block may have been used before the restart: skip it */
        broker->next_producer_id = broker->producer_id_block_end = end;
        broker->producer_ids_loaded = true;
    }
    if (broker->next_producer_id >= broker->producer_id_block_end) {
        if (broker->next_producer_id > INT64_MAX - PRODUCER_ID_BLOCK) return GN_EINVAL;
        int64_t end = broker->next_producer_id + PRODUCER_ID_BLOCK;
        int n = snprintf(text, sizeof(text), "version=0\nblock.end=%" PRId64 "\n", end);
        if ((rc = gn__atomic_write(path, text, (size_t)n)) < 0) {
            GN_ERROR("broker", "cannot reserve producer ids | file=%s err=%s", path,
                     gn_strerror(rc));
            return rc;
        }
        broker->producer_id_block_end = end;
        GN_DEBUG("broker", "producer id block reserved | start=%" PRId64 " end=%" PRId64,
                 broker->next_producer_id, end);
    }
    *id = broker->next_producer_id++;
    /* several brokers hand out ids: each its own residue class modulo 1024 (node ids are
     * below 1024 then), so no two brokers give the same id (blocks from the controller's
     * "producer_ids" records would not need this) */
    if (broker->cluster && gn__cluster_voter_count(broker->cluster) > 1)
        *id = *id * 1024 + (broker->cfg.node_id & 1023);
    return 0;
}
