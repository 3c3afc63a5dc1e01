// The supervisor's escalation board: escalated, breached and at-risk
// tickets by level, longest overdue first, kept current by the stream.
import {get, request} from './api.js';
import {h, replace, field} from './dom.js';
import {t, tn, label, fmt_time, fmt_duration} from './i18n.js';
import {subscribe, is_transition} from './stream.js';
import {owner_select} from './forms.js';

const refresh_events = new Set(['escalate', 'sla_warning', 'assign', 'set_priority', 'open']);

function reason_text(reason) {
  const key = `why_${String(reason || '').replace(/ /g, '_')}`;
  const v = t(key);
  return v === key ? String(reason || '') : v;
}

export async function render(main, ctx) {
  const users = await ctx.users().catch(() => []);
  const alert = h('div', {class: 'alert', role: 'alert'});
  const stamp = h('p', {class: 'stamp'});
  const board = h('div', {class: 'board', 'aria-live': 'off'});
  // Notifications nobody received: failed for good, or waiting long.
  const undelivered = h('section', {class: 'undelivered', hidden: true, 'aria-labelledby': 'undelivered-h'});
  replace(main, h('h1', {tabindex: '-1'}, t('board_title')), alert, undelivered, stamp, board);
  let gone = false;
  let items = [];

  async function act(item, event, fields) {
    alert.textContent = '';
    try {
      await request(`/api/v1/tickets/${Number(item.id)}/events`, {method: 'POST',
        body: {event, fields, expected_version: item.version}});
      ctx.announce(t('event_done', {event: label('event', event)}));
      await load();
    } catch (e) {
      alert.textContent = e.message;
      await load();
    }
  }

  function card(item) {
    const key = `t${item.id}`;
    const owner = owner_select(users, '', {name: 'owner', dataset: {focus: `${key}-owner`}});
    const reassign = h('form', {class: 'inline', on: {submit: (e) => {
      e.preventDefault();
      if (owner.value) act(item, 'assign', {owner: owner.value});
    }}}, field(t('f_owner'), owner).wrap,
    h('button', {type: 'submit', dataset: {focus: `${key}-assign`}}, t('reassign')));
    const escalate = h('button', {type: 'button', dataset: {focus: `${key}-escalate`, action: 'escalate'},
      disabled: item.level >= 3 || item.state === 'closed',
      on: {click: () => act(item, 'escalate', {})}}, t('escalate'));
    const overdue = item.overdue_seconds > 0 ? `${t('overdue')} ${fmt_duration(item.overdue_seconds)}` : '';
    return h('li', {class: 'board-item', dataset: {id: String(item.id)}},
      h('article', {'aria-labelledby': `${key}-h`},
        h('h3', {id: `${key}-h`}, h('a', {href: `#/ticket/${Number(item.id)}`}, `#${item.id} `, item.subject)),
        h('p', {class: 'why'}, h('strong', {class: 'reason'}, reason_text(item.reason)),
          overdue ? h('span', {class: 'overdue'}, ` · ${overdue}`) : null),
        h('p', {class: 'meta'},
          `${item.customer} · ${label('tier', item.tier)} · ${item.priority} · ${label('state', item.state)} · `,
          `${t('f_owner')}: ${item.owner || t('unassigned')}`),
        h('div', {class: 'board-actions'}, reassign, escalate)));
  }

  function draw() {
    const focus = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.focus : null;
    const by_level = new Map();
    for (const it of items) {
      if (!by_level.has(it.level)) by_level.set(it.level, []);
      by_level.get(it.level).push(it);
    }
    const levels = [...by_level.keys()].sort((a, b) => b - a);
    if (levels.length === 0) {
      replace(board, h('p', null, t('board_empty')));
    } else {
      replace(board, levels.map((lv) => {
        const list = by_level.get(lv).sort((a, b) => (b.overdue_seconds || 0) - (a.overdue_seconds || 0));
        return h('section', {class: ['level', `level-${lv}`], dataset: {level: String(lv)}, 'aria-labelledby': `lv-${lv}`},
          h('h2', {id: `lv-${lv}`}, t('board_level', {n: lv}), ' ',
            h('span', {class: 'count'}, tn('board_count', list.length))),
          h('ul', {class: 'board-list'}, list.map(card)));
      }));
    }
    stamp.textContent = t('updated_at', {at: fmt_time(new Date(), {timeStyle: 'medium'})});
    if (focus) {
      const el = board.querySelector(`[data-focus="${CSS.escape(focus)}"]`);
      if (el) el.focus();
    }
  }

  function draw_undelivered(status) {
    const failed = status.counts.filter((c) => c.state === 'failed').reduce((n, c) => n + c.count, 0);
    const late = status.counts.filter((c) => c.state === 'pending' && c.oldest &&
      Date.now() - Date.parse(c.oldest) > 15 * 60 * 1000);
    undelivered.hidden = failed === 0 && late.length === 0;
    if (undelivered.hidden) return;
    const lines = [];
    if (failed > 0) lines.push(h('p', null, tn('undelivered_failed', failed)));
    for (const c of late)
      lines.push(h('p', null, t('undelivered_late', {n: c.count, channel: label('ch', c.channel),
        since: fmt_time(c.oldest)})));
    replace(undelivered, h('h2', {id: 'undelivered-h'}, t('undelivered_title')), lines,
      h('ul', {class: 'undelivered-list'}, status.failed.slice(0, 10).map((f) => h('li', null,
        h('a', {href: `#/ticket/${Number(f.ticket)}`}, `#${f.ticket}`), ' ',
        `${label('ch', f.channel)} · ${f.kind} · ${f.target} · ${fmt_time(f.next_at)} · `,
        h('span', {class: 'error'}, f.last_error || '')))));
  }

  async function load() {
    try {
      const [fresh, status] = await Promise.all([get('/api/v1/escalations'),
        get('/api/v1/notifications/status').catch(() => null)]);
      if (gone) return;
      items = fresh;
      if (status) draw_undelivered(status);
      draw();
    } catch (e) {
      if (!gone) alert.textContent = e.message;
    }
  }

  await load();
  main.querySelector('h1').focus();
  let timer = 0;
  const unsubscribe = subscribe((m) => {
    if (!refresh_events.has(m.event) && !is_transition(m)) return;
    clearTimeout(timer);
    timer = setTimeout(load, 300);
  });
  // Overdue times grow while nobody acts; a slow poll keeps them honest.
  const poll = setInterval(load, 60000);
  return () => {
    gone = true;
    unsubscribe();
    clearTimeout(timer);
    clearInterval(poll);
  };
}
