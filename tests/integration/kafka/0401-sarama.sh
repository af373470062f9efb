#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Sarama 1.22 (Go, Debian golang-github-shopify-sarama-dev): admin, an idempotent
# SyncProducer with acks=all and four codecs (zstd in Produce v3 refused, as Kafka
# does), offsets by time, a consumer group that commits part of the log and, after a
# broker restart, resumes there with two members. The checks are in
# sarama/sarama_smoke.go, built by CMake when `go` and Sarama's sources are installed.
# The restart must find every segment's indexes intact (Sarama's batches carry
# maxTimestamp -1; the broker fills it in). Port 29091.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
BIN="$GN_BUILD_DIR/tests/integration/kafka/sarama_smoke"
[[ -x "$BIN" ]] || fail "$BIN not built (apt-get install golang-go golang-github-shopify-sarama-dev, then re-run cmake)"
start_broker 29091 --group.initial.rebalance.delay.ms=0
timeout 180 "$BIN" "$BROKER" first "$WORK/commits" || fail "sarama first phase"
stop_ganglion
start_broker 29091 --group.initial.rebalance.delay.ms=0
timeout 120 "$BIN" "$BROKER" resume "$WORK/commits" || fail "sarama resume phase"
if grep "index files missing or corrupt" "$LOG"; then fail "indexes rebuilt after a clean stop"; fi
echo "PASS"
