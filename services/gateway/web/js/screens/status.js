// The operator's status page (#/status, administrators only): every daemon
// instance as `kefu status` shows it (GET /api/v1/status), refreshed every
// few seconds; a daemon whose heartbeat stopped is marked down in words and
// colour (one stopped cleanly is said so, apart), with its last error and
// when.
import { html, useEffect } from '../preact.js';
import { t, fmtDuration } from '../i18n.js';
import { Header, ErrorNote, Time, useApi } from '../ui.js';

const REFRESH_MS = 5000;

// A count, or a dash when the daemon did not say.
function n(v) {
  return v === undefined || v === null ? '–' : String(v);
}

function secs(s) {
  return s === undefined || s === null ? '–' : fmtDuration(s * 1000);
}

// The state's class and words: up, stopped (cleanly), else down.
function stateOf(d) {
  return d.state === 'up' || d.state === 'stopped' ? d.state : 'down';
}

function Row({ d }) {
  const st = stateOf(d);
  return html`<tr class=${`daemon ${st}`} data-name=${d.name} data-instance=${d.instance}
      data-state=${d.state} data-pid=${d.pid}>
    <td><strong>${d.name}</strong><div class="muted mono">${d.instance}</div></td>
    <td><span class=${`state ${st}`}>${t(`status.${st}`)}</span></td>
    <td class="mono">${d.host}<div class="muted">${t('status.pid', { pid: d.pid })}</div></td>
    <td class="mono">${d.version || '–'}</td>
    <td class="num">${secs(d.uptime_s)}<div class="muted"><${Time} ms=${d.started_at} /></div></td>
    <td class="num">${t('status.ago', { d: secs(d.seen_s_ago) })}
      <div class="muted">${t('status.every', { d: d.heartbeat_ms == null ? '–' : fmtDuration(d.heartbeat_ms) })}</div></td>
    <td class="num">${n(d.events_in)} / ${n(d.events_out)}</td>
    <td class=${`num${d.errors > 0 ? ' bad-text' : ''}`}>${n(d.errors)}</td>
    <td class=${`num${d.backlog > 0 ? ' warn-text' : ''}`}>${n(d.backlog)}</td>
    <td class="last-error">${d.last_error
      ? html`<span class="clip" title=${d.last_error}>${d.last_error}</span>
          <div class="muted"><${Time} ms=${d.last_error_at} /></div>`
      : html`<span class="muted">${t('app.none')}</span>`}</td>
  </tr>`;
}

function View() {
  const st = useApi('/api/v1/status', {}, []);
  useEffect(() => {
    const id = setInterval(st.reload, REFRESH_MS);
    return () => clearInterval(id);
  }, [st.reload]);
  const d = st.data;
  const list = (d && d.daemons) || [];
  const down = list.filter((x) => stateOf(x) === 'down').length;
  const stopped = list.filter((x) => x.state === 'stopped').length;
  return html`<div class="status-page">
    <${Header} title=${t('nav.status')}>
      ${d && html`<span class="muted">${t('status.updated')} <${Time} ms=${d.now} /></span>`}
      <button type="button" onClick=${st.reload}>${t('status.refresh')}</button>
    </${Header}>
    <${ErrorNote} error=${st.error} onRetry=${st.reload} />
    ${!d && !st.error && html`<p class="muted">${t('app.loading')}</p>`}
    ${d && html`<p class=${down ? 'error summary' : 'ok-note summary'} role="status"
        data-count=${list.length} data-down=${down}>
      ${down ? t('status.some_down', { n: list.length, down }) : t('status.all_up', { n: list.length - stopped })}
      ${stopped > 0 && ` ${t('status.some_stopped', { n: stopped })}`}</p>
    <div class="table-scroll"><table class="list cards daemons">
      <thead><tr><th>${t('status.daemon')}</th><th>${t('status.state')}</th><th>${t('status.host')}</th>
        <th>${t('status.version')}</th><th class="num">${t('status.uptime')}</th>
        <th class="num">${t('status.last_seen')}</th><th class="num">${t('status.events')}</th>
        <th class="num">${t('status.errors')}</th><th class="num">${t('status.backlog')}</th>
        <th>${t('status.last_error')}</th></tr></thead>
      <tbody>${list.map((x) => html`<${Row} d=${x} />`)}</tbody>
    </table></div>
    ${list.length === 0 && html`<p class="empty">${t('status.none')}</p>`}
    <p class="muted">${t('status.note')}</p>`}
  </div>`;
}

export default { id: 'status', nav: 'nav.status', roles: ['admin'], home: ['admin'], view: View };
