/* SPDX-License-Identifier: Apache-2.0 */
/* The authorizer's decision table (core/acl/authorizer.c) as Kafka's StandardAuthorizer
 * decides: DENY over ALLOW, ALL, the implied DESCRIBE and DESCRIBE_CONFIGS, LITERAL,
 * "*" and PREFIXED patterns, principal and host wildcards, super.users,
 * allow.everyone.if.no.acl.found; and "acl" records applied to an image (records.c),
 * filters (binding.c) and the checks a binding passes before it is stored. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "acl/acl_internal.h"
#include "ganglion/error.h"

#define T     GN_ACL_RESOURCE_TOPIC
#define G     GN_ACL_RESOURCE_GROUP
#define C     GN_ACL_RESOURCE_CLUSTER
#define LIT   GN_ACL_PATTERN_LITERAL
#define PRE   GN_ACL_PATTERN_PREFIXED
#define ALLOW GN_ACL_PERMISSION_ALLOW
#define DENY  GN_ACL_PERMISSION_DENY

static json_t *image;

static void put(gn_acl_resource_type_t type, gn_acl_pattern_t pattern, const char *name,
                const char *principal, const char *host, gn_acl_op_t op, gn_acl_permission_t perm)
{
    gn_acl_binding_t b = {type, pattern, name, principal, host, op, perm};
    json_t *rec = json_pack("{s:s, s:s, s:[o]}", "type", "acl", "op", "create", "acls",
                            gn__acl_binding_json(&b));
    assert_int_equal(gn__acl_image_apply(image, rec), 0);
    json_decref(rec);
}

static gn_acl_t *authorizer(bool allow_if_no_acl, const char *super_users)
{
    gn__acl_config_t cfg = {
        .enabled = true, .super_users = super_users, .allow_if_no_acl = allow_if_no_acl};
    gn_acl_t *acl;
    assert_int_equal(gn__acl_new(&cfg, NULL, &acl), 0);
    assert_int_equal(gn__acl_load(acl, json_object_get(image, "acls")), 0);
    return acl;
}

static bool may(gn_acl_t *acl, const char *who, gn_acl_op_t op, gn_acl_resource_type_t type,
                const char *name)
{
    return gn_acl_authorize(acl, who, "10.0.0.1", op, type, name);
}

static int setup(void **state)
{
    (void)state;
    image = json_object();
    return image ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    json_decref(image);
    return 0;
}

static void test_authorizer__disabled_allows_everything(void **state)
{
    (void)state;
    gn__acl_config_t cfg = {.enabled = false, .allow_if_no_acl = false};
    gn_acl_t *acl;
    put(T, LIT, "t", "User:alice", "*", GN_ACL_OP_ALL, DENY);
    assert_int_equal(gn__acl_new(&cfg, NULL, &acl), 0);
    assert_int_equal(gn__acl_load(acl, json_object_get(image, "acls")), 0);
    assert_true(may(acl, "User:alice", GN_ACL_OP_WRITE, T, "t"));
    assert_true(gn_acl_authorize(NULL, "User:x", "h", GN_ACL_OP_WRITE, T, "t"));
    gn__acl_free(acl);
}

static void test_authorizer__no_acl_found_follows_the_config(void **state)
{
    (void)state;
    put(T, LIT, "guarded", "User:alice", "*", GN_ACL_OP_READ, ALLOW);
    gn_acl_t *open = authorizer(true, NULL), *closed = authorizer(false, NULL);
    assert_true(may(open, "User:bob", GN_ACL_OP_WRITE, T, "free"));
    assert_false(may(closed, "User:bob", GN_ACL_OP_WRITE, T, "free"));
    /* the resource has an ACL (for someone else): no default for bob */
    assert_false(may(open, "User:bob", GN_ACL_OP_READ, T, "guarded"));
    assert_true(may(open, "User:alice", GN_ACL_OP_READ, T, "guarded"));
    assert_false(may(open, "User:alice", GN_ACL_OP_WRITE, T, "guarded"));
    gn__acl_free(open);
    gn__acl_free(closed);
}

