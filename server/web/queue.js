// The queue: filtered, paged list of tickets whose rows follow the event
// stream. The API filters state, owner, customer, level, breached, open and
// q; category and priority are filtered here.
import {get, query, enc} from './api.js';
import {h, replace, field, select} from './dom.js';
import {t, tn, label, fmt_time} from './i18n.js';
import {subscribe} from './stream.js';
import {sla_badge} from './sla.js';
import {categories, priorities} from './values.js';

const keys = ['state', 'owner', 'mine', 'level', 'breached', 'open', 'customer', 'category', 'priority', 'q'];
const defaults = {open: 'true'};

function read_filters() {
  const i = location.hash.indexOf('?');
  const p = new URLSearchParams(i >= 0 ? location.hash.slice(i + 1) : '');
  const f = {};
  if (i < 0) Object.assign(f, defaults);
  for (const k of keys) if (p.get(k)) f[k] = p.get(k);
  return f;
}

function filters_hash(f) {
  const p = new URLSearchParams();
  for (const k of keys) if (f[k]) p.set(k, f[k]);
  return `#/queue?${p.toString()}`;
}

// Does this ticket pass every filter (q approximately: a substring)?
function matches(tk, f, me) {
  const owner = f.mine ? me.id : f.owner;
  if (f.state && tk.state !== f.state) return false;
  if (f.open && tk.state === 'closed') return false;
  if (owner && tk.owner !== owner) return false;
  if (f.level && String(tk.level) !== f.level) return false;
  if (f.breached && !(tk.sla && tk.sla.breached)) return false;
  if (f.customer && tk.customer !== f.customer) return false;
  if (f.category && tk.category !== f.category) return false;
  if (f.priority && tk.priority !== f.priority) return false;
  if (f.q) {
    const hay = `${tk.subject} ${tk.description || ''}`.toLowerCase();
    if (!f.q.toLowerCase().split(/\s+/).filter(Boolean).every((w) => hay.includes(w))) return false;
  }
  return true;
}

function ticket_row(tk) {
  const fetched = Date.now();
  const link = `#/ticket/${Number(tk.id)}`;
  const sla_cell = h('td', {'data-label': t('f_sla'), class: 'sla-cell'}, sla_badge(tk, fetched));
  const tr = h('tr', {dataset: {id: String(tk.id)}},
    h('td', {'data-label': t('f_id')}, h('a', {href: link}, `#${tk.id}`)),
    h('td', {'data-label': t('f_subject'), class: 'subject'}, h('a', {href: link}, tk.subject)),
    h('td', {'data-label': t('f_customer')}, tk.customer),
    h('td', {'data-label': t('f_state')}, h('span', {class: ['state', `state-${tk.state}`], dataset: {state: tk.state}},
      label('state', tk.state))),
    h('td', {'data-label': t('f_priority')}, h('span', {class: ['prio', `prio-${tk.priority}`]}, tk.priority)),
    h('td', {'data-label': t('f_category')}, label('cat', tk.category)),
    h('td', {'data-label': t('f_owner')}, tk.owner || t('unassigned')),
    h('td', {'data-label': t('f_level')}, t('level_n', {n: tk.level})),
    sla_cell,
    h('td', {'data-label': t('f_updated')}, h('time', {datetime: tk.updated_at}, fmt_time(tk.updated_at))));
  tr.refresh_sla = () => replace(sla_cell, sla_badge(tk, fetched));
  return tr;
}

function filter_form(f, ctx, users, states, on_apply) {
  const opt_any = [['', t('any')]];
  const state = select(opt_any.concat(states.map((s) => [s, label('state', s)])), f.state || '', {name: 'state'});
  const owner = select(opt_any.concat(users.map((u) => [u.id, `${u.name} (${u.id})`])), f.owner || '', {name: 'owner'});
  const level = select(opt_any.concat([1, 2, 3].map((n) => [String(n), t('level_n', {n})])), f.level || '', {name: 'level'});
  const category = select(opt_any.concat(categories.map((c) => [c, label('cat', c)])), f.category || '', {name: 'category'});
  const priority = select(opt_any.concat(priorities.map((p) => [p, p])), f.priority || '', {name: 'priority'});
  const customer = h('input', {name: 'customer', type: 'text', value: f.customer || '', autocomplete: 'off'});
  const q = h('input', {name: 'q', type: 'search', value: f.q || '', autocomplete: 'off'});
  const check = (name, key) => {
    const box = h('input', {type: 'checkbox', name, checked: !!f[name]});
    return {box, wrap: h('div', {class: 'check'}, h('label', null, box, ' ', t(key)))};
  };
  const mine = check('mine', 'mine');
  const breached = check('breached', 'breached_only');
  const open = check('open', 'open_only');
  owner.disabled = mine.box.checked;
  mine.box.addEventListener('change', () => {
    owner.disabled = mine.box.checked;
  });
  const read = () => ({
    state: state.value, owner: owner.disabled ? '' : owner.value, mine: mine.box.checked ? 'true' : '',
    level: level.value, breached: breached.box.checked ? 'true' : '', open: open.box.checked ? 'true' : '',
    customer: customer.value.trim(), category: category.value, priority: priority.value, q: q.value.trim(),
  });
  const form = h('form', {class: 'filters', role: 'search', 'aria-label': t('filters'), on: {submit: (e) => {
    e.preventDefault();
    on_apply(read());
  }}},
    field(t('search'), q, t('search_hint')).wrap,
    field(t('f_state'), state).wrap,
    field(t('f_owner'), owner).wrap,
    field(t('f_level'), level).wrap,
    field(t('f_customer'), customer).wrap,
    field(t('f_category'), category).wrap,
    field(t('f_priority'), priority).wrap,
    h('div', {class: 'checks'}, mine.wrap, breached.wrap, open.wrap),
    h('div', {class: 'buttons'},
      h('button', {type: 'submit', class: 'primary'}, t('apply')),
      h('button', {type: 'button', on: {click: () => on_apply({...defaults})}}, t('reset'))));
  return form;
}

