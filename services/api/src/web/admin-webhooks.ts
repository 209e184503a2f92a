import type { FastifyInstance } from 'fastify';
import { PermanentError, type Translate } from '@blend/core';
import { listWebhooksWithDeliveries, redeliver } from '@blend/db';
import { html, type SafeHtml } from './html';
import { csrfField, tHtml, timeTag, type PageContext } from './layout';
import { assertCsrf } from './session';
import type { WebDeps } from './web-deps';

type HookView = Awaited<ReturnType<typeof listWebhooksWithDeliveries>>[number];

/** How many of each hook's latest deliveries the admin page shows. */
export const DELIVERIES_SHOWN = 10;

const filterText = (t: Translate, f: HookView['filter']): string => {
  const parts = [...(f?.groups?.length ? [t('webhooks.filter.groups', { groups: f.groups.join(', ') })] : []), ...(f?.origin ? [t('webhooks.filter.origin', { origin: f.origin })] : [])];
  return parts.length ? parts.join('; ') : t('webhooks.filter.everything');
};

/** The admin page's webhook section: each hook, its latest deliveries and their state, with a "Redeliver" button each. */
export function webhooksSection(ctx: PageContext, hooks: HookView[], redelivered: string | undefined): SafeHtml {
  const tz = ctx.me?.timezone ?? 'UTC';
  const { t } = ctx;
  const col = (key: string) => html`<th scope="col">${t(key)}</th>`;
  const notice = redelivered
    ? html`<p role="status" class="notice">${redelivered === 'yes' ? t('webhooks.redelivered.yes') : t('webhooks.redelivered.no')}</p>`
    : '';
  const hookBlock = (h: HookView) => html`<h3>${h.url}</h3>
<p>${t('webhooks.summary', { format: h.format, events: h.events.join(', '), filter: filterText(t, h.filter) })}${h.active ? '' : ` ${t('webhooks.inactive')}`}</p>
${
  h.deliveries.length === 0
    ? html`<p>${t('webhooks.noDeliveries')}</p>`
    : html`<div class="scroll"><table><caption class="visually-hidden">${t('webhooks.caption', { url: h.url })}</caption>
<thead><tr>${col('webhooks.col.created')}${col('webhooks.col.event')}${col('admin.col.state')}${col('webhooks.col.attempts')}${col('webhooks.col.lastAnswer')}<th scope="col"></th></tr></thead>
<tbody>${h.deliveries.slice(0, DELIVERIES_SHOWN).map(
        (d) => html`<tr><td>${timeTag(d.created_at, tz, ctx.lang)}</td><td>${d.event}</td><td><span class="state state-${d.state}">${d.state}</span></td><td>${d.attempts}</td><td>${
          d.last_status !== null ? `HTTP ${d.last_status}` : (d.last_error ?? '')
        }</td><td><form method="post" action="/web/admin/webhooks/deliveries/${d.id}/redeliver" class="inline">${csrfField(ctx)}<button type="submit" class="secondary" aria-label="${t('webhooks.redeliver.label', { event: d.event })}">${t('webhooks.redeliver')}</button></form></td></tr>`,
      )}</tbody></table></div>`
}`;
  return html`<section aria-labelledby="webhooks-h"><h2 id="webhooks-h">${t('webhooks.heading')}</h2>${notice}
${hooks.length === 0 ? html`<p>${tHtml(t, 'webhooks.none', { endpoint: html`<code>POST /api/v1/admin/webhooks</code>` })}</p>` : hooks.map(hookBlock)}</section>`;
}

/** `POST /web/admin/webhooks/deliveries/:id/redeliver`: a new pending delivery of the same event (CSRF-checked, admins only). */
export function adminWebhookPages(app: FastifyInstance, deps: WebDeps): void {
  app.post<{ Params: { id: string }; Body: { _csrf?: string } }>(
    '/web/admin/webhooks/deliveries/:id/redeliver',
    { preHandler: deps.auth, schema: { params: { type: 'object', properties: { id: { type: 'string', format: 'uuid' } } }, body: { type: 'object', additionalProperties: false, properties: { _csrf: { type: 'string' } } } } },
    async (req, reply) => {
      assertCsrf(req, deps, req.body?._csrf);
      if (!req.person!.isAdmin) throw new PermanentError('FORBIDDEN', 'this needs the admin role');
      const id = await redeliver(deps.db, req.params.id);
      req.log.info({ deliveryId: req.params.id, newDeliveryId: id }, 'webhook redelivery from the admin page');
      return reply.redirect(`/web/admin?redelivered=${id ? 'yes' : 'no'}#webhooks-h`, 303);
    },
  );
}
