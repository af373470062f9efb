#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# ACLs are metadata records: a binding created through one broker (librdkafka's
# CreateAcls, tests/integration/kafka/rdkafka_acls.c) is enforced by every broker (kcat
# Metadata as alice lists the topic, as bob is refused TOPIC_AUTHORIZATION_FAILED, on each
# broker), and its deletion through another broker is seen by all (bob refused no more:
# the topic has no ACL left and allow.everyone.if.no.acl.found is on). Ports from
# GN_CLUSTER_PORTS; about 10 s.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
command -v kcat >/dev/null || { echo "SKIP: kcat not installed"; exit 0; }
ACLS="$GN_BUILD_DIR/tests/integration/kafka/rdkafka_acls"
[[ -x "$ACLS" ]] || { echo "SKIP: rdkafka_acls not built"; exit 0; }
kafka() { echo "127.0.0.1:${GN_CLUSTER_PORTS}0$1"; }
USERS="$WORK/users"
for u in admin alice bob; do
    "$GN_BUILD_DIR/ganglion-users" --file="$USERS" add "$u" --password="pw-$u" >/dev/null ||
        fail "add $u"
done
for n in 1 2 3; do
    start_broker "$n" --auth.users.file="$USERS" --authorizer.enabled=true --super.users=User:admin
done
wait_for 20 "three brokers registered" brokers_in_metadata 3
# as USER N: one Metadata request for topic t to broker N only
md() {
    timeout 10 kcat -b "$(kafka "$2")" -X security.protocol=SASL_PLAINTEXT -X sasl.mechanisms=PLAIN \
        -X sasl.username="$1" -X sasl.password="pw-$1" -L -t t 2>&1
}
admin_sees() { md admin 1 | grep -q 'topic "t" with 1 partitions'; }
wait_for 10 "topic t auto-created by admin" admin_sees
timeout 30 "$ACLS" "$(kafka 2)" admin pw-admin add TOPIC t LITERAL User:alice WRITE ALLOW ||
    fail "CreateAcls through broker 2"
bob_refused() { md bob "$1" | grep -qi "authorization failed"; }
bob_served() { md bob "$1" | grep -q 'topic "t" with 1 partitions'; }
alice_sees() { md alice "$1" | grep -q 'topic "t" with 1 partitions'; }
for n in 1 2 3; do
    wait_for 10 "broker $n refuses bob" bob_refused "$n"
    alice_sees "$n" || fail "broker $n: alice does not see t: $(md alice "$n")"
done
grep -q 'msg="authorization denied" principal="User:bob"' "$WORK/b3.log" ||
    fail "broker 3 logged no refusal"
timeout 30 "$ACLS" "$(kafka 3)" admin pw-admin remove TOPIC t LITERAL User:alice WRITE ALLOW ||
    fail "DeleteAcls through broker 3"
for n in 1 2 3; do
    wait_for 10 "broker $n serves bob again" bob_served "$n"
done
echo "PASS"
