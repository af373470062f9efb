#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The web console in chromium (playwright-core): topic list, live tail, produce from the
# form, create a topic; the screenshot lands in docs/console.png.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
source "$HERE/../http/lib.bash"
TESTS="$HERE/../.."
[[ -x /usr/bin/chromium ]] || fail "no /usr/bin/chromium (apt-get install chromium)"
[[ -d "$TESTS/node_modules/playwright-core" ]] || npm ci --prefix "$TESTS" --no-audit --no-fund >/dev/null
start_broker 28084 --num.partitions=2
JSON='Content-Type: application/vnd.kafka.json.v2+json'
c -X POST -H "$JSON" --data '{"records":[{"key":"a","value":{"item":"tea","qty":2}},{"key":"b","value":{"item":"milk","qty":1}},{"value":"plain text"}]}' "$URL/topics/orders" >/dev/null
c -X POST -H "$JSON" --data '{"records":[{"value":21.5},{"value":21.7}]}' "$URL/topics/sensors" >/dev/null
SHOT="${GN_SOURCE_DIR:-$HERE/../../..}/docs/console.png"
timeout 150 node "$HERE/console.mjs" "$URL" "$SHOT" || fail "console.mjs"
[[ -s "$SHOT" ]] || fail "no screenshot"
# The record produced in the browser is in the log.
body=$(timeout 3 curl -sN "$URL/topics/orders/events?from=earliest" || true)
grep -q 'hello from chromium' <<<"$body" || fail "the browser's record is not in the log"
stop_broker
echo ok
