#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The web console in chromium (playwright-core): topic list, live tail, produce from the
# form, create a topic, a Kafka consumer group (kcat -G) and its lag on the groups
# panel. The screenshots land in the build directory (GN_SHOTS_DIR); run with
# GN_SHOTS_DIR=<source>/docs to refresh docs/console.png and docs/console-groups.png.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
source "$HERE/../http/lib.bash"
TESTS="$HERE/../.."
[[ -x /usr/bin/chromium ]] || fail "no /usr/bin/chromium (apt-get install chromium)"
source "$TESTS/node_modules.bash"
need_node_modules "$TESTS" playwright-core || fail "npm ci --prefix tests"
start_broker 28482 --num.partitions=2 --kafka.host=127.0.0.1 --kafka.port=28492 \
    --group.initial.rebalance.delay.ms=0
JSON='Content-Type: application/vnd.kafka.json.v2+json'
c -X POST -H "$JSON" --data '{"records":[{"key":"a","value":{"item":"tea","qty":2}},{"key":"b","value":{"item":"milk","qty":1}},{"value":"plain text"}]}' "$URL/topics/orders" >/dev/null
c -X POST -H "$JSON" --data '{"records":[{"value":21.5},{"value":21.7}]}' "$URL/topics/sensors" >/dev/null
# A Kafka consumer group that read 4 of the 10 records of payments and committed: lag 6.
c -X POST -H 'Content-Type: application/json' --data '{"topic_name":"payments","partitions_count":1}' "$URL/v3/clusters/ganglion/topics" >/dev/null
c -X POST -H "$JSON" --data "{\"records\":[$(seq -s, 1 10 | sed 's/\([0-9]*\)/{"value":\1}/g')]}" "$URL/topics/payments" >/dev/null
timeout 30 kcat -b 127.0.0.1:28492 -G console-readers -q -u -X auto.offset.reset=earliest \
    -c 4 -f '%s\n' payments >/dev/null 2>"$WORK/kcat.err" || fail "kcat group: $(tail -3 "$WORK/kcat.err")"
# Then a live member that reads but never commits: Stable, 1 member, the lag stays 6.
timeout 120 kcat -b 127.0.0.1:28492 -G console-readers -q -u -X client.id=console-test \
    -X enable.auto.commit=false -X enable.auto.offset.store=false -X auto.offset.reset=earliest -f '%s\n' payments \
    >/dev/null 2>>"$WORK/kcat.err" &
KCAT_PID=$!
trap 'kill -TERM "$KCAT_PID" 2>/dev/null || true; wait "$KCAT_PID" 2>/dev/null || true; cleanup' EXIT
DOCS="${GN_SHOTS_DIR:-${GN_BUILD_DIR:-$WORK}}"
SHOT="$DOCS/console.png"
timeout 150 node "$HERE/console.mjs" "$URL" "$SHOT" "$DOCS/console-groups.png" || fail "console.mjs"
[[ -s "$SHOT" && -s "$DOCS/console-groups.png" ]] || fail "no screenshot"
# The record produced in the browser is in the log.
body=$(timeout 3 curl -sN "$URL/topics/orders/events?from=earliest" || true)
grep -q 'hello from chromium' <<<"$body" || fail "the browser's record is not in the log"
kill -TERM "$KCAT_PID" 2>/dev/null || true
wait "$KCAT_PID" 2>/dev/null || true
stop_broker
echo ok
