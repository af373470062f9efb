#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A/B of ganglion binaries on one MQTT shape (issue #5): Mosquitto and every binary
# given run side by side, each on its own port, and each repeat runs mqtt_bench against
# Mosquitto, then each binary in turn, so all see the same machine load. Prints one line
# per repeat: msg/s (p50/p99 us) and messages lost per broker. Prints, never asserts.
# Usage: tests/bench/mqtt_ab.sh MQTT_BENCH SHAPE QOS BYTES REPEAT SECONDS GANGLION...
# Environment: GN_MQTT_AB_PORT (31080): Mosquitto on it, the binaries on the next ones;
# GN_MQTT_BENCH_WRITES (nagle, nodelay or turn) reaches mqtt_bench.
set -euo pipefail
bench=${1:?usage: mqtt_ab.sh MQTT_BENCH SHAPE QOS BYTES REPEAT SECONDS GANGLION...}
shape=${2:?} qos=${3:?} bytes=${4:?} repeat=${5:?} secs=${6:?}
shift 6
[ $# -gt 0 ] || { echo "no ganglion binary given"; exit 1; }
MPORT=${GN_MQTT_AB_PORT:-31080}
MOSQ=$(command -v mosquitto || echo /usr/sbin/mosquitto)
WORK=$(mktemp -d /tmp/gn-mqtt-ab-XXXXXX)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT
source "$(dirname "$0")/mqtt_lib.bash"
mosquitto_conf "$MPORT"
"$MOSQ" -c "$WORK/mosquitto.conf" >"$WORK/mosq.log" 2>&1 &
PIDS+=($!)
wait_port "$MPORT"
i=0
for gn in "$@"; do
    i=$((i + 1))
    mkdir -p "$WORK/d$i"
    "$gn" --data.dir="$WORK/d$i" --mqtt.host=127.0.0.1 --mqtt.port=$((MPORT + i)) --kafka.port=0 \
        --http.port=0 --log.level=warn >"$WORK/g$i.log" 2>&1 &
    PIDS+=($!)
    wait_port $((MPORT + i))
done
one() { # PORT: "msg/s (p50/p99) lost N"
    "$bench" 127.0.0.1 "$1" "$shape" 10 "$qos" "$bytes" "$secs" |
        sed -n 's/.*lost=\([0-9]*\) msg_per_s=\([0-9]*\) p50_us=\([0-9]*\) p99_us=\([0-9]*\).*/\2 (\3\/\4) lost \1/p'
}
echo "mqtt_ab: $shape QoS $qos ${bytes} B, ${secs}s per run, writes per ${GN_MQTT_BENCH_WRITES:-nagle}; load:$(uptime | sed 's/.*average://')"
for r in $(seq 1 "$repeat"); do
    line="run $r: mosquitto $(one "$MPORT")"
    i=0
    for gn in "$@"; do
        i=$((i + 1))
        line="$line | $gn $(one $((MPORT + i)))"
    done
    echo "$line"
done
echo "load at the end:$(uptime | sed 's/.*average://')"
