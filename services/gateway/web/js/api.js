// The console's only way to the gateway's JSON API (/api/v1, described at
// /api/v1/openapi.json). It keeps the signed-in session's answer, sends the
// CSRF token with every change and an Idempotency-Key where the caller gives
// one, and never reports a temporary fault as a final one:
// - 401 on a signed-in session (expired, revoked): the sign-in dialog opens
//   over the current screen (which keeps what was typed) and, once signed in
//   again, the same request is sent again, with the same Idempotency-Key;
// - no answer, 503 (unavailable) or 429 (throttled): an ApiError whose
//   `temporary` is true; the screen keeps its form and offers to try again.

export class ApiError extends Error {
  constructor(status, code, message, field, temporary) {
    super(message || code);
    this.status = status;        // HTTP status; 0 when no answer came
    this.code = code;            // the wire's error code (proto/errors.md)
    this.field = field || '';    // the offending field, when one
    this.temporary = temporary;  // true: the same request may succeed later
  }
}

let who = null;                  // GET /api/v1/session's answer, or null
let reauth = null;               // () => Promise resolved when signed in again
const listeners = new Set();

// The signed-in staff member (staff, name, role, department, lang, tz, csrf,
// must_change, expires_at, idle_ends_at), or null.
export function session() { return who; }

// Replaces the session (after sign-in, sign-out, a language change) and
// tells every listener.
export function setSession(next) {
  who = next;
  for (const fn of listeners) fn(who);
}

// Calls fn(session) on every change; returns the function that stops it.
export function onSession(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

// app.js registers how to ask for a new sign-in (the dialog).
export function setReauth(fn) { reauth = fn; }

// A fresh idempotency key: one per report or action a person means to make,
// kept across retries of that same action.
export function newIdem() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

function url(path, query) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query || {}))
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

async function once(method, path, opts) {
  const headers = { Accept: 'application/json' };
  if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && who) headers['X-CSRF-Token'] = who.csrf;
  if (opts.idem) headers['Idempotency-Key'] = opts.idem;
  let res;
  try {
    res = await fetch(url(path, opts.query), {
      method, headers, credentials: 'same-origin', cache: 'no-store',
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    });
  } catch (e) {
    throw new ApiError(0, 'unavailable', String(e && e.message || e), '', true);
  }
  if (res.status === 204) return { res, data: null };
  let data = null;
  try { data = await res.json(); } catch (e) { data = null; }
  return { res, data };
}

// Sends one request: method, path (/api/v1/...), and opts {query, body, idem,
// noReauth}. Answers the JSON answer (null for 204); throws ApiError.
export async function api(method, path, opts = {}) {
  for (;;) {
    const { res, data } = await once(method, path, opts);
    if (res.ok) return data;
    const code = (data && data.code) || (res.status >= 500 ? 'unavailable' : 'internal');
    if (res.status === 401 && who && reauth && !opts.noReauth) {
      await reauth();            // the dialog: resolves once signed in again
      continue;                  // the same request, the same Idempotency-Key
    }
    const temporary = res.status === 503 || res.status === 429 || res.status === 502 ||
      res.status === 504;
    throw new ApiError(res.status, code, data && data.message, data && data.field, temporary);
  }
}

// Loads the session of this browser, if any: true when signed in.
export async function loadSession() {
  try {
    setSession(await api('GET', '/api/v1/session', { noReauth: true }));
    return true;
  } catch (e) {
    if (e.status === 401) { setSession(null); return false; }
    throw e;
  }
}
