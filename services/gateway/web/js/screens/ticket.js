// The ticket page (#/ticket/NUMBER): every field of ticket.show, its
// history as a timeline, each deadline as a live countdown, and the
// actions: respond, transfer (staff picker, a reason), resolve, and open an
// approval request with its trail. Updated live on ticket.* and approval.*
// events about this ticket.
import { html, useState, useEffect } from '../preact.js';
import { api, session } from '../api.js';
import { t, label, fmtYuan } from '../i18n.js';
import { on } from '../live.js';
import { Header, ErrorNote, Enum, EnumSelect, Time, Countdown, Field, useApi } from '../ui.js';
import { useAction, localError, FormError, StaffPicker, ApprovalTrail } from './staff_parts.js';
import { Dept, Who } from '../directory.js';

const EVENTS = ['ticket.routed', 'ticket.responded', 'ticket.transferred', 'ticket.escalated',
  'ticket.resolved', 'ticket.reopened', 'approval.requested', 'approval.step_assigned',
  'approval.step_decided', 'approval.step_escalated', 'approval.completed', 'approval.at_risk'];

// One deadline: its state from the reply and the live countdown.
function Deadline({ name, due, done, state }) {
  return html`<div class=${`deadline-box dl-${name}`}>
    <div class="field-label">${t(`ticket.dl_${name}`)}</div>
    ${due ? html`<div><${Countdown} due=${due} done=${done} /></div>
      <div class="muted small"><${Enum} e="deadline_state" v=${state} /> · <${Time} ms=${due} /></div>`
    : html`<div class="muted">${t('ticket.no_deadline')}</div>`}
  </div>`;
}

function Facts({ k }) {
  const row = (key, value) => html`<dt>${t(key)}</dt><dd>${value}</dd>`;
  return html`<dl class="facts ticket-facts">
    ${row('field.kind', html`<${Enum} e="kind" v=${k.kind} />`)}
    ${row('field.category', html`<${Enum} e="category" v=${k.category} />`)}
    ${row('field.channel', html`<${Enum} e="channel" v=${k.channel} />`)}
    ${row('field.priority', html`<${Enum} e="priority" v=${k.priority} />`)}
    ${row('queue.col_status', html`<${Enum} e="status" v=${k.status} />`)}
    ${row('field.project', k.project)}
    ${row('ticket.place', [k.building, k.unit].filter(Boolean).join(' / ') || t('app.none'))}
    ${row('field.phone', html`<span class="mono">${k.phone}</span>`)}
    ${row('ticket.customer', k.customer || t('app.none'))}
    ${row('ticket.owner', `${k.owner_name} (${k.owner})`)}
    ${row('queue.col_dept', k.department ? html`<${Dept} id=${k.department} />` : t('app.none'))}
    ${k.responsible && row('ticket.responsible', k.responsible)}
    ${row('ticket.level', t(`ticket.level_${k.escalation_level}`))}
    ${row('ticket.received', html`<${Time} ms=${k.received_at} />`)}
    ${k.responded_at && row('ticket.responded_at', html`<${Time} ms=${k.responded_at} />`)}
    ${k.resolved_at && row('ticket.resolved_at', html`<${Time} ms=${k.resolved_at} />`)}
  </dl>`;
}

function Timeline({ history }) {
  return html`<ol class="timeline">
    ${history.map((h, i) => html`<li key=${i} class=${`h-${h.action}`}>
      <div><strong><${Enum} e="history_action" v=${h.action} /></strong>
        ${h.actor && html` · <span class="actor"><${Who} id=${h.actor} name=${h.actor_name} /></span>`}
        ${' · '}<${Time} ms=${h.at} /></div>
      ${h.from && h.to && html`<div class="move"><${Who} id=${h.from} name=${h.from_name} /> → <${Who} id=${h.to} name=${h.to_name} /></div>`}
      ${h.level !== undefined && h.level !== null && html`<div>${t('ticket.level')}: ${h.level}</div>`}
      ${h.reason && html`<div>${t('field.reason')}: ${h.reason}</div>`}
      ${h.note && html`<div class="note">${h.note}</div>`}
    </li>`)}
  </ol>`;
}

// A note and one button: respond or resolve.
function NoteAction({ ticket, path, titleKey, buttonKey, okKey, cls, onDone }) {
  const [note, setNote] = useState('');
  const a = useAction();
  const send = async (ev) => {
    if (ev) ev.preventDefault();
    const r = await a.run((idem) => api('POST', `/api/v1/tickets/${encodeURIComponent(ticket)}/${path}`,
      { body: { note: note.trim() }, idem }));
    if (r) { setNote(''); a.setOk(t(okKey)); onDone(); }
  };
  return html`<form class=${`form action-${path}`} onSubmit=${send}>
    <h3>${t(titleKey)}</h3>
    <${Field} name="note" error=${a.error}>
      <textarea name="note" value=${note} onInput=${(e) => { setNote(e.currentTarget.value); a.changed(); }} />
    <//>
    <${FormError} error=${a.error} onRetry=${send} ok=${a.ok} />
    <button type="submit" class=${cls} disabled=${a.busy}>${a.busy ? t('app.sending') : t(buttonKey)}</button>
  </form>`;
}

