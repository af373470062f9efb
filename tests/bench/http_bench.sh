#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# HTTP and WebSocket benchmark (issue #6): starts one ganglion with only the HTTP
# listener on 127.0.0.1, then measures, in the same run and against the same server:
#   - GET /healthz (the server's ceiling) and REST Proxy v2 produce of 1 and of 100
#     records per request, with h2load (h2c prior knowledge) and wrk (HTTP/1.1);
#     requests/s and records/s, each also as a ratio of /healthz;
#   - WebSocket fan-out: SUBS subscribers (Node ws, two processes) on one topic, one
#     producer at a steady rate with a timestamp in each value; records/s delivered
#     in total and the p50/p99 latency from produce to delivery.
# Prints, does not assert (targets: produce-1 >= 0.5 x healthz; fan-out >= 500,000/s
# with 1,000 subscribers). Bounded: about 90 s. Needs h2load, wrk, node + tests/node_modules.
# Usage: tests/bench/http_bench.sh BUILD_DIR   (env: PORT, DUR, SUBS, RATE, WSDUR, FLUSH, H2M, PARTS,
# WSCEIL=0 to skip the ceiling: the same clients against a trivial Node server on PORT+1)
set -u
build=${1:?usage: tests/bench/http_bench.sh BUILD_DIR}
here=$(cd "$(dirname "$0")" && pwd)
GANGLION="$build/ganglion"
PORT=${PORT:-28185}
DUR=${DUR:-5}          # seconds per HTTP measurement
SUBS=${SUBS:-1000}     # WebSocket subscribers
RATE=${RATE:-1000}     # records/s the fan-out producer offers
WSDUR=${WSDUR:-8}      # seconds of fan-out production
FLUSH=${FLUSH:-on_ack_all}
H2M=${H2M:-8}          # h2load streams per connection
PARTS=${PARTS:-http,ws} # which halves to run
URL="http://127.0.0.1:$PORT"
WORK=$(mktemp -d /tmp/gn-http-bench-XXXXXX)
PID=""
cleanup() {
    [[ -n "$PID" ]] && kill -TERM "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT

[[ -x "$GANGLION" ]] || { echo "http_bench: no $GANGLION"; exit 1; }
for t in h2load wrk node; do
    command -v $t >/dev/null || { echo "http_bench: $t not installed, skipped"; exit 0; }
done

"$GANGLION" --data.dir="$WORK/data" --http.host=127.0.0.1 --http.port="$PORT" --kafka.port=0 \
    --mqtt.port=0 --num.partitions=1 --flush="$FLUSH" --log.level=warn 2>"$WORK/ganglion.log" &
PID=$!
for ((i = 0; i < 100; i++)); do
    curl -s -o /dev/null "$URL/healthz" && break
    sleep 0.1
done
curl -s -o /dev/null "$URL/healthz" || { echo "http_bench: ganglion did not start"; tail "$WORK/ganglion.log"; exit 1; }

CT='content-type: application/vnd.kafka.json.v2+json'
printf '{"records":[{"value":{"id":1,"name":"sensor-1","temp":21.5}}]}' >"$WORK/one.json"
{
    printf '{"records":['
    for ((i = 0; i < 100; i++)); do
        ((i)) && printf ','
        printf '{"value":{"id":%d,"name":"sensor-%d","temp":21.5}}' $i $i
    done
    printf ']}'
} >"$WORK/hundred.json"
curl -s -X POST -H "$CT" --data-binary @"$WORK/one.json" "$URL/topics/bench" >/dev/null # create

# h2load NAME RECORDS [args...] -> "req/s ok"
h2() {
    local out
    # H2M concurrent streams per connection (the /healthz ceiling too); lws 4.1.6 needs
    # adapters/http/h2_reads.c for concurrent streams with bodies (docs/rest.md).
    out=$(timeout $((DUR + 20)) h2load -D "$DUR" --warm-up-time=1 -c 16 -m "$H2M" -t 1 "$@" 2>&1)
    local rps=$(sed -n 's/^finished in [^,]*, \([0-9.]*\) req\/s.*/\1/p' <<<"$out")
    local bad=$(sed -n 's/^requests: .* \([0-9]*\) failed, \([0-9]*\) errored.*/\1+\2/p' <<<"$out")
    local s2=$(sed -n 's/^status codes: \([0-9]*\) 2xx.*/\1/p' <<<"$out")
    echo "${rps:-0} ${s2:-0} ${bad:-?}"
}
wrk_run() {
    local out
    out=$(timeout $((DUR + 20)) wrk -t 1 -c 16 -d "${DUR}s" "$@" 2>&1)
    local rps=$(sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' <<<"$out")
    local non2=$(sed -n 's/^ *Non-2xx or 3xx responses: *\([0-9]*\).*/\1/p' <<<"$out")
    echo "${rps:-0} ${non2:-0}"
}
cat >"$WORK/post.lua" <<'LUA'
local f = io.open(os.getenv("BODY"), "rb")
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/vnd.kafka.json.v2+json"
LUA

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
row() { # row TOOL WHAT REQ/S RECORDS_PER_REQ CEILING NOTE
    local recs=$(awk -v r="$3" -v n="$4" 'BEGIN { printf "%.0f", r * n }')
    printf "%-8s %-22s %12.0f %12s %8s  %s\n" "$1" "$2" "$3" "$recs" "$(ratio "$3" "$5")" "$6"
}

if [[ $PARTS == *http* ]]; then
echo "ganglion HTTP bench: 127.0.0.1:$PORT, flush=$FLUSH, ${DUR}s per run, 16 connections"
printf "%-8s %-22s %12s %12s %8s  %s\n" tool request req/s records/s x_healthz notes
read -r hz s2 bad <<<"$(h2 "$URL/healthz")"
row h2load "GET /healthz" "$hz" 0 "$hz" "2xx=$s2 failed=$bad"
read -r p1 s2 bad <<<"$(h2 -d "$WORK/one.json" -H "$CT" "$URL/topics/bench")"
row h2load "POST 1 record" "$p1" 1 "$hz" "2xx=$s2 failed=$bad"
read -r p100 s2 bad <<<"$(h2 -d "$WORK/hundred.json" -H "$CT" "$URL/topics/bench")"
row h2load "POST 100 records" "$p100" 100 "$hz" "2xx=$s2 failed=$bad"
read -r whz n2 <<<"$(wrk_run "$URL/healthz")"
row wrk "GET /healthz" "$whz" 0 "$whz" "non-2xx=$n2"
read -r w1 n2 <<<"$(BODY="$WORK/one.json" wrk_run -s "$WORK/post.lua" "$URL/topics/bench")"
row wrk "POST 1 record" "$w1" 1 "$whz" "non-2xx=$n2"
read -r w100 n2 <<<"$(BODY="$WORK/hundred.json" wrk_run -s "$WORK/post.lua" "$URL/topics/bench")"
row wrk "POST 100 records" "$w100" 100 "$whz" "non-2xx=$n2"
echo "targets: POST 1 record >= 0.50 x_healthz (h2load $(ratio "$p1" "$hz"), wrk $(ratio "$w1" "$whz"))"
fi
[[ $PARTS == *ws* ]] || exit 0

# ---- WebSocket fan-out ------------------------------------------------------------
export NODE_PATH="$here/../node_modules"
if [[ ! -d "$NODE_PATH/ws" ]]; then
    echo "ws fan-out: skipped (npm ci --prefix tests)"
    exit 0
fi
cat >"$WORK/fanout.cjs" <<'JS'
// role sub: N subscribers; role pub: one producer at RATE records/s for DUR s.
const WebSocket = require('ws');
const { performance } = require('perf_hooks');
const [role, url, topic, a, b] = process.argv.slice(2);
const now = () => performance.timeOrigin + performance.now();
if (role === 'ceil') {
  // The client-side ceiling: a trivial server on port `url` that fans out what the
  // producer sends, each tick's records framed once into one Buffer written as it is to
  // every subscriber socket (what ganglion's shared live tail does, with no log at all).
  const wss = new WebSocket.Server({ host: '127.0.0.1', port: +url, perMessageDeflate: false });
  const socks = [];
  let pending = [], off = 0, scheduled = false;
  const frame = (s) => {
    const p = Buffer.from(s);
    const h = p.length < 126 ? Buffer.from([0x81, p.length]) : Buffer.from([0x81, 126, p.length >> 8, p.length & 255]);
    return Buffer.concat([h, p]);
  };
  const flush = () => {
    scheduled = false;
    const buf = Buffer.concat(pending);
    pending = [];
    for (const s of socks) s.write(buf);
  };
  wss.on('connection', (ws) => ws.on('message', (d) => {
    const m = JSON.parse(d.toString());
    if (m.type === 'subscribe') { ws.send(JSON.stringify({ type: 'subscribed', topic: m.topic })); socks.push(ws._socket); return; }
    if (m.type !== 'produce') return;
    const o = off++;
    pending.push(frame(JSON.stringify({ type: 'record', topic: m.topic, partition: 0, offset: o, timestamp: Date.now(), key: null, value: m.value, headers: {} })));
    ws.send(JSON.stringify({ type: 'ack', topic: m.topic, partition: 0, offset: o }));
    if (!scheduled) { scheduled = true; setImmediate(flush); }
  }));
  wss.on('listening', () => process.stdout.write('listening\n'));
} else if (role === 'sub') {
  const n = +a;
  let ready = 0, count = 0, first = 0, last = 0, lat = [];
  for (let i = 0; i < n; i++) {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    let k = 0;
    ws.on('open', () => ws.send(JSON.stringify({ type: 'subscribe', topic, from: 'latest' })));
    ws.on('message', (data) => {
      if (data[2] !== 0x74 || data[9] !== 0x72) { // not {"type":"record"
        if (data.toString().includes('"subscribed"') && ++ready === n) process.stdout.write('ready\n');
        return;
      }
      const t = now();
      if (!first) first = t;
      last = t;
      count++;
      if ((k++ & 15) === 0) { // sample the latency: value is the producer's clock
        const s = data.toString();
        const i = s.indexOf('"value":"');
        if (i >= 0) lat.push(t - parseFloat(s.slice(i + 9)));
      }
    });
    ws.on('error', (e) => { process.stderr.write('sub error ' + e.message + '\n'); });
  }
  setInterval(() => process.stdout.write(`n ${count}\n`), 500); // progress: the drain wait
  process.on('SIGTERM', () => {
    process.stdout.write(JSON.stringify({ count, first, last, lat }) + '\n');
    process.exit(0);
  });
} else {
  const rate = +a, dur = +b;
  const ws = new WebSocket(url, { perMessageDeflate: false });
  let sent = 0, acks = 0, errors = 0;
  ws.on('message', (d) => { const s = d.toString(); if (s.includes('"ack"')) acks++; else if (s.includes('"error"')) errors++; });
  ws.on('open', () => {
    const start = now(), tick = 5;
    const timer = setInterval(() => {
      const due = Math.min(rate * dur, Math.floor((now() - start) * rate / 1000));
      while (sent < due) { ws.send(`{"type":"produce","topic":"${topic}","value":"${now().toFixed(3)}"}`); sent++; }
      if (sent >= rate * dur) {
        clearInterval(timer);
        setTimeout(() => { process.stdout.write(JSON.stringify({ sent, acks, errors, secs: (now() - start) / 1000 }) + '\n'); process.exit(0); }, 1000);
      }
    }, tick);
  });
}
JS
# fanout LABEL WSURL SERVER_PID: SUBS subscribers and one producer against WSURL
fanout() {
    local label=$1 WSURL=$2 SPID=$3
    half=$((SUBS / 2))
    node "$WORK/fanout.cjs" sub "$WSURL" fan "$half" >"$WORK/sub1.out" 2>"$WORK/sub1.err" &
    S1=$!
    node "$WORK/fanout.cjs" sub "$WSURL" fan "$((SUBS - half))" >"$WORK/sub2.out" 2>"$WORK/sub2.err" &
    S2=$!
    for ((i = 0; i < 300; i++)); do
        [[ $(cat "$WORK/sub1.out" "$WORK/sub2.out" 2>/dev/null | grep -c ready) -ge 2 ]] && break
        sleep 0.1
    done
    subs_ready=$(cat "$WORK/sub1.out" "$WORK/sub2.out" | grep -c ready)
    cpu() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; } # clock ticks
    cpu0=$(cpu $SPID) c10=$(cpu $S1) c20=$(cpu $S2)
    pub=$(timeout $((WSDUR + 30)) node "$WORK/fanout.cjs" pub "$WSURL" fan "$RATE" "$WSDUR")
    # let the subscribers drain until their counts stop moving (bounded: 60 s), then collect
    last=""
    for ((i = 0; i < 60; i++)); do
        sleep 1
        cur=$(tail -qn1 "$WORK/sub1.out" "$WORK/sub2.out" | tr '\n' ' ')
        [[ $cur == "$last" ]] && break
        last=$cur
    done
    tck=$(getconf CLK_TCK)
    bcpu=$(awk -v a="$cpu0" -v b="$(cpu $SPID)" -v t="$tck" 'BEGIN { printf "%.2f", (b - a) / t }')
    scpu=$(awk -v a="$c10" -v b="$(cpu $S1)" -v c="$c20" -v d="$(cpu $S2)" -v t="$tck" \
        'BEGIN { printf "%.2f", (b - a + d - c) / t }')
    kill -TERM $S1 $S2 2>/dev/null
    wait $S1 $S2 2>/dev/null
    node -e '
    const fs = require("fs");
    const [a, b, pub, subs, rate, bcpu, scpu, label] = process.argv.slice(1);
    const r = [a, b].map((f) => JSON.parse(fs.readFileSync(f, "utf8").split("\n").filter((l) => l.startsWith("{"))[0]));
    const p = JSON.parse(pub);
    const count = r[0].count + r[1].count;
    const first = Math.min(...r.map((x) => x.first).filter((x) => x > 0));
    const last = Math.max(...r.map((x) => x.last));
    const lat = r[0].lat.concat(r[1].lat).sort((x, y) => x - y);
    const q = (f) => lat.length ? lat[Math.min(lat.length - 1, Math.floor(f * lat.length))].toFixed(1) : "-";
    const secs = (last - first) / 1000;
    console.log(`ws fan-out [${label}]: ${subs} subscribers, producer offered ${rate}/s for ${p.secs.toFixed(1)} s (sent ${p.sent}, acked ${p.acks}, errors ${p.errors})`);
    console.log(`ws fan-out [${label}]: delivered ${count} of ${p.sent * subs} (${(100 * count / (p.sent * subs)).toFixed(1)}%) in ${secs.toFixed(2)} s = ${Math.round(count / secs)} records/s; latency p50 ${q(0.5)} ms p99 ${q(0.99)} ms (${lat.length} samples)`);
    console.log(`ws fan-out [${label}]: CPU seconds server ${bcpu} (${(1e6 * bcpu / count).toFixed(2)} us per delivered record), subscriber processes ${scpu} (${(1e6 * scpu / count).toFixed(2)} us per record)`);
    console.log(`target: >= 500000 records/s delivered with 1000 subscribers`);
    ' "$WORK/sub1.out" "$WORK/sub2.out" "$pub" "$SUBS" "$RATE" "$bcpu" "$scpu" "$label" 2>&1
    [[ $subs_ready == 2 ]] || echo "ws fan-out: not every subscriber was ready in time"
}
curl -s -X POST -H "$CT" --data '{"records":[{"value":"x"}]}' "$URL/topics/fan" >/dev/null
fanout ganglion "ws://127.0.0.1:$PORT/ws" "$PID"
if [[ ${WSCEIL:-1} == 1 ]]; then # the same clients against the trivial server, same run
    CPORT=$((PORT + 1))
    : >"$WORK/ceil.out"
    node "$WORK/fanout.cjs" ceil "$CPORT" fan >"$WORK/ceil.out" 2>&1 &
    CPID=$!
    for ((i = 0; i < 50; i++)); do grep -q listening "$WORK/ceil.out" && break; sleep 0.1; done
    fanout ceiling "ws://127.0.0.1:$CPORT/" "$CPID"
    kill -TERM $CPID 2>/dev/null
    wait $CPID 2>/dev/null
fi
