// The web desk's first paint and page weight, measured in headless Chromium
// against a running `plaint serve` (bench/web_paint.sh starts one):
//
//   node bench/web_paint.mjs URL USER:PASSWORD [RUNS] [LABEL]
//
// Signs in once, then loads the queue (`/#/queue`, the open tickets, 50 a
// page) RUNS times, each in a fresh browser context holding only the session
// cookie (an empty HTTP cache: a first visit), and once more reloading in a
// warm context (assets from the cache). For each load, from navigation
// start: first-contentful-paint, the moment the queue has rendered (its
// count line is filled), the moment 50 rows are in the table, and the moment
// a frame has been painted with them. Prints medians and maxima, where the
// time of the first cold load went (each response, by when it arrived), the
// bytes of every response of a cold load (as sent, and each body gzip -9'd),
// and one line of JSON. playwright-core is taken from tests/web/node_modules.
import {createRequire} from 'node:module';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {gzipSync} from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));
const {chromium} = createRequire(join(here, '../tests/web/package.json'))('playwright-core');

const [base_arg, user_arg, runs_arg, label_arg] = process.argv.slice(2);
if (!base_arg || !user_arg) {
  console.error('usage: node bench/web_paint.mjs URL USER:PASSWORD [RUNS] [LABEL]');
  process.exit(2);
}
const base = base_arg.replace(/\/$/, '');
const [user, password] = [user_arg.slice(0, user_arg.indexOf(':')), user_arg.slice(user_arg.indexOf(':') + 1)];
const runs = Number(runs_arg || 7);
const label = label_arg || base;
const rows_wanted = 50;
const viewport = {width: 1280, height: 800};

const browser = await chromium.launch({
  executablePath: process.env.PLAINT_CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

// Runs in the page before any of its scripts: notes when FCP happens, when
// the queue's count line is filled, and when 50 rows are in the table and
// the frame showing them has been painted (rAF, then the task after it).
function probe(rows_wanted) {
  const marks = {};
  window.__paint_marks = marks;
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) if (e.name === 'first-contentful-paint') marks.fcp = e.startTime;
  }).observe({type: 'paint', buffered: true});
  // Says so on the console once the queue's frame is painted (and 50 rows',
  // if they come with it): the harness waits for that message rather than
  // polling the page, which would run its own script on the page's thread
  // while the page is drawing.
  const done = () => setTimeout(() => {
    if (marks.fcp !== undefined) console.debug('__paint_done');
    else setTimeout(done, 50);
  }, 100);
  const after_paint = (key) => requestAnimationFrame(() => setTimeout(() => {
    if (marks[key] === undefined) marks[key] = performance.now();
    if (key === 'queue') done();
  }, 0));
  const check = () => {
    const count = document.querySelector('p.count');
    if (marks.queue_pending === undefined && count && count.textContent.trim()) {
      marks.queue_pending = true;
      after_paint('queue');
    }
    const rows = document.querySelectorAll('table.queue tbody tr').length;
    if (marks.rows_pending === undefined && rows >= rows_wanted) {
      marks.rows_pending = true;
      marks.rows = rows;
      marks.rows_dom = performance.now();  // in the DOM; painted a frame later
      after_paint('rows50');
    }
  };
  new MutationObserver(check).observe(document, {childList: true, subtree: true, characterData: true});
}

async function sign_in() {
  const context = await browser.newContext({viewport, locale: 'en-GB'});
  const page = await context.newPage();
  await page.goto(`${base}/signin`);
  await page.locator('input[name="username"]').fill(user);
  await page.locator('input[name="password"]').fill(password);
  await page.locator('button[type="submit"]').click();
  await page.waitForURL((u) => !u.pathname.startsWith('/signin'), {timeout: 30000});
  await page.locator('#me').waitFor({timeout: 30000});
  const state = await context.storageState();
  await context.close();
  return state;
}

