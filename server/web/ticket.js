// The ticket page: details, customer, SLA clocks in business time, history,
// a note box and one button per event the ticket's state accepts.
import {get, request, enc} from './api.js';
import {h, replace, field, select} from './dom.js';
import {t, label, fmt_time, fmt_left, fmt_duration} from './i18n.js';
import {subscribe} from './stream.js';
import {event_form} from './forms.js';

function dl(pairs) {
  return h('dl', {class: 'facts'}, pairs.map(([k, v]) => [h('dt', null, k), h('dd', null, v)]));
}

function payload_text(p) {
  if (!p || typeof p !== 'object') return [];
  const out = [];
  const flat = (obj) => {
    for (const [k, v] of Object.entries(obj)) {
      if (k === 'note') continue;
      if (v && typeof v === 'object' && !Array.isArray(v)) flat(v);
      else out.push(`${k}: ${Array.isArray(v) ? v.join(', ') : v}`);
    }
  };
  flat(p);
  return [...new Set(out)];
}

function history_item(e) {
  const p = e.payload || {};
  const move = e.from && e.from !== e.to ? `${label('state', e.from)} → ${label('state', e.to)}` :
    e.from ? '' : label('state', e.to);
  const details = payload_text(p);
  return h('li', {class: 'event', dataset: {seq: String(e.seq), version: String(e.version)}},
    h('div', {class: 'event-head'},
      h('span', {class: 'version'}, `v${e.version}`), ' ',
      h('strong', null, label('event', e.event)), ' ',
      move ? h('span', {class: 'move'}, move) : null, ' ',
      h('span', {class: 'actor'}, e.actor), ' ',
      h('time', {datetime: e.at}, fmt_time(e.at))),
    typeof p.note === 'string' && p.note ? h('p', {class: 'note'}, p.note) : null,
    details.length ? h('p', {class: 'payload'}, details.join(' · ')) : null);
}

// "v7 → v8: assign by li.na" for each event after version `seen`.
export function changes_since(history, seen) {
  return (history || []).filter((e) => e.version > seen).sort((a, b) => a.version - b.version)
    .map((e) => t('conflict_change', {from: e.version - 1, to: e.version, event: label('event', e.event), actor: e.actor}));
}

function clock_view(name, due, left, done_at, ticking) {
  const out = h('span', {class: 'clock-left'});
  let base = left;
  const started = Date.now();
  const draw = () => {
    if (done_at) {
      out.textContent = `${t('clock_done')} · ${fmt_time(done_at)}`;
      out.className = 'clock-left clock-done';
      return;
    }
    if (base === null || base === undefined) {
      out.textContent = t('sla_none');
      return;
    }
    const elapsed = ticking ? Math.floor((Date.now() - started) / 1000) : 0;
    const now_left = base - elapsed;
    out.textContent = fmt_left(now_left);
    out.className = `clock-left ${now_left < 0 ? 'sla-breached' : now_left < 3600 ? 'sla-risk' : 'sla-ok'}`;
  };
  draw();
  const row = h('div', {class: 'clock', dataset: {clock: name}},
    h('span', {class: 'clock-name'}, t(name)), ' ', out, ' ',
    due ? h('span', {class: 'clock-due'}, t('clock_due', {at: fmt_time(due)})) : null);
  return {row, draw};
}

