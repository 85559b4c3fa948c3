// The console's frame: loads the translation table and the session, shows
// sign-in or the screens (screens/index.js) by the address after '#'
// (#/call, #/ticket/KF-2026-000042, #/queue?view=mine), with the
// navigation the person's role may use, the language switch, the live
// events' state, and the sign-in again dialog when a session ends.
import { html, render, useState, useEffect } from './preact.js';
import { api, ApiError, session, setSession, onSession, setReauth, loadSession } from './api.js';
import { t, label, loadLabels, setLocale, getLang, onLocale } from './i18n.js';
import { startLive, stopLive, onLiveState, liveState } from './live.js';
import { SCREENS } from './screens/index.js';
import { SignInPage, SignInAgain, PasswordPage } from './screens/signin.js';
import { onDirectory } from './directory.js';

const LANG_KEY = 'kefu.lang';       // the language before sign-in, on this browser

// The address after '#': {id, rest, query}.
function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [path, q] = raw.split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  return { id: parts[0] || '', rest: parts.slice(1), query: new URLSearchParams(q || '') };
}

function useRoute() {
  const [route, setRoute] = useState(parseHash());
  useEffect(() => {
    const on = () => setRoute(parseHash());
    addEventListener('hashchange', on);
    on();   // a change made before this listener was there (the first redirect)
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}

function allowed(screen, who) {
  return !screen.roles || screen.roles.includes(who.role);
}

// The first screen of a role: the one naming it as home, else the first
// it may open.
function homeOf(who) {
  const s = SCREENS.find((x) => x.home.includes(who.role)) ||
    SCREENS.find((x) => x.nav && allowed(x, who));
  return s ? s.id : 'queue';
}

// Chooses the language: for the staff member when signed in (remembered by
// the gateway), and on this browser for the sign-in page.
async function switchLang(who) {
  const next = getLang() === 'en' ? 'zh' : 'en';
  localStorage.setItem(LANG_KEY, next);
  if (!who) {
    setLocale(next);
    return;
  }
  setSession({ ...who, lang: next });
  // Shown at once; kept for the staff member when the gateway answers (a
  // failure leaves it for this page only, the next sign-in tells the truth).
  await api('POST', '/api/v1/session/lang', { body: { lang: next } }).catch(() => {});
}

export function LangSwitch({ who }) {
  return html`<button type="button" class="link lang-switch" title=${t('app.lang_switch_title')}
    onClick=${() => switchLang(who)}>${t('app.lang_switch')}</button>`;
}

function LiveDot() {
  const [state, setState] = useState(liveState());
  useEffect(() => onLiveState(setState), []);
  const live = state === 'live';
  return html`<span class=${`live-dot ${state}`} role="status"
    title=${live ? t('app.live') : t('app.live_lost')}>${live ? t('app.live') : t('app.live_lost')}</span>`;
}

function Nav({ who, current }) {
  return html`<nav aria-label=${t('app.nav')}>
    ${SCREENS.filter((s) => s.nav && allowed(s, who)).map((s) => html`
      <a href=${`#/${s.id}`} class=${s.id === current ? 'current' : ''}
        aria-current=${s.id === current ? 'page' : null}>${t(s.nav)}</a>`)}
  </nav>`;
}

function Top({ who, current }) {
  const signOut = async () => {
    await api('DELETE', '/api/v1/session', { noReauth: true }).catch(() => {});
    stopLive();
    setSession(null);
  };
  return html`<header class="top">
    <a class="brand" href=${`#/${homeOf(who)}`}>${t('app.title')}</a>
    <${Nav} who=${who} current=${current} />
    <div class="me">
      <${LiveDot} />
      <span class="who">${who.name} · ${label('role', who.role)}</span>
      <${LangSwitch} who=${who} />
      <button type="button" class="link" onClick=${signOut}>${t('app.signout')}</button>
    </div>
  </header>`;
}

function Screen({ who, route }) {
  const screen = SCREENS.find((s) => s.id === route.id);
  if (!screen) return html`<p class="notice">${t('app.not_found')}</p>`;
  if (!allowed(screen, who)) return html`<p class="notice" role="alert">${t('app.forbidden_screen')}</p>`;
  const View = screen.view;
  return html`<${View} who=${who} params=${{ rest: route.rest, query: route.query }} />`;
}

function App() {
  const [who, setWho] = useState(session());
  const [again, setAgain] = useState([]);        // requests waiting for a new sign-in
  const [, setLang] = useState(getLang());
  const [, setNames] = useState(0);             // the department names, once loaded
  const route = useRoute();
  useEffect(() => onLocale(setLang), []);
  useEffect(() => onDirectory(() => setNames((n) => n + 1)), []);
  useEffect(() => onSession((next) => {
    if (next) setLocale(next.lang, next.tz);
    setWho(next);
  }), []);
  useEffect(() => {
    setReauth(() => new Promise((resolve, reject) =>
      setAgain((list) => [...list, { resolve, reject }])));
  }, []);
  useEffect(() => { if (who && !who.must_change) startLive(); else stopLive(); },
    [who && who.staff, who && who.must_change]);
  if (!who) return html`<${SignInPage} langSwitch=${html`<${LangSwitch} who=${null} />`} />`;
  if (who.must_change) return html`<${PasswordPage} who=${who} />`;
  if (!route.id) {
    location.replace(`#/${homeOf(who)}`);
    return null;
  }
  const signedInAgain = () => {
    for (const w of again) w.resolve();
    setAgain([]);
    startLive();
  };
  // Someone else signs in: what waited was the other person's, and ends.
  const other = () => {
    for (const w of again) w.reject(new ApiError(401, 'unknown_actor', '', '', false));
    setAgain([]);
    stopLive();
    setSession(null);
  };
  return html`<div class=${`frame lang-${getLang()}`}>
    <${Top} who=${who} current=${route.id} />
    <main id="screen"><${Screen} who=${who} route=${route} /></main>
    ${again.length > 0 && html`<${SignInAgain} staff=${who.staff} onDone=${signedInAgain} onOther=${other} />`}
  </div>`;
}

async function boot() {
  const root = document.getElementById('app');
  setLocale(localStorage.getItem(LANG_KEY) || 'zh');
  try {
    await Promise.all([loadLabels(), loadSession()]);
  } catch (e) {
    root.textContent = t('app.failed_load', { what: String(e.message || e) });
    return;
  }
  const who = session();
  if (who) setLocale(who.lang, who.tz);
  root.textContent = '';
  render(html`<${App} />`, root);
}

boot();
