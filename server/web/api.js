// The one way the pages talk to the server: JSON over fetch with the
// session cookie, the CSRF token on every request that changes something,
// and the sign-in page when the session is gone.

let csrf = '';

export function set_csrf(token) {
  csrf = token || '';
}

export class api_error extends Error {
  constructor(status, code, message, body) {
    super(message);
    this.status = status;
    this.code = code;
    this.body = body;
  }
}

export function go_signin() {
  const here = location.pathname + location.search + location.hash;
  location.assign(`/signin?next=${encodeURIComponent(here)}`);
}

// {data, headers, status}; throws api_error for anything but 2xx.
export async function request(path, {method = 'GET', body, headers = {}} = {}) {
  const h = {Accept: 'application/json', ...headers};
  if (method !== 'GET' && method !== 'HEAD') h['X-CSRF-Token'] = csrf;
  if (body !== undefined) h['Content-Type'] = 'application/json';
  let res;
  try {
    res = await fetch(path, {
      method,
      headers: h,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch (e) {
    throw new api_error(0, 'network', e.message || 'network error', null);
  }
  const text = await res.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (res.status === 401) {
    go_signin();
    throw new api_error(401, 'unauthorized', (data && data.error && data.error.message) || 'not signed in', data);
  }
  if (!res.ok) {
    const e = (data && data.error) || {};
    throw new api_error(res.status, e.code || String(res.status), e.message || res.statusText, data);
  }
  return {data, headers: res.headers, status: res.status};
}

export async function get(path) {
  return (await request(path)).data;
}

export async function post(path, body, headers) {
  return (await request(path, {method: 'POST', body, headers})).data;
}

// A query string of the non-empty members of obj.
export function query(obj) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(obj)) if (v !== undefined && v !== null && v !== '' && v !== false) p.set(k, v);
  const s = p.toString();
  return s ? `?${s}` : '';
}

export function enc(s) {
  return encodeURIComponent(String(s));
}

// A random key per form, so a second submit of the same form is the same request.
export function random_key() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}
