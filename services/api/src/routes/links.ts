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
import type { Logger } from '@blend/runtime';
import { languageOf, translator, type Language, type Translate } from '@blend/core';
import { httpStatus } from '../errors';
import { html } from '../web/html';
import { tHtml } from '../web/layout';

export interface LinkDeps {
  db: Database;
  secret: string;
  previousSecret?: string;
  queues: Pick<Queues, 'ingest'>;
  withheldRetentionDays: number;
  log: Logger;
  /** BLEND_PUBLIC_URL, for links in events. */
  publicUrl?: string;
  /** BLEND_DEFAULT_LANGUAGE: the pages' language when the browser asks for none Blend speaks. @defaultValue 'en' */
  defaultLanguage?: Language;
}

/** A link page's language: the browser's (the link may be opened anywhere), else the organisation's. */
interface Speech {
  lang: Language;
  t: Translate;
}
function speechOf(req: FastifyRequest, defaultLanguage: Language | undefined): Speech {
  const lang = languageOf(null, defaultLanguage, req.headers['accept-language'] ?? '');
  return { lang, t: translator(lang, 'web') };
}

/** A message as page text: escaped, with markup only where its placeholders are given markup. */
const said = (t: Translate, key: string, vars: Record<string, unknown> = {}) => esc(t(key, vars));


function page(reply: FastifyReply, s: Speech, status: number, title: string, body: string): FastifyReply {
  return reply
    .status(status)
    .type('text/html; charset=utf-8')
    // CSP and Referrer-Policy: security-headers.ts ("links").
    .header('cache-control', 'no-store')
    .header('vary', 'Accept-Language')
    .send(
      `<!doctype html><html lang="${s.lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">` +
        `<title>${esc(title)} · Blend</title><style>body{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;color:#1d2330}` +
        `button{font:inherit;padding:.6rem 1.2rem;border-radius:.4rem;border:0;background:#2452c4;color:#fff;cursor:pointer}</style></head>` +
        `<body><main><h1>${esc(title)}</h1>${body}</main></body></html>`,
    );
}

/** A link's texts are message keys of the `web` catalogue (`links.*`). */
interface LinkAction {
  purpose: LinkPurpose;
  title: string;
  /** The question of the page, as markup (the subject in bold). */
  question: (t: Translate, subject: string) => string;
  button: string;
  /** What the link acts on, as it is now (docs/SECURITY.md B34). */
  facts: (claims: LinkClaims) => Promise<LinkFacts>;
  /** What the page says when the link no longer does anything, and what to do instead. */
  voided: Partial<Record<LinkVoid, string>>;
  /** Does it; the answer is a message key and its values. */
  act: (claims: { subject: string; scope?: string }) => Promise<[string, Record<string, unknown>?]>;
}

/** Where to go instead of a void link: said on every such page. */
const elsewhere = (t: Translate): string => tHtml(t, 'links.elsewhere', { link: html`<a href="/web/preferences">${t('links.elsewhere.link')}</a>` }).value;

/**
 * The page for a link that verifies but no longer serves its purpose: `done` is no error (what it
 * asks for is the case already, 200), `superseded` and `gone` are 410 Gone.
 */
function voidPage(reply: FastifyReply, s: Speech, why: LinkVoid, key: string): FastifyReply {
  const body = `<p>${said(s.t, key)}</p><p>${elsewhere(s.t)}</p>`;
  if (why === 'done') return page(reply, s, 200, s.t('links.void.done'), body);
  return page(reply, s, 410, s.t('links.void.invalid'), body);
}

/**
 * A person who opened a link from a mail gets a page, not JSON, when something fails too: most
 * often too many link requests from their network (429, with Retry-After; docs/SECURITY.md B31).
 */
function linkErrorPage(err: FastifyError | PermanentError, req: FastifyRequest, reply: FastifyReply, defaultLanguage: Language | undefined): FastifyReply {
  const status = err instanceof PermanentError ? httpStatus(err.code) : ((err as FastifyError).statusCode ?? 500);
  if (status >= 500) req.log.error({ err }, 'link page failed');
  const s = speechOf(req, defaultLanguage);
  const kind = status === 429 ? 'busy' : status >= 500 ? 'failed' : 'refused';
  return page(reply, s, status, s.t(`links.error.${kind}.title`), `<p>${said(s.t, `links.error.${kind}`)}</p>`);
}

/**
 * Pages behind the signed links in Blend's mails. A GET only shows what the link will do
 * and a button; the change happens on POST, so a mail scanner that follows links changes
 * nothing (docs/SECURITY.md B23). Every invalid or expired link gets the same answer.
 */