// Waits for the page to say the queue is painted (`painted`, made by
// paint_done before the load began), then reads the marks and the API timing.
const paint_done = (page) => page.waitForEvent('console', {predicate: (m) => m.text() === '__paint_done', timeout: 60000});

async function read_marks(page, painted) {
  await painted;
  return page.evaluate(() => {
    const m = window.__paint_marks;
    const api = performance.getEntriesByType('resource').find((e) => /\/api\/v1\/tickets\?/.test(e.name));
    const nav = performance.getEntriesByType('navigation')[0];
    const waterfall = [nav, ...performance.getEntriesByType('resource')].map((e) => ({
      name: e.entryType === 'navigation' ? '(document)' : new URL(e.name).pathname + new URL(e.name).search,
      start: e.startTime, end: e.responseEnd}));
    return {fcp: m.fcp, queue: m.queue, rows50: m.rows50 ?? null, rows_dom: m.rows_dom ?? null, rows: m.rows ?? document.querySelectorAll('table.queue tbody tr').length,
      tickets_api: api ? api.responseEnd - api.startTime : null, waterfall};
  });
}

async function cold_load(state, weigh) {
  const context = await browser.newContext({viewport, locale: 'en-GB', storageState: state});
  await context.addInitScript(probe, rows_wanted);
  const page = await context.newPage();
  const responses = [];
  if (weigh) page.on('response', (r) => responses.push(r));
  const painted = paint_done(page);
  await page.goto(`${base}/#/queue`);
  const marks = await read_marks(page, painted);
  let weight = null;
  if (weigh) {
    weight = [];
    for (const r of responses) {
      const type = (r.headers()['content-type'] || '').split(';')[0];
      const url = new URL(r.url()).pathname + new URL(r.url()).search;
      if (type === 'text/event-stream') {  // the live feed: open for as long as the page is
        weight.push({url, type, status: r.status(), raw: 0, gzip: 0, encoding: '', stream: true});
        continue;
      }
      const body = await r.body().catch(() => Buffer.alloc(0));
      const sizes = await r.request().sizes().catch(() => null);
      weight.push({url, type, status: r.status(), raw: body.length, gzip: body.length ? gzipSync(body, {level: 9}).length : 0,
        encoding: r.headers()['content-encoding'] || '', wire: sizes ? sizes.responseBodySize + sizes.responseHeadersSize : null});
    }
  }
  await context.close();
  return {marks, weight};
}

async function warm_loads(state, n) {
  const context = await browser.newContext({viewport, locale: 'en-GB', storageState: state});
  await context.addInitScript(probe, rows_wanted);
  const page = await context.newPage();
  let painted = paint_done(page);
  await page.goto(`${base}/#/queue`);
  await read_marks(page, painted);  // fills the cache
  const out = [];
  for (let i = 0; i < n; ++i) {
    painted = paint_done(page);
    await page.reload();
    out.push(await read_marks(page, painted));
  }
  await context.close();
  return out;
}

