// Sign-in (POST /api/v1/session), the sign-in again dialog when a session
// ends mid-work, and the required password change of a first sign-in
// (POST /api/v1/session/password).
import { html, useState, useEffect, useRef } from '../preact.js';
import { api, setSession } from '../api.js';
import { t } from '../i18n.js';
import { ErrorNote } from '../ui.js';

// The form itself. staff: a fixed staff id (signing in again), or null.
function SignInForm({ staff, onDone }) {
  const [id, setId] = useState(staff || '');
  const [password, setPassword] = useState('');
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const first = useRef(null);
  useEffect(() => { if (first.current) first.current.focus(); }, []);
  const submit = async (ev) => {
    ev.preventDefault();
    if (busy) return;
    setBusy(true);
    setError(null);
    try {
      const who = await api('POST', '/api/v1/session',
        { body: { staff: id.trim(), password }, noReauth: true });
      setPassword('');
      setSession(who);
      onDone(who);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const wrong = error && error.status === 401;
  return html`<form class="signin" onSubmit=${submit}>
    <label class="field"><span class="field-label">${t('signin.staff')}</span>
      <input name="staff" autocomplete="username" required value=${id} readonly=${!!staff}
        ref=${staff ? null : first} onInput=${(e) => setId(e.currentTarget.value)} /></label>
    <label class="field"><span class="field-label">${t('signin.password')}</span>
      <input name="password" type="password" autocomplete="current-password" required
        value=${password} ref=${staff ? first : null}
        onInput=${(e) => setPassword(e.currentTarget.value)} /></label>
    ${wrong ? html`<div class="error" role="alert">${t('signin.wrong')}</div>`
      : html`<${ErrorNote} error=${error} />`}
    <button type="submit" class="primary" disabled=${busy}>${busy ? t('app.sending') : t('signin.submit')}</button>
  </form>`;
}

// The page shown to someone not signed in.
export function SignInPage({ langSwitch }) {
  return html`<main class="signin-page">
    <div class="corner">${langSwitch}</div>
    <h1>${t('app.title')}</h1>
    <h2>${t('signin.title')}</h2>
    <${SignInForm} staff=${null} onDone=${() => {}} />
  </main>`;
}

// Over the current screen when the session ended: the screen underneath
// keeps everything typed, and the interrupted request is sent again after.
export function SignInAgain({ staff, onDone, onOther }) {
  return html`<div class="modal-back"><div class="modal" role="dialog" aria-modal="true"
      aria-labelledby="signin-again">
    <h2 id="signin-again">${t('signin.title')}</h2>
    <p>${t('signin.again')}</p>
    <${SignInForm} staff=${staff} onDone=${onDone} />
    <button type="button" class="link" onClick=${onOther}>${t('signin.other_user')}</button>
  </div></div>`;
}

// The required change of a password set by an administrator.
export function PasswordPage({ who }) {
  const [old, setOld] = useState('');
  const [next, setNext] = useState('');
  const [again, setAgain] = useState('');
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const submit = async (ev) => {
    ev.preventDefault();
    if (next !== again) { setError({ code: 'bad_value', message: t('password.mismatch') }); return; }
    setBusy(true);
    setError(null);
    try {
      await api('POST', '/api/v1/session/password', { body: { old, new: next } });
      setSession({ ...who, must_change: false });
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return html`<main class="signin-page">
    <h1>${t('password.title')}</h1>
    <p>${t('password.why')}</p>
    <form class="signin" onSubmit=${submit}>
      <label class="field"><span class="field-label">${t('password.old')}</span>
        <input type="password" autocomplete="current-password" required value=${old}
          onInput=${(e) => setOld(e.currentTarget.value)} /></label>
      <label class="field"><span class="field-label">${t('password.new')}</span>
        <input type="password" autocomplete="new-password" required value=${next}
          onInput=${(e) => setNext(e.currentTarget.value)} /></label>
      <label class="field"><span class="field-label">${t('password.repeat')}</span>
        <input type="password" autocomplete="new-password" required value=${again}
          onInput=${(e) => setAgain(e.currentTarget.value)} /></label>
      ${error && (error.message === t('password.mismatch')
        ? html`<div class="error" role="alert">${error.message}</div>`
        : html`<${ErrorNote} error=${error} />`)}
      <button type="submit" class="primary" disabled=${busy}>${t('password.submit')}</button>
    </form>
  </main>`;
}
