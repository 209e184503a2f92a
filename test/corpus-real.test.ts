// The real-mail corpus: raw messages from public test fixtures of helpdesk and mail projects
// (outside the repository, see ../shared/corpus-real/README.md), each parsed and rendered as in
// production and its body compared with the text a person wrote down as what the post should
// show (test/fixtures/corpus-real/<source>/<name>.txt). Pure: no services needed.
import { describe, expect, it } from 'vitest';
import { compileRedactions, renderMailContent } from '@blend/core';
import { parseMail } from '@blend/mail';
import { normaliseText } from './fixtures/corpus/manifest';
import { corpusFiles, corpusRealDir, loadRealCorpus, readSkipped } from './fixtures/corpus-real/manifest';
import { KNOWN_FAILURES } from './fixtures/corpus-real/known-failures';

// Fails here, naming the folder it looked in, when the corpus is missing: CI has ../shared.
const dir = corpusRealDir(process.env);
const corpus = loadRealCorpus(dir);
// BLEND_REDACT's default (packages/config): what production publishes.
const redactions = compileRedactions('card,iban');

async function bodyText(raw: Buffer): Promise<string> {
  const { mail } = await parseMail(raw);
  return normaliseText(renderMailContent(mail, { redactions }).bodyText);
}

// The sources whose every message must have an expectation or a skip. Until the second batch
// of expectations is complete this is the first batch only; then every source is checked.
const COVERED_SOURCES = ['chatwoot', 'discourse', 'django-helpdesk', 'flanker', 'gitlab', 'glpi', 'horde', 'mailpile', 'mime4j', 'mimekit'];

describe('real-mail corpus', () => {
  it('gives every message an expectation or a reason in skipped.tsv, never both', () => {
    const expected = new Set(corpus.map((m) => `${m.id}.eml`));
    const skipped = readSkipped();
    const files = corpusFiles(dir).filter((f) => COVERED_SOURCES.includes(f.split('/')[0]!));
    expect(files.filter((f) => !expected.has(f) && !skipped.has(f)), 'neither expected nor skipped').toEqual([]);
    expect([...skipped.keys()].filter((f) => expected.has(f)), 'both expected and skipped').toEqual([]);
    const all = corpusFiles(dir);
    expect([...skipped.keys(), ...expected].filter((f) => !all.includes(f)), 'not in the corpus').toEqual([]);
    expect(Object.keys(KNOWN_FAILURES).filter((id) => !expected.has(`${id}.eml`)), 'known failures without an expectation').toEqual([]);
  });

  const passing = corpus.filter((m) => !m.knownFailure);
  const failing = corpus.filter((m) => m.knownFailure);

  it.each(passing.map((m) => [m.id, m] as const))('%s', async (_id, m) => {
    expect(await bodyText(m.raw)).toBe(normaliseText(m.expected));
  });

  // Known failures keep their true expectation. When one starts passing, Blend was fixed:
  // remove it from known-failures.ts.
  it.each(failing.map((m) => [m.id, m] as const))('%s still fails (known failure)', async (_id, m) => {
    expect(await bodyText(m.raw)).not.toBe(normaliseText(m.expected));
  });
});
