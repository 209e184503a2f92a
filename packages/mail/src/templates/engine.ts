import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { escapeHtml, replySubject as coreReplySubject, subjectLine } from '@blend/core';
import { formatDateTime, translator, type Language } from '@blend/core';
import Handlebars from 'handlebars';
import { IANAZone } from 'luxon';

/**
 * The template machinery behind the Blend mails (issue "Back to email").
 *
 * Each mail is an MJML body with Handlebars placeholders plus a Handlebars plain-text
 * template. MJML is slow (tens of ms per document), so {@link compileAll} turns every MJML
 * layout into HTML once per process and compiles that HTML with Handlebars; a mail is then
 * rendered by Handlebars alone, in microseconds. The compiled templates are a process-wide
 * cache rather than a `deps` object because they are pure functions of the source code.
 */

/** A rendered mail, ready for nodemailer. */
export interface RenderedMail {
  subject: string;
  html: string;
  text: string;
  /** The language it is written in, for its `Content-Language` header (RFC 3282). */
  language: Language;
}

/** What every mail's view carries for the layout (title, preview line, footer). */
export interface LayoutView {
  subject: string;
  /** The preview line inboxes show after the subject. */
  preview: string;
  /** "Reply to this mail to …" when a reply address applies, else null. */
  replyHint: string | null;
  preferencesUrl: string;
  unsubscribeUrl: string | null;
  /** Lines for the plain-text footer before the reply hint, e.g. "View the thread: URL". */
  textFooterLines: string[];
  /** The recipient's language: the `{{t}}` helper's and the document's. */
  lang: Language;
}

/** Our own Handlebars environment, so helpers never leak into other users of the library. */
const hbs = Handlebars.create();

/**
 * `{{href url}}`: a link target, attribute-escaped. Only http(s) and mailto survive;
 * anything else (a `javascript:` URL from a bad config or row) becomes `#`.
 */
hbs.registerHelper('href', (url: unknown) => {
  const s = typeof url === 'string' ? url.trim() : '';
  return new hbs.SafeString(/^(?:https?:\/\/|mailto:)/i.test(s) ? escapeHtml(s) : '#');
});

/** `{{br text}}`: HTML-escaped text with its line breaks kept as `<br>`. */
hbs.registerHelper('br', (text: unknown) => {
  const escaped = hbs.Utils.escapeExpression(typeof text === 'string' ? text : '');
  return new hbs.SafeString(escaped.replace(/\r\n?|\n/g, '<br>\n'));
});

/**
 * `{{t 'key' name=value}}`: a message of the mail catalogue in the view's `lang` (escaped
 * like any other value). One compiled template serves every language.
 */
hbs.registerHelper('t', (key: unknown, options: Handlebars.HelperOptions) => {
  const root = options.data?.root as { lang?: Language } | undefined;
  return translator(root?.lang ?? 'en', 'mail')(String(key), options.hash as Record<string, unknown>);
});

const BRAND = '#0b5cad';
const MUTED = '#59636e';

/** The document around every mail body: head, attributes, and the footer. */
const layout = (body: string) => `<mjml lang="en">
  <mj-head>
    <mj-title>{{subject}}</mj-title>
    <mj-preview>{{preview}}</mj-preview>
    <mj-attributes>
      <mj-all font-family="Segoe UI, Helvetica, Arial, sans-serif" />
      <mj-text font-size="15px" line-height="1.5" color="#1f2328" padding="4px 24px" />
      <mj-section padding="0" />
      <mj-button background-color="${BRAND}" color="#ffffff" font-size="15px" border-radius="4px" inner-padding="10px 18px" padding="6px 24px" align="left" />
      <mj-divider border-width="1px" border-color="#d0d7de" padding="14px 24px" />
      <mj-class name="muted" color="${MUTED}" font-size="13px" />
    </mj-attributes>
    <mj-style>
      a { color: ${BRAND}; }
      .quote { border-left: 3px solid #d0d7de; padding-left: 12px; }
    </mj-style>
  </mj-head>
  <mj-body background-color="#ffffff" width="600px">
    <mj-section padding="12px 0">
      <mj-column>
${body}
      </mj-column>
    </mj-section>
    <mj-section padding="8px 0 16px 0">
      <mj-column>
        <mj-divider />
        <mj-text mj-class="muted">
          {{#if replyHint}}<p style="margin:0 0 6px 0;">{{replyHint}}</p>{{/if}}
          <p style="margin:0;">{{t 'footer.sentBy'}} <a href="{{href preferencesUrl}}" style="color:${MUTED};">{{t 'footer.preferences'}}</a>{{#if unsubscribeUrl}} · <a href="{{href unsubscribeUrl}}" style="color:${MUTED};">{{t 'footer.unsubscribe'}}</a>{{/if}}</p>
        </mj-text>
      </mj-column>
    </mj-section>
  </mj-body>
</mjml>`;

