import type { FastifyReply } from 'fastify';
import { formatDateTime, type Language, type Translate } from '@blend/core';
import type { Person } from '@blend/db';
import { html, SafeHtml, type Html } from './html';

export interface PageContext {
  me: Person | null;
  /** The CSRF token for forms; null before login. */
  csrf: string | null;
  /** The page's language (`pageLanguage` in web-deps.ts). */
  lang: Language;
  /** The `web` messages in {@link lang}; unescaped text, so only ever interpolated through `html`. */
  t: Translate;
}

/** A stand-in for a markup placeholder while the message around it is translated and escaped. */
const slot = (i: number) => `\u0000${i}\u0000`;

/**
 * A message with markup in it ("To post, {{optIn}}", the placeholder a link): the message is
 * escaped as text, then each `{{name}}` of `parts` is replaced by its markup (escaped by `html`
 * too when it is text). `count` picks the plural form and is shown as a number.
 */
export function tHtml(t: Translate, key: string, parts: Record<string, Html>, count?: number): SafeHtml {
  const names = Object.keys(parts);
  const text = t(key, { ...Object.fromEntries(names.map((n, i) => [n, slot(i)])), ...(count === undefined ? {} : { count }) });
  const escaped = html`${text}`.value;
  return new SafeHtml(escaped.replace(/\u0000(\d+)\u0000/g, (_, i: string) => html`${parts[names[Number(i)]!]}`.value));
}

/** Hidden CSRF field for every POST form. */
export const csrfField = (ctx: PageContext): SafeHtml => html`<input type="hidden" name="_csrf" value="${ctx.csrf ?? ''}">`;

function nav(ctx: PageContext, current: string): SafeHtml {
  if (!ctx.me) return html``;
  const { t } = ctx;
  const link = (href: string, label: string) => html`<li><a href="${href}"${current === href ? html` aria-current="page"` : ''}>${label}</a></li>`;
  return html`<nav aria-label="${t('nav.label')}"><ul>
${link('/web', t('nav.feed'))}${link('/web/groups', t('nav.groups'))}${link('/web/preferences', t('nav.preferences'))}${ctx.me.isAdmin ? link('/web/admin', t('nav.admin')) : ''}
<li><form method="post" action="/web/logout">${csrfField(ctx)}<button type="submit" class="link">${t('nav.signOut')}</button></form></li>
</ul></nav>`;
}

/**
 * The search box of every signed-in page: a plain GET form to the results page, so it works
 * without script; `q` is what the results page searched for.
 */
function searchBox(ctx: PageContext, q: string | undefined): SafeHtml {
  if (!ctx.me) return html``;
  const { t } = ctx;
  return html`<form class="search" method="get" action="/web/search" role="search" aria-label="${t('search.boxLabel')}">
<label for="site-search" class="visually-hidden">${t('search.fieldLabel')}</label><input id="site-search" type="search" name="q" value="${q ?? ''}" maxlength="200" placeholder="${t('search.placeholder')}" required> <button type="submit">${t('search.button')}</button></form>`;
}

/** A whole page: header with navigation and the search box, one `<main>` with the content. */
export function layout(ctx: PageContext, opts: { title: string; current: string; main: Html; q?: string; live?: boolean; compose?: boolean }): SafeHtml {
  return html`<!doctype html>
<html lang="${ctx.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${opts.title} · Blend</title>
<link rel="stylesheet" href="/web/static/app.css">${opts.live ? html`
<script src="/web/static/live.js" defer></script>` : ''}${opts.compose ? html`
<script src="/web/static/compose.js" defer></script>` : ''}
</head>
<body>
<a class="skip" href="#main">${ctx.t('layout.skip')}</a>
<header class="site"><a class="brand" href="/web">Blend</a>${ctx.me ? html`<span class="who">${ctx.me.name || ctx.me.email}</span>` : ''}${searchBox(ctx, opts.q)}${nav(ctx, opts.current)}</header>
<main id="main" tabindex="-1">
${opts.main}
</main>
</body>
</html>`;
}

/**
 * Send a rendered page, never cached. Its security headers (a CSP without inline script or
 * style) come from security-headers.ts like every other answer's. Its language may come
 * from the browser's `Accept-Language` (RFC 9110 §12.5.5: named in `Vary`).
 */
export function sendHtml(reply: FastifyReply, status: number, page: SafeHtml): FastifyReply {
  return reply
    .status(status)
    .type('text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .header('vary', 'Accept-Language')
    .send(page.value);
}

/** A time as a `<time>` element in the reader's time zone and language, readable without script. */
export function timeTag(iso: string, timeZone: string, lang: Language): SafeHtml {
  const label = formatDateTime(lang, new Date(iso), timeZone, 'medium');
  return html`<time datetime="${iso}">${label}</time>`;
}
