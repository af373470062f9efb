#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Gateway members of a consumer group whose coordinator is another broker: three brokers
# with their MQTT and HTTP listeners, a 4-partition topic (replication factor 3: every
# broker has a replica), a group G whose coordinator (the leader of its __consumer_offsets
# partition, found with FindCoordinator) is broker C. An MQTT `$share/G/...` subscriber
# (mosquitto_sub) on broker M != C and a kcat consumer in group G on broker C split the
# partitions, and each record produced afterwards is delivered once across the two. The
# MQTT member is an ordinary member on C (DescribeGroups there lists it with its
# partitions) and its commits, made through M, are C's (OffsetFetch on C). A REST v2
# consumer instance in G on the third broker R joins, consumes and commits (OffsetFetch
# on C again). Then C is killed with SIGKILL: the gateway members find the new
# coordinator, rejoin, and the records produced afterwards are each delivered once across
# them. Last the new coordinator is killed too: the remaining broker, coordinating nothing,
# logs its gateway member's retries and stays up. Ports 29600-29649 (GN_CLUSTER_PORTS); bounded to about two minutes.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
for tool in kcat mosquitto_sub curl jq python3; do
    command -v "$tool" >/dev/null || { echo "SKIP: $tool not installed"; exit 0; }
done
HERE="$(cd "$(dirname "$0")" && pwd)"
T=gg

for n in 1 2 3; do
    start_broker "$n" --gateways --num.partitions=4 --group.initial.rebalance.delay.ms=0
done
wait_for 20 "three brokers registered" brokers_in_metadata 3
wait_for 30 "topic $T: 4 partitions with an ISR of three" bash -c \
    "[[ \"\$(kcat -L -b '$(bootstrap)' -t $T -m 2 | grep -c 'isrs: [0-9],[0-9],[0-9]$')\" == 4 ]]"
for n in 1 2 3; do
    wait_for 20 "broker $n knows $T" bash -c \
        "[[ \"\$(kcat -L -b 127.0.0.1:${GN_CLUSTER_PORTS}0$n -t $T -m 2 | grep -c 'leader [123],')\" == 4 ]]"
done

# G: the first of gw-0, gw-1, ... whose coordinator is not broker 2 or 3 picked for M
coordinator() { python3 "$HERE/group_probe.py" "127.0.0.1:${GN_CLUSTER_PORTS}01" "$1" | sed -n 's/^coordinator=\([0-9]*\).*/\1/p'; }
wait_for 30 "FindCoordinator answers (__consumer_offsets created)" coordinator gw-probe
C=$(coordinator gw-0)
G=gw-0
[[ "$C" =~ ^[123]$ ]] || fail "no coordinator for $G: '$C'"
others=()
for n in 1 2 3; do [[ $n == "$C" ]] || others+=("$n"); done
M=${others[0]} R=${others[1]}
for n in 1 2 3; do # every broker's image names the same coordinator
    wait_for 20 "broker $n names coordinator $C" bash -c \
        "python3 '$HERE/group_probe.py' 127.0.0.1:${GN_CLUSTER_PORTS}0$n $G | grep -q '^coordinator=$C '"
done
echo "group $G: coordinator $C, MQTT member on $M, REST member on $R"
view() { python3 "$HERE/group_view.py" "127.0.0.1:${GN_CLUSTER_PORTS}0$1" "$G" "$T" 4; }

# ---- MQTT on M and kcat on C split the partitions
timeout 150 mosquitto_sub -h 127.0.0.1 -p "$(mqtt_port "$M")" -V mqttv5 -i mq-member -q 1 \
    -t "\$share/$G/$T/#" -v >"$WORK/mqtt.txt" 2>"$WORK/mqtt.err" &
