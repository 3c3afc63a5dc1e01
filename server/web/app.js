// The desk's shell: who is signed in, the navigation, the language switch
// and the hash routes (#/queue, #/ticket/12, #/new, #/board, #/kpi).
import {get, request, set_csrf, go_signin} from './api.js';
import {h, replace} from './dom.js';
import {t, set_lang, save_lang, get_lang, label} from './i18n.js';
import {start_stream, on_status} from './stream.js';
import * as queue from './queue.js';
import * as ticket from './ticket.js';
import * as intake from './intake.js';
import * as board from './board.js';
import * as kpi from './kpi.js';

const root = document.getElementById('app');
let cleanup = null;
let workflows_promise = null;
let users_promise = null;

const ctx = {
  me: null,
  is_supervisor() {
    return this.me && (this.me.role === 'supervisor' || this.me.role === 'admin');
  },
  workflows() {
    if (!workflows_promise) workflows_promise = get('/api/v1/workflows').catch((e) => {
      workflows_promise = null;
      throw e;
    });
    return workflows_promise;
  },
  users(fresh) {
    if (!users_promise || fresh) users_promise = get('/api/v1/users').catch((e) => {
      users_promise = null;
      throw e;
    });
    return users_promise;
  },
  // Where a page says what just happened, politely, for screen readers.
  announce(text) {
    const el = document.getElementById('announce');
    if (el) el.textContent = text;
  },
};

const routes = [
  {re: /^#\/queue(?:\?.*)?$/, page: queue},
  {re: /^#\/ticket\/(\d+)$/, page: ticket},
  {re: /^#\/new$/, page: intake},
  {re: /^#\/board$/, page: board, supervisor: true},
  {re: /^#\/kpi$/, page: kpi, supervisor: true},
];

function nav_links() {
  const links = [['#/queue', 'nav_queue'], ['#/new', 'nav_new']];
  if (ctx.is_supervisor()) links.push(['#/board', 'nav_board'], ['#/kpi', 'nav_kpi']);
  return links;
}

function render_shell() {
  const me = ctx.me;
  const lang_select = h('select', {id: 'lang', on: {change: (e) => switch_lang(e.target.value)}},
    h('option', {value: 'en', lang: 'en'}, 'English'),
    h('option', {value: 'zh', lang: 'zh-CN'}, '中文'));
  lang_select.value = get_lang();
  const sign_out = h('button', {type: 'button', class: 'link-button', on: {click: do_sign_out}}, t('sign_out'));
  const nav = h('nav', {'aria-label': t('nav_label'), class: 'nav'},
    h('ul', null, nav_links().map(([href, key]) => h('li', null, h('a', {href, 'data-route': href}, t(key))))));
  const header = h('header', {class: 'top'},
    h('a', {class: 'brand', href: '#/queue'}, t('app_name')),
    nav,
    h('div', {class: 'who'},
      h('span', {class: 'me', id: 'me'}, t('signed_in_as', {name: me.name || me.id, role: label('role', me.role)})),
      h('span', {class: 'lang'}, h('label', {for: 'lang', class: 'sr-only'}, t('language')), lang_select),
      sign_out));
  const main = h('main', {id: 'main', tabindex: '-1'});
  const live = h('p', {class: 'stream-status', id: 'stream-status', role: 'status', hidden: true}, t('offline'));
  replace(root,
    h('a', {class: 'skip', href: '#main', on: {click: (e) => {
      e.preventDefault();
      main.focus();
    }}}, t('skip')),
    header, live, main,
    h('div', {id: 'announce', class: 'sr-only', role: 'status', 'aria-live': 'polite'}));
  document.title = t('app_name');
}

async function do_sign_out() {
  try {
    await request('/signout', {method: 'POST'});
  } catch (e) {
    if (e.status === 401) return;
  }
  location.assign('/signin');
}

function switch_lang(l) {
  save_lang(l);
  render_shell();
  route();
}

function mark_current(hash) {
  for (const a of root.querySelectorAll('nav a[data-route]')) {
    const here = hash.startsWith(a.getAttribute('data-route'));
    if (here) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

async function route() {
  if (cleanup) {
    try {
      cleanup();
    } catch (e) {
      console.error(e);
    }
    cleanup = null;
  }
  let hash = location.hash || '#/queue';
  if (hash === '#' || hash === '#/') hash = '#/queue';
  const main = document.getElementById('main');
  mark_current(hash);
  const hit = routes.find((r) => r.re.test(hash));
  if (!hit) {
    replace(main, h('h1', null, t('not_found_page')));
    return;
  }
  if (hit.supervisor && !ctx.is_supervisor()) {
    replace(main, h('h1', null, t('not_for_role')));
    return;
  }
  const args = hash.match(hit.re).slice(1);
  replace(main, h('p', {class: 'loading'}, t('loading')));
  try {
    const r = await hit.page.render(main, ctx, ...args);
    cleanup = typeof r === 'function' ? r : null;
  } catch (e) {
    if (e.status === 401) return;
    replace(main, h('p', {class: 'error', role: 'alert'}, t('error_prefix', {message: e.message})));
  }
}

// Who is signed in: written into the page by the server (a JSON data
// block, never run), else asked for.
function boot_me() {
  const el = document.getElementById('plaint-boot');
  if (!el) return null;
  try {
    return JSON.parse(el.textContent).me || null;
  } catch {
    return null;
  }
}

async function start() {
  let me = boot_me();
  if (!me) {
    try {
      me = await get('/api/v1/me');
    } catch (e) {
      if (e.status !== 401) replace(root, h('p', {class: 'error', role: 'alert'}, e.message));
      return;
    }
  }
  ctx.me = me;
  set_csrf(me.csrf);
  // The server chose it: the plaint_lang cookie, else Accept-Language (reading
  // document.cookie here would cost a round trip to the browser's cookie store).
  set_lang(me.lang || 'en');
  render_shell();
  on_status((ok) => {
    const el = document.getElementById('stream-status');
    if (el) el.hidden = ok;
  });
  ctx.workflows().then((w) => start_stream(w), () => start_stream([]));
  window.addEventListener('hashchange', route);
  await route();
}

if (!root) go_signin();
else start();