// A conflict on a resolved or closed ticket, said for what it is.
function closedError(error, k) {
  if (error && error.status === 409 && (k.status === 'resolved' || k.status === 'closed'))
    return localError('', 'ticket.transfer_closed');
  return error;
}

function Transfer({ k, onDone }) {
  const [to, setTo] = useState(null);
  const [round, setRound] = useState(0);     // a new picker after each success
  const [reason, setReason] = useState('');
  const a = useAction();
  const send = async (ev) => {
    if (ev) ev.preventDefault();
    if (!to) { a.setError(localError('to', 'ticket.need_to')); return; }
    if (!reason.trim()) { a.setError(localError('reason', 'ticket.need_reason')); return; }
    const r = await a.run((idem) => api('POST', `/api/v1/tickets/${encodeURIComponent(k.ticket)}/transfers`,
      { body: { to: to.staff, reason: reason.trim() }, idem }));
    if (r) {
      a.setOk(t('ticket.ok_transfer', { name: to.name }));
      setTo(null); setReason(''); setRound(round + 1); onDone();
    }
  };
  return html`<form class="form action-transfer" onSubmit=${send} novalidate>
    <h3>${t('ticket.transfer')}</h3>
    <${Field} name="to" required error=${a.error}>
      <${StaffPicker} key=${round} name="to" value=${to} exclude=${k.owner} onPick=${(s) => { setTo(s); a.changed(); }} />
    <//>
    <${Field} name="reason" required error=${a.error}>
      <input name="reason" value=${reason} onInput=${(e) => { setReason(e.currentTarget.value); a.changed(); }} />
    <//>
    <${FormError} error=${closedError(a.error, k)} onRetry=${send} ok=${a.ok} />
    <button type="submit" class="primary" disabled=${a.busy}>${a.busy ? t('app.sending') : t('ticket.transfer')}</button>
  </form>`;
}

// An amount in yuan as the wire wants it ("80000.50"), or null.
export function yuan(text) {
  const s = text.trim();
  if (!/^\d{1,9}(\.\d{1,2})?$/.test(s)) return null;
  const fen = Math.round(Number(s) * 100);
  if (fen < 1 || fen > 10000000000) return null;
  return (fen / 100).toFixed(2);
}

function ApprovalForm({ ticket, onDone }) {
  const [f, setF] = useState({ type: 'repair_cost', amount: '', reason: '', promised: '' });
  const a = useAction();
  const set = (k, v) => { setF({ ...f, [k]: v }); a.changed(); };
  const send = async (ev) => {
    if (ev) ev.preventDefault();
    const amount = yuan(f.amount);
    if (amount === null) { a.setError(localError('amount', 'ticket.bad_amount')); return; }
    if (!f.reason.trim()) { a.setError(localError('reason', 'ticket.need_reason')); return; }
    if (!/^\d{4}-\d{2}-\d{2}$/.test(f.promised)) { a.setError(localError('promised', 'ticket.need_promised')); return; }
    const r = await a.run((idem) => api('POST', '/api/v1/approvals', {
      body: { ticket, type: f.type, amount, reason: f.reason.trim(), promised: f.promised }, idem }));
    if (r) {
      setF({ ...f, amount: '', reason: '', promised: '' });
      a.setOk(t('ticket.ok_approval', { n: r.request }));
      onDone(r);
    }
  };
  const shown = yuan(f.amount);
  return html`<form class="form action-approval" onSubmit=${send} novalidate>
    <h3>${t('ticket.approval_new')}</h3>
    <div class="row">
      <${Field} name="type" required error=${a.error}>
        <${EnumSelect} e="request_type" name="type" value=${f.type} onInput=${(v) => set('type', v)} />
      <//>
      <${Field} name="amount" required error=${a.error} hint=${shown ? fmtYuan(shown) : t('ticket.amount_hint')}>
        <input name="amount" inputmode="decimal" value=${f.amount} onInput=${(e) => set('amount', e.currentTarget.value)} />
      <//>
      <${Field} name="promised" required error=${a.error}>
        <input name="promised" type="date" value=${f.promised} onInput=${(e) => set('promised', e.currentTarget.value)} />
      <//>
    </div>
    <${Field} name="reason" required error=${a.error}>
      <input name="reason" value=${f.reason} onInput=${(e) => set('reason', e.currentTarget.value)} />
    <//>
    <${FormError} error=${a.error} onRetry=${send} ok=${a.ok} />
    <button type="submit" class="primary" disabled=${a.busy}>${a.busy ? t('app.sending') : t('ticket.approval_send')}</button>
  </form>`;
}

