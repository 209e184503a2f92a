import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// docs/ARCHITECTURE.md and docs/SECURITY.md describe the code as it is: every file they name in
// backticks exists, and every function or constant they place "in `a file`" is in that file. A
// move or a rename that forgets the page fails here, naming what the page still says.
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DOCS = ['docs/ARCHITECTURE.md', 'docs/SECURITY.md'];
/** This file, whose examples are no citations. */
const SELF = path.relative(ROOT, fileURLToPath(import.meta.url)).split(path.sep).join('/');
const SKIP_DIRS = new Set(['node_modules', '.git', 'dist', 'coverage']);
const FILE = /^[\w@-][\w.@-]*(?:\/[\w.@-]+)*\.(?:ts|mts|mjs|js|sh|sql|json|ya?ml|md|css|html|eml|tsv|txt|conf)$/;
const NAME = /^[A-Za-z_$][\w$]*$/;

/** Every file below `dir`, relative to the repository root with `/`. */
function walk(dir = ''): string[] {
  return readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = dir ? `${dir}/${e.name}` : e.name;
    if (e.isDirectory()) return SKIP_DIRS.has(e.name) ? [] : walk(rel);
    return [rel];
  });
}

/**
 * The file a backticked span names, or null when it names none: a path with an extension, a
 * `path:line` reference counted as its path; URLs and routes (a leading `/`), globs,
 * placeholders, build output and anything outside the repository are not files here.
 */
export function fileReference(span: string): string | null {
  const s = span.replace(/:\d+(?:-\d+)?$/, '');
  if (!FILE.test(s) || s.startsWith('dist/')) return null;
  return s;
}

/**
 * The files a reference may mean: a path from the root (its first folder exists at the root) is
 * that one file; a bare or partial name (`parse-task.ts`, `jobs/notify.ts`), named in the prose
 * of the part it belongs to, is any file whose path ends with it.
 */
export function candidates(ref: string, all: readonly string[]): string[] {
  const first = ref.split('/')[0]!;
  if (ref.includes('/') && existsSync(path.join(ROOT, first))) return all.includes(ref) ? [ref] : [];
  return all.filter((f) => f === ref || f.endsWith(`/${ref}`));
}

/** `name`, `name()` or `a`, `b` and `c` placed "in `place`", as the pages write it. */
export function placedNames(text: string): { names: string[]; place: string }[] {
  const out: { names: string[]; place: string }[] = [];
  const re = /((?:`[A-Za-z_$][\w$]*(?:\(\))?`(?:,\s*|\s+and\s+|\s+or\s+)?)+)\s+in\s+`([^`\n]+)`/g;
  for (const m of text.matchAll(re)) {
    const names = [...m[1]!.matchAll(/`([^`]+)`/g)].map((n) => n[1]!.replace(/\(\)$/, '')).filter((n) => NAME.test(n));
    out.push({ names, place: m[2]! });
  }
  return out;
}

/**
 * A span that names a function, type or constant of the code: `camelCase`, `PascalCase` of two
 * words or more, `CONSTANT_CASE` (settings included), optionally called (`name()`). Plain words,
 * states and columns (`posted`, `next_digest_at`) are prose here.
 */
export function codeName(span: string): string | null {
  const s = span.replace(/\(\)$/, '');
  return /^[a-z][a-z0-9]*[A-Z][A-Za-z0-9]*$|^[A-Z][a-z0-9]+[A-Z][A-Za-z0-9]*$|^[A-Z][A-Z0-9]*_[A-Z0-9_]+$/.test(s) ? s : null;
}

/** Every word of the code (TypeScript, scripts, SQL, deployment files). */
function codeWords(all: readonly string[]): Set<string> {
  const words = new Set<string>();
  for (const f of all.filter((f) => /\.(?:ts|mts|mjs|js|sh|sql|ya?ml)$|(?:^|\/)Dockerfile$/.test(f))) {
    for (const m of readFileSync(path.join(ROOT, f), 'utf8').matchAll(/[A-Za-z_$][\w$]*/g)) words.add(m[0]);
  }
  return words;
}