static void test_authorizer__deny_wins_over_allow(void **state)
{
    (void)state;
    put(T, LIT, "*", "User:*", "*", GN_ACL_OP_ALL, ALLOW);
    put(T, LIT, "secret", "User:bob", "*", GN_ACL_OP_READ, DENY);
    gn_acl_t *acl = authorizer(false, NULL);
    assert_false(may(acl, "User:bob", GN_ACL_OP_READ, T, "secret"));
    /* a DENY of READ denies READ only: DESCRIBE is still allowed through ALL */
    assert_true(may(acl, "User:bob", GN_ACL_OP_DESCRIBE, T, "secret"));
    assert_true(may(acl, "User:bob", GN_ACL_OP_WRITE, T, "secret"));
    assert_true(may(acl, "User:alice", GN_ACL_OP_READ, T, "secret"));
    gn__acl_free(acl);
    put(T, PRE, "sec", "User:*", "*", GN_ACL_OP_ALL, DENY);
    acl = authorizer(false, NULL);
    assert_false(may(acl, "User:alice", GN_ACL_OP_DESCRIBE, T, "secret"));
    assert_true(may(acl, "User:alice", GN_ACL_OP_READ, T, "public"));
    gn__acl_free(acl);
}

static void test_authorizer__implied_operations(void **state)
{
    (void)state;
    put(T, LIT, "r", "User:u", "*", GN_ACL_OP_READ, ALLOW);
    put(T, LIT, "w", "User:u", "*", GN_ACL_OP_WRITE, ALLOW);
    put(T, LIT, "d", "User:u", "*", GN_ACL_OP_DELETE, ALLOW);
    put(T, LIT, "a", "User:u", "*", GN_ACL_OP_ALTER, ALLOW);
    put(T, LIT, "ac", "User:u", "*", GN_ACL_OP_ALTER_CONFIGS, ALLOW);
    put(T, LIT, "c", "User:u", "*", GN_ACL_OP_CREATE, ALLOW);
    put(T, LIT, "all", "User:u", "*", GN_ACL_OP_ALL, ALLOW);
    gn_acl_t *acl = authorizer(false, NULL);
    const char *describers[] = {"r", "w", "d", "a", "all"};
    for (size_t i = 0; i < 5; i++)
        assert_true(may(acl, "User:u", GN_ACL_OP_DESCRIBE, T, describers[i]));
    assert_false(may(acl, "User:u", GN_ACL_OP_DESCRIBE, T, "c"));
    assert_false(may(acl, "User:u", GN_ACL_OP_DESCRIBE, T, "ac"));
    assert_true(may(acl, "User:u", GN_ACL_OP_DESCRIBE_CONFIGS, T, "ac"));
    assert_false(may(acl, "User:u", GN_ACL_OP_DESCRIBE_CONFIGS, T, "w"));
    assert_false(may(acl, "User:u", GN_ACL_OP_WRITE, T, "r"));
    assert_false(may(acl, "User:u", GN_ACL_OP_READ, T, "w"));
    const gn_acl_op_t every[] = {GN_ACL_OP_READ,
                                 GN_ACL_OP_WRITE,
                                 GN_ACL_OP_CREATE,
                                 GN_ACL_OP_DELETE,
                                 GN_ACL_OP_ALTER,
                                 GN_ACL_OP_DESCRIBE,
                                 GN_ACL_OP_DESCRIBE_CONFIGS,
                                 GN_ACL_OP_ALTER_CONFIGS,
                                 GN_ACL_OP_IDEMPOTENT_WRITE};
    for (size_t i = 0; i < sizeof every / sizeof every[0]; i++)
        assert_true(may(acl, "User:u", every[i], T, "all"));
    gn__acl_free(acl);
}

