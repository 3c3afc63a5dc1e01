// What a ticket's SLA looks like in a list: the clock nearest to its due
// time, counted down from when the ticket was fetched.
import {h} from './dom.js';
import {t, fmt_left} from './i18n.js';

// {left, text, cls} for a ticket fetched at fetched_ms (Date.now()).
export function sla_state(tk, fetched_ms) {
  const s = tk.sla || {};
  const elapsed = Math.max(0, Math.floor((Date.now() - fetched_ms) / 1000));
  const running = [];
  if (typeof s.first_response_left === 'number') running.push(s.first_response_left - elapsed);
  if (typeof s.resolution_left === 'number') running.push(s.resolution_left - (s.paused ? 0 : elapsed));
  if (running.length === 0) {
    if (s.breached) return {left: null, text: t('sla_breached'), cls: 'sla-breached'};
    return {left: null, text: t('sla_none'), cls: 'sla-none'};
  }
  const left = Math.min(...running);
  let cls = left < 0 ? 'sla-breached' : left < 3600 ? 'sla-risk' : 'sla-ok';
  let text = fmt_left(left);
  if (s.paused && typeof s.first_response_left !== 'number') {
    text = `${t('sla_paused')} · ${text}`;
    cls = 'sla-paused';
  }
  return {left, text, cls};
}

export function sla_badge(tk, fetched_ms) {
  const st = sla_state(tk, fetched_ms);
  const el = h('span', {class: ['sla', st.cls]}, st.text);
  if (tk.sla && tk.sla.breached && st.left !== null && st.left >= 0) {
    el.append(' ', h('span', {class: 'tag tag-breached'}, t('sla_breached')));
  }
  return el;
}
