// The manager's dashboard (#/dashboard?month=YYYY-MM&by=project|department|kind):
// the month's KPIs exactly as `kefu report` computes them (each with its
// numerator and denominator; a rate over nothing is "no data"), the same
// figures per group, the 12-month chart against the targets, and the
// watchlist. Every figure cell carries data-kpi/data-num/data-den and its
// value (data-percent, data-score, data-per100, data-median) so a test reads
// the numbers the page shows.
import { html, useEffect } from '../preact.js';
import { t, label, fmtPercent, fmtDate, fmtDuration, targets as targetsOf } from '../i18n.js';
import { Header, ErrorNote, Time, useApi } from '../ui.js';
import { KpiChart } from './dashboard_chart.js';
import { Watchlist } from './dashboard_watch.js';
import { Dept } from '../directory.js';

const BYS = ['project', 'department', 'kind'];
const REFRESH_MS = 60000;   // an open month's figures, asked again

// The month YYYY-MM moved by delta months.
function shiftMonth(month, delta) {
  const [y, m] = month.split('-').map(Number);
  const n = y * 12 + (m - 1) + delta;
  return `${Math.floor(n / 12)}-${String((n % 12) + 1).padStart(2, '0')}`;
}

// The address of the dashboard for month and by.
function href(month, by) {
  return `#/dashboard?month=${month}&by=${by}`;
}

// A number with one decimal, or "no data" when absent.
function fmtOne(v) {
  return v === undefined || v === null ? t('kpi.absent') : Number(v).toFixed(1);
}

// A duration in seconds for people, or "no data" when absent.
function fmtSecs(s) {
  return s === undefined || s === null ? t('kpi.absent') : fmtDuration(s * 1000);
}

// "3 / 5" as people read a share's count.
function count(num, den) {
  return t('dash.num_of_den', { num, den });
}

// One KPI of the total: its name, value, count and a note.
function Card({ kpi, name, value, attrs, sub, note, absent }) {
  return html`<div class=${`kpi${absent ? ' absent' : ''}`} data-kpi=${kpi} ...${attrs}>
    <div class="kpi-name">${name}</div>
    <div class="kpi-value">${value}</div>
    ${sub && html`<div class="kpi-sub">${sub}</div>`}
    ${note && html`<div class="kpi-note muted">${note}</div>`}
  </div>`;
}

// The data attributes of a share {num, den, percent}.
function rateAttrs(f) {
  return { 'data-num': f.num, 'data-den': f.den, 'data-percent': f.percent ?? null };
}

function per100Attrs(f) {
  return { 'data-num': f.num, 'data-den': f.den, 'data-per100': f.per_100 ?? null };
}

function npsAttrs(f) {
  return { 'data-den': f.den, 'data-score': f.score ?? null, 'data-promoters': f.promoters,
    'data-passives': f.passives, 'data-detractors': f.detractors };
}

function cycleAttrs(f) {
  return { 'data-den': f.den, 'data-median': f.median_s ?? null, 'data-p90': f.p90_s ?? null };
}

function targetNote(kpi, targets) {
  const tg = targets.find((x) => x.kpi === kpi);
  return tg ? t('dash.target_note', { target: tg.target, baseline: tg.baseline }) : null;
}

// The month's KPIs as cards.
function Totals({ total, targets }) {
  const fr = total.first_response_24h, rm = total.resolved_in_month, sat = total.satisfaction;
  const nps = total.nps, ap = total.approval_cycle, esc = total.escalations;
  return html`<section class="kpis" aria-label=${t('dash.kpis')}>
    <${Card} kpi="tickets" name=${t('dash.tickets')} value=${total.tickets}
      attrs=${{ 'data-num': total.tickets }} note=${t('dash.tickets_note')} />
    <${Card} kpi="first_response_24h" name=${t('dash.first_response')} value=${fmtPercent(fr.percent)}
      absent=${fr.percent == null} attrs=${{ ...rateAttrs(fr), 'data-pending': fr.pending }}
      sub=${count(fr.num, fr.den)}
      note=${fr.pending > 0 ? t('dash.pending', { n: fr.pending }) : t('dash.first_response_note')} />
    <${Card} kpi="resolved_in_month" name=${t('dash.resolved')} value=${fmtPercent(rm.percent)}
      absent=${rm.percent == null} attrs=${rateAttrs(rm)} sub=${count(rm.num, rm.den)}
      note=${targetNote('resolved_in_month', targets)} />
    <${Card} kpi="satisfaction" name=${t('dash.satisfaction')} value=${fmtPercent(sat.percent)}
      absent=${sat.percent == null} attrs=${rateAttrs(sat)} sub=${count(sat.num, sat.den)}
      note=${targetNote('satisfaction', targets)} />
    <${Card} kpi="nps" name=${t('dash.nps')} value=${fmtOne(nps.score)} absent=${nps.score == null}
      attrs=${npsAttrs(nps)} sub=${t('dash.answers', { n: nps.den })}
      note=${t('dash.nps_parts', { p: nps.promoters, pa: nps.passives, d: nps.detractors })} />
    <${Card} kpi="approval_cycle" name=${t('dash.approval')} value=${fmtSecs(ap.median_s)}
      absent=${ap.median_s == null} attrs=${cycleAttrs(ap)}
      sub=${t('dash.approval_sub', { p90: fmtSecs(ap.p90_s), n: ap.den })}
      note=${ap.den === 0 ? t('dash.approval_none') : null} />
    <${Card} kpi="escalations" name=${t('dash.escalations')} value=${fmtOne(esc.all.per_100)}
      absent=${esc.all.per_100 == null} attrs=${per100Attrs(esc.all)} sub=${count(esc.all.num, esc.all.den)}
      note=${t('dash.levels', { l1: fmtOne(esc.level_1.per_100), l2: fmtOne(esc.level_2.per_100),
        l3: fmtOne(esc.level_3.per_100) })} />
  </section>`;
}

