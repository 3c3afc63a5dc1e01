// Small SVG charts built element by element (no markup strings): vertical
// bars, horizontal bars and a line. Each is a <figure> whose SVG carries a
// text summary of its values for screen readers.
import {h, s} from './dom.js';
import {t} from './i18n.js';

function figure(title, svg, summary, empty) {
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', `${title}: ${summary}`);
  return h('figure', {class: 'chart'}, h('figcaption', null, title), empty ? h('p', {class: 'hint'}, t('no_data')) : svg);
}

function nice_max(v) {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

// bars: [{label, value, text}]; value a number, text its printed form.
export function bar_chart(title, bars) {
  const W = 360, H = 200, L = 8, R = 8, T = 18, B = 36;
  const max = nice_max(Math.max(0, ...bars.map((b) => b.value || 0)));
  const slot = (W - L - R) / Math.max(1, bars.length);
  const bw = Math.min(44, slot * 0.7);
  const svg = s('svg', {viewBox: `0 0 ${W} ${H}`, class: 'chart-svg', preserveAspectRatio: 'xMidYMid meet'});
  svg.append(s('line', {x1: L, x2: W - R, y1: H - B, y2: H - B, class: 'axis'}));
  bars.forEach((b, i) => {
    const v = b.value || 0;
    const bh = ((H - T - B) * v) / max;
    const x = L + slot * i + (slot - bw) / 2;
    const y = H - B - bh;
    svg.append(
      s('rect', {x, y, width: bw, height: Math.max(bh, v > 0 ? 1 : 0), class: 'bar', rx: 2},
        s('title', null, `${b.label}: ${b.text}`)),
      s('text', {x: x + bw / 2, y: y - 4, class: 'val', 'text-anchor': 'middle'}, b.text),
      s('text', {x: x + bw / 2, y: H - B + 14, class: 'lbl', 'text-anchor': 'middle'}, b.label));
  });
  const summary = bars.map((b) => `${b.label} ${b.text}`).join(', ');
  return figure(title, svg, summary, bars.length === 0 || bars.every((b) => !b.value));
}

// Horizontal bars, for long labels (categories, root causes).
export function hbar_chart(title, bars) {
  const row = 26, L = 130, R = 44, W = 360;
  const H = Math.max(1, bars.length) * row + 8;
  const max = Math.max(1, ...bars.map((b) => b.value || 0));
  const svg = s('svg', {viewBox: `0 0 ${W} ${H}`, class: 'chart-svg'});
  bars.forEach((b, i) => {
    const y = 4 + i * row;
    const bw = ((W - L - R) * (b.value || 0)) / max;
    svg.append(
      s('text', {x: L - 6, y: y + row / 2 + 4, class: 'lbl', 'text-anchor': 'end'}, b.label),
      s('rect', {x: L, y: y + 4, width: Math.max(bw, 1), height: row - 8, class: 'bar', rx: 2},
        s('title', null, `${b.label}: ${b.text}`)),
      s('text', {x: L + bw + 4, y: y + row / 2 + 4, class: 'val'}, b.text));
  });
  const summary = bars.map((b) => `${b.label} ${b.text}`).join(', ');
  return figure(title, svg, summary, bars.length === 0);
}

// points: [{label, value (0..1 or null), text}] — a rate over time.
export function line_chart(title, points) {
  const W = 360, H = 200, L = 36, R = 10, T = 12, B = 36;
  const svg = s('svg', {viewBox: `0 0 ${W} ${H}`, class: 'chart-svg'});
  const x_of = (i) => L + ((W - L - R) * (points.length <= 1 ? 0.5 : i / (points.length - 1)));
  const y_of = (v) => T + (H - T - B) * (1 - v);
  for (const g of [0, 0.5, 1]) {
    svg.append(s('line', {x1: L, x2: W - R, y1: y_of(g), y2: y_of(g), class: g === 0 ? 'axis' : 'grid'}),
      s('text', {x: L - 4, y: y_of(g) + 4, class: 'lbl', 'text-anchor': 'end'}, `${Math.round(g * 100)}%`));
  }
  let d = '';
  const dots = [];
  const every = Math.max(1, Math.ceil(points.length / 6));
  points.forEach((p, i) => {
    if (i % every === 0) {
      svg.append(s('text', {x: x_of(i), y: H - B + 14, class: 'lbl', 'text-anchor': 'middle'}, p.label));
    }
    if (p.value === null || p.value === undefined) return;
    d += `${d ? 'L' : 'M'}${x_of(i).toFixed(1)} ${y_of(p.value).toFixed(1)} `;
    dots.push(s('circle', {cx: x_of(i), cy: y_of(p.value), r: 3.5, class: 'dot'},
      s('title', null, `${p.label}: ${p.text}`)));
  });
  if (d) svg.append(s('path', {d: d.trim(), class: 'line'}));
  svg.append(...dots);
  const summary = points.map((p) => `${p.label} ${p.text}`).join(', ');
  return figure(title, svg, summary, !points.some((p) => p.value !== null && p.value !== undefined));
}
