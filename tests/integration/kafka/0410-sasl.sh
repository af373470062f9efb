#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Kafka SASL against the users file (auth.users.file, written by ganglion-users) with
# kcat (librdkafka) on a listener that refuses anonymous clients
# (kafka.allow.anonymous=false, Kafka's SASL_PLAINTEXT): PLAIN, SCRAM-SHA-256 and
# SCRAM-SHA-512 produce and consume; a wrong password and an unknown user get
# SASL_AUTHENTICATION_FAILED and nothing else, and a host failing again and again is
# throttled (its tokens fail unchecked until the throttle gives one back); a client without SASL is closed after
# ApiVersions; kafkajs with SCRAM-SHA-256 (SaslAuthenticate v1+); kafka-python with
# PLAIN and SCRAM (SaslHandshake v0 and raw token frames). Log lines name the
# user and the reason, never the password. Then the default broker
# (kafka.allow.anonymous=true) serves anonymous and SASL clients side by side.
# Port 29510.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
USERS="$WORK/users"
"$GN_BUILD_DIR/ganglion-users" --file="$USERS" add alice --password=wonderland >/dev/null ||
    fail "ganglion-users add alice"
"$GN_BUILD_DIR/ganglion-users" --file="$USERS" add bob --password=builder \
    --mechanism=SCRAM-SHA-512 >/dev/null || fail "ganglion-users add bob"
HERE="$(cd "$(dirname "$0")" && pwd)"
source "$HERE/../../node_modules.bash"
need_node_modules "$HERE" kafkajs || fail "cannot install kafkajs (npm ci --prefix $HERE)"
start_broker 29510 --auth.users.file="$USERS" --kafka.allow.anonymous=false

# ksasl MECHANISM USER PASSWORD kcat-args...
ksasl() {
    local mech=$1 user=$2 pass=$3
    shift 3
    kc -X security.protocol=SASL_PLAINTEXT -X sasl.mechanisms="$mech" \
        -X sasl.username="$user" -X sasl.password="$pass" "$@"
}

n=0
for who in "PLAIN alice wonderland" "SCRAM-SHA-256 alice wonderland" \
    "SCRAM-SHA-512 alice wonderland" "SCRAM-SHA-512 bob builder" "PLAIN bob builder"; do
    set -- $who
    n=$((n + 1))
    echo "record $n via $1 as $2" | ksasl "$1" "$2" "$3" -P -t secure -p 0 ||
        fail "$1 as $2: produce failed"
    ksasl "$1" "$2" "$3" -C -t secure -p 0 -o -1 -e -q -f '%s\n' >"$WORK/got" ||
        fail "$1 as $2: consume failed"
    [ "$(cat "$WORK/got")" = "record $n via $1 as $2" ] || fail "$1 as $2: got $(cat "$WORK/got")"
    grep -q "msg=\"SASL authenticated\".*user=$2" "$LOG" || fail "$1: no authenticated line"
done

# failures: librdkafka reports the broker's message, nothing is produced
for bad in "PLAIN alice wrong" "SCRAM-SHA-256 alice wrong" "SCRAM-SHA-256 carol wonderland" \
    "SCRAM-SHA-256 bob builder"; do
    set -- $bad
    out=$(echo never | ksasl "$1" "$2" "$3" -P -t secure -p 0 -X message.timeout.ms=3000 2>&1) &&
        fail "$1 as $2 with a bad password: produce succeeded"
    grep -qi "authentication failed\|Authentication" <<<"$out" ||
        fail "$1 as $2: no authentication error in: $out"
done
grep -q 'msg="SASL authentication failed"' "$LOG" || fail "no failure log line"
! grep -q "wonderland\|builder" "$LOG" || fail "a password is in the log"

# throttling: once a host's failures pass the burst (10) its tokens fail unchecked
# (librdkafka retries about once a second, under the 2 a second the throttle gives
# back, so raw SaslHandshake v1 + SaslAuthenticate v0 frames make the failures)
timeout 30 /usr/bin/python3 - 127.0.0.1 29510 <<'PY' || fail "never throttled"
import socket, struct, sys
def call(s, key, ver, body):
    cid = b"throttle"
    msg = struct.pack(">hhih", key, ver, 7, len(cid)) + cid + body
    s.sendall(struct.pack(">i", len(msg)) + msg)
    n = struct.unpack(">i", s.recv(4, socket.MSG_WAITALL))[0]
    return s.recv(n, socket.MSG_WAITALL)[4:]  # past the correlation id
