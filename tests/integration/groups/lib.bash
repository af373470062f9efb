# SPDX-License-Identifier: Apache-2.0
# Shared by the consumer-group integration scripts (sourced, not run): starts and
# restarts one `ganglion` with only the Kafka listener on 127.0.0.1:$PORT over one data
# directory, waits (bounded) for its listening line, and on exit stops it and every
# client the script registered with `track PID`, by PID, also on failure.
# Needs GN_BUILD_DIR (set by ctest). Ports 29400-29419.

GANGLION="${GN_BUILD_DIR:?GN_BUILD_DIR must point at the build directory}/ganglion"
GROUPS_BIN="$GN_BUILD_DIR/tests/integration/groups"
WORK="$(mktemp -d /tmp/gn-it-groups-XXXXXX)"
PID=""
LOG="$WORK/ganglion.log"
TRACKED=()

stop_pid() { # stop_pid PID SIGNAL
    local p="$1"
    kill -0 "$p" 2>/dev/null || return 0
    kill "-$2" "$p" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
}

cleanup() {
    local p
    for p in "${TRACKED[@]}"; do stop_pid "$p" TERM; done
    [[ -n "$PID" ]] && stop_pid "$PID" TERM
    [[ -n "${KEEP_WORK:-}" ]] || rm -rf "$WORK"
}
trap cleanup EXIT

track() { TRACKED+=("$1"); }

fail() {
    echo "FAIL: $*" >&2
    [[ -f "$LOG" ]] && { echo "--- broker log" >&2; tail -n 40 "$LOG" >&2; }
    exit 1
}

# start_broker PORT [extra flags...]: the same data directory on every call; short
# group delays so tests stay fast.
start_broker() {
    PORT="$1"
    shift
    BROKER="127.0.0.1:$PORT"
    : >"$LOG"
    "$GANGLION" --data.dir="$WORK/data" --kafka.host=127.0.0.1 --kafka.port="$PORT" \
        --mqtt.port=0 --http.port=0 --group.initial.rebalance.delay.ms=0 "$@" 2>>"$LOG" &
    PID=$!
    for ((i = 0; i < 100; i++)); do
        grep -q 'mod=kafka msg="listening"' "$LOG" 2>/dev/null && return 0
        kill -0 "$PID" 2>/dev/null || fail "ganglion exited during start-up"
        sleep 0.1
    done
    fail "no Kafka listening line within 10 s"
}

# stop_broker [SIGNAL]: TERM (clean shutdown) by default.
stop_broker() {
    [[ -n "$PID" ]] && stop_pid "$PID" "${1:-TERM}"
    PID=""
}

# wait_for SECONDS DESCRIPTION COMMAND...: polls COMMAND every 0.1 s.
wait_for() {
    local secs="$1" what="$2"
    shift 2
    local end=$((SECONDS + secs))
    while ((SECONDS < end)); do
        "$@" && return 0
        sleep 0.1
    done
    fail "timed out after ${secs}s waiting for: $what"
}

# kc ARGS...: kcat against the broker, bounded in time.
kc() {
    timeout 30 kcat -b "$BROKER" "$@"
}

# produce TOPIC PARTITION PREFIX FROM TO: values PREFIX-FROM..PREFIX-TO to one partition.
produce() {
    seq "$4" "$5" | sed "s/^/$3-/" | kc -P -t "$1" -p "$2" -X acks=all ||
        fail "kcat produce to $1 [$2] failed"
}
