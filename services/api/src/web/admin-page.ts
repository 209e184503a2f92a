import type { FastifyInstance } from 'fastify';
import { PermanentError } from '@blend/core';
import { heldSummary, listHiddenItems, listInboundRows, listOpenReports, listPeopleForAdmin, listWatchedMailboxes, listWebhooksWithDeliveries, mailboxStatuses, replayInbound, type InboundState, type MailboxStatus, type PersonListing, type WatchedMailbox } from '@blend/db';
import { requeueIngest } from '@blend/queue';
import { INBOUND_STATES } from '../routes/admin';
import { sendInboundSource } from '../routes/admin-source';
import { html, type SafeHtml } from './html';
import { csrfField, layout, sendHtml, tHtml, timeTag, type PageContext } from './layout';
import { assertCsrf } from './session';
import { pageContext, type WebDeps } from './web-deps';
import { adminWebhookPages, webhooksSection } from './admin-webhooks';
import { moderationPages, moderationSection } from './moderation-pages';

type InboundRowView = Awaited<ReturnType<typeof listInboundRows>>[number];

const col = (ctx: PageContext, key: string) => html`<th scope="col">${ctx.t(key)}</th>`;

function peopleTable(ctx: PageContext, people: PersonListing[]): SafeHtml {
  const { t } = ctx;
  return html`<section aria-labelledby="people-h"><h2 id="people-h">${t('admin.people')}</h2>
<div class="scroll"><table><caption class="visually-hidden">${t('admin.people.caption')}</caption>
<thead><tr>${col(ctx, 'admin.col.email')}${col(ctx, 'admin.col.name')}${col(ctx, 'admin.col.optIn')}${col(ctx, 'admin.col.role')}</tr></thead>
<tbody>${people.map(
    (p) => html`<tr><td>${p.email}</td><td>${p.name}</td><td><span class="state state-${p.opt_in}">${t(`admin.optIn.${p.opt_in}`)}</span>${p.mail_paused ? ` ${t('admin.mailPaused')}` : ''}</td><td>${p.admin ? t('admin.role.admin') : ''}</td></tr>`,
  )}</tbody></table></div></section>`;
}

function inboundFilter(ctx: PageContext, state: string | undefined, reason: string | undefined): SafeHtml {
  const { t } = ctx;
  return html`<form method="get" action="/web/admin" class="filters" aria-label="${t('admin.inbound.filter.label')}">
<label>${t('admin.col.state')} <select name="state"><option value="">${t('admin.any')}</option>${INBOUND_STATES.map((s) => html`<option${s === state ? html` selected` : ''}>${s}</option>`)}</select></label>
<label>${t('admin.col.reason')} <input name="reason" value="${reason ?? ''}" maxlength="64" placeholder="not_opted_in"></label>
<button type="submit">${t('feed.filter')}</button></form>`;
}

function inboundTable(ctx: PageContext, rows: InboundRowView[]): SafeHtml {
  const tz = ctx.me?.timezone ?? 'UTC';
  const { t } = ctx;
  return html`<div class="scroll"><table><caption class="visually-hidden">${t('admin.inbound.caption')}</caption>
<thead><tr>${col(ctx, 'admin.col.received')}${col(ctx, 'admin.col.from')}${col(ctx, 'admin.col.subject')}${col(ctx, 'admin.col.state')}${col(ctx, 'admin.col.reason')}${col(ctx, 'admin.col.post')}${col(ctx, 'admin.col.original')}<th scope="col"><span class="visually-hidden">${t('moderation.col.action')}</span></th></tr></thead>
<tbody>${rows.map(
    (r) => html`<tr><td>${timeTag(r.received_at, tz, ctx.lang)}</td><td>${r.sender ?? ''}</td><td>${r.subject ?? ''}</td><td>${r.state}</td><td>${r.reason ?? ''}</td><td>${
      r.post_id ? html`<a href="/web/posts/${r.post_id}">${t('admin.thread')}</a>` : ''
    }</td><td><a href="/web/admin/inbound/${r.id}/source" download aria-label="${t('admin.source.label', { sender: r.sender ?? t('admin.unknownSender') })}">${t('admin.source')}</a></td><td>${
      REPLAYABLE.has(r.state)
        ? html`<form method="post" action="/web/admin/inbound/${r.id}/replay" class="inline">${csrfField(ctx)}<button type="submit" class="secondary" aria-label="${t('admin.replay.label', { sender: r.sender ?? t('admin.unknownSender') })}">${t('admin.replay')}</button></form>`
        : ''
    }</td></tr>`,
  )}</tbody></table></div>`;
}

