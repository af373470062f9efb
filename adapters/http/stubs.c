/* SPDX-License-Identifier: Apache-2.0 */
/* Placeholders for routes not written yet (501). */
#include "ganglion/error.h"
#include "http.h"
#define STUB(n)                                                                                    \
    int n(http_req_t *req)                                                                         \
    {                                                                                              \
        http_respond_error(req, 501, 50101, "not implemented");                                    \
        return 0;                                                                                  \
    }
STUB(http_handle_v3_clusters)
STUB(http_handle_v3_topics_list)
STUB(http_handle_v3_topic_create)
STUB(http_handle_v3_topic_get)
STUB(http_handle_v3_topic_delete)
STUB(http_handle_v3_partitions)
STUB(http_handle_v3_configs)
STUB(http_handle_v3_records)
