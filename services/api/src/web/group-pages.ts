import type { FastifyInstance } from 'fastify';
import { bridgeAddress, judgeGroupAction, type Addressing, type GroupCreation } from '@blend/core';
import { encodeCursor, FEED_LIMIT_DEFAULT, listFeedFiltered, listGroupMembers, listGroupsWithCounts, type GroupSummary } from '@blend/db';
import { parseCursor } from '../routes/esn-feed';
import { changeGroupAs, createGroupAs, groupSummaryFor, loadGroupFor, setMembership, setOthersMembership } from '../routes/group-actions';
import { BODY_MAX, TITLE_MAX } from '../routes/esn-schemas';
import { html, type SafeHtml } from './html';
import { csrfField, layout, sendHtml, tHtml, type PageContext } from './layout';
import { postCard } from './post-view';
import { assertCsrf } from './session';
import { pageContext, type WebDeps } from './web-deps';

/** What the group pages need besides the web's deps. */
export interface GroupPageDeps extends WebDeps {
  addressing: Addressing;
  /** BLEND_GROUP_CREATION. @defaultValue 'admins' */
  groupCreation?: GroupCreation;
}

const groupHref = (slug: string) => `/web/groups/${encodeURIComponent(slug)}`;
const actor = (ctx: PageContext) => ({ isAdmin: ctx.me!.isAdmin, optedIn: ctx.me!.optIn === 'opted_in' });

function badges(ctx: PageContext, g: GroupSummary): SafeHtml {
  const { t } = ctx;
  return html`${g.visibility === 'private' ? html` <span class="badge">${t('groups.private')}</span>` : ''}${g.archivedAt ? html` <span class="badge">${t('groups.archived')}</span>` : ''}`;
}

function createForm(ctx: PageContext): SafeHtml {
  const { t } = ctx;
  return html`<section class="composer" aria-labelledby="create-h"><h2 id="create-h">${t('groups.new')}</h2>
<form method="post" action="/web/groups">${csrfField(ctx)}
<label>${t('groups.slug')} <input name="slug" required maxlength="63" pattern="[a-z0-9][a-z0-9._\\-]{0,62}" placeholder="design"></label>
<label>${t('groups.name')} <input name="name" maxlength="100" placeholder="${t('groups.name.example')}"></label>
<label>${t('groups.description')} <textarea name="description" rows="2" maxlength="2000"></textarea></label>
<fieldset><legend>${t('groups.visibility')}</legend>
<label class="check"><input type="radio" name="visibility" value="public" checked> ${t('groups.visibility.public')}</label>
<label class="check"><input type="radio" name="visibility" value="private"> ${t('groups.visibility.private')}</label>
</fieldset>
<button type="submit">${t('groups.create')}</button></form></section>`;
}

/** Join or leave, as a form that works without script. */
function membershipForm(ctx: PageContext, g: GroupSummary): SafeHtml {
  const { t } = ctx;
  const facts = { visibility: g.visibility, archived: g.archivedAt !== null, role: g.myRole };
  if (g.myRole) {
    return html`<form method="post" action="${groupHref(g.slug)}/membership" class="inline">${csrfField(ctx)}<input type="hidden" name="member" value="off"><button type="submit">${t('groups.leave')}</button></form>`;
  }
  if (!judgeGroupAction('join', actor(ctx), facts, 'admins').ok) {
    const why = g.archivedAt ? t('groups.cannotJoin.archived') : g.visibility === 'private' ? t('groups.cannotJoin.private') : t('groups.cannotJoin.optIn');
    return html`<p class="hint">${why}</p>`;
  }
  return html`<form method="post" action="${groupHref(g.slug)}/membership" class="inline">${csrfField(ctx)}<input type="hidden" name="member" value="on"><button type="submit">${t('groups.join')}</button></form>`;
}

function manageForms(ctx: PageContext, g: GroupSummary): SafeHtml {
  const facts = { visibility: g.visibility, archived: g.archivedAt !== null, role: g.myRole };
  if (!judgeGroupAction('manage', actor(ctx), facts, 'admins').ok) return html``;
  const { t } = ctx;
  return html`<section aria-labelledby="manage-h"><h2 id="manage-h">${t('groups.manage')}</h2>
<form method="post" action="${groupHref(g.slug)}/settings">${csrfField(ctx)}
<label>${t('groups.name')} <input name="name" required maxlength="100" value="${g.name}"></label>
<label>${t('groups.description')} <textarea name="description" rows="2" maxlength="2000">${g.description}</textarea></label>
<button type="submit">${t('common.save')}</button></form>
<form method="post" action="${groupHref(g.slug)}/settings" class="inline">${csrfField(ctx)}<input type="hidden" name="archived" value="${g.archivedAt ? 'false' : 'true'}">
<button type="submit">${g.archivedAt ? t('groups.unarchive') : t('groups.archive')}</button></form>
<form method="post" action="${groupHref(g.slug)}/members" class="inline">${csrfField(ctx)}<input type="hidden" name="action" value="add">
<label>${t('groups.addPerson')} <input name="person" type="email" required maxlength="320"></label> <button type="submit">${t('groups.add')}</button></form>
</section>`;
}

