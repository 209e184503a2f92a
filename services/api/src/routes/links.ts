import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { linkIssuedAt, linkStanding, verifyLink, type LinkClaims, type LinkFacts, type LinkPurpose, type LinkVoid } from '@blend/core';
import { cleanBody, escapeHtml as esc, extractTags, isUuid, PermanentError, textToSafeHtml } from '@blend/core';
import {
  addThreadOptOut,
  confirmHeld,
  editEsnComment,
  editEsnPost,
  emitCommentEvent,
  emitPostEvent,
  findPersonByEmail,
  findPersonById,
  findPostMerge,
  getCommentRow,
  getInbound,
  getPostRow,
  hasThreadOptOut,
  isThreadMuted,
  muteThread,
  releaseWithheld,
  setOptIn,
  tombstoneComment,
  tombstonePost,
  turnDigestsOff,
  upsertPerson,
  type Database,
} from '@blend/db';
import { requeueIngest, type Queues } from '@blend/queue';
import type { Logger } from '@blend/config';
import { httpStatus } from '../errors';

export interface LinkDeps {
  db: Database;
  secret: string;
  previousSecret?: string;
  queues: Pick<Queues, 'ingest'>;
  withheldRetentionDays: number;
  log: Logger;
  /** BLEND_PUBLIC_URL, for links in events. */
  publicUrl?: string;
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
  /** What the link acts on, as it is now (docs/SECURITY.md B34). */
  facts: (claims: LinkClaims) => Promise<LinkFacts>;
  /** What the page says when the link no longer does anything, and what to do instead. */
  voided: Partial<Record<LinkVoid, string>>;
  act: (claims: { subject: string; scope?: string }) => Promise<string>;
}

/** Where to go instead of a void link: said on every such page. */
const ELSEWHERE = 'You can change your choices on your <a href="/web/preferences">preferences page</a>, or by mailing Blend the word "help".';

/**
 * The page for a link that verifies but no longer serves its purpose: `done` is no error (what it
 * asks for is the case already, 200), `superseded` and `gone` are 410 Gone.
 */
function voidPage(reply: FastifyReply, why: LinkVoid, text: string): FastifyReply {
  if (why === 'done') return page(reply, 200, 'Nothing to change', `<p>${text}</p><p>${ELSEWHERE}</p>`);
  return page(reply, 410, 'This link is no longer valid', `<p>${text}</p><p>${ELSEWHERE}</p>`);
}

/**
 * A person who opened a link from a mail gets a page, not JSON, when something fails too: most
 * often too many link requests from their network (429, with Retry-After; docs/SECURITY.md B31).
 */
function linkErrorPage(err: FastifyError | PermanentError, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  const status = err instanceof PermanentError ? httpStatus(err.code) : ((err as FastifyError).statusCode ?? 500);
  if (status >= 500) req.log.error({ err }, 'link page failed');
  if (status === 429) return page(reply, 429, 'Please wait a moment', '<p>There were too many link requests from your network just now. Wait a minute, then open the link again.</p>');
  if (status >= 500) return page(reply, status, 'Something went wrong', '<p>Something went wrong on our side. Open the link again in a moment.</p>');
  return page(reply, status, 'This did not work', '<p>The request could not be handled. Open the link from the mail again.</p>');
}

/**
 * Pages behind the signed links in Blend's mails. A GET only shows what the link will do
 * and a button; the change happens on POST, so a mail scanner that follows links changes
 * nothing (docs/SECURITY.md B23). Every invalid or expired link gets the same answer.
 */
export function linkRoutes(app: FastifyInstance, deps: LinkDeps): void {
  void app.register(async (links) => {
    links.setErrorHandler(linkErrorPage);
    linkPages(links, deps);
  });
}

