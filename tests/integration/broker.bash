# SPDX-License-Identifier: Apache-2.0
# What every integration folder's lib.bash shares (sourced, not run): a fresh work
# directory, `fail` with the broker's log, and one `ganglion` with a single listener on
# 127.0.0.1, stopped by PID on exit, also on failure. Set GN_IT_NAME before sourcing
# (it names the work directory). Needs GN_BUILD_DIR (set by ctest).

GANGLION="${GN_BUILD_DIR:?GN_BUILD_DIR must point at the build directory}/ganglion"
WORK="$(mktemp -d "/tmp/gn-it-${GN_IT_NAME:-test}-XXXXXX")"
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

# start_ganglion ADAPTER PORT [extra flags...]: only ADAPTER's listener is on, bound to
# 127.0.0.1:PORT; waits (at most 10 s) for its listening line.
start_ganglion() {
    local adapter="$1" port="$2" a
    shift 2
    local flags=(--data.dir="$WORK/data" "--$adapter.host=127.0.0.1" "--$adapter.port=$port")
    for a in kafka mqtt http; do [[ $a == "$adapter" ]] || flags+=("--$a.port=0"); done
    : >"$LOG" # emptied here, not by the child: a restart must not find the last run's line
    "$GANGLION" "${flags[@]}" "$@" 2>"$LOG" &
    PID=$!
    for ((i = 0; i < 100; i++)); do
        grep -q "mod=$adapter msg=\"listening\"" "$LOG" 2>/dev/null && return 0
        kill -0 "$PID" 2>/dev/null || fail "ganglion exited during start-up"
        sleep 0.1
    done
    fail "no $adapter listening line within 10 s"
}

# stop_ganglion: SIGTERM and a bounded wait for a clean exit (status 0; a crash on the
# way down fails the test).
stop_ganglion() {
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
