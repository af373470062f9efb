#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A broker cut off by the network rather than paused (0006) or killed: each broker runs in
# a network namespace of its own (gnPID-b1..b3, 10.77.0.N/24), joined by veth pairs to a
# bridge in a hub namespace (gnPID-hub, 10.77.0.254) where this script and its clients
# run; nothing is added to the machine's own namespace and the four are deleted at exit.
# Topic co (three partitions); partition P is led by L, not the controller. An idempotent
# acks=all producer writes to another topic (bg) all along. L's link to the bridge is set
# down: the controller fences L and moves P; acks=all records go to the new leader. L
# runs on, cut off, believing it leads P: a consumer and an acks=1 producer inside L's
# namespace get nothing from it (its metadata lease lapsed: NOT_LEADER_OR_FOLLOWER, not
# the stale prefix), before and after the link comes back. Then L catches up, rejoins the
# ISR with the same segment bytes as the others, every acknowledged record of both
# topics is read back exactly once and in order. Needs root (ip netns); skips when a
# namespace cannot be made. Ports are inside the namespaces; bounded to about 1.5 min.
set -euo pipefail
command -v kcat >/dev/null || { echo "SKIP: kcat not installed"; exit 0; }

# ---- outside: make the namespaces, run the test proper in the hub, delete them ----
if [[ -z ${GN_NETNS:-} ]]; then
    command -v ip >/dev/null || { echo "SKIP: ip (iproute2) not installed"; exit 0; }
    NS="gn$$"
    netns_delete() { for x in hub b1 b2 b3; do ip netns del "$NS-$x" 2>/dev/null || true; done; }
    trap netns_delete EXIT
    if ! err=$(ip netns add "$NS-hub" 2>&1); then
        echo "SKIP: cannot create a network namespace (ip netns add: $err)"
        exit 0
    fi
    ip -n "$NS-hub" link set lo up
    ip -n "$NS-hub" link add br0 type bridge
    ip -n "$NS-hub" addr add 10.77.0.254/24 dev br0
    ip -n "$NS-hub" link set br0 up
    for n in 1 2 3; do
        ip netns add "$NS-b$n"
        ip -n "$NS-b$n" link set lo up
        ip -n "$NS-hub" link add "h$n" type veth peer name "b$n" netns "$NS-b$n"
        ip -n "$NS-hub" link set "h$n" master br0
        ip -n "$NS-hub" link set "h$n" up
        ip -n "$NS-b$n" addr add "10.77.0.$n/24" dev "b$n"
        ip -n "$NS-b$n" link set "b$n" up
    done
    rc=0
    GN_NETNS=$NS ip netns exec "$NS-hub" bash "$0" "$@" || rc=$?
    exit $rc
fi

# ---- inside the hub namespace ----
source "$(dirname "$0")/lib.bash"
NS=$GN_NETNS
for n in 1 2 3; do
    NODE_HOST[$n]=10.77.0.$n
    NODE_NETNS[$n]=$NS-b$n
done
addr() { echo "10.77.0.$1:${GN_CLUSTER_PORTS}0$1"; }
in_ns() { # N COMMAND...: run inside broker N's namespace
    local n=$1
    shift
    ip netns exec "$NS-b$n" "$@"
}

for n in 1 2 3; do start_broker "$n" --num.partitions=3; done
wait_for 30 "three brokers registered" brokers_in_metadata 3

meta() { kcat -L -b "${1:-$(bootstrap)}" -t "${2:-co}" -m 2 2>/dev/null; }
leader_p() { meta "$(bootstrap)" "${2:-co}" | sed -n "s/.*partition $1, leader \([0-9-]*\),.*/\1/p"; }
isr_full_p() { [[ "$(meta "$(bootstrap)" "${2:-co}" | sed -n "s/.*partition $1, .*isrs: \(.*\)$/\1/p")" =~ ^[123],[123],[123]$ ]]; }
all_isr_full() { isr_full_p 0 "$1" && isr_full_p 1 "$1" && isr_full_p 2 "$1"; }
controller() { kcat -L -b "$(bootstrap)" -m 2 2>/dev/null | sed -n 's/.*broker \([0-9]\) at .*(controller).*/\1/p'; }
wait_for 30 "ISR of three on every partition of co" all_isr_full co
wait_for 30 "ISR of three on every partition of bg" all_isr_full bg

CTL=$(controller)
P="" L=""
for p in 0 1 2; do
    l=$(leader_p $p)
    if [[ $l =~ ^[123]$ && $l != "$CTL" ]]; then P=$p L=$l && break; fi
done
[[ -n $P ]] || fail "no partition led by a broker other than the controller ($CTL)"
OTHERS=""
for n in 1 2 3; do [[ $n == "$L" ]] || OTHERS="$OTHERS${OTHERS:+,}$(addr "$n")"; done
echo "controller $CTL; partition $P of co led by $L (namespace $NS-b$L)"

produce() { # BROKERS ACKS: records from stdin to partition P of co, none failed
    kcat -P -b "$1" -t co -p "$P" -X acks="$2" -X message.timeout.ms=10000 >"$WORK/p.out" 2>&1 &&
        ! grep -q . "$WORK/p.out"
}
a_records() { seq -f 'a%g' 1 50 | produce "$(bootstrap)" all; }
wait_for 20 "records before the cut ($(cat "$WORK/p.out" 2>/dev/null))" a_records

