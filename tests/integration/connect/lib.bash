# SPDX-License-Identifier: Apache-2.0
# Shared by the Kafka Connect integration scripts (sourced, not run): one `ganglion`
# with its HTTP listener (Connect's REST API) on 127.0.0.1:$PORT plus the listeners the
# script asks for, a fresh data directory whose connect/ subdirectory holds the files,
# and helpers for curl and for waiting on kcat. Stopped by PID on exit.

GN_IT_NAME=connect
source "$(dirname "${BASH_SOURCE[0]}")/../broker.bash"
for tool in curl jq kcat; do
    command -v "$tool" >/dev/null || { echo "SKIP: $tool not installed"; exit 0; }
done
FILES="$WORK/data/connect"

# start_broker HTTP_PORT [extra flags...]
start_broker() {
    PORT="$1"
    shift
    URL="http://127.0.0.1:$PORT"
    start_ganglion http "$PORT" "$@"
}

stop_broker() {
    stop_ganglion
}

# rest METHOD PATH [JSON]: Connect's REST API; the body lands in $WORK/rest.json, the
# status is printed.
rest() {
    local args=(-sS --max-time 20 -o "$WORK/rest.json" -w '%{http_code}' -X "$1")
    [[ $# -ge 3 ]] && args+=(-H 'Content-Type: application/json' --data "$3")
    curl "${args[@]}" "$URL$2"
}

expect_eq() {
    [[ "$2" == "$3" ]] || fail "$1: got '$2', want '$3'"
}

# topic_values BROKER TOPIC: every record value of TOPIC, one a line (kcat).
topic_values() {
    timeout 20 kcat -b "$1" -C -t "$2" -e -q -f '%s\n' 2>/dev/null || true
}

# wait_for WHAT SECONDS CMD...: runs CMD every 0.1 s until it succeeds.
wait_for() {
    local what="$1" secs="$2" i
    shift 2
    for ((i = 0; i < secs * 10; i++)); do
        "$@" && return 0
        sleep 0.1
    done
    fail "$what: not within $secs s"
}
