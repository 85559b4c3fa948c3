// The dashboard's chart: satisfaction and resolution within the month over
// the 12 months of the report's series, against their targets (dashed) and
// baselines (dotted) from the model (i18n.js targets()), as inline SVG.
// An absent month (nothing to count) is a gap in its line, never a zero;
// a month not over yet is drawn hollow and said provisional.
import { html } from '../preact.js';
import { t, fmtPercent, targets } from '../i18n.js';

const W = 640, H = 276;                          // the SVG's own units
const L = 46, R = 560, TOP = 44, BOTTOM = 252;   // the plot area
const LINES = [
  { kpi: 'satisfaction', colour: '#1f5fbf', key: 'chart.satisfaction' },
  { kpi: 'resolved_in_month', colour: '#d2610a', key: 'chart.resolved' },
];

// 0-100 %, or 50-100 % when every value and reference line lies there.
function scaleOf(series, refs) {
  const values = refs.slice();
  for (const m of series) for (const l of LINES) {
    const p = m[l.kpi] && m[l.kpi].percent;
    if (p !== undefined && p !== null) values.push(p);
  }
  const lo = values.every((v) => v >= 50) ? 50 : 0;
  return { lo, hi: 100, y: (p) => BOTTOM - ((p - lo) * (BOTTOM - TOP)) / (100 - lo) };
}

// The points of one KPI, split where a month is absent: [[{x, y}]].
function segments(pts) {
  const out = [];
  let cur = [];
  for (const p of pts) {
    if (p.y === null) { if (cur.length) out.push(cur); cur = []; } else cur.push(p);
  }
  if (cur.length) out.push(cur);
  return out;
}

// A month's label on the axis: the year at the first month and at January.
function monthLabel(month, i) {
  return i === 0 || month.endsWith('-01') ? month : month.slice(5);
}

function Reference({ line, tg, y }) {
  return html`
    <line class="ref" data-ref="target" data-kpi=${line.kpi} data-percent=${tg.target}
      x1=${L} x2=${R} y1=${y(tg.target)} y2=${y(tg.target)} stroke=${line.colour}
      stroke-width="1.5" stroke-dasharray="7 5" />
    <text x=${R + 4} y=${y(tg.target) + 4} fill=${line.colour} font-size="11">
      ${t('chart.target', { p: tg.target })}</text>
    <line class="ref" data-ref="baseline" data-kpi=${line.kpi} data-percent=${tg.baseline}
      x1=${L} x2=${R} y1=${y(tg.baseline)} y2=${y(tg.baseline)} stroke=${line.colour}
      stroke-width="1.2" stroke-dasharray="1.5 4" opacity="0.8" />
    <text x=${R + 4} y=${y(tg.baseline) + 4} fill=${line.colour} font-size="11" opacity="0.85">
      ${t('chart.baseline', { p: tg.baseline })}</text>`;
}

// One KPI's line: a polyline per run of present months, a point per month.
function Line({ line, series, x, y, now }) {
  const pts = series.map((m, i) => {
    const f = m[line.kpi] || {};
    const p = f.percent === undefined ? null : f.percent;
    return { m, x: x(i), y: p === null ? null : y(p), p, f };
  });
  return html`<g class="series" data-series=${line.kpi}>
    ${segments(pts).map((seg) => html`<polyline fill="none" stroke=${line.colour} stroke-width="2.2"
      points=${seg.map((p) => `${p.x},${p.y}`).join(' ')} />`)}
    ${pts.map((p) => html`<g class="pt" data-month=${p.m.month} data-percent=${p.p}
        data-num=${p.f.num} data-den=${p.f.den}>
      ${p.y !== null && html`<circle cx=${p.x} cy=${p.y} r="3.6" stroke=${line.colour}
        stroke-width="2" fill=${p.m.to > now ? '#fff' : line.colour}>
        <title>${`${t(line.key)} ${p.m.month}: ${fmtPercent(p.p)} (${p.f.num}/${p.f.den})`}</title>
      </circle>`}</g>`)}
  </g>`;
}

function Axes({ series, x, scale }) {
  const ticks = [];
  for (let p = scale.lo; p <= 100; p += 10) ticks.push(p);
  return html`<g class="axes" font-size="11" fill="#5f5b66">
    ${ticks.map((p) => html`<line x1=${L} x2=${R} y1=${scale.y(p)} y2=${scale.y(p)} stroke="#e3e6ea" />
      <text x=${L - 6} y=${scale.y(p) + 4} text-anchor="end">${p}%</text>`)}
    <line x1=${L} x2=${R} y1=${BOTTOM} y2=${BOTTOM} stroke="#8a8590" />
    ${series.map((m, i) => html`<text x=${x(i)} y=${BOTTOM + 16} text-anchor="middle"
      data-month=${m.month}>${monthLabel(m.month, i)}</text>`)}
  </g>`;
}

function Legend() {
  return html`<g class="legend" font-size="12">
    ${LINES.map((l, i) => html`<line x1=${L + i * 170} x2=${L + i * 170 + 22} y1="30" y2="30"
        stroke=${l.colour} stroke-width="2.2" />
      <text x=${L + i * 170 + 28} y="34" fill="#1c1b1f">${t(l.key)}</text>`)}
    <line x1=${L + 340} x2=${L + 362} y1="30" y2="30" stroke="#5f5b66" stroke-dasharray="7 5" />
    <text x=${L + 368} y="34" fill="#1c1b1f">${t('chart.targets')}</text>
    <line x1=${L + 430} x2=${L + 452} y1="30" y2="30" stroke="#5f5b66" stroke-dasharray="1.5 4" />
    <text x=${L + 458} y="34" fill="#1c1b1f">${t('chart.baselines')}</text>
  </g>`;
}

export function KpiChart({ series, now }) {
  const tgs = targets();
  const refs = tgs.flatMap((tg) => [tg.target, tg.baseline]);
  const scale = scaleOf(series, refs);
  const slot = (R - L) / Math.max(1, series.length);
  const x = (i) => L + (i + 0.5) * slot;
  const absent = series.some((m) => LINES.some((l) => !m[l.kpi] || m[l.kpi].percent == null));
  const first = series.length ? series[0].month : '', last = series.length ? series[series.length - 1].month : '';
  return html`<section class="card chart">
    <svg viewBox=${`0 0 ${W} ${H}`} role="img" aria-labelledby="kpi-chart-title" class="kpi-chart"
        data-months=${series.length}>
      <title id="kpi-chart-title">${t('chart.title', { from: first, to: last })}</title>
      <text x=${L} y="16" font-size="14" font-weight="600" fill="#1c1b1f">
        ${t('chart.title', { from: first, to: last })}</text>
      <${Legend} />
      <${Axes} series=${series} x=${x} scale=${scale} />
      ${LINES.map((l) => {
        const tg = tgs.find((g) => g.kpi === l.kpi);
        return tg && html`<${Reference} line=${l} tg=${tg} y=${scale.y} />`;
      })}
      ${LINES.map((l) => html`<${Line} line=${l} series=${series} x=${x} y=${scale.y} now=${now} />`)}
    </svg>
    <p class="chart-note muted">${t('chart.note')}${absent ? ` ${t('chart.gaps')}` : ''}</p>
  </section>`;
}
