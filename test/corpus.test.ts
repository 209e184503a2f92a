// The conversion corpus (test/fixtures/corpus): every message parsed and rendered as in
// production (parseMail, then renderMailContent with the default BLEND_REDACT), and its body
// compared with the expected text. Pure: no services needed.
import { describe, expect, it } from 'vitest';
import { compileRedactions, renderMailContent } from '@blend/core';
import { parseMail } from '@blend/mail';
import { loadCorpus, normaliseText } from './fixtures/corpus/manifest';

const corpus = loadCorpus();
// BLEND_REDACT's default (packages/config): what production publishes.
const redactions = compileRedactions('card,iban');

async function bodyText(raw: Buffer): Promise<string> {
  const { mail } = await parseMail(raw);
  return normaliseText(renderMailContent(mail, { redactions }).bodyText);
}

describe('conversion corpus', () => {
  it('is large and varied enough to mean something', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(200);
    const clients = new Set(corpus.map((m) => m.client));
    const languages = new Set(corpus.map((m) => m.language));
    expect(clients.size).toBeGreaterThanOrEqual(11);
    expect([...languages].sort()).toEqual(['de', 'en', 'es', 'fr', 'it', 'ja', 'nl', 'pl', 'pt', 'ru', 'sv', 'zh']);
    for (const kind of ['top-post', 'inline', 'forward', 'signature', 'disclaimer', 'html', 'plain', 'charset']) {
      expect(corpus.filter((m) => m.tags.includes(kind)).length, kind).toBeGreaterThan(5);
    }
  });

  const passing = corpus.filter((m) => !m.known_failure);
  const failing = corpus.filter((m) => m.known_failure);

  it.each(passing.map((m) => [m.file, m] as const))('%s', async (_file, m) => {
    expect(await bodyText(m.raw)).toBe(normaliseText(m.body_text));
  });

  // Known failures stay in the corpus with their true expectation. When one starts passing,
  // Blend was fixed: remove it from known-failures.ts and regenerate the manifest.
  it.each(failing.map((m) => [m.file, m] as const))('%s still fails (known failure)', async (_file, m) => {
    expect(await bodyText(m.raw)).not.toBe(normaliseText(m.body_text));
  });
});
