#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The WebSocket JSON protocol at /ws with the Node `ws` client (ws_json.mjs).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
source "$HERE/../http/lib.bash"
TESTS="$HERE/../.."
source "$TESTS/node_modules.bash"
need_node_modules "$TESTS" ws || fail "npm ci --prefix tests"
start_broker "${GN_WS_TEST_PORT:-28083}"
timeout 120 node "$HERE/ws_json.mjs" "$URL" || fail "ws_json.mjs"
stop_broker
echo ok
