import type { FastifyInstance } from 'fastify';
import { PermanentError, type Cell, type InsightsReport, type Participation } from '@blend/core';
import { insightsGroups } from '@blend/db';
import { loadInsights, sendInsightsCsv, type InsightsQuery } from '../routes/insights';
import { html, type SafeHtml } from './html';
import { layout, sendHtml, type PageContext } from './layout';
import { COLOURS, lorenzCurve, shareLines, stackedBars } from './svg-chart';
import { pageContext, type WebDeps } from './web-deps';

const WITHHELD = html`<abbr title="withheld: fewer than 5 people, or it would give such a number away">–</abbr>`;
const n = (c: Cell): SafeHtml | string => (c.suppressed ? WITHHELD : c.value === null ? 'n/a' : String(c.value));
const pct = (x: number | null): string => (x === null ? '–' : `${Math.round(x * 100)} %`);

function table(caption: string, head: string[], rows: (SafeHtml | string)[][]): SafeHtml {
  return html`<div class="scroll"><table><caption>${caption}</caption>
<thead><tr>${head.map((h, i) => html`<th scope="col"${i === 0 ? '' : html` class="num"`}>${h}</th>`)}</tr></thead>
<tbody>${rows.map((r) => html`<tr>${r.map((c, i) => (i === 0 ? html`<th scope="row">${c}</th>` : html`<td class="num">${c}</td>`))}</tr>`)}</tbody></table></div>`;
}

const figure = (id: string, heading: string, explain: string, chart: SafeHtml, numbers: SafeHtml) =>
  html`<section aria-labelledby="${id}-h"><h2 id="${id}-h">${heading}</h2><p class="hint">${explain}</p><div class="chart">${chart}${numbers}</div></section>`;

const label = (w: InsightsReport['weeks'][number]) => w.week.slice(5);

function activeSection(r: InsightsReport): SafeHtml {
  const ws = r.weeks;
  const chart = stackedBars(
    { id: 'active', title: 'Active people per week by channel', desc: 'Stacked bars per ISO week: people who wrote only by mail, by mail and on the web, only on the web. A grey bar: the split is withheld, only the total is shown. The table beside holds the numbers.' },
    ws.map(label),
    [
      { label: 'email only', colour: COLOURS.email, values: ws.map((w) => w.activePeople.emailOnly.value) },
      { label: 'both', colour: COLOURS.both, values: ws.map((w) => w.activePeople.both.value) },
      { label: 'web / API only', colour: COLOURS.web, values: ws.map((w) => w.activePeople.webOnly.value) },
    ],
    ws.map((w) => w.activePeople.total.value),
  );
  const rows = [...ws.map((w) => [w.week, w.activePeople] as const), ['Whole range', r.total.activePeople] as const].map(([k, a]) => [k, n(a.emailOnly), n(a.both), n(a.webOnly), n(a.total)]);
  return figure('active', 'Who takes part, through which channel', 'People who wrote at least one post or comment, by the channels they used that week.', chart, table('Active people per week', ['Week', 'Email only', 'Both', 'Web / API only', 'All'], rows));
}

function contentSection(r: InsightsReport): SafeHtml {
  const ws = r.weeks;
  const chart = shareLines(
    { id: 'share', title: 'Share of posts and comments written by mail, per week', desc: 'Two lines from 0 to 100 %: the share of posts and the share of comments that came by mail. A gap: withheld. The table beside holds the numbers.' },
    ws.map(label),
    [
      { label: 'posts by mail', colour: COLOURS.email, values: ws.map((w) => w.posts.emailShare) },
      { label: 'comments by mail', colour: COLOURS.web, values: ws.map((w) => w.comments.emailShare) },
    ],
  );
  const row = (k: string, p: Participation) => [k, n(p.posts.email), n(p.posts.web), pct(p.posts.emailShare), n(p.comments.email), n(p.comments.web), pct(p.comments.emailShare)];
  const rows = [...ws.map((w) => row(w.week, w)), row('Whole range', r.total)];
  return figure('share', 'Posts and comments by channel of origin', 'Where each post and comment was written: in a mail client, or on the web UI / API.', chart, table('Posts and comments by channel', ['Week', 'Posts by mail', 'Posts on the web', 'By mail', 'Comments by mail', 'Comments on the web', 'By mail'], rows));
}

function voicesSection(r: InsightsReport): SafeHtml {
  const ws = r.weeks;
  const chart = stackedBars(
    { id: 'voices', title: 'New voices per week', desc: 'Bars per ISO week: people whose first contribution ever came by mail, split into those who later also wrote on the web and those who stayed with mail. Grey: the split is withheld. The table beside holds the numbers.' },
    ws.map(label),
    [
      { label: 'stayed with mail', colour: COLOURS.email, values: ws.map((w) => w.newVoices.emailOnlySince.value) },
      { label: 'later also web', colour: COLOURS.both, values: ws.map((w) => w.newVoices.laterWeb.value) },
    ],
    ws.map((w) => w.newVoices.total.value),
  );
  const rows = [...ws.map((w) => [w.week, w.newVoices] as const), ['Whole range', r.total.newVoices] as const].map(([k, v]) => [k, n(v.total), n(v.laterWeb), n(v.emailOnlySince)]);
  return figure('voices', 'New voices', 'People whose very first post or comment came by mail in that week, and how many of them later also used the web (before the end of the range).', chart, table('New voices per week', ['Week', 'New voices', 'Later also web', 'Mail only since'], rows));
}