/** Plain-text footer, after the RFC 3676 signature delimiter so replies leave it out. */
const TEXT_FOOTER = `

-- 
{{#each textFooterLines}}
{{this}}
{{/each}}
{{#if replyHint}}
{{replyHint}}
{{/if}}
{{t 'footer.sentBy'}}
{{t 'common.labelled' label=(t 'footer.preferences') value=preferencesUrl}}
{{#if unsubscribeUrl}}
{{t 'common.labelled' label=(t 'footer.unsubscribe') value=unsubscribeUrl}}
{{/if}}
`;

interface Entry {
  name: string;
  mjmlBody: string;
  text: string;
  /** Set by {@link compileAll}; until then rendering throws. */
  html?: HandlebarsTemplateDelegate;
  plain?: HandlebarsTemplateDelegate;
}

const entries: Entry[] = [];
let compiling: Promise<void> | null = null;

/** Compiles a Handlebars source now (`compile()` would defer the work to the first render). */
function compileNow(source: string, options: PrecompileOptions): HandlebarsTemplateDelegate {
  // precompile() returns the template as JavaScript source; this is how Handlebars itself
  // turns it into functions.
  const spec = hbs.precompile(source, options) as unknown as string;
  return hbs.template(new Function(`return ${spec}`)() as TemplateSpecification);
}

/**
 * A mail template: `mjmlBody` goes inside the layout's single column (use `<mj-raw>` around
 * block helpers that span MJML elements), `text` is the plain-text part without footer.
 * Returns the renderer, usable once {@link compileAll} has resolved.
 */
export function defineTemplate<V extends LayoutView>(name: string, mjmlBody: string, text: string): (view: V) => RenderedMail {
  const entry: Entry = { name, mjmlBody, text };
  entries.push(entry);
  return (view) => {
    if (!entry.html || !entry.plain) {
      throw new Error(`Mail template '${name}' is not compiled yet: await warmTemplates() at startup before rendering mail`);
    }
    return {
      subject: view.subject,
      html: entry.html(view),
      text: tidyText(entry.plain(view)),
      language: view.lang,
    };
  };
}

/**
 * Converts every defined template's MJML to HTML and compiles it, once per process (the
 * promise is memoised; a failure is not, so a later call retries). Throws when an MJML
 * layout does not validate.
 */
export function compileAll(): Promise<void> {
  compiling ??= (async () => {
    const converted = await convertTemplates(prebuiltTemplates());
    for (const entry of entries) {
      // Indentation after a newline is never significant in this markup, and Gmail clips
      // mails over 102 KB, so drop it.
      // The document's language is the recipient's: MJML writes `lang` once, Handlebars fills it per mail.
      const html = converted[documentKey(layout(entry.mjmlBody))]!.replace(/\n\s+/g, '\n').replace('<html lang="en"', '<html lang="{{lang}}"');
      entry.html = compileNow(html, { strict: true });
      entry.plain = compileNow(entry.text + TEXT_FOOTER, { strict: true, noEscape: true });
    }
  })().catch((err: unknown) => {
    compiling = null;
    throw err;
  });
  return compiling;
}

/** The key of an MJML document in {@link convertTemplates}' result: its SHA-256. */
const documentKey = (document: string) => createHash('sha256').update(document).digest('hex');

/** Where `pnpm build` leaves the converted templates: next to the built program. */
const PREBUILT = new URL('./mail-templates.json', import.meta.url);

