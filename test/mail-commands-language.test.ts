import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findPersonByEmail } from '@blend/db';
import { sendRaw } from './support/mail-server';
import { buildMessage, finalRow } from './support/messages';
import { startStack, type Stack } from './support/stack';

// Mailed commands in German, French, Spanish and Japanese, end to end: sent through Postfix to
// the bridge, read by the poller, carried out by ingest like their English forms.
let s: Stack;
let bridge: string;
let P: string;
const at = (name: string) => `${name}@${P}`;

beforeAll(async () => {
  s = await startStack({ BLEND_POLL_INTERVAL_MS: '1000' });
  bridge = `status@${s.mail.domain}`;
  P = s.people.domain;
  for (const name of ['jana', 'louise', 'pilar', 'yuki']) await s.person(at(name), { name });
});
afterAll(async () => s?.stop());

async function command(name: string, subject: string, body = '') {
  const m = buildMessage({ from: `${name} <${at(name)}>`, to: bridge, subject, ...(body ? { body } : {}) });
  await sendRaw(m.raw, { from: at(name), to: bridge });
  return finalRow(s.db.db, m.messageId);
}

describe('mailed commands in other languages', () => {
  it('sets the digest frequency from a German, French or Spanish subject', async () => {
    expect(await command('jana', 'AW: Zusammenfassung wöchentlich')).toMatchObject({ state: 'command', reason: 'digest' });
    expect((await findPersonByEmail(s.db.db, at('jana')))!.digestFrequency).toBe('weekly');
    expect(await command('louise', 'Résumé : quotidien')).toMatchObject({ state: 'command', reason: 'digest' });
    expect((await findPersonByEmail(s.db.db, at('louise')))!.digestFrequency).toBe('daily');
    expect(await command('pilar', 'Resumen desactivado')).toMatchObject({ state: 'command', reason: 'digest' });
    expect((await findPersonByEmail(s.db.db, at('pilar')))!.digestFrequency).toBe('off');
  });

  it('opts out from a Japanese first line under an ordinary subject', async () => {
    expect(await command('yuki', 'お知らせ', 'オプトアウト\n\n山田')).toMatchObject({ state: 'command', reason: 'opt_out' });
    expect((await findPersonByEmail(s.db.db, at('yuki')))!.optIn).toBe('opted_out');
  });

  it('publishes an ordinary German subject that only mentions a digest', async () => {
    expect(await command('jana', 'Wöchentliche Zusammenfassung', 'Hallo zusammen, hier die Zahlen der Woche.')).toMatchObject({ state: 'posted' });
  });
});
