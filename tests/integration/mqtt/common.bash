# SPDX-License-Identifier: Apache-2.0
# Shared by tests/integration/mqtt/NN-*.sh (sourced, not a test): starts ganglion on a
# fresh data dir on 127.0.0.1, waits for its port with a bound, stops it by PID on exit.
GN_BUILD_DIR=${GN_BUILD_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)/build}
GN=$GN_BUILD_DIR/ganglion
DATA=$(mktemp -d /tmp/gn-mqtt-XXXXXX)
GN_PID=
LOG=$DATA.log

cleanup() {
    [ -n "$GN_PID" ] && kill "$GN_PID" 2>/dev/null && wait "$GN_PID" 2>/dev/null || true
    jobs -p | xargs -r kill 2>/dev/null || true
    rm -rf "$DATA" "$LOG"
}
trap cleanup EXIT

fail() {
    echo "FAIL: $*" >&2
    echo "--- broker log" >&2
    tail -${TAIL:-30} "$LOG" >&2 || true
    exit 1
}

wait_port() { # port
    for _ in $(seq 1 100); do
        (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0
        sleep 0.05
    done
    fail "port $1 did not open"
}

start_broker() { # mqtt-port [kafka-port [extra ganglion flags...]]
    MQTT_PORT=$1
    # tests sharing a port (7 ports, 9 tests) take turns when ctest runs them in parallel
    exec 9>"/tmp/gn-mqtt-port-$1.lock"
    flock -w 120 9 || fail "port $1 stayed busy"
    "$GN" --data.dir="$DATA" --mqtt.host=127.0.0.1 --mqtt.port="$1" --kafka.host=127.0.0.1 \
        --kafka.port="${2:-0}" --http.port=0 --log.level=info "${@:3}" >>"$LOG" 2>&1 &
    GN_PID=$!
    wait_port "$1"
    [ -n "${2:-}" ] && [ "$2" != 0 ] && wait_port "$2"
    return 0
}

stop_broker() {
    kill "$GN_PID"
    wait "$GN_PID" || true
    GN_PID=
}

pub() { mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" "$@"; }
sub() { timeout 10 mosquitto_sub -h 127.0.0.1 -p "$MQTT_PORT" -W 8 "$@"; }

# raw: send hex bytes, print the hex of what comes back within 2 s
raw() {
    python3 - "$MQTT_PORT" "$*" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(bytes.fromhex(sys.argv[2].replace(" ", "")))
s.settimeout(2)
out = b""
try:
    while True:
        b = s.recv(4096)
        if not b:
            break
        out += b
except socket.timeout:
    pass
print(out.hex())
PY
}
