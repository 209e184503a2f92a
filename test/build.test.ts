import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convertTemplates } from '@blend/mail';
import { buildDist } from '../scripts/build';
import { freePort } from './support/ports';
import { run } from './support/process';
import { createTestDatabase, waitFor, type TestDatabase } from './support/database';

// `pnpm build` makes the JavaScript production runs (the Dockerfile's commands): the programs
// must start and work from dist/ as they do from source.
const root = path.resolve(import.meta.dirname, '..');
let out: string;
let t: TestDatabase;

/** Run a built program with `node` alone (no tsx), collecting its output. */
const node = (args: string[], env: Record<string, string>) => run(args, env, { tsx: false, timeoutMs: 60_000 });

/** What a service needs to start against this file's database. */
const serviceEnv = (extra: Record<string, string>) => ({
  DATABASE_URL: t.url,
  REDIS_URL: 'redis://127.0.0.1:6379',
  BLEND_IMAP_URL: 'imap://u:p@127.0.0.1:143/INBOX',
  BLEND_SMTP_URL: 'smtp://127.0.0.1:2525',
  BLEND_MAIL_DOMAIN: 'build.test',
  BLEND_SECRET: 'b'.repeat(40),
  ...extra,
});


beforeAll(async () => {
  // Inside the checkout (.blend/ is ignored by git): the programs look for migrations/ above them.
  await mkdir(path.join(root, '.blend'), { recursive: true });
  out = await mkdtemp(path.join(root, '.blend', 'build-'));
  await buildDist(out);
  t = await createTestDatabase();
}, 120_000);
afterAll(async () => {
  await t?.drop();
  if (out) await rm(out, { recursive: true, force: true });
});

