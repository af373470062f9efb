/* SPDX-License-Identifier: Apache-2.0 */
/* Reading back the HTTP adapter's internal topics at start-up and as they change
 * (__rest_consumers, __connect_configs, __connect_offsets: one partition each): the
 * records of partition 0 from a position up to the high watermark, control batches
 * skipped. Loop thread only. */
#include <stdlib.h>

#include "ganglion/error.h"
#include "ganglion/partition.h"
#include "ganglion/record.h"
#include "http.h"

/* The records of one buffer of whole batches at offsets >= *next and < hw. */
static void each_record(const uint8_t *buf, size_t len, int64_t *next, int64_t hw,
                        http_record_cb each, void *arg)
{
    size_t pos = 0;
    while (pos < len) {
        gn_batch_header_t hdr;
        int64_t size = gn_batch_peek(buf + pos, len - pos, &hdr);
        if (size <= 0) break;
        int64_t last = gn_batch_last_offset(&hdr);
        if (last >= *next && !(hdr.attributes & GN_ATTR_CONTROL)) {
            gn_record_iter_t it;
            if (gn_record_iter_init(&it, buf + pos, (size_t)size) == 0) {
                gn_record_t rec;
                while (gn_record_iter_next(&it, &rec) == 1)
                    if (rec.offset >= *next && rec.offset < hw) each(arg, rec.key, rec.value);
                gn_record_iter_close(&it);
            }
        }
        if (last + 1 > *next) *next = last + 1 < hw ? last + 1 : hw;
        pos += (size_t)size;
    }
}

int http__topic_scan(gn_broker_t *broker, const char *topic, int64_t *next, http_record_cb each,
                     void *arg)
{
    gn_partition_t *part = gn_partition_get(broker, topic, 0);
    if (!part) return 0;
    int64_t start = gn_partition_log_start_offset(part), hw = gn_partition_high_watermark(part);
    if (*next < start) *next = start;
    while (*next < hw) {
        gn_read_result_t res;
        int rc = gn_partition_read(part, *next, 1u << 20, &res);
        if (rc < 0) return rc;
        if (res.slice.len <= 0) {
            gn_log_slice_release(&res.slice);
            break;
        }
        size_t len = (size_t)res.slice.len;
        uint8_t *buf = malloc(len);
        if (!buf || gn_log_slice_read(&res.slice, buf) < 0) {
            gn_log_slice_release(&res.slice);
            free(buf);
            return GN_ENOMEM;
        }
        gn_log_slice_release(&res.slice);
        int64_t before = *next;
        each_record(buf, len, next, hw, each, arg);
        free(buf);
        if (*next == before) break;
    }
    return 0;
}