export async function render(main, ctx, id) {
  const tid = Number(id);
  const alert = h('div', {class: 'alert', role: 'alert'});
  const notice = h('div', {class: 'notice', role: 'status'});
  const body = h('div', {class: 'ticket-body'});
  const title = h('h1', {tabindex: '-1'}, t('ticket_title', {id: tid}));
  replace(main, title, alert, notice, body);
  const [workflows, users] = await Promise.all([ctx.workflows(), ctx.users().catch(() => [])]);
  let tk = null;
  let open_form = null;
  let tick = 0;
  let gone = false;

  const busy = () => !!open_form || (body.querySelector('textarea.note-box') || {}).value;

  async function load() {
    const fresh = await get(`/api/v1/tickets/${tid}`);
    if (gone) return;
    tk = fresh;
    draw();
  }

  async function send({event, note, fields}) {
    alert.textContent = '';
    notice.textContent = '';
    const seen = tk.version;
    const body_json = {event, fields, expected_version: seen};
    if (note) body_json.note = note;
    try {
      await request(`/api/v1/tickets/${tid}/events`, {method: 'POST', body: body_json});
      open_form = null;
      await load();
      title.focus();
      ctx.announce(t('event_done', {event: label('event', event)}));
      notice.textContent = t('event_done', {event: label('event', event)});
    } catch (e) {
      if (e.status === 409) {
        open_form = null;
        await load();
        title.focus();
        alert.replaceChildren(h('p', null, t('conflict')),
          h('ul', {class: 'changes'}, changes_since(tk.history, seen).map((c) => h('li', null, c))));
      } else {
        alert.replaceChildren(h('p', {class: 'server-message'}, e.message));
      }
    }
  }

  function actions_section(wf) {
    const rows = wf ? wf.table.filter((r) => r.from.includes(tk.state) && r.event !== 'comment') : [];
    const slot = h('div', {class: 'form-slot'});
    const buttons = rows.map((row) => {
      const b = h('button', {type: 'button', class: 'event-button', dataset: {event: row.event},
        'aria-expanded': 'false'}, label('event', row.event));
      b.addEventListener('click', () => {
        for (const other of buttons) other.setAttribute('aria-expanded', 'false');
        b.setAttribute('aria-expanded', 'true');
        open_form = row.event;
        const form = event_form(row, tk, ctx, users, send, () => {
          open_form = null;
          slot.textContent = '';
          b.setAttribute('aria-expanded', 'false');
          b.focus();
        });
        replace(slot, form);
        const first = form.querySelector('select, input, textarea');
        if (first) first.focus();
      });
      return b;
    });
    return h('section', {class: 'card actions', 'aria-labelledby': 'actions-h'},
      h('h2', {id: 'actions-h'}, t('actions')),
      rows.length ? h('div', {class: 'event-buttons'}, buttons) : h('p', null, t('no_actions')),
      slot);
  }

  function note_section(wf) {
    if (!wf || !wf.table.some((r) => r.event === 'comment' && r.from.includes(tk.state))) return null;
    const text = h('textarea', {class: 'note-box', name: 'note', rows: 3, required: true});
    const from = select([['agent', t('from_agent')], ['customer', t('from_customer')]], 'agent', {name: 'from'});
    const button = h('button', {type: 'submit', class: 'primary'}, t('add_note'));
    const form = h('form', {class: 'note-form', on: {submit: async (e) => {
      e.preventDefault();
      if (!text.value.trim()) return;
      button.disabled = true;
      try {
        await send({event: 'comment', note: text.value.trim(), fields: from.value === 'customer' ? {from: 'customer'} : {}});
      } finally {
        button.disabled = false;
      }
    }}},
    field(t('note_label'), text).wrap, field(t('f_from'), from).wrap,
    h('div', {class: 'buttons'}, button));
    return h('section', {class: 'card', 'aria-labelledby': 'note-h'}, h('h2', {id: 'note-h'}, t('add_note')), form);
  }

  function clocks_section() {
    const s = tk.sla || {};
    const c = tk.clock || null;
    const working = c ? !!c.working_now : true;
    const fr_left = c ? c.first_response_business_left : s.first_response_left;
    const res_left = c ? c.resolution_business_left : s.resolution_left;
    const fr = clock_view('first_response', s.first_response_due, fr_left, s.first_response_at, working);
    const res = clock_view('resolution', s.resolution_due, res_left, s.resolved_at, working && !s.paused);
    clearInterval(tick);
    tick = setInterval(() => {
      fr.draw();
      res.draw();
    }, 1000);
    return h('section', {class: 'card clocks', 'aria-labelledby': 'clocks-h'},
      h('h2', {id: 'clocks-h'}, t('clocks')),
      fr.row, res.row,
      s.paused ? h('p', {class: 'tag'}, t('sla_paused')) : null,
      c && !c.working_now ? h('p', {class: 'hint'}, t('clock_stopped')) : null,
      s.breached ? h('p', null, h('span', {class: 'tag tag-breached'}, t('sla_breached'))) : null);
  }

  // "Why these due times?": GET /tickets/{id}/sla, drawn when opened.
  function explain_section() {
    const out = h('div', {class: 'explain-body'});
    const box = h('details', {class: 'card explain', id: 'sla-explain'},
      h('summary', null, t('explain_show')), out);
    const seg_row = (s) => h('li', {class: ['segment', `segment-${s.kind}`], dataset: {kind: s.kind}},
      h('span', {class: 'seg-kind'}, t(`seg_${s.kind}`) + (s.holiday ? ` (${s.holiday})` : '')), ' ',
      h('span', {class: 'seg-span'}, `${fmt_time(s.from)} – ${fmt_time(s.to)}`), ' ',
      h('span', {class: 'seg-counted'}, fmt_duration(s.counted_seconds)));
    const clock_block = (c) => {
      const name = c.clock === 'follow_up' ? t('follow_up_clock') : t(c.clock);
      const head = c.clock === 'first_response' ? name : t('explain_cycle', {clock: name, n: c.cycle});
      const segs = c.segments || [];
      const shown = segs.length <= 12 ? segs : [...segs.slice(0, 5), null, ...segs.slice(-5)];
      const hidden = segs.length - 10 + (c.segments_omitted || 0);
      const due = !c.due_at ? null : (c.paused_seconds ? t('explain_due_paused', {at: fmt_time(c.due_at),
        start: fmt_time(c.started_at), d: fmt_duration(c.target_seconds), p: fmt_duration(c.paused_seconds)})
        : t('explain_due', {at: fmt_time(c.due_at), start: fmt_time(c.started_at), d: fmt_duration(c.target_seconds)}));
      return h('section', {class: 'explain-clock', dataset: {clock: c.clock, cycle: String(c.cycle)}},
        h('h3', null, head, ' · ', h('span', {class: 'explain-status'}, t(`st_${c.status}`))),
        c.policy ? h('p', {class: 'explain-target'}, t('explain_target', {d: fmt_duration(c.target_seconds),
          row: c.row, name: c.policy.name, v: c.policy.version})) : null,
        due ? h('p', {class: 'explain-due'}, due) : null,
        h('ol', {class: 'segments'}, shown.map((s) => s ? seg_row(s) : h('li', {class: 'segment-more'},
          t('explain_more', {n: hidden})))),
        (c.recomputes || []).filter((r) => r.cause !== 'opened' && r.cause !== 'resolved').map((r) =>
          h('p', {class: 'explain-recompute'}, t('explain_recompute', {event: label('event', r.event), seq: r.seq,
            cause: r.cause, from: fmt_time(r.due_before), to: fmt_time(r.due_after)}))),
        c.warning ? h('p', {class: 'explain-fired'}, t('explain_warning', {at: fmt_time(c.warning.fired_at),
          seq: c.warning.seq})) : null,
        c.breach ? h('p', {class: 'explain-fired explain-breach'}, t('explain_breach', {
          at: fmt_time(c.breach.fired_at), seq: c.breach.seq, level: c.breach.level})) : null);
    };
    box.addEventListener('toggle', async () => {
      if (!box.open) return;
      replace(out, h('p', {class: 'loading'}, t('explain_loading')));
      try {
        const x = await get(`/api/v1/tickets/${tid}/sla`);
        replace(out, (x.clocks || []).map(clock_block),
          h('p', {class: x.check.matches ? 'explain-check' : 'explain-check error'},
            x.check.matches ? t('explain_ok') : t('explain_bad', {why: x.check.error || x.check.differences.join('; ')})));
      } catch (e) {
        replace(out, h('p', {class: 'error'}, e.message));
      }
    });
    return box;
  }

  function customer_section() {
    const sec = h('section', {class: 'card customer', 'aria-labelledby': 'cust-h'},
      h('h2', {id: 'cust-h'}, t('customer_title')), h('p', {class: 'loading'}, t('loading')));
    get(`/api/v1/customers/${enc(tk.customer)}`).then((c) => {
      const all = (c.tickets || []).filter((o) => o.id !== tk.id);
      const others = all.slice(0, 10);
      replace(sec, h('h2', {id: 'cust-h'}, t('customer_title')),
        dl([[t('f_name'), c.name], [t('f_customer'), c.id], [t('f_tier'), label('tier', c.tier)],
          [t('f_email'), c.email || t('none')], [t('f_phone'), c.phone || t('none')]]),
        h('h3', null, t('other_complaints')),
        others.length ? h('ul', {class: 'others'}, others.map((o) => h('li', null,
          h('a', {href: `#/ticket/${Number(o.id)}`}, `#${o.id}`), ' ', o.subject, ' — ', label('state', o.state))),
        all.length > others.length ? h('li', null, t('and_more', {n: all.length - others.length})) : null)
          : h('p', null, t('no_other_complaints')));
    }, (e) => replace(sec, h('h2', {id: 'cust-h'}, t('customer_title')), h('p', {class: 'error'}, e.message)));
    return sec;
  }

  function history_section() {
    const list = h('ol', {class: 'history', reversed: true});
    for (const e of [...(tk.history || [])].reverse()) list.append(history_item(e));
    let cursor = tk.history_next_cursor;
    const older = h('button', {type: 'button', hidden: !cursor}, t('older'));
    older.addEventListener('click', async () => {
      older.disabled = true;
      try {
        const r = await request(`/api/v1/tickets/${tid}/events?cursor=${enc(cursor)}`);
        for (const e of [...r.data].reverse()) list.append(history_item(e));
        cursor = r.headers.get('X-Next-Cursor');
        older.hidden = !cursor;
      } catch (e) {
        alert.replaceChildren(h('p', null, e.message));
      } finally {
        older.disabled = false;
      }
    });
    return h('section', {class: 'card history-card', 'aria-labelledby': 'hist-h'},
      h('h2', {id: 'hist-h'}, t('history')), list, older);
  }

  function draw() {
    const wf = workflows.find((w) => w.name === tk.workflow);
    title.textContent = `${t('ticket_title', {id: tk.id})} — ${tk.subject}`;
    document.title = `#${tk.id} ${tk.subject} — ${t('app_name')}`;
    const details = h('section', {class: 'card details', 'aria-labelledby': 'det-h'},
      h('h2', {id: 'det-h'}, t('details')),
      dl([
        [t('f_state'), h('span', {class: ['state', `state-${tk.state}`], id: 'ticket-state',
          dataset: {state: tk.state}}, label('state', tk.state))],
        [t('f_version'), h('span', {id: 'ticket-version'}, String(tk.version))],
        [t('f_owner'), tk.owner || t('unassigned')],
        [t('f_priority'), h('span', {class: ['prio', `prio-${tk.priority}`]}, tk.priority)],
        [t('f_category'), label('cat', tk.category)],
        [t('f_channel'), label('ch', tk.channel)],
        [t('f_level'), t('level_n', {n: tk.level})],
        [t('f_workflow'), label('wf', tk.workflow)],
        [t('f_created'), fmt_time(tk.created_at)],
        [t('f_updated'), fmt_time(tk.updated_at)],
        [t('f_resolution_code'), tk.resolution_code || t('none')],
        [t('f_root_cause'), tk.root_cause || t('none')],
        [t('f_csat_short'), tk.csat ?? t('none')],
        [t('f_handoffs'), String(tk.handoff_count)],
        [t('f_reopens'), String(tk.reopen_count)],
      ]),
      tk.description ? h('div', {class: 'description'}, h('h3', null, t('f_description')), h('p', null, tk.description)) : null);
    replace(body,
      h('div', {class: 'grid'},
        h('div', {class: 'col-main'}, details, actions_section(wf), note_section(wf), history_section()),
        h('div', {class: 'col-side'}, clocks_section(), explain_section(), customer_section())));
  }

  await load();
  title.focus();

  // Someone else's change: reload at once unless the agent is in the middle
  // of something, then say what changed and offer the reload.
  const unsubscribe = subscribe(async (m) => {
    if (Number(m.ticket) !== tid || !tk || m.version <= tk.version) return;
    if (!busy()) {
      await load();
      ctx.announce(t('live_updated', {id: tid}));
      return;
    }
    const reload = h('button', {type: 'button', on: {click: async () => {
      open_form = null;
      notice.textContent = '';
      await load();
    }}}, t('reload'));
    notice.replaceChildren(
      h('span', null, t('conflict_change', {from: m.version - 1, to: m.version, event: label('event', m.event), actor: m.actor})),
      ' ', reload);
  });
  return () => {
    gone = true;
    clearInterval(tick);
    unsubscribe();
  };
}
