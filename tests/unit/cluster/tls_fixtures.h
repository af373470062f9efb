/* SPDX-License-Identifier: Apache-2.0 */
/* The broker-to-broker TLS context of the cluster unit tests: NAME.pem and NAME.key
 * from tests/fixtures/tls (make.sh there remakes them), signed by its ca.pem. Include
 * after cmocka.h. */
#ifndef GN_TESTS_CLUSTER_TLS_FIXTURES_H
#define GN_TESTS_CLUSTER_TLS_FIXTURES_H

#include <stdio.h>
#include <string.h>

#include "ganglion/tls.h"

static inline gn_tls_ctx_t *tu_peers_ctx(const char *name)
{
    char cert[1024], key[1024], ca[1024], err[256];
    const char *here = __FILE__;
    const char *cut = strstr(here, "tests/unit/cluster/");
    assert_non_null(cut);
    int dir = (int)(cut - here);
    snprintf(cert, sizeof cert, "%.*stests/fixtures/tls/%s.pem", dir, here, name);
    snprintf(key, sizeof key, "%.*stests/fixtures/tls/%s.key", dir, here, name);
    snprintf(ca, sizeof ca, "%.*stests/fixtures/tls/ca.pem", dir, here);
    gn_tls_config_t cfg = {.cert_file = cert, .key_file = key, .ca_file = ca, .peers = true};
    gn_tls_ctx_t *ctx = NULL;
    if (gn_tls_ctx_new(&cfg, &ctx, err, sizeof err) != 0) fail_msg("%s", err);
    return ctx;
}

#endif
