#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# librdkafka consumer groups: static membership (group.instance.id): a restarted member gets its partitions back without a rebalance of the other member.
# The checks are in rdkafka_groups.c (case "static"). Port 29403.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
BIN="$GROUPS_BIN/rdkafka_groups"
[[ -x "$BIN" ]] || fail "$BIN not built (librdkafka-dev missing?)"
start_broker 29403
timeout 90 "$BIN" "$BROKER" static || fail "rdkafka_groups static failed"
echo "PASS"
