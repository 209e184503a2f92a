import type { FastifyInstance, FastifyReply } from 'fastify';
import { verifyLink, type LinkPurpose } from '@blend/core';
import { isUuid, textToSafeHtml } from '@blend/core';
import {
  addThreadOptOut,
  confirmHeld,
  editEsnComment,
  editEsnPost,
  findPersonByEmail,
  findPostMerge,
  getCommentRow,
  getPostRow,
  muteThread,
  releaseWithheld,
  setOptIn,
  tombstoneComment,
  tombstonePost,
  turnDigestsOff,
  upsertPerson,
  type Database,
} from '@blend/db';
import { cleanBody, extractTags } from './esn-text';
import { requeueIngest, type Queues } from '@blend/queue';
import type { Logger } from '@blend/config';
import { escapeHtml as esc } from '../web/html';

export interface LinkDeps {
  db: Database;
  secret: string;
  previousSecret?: string;
  queues: Pick<Queues, 'ingest'>;
  withheldRetentionDays: number;
  log: Logger;
}


function page(reply: FastifyReply, status: number, title: string, body: string): FastifyReply {
  return reply
    .status(status)
    .type('text/html; charset=utf-8')
    // CSP and Referrer-Policy: security-headers.ts ("links").
    .header('cache-control', 'no-store')
    .send(
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">` +
        `<title>${esc(title)} · Blend</title><style>body{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;color:#1d2330}` +
        `button{font:inherit;padding:.6rem 1.2rem;border-radius:.4rem;border:0;background:#2452c4;color:#fff;cursor:pointer}</style></head>` +
        `<body><main><h1>${esc(title)}</h1>${body}</main></body></html>`,
    );
}

interface LinkAction {
  purpose: LinkPurpose;
  title: string;
  question: (subject: string) => string;
  button: string;
  act: (claims: { subject: string; scope?: string }) => Promise<string>;
}

/**
 * Pages behind the signed links in Blend's mails. A GET only shows what the link will do
 * and a button; the change happens on POST, so a mail scanner that follows links changes
 * nothing (docs/SECURITY.md B23). Every invalid or expired link gets the same answer.
 */
