// Parts the staff screens share (queue.js, ticket.js, inbox.js): one
// intended action with its idempotency key, the staff picker (GET
// /api/v1/staff, search as you type), an approval request's trail (GET
// /api/v1/approvals/{request}) and dates in the session's zone. Not a
// screen of its own.
import { html, useState, useEffect, useRef } from '../preact.js';
import { api, newIdem, ApiError } from '../api.js';
import { t, label, fmtTime } from '../i18n.js';
import { ErrorNote, Enum, Time, Countdown } from '../ui.js';
import { Dept } from '../directory.js';

// One action a person means to make: its Idempotency-Key is made at the
// first try and kept across retries, renewed after success, when the
// content changes (changed()) or when another action is chosen (what).
// run(send, what) calls send(idem) and answers its reply, or null after an
// error (kept in error until the next try); retry() tries the last again.
export function useAction() {
  const key = useRef(null);
  const last = useRef({ what: undefined, send: null });
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const [ok, setOk] = useState('');          // what the last success did, in words
  const changed = () => { key.current = null; setError(null); setOk(''); };
  const run = async (send, what) => {
    if (busy) return null;
    if (what !== last.current.what) key.current = null;
    last.current = { what, send };
    if (!key.current) key.current = newIdem();
    setBusy(true);
    setError(null);
    setOk('');
    try {
      const reply = await send(key.current);
      key.current = null;
      return reply;
    } catch (e) {
      setError(e);
      return null;
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, setError, ok, setOk, changed, run };
}

// A refusal made here, before sending: field's own words from strings.js.
export function localError(field, key) {
  const e = new ApiError(0, 'local', t(key), field, false);
  e.local = true;
  return e;
}

// An error for one form: a local refusal in its own words, else ErrorNote;
// or what its last success did.
export function FormError({ error, onRetry, ok }) {
  if (!error) return ok ? html`<div class="ok-note" role="status">${ok}</div>` : null;
  if (error.local) return html`<div class="error" role="alert">${error.message}</div>`;
  return html`<${ErrorNote} error=${error} onRetry=${error.temporary ? onRetry : null} />`;
}

// Chooses an active staff member: type words of the id or name, pick one
// of the matches. value: the chosen {staff, name, department} or null.
export function StaffPicker({ value, onPick, name, exclude }) {
  const [q, setQ] = useState('');
  const [list, setList] = useState(null);
  const [error, setError] = useState(null);
  const seq = useRef(0);
  useEffect(() => {
    if (value || !q.trim()) { setList(null); return undefined; }
    const mine = ++seq.current;
    const id = setTimeout(() => {
      api('GET', '/api/v1/staff', { query: { q: q.trim(), limit: 8 } }).then(
        (r) => { if (mine === seq.current) { setList(r.staff || []); setError(null); } },
        (e) => { if (mine === seq.current) setError(e); });
    }, 200);
    return () => clearTimeout(id);
  }, [q, value]);
  if (value) {
    return html`<div class="picked">
      <span class="picked-name">${value.name} <span class="muted">${value.staff} · <${Dept} id=${value.department} /></span></span>
      <button type="button" class="link" onClick=${() => onPick(null)}>${t('staff.change')}</button>
    </div>`;
  }
  const shown = (list || []).filter((s) => s.staff !== exclude);
  return html`<div class="picker">
    <input name=${name} type="search" autocomplete="off" value=${q}
      placeholder=${t('staff.search')} onInput=${(e) => setQ(e.currentTarget.value)} />
    <${ErrorNote} error=${error} />
    ${list && html`<ul class="picker-list" role="listbox">
      ${shown.length === 0 && html`<li class="empty">${t('staff.none')}</li>`}
      ${shown.map((s) => html`<li key=${s.staff}>
        <button type="button" role="option" class="pick" data-staff=${s.staff}
          onClick=${() => onPick(s)}>${s.name} <span class="muted">${s.staff} · <${Dept} id=${s.department} /> · ${label('role', s.role)}</span></button>
      </li>`)}
    </ul>`}
  </div>`;
}

// ms of midnight starting date (YYYY-MM-DD) in the session's zone.
export function zoneMidnight(date) {
  const [y, m, d] = date.split('-').map(Number);
  const guess = Date.UTC(y, m - 1, d);
  // What the zone's clock says at guess, read as if UTC: the difference is
  // the zone's offset then (twice, for a change of offset that day).
  const offset = (ms) => {
    const s = fmtTime(ms, true);
    const [dd, tt] = s.split(' ');
    const [yy, mo, da] = dd.split('-').map(Number);
    const [hh, mi, se] = tt.split(':').map(Number);
    return Date.UTC(yy, mo - 1, da, hh, mi, se) - ms;
  };
  const first = guess - offset(guess);
  return guess - offset(first);
}

// The date of a promise (its end, ms) in the session's zone.
export function promisedDate(endMs) {
  return fmtTime(endMs - 1).slice(0, 10);
}

// One step of a request: who has it, its status, deadline, decision and
// its trail of reminders and moves.
function Step({ s }) {
  return html`<li class=${`step st-${s.status}`}>
    <div class="step-head">
      <strong>${s.stage}.${s.order} ${s.label}</strong>
      <${Enum} e="step_status" v=${s.status} />
      <span>${t('approval.assignee')}: ${s.assigned_to || s.approver}</span>
      ${s.acting_for && html`<span class="muted">${t('approval.acting_for', { who: s.acting_for })}</span>`}
      ${s.status === 'pending' && s.deadline_at && html`<${Countdown} due=${s.deadline_at} />`}
    </div>
    ${s.outcome && html`<div class="step-decision">
      <${Enum} e="step_outcome" v=${s.outcome} />
      ${s.decided_by && html` · ${s.decided_by}`}
      ${s.on_behalf_of && html` · ${t('approval.on_behalf', { who: s.on_behalf_of })}`}
      ${' · '}<${Time} ms=${s.decided_at} />
      ${s.comment && html`<div class="comment">“${s.comment}”</div>`}
    </div>`}
    ${(s.trail || []).length > 0 && html`<ul class="trail">
      ${s.trail_omitted > 0 && html`<li class="muted">${t('approval.trail_omitted', { n: s.trail_omitted })}</li>`}
      ${s.trail.map((e) => html`<li><${Time} ms=${e.at} /> ${e.what === 'reminded' ? t('approval.reminded')
        : html`${label('move_action', e.action)} ${e.from || ''} → ${e.to || ''}`}
        ${e.by && html` · ${e.by}`}${e.reason && html` · ${e.reason}`}</li>`)}
    </ul>`}
  </li>`;
}

// A request's whole trail (approval.show), loaded when shown; reloads when
// `version` changes (a live event about it).
export function ApprovalTrail({ request, version }) {
  const [state, setState] = useState({ data: null, error: null });
  const load = () => api('GET', `/api/v1/approvals/${request}`).then(
    (data) => setState({ data, error: null }), (error) => setState((s) => ({ ...s, error })));
  useEffect(() => { load(); }, [request, version]);
  const { data, error } = state;
  if (!data) return error ? html`<${ErrorNote} error=${error} onRetry=${load} />`
    : html`<p class="muted">${t('app.loading')}</p>`;
  const a = data.approval;
  return html`<div class="approval-trail" data-request=${request}>
    <dl class="facts">
      <dt>${t('approval.reason')}</dt><dd>${a.reason}</dd>
      <dt>${t('approval.policy')}</dt><dd>${a.policy}</dd>
      <dt>${t('approval.requested')}</dt><dd>${a.requested_by} · <${Time} ms=${a.requested_at} /></dd>
      ${a.completed_at && html`<dt>${t('approval.completed')}</dt><dd><${Time} ms=${a.completed_at} /></dd>`}
      ${a.at_risk_at && html`<dt>${t('approval.at_risk')}</dt><dd class="bad-text"><${Time} ms=${a.at_risk_at} /></dd>`}
    </dl>
    <ol class="steps">${data.steps.map((s) => html`<${Step} key=${s.step} s=${s} />`)}</ol>
    ${data.steps_omitted > 0 && html`<p class="muted">${t('approval.steps_omitted', { n: data.steps_omitted })}</p>`}
  </div>`;
}
