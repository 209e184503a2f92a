// The real-mail corpus: raw messages from public test fixtures of helpdesk and mail projects
// (kept outside the repository: BLEND_CORPUS_REAL, by default ../shared/corpus-real), each parsed and rendered as in
// production and its body compared with the text a person wrote down as what the post should
// show (test/fixtures/corpus-real/<source>/<name>.txt). Pure: no services needed.
import { describe, expect, it } from 'vitest';
import { compileRedactions, renderMailContent } from '@blend/core';
import { parseMail } from '@blend/mail';
import { normaliseText } from './fixtures/corpus/manifest';
import { corpusFiles, corpusRealDir, loadRealCorpus, readSkipped } from './fixtures/corpus-real/manifest';
import { KNOWN_FAILURES } from './fixtures/corpus-real/known-failures';

// Fails here, naming the folder it looked in, when the corpus is missing.
const dir = corpusRealDir(process.env);
const corpus = loadRealCorpus(dir);
// BLEND_REDACT's default (packages/config): what production publishes.
const redactions = compileRedactions('card,iban');

async function bodyText(raw: Buffer): Promise<string> {
  const { mail } = await parseMail(raw);
  return normaliseText(renderMailContent(mail, { redactions }).bodyText);
}

describe('real-mail corpus', () => {
  it('gives every message an expectation or a reason in skipped.tsv, never both', () => {
    const expected = new Set(corpus.map((m) => `${m.id}.eml`));
    const skipped = readSkipped();
    const files = corpusFiles(dir);
    expect(files.filter((f) => !expected.has(f) && !skipped.has(f)), 'neither expected nor skipped').toEqual([]);
    expect([...skipped.keys()].filter((f) => expected.has(f)), 'both expected and skipped').toEqual([]);
    expect([...skipped.keys(), ...expected].filter((f) => !files.includes(f)), 'not in the corpus').toEqual([]);
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
