#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# librdkafka consumer groups: rd_kafka_commit (sync, async with metadata, explicit offsets), rd_kafka_committed, resuming at the commit, and auto commit.
# The checks are in rdkafka_groups.c (case "commit"). Port 29404.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
BIN="$GROUPS_BIN/rdkafka_groups"
[[ -x "$BIN" ]] || fail "$BIN not built (librdkafka-dev missing?)"
start_broker 29404
timeout 90 "$BIN" "$BROKER" commit || fail "rdkafka_groups commit failed"
echo "PASS"
