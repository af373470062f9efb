# SPDX-License-Identifier: Apache-2.0
# Shared by the stream processor integration scripts (sourced, not run): one `ganglion`
# with its HTTP listener (the /streams API) on 127.0.0.1:$PORT plus the listeners the
# script asks for, a fresh data directory, and helpers for curl and kcat. Stopped by PID
# on exit.

GN_IT_NAME=streams
source "$(dirname "${BASH_SOURCE[0]}")/../broker.bash"
for tool in curl jq kcat; do
    command -v "$tool" >/dev/null || { echo "SKIP: $tool not installed"; exit 0; }
done

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

# rest METHOD PATH [JSON]: the body lands in $WORK/rest.json, the status is printed.
rest() {
    local args=(-sS --max-time 20 -o "$WORK/rest.json" -w '%{http_code}' -X "$1")
    [[ $# -ge 3 ]] && args+=(-H 'Content-Type: application/json' --data "$3")
    curl "${args[@]}" "$URL$2"
}

expect_eq() {
    [[ "$2" == "$3" ]] || fail "$1: got '$2', want '$3'"
}

# records BROKER TOPIC FORMAT: every record of TOPIC (all partitions) in kcat's FORMAT.
records() {
    timeout 20 kcat -b "$1" -C -t "$2" -e -q -f "$3" 2>/dev/null || true
}

# wait_for WHAT SECONDS CMD...: runs CMD every 0.1 s until it succeeds.
wait_for() {
    local what="$1" end=$((SECONDS + $2))
    shift 2
    while ((SECONDS < end)); do
        "$@" && return 0
        sleep 0.1
    done
    fail "$what: not in time"
}