/** The files a place stands for: a file reference, or a `@blend/x` package's sources. */
function placeFiles(place: string, all: readonly string[]): string[] | null {
  const pkg = /^@blend\/([a-z0-9-]+)$/.exec(place);
  if (pkg) return all.filter((f) => f.startsWith(`packages/${pkg[1]}/src/`) && /\.ts$/.test(f));
  const ref = fileReference(place);
  return ref ? candidates(ref, all) : null;
}

describe('file references in the docs', () => {
  it.each<[string, string | null]>([
    ['services/worker/src/ingest/parse.ts', 'services/worker/src/ingest/parse.ts'],
    ['parse-task.ts', 'parse-task.ts'],
    ['packages/core/src/html.ts:37', 'packages/core/src/html.ts'],
    ['meta/_journal.json', 'meta/_journal.json'],
    ['/api/v1/posts', null],
    ['test/deploy-*.test.ts', null],
    ['<source>/<name>.txt', null],
    ['dist/start-all.mjs', null],
    ['../shared/corpus-real', null],
    ['BLEND_SECRET', null],
    ['imap://user:pass@host/INBOX', null],
  ])('%s -> %s', (span, expected) => expect(fileReference(span)).toBe(expected));

  const all = ['services/worker/src/jobs/notify.ts', 'services/api/src/jobs/x.ts', 'packages/core/src/post-text.ts'];
  it.each<[string, string[]]>([
    ['services/worker/src/jobs/notify.ts', ['services/worker/src/jobs/notify.ts']],
    ['services/worker/src/notify.ts', []],
    ['jobs/notify.ts', ['services/worker/src/jobs/notify.ts']],
    ['post-text.ts', ['packages/core/src/post-text.ts']],
    ['text.ts', []],
  ])('%s is one of %j', (ref, expected) => expect(candidates(ref, all)).toEqual(expected));

  it.each<[string, string | null]>([
    ['decideIngest', 'decideIngest'],
    ['parseImapUrl()', 'parseImapUrl'],
    ['ImapSession', 'ImapSession'],
    ['RETENTION_LOCK', 'RETENTION_LOCK'],
    ['BLEND_SECRET', 'BLEND_SECRET'],
    ['posted', null],
    ['next_digest_at', null],
    ['Auto-Submitted', null],
    ['Blend', null],
  ])('code name %s -> %s', (span, expected) => expect(codeName(span)).toBe(expected));

  it('reads the names placed in a file', () => {
    expect(placedNames('the rule: `titleFromBody`, `cleanTitle` and `cleanBody()` in `packages/core/src/post-text.ts`; `acquireLease` in `@blend/db`')).toEqual([
      { names: ['titleFromBody', 'cleanTitle', 'cleanBody'], place: 'packages/core/src/post-text.ts' },
      { names: ['acquireLease'], place: '@blend/db' },
    ]);
  });
});

/**
 * The sections and B-numbers code comments cite: `docs/ARCHITECTURE.md "Section"`,
 * `README.md, "Section"` (deployment files, for IT people) and `docs/SECURITY.md B12`, read
 * across comment line breaks.
 */