/** States whose mail IT can put back in the pipeline (after a rule change, an opt-in, a fix). */
const REPLAYABLE = new Set<string>(['failed', 'withheld', 'held', 'rejected']);

/** A mailbox row of the admin page: one polled (checkpoint or lease) or added with `blend mailbox add`. */
interface MailboxRow {
  key: string;
  status: MailboxStatus | undefined;
  /** Its watched_mailboxes row; none for BLEND_IMAP_URL. */
  watched: WatchedMailbox | undefined;
}

/** Every mailbox Blend knows of: polled ones and added ones (an added one may never have connected). */
function mailboxRows(statuses: Map<string, MailboxStatus>, watched: WatchedMailbox[]): MailboxRow[] {
  const byKey = new Map(watched.map((w) => [w.key, w]));
  const keys = [...new Set([...statuses.keys(), ...byKey.keys()])].sort();
  return keys.map((key) => ({ key, status: statuses.get(key), watched: byKey.get(key) }));
}

function mailboxTable(ctx: PageContext, rows: MailboxRow[]): SafeHtml {
  const tz = ctx.me?.timezone ?? 'UTC';
  const { t } = ctx;
  const when = (d: Date | null | undefined) => (d ? timeTag(d.toISOString(), tz, ctx.lang) : html`${t('tokens.never')}`);
  const connection = (r: MailboxRow) => {
    if (r.watched && !r.watched.enabled) return html`<span class="state">${t('admin.mailbox.disabled')}</span>`;
    const s = r.status;
    if (!s?.leaseLive) return html`<span class="state state-opted_out">${t('admin.mailbox.noPoller')}</span>`;
    const bad = s.state !== null && s.state !== 'connected';
    return html`<span class="state ${bad ? 'state-opted_out' : 'state-opted_in'}">${s.state ?? t('admin.mailbox.starting')}</span>${
      s.lastError ? html`<br><small>${s.lastError}</small>` : ''
    }${s.state === 'auth_failed' && r.watched ? html`<br><small>${tHtml(t, 'admin.mailbox.fix', { command: html`<code>blend mailbox set ${r.key} ${r.watched.auth === 'oauth2' ? '--oauth2' : '--password-file FILE'}</code>` })}</small>` : ''}`;
  };
  return html`<section aria-labelledby="mailboxes-h"><h2 id="mailboxes-h">${t('admin.mailboxes')}</h2>
${rows.length === 0 ? html`<p>${t('admin.mailboxes.none')}</p>` : html`<div class="scroll"><table><caption class="visually-hidden">${t('admin.mailboxes.caption')}</caption>
<thead><tr>${col(ctx, 'admin.col.mailbox')}${col(ctx, 'admin.col.connection')}${col(ctx, 'admin.col.leaseHolder')}${col(ctx, 'admin.col.checkpoint')}${col(ctx, 'admin.col.lastSync')}</tr></thead>
<tbody>${rows.map(
    (r) => html`<tr><td>${r.key}${r.watched ? '' : html`<br><small>BLEND_IMAP_URL</small>`}</td><td>${connection(r)}</td><td>${r.status?.leaseLive ? r.status.holder ?? '' : t('admin.none')}</td><td>${
      r.status?.uidValidity != null ? `${r.status.uidValidity} / ${r.status.lastUid}` : t('admin.noneYet')
    }</td><td>${when(r.status?.lastSyncAt)}</td></tr>`,
  )}</tbody></table></div>`}</section>`;
}

/** Held mail waits on someone; after a day it is worth IT's attention (docs/SECURITY.md F31). */
const HELD_AGE_ALERT_SECONDS = 86_400;

function heldNotice(ctx: PageContext, held: { count: number; oldestAgeSeconds: number }): SafeHtml | '' {
  if (held.count === 0) return '';
  const { t } = ctx;
  const hours = Math.floor(held.oldestAgeSeconds / 3600);
  const aged = held.oldestAgeSeconds >= HELD_AGE_ALERT_SECONDS;
  const age = hours < 1 ? t('admin.held.underAnHour') : t('admin.held.hours', { count: hours });
  return html`<p role="${aged ? 'alert' : 'status'}" class="notice">${t('admin.held', { count: held.count, age })}${aged ? ` ${t('admin.held.kept')}` : ''} <a href="/web/admin?state=held">${t('admin.held.show')}</a></p>`;
}

/** How many recent inbound rows the reason filter looks through (listInboundRows has no reason filter). */
const REASON_SCAN = 500;