MQTT=$!
wait_for 20 "MQTT member assigned" grep -q 'shared subscription assigned" client=mq-member' "$WORK/b$M.log"
grep -q 'cannot join' "$WORK/b$M.log" && fail "the MQTT member could not join: $(grep 'cannot join' "$WORK/b$M.log" | head -1)"
timeout 150 kcat -b "127.0.0.1:${GN_CLUSTER_PORTS}0$C" -G "$G" -u -X session.timeout.ms=6000 \
    -X heartbeat.interval.ms=300 -X auto.offset.reset=latest -f '%p %s\n' $T \
    >"$WORK/kafka.txt" 2>"$WORK/kafka.err" &
KCAT=$!
trap 'kill $MQTT $KCAT 2>/dev/null || true; cleanup' EXIT

kcat_parts() { # partitions of kcat's latest assignment
    { grep 'assigned:' "$WORK/kafka.err" || true; } | tail -n 1 | grep -o '\[[0-9]*\]' | tr -d '[]' |
        sort -n | tr '\n' ' ' || true
}
mqtt_count() { # partitions of the MQTT member's latest assignment
    grep 'shared subscription assigned" client=mq-member' "$WORK/b$M.log" | tail -1 |
        sed -n 's/.* partitions=\([0-9]*\).*/\1/p'
}
split_ok() {
    local k
    k=$(kcat_parts | wc -w)
    ((k >= 1 && k <= 3)) && [[ "$(mqtt_count)" == $((4 - k)) ]]
}
wait_for 40 "kcat and the MQTT member split the 4 partitions" split_ok
sleep 1 # both settled in one generation
KP=$(kcat_parts)
echo "kcat (on $C) assigned [$KP], the MQTT member (on $M) $(mqtt_count) partitions"

# the MQTT member is an ordinary member on the coordinator, with its partitions
v=$(view "$C")
grep -q '^state=Stable error=0$' <<<"$v" || fail "group on $C: $v"
mq_desc=$(grep '^member client_id=mq-member ' <<<"$v") || fail "no MQTT member on $C: $v"
MP=$(sed -n 's/.*partitions=//p' <<<"$mq_desc" | tr ',' ' ')
[[ $(echo $MP | wc -w) == $(mqtt_count) ]] || fail "DescribeGroups on $C: MQTT member has [$MP]"
for p in $MP; do [[ " $KP" != *" $p "* ]] || fail "partition $p assigned to both: $v"; done
echo "DescribeGroups on $C: mq-member holds [$MP]"

produce() { # PREFIX: 10 keyed records to each partition
    for p in 0 1 2 3; do
        for i in $(seq 1 10); do echo "k$i:$1$p-$i"; done |
            kcat -b "$(bootstrap)" -P -t $T -p "$p" -K: -X acks=all || fail "kcat produce"
    done
}
count() { cat "$@" 2>/dev/null | grep -o "$PREFIX[0-9]-[0-9]*" | wc -l; }
PREFIX=a
produce a
wait_for 30 "40 records across the MQTT and kcat members" bash -c \
    "(( \$(cat '$WORK/mqtt.txt' '$WORK/kafka.txt' | grep -o 'a[0-9]-[0-9]*' | wc -l) >= 40 ))"
sleep 1 # anything more would be a duplicate
[[ $(count "$WORK/mqtt.txt" "$WORK/kafka.txt") == 40 ]] ||
    fail "delivered $(count "$WORK/mqtt.txt" "$WORK/kafka.txt") of 40 records across both"
dups=$(cat "$WORK/mqtt.txt" "$WORK/kafka.txt" | grep -o 'a[0-9]-[0-9]*' | sort | uniq -d | wc -l)
((dups == 0)) || fail "$dups records delivered twice"
mq_read=$(grep -o ' a[0-9]-' "$WORK/mqtt.txt" | tr -dc '0-9\n' | sort -u | tr '\n' ' ')
[[ "$mq_read" == "$(echo $MP | tr ' ' '\n' | sort -n | tr '\n' ' ')" ]] ||
    fail "the MQTT member read partitions [$mq_read], assigned [$MP]"
