// Staff queues (#/queue?view=mine|dept|overdue|escalated&...): my tickets,
// my department's, the overdue and the escalated ones, with filters
// (status, kind, project, received since/until) and search (a number opens
// the ticket, a phone, words of the summary). The server pages
// (ticket.list's cursor): one page of at most PAGE rows is shown, with next
// page and back. Everything chosen lives in the address, so a live refresh
// (ticket.* events) or a reload keeps it.
import { html, useState, useEffect, useRef } from '../preact.js';
import { api } from '../api.js';
import { t } from '../i18n.js';
import { on } from '../live.js';
import { Header, ErrorNote, Enum, EnumSelect, Countdown } from '../ui.js';
import { Dept, deptName } from '../directory.js';

const PAGE = 50;
const VIEWS = ['mine', 'dept', 'overdue', 'escalated'];
const FILTERS = ['status', 'kind', 'project', 'since', 'until', 'no', 'phone', 'q'];
const TICKET_EVENTS = ['ticket.submitted', 'ticket.routed', 'ticket.responded', 'ticket.transferred',
  'ticket.escalated', 'ticket.resolved', 'ticket.reopened'];

// The address of the queue with these choices.
function queueHash(view, f) {
  const q = new URLSearchParams({ view });
  for (const k of FILTERS) if (f[k]) q.set(k, f[k]);
  return `#/queue?${q}`;
}

// The filters the address holds now. A choice builds on these, not on
// those the screen last drew: a choice made before the screen caught up
// with a change of address (just after "clear filters") must not bring
// back what the address no longer has.
function addressFilters() {
  const q = new URLSearchParams(location.hash.split('?')[1] || '');
  const f = {};
  for (const k of FILTERS) if (q.get(k)) f[k] = q.get(k);
  return f;
}

// ticket.list's query for a view and the filters (the cursor aside).
function listQuery(view, f, who) {
  const q = { limit: PAGE };
  // My and my department's queues are the open tickets, unless a status
  // is chosen or a search made (a search finds resolved tickets too).
  if (view === 'mine') q.owner = who.staff;
  else if (view === 'dept') q.department = who.department;
  const all = f.status || f.no || f.phone || f.q;
  q.state = view === 'overdue' || view === 'escalated' ? view : (all ? '' : 'open');
  for (const k of FILTERS) if (f[k]) q[k] = f[k];
  return q;
}

// What a search box's text asks for: a ticket number, a phone, or words.
export function searchOf(text) {
  const s = text.trim();
  if (/^KF-\d{4}-\d{1,6}$/i.test(s)) return { no: s.toUpperCase() };
  if (/^\+?[\d\s-]{7,}$/.test(s)) return { phone: s };
  return s ? { q: s } : {};
}

function Search({ view, f }) {
  const [text, setText] = useState(f.no || f.phone || f.q || '');
  const [error, setError] = useState(null);
  const [missing, setMissing] = useState('');
  const submit = async (ev) => {
    ev.preventDefault();
    const s = searchOf(text);
    setError(null);
    setMissing('');
    if (s.no) {
      // A number opens its ticket, when there is one the person may see.
      try {
        const r = await api('GET', '/api/v1/tickets', { query: { no: s.no, limit: 1 } });
        if (r.count > 0) { location.hash = `#/ticket/${encodeURIComponent(r.tickets[0].ticket)}`; return; }
        setMissing(s.no);
      } catch (e) { setError(e); }
      return;
    }
    const next = { ...addressFilters(), no: '', phone: '', q: '', ...s };
    location.hash = queueHash(view, next);
  };
  return html`<form class="queue-search" role="search" onSubmit=${submit}>
    <input name="search" type="search" value=${text} placeholder=${t('queue.search_hint')}
      aria-label=${t('queue.search')} onInput=${(e) => setText(e.currentTarget.value)} />
    <button type="submit" class="primary">${t('queue.search')}</button>
    ${missing && html`<span class="error" role="alert">${t('queue.no_such', { no: missing })}</span>`}
    <${ErrorNote} error=${error} />
  </form>`;
}

function Filters({ view, f }) {
  const set = (k, v) => { location.hash = queueHash(view, { ...addressFilters(), [k]: v }); };
  const any = FILTERS.some((k) => f[k]);
  return html`<div class="row queue-filters">
    <label class="field"><span class="field-label">${t('queue.col_status')}</span>
      <${EnumSelect} e="status" name="status" value=${f.status || ''} blank=${t('queue.any')}
        onInput=${(v) => set('status', v)} /></label>
    <label class="field"><span class="field-label">${t('field.kind')}</span>
      <${EnumSelect} e="kind" name="kind" value=${f.kind || ''} blank=${t('queue.any')}
        onInput=${(v) => set('kind', v)} /></label>
    <label class="field"><span class="field-label">${t('field.project')}</span>
      <input name="project" value=${f.project || ''} placeholder="HZ-XH"
        onChange=${(e) => set('project', e.currentTarget.value.trim().toUpperCase())} /></label>
    <label class="field"><span class="field-label">${t('queue.since')}</span>
      <input name="since" type="date" value=${f.since || ''}
        onChange=${(e) => set('since', e.currentTarget.value)} /></label>
    <label class="field"><span class="field-label">${t('queue.until')}</span>
      <input name="until" type="date" value=${f.until || ''}
        onChange=${(e) => set('until', e.currentTarget.value)} /></label>
    ${any && html`<button type="button" class="link clear-filters"
      onClick=${() => { location.hash = queueHash(view, {}); }}>${t('queue.clear')}</button>`}
  </div>`;
}

