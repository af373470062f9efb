# SPDX-License-Identifier: Apache-2.0
# Shared by the HTTP, WebSocket and console integration scripts (sourced, not run):
# starts one `ganglion` with only the HTTP listener on 127.0.0.1:$PORT (plus any extra
# flags) and a fresh data directory, waits (bounded) for its listening line, and stops
# it by PID on exit, also on failure. Needs GN_BUILD_DIR (set by ctest).

GN_IT_NAME=http
source "$(dirname "${BASH_SOURCE[0]}")/../broker.bash"

# start_broker PORT [extra flags...]
start_broker() {
    PORT="$1"
    shift
    URL="http://127.0.0.1:$PORT"
    start_ganglion http "$PORT" "$@"
}

# stop_broker: SIGTERM and a bounded wait for a clean exit (status 0).
stop_broker() {
    stop_ganglion
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
