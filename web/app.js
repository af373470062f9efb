// SPDX-License-Identifier: Apache-2.0
// The console's entry module: wires the topics table, create/delete, the live tail
// and produce form, brokers and listeners, consumer groups (state, members, lag; a
// group's partitions with their member and lag), and the metrics chart; refreshes every 2 s.
import * as api from './api.js';
import { Tail } from './tail.js';
import { RateChart } from './chart.js';

const $ = (sel) => document.querySelector(sel);
const fmtBytes = (n) => (n < 1024 ? `${n} B` : n < 1048576 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1048576).toFixed(1)} MiB`);
let selected = null;
let metrics = [];

const tail = new Tail($('#tail tbody'), (s) => { $('#tail-topic').dataset.status = s; });
const chart = new RateChart($('#chart'), $('#chart-legend'));

function metric(name, labels) {
  const s = metrics.find((m) => m.name === name && Object.entries(labels).every(([k, v]) => m.labels[k] === v));
  return s ? s.value : 0;
}

async function renderTopics() {
  const list = (await api.topics()).filter((t) => !t.is_internal).sort((a, b) => a.topic_name.localeCompare(b.topic_name));
  const rows = list.map((t) => {
    let start = 0, end = 0, size = 0;
    for (let p = 0; p < t.partitions_count; p++) {
      const labels = { topic: t.topic_name, partition: String(p) };
      start += metric('ganglion_partition_log_start_offset', labels);
      end += metric('ganglion_partition_high_watermark', labels);
      size += metric('ganglion_partition_size_bytes', labels);
    }
    const tr = document.createElement('tr');
    tr.dataset.topic = t.topic_name;
    if (t.topic_name === selected) tr.className = 'selected';
    const name = document.createElement('a');
    name.href = '#';
    name.textContent = t.topic_name;
    name.onclick = (e) => { e.preventDefault(); select(t.topic_name); };
    const del = document.createElement('button');
    del.className = 'danger';
    del.textContent = '✕';
    del.title = `delete ${t.topic_name}`;
    del.onclick = async () => {
      if (!confirm(`Delete topic ${t.topic_name}?`)) return;
      await api.deleteTopic(t.topic_name);
      refresh();
    };
    const cells = [name, t.partitions_count, `${start} – ${end}`, fmtBytes(size), del];
    for (const c of cells) {
      const td = document.createElement('td');
      if (c instanceof Node) td.append(c); else td.textContent = String(c);
      tr.append(td);
    }
    return tr;
  });
  $('#topics tbody').replaceChildren(...rows);
}

async function renderBrokers() {
  const b = await api.brokers();
  const items = b.brokers.map((id) => {
    const li = document.createElement('li');
    const open = metric('ganglion_connections_open', { listener: 'http' });
    const ws = metrics.find((m) => m.name === 'ganglion_websocket_open')?.value ?? 0;
    const sse = metrics.find((m) => m.name === 'ganglion_sse_open')?.value ?? 0;
    li.textContent = `broker ${id} — http ${location.host} (HTTP/1.1, h2c, WebSocket /ws): ${open} connections, ${ws} WebSockets, ${sse} SSE streams`;
    return li;
  });
  $('#brokers').replaceChildren(...items);
}

let selectedGroup = null;
const short = (id) => (id && id.length > 28 ? `${id.slice(0, 12)}…${id.slice(-12)}` : id || '—');
const lagText = (n) => (n < 0 ? '—' : String(n));

function row(cells, attrs = {}) {
  const tr = document.createElement('tr');
  Object.assign(tr.dataset, attrs);
  for (const c of cells) {
    const td = document.createElement('td');
    if (c instanceof Node) td.append(c); else td.textContent = String(c);
    tr.append(td);
  }
  return tr;
}

async function renderGroups() {
  const list = (await api.groups()).sort((a, b) => a.consumer_group_id.localeCompare(b.consumer_group_id));
  $('#groups-empty').hidden = list.length > 0;
  if (selectedGroup && !list.some((g) => g.consumer_group_id === selectedGroup)) selectedGroup = null;
  const rows = list.map((g) => {
    const a = document.createElement('a');
    a.href = '#';
    a.textContent = g.consumer_group_id;
    a.onclick = (e) => { e.preventDefault(); selectedGroup = g.consumer_group_id; renderGroups(); };
    const state = document.createElement('span');
    state.className = `pill state-${g.state.toLowerCase()}`;
    state.textContent = g.state.toLowerCase().replace('_', ' ');
    const lag = document.createElement('span');
    lag.className = g.total_lag > 0 ? 'lag' : 'lag zero';
    lag.textContent = String(g.total_lag);
    const tr = row([a, state, g.members_count, g.partition_assignor || '—', lag], { group: g.consumer_group_id });
    if (g.consumer_group_id === selectedGroup) tr.className = 'selected';
    return tr;
  });
  $('#groups tbody').replaceChildren(...rows);
  $('#group-detail').hidden = !selectedGroup;
  if (!selectedGroup) return;
  const [lags, consumers] = await Promise.all([api.groupLags(selectedGroup), api.groupConsumers(selectedGroup)]);
  $('#group-name').textContent = selectedGroup;
  const client = Object.fromEntries(consumers.map((c) => [c.consumer_id, c.client_id]));
  const lagRows = lags.map((l) => row([l.topic_name, l.partition_id, lagText(l.current_offset), lagText(l.log_end_offset),
    lagText(l.lag), short(l.consumer_id), client[l.consumer_id] || '—'], { partition: `${l.topic_name}:${l.partition_id}` }));
  // Members without partitions still show up.
  for (const c of consumers)
    if (!lags.some((l) => l.consumer_id === c.consumer_id))
      lagRows.push(row(['—', '—', '—', '—', '—', short(c.consumer_id), c.client_id || '—']));
  $('#group-lags tbody').replaceChildren(...lagRows);
}

function select(topic) {
  selected = topic;
  $('#tail-topic').textContent = `— ${topic}`;
  $('#produce button').disabled = false;
  for (const tr of document.querySelectorAll('#topics tbody tr')) tr.classList.toggle('selected', tr.dataset.topic === topic);
  tail.subscribe(topic);
}

async function refresh() {
  try {
    const h = await api.health();
    $('#health').textContent = h.status === 'ok' ? 'healthy' : h.status;
    $('#health').className = `pill ${h.status === 'ok' ? 'ok' : 'bad'}`;
    metrics = api.parseMetrics(await api.metricsText());
    chart.sample(metrics, Date.now());
    await renderTopics();
    await renderBrokers();
    await renderGroups();
  } catch (err) {
    $('#health').textContent = `unreachable: ${err.message}`;
    $('#health').className = 'pill bad';
  }
}

$('#create-topic').onsubmit = async (e) => {
  e.preventDefault();
  const f = e.target;
  try {
    await api.createTopic(f.name.value, Number(f.partitions.value) || 1);
    const name = f.name.value;
    f.reset();
    await refresh();
    select(name);
  } catch (err) {
    alert(err.message);
  }
};

$('#produce').onsubmit = async (e) => {
  e.preventDefault();
  const f = e.target;
  try {
    await tail.produce(f.key.value, f.value.value);
    f.value.value = '';
  } catch (err) {
    alert(err.message);
  }
};

refresh();
setInterval(refresh, 2000);
