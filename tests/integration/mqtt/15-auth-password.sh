#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# MQTT user name and password against the users file (auth.users.file, written by
# ganglion-users) with mosquitto_pub/sub, MQTT 3.1.1 and 5.0: the right password is
# accepted, a wrong one or an unknown user refused (5.0: CONNACK 0x86, 3.1.1: code 4),
# anonymous clients refused when mqtt.allow.anonymous=false (0x87 / 5) and accepted by
# default; log lines name the reason and never the password; a host whose checks keep
# failing is throttled (5.0: 0x9F connection rate exceeded, 3.1.1: code 3) until a token
# comes back; a bad users file stops the start (exit 1). Port 21905.
set -euo pipefail
. "$(dirname "$0")/common.bash"
USERS=$DATA.users
"$GN_BUILD_DIR/ganglion-users" --file="$USERS" add alice --password=wonderland ||
    fail "ganglion-users add"
echo 'builder' | "$GN_BUILD_DIR/ganglion-users" --file="$USERS" add bob --mechanism=SCRAM-SHA-512 ||
    fail "ganglion-users add from stdin"
[ "$("$GN_BUILD_DIR/ganglion-users" --file="$USERS" list)" = "alice SCRAM-SHA-256 SCRAM-SHA-512
bob SCRAM-SHA-512" ] || fail "ganglion-users list"
! grep -q wonderland "$USERS" || fail "password in the users file"
[ "$(stat -c %a "$USERS")" = 600 ] || fail "users file mode"

start_broker 21905 0 --auth.users.file="$USERS" --mqtt.allow.anonymous=false
grep -q 'msg="users loaded".*users=2' "$LOG" || fail "no users loaded line"

# mosquitto_pub's exit status is the CONNACK code when refused
expect_pub() { # want-status what args...
    local want=$1 what=$2 got=0
    shift 2
    pub "$@" -t auth/x -m m 2>/dev/null || got=$?
    [ "$got" = "$want" ] || fail "$what: exit $got, wanted $want"
}
for V in mqttv311 mqttv5; do
    if [ $V = mqttv5 ]; then BAD=134 NOAUTH=135; else BAD=4 NOAUTH=5; fi
    sub -V $V -u alice -P wonderland -t "auth/$V" -C 1 >"$DATA.out" &
    S=$!
    sleep 0.5
    pub -V $V -u bob -P builder -t "auth/$V" -m "hello-$V" || fail "$V: bob refused"
    wait $S || fail "$V: alice's subscriber got nothing"
    grep -qx "hello-$V" "$DATA.out" || fail "$V: wrong payload $(cat "$DATA.out")"
    expect_pub $BAD "$V wrong password" -V $V -u alice -P wrong
    expect_pub $BAD "$V unknown user" -V $V -u carol -P wonderland
    expect_pub $BAD "$V no password" -V $V -u alice
    expect_pub $NOAUTH "$V anonymous" -V $V
    # a subscriber with a wrong password gets nothing either
    timeout 10 mosquitto_sub -h 127.0.0.1 -p 21905 -V $V -u alice -P nope -t '#' -C 1 -W 3 \
        2>/dev/null && fail "$V: subscriber with a wrong password connected"
done
grep -q 'refused CONNECT: bad user name or password.*user=alice.*reason=BAD_USERNAME_OR_PASSWORD' \
    "$LOG" || fail "no log line for the wrong password"
grep -q 'refused CONNECT: anonymous clients are not allowed.*reason=NOT_AUTHORIZED' "$LOG" ||
    fail "no log line for the anonymous client"
grep -q 'client connected.*user=bob' "$LOG" || fail "connected line without the user"
! grep -qE 'wonderland|builder|wrong' "$LOG" || fail "a password in the log"

# throttling: after a burst of failures (10) a wrong password is not even checked
throttled() { # version code: guesses until one is answered code (at most 20)
    local got
    for i in $(seq 1 20); do
        got=0
        pub -V "$1" -u alice -P "guess-$i" -t auth/x -m m 2>/dev/null || got=$?
        [ "$got" = "$2" ] && return 0
    done
    fail "$1: never throttled (last exit $got)"
}
throttled mqttv5 159
throttled mqttv311 3
grep -q 'refused CONNECT: too many failed authentications from this address; retry later.*user=alice.*reason=CONNECTION_RATE_EXCEEDED' \
    "$LOG" || fail "no throttled line"
sleep 0.6 # a token back
expect_pub 0 "alice after a token came back" -V mqttv5 -u alice -P wonderland
! grep -q 'guess-' "$LOG" || fail "a password in the log"
stop_broker

# default mqtt.allow.anonymous=true: anonymous accepted, credentials still checked
start_broker 21905 0 --auth.users.file="$USERS"
for V in mqttv311 mqttv5; do
    expect_pub 0 "$V anonymous (allowed)" -V $V
    expect_pub 0 "$V alice" -V $V -u alice -P wonderland
    if [ $V = mqttv5 ]; then BAD=134; else BAD=4; fi
    expect_pub $BAD "$V wrong password (anonymous allowed)" -V $V -u alice -P wrong
done
stop_broker

# a users file with a bad line: the broker does not start
echo 'alice:SCRAM-SHA-256:12:c2FsdA==:x:y' >"$USERS.bad"
code=0
"$GN" --data.dir="$DATA" --mqtt.host=127.0.0.1 --mqtt.port=21905 --kafka.port=0 --http.port=0 \
    --auth.users.file="$USERS.bad" >>"$LOG" 2>&1 || code=$?
[ "$code" = 1 ] || fail "bad users file: exit $code"
grep -q 'cannot load the users file.*:1: iterations' "$LOG" || fail "no line naming the bad line"
# anonymous refused without any users file: a configuration error
code=0
"$GN" --data.dir="$DATA" --mqtt.allow.anonymous=false >>"$LOG" 2>&1 || code=$?
[ "$code" = 2 ] || fail "allow.anonymous=false without users: exit $code"
rm -f "$USERS" "$USERS.bad"
echo ok