const median = (xs) => {
  const s = xs.filter((x) => x !== null).sort((a, b) => a - b);
  if (!s.length) return null;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const max = (xs) => (xs.some((x) => x !== null) ? Math.max(...xs.filter((x) => x !== null)) : null);
const ms = (x) => (x === null ? 'n/a' : `${x.toFixed(0)} ms`);
const kb = (b) => `${(b / 1024).toFixed(1)} KB`;

try {
  const state = await sign_in();
  const cold = [];
  let weight = null;
  for (let i = 0; i < runs; ++i) {
    const r = await cold_load(state, i === 0);
    if (i === 0) weight = r.weight;
    cold.push(r.marks);
  }
  const warm = await warm_loads(state, runs);

  const summary = (loads) =>
   Object.fromEntries(['fcp', 'queue', 'rows_dom', 'rows50', 'tickets_api'].map((k) => {
    const xs = loads.map((m) => m[k]);
    return [k, {median: median(xs), max: max(xs), all: xs.map((x) => (x === null ? null : Math.round(x)))}];
  }));
  const c = summary(cold), w = summary(warm);
  const rows = cold[0].rows;

  console.log(`\n== ${label}: queue (/#/queue, open tickets, 50 a page), ${runs} loads each, 1280x800`);
  console.log(`                                      cold cache (first visit)     warm cache (reload)`);
  console.log(`                                      median      max              median      max`);
  const line = (name, k) => console.log(`  ${name.padEnd(36)}${ms(c[k].median).padStart(8)} ${ms(c[k].max).padStart(8)}         ` +
    `${ms(w[k].median).padStart(8)} ${ms(w[k].max).padStart(8)}`);
  line('first contentful paint', 'fcp');
  line('queue rendered (count line filled)', 'queue');
  line(`${rows_wanted} rows in the DOM`, 'rows_dom');
  line(`${rows_wanted} rows visible (painted)`, 'rows50');
  line('GET /api/v1/tickets, request to response', 'tickets_api');
  console.log(`  rows in the table: ${rows}${rows < rows_wanted ? ` (fewer than ${rows_wanted}: "50 rows visible" is n/a)` : ''}`);
  console.log(`  each cold load (ms, fcp / 50 rows): ${cold.map((m) => `${Math.round(m.fcp)}/${m.rows50 === null ? '-' : Math.round(m.rows50)}`).join('  ')}`);

  console.log('\n  where the time of the first cold load went (ms from navigation start):');
  const m0 = cold[0];
  const events = m0.waterfall.map((e) => ({at: e.end, text: `${e.name.replace(/\/assets\/[0-9a-f]+\//, '/assets/…/')} ` +
    `(requested at ${Math.round(e.start)})`}))
    .concat([{at: m0.fcp, text: '-- first contentful paint'}, {at: m0.queue, text: '-- queue rendered'}])
    .concat(m0.rows50 === null ? [] : [{at: m0.rows_dom, text: `-- ${rows_wanted} rows in the DOM`},
      {at: m0.rows50, text: `-- ${rows_wanted} rows visible`}])
    .sort((a, b) => a.at - b.at);
  for (const e of events) console.log(`    ${String(Math.round(e.at)).padStart(6)}  ${e.text}`);

  const total = weight.reduce((a, r) => a + r.raw, 0), total_gz = weight.reduce((a, r) => a + r.gzip, 0);
  const assets = weight.filter((r) => !r.url.startsWith('/api/'));
  const a_raw = assets.reduce((a, r) => a + r.raw, 0), a_gz = assets.reduce((a, r) => a + r.gzip, 0);
  console.log(`\n  page weight of a cold load: ${weight.length} responses`);
  console.log(`    ${'response'.padEnd(46)} ${'type'.padEnd(24)} ${'raw'.padStart(10)} ${'gzip -9'.padStart(10)}  sent as`);
  for (const r of weight) {
    const name = r.url.length > 46 ? `${r.url.slice(0, 43)}...` : r.url;
    console.log(`    ${name.padEnd(46)} ${r.type.padEnd(24)} ${(r.stream ? 'stream' : kb(r.raw)).padStart(10)} ${(r.stream ? '-' : kb(r.gzip)).padStart(10)}  ${r.encoding || 'identity'}`);
  }
  console.log(`    ${'total'.padEnd(46)} ${''.padEnd(24)} ${kb(total).padStart(10)} ${kb(total_gz).padStart(10)}`);
  console.log(`    ${'of which pages and assets (not /api/)'.padEnd(46)} ${''.padEnd(24)} ${kb(a_raw).padStart(10)} ${kb(a_gz).padStart(10)}`);

  console.log(`JSON ${JSON.stringify({label, runs, rows, cold: c, warm: w,
    weight: {responses: weight.length, raw_bytes: total, gzip9_bytes: total_gz, asset_raw_bytes: a_raw, asset_gzip9_bytes: a_gz,
      items: weight}})}`);
} finally {
  await browser.close();
}
