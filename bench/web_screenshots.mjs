// Takes the README's screenshots of the web desk (docs/img/*.png) from a
// running demo desk (examples/demo-desk.sh):
//
//   PLAINT_DEMO_DB=/tmp/demo/plaint.db PLAINT_PORT=8080 bash examples/demo-desk.sh &
//   node bench/web_screenshots.mjs http://127.0.0.1:8080
//
// queue.png  the open queue, signed in as the agent li.na (English), 1280x800
// ticket.png the whole page of an escalated complaint in Chinese, with its
//            history, as li.na with the labels in 简体中文
// board.png  the escalation board, signed in as the supervisor wang.fang, 1280x800
// kpi.png    the KPI dashboard down to its last chart, as wang.fang
//
// Environment: PLAINT_AGENT / PLAINT_SUPERVISOR ("id:password", default the
// demo desk's), PLAINT_TICKET (the ticket to show; default the first open,
// escalated complaint with a Chinese subject), PLAINT_IMG_DIR (default
// docs/img), PLAINT_CHROMIUM (default /usr/bin/chromium). playwright-core is
// taken from tests/web/node_modules (`npm install` there).
import {createRequire} from 'node:module';
import {mkdirSync, statSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..');
const {chromium} = createRequire(join(repo, 'tests/web/package.json'))('playwright-core');

const base = (process.argv[2] || process.env.PLAINT_URL || 'http://127.0.0.1:8080').replace(/\/$/, '');
const account = (s) => {
  const i = s.indexOf(':');
  return {id: s.slice(0, i), password: s.slice(i + 1)};
};
const agent = account(process.env.PLAINT_AGENT || 'li.na:li.na-demo-1');
const supervisor = account(process.env.PLAINT_SUPERVISOR || 'wang.fang:wang.fang-demo-1');
const out = process.env.PLAINT_IMG_DIR || join(repo, 'docs/img');
mkdirSync(out, {recursive: true});

const browser = await chromium.launch({
  executablePath: process.env.PLAINT_CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

async function signed_in(who, locale) {
  const context = await browser.newContext({locale, viewport: {width: 1280, height: 800}, deviceScaleFactor: 1});
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
  await page.goto(`${base}/signin`);
  await page.locator('input[name="username"]').fill(who.id);
  await page.locator('input[name="password"]').fill(who.password);
  await page.locator('button[type="submit"]').click();
  await page.waitForURL((u) => !u.pathname.startsWith('/signin'));
  await page.locator('#me').waitFor();
  return page;
}

// Waits until the page is still (fonts loaded, no request in flight), then
// takes the visible 1280x800, or with `to` the page from its top down to the
// bottom of that element (the whole page with `to` = 'page').
async function shot(page, name, to) {
  await page.waitForLoadState('networkidle').catch(() => {});
  await page.evaluate(() => document.fonts.ready);
  await page.mouse.move(0, 799);
  const path = join(out, `${name}.png`);
  if (!to) {
    await page.screenshot({path});
  } else {
    const height = await page.evaluate((sel) => {
      const whole = document.documentElement.scrollHeight;
      const el = sel === 'page' ? null : [...document.querySelectorAll(sel)].pop();
      return el ? Math.min(whole, Math.ceil(el.getBoundingClientRect().bottom + scrollY + 24)) : whole;
    }, to);
    await page.screenshot({path, fullPage: true, clip: {x: 0, y: 0, width: 1280, height}});
  }
  console.log(`${path}  ${Math.round(statSync(path).size / 1024)} KB`);
}

const cjk = /[\u3400-\u9fff]/;

try {
  const page = await signed_in(agent, 'en-GB');
  await page.goto(`${base}/#/queue`);
  await page.locator('tbody tr').first().waitFor();
  await shot(page, 'queue');

  // An open complaint escalated above level 1 with a Chinese subject, the
  // customer's name in Chinese too where there is one, highest level first.
  let id = process.env.PLAINT_TICKET;
  if (!id) {
    const found = await page.evaluate(async (cjk_source) => {
      const cjk = new RegExp(cjk_source);
      const list = await (await fetch('/api/v1/tickets?open=true&limit=200')).json();
      const candidates = list.items.filter((t) => cjk.test(t.subject) && t.level >= 2 && t.owner);
      const names = {};
      for (const c of new Set(candidates.map((t) => t.customer))) {
        const r = await fetch(`/api/v1/customers/${encodeURIComponent(c)}`);
        names[c] = r.ok ? (await r.json()).name || '' : '';
      }
      const score = (t) => (cjk.test(names[t.customer]) ? 10 : 0) + t.level;
      candidates.sort((a, b) => score(b) - score(a) || b.id - a.id);
      return candidates.length ? candidates[0].id : null;
    }, cjk.source);
    if (!found) throw new Error('no open, escalated complaint with a Chinese subject: set PLAINT_TICKET');
    id = found;
  }
  const zh = await signed_in(agent, 'zh-CN');
  await zh.goto(`${base}/#/ticket/${id}`);
  await zh.locator('#ticket-state').waitFor();
  await shot(zh, 'ticket', 'page');

  const sup = await signed_in(supervisor, 'en-GB');
  await sup.goto(`${base}/#/board`);
  await sup.locator('.stamp').waitFor();
  await shot(sup, 'board');
  await sup.goto(`${base}/#/kpi`);
  await sup.locator('table.figures').waitFor();
  await sup.locator('figure.chart').last().waitFor();
  await shot(sup, 'kpi', 'figure.chart');
} finally {
  await browser.close();
}
