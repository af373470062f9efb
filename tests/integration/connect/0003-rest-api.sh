#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Connect's REST API: plugins, create, config get and update, pause (appended lines
# wait) and resume (they arrive), restart, delete, and refusals with Connect's status
# codes, its error body {"error_code": N, "message": ...} and a broker log line: an
# unknown class, a missing topic, a file outside connect.file.dir (/etc/shadow and
# ../), an existing name (409), an unknown connector (404).
# Ports 28385 (HTTP), 28395 (Kafka).
set -euo pipefail
source "$(dirname "$0")/lib.bash"
B=127.0.0.1:28395
start_broker 28385 --kafka.host=127.0.0.1 --kafka.port=28395

expect_eq "plugins" "$(rest GET /connector-plugins)" 200
jq -e '[.[].class] | sort == ["org.apache.kafka.connect.file.FileStreamSinkConnector","org.apache.kafka.connect.file.FileStreamSourceConnector"]' \
    "$WORK/rest.json" >/dev/null || fail "plugins: $(cat "$WORK/rest.json")"

# refusals: status, Connect's error body, a log line each
refused() { # WANT_STATUS MESSAGE_PART METHOD PATH [JSON]
    local want="$1" part="$2"
    shift 2
    expect_eq "$* status" "$(rest "$@")" "$want"
    jq -e --argjson s "$want" --arg p "$part" '.error_code == $s and (.message | contains($p))' \
        "$WORK/rest.json" >/dev/null || fail "$* body: $(cat "$WORK/rest.json")"
}
refused 400 "matches Nope" POST /connectors '{"name":"x","config":{"connector.class":"Nope","file":"a","topic":"t"}}'
refused 400 '"topic"' POST /connectors '{"name":"x","config":{"connector.class":"FileStreamSource","file":"a"}}'
refused 400 "inside" POST /connectors '{"name":"x","config":{"connector.class":"FileStreamSource","file":"/etc/shadow","topic":"t"}}'
refused 400 "inside" POST /connectors '{"name":"x","config":{"connector.class":"FileStreamSink","file":"../../etc/passwd","topics":"t"}}'
refused 400 "topics" PUT /connectors/x/config '{"connector.class":"FileStreamSink","file":"o"}'
refused 404 "not found" GET /connectors/nope/status
refused 404 "not found" PUT /connectors/nope/pause
refused 404 "not found" DELETE /connectors/nope
[[ $(grep -c 'mod=connect msg="request refused"' "$LOG") -ge 8 ]] || fail "a log line per refusal"

# create; 409 for the same name
printf 'a\nb\n' >"$FILES/in.txt"
cfg='{"connector.class":"FileStreamSourceConnector","file":"in.txt","topic":"t1"}'
expect_eq "create" "$(rest POST /connectors "{\"name\":\"src\",\"config\":$cfg}")" 201
refused 409 "already exists" POST /connectors "{\"name\":\"src\",\"config\":$cfg}"
expect_eq "config" "$(rest GET /connectors/src/config)" 200
jq -e '.file == "in.txt" and .topic == "t1" and .name == "src"' "$WORK/rest.json" >/dev/null ||
    fail "config: $(cat "$WORK/rest.json")"
got() { [[ "$(topic_values "$B" "$1")" == "$2" ]]; }
wait_for "a and b" 10 got t1 "$(printf 'a\nb')"

# pause: appended lines wait; resume: they arrive
expect_eq "pause" "$(rest PUT /connectors/src/pause)" 202
expect_eq "status" "$(rest GET /connectors/src/status)" 200
jq -e '.connector.state == "PAUSED" and .tasks[0].state == "PAUSED"' "$WORK/rest.json" >/dev/null ||
    fail "paused status: $(cat "$WORK/rest.json")"
echo c >>"$FILES/in.txt"
sleep 0.5
got t1 "$(printf 'a\nb')" || fail "a paused source sent a line"
expect_eq "resume" "$(rest PUT /connectors/src/resume)" 202
wait_for "c after resume" 10 got t1 "$(printf 'a\nb\nc')"

# update: the same file to another topic (the stored position stays: nothing re-sent)
expect_eq "update" "$(rest PUT /connectors/src/config '{"connector.class":"FileStreamSource","file":"in.txt","topic":"t2"}')" 200
echo d >>"$FILES/in.txt"
wait_for "d in t2" 10 got t2 d
expect_eq "restart" "$(rest POST /connectors/src/restart)" 204
echo e >>"$FILES/in.txt"
wait_for "e in t2 after restart" 10 got t2 "$(printf 'd\ne')"

# a source whose file cannot be opened fails with a trace; restart after the fix runs
mkdir "$FILES/dir"
expect_eq "create bad" "$(rest POST /connectors '{"name":"bad","config":{"connector.class":"FileStreamSink","file":"dir","topics":"t1"}}')" 201
failed() { rest GET /connectors/bad/status >/dev/null && jq -e '.tasks[0].state == "FAILED" and (.tasks[0].trace | length > 0)' "$WORK/rest.json" >/dev/null; }
wait_for "FAILED with a trace" 10 failed

# delete: gone from the list, its records tombstoned in __connect_configs
expect_eq "delete" "$(rest DELETE /connectors/src)" 204
expect_eq "delete bad" "$(rest DELETE /connectors/bad)" 204
expect_eq "list" "$(rest GET /connectors)" 200
expect_eq "empty list" "$(jq -c . "$WORK/rest.json")" '[]'
refused 404 "not found" GET /connectors/src
echo f >>"$FILES/in.txt"
sleep 0.5
got t2 "$(printf 'd\ne')" || fail "a deleted source sent a line"
echo "PASS"
