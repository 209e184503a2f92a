import type { FastifyInstance, FastifyRequest } from 'fastify';
import { LANGUAGE_NAMES, LANGUAGES, type Translate } from '@blend/core';
import { DIGEST_FREQUENCIES, getPreferences, releaseWithheld, setOptIn, type Person, type Preferences } from '@blend/db';
import { requeueIngest } from '@blend/queue';
import { savePreferences } from '../routes/esn-preferences';
import { html, type SafeHtml } from './html';
import { csrfField, layout, sendHtml, type PageContext } from './layout';
import { assertCsrf } from './session';
import { accessPages, accessSections } from './tokens-section';
import { pageContext, type WebDeps } from './web-deps';

/** What `?saved=` on the preferences page confirms (message keys `prefs.saved.*`). */
const SAVED = ['1', 'revoked', 'signed-out'] as const;

/** Weekday names in the page's language, Monday first (2024-01-01 was a Monday). */
const weekdays = (lang: string): string[] =>
  Array.from({ length: 7 }, (_, i) => new Intl.DateTimeFormat(lang, { weekday: 'long', timeZone: 'UTC' }).format(new Date(Date.UTC(2024, 0, 1 + i))));

const ZONES: readonly string[] = Intl.supportedValuesOf('timeZone');

/**
 * The language of Blend's pages and mail: a form of its own, saved like `language` in
 * PUT /api/v1/me/preferences. Each language is named in itself; "automatic" leaves it to
 * the browser on the web and to the organisation's default in mail.
 */
function languageForm(ctx: PageContext, p: Preferences): SafeHtml {
  const { t } = ctx;
  return html`<section aria-labelledby="language-h"><h2 id="language-h">${t('prefs.language.heading')}</h2>
<form method="post" action="/web/preferences/language" class="narrow">${csrfField(ctx)}
<label for="language">${t('prefs.language.label')}</label>
<select id="language" name="language"><option value=""${p.language === null ? html` selected` : ''}>${t('prefs.language.automatic')}</option>${LANGUAGES.map(
    (l) => html`<option value="${l}" lang="${l}"${l === p.language ? html` selected` : ''}>${LANGUAGE_NAMES[l]}</option>`,
  )}</select>
<p class="hint">${t('prefs.language.hint')}</p>
<button type="submit">${t('prefs.language.save')}</button></form></section>`;
}

function checkbox(name: keyof Preferences, label: string, on: boolean): SafeHtml {
  return html`<label class="check"><input type="checkbox" name="${name}" value="on"${on ? html` checked` : ''}> ${label}</label>`;
}

function prefsForm(ctx: PageContext, p: Preferences): SafeHtml {
  const { t } = ctx;
  const zones = ZONES.includes(p.timezone) ? ZONES : [p.timezone, ...ZONES];
  return html`<section aria-labelledby="digest-h"><h2 id="digest-h">${t('prefs.digest.heading')}</h2>
<form method="post" action="/web/preferences">${csrfField(ctx)}
<label>${t('prefs.digest.frequency')} <select name="digest_frequency">${DIGEST_FREQUENCIES.map(
    (f) => html`<option value="${f}"${f === p.digest_frequency ? html` selected` : ''}>${t(`prefs.frequency.${f}`)}</option>`,
  )}</select></label>
<label>${t('prefs.digest.time')} <input type="time" name="digest_time" value="${p.digest_time}" required></label>
<label>${t('prefs.digest.weekday')} <select name="digest_weekday">${weekdays(ctx.lang).map(
    (d, i) => html`<option value="${String(i + 1)}"${i + 1 === p.digest_weekday ? html` selected` : ''}>${d}</option>`,
  )}</select></label>
<label>${t('prefs.digest.timezone')} <select name="timezone">${zones.map((z) => html`<option${z === p.timezone ? html` selected` : ''}>${z}</option>`)}</select></label>
<fieldset><legend>${t('prefs.mailMe')}</legend>
${checkbox('notify_mentions', t('prefs.mailMe.mentions'), p.notify_mentions)}
${checkbox('notify_replies', t('prefs.mailMe.replies'), p.notify_replies)}
${checkbox('receipts', t('prefs.mailMe.receipts'), p.receipts)}
</fieldset>
<fieldset><legend>${t('prefs.quiet')}</legend>
<label>${t('prefs.quiet.from')} <input type="time" name="quiet_start" value="${p.quiet_start}"></label>
<label>${t('prefs.quiet.until')} <input type="time" name="quiet_end" value="${p.quiet_end}"></label>
</fieldset>
<button type="submit">${t('prefs.save')}</button></form></section>`;
}

function optInSection(ctx: PageContext, me: Person): SafeHtml {
  const { t } = ctx;
  const next = me.optIn === 'opted_in' ? 'opted_out' : 'opted_in';
  return html`<section aria-labelledby="optin-h"><h2 id="optin-h">${t('prefs.optIn.heading')}</h2>
<p>${t(`prefs.optIn.state.${me.optIn}`)}</p>
<form method="post" action="/web/opt-in">${csrfField(ctx)}<input type="hidden" name="state" value="${next}">
<button type="submit">${next === 'opted_in' ? t('prefs.optIn.optIn') : t('prefs.optIn.optOut')}</button></form></section>`;
}

