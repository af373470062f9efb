# SPDX-License-Identifier: Apache-2.0
# Shared by the HTTP, WebSocket and console integration scripts (sourced, not run):
# starts one `ganglion` with only the HTTP listener on 127.0.0.1:$PORT (plus any extra
# flags) and a fresh data directory, waits (bounded) for its listening line, and stops
# it by PID on exit, also on failure. Needs GN_BUILD_DIR (set by ctest).

GANGLION="${GN_BUILD_DIR:?GN_BUILD_DIR must point at the build directory}/ganglion"
WORK="$(mktemp -d /tmp/gn-it-http-XXXXXX)"
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
    URL="http://127.0.0.1:$PORT"
    "$GANGLION" --data.dir="$WORK/data" --http.host=127.0.0.1 --http.port="$PORT" \
        --kafka.port=0 --mqtt.port=0 "$@" 2>"$LOG" &
    PID=$!
    for ((i = 0; i < 100; i++)); do
        grep -q 'mod=http msg="listening"' "$LOG" 2>/dev/null && return 0
        kill -0 "$PID" 2>/dev/null || fail "ganglion exited during start-up"
        sleep 0.1
    done
    fail "no HTTP listening line within 10 s"
}

# stop_broker: SIGTERM and a bounded wait for a clean exit (status 0).
stop_broker() {
    kill -TERM "$PID"
    for ((i = 0; i < 100; i++)); do
        kill -0 "$PID" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$PID" 2>/dev/null && fail "ganglion did not stop within 10 s of SIGTERM"
    local rc=0
    wait "$PID" || rc=$?
    PID=""
    [[ $rc -eq 0 ]] || fail "ganglion exited with $rc"
}

# c ARGS...: curl, bounded in time, failing on transport errors only.
c() {
    curl -sS --max-time 20 "$@"
}

# expect_eq WHAT GOT WANT
expect_eq() {
    [[ "$2" == "$3" ]] || fail "$1: got '$2', want '$3'"
}

# status METHOD PATH [curl args...]: prints the HTTP status code only.
status() {
    local m="$1" p="$2"
    shift 2
    c -o /dev/null -w '%{http_code}' -X "$m" "$@" "$URL$p"
}

# json_field JSON JQ-FILTER
jf() {
    jq -r "$2" <<<"$1"
}