/** `GET /web/admin`: people with their opt-in states, inbound mail by state and reason. */
export function adminPages(app: FastifyInstance, deps: WebDeps): void {
  app.get<{ Querystring: { state?: string; reason?: string; replayed?: string; redelivered?: string; moderation?: string } }>(
    '/web/admin',
    {
      preHandler: deps.auth,
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            state: { type: 'string', enum: ['', ...INBOUND_STATES] },
            reason: { type: 'string', pattern: '^[a-z0-9_:. -]{0,64}$' },
            replayed: { type: 'string', enum: ['yes', 'no'] },
            redelivered: { type: 'string', enum: ['yes', 'no'] },
            moderation: { type: 'string', enum: ['hidden', 'restored', 'dismissed', 'gone'] },
          },
        },
      },
    },
    async (req, reply) => {
      const ctx = pageContext(req, deps);
      if (!ctx.me!.isAdmin) throw new PermanentError('FORBIDDEN', 'this page needs the admin role');
      const state = (req.query.state || undefined) as InboundState | undefined;
      const reason = req.query.reason?.trim() || undefined;
      const [people, inbound, statuses, watched, held, hooks, reports, hidden] = await Promise.all([
        listPeopleForAdmin(deps.db, { limit: 500 }),
        listInboundRows(deps.db, { state, limit: reason ? REASON_SCAN : 100 }),
        mailboxStatuses(deps.db),
        listWatchedMailboxes(deps.db),
        heldSummary(deps.db),
        listWebhooksWithDeliveries(deps.db, { deliveriesPerHook: 10 }),
        listOpenReports(deps.db),
        listHiddenItems(deps.db),
      ]);
      const boxes = mailboxRows(statuses, watched);
      const rows = reason ? inbound.filter((r) => r.reason === reason).slice(0, 100) : inbound;
      const replayed = req.query.replayed;
      const { t } = ctx;
      const main = html`<h1>${t('admin.title')}</h1>${replayed ? html`<p role="status" class="notice">${replayed === 'no' ? t('admin.replayed.no') : t('admin.replayed.yes')}</p>` : ''}
<p><a href="/admin/queues">${t('admin.queues')}</a> ${t('admin.queues.hint')}</p>
<p><a href="/web/admin/insights">${t('insights.title')}</a> ${t('admin.insights.hint')}</p>${heldNotice(ctx, held)}${moderationSection(ctx, reports, hidden, req.query.moderation)}${mailboxTable(ctx, boxes)}${peopleTable(ctx, people)}
<section aria-labelledby="inbound-h"><h2 id="inbound-h">${t('admin.inbound')}</h2>${inboundFilter(ctx, state, reason)}
${rows.length === 0 ? html`<p>${t('admin.inbound.none')}</p>` : inboundTable(ctx, rows)}</section>
${webhooksSection(ctx, hooks, req.query.redelivered)}`;
      return sendHtml(reply, 200, layout(ctx, { title: t('admin.title'), current: '/web/admin', main }));
    },
  );

  // The original message as a download (audited with the admin's address), from the inbound table.
  app.get<{ Params: { id: string } }>(
    '/web/admin/inbound/:id/source',
    { preHandler: deps.auth, schema: { params: { type: 'object', properties: { id: { type: 'string', format: 'uuid' } } } } },
    async (req, reply) => {
      if (!req.person!.isAdmin) throw new PermanentError('FORBIDDEN', 'this needs the admin role');
      return sendInboundSource(deps.db, req.params.id, `web:${req.person!.email}`, reply);
    },
  );

  // Replay one message (audited with the admin's address), from the inbound table.
  app.post<{ Params: { id: string }; Body: { _csrf?: string } }>(
    '/web/admin/inbound/:id/replay',
    { preHandler: deps.auth, schema: { params: { type: 'object', properties: { id: { type: 'string', format: 'uuid' } } }, body: { type: 'object', additionalProperties: false, properties: { _csrf: { type: 'string' } } } } },
    async (req, reply) => {
      assertCsrf(req, deps, req.body?._csrf);
      if (!req.person!.isAdmin) throw new PermanentError('FORBIDDEN', 'this needs the admin role');
      const was = await deps.db.transaction((tx) => replayInbound(tx, req.params.id, `web:${req.person!.email}`));
      if (was) await requeueIngest(deps.queues.ingest, req.params.id).catch((err: unknown) => deps.log.warn({ err, inboundId: req.params.id }, 'enqueue failed; left to the reconciler'));
      req.log.info({ inboundId: req.params.id, was }, 'inbound replayed from the admin page');
      return reply.redirect(`/web/admin?replayed=${was ? 'yes' : 'no'}`, 303);
    },
  );

  adminWebhookPages(app, deps);
  moderationPages(app, deps);
}
