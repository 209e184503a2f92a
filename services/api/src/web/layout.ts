import type { FastifyReply } from 'fastify';
import type { Person } from '@blend/db';
import { html, type Html, type SafeHtml } from './html';

export interface PageContext {
  me: Person | null;
  /** The CSRF token for forms; null before login. */
  csrf: string | null;
}

/** Hidden CSRF field for every POST form. */
export const csrfField = (ctx: PageContext): SafeHtml => html`<input type="hidden" name="_csrf" value="${ctx.csrf ?? ''}">`;

function nav(ctx: PageContext, current: string): SafeHtml {
  if (!ctx.me) return html``;
  const link = (href: string, label: string) => html`<li><a href="${href}"${current === href ? html` aria-current="page"` : ''}>${label}</a></li>`;
  return html`<nav aria-label="Main"><ul>
${link('/web', 'Feed')}${link('/web/groups', 'Groups')}${link('/web/preferences', 'Preferences')}${ctx.me.isAdmin ? link('/web/admin', 'Admin') : ''}
<li><form method="post" action="/web/logout">${csrfField(ctx)}<button type="submit" class="link">Sign out</button></form></li>
</ul></nav>`;
}

/**
 * The search box of every signed-in page: a plain GET form to the results page, so it works
 * without script; `q` is what the results page searched for.
 */
function searchBox(ctx: PageContext, q: string | undefined): SafeHtml {
  if (!ctx.me) return html``;
  return html`<form class="search" method="get" action="/web/search" role="search" aria-label="Site search">
<label for="site-search" class="visually-hidden">Search posts and comments</label><input id="site-search" type="search" name="q" value="${q ?? ''}" maxlength="200" placeholder="Search" required> <button type="submit">Search</button></form>`;
}

/** A whole page: header with navigation and the search box, one `<main>` with the content. */
export function layout(ctx: PageContext, opts: { title: string; current: string; main: Html; q?: string; live?: boolean }): SafeHtml {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${opts.title} · Blend</title>
<link rel="stylesheet" href="/web/static/app.css">${opts.live ? html`
<script src="/web/static/live.js" defer></script>` : ''}
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="site"><a class="brand" href="/web">Blend</a>${ctx.me ? html`<span class="who">${ctx.me.name || ctx.me.email}</span>` : ''}${searchBox(ctx, opts.q)}${nav(ctx, opts.current)}</header>
<main id="main" tabindex="-1">
${opts.main}
</main>
</body>
</html>`;
}

/**
 * Send a rendered page, never cached. Its security headers (a CSP without inline script or
 * style) come from security-headers.ts like every other answer's.
 */
export function sendHtml(reply: FastifyReply, status: number, page: SafeHtml): FastifyReply {
  return reply
    .status(status)
    .type('text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .send(page.value);
}

/** A time as a `<time>` element in the reader's time zone, readable without script. */
export function timeTag(iso: string, timeZone: string): SafeHtml {
  const label = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'short', timeZone }).format(new Date(iso));
  return html`<time datetime="${iso}">${label}</time>`;
}
