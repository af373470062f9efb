#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# FileStreamSource through Connect's REST API: a file of lines becomes a topic that kcat
# reads back exactly; lines appended later arrive; a broker restart (lines appended
# before it and while the broker is down) loses none and duplicates none, because the
# source resumes at the byte position stored in __connect_offsets, which kcat can read.
# Ports 28383 (HTTP), 28393 (Kafka).
set -euo pipefail
source "$(dirname "$0")/lib.bash"
B=127.0.0.1:28393
start_broker 28383 --kafka.host=127.0.0.1 --kafka.port=28393

seq -f 'line %g' 1 100 >"$FILES/in.txt"
printf 'with a CRLF\r\n\nafter an empty line\n' >>"$FILES/in.txt"
expect_eq "create" "$(rest POST /connectors '{"name":"src","config":{"connector.class":"FileStreamSource","file":"in.txt","topic":"lines","batch.size":"7"}}')" 201
jq -e '.name == "src" and .type == "source" and .config.topic == "lines" and .tasks == [{"connector":"src","task":0}]' \
    "$WORK/rest.json" >/dev/null || fail "create body: $(cat "$WORK/rest.json")"

want() { seq -f 'line %g' 1 100; printf 'with a CRLF\n\nafter an empty line\n'; seq -f 'more %g' 1 "$1"; }
same() { [[ "$(topic_values "$B" lines)" == "$(want "$1")" ]]; }
wait_for "the file's 103 lines in the topic" 10 same 0

# appended lines arrive
seq -f 'more %g' 1 50 >>"$FILES/in.txt"
wait_for "50 appended lines" 10 same 50
expect_eq "status" "$(rest GET /connectors/src/status)" 200
jq -e '.connector.state == "RUNNING" and .tasks[0].state == "RUNNING" and .type == "source"' \
    "$WORK/rest.json" >/dev/null || fail "status: $(cat "$WORK/rest.json")"

# a restart in the middle: lines appended just before it and while the broker is down
seq -f 'more %g' 51 120 >>"$FILES/in.txt"
stop_broker
seq -f 'more %g' 121 200 >>"$FILES/in.txt"
start_broker 28383 --kafka.host=127.0.0.1 --kafka.port=28393
wait_for "every line once after the restart" 10 same 200
expect_eq "connector list after restart" "$(rest GET /connectors)" 200
expect_eq "connectors" "$(jq -c . "$WORK/rest.json")" '["src"]'

# the stored position: Connect's key and value in __connect_offsets
size=$(stat -c %s "$FILES/in.txt")
off=$(timeout 20 kcat -b "$B" -C -t __connect_offsets -e -q -f '%k %s\n' | tail -n 1)
expect_eq "__connect_offsets" "$off" "[\"src\",{\"filename\":\"$FILES/in.txt\"}] {\"position\":$size}"
echo "PASS"
