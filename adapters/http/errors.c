/* SPDX-License-Identifier: Apache-2.0 */
/* The HTTP edge of the error enum: one function from gn errors to HTTP status, and
 * the REST Proxy's error_code (status * 100 + n: 40401 topic not found, 40402
 * partition not found, 42201..42205 invalid input, 50002 Kafka error ...). Pure. */
#include "ganglion/error.h"
#include "http.h"

int http_status_from_gn(int err)
{
    switch (err) {
    case 0:
        return 200;
    case GN_EUNKNOWN_TOPIC:
    case GN_EGROUP_ID_NOT_FOUND:
    case GN_EUNKNOWN_MEMBER:
    case -ENOENT:
        return 404;
    case GN_ETOPIC_EXISTS:
    case GN_EGROUP_NOT_EMPTY:
    case GN_EREBALANCE_IN_PROGRESS:
        return 409;
    case GN_EINVALID_TOPIC:
    case GN_EINVALID_PARTITIONS:
    case GN_EINVALID_REPLICATION:
    case GN_EINVALID_CONFIG:
    case GN_EINVALID_RECORD:
    case GN_EINVALID_TIMESTAMP:
    case GN_EINVALID_REQUEST:
    case GN_EINVALID_GROUP_ID:
    case GN_EINVALID_SESSION_TIMEOUT:
    case GN_EOFFSET_METADATA_TOO_LARGE:
    case GN_EUNSUPPORTED_COMPRESSION:
    case GN_EINVAL:
        return 422;
    case GN_EOFFSETRANGE:
        return 416;
    case GN_ETOOLARGE:
        return 413;
    case GN_EPOLICY:
        return 403;
    case GN_EAUTH:
        return 401;
    case GN_ETHROTTLED:
        return 429;
    case GN_ETIMEOUT:
        return 504;
    case GN_ENOTLEADER:
    case GN_ENOT_ENOUGH_REPLICAS:
    case GN_ESHUTDOWN:
    case GN_ECOORDINATOR_LOADING:
    case GN_ECOORDINATOR_NOT_AVAILABLE:
    case GN_ENOT_COORDINATOR:
    case GN_ETOPIC_DELETION:
        return 503;
    default:
        return 500;
    }
}

int http_rest_code_from_gn(int err)
{
    switch (err) {
    case GN_EUNKNOWN_TOPIC:
        return 40401; /* Topic not found (the REST Proxy's code) */
    case GN_EGROUP_ID_NOT_FOUND:
    case GN_EUNKNOWN_MEMBER:
        return 40403; /* Consumer instance not found */
    case GN_ETOPIC_EXISTS:
        return 40902;
    case GN_EINVALID_RECORD:
    case GN_EINVALID_TIMESTAMP:
        return 42201;
    case GN_EOFFSETRANGE:
        return 41601;
    case GN_ETOOLARGE:
        return 41301;
    case GN_ENOTLEADER:
    case GN_ENOT_ENOUGH_REPLICAS:
    case GN_ESTORAGE:
        return 50002; /* Kafka error */
    default: {
        int status = http_status_from_gn(err);
        return status * 100 + 1;
    }
    }
}
