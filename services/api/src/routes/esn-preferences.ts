import type { FastifyInstance } from 'fastify';
import { LANGUAGES, PermanentError } from '@blend/core';
import { DIGEST_FREQUENCIES, getPreferences, updatePreferences, type Database, type Preferences } from '@blend/db';
import { requirePerson } from '../auth';
import { errors } from './esn-responses';
import { BEARER } from './esn-schemas';

/** True for an IANA zone name this runtime knows (the digest job formats times with it). */
export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch (err) {
    if (err instanceof RangeError) return false;
    throw err;
  }
}

export const preferenceProperties = {
  digest_frequency: { type: 'string', enum: [...DIGEST_FREQUENCIES] },
  digest_time: { type: 'string', pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$', description: 'HH:MM, local time' },
  timezone: { type: 'string', minLength: 1, maxLength: 64, description: 'IANA name, e.g. Europe/Berlin' },
  notify_mentions: { type: 'boolean' },
  notify_replies: { type: 'boolean' },
  receipts: { type: 'boolean', description: 'a receipt after each published mail (by default only for the first few)' },
  digest_weekday: { type: 'integer', minimum: 1, maximum: 7, description: 'weekday of weekly digests, 1 = Monday' },
  quiet_start: { type: 'string', pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$', description: 'HH:MM local; notifications wait until quiet_end' },
  quiet_end: { type: 'string', pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$', description: 'HH:MM local; equal to quiet_start = no quiet hours' },
  language: { type: ['string', 'null'], enum: [...LANGUAGES, null], description: "language of Blend's mail and pages; null = the organisation's default (and on the web, the browser's)" },
} as const;

const preferencesView = { type: 'object', required: Object.keys(preferenceProperties), properties: preferenceProperties, description: 'All my preferences' } as const;

/** Validate and store; shared with the web preferences page. */
export async function savePreferences(db: Database, personId: string, changes: Partial<Preferences>): Promise<Preferences> {
  if (changes.timezone !== undefined && !isTimeZone(changes.timezone)) throw new PermanentError('VALIDATION', `unknown time zone ${changes.timezone}`);
  const prefs = await updatePreferences(db, personId, changes);
  if (!prefs) throw new PermanentError('NOT_FOUND', 'no such person');
  return prefs;
}

/**
 * `GET|PUT /api/v1/me/preferences`: digests and notifications. Anyone with a token may
 * change them, opted in or not (turning digests off must always be possible).
 */
export function esnPreferenceRoutes(app: FastifyInstance, deps: { db: Database }): void {
  const auth = requirePerson(deps.db);
  app.get(
    '/api/v1/me/preferences',
    { preHandler: auth, schema: { tags: ['me'], summary: 'My digest and notification preferences', security: BEARER, response: { 200: preferencesView, ...errors(401) } } },
    async (req) => {
      const prefs = await getPreferences(deps.db, req.person!.id);
      if (!prefs) throw new PermanentError('NOT_FOUND', 'no such person');
      return prefs;
    },
  );

  app.put<{ Body: Partial<Preferences> }>(
    '/api/v1/me/preferences',
    {
      preHandler: auth,
      schema: {
        tags: ['me'],
        summary: 'Change some preferences; the others stay',
        security: BEARER,
        body: { type: 'object', additionalProperties: false, minProperties: 1, properties: preferenceProperties },
        response: { 200: preferencesView, ...errors(400, 401) },
      },
    },
    async (req) => savePreferences(deps.db, req.person!.id, req.body),
  );
}
