# SPDX-License-Identifier: Apache-2.0
# Shared by the Kafka integration scripts (sourced, not run): starts one `ganglion`
# with only the Kafka listener on 127.0.0.1:$PORT and a fresh data directory, waits
# (bounded) for its listening line, and stops it by PID on exit, also on failure.
# Needs GN_BUILD_DIR (set by ctest).

GANGLION="${GN_BUILD_DIR:?GN_BUILD_DIR must point at the build directory}/ganglion"
WORK="$(mktemp -d /tmp/gn-it-kafka-XXXXXX)"
PID=""
LOG="$WORK/ganglion.log"

cleanup() {
    if [[ -n "$PID" ]] && kill -0 "$PID" 2>/dev/null; then
        kill -TERM "$PID" 2>/dev/null || true
        for ((i = 0; i < 50; i++)); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$PID" 2>/dev/null || true
        wait "$PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
    echo "FAIL: $*" >&2
    [[ -f "$LOG" ]] && { echo "--- broker log" >&2; tail -n 50 "$LOG" >&2; }
    exit 1
}

# start_broker PORT [extra flags...]
start_broker() {
    PORT="$1"
    shift
    BROKER="127.0.0.1:$PORT"
    "$GANGLION" --data.dir="$WORK/data" --kafka.host=127.0.0.1 --kafka.port="$PORT" \
        --mqtt.port=0 --http.port=0 "$@" 2>"$LOG" &
    PID=$!
    for ((i = 0; i < 100; i++)); do
        grep -q 'mod=kafka msg="listening"' "$LOG" 2>/dev/null && return 0
        kill -0 "$PID" 2>/dev/null || fail "ganglion exited during start-up"
        sleep 0.1
    done
    fail "no Kafka listening line within 10 s"
}

# kc ARGS...: kcat against the broker, bounded in time.
kc() {
    timeout 30 kcat -b "$BROKER" "$@"
}
