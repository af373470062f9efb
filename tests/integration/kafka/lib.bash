# SPDX-License-Identifier: Apache-2.0
# Shared by the Kafka integration scripts (sourced, not run): starts one `ganglion`
# with only the Kafka listener on 127.0.0.1:$PORT and a fresh data directory, waits
# (bounded) for its listening line, and stops it by PID on exit, also on failure.
# Needs GN_BUILD_DIR (set by ctest).

GN_IT_NAME=kafka
source "$(dirname "${BASH_SOURCE[0]}")/../broker.bash"

# start_broker PORT [extra flags...]
start_broker() {
    PORT="$1"
    shift
    BROKER="127.0.0.1:$PORT"
    start_ganglion kafka "$PORT" "$@"
}

# kc ARGS...: kcat against the broker, bounded in time.
kc() {
    timeout 30 kcat -b "$BROKER" "$@"
}
