#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# librdkafka consumer groups: range, roundrobin and cooperative-sticky (partition.assignment.strategy): how two consumers split two 3-partition topics, eager vs incremental revocation, exactly-once reading, and the survivor taking everything back.
# The checks are in rdkafka_groups.c (case "assignors"). Port 29402.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
BIN="$GROUPS_BIN/rdkafka_groups"
[[ -x "$BIN" ]] || fail "$BIN not built (librdkafka-dev missing?)"
start_broker 29402
timeout 90 "$BIN" "$BROKER" assignors || fail "rdkafka_groups assignors failed"
echo "PASS"
