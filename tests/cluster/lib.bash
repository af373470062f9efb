# SPDX-License-Identifier: Apache-2.0
# Helpers for multi-broker tests: three `ganglion` brokers on loopback (ports
# 29600-29649: Kafka 2960N, Raft 2961N, internal RPC 2962N, and with --gateways MQTT
# 2963N and HTTP 2964N for node N; GN_CLUSTER_PORTS=396 moves them to 39600-39649, for a
# benchmark beside the tests), each with its own data dir under a temp WORK dir removed at
# exit (kept with GN_KEEP_WORK=1). NODE_HOST[N] and NODE_NETNS[N] move broker N off 127.0.0.1 and into a network
# namespace (0007 does). Sourced by tests/cluster/*.sh.
BUILD="${GN_BUILD_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build}"
GANGLION="$BUILD/ganglion"
WORK="$(mktemp -d /tmp/gn-cluster-XXXXXX)"
export GN_CLUSTER_PORTS=${GN_CLUSTER_PORTS:-296} # exported: bootstrap() runs in bash -c too
declare -A PIDS=()
# broker N's address and the network namespace it runs in (127.0.0.1 and the caller's
# unless a test sets them before starting brokers)
declare -A NODE_HOST=() NODE_NETNS=()
host_of() { echo "${NODE_HOST[$1]:-127.0.0.1}"; }
voters() { echo "1@$(host_of 1):${GN_CLUSTER_PORTS}11,2@$(host_of 2):${GN_CLUSTER_PORTS}12,3@$(host_of 3):${GN_CLUSTER_PORTS}13"; }
# extra timeout flags for every broker (none: the defaults, 3000 ms sessions)
CLUSTER_TIMEOUTS=()

