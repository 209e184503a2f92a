import type { FastifyRequest } from 'fastify';
import type { Logger } from '@blend/runtime';
import { languageOf, translator, type Addressing, type Language } from '@blend/core';
import type { Database } from '@blend/db';
import type { Queues } from '@blend/queue';
import type { PageContext } from './layout';
import type { OidcClient, OidcSettings } from './oidc-client';
import type { UploadSettings } from '../uploads';
import { csrfToken, sessionSecret } from './session';

/** What the web pages need; a subset of AppDeps plus the session preHandler. */
export interface WebDeps {
  db: Database;
  /** BLEND_SECRET: keys the CSRF tokens. */
  secret: string;
  publicUrl?: string;
  queues: Pick<Queues, 'ingest'>;
  withheldRetentionDays: number;
  log: Logger;
  activity?: { coalesceMs?: number; correctionWindowMs?: number };
  /** BLEND_OIDC_*: single sign-on, when configured. */
  oidc?: OidcSettings;
  /** The IdP client made from `oidc`, shared by the login page and the callback. */
  oidcClient?: OidcClient;
  /** Blend's addresses: the group pages show each group's mail address. */
  addressing: Addressing;
  /** BLEND_GROUP_CREATION: who may create groups. @defaultValue 'admins' */
  groupCreation?: 'admins' | 'everyone';
  /** Files attached in the web composer (uploads.ts). @defaultValue DEFAULT_ATTACHMENT_LIMITS, no scanning */
  uploads?: UploadSettings;
  /** BLEND_DEFAULT_LANGUAGE: the pages' language for a person who chose none and a browser that asks for none we speak. @defaultValue 'en' */
  defaultLanguage?: Language;
  /** preHandler that loads the session's person or sends the browser to /web/login. */
  auth: (req: FastifyRequest) => Promise<void>;
}

/**
 * The page's language: the signed-in person's choice, else the browser's `Accept-Language`,
 * else the organisation's default.
 */
export function pageLanguage(req: FastifyRequest, defaultLanguage: Language = 'en'): Language {
  return languageOf(req.person, defaultLanguage, req.headers['accept-language'] ?? '');
}

export function pageContext(req: FastifyRequest, deps: Pick<WebDeps, 'secret' | 'defaultLanguage'>): PageContext {
  const session = sessionSecret(req);
  const lang = pageLanguage(req, deps.defaultLanguage);
  return { me: req.person ?? null, csrf: session ? csrfToken(deps.secret, session) : null, lang, t: translator(lang, 'web') };
}

/** Where to go after a form: only a path of our own pages, never another site. */
export function safeReturnTo(value: string | undefined, fallback: string): string {
  return value && /^\/(?:web|admin\/queues)(?:[/?#][^\s\\]*)?$/.test(value) && !value.startsWith('//') ? value : fallback;
}
