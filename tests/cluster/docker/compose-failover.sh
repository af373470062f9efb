#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# docker-compose.yml end to end (optional, not in ctest: it builds an image, minutes):
# builds the image from the Dockerfile, starts the three brokers (project gn-compose),
# and from the host checks every listener of every broker: Kafka metadata lists three
# brokers, an idempotent acks=all kcat producer bootstrapped from each broker alone,
# GET /healthz and a REST produce over HTTP, an MQTT 5 QoS 1 publish (mosquitto_pub).
# Then the container leading the topic is killed (docker kill, SIGKILL): another broker
# leads, acks=all writes succeed through the survivors, every acknowledged record is read
# back once and in order; the container is started again and rejoins the ISR. Removes
# the containers and volumes at exit. Uses the host ports of docker-compose.yml (19092,
# 11883, 18080 ... 39092): on a shared machine run it under the cluster port lock, as
# `flock -o /tmp/gn-ports.lock tests/cluster/docker/compose-failover.sh`.
# GN_DOCKER_BUILD_FLAGS adds flags to `docker build` (--network=host where the daemon
# has no bridge); GN_DOCKER_NO_BUILD=1 uses an existing ganglion:latest.
set -euo pipefail
cd "$(dirname "$0")/../../.."
for tool in docker kcat curl mosquitto_pub; do
    command -v "$tool" >/dev/null || { echo "SKIP: $tool not installed"; exit 0; }
done
if command -v docker-compose >/dev/null; then
    COMPOSE=(docker-compose -p gn-compose)
elif docker compose version >/dev/null 2>&1; then
    COMPOSE=(docker compose -p gn-compose)
else
    echo "SKIP: neither docker-compose nor docker compose"
    exit 0
fi
WORK=$(mktemp -d /tmp/gn-compose-XXXXXX)
cleanup() {
    "${COMPOSE[@]}" down -v >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT
fail() {
    echo "FAIL: $*"
    "${COMPOSE[@]}" logs --tail=15 2>&1 | grep -E "level=(warn|error)" || true
    exit 1
}
wait_for() { # SECONDS DESCRIPTION COMMAND...
    local secs=$1 what=$2
    local end=$((SECONDS + secs))
    shift 2
    until "$@" >/dev/null 2>&1; do
        ((SECONDS < end)) || fail "timed out after ${secs}s waiting for: $what"
        sleep 0.5
    done
}
kafka() { echo "localhost:${1}9092"; }
ALL="$(kafka 1),$(kafka 2),$(kafka 3)"

if [[ ${GN_DOCKER_NO_BUILD:-} != 1 ]]; then
    # shellcheck disable=SC2086 # flags, split on purpose
    docker build ${GN_DOCKER_BUILD_FLAGS:-} -t ganglion:latest . >"$WORK/build.log" 2>&1 ||
        fail "docker build: $(tail -5 "$WORK/build.log")"
fi
"${COMPOSE[@]}" down -v >/dev/null 2>&1 || true
"${COMPOSE[@]}" up -d --no-build >"$WORK/up.log" 2>&1 || fail "compose up: $(tail -5 "$WORK/up.log")"
T0=$SECONDS

three_brokers() { [[ $(kcat -L -b "$(kafka "$1")" -m 3 2>/dev/null | grep -c '^  broker ') == 3 ]]; }
for n in 1 2 3; do wait_for 60 "broker $n lists three brokers" three_brokers "$n"; done
echo "three brokers up after $((SECONDS - T0)) s"

# a publish is acknowledged when mosquitto_pub exits 0 and prints nothing (a PUBACK with
# a failure reason prints a warning); the first ones to a new topic may be refused while
# its creation reaches the broker (docs/operations.md, Rules and limits): retried
mqtt_pub() { # N
    out=$(mosquitto_pub -p "${1}1883" -V mqttv5 -q 1 -i "compose-$1" -t compose-mqtt -m "via $1" 2>&1) &&
        [[ -z $out ]]
}
for n in 1 2 3; do
    health=$(curl -sf -m 5 "localhost:${n}8080/healthz") || fail "GET /healthz on broker $n"
    [[ $health == *"\"node_id\":$n"* ]] || fail "broker $n /healthz: $health"
    wait_for 30 "an MQTT QoS 1 publish acknowledged by broker $n" mqtt_pub "$n"
done
echo "HTTP /healthz and MQTT QoS 1 answered by every broker"

# records through each broker alone (the topic is auto-created with the compose
# defaults: replication factor 3, min.insync.replicas 2)
produce() { # BROKERS FIRST LAST
    seq "$2" "$3" | kcat -P -b "$1" -t compose -X acks=all -X enable.idempotence=true \
        -X message.timeout.ms=15000 >"$WORK/p.out" 2>&1 && [[ ! -s "$WORK/p.out" ]]
}
wait_for 30 "the first records through broker 1 ($(cat "$WORK/p.out" 2>/dev/null))" produce "$(kafka 1)" 1 100
produce "$(kafka 2)" 101 200 || fail "acks=all through broker 2: $(cat "$WORK/p.out")"
produce "$(kafka 3)" 201 300 || fail "acks=all through broker 3: $(cat "$WORK/p.out")"
rest_produce() { # N
    out=$(curl -s -m 5 -X POST -H 'Content-Type: application/vnd.kafka.json.v2+json' \
        "localhost:${1}8080/topics/compose-rest" -d "{\"records\":[{\"value\":\"rest via $1\"}]}") &&
        [[ $out == *'"error_code":null'* ]]
}
for n in 1 2 3; do wait_for 30 "a REST produce answered by broker $n" rest_produce "$n"; done
echo "acks=all through each broker; REST produce on each broker"

leader() { kcat -L -b "$1" -t compose -m 3 2>/dev/null | sed -n 's/.*partition 0, leader \([0-9-]*\),.*/\1/p'; }
isr_full() { [[ $(kcat -L -b "$ALL" -t compose -m 3 2>/dev/null | sed -n 's/.*isrs: \(.*\)$/\1/p') =~ ^[123],[123],[123]$ ]]; }
wait_for 30 "ISR of three" isr_full
L=$(leader "$ALL")
[[ $L =~ ^[123]$ ]] || fail "no leader: $L"
SURVIVORS=""
for n in 1 2 3; do [[ $n == "$L" ]] || SURVIVORS="$SURVIVORS${SURVIVORS:+,}$(kafka "$n")"; done

"${COMPOSE[@]}" kill -s SIGKILL "broker$L" >/dev/null 2>&1 || fail "docker kill broker$L"
T0=$SECONDS
echo "killed the leader's container (broker$L)"
moved() { l=$(leader "$SURVIVORS") && [[ $l =~ ^[123]$ && $l != "$L" ]]; }
wait_for 30 "a new leader" moved
wait_for 30 "acks=all through the survivors ($(cat "$WORK/p.out" 2>/dev/null))" produce "$SURVIVORS" 301 400
echo "broker $(leader "$SURVIVORS") leads; acks=all through the survivors $((SECONDS - T0)) s after the kill"
kcat -C -b "$SURVIVORS" -t compose -o beginning -e -q >"$WORK/read.txt" || fail "consume failed"
seq 1 400 | diff -q - "$WORK/read.txt" >/dev/null ||
    fail "read $(wc -l <"$WORK/read.txt") records, want 1..400 once and in order"
echo "400 acknowledged records read back once, in order"

"${COMPOSE[@]}" start "broker$L" >/dev/null 2>&1 || fail "docker start broker$L"
wait_for 60 "broker $L back in the ISR" isr_full
echo "broker$L restarted and rejoined the ISR"
echo "PASS"
