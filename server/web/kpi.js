// The supervisor's KPI page: a period and a grouping; the figures as a
// table, the distributions and trends as SVG charts, customers at risk.
import {get, query} from './api.js';
import {h, replace, field, select} from './dom.js';
import {t, label, fmt_number, fmt_percent, fmt_duration, fmt_time} from './i18n.js';
import {bar_chart, hbar_chart, line_chart} from './charts.js';

const day_ms = 86400000;

function ymd(d) {
  return d.toISOString().slice(0, 10);
}

// The period's instants: whole UTC days, the last one up to now.
function period(from_day, to_day) {
  const today = ymd(new Date());
  const to = to_day >= today ? new Date().toISOString().replace(/\.\d+Z$/, 'Z')
    : `${ymd(new Date(Date.parse(`${to_day}T00:00:00Z`) + day_ms))}T00:00:00Z`;
  return {from: `${from_day}T00:00:00Z`, to};
}

const metrics = [
  ['k_opened', (g) => fmt_number(g.opened)],
  ['k_closed', (g) => fmt_number(g.closed)],
  ['k_resolved', (g) => fmt_number(g.resolved)],
  ['k_backlog', (g) => fmt_number(g.backlog && g.backlog.total)],
  ['k_fr_p50', (g) => fmt_duration(g.first_response_seconds && g.first_response_seconds.p50)],
  ['k_fr_p90', (g) => fmt_duration(g.first_response_seconds && g.first_response_seconds.p90)],
  ['k_res_p50', (g) => fmt_duration(g.resolution_seconds && g.resolution_seconds.p50)],
  ['k_res_p90', (g) => fmt_duration(g.resolution_seconds && g.resolution_seconds.p90)],
  ['k_on_time', (g) => fmt_percent(g.on_time_rate)],
  ['k_success', (g) => fmt_percent(g.success_rate)],
  ['k_reopen', (g) => fmt_percent(g.reopen_rate)],
  ['k_esc2', (g) => fmt_percent(g.escalation_rate && g.escalation_rate['2'])],
  ['k_esc3', (g) => fmt_percent(g.escalation_rate && g.escalation_rate['3'])],
  ['k_handoffs', (g) => fmt_number(g.handoffs_mean, {maximumFractionDigits: 2})],
  ['k_csat', (g) => fmt_number(g.csat && g.csat.mean, {maximumFractionDigits: 2})],
  ['k_follow_up', (g) => fmt_percent(g.follow_up_completion)],
];

function group_name(by, key) {
  if (by === 'category') return label('cat', key);
  if (by === 'tier') return label('tier', key);
  return key;
}

function figures_table(report) {
  const cols = [{name: t('overall'), g: report.overall}]
    .concat((report.groups || []).map((g) => ({name: group_name(report.by, g.key), g})));
  return h('div', {class: 'table-wrap'}, h('table', {class: 'figures'},
    h('caption', {class: 'sr-only'}, t('figures')),
    h('thead', null, h('tr', null, h('td', null, ''), cols.map((c) => h('th', {scope: 'col'}, c.name)))),
    h('tbody', null, metrics.map(([key, f]) => h('tr', {dataset: {metric: key}},
      h('th', {scope: 'row'}, t(key)), cols.map((c) => h('td', null, f(c.g))))))));
}

function histogram(title, buckets) {
  return bar_chart(title, (buckets || []).map((b) => ({
    label: b.le === null ? t('bucket_more') : t('bucket_le', {d: fmt_duration(b.le)}),
    value: b.count, text: fmt_number(b.count)})));
}

function at_risk_table(list) {
  if (!list || list.length === 0) return h('p', null, t('at_risk_none'));
  return h('div', {class: 'table-wrap'}, h('table', {class: 'at-risk'},
    h('thead', null, h('tr', null, ['f_customer', 'f_tier', 'r_complaints', 'r_low_csat', 'r_breaches']
      .map((k) => h('th', {scope: 'col'}, t(k))))),
    h('tbody', null, list.map((r) => h('tr', null,
      h('td', null, r.customer), h('td', null, label('tier', r.tier)), h('td', null, fmt_number(r.complaints)),
      h('td', null, fmt_number(r.low_csat)), h('td', null, fmt_number(r.breaches)))))));
}

