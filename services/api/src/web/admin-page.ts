import type { FastifyInstance } from 'fastify';
import { PermanentError } from '@blend/core';
import { heldSummary, listHiddenItems, listInboundRows, listOpenReports, listPeopleForAdmin, listWatchedMailboxes, listWebhooksWithDeliveries, mailboxStatuses, replayInbound, type InboundState, type MailboxStatus, type PersonListing, type WatchedMailbox } from '@blend/db';
import { requeueIngest } from '@blend/queue';
import { INBOUND_STATES } from '../routes/admin';
import { sendInboundSource } from '../routes/admin-source';
import { html, type SafeHtml } from './html';
import { csrfField, layout, sendHtml, timeTag, type PageContext } from './layout';
import { assertCsrf } from './session';
import { pageContext, type WebDeps } from './web-deps';
import { adminWebhookPages, webhooksSection } from './admin-webhooks';
import { moderationPages, moderationSection } from './moderation-pages';

type InboundRowView = Awaited<ReturnType<typeof listInboundRows>>[number];

const OPT_IN: Record<PersonListing['opt_in'], string> = { opted_in: 'opted in', opted_out: 'opted out', pending: 'pending' };

function peopleTable(people: PersonListing[]): SafeHtml {
  return html`<section aria-labelledby="people-h"><h2 id="people-h">People</h2>
<div class="scroll"><table><caption class="visually-hidden">People and their opt-in state</caption>
<thead><tr><th scope="col">Email</th><th scope="col">Name</th><th scope="col">Opt-in</th><th scope="col">Role</th></tr></thead>
<tbody>${people.map(
    (p) => html`<tr><td>${p.email}</td><td>${p.name}</td><td><span class="state state-${p.opt_in}">${OPT_IN[p.opt_in]}</span>${p.mail_paused ? ' (mail paused)' : ''}</td><td>${p.admin ? 'admin' : ''}</td></tr>`,
  )}</tbody></table></div></section>`;
}

function inboundFilter(state: string | undefined, reason: string | undefined): SafeHtml {
  return html`<form method="get" action="/web/admin" class="filters" aria-label="Filter inbound mail">
<label>State <select name="state"><option value="">Any</option>${INBOUND_STATES.map((s) => html`<option${s === state ? html` selected` : ''}>${s}</option>`)}</select></label>
<label>Reason <input name="reason" value="${reason ?? ''}" maxlength="64" placeholder="not_opted_in"></label>
<button type="submit">Filter</button></form>`;
}

