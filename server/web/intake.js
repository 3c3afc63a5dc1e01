// The intake form: find or add the customer, describe the complaint, see
// the SLA it will get, save once (one Idempotency-Key per form).
import {get, post, query, enc, random_key} from './api.js';
import {h, replace, field, select} from './dom.js';
import {t, label, fmt_time, fmt_duration} from './i18n.js';
import {channels, categories, priorities, tiers} from './values.js';


export async function render(main, ctx) {
  const workflows = await ctx.workflows();
  let key = random_key();
  let customer = null;
  let preview_seq = 0;

  const alert = h('div', {class: 'alert', role: 'alert'});
  const cust_id = h('input', {name: 'customer', type: 'text', required: true, autocomplete: 'off'});
  const lookup = h('button', {type: 'button'}, t('lookup'));
  const cust_info = h('div', {class: 'customer-info', role: 'status'});
  const workflow = select(workflows.map((w) => [w.name, label('wf', w.name)]), 'complaint', {name: 'workflow'});
  const channel = select(channels.map((c) => [c, label('ch', c)]), 'phone', {name: 'channel'});
  const category = select(categories.map((c) => [c, label('cat', c)]), 'other', {name: 'category'});
  const priority = select(priorities.map((p) => [p, p]), 'P3', {name: 'priority'});
  const subject = h('input', {name: 'subject', type: 'text', required: true, maxlength: '500', autocomplete: 'off'});
  const description = h('textarea', {name: 'description', rows: 6});
  const preview = h('p', {class: 'sla-preview', id: 'sla-preview', role: 'status'}, t('sla_preview_need'));
  const save = h('button', {type: 'submit', class: 'primary'}, t('save_complaint'));

  function show_customer(c) {
    customer = c;
    const n = (c.tickets || []).length;
    replace(cust_info, h('p', {class: 'found'}, t('customer_found', {name: c.name, tier: label('tier', c.tier), n})));
    update_preview();
  }

  function new_customer_form(id) {
    const name = h('input', {type: 'text', name: 'name', autocomplete: 'off'});
    // A customer's value tier is a supervisor's decision; agents add
    // standard customers.
    const tier = ctx.is_supervisor() ? select(tiers.map((x) => [x, label('tier', x)]), 'standard', {name: 'tier'}) : null;
    const email = h('input', {type: 'email', name: 'email', autocomplete: 'off'});
    const phone = h('input', {type: 'tel', name: 'phone', autocomplete: 'off'});
    const add = h('button', {type: 'button'}, t('create_customer'));
    add.addEventListener('click', async () => {
      alert.textContent = '';
      if (!name.value.trim()) {
        name.focus();
        return;
      }
      add.disabled = true;
      try {
        const body = {id, name: name.value.trim()};
        if (tier) body.tier = tier.value;
        if (email.value.trim()) body.email = email.value.trim();
        if (phone.value.trim()) body.phone = phone.value.trim();
        const c = await post('/api/v1/customers', body);
        ctx.announce(t('customer_created', {id}));
        show_customer({...c, tickets: []});
      } catch (e) {
        alert.textContent = e.message;
      } finally {
        add.disabled = false;
      }
    });
    replace(cust_info, h('fieldset', {class: 'new-customer'},
      h('legend', null, t('customer_missing')),
      field(`${t('f_name')} ${t('required_mark')}`, name).wrap, tier ? field(t('f_tier'), tier).wrap : null,
      field(t('f_email'), email).wrap, field(t('f_phone'), phone).wrap,
      h('div', {class: 'buttons'}, add)));
    name.focus();
  }

  async function do_lookup() {
    const id = cust_id.value.trim();
    customer = null;
    alert.textContent = '';
    if (!id) return;
    try {
      show_customer(await get(`/api/v1/customers/${enc(id)}`));
    } catch (e) {
      if (e.status === 404) new_customer_form(id);
      else alert.textContent = e.message;
    }
  }

  async function update_preview() {
    if (!customer) {
      preview.textContent = t('sla_preview_need');
      return;
    }
    const seq = ++preview_seq;
    try {
      const p = await get(`/api/v1/sla/preview${query({customer: customer.id, priority: priority.value, workflow: workflow.value})}`);
      if (seq !== preview_seq) return;
      preview.textContent = t('sla_preview_text', {
        fr: fmt_time(p.first_response_due), frd: fmt_duration(p.first_response_seconds),
        res: fmt_time(p.resolution_due), resd: fmt_duration(p.resolution_seconds)});
    } catch (e) {
      if (seq === preview_seq) preview.textContent = e.message;
    }
  }

  lookup.addEventListener('click', do_lookup);
  cust_id.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') {
      e.preventDefault();
      do_lookup();
    }
  });
  cust_id.addEventListener('change', () => {
    if (customer && customer.id !== cust_id.value.trim()) {
      customer = null;
      cust_info.textContent = '';
      update_preview();
    }
  });
  priority.addEventListener('change', update_preview);
  workflow.addEventListener('change', update_preview);

  let saving = false;
  const form = h('form', {class: 'intake', 'aria-labelledby': 'intake-h'},
    h('fieldset', null, h('legend', null, t('customer_title')),
      h('div', {class: 'inline'}, field(t('customer_id'), cust_id).wrap, lookup), cust_info),
    h('fieldset', null, h('legend', null, t('details')),
      h('div', {class: 'row'}, field(t('f_workflow'), workflow).wrap, field(t('f_channel'), channel).wrap,
        field(t('f_category'), category).wrap, field(t('f_priority'), priority).wrap),
      field(`${t('f_subject')} ${t('required_mark')}`, subject).wrap,
      field(t('f_description'), description).wrap),
    h('section', {class: 'card', 'aria-labelledby': 'prev-h'}, h('h2', {id: 'prev-h'}, t('sla_preview')), preview),
    h('div', {class: 'buttons'}, save));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (saving) return;
    alert.textContent = '';
    saving = true;
    save.disabled = true;
    save.textContent = t('saving');
    try {
      const tk = await post('/api/v1/tickets', {
        customer: cust_id.value.trim(), subject: subject.value.trim(), description: description.value,
        channel: channel.value, category: category.value, priority: priority.value, workflow: workflow.value,
      }, {'Idempotency-Key': key});
      key = random_key();
      location.hash = `#/ticket/${Number(tk.id)}`;
    } catch (err) {
      alert.textContent = err.message;
    } finally {
      saving = false;
      save.disabled = false;
      save.textContent = t('save_complaint');
    }
  });

  replace(main, h('h1', {id: 'intake-h', tabindex: '-1'}, t('intake_title')), alert, form);
  main.querySelector('h1').focus();
}
