#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Admin requests are decided once, by the metadata log, whichever broker receives them
# (raw Kafka through tests/cluster/raw_admin.py): 20 rounds of two concurrent CreateTopics
# of one name through two different brokers (exactly one succeeds, the other gets
# TOPIC_ALREADY_EXISTS, every broker then reports the same topic id and replicas); 10
# rounds of concurrent CreatePartitions (the same count: exactly one succeeds, the other
# gets INVALID_PARTITIONS; different counts: the larger succeeds) with every broker
# agreeing on the partitions and their replicas; 10 rounds of concurrent
# IncrementalAlterConfigs of two different keys through two brokers (both kept, on every
# broker); and 5 rounds of a creation while a non-controller broker is stopped (SIGSTOP),
# that broker resumed with a Metadata request allowing auto-creation queued: it never
# makes a second incarnation of the topic. Each part fails on the code before conditional
# records. Ports from GN_CLUSTER_PORTS (default 29600-29629); about a minute.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
command -v kcat >/dev/null || { echo "SKIP: kcat not installed"; exit 0; }
command -v python3 >/dev/null || { echo "SKIP: python3 not installed"; exit 0; }
RAW="$(dirname "$0")/raw_admin.py"
kafka() { echo "127.0.0.1:${GN_CLUSTER_PORTS}0$1"; }

for n in 1 2 3; do start_broker "$n"; done
wait_for 20 "three brokers registered" brokers_in_metadata 3
# every broker sees the three (the replication factor 3 is checked where the create lands)
for n in 1 2 3; do
    wait_for 20 "broker $n sees three brokers" bash -c "[[ \$(kcat -L -b $(kafka "$n") -m 2 | grep -c '^  broker ') == 3 ]]"
done

python3 "$RAW" create-race 20 "$(kafka 1)" "$(kafka 2)" "$(kafka 3)" || fail "create race"
python3 "$RAW" partitions-race 10 "$(kafka 1)" "$(kafka 2)" "$(kafka 3)" || fail "partitions race"
python3 "$RAW" configs-race 10 "$(kafka 1)" "$(kafka 2)" "$(kafka 3)" || fail "configs race"

controller=$(kcat -L -b "$(kafka 1)" -m 2 | sed -n 's/^  broker \([0-9]\) at .*(controller).*/\1/p')
[[ $controller =~ ^[123]$ ]] || fail "no controller in the metadata"
lagging=$((controller % 3 + 1))
via=$((lagging % 3 + 1))
echo "controller $controller; creating through $via while $lagging is stopped"
python3 "$RAW" lagging-auto-create 5 "$(kafka "$via")" "$(kafka "$lagging")" "${PIDS[$lagging]}" \
    "$(kafka "$controller")" || fail "auto-create through a lagging broker"

# no broker applied a refused record as a change: nothing logged as ignored or failed
if grep -h 'metadata record ignored\|cannot apply a topic change\|cannot open a topic' "$WORK"/b*.log; then
    fail "a broker failed to apply a topic record"
fi
check_logs
echo "PASS"
