import type { FastifyInstance } from 'fastify';
import { PermanentError, type Cell, type InsightsReport, type Participation, type Translate } from '@blend/core';
import { insightsGroups } from '@blend/db';
import { loadInsights, sendInsightsCsv, type InsightsQuery } from '../routes/insights';
import { html, type SafeHtml } from './html';
import { layout, sendHtml, type PageContext } from './layout';
import { COLOURS, lorenzCurve, shareLines, stackedBars } from './svg-chart';
import { pageContext, type WebDeps } from './web-deps';

/** A count as the tables show it: withheld cells as a dash with their reason on hover. */
const cellOf = (t: Translate) => {
  const withheld = html`<abbr title="${t('insights.withheld')}">–</abbr>`;
  return (c: Cell): SafeHtml | string => (c.suppressed ? withheld : c.value === null ? t('insights.na') : String(c.value));
};
const pct = (x: number | null): string => (x === null ? '–' : `${Math.round(x * 100)} %`);

function table(caption: string, head: string[], rows: (SafeHtml | string)[][]): SafeHtml {
  return html`<div class="scroll"><table><caption>${caption}</caption>
<thead><tr>${head.map((h, i) => html`<th scope="col"${i === 0 ? '' : html` class="num"`}>${h}</th>`)}</tr></thead>
<tbody>${rows.map((r) => html`<tr>${r.map((c, i) => (i === 0 ? html`<th scope="row">${c}</th>` : html`<td class="num">${c}</td>`))}</tr>`)}</tbody></table></div>`;
}

const figure = (id: string, heading: string, explain: string, chart: SafeHtml, numbers: SafeHtml) =>
  html`<section aria-labelledby="${id}-h"><h2 id="${id}-h">${heading}</h2><p class="hint">${explain}</p><div class="chart">${chart}${numbers}</div></section>`;

const label = (w: InsightsReport['weeks'][number]) => w.week.slice(5);

/** A section's text: `insights.<id>.<part>`. */
const part = (t: Translate, id: string) => (p: string) => t(`insights.${id}.${p}`);
const heads = (t: Translate, keys: string[]) => keys.map((k) => t(`insights.col.${k}`));

function activeSection(t: Translate, r: InsightsReport): SafeHtml {
  const ws = r.weeks;
  const n = cellOf(t);
  const x = part(t, 'active');
  const chart = stackedBars(
    { id: 'active', title: x('chart'), desc: x('chartDesc') },
    ws.map(label),
    [
      { label: t('insights.legend.emailOnly'), colour: COLOURS.email, values: ws.map((w) => w.activePeople.emailOnly.value) },
      { label: t('insights.legend.both'), colour: COLOURS.both, values: ws.map((w) => w.activePeople.both.value) },
      { label: t('insights.legend.webOnly'), colour: COLOURS.web, values: ws.map((w) => w.activePeople.webOnly.value) },
    ],
    ws.map((w) => w.activePeople.total.value),
  );
  const rows = [...ws.map((w) => [w.week, w.activePeople] as const), [t('insights.wholeRange'), r.total.activePeople] as const].map(([k, a]) => [k, n(a.emailOnly), n(a.both), n(a.webOnly), n(a.total)]);
  return figure('active', x('heading'), x('explain'), chart, table(x('table'), heads(t, ['week', 'emailOnly', 'both', 'webOnly', 'all']), rows));
}

