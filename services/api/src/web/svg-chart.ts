import { html, type SafeHtml } from './html';

/**
 * Small charts drawn on the server as inline SVG: nothing to load and no script, so they work
 * under the pages' CSP (no inline style either: only SVG presentation attributes). Each is an
 * image with a title and a description, and the page puts the same numbers in a table beside it.
 */

const W = 640;
const H = 240;
const LEFT = 44;
const RIGHT = 12;
const TOP = 28;
const BOTTOM = 34;
const PLOT_W = W - LEFT - RIGHT;
const PLOT_H = H - TOP - BOTTOM;

/** Colours with enough contrast on white, told apart by lightness too. */
export const COLOURS = { email: '#1d4ed8', web: '#c2410c', both: '#6d28d9', total: '#374151', withheld: '#9ca3af' } as const;

export interface Series {
  label: string;
  colour: string;
  /** One value per x label; null = nothing drawn (withheld). */
  values: (number | null)[];
}

export interface ChartText {
  id: string;
  title: string;
  desc: string;
}

const r1 = (x: number) => Math.round(x * 10) / 10;

function frame(t: ChartText, body: SafeHtml): SafeHtml {
  return html`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-labelledby="${t.id}-t ${t.id}-d" class="chart-svg">
<title id="${t.id}-t">${t.title}</title><desc id="${t.id}-d">${t.desc}</desc>${body}</svg>`;
}

function legend(series: Series[]): SafeHtml {
  return html`<g aria-hidden="true">${series.map(
    (s, i) => html`<rect x="${LEFT + i * 150}" y="6" width="12" height="12" fill="${s.colour}"/><text x="${LEFT + i * 150 + 16}" y="16" font-size="12" fill="#111827">${s.label}</text>`,
  )}</g>`;
}

function axes(labels: string[], max: number, format: (v: number) => string): SafeHtml {
  const every = Math.max(1, Math.ceil(labels.length / 8));
  const step = PLOT_W / Math.max(1, labels.length);
  return html`<g aria-hidden="true" font-size="11" fill="#374151">
<line x1="${LEFT}" y1="${TOP + PLOT_H}" x2="${W - RIGHT}" y2="${TOP + PLOT_H}" stroke="#6b7280"/>
<line x1="${LEFT}" y1="${TOP}" x2="${LEFT}" y2="${TOP + PLOT_H}" stroke="#6b7280"/>
${[0, 0.5, 1].map((f) => html`<text x="${LEFT - 4}" y="${r1(TOP + PLOT_H - f * PLOT_H + 4)}" text-anchor="end">${format(f * max)}</text>`)}
${labels.map((l, i) => (i % every === 0 ? html`<text x="${r1(LEFT + step * i + step / 2)}" y="${H - 12}" text-anchor="middle">${l}</text>` : ''))}</g>`;
}

/** Stacked bars, one per x label. A bar whose parts are withheld is drawn whole from `fallback` in grey. */
export function stackedBars(t: ChartText, labels: string[], series: Series[], fallback: (number | null)[]): SafeHtml {
  const totals = labels.map((_, i) => (series.every((s) => s.values[i] !== null) ? series.reduce((a, s) => a + (s.values[i] ?? 0), 0) : (fallback[i] ?? 0)));
  const max = Math.max(1, ...totals);
  const step = PLOT_W / Math.max(1, labels.length);
  const bw = Math.max(2, step * 0.7);
  const y = (v: number) => (v / max) * PLOT_H;
  const bars = labels.map((_, i) => {
    const x = r1(LEFT + step * i + (step - bw) / 2);
    if (!series.every((s) => s.values[i] !== null)) {
      const v = fallback[i];
      return v === null || v === undefined ? '' : html`<rect x="${x}" y="${r1(TOP + PLOT_H - y(v))}" width="${r1(bw)}" height="${r1(y(v))}" fill="${COLOURS.withheld}"/>`;
    }
    let base = TOP + PLOT_H;
    return series.map((s) => {
      const h = y(s.values[i]!);
      base -= h;
      return h > 0 ? html`<rect x="${x}" y="${r1(base)}" width="${r1(bw)}" height="${r1(h)}" fill="${s.colour}"/>` : '';
    });
  });
  return frame(t, html`${legend(series)}${axes(labels, max, (v) => String(Math.round(v)))}<g>${bars}</g>`);
}

/** Lines of shares (0 to 1) over the x labels; a withheld point breaks the line. */
export function shareLines(t: ChartText, labels: string[], series: Series[]): SafeHtml {
  const step = PLOT_W / Math.max(1, labels.length);
  const px = (i: number) => r1(LEFT + step * i + step / 2);
  const py = (v: number) => r1(TOP + PLOT_H - v * PLOT_H);
  const lines = series.map((s) => {
    const segments: string[][] = [[]];
    s.values.forEach((v, i) => {
      if (v === null) segments.push([]);
      else segments[segments.length - 1]!.push(`${px(i)},${py(v)}`);
    });
    return html`<g>${segments.filter((p) => p.length > 1).map((p) => html`<polyline points="${p.join(' ')}" fill="none" stroke="${s.colour}" stroke-width="2"/>`)}${s.values.map((v, i) =>
      v === null ? '' : html`<circle cx="${px(i)}" cy="${py(v)}" r="3" fill="${s.colour}"/>`,
    )}</g>`;
  });
  return frame(t, html`${legend(series)}${axes(labels, 1, (v) => `${Math.round(v * 100)} %`)}${lines}`);
}

/** A Lorenz curve with the line of equality. */
export function lorenzCurve(t: ChartText, points: { people: number; content: number }[]): SafeHtml {
  const size = PLOT_H;
  const x0 = LEFT;
  const px = (v: number) => r1(x0 + v * size);
  const py = (v: number) => r1(TOP + size - v * size);
  return frame(
    t,
    html`<g aria-hidden="true" font-size="11" fill="#374151">
<line x1="${x0}" y1="${TOP + size}" x2="${x0 + size}" y2="${TOP + size}" stroke="#6b7280"/><line x1="${x0}" y1="${TOP}" x2="${x0}" y2="${TOP + size}" stroke="#6b7280"/>
<text x="${x0 + size / 2}" y="${H - 8}" text-anchor="middle">people, least active first</text>
<text x="${x0 - 4}" y="${TOP + 4}" text-anchor="end">100 %</text><text x="${x0 - 4}" y="${TOP + size + 4}" text-anchor="end">0</text>
<text x="${x0 + size + 8}" y="${TOP + 12}">equality</text></g>
<line x1="${px(0)}" y1="${py(0)}" x2="${px(1)}" y2="${py(1)}" stroke="#9ca3af" stroke-dasharray="4 3"/>
<polyline points="${points.map((p) => `${px(p.people)},${py(p.content)}`).join(' ')}" fill="none" stroke="${COLOURS.email}" stroke-width="2"/>`,
  );
}
