#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The `ganglion` program starts, says "ganglion started", and on SIGTERM shuts down
# cleanly: exit code 0 within 10 s and the clean-shutdown marker in the data directory.
# Twice on one data directory: run 1 reads a JSON --config file (flags override it), run 2
# only flags; with kcat, a record produced before the restart is read after it. Every
# listener it reports accepts TCP; a second instance on a taken port exits 1; a bad flag
# exits 2 naming it. 127.0.0.1 only, ports 19092, 11883, 18080. Needs GN_BUILD_DIR.
set -euo pipefail

GANGLION="${GN_BUILD_DIR:?GN_BUILD_DIR must point at the build directory}/ganglion"
WORK="$(mktemp -d /tmp/gn-it-gateway-XXXXXX)"
DATA="$WORK/data"
PID=""

cleanup() {
    if [[ -n "$PID" ]] && kill -0 "$PID" 2>/dev/null; then
        kill -KILL "$PID" 2>/dev/null || true
        wait "$PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
    echo "FAIL: $*" >&2
    for f in "$WORK"/run*.log; do
        [[ -f "$f" ]] && { echo "--- $f" >&2; cat "$f" >&2; }
    done
    exit 1
}

# Waits up to $2 tenths of a second for the line $1 in the log $3.
wait_for_line() {
    local pattern="$1" tenths="$2" log="$3"
    for ((i = 0; i < tenths; i++)); do
        grep -q -- "$pattern" "$log" 2>/dev/null && return 0
        kill -0 "$PID" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

start_stop() {
    local n="$1" log="$WORK/run$1.log"
    shift
    "$GANGLION" --data.dir="$DATA" --log.level=debug "$@" \
        --kafka.host=127.0.0.1 --kafka.port=19092 \
        --mqtt.host=127.0.0.1 --mqtt.port=11883 \
        --http.host=127.0.0.1 --http.port=18080 2>"$log" &
    PID=$!
    wait_for_line 'msg="ganglion started"' 100 "$log" || fail "run $n: no 'ganglion started' line within 10 s"
    grep -q "data_dir=$DATA node_id=3" "$log" || fail "run $n: started line lacks data_dir/node_id"
    [[ ! -e "$DATA/.kafka_cleanshutdown" ]] || fail "run $n: clean-shutdown marker present while running"

    # Every listener the log reports accepts a connection.
    local host port
    while read -r host port; do
        (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null || fail "run $n: nothing accepts on $host:$port"
        echo "run $n: listener $host:$port accepts"
    done < <(sed -n 's/.*msg="listening" adapter=[a-z]* host=\([^ ]*\) port=\([0-9]*\).*/\1 \2/p' "$log")

    if command -v kcat >/dev/null && grep -q 'msg="listening" adapter=kafka' "$log"; then
        if [[ "$n" == 1 ]]; then
            echo "k1:survives-restart" | timeout 20 kcat -b 127.0.0.1:19092 -P -t gn-it-gateway -K: \
                -X acks=all || fail "run $n: kcat could not produce"
            # A second instance cannot take the same port: it exits 1 and says why.
            set +e
            timeout 10 "$GANGLION" --data.dir="$WORK/data2" --kafka.host=127.0.0.1 --kafka.port=19092 \
                --mqtt.port=0 --http.port=0 2>"$WORK/run-taken.log"
            local rc2=$?
            set -e
            [[ "$rc2" == 1 ]] || fail "second instance on a taken port: exit code $rc2, expected 1"
            grep -q 'msg="listener failed to start" adapter=kafka' "$WORK/run-taken.log" ||
                fail "second instance: no 'listener failed to start' line"
            echo "run $n: a second instance on port 19092 exits 1"
        else
            local got
            got="$(timeout 20 kcat -q -b 127.0.0.1:19092 -C -t gn-it-gateway -o beginning -e -f '%k:%s\n')" ||
                fail "run $n: kcat could not consume"
            [[ "$got" == "k1:survives-restart" ]] || fail "run $n: read '$got' after the restart"
            echo "run $n: the record produced before the restart is there"
            # kafka.advertised.host reaches the clients through metadata.
            timeout 20 kcat -b 127.0.0.1:19092 -L -m 10 | grep -q "at localhost:19092" ||
                fail "run $n: metadata does not advertise localhost:19092"
            echo "run $n: metadata advertises localhost:19092"
        fi
    fi
    if command -v curl >/dev/null && grep -q 'msg="listening" adapter=http' "$log"; then
        curl -sf --max-time 10 http://127.0.0.1:18080/healthz >/dev/null ||
            fail "run $n: GET /healthz on the HTTP listener failed"
        echo "run $n: GET /healthz answers"
    fi

    kill -TERM "$PID"
    local rc="" i
    for ((i = 0; i < 100; i++)); do
        if ! kill -0 "$PID" 2>/dev/null; then
            set +e
            wait "$PID"
            rc=$?
            set -e
            break
        fi
        sleep 0.1
    done
    [[ -n "$rc" ]] || fail "run $n: still running 10 s after SIGTERM"
    PID=""
    [[ "$rc" == 0 ]] || fail "run $n: exit code $rc after SIGTERM, expected 0"
    [[ -e "$DATA/.kafka_cleanshutdown" ]] || fail "run $n: no $DATA/.kafka_cleanshutdown after a clean shutdown"
    grep -q 'msg="shutting down" reason=SIGTERM' "$log" || fail "run $n: no shutdown line"
    grep -q 'msg="ganglion stopped" exit_code=0' "$log" || fail "run $n: no stopped line"
    echo "run $n: started, stopped cleanly (exit 0, marker present)"
}

# Run 1 takes node.id from a JSON file whose kafka.port the flags override; run 2 only flags.
cat >"$WORK/ganglion.json" <<EOF
{"node.id": 3, "kafka.port": 29092, "log.retention.ms": "7d", "auto.create.topics.enable": true}
EOF
start_stop 1 --config="$WORK/ganglion.json"
start_stop 2 --node.id=3 --kafka.advertised.host=localhost

# Usage errors: exit 2 and a message naming the key.
set +e
out="$("$GANGLION" --data.dir="$DATA" --no.such.key=1 2>&1)"
rc=$?
set -e
[[ "$rc" == 2 ]] || fail "unknown flag: exit code $rc, expected 2"
grep -q -- "unknown flag --no.such.key" <<<"$out" || fail "unknown flag: message was: $out"

echo '{"kafka.port": 19092, "colour": "blue"}' >"$WORK/bad.json"
set +e
out="$("$GANGLION" --config="$WORK/bad.json" 2>&1)"
rc=$?
set -e
[[ "$rc" == 2 ]] || fail "unknown file key: exit code $rc, expected 2"
grep -q "unknown key 'colour'" <<<"$out" || fail "unknown file key: message was: $out"

help="$("$GANGLION" --help)" # captured whole: grep -q would close the pipe early
grep -q -- "--kafka.port=<int>" <<<"$help" || fail "--help does not list kafka.port"
echo "ok"
