import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import helmet, { type FastifyHelmetOptions } from '@fastify/helmet';

type Directives = Record<string, string[]>;

/**
 * The JSON API and anything not named below: a JSON answer never needs to load, run or
 * frame anything, so nothing is allowed.
 */
const API: Directives = {
  'default-src': ["'none'"],
  'base-uri': ["'none'"],
  'form-action': ["'none'"],
  'frame-ancestors': ["'none'"],
};

/** The web pages: no inline script or style anywhere, everything comes from this origin. */
const WEB: Directives = {
  'default-src': ["'self'"],
  'base-uri': ["'none'"],
  'form-action': ["'self'"],
  'frame-ancestors': ["'none'"],
  'object-src': ["'none'"],
};

/** The pages behind the signed links in mails: one inline stylesheet, a form posting to itself. */
const LINKS: Directives = {
  'default-src': ["'none'"],
  'style-src': ["'unsafe-inline'"],
  'base-uri': ["'none'"],
  'form-action': ["'self'"],
  'frame-ancestors': ["'none'"],
};

/**
 * The one inline stylesheet Swagger UI writes: the colours of the logo in its top bar (an SVG
 * with a `<style>` element). Allowed by its hash rather than with 'unsafe-inline'; should a
 * new Swagger UI change it, the browser test reports the violation.
 */
const SWAGGER_LOGO_STYLE = '.logo_small_svg__cls-2{fill:#fff}.logo_small_svg__cls-3{fill:#85ea2d}';
const sha256Source = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

/**
 * Swagger UI at /docs: its scripts and CSS are files of this origin, its icons are `data:`
 * images, and it fetches the OpenAPI document from here. Verified in Chromium with no
 * violation reported (test `test/security-headers.test.ts`).
 */
const DOCS: Directives = {
  'default-src': ["'self'"],
  'script-src': ["'self'"],
  'style-src': ["'self'", sha256Source(SWAGGER_LOGO_STYLE)],
  'img-src': ["'self'", 'data:'],
  'connect-src': ["'self'"],
  'base-uri': ["'none'"],
  'form-action': ["'self'"],
  'frame-ancestors': ["'none'"],
  'object-src': ["'none'"],
};

/**
 * The BullMQ dashboard: its `<base href>` needs `base-uri 'self'` and its markup has inline
 * styles. The Google Fonts stylesheet it links is left blocked on purpose (no third-party
 * requests from an admin page; it falls back to system fonts).
 */
const DASHBOARD: Directives = {
  'default-src': ["'self'"],
  'script-src': ["'self'"],
  'style-src': ["'self'", "'unsafe-inline'"],
  'img-src': ["'self'", 'data:'],
  'font-src': ["'self'", 'data:'],
  'connect-src': ["'self'"],
  'base-uri': ["'self'"],
  'form-action': ["'self'"],
  'frame-ancestors': ["'none'"],
  'object-src': ["'none'"],
};

/** Stored files and raw mail: downloads that must never run as a page of this origin. */
const DOWNLOAD: Directives = { 'default-src': ["'none'"], sandbox: [] };

export type HeaderArea = 'api' | 'web' | 'links' | 'docs' | 'dashboard' | 'download';

const AREAS: Record<HeaderArea, { csp: Directives; referrer: 'no-referrer' | 'same-origin' }> = {
  api: { csp: API, referrer: 'no-referrer' },
  web: { csp: WEB, referrer: 'same-origin' },
  // A signed link's token is in its URL: never send it on as a Referer.
  links: { csp: LINKS, referrer: 'no-referrer' },
  docs: { csp: DOCS, referrer: 'no-referrer' },
  dashboard: { csp: DASHBOARD, referrer: 'same-origin' },
  download: { csp: DOWNLOAD, referrer: 'no-referrer' },
};

/** The routes that send a stored file or a raw mail, in the API and on the web pages. */
const DOWNLOADS = /^\/(api\/v1|web)\/(attachments\/[^/]+|admin\/inbound\/[^/]+\/source)$/;

/** Which policy a route gets, by its URL pattern (the one place that decides it). */
export function headerArea(url: string): HeaderArea {
  if (DOWNLOADS.test(url)) return 'download';
  if (url === '/' || url === '/web' || url.startsWith('/web/')) return 'web';
  if (url.startsWith('/links/')) return 'links';
  if (url === '/docs' || url.startsWith('/docs/')) return 'docs';
  if (url === '/admin/queues' || url.startsWith('/admin/queues/')) return 'dashboard';
  return 'api';
}


/** Helmet's options for one area; HSTS only when Blend is reached over https. */
export function helmetOptions(area: HeaderArea, https: boolean): FastifyHelmetOptions {
  const { csp, referrer } = AREAS[area];
  return {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: https && area !== 'download' ? { ...csp, 'upgrade-insecure-requests': [] } : csp,
    },
    // HSTS over plain http would be ignored by browsers and would break a trial on http://.
    strictTransportSecurity: https ? { maxAge: 31_536_000, includeSubDomains: false } : false,
    referrerPolicy: { policy: referrer },
    xFrameOptions: { action: 'deny' },
    // Allow the ESN's own web front end, on another origin, to read API answers it fetched with CORS.
    crossOriginResourcePolicy: { policy: area === 'api' ? 'same-site' : 'same-origin' },
  };
}

/**
 * Security headers on every answer, through one helmet registration (docs/SECURITY.md B30):
 * each route gets its area's policy when it is added, so no handler sets these headers itself.
 * Call before any route is registered.
 */
export function registerSecurityHeaders(app: FastifyInstance, opts: { publicUrl?: string }): void {
  const https = opts.publicUrl?.startsWith('https:') ?? false;
  app.addHook('onRoute', (route) => {
    const area = headerArea(route.url ?? '');
    if (area === 'api') return;
    route.config = Object.assign(route.config ?? {}, { helmet: helmetOptions(area, https) });
  });
  void app.register(helmet, helmetOptions('api', https));
}
