import type { FastifyInstance } from 'fastify';
import { isUuid, PermanentError, type Translate } from '@blend/core';
import { createApiToken, endOtherWebSessions, listApiTokens, listWebSessions, revokeApiToken, type Database } from '@blend/db';
import { TOKEN_MAX_DAYS, TOKEN_NAME_MAX } from '../routes/tokens';
import { html, type SafeHtml } from './html';
import { csrfField, sendHtml, tHtml, timeTag, type PageContext } from './layout';
import { assertCsrf } from './session';
import { pageContext, type WebDeps } from './web-deps';

/** Expiry choices of the "new token" form, in days ('' = none), with their message keys. */
const EXPIRY_CHOICES: readonly [string, string][] = [
  ['30', 'tokens.expiry.30'],
  ['90', 'tokens.expiry.90'],
  ['365', 'tokens.expiry.365'],
  ['', 'tokens.expiry.never'],
];

/** A token's value, shown once right after it was created: Blend keeps only its hash. */
export function newTokenNotice(t: Translate, name: string, token: string): SafeHtml {
  return html`<div role="status" class="notice" id="new-token"><p>${tHtml(t, 'tokens.new', { name: html`<strong>${name}</strong>` })}</p>
<p><label for="new-token-value">${t('tokens.token')}</label><input id="new-token-value" readonly value="${token}"></p></div>`;
}

/**
 * The "API tokens" and "Signed-in browsers" sections of the preferences page: a person's
 * tokens with their names, use and expiry, a form for a new one, and their live web sessions
 * (docs/SECURITY.md S1, S2).
 */
export async function accessSections(db: Database, ctx: PageContext, timeZone: string, currentSession: string | undefined): Promise<SafeHtml> {
  const me = ctx.me!;
  const { t } = ctx;
  const [tokens, sessions] = await Promise.all([listApiTokens(db, me.id), listWebSessions(db, me.id)]);
  const now = new Date();
  const when = (d: Date | null, none: string) => (d ? timeTag(d.toISOString(), timeZone, ctx.lang) : none);
  const col = (key: string) => html`<th scope="col">${t(key)}</th>`;
  const tokenRows = tokens.map(
    (k) => html`<tr><td>${k.name || t('tokens.noName')}</td><td>${when(k.createdAt, '')}</td><td>${when(k.lastUsedAt, t('tokens.never'))}</td>
<td>${k.expiresAt && k.expiresAt <= now ? html`<span class="error">${t('tokens.expired')}</span> ` : ''}${when(k.expiresAt, t('tokens.never'))}</td>
<td><form method="post" action="/web/tokens/revoke" class="inline">${csrfField(ctx)}<input type="hidden" name="id" value="${k.id}"><button type="submit" class="secondary" aria-label="${t('tokens.revoke.label', { name: k.name || t('tokens.token') })}">${t('tokens.revoke')}</button></form></td></tr>`,
  );
  const sessionRows = sessions.map(
    (s) => html`<tr><td>${s.userAgent || t('sessions.unknownBrowser')}${s.id === currentSession ? html` <span class="badge">${t('sessions.thisBrowser')}</span>` : ''}</td>
<td>${s.via === 'oidc' ? t('sessions.via.oidc') : t('sessions.via.token')}</td><td>${when(s.createdAt, '')}</td><td>${when(s.lastSeenAt, '')}</td></tr>`,
  );
  return html`<section aria-labelledby="tokens-h"><h2 id="tokens-h">${t('tokens.heading')}</h2>
<p class="hint">${tHtml(t, 'tokens.hint', { header: html`<code>Authorization: Bearer …</code>` })}</p>
${tokens.length === 0 ? html`<p>${t('tokens.none')}</p>` : html`<div class="scroll"><table><caption class="visually-hidden">${t('tokens.caption')}</caption>
<thead><tr>${col('tokens.col.name')}${col('tokens.col.created')}${col('tokens.col.lastUsed')}${col('tokens.col.expires')}<th scope="col"><span class="visually-hidden">${t('tokens.col.actions')}</span></th></tr></thead>
<tbody>${tokenRows}</tbody></table></div>`}
<form method="post" action="/web/tokens" class="narrow">${csrfField(ctx)}
<label for="token-name">${t('tokens.newName')}</label><input id="token-name" name="name" required maxlength="${TOKEN_NAME_MAX}" placeholder="${t('tokens.newName.example')}">
<label for="token-expiry">${t('tokens.expiresAfter')}</label><select id="token-expiry" name="expires_in_days">${EXPIRY_CHOICES.map(([v, key]) => html`<option value="${v}"${v === '90' ? html` selected` : ''}>${t(key)}</option>`)}</select>
<button type="submit">${t('tokens.create')}</button></form></section>
<section aria-labelledby="sessions-h"><h2 id="sessions-h">${t('sessions.heading')}</h2>
<div class="scroll"><table><caption class="visually-hidden">${t('sessions.caption')}</caption>
<thead><tr>${col('sessions.col.browser')}${col('sessions.col.via')}${col('sessions.col.since')}${col('sessions.col.lastActive')}</tr></thead>
<tbody>${sessionRows}</tbody></table></div>
${sessions.length > 1 ? html`<form method="post" action="/web/sessions/end-others">${csrfField(ctx)}<button type="submit" class="secondary">${t('sessions.endOthers')}</button></form>` : ''}</section>`;
}

