// The agent's call screen: the phone field (focused on load, Enter looks
// the owner up), the CTI screen-pop (call.answered opens the caller's card
// at once, call.ringing shows a banner), the owner card (units, tickets with
// live deadlines, open approvals, survey scores), a new ticket for the owner
// on the line (or a new owner), checked as the catalog checks it before it
// is sent, and its routing shown live (ticket.routed) once it is committed.
// Addresses: #/call (empty), #/call/PHONE (that owner's card).
import { html, useState, useEffect, useRef } from '../preact.js';
import { api, newIdem, session } from '../api.js';
import { t, label, fmtYuan, errorText } from '../i18n.js';
import { on } from '../live.js';
import { ErrorNote, Enum, EnumSelect, Time, Countdown, Field, Header } from '../ui.js';
import { Dept, deptName } from '../directory.js';

const LIMITS = { project: 32, building: 16, unit: 16, phone: 32, name: 64, summary: 200, detail: 4000 };
const utf8 = new TextEncoder();
const TICKET_EVENTS = ['ticket.routed', 'ticket.responded', 'ticket.transferred', 'ticket.escalated',
  'ticket.resolved', 'ticket.reopened', 'ticket.closed', 'approval.requested', 'approval.at_risk',
  'approval.completed', 'survey.answered'];

function bytes(s) { return utf8.encode(s || '').length; }

// A phone as the catalog normalises it (submit's rules): {phone} or {error}.
export function normPhone(typed) {
  const raw = (typed || '').trim();
  if (!raw) return { error: 'call.err_required' };
  if (bytes(raw) > LIMITS.phone) return { error: 'call.err_too_long', max: LIMITS.phone };
  let p = raw.replace(/[\s\-.()]/g, '');
  if (p.startsWith('+86')) p = p.slice(3);
  else if (p.startsWith('0086')) p = p.slice(4);
  if (!/^[0-9]{5,15}$/.test(p)) return { error: 'call.err_phone' };
  if ((p[0] === '1') !== (p.length === 11)) return { error: 'call.err_mobile' };
  return { phone: p };
}

// Marks a moment of the screen for the browser tests' timings (reported,
// never asserted): performance.mark, and a measure from `from` when given.
function mark(name, from) {
  if (!performance.mark) return;
  performance.mark(name);
  if (from && performance.getEntriesByName(from).length) performance.measure(`${name}:from-reply`, from, name);
}

// ---- calls of this agent (module level: a screen-pop opens the call
// screen from any screen the agent is on)
let ringing = null;                     // the last call.ringing body not yet answered or ended
const ringListeners = new Set();

function setRinging(next) {
  ringing = next;
  for (const fn of ringListeners) fn(ringing);
}

function mine(body) {
  const who = session();
  return !!who && (!body.staff || body.staff === who.staff);
}

let unsent = 0;                         // new-ticket forms holding words not yet sent

// The answered call pops its caller's card at once, unless a report is half
// typed: then the banner offers the card and the form stays as it is.
on(['call.ringing', 'call.answered', 'call.ended', 'call.missed'], (body, type) => {
  if (!body || !mine(body)) return;
  if (type === 'call.ringing') { setRinging(body); return; }
  if (ringing && ringing.call === body.call) setRinging(null);
  if (type !== 'call.answered') return;
  const to = body.caller ? `#/call/${encodeURIComponent(body.caller)}` : '#/call';
  if (unsent > 0 && location.hash !== to) { setRinging({ ...body, answered: true }); return; }
  mark('kefu:call-pop');
  location.hash = to;
});

function RingBanner() {
  const [ring, setRing] = useState(ringing);
  useEffect(() => {
    ringListeners.add(setRing);
    return () => ringListeners.delete(setRing);
  }, []);
  if (!ring) return null;
  return html`<div class="warn-note ring-banner" role="status">
    <strong>${ring.answered ? t('call.answered') : t('call.ringing')}</strong>
    <span class="mono">${ring.caller || t('call.no_caller')}</span>
    ${ring.owner ? html` · ${t('call.known_owner')}` : html` · ${t('call.unknown_caller')}`}
    ${ring.answered && ring.caller && html` · <a href=${`#/call/${encodeURIComponent(ring.caller)}`}
      onClick=${() => setRinging(null)}>${t('call.open_card')}</a> <span class="muted">${t('call.form_kept')}</span>`}
  </div>`;
}

