import type { FastifyInstance, FastifyReply } from 'fastify';
import { computeInsights, insightsCsv, insightsRange, PermanentError, type InsightsReport, type Participation, type Reach } from '@blend/core';
import { contributionFacts, firstContributionFacts, insightsGroups, reachFacts, type Database } from '@blend/db';
import { requireAdmin } from '../auth';
import { errors } from './esn-responses';
import { BEARER } from './esn-schemas';
import { insightsReportSchema } from './insights-schemas';

export interface InsightsQuery {
  from?: string;
  to?: string;
  group?: string;
  format?: 'json' | 'csv';
}

/**
 * The participation report for a query, from one consistent snapshot of the database.
 * @throws PermanentError VALIDATION for a bad range or an unknown group
 */
export async function loadInsights(db: Database, q: InsightsQuery, now = new Date()): Promise<{ report: InsightsReport; group: string | null }> {
  const range = insightsRange(q, now);
  if (!range.ok) throw new PermanentError('VALIDATION', range.message);
  const slug = q.group || undefined;
  return db.transaction(
    async (tx) => {
      const groups = await insightsGroups(tx, slug);
      if (slug !== undefined && groups.length === 0) throw new PermanentError('VALIDATION', `group: no group has the slug "${slug}"`);
      const filter = { from: range.from, to: range.to, groupId: slug === undefined ? undefined : groups[0]!.id };
      const contributions = await contributionFacts(tx, filter);
      const firsts = await firstContributionFacts(tx, filter);
      const reach = await reachFacts(tx, filter);
      return { report: computeInsights({ from: range.from, to: range.to, groups, contributions, firsts, reach, digestsApply: slug === undefined }), group: slug ?? null };
    },
    { isolationLevel: 'repeatable read', accessMode: 'read only' },
  );
}

const participationJson = (p: Participation) => ({
  active_people: { email_only: p.activePeople.emailOnly, web_only: p.activePeople.webOnly, both: p.activePeople.both, total: p.activePeople.total },
  posts: { email: p.posts.email, web: p.posts.web, total: p.posts.total, email_share: p.posts.emailShare },
  comments: { email: p.comments.email, web: p.comments.web, total: p.comments.total, email_share: p.comments.emailShare },
  new_voices: { total: p.newVoices.total, later_web: p.newVoices.laterWeb, email_only_since: p.newVoices.emailOnlySince },
  concentration: { contributors: p.concentration.contributors, top15_share: p.concentration.top15Share, lorenz: p.concentration.lorenz },
});
const reachJson = (r: Reach) => r;

/** The report as the API answers it (snake_case, as the rest of /api/v1). */
export function insightsJson(report: InsightsReport, group: string | null) {
  return {
    from: report.from,
    to: report.to,
    group,
    min_people: report.minPeople,
    weeks: report.weeks.map((w) => ({ week: w.week, start: w.start, ...participationJson(w), reach: reachJson(w.reach) })),
    groups: report.groups.map((g) => ({ slug: g.slug, name: g.name, ...participationJson(g) })),
    total: { ...participationJson(report.total), reach: reachJson(report.total.reach) },
  };
}

/** Answer with the report as a CSV download. */
export function sendInsightsCsv(reply: FastifyReply, report: InsightsReport, group: string | null): FastifyReply {
  const name = `blend-insights-${report.from}-${report.to}${group ? `-${group}` : ''}.csv`;
  return reply
    .type('text/csv; charset=utf-8')
    .header('content-disposition', `attachment; filename="${name}"`)
    .header('cache-control', 'no-store')
    .send(Buffer.from(insightsCsv(report), 'utf8'));
}

/** CSV when asked by `format=csv`, or by an Accept header naming text/csv without `format=json`. */
export const wantsCsv = (format: string | undefined, accept: string | undefined) => format === 'csv' || (format === undefined && /\btext\/csv\b/i.test(accept ?? ''));

/** `GET /api/v1/admin/insights`: participation per week and group, aggregates only (admin role). */
export function insightsRoutes(app: FastifyInstance, deps: { db: Database }): void {
  app.get<{ Querystring: InsightsQuery }>(
    '/api/v1/admin/insights',
    {
      preHandler: requireAdmin(deps.db),
      schema: {
        tags: ['admin'],
        summary: 'Participation insights: who takes part through which channel, per ISO week and group (aggregates only; small cells withheld)',
        description:
          'JSON by default; CSV (one number per row) with `format=csv` or `Accept: text/csv`. Cells describing fewer than 5 people are null with `suppressed: true`, ' +
          'and so is any cell that would let one be recomputed by subtraction.',
        security: BEARER,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            from: { type: 'string', maxLength: 32, description: 'first day, YYYY-MM-DD (default: 12 weeks before `to`)' },
            to: { type: 'string', maxLength: 32, description: 'last day, YYYY-MM-DD, included (default: today, UTC); at most 366 days after `from`' },
            group: { type: 'string', maxLength: 200, description: 'a group slug; all groups when absent' },
            format: { type: 'string', enum: ['json', 'csv'] },
          },
        },
        response: {
          200: { description: 'The report', content: { 'application/json': { schema: insightsReportSchema }, 'text/csv': { schema: { type: 'string' } } } },
          ...errors(400, 401, 403),
        },
      },
    },
    async (req, reply) => {
      const { report, group } = await loadInsights(deps.db, req.query);
      if (wantsCsv(req.query.format, req.headers.accept)) return sendInsightsCsv(reply, report, group);
      return reply.type('application/json; charset=utf-8').send(insightsJson(report, group));
    },
  );
}
