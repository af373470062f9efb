#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Authorization (core/acl) with real clients, three SASL users: admin (super.users),
# alice and bob; allow.everyone.if.no.acl.found=false. librdkafka's Admin API
# (rdkafka_acls.c) creates bindings (an invalid one refused), describes them, and is
# refused CLUSTER_AUTHORIZATION_FAILED as bob; kcat as alice produces and consumes
# "orders" (WRITE/READ), consumes in group app-1 (PREFIXED "app-"), is refused group
# other-1; kcat as bob is refused TOPIC_AUTHORIZATION_FAILED and does not see the topic
# in Metadata; a refusal writes a log line; DeleteAcls removes alice's WRITE, which then
# fails; the bindings survive a restart; on the TLS listener a client certificate is the
# principal User:CN=test-client; without authorizer.enabled the ACL APIs answer
# SECURITY_DISABLED. Ports 29520, 29522 (TLS).
set -euo pipefail
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/../tls_certs.bash"
BIN="$GN_BUILD_DIR/tests/integration/kafka/rdkafka_acls"
[[ -x "$BIN" ]] || fail "$BIN not built (librdkafka-dev missing?)"
USERS="$WORK/users"
for u in admin alice bob; do
    "$GANGLION-users" --file="$USERS" add "$u" --password="pw-$u" >/dev/null || fail "add $u"
done
AUTHZ=(--auth.users.file="$USERS" --authorizer.enabled=true --super.users="User:admin"
    --allow.everyone.if.no.acl.found=false --group.initial.rebalance.delay.ms=0)
start_broker 29520 "${AUTHZ[@]}"

# as USER: kcat with SASL/PLAIN
as() {
    local user=$1
    shift
    kc -X security.protocol=SASL_PLAINTEXT -X sasl.mechanisms=PLAIN -X sasl.username="$user" \
        -X sasl.password="pw-$user" "$@"
}
acls() { timeout 30 "$BIN" "$BROKER" "$1" "pw-$1" "${@:2}"; }

echo first | as admin -P -t orders -p 0 || fail "super user cannot produce"
acls admin create >"$WORK/acls" || fail "rdkafka_acls create"
grep -q "^TOPIC orders LITERAL User:alice \* WRITE ALLOW$" "$WORK/acls" ||
    fail "DescribeAcls: $(cat "$WORK/acls")"
acls bob denied || fail "bob's CreateAcls was not refused"

echo from-alice | as alice -P -t orders -p 0 || fail "alice cannot produce"
as alice -C -t orders -p 0 -o beginning -e -q -f '%s\n' >"$WORK/got" || fail "alice cannot consume"
[[ "$(cat "$WORK/got")" == $'first\nfrom-alice' ]] || fail "alice read: $(cat "$WORK/got")"
out=$(echo from-bob | as bob -P -t orders -p 0 -X message.timeout.ms=3000 2>&1) &&
    fail "bob could produce"
grep -qi "topic authorization failed" <<<"$out" || fail "bob's produce error: $out"
grep -q 'mod=acl msg="authorization denied" principal="User:bob".*resource_type=TOPIC resource="orders"' \
    "$LOG" || fail "no refusal log line"
as bob -C -t orders -p 0 -o beginning -e -q 2>"$WORK/err" && fail "bob could consume"
grep -qi "authorization" "$WORK/err" || fail "bob's consume error: $(cat "$WORK/err")"
as alice -L -t orders | grep -q 'topic "orders"' || fail "alice does not see orders"
as bob -L | grep -q 'topic "orders"' && fail "bob sees orders in Metadata"

# groups: READ on app-* for alice only
timeout 15 kcat -b "$BROKER" -X security.protocol=SASL_PLAINTEXT -X sasl.mechanisms=PLAIN \
    -X sasl.username=alice -X sasl.password=pw-alice -G app-1 -o beginning -e -q -f '%s\n' \
    orders >"$WORK/got" 2>"$WORK/err" || fail "alice in group app-1: $(cat "$WORK/err")"
grep -q from-alice "$WORK/got" || fail "group app-1 read: $(cat "$WORK/got")"
timeout 8 kcat -b "$BROKER" -X security.protocol=SASL_PLAINTEXT -X sasl.mechanisms=PLAIN \
    -X sasl.username=alice -X sasl.password=pw-alice -G other-1 -o beginning -e -q \
    orders >"$WORK/got" 2>"$WORK/err" || true
[[ ! -s "$WORK/got" ]] || fail "alice read in group other-1"
grep -qi "group authorization failed" "$WORK/err" || fail "group other-1 error: $(cat "$WORK/err")"

acls admin delete >/dev/null || fail "rdkafka_acls delete"
out=$(echo again | as alice -P -t orders -p 0 -X message.timeout.ms=3000 2>&1) &&
    fail "alice could produce after her WRITE was deleted"

stop_ganglion
start_broker 29520 "${AUTHZ[@]}"
acls admin count 3 >/dev/null || fail "the bindings did not survive a restart"
as alice -C -t orders -p 0 -o beginning -e -q >/dev/null || fail "alice's READ after restart"
stop_ganglion

# TLS client certificates: the subject DN is the principal
make_tls_certs "$WORK/certs" || fail "making certificates"
start_broker 29520 "${AUTHZ[@]}" --kafka.tls.port=29522 --tls.cert.file="$WORK/certs/server.pem" \
    --tls.key.file="$WORK/certs/server.key" --tls.ca.file="$WORK/certs/ca.pem" \
    --ssl.client.auth=required
echo first | as admin -P -t certs -p 0 || fail "super user cannot produce to certs"
acls admin add TOPIC certs LITERAL "User:CN=test-client" WRITE ALLOW >/dev/null ||
    fail "CreateAcls for the certificate"
cert() {
    timeout 30 kcat -b 127.0.0.1:29522 -X security.protocol=ssl \
        -X ssl.ca.location="$WORK/certs/ca.pem" -X ssl.certificate.location="$WORK/certs/client.pem" \
        -X ssl.key.location="$WORK/certs/client.key" -X message.timeout.ms=3000 "$@"
}
echo by-cert | cert -P -t certs -p 0 || fail "the certificate's WRITE on certs"
out=$(echo by-cert | cert -P -t orders -p 0 2>&1) && fail "the certificate could write orders"
grep -qi "topic authorization failed" <<<"$out" || fail "certificate on orders: $out"
grep -q 'principal="User:CN=test-client".*resource="orders"' "$LOG" ||
    fail "no refusal line naming the certificate"
stop_ganglion

start_broker 29520 --auth.users.file="$USERS"
acls alice disabled || fail "ACL APIs without an authorizer"
echo "PASS"