/** Opt in or out, releasing withheld mail on opt-in (the same effect as PUT /api/v1/me/opt-in). */
async function changeOptIn(deps: WebDeps, me: Person, state: 'opted_in' | 'opted_out'): Promise<number> {
  const since = new Date(Date.now() - deps.withheldRetentionDays * 86_400_000);
  const released = await deps.db.transaction(async (tx) => {
    if (me.optIn !== state) await setOptIn(tx, me.id, state, 'api', me.id);
    return state === 'opted_in' ? releaseWithheld(tx, me.email, since) : [];
  });
  for (const id of released) {
    await requeueIngest(deps.queues.ingest, id).catch((err: unknown) => deps.log.warn({ err, inboundId: id }, 'enqueue failed; left to the reconciler'));
  }
  return released.length;
}

/** `GET|POST /web/preferences` and `POST /web/opt-in`. */
export function preferencePages(app: FastifyInstance, deps: WebDeps): void {
  const render = async (req: FastifyRequest, notice: SafeHtml | ''): Promise<SafeHtml> => {
    const ctx = pageContext(req, deps);
    const me = ctx.me!;
    const prefs = (await getPreferences(deps.db, me.id))!;
    const main = html`<h1>${ctx.t('prefs.title')}</h1>${notice}
${languageForm(ctx, prefs)}${optInSection(ctx, me)}${prefsForm(ctx, prefs)}${await accessSections(deps.db, ctx, prefs.timezone, req.webSessionId)}`;
    return layout(ctx, { title: ctx.t('prefs.title'), current: '/web/preferences', main });
  };

  app.get<{ Querystring: { saved?: (typeof SAVED)[number] } }>(
    '/web/preferences',
    { preHandler: deps.auth, schema: { querystring: { type: 'object', additionalProperties: false, properties: { saved: { type: 'string', enum: [...SAVED] } } } } },
    async (req, reply) => {
      const t: Translate = pageContext(req, deps).t;
      const notice = req.query.saved ? html`<p role="status" class="notice">${t(`prefs.saved.${req.query.saved}`)}</p>` : '';
      return sendHtml(reply, 200, await render(req, notice));
    },
  );
  accessPages(app, deps, render);

  const str = { type: 'string', maxLength: 64 } as const;
  app.post<{ Body: { _csrf?: string; digest_frequency: string; digest_time: string; timezone: string; notify_mentions?: 'on'; notify_replies?: 'on'; receipts?: 'on'; digest_weekday?: string; quiet_start?: string; quiet_end?: string } }>(
    '/web/preferences',
    {
      preHandler: deps.auth,
      schema: {
        body: {
          type: 'object',
          required: ['digest_frequency', 'digest_time', 'timezone'],
          additionalProperties: false,
          properties: {
            _csrf: str,
            digest_frequency: { type: 'string', enum: [...DIGEST_FREQUENCIES] },
            digest_time: { type: 'string', pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$' },
            timezone: str,
            notify_mentions: { type: 'string', enum: ['on'] },
            notify_replies: { type: 'string', enum: ['on'] },
            receipts: { type: 'string', enum: ['on'] },
            digest_weekday: { type: 'string', pattern: '^[1-7]$' },
            quiet_start: { type: 'string', pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$' },
            quiet_end: { type: 'string', pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$' },
          },
        },
      },
    },
    async (req, reply) => {
      assertCsrf(req, deps, req.body._csrf);
      const b = req.body;
      const before = (await getPreferences(deps.db, req.person!.id))!;
      const receipts = b.receipts === 'on';
      // An unticked checkbox is simply absent from the form. Receipts count as chosen only
      // when the box changed (the default covers only the first few published mails).
      await savePreferences(deps.db, req.person!.id, {
        digest_frequency: b.digest_frequency,
        digest_time: b.digest_time,
        timezone: b.timezone,
        notify_mentions: b.notify_mentions === 'on',
        notify_replies: b.notify_replies === 'on',
        ...(receipts !== before.receipts ? { receipts } : {}),
        ...(b.digest_weekday ? { digest_weekday: Number(b.digest_weekday) } : {}),
        ...(b.quiet_start ? { quiet_start: b.quiet_start } : {}),
        ...(b.quiet_end ? { quiet_end: b.quiet_end } : {}),
      });
      return reply.redirect('/web/preferences?saved=1', 303);
    },
  );

  app.post<{ Body: { _csrf?: string; language: string } }>(
    '/web/preferences/language',
    {
      preHandler: deps.auth,
      schema: { body: { type: 'object', required: ['language'], additionalProperties: false, properties: { _csrf: str, language: { type: 'string', enum: ['', ...LANGUAGES] } } } },
    },
    async (req, reply) => {
      assertCsrf(req, deps, req.body._csrf);
      // '' is "automatic": null, as `"language": null` in the API.
      const language = req.body.language === '' ? null : req.body.language;
      await savePreferences(deps.db, req.person!.id, { language });
      return reply.redirect('/web/preferences?saved=1', 303);
    },
  );

  app.post<{ Body: { _csrf?: string; state: 'opted_in' | 'opted_out' } }>(
    '/web/opt-in',
    {
      preHandler: deps.auth,
      schema: { body: { type: 'object', required: ['state'], additionalProperties: false, properties: { _csrf: str, state: { type: 'string', enum: ['opted_in', 'opted_out'] } } } },
    },
    async (req, reply) => {
      assertCsrf(req, deps, req.body._csrf);
      const released = await changeOptIn(deps, req.person!, req.body.state);
      req.log.info({ personId: req.person!.id, state: req.body.state, released }, 'opt-in changed on the web');
      return reply.redirect('/web/preferences?saved=1', 303);
    },
  );
}
