// SPDX-License-Identifier: Apache-2.0
// A small line chart on a canvas: records appended per second across all partitions,
// from the difference of ganglion_partition_log_end_offset between two polls.
export class RateChart {
  constructor(canvas, legend) {
    this.canvas = canvas;
    this.legend = legend;
    this.points = [];
    this.last = null;
  }

  sample(metrics, now) {
    const total = metrics
      .filter((s) => s.name === 'ganglion_partition_log_end_offset' && !s.labels.topic.startsWith('__'))
      .reduce((a, s) => a + s.value, 0);
    if (this.last) {
      const rate = Math.max(0, (total - this.last.total) / ((now - this.last.now) / 1000));
      this.points.push(rate);
      if (this.points.length > 60) this.points.shift();
    }
    this.last = { total, now };
    this.draw(total);
  }

  draw(total) {
    const c = this.canvas;
    const g = c.getContext('2d');
    const w = c.width, h = c.height;
    g.clearRect(0, 0, w, h);
    g.strokeStyle = '#e5e7eb';
    for (let y = 0; y <= 4; y++) {
      g.beginPath(); g.moveTo(0, (h - 1) * y / 4); g.lineTo(w, (h - 1) * y / 4); g.stroke();
    }
    const max = Math.max(1, ...this.points);
    g.strokeStyle = '#2563eb';
    g.lineWidth = 2;
    g.beginPath();
    this.points.forEach((v, i) => {
      const x = (i / 59) * w, y = h - 4 - (v / max) * (h - 12);
      if (i) g.lineTo(x, y); else g.moveTo(x, y);
    });
    g.stroke();
    const now = this.points.length ? this.points[this.points.length - 1] : 0;
    this.legend.textContent = `now ${now.toFixed(1)}/s · peak ${max.toFixed(1)}/s · ${total} records in all topics`;
  }
}
