#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# librdkafka (C): acks=all with the four compression codecs, null keys and values,
# headers, CreateTime timestamps; assign() from beginning, offset and end. The checks
# are in rdkafka_produce_consume.c. Port 29097.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
BIN="$GN_BUILD_DIR/tests/integration/kafka/rdkafka_produce_consume"
[[ -x "$BIN" ]] || fail "$BIN not built (librdkafka-dev missing?)"
start_broker 29097
timeout 120 "$BIN" "$BROKER" || fail "rdkafka_produce_consume failed"
echo "PASS"
