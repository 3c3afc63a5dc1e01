// Building the DOM without markup strings: every text a person or the
// server wrote goes in as a text node, so it can never become markup.

const svg_ns = 'http://www.w3.org/2000/svg';

function set_attrs(el, attrs) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') el.setAttribute('class', Array.isArray(v) ? v.filter(Boolean).join(' ') : v);
    else if (k === 'text') el.textContent = String(v);
    else if (k === 'on') for (const [type, fn] of Object.entries(v)) el.addEventListener(type, fn);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'value' && 'value' in el) el.value = v;
    else if (k === 'checked' || k === 'selected' || k === 'disabled' || k === 'required' || k === 'hidden') el[k] = !!v;
    else if (k === 'style' || k.startsWith('on')) throw new Error(`attribute ${k} is not set from data`);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
}

function append_all(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

// h('p', {class: 'x'}, 'text', child, [more]) — an HTML element.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  set_attrs(el, attrs);
  return append_all(el, children);
}

// s('rect', {x: 1}) — an SVG element.
export function s(tag, attrs, ...children) {
  const el = document.createElementNS(svg_ns, tag);
  set_attrs(el, attrs);
  return append_all(el, children);
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

export function replace(el, ...children) {
  clear(el);
  return append_all(el, children);
}

let uid = 0;
export function next_id(prefix) {
  uid += 1;
  return `${prefix}-${uid}`;
}

// A labelled control: returns {wrap, control}.
export function field(label, control, hint) {
  if (!control.id) control.id = next_id('f');
  const parts = [h('label', {for: control.id}, label), control];
  if (hint) {
    const hint_el = h('span', {class: 'hint', id: next_id('hint')}, hint);
    control.setAttribute('aria-describedby', hint_el.id);
    parts.push(hint_el);
  }
  return {wrap: h('div', {class: 'field'}, parts), control};
}

// A <select> of [value, label] pairs.
export function select(options, value, attrs) {
  const el = h('select', attrs);
  for (const [v, label] of options) el.append(h('option', {value: v, selected: v === value}, label));
  if (value !== undefined) el.value = value;
  return el;
}
