#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# MQTT under the ACLs (core/acl) with mosquitto_pub/sub as two users, MQTT 3.1.1 and
# 5.0: bindings made through Kafka's CreateAcls (librdkafka, rdkafka_acls) give alice
# WRITE and READ on the log topic "sensors" and READ on group g1; bob's PUBLISH to
# sensors/... is refused (5.0: PUBACK 0x87; 3.1.1: acknowledged and dropped) and never
# delivered, his SUBSCRIBE gets SUBACK 0x87 (3.1.1: 0x80); a wildcard first level needs
# READ on every topic (refused to alice, granted to the super user); $share/g1/ is
# refused to bob on a topic without ACLs; refusals are logged. Deleting alice's READ
# (DeleteAcls) removes her live subscription within the 1 s sweep: nothing more reaches it.
# A CONNECT whose will topic may not be written is refused (5.0: 0x87, 3.1.1: 5).
# Ports 21920 (MQTT), 29521 (Kafka).
set -euo pipefail
. "$(dirname "$0")/common.bash"
ACLS="$GN_BUILD_DIR/tests/integration/kafka/rdkafka_acls"
[ -x "$ACLS" ] || fail "$ACLS not built (librdkafka-dev missing?)"
USERS=$DATA.users
for u in admin alice bob; do
    "$GN_BUILD_DIR/ganglion-users" --file="$USERS" add "$u" --password="pw-$u" >/dev/null ||
        fail "add $u"
done
start_broker 21920 29521 --auth.users.file="$USERS" --authorizer.enabled=true \
    --super.users=User:admin
acl() { timeout 30 "$ACLS" 127.0.0.1:29521 admin pw-admin add "$@" || fail "CreateAcls $*"; }
acl TOPIC sensors LITERAL User:alice WRITE ALLOW
acl TOPIC sensors LITERAL User:alice READ ALLOW
acl GROUP g1 LITERAL User:alice READ ALLOW

for V in mqttv311 mqttv5; do
    if [ $V = mqttv5 ]; then DENIED=135; else DENIED=128; fi
    sub -V $V -u alice -P pw-alice -t sensors/# -C 2 -v >"$DATA.alice" &
    S=$!
    sleep 0.5
    pub -V $V -u bob -P pw-bob -q 1 -t sensors/t1 -m "from-bob-$V" -d >"$DATA.bob" 2>&1 || true
    if [ $V = mqttv5 ]; then
        grep -qi "received PUBACK (Mid: 1, RC:135)" "$DATA.bob" || fail "$V: bob's PUBACK: $(cat "$DATA.bob")"
    fi
    pub -V $V -u bob -P pw-bob -q 0 -t sensors/t1 -m "qos0-bob-$V" || fail "$V: bob's QoS 0"
    pub -V $V -u alice -P pw-alice -q 1 -t sensors/t1 -m "one-$V" || fail "$V: alice's publish"
    pub -V $V -u alice -P pw-alice -q 2 -t sensors/t2 -m "two-$V" || fail "$V: alice's QoS 2"
    wait $S || fail "$V: alice's subscriber: $(cat "$DATA.alice")"
    [ "$(cat "$DATA.alice")" = "sensors/t1 one-$V
sensors/t2 two-$V" ] || fail "$V: alice got $(cat "$DATA.alice")"

    # SUBSCRIBE: (topic filter, user, wanted SUBACK code)
    for c in "sensors/# bob $DENIED" "# alice $DENIED" "+/t1 alice $DENIED" "# admin 0" \
        "\$share/g1/open/# bob $DENIED" "\$share/g1/open/# alice 0"; do
        set -- $c
        timeout 10 mosquitto_sub -h 127.0.0.1 -p "$MQTT_PORT" -V $V -u "$2" -P "pw-$2" -t "$1" \
            -d -E -W 3 >"$DATA.sub" 2>&1 || true
        grep -qi "received SUBACK" "$DATA.sub" || fail "$V: $2 on $1: no SUBACK: $(cat "$DATA.sub")"
        if [ "$3" = 0 ]; then
            grep -q "Subscribed (mid: 1): 0" "$DATA.sub" || fail "$V: $2 refused $1: $(cat "$DATA.sub")"
        else
            grep -q "Subscribed (mid: 1): $3" "$DATA.sub" || fail "$V: $2 got $1: $(cat "$DATA.sub")"
        fi
    done
done
grep -q 'mod=acl msg="authorization denied" principal="User:bob".*operation=WRITE resource_type=TOPIC resource="sensors"' \
    "$LOG" || fail "no log line for bob's publish"
grep -q 'principal="User:alice".*operation=READ resource_type=TOPIC resource="\*"' "$LOG" ||
    fail "no log line for alice's wildcard"
# a will is a PUBLISH too: CONNECT with a will on sensors/ is refused to bob (0x87 / 5)
for V in mqttv311 mqttv5; do
    if [ $V = mqttv5 ]; then NOAUTH=135; else NOAUTH=5; fi
    got=0
    pub -V $V -u bob -P pw-bob -t open/x -m m --will-topic sensors/will --will-payload w \
        2>/dev/null || got=$?
    [ "$got" = "$NOAUTH" ] || fail "$V: bob's will on sensors: exit $got, wanted $NOAUTH"
    pub -V $V -u alice -P pw-alice -t open/x -m m --will-topic sensors/will --will-payload w ||
        fail "$V: alice's will on sensors refused"
done
grep -q 'refused CONNECT: will topic not authorized' "$LOG" || fail "no log line for the will"

# revocation: a live subscription goes when the binding that allowed it is deleted
sub -V mqttv5 -u alice -P pw-alice -t sensors/# -v >"$DATA.live" &
S=$!
sleep 0.5
timeout 30 "$ACLS" 127.0.0.1:29521 admin pw-admin remove TOPIC sensors LITERAL User:alice READ ALLOW ||
    fail "DeleteAcls of alice's READ"
for _ in $(seq 1 40); do
    grep -q 'subscription removed: not authorized any more.*filter="sensors/#"' "$LOG" && break
    sleep 0.1
done
grep -q 'subscription removed: not authorized any more' "$LOG" || fail "subscription not removed"
pub -V mqttv5 -u alice -P pw-alice -q 1 -t sensors/t1 -m after-revoke || fail "alice's publish"
sleep 0.5
kill $S 2>/dev/null || true
wait $S 2>/dev/null || true
[ ! -s "$DATA.live" ] || fail "delivered after the revocation: $(cat "$DATA.live")"
echo "ok"