// A table of the approval cycle time per step or per approver.
function Cycles({ rows, omitted, nameKey, head }) {
  if (!rows || rows.length === 0) return null;
  return html`<table class="list compact" data-cycles=${nameKey}>
    <thead><tr><th>${head}</th><th class="num">${t('dash.decided')}</th>
      <th class="num">${t('dash.median')}</th><th class="num">${t('dash.p90')}</th></tr></thead>
    <tbody>${rows.map((r) => html`<tr data-key=${r[nameKey]} data-den=${r.den}
        data-median=${r.median_s ?? null} data-p90=${r.p90_s ?? null}>
      <td>${r[nameKey]}</td><td class="num">${r.den}</td>
      <td class="num">${fmtSecs(r.median_s)}</td><td class="num">${fmtSecs(r.p90_s)}</td></tr>`)}
    </tbody>
    ${omitted > 0 && html`<caption class="muted">${t('dash.omitted', { n: omitted })}</caption>`}
  </table>`;
}

function ApprovalDetail({ ap }) {
  const none = !(ap.steps && ap.steps.length) && !(ap.approvers && ap.approvers.length);
  return html`<section class="card approval-detail">
    <h2>${t('dash.approval_detail')}</h2>
    ${none ? html`<p class="empty">${t('dash.approval_none')}</p>` : html`
      <${Cycles} rows=${ap.steps} omitted=${ap.steps_omitted} nameKey="label" head=${t('dash.step')} />
      <${Cycles} rows=${ap.approvers} omitted=${ap.approvers_omitted} nameKey="staff"
        head=${t('dash.approver')} />`}
  </section>`;
}

// One figure of a group as a table cell.
function Cell({ kpi, f, value, attrs }) {
  return html`<td class=${`num${value === t('kpi.absent') ? ' absent' : ''}`} data-kpi=${kpi} ...${attrs}>
    ${value}${f && f.den !== undefined && f.num !== undefined &&
      html`<small class="muted"> ${count(f.num, f.den)}</small>`}</td>`;
}

// A group's name: the project id, the department's name, the kind's label; nil
// key: not yet routed to a department.
function groupName(by, key) {
  if (key === undefined || key === null) return by === 'department' ? t('dash.no_group') : t('dash.no_key');
  if (by === 'department') return html`<${Dept} id=${key} />`;
  return by === 'kind' ? label('kind', key) : key;
}

function GroupRow({ by, g, isTotal }) {
  const e = g.escalations;
  return html`<tr class=${isTotal ? 'total' : ''} data-group=${isTotal ? null : (g.key ?? '')}
      data-total=${isTotal ? 'true' : null}>
    <th scope="row">${isTotal ? t('dash.all') : groupName(by, g.key)}</th>
    <${Cell} kpi="tickets" value=${g.tickets} attrs=${{ 'data-num': g.tickets }} />
    <${Cell} kpi="first_response_24h" f=${g.first_response_24h}
      value=${fmtPercent(g.first_response_24h.percent)}
      attrs=${{ ...rateAttrs(g.first_response_24h), 'data-pending': g.first_response_24h.pending }} />
    <${Cell} kpi="resolved_in_month" f=${g.resolved_in_month}
      value=${fmtPercent(g.resolved_in_month.percent)} attrs=${rateAttrs(g.resolved_in_month)} />
    <${Cell} kpi="satisfaction" f=${g.satisfaction} value=${fmtPercent(g.satisfaction.percent)}
      attrs=${rateAttrs(g.satisfaction)} />
    <${Cell} kpi="nps" value=${fmtOne(g.nps.score)} attrs=${npsAttrs(g.nps)} />
    <${Cell} kpi="approval_cycle" value=${fmtSecs(g.approval_cycle.median_s)}
      attrs=${cycleAttrs(g.approval_cycle)} />
    <${Cell} kpi="escalations" f=${e.all} value=${fmtOne(e.all.per_100)} attrs=${per100Attrs(e.all)} />
  </tr>`;
}

