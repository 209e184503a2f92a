import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '@blend/api';
import { getPreferences, issueApiToken, upsertPerson } from '@blend/db';
import { sessionCookie, startTestApi, type TestApi } from './support/api';

// The web pages in the reader's language: their own choice, else the browser's, else the organisation's.
let api: TestApi;
let app: FastifyInstance;
const sessions: Record<string, string> = {};
const ids: Record<string, string> = {};

beforeAll(async () => {
  api = await startTestApi();
  app = api.app;
  for (const name of ['dora', 'kenji']) {
    const { person } = await upsertPerson(api.t.db, { email: `${name}@corp.test`, name, optIn: true });
    ids[name] = person.id;
    sessions[name] = await sessionCookie(api.t.db, await issueApiToken(api.t.db, person.id));
  }
  // Kenji chose Japanese through the API.
  const put = await app.inject({ method: 'PUT', url: '/api/v1/me/preferences', headers: { authorization: `Bearer ${await issueApiToken(api.t.db, ids.kenji!)}` }, payload: { language: 'ja' } });
  expect(put.statusCode).toBe(200);
});
afterAll(async () => {
  await api?.close();
});

const get = (url: string, headers: Record<string, string> = {}) => app.inject({ method: 'GET', url, headers });
const lang = (body: string) => /<html lang="([^"]+)">/.exec(body)?.[1];
const csrfOf = (body: string) => /name="_csrf" value="([^"]+)"/.exec(body)?.[1] ?? '';
const form = (url: string, who: string, fields: Record<string, string>) =>
  app.inject({ method: 'POST', url, headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: sessions[who]! }, payload: new URLSearchParams(fields).toString() });

describe('language of the pages', () => {
  it('signed out: the login page in the browser’s language, English without a header or for a language Blend does not speak', async () => {
    const fr = await get('/web/login', { 'accept-language': 'fr-FR,fr;q=0.9,en;q=0.5' });
    expect(lang(fr.body)).toBe('fr');
    expect(fr.body).toContain('Se connecter à Blend');
    expect(fr.body).toContain('Jeton d’API');
    expect(fr.headers.vary).toContain('Accept-Language');
    const none = await get('/web/login');
    expect(lang(none.body)).toBe('en');
    expect(none.body).toContain('Sign in to Blend');
    expect(lang((await get('/web/login', { 'accept-language': 'nl-NL, sv;q=0.5' })).body)).toBe('en');
    expect(lang((await get('/web/login', { 'accept-language': 'de-CH;q=0.4, es;q=0.8' })).body)).toBe('es');
  });

  it('a wrong token is answered in the browser’s language', async () => {
    const res = await app.inject({ method: 'POST', url: '/web/login', headers: { 'content-type': 'application/x-www-form-urlencoded', 'accept-language': 'de' }, payload: 'token=blend_wrongwrongwrongwrong' });
    expect(res.statusCode).toBe(401);
    expect(res.body).toContain('Dieses Token ist ungültig');
  });

  it('the organisation’s default when the browser asks for nothing Blend speaks', async () => {
    const es = buildApp(api.deps({ defaultLanguage: 'es' }));
    try {
      const res = await es.inject({ method: 'GET', url: '/web/login', headers: { 'accept-language': 'nl' } });
      expect(lang(res.body)).toBe('es');
      expect(res.body).toContain('Iniciar sesión en Blend');
      expect(lang((await es.inject({ method: 'GET', url: '/web/login', headers: { 'accept-language': 'ja' } })).body)).toBe('ja');
    } finally {
      await es.close();
    }
  });

  it('signed in: the person’s own choice wins over the browser', async () => {
    const res = await get('/web/preferences', { cookie: sessions.kenji!, 'accept-language': 'fr' });
    expect(lang(res.body)).toBe('ja');
    expect(res.body).toContain('<title>設定 · Blend</title>');
    expect(res.body).toContain('ログアウト');
    const dora = await get('/web/preferences', { cookie: sessions.dora!, 'accept-language': 'fr' });
    expect(lang(dora.body)).toBe('fr');
    expect(dora.body).toContain('Préférences');
  });

  it('the language form saves like PUT /api/v1/me/preferences, and "automatic" clears the choice', async () => {
    const before = await get('/web/preferences', { cookie: sessions.dora! });
    expect(before.body).toContain('<option value="de" lang="de">Deutsch</option>');
    const saved = await form('/web/preferences/language', 'dora', { _csrf: csrfOf(before.body), language: 'de' });
    expect(saved.statusCode).toBe(303);
    expect((await getPreferences(api.t.db, ids.dora!))!.language).toBe('de');
    const after = await get('/web/preferences?saved=1', { cookie: sessions.dora!, 'accept-language': 'en' });
    expect(lang(after.body)).toBe('de');
    expect(after.body).toContain('Gespeichert.');
    expect(after.body).toContain('<option value="de" lang="de" selected>Deutsch</option>');
    expect(after.body).toContain('Einstellungen speichern');
    await form('/web/preferences/language', 'dora', { _csrf: csrfOf(after.body), language: '' });
    expect((await getPreferences(api.t.db, ids.dora!))!.language).toBeNull();
    expect((await form('/web/preferences/language', 'dora', { _csrf: csrfOf(after.body), language: 'xx' })).statusCode).toBe(400);
    expect((await form('/web/preferences/language', 'dora', { language: 'fr' })).statusCode).toBe(403);
    expect((await getPreferences(api.t.db, ids.dora!))!.language).toBeNull();
  });

  it('the pages behind the links in Blend’s mails are in the browser’s language', async () => {
    const res = await get('/links/unsubscribe?t=broken', { 'accept-language': 'es-ES,es;q=0.9' });
    expect(res.statusCode).toBe(400);
    expect(lang(res.body)).toBe('es');
    expect(res.body).toContain('Este enlace no es válido');
    expect(lang((await get('/links/unsubscribe?t=broken')).body)).toBe('en');
  });

  it('an error page in the reader’s language keeps the API’s English detail apart, marked as English', async () => {
    const res = await get('/web/posts/00000000-0000-4000-8000-000000000000', { cookie: sessions.kenji! });
    expect(res.statusCode).toBe(404);
    expect(lang(res.body)).toBe('ja');
    const bad = await form('/web/preferences/language', 'kenji', { language: 'fr' });
    expect(bad.statusCode).toBe(403);
    expect(bad.body).toContain('<h1>許可されていません</h1>');
    expect(bad.body).toContain('<p class="hint" lang="en">');
  });
});
