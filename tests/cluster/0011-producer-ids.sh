#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Producer ids come from blocks the controller hands out in the metadata log: idempotent
# kcat producers, each bootstrapped from one of three brokers (which answers its
# InitProducerId), get ids that are all different, also after every broker is restarted
# (a restarted broker takes a fresh block). librdkafka's eos debug log names the broker
# asked and the id it got; every broker must have answered some. Ports 29600-29629;
# bounded to about a minute.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
command -v kcat >/dev/null || { echo "SKIP: kcat not installed"; exit 0; }

for n in 1 2 3; do start_broker "$n"; done
wait_for 20 "three brokers registered" brokers_in_metadata 3
wait_for 20 "the topic on every broker" bash -c "[[ \"\$(kcat -L -b '$(bootstrap)' -t pids -m 2 | grep -o 'isrs: .*')\" =~ ^isrs:\ [0-9],[0-9],[0-9]$ ]]"

# one idempotent producer through broker N: "N <producer id>" appended to ids.txt
produce_via() {
    local n=$1 out="$WORK/kcat-$1.log" id asked
    echo "via $n" | kcat -P -b "127.0.0.1:${GN_CLUSTER_PORTS}0$n" -t pids -X enable.idempotence=true \
        -X message.timeout.ms=20000 -d eos >"$out" 2>&1 || fail "producer via $n: $(tail -3 "$out")"
    grep -q "Delivery failed" "$out" && fail "producer via $n: $(grep -m3 'Delivery failed' "$out")"
    id=$(grep -o 'PID{Id:[0-9]*' "$out" | head -1 | sed 's/PID{Id://')
    [[ -n $id ]] || fail "no producer id in the client's log via broker $n"
    # the broker that answered: "127.0.0.1:<GN_CLUSTER_PORTS>0N/...: Acquiring ProducerId"
    asked=$(sed -n 's/.*127\.0\.0\.1:'"$GN_CLUSTER_PORTS"'0\([123]\)\/[a-z0-9]*: Acquiring ProducerId.*/\1/p' "$out" | tail -1)
    echo "${asked:-?} $id" >>"$WORK/ids.txt"
}

round() {
    for n in 1 2 3; do
        for _ in 1 2 3; do produce_via "$n"; done
    done
}
round
for n in 1 2 3; do # every broker restarted: new blocks, no id again
    kill9 "$n"
    start_broker "$n"
    wait_for 20 "broker $n back" bash -c "[[ \$(kcat -L -b 127.0.0.1:${GN_CLUSTER_PORTS}0$n -m 2 | grep -c '^  broker ') == 3 ]]"
done
round

total=$(wc -l <"$WORK/ids.txt")
distinct=$(awk '{print $NF}' "$WORK/ids.txt" | sort -u | wc -l)
echo "$total producers, $distinct distinct producer ids"
[[ $total == 18 ]] || fail "want 18 producers, got $total"
[[ $distinct == "$total" ]] || fail "a producer id was handed out twice: $(awk '{print $NF}' "$WORK/ids.txt" | sort | uniq -d | head -3)"
# every broker answered some (else this proves nothing across brokers)
for n in 1 2 3; do
    grep -q "^$n " "$WORK/ids.txt" || fail "broker $n answered no InitProducerId: $(tr '\n' ' ' <"$WORK/ids.txt")"
done
echo "ids (answering broker, id): $(tr '\n' ' ' <"$WORK/ids.txt")"
stop_all
check_logs
echo "PASS"
