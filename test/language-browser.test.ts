import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { eq } from 'drizzle-orm';
import { findPersonByEmail, schema } from '@blend/db';
import { parseMail } from '@blend/mail';
import { clickAndLoad, launchChromium, listenOnLoopback, openPage, overflowingElements, scrollWidth, type PageWatch } from './support/browser';
import { waitFor } from './support/database';
import { fetchRawMessages, headerValues } from './support/mail-server';
import { startStack, type Stack } from './support/stack';

// The web UI in the reader's language in a real browser (Debian's Chromium through
// playwright-core): a French browser gets French pages before sign-in; on the preferences page
// the person switches to German with the page's own form, and from then on Blend's pages are
// German whatever the browser asks for, and so is the next digest Blend mails them (sent through
// Postfix, read back from Dovecot).
let s: Stack;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let watch: PageWatch;
let base = '';
let token = '';
let other = '';
let greta = '';

beforeAll(async () => {
  browser = await launchChromium();
  s = await startStack({}, { poller: false });
  base = await listenOnLoopback(s.app);
  // Greta's address is at the stack's people domain: Blend's mail to her lands in its mailbox.
  greta = `greta@${s.people.domain}`;
  token = await s.person(greta, { name: 'Greta Grün' });
  other = await s.person(`otto@${s.people.domain}`, { name: 'Otto Ost' });
  await s.app.inject({ method: 'POST', url: '/api/v1/posts', headers: { authorization: `Bearer ${token}` }, payload: { group: 'general', title: 'Sommerfest', body: 'Am Freitag im Hof.' } });
  // The browser asks for French (Accept-Language: fr-FR), as a French desktop would.
  ({ context, page, watch } = await openPage(browser, { locale: 'fr-FR', timezoneId: 'Europe/Berlin' }));
});

afterAll(async () => {
  await context?.close().catch(() => undefined);
  await browser?.close().catch(() => undefined);
  await s?.stop();
});

const htmlLang = () => page.locator('html').getAttribute('lang');

