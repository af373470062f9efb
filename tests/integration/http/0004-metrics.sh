#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# /metrics in the Prometheus text format: request counts by method and class, the
# latency histogram, connections, per-partition offsets and size after a produce; and
# REST Proxy v3 topic create/get/records/delete.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
start_broker 28085

c -X POST -H 'Content-Type: application/vnd.kafka.json.v2+json' --data '{"records":[{"value":1},{"value":2}]}' "$URL/topics/m" >/dev/null
c -o /dev/null "$URL/nope" || true
m=$(c "$URL/metrics")
expect_eq "content type" "$(c -o /dev/null -w '%{content_type}' "$URL/metrics")" "text/plain; version=0.0.4; charset=utf-8"
grep -q '^ganglion_http_requests_total{method="POST",code="2xx"} 1$' <<<"$m" || fail "POST 2xx count"
grep -q '^ganglion_http_requests_total{method="GET",code="4xx"} 1$' <<<"$m" || fail "GET 4xx count"
grep -q '^ganglion_http_request_duration_seconds_bucket{le="+Inf"} [0-9]' <<<"$m" || fail "histogram"
grep -q '^ganglion_partition_log_end_offset{topic="m",partition="0"} 2$' <<<"$m" || fail "log end offset"
grep -q '^ganglion_partition_size_bytes{topic="m",partition="0"} [1-9]' <<<"$m" || fail "size"
grep -q '^ganglion_connections_open{listener="http"} [1-9]' <<<"$m" || fail "connections"
grep -q '^ganglion_http_records_total{direction="in"} 2$' <<<"$m" || fail "records in"
# Every sample line parses as Prometheus text: name{labels} value
bad=$(grep -v '^#' <<<"$m" | grep -Ev '^[a-z_]+(\{[^}]*\})? [-+0-9.e]+$|^[a-z_]+\{le="\+Inf"\} [0-9]+$' || true)
[[ -z "$bad" ]] || fail "unparsable lines: $bad"

# v3
V3="$URL/v3/clusters/ganglion"
expect_eq "v3 create" "$(status POST /v3/clusters/ganglion/topics -H 'Content-Type: application/json' --data '{"topic_name":"v3","partitions_count":2}')" 201
expect_eq "v3 create again" "$(status POST /v3/clusters/ganglion/topics -H 'Content-Type: application/json' --data '{"topic_name":"v3"}')" 400
expect_eq "v3 get" "$(jf "$(c "$V3/topics/v3")" .partitions_count)" 2
expect_eq "v3 record" "$(jf "$(c -X POST -H 'Content-Type: application/json' --data '{"partition_id":1,"value":{"type":"STRING","data":"hi"}}' "$V3/topics/v3/records")" '.partition_id,.offset' | tr '\n' ' ')" "1 0 "
expect_eq "v3 configs" "$(jf "$(c "$V3/topics/v3/configs")" '.data[]|select(.name=="cleanup.policy")|.value')" delete
expect_eq "v3 delete" "$(status DELETE /v3/clusters/ganglion/topics/v3)" 204
expect_eq "v3 gone" "$(status GET /v3/clusters/ganglion/topics/v3)" 404
stop_broker
echo ok