export async function render(main, ctx) {
  const f = read_filters();
  const api_query = (c) => query({
    state: f.state, owner: f.mine ? ctx.me.id : f.owner, customer: f.customer, level: f.level,
    breached: f.breached ? 'true' : '', open: f.open ? 'true' : '', q: f.q, limit: 50, cursor: c,
  });
  // The first page is asked for at once, beside the filters' lists.
  const first = get(`/api/v1/tickets${api_query(null)}`);
  first.catch(() => {});
  const [workflows, users] = await Promise.all([ctx.workflows(), ctx.users().catch(() => [])]);
  const states = [...new Set(workflows.flatMap((w) => w.states))];
  const rows = new Map();
  const tbody = h('tbody');
  const count = h('p', {class: 'count', role: 'status'});
  const more = h('button', {type: 'button', hidden: true}, t('more'));
  const error = h('p', {class: 'error', role: 'alert'});
  let cursor = null;
  let gone = false;

  const show_count = () => {
    count.textContent = rows.size ? tn('tickets_shown', rows.size) : t('no_tickets');
  };

  async function load(c, started) {
    error.textContent = '';
    try {
      const page = await (started || get(`/api/v1/tickets${api_query(c)}`));
      if (gone) return;
      for (const tk of page.items) {
        if (!matches(tk, f, ctx.me) || rows.has(tk.id)) continue;
        const tr = ticket_row(tk);
        rows.set(tk.id, tr);
        tbody.append(tr);
      }
      cursor = page.next_cursor;
      more.hidden = !cursor;
    } catch (e) {
      error.textContent = t('error_prefix', {message: e.message});
    }
    show_count();
  }
  more.addEventListener('click', () => load(cursor));

  // New filters are a new route (so Back returns to the old ones); the
  // same filters again reload the rows.
  const apply = (nf) => {
    const target = filters_hash(nf);
    if (location.hash !== target) {
      location.hash = target;
      return;
    }
    rows.clear();
    tbody.textContent = '';
    load(null);
  };

  const table = h('table', {class: 'queue'},
    h('caption', {class: 'sr-only'}, t('queue_title')),
    h('thead', null, h('tr', null,
      ['f_id', 'f_subject', 'f_customer', 'f_state', 'f_priority', 'f_category', 'f_owner', 'f_level', 'f_sla', 'f_updated']
        .map((k) => h('th', {scope: 'col'}, t(k))))),
    tbody);
  replace(main,
    h('h1', {tabindex: '-1'}, t('queue_title')),
    filter_form(f, ctx, users.filter((u) => !u.disabled), states, apply),
    error, count,
    h('div', {class: 'table-wrap'}, table),
    h('div', {class: 'buttons'}, more));
  await load(null, first);

  // Live rows: one re-fetch per ticket however many events arrive together.
  const pending = new Map();
  const refresh = async (id, is_new) => {
    try {
      const tk = await get(`/api/v1/tickets/${enc(id)}`);
      if (gone) return;
      const old = rows.get(tk.id);
      if (old) {
        const tr = ticket_row(tk);
        tr.classList.add('flash');
        old.replaceWith(tr);
        rows.set(tk.id, tr);
        ctx.announce(t('live_updated', {id: tk.id}));
      } else if (is_new && matches(tk, f, ctx.me)) {
        const tr = ticket_row(tk);
        tr.classList.add('flash');
        tbody.prepend(tr);
        rows.set(tk.id, tr);
        ctx.announce(t('live_new', {id: tk.id}));
        show_count();
      }
    } catch (e) {
      if (e.status !== 404) console.warn(e);
    }
  };
  const unsubscribe = subscribe((m) => {
    const id = Number(m.ticket);
    if (!id || (!rows.has(id) && m.event !== 'open')) return;
    clearTimeout(pending.get(id));
    pending.set(id, setTimeout(() => {
      pending.delete(id);
      refresh(id, m.event === 'open');
    }, 150));
  });
  const tick = setInterval(() => {
    for (const tr of rows.values()) tr.refresh_sla();
  }, 15000);
  return () => {
    gone = true;
    unsubscribe();
    clearInterval(tick);
    for (const p of pending.values()) clearTimeout(p);
  };
}