describe('the web UI’s language', () => {
  it('is the browser’s before sign-in: a French login page', async () => {
    await page.goto(`${base}/web/login`);
    expect(await htmlLang()).toBe('fr');
    await expect(page.getByRole('heading', { name: 'Se connecter à Blend' }).count()).resolves.toBe(1);
    await page.getByLabel('Jeton d’API').fill(token);
    await clickAndLoad(page, page.getByRole('button', { name: 'Se connecter' }));
    expect(new URL(page.url()).pathname).toBe('/web');
    expect(await htmlLang()).toBe('fr');
    await expect(page.getByRole('navigation', { name: 'Menu principal' }).getByRole('link', { name: 'Préférences' }).count()).resolves.toBe(1);
  });

  it('switches to German on the preferences page, and stays German for a French browser', async () => {
    await clickAndLoad(page, page.getByRole('navigation', { name: 'Menu principal' }).getByRole('link', { name: 'Préférences' }));
    expect(new URL(page.url()).pathname).toBe('/web/preferences');
    const language = page.getByLabel('Langue des pages et des e-mails de Blend');
    expect(await language.inputValue()).toBe('');
    await language.selectOption({ label: 'Deutsch' });
    await clickAndLoad(page, page.getByRole('button', { name: 'Enregistrer la langue' }));

    expect(await htmlLang()).toBe('de');
    await expect(page.getByRole('heading', { level: 1, name: 'Einstellungen' }).count()).resolves.toBe(1);
    await expect(page.getByRole('status').filter({ hasText: 'Gespeichert.' }).count()).resolves.toBe(1);
    expect(await page.getByLabel('Sprache der Seiten und E-Mails von Blend').inputValue()).toBe('de');
    const nav = page.getByRole('navigation', { name: 'Hauptmenü' });
    expect(await nav.getByRole('link').allTextContents()).toEqual(['Feed', 'Gruppen', 'Einstellungen']);
    await expect(nav.getByRole('button', { name: 'Abmelden' }).count()).resolves.toBe(1);
    expect(await page.getByLabel(/^Häufigkeit der Zusammenfassung/).locator('option').allTextContents()).toEqual(expect.arrayContaining(['Täglich', 'Wöchentlich']));
    expect(await page.getByLabel('Wöchentliche Zusammenfassung am').locator('option').first().textContent()).toBe('Montag');
    expect((await findPersonByEmail(s.db.db, greta))!.language).toBe('de');

    const streamOpen = page.waitForResponse((r) => r.url().endsWith('/api/v1/stream') && r.status() === 200);
    await clickAndLoad(page, nav.getByRole('link', { name: 'Feed' }));
    expect(await htmlLang()).toBe('de');
    await expect(page.getByRole('region', { name: 'Neuer Beitrag' }).count()).resolves.toBe(1);
    const post = page.getByRole('article', { name: 'Sommerfest' });
    await expect(post.getByRole('button', { name: 'Gefällt mir' }).count()).resolves.toBe(1);
    await expect(post.getByText('0 Kommentare').count()).resolves.toBe(1);
    // The exact time as German writes it ("06.12.2026, 18:40"), in the person's own zone: the
    // text, or on hover where the text says how long ago ("vor 2 Minuten").
    const time = post.locator('time').first();
    expect((await time.getAttribute('title')) ?? (await time.textContent())).toMatch(/^\d\d\.\d\d\.\d{4}, \d\d:\d\d$/);
    // The live-updates script speaks German too.
    await streamOpen;
    await s.app.inject({ method: 'POST', url: '/api/v1/posts', headers: { authorization: `Bearer ${other}` }, payload: { group: 'general', title: 'Grillgut', body: 'Wer bringt was mit?' } });
    await page.locator('#live').getByText('1 neuer Beitrag –').waitFor();
    await expect(page.locator('#live').getByRole('link', { name: 'anzeigen' }).count()).resolves.toBe(1);
    await page.getByRole('search', { name: 'Suche' }).getByRole('searchbox').fill('Sommerfest');
    await clickAndLoad(page, page.getByRole('search', { name: 'Suche' }).getByRole('button', { name: 'Suchen' }));
    await expect(page.getByRole('heading', { name: 'Ergebnisse für „Sommerfest“' }).count()).resolves.toBe(1);
    expect(watch.pageErrors).toEqual([]);
    expect(watch.consoleErrors).toEqual([]);
  });

  it('keeps the German pages (longer words) within a phone’s width', async () => {
    await page.setViewportSize({ width: 375, height: 800 });
    for (const url of ['/web', '/web/preferences', '/web/groups', '/web/search?q=Sommerfest']) {
      await page.goto(`${base}${url}`);
      expect(await htmlLang()).toBe('de');
      const { scroll } = await scrollWidth(page);
      expect(scroll, `${url} scrolls sideways; too wide: ${(await overflowingElements(page, 375)).join(', ')}`).toBeLessThanOrEqual(376);
    }
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it('makes the next digest German too: Content-Language: de, German text', async () => {
    const me = (await findPersonByEmail(s.db.db, greta))!;
    const created = (await s.app.inject({ method: 'POST', url: '/api/v1/posts', headers: { authorization: `Bearer ${other}` }, payload: { group: 'general', title: 'Umzug', body: 'Wir ziehen am Freitag um.' } })).json() as { id: string };
    await s.db.db.insert(schema.follows).values({ personId: me.id, postId: created.id });
    await s.db.db.update(schema.people).set({ lastDigestAt: new Date(Date.now() - 60_000), digestFrequency: 'daily' }).where(eq(schema.people.id, me.id));
    await s.app.inject({ method: 'POST', url: `/api/v1/posts/${created.id}/comments`, headers: { authorization: `Bearer ${other}` }, payload: { body: 'Kisten stehen im Flur.' } });

    expect(await s.digestNow(greta)).toMatchObject({ sent: 1 });
    const digest = await waitFor(async () => {
      for (const m of await fetchRawMessages(s.people.imapUrl)) {
        const raw = m.source.toString('utf8');
        if (!headerValues(raw, 'delivered-to').some((d) => d.toLowerCase() === greta.toLowerCase())) continue;
        const { mail } = await parseMail(m.source);
        if (/Überblick/.test(mail.subject ?? '')) return { raw, subject: mail.subject ?? '', text: mail.text ?? '' };
      }
      return undefined;
    }, "Greta's digest");
    expect(headerValues(digest.raw, 'content-language')).toEqual(['de']);
    expect(digest.subject).toMatch(/^Ihr täglicher Blend-Überblick/);
    expect(digest.text).toContain('Hallo Greta Grün,');
    expect(digest.text).toContain('Kisten stehen im Flur.');
  });
});
