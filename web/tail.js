// SPDX-License-Identifier: Apache-2.0
// The live tail: one WebSocket to /ws (the JSON protocol), subscribed to the chosen
// topic from the last 20 records per partition; the produce form sends on the same socket.
const MAX_ROWS = 200;

export class Tail {
  constructor(tbody, onStatus) {
    this.tbody = tbody;
    this.onStatus = onStatus;
    this.topic = null;
    this.pending = [];
    this.connect();
  }

  connect() {
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
    this.ws = new WebSocket(url);
    this.ws.onopen = () => {
      this.onStatus('connected');
      if (this.topic) this.subscribe(this.topic);
      for (const m of this.pending.splice(0)) this.ws.send(JSON.stringify(m));
    };
    this.ws.onmessage = (ev) => this.receive(JSON.parse(ev.data));
    this.ws.onclose = () => {
      this.onStatus('disconnected, retrying');
      setTimeout(() => this.connect(), 1000);
    };
  }

  send(msg) {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(msg));
    else this.pending.push(msg);
  }

  subscribe(topic) {
    if (this.topic && this.topic !== topic) this.send({ type: 'unsubscribe', topic: this.topic });
    this.topic = topic;
    this.tbody.replaceChildren();
    this.send({ type: 'subscribe', topic, from: 'earliest' });
  }

  produce(key, value) {
    return new Promise((resolve, reject) => {
      const id = `p${Date.now()}${Math.random()}`;
      this.waiting = { id, resolve, reject };
      this.send({ type: 'produce', id, topic: this.topic, key: key || null, value });
    });
  }

  receive(m) {
    if (m.type === 'record' && m.topic === this.topic) this.addRow(m);
    else if (m.type === 'ack' && this.waiting && m.id === this.waiting.id) this.waiting.resolve(m);
    else if (m.type === 'error') {
      if (this.waiting && m.id === this.waiting.id) this.waiting.reject(new Error(m.message));
      this.onStatus(`error: ${m.message}`);
    }
  }

  addRow(m) {
    const show = (v) => (v === null ? '∅' : m.encoding === 'base64' ? `base64:${v}` : v);
    const tr = document.createElement('tr');
    tr.className = 'fresh';
    for (const v of [m.partition, m.offset, new Date(m.timestamp).toLocaleTimeString(), show(m.key), show(m.value)]) {
      const td = document.createElement('td');
      td.textContent = String(v);
      td.title = String(v);
      tr.append(td);
    }
    this.tbody.prepend(tr);
    while (this.tbody.children.length > MAX_ROWS) this.tbody.lastChild.remove();
  }
}