function memberList(ctx: PageContext, g: GroupSummary, members: { id: string; email: string; name: string; role: string }[]): SafeHtml {
  const manages = judgeGroupAction('manage', actor(ctx), { visibility: g.visibility, archived: g.archivedAt !== null, role: g.myRole }, 'admins').ok;
  const { t } = ctx;
  return html`<section aria-labelledby="members-h"><h2 id="members-h">${t('groups.members.heading', { count: members.length })}</h2>
${members.length === 0 ? html`<p>${t('groups.members.none')}</p>` : html`<ul class="members">${members.map(
    (m) => html`<li>${m.name || m.email}${m.role === 'owner' ? html` <span class="badge">${t('groups.owner')}</span>` : ''}${
      manages && m.id !== ctx.me!.id
        ? html` <form method="post" action="${groupHref(g.slug)}/members" class="inline">${csrfField(ctx)}<input type="hidden" name="action" value="remove"><input type="hidden" name="person" value="${m.id}"><button type="submit" class="link">${t('groups.remove')}</button></form>`
        : ''
    }</li>`,
  )}</ul>`}</section>`;
}

/** `GET /web/groups`, `GET /web/groups/:slug` and their forms (create, join/leave, settings, members). */
export function groupPages(app: FastifyInstance, deps: GroupPageDeps): void {
  const creation = deps.groupCreation ?? 'admins';

  app.get('/web/groups', { preHandler: deps.auth }, async (req, reply) => {
    const ctx = pageContext(req, deps);
    const groups = await listGroupsWithCounts(deps.db, ctx.me!);
    const canCreate = judgeGroupAction('create', actor(ctx), null, creation).ok;
    const { t } = ctx;
    const main = html`<h1>${t('groups.title')}</h1>
<ul class="groups">${groups.map(
      (g) => html`<li><a href="${groupHref(g.slug)}">${g.name}</a>${badges(ctx, g)} <span class="hint">${t('groups.memberCount', { count: g.memberCount })}${g.myRole ? ` · ${t('groups.youAreMember')}` : ''}</span>${g.description ? html`<p>${g.description}</p>` : ''}</li>`,
    )}</ul>
${canCreate ? createForm(ctx) : ''}`;
    return sendHtml(reply, 200, layout(ctx, { title: t('groups.title'), current: '/web/groups', main }));
  });

  app.get<{ Params: { slug: string }; Querystring: { cursor?: string } }>(
    '/web/groups/:slug',
    { preHandler: deps.auth, schema: { querystring: { type: 'object', additionalProperties: false, properties: { cursor: { type: 'string', maxLength: 200 } } } } },
    async (req, reply) => {
      const ctx = pageContext(req, deps);
      // A private group is "Not found" to an outsider, as a group that does not exist.
      const { group } = await loadGroupFor(deps.db, req.params.slug, ctx.me!);
      const g = await groupSummaryFor(deps.db, group, ctx.me!);
      const [page, members] = await Promise.all([
        listFeedFiltered(deps.db, { limit: FEED_LIMIT_DEFAULT, comments: 0, cursor: parseCursor(req.query.cursor), filter: { group: g.slug }, viewerId: ctx.me!.id }),
        listGroupMembers(deps.db, g.id),
      ]);
      const address = bridgeAddress(deps.addressing, { kind: 'group', slug: g.slug });
      const canPost = !g.archivedAt && ctx.me!.optIn === 'opted_in' && (g.visibility === 'public' || g.myRole);
      const { t } = ctx;
      const main = html`<h1>${g.name}${badges(ctx, g)}</h1>
${g.description ? html`<p class="description">${g.description}</p>` : ''}
<p>${tHtml(t, 'groups.address', { address: html`<a href="mailto:${address}">${address}</a>` })}${g.visibility === 'private' ? html` <span class="hint">${t('groups.address.membersOnly')}</span>` : ''}</p>
${membershipForm(ctx, g)}
${canPost
  ? html`<section class="composer" aria-labelledby="compose-h"><h2 id="compose-h">${t('composer.headingIn', { group: g.name })}</h2>
<form method="post" action="/web/posts">${csrfField(ctx)}<input type="hidden" name="group" value="${g.slug}">
<label>${t('composer.title')} <input name="title" maxlength="${TITLE_MAX}"></label>
<label>${t('composer.body')} <textarea name="body" rows="3" maxlength="${BODY_MAX}" required></textarea></label>
<button type="submit">${t('composer.post')}</button></form></section>`
  : ''}
<section aria-labelledby="posts-h"><h2 id="posts-h">${t('feed.posts')}</h2>
${page.items.length === 0 ? html`<p>${t('feed.empty')}</p>` : page.items.map((p) => postCard(ctx, p, req.url))}
${page.next ? html`<nav aria-label="${t('pages.label')}" class="pages"><a rel="next" href="${groupHref(g.slug)}?cursor=${encodeURIComponent(encodeCursor(page.next))}">${t('pages.older')}</a></nav>` : ''}
</section>
${memberList(ctx, g, members)}
${manageForms(ctx, g)}`;
      return sendHtml(reply, 200, layout(ctx, { title: g.name, current: '/web/groups', main }));
    },
  );

  const formBody = (props: Record<string, object>, required: string[] = []) => ({
    body: { type: 'object', required, additionalProperties: false, properties: { _csrf: { type: 'string' }, ...props } },
  });

  app.post<{ Body: { _csrf?: string; slug: string; name?: string; description?: string; visibility?: 'public' | 'private' } }>(
    '/web/groups',
    { preHandler: deps.auth, schema: formBody({ slug: { type: 'string', maxLength: 63 }, name: { type: 'string', maxLength: 100 }, description: { type: 'string', maxLength: 2000 }, visibility: { type: 'string', enum: ['public', 'private'] } }, ['slug']) },
    async (req, reply) => {
      assertCsrf(req, deps, req.body._csrf);
      const { _csrf, ...input } = req.body;
      void _csrf;
      const g = await createGroupAs(deps, req.person!, input);
      return reply.redirect(groupHref(g.slug), 303);
    },
  );

  app.post<{ Params: { slug: string }; Body: { _csrf?: string; member: 'on' | 'off' } }>(
    '/web/groups/:slug/membership',
    { preHandler: deps.auth, schema: formBody({ member: { type: 'string', enum: ['on', 'off'] } }, ['member']) },
    async (req, reply) => {
      assertCsrf(req, deps, req.body._csrf);
      await setMembership(deps, req.person!, req.params.slug, req.body.member === 'on');
      // Leaving a private group: its page is no longer there for me.
      const { group } = await loadGroupFor(deps.db, req.params.slug, req.person!).catch(() => ({ group: null }));
      return reply.redirect(group ? groupHref(req.params.slug) : '/web/groups', 303);
    },
  );

  app.post<{ Params: { slug: string }; Body: { _csrf?: string; name?: string; description?: string; archived?: 'true' | 'false' } }>(
    '/web/groups/:slug/settings',
    { preHandler: deps.auth, schema: formBody({ name: { type: 'string', maxLength: 100 }, description: { type: 'string', maxLength: 2000 }, archived: { type: 'string', enum: ['true', 'false'] } }) },
    async (req, reply) => {
      assertCsrf(req, deps, req.body._csrf);
      const { name, description, archived } = req.body;
      await changeGroupAs(deps, req.person!, req.params.slug, {
        ...(name !== undefined ? { name } : {}),
        ...(description !== undefined ? { description } : {}),
        ...(archived !== undefined ? { archived: archived === 'true' } : {}),
      });
      return reply.redirect(groupHref(req.params.slug), 303);
    },
  );

  app.post<{ Params: { slug: string }; Body: { _csrf?: string; action: 'add' | 'remove'; person: string } }>(
    '/web/groups/:slug/members',
    { preHandler: deps.auth, schema: formBody({ action: { type: 'string', enum: ['add', 'remove'] }, person: { type: 'string', minLength: 1, maxLength: 320 } }, ['action', 'person']) },
    async (req, reply) => {
      assertCsrf(req, deps, req.body._csrf);
      await setOthersMembership(deps, req.person!, req.params.slug, req.body.person, req.body.action === 'add');
      return reply.redirect(`${groupHref(req.params.slug)}#members-h`, 303);
    },
  );
}
