// The dashboard's watchlist (GET /api/v1/watchlist): approvals at risk of
// missing the date promised to the owner, owners at risk (with the model's
// risk_reason labels) and promoters (would recommend 9-10: referral
// candidates). Each list is bounded; when more exist it says so and offers
// the longer list.
import { html, useState, useEffect } from '../preact.js';
import { t, fmtYuan } from '../i18n.js';
import { ErrorNote, Enum, Time, Countdown, useApi } from '../ui.js';

const SHORT = 5, LONG = 100;
const REFRESH_MS = 60000;   // the lists change as work is done: asked again

function More({ more, limit, onMore }) {
  if (!more) return null;
  return html`<p class="more muted" data-more="true">${t('watch.more')}
    ${limit < LONG && html` <button type="button" class="link" onClick=${onMore}>${t('watch.show_more')}</button>`}</p>`;
}

function Approvals({ list }) {
  if (list.length === 0) return html`<p class="empty">${t('watch.no_approvals')}</p>`;
  return html`<ul class="watch">${list.map((a) => html`<li data-request=${a.request} data-ticket=${a.ticket}>
    <div><a href=${`#/ticket/${encodeURIComponent(a.ticket)}`}>${a.ticket}</a>
      ${' '}<${Enum} e="request_type" v=${a.type} /> <strong>${fmtYuan(a.amount)}</strong></div>
    <div class="muted clip">${a.summary}</div>
    <div>${t('watch.promised', { d: a.promised })}${' '}
      ${a.at_risk_at ? html`<span class="risk">${t('watch.cannot_finish')}</span>`
        : html`<${Countdown} due=${a.promised_at} />`}</div>
    ${a.assigned_to && html`<div class="muted">${t('watch.waiting_on', { who: a.assigned_to })}
      ${' '}<${Countdown} due=${a.deadline_at} /></div>`}
  </li>`)}</ul>`;
}

function Owners({ list }) {
  if (list.length === 0) return html`<p class="empty">${t('watch.no_owners')}</p>`;
  return html`<ul class="watch">${list.map((o) => html`<li data-phone=${o.phone}>
    <div><strong>${o.name || t('watch.no_name')}</strong> <span class="mono">${o.phone}</span>
      ${o.project && html` · ${o.project}`}</div>
    <div class="reasons">${o.reasons.map((r) => html`<${Enum} e="risk_reason" v=${r} />`)}</div>
    <div class="muted">${t('watch.owner_counts', { c: o.complaints, l: o.low_scores, r: o.reopened })}
      · <${Time} ms=${o.last_at} /></div>
  </li>`)}</ul>`;
}

function Promoters({ list }) {
  if (list.length === 0) return html`<p class="empty">${t('watch.no_promoters')}</p>`;
  return html`<ul class="watch">${list.map((p) => html`<li data-phone=${p.phone} data-nps=${p.nps}>
    <div><strong>${p.name || t('watch.no_name')}</strong> <span class="mono">${p.phone}</span>
      ${p.project && html` · ${p.project}`}</div>
    <div>${t('watch.nps', { n: p.nps })}${p.score != null && ` · ${t('watch.score', { n: p.score })}`}
      ${p.ticket && html` · <a href=${`#/ticket/${encodeURIComponent(p.ticket)}`}>${p.ticket}</a>`}</div>
    <div class="muted"><${Time} ms=${p.answered_at} /></div>
  </li>`)}</ul>`;
}

export function Watchlist() {
  const [limit, setLimit] = useState(SHORT);
  const w = useApi('/api/v1/watchlist', { limit }, [limit]);
  const d = w.data;
  const more = () => setLimit(LONG);
  useEffect(() => {
    const id = setInterval(w.reload, REFRESH_MS);
    return () => clearInterval(id);
  }, [w.reload]);
  return html`<section class="card watchlist" data-limit=${limit} data-ready=${d ? 'true' : null}>
    <h2>${t('watch.title')}</h2>
    <${ErrorNote} error=${w.error} onRetry=${w.reload} />
    ${!d && !w.error && html`<p class="muted">${t('app.loading')}</p>`}
    ${d && html`<div class="watch-lists">
      <div data-list="approvals"><h3>${t('watch.approvals')} <span class="count">${d.approvals_at_risk.length}${d.approvals_more ? '+' : ''}</span></h3>
        <${Approvals} list=${d.approvals_at_risk} />
        <${More} more=${d.approvals_more} limit=${limit} onMore=${more} /></div>
      <div data-list="owners"><h3>${t('watch.owners')} <span class="count">${d.owners_at_risk.length}${d.owners_more ? '+' : ''}</span></h3>
        <${Owners} list=${d.owners_at_risk} />
        <${More} more=${d.owners_more} limit=${limit} onMore=${more} /></div>
      <div data-list="promoters"><h3>${t('watch.promoters')} <span class="count">${d.promoters.length}${d.promoters_more ? '+' : ''}</span></h3>
        <p class="muted small">${t('watch.promoters_why')}</p>
        <${Promoters} list=${d.promoters} />
        <${More} more=${d.promoters_more} limit=${limit} onMore=${more} /></div>
    </div>`}
  </section>`;
}