cleanup() {
    for n in "${!PIDS[@]}"; do kill -9 "${PIDS[$n]}" 2>/dev/null || true; done
    wait 2>/dev/null || true
    if [[ -n ${GN_KEEP_WORK:-} ]]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
# BG: a script's background clients, killed at exit before the brokers
BG=()
trap 'for p in "${BG[@]}"; do kill "$p" 2>/dev/null || true; done; cleanup' EXIT

# need_tests_node_modules NAME...: the Node packages a script drives (tests/package.json),
# installed with npm ci when one is missing; exits 0 with SKIP when that fails.
source "$(dirname "${BASH_SOURCE[0]}")/../node_modules.bash"
need_tests_node_modules() {
    need_node_modules "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)" "$@" ||
        { echo "SKIP: Node packages $* not installed"; exit 0; }
}

# fail MESSAGE: each broker's warnings and errors, then its last lines of every level (CI
# keeps only what a failing test prints)
fail() {
    echo "FAIL: $*"
    for n in 1 2 3; do
        [[ -f "$WORK/b$n.log" ]] || continue
        echo "--- broker $n log (warnings and errors)"
        grep -E "level=(warn|error)" "$WORK/b$n.log" | grep -v 'msg="moving partition leadership"' |
            tail -20 || true
        echo "--- broker $n log (last lines)"
        tail -n 25 "$WORK/b$n.log"
    done
    exit 1
}

# no sanitizer report in any broker's log (ASan/UBSan builds)
check_logs() {
    if grep -l "AddressSanitizer\|LeakSanitizer\|runtime error" "$WORK"/b*.log 2>/dev/null; then
        grep -h -A12 "AddressSanitizer\|LeakSanitizer\|runtime error" "$WORK"/b*.log | head -40
        fail "sanitizer report in a broker log"
    fi
}

# stop_all: SIGTERM every broker (a clean shutdown), wait for them
stop_all() {
    for n in "${!PIDS[@]}"; do kill -TERM "${PIDS[$n]}" 2>/dev/null || true; done
    for n in "${!PIDS[@]}"; do
        wait "${PIDS[$n]}" 2>/dev/null || true
        unset "PIDS[$n]"
    done
}

mqtt_port() { echo "${GN_CLUSTER_PORTS}3$1"; }
http_port() { echo "${GN_CLUSTER_PORTS}4$1"; }

# start_broker N [--gateways] [extra flags...]: --gateways turns on the MQTT and HTTP
# listeners of broker N (127.0.0.1, ports mqtt_port N and http_port N); off otherwise
start_broker() {
    local n=$1 mqtt=0 http=0 host netns=()
    host=$(host_of "$n")
    [[ -n ${NODE_NETNS[$n]:-} ]] && netns=(ip netns exec "${NODE_NETNS[$n]}")
    shift
    if [[ ${1:-} == --gateways ]]; then
        mqtt=$(mqtt_port "$n")
        http=$(http_port "$n")
        shift
    fi
    "${netns[@]}" "$GANGLION" --node.id="$n" --data.dir="$WORK/d$n" --kafka.host="$host" \
        --kafka.port="${GN_CLUSTER_PORTS}0$n" --mqtt.host="$host" --mqtt.port="$mqtt" \
        --http.host="$host" --http.port="$http" \
        --controller.quorum.voters="$(voters)" --cluster.listener="$host:${GN_CLUSTER_PORTS}2$n" \
        "${CLUSTER_TIMEOUTS[@]}" \
        --default.replication.factor=3 --min.insync.replicas=2 "$@" >>"$WORK/b$n.log" 2>&1 &
    PIDS[$n]=$!
}

kill9() {
    kill -9 "${PIDS[$1]}" 2>/dev/null || true
    wait "${PIDS[$1]}" 2>/dev/null || true
    unset "PIDS[$1]"
}

# wait_for SECONDS DESCRIPTION COMMAND...
# same_logs DIR: the segment files of partition directory DIR (e.g. "ft-0") hold the same
# bytes on brokers 1-3 (a returning replica has caught up, a divergent tail is gone). A
# running broker's active segment has zeros written ahead of its end (core/log), as many
# as its own appends made it write: each file is compared without its trailing zeros.
same_logs() {
    local ref="" sum
    for n in 1 2 3; do
        sum=$(for f in "$WORK/d$n/$1"/*.log; do perl -0777 -pe 's/\0+\z//' "$f"; done | md5sum)
        [[ -z $ref ]] && ref=$sum
        [[ $sum == "$ref" ]] || return 1
    done
}

wait_for() {
    local secs=$1 what=$2
    shift 2
    local end=$((SECONDS + secs))
    until "$@" >/dev/null 2>&1; do
        ((SECONDS < end)) || fail "timed out after ${secs}s waiting for: $what"
        sleep 0.2
    done
}

# bootstrap list of the live brokers
bootstrap() {
    local b=""
    for n in "${!PIDS[@]}"; do b="$b${b:+,}${NODE_HOST[$n]:-127.0.0.1}:${GN_CLUSTER_PORTS}0$n"; done
    echo "$b"
}

# brokers_in_metadata N: every running broker's own metadata lists N brokers (one
# broker's image may lag another's: a topic created through it right after would be
# refused INVALID_REPLICATION_FACTOR while it still counts a new broker as absent)
brokers_in_metadata() {
    local n
    for n in "${!PIDS[@]}"; do
        [[ "$(kcat -L -b "${NODE_HOST[$n]:-127.0.0.1}:${GN_CLUSTER_PORTS}0$n" -m 2 2>/dev/null |
            grep -c '^  broker ')" == "$1" ]] || return 1
    done
}

# controller_id: the node id of the controller (the Raft leader) as Metadata names it
controller_id() { kcat -L -b "$(bootstrap)" -m 2 2>/dev/null | sed -n 's/.*broker \([0-9]*\) at .*(controller).*/\1/p'; }

# leader_of TOPIC: the partition 0 leader's node id
leader_of() {
    kcat -L -b "$(bootstrap)" -t "$1" -m 2 2>/dev/null | sed -n 's/.*partition 0, leader \([0-9-]*\),.*/\1/p'
}
isr_of() {
    kcat -L -b "$(bootstrap)" -t "$1" -m 2 2>/dev/null | sed -n 's/.*isrs: \(.*\)$/\1/p'
}
# isr_full TOPIC: partition 0's ISR has the three brokers
isr_full() {
    [[ "$(isr_of "$1")" =~ ^[123],[123],[123]$ ]]
}

# REST v2 consumer instances for the gateway tests (curl): rest_consumer BASE GROUP NAME
# RESET creates instance NAME of GROUP (json format, auto.offset.reset RESET), true once
# it exists; rest_assign BASE GROUP NAME TOPIC assigns it partition 0 of TOPIC. Both are
# retried with wait_for while the instance store's ISR forms.
REST_CT='Content-Type: application/vnd.kafka.v2+json'
rest_consumer() {
    local code
    code=$(curl -sS -o "$WORK/rest-create.txt" -w '%{http_code}' -X POST -H "$REST_CT" \
        --data "{\"name\":\"$3\",\"format\":\"json\",\"auto.offset.reset\":\"$4\"}" "$1/consumers/$2")
    [[ $code == 200 || $code == 409 ]]
}
rest_assign() {
    local r
    r=$(curl -sS -X POST -H "$REST_CT" --data "{\"partitions\":[{\"topic\":\"$4\",\"partition\":0}]}" \
        -w ' %{http_code}' "$1/consumers/$2/instances/$3/assignments")
    [[ $r == *" 204" ]]
}
