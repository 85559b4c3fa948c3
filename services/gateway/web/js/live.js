// Live events (GET /api/v1/events, Server-Sent Events): one stream per
// page, shared by every screen. The browser reconnects by itself and sends
// Last-Event-ID, so the gateway catches up on what was missed from the
// outbox; only events the signed-in person may see arrive (tickets of
// theirs and their department's, their approval steps, their screen-pops).

let source = null;
let state = 'off';                 // 'off', 'connecting', 'live'
const handlers = new Map();        // event type -> Set of functions
const stateListeners = new Set();

function setState(next) {
  if (next === state) return;
  state = next;
  for (const fn of stateListeners) fn(state);
}

function dispatch(type, e) {
  let body = null;
  try { body = JSON.parse(e.data); } catch (err) { return; }
  for (const fn of handlers.get(type) || []) fn(body, type, e.lastEventId);
}

function listen(type) {
  if (source) source.addEventListener(type, (e) => dispatch(type, e));
}

// Opens the stream (after sign-in); closes any earlier one.
export function startLive() {
  stopLive();
  source = new EventSource('/api/v1/events', { withCredentials: true });
  setState('connecting');
  source.onopen = () => setState('live');
  source.onerror = () => {
    // CLOSED: the gateway refused (a session that ended): app.js reopens it
    // after the next sign-in. Otherwise the browser is reconnecting.
    setState(source && source.readyState === EventSource.CLOSED ? 'off' : 'connecting');
  };
  for (const type of handlers.keys()) listen(type);
}

export function stopLive() {
  if (source) source.close();
  source = null;
  setState('off');
}

// Calls fn(body, type, id) for each event of the given types (a string or a
// list); answers the function that stops it (for a useEffect's clean-up).
export function on(types, fn) {
  const list = Array.isArray(types) ? types : [types];
  for (const type of list) {
    if (!handlers.has(type)) {
      handlers.set(type, new Set());
      listen(type);
    }
    handlers.get(type).add(fn);
  }
  return () => { for (const type of list) handlers.get(type).delete(fn); };
}

export function liveState() { return state; }

// Calls fn(state) whenever the stream's state changes; answers the stopper.
export function onLiveState(fn) {
  stateListeners.add(fn);
  return () => stateListeners.delete(fn);
}