export function linkRoutes(app: FastifyInstance, deps: LinkDeps): void {
  // Some mail clients send the one-click POST as multipart/form-data; its fields are not needed.
  app.addContentTypeParser('multipart/form-data', { parseAs: 'string', bodyLimit: 10_000 }, (_req, _body, done) => done(null, {}));
  const now = () => new Date();
  // Links signed with the key before the last rotation stay valid until they expire.
  const verify = (t: string, purpose: LinkPurpose) =>
    verifyLink(t, purpose, deps.secret, now()) ?? (deps.previousSecret ? verifyLink(t, purpose, deps.previousSecret, now()) : null);
  // A thread merged into an earlier one (docs/ARCHITECTURE.md "Threads and merges"): links
  // signed for it act on the thread it is part of now.
  const liveThread = async (postId: string) => (isUuid(postId) ? ((await findPostMerge(deps.db, postId))?.survivingPostId ?? postId) : postId);
  const actions: Record<string, LinkAction> = {
    'opt-in': {
      purpose: 'opt_in',
      title: 'Mirror my mail into the company feed',
      question: (s) => `Opt in <strong>${esc(s)}</strong>? From now on, mail you send to the bridge or in shared threads is published in the company feed.`,
      button: 'Opt in',
      act: async ({ subject }) => {
        const since = new Date(Date.now() - deps.withheldRetentionDays * 86_400_000);
        const released = await deps.db.transaction(async (tx) => {
          const existing = await findPersonByEmail(tx, subject);
          if (existing) {
            if (existing.optIn !== 'opted_in') await setOptIn(tx, existing.id, 'opted_in', 'mail', existing.id);
          } else {
            await upsertPerson(tx, { email: subject, optIn: true, via: 'mail' });
          }
          return releaseWithheld(tx, subject, since);
        });
        for (const id of released) await requeueIngest(deps.queues.ingest, id).catch((err: unknown) => deps.log.warn({ err, inboundId: id }, 'enqueue failed; left to the reconciler'));
        return released.length > 0 ? `You are opted in. ${released.length} message(s) you sent earlier will now be published.` : 'You are opted in.';
      },
    },
    'opt-out': {
      purpose: 'unsubscribe',
      title: 'Stop mirroring my mail',
      question: (s) => `Opt out <strong>${esc(s)}</strong>? Your mail will no longer be mirrored, and Blend will stop mailing you.`,
      button: 'Opt out',
      act: async ({ subject }) => {
        await deps.db.transaction(async (tx) => {
          const person = await findPersonByEmail(tx, subject);
          if (person && person.optIn !== 'opted_out') await setOptIn(tx, person.id, 'opted_out', 'mail', person.id);
        });
        return 'You are opted out.';
      },
    },
    withhold: {
      purpose: 'thread_withhold',
      title: 'Keep my replies out of this thread',
      question: (s) => `Keep replies from <strong>${esc(s)}</strong> in this conversation out of the company feed?`,
      button: 'Keep my replies out',
      act: async ({ subject, scope }) => {
        if (scope) await addThreadOptOut(deps.db, await liveThread(scope), subject);
        return 'Done: your replies in this conversation will not be mirrored.';
      },
    },
    share: {
      purpose: 'share_confirm',
      title: 'Publish my message',
      question: () => 'Your message has people outside the organisation on To/Cc. Publish your own message to the company feed? Their words are never mirrored.',
      button: 'Publish',
      act: async ({ subject }) => {
        const released = await deps.db.transaction((tx) => confirmHeld(tx, subject, 'external_participants'));
        if (released) await requeueIngest(deps.queues.ingest, subject);
        return released ? 'Confirmed: your message is being published.' : 'This message was already handled.';
      },
    },
  };

  actions.unsubscribe = {
    purpose: 'list_unsubscribe',
    title: 'Unsubscribe',
    question: () => 'Stop these mails? You can change this again on your preferences page.',
    button: 'Unsubscribe',
    act: async ({ subject, scope }) => {
      if (!isUuid(subject)) return 'Nothing to change.';
      if (scope?.startsWith('thread:') && isUuid(scope.slice(7))) {
        const postId = await liveThread(scope.slice(7));
        await deps.db.transaction((tx) => muteThread(tx, postId, subject));
        return 'Done: no more mail about this thread.';
      }
      await turnDigestsOff(deps.db, subject);
      return 'Done: digests are off.';
    },
  };
  actions.undo = {
    purpose: 'undo',
    title: 'Take back what was published',
    question: () => 'Remove your message from the company feed? Replies to it stay, and mail already sent is not recalled.',
    button: 'Remove it',
    act: async ({ subject, scope }) => {
      const target = await ownTarget(subject, scope);
      if (!target) return 'This was already removed.';
      await deps.db.transaction((tx) => (target.kind === 'post' ? tombstonePost(tx, target.id, false) : tombstoneComment(tx, target.id)));
      return 'Removed from the feed.';
    },
  };

  /** The post or comment a receipt link names, if it is still there and the link's person wrote it. */
  const ownTarget = async (subject: string, personId: string | undefined) => {
    const [kind, id] = subject.split(':');
    if (!id || !isUuid(id) || !personId) return null;
    const row = kind === 'post' ? await getPostRow(deps.db, id) : kind === 'comment' ? await getCommentRow(deps.db, id) : undefined;
    if (!row && kind === 'post') {
      // The post was merged into an earlier thread: its receipt's links act on the comment it became.
      const merged = (await findPostMerge(deps.db, id))?.commentId;
      const comment = merged ? await getCommentRow(deps.db, merged) : undefined;
      if (!comment || comment.deletedAt || comment.authorId !== personId) return null;
      return { kind: 'comment' as const, id: comment.id, row: comment };
    }
    if (!row || row.deletedAt || row.authorId !== personId) return null;
    return { kind: kind as 'post' | 'comment', id, row };
  };

  // "Fix": correct the published text, from the link in a receipt, without signing in.
  app.get<{ Querystring: { t?: string } }>('/links/fix', async (req, reply) => {
    const claims = verify(req.query.t ?? '', 'fix');
    const target = claims ? await ownTarget(claims.subject, claims.scope) : null;
    if (!claims || !target) return page(reply, 400, 'This link is not valid', '<p>The link has expired, or the message was removed.</p>');
    return page(
      reply,
      200,
      'Fix what was published',
      `<form method="post"><input type="hidden" name="t" value="${esc(req.query.t ?? '')}">` +
        `<p><label for="body">The text as it should read:</label></p><textarea id="body" name="body" rows="12" style="width:100%" required>${esc(target.row.bodyText)}</textarea>` +
        `<p><button type="submit">Save</button></p></form>`,
    );
  });
  app.post<{ Body: { t?: string; body?: string } }>('/links/fix', async (req, reply) => {
    const claims = verify(req.body?.t ?? '', 'fix');
    const target = claims ? await ownTarget(claims.subject, claims.scope) : null;
    if (!claims || !target) return page(reply, 400, 'This link is not valid', '<p>The link has expired, or the message was removed.</p>');
    const bodyText = cleanBody(String(req.body?.body ?? '').slice(0, 100_000));
    if (!bodyText.trim()) return page(reply, 400, 'Fix what was published', '<p>The text must not be empty.</p>');
    const bodyHtml = textToSafeHtml(bodyText);
    await deps.db.transaction(async (tx) => {
      if (target.kind === 'post') {
        const title = 'title' in target.row ? target.row.title : '';
        await editEsnPost(tx, target.id, { bodyText, bodyHtml, tags: extractTags(`${title}\n${bodyText}`), mentionedEmails: [] });
      } else {
        await editEsnComment(tx, target.id, { bodyText, bodyHtml, mentionedEmails: [] });
      }
    });
    req.log.info({ link: 'fix', kind: target.kind }, 'link action');
    return page(reply, 200, 'Fix what was published', '<p>Saved. The feed shows the corrected text, marked as edited.</p>');
  });

  for (const [path, a] of Object.entries(actions)) {
    const invalid = (reply: FastifyReply) => page(reply, 400, 'This link is not valid', '<p>The link is incomplete or has expired. Ask for a new one by mail.</p>');
    app.get<{ Querystring: { t?: string } }>(`/links/${path}`, async (req, reply) => {
      const claims = verify(req.query.t ?? '', a.purpose);
      if (!claims) return invalid(reply);
      return page(
        reply,
        200,
        a.title,
        `<p>${a.question(claims.subject)}</p><form method="post"><input type="hidden" name="t" value="${esc(req.query.t ?? '')}"><button type="submit">${esc(a.button)}</button></form>`,
      );
    });
    app.post<{ Body: { t?: string }; Querystring: { t?: string } }>(`/links/${path}`, async (req, reply) => {
      // RFC 8058 one-click: the mail client POSTs `List-Unsubscribe=One-Click` to the URL itself.
      const claims = verify(req.body?.t ?? req.query.t ?? '', a.purpose);
      if (!claims) return invalid(reply);
      const message = await a.act(claims);
      req.log.info({ link: path }, 'link action');
      return page(reply, 200, a.title, `<p>${esc(message)}</p>`);
    });
  }
}
