#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# WebSocket fan-out through shared live tails (adapters/ws/feed.c) with the Node `ws`
# client: live, paused and catching-up subscribers each get every record once, in order.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
source "$HERE/../http/lib.bash"
TESTS="$HERE/../.."
source "$TESTS/node_modules.bash"
need_node_modules "$TESTS" ws || fail "npm ci --prefix tests"
start_broker "${GN_WS_TEST_PORT:-28285}" --num.partitions=2 ${GN_WS_TEST_FLAGS:-}
timeout 120 node "$HERE/ws_fanout.mjs" "$URL" || fail "ws_fanout.mjs"
stop_broker
echo ok