for i in range(1, 16):
    with socket.create_connection((sys.argv[1], int(sys.argv[2]))) as s:
        call(s, 17, 1, struct.pack(">h", 5) + b"PLAIN")
        token = b"\0alice\0guess-%d" % i
        r = call(s, 36, 0, struct.pack(">i", len(token)) + token)
        err, mlen = struct.unpack(">hh", r[:4])
        msg = r[4:4 + mlen].decode()
        assert err == 58, (err, msg)  # SASL_AUTHENTICATION_FAILED
        if "too many failed authentications from this address" in msg:
            print("throttled after", i, "tries")
            sys.exit(0)
sys.exit("never throttled: " + msg)
PY
grep -q 'msg="SASL authentication failed".*reason="Authentication failed: too many failed authentications' \
    "$LOG" || fail "no throttled log line"
! grep -q "guess-" "$LOG" || fail "a password is in the log"
sleep 1.5 # tokens come back (2 a second) for the clients below

# no SASL at all: closed after ApiVersions, with a log line
kc -L -m 3 >/dev/null 2>&1 && fail "an anonymous client got metadata"
grep -q 'msg="request before SASL authentication; closing"' "$LOG" || fail "no anonymous log line"

# kafkajs: SCRAM-SHA-256 through SaslHandshake v1 + SaslAuthenticate
cd "$HERE"
timeout 60 node -e '
const { Kafka, logLevel } = require("kafkajs");
const k = new Kafka({ brokers: [process.argv[1]], logLevel: logLevel.NOTHING,
  sasl: { mechanism: "scram-sha-256", username: "alice", password: "wonderland" } });
(async () => {
  const p = k.producer(); await p.connect();
  await p.send({ topic: "secure", messages: [{ partition: 0, value: "from kafkajs" }] });
  await p.disconnect();
  const bad = new Kafka({ brokers: [process.argv[1]], logLevel: logLevel.NOTHING, retry: { retries: 0 },
    sasl: { mechanism: "plain", username: "alice", password: "nope" } }).producer();
  try { await bad.connect(); console.log("bad password accepted"); process.exit(1); }
  catch (e) { if (!/SASL|auth/i.test(String(e))) { console.log(String(e)); process.exit(1); } }
})().catch((e) => { console.log(String(e)); process.exit(1); });
' "$BROKER" || fail "kafkajs SCRAM"
ksasl PLAIN alice wonderland -C -t secure -p 0 -o -1 -e -q -f '%s\n' >"$WORK/got" || fail "consume"
[ "$(cat "$WORK/got")" = "from kafkajs" ] || fail "kafkajs record: $(cat "$WORK/got")"

# kafka-python 2.0 (Debian's python3-kafka): SaslHandshake v0, then raw token frames
timeout 60 /usr/bin/python3 - "$BROKER" <<'PY' || fail "kafka-python SASL"
import sys
from kafka import KafkaProducer
from kafka.errors import KafkaError
def producer(mech, user, password):
    return KafkaProducer(bootstrap_servers=sys.argv[1], security_protocol="SASL_PLAINTEXT",
                         sasl_mechanism=mech, sasl_plain_username=user,
                         sasl_plain_password=password, api_version_auto_timeout_ms=5000,
                         max_block_ms=5000)
for mech in ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"):
    p = producer(mech, "alice", "wonderland")
    p.send("secure", b"from kafka-python " + mech.encode(), partition=0).get(timeout=10)
    p.close()
try:
    producer("SCRAM-SHA-256", "alice", "wrong")
    sys.exit("a wrong password was accepted")
except KafkaError:
    pass
PY
ksasl PLAIN alice wonderland -C -t secure -p 0 -o -1 -e -q -f '%s\n' >"$WORK/got" || fail "consume"
[ "$(cat "$WORK/got")" = "from kafka-python SCRAM-SHA-512" ] || fail "kafka-python: $(cat "$WORK/got")"
kill -TERM "$PID" && wait "$PID" || fail "broker did not stop cleanly"

# default: anonymous clients and SASL clients on one listener
start_broker 29510 --auth.users.file="$USERS"
echo anon | kc -P -t open -p 0 || fail "anonymous produce refused by default"
ksasl SCRAM-SHA-256 alice wonderland -C -t open -p 0 -e -q -f '%s\n' >"$WORK/got" ||
    fail "SASL consume on the default listener"
[ "$(cat "$WORK/got")" = anon ] || fail "default listener: got $(cat "$WORK/got")"
echo "ok"
