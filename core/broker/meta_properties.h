/* SPDX-License-Identifier: Apache-2.0 */
/* DATA/meta.properties (Kafka KRaft format: version=1, node.id, cluster.id). */
#ifndef GN_CORE_BROKER_META_PROPERTIES_H
#define GN_CORE_BROKER_META_PROPERTIES_H

#include <stddef.h>
#include <stdint.h>

/* Creates the file with a new cluster id, or reads and checks it (node.id must match:
 * GN_EINVALID_CONFIG; unreadable: GN_ECORRUPT). cluster_id receives the id. */
int gn__meta_properties_ensure(const char *data_dir, int32_t node_id, char *cluster_id, size_t cap);

#endif