function contentSection(t: Translate, r: InsightsReport): SafeHtml {
  const ws = r.weeks;
  const n = cellOf(t);
  const x = part(t, 'share');
  const chart = shareLines(
    { id: 'share', title: x('chart'), desc: x('chartDesc') },
    ws.map(label),
    [
      { label: t('insights.legend.postsByMail'), colour: COLOURS.email, values: ws.map((w) => w.posts.emailShare) },
      { label: t('insights.legend.commentsByMail'), colour: COLOURS.web, values: ws.map((w) => w.comments.emailShare) },
    ],
  );
  const row = (k: string, p: Participation) => [k, n(p.posts.email), n(p.posts.web), pct(p.posts.emailShare), n(p.comments.email), n(p.comments.web), pct(p.comments.emailShare)];
  const rows = [...ws.map((w) => row(w.week, w)), row(t('insights.wholeRange'), r.total)];
  return figure('share', x('heading'), x('explain'), chart, table(x('table'), heads(t, ['week', 'postsByMail', 'postsOnWeb', 'byMail', 'commentsByMail', 'commentsOnWeb', 'byMail']), rows));
}

function voicesSection(t: Translate, r: InsightsReport): SafeHtml {
  const ws = r.weeks;
  const n = cellOf(t);
  const x = part(t, 'voices');
  const chart = stackedBars(
    { id: 'voices', title: x('chart'), desc: x('chartDesc') },
    ws.map(label),
    [
      { label: t('insights.legend.stayedWithMail'), colour: COLOURS.email, values: ws.map((w) => w.newVoices.emailOnlySince.value) },
      { label: t('insights.legend.laterWeb'), colour: COLOURS.both, values: ws.map((w) => w.newVoices.laterWeb.value) },
    ],
    ws.map((w) => w.newVoices.total.value),
  );
  const rows = [...ws.map((w) => [w.week, w.newVoices] as const), [t('insights.wholeRange'), r.total.newVoices] as const].map(([k, v]) => [k, n(v.total), n(v.laterWeb), n(v.emailOnlySince)]);
  return figure('voices', x('heading'), x('explain'), chart, table(x('table'), heads(t, ['week', 'newVoices', 'laterWeb', 'mailOnlySince']), rows));
}

function concentrationSection(t: Translate, r: InsightsReport): SafeHtml {
  const ws = r.weeks;
  const n = cellOf(t);
  const x = part(t, 'top15');
  const over = shareLines(
    { id: 'top15', title: x('chart'), desc: x('chartDesc') },
    ws.map(label),
    [{ label: t('insights.legend.top15'), colour: COLOURS.total, values: ws.map((w) => w.concentration.top15Share) }],
  );
  const rows = [...ws.map((w) => [w.week, w.concentration] as const), [t('insights.wholeRange'), r.total.concentration] as const].map(([k, c]) => [k, n(c.contributors), pct(c.top15Share)]);
  const lorenz = r.total.concentration.lorenz;
  const curve = lorenz
    ? html`<div class="chart">${lorenzCurve({ id: 'lorenz', title: t('insights.lorenz.chart'), desc: t('insights.lorenz.chartDesc') }, lorenz)}${table(
        t('insights.lorenz.table'),
        heads(t, ['people', 'contentShare']),
        lorenz.map((p) => [pct(p.people), pct(p.content)]),
      )}</div>`
    : html`<p>${t('insights.lorenz.tooFew')}</p>`;
  return html`${figure('top15', x('heading'), x('explain'), over, table(x('table'), heads(t, ['week', 'contributors', 'top15']), rows))}${curve}`;
}

function reachSection(t: Translate, r: InsightsReport): SafeHtml {
  const n = cellOf(t);
  const rows = [...r.weeks.map((w) => [w.week, w.reach] as const), [t('insights.wholeRange'), r.total.reach] as const].map(([k, x]) => [k, n(x.digest.sent), n(x.digest.replies), n(x.notification.sent), n(x.notification.replies)]);
  return html`<section aria-labelledby="reach-h"><h2 id="reach-h">${t('insights.reach.heading')}</h2><p class="hint">${t('insights.reach.explain')}</p>${table(
    t('insights.reach.table'),
    heads(t, ['week', 'digestsSent', 'digestReplies', 'notificationsSent', 'notificationReplies']),
    rows,
  )}</section>`;
}

