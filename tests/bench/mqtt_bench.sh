#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# MQTT benchmark (issue #5): ganglion against Debian's Mosquitto, side by side, driven
# by mqtt_bench (raw MQTT 3.1.1 load generator). Shapes pairs (N publisher/subscriber
# pairs), fanin (N publishers -> 1 subscriber), fanout (1 -> N); QoS 0 and 1; 100 B and
# 1 KiB payloads; then 10,000 idle connections with broker RSS per connection.
# Ganglion appends every message to its durable log (QoS 1: acks=all, fsync policy
# on_ack_all); Mosquitto runs in memory (persistence false) with unbounded queues so
# that it drops nothing. Prints, never asserts. ~3 minutes.
# Usage: tests/bench/mqtt_bench.sh BUILD_DIR [SECONDS_PER_RUN (3)] [N (10)] [IDLE (10000)]
# Environment: GN_MQTT_BENCH_SHAPES ("pairs fanin fanout"), GN_MQTT_BENCH_QOS ("0 1"),
# GN_MQTT_BENCH_BYTES ("100 1024"), GN_MQTT_BENCH_REPEAT (1: each shape runs that many
# times, ganglion and Mosquitto alternating, and the table shows the medians),
# GN_MQTT_BENCH_FLUSH (ganglion's --flush policy, default on_ack_all),
# GN_MQTT_BENCH_WRITES (nagle, the default: one send per packet with Nagle's algorithm on,
# as libmosquitto's defaults; nodelay: the same with TCP_NODELAY, every packet its own
# segment; turn: a connection's packets of a loop turn in one send), IDLE=0 skips the
# idle-connection run.
set -euo pipefail
build=${1:?usage: mqtt_bench.sh BUILD_DIR}
secs=${2:-3}
N=${3:-10}
IDLE=${4:-10000}
SHAPES=${GN_MQTT_BENCH_SHAPES:-pairs fanin fanout}
QOSES=${GN_MQTT_BENCH_QOS:-0 1}
SIZES=${GN_MQTT_BENCH_BYTES:-100 1024}
REPEAT=${GN_MQTT_BENCH_REPEAT:-1}
FLUSH=${GN_MQTT_BENCH_FLUSH:-on_ack_all}
BENCH=$(find "$build" -maxdepth 3 -type f -name mqtt_bench -perm -u+x | head -n 1)
[ -n "$BENCH" ] || { echo "mqtt_bench not built (cmake -DGN_BENCH=ON)"; exit 1; }
GN=$build/ganglion
MOSQ=$(command -v mosquitto || echo /usr/sbin/mosquitto)
[ -x "$MOSQ" ] || { echo "mosquitto broker not installed"; exit 1; }
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
GPORT=${GN_MQTT_BENCH_PORT:-22010}
MPORT=$((GPORT + 1))
WORK=$(mktemp -d /tmp/gn-mqtt-bench-XXXXXX)
GPID= MPID=
cleanup() {
    [ -n "$GPID" ] && kill "$GPID" 2>/dev/null && wait "$GPID" 2>/dev/null || true
    [ -n "$MPID" ] && kill "$MPID" 2>/dev/null && wait "$MPID" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
source "$(dirname "$0")/mqtt_lib.bash"
mosquitto_conf "$MPORT"
start_brokers() {
    mkdir -p "$WORK/data"
    "$GN" --data.dir="$WORK/data" --mqtt.host=127.0.0.1 --mqtt.port=$GPORT --kafka.port=0 \
        --http.port=0 --flush="$FLUSH" --log.level=warn >"$WORK/gn.log" 2>&1 &
    GPID=$!
    "$MOSQ" -c "$WORK/mosquitto.conf" >"$WORK/mosq.log" 2>&1 &
    MPID=$!
    wait_port $GPORT
    wait_port $MPORT
}
stop_brokers() {
    kill "$GPID" "$MPID"
    wait "$GPID" "$MPID" 2>/dev/null || true
    GPID= MPID=
    rm -rf "$WORK/data"
}
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p"; }

# median of the numbers on stdin
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR ? v[int((NR + 1) / 2)] : 0) }'; }
# runs one broker's shape REPEAT times (the other broker's runs interleaved by the caller)
start_brokers
echo "mqtt_bench: ${secs}s per run, N=$N, median of $REPEAT, writes per ${GN_MQTT_BENCH_WRITES:-nagle}; ganglion :$GPORT (durable log, flush=$FLUSH) vs mosquitto $($MOSQ -h 2>/dev/null | head -1 | awk '{print $3}') :$MPORT"
printf '%-7s %-4s %-6s | %12s %8s %8s %6s | %12s %8s %8s %6s | %6s\n' shape qos bytes \
    "gn msg/s" "p50 us" "p99 us" lost "mosq msg/s" "p50 us" "p99 us" lost ratio
for shape in $SHAPES; do
    for qos in $QOSES; do
        for bytes in $SIZES; do
            : >"$WORK/g" && : >"$WORK/m"
            for _ in $(seq 1 "$REPEAT"); do
                "$BENCH" 127.0.0.1 $GPORT $shape "$N" $qos $bytes "$secs" >>"$WORK/g"
                "$BENCH" 127.0.0.1 $MPORT $shape "$N" $qos $bytes "$secs" >>"$WORK/m"
            done
            gr=$(field msg_per_s <"$WORK/g" | median)
            mr=$(field msg_per_s <"$WORK/m" | median)
            printf '%-7s %-4s %-6s | %12s %8s %8s %6s | %12s %8s %8s %6s | %6s\n' $shape $qos $bytes \
                "$gr" "$(field p50_us <"$WORK/g" | median)" "$(field p99_us <"$WORK/g" | median)" \
                "$(field lost <"$WORK/g" | awk '{ s += $1 } END { print s + 0 }')" "$mr" \
                "$(field p50_us <"$WORK/m" | median)" "$(field p99_us <"$WORK/m" | median)" \
                "$(field lost <"$WORK/m" | awk '{ s += $1 } END { print s + 0 }')" \
                "$(awk -v a="$gr" -v b="$mr" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')"
            if [ "$REPEAT" -gt 1 ]; then
                echo "        runs ganglion: $(field msg_per_s <"$WORK/g" | tr '\n' ' ')| mosquitto: $(field msg_per_s <"$WORK/m" | tr '\n' ' ')"
            fi
        done
    done
done
stop_brokers
[ "$IDLE" -gt 0 ] || exit 0
start_brokers
gi=$("$BENCH" 127.0.0.1 $GPORT idle "$IDLE" "$GPID")
mi=$("$BENCH" 127.0.0.1 $MPORT idle "$IDLE" "$MPID")
echo "idle $IDLE connections: ganglion $(echo "$gi" | field bytes_per_conn) B/conn, mosquitto $(echo "$mi" | field bytes_per_conn) B/conn"
echo "  ganglion:  $gi"
echo "  mosquitto: $mi"