static void test_authorizer__patterns_principals_hosts(void **state)
{
    (void)state;
    put(T, PRE, "logs.", "User:*", "*", GN_ACL_OP_READ, ALLOW);
    put(G, LIT, "*", "User:carol", "*", GN_ACL_OP_READ, ALLOW);
    put(T, LIT, "onhost", "User:carol", "10.0.0.2", GN_ACL_OP_WRITE, ALLOW);
    gn_acl_t *acl = authorizer(false, NULL);
    assert_true(may(acl, "User:anyone", GN_ACL_OP_READ, T, "logs.app"));
    assert_false(may(acl, "User:anyone", GN_ACL_OP_READ, T, "logs"));
    assert_false(may(acl, "User:anyone", GN_ACL_OP_READ, T, "xlogs.app"));
    assert_true(may(acl, "User:carol", GN_ACL_OP_READ, G, "any-group"));
    assert_false(may(acl, "User:dave", GN_ACL_OP_READ, G, "any-group"));
    /* the resource type must match: a GROUP "*" says nothing about topics */
    assert_false(may(acl, "User:carol", GN_ACL_OP_READ, T, "any-group"));
    assert_false(may(acl, "User:carol", GN_ACL_OP_WRITE, T, "onhost")); /* from 10.0.0.1 */
    assert_true(gn_acl_authorize(acl, "User:carol", "10.0.0.2", GN_ACL_OP_WRITE, T, "onhost"));
    assert_false(may(acl, GN_ACL_ANONYMOUS, GN_ACL_OP_READ, G, "g"));
    gn__acl_free(acl);
}

static void test_authorizer__super_users_bypass(void **state)
{
    (void)state;
    put(C, LIT, GN_ACL_CLUSTER_NAME, "User:*", "*", GN_ACL_OP_ALL, DENY);
    gn_acl_t *acl = authorizer(false, " User:admin ; User:CN=ops,O=acme");
    assert_true(may(acl, "User:admin", GN_ACL_OP_ALTER, C, GN_ACL_CLUSTER_NAME));
    assert_true(may(acl, "User:CN=ops,O=acme", GN_ACL_OP_WRITE, T, "x"));
    assert_false(may(acl, "User:adm", GN_ACL_OP_ALTER, C, GN_ACL_CLUSTER_NAME));
    gn__acl_free(acl);
    gn__acl_config_t bad = {.enabled = true, .super_users = "admin"};
    assert_int_equal(gn__acl_new(&bad, NULL, &acl), GN_EINVALID_CONFIG);
}

static void test_authorizer__any_and_all_of_a_type(void **state)
{
    (void)state;
    gn_acl_t *acl = authorizer(true, "User:admin");
    /* no topic ACLs at all: everything, with allow.everyone.if.no.acl.found */
    assert_true(gn_acl_allowed_all(acl, "User:u", "h", GN_ACL_OP_READ, T));
    gn__acl_free(acl);
    put(T, PRE, "app.", "User:u", "*", GN_ACL_OP_WRITE, ALLOW);
    put(T, LIT, "*", "User:reader", "*", GN_ACL_OP_READ, ALLOW);
    put(T, LIT, "secret", "User:reader2", "*", GN_ACL_OP_READ, DENY);
    put(T, LIT, "*", "User:reader2", "*", GN_ACL_OP_READ, ALLOW);
    acl = authorizer(true, "User:admin");
    assert_true(gn_acl_allowed_any(acl, "User:u", "h", GN_ACL_OP_WRITE, T));
    assert_false(gn_acl_allowed_any(acl, "User:v", "h", GN_ACL_OP_WRITE, T));
    assert_false(gn_acl_allowed_all(acl, "User:u", "h", GN_ACL_OP_READ, T));
    assert_true(gn_acl_allowed_all(acl, "User:reader", "h", GN_ACL_OP_READ, T));
    assert_false(gn_acl_allowed_all(acl, "User:reader2", "h", GN_ACL_OP_READ, T));
    assert_true(gn_acl_allowed_all(acl, "User:admin", "h", GN_ACL_OP_READ, T));
    gn__acl_free(acl);
}

