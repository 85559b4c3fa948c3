// The approver's inbox (#/inbox), made for a phone first: my pending steps
// (approval.list, the nearest deadline first) with the time left, amount,
// ticket, type, stage, whom I act for and the promised date; the trail on
// demand; approve or reject with a comment in one or two taps (a rejection
// needs a comment, said before sending); and my delegate for a period.
// New steps appear live (approval.* events naming me reload the list).
import { html, useState, useEffect } from '../preact.js';
import { api } from '../api.js';
import { t, fmtYuan, fmtTime } from '../i18n.js';
import { on } from '../live.js';
import { Header, ErrorNote, Enum, Time, Countdown, Field, useApi } from '../ui.js';
import { useAction, localError, FormError, StaffPicker, ApprovalTrail, zoneMidnight,
  promisedDate } from './staff_parts.js';

const EVENTS = ['approval.step_assigned', 'approval.step_decided', 'approval.step_escalated',
  'approval.step_reminded', 'approval.step_stalled', 'approval.delegate_set', 'approval.completed',
  'approval.at_risk'];

// Approve or reject one step, with an optional (approve) or required
// (reject) comment: one tap to approve, two to reject (type, tap).
function Decide({ s, onDone }) {
  const [comment, setComment] = useState('');
  const a = useAction();
  const [sent, setSent] = useState(null);
  const [tried, setTried] = useState('approve');
  const decide = async (decision) => {
    setTried(decision);
    if (decision === 'reject' && !comment.trim()) {
      a.setError(localError('comment', 'inbox.need_comment'));
      return;
    }
    const r = await a.run((idem) => api('POST', `/api/v1/approvals/${s.request}/decisions`,
      { body: { decision, step: s.step, comment: comment.trim() || undefined }, idem }), decision);
    if (r) { setSent(r.outcome); onDone(); }
  };
  if (sent) return html`<div class="ok-note" role="status">${t('inbox.decided')} <${Enum} e="step_outcome" v=${sent} /></div>`;
  return html`<div class="decide">
    <${Field} name="comment" error=${a.error}>
      <textarea name="comment" rows="2" value=${comment} placeholder=${t('inbox.comment_hint')}
        onInput=${(e) => { setComment(e.currentTarget.value); a.changed(); }} />
    <//>
    <${FormError} error=${a.error} onRetry=${() => decide(tried)} />
    <div class="decide-buttons">
      <button type="button" class="good approve" disabled=${a.busy}
        onClick=${() => decide('approve')}>${t('inbox.approve')}</button>
      <button type="button" class="bad reject" disabled=${a.busy}
        onClick=${() => decide('reject')}>${t('inbox.reject')}</button>
    </div>
  </div>`;
}

