#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Two of three brokers killed under acks=all (replication factor 3, min.insync.replicas
# 2): a librdkafka producer (rdkafka_acked_producer.c: acks=all, no retries, one request
# in flight, uncompressed) writes numbered records, about 100 a second, to the partition
# led by L and reports each delivery; both followers are killed with SIGKILL mid-stream.
# Nothing is acknowledged that is not replicated: every acknowledged record is in the
# segment files a killed follower left on disk. Once L no longer counts the followers
# (a broker session) acks=all is refused with NOT_ENOUGH_REPLICAS, and a refused record
# is never in the log. One follower comes back: writes resume, and every acknowledged
# record is read back once, at the offset its acknowledgement gave. Ports 29600-29629
# (GN_CLUSTER_PORTS); bounded to about a minute.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
command -v kcat >/dev/null || { echo "SKIP: kcat not installed"; exit 0; }
BIN="$BUILD/tests/cluster/rdkafka_acked_producer"
[[ -x "$BIN" ]] || { echo "SKIP: $BIN not built (librdkafka-dev missing?)"; exit 0; }

for n in 1 2 3; do start_broker "$n"; done
wait_for 20 "three brokers registered" brokers_in_metadata 3
wait_for 30 "ISR of three" isr_full td
L=$(leader_of td)
[[ "$L" =~ ^[123]$ ]] || fail "no leader: $L"
FOLLOWERS=()
for n in 1 2 3; do [[ $n == "$L" ]] || FOLLOWERS+=("$n"); done
echo "leader $L, followers ${FOLLOWERS[*]}"

# acked_produce BROKERS: records from stdin, a report per record on stdout
acked_produce() {
    "$BIN" "$1" td 0 acks=all retries=0 enable.idempotence=false max.in.flight=1 \
        compression.codec=none linger.ms=5 request.timeout.ms=3000 message.timeout.ms=6000
}
first() { echo v00000 | acked_produce "$(bootstrap)" | grep -q '^ok '; }
wait_for 20 "the first record acknowledged" first

# numbered records through the kill, about 100 a second for 10 s
N=1000
for i in $(seq 1 $N); do
    printf 'v%05d\n' "$i"
    ((i % 10 == 0)) && sleep 0.1
done | acked_produce "127.0.0.1:${GN_CLUSTER_PORTS}0$L" >"$WORK/reports.txt" 2>"$WORK/producer.err" &
PRODUCER=$!
sleep 3
for n in "${FOLLOWERS[@]}"; do kill -9 "${PIDS[$n]}"; done
for n in "${FOLLOWERS[@]}"; do kill9 "$n"; done
echo "killed followers ${FOLLOWERS[*]}"
wait "$PRODUCER" || fail "producer failed: $(tail -3 "$WORK/producer.err")"

grep '^ok ' "$WORK/reports.txt" | awk '{print $2}' | sort >"$WORK/acked.txt"
grep '^err .* NOT_ENOUGH_REPLICAS$' "$WORK/reports.txt" | awk '{print $2}' | sort >"$WORK/refused.txt"
NACK=$(wc -l <"$WORK/acked.txt")
echo "reports: $NACK acknowledged, $(wc -l <"$WORK/refused.txt") NOT_ENOUGH_REPLICAS," \
    "$(grep -c '^err ' "$WORK/reports.txt" || true) errors in all ($(grep '^err ' "$WORK/reports.txt" | awk '{print $3}' | sort | uniq -c | tr '\n' ' '))"
((NACK >= 100)) || fail "only $NACK records acknowledged before the kill"
[[ -s "$WORK/refused.txt" ]] || fail "acks=all with one live replica never answered NOT_ENOUGH_REPLICAS"

# what the dead followers hold on disk: every acknowledged record is in one of them
cat "$WORK/d${FOLLOWERS[0]}"/td-0/*.log "$WORK/d${FOLLOWERS[1]}"/td-0/*.log |
    grep -a -o 'v[0-9]\{5\}' | sort -u >"$WORK/replicated.txt" || true
comm -23 "$WORK/acked.txt" "$WORK/replicated.txt" >"$WORK/unreplicated.txt"
[[ ! -s "$WORK/unreplicated.txt" ]] ||
    fail "$(wc -l <"$WORK/unreplicated.txt") acknowledged records on no follower, first $(head -1 "$WORK/unreplicated.txt")"
echo "every acknowledged record is on a killed follower's disk ($(wc -l <"$WORK/replicated.txt") records there)"

# one follower back: it catches up, writes resume
start_broker "${FOLLOWERS[0]}"
resumed() { echo v99999 | acked_produce "$(bootstrap)" | grep -q '^ok '; }
wait_for 30 "acks=all writes resume with one follower back" resumed
echo "writes resumed with broker ${FOLLOWERS[0]} back"

kcat -C -b "$(bootstrap)" -t td -p 0 -o beginning -e -q -f '%o %s\n' >"$WORK/read.txt" ||
    fail "consume failed"
awk '{print $2}' "$WORK/read.txt" | sort | uniq -d >"$WORK/dups.txt"
[[ ! -s "$WORK/dups.txt" ]] || fail "records twice in the log: $(head -3 "$WORK/dups.txt" | tr '\n' ' ')"
# every acknowledged record at the offset its acknowledgement gave
grep '^ok ' "$WORK/reports.txt" | awk '{print $4, $2}' | sort >"$WORK/acked-at.txt"
sort "$WORK/read.txt" | comm -23 "$WORK/acked-at.txt" - >"$WORK/lost.txt"
[[ ! -s "$WORK/lost.txt" ]] ||
    fail "$(wc -l <"$WORK/lost.txt") acknowledged records not read back at their offset: $(head -3 "$WORK/lost.txt" | tr '\n' ' ')"
awk '{print $2}' "$WORK/read.txt" | sort | comm -12 - "$WORK/refused.txt" >"$WORK/refused-in-log.txt"
[[ ! -s "$WORK/refused-in-log.txt" ]] ||
    fail "records refused with NOT_ENOUGH_REPLICAS are in the log: $(head -3 "$WORK/refused-in-log.txt" | tr '\n' ' ')"
echo "read back $(wc -l <"$WORK/read.txt") records: every acknowledged one once at its offset, no refused one"
stop_all
check_logs
echo "PASS"