export function citations(source: string): { architecture: string[]; readme: string[]; security: string[] } {
  const flat = source.replace(/\s*\n\s*(?:\*(?!\/)|\/\/|#|--)?\s*/g, ' ');
  return {
    architecture: [...flat.matchAll(/ARCHITECTURE\.md,? "([^"]+)"/g)].map((m) => m[1]!),
    readme: [...flat.matchAll(/README\.md,? \(?"([^"]+)"/g)].map((m) => m[1]!),
    security: [...flat.matchAll(/SECURITY\.md,? (B\d+)\b/g)].map((m) => m[1]!),
  };
}

describe('citations in code comments', () => {
  it('reads a section cited across a line break, and B-numbers', () => {
    expect(citations(' * rules (docs/ARCHITECTURE.md "Logins and\n * sender authentication"; docs/SECURITY.md B42).\n# (README.md, "Docker quick start")')).toEqual({
      architecture: ['Logins and sender authentication'],
      readme: ['Docker quick start'],
      security: ['B42'],
    });
  });

  it('cite only sections and B-numbers the docs and the README have', () => {
    const all = walk();
    const headingsOf = (doc: string) => new Set([...readFileSync(path.join(ROOT, doc), 'utf8').matchAll(/^#+ (.+)$/gm)].map((m) => m[1]!.trim()));
    const headings = headingsOf('docs/ARCHITECTURE.md');
    const readmeHeadings = headingsOf('README.md');
    const numbers = new Set([...readFileSync(path.join(ROOT, 'docs/SECURITY.md'), 'utf8').matchAll(/\*\*(B\d+)\b/g)].map((m) => m[1]!));
    const wrong: string[] = [];
    for (const f of all.filter((f) => /\.(?:ts|mts|mjs|js|sh|sql|ya?ml)$|(?:^|\/)Dockerfile$/.test(f) && f !== SELF)) {
      const { architecture, readme, security } = citations(readFileSync(path.join(ROOT, f), 'utf8'));
      for (const h of architecture) if (!headings.has(h)) wrong.push(`${f}: docs/ARCHITECTURE.md "${h}"`);
      for (const h of readme) if (!readmeHeadings.has(h)) wrong.push(`${f}: README.md "${h}"`);
      for (const b of security) if (!numbers.has(b)) wrong.push(`${f}: docs/SECURITY.md ${b}`);
    }
    expect(wrong).toEqual([]);
  });

  it('cite no issue numbers: the reason is written where it applies (released migrations aside)', () => {
    const wrong = walk()
      .filter((f) => /\.(?:ts|mts|mjs|js|sh|ya?ml)$|(?:^|\/)Dockerfile$/.test(f) && f !== SELF)
      .flatMap((f) => [...readFileSync(path.join(ROOT, f), 'utf8').matchAll(/issue #\d+|\(#\d+\)/gi)].map((m) => `${f}: ${m[0]}`));
    expect(wrong).toEqual([]);
  });

  it('name only Markdown documents the repository has', () => {
    const all = walk();
    const wrong: string[] = [];
    for (const f of all.filter((f) => /\.(?:ts|mts|mjs|js|sh|sql|ya?ml)$|(?:^|\/)Dockerfile$/.test(f) && f !== SELF)) {
      for (const m of readFileSync(path.join(ROOT, f), 'utf8').matchAll(/[\w./-]*\w\.md\b/g)) {
        if (candidates(m[0].replace(/^(?:\.\/)+/, ''), all).length === 0) wrong.push(`${f}: ${m[0]}`);
      }
    }
    expect(wrong).toEqual([]);
  });
});

describe.each(DOCS)('%s', (doc) => {
  const text = readFileSync(path.join(ROOT, doc), 'utf8');
  const all = walk();

  it('names only files that exist', () => {
    const refs = [...new Set([...text.matchAll(/`([^`\n]+)`/g)].map((m) => fileReference(m[1]!)).filter((r): r is string => r !== null))];
    expect(refs.length).toBeGreaterThan(0);
    expect(refs.filter((r) => candidates(r, all).length === 0)).toEqual([]);
  });

  it('names only functions, types, constants and settings the code has', () => {
    const words = codeWords(all);
    const names = [...new Set([...text.matchAll(/`([^`\n]+)`/g)].map((m) => codeName(m[1]!)).filter((n): n is string => n !== null))];
    expect(names.length).toBeGreaterThan(0);
    expect(names.filter((n) => !words.has(n))).toEqual([]);
  });

  it('places each function and constant in a file that holds it', () => {
    const wrong: string[] = [];
    for (const { names, place } of placedNames(text)) {
      const files = placeFiles(place, all);
      if (files === null) continue;
      const sources = files.map((f) => readFileSync(path.join(ROOT, f), 'utf8'));
      for (const name of names) {
        const word = new RegExp(`(?<![\\w$])${name.replace(/\$/g, '\\$')}(?![\\w$])`);
        if (!sources.some((s) => word.test(s))) wrong.push(`${name} in ${place}`);
      }
    }
    expect(wrong).toEqual([]);
  });
});
