#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Stream processors under the ACLs (authorizer.enabled, allow.everyone.if.no.acl.found
# false, http.auth=basic), bindings made through Kafka's CreateAcls and DeleteAcls
# (librdkafka, rdkafka_acls): a count created by the super user admin runs as
# User:streams-counter, not as admin. Without bindings it is FAILED with the refusal in
# its status and the authorizer's log line; each grant makes it try again and name the
# next missing right (READ topic and group, WRITE sink, READ/WRITE changelog, CREATE);
# with all of them it counts; a revoked WRITE stops it again, a new grant resumes it with
# exact counts. alice (no ALTER on the cluster) may not create one. The broker never
# stops. Ports 28505 (HTTP), 28515 (Kafka). About 5 s.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
ACLS="$GN_BUILD_DIR/tests/integration/kafka/rdkafka_acls"
[[ -x "$ACLS" ]] || { echo "SKIP: rdkafka_acls not built (librdkafka missing)"; exit 0; }
USERS="$WORK/users"
for u in admin alice; do
    "$GN_BUILD_DIR/ganglion-users" --file="$USERS" add "$u" --password="pw-$u" >/dev/null || fail "add $u"
done
B=127.0.0.1:28515
start_broker 28505 --http.auth=basic --auth.users.file="$USERS" --authorizer.enabled=true \
    --allow.everyone.if.no.acl.found=false --super.users=User:admin \
    --kafka.host=127.0.0.1 --kafka.port=28515 --num.partitions=1
SASL=(-X security.protocol=SASL_PLAINTEXT -X sasl.mechanisms=PLAIN -X sasl.username=admin -X sasl.password=pw-admin)
acl() { timeout 20 "$ACLS" "$B" admin pw-admin "$@" >/dev/null || fail "ACLs $*"; }
as() { # as USER METHOD PATH [JSON]: the status; the body in $WORK/rest.json
    local args=(-sS --max-time 20 -u "$1:pw-$1" -o "$WORK/rest.json" -w '%{http_code}' -X "$2")
    [[ $# -ge 4 ]] && args+=(-H 'Content-Type: application/json' --data "$4")
    curl "${args[@]}" "$URL$3"
}
status_is() { # status_is JQ: the processor's status satisfies JQ
    curl -sS --max-time 2 -u admin:pw-admin "$URL/streams/counter/status" 2>/dev/null | jq -e "$1" >/dev/null 2>&1
}
denied() { # denied RIGHT: FAILED, the trace names RIGHT
    wait_for "denied $1" 10 status_is ".state == \"FAILED\" and .trace == \"Not authorized: User:streams-counter may not $1\""
}
produce() { # produce N: N records, keys k0 and k1
    local i
    for ((i = 0; i < $1; i++)); do printf 'k%d|{"i":%d}\n' $((i % 2)) "$i"; done |
        timeout 20 kcat "${SASL[@]}" -b "$B" -P -t orders -K '|' -X acks=all || fail "kcat produce"
}

produce 10
DEF='{"name":"counter","source":"orders","sink":"order-counts","steps":[{"count":{"window_ms":3600000}}]}'
expect_eq "alice creates" "$(as alice POST /streams "$DEF")" 403
expect_eq "admin creates" "$(as admin POST /streams "$DEF")" 201
denied "READ TOPIC orders"
grep -q 'mod=acl msg="authorization denied" principal="User:streams-counter" host=- operation=READ resource_type=TOPIC resource="orders"' "$LOG" ||
    fail "no authorizer line for the processor"
grep -q 'mod=streams msg="stream processor failed" name=counter reason=Not authorized: User:streams-counter may not READ TOPIC orders' "$LOG" ||
    fail "no streams line for the refusal"
status_is '.principal == "User:streams-counter"' || fail "status principal"

acl add TOPIC orders LITERAL User:streams-counter READ ALLOW
denied "READ GROUP streams-counter"
acl add GROUP streams-counter LITERAL User:streams-counter READ ALLOW
denied "WRITE TOPIC order-counts"
acl add TOPIC order-counts LITERAL User:streams-counter WRITE ALLOW
denied "READ TOPIC __streams_counter_state"
acl add TOPIC __streams_counter_ PREFIXED User:streams-counter READ ALLOW
acl add TOPIC __streams_counter_ PREFIXED User:streams-counter WRITE ALLOW
denied "CREATE TOPIC __streams_counter_state"
acl add TOPIC __streams_counter_ PREFIXED User:streams-counter CREATE ALLOW
denied "CREATE TOPIC order-counts"
acl add TOPIC order-counts LITERAL User:streams-counter CREATE ALLOW
wait_for "counting" 10 status_is '.state == "RUNNING" and .records_in == 10 and .lag == 0'

last_counts() {
    timeout 20 kcat "${SASL[@]}" -b "$B" -C -t order-counts -e -q -f '%s\n' 2>/dev/null |
        jq -r '"\(.key) \(.count)"' | awk '{last[$1] = $2} END {for (k in last) print k, last[k]}' | sort | tr '\n' ' '
}
counts_are() { [[ "$(last_counts)" == "$1" ]]; }
expect_eq "counts" "$(last_counts)" "k0 5 k1 5 "

# revoked: stops at the next step; granted again: resumes from the changelog, exactly
acl remove TOPIC order-counts LITERAL User:streams-counter WRITE ALLOW
produce 2
denied "WRITE TOPIC order-counts"
acl add TOPIC order-counts LITERAL User:streams-counter WRITE ALLOW
wait_for "resumed" 10 status_is '.state == "RUNNING" and .lag == 0'
wait_for "counts after the revocation" 10 counts_are "k0 6 k1 6 "
kill -0 "$PID" || fail "the broker stopped"
echo "PASS"
