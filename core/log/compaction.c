/* SPDX-License-Identifier: Apache-2.0 */
/* placeholder */
#include "ganglion/error.h"
#include "log/log_impl.h"

bool gn__compact_detach(gn_log_t *log, const char *rm_dir)
{
    return false;
}
int gn_log_compact(gn_log_t *log, int64_t now_ms, gn_log_compact_cb cb, void *arg)
{
    return GN_EAGAIN;
}
double gn_log_dirty_ratio(const gn_log_t *log)
{
    return 0;
}