/**
 * The templates `pnpm build` converted (dist/mail-templates.json), so that production
 * processes never load MJML; none when running from source.
 */
function prebuiltTemplates(): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(PREBUILT, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw err;
  }
  return JSON.parse(text) as Record<string, string>;
}

/**
 * Every defined template's MJML layout converted to HTML, keyed by the SHA-256 of the MJML
 * document: those in `known` are taken from it (a changed template has another key), the
 * rest are converted by MJML. `pnpm build` writes the result to dist/mail-templates.json.
 */
export async function convertTemplates(known: Record<string, string> = {}): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const missing = new Map<string, string>();
  for (const entry of entries) {
    const document = layout(entry.mjmlBody);
    const key = documentKey(document);
    if (known[key] !== undefined) out[key] = known[key];
    else missing.set(key, document);
  }
  if (missing.size > 0) {
    const html = await mjmlInThread([...missing.values()]);
    [...missing.keys()].forEach((key, i) => (out[key] = html[i]!));
  }
  return out;
}

/**
 * MJML to HTML for each document, in a worker thread that exits afterwards: MJML and its
 * dependencies (tens of megabytes once loaded) are needed once per process, at start-up, and
 * should not stay in the memory of a long-running worker. Rejects when a document does not
 * validate or the thread fails.
 */
function mjmlInThread(documents: string[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const thread = new Worker(new URL('./mjml-thread.mjs', import.meta.url), { workerData: { documents } });
    let result: string[] | null = null;
    thread.once('message', (html: string[]) => (result = html));
    thread.once('error', reject);
    thread.once('exit', (code) => {
      if (result && result.length === documents.length) resolve(result);
      else reject(new Error(`MJML conversion thread exited with code ${code} before returning ${documents.length} documents`));
    });
  });
}

/** Squeezes the blank lines that optional template sections leave behind. */
function tidyText(s: string): string {
  return `${s.replace(/\n{3,}/g, '\n\n').trim()}\n`;
}

/**
 * A header-safe, single-line subject: control characters (CR and LF included) and line
 * separators become spaces, whitespace runs collapse, and the result is capped (core).
 */
export const oneLine = subjectLine;

/** "Re: <title>" by core's one subject rule, with the placeholder for no title in `lang`. */
export function replySubject(title: string, lang: Language = 'en'): string {
  return coreReplySubject(title, translator(lang, 'mail')('common.noSubject'));
}

/** `“title”` for running text (in the quotation marks of `lang`), with a placeholder for an empty title. */
export function quoted(title: string, lang: Language = 'en'): string {
  const t = translator(lang, 'mail');
  return t('common.quoted', { title: oneLine(title) || t('common.untitled') });
}

/** A display name, or a neutral word when there is none. */
export const nameOr = (name: string, fallback?: string, lang: Language = 'en') => oneLine(name) || (fallback ?? translator(lang, 'mail')('common.someone'));

/** "1 thread" / "3 threads". */
export const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/**
 * A formatter for times in `timezone` (an unknown zone falls back to UTC) and `lang`, e.g.
 * "Mon 5 Jan, 14:30" or "Mo., 5. Jan., 14:30" (core formatDateTime, which caches its Intl
 * formats: a digest formats many times).
 */
export function timeFormatter(timezone: string | undefined, lang: Language = 'en'): (at: Date) => string {
  const zone = zoneLabel(timezone);
  return (at) => formatDateTime(lang, at, zone);
}

/**
 * The zone name we actually format in, for a "Times are in …" line. IANAZone.create caches
 * its zones (and their validity); IANAZone.isValidZone builds a DateTimeFormat every call.
 */
export const zoneLabel = (timezone: string | undefined) => (timezone && IANAZone.create(timezone).isValid ? timezone : 'UTC');

/**
 * A mailto: URI for `address` (RFC 6068): the address keeps `+` and `@` literally (some
 * clients do not decode `%2B` in the local part), everything unusual is percent-encoded.
 */
export function mailtoUri(address: string, subject?: string): string {
  const to = address.replace(/[^A-Za-z0-9\-._~!$'()*+,;:@]/g, (c) => encodeURIComponent(c));
  return `mailto:${to}${subject ? `?subject=${encodeURIComponent(subject)}` : ''}`;
}