function charts(report, series) {
  const o = report.overall;
  const points = (series && series.points) || [];
  const short = {month: 'short', day: 'numeric', timeZone: 'UTC'};
  // Tickets opened in the period that reached each level.
  const esc = [2, 3].map((lv) => {
    const rate = (o.escalation_rate && o.escalation_rate[String(lv)]) || 0;
    const n = Math.round(rate * (o.opened || 0));
    return {label: t('level_n', {n: lv}), value: n, text: `${fmt_number(n)} (${fmt_percent(rate)})`};
  });
  const dist = (o.csat && o.csat.distribution) || {};
  const hist = (key) => (o[key] && o[key].histogram) || [];
  const named = (key, fig) => {
    fig.dataset.chart = key;
    return fig;
  };
  return h('div', {class: 'charts'},
    named('first_response', histogram(t('chart_fr_hist'), hist('first_response_seconds'))),
    named('resolution', histogram(t('chart_res_hist'), hist('resolution_seconds'))),
    named('on_time', line_chart(t('chart_on_time'), points.map((p) => ({
      label: fmt_time(p.from, short), value: p.on_time_rate, text: fmt_percent(p.on_time_rate)})))),
    named('escalations', bar_chart(t('chart_escalations'), esc)),
    named('categories', hbar_chart(t('chart_categories'), (o.top_categories || []).map((c) => ({
      label: label('cat', c.key), value: c.count, text: fmt_number(c.count)})))),
    named('root_causes', hbar_chart(t('chart_root_causes'), (o.top_root_causes || []).map((c) => ({
      label: c.key, value: c.count, text: fmt_number(c.count)})))),
    named('csat', bar_chart(t('chart_csat'), ['1', '2', '3', '4', '5'].map((k) => ({
      label: k, value: dist[k] || 0, text: fmt_number(dist[k] || 0)})))));
}

export async function render(main, ctx) {
  const now = new Date();
  const from = h('input', {type: 'date', name: 'from', value: ymd(new Date(now.getTime() - 55 * day_ms)), required: true});
  const to = h('input', {type: 'date', name: 'to', value: ymd(now), required: true});
  const by = select([['', t('by_none')], ['owner', t('by_owner')], ['category', t('by_category')],
    ['tier', t('by_tier')], ['team', t('by_team')]], '', {name: 'by'});
  const alert = h('div', {class: 'alert', role: 'alert'});
  const out = h('div', {class: 'kpi-out', 'aria-live': 'polite'});
  let seq = 0;

  async function load() {
    const mine = ++seq;
    alert.textContent = '';
    const p = period(from.value, to.value);
    try {
      const [report, series] = await Promise.all([
        get(`/api/v1/reports/kpi${query({from: p.from, to: p.to, by: by.value})}`),
        get(`/api/v1/reports/kpi/series${query({from: p.from, to: p.to, step: 'week'})}`).catch((e) => {
          alert.textContent = e.message;
          return null;
        }),
      ]);
      if (mine !== seq) return;
      replace(out,
        h('section', {class: 'card', 'aria-labelledby': 'fig-h'}, h('h2', {id: 'fig-h'}, t('figures')), figures_table(report)),
        charts(report, series),
        h('section', {class: 'card', 'aria-labelledby': 'risk-h'},
          h('h2', {id: 'risk-h'}, t('at_risk')), at_risk_table(report.customers_at_risk)));
    } catch (e) {
      if (mine === seq) alert.textContent = e.message;
    }
  }

  const form = h('form', {class: 'kpi-form', on: {submit: (e) => {
    e.preventDefault();
    load();
  }}},
  field(t('period_from'), from).wrap, field(t('period_to'), to).wrap, field(t('group_by'), by).wrap,
  h('div', {class: 'buttons'}, h('button', {type: 'submit', class: 'primary'}, t('show'))));
  replace(main, h('h1', {tabindex: '-1'}, t('kpi_title')), form, alert, out);
  main.querySelector('h1').focus();
  await load();
}
