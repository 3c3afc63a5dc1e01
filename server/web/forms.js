// The small form of one workflow event: a control per field the workflow
// table names for it ("owner!, category, priority"; ! = required).
import {h, field, select} from './dom.js';
import {t, label} from './i18n.js';
import {categories, priorities, reject_reasons} from './values.js';


// [{name, required}] of a table row's "fields" text.
export function parse_fields(text) {
  if (!text || text === '-') return [];
  return text.split(',').map((s) => s.trim()).filter(Boolean)
    .map((s) => ({name: s.replace(/!$/, ''), required: s.endsWith('!')}));
}

export function owner_select(users, value, attrs) {
  const active = users.filter((u) => !u.disabled);
  const opts = [['', t('none')]].concat(active.map((u) => [u.id, `${u.name} (${u.id})`]));
  return select(opts, value || '', attrs);
}

function field_label(name, required) {
  const text = t(`f_${name}`);
  return required ? `${text} ${t('required_mark')}` : text;
}

// One control: {wrap, read()} where read() gives the value to send or undefined.
function control(name, required, event, tk, ctx, users) {
  let el;
  let read = () => (el.value.trim() === '' ? undefined : el.value.trim());
  const attrs = {name, required};
  if (name === 'owner') {
    el = owner_select(users, event === 'triage' ? ctx.me.id : '', attrs);
  } else if (name === 'category') {
    el = select(categories.map((c) => [c, label('cat', c)]), tk.category, attrs);
  } else if (name === 'priority') {
    el = select(priorities.map((p) => [p, p]), tk.priority, attrs);
  } else if (name === 'reason' && event === 'reject') {
    el = select([['', t('none')]].concat(reject_reasons.map((r) => [r, label('reason', r)])), '', attrs);
  } else if (name === 'csat') {
    el = select([['', t('none')], ['1', '1'], ['2', '2'], ['3', '3'], ['4', '4'], ['5', '5']], '', attrs);
    read = () => (el.value ? Number(el.value) : undefined);
  } else if (name === 'unreachable') {
    el = h('input', {type: 'checkbox', name});
    const wrap = h('div', {class: 'check'}, h('label', null, el, ' ', t('f_unreachable')),
      h('span', {class: 'hint'}, t('unreachable_hint')));
    return {wrap, read: () => (el.checked ? true : undefined)};
  } else if (name === 'note') {
    el = h('textarea', {...attrs, rows: 3});
    const f = field(field_label(name, required), el);
    return {wrap: f.wrap, read, is_note: true};
  } else if (name === 'from') {
    el = select([['agent', t('from_agent')], ['customer', t('from_customer')]], 'agent', attrs);
  } else {
    el = h('input', {...attrs, type: 'text', autocomplete: 'off'});
  }
  const f = field(name === 'reason' && event === 'escalate' ? t('escalation_reason') : field_label(name, required), el);
  return {wrap: f.wrap, read};
}

// The form of `row` (a workflow table row) for ticket tk. on_send({event,
// note, fields}) does the request; on_cancel closes the form.
export function event_form(row, tk, ctx, users, on_send, on_cancel) {
  const specs = parse_fields(row.fields);
  if (!specs.some((f) => f.name === 'note')) specs.push({name: 'note', required: false});
  const controls = specs.map((f) => ({...f, ...control(f.name, f.required, row.event, tk, ctx, users)}));
  const send = h('button', {type: 'submit', class: 'primary'}, t('send'));
  const form = h('form', {class: 'event-form', dataset: {event: row.event}},
    h('fieldset', null,
      h('legend', null, label('event', row.event)),
      controls.map((c) => c.wrap),
      h('div', {class: 'buttons'}, send,
        h('button', {type: 'button', on: {click: on_cancel}}, t('cancel')))));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const fields = {};
    let note = '';
    for (const c of controls) {
      const v = c.read();
      if (c.is_note) note = v || '';
      else if (v !== undefined) fields[c.name] = v;
    }
    send.disabled = true;
    try {
      await on_send({event: row.event, note, fields});
    } finally {
      send.disabled = false;
    }
  });
  return form;
}
