// The console's one translation table: the screens' own words (strings.js)
// and, from the model through GET /api/v1/labels, every enumeration value's
// and error code's label and the KPI targets. Chinese first, English by the
// switch in the header (remembered for the staff member by the gateway).
// Times are shown in the session's zone (the store's kefu.tz, default
// Asia/Shanghai), whatever the browser's own zone is.
import { STRINGS } from './strings.js';

let lang = 'zh';
let zone = 'Asia/Shanghai';
let model = { enums: {}, errors: {}, targets: [] };
const formats = new Map();
const localeListeners = new Set();

export async function loadLabels() {
  const res = await fetch('/api/v1/labels', { credentials: 'same-origin' });
  if (!res.ok) throw new Error(`labels: HTTP ${res.status}`);
  model = await res.json();
}

export function getLang() { return lang; }

// Chooses the language ('zh' or 'en') and the time zone for what follows.
export function setLocale(next, tz) {
  lang = next === 'en' ? 'en' : 'zh';
  if (tz) zone = tz;
  formats.clear();
  document.documentElement.lang = lang === 'en' ? 'en' : 'zh-CN';
  for (const fn of localeListeners) fn(lang);
}

// Calls fn(lang) after every setLocale; answers the function that stops it.
export function onLocale(fn) {
  localeListeners.add(fn);
  return () => localeListeners.delete(fn);
}

export function getZone() { return zone; }

// The screen's word for key, with {name} replaced from vars. A key missing
// from the table shows as itself, so a gap is seen rather than hidden.
export function t(key, vars) {
  const entry = STRINGS[key];
  let text = entry ? entry[lang === 'en' ? 1 : 0] : key;
  if (vars) text = text.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
  return text;
}

// The label of value in the model's enumeration name; the value itself when
// the model has none (a newer daemon's value stays readable).
export function label(name, value) {
  if (value === undefined || value === null || value === '') return '';
  const e = model.enums[name];
  const l = e && e[value];
  return l ? l[lang] : String(value);
}

// Every value of enumeration name, in the model's order: [[value, label]].
export function options(name) {
  return Object.entries(model.enums[name] || {}).map(([v, l]) => [v, l[lang]]);
}

// What to tell a person about an ApiError (api.js): the code's label, the
// field it is about, and the daemon's own words in English.
export function errorText(err) {
  if (!err) return '';
  const l = model.errors[err.code];
  let text = l ? l[lang] : (err.message || err.code || String(err));
  const sep = lang === 'en' ? ': ' : '：';
  if (err.field) text += sep + (STRINGS[`field.${err.field}`] ? t(`field.${err.field}`) : err.field);
  if (lang === 'en' && err.message && l) text += ` (${err.message})`;
  return text;
}

// The KPI targets of the model: [{kpi, baseline, target}].
export function targets() { return model.targets || []; }

function format(key, opts) {
  let f = formats.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(lang === 'en' ? 'en-GB' : 'zh-CN',
      { timeZone: zone, hourCycle: 'h23', ...opts });
    formats.set(key, f);
  }
  return f;
}

// ms since the epoch as a date and time in the session's zone:
// "2026-12-06 19:05" (with seconds when asked).
export function fmtTime(ms, withSeconds) {
  if (ms === undefined || ms === null) return '';
  const parts = {};
  const f = format(withSeconds ? 'dts' : 'dt', {
    year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit',
    ...(withSeconds ? { second: '2-digit' } : {}),
  });
  for (const p of f.formatToParts(new Date(ms))) parts[p.type] = p.value;
  const time = `${parts.hour}:${parts.minute}${withSeconds ? `:${parts.second}` : ''}`;
  return `${parts.year}-${parts.month}-${parts.day} ${time}`;
}

// The date (YYYY-MM-DD) of ms in the session's zone.
export function fmtDate(ms) {
  return fmtTime(ms).slice(0, 10);
}

// A length of time for people: "2天3小时", "5 min", "45秒".
export function fmtDuration(ms) {
  const s = Math.max(0, Math.round(Math.abs(ms) / 1000));
  const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const zh = lang !== 'en';
  const unit = (n, z, e) => (zh ? `${n}${z}` : `${n} ${e}`);
  const sep = zh ? '' : ' ';
  if (d > 0) return [unit(d, '天', 'd'), h ? unit(h, '小时', 'h') : ''].filter(Boolean).join(sep);
  if (h > 0) return [unit(h, '小时', 'h'), m ? unit(m, '分', 'min') : ''].filter(Boolean).join(sep);
  if (m > 0) return unit(m, '分钟', 'min');
  return unit(s % 60, '秒', 's');
}

// An amount in yuan ("80000.50") for people: "¥80,000.50".
export function fmtYuan(amount) {
  if (amount === undefined || amount === null || amount === '') return '';
  const [int, dec] = String(amount).split('.');
  return `¥${int.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}${dec ? `.${dec}` : ''}`;
}

// A percentage with one decimal, or the word for "no data" when absent.
export function fmtPercent(p) {
  return p === undefined || p === null ? t('kpi.absent') : `${Number(p).toFixed(1)}%`;
}
