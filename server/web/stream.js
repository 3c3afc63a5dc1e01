// One EventSource for the whole app; pages subscribe and unsubscribe.
// Every message is named after its event (SPEC §9), so each name the
// workflows and the engine use gets a listener.

const engine_events = ['open', 'sla_warning', 'escalate', 'follow_up_due', 'sla_recomputed', 'message'];
const listeners = new Set();
const status_listeners = new Set();
let source = null;
let names = new Set(engine_events);
let retry_timer = 0;

function dispatch(e) {
  let data;
  try {
    data = JSON.parse(e.data);
  } catch {
    return;
  }
  if (!data || typeof data !== 'object') return;
  if (!data.event) data.event = e.type;
  for (const fn of listeners) {
    try {
      fn(data);
    } catch (err) {
      console.error(err);
    }
  }
}

function set_status(ok) {
  for (const fn of status_listeners) fn(ok);
}

function connect() {
  source = new EventSource('/api/v1/stream', {withCredentials: true});
  for (const n of names) source.addEventListener(n, dispatch);
  source.addEventListener('open', (e) => {
    if (!e.data) set_status(true);
  });
  source.onerror = () => {
    set_status(false);
    if (source.readyState === EventSource.CLOSED) {
      source = null;
      clearTimeout(retry_timer);
      retry_timer = setTimeout(connect, 5000);
    }
  };
}

// Starts the stream, listening for the events of these workflows too.
export function start_stream(workflows) {
  for (const w of workflows || []) for (const row of w.table || []) names.add(row.event);
  if (source) {
    for (const n of names) source.addEventListener(n, dispatch);
    return;
  }
  connect();
}

// fn({seq, ticket, event, from, to, at, actor, version}); returns the unsubscribe.
export function subscribe(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

export function on_status(fn) {
  status_listeners.add(fn);
  return () => status_listeners.delete(fn);
}

// Is this message a change of state (not housekeeping)?
export function is_transition(m) {
  return m.from !== m.to;
}