function inboundTable(ctx: PageContext, rows: InboundRowView[]): SafeHtml {
  const tz = ctx.me?.timezone ?? 'UTC';
  return html`<div class="scroll"><table><caption class="visually-hidden">Inbound mail, newest first</caption>
<thead><tr><th scope="col">Received</th><th scope="col">From</th><th scope="col">Subject</th><th scope="col">State</th><th scope="col">Reason</th><th scope="col">Post</th><th scope="col">Original</th><th scope="col"><span class="visually-hidden">Action</span></th></tr></thead>
<tbody>${rows.map(
    (r) => html`<tr><td>${timeTag(r.received_at, tz)}</td><td>${r.sender ?? ''}</td><td>${r.subject ?? ''}</td><td>${r.state}</td><td>${r.reason ?? ''}</td><td>${
      r.post_id ? html`<a href="/web/posts/${r.post_id}">thread</a>` : ''
    }</td><td><a href="/web/admin/inbound/${r.id}/source" download aria-label="Download the original message from ${r.sender ?? 'unknown sender'} (audited)">source</a></td><td>${
      REPLAYABLE.has(r.state)
        ? html`<form method="post" action="/web/admin/inbound/${r.id}/replay" class="inline">${csrfField(ctx)}<button type="submit" class="secondary" aria-label="Replay the mail from ${r.sender ?? 'unknown sender'}">Replay</button></form>`
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
  const when = (d: Date | null | undefined) => (d ? timeTag(d.toISOString(), tz) : html`never`);
  const connection = (r: MailboxRow) => {
    if (r.watched && !r.watched.enabled) return html`<span class="state">disabled</span>`;
    const s = r.status;
    if (!s?.leaseLive) return html`<span class="state state-opted_out">no poller holds it</span>`;
    const bad = s.state !== null && s.state !== 'connected';
    return html`<span class="state ${bad ? 'state-opted_out' : 'state-opted_in'}">${s.state ?? 'starting'}</span>${
      s.lastError ? html`<br><small>${s.lastError}</small>` : ''
    }${s.state === 'auth_failed' && r.watched ? html`<br><small>fix: <code>blend mailbox set ${r.key} ${r.watched.auth === 'oauth2' ? '--oauth2' : '--password-file FILE'}</code></small>` : ''}`;
  };
  return html`<section aria-labelledby="mailboxes-h"><h2 id="mailboxes-h">Mailboxes</h2>
${rows.length === 0 ? html`<p>No mailbox has been polled or added yet.</p>` : html`<div class="scroll"><table><caption class="visually-hidden">Watched mailboxes</caption>
<thead><tr><th scope="col">Mailbox</th><th scope="col">Connection</th><th scope="col">Poller holding the lease</th><th scope="col">Checkpoint (UIDVALIDITY / last UID stored)</th><th scope="col">Last sync</th></tr></thead>
<tbody>${rows.map(
    (r) => html`<tr><td>${r.key}${r.watched ? '' : html`<br><small>BLEND_IMAP_URL</small>`}</td><td>${connection(r)}</td><td>${r.status?.leaseLive ? r.status.holder ?? '' : 'none'}</td><td>${
      r.status?.uidValidity != null ? `${r.status.uidValidity} / ${r.status.lastUid}` : 'none yet'
    }</td><td>${when(r.status?.lastSyncAt)}</td></tr>`,
  )}</tbody></table></div>`}</section>`;
}

/** Held mail waits on someone; after a day it is worth IT's attention (docs/SECURITY.md F31). */
const HELD_AGE_ALERT_SECONDS = 86_400;

function heldNotice(held: { count: number; oldestAgeSeconds: number }): SafeHtml | '' {
  if (held.count === 0) return '';
  const hours = Math.floor(held.oldestAgeSeconds / 3600);
  const aged = held.oldestAgeSeconds >= HELD_AGE_ALERT_SECONDS;
  return html`<p role="${aged ? 'alert' : 'status'}" class="notice">${held.count} ${held.count === 1 ? 'mail is' : 'mails are'} held; the oldest arrived ${
    hours < 1 ? 'less than an hour' : `${hours} ${hours === 1 ? 'hour' : 'hours'}`
  } ago.${aged ? ' Held mail is kept, with its source and its IMAP copy, until someone releases or rejects it.' : ''} <a href="/web/admin?state=held">Show held mail</a></p>`;
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
      const main = html`<h1>Admin</h1>${replayed ? html`<p role="status" class="notice">${replayed === 'no' ? 'That mail cannot be replayed (already published, still pending, or its raw mail was purged).' : 'Replayed: the mail is back in the pipeline.'}</p>` : ''}
<p><a href="/admin/queues">Queue dashboard</a> (BullMQ: ingest, send, webhook, digest)</p>
<p><a href="/web/admin/insights">Participation insights</a> (who takes part through which channel; aggregates only)</p>${heldNotice(held)}${moderationSection(ctx, reports, hidden, req.query.moderation)}${mailboxTable(ctx, boxes)}${peopleTable(people)}
<section aria-labelledby="inbound-h"><h2 id="inbound-h">Inbound mail</h2>${inboundFilter(state, reason)}
${rows.length === 0 ? html`<p>No inbound mail matches.</p>` : inboundTable(ctx, rows)}</section>
${webhooksSection(ctx, hooks, req.query.redelivered)}`;
      return sendHtml(reply, 200, layout(ctx, { title: 'Admin', current: '/web/admin', main }));
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
