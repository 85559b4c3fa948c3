// Small parts every screen uses: loading data, showing errors, times and
// deadlines, enumeration labels, form fields. All text from data is given
// to the view library as text (never as HTML).
import { html, useState, useEffect, useRef, useCallback } from './preact.js';
import { api } from './api.js';
import { t, label, options, errorText, fmtTime, fmtDuration } from './i18n.js';

// The time now, refreshed every `every` ms while the component is shown.
export function useNow(every = 1000) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const id = setInterval(() => setNow(Date.now()), every);
    return () => clearInterval(id);
  }, [every]);
  return now;
}

// GETs path with query whenever deps change: {data, error, loading, reload}.
// A reload keeps the data shown until the new answer replaces it.
export function useApi(path, query, deps) {
  const [state, setState] = useState({ data: null, error: null, loading: !!path });
  const seq = useRef(0);
  const load = useCallback(() => {
    if (!path) return;
    const mine = ++seq.current;
    setState((s) => ({ ...s, loading: true }));
    api('GET', path, { query }).then(
      (data) => { if (mine === seq.current) setState({ data, error: null, loading: false }); },
      (error) => { if (mine === seq.current) setState((s) => ({ ...s, error, loading: false })); });
  }, deps);
  useEffect(load, [load]);
  return { ...state, reload: load };
}

// An error for people: the code's label in the user's language, and for a
// temporary fault the promise that nothing typed is lost, with a retry.
export function ErrorNote({ error, onRetry }) {
  if (!error) return null;
  return html`<div class="error" role="alert">
    <span>${error.temporary ? t('app.temporary') : errorText(error)}</span>
    ${onRetry && html` <button type="button" class="link" onClick=${onRetry}>${t('app.retry')}</button>`}
  </div>`;
}

// A model enumeration value as its label, tagged for styling by value.
export function Enum({ e, v }) {
  if (v === undefined || v === null || v === '') return null;
  return html`<span class=${`enum enum-${e} v-${v}`}>${label(e, v)}</span>`;
}

// A time in the session's zone; the full time with seconds on hover.
export function Time({ ms }) {
  if (ms === undefined || ms === null) return null;
  return html`<time datetime=${new Date(ms).toISOString()} title=${fmtTime(ms, true)}>${fmtTime(ms)}</time>`;
}

// One deadline, live: time left, overdue by, met, or done late.
export function Countdown({ due, done }) {
  const now = useNow(1000);
  if (due === undefined || due === null) return null;
  let cls, text;
  if (done !== undefined && done !== null) {
    const late = done > due;
    cls = late ? 'late' : 'met';
    text = late ? t('time.late_by', { d: fmtDuration(done - due) }) : t('time.met');
  } else if (now > due) {
    cls = 'overdue';
    text = t('time.overdue_by', { d: fmtDuration(now - due) });
  } else {
    cls = due - now < 3600e3 ? 'due soon' : 'due';
    text = t('time.left', { d: fmtDuration(due - now) });
  }
  return html`<span class=${`countdown ${cls}`} title=${fmtTime(due, true)}>${text}</span>`;
}

// A labelled form field; error (an ApiError) marks it when it names this
// field.
export function Field({ name, labelKey, required, error, children, hint }) {
  const bad = error && error.field === name;
  return html`<label class=${`field${bad ? ' bad' : ''}`}>
    <span class="field-label">${t(labelKey || `field.${name}`)}${required && html`<em class="req" title=${t('app.required')}>*</em>`}</span>
    ${children}
    ${hint && html`<small class="hint">${hint}</small>`}
  </label>`;
}

// A <select> of a model enumeration's values.
export function EnumSelect({ e, value, onInput, name, required, blank, invalid }) {
  const list = options(e);
  // change, not input: every way of choosing (keyboard, mouse, a driver)
  // sends it.
  return html`<select name=${name} required=${required} value=${value}
      aria-invalid=${invalid ? 'true' : null} onChange=${(ev) => onInput(ev.currentTarget.value)}>
    ${blank !== undefined && html`<option value="">${blank}</option>`}
    ${list.map(([v, l]) => html`<option value=${v} selected=${v === value}>${l}</option>`)}
  </select>`;
}

// A screen's heading and its actions.
export function Header({ title, children }) {
  return html`<div class="screen-head"><h1>${title}</h1><div class="actions">${children}</div></div>`;
}
