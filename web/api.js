// SPDX-License-Identifier: Apache-2.0
// The console's calls to the broker: REST Proxy v2/v3 (topics, consumer groups) and /metrics, same origin.
const V2 = 'application/vnd.kafka.v2+json';

async function json(res) {
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(body.message || `${res.status} ${res.statusText}`);
  return body;
}

export const health = () => fetch('/healthz').then(json);
export const brokers = () => fetch('/brokers', { headers: { Accept: V2 } }).then(json);
export const topics = () => fetch('/v3/clusters/ganglion/topics').then(json).then((r) => r.data);
export const offsets = (t, p) =>
  fetch(`/topics/${encodeURIComponent(t)}/partitions/${p}/offsets`, { headers: { Accept: V2 } }).then(json);
export const createTopic = (name, partitions) =>
  fetch('/v3/clusters/ganglion/topics', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ topic_name: name, partitions_count: partitions }),
  }).then(json);
export const deleteTopic = (name) =>
  fetch(`/v3/clusters/ganglion/topics/${encodeURIComponent(name)}`, { method: 'DELETE' }).then((r) => {
    if (!r.ok) throw new Error(`${r.status}`);
  });
const GROUPS = '/v3/clusters/ganglion/consumer-groups';
export const groups = () => fetch(GROUPS).then(json).then((r) => r.data);
export const groupLags = (g) => fetch(`${GROUPS}/${encodeURIComponent(g)}/lags`).then(json).then((r) => r.data);
export const groupConsumers = (g) => fetch(`${GROUPS}/${encodeURIComponent(g)}/consumers`).then(json).then((r) => r.data);
export const metricsText = () => fetch('/metrics').then((r) => r.text());

// Prometheus text: [{name, labels: {..}, value}] for the sample lines.
export function parseMetrics(text) {
  const out = [];
  for (const line of text.split('\n')) {
    if (!line || line[0] === '#') continue;
    const m = line.match(/^([a-zA-Z_:][\w:]*)(\{([^}]*)\})?\s+(\S+)$/);
    if (!m) continue;
    const labels = {};
    for (const kv of (m[3] || '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[kv[1]] = kv[2];
    out.push({ name: m[1], labels, value: Number(m[4]) });
  }
  return out;
}
