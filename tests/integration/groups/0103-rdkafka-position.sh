#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# librdkafka consumer groups: offsets_for_times, seek forward and back by time, pause/resume in a group consumer.
# The checks are in rdkafka_groups.c (case "position"). Port 29405.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
BIN="$GROUPS_BIN/rdkafka_groups"
[[ -x "$BIN" ]] || fail "$BIN not built (librdkafka-dev missing?)"
start_broker 29405
timeout 90 "$BIN" "$BROKER" position || fail "rdkafka_groups position failed"
echo "PASS"