function Row({ k }) {
  return html`<tr class=${k.resolved_at ? '' : 'open'} data-ticket=${k.ticket}>
    <td class="mono"><a href=${`#/ticket/${encodeURIComponent(k.ticket)}`}>${k.ticket}</a></td>
    <td class="summary">${k.summary}</td>
    <td><${Enum} e="status" v=${k.status} /></td>
    <td><${Enum} e="priority" v=${k.priority} /></td>
    <td>${k.owner_name || k.owner}</td>
    <td><${Dept} id=${k.department} /></td>
    <td class="deadline fr"><${Countdown} due=${k.first_response_due} done=${k.responded_at} /></td>
    <td class="deadline rs"><${Countdown} due=${k.resolve_due} done=${k.resolved_at} /></td>
  </tr>`;
}

function Table({ tickets }) {
  if (tickets.length === 0) return html`<p class="empty">${t('queue.empty')}</p>`;
  return html`<table class="list cards queue-table">
    <thead><tr>
      <th>${t('queue.col_no')}</th><th>${t('field.summary')}</th><th>${t('queue.col_status')}</th>
      <th>${t('field.priority')}</th><th>${t('queue.col_owner')}</th><th>${t('queue.col_dept')}</th>
      <th>${t('queue.col_first')}</th><th>${t('queue.col_resolve')}</th>
    </tr></thead>
    <tbody>${tickets.map((k) => html`<${Row} key=${k.ticket} k=${k} />`)}</tbody>
  </table>`;
}

// One page of the queue: cursors of the pages seen so far (back goes to
// the one before), refreshed on live ticket events without losing them.
function usePages(key, query) {
  const [pages, setPages] = useState({ key, cursors: [''] });
  const [state, setState] = useState({ data: null, error: null, loading: true });
  const seq = useRef(0);
  const cur = pages.key === key ? pages.cursors : [''];
  const cursor = cur[cur.length - 1];
  const load = () => {
    const mine = ++seq.current;
    setState((s) => ({ ...s, loading: true }));
    api('GET', '/api/v1/tickets', { query: { ...query, cursor } }).then(
      (data) => { if (mine === seq.current) setState({ data, error: null, loading: false }); },
      (error) => { if (mine === seq.current) setState((s) => ({ ...s, error, loading: false })); });
  };
  useEffect(load, [key, cursor]);
  useEffect(() => {
    let timer = null;
    const stop = on(TICKET_EVENTS, () => {
      clearTimeout(timer);
      timer = setTimeout(load, 300);
    });
    return () => { clearTimeout(timer); stop(); };
  }, [key, cursor]);
  const next = () => setPages({ key, cursors: [...cur, state.data.next] });
  const back = () => setPages({ key, cursors: cur.slice(0, -1) });
  return { ...state, page: cur.length, next, back, reload: load };
}

function View({ who, params }) {
  const view = VIEWS.includes(params.query.get('view')) ? params.query.get('view') : 'mine';
  const f = {};
  for (const k of FILTERS) f[k] = params.query.get(k) || '';
  const query = listQuery(view, f, who);
  const key = JSON.stringify(query);
  const { data, error, loading, page, next, back, reload } = usePages(key, query);
  const searching = f.no || f.phone || f.q;
  return html`<div class="queue" data-view=${view}>
    <${Header} title=${t('nav.queue')}>
      <nav class="tabs" aria-label=${t('queue.views')}>
        ${VIEWS.map((v) => html`<a href=${queueHash(v, f)} class=${v === view ? 'current' : ''}
          aria-current=${v === view ? 'page' : null} data-view=${v}>${t(`queue.view_${v}`)}</a>`)}
      </nav>
    <//>
    <div class="card">
      <${Search} key=${`${f.no}|${f.phone}|${f.q}`} view=${view} f=${f} />
      <${Filters} view=${view} f=${f} />
      ${view === 'dept' && html`<p class="muted dept-of" title=${who.department}
        data-dept=${who.department}>${t('names.dept_of', { dept: deptName(who.department) })}</p>`}
      ${searching && html`<p class="muted">${t('queue.searching', { what: f.no || f.phone || f.q })}</p>`}
    </div>
    <${ErrorNote} error=${error} onRetry=${reload} />
    ${data && html`<div class=${`queue-page${loading ? ' loading' : ''}`} aria-busy=${loading}>
      <${Table} tickets=${data.tickets} />
      <div class="pager">
        <button type="button" class="prev" disabled=${page <= 1} onClick=${back}>${t('queue.prev')}</button>
        <span class="muted page-no">${t('queue.page', { n: page, count: data.count })}</span>
        <button type="button" class="next" disabled=${!data.next} onClick=${next}>${t('queue.next')}</button>
      </div>
    </div>`}
    ${!data && !error && html`<p class="muted">${t('app.loading')}</p>`}
  </div>`;
}

export default { id: 'queue', nav: 'nav.queue', roles: null, home: ['staff', 'manager', 'head'], view: View };