static void test_records__create_is_idempotent_and_delete_removes(void **state)
{
    (void)state;
    put(T, LIT, "t", "User:a", "*", GN_ACL_OP_READ, ALLOW);
    put(T, LIT, "t", "User:a", "*", GN_ACL_OP_READ, ALLOW);
    put(T, LIT, "t", "User:b", "*", GN_ACL_OP_READ, ALLOW);
    assert_int_equal(json_array_size(json_object_get(image, "acls")), 2);
    gn_acl_binding_t b = {T, LIT, "t", "User:a", "*", GN_ACL_OP_READ, ALLOW};
    json_t *rec = json_pack("{s:s, s:s, s:[o]}", "type", "acl", "op", "delete", "acls",
                            gn__acl_binding_json(&b));
    assert_int_equal(gn__acl_image_apply(image, rec), 0);
    assert_int_equal(gn__acl_image_apply(image, rec), 0); /* gone already: nothing */
    json_decref(rec);
    assert_int_equal(json_array_size(json_object_get(image, "acls")), 1);
    /* a malformed binding refuses the whole record */
    rec = json_pack("{s:s, s:s, s:[{s:s}]}", "type", "acl", "op", "create", "acls", "name", "x");
    assert_int_equal(gn__acl_image_apply(image, rec), GN_EINVAL);
    json_decref(rec);
    assert_int_equal(json_array_size(json_object_get(image, "acls")), 1);
}

static void test_binding__check_and_filters(void **state)
{
    (void)state;
    const char *why = NULL;
    gn_acl_binding_t ok = {T, PRE, "app.", "User:a", "*", GN_ACL_OP_WRITE, ALLOW};
    assert_int_equal(gn_acl_binding_check(&ok, &why), 0);
    gn_acl_binding_t bad = ok;
    bad.pattern = GN_ACL_PATTERN_MATCH;
    assert_int_equal(gn_acl_binding_check(&bad, &why), GN_EINVALID_REQUEST);
    bad = ok;
    bad.principal = "alice";
    assert_int_equal(gn_acl_binding_check(&bad, &why), GN_EINVALID_REQUEST);
    bad = ok;
    bad.op = GN_ACL_OP_ANY;
    assert_int_equal(gn_acl_binding_check(&bad, &why), GN_EINVALID_REQUEST);
    bad = (gn_acl_binding_t){C, LIT, "other", "User:a", "*", GN_ACL_OP_ALTER, ALLOW};
    assert_int_equal(gn_acl_binding_check(&bad, &why), GN_EINVALID_REQUEST);

    gn_acl_binding_t any = {GN_ACL_RESOURCE_ANY, GN_ACL_PATTERN_ANY,   NULL, NULL, NULL,
                            GN_ACL_OP_ANY,       GN_ACL_PERMISSION_ANY};
    assert_true(gn_acl_filter_matches(&any, &ok));
    gn_acl_binding_t match = any;
    match.pattern = GN_ACL_PATTERN_MATCH;
    match.name = "app.orders";
    assert_true(gn_acl_filter_matches(&match, &ok));
    match.name = "other";
    assert_false(gn_acl_filter_matches(&match, &ok));
    gn_acl_binding_t lit = any;
    lit.pattern = LIT;
    assert_false(gn_acl_filter_matches(&lit, &ok));
    lit.pattern = PRE;
    lit.principal = "User:b";
    assert_false(gn_acl_filter_matches(&lit, &ok));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_authorizer__disabled_allows_everything, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_authorizer__no_acl_found_follows_the_config, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_authorizer__deny_wins_over_allow, setup, teardown),
        cmocka_unit_test_setup_teardown(test_authorizer__implied_operations, setup, teardown),
        cmocka_unit_test_setup_teardown(test_authorizer__patterns_principals_hosts, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_authorizer__super_users_bypass, setup, teardown),
        cmocka_unit_test_setup_teardown(test_authorizer__any_and_all_of_a_type, setup, teardown),
        cmocka_unit_test_setup_teardown(test_records__create_is_idempotent_and_delete_removes,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_binding__check_and_filters, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