function linkPages(app: FastifyInstance, deps: LinkDeps): void {
  // Some mail clients send the one-click POST as multipart/form-data; its fields are not needed.
  app.addContentTypeParser('multipart/form-data', { parseAs: 'string', bodyLimit: 10_000 }, (_req, _body, done) => done(null, {}));
  const now = () => new Date();
  // Links signed with the key before the last rotation stay valid until they expire.
  const verify = (t: string, purpose: LinkPurpose) =>
    verifyLink(t, purpose, deps.secret, now()) ?? (deps.previousSecret ? verifyLink(t, purpose, deps.previousSecret, now()) : null);
  // A thread merged into an earlier one (docs/ARCHITECTURE.md "Threads and merges"): links
  // signed for it act on the thread it is part of now.
  const liveThread = async (postId: string) => (isUuid(postId) ? ((await findPostMerge(deps.db, postId))?.survivingPostId ?? postId) : postId);
  const postLive = async (postId: string) => {
    const row = isUuid(postId) ? await getPostRow(deps.db, postId) : undefined;
    return Boolean(row && !row.deletedAt);
  };
  const consentOf = async (email: string | null | undefined) => {
    const p = email ? await findPersonByEmail(deps.db, email.toLowerCase()) : undefined;
    return p ? { optIn: p.optIn, optInChangedAt: p.optInChangedAt } : null;
  };
  const actions: Record<string, LinkAction> = {
    'opt-in': {
      purpose: 'opt_in',
      title: 'Mirror my mail into the company feed',
      question: (s) => `Opt in <strong>${esc(s)}</strong>? From now on, mail you send to the bridge or in shared threads is published in the company feed.`,
      button: 'Opt in',
      facts: async ({ subject }) => ({ purpose: 'opt_in', person: await consentOf(subject) }),
      voided: {
        done: 'You are already opted in: your mail is mirrored into the company feed. Nothing was changed.',
        superseded: 'You opted out after this link was sent, so it no longer opts you in. To opt in again, mail Blend the words "opt in" and confirm with the link in its answer, or opt in on your preferences page.',
      },
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
      facts: async ({ subject }) => ({ purpose: 'unsubscribe', person: await consentOf(subject) }),
      voided: { done: 'You are not opted in: nothing you write is mirrored, and Blend does not mail you about it. Nothing was changed.' },
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
      facts: async ({ subject, scope }) => {
        const postId = scope ? await liveThread(scope) : '';
        return { purpose: 'thread_withhold', postLive: await postLive(postId), alreadyWithheld: isUuid(postId) && (await hasThreadOptOut(deps.db, postId, subject)) };
      },
      voided: {
        done: 'Your replies in this conversation are already kept out of the company feed.',
        gone: 'This conversation was removed from the company feed, so nothing you write in it is mirrored.',
      },
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
      facts: async ({ subject }) => {
        const row = isUuid(subject) ? await getInbound(deps.db, subject) : undefined;
        return { purpose: 'share_confirm', message: row ? { state: row.state, reason: row.reason } : null, author: await consentOf(row?.fromAddress) };
      },
      voided: {
        done: 'Your message was already confirmed: it is published, or about to be.',
        superseded: 'You opted out after this link was sent, so your message is not published. If you want to share it, opt in again and then use this link while it is valid.',
        gone: 'This message is no longer waiting for you: it was withdrawn, refused or is no longer kept. Send it again if you want it published.',
      },
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
    facts: async ({ subject, scope }) => {
      const found = isUuid(subject) ? await findPersonById(deps.db, subject) : undefined;
      // An erased person keeps only a placeholder row (erasePerson): nobody to unsubscribe.
      const person = found && found.email !== `erased-${found.id}@invalid` ? found : undefined;
      const thread = scope?.startsWith('thread:') ? await liveThread(scope.slice(7)) : null;
      const targetLive = thread === null || (await postLive(thread));
      const alreadyOff = !person ? false : thread === null ? person.digestFrequency === 'off' : targetLive && (await isThreadMuted(deps.db, thread, person.id));
      return { purpose: 'list_unsubscribe', personExists: Boolean(person), targetLive, alreadyOff };
    },
    voided: {
      done: 'These mails are already off.',
      gone: 'There is nothing left to unsubscribe from: the conversation was removed, or your account no longer exists.',
    },
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
    facts: async ({ subject, scope }) => ({ purpose: 'undo', targetLive: Boolean(await ownTarget(subject, scope)) }),
    voided: { gone: 'This was already removed from the feed (or is no longer yours to remove).' },
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
  const FIX_GONE = 'This message was removed from the feed, so it can no longer be fixed. Mail a new one if something needs saying.';
  const fixInvalid = (reply: FastifyReply) => page(reply, 400, 'This link is not valid', '<p>The link is incomplete or has expired. Fix links work for a while after the receipt was sent.</p>');
  app.get<{ Querystring: { t?: string } }>('/links/fix', async (req, reply) => {
    const claims = verify(req.query.t ?? '', 'fix');
    if (!claims) return fixInvalid(reply);
    const target = await ownTarget(claims.subject, claims.scope);
    if (!target) return voidPage(reply, 'gone', FIX_GONE);
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
    if (!claims) return fixInvalid(reply);
    const target = await ownTarget(claims.subject, claims.scope);
    if (!target) return voidPage(reply, 'gone', FIX_GONE);
    const bodyText = cleanBody(String(req.body?.body ?? '').slice(0, 100_000));
    if (!bodyText.trim()) return page(reply, 400, 'Fix what was published', '<p>The text must not be empty.</p>');
    const bodyHtml = textToSafeHtml(bodyText);
    await deps.db.transaction(async (tx) => {
      if (target.kind === 'post') {
        const title = 'title' in target.row ? target.row.title : '';
        await editEsnPost(tx, target.id, { bodyText, bodyHtml, tags: extractTags(`${title}\n${bodyText}`), mentionedEmails: [] });
        await emitPostEvent(tx, 'post.updated', target.id, { publicUrl: deps.publicUrl });
      } else {
        await editEsnComment(tx, target.id, { bodyText, bodyHtml, mentionedEmails: [] });
        await emitCommentEvent(tx, 'comment.updated', target.id, { publicUrl: deps.publicUrl });
      }
    });
    req.log.info({ link: 'fix', kind: target.kind }, 'link action');
    return page(reply, 200, 'Fix what was published', '<p>Saved. The feed shows the corrected text, marked as edited.</p>');
  });

  for (const [path, a] of Object.entries(actions)) {
    const invalid = (reply: FastifyReply) => page(reply, 400, 'This link is not valid', '<p>The link is incomplete or has expired. Ask for a new one by mail.</p>');
    /**
     * Why the link's purpose is void now, or null when it may act. (Not the page itself: a
     * FastifyReply is thenable, so an async function returning one would wait for it instead.)
     */
    const voidReason = async (claims: LinkClaims): Promise<LinkVoid | null> => {
      const standing = linkStanding(await a.facts(claims), linkIssuedAt(claims));
      return standing.valid ? null : standing.why;
    };
    const voided = (reply: FastifyReply, why: LinkVoid) => voidPage(reply, why, a.voided[why] ?? 'There is nothing left for this link to do.');
    app.get<{ Querystring: { t?: string } }>(`/links/${path}`, async (req, reply) => {
      const claims = verify(req.query.t ?? '', a.purpose);
      if (!claims) return invalid(reply);
      const why = await voidReason(claims);
      if (why) return voided(reply, why);
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
      // Judged again at the moment of acting: the page may have been open for a while.
      const why = await voidReason(claims);
      if (why) {
        req.log.info({ link: path, void: why }, 'void link used');
        return voided(reply, why);
      }
      const message = await a.act(claims);
      req.log.info({ link: path }, 'link action');
      return page(reply, 200, a.title, `<p>${esc(message)}</p>`);
    });
  }
}