# the other clients: an idempotent acks=all producer to every partition of bg (one of
# them led by L) through the whole cut, about 20 s of records
NBG=2000
(
    for i in $(seq 1 $NBG); do
        echo "w$i"
        ((i % 20 == 0)) && sleep 0.2
    done
) | kcat -P -b "$(bootstrap)" -t bg -X acks=all -X enable.idempotence=true \
    -X message.timeout.ms=90000 -X linger.ms=5 >"$WORK/bg.out" 2>&1 &
BGPROD=$!
sleep 1

ip -n "$NS-hub" link set "h$L" down
T0=$SECONDS
echo "cut broker $L off (h$L down)"
moved() { l=$(meta "$OTHERS" | sed -n "s/.*partition $P, leader \([0-9-]*\),.*/\1/p") && [[ $l =~ ^[123]$ && $l != "$L" ]]; }
wait_for 20 "leadership of partition $P moved off $L" moved
grep -q "fencing broker: no heartbeat.*id=$L" "$WORK"/b*.log || fail "broker $L was not fenced"
echo "broker $L fenced, partition $P moved after $((SECONDS - T0)) s"
b_records() { seq -f 'b%g' 1 50 | produce "$OTHERS" all; }
wait_for 20 "records on the new leader ($(cat "$WORK/p.out" 2>/dev/null))" b_records

# L, cut off, still has the image where it leads P: a consumer beside it must not be
# served the stale prefix a1..a50, an acks=1 producer beside it must not be acknowledged
in_ns "$L" timeout 8 kcat -C -b "$(addr "$L")" -t co -p "$P" -o beginning -e -q \
    >"$WORK/cut-read.txt" 2>/dev/null || true
[[ ! -s "$WORK/cut-read.txt" ]] ||
    fail "broker $L, cut off and fenced, served $(wc -l <"$WORK/cut-read.txt") records as leader (stale read)"
echo cut-write | in_ns "$L" kcat -P -b "$(addr "$L")" -t co -p "$P" -X acks=1 \
    -X message.timeout.ms=4000 >"$WORK/cut-write.out" 2>&1 || true
CUT_WRITE_ACKED=0
grep -q "Delivery failed\|error" "$WORK/cut-write.out" || CUT_WRITE_ACKED=1
echo "while cut off: no records served by $L; its acks=1 write acknowledged: $CUT_WRITE_ACKED"

# a consumer beside L bootstrapped from L alone, across the heal: it must read all 100
# records (sent on to the new leader once L knows it) or nothing, never the stale prefix
in_ns "$L" timeout 30 kcat -C -b "$(addr "$L")" -t co -p "$P" -o beginning -e -q \
    >"$WORK/heal-read.txt" 2>/dev/null &
READER=$!
sleep 1
ip -n "$NS-hub" link set "h$L" up
echo "link of broker $L up after $((SECONDS - T0)) s"
READ_RC=0
wait $READER || READ_RC=$?
{ seq -f 'a%g' 1 50; seq -f 'b%g' 1 50; } >"$WORK/want.txt"
if [[ -s "$WORK/heal-read.txt" ]]; then
    grep -v '^cut-write$' "$WORK/heal-read.txt" >"$WORK/heal-read.clean" || true
    diff -q "$WORK/want.txt" "$WORK/heal-read.clean" >/dev/null ||
        fail "a consumer beside $L read $(wc -l <"$WORK/heal-read.txt") records after the heal, want 100 (stale read?)"
    echo "a consumer beside $L read all 100 records after the heal"
else
    echo "a consumer beside $L got nothing after the heal (kcat rc=$READ_RC)"
fi

wait_for 30 "broker $L back in the ISR of partition $P" isr_full_p "$P"
kcat -C -b "$(bootstrap)" -t co -p "$P" -o beginning -e -q >"$WORK/read.txt" || fail "consume failed"
if ((CUT_WRITE_ACKED)); then
    grep -q '^cut-write$' "$WORK/read.txt" ||
        fail "an acks=1 write to the cut-off broker was acknowledged and lost"
fi
grep -v '^cut-write$' "$WORK/read.txt" >"$WORK/read.clean" || true
diff -q "$WORK/want.txt" "$WORK/read.clean" >/dev/null || {
    diff "$WORK/want.txt" "$WORK/read.clean" | head -5
    fail "acks=all records of co not read back exactly once and in order"
}
wait_for 20 "identical segment bytes of co-$P on the three brokers" same_logs "co-$P"
echo "broker $L rejoined the ISR of $P with the same bytes as the others"

# the other producer: every record acknowledged, read back once, in order per partition
wait "$BGPROD" || fail "bg producer failed: $(tail -3 "$WORK/bg.out")"
grep -q "Delivery failed" "$WORK/bg.out" && fail "bg deliveries failed: $(head -3 "$WORK/bg.out")"
for p in 0 1 2; do
    kcat -C -b "$(bootstrap)" -t bg -p "$p" -o beginning -e -q >"$WORK/bg-$p.txt" || fail "consume bg $p failed"
    sed 's/^w//' "$WORK/bg-$p.txt" | sort -n -c 2>/dev/null || fail "bg partition $p out of order"
done
cat "$WORK"/bg-[012].txt | sed 's/^w//' | sort -n >"$WORK/bg-all.txt"
seq 1 $NBG | diff -q - "$WORK/bg-all.txt" >/dev/null ||
    fail "bg: $(wc -l <"$WORK/bg-all.txt") records read, want each of 1..$NBG once"
echo "bg: $NBG acknowledged records read back once, in order per partition"

grep -q "metadata lease lost" "$WORK/b$L.log" || fail "broker $L did not notice its lease lapsed"
stop_all
check_logs
echo "PASS"