describe('pnpm build', () => {
  it('writes every program, the web page styles and the converted mail templates', async () => {
    for (const name of ['api', 'worker', 'poller', 'blend', 'start-all', 'parse-thread']) expect(existsSync(path.join(out, `${name}.mjs`))).toBe(true);
    expect(readFileSync(path.join(out, 'static', 'app.css'), 'utf8')).toContain('{');
    const prebuilt = JSON.parse(readFileSync(path.join(out, 'mail-templates.json'), 'utf8')) as Record<string, string>;
    const fromSource = await convertTemplates();
    expect(Object.keys(prebuilt).sort()).toEqual(Object.keys(fromSource).sort());
    for (const html of Object.values(prebuilt)) expect(html).toMatch(/^<!doctype html>/i);
  });

  it('runs the blend command from the build with no servers', async () => {
    const p = node([path.join(out, 'blend.mjs'), 'preview', '--json', 'test/fixtures/mail/plain-new-thread.eml'], {});
    expect((await p.done).code).toBe(0);
    const line = JSON.parse(p.out().trim().split('\n')[0]!) as { classification: { kind: string }; title: string };
    expect(line).toMatchObject({ classification: { kind: 'new_thread' }, title: 'Quarterly plan is ready' });
  });

  it('makes dist/blend.mjs a command of its own: a shebang, executable, run without naming node', async () => {
    const bin = path.join(out, 'blend.mjs');
    expect(readFileSync(bin, 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node');
    expect(statSync(bin).mode & 0o111).toBe(0o111);
    // As the image runs it: by its path (or a link in the PATH), `env` finding node in the PATH.
    const PATH = path.dirname(process.execPath);
    const version = run([bin, '--version'], { PATH }, { tsx: false, direct: true });
    expect((await version.done).code).toBe(0);
    expect(version.out()).toMatch(/^blend \d+\.\d+\.\d+\n$/);
    const add = run([bin, 'people', 'add', 'built@corp.test', '--json'], { PATH, DATABASE_URL: t.url }, { tsx: false, direct: true });
    expect((await add.done).code).toBe(0);
    expect(JSON.parse(add.out())).toMatchObject({ email: 'built@corp.test', created: true });
  });

  it('starts the api from the build: it migrates, is ready, and serves its pages and styles', async () => {
    const port = await freePort();
    const p = node([path.join(out, 'api.mjs')], serviceEnv({ PORT: String(port), LOG_LEVEL: 'warn' }));
    try {
      const base = `http://127.0.0.1:${port}`;
      await waitFor(async () => ((await fetch(`${base}/healthz`).catch(() => null))?.ok ? true : null), 'the api to listen', 30_000);
      const ready = await fetch(`${base}/readyz`);
      expect(ready.status).toBe(200);
      const css = await fetch(`${base}/web/static/app.css`);
      expect(css.status).toBe(200);
      expect(await css.text()).toBe(readFileSync(path.join(root, 'services/api/src/web/static/app.css'), 'utf8'));
      expect((await fetch(`${base}/web/login`)).status).toBe(200);
    } finally {
      p.kill('SIGTERM');
      await p.done;
    }
  });

  it('bundles the worker and its parse threads without the libraries they do not use', () => {
    // Each parse thread loads its bundle into a heap of its own (README "Memory").
    const importsOf = (name: string) => readFileSync(path.join(out, `${name}.mjs`), 'utf8').match(/^import .*$/gm) ?? [];
    const uses = (imports: string[], lib: string) => imports.some((line) => line.includes(`/${lib}/`));
    const worker = importsOf('worker');
    expect(uses(worker, 'bullmq')).toBe(true);
    for (const unused of ['imapflow', 'markdown-it']) expect(worker.filter((line) => line.includes(`/${unused}/`))).toEqual([]);
    const thread = importsOf('parse-thread');
    expect(uses(thread, 'mailparser')).toBe(true);
    for (const unused of ['imapflow', 'markdown-it', 'bullmq', 'pg', 'nodemailer', 'handlebars', 'cloudevents', 'standardwebhooks', 'luxon', 'i18next']) {
      expect(thread.filter((line) => line.includes(`/${unused}/`))).toEqual([]);
    }
  });

  it('starts the worker from the build with the prebuilt mail templates, never loading MJML', async () => {
    // Without the thread that would load MJML, the worker can only start from mail-templates.json.
    await rm(path.join(out, 'mjml-thread.mjs'));
    const p = node(
      [path.join(out, 'worker.mjs')],
      serviceEnv({ BLEND_QUEUE_PREFIX: `build${process.pid}`, BLEND_WORKER_HEALTH_PORT: '0', LOG_LEVEL: 'info' }),
    );
    try {
      await waitFor(async () => (/worker started/.test(p.out()) || p.child.exitCode !== null ? true : null), 'the worker to start', 30_000);
      expect(p.out()).toMatch(/worker started/);
    } finally {
      p.kill('SIGTERM');
      expect((await p.done).code).toBe(0);
    }
    expect(p.err()).toBe('');
  });

  it('starts the poller from the build, which loads none of the libraries it does not use', async () => {
    // Only the modules of packages/ it uses are bundled (scripts/build.ts, workspacePure).
    const imports = readFileSync(path.join(out, 'poller.mjs'), 'utf8').match(/^import .*$/gm) ?? [];
    expect(imports.some((line) => line.includes('/imapflow/'))).toBe(true);
    for (const unused of ['mailparser', 'nodemailer', 'markdown-it', 'sanitize-html', 'handlebars', 'html-to-text']) {
      expect(imports.filter((line) => line.includes(`/${unused}/`))).toEqual([]);
    }
    const p = node(
      [path.join(out, 'poller.mjs')],
      serviceEnv({ BLEND_QUEUE_PREFIX: `build${process.pid}`, BLEND_POLLER_HEALTH_PORT: '0', LOG_LEVEL: 'info' }),
    );
    try {
      await waitFor(async () => (/poller started/.test(p.out()) || p.child.exitCode !== null ? true : null), 'the poller to start', 30_000);
      expect(p.out()).toMatch(/poller started/);
    } finally {
      p.kill('SIGTERM');
      expect((await p.done).code).toBe(0);
    }
  });
});