echo "40 records: each once; MQTT read [$mq_read], kcat the rest"

# ---- the MQTT member's commits (made through M, every second) are on C
end_of() { kcat -Q -b "$(bootstrap)" -t "$T:$1:-1" 2>/dev/null | awk '{print $NF}'; }
committed_on() { # BROKER PARTITION
    view "$1" | sed -n "s/^offset partition=$2 offset=\([0-9-]*\) error=0$/\1/p"
}
for p in $MP; do
    e=$(end_of "$p")
    wait_for 15 "MQTT commit of partition $p at $e, fetched from $C" \
        bash -c "[[ \"\$(python3 '$HERE/group_view.py' 127.0.0.1:${GN_CLUSTER_PORTS}0$C $G $T 4 | sed -n 's/^offset partition=$p offset=\([0-9-]*\) error=0$/\1/p')\" == $e ]]"
done
echo "OffsetFetch on $C: the MQTT member's partitions committed at their ends"

# ---- a REST consumer instance on R joins G, consumes and commits
kill $KCAT 2>/dev/null || true
wait $KCAT 2>/dev/null || true
URL="http://127.0.0.1:$(http_port "$R")"
CT='Content-Type: application/vnd.kafka.v2+json'
AJ='Accept: application/vnd.kafka.json.v2+json'
rest_create() { # 503 while __rest_consumers, created by the first instance, has no leader yet
    [[ $(curl -sS -o "$WORK/rest.create" -w '%{http_code}' -X POST -H "$CT" "$URL/consumers/$G" \
        --data '{"name":"r1","format":"json","auto.offset.reset":"latest","auto.commit.enable":"false"}') == 200 ]]
}
wait_for 20 "REST consumer instance created on $R" rest_create
curl -sS -f -X POST -H "$CT" "$URL/consumers/$G/instances/r1/subscription" \
    --data "{\"topics\":[\"$T\"]}" || fail "REST subscribe"
rest_parts() {
    curl -sS "$URL/consumers/$G/instances/r1/assignments" | jq -r '[.partitions[].partition]|sort|map(tostring)|join(" ")'
}
rest_split_ok() {
    local r
    r=$(rest_parts | wc -w)
    ((r >= 1 && r <= 3)) && [[ "$(mqtt_count)" == $((4 - r)) ]]
}
wait_for 40 "the REST and MQTT members split the 4 partitions" rest_split_ok
sleep 1
RP=$(rest_parts)
grep -q "^member client_id=rest " <<<"$(view "$C")" || fail "no REST member on $C: $(view "$C")"
echo "REST member (on $R) assigned [$RP], MQTT $(mqtt_count) partitions"

rest_poll() { # appends the records' values to rest.txt
    curl -sS -H "$AJ" "$URL/consumers/$G/instances/r1/records?timeout=500" |
        jq -r '.[] | "\(.partition) \(.value)"' >>"$WORK/rest.txt"
}
: >"$WORK/rest.txt"
rest_poll # positions taken before the records arrive
PREFIX=b
produce b
for _ in $(seq 1 60); do
    rest_poll
    (($(count "$WORK/mqtt.txt" "$WORK/rest.txt") >= 40)) && break
    sleep 0.3
done
rest_poll
[[ $(count "$WORK/mqtt.txt" "$WORK/rest.txt") == 40 ]] ||
    fail "delivered $(count "$WORK/mqtt.txt" "$WORK/rest.txt") of 40 records across MQTT and REST"
rest_read=$(grep -o ' b[0-9]-' "$WORK/rest.txt" | tr -dc '0-9\n' | sort -u | tr '\n' ' ')
[[ "$rest_read" == "$RP " ]] || fail "REST read partitions [$rest_read], assigned [$RP]"
curl -sS -f -X POST -H "$CT" "$URL/consumers/$G/instances/r1/offsets" || fail "REST commit"
for p in $RP; do
    e=$(end_of "$p")
    [[ "$(committed_on "$C" "$p")" == "$e" ]] ||
        fail "REST commit of partition $p: $(committed_on "$C" "$p") on $C, end $e"
