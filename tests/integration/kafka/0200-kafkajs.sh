#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# kafkajs 2.2.4 (Node): admin, gzip produce with acks=-1, offsets by time; kafkajs
# negotiates differently from librdkafka (ApiVersions v2, Metadata v6, ignores
# MinVersion). Installs kafkajs into this folder with `npm ci` when it is missing.
# Port 29095.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
HERE="$(cd "$(dirname "$0")" && pwd)"
source "$HERE/../../node_modules.bash"
need_node_modules "$HERE" kafkajs || fail "cannot install kafkajs (npm ci --prefix $HERE)"
start_broker 29095
(cd "$HERE" && timeout 60 node kafkajs_smoke.js "$BROKER") || fail "kafkajs smoke test failed"
echo "PASS"
