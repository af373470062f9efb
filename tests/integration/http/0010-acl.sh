#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The HTTP adapter under the ACLs (authorizer.enabled, http.auth=basic), bindings made
# through Kafka's CreateAcls (librdkafka, rdkafka_acls): alice may WRITE and READ orders
# and READ group g1; secret is the admin's. curl: produce (v2, v3) 403 {"error_code":40301}
# where WRITE is missing, GET /topics lists only what the user may DESCRIBE, SSE and
# consumer instances need READ on the topic and the group, Connect's API needs ALTER on
# the cluster (DESCRIBE to list; librdkafka names the CLUSTER type BROKER); Node ws: a subscribe to secret is "not_authorized"; a
# TLS client certificate is the principal User:CN=test-client. Refusals are logged by
# the authorizer. Ports 28450 (HTTP), 28451 (Kafka), 28452 (HTTPS).
set -euo pipefail
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/../tls_certs.bash"
HERE="$(cd "$(dirname "$0")" && pwd)"
ACLS="$GN_BUILD_DIR/tests/integration/kafka/rdkafka_acls"
[ -x "$ACLS" ] || fail "$ACLS not built (librdkafka-dev missing?)"
make_tls_certs "$WORK/certs" || fail "making certificates"
USERS="$WORK/users"
for u in admin alice bob; do
    "$GN_BUILD_DIR/ganglion-users" --file="$USERS" add "$u" --password="pw-$u" >/dev/null ||
        fail "add $u"
done
start_broker 28450 --http.auth=basic --auth.users.file="$USERS" --authorizer.enabled=true \
    --super.users=User:admin --kafka.host=127.0.0.1 --kafka.port=28451 --kafka.tls.port=0 \
    --mqtt.tls.port=0 --http.tls.port=28452 --tls.cert.file="$WORK/certs/server.pem" \
    --tls.key.file="$WORK/certs/server.key" --tls.ca.file="$WORK/certs/ca.pem" \
    --ssl.client.auth=required
acl() { timeout 20 "$ACLS" 127.0.0.1:28451 admin pw-admin add "$@" >/dev/null || fail "CreateAcls $*"; }
acl TOPIC orders LITERAL User:alice WRITE ALLOW
acl TOPIC orders LITERAL User:alice READ ALLOW
acl TOPIC orders LITERAL User:CN=test-client WRITE ALLOW
acl GROUP g1 LITERAL User:alice READ ALLOW
acl TOPIC secret LITERAL User:admin ALL ALLOW
acl BROKER kafka-cluster LITERAL User:ops ALTER ALLOW

J='Content-Type: application/vnd.kafka.json.v2+json'
V2='Content-Type: application/vnd.kafka.v2+json'
rec='{"records":[{"value":{"n":1}}]}'
as() { local u=$1; shift; c -u "$u:pw-$u" "$@"; }
code() { local u=$1; shift; as "$u" -o /dev/null -w '%{http_code}' "$@"; }

expect_eq "admin produces to secret" "$(code admin -H "$J" -d "$rec" "$URL/topics/secret")" 200
expect_eq "alice produces to orders" "$(code alice -H "$J" -d "$rec" "$URL/topics/orders")" 200
out=$(as bob -w ' %{http_code}' -H "$J" -d "$rec" "$URL/topics/orders")
[[ $out == '{"error_code":40301,"message":"Not authorized: User:bob may not WRITE TOPIC orders"} 403' ]] ||
    fail "bob's produce: $out"
expect_eq "alice to secret/partitions/0" \
    "$(code alice -H "$J" -d "$rec" "$URL/topics/secret/partitions/0")" 403
expect_eq "v3 records to secret" "$(code alice -H 'Content-Type: application/json' \
    -d '{"value":{"type":"JSON","data":1}}' "$URL/v3/clusters/x/topics/secret/records")" 403
expect_eq "alice's topic list" "$(as alice "$URL/topics" | jq -c .)" '["orders"]'
expect_eq "admin's topic list" "$(as admin "$URL/topics" | jq -c 'sort')" '["orders","secret"]'
expect_eq "alice GET /topics/secret" "$(code alice "$URL/topics/secret")" 403
expect_eq "alice SSE on orders" "$(code alice --max-time 1 "$URL/topics/orders/events" || true)" 200
expect_eq "bob SSE on orders" "$(code bob "$URL/topics/orders/events")" 403
# consumer instances: READ on the group, READ on each topic subscribed
expect_eq "bob joins g1" "$(code bob -H "$V2" -d '{"name":"b"}' "$URL/consumers/g1")" 403
expect_eq "alice joins g1" "$(code alice -H "$V2" -d '{"name":"a"}' "$URL/consumers/g1")" 200
I=/consumers/g1/instances/a
expect_eq "alice subscribes to secret" \
    "$(code alice -H "$V2" -d '{"topics":["secret"]}' "$URL$I/subscription")" 403
expect_eq "alice subscribes to a pattern" \
    "$(code alice -H "$V2" -d '{"topic_pattern":"ord.*"}' "$URL$I/subscription")" 403
expect_eq "alice subscribes to orders" \
    "$(code alice -H "$V2" -d '{"topics":["orders"]}' "$URL$I/subscription")" 204
# Connect: the cluster has a binding (for User:ops), so DESCRIBE and ALTER need one
expect_eq "alice lists connectors" "$(code alice "$URL/connectors")" 403
expect_eq "alice creates a connector" "$(code alice -H 'Content-Type: application/json' \
    -d '{"name":"x","config":{}}' "$URL/connectors")" 403
expect_eq "admin lists connectors" "$(code admin "$URL/connectors")" 200
# the client certificate's subject is the principal on the TLS port
TLSC=(--cacert "$WORK/certs/ca.pem" --cert "$WORK/certs/client.pem" --key "$WORK/certs/client.key")
expect_eq "certificate produces to orders" "$(c "${TLSC[@]}" -o /dev/null -w '%{http_code}' \
    -H "$J" -d "$rec" https://127.0.0.1:28452/topics/orders)" 200
expect_eq "certificate produces to secret" "$(c "${TLSC[@]}" -o /dev/null -w '%{http_code}' \
    -H "$J" -d "$rec" https://127.0.0.1:28452/topics/secret)" 403

source "$HERE/../../node_modules.bash"
need_node_modules "$HERE/../.." ws || fail "cannot install the Node clients (npm ci --prefix tests)"
acl TOPIC wsauth LITERAL User:alice WRITE ALLOW
timeout 20 node "$HERE/ws_auth.mjs" "$URL" alice pw-alice secret || fail "WebSocket clients"

grep -q 'mod=acl msg="authorization denied" principal="User:bob".*operation=WRITE resource_type=TOPIC resource="orders"' \
    "$LOG" || fail "no log line for bob's produce"
grep -q 'principal="User:CN=test-client".*operation=WRITE resource_type=TOPIC resource="secret"' \
    "$LOG" || fail "no log line for the certificate's produce"
stop_broker
echo PASS