function StepCard({ s, onDone }) {
  const [open, setOpen] = useState(false);
  return html`<li class="card step-card" data-request=${s.request} data-step=${s.step}>
    <div class="step-top">
      <span class="amount big">${fmtYuan(s.amount)}</span>
      ${s.deadline_at ? html`<${Countdown} due=${s.deadline_at} />` : null}
    </div>
    <div class="step-summary">${s.summary}</div>
    <dl class="facts">
      <dt>${t('field.type')}</dt><dd><${Enum} e="request_type" v=${s.type} /></dd>
      <dt>${t('inbox.stage')}</dt><dd>${t('approval.stage', { n: s.stage })} · ${s.label}</dd>
      <dt>${t('inbox.ticket')}</dt><dd class="mono"><a href=${`#/ticket/${encodeURIComponent(s.ticket)}`}>${s.ticket}</a></dd>
      <dt>${t('field.promised')}</dt><dd>${promisedDate(s.promised_at)}</dd>
      ${s.on_behalf_of && html`<dt>${t('inbox.for')}</dt><dd class="on-behalf">${t('approval.on_behalf', { who: s.on_behalf_of })}</dd>`}
      <dt>${t('inbox.assigned')}</dt><dd><${Time} ms=${s.assigned_at} /></dd>
    </dl>
    <button type="button" class="link trail-toggle" onClick=${() => setOpen(!open)}>
      ${open ? t('approval.hide_trail') : t('approval.show_trail')}</button>
    ${open && html`<${ApprovalTrail} request=${s.request} />`}
    <${Decide} s=${s} onDone=${onDone} />
  </li>`;
}

// The current delegation, if any, and the form to set or clear one.
function Delegate({ current, onDone }) {
  const [who, setWho] = useState(null);
  const [round, setRound] = useState(0);     // a new picker after each success
  const [from, setFrom] = useState(fmtTime(Date.now()).slice(0, 10));
  const [to, setTo] = useState('');
  const a = useAction();
  const clear = useAction();
  const send = async (ev) => {
    if (ev) ev.preventDefault();
    if (!who) { a.setError(localError('delegate', 'inbox.need_delegate')); return; }
    if (!/^\d{4}-\d{2}-\d{2}$/.test(from)) { a.setError(localError('from', 'inbox.need_dates')); return; }
    if (!/^\d{4}-\d{2}-\d{2}$/.test(to) || to < from) { a.setError(localError('to', 'inbox.need_dates')); return; }
    // From the start of the first day to the end of the last, in the
    // session's zone (to is excluded on the wire: the next midnight).
    const fromMs = zoneMidnight(from);
    const toMs = zoneMidnight(to) + 86400e3;
    const r = await a.run((idem) => api('POST', '/api/v1/delegate',
      { body: { delegate: who.staff, from: fromMs, to: toMs }, idem }));
    if (r) { setWho(null); setTo(''); setRound(round + 1); onDone(); }
  };
  const end = async () => {
    const r = await clear.run((idem) => api('DELETE', '/api/v1/delegate', { idem }));
    if (r) onDone();
  };
  return html`<section class="card delegate">
    <h2>${t('inbox.delegate')}</h2>
    ${current ? html`<div class="current-delegate">
        <p>${t('inbox.delegate_now', { name: current.name, staff: current.delegate })}<br />
          ${t('inbox.delegate_period', { from: fmtTime(current.from).slice(0, 10), to: promisedDate(current.to) })}</p>
        <${FormError} error=${clear.error} onRetry=${end} />
        <button type="button" class="bad clear-delegate" disabled=${clear.busy} onClick=${end}>${t('inbox.delegate_clear')}</button>
      </div>`
    : html`<p class="muted no-delegate">${t('inbox.delegate_none')}</p>`}
    <form class="form" onSubmit=${send} novalidate>
      <${Field} name="delegate" required error=${a.error}>
        <${StaffPicker} key=${round} name="delegate" value=${who} onPick=${(s) => { setWho(s); a.changed(); }} />
      <//>
      <div class="row">
        <${Field} name="from" required error=${a.error}>
          <input name="from" type="date" value=${from} onInput=${(e) => { setFrom(e.currentTarget.value); a.changed(); }} />
        <//>
        <${Field} name="to" labelKey="inbox.until" required error=${a.error}>
          <input name="to" type="date" value=${to} onInput=${(e) => { setTo(e.currentTarget.value); a.changed(); }} />
        <//>
      </div>
      <${FormError} error=${a.error} onRetry=${send} />
      <button type="submit" class="primary set-delegate" disabled=${a.busy}>${t('inbox.delegate_set')}</button>
    </form>
  </section>`;
}

function View() {
  const { data, error, reload } = useApi('/api/v1/approvals', { limit: 100 }, []);
  useEffect(() => {
    let timer = null;
    const stop = on(EVENTS, () => { clearTimeout(timer); timer = setTimeout(reload, 200); });
    return () => { clearTimeout(timer); stop(); };
  }, [reload]);
  const steps = data ? data.steps : [];
  return html`<div class="inbox">
    <${Header} title=${t('nav.inbox')}>
      ${data && html`<span class="muted count">${t('inbox.count', { n: data.count })}</span>`}
    <//>
    <${ErrorNote} error=${error} onRetry=${reload} />
    ${!data && !error && html`<p class="muted">${t('app.loading')}</p>`}
    ${data && steps.length === 0 && html`<p class="empty">${t('inbox.empty')}</p>`}
    <ul class="steps-list">${steps.map((s) => html`<${StepCard} key=${s.step} s=${s} onDone=${reload} />`)}</ul>
    ${data && html`<${Delegate} current=${data.delegate} onDone=${reload} />`}
  </div>`;
}

export default { id: 'inbox', nav: 'nav.inbox', roles: null, home: ['gm', 'vp'], view: View };
