/* SPDX-License-Identifier: Apache-2.0 */
/* ACL changes as records of the cluster metadata log: gn_acl_create/gn_acl_delete
 * propose them to the controller (forwarded from any broker, core/cluster), and every
 * broker applies them to the "acls" array of its metadata image, so that ACLs replicate
 * and survive restarts. Loop thread only. */
#include <string.h>

#include "acl/acl_internal.h"
#include "broker/broker_internal.h"
#include "cluster/cluster.h"
#include "ganglion/error.h"

static long find(const json_t *acls, const gn_acl_binding_t *b)
{
    size_t i;
    const json_t *j;
    json_array_foreach(acls, i, j)
    {
        gn_acl_binding_t have;
        if (gn__acl_binding_from_json(j, &have) == 0 && gn__acl_binding_equal(&have, b))
            return (long)i;
    }
    return -1;
}

int gn__acl_image_apply(json_t *image, const json_t *record)
{
    const char *op = json_string_value(json_object_get(record, "op"));
    const json_t *list = json_object_get(record, "acls");
    size_t i;
    const json_t *j;
    gn_acl_binding_t b;
    bool create = op && strcmp(op, "create") == 0;
    if (!op || (!create && strcmp(op, "delete") != 0) || !json_is_array(list)) return GN_EINVAL;
    json_array_foreach(list, i, j) if (gn__acl_binding_from_json(j, &b) < 0) return GN_EINVAL;
    json_t *acls = json_object_get(image, "acls");
    if (!acls) {
        if (!create) return 0;
        if (json_object_set_new(image, "acls", acls = json_array()) < 0) return GN_ENOMEM;
    }
    json_array_foreach(list, i, j)
    {
        gn__acl_binding_from_json(j, &b);
        long at = find(acls, &b);
        if (create && at < 0 && json_array_append_new(acls, gn__acl_binding_json(&b)) < 0)
            return GN_ENOMEM;
        if (!create && at >= 0) json_array_remove(acls, (size_t)at);
    }
    return 0;
}

static int propose(gn_broker_t *broker, const char *op, const gn_acl_binding_t *bindings, size_t n,
                   gn_acl_admin_cb cb, void *arg)
{
    if (!broker || !broker->cluster || (n && !bindings)) return GN_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (gn_acl_binding_check(&bindings[i], NULL) < 0) return GN_EINVALID_REQUEST;
    json_t *list = json_array();
    json_t *rec = json_pack("{s:s, s:s, s:o}", "type", "acl", "op", op, "acls", list);
    int rc = rec ? 0 : GN_ENOMEM;
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (json_array_append_new(list, gn__acl_binding_json(&bindings[i])) < 0) rc = GN_ENOMEM;
    if (rc == 0) rc = gn__cluster_propose(broker->cluster, rec, cb, arg);
    json_decref(rec);
    return rc;
}

int gn_acl_create(gn_broker_t *broker, const gn_acl_binding_t *bindings, size_t n,
                  gn_acl_admin_cb cb, void *arg)
{
    return propose(broker, "create", bindings, n, cb, arg);
}

int gn_acl_delete(gn_broker_t *broker, const gn_acl_binding_t *bindings, size_t n,
                  gn_acl_admin_cb cb, void *arg)
{
    return propose(broker, "delete", bindings, n, cb, arg);
}