function concentrationSection(r: InsightsReport): SafeHtml {
  const ws = r.weeks;
  const over = shareLines(
    { id: 'top15', title: 'Share of content written by the most active 15 % of contributors, per week', desc: 'A line from 0 to 100 %; points are missing for weeks with fewer than 27 contributors. The table beside holds the numbers.' },
    ws.map(label),
    [{ label: 'top 15 % share', colour: COLOURS.total, values: ws.map((w) => w.concentration.top15Share) }],
  );
  const rows = [...ws.map((w) => [w.week, w.concentration] as const), ['Whole range', r.total.concentration] as const].map(([k, c]) => [k, n(c.contributors), pct(c.top15Share)]);
  const lorenz = r.total.concentration.lorenz;
  const curve = lorenz
    ? html`<div class="chart">${lorenzCurve({ id: 'lorenz', title: 'Lorenz curve of content over the whole range', desc: 'How content is spread among contributors, least active first; the further below the dashed line of equality, the more concentrated. The table beside holds the points.' }, lorenz)}${table(
        'Lorenz curve points',
        ['People (least active first)', 'Share of content'],
        lorenz.map((p) => [pct(p.people), pct(p.content)]),
      )}</div>`
    : html`<p>The Lorenz curve needs at least 10 contributors in the range.</p>`;
  return html`${figure('top15', 'Concentration', 'The share of all posts and comments written by the most active 15 % of the people who wrote (the "15 % write 85 %" figure). Shown only with at least 27 contributors, so that both the top group and the rest are 5 people or more.', over, table('Concentration per week', ['Week', 'Contributors', 'Top 15 % share'], rows))}${curve}`;
}

function reachSection(r: InsightsReport): SafeHtml {
  const rows = [...r.weeks.map((w) => [w.week, w.reach] as const), ['Whole range', r.total.reach] as const].map(([k, x]) => [k, n(x.digest.sent), n(x.digest.replies), n(x.notification.sent), n(x.notification.replies)]);
  return html`<section aria-labelledby="reach-h"><h2 id="reach-h">Digest and notification reach</h2><p class="hint">Mails Blend sent, and replies to them that became comments. With a group chosen, digests (which span groups) are not counted.</p>${table(
    'Mails sent and replies per week',
    ['Week', 'Digests sent', 'Replies to digests', 'Notifications sent', 'Replies to notifications'],
    rows,
  )}</section>`;
}

function groupsSection(r: InsightsReport): SafeHtml {
  const rows = r.groups.map((g) => [g.name, n(g.activePeople.total), n(g.activePeople.emailOnly), n(g.activePeople.both), n(g.activePeople.webOnly), n(g.posts.total), pct(g.posts.emailShare), n(g.comments.total), pct(g.comments.emailShare), n(g.newVoices.total)]);
  return html`<section aria-labelledby="groups-h"><h2 id="groups-h">Per group, whole range</h2>${table('Participation per group', ['Group', 'Active people', 'Email only', 'Both', 'Web / API only', 'Posts', 'Posts by mail', 'Comments', 'Comments by mail', 'New voices'], rows)}</section>`;
}

function filterForm(q: InsightsQuery, r: InsightsReport, groups: { slug: string; name: string }[]): SafeHtml {
  const csv = new URLSearchParams({ from: r.from, to: r.to, ...(q.group ? { group: q.group } : {}) });
  return html`<form method="get" action="/web/admin/insights" class="filters" aria-label="Range and group">
<label>From <input type="date" name="from" value="${r.from}"></label>
<label>To <input type="date" name="to" value="${r.to}"></label>
<label>Group <select name="group"><option value="">All groups</option>${groups.map((g) => html`<option value="${g.slug}"${g.slug === q.group ? html` selected` : ''}>${g.name}</option>`)}</select></label>
<button type="submit">Show</button></form>
<p><a href="/web/admin/insights.csv?${csv.toString()}" download>Download as CSV</a></p>`;
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
    const main = html`<h1>Participation insights</h1>
<p>Who takes part, and through which channel, per ISO week (Monday to Sunday, UTC) from ${report.from} to ${report.to}. Aggregates only: a number describing fewer than ${report.minPeople} people is withheld (–), and so is any number that would let one be worked out by subtraction. <a href="/web/admin">Back to admin</a></p>
${filterForm(q, report, groups)}${activeSection(report)}${contentSection(report)}${voicesSection(report)}${concentrationSection(report)}${reachSection(report)}${groupsSection(report)}`;
    return sendHtml(reply, 200, layout(ctx, { title: 'Participation insights', current: '/web/admin', main }));
  });

  app.get<{ Querystring: InsightsQuery }>('/web/admin/insights.csv', { preHandler: deps.auth, schema: { querystring: QUERY } }, async (req, reply) => {
    requireAdminPage(pageContext(req, deps));
    const { report, group } = await loadInsights(deps.db, normalise(req.query));
    return sendInsightsCsv(reply, report, group);
  });
}