// The breakdown: the total, then a row per group with the same figures.
function Breakdown({ rep, by, month }) {
  const groups = rep.groups || [];
  return html`<section class="card breakdown" data-by=${by}>
    <div class="section-head">
      <h2>${t('dash.breakdown')}</h2>
      <div class="tabs" role="tablist">${BYS.map((b) => html`<a role="tab" href=${href(month, b)}
        class=${b === by ? 'current' : ''} aria-selected=${b === by}>${t(`dash.by.${b}`)}</a>`)}</div>
    </div>
    <div class="table-scroll"><table class="list groups">
      <thead><tr><th>${t(`dash.by.${by}`)}</th><th class="num">${t('dash.tickets')}</th>
        <th class="num">${t('dash.first_response')}</th><th class="num">${t('dash.resolved')}</th>
        <th class="num">${t('dash.satisfaction')}</th><th class="num">${t('dash.nps')}</th>
        <th class="num">${t('dash.approval_median')}</th><th class="num">${t('dash.escalations')}</th></tr></thead>
      <tbody>
        <${GroupRow} by=${by} g=${rep.total} isTotal=${true} />
        ${groups.map((g) => html`<${GroupRow} by=${by} g=${g} />`)}
      </tbody>
    </table></div>
    ${groups.length === 0 && html`<p class="empty">${t('dash.no_groups')}</p>`}
    ${rep.groups_omitted > 0 && html`<p class="muted" data-omitted=${rep.groups_omitted}>
      ${t('dash.groups_omitted', { n: rep.groups_omitted, shown: groups.length })}</p>`}
  </section>`;
}

// The period line: what is reported, and whether it is provisional.
function Period({ period }) {
  return html`<p class=${period.complete ? 'period muted' : 'period warn-note'}
      data-complete=${String(period.complete)}>
    ${t('dash.period', { from: fmtDate(period.from), to: fmtDate(period.to - 1), tz: period.tz })}
    ${' '}${period.complete ? t('dash.complete') : html`<strong>${t('dash.provisional')}</strong>`}
    ${' '}<span class="muted">${t('dash.as_of')} <${Time} ms=${period.now} /></span>
  </p>`;
}

// The months a manager may pick: the 24 before this one and this one, and
// month itself when it lies elsewhere.
function monthChoices(month, thisMonth) {
  const list = [];
  for (let i = 0; i < 25; i++) list.push(shiftMonth(thisMonth, -i));
  if (!list.includes(month)) list.unshift(month);
  return list;
}

function monthName(month) {
  const [y, m] = month.split('-');
  return t('dash.month_name', { y, m: Number(m), mm: m });
}

function MonthPicker({ month, by, thisMonth }) {
  const go = (m) => { location.hash = href(m, by); };
  return html`<nav class="month-picker" aria-label=${t('dash.month')}>
    <a class="button" href=${href(shiftMonth(month, -1), by)} rel="prev">‹ ${t('dash.prev')}</a>
    <select name="month" aria-label=${t('dash.month')} onChange=${(ev) => go(ev.currentTarget.value)}>
      ${monthChoices(month, thisMonth).map((m) => html`<option value=${m} selected=${m === month}>
        ${monthName(m)}</option>`)}
    </select>
    ${month < thisMonth
      ? html`<a class="button" href=${href(shiftMonth(month, 1), by)} rel="next">${t('dash.next')} ›</a>`
      : html`<span class="button disabled" aria-disabled="true">${t('dash.next')} ›</span>`}
  </nav>`;
}

function View({ params }) {
  const q = params.query;
  const thisMonth = fmtDate(Date.now()).slice(0, 7);
  const month = /^\d{4}-\d{2}$/.test(q.get('month') || '') ? q.get('month') : thisMonth;
  const by = BYS.includes(q.get('by')) ? q.get('by') : 'project';
  const rep = useApi('/api/v1/report', { month, by, series: 'true' }, [month, by]);
  const r = rep.data;
  // A month not over yet changes while it is watched: asked again now and then.
  const open = !!(r && r.period && !r.period.complete);
  useEffect(() => {
    if (!open) return undefined;
    const id = setInterval(rep.reload, REFRESH_MS);
    return () => clearInterval(id);
  }, [open, rep.reload]);
  const ready = r && r.period && r.period.month === month && r.by === by;
  const shown = r && r.period && r.total;
  return html`<div class="dashboard">
    <${Header} title=${t('nav.dashboard')}><${MonthPicker} month=${month} by=${by} thisMonth=${thisMonth} /></${Header}>
    <${ErrorNote} error=${rep.error} onRetry=${rep.reload} />
    ${!ready && !rep.error && html`<p class="muted loading" role="status">${t('app.loading')}</p>`}
    ${shown && html`<div class=${`dash-figures${ready ? '' : ' stale'}`} data-month=${r.period.month}
        data-by=${r.by} data-ready=${ready ? 'true' : null}>
      <${Period} period=${r.period} />
      <${Totals} total=${r.total} targets=${targetsOf()} />
    </div>`}
    <${Watchlist} />
    ${shown && html`<div class="grid dash-mid">
        <${KpiChart} series=${r.series || []} now=${r.period.now} />
        <${ApprovalDetail} ap=${r.total.approval_cycle} />
      </div>
      <${Breakdown} rep=${r} by=${by} month=${month} />`}
  </div>`;
}

export default { id: 'dashboard', nav: 'nav.dashboard', roles: ['manager', 'head', 'gm', 'vp', 'admin'], home: [], view: View };
