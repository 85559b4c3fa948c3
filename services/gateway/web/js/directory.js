// The organisation's departments by name: loaded once after sign-in from
// GET /api/v1/departments (department.list), again when another person
// signs in. deptName(id) answers the name in the user's language (name_zh
// for zh, name for en), the id itself while loading or when unknown, so a
// screen never waits for it. The frame (app.js) re-renders when the names
// arrive (onDirectory), as it does when the language switches.
import { html } from './preact.js';
import { api, session, onSession } from './api.js';
import { getLang } from './i18n.js';

let depts = new Map();           // id -> {department, name, name_zh, head}
let loadedFor = '';              // the staff id the names were loaded for
const listeners = new Set();

// Loads the departments for the signed-in person, unless done already. A
// failure leaves the ids shown; the next sign-in tries again.
async function load(who) {
  if (!who || who.must_change) return;
  if (who.staff === loadedFor) return;
  loadedFor = who.staff;
  try {
    const r = await api('GET', '/api/v1/departments', { noReauth: true });
    if (loadedFor !== who.staff) return;    // someone else signed in meanwhile
    depts = new Map((r.departments || []).map((d) => [d.department, d]));
    for (const fn of listeners) fn(depts.size);
  } catch (e) {
    if (loadedFor === who.staff) loadedFor = '';
  }
}

onSession((who) => {
  if (!who) { loadedFor = ''; return; }
  load(who);
});
load(session());

// Calls fn after the names arrive; answers the function that stops it.
export function onDirectory(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

// The department's name in the user's language; the id while loading or
// when unknown; '' for none.
export function deptName(id) {
  if (id === undefined || id === null || id === '') return '';
  const d = depts.get(id);
  if (!d) return String(id);
  return (getLang() === 'en' ? d.name : d.name_zh) || String(id);
}

// A department by name, its id on hover (data-dept keeps the id).
export function Dept({ id }) {
  if (id === undefined || id === null || id === '') return null;
  return html`<span class="dept" title=${id} data-dept=${id}>${deptName(id)}</span>`;
}

// A staff member by name when known, the id on hover; the id alone else
// (a daemon).
export function Who({ id, name }) {
  if (!id) return null;
  return name ? html`<span class="who-name" title=${id} data-staff=${id}>${name}</span>`
    : html`<span class="mono" data-staff=${id}>${id}</span>`;
}