/**
 * `POST /web/tokens` (create; the page is shown again with the value, once), `POST
 * /web/tokens/revoke` and `POST /web/sessions/end-others`. `render` draws the preferences page
 * with a notice on top.
 */
export function accessPages(app: FastifyInstance, deps: WebDeps & { db: Database }, render: (req: Parameters<typeof deps.auth>[0], notice: SafeHtml) => Promise<SafeHtml>): void {
  const str = { type: 'string', maxLength: 100 } as const;
  app.post<{ Body: { _csrf?: string; name: string; expires_in_days?: string } }>(
    '/web/tokens',
    {
      preHandler: deps.auth,
      schema: {
        body: {
          type: 'object',
          required: ['name'],
          additionalProperties: false,
          properties: { _csrf: str, name: { type: 'string', maxLength: TOKEN_NAME_MAX }, expires_in_days: { type: 'string', pattern: '^[0-9]{0,4}$' } },
        },
      },
    },
    async (req, reply) => {
      assertCsrf(req, deps, req.body._csrf);
      const name = req.body.name.trim();
      const days = req.body.expires_in_days ? Number(req.body.expires_in_days) : undefined;
      if (!name) throw new PermanentError('VALIDATION', 'Give the token a name, so you can tell it apart later.');
      if (days !== undefined && (days < 1 || days > TOKEN_MAX_DAYS)) throw new PermanentError('VALIDATION', `A token expires after 1 to ${TOKEN_MAX_DAYS} days, or never.`);
      const { token, info } = await createApiToken(deps.db, req.person!.id, { name, ...(days ? { expiresInDays: days } : {}), ...(req.apiTokenId ? { notAfterToken: req.apiTokenId } : {}) });
      req.log.info({ personId: req.person!.id, tokenId: info.id }, 'api token created on the web');
      return sendHtml(reply, 200, await render(req, newTokenNotice(pageContext(req, deps).t, name, token)));
    },
  );

  app.post<{ Body: { _csrf?: string; id: string } }>(
    '/web/tokens/revoke',
    { preHandler: deps.auth, schema: { body: { type: 'object', required: ['id'], additionalProperties: false, properties: { _csrf: str, id: str } } } },
    async (req, reply) => {
      assertCsrf(req, deps, req.body._csrf);
      if (!isUuid(req.body.id) || !(await revokeApiToken(deps.db, req.person!.id, req.body.id))) throw new PermanentError('NOT_FOUND', 'That token does not exist or was already revoked.');
      req.log.info({ personId: req.person!.id, tokenId: req.body.id }, 'api token revoked on the web');
      return reply.redirect('/web/preferences?saved=revoked', 303);
    },
  );

  app.post<{ Body: { _csrf?: string } }>(
    '/web/sessions/end-others',
    { preHandler: deps.auth, schema: { body: { type: 'object', additionalProperties: false, properties: { _csrf: str } } } },
    async (req, reply) => {
      assertCsrf(req, deps, req.body._csrf);
      const ended = await endOtherWebSessions(deps.db, req.person!.id, req.webSessionId);
      req.log.info({ personId: req.person!.id, ended }, 'other web sessions ended');
      return reply.redirect('/web/preferences?saved=signed-out', 303);
    },
  );
}