// ---- the phone field
function PhoneBar({ phone, onLookup }) {
  const [typed, setTyped] = useState(phone || '');
  const [error, setError] = useState('');
  const input = useRef(null);
  useEffect(() => {
    input.current.focus();
    requestAnimationFrame(() => mark('kefu:call-ready'));
  }, []);
  useEffect(() => { if (phone) setTyped(phone); }, [phone]);
  const submit = (ev) => {
    ev.preventDefault();
    const n = normPhone(typed);
    if (n.error) { setError(t(n.error, { max: n.max })); return; }
    setError('');
    setTyped(n.phone);
    onLookup(n.phone);
  };
  return html`<form class="phone-bar" onSubmit=${submit} role="search">
    <label class=${`field${error ? ' bad' : ''}`}>
      <span class="field-label">${t('call.phone_label')}</span>
      <input ref=${input} name="phone" class="phone" type="tel" inputmode="tel" autocomplete="off"
        value=${typed} placeholder=${t('call.phone_placeholder')}
        aria-invalid=${error ? 'true' : null}
        onInput=${(e) => setTyped(e.currentTarget.value)} />
      ${error && html`<small class="field-error" role="alert">${error}</small>`}
    </label>
    <button type="submit" class="primary">${t('call.lookup')}</button>
  </form>`;
}

// ---- the owner card
function More({ when, children }) {
  if (!when) return null;
  return html`<p class="more-note muted">${children || t('call.more')}</p>`;
}

function Units({ owner }) {
  return html`<section class="card owner-units">
    <h3>${t('call.units')}</h3>
    ${owner.units.length === 0 ? html`<p class="empty">${t('call.no_units')}</p>` : html`<ul class="units">
      ${owner.units.map((u) => html`<li class="mono">${u.project} · ${u.building}-${u.unit}</li>`)}
    </ul>`}
    <${More} when=${owner.units_more} />
  </section>`;
}

