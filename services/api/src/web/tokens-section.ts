import type { FastifyInstance } from 'fastify';
import { isUuid, PermanentError } from '@blend/core';
import { createApiToken, endOtherWebSessions, listApiTokens, listWebSessions, revokeApiToken, type Database } from '@blend/db';
import { TOKEN_MAX_DAYS, TOKEN_NAME_MAX } from '../routes/tokens';
import { html, type SafeHtml } from './html';
import { csrfField, sendHtml, timeTag, type PageContext } from './layout';
import { assertCsrf } from './session';
import type { WebDeps } from './web-deps';

/** Expiry choices of the "new token" form, in days ('' = none). */
const EXPIRY_CHOICES: readonly [string, string][] = [
  ['30', '30 days'],
  ['90', '90 days'],
  ['365', 'a year'],
  ['', 'never (until revoked)'],
];

/** A token's value, shown once right after it was created: Blend keeps only its hash. */
export function newTokenNotice(name: string, token: string): SafeHtml {
  return html`<div role="status" class="notice" id="new-token"><p>Your new token <strong>${name}</strong>. Copy it now: Blend keeps only a fingerprint of it and cannot show it again.</p>
<p><label for="new-token-value">Token</label><input id="new-token-value" readonly value="${token}"></p></div>`;
}

/**
 * The "API tokens" and "Signed-in browsers" sections of the preferences page: a person's
 * tokens with their names, use and expiry, a form for a new one, and their live web sessions
 * (docs/SECURITY.md S1, S2).
 */
export async function accessSections(db: Database, ctx: PageContext, timeZone: string, currentSession: string | undefined): Promise<SafeHtml> {
  const me = ctx.me!;
  const [tokens, sessions] = await Promise.all([listApiTokens(db, me.id), listWebSessions(db, me.id)]);
  const now = new Date();
  const when = (d: Date | null, none: string) => (d ? timeTag(d.toISOString(), timeZone) : none);
  const tokenRows = tokens.map(
    (t) => html`<tr><td>${t.name || '(no name)'}</td><td>${when(t.createdAt, '')}</td><td>${when(t.lastUsedAt, 'never')}</td>
<td>${t.expiresAt && t.expiresAt <= now ? html`<span class="error">expired</span> ` : ''}${when(t.expiresAt, 'never')}</td>
<td><form method="post" action="/web/tokens/revoke" class="inline">${csrfField(ctx)}<input type="hidden" name="id" value="${t.id}"><button type="submit" class="secondary" aria-label="Revoke ${t.name || 'token'}">Revoke</button></form></td></tr>`,
  );
  const sessionRows = sessions.map(
    (s) => html`<tr><td>${s.userAgent || 'Unknown browser'}${s.id === currentSession ? html` <span class="badge">this browser</span>` : ''}</td>
<td>${s.via === 'oidc' ? 'company account' : 'token'}</td><td>${when(s.createdAt, '')}</td><td>${when(s.lastSeenAt, '')}</td></tr>`,
  );
  return html`<section aria-labelledby="tokens-h"><h2 id="tokens-h">API tokens</h2>
<p class="hint">For scripts and other programs using Blend's API (<code>Authorization: Bearer …</code>). Revoking one also signs out browsers that signed in with it.</p>
${tokens.length === 0 ? html`<p>You have no API tokens.</p>` : html`<div class="scroll"><table><caption class="visually-hidden">Your API tokens</caption>
<thead><tr><th scope="col">Name</th><th scope="col">Created</th><th scope="col">Last used</th><th scope="col">Expires</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
<tbody>${tokenRows}</tbody></table></div>`}
<form method="post" action="/web/tokens" class="narrow">${csrfField(ctx)}
<label for="token-name">Name of a new token</label><input id="token-name" name="name" required maxlength="${TOKEN_NAME_MAX}" placeholder="e.g. laptop script">
<label for="token-expiry">Expires after</label><select id="token-expiry" name="expires_in_days">${EXPIRY_CHOICES.map(([v, label]) => html`<option value="${v}"${v === '90' ? html` selected` : ''}>${label}</option>`)}</select>
<button type="submit">Create token</button></form></section>
<section aria-labelledby="sessions-h"><h2 id="sessions-h">Signed-in browsers</h2>
<div class="scroll"><table><caption class="visually-hidden">Browsers signed in as you</caption>
<thead><tr><th scope="col">Browser</th><th scope="col">Signed in with</th><th scope="col">Since</th><th scope="col">Last active</th></tr></thead>
<tbody>${sessionRows}</tbody></table></div>
${sessions.length > 1 ? html`<form method="post" action="/web/sessions/end-others">${csrfField(ctx)}<button type="submit" class="secondary">Sign out all other browsers</button></form>` : ''}</section>`;
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
      return sendHtml(reply, 200, await render(req, newTokenNotice(name, token)));
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
