/* SPDX-License-Identifier: Apache-2.0 */
/* DATA/meta.properties as a KRaft Kafka broker writes it (version=1, node.id,
 * cluster.id): created on first start, checked on every later one so a data
 * directory is never opened by the wrong node. Loop thread, at open. */
#include <errno.h>
#include <stdbool.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "broker/meta_properties.h"
#include "ganglion/error.h"
#include "ganglion/logger.h"
#include "topic/atomic_file.h"
#include "topic/uuid.h"

/* Finds "key=value" in a Java properties text; copies the value. */
static bool prop_get(const char *text, const char *key, char *out, size_t cap)
{
    size_t klen = strlen(key);
    for (const char *line = text; line && *line;
         line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        if (strncmp(line, key, klen) == 0 && line[klen] == '=') {
            const char *v = line + klen + 1;
            size_t n = strcspn(v, "\r\n");
            if (n >= cap) return false;
            memcpy(out, v, n);
            out[n] = 0;
            return true;
        }
    }
    return false;
}

int gn__meta_properties_ensure(const char *data_dir, int32_t node_id, char *cluster_id, size_t cap)
{
    char path[PATH_MAX];
    if (snprintf(path, sizeof(path), "%s/meta.properties", data_dir) >= (int)sizeof(path))
        return -ENAMETOOLONG;
    char *text = NULL;
    size_t len;
    int rc = gn__read_small_file(path, 1 << 16, &text, &len);
    if (rc == 0) {
        char version[16], node[16];
        if (!prop_get(text, "version", version, sizeof(version)) || strcmp(version, "1") != 0 ||
            !prop_get(text, "node.id", node, sizeof(node)) ||
            !prop_get(text, "cluster.id", cluster_id, cap)) {
            GN_ERROR("broker",
                     "meta.properties is not a version 1 file with node.id and "
                     "cluster.id | path=%s",
                     path);
            rc = GN_ECORRUPT;
        } else if (strtoll(node, NULL, 10) != node_id) {
            GN_ERROR("broker",
                     "data directory belongs to another node | path=%s node.id=%s "
                     "configured=%" PRId32,
                     path, node, node_id);
            rc = GN_EINVALID_CONFIG;
        }
        free(text);
        return rc;
    }
    if (rc != -ENOENT) return rc;
    uint8_t id[16];
    if ((rc = gn__uuid_random(id)) < 0) return rc;
    char b64[GN_UUID_B64_LEN + 1];
    gn__uuid_to_base64(id, b64);
    if (cap <= strlen(b64)) return GN_EINVAL;
    snprintf(cluster_id, cap, "%s", b64);
    char buf[256];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    char date[64];
    strftime(date, sizeof(date), "%a %b %d %H:%M:%S UTC %Y", &tm);
    int n = snprintf(buf, sizeof(buf), "#\n#%s\ncluster.id=%s\nnode.id=%" PRId32 "\nversion=1\n",
                     date, cluster_id, node_id);
    return gn__atomic_write(path, buf, (size_t)n);
}