function TicketRow({ tk }) {
  const open = ['submitted', 'routed', 'responded'].includes(tk.status);
  return html`<tr class=${open ? 'open' : ''} data-ticket=${tk.ticket}>
    <td><a class="mono" href=${`#/ticket/${encodeURIComponent(tk.ticket)}`}>${tk.ticket}</a></td>
    <td><${Enum} e="status" v=${tk.status} /></td>
    <td><${Enum} e="kind" v=${tk.kind} /> · <${Enum} e="category" v=${tk.category} />
      <div class="summary">${tk.summary}</div></td>
    <td>${tk.owner_name}<div class="muted"><${Dept} id=${tk.department} /></div></td>
    <td><span class="cell-label">${t('call.col_first')}</span>
      <${Deadline} due=${tk.first_response_due} done=${tk.responded_at} state=${tk.first_response} /></td>
    <td><span class="cell-label">${t('call.col_resolve')}</span>
      <${Deadline} due=${tk.resolve_due} done=${tk.resolved_at} state=${tk.resolution} /></td>
  </tr>`;
}

// One deadline: the live countdown, the time itself, and its state label.
function Deadline({ due, done, state }) {
  if (due === undefined || due === null) return html`<span class="muted">${t('call.not_routed')}</span>`;
  return html`<div class="deadline">
    <${Countdown} due=${due} done=${done} />
    <div class="muted small"><${Time} ms=${due} />${state && html` · ${label('deadline_state', state)}`}</div>
  </div>`;
}

function Tickets({ owner }) {
  const phone = encodeURIComponent(owner.phone);
  return html`<section class="card owner-tickets">
    <h3>${t('call.tickets', { open: owner.open, total: owner.total })}</h3>
    ${owner.tickets.length === 0 ? html`<p class="empty">${t('call.no_tickets')}</p>` : html`
    <table class="list cards"><thead><tr>
      <th>${t('call.col_ticket')}</th><th>${t('call.col_status')}</th><th>${t('call.col_what')}</th>
      <th>${t('call.col_owner')}</th><th>${t('call.col_first')}</th><th>${t('call.col_resolve')}</th>
    </tr></thead><tbody>
      ${owner.tickets.map((tk) => html`<${TicketRow} key=${tk.ticket} tk=${tk} />`)}
    </tbody></table>`}
    <${More} when=${owner.more}><a href=${`#/queue?phone=${phone}`}>${t('call.more_tickets', { n: owner.total - owner.count })}</a><//>
  </section>`;
}

function Approvals({ owner }) {
  if (owner.approvals.length === 0) return null;
  return html`<section class="card owner-approvals">
    <h3>${t('call.approvals')}</h3>
    <table class="list cards"><tbody>
      ${owner.approvals.map((a) => html`<tr key=${a.request}>
        <td><a class="mono" href=${`#/ticket/${encodeURIComponent(a.ticket)}`}>${a.ticket}</a></td>
        <td><${Enum} e="request_type" v=${a.type} /> ${fmtYuan(a.amount)}</td>
        <td>${t('call.promised')} <strong>${a.promised}</strong> <${Countdown} due=${a.promised_at} />
          ${a.at_risk_at && html` <span class="risk">${t('call.at_risk')}</span>`}</td>
      </tr>`)}
    </tbody></table>
    <${More} when=${owner.approvals_more} />
  </section>`;
}

function Surveys({ owner }) {
  if (owner.surveys.length === 0) return null;
  return html`<section class="card owner-surveys">
    <h3>${t('call.surveys')}</h3>
    <ul class="surveys">
      ${owner.surveys.map((s) => html`<li key=${s.survey}>
        <strong class=${s.score <= 2 ? 'low-score' : ''}>${t('call.score', { s: s.score })}</strong>
        ${s.nps !== undefined && s.nps !== null && html` · ${t('call.nps', { n: s.nps })}`}
        · <${Enum} e="survey_kind" v=${s.kind} />${s.milestone && html` (<${Enum} e="milestone" v=${s.milestone} />)`}
        ${s.ticket && html` · <a class="mono" href=${`#/ticket/${encodeURIComponent(s.ticket)}`}>${s.ticket}</a>`}
        · <${Time} ms=${s.answered_at} />
      </li>`)}
    </ul>
    <${More} when=${owner.surveys_more} />
  </section>`;
}

function OwnerHead({ owner, onNew }) {
  return html`<section class="card owner-head">
    <div class="owner-title">
      <h2 class="owner-name">${owner.name || t('call.no_name')}</h2>
      <span class="mono big-phone">${owner.phone}</span>
      <button type="button" class="primary new-ticket" onClick=${onNew}>${t('call.new_ticket')}</button>
    </div>
    <dl class="facts">
      <dt>${t('call.segment')}</dt><dd>${owner.segment ? label('segment', owner.segment) : t('app.none')}</dd>
      <dt>${t('call.lang')}</dt><dd>${label('lang', owner.lang)}</dd>
      <dt>${t('call.known_since')}</dt><dd><${Time} ms=${owner.known_since} /></dd>
    </dl>
  </section>`;
}

// Looks the phone up (owner.show) and shows the card, or the new-owner form
// when nobody is known by that number.
function OwnerPane({ phone }) {
  const [state, setState] = useState({ loading: true });
  const [form, setForm] = useState(false);
  const load = (quiet) => {
    if (quiet !== true) setState({ loading: true });
    api('GET', '/api/v1/owners', { query: { phone } }).then(
      (owner) => { mark('kefu:owner-reply'); setState({ owner }); },
      // A quiet read that fails keeps the card (and a form on it) as it is.
      (error) => { mark('kefu:owner-reply'); if (quiet !== true) setState({ error }); });
  };
  useEffect(() => load(), [phone]);
  const [made, setMade] = useState('');  // tickets made here, watched before the card lists them
  const refresh = (no) => {             // the new ticket in the list; the form stays
    if (typeof no === 'string') setMade((m) => `${m} ${no}`.trim());
    load(true);
  };
  // A change to one of the card's tickets (routed, answered, resolved, an
  // approval decided): the card is read again, quietly.
  const shown = state.owner ? state.owner.tickets.map((x) => x.ticket).join(' ') : '';
  useEffect(() => {
    const list = new Set(`${shown} ${made}`.split(' ').filter(Boolean));
    if (!list.size) return undefined;
    return on(TICKET_EVENTS, (body) => { if (body && list.has(body.ticket)) refresh(); });
  }, [shown, made]);
  useEffect(() => { if (!state.loading) mark('kefu:owner-shown', 'kefu:owner-reply'); }, [state]);
  if (state.loading) return html`<p class="muted">${t('app.loading')}</p>`;
  const unknown = state.error && state.error.code === 'not_found';
  if (state.error && !unknown) return html`<${ErrorNote} error=${state.error} onRetry=${() => load()} />`;
  if (unknown) {
    return html`<div class="owner-unknown">
      <p class="warn-note unknown-owner" role="status">${t('call.unknown_owner', { phone })}</p>
      <${NewTicket} phone=${phone} owner=${null} />
    </div>`;
  }
  const owner = state.owner;
  return html`<div class="owner-card">
    <${OwnerHead} owner=${owner} onNew=${() => setForm(true)} />
    ${form && html`<${NewTicket} phone=${owner.phone} owner=${owner} onDone=${refresh}
      onClose=${() => setForm(false)} />`}
    <div class="grid owner-grid">
      <div><${Units} owner=${owner} /><${Approvals} owner=${owner} /><${Surveys} owner=${owner} /></div>
      <div><${Tickets} owner=${owner} /></div>
    </div>
  </div>`;
}

// ---- the new ticket
function blankReport(owner) {
  const u = owner && owner.units.length ? owner.units[0] : { project: '', building: '', unit: '' };
  return { kind: '', category: '', channel: 'phone', priority: 'normal', project: u.project,
    building: u.building, unit: u.unit, name: '', summary: '', detail: '' };
}

// What the catalog would refuse, checked before sending: {field: message}.
export function checkReport(r, phone, isNew) {
  const bad = {};
  const need = (f) => { if (!String(r[f] || '').trim()) bad[f] = t('call.err_required'); };
  const max = (f) => {                  // what is sent: trimmed, but the owner's words as typed
    const n = bytes(f === 'detail' ? r[f] : String(r[f] || '').trim());
    if (!bad[f] && n > LIMITS[f]) bad[f] = t('call.err_bytes', { max: LIMITS[f], n });
  };
  ['kind', 'category', 'channel', 'project', 'summary'].forEach(need);
  ['project', 'building', 'unit', 'summary', 'detail'].forEach(max);
  if (isNew) max('name');
  if (!bad.summary && /[\r\n]/.test(r.summary)) bad.summary = t('call.err_one_line');
  if (!bad.building && !bad.unit && !!r.building.trim() !== !!r.unit.trim())
    bad[r.building.trim() ? 'unit' : 'building'] = t('call.err_building_unit');
  const p = normPhone(phone);
  if (p.error) bad.phone = t(p.error, { max: LIMITS.phone });
  return bad;
}

// The fields the form shows (a refusal naming one is shown next to it).
function formFields(isNew) {
  const f = ['kind', 'category', 'channel', 'priority', 'project', 'building', 'unit', 'summary', 'detail'];
  return isNew ? [...f, 'name', 'phone'] : f;
}

// The body of POST /api/v1/tickets: absent fields stay absent (the
// idempotency check compares them byte for byte).
function reportBody(r, phone, isNew) {
  const body = { kind: r.kind, category: r.category, channel: r.channel, priority: r.priority,
    project: r.project.trim(), phone, summary: r.summary.trim() };
  if (r.building.trim()) { body.building = r.building.trim(); body.unit = r.unit.trim(); }
  if (isNew && r.name.trim()) body.name = r.name.trim();
  if (r.detail.trim()) body.detail = r.detail;
  return body;
}

function FieldNote({ msg }) {
  return msg ? html`<small class="field-error" role="alert">${msg}</small>` : null;
}

function UnitPicker({ owner, r, set }) {
  if (!owner || owner.units.length < 2) return null;
  const cur = `${r.project}|${r.building}|${r.unit}`;
  return html`<label class="field unit-pick"><span class="field-label">${t('call.owner_unit')}</span>
    <select name="unit_pick" onChange=${(e) => {
      const [project, building, unit] = e.currentTarget.value.split('|');
      set({ project, building, unit });
    }}>
      ${owner.units.map((u) => {
        const v = `${u.project}|${u.building}|${u.unit}`;
        return html`<option value=${v} selected=${v === cur}>${u.project} · ${u.building}-${u.unit}</option>`;
      })}
    </select></label>`;
}

// A text input bound to report field f.
function Text({ f, r, bad, set, required, area }) {
  const err = bad[f] ? { field: f } : null;
  const props = { name: f, value: r[f], 'aria-invalid': bad[f] ? 'true' : null,
    onInput: (e) => set({ [f]: e.currentTarget.value }) };
  return html`<${Field} name=${f} required=${required} error=${err}>
    ${area ? html`<textarea ...${props} rows="3" />` : html`<input ...${props} autocomplete="off" />`}
    <${FieldNote} msg=${bad[f]} />
  <//>`;
}

// A <select> of the model's enumeration f, bound to report field f (on
// change: a choice by keyboard, mouse or a test driver alike).
function Choice({ f, r, bad, set, blank }) {
  return html`<${Field} name=${f} required=${f !== 'priority'} error=${bad[f] ? { field: f } : null}>
    <${EnumSelect} e=${f} name=${f} value=${r[f]} invalid=${!!bad[f]} blank=${blank}
        onInput=${(v) => set({ [f]: v })} />
    <${FieldNote} msg=${bad[f]} />
  <//>`;
}

// The form's fields.
function ReportFields({ owner, phone, r, bad, set }) {
  const isNew = !owner;
  const p = { r, bad, set };
  return html`
    ${isNew && html`<div class="row"><${Text} f="name" ...${p} />
      <div class="field"><span class="field-label">${t('field.phone')}</span>
        <span class="mono big-phone">${phone}</span><${FieldNote} msg=${bad.phone} /></div></div>`}
    <div class="row">
      <${Choice} f="kind" ...${p} blank=${t('call.choose')} />
      <${Choice} f="category" ...${p} blank=${t('call.choose')} />
      <${Choice} f="channel" ...${p} />
      <${Choice} f="priority" ...${p} />
    </div>
    <div class="row">
      <${UnitPicker} owner=${owner} r=${r} set=${set} />
      <${Text} f="project" ...${p} required=${true} />
      <${Text} f="building" ...${p} />
      <${Text} f="unit" ...${p} />
    </div>
    <${Text} f="summary" ...${p} required=${true} />
    <${Text} f="detail" ...${p} area=${true} />`;
}

// Sends the report once per intended report: the key is made at the first
// send and kept for retries (a double click, a temporary fault, a new
// sign-in); a change of content after a success takes a new key.
function useSubmit(owner, phone, r) {
  const [state, setState] = useState({ busy: false, error: null, done: null, bad: {} });
  const flight = useRef(false);
  const idem = useRef(null);
  const send = async () => {
    if (flight.current) return;          // a second click while the first is on its way
    const bad = checkReport(r, phone, !owner);
    if (Object.keys(bad).length) { setState((s) => ({ ...s, bad, error: null })); return; }
    if (!idem.current) idem.current = newIdem();
    flight.current = true;
    setState((s) => ({ ...s, busy: true, error: null, bad: {} }));
    try {
      const done = await api('POST', '/api/v1/tickets', { body: reportBody(r, phone, !owner), idem: idem.current });
      mark('kefu:submit-reply');
      setState({ busy: false, error: null, done, bad: {} });
    } catch (error) {
      // The key made a ticket with other content (a reply lost, then an
      // edit): final for that key, and the message names that ticket; what
      // is on the form now is another report, with a key of its own.
      if (error.code === 'conflict' && error.field === 'idem') idem.current = null;
      // Next to its field when the form shows that field, else under the form.
      const bad = formFields(!owner).includes(error.field) ? { [error.field]: errorText(error) } : {};
      setState((s) => ({ ...s, busy: false, error, bad }));
    } finally {
      flight.current = false;
    }
  };
  // The person changed what they report after it was committed: a new report.
  const changed = () => { if (state.done) idem.current = null; };
  return { ...state, send, changed };
}

function NewTicket({ phone, owner, onClose, onDone }) {
  const [r, setR] = useState(() => blankReport(owner));
  const sub = useSubmit(owner, phone, r);
  const form = useRef(null);
  useEffect(() => {
    const el = form.current && form.current.querySelector('input, select, textarea');
    if (el) el.focus();
  }, []);
  useEffect(() => {
    if (!sub.done) return;
    mark('kefu:submit-shown', 'kefu:submit-reply');
    setCommitted(true);
    const note = form.current && form.current.parentNode.querySelector('.submitted');
    if (note && note.scrollIntoView) note.scrollIntoView({ block: 'nearest' });
    if (onDone) onDone(sub.done.ticket);
  }, [sub.done]);
  useEffect(() => {           // a refused field: the cursor goes to the first one
    const el = form.current && form.current.querySelector('[aria-invalid="true"]');
    if (el) el.focus();
  }, [sub.bad]);
  const [committed, setCommitted] = useState(false);
  const set = (patch) => { sub.changed(); setCommitted(false); setR((x) => ({ ...x, ...patch })); };
  const holds = !committed && !!(r.summary.trim() || r.detail.trim() || r.name.trim());
  useEffect(() => {
    if (!holds) return undefined;
    unsent++;
    return () => { unsent--; };
  }, [holds]);
  const onSubmit = (ev) => { ev.preventDefault(); sub.send(); };
  return html`<section class="card new-ticket-card">
    <h2>${owner ? t('call.new_ticket') : t('call.new_owner_ticket')}</h2>
    ${sub.done && html`<${Submitted} done=${sub.done} />`}
    <form ref=${form} class="form new-ticket-form" onSubmit=${onSubmit} novalidate>
      <${ReportFields} owner=${owner} phone=${phone} r=${r} bad=${sub.bad} set=${set} />
      ${sub.error && !sub.bad[sub.error.field] && html`<${ErrorNote} error=${sub.error}
        onRetry=${sub.error.temporary ? sub.send : null} />`}
      <div class="row actions">
        <button type="submit" class="primary submit-ticket" disabled=${sub.busy}>
          ${sub.busy ? t('app.sending') : t('call.submit')}</button>
        ${onClose && html`<button type="button" onClick=${onClose}>${t('app.cancel')}</button>`}
      </div>
    </form>
  </section>`;
}

// ---- after the commit: the number, then the routing as it happens
function useRouting(no) {
  const [tk, setTk] = useState(null);       // GET /api/v1/tickets/NUMBER's answer
  const [ev, setEv] = useState(null);       // the ticket.routed event's body
  useEffect(() => {
    let live = true;
    const fetchOnce = () => api('GET', `/api/v1/tickets/${encodeURIComponent(no)}`)
      .then((x) => { if (live) setTk(x); }, () => {});
    const stop = on('ticket.routed', (body) => {
      if (!body || body.ticket !== no) return;
      setEv(body);
      fetchOnce();      // the owner's name and the deadlines' states
    });
    fetchOnce();        // the event may have come before this listened
    return () => { live = false; stop(); };
  }, [no]);
  const src = ev || (tk && tk.first_response_due ? tk : null);
  if (!src) return { tk, routing: null };
  const same = tk && tk.owner === src.owner;
  return { tk, routing: { owner: src.owner, owner_name: same ? tk.owner_name : '', department: src.department,
    first_response_due: src.first_response_due, resolve_due: src.resolve_due,
    responded_at: same ? tk.responded_at : null, resolved_at: same ? tk.resolved_at : null,
    first_response: same ? tk.first_response : null, resolution: same ? tk.resolution : null } };
}

function Submitted({ done }) {
  const { tk, routing: info } = useRouting(done.ticket);
  return html`<div class="ok-note submitted" role="status" aria-live="polite">
    <p>${t('call.submitted')} <a class="mono ticket-no" href=${`#/ticket/${encodeURIComponent(done.ticket)}`}>${done.ticket}</a>
      ${tk && html` <span class="submitted-summary">${tk.summary}</span>`}</p>
    ${info ? html`<dl class="facts routing">
      <dt>${t('call.routed_to')}</dt>
      <dd class="route-owner" data-staff=${info.owner}>${info.owner_name && html`<span class="owner-staff-name">${info.owner_name}</span> `}<span class="muted mono">${info.owner}</span></dd>
      <dt>${t('call.department')}</dt><dd class="route-department" data-dept=${info.department}>${info.department ? deptName(info.department) : t('app.none')}</dd>
      <dt>${t('call.first_response_due')}</dt>
      <dd class="route-first"><${Deadline} due=${info.first_response_due} done=${info.responded_at} state=${info.first_response} /></dd>
      <dt>${t('call.resolve_due')}</dt>
      <dd class="route-resolve"><${Deadline} due=${info.resolve_due} done=${info.resolved_at} state=${info.resolution} /></dd>
    </dl>` : html`<p class="muted routing-wait">${t('call.routing_wait')}</p>`}
  </div>`;
}

// ---- the screen
function View({ params }) {
  const phone = params.rest[0] || '';
  const [nonce, setNonce] = useState(0);
  const lookup = (p) => {
    if (p === phone) setNonce((n) => n + 1);       // the same number again: look again
    else location.hash = `#/call/${encodeURIComponent(p)}`;
  };
  return html`<div class="call-screen">
    <${Header} title=${t('call.title')} />
    <${RingBanner} />
    <${PhoneBar} phone=${phone} onLookup=${lookup} />
    ${phone ? html`<${OwnerPane} key=${`${phone}#${nonce}`} phone=${phone} />`
      : html`<p class="empty call-idle">${t('call.idle')}</p>`}
  </div>`;
}

export default { id: 'call', nav: 'nav.call', roles: null, home: ['agent'], view: View };