export function linkRoutes(app: FastifyInstance, deps: LinkDeps): void {
  void app.register(async (links) => {
    links.setErrorHandler((err: FastifyError | PermanentError, req, reply) => linkErrorPage(err, req, reply, deps.defaultLanguage));
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
      title: 'links.optIn.title',
      question: (t, s) => said(t, 'links.optIn.question', { address: '\u0000' }).replace('\u0000', `<strong>${esc(s)}</strong>`),
      button: 'links.optIn.button',
      facts: async ({ subject }) => ({ purpose: 'opt_in', person: await consentOf(subject) }),
      voided: {
        done: 'links.optIn.void.done',
        superseded: 'links.optIn.void.superseded',
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
        return released.length > 0 ? ['links.optIn.doneReleased', { count: released.length }] : ['links.optIn.done'];
      },
    },
    'opt-out': {
      purpose: 'unsubscribe',
      title: 'links.optOut.title',
      question: (t, s) => said(t, 'links.optOut.question', { address: '\u0000' }).replace('\u0000', `<strong>${esc(s)}</strong>`),
      button: 'links.optOut.button',
      facts: async ({ subject }) => ({ purpose: 'unsubscribe', person: await consentOf(subject) }),
      voided: { done: 'links.optOut.void.done' },
      act: async ({ subject }) => {
        await deps.db.transaction(async (tx) => {
          const person = await findPersonByEmail(tx, subject);
          if (person && person.optIn !== 'opted_out') await setOptIn(tx, person.id, 'opted_out', 'mail', person.id);
        });
        return ['links.optOut.done'];
      },
    },
    withhold: {
      purpose: 'thread_withhold',
      title: 'links.withhold.title',
      question: (t, s) => said(t, 'links.withhold.question', { address: '\u0000' }).replace('\u0000', `<strong>${esc(s)}</strong>`),
      button: 'links.withhold.button',
      facts: async ({ subject, scope }) => {
        const postId = scope ? await liveThread(scope) : '';
        return { purpose: 'thread_withhold', postLive: await postLive(postId), alreadyWithheld: isUuid(postId) && (await hasThreadOptOut(deps.db, postId, subject)) };
      },
      voided: {
        done: 'links.withhold.void.done',
        gone: 'links.withhold.void.gone',
      },
      act: async ({ subject, scope }) => {
        if (scope) await addThreadOptOut(deps.db, await liveThread(scope), subject);
        return ['links.withhold.done'];
      },
    },
    share: {
      purpose: 'share_confirm',
      title: 'links.share.title',
      question: (t) => said(t, 'links.share.question'),
      button: 'links.share.button',
      facts: async ({ subject }) => {
        const row = isUuid(subject) ? await getInbound(deps.db, subject) : undefined;
        return { purpose: 'share_confirm', message: row ? { state: row.state, reason: row.reason } : null, author: await consentOf(row?.fromAddress) };
      },
      voided: {
        done: 'links.share.void.done',
        superseded: 'links.share.void.superseded',
        gone: 'links.share.void.gone',
      },
      act: async ({ subject }) => {
        const released = await deps.db.transaction((tx) => confirmHeld(tx, subject, 'external_participants'));
        if (released) await requeueIngest(deps.queues.ingest, subject);
        return released ? ['links.share.done'] : ['links.share.already'];
      },
    },
  };

  actions.unsubscribe = {
    purpose: 'list_unsubscribe',
    title: 'links.unsubscribe.title',
    question: (t) => said(t, 'links.unsubscribe.question'),
    button: 'links.unsubscribe.button',
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
      done: 'links.unsubscribe.void.done',
      gone: 'links.unsubscribe.void.gone',
    },
    act: async ({ subject, scope }) => {
      if (!isUuid(subject)) return ['links.unsubscribe.nothing'];
      if (scope?.startsWith('thread:') && isUuid(scope.slice(7))) {
        const postId = await liveThread(scope.slice(7));
        await deps.db.transaction((tx) => muteThread(tx, postId, subject));
        return ['links.unsubscribe.doneThread'];
      }
      await turnDigestsOff(deps.db, subject);
      return ['links.unsubscribe.doneDigests'];
    },
  };
  actions.undo = {
    purpose: 'undo',
    title: 'links.undo.title',
    question: (t) => said(t, 'links.undo.question'),
    button: 'links.undo.button',
    facts: async ({ subject, scope }) => ({ purpose: 'undo', targetLive: Boolean(await ownTarget(subject, scope)) }),
    voided: { gone: 'links.undo.void.gone' },
    act: async ({ subject, scope }) => {
      const target = await ownTarget(subject, scope);
      if (!target) return ['links.undo.already'];
      await deps.db.transaction((tx) => (target.kind === 'post' ? tombstonePost(tx, target.id, false) : tombstoneComment(tx, target.id)));
      return ['links.undo.done'];
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
  const speech = (req: FastifyRequest) => speechOf(req, deps.defaultLanguage);
  const fixInvalid = (reply: FastifyReply, s: Speech) => page(reply, s, 400, s.t('links.invalid.title'), `<p>${said(s.t, 'links.fix.invalid')}</p>`);
  app.get<{ Querystring: { t?: string } }>('/links/fix', async (req, reply) => {
    const s = speech(req);
    const claims = verify(req.query.t ?? '', 'fix');
    if (!claims) return fixInvalid(reply, s);
    const target = await ownTarget(claims.subject, claims.scope);
    if (!target) return voidPage(reply, s, 'gone', 'links.fix.gone');
    return page(
      reply,
      s,
      200,
      s.t('links.fix.title'),
      `<form method="post"><input type="hidden" name="t" value="${esc(req.query.t ?? '')}">` +
        `<p><label for="body">${said(s.t, 'links.fix.label')}</label></p><textarea id="body" name="body" rows="12" style="width:100%" required>${esc(target.row.bodyText)}</textarea>` +
        `<p><button type="submit">${said(s.t, 'common.save')}</button></p></form>`,
    );
  });
  app.post<{ Body: { t?: string; body?: string } }>('/links/fix', async (req, reply) => {
    const s = speech(req);
    const claims = verify(req.body?.t ?? '', 'fix');
    if (!claims) return fixInvalid(reply, s);
    const target = await ownTarget(claims.subject, claims.scope);
    if (!target) return voidPage(reply, s, 'gone', 'links.fix.gone');
    const bodyText = cleanBody(String(req.body?.body ?? '').slice(0, 100_000));
    if (!bodyText.trim()) return page(reply, s, 400, s.t('links.fix.title'), `<p>${said(s.t, 'links.fix.empty')}</p>`);
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
    return page(reply, s, 200, s.t('links.fix.title'), `<p>${said(s.t, 'links.fix.saved')}</p>`);
  });

  for (const [path, a] of Object.entries(actions)) {
    const invalid = (reply: FastifyReply, s: Speech) => page(reply, s, 400, s.t('links.invalid.title'), `<p>${said(s.t, 'links.invalid')}</p>`);
    /**
     * Why the link's purpose is void now, or null when it may act. (Not the page itself: a
     * FastifyReply is thenable, so an async function returning one would wait for it instead.)
     */
    const voidReason = async (claims: LinkClaims): Promise<LinkVoid | null> => {
      const standing = linkStanding(await a.facts(claims), linkIssuedAt(claims));
      return standing.valid ? null : standing.why;
    };
    const voided = (reply: FastifyReply, s: Speech, why: LinkVoid) => voidPage(reply, s, why, a.voided[why] ?? 'links.void.nothingLeft');
    app.get<{ Querystring: { t?: string } }>(`/links/${path}`, async (req, reply) => {
      const s = speech(req);
      const claims = verify(req.query.t ?? '', a.purpose);
      if (!claims) return invalid(reply, s);
      const why = await voidReason(claims);
      if (why) return voided(reply, s, why);
      return page(
        reply,
        s,
        200,
        s.t(a.title),
        `<p>${a.question(s.t, claims.subject)}</p><form method="post"><input type="hidden" name="t" value="${esc(req.query.t ?? '')}"><button type="submit">${said(s.t, a.button)}</button></form>`,
      );
    });
    app.post<{ Body: { t?: string }; Querystring: { t?: string } }>(`/links/${path}`, async (req, reply) => {
      // RFC 8058 one-click: the mail client POSTs `List-Unsubscribe=One-Click` to the URL itself.
      const s = speech(req);
      const claims = verify(req.body?.t ?? req.query.t ?? '', a.purpose);
      if (!claims) return invalid(reply, s);
      // Judged again at the moment of acting: the page may have been open for a while.
      const why = await voidReason(claims);
      if (why) {
        req.log.info({ link: path, void: why }, 'void link used');
        return voided(reply, s, why);
      }
      const [message, vars] = await a.act(claims);
      req.log.info({ link: path }, 'link action');
      return page(reply, s, 200, s.t(a.title), `<p>${said(s.t, message, vars)}</p>`);
    });
  }
}
