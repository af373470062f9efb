#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# librdkafka Admin API (C): create topics (and refusals), describe and alter configs,
# create partitions, delete records, delete topics. The checks
# are in rdkafka_admin.c. Port 29098.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
BIN="$GN_BUILD_DIR/tests/integration/kafka/rdkafka_admin"
[[ -x "$BIN" ]] || fail "$BIN not built (librdkafka-dev missing?)"
start_broker 29098
timeout 120 "$BIN" "$BROKER" || fail "rdkafka_admin failed"
echo "PASS"
