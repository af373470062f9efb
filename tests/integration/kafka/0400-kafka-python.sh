#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# kafka-python (Debian python3-kafka, a pure-Python client, no librdkafka underneath):
# admin create/describe configs/delete topics, acks=all produce with each codec it has,
# offsets by time, and a consumer group that commits half, survives a broker restart
# and resumes from the committed offsets. The checks are in kafka_python_smoke.py.
# Port 29090.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
PY=/usr/bin/python3 # Debian's python, where python3-kafka is installed
"$PY" -c "import kafka" 2>/dev/null || fail "kafka-python missing (apt-get install python3-kafka)"
SMOKE="$(dirname "$0")/kafka_python_smoke.py"
start_broker 29090 --group.initial.rebalance.delay.ms=0
timeout 180 "$PY" "$SMOKE" "$BROKER" first "$WORK/commits" || fail "kafka-python first phase"
stop_ganglion
start_broker 29090 --group.initial.rebalance.delay.ms=0
timeout 120 "$PY" "$SMOKE" "$BROKER" resume "$WORK/commits" || fail "kafka-python resume phase"
echo "PASS"