done
echo "40 records: each once across MQTT and REST; REST commit through $R fetched on $C"

# ---- the coordinator dies: the gateway members rejoin at the new one
before=$(grep -c 'shared subscription assigned" client=mq-member' "$WORK/b$M.log")
kill9 "$C"
new_coord() { python3 "$HERE/group_probe.py" "127.0.0.1:${GN_CLUSTER_PORTS}0$M" "$G" | sed -n 's/^coordinator=\([0-9]*\).*/\1/p'; }
wait_for 40 "a new coordinator for $G" bash -c "c=\$(python3 '$HERE/group_probe.py' 127.0.0.1:${GN_CLUSTER_PORTS}0$M $G | sed -n 's/^coordinator=\([0-9]*\).*/\1/p'); [[ \$c =~ ^[123]$ && \$c != $C ]]"
C2=$(new_coord)
rejoined() {
    (($(grep -c 'shared subscription assigned" client=mq-member' "$WORK/b$M.log") > before)) &&
        r=$(rest_parts | wc -w) && ((r >= 1 && r <= 3)) && [[ "$(mqtt_count)" == $((4 - r)) ]]
}
wait_for 60 "MQTT and REST members rejoined at $C2 and split the partitions" rejoined
sleep 1
grep -q "^member client_id=mq-member " <<<"$(view "$C2")" || fail "no MQTT member on $C2: $(view "$C2")"
grep -q "^member client_id=rest " <<<"$(view "$C2")" || fail "no REST member on $C2: $(view "$C2")"
RP=$(rest_parts)
echo "coordinator $C killed; new coordinator $C2: REST [$RP], MQTT $(mqtt_count) partitions"
rest_poll
PREFIX=c
produce c
for _ in $(seq 1 60); do
    rest_poll
    (($(count "$WORK/mqtt.txt" "$WORK/rest.txt") >= 40)) && break
    sleep 0.3
done
rest_poll
sleep 1
rest_poll
got=$(count "$WORK/mqtt.txt" "$WORK/rest.txt")
dups=$(cat "$WORK/mqtt.txt" "$WORK/rest.txt" | grep -o 'c[0-9]-[0-9]*' | sort | uniq -d | wc -l)
((got == 40 && dups == 0)) || fail "after the failover: $got records delivered, $dups twice (want 40, 0)"
echo "after the failover: 40 records, each once across MQTT and REST"

# ---- no coordinator at all: C2 killed too; the last broker X holds no metadata lease
# alone, so no broker coordinates G: X's gateway member gives up its partitions, logs its
# retries (looking the coordinator up again) and X stays up
X=$M
[[ $C2 == "$M" ]] && X=$R
retries() { grep -c 'looking it up again" group=gw-0 member=\(mq-member\|r1\)-' "$WORK/b$X.log" || true; }
n0=$(retries)
kill9 "$C2"
wait_for 30 "broker $X logs its gateway member's retries" bash -c "(( \$(grep -c 'looking it up again\" group=gw-0 member=\\(mq-member\\|r1\\)-' '$WORK/b$X.log') > $n0 ))"
sleep 2
kill -0 "${PIDS[$X]}" || fail "broker $X died without a coordinator"
curl -sS -f "http://127.0.0.1:$(http_port "$X")/healthz" >/dev/null || fail "broker $X does not answer HTTP"
echo "no coordinator: broker $X retries ($(grep 'looking it up again' "$WORK/b$X.log" | tail -1 | grep -o 'err=[A-Z_]*')) and stays up"
kill $MQTT 2>/dev/null || true
stop_all # a clean shutdown with remote members and RPC clients in place
check_logs
echo ok