function Approvals({ k, version, opened }) {
  const [open, setOpen] = useState({});
  useEffect(() => { if (opened) setOpen((o) => ({ ...o, [opened]: true })); }, [opened]);
  if (k.approvals.length === 0) return html`<p class="empty">${t('ticket.no_approvals')}</p>`;
  return html`<ul class="approvals">
    ${k.approvals.map((p) => html`<li key=${p.request} class="approval" data-request=${p.request}>
      <div class="approval-head">
        <strong>#${p.request}</strong> <${Enum} e="request_type" v=${p.type} />
        <span class="amount">${fmtYuan(p.amount)}</span>
        <${Enum} e="request_status" v=${p.status} />
        <span>${t('approval.stage', { n: p.stage })}</span>
        <span>${t('approval.promised', { d: p.promised })}</span>
        ${p.at_risk_at && html`<span class="bad-text">${t('approval.at_risk')}</span>`}
        <button type="button" class="link" onClick=${() => setOpen({ ...open, [p.request]: !open[p.request] })}>
          ${open[p.request] ? t('approval.hide_trail') : t('approval.show_trail')}</button>
      </div>
      ${open[p.request] && html`<${ApprovalTrail} request=${p.request} version=${version} />`}
    </li>`)}
    ${k.approvals_more && html`<li class="muted">${t('ticket.approvals_more')}</li>`}
  </ul>`;
}

// Respond, transfer, resolve: none on a ticket that is done; a word first
// when someone else handles it (the daemon decides who may act).
function Actions({ k, reload }) {
  if (k.status === 'resolved' || k.status === 'closed')
    return html`<div class="card actions-card"><p class="ok-note" data-done="true">
      ${t('ticket.done_note', { status: label('status', k.status) })}</p></div>`;
  const me = session();
  return html`<div class="card actions-card">
    ${me && k.owner !== me.staff && html`<p class="warn-note" data-not-mine="true">
      ${t('ticket.not_mine')} <${Who} id=${k.owner} name=${k.owner_name} /></p>`}
    <${NoteAction} ticket=${k.ticket} path="responses" titleKey="ticket.respond" buttonKey="ticket.respond" okKey="ticket.ok_respond" cls="primary" onDone=${reload} />
    <${Transfer} k=${k} onDone=${reload} />
    <${NoteAction} ticket=${k.ticket} path="resolution" titleKey="ticket.resolve" buttonKey="ticket.resolve" okKey="ticket.ok_resolve" cls="good" onDone=${reload} />
  </div>`;
}

function Page({ k, reload, version }) {
  const [opened, setOpened] = useState(null);
  return html`<div class="ticket-page" data-ticket=${k.ticket}>
    <${Header} title=${html`<span class="mono">${k.ticket}</span> ${k.summary}`}>
      <${Enum} e="status" v=${k.status} />
      <a href="#/queue">${t('ticket.back')}</a>
    <//>
    <div class="grid side">
      <div>
        <div class="card deadlines">
          <${Deadline} name="first" due=${k.first_response_due} done=${k.responded_at} state=${k.first_response} />
          <${Deadline} name="resolve" due=${k.resolve_due} done=${k.resolved_at} state=${k.resolution} />
        </div>
        <div class="card"><${Facts} k=${k} />
          ${k.detail && html`<h3>${t('field.detail')}</h3><p class="detail">${k.detail}</p>`}</div>
        <div class="card"><h2>${t('ticket.history')}</h2><${Timeline} history=${k.history} /></div>
      </div>
      <div>
        <${Actions} k=${k} reload=${reload} />
        <div class="card">
          <h2>${t('ticket.approvals')}</h2>
          <${Approvals} k=${k} version=${version} opened=${opened} />
          <${ApprovalForm} ticket=${k.ticket} onDone=${(r) => { setOpened(r.request); reload(); }} />
        </div>
      </div>
    </div>
  </div>`;
}

function View({ params }) {
  const no = params.rest[0] || '';
  const { data, error, reload } = useApi(`/api/v1/tickets/${encodeURIComponent(no)}`, null, [no]);
  const [version, setVersion] = useState(0);
  useEffect(() => on(EVENTS, (body) => {
    if (body && body.ticket === no) { reload(); setVersion((v) => v + 1); }
  }), [no, reload]);
  if (!no) return html`<p class="notice">${t('app.not_found')}</p>`;
  if (!data) return error ? html`<${ErrorNote} error=${error} onRetry=${reload} />`
    : html`<p class="muted">${t('app.loading')}</p>`;
  return html`<div>
    <${ErrorNote} error=${error} onRetry=${reload} />
    <${Page} key=${data.ticket} k=${data} reload=${reload} version=${version} />
  </div>`;
}

export default { id: 'ticket', nav: null, roles: null, home: [], view: View };