function groupsSection(t: Translate, r: InsightsReport): SafeHtml {
  const n = cellOf(t);
  const rows = r.groups.map((g) => [g.name, n(g.activePeople.total), n(g.activePeople.emailOnly), n(g.activePeople.both), n(g.activePeople.webOnly), n(g.posts.total), pct(g.posts.emailShare), n(g.comments.total), pct(g.comments.emailShare), n(g.newVoices.total)]);
  return html`<section aria-labelledby="groups-h"><h2 id="groups-h">${t('insights.groups.heading')}</h2>${table(t('insights.groups.table'), heads(t, ['group', 'activePeople', 'emailOnly', 'both', 'webOnly', 'posts', 'postsByMail', 'comments', 'commentsByMail', 'newVoices']), rows)}</section>`;
}

function filterForm(t: Translate, q: InsightsQuery, r: InsightsReport, groups: { slug: string; name: string }[]): SafeHtml {
  const csv = new URLSearchParams({ from: r.from, to: r.to, ...(q.group ? { group: q.group } : {}) });
  return html`<form method="get" action="/web/admin/insights" class="filters" aria-label="${t('insights.filter.label')}">
<label>${t('insights.filter.from')} <input type="date" name="from" value="${r.from}"></label>
<label>${t('insights.filter.to')} <input type="date" name="to" value="${r.to}"></label>
<label>${t('feed.group')} <select name="group"><option value="">${t('feed.allGroups')}</option>${groups.map((g) => html`<option value="${g.slug}"${g.slug === q.group ? html` selected` : ''}>${g.name}</option>`)}</select></label>
<button type="submit">${t('insights.filter.show')}</button></form>
<p><a href="/web/admin/insights.csv?${csv.toString()}" download>${t('insights.csv')}</a></p>`;
}

const QUERY = {
  type: 'object',
  additionalProperties: false,
  properties: { from: { type: 'string', maxLength: 32 }, to: { type: 'string', maxLength: 32 }, group: { type: 'string', maxLength: 200 } },
} as const;

/** Empty form fields mean "the default". */
const normalise = (q: InsightsQuery): InsightsQuery => ({ ...(q.from ? { from: q.from } : {}), ...(q.to ? { to: q.to } : {}), ...(q.group ? { group: q.group } : {}) });

function requireAdminPage(ctx: PageContext): void {
  if (!ctx.me?.isAdmin) throw new PermanentError('FORBIDDEN', 'this page needs the admin role');
}

/** `GET /web/admin/insights` (and its CSV): participation per week and group, aggregates only. */
export function insightsPages(app: FastifyInstance, deps: WebDeps): void {
  app.get<{ Querystring: InsightsQuery }>('/web/admin/insights', { preHandler: deps.auth, schema: { querystring: QUERY } }, async (req, reply) => {
    const ctx = pageContext(req, deps);
    requireAdminPage(ctx);
    const q = normalise(req.query);
    const [{ report }, groups] = await Promise.all([loadInsights(deps.db, q), insightsGroups(deps.db)]);
    const { t } = ctx;
    const main = html`<h1>${t('insights.title')}</h1>
<p>${t('insights.intro', { from: report.from, to: report.to, min: report.minPeople })} <a href="/web/admin">${t('insights.back')}</a></p>
${filterForm(t, q, report, groups)}${activeSection(t, report)}${contentSection(t, report)}${voicesSection(t, report)}${concentrationSection(t, report)}${reachSection(t, report)}${groupsSection(t, report)}`;
    return sendHtml(reply, 200, layout(ctx, { title: t('insights.title'), current: '/web/admin', main }));
  });

  app.get<{ Querystring: InsightsQuery }>('/web/admin/insights.csv', { preHandler: deps.auth, schema: { querystring: QUERY } }, async (req, reply) => {
    requireAdminPage(pageContext(req, deps));
    const { report, group } = await loadInsights(deps.db, normalise(req.query));
    return sendInsightsCsv(reply, report, group);
  });
}
