import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { classify, type Addressing } from '@blend/core';
import { ensureGroup, getInbound, schema, storeFetched, upsertPerson } from '@blend/db';
import { parseMail } from '@blend/mail';
import { ingest, type IngestDeps } from '@blend/worker';
import { ingestDeps } from './support/ingest';
import { buildMessage } from './support/messages';
import { createTestDatabase, type TestDatabase } from './support/database';

// Threading on the headers real mailing-list mail carries: only well-formed
// Message-IDs join threads, whatever phrase a client writes around them.
const fixture = (name: string) => readFileSync(path.join(import.meta.dirname, 'fixtures/mail', name));
const DOMAIN: Addressing = { mode: 'domain', domain: 'example.test' };

describe('threading headers of real clients', () => {
  it.each<[string, { inReplyTo: string[]; references: string[]; parentIds: string[] }]>([
    [
      // exmh/MH: the address of the quoted sender comes before the id.
      'exmh-reply-in-reply-to-phrase.eml',
      { inReplyTo: ['202611250840.5AP8e2Xq012345@corp.test'], references: [], parentIds: ['202611250840.5AP8e2Xq012345@corp.test'] },
    ],
    [
      // mailparser splits this References into `<Your>`, `<message>`, `<of>`, `<"Wed,>`…
      'mh-reply-references-phrase.eml',
      { inReplyTo: ['202611251015.AA01234@corp.test'], references: ['202611251015.AA01234@corp.test'], parentIds: ['202611251015.AA01234@corp.test'] },
    ],
    [
      'mutt-reply-unusual-ids.eml',
      {
        inReplyTo: ['20261125T110000.GB1111@box.corp.test'],
        references: ['CAF=x+Y7q-Bz3k_9Lm@mail.gmail.com', '1234.5678@[192.0.2.1]', '20261125T110000.GB1111@box.corp.test'],
        parentIds: ['20261125T110000.GB1111@box.corp.test', '1234.5678@[192.0.2.1]', 'CAF=x+Y7q-Bz3k_9Lm@mail.gmail.com'],
      },
    ],
    [
      'outlook-reply-long-references.eml',
      {
        inReplyTo: ['VI1PR02MB6400D1C2B3A4958677685A4B3C2D1E0F@vi1pr02mb6400.eurprd02.prod.outlook.com'],
        references: [
          'DB9PR02MB7210A1B2C3D4E5F60718293A4B5C6D7E8@db9pr02mb7210.eurprd02.prod.outlook.com',
          'AM0PR02MB5171F0E1D2C3B4A5968778695A4B3C2D@am0pr02mb5171.eurprd02.prod.outlook.com',
          'VI1PR02MB6400D1C2B3A4958677685A4B3C2D1E0F@vi1pr02mb6400.eurprd02.prod.outlook.com',
        ],
        parentIds: [
          'VI1PR02MB6400D1C2B3A4958677685A4B3C2D1E0F@vi1pr02mb6400.eurprd02.prod.outlook.com',
          'AM0PR02MB5171F0E1D2C3B4A5968778695A4B3C2D@am0pr02mb5171.eurprd02.prod.outlook.com',
          'DB9PR02MB7210A1B2C3D4E5F60718293A4B5C6D7E8@db9pr02mb7210.eurprd02.prod.outlook.com',
        ],
      },
    ],
  ])('%s', async (file, expected) => {
    const { mail } = await parseMail(fixture(file));
    expect({ inReplyTo: mail.inReplyTo, references: mail.references }).toEqual({ inReplyTo: expected.inReplyTo, references: expected.references });
    expect(classify(mail, { addressing: DOMAIN })).toEqual({ kind: 'reply', parentIds: expected.parentIds });
  });
});

let t: TestDatabase;
let uid = 0;
const deps = (): IngestDeps => ingestDeps(t.db, { senderAuth: { mode: 'none', orgDomains: ['corp.test', 'lists.example.org'] } });

async function ingestRaw(raw: Buffer, at: Date) {
  const rows = await storeFetched(t.db, 'imap://test', 1, [{ uid: ++uid, size: raw.length, raw, internalDate: at }]);
  const id = rows[0]!.id;
  await ingest({ inboundId: id }, deps());
  return (await getInbound(t.db, id))!;
}

const mail = (h: { id: string; from: string; to?: string; cc?: string; subject: string; body: string; headers?: Record<string, string> }) =>
  Buffer.from(buildMessage({ messageId: h.id, from: h.from, to: h.to ?? 'status@example.test', ...(h.cc ? { cc: h.cc } : {}), subject: h.subject, body: h.body, ...(h.headers ? { headers: h.headers } : {}) }).raw);

beforeAll(async () => {
  t = await createTestDatabase();
  await ensureGroup(t.db, 'general');
  for (const [email, name] of [['alice@corp.test', 'Alice Example'], ['bob@corp.test', 'Bob'], ['carol@corp.test', 'Carol'], ['dan@corp.test', 'Dan']]) {
    await upsertPerson(t.db, { email: email!, name: name!, optIn: true });
  }
});
afterAll(async () => t?.drop());

describe('ingest: only well-formed ids join threads', () => {
  const at = (m: number) => new Date(Date.UTC(2026, 10, 25, 8, m));

  it('keeps two replies whose References share only the words of a "Your message of" phrase apart', async () => {
    const phrase = (id: string, parent: string, from: string, subject: string) =>
      mail({ id, from, subject, body: `About ${subject}.`, headers: { References: `Your message of "Wed, 25 Nov 2026 08:00:00 +0000." from\r\n <${parent}>` } });
    const first = await ingestRaw(phrase('words-1@corp.test', 'unknown-a@corp.test', 'Alice Example <alice@corp.test>', 'Re: Coffee machine'), at(1));
    expect(first.state).toBe('posted');
    const second = await ingestRaw(phrase('words-2@corp.test', 'unknown-b@corp.test', 'Bob <bob@corp.test>', 'Re: Parking'), at(2));
    expect(second.state).toBe('posted');
    expect(second.postId).not.toBe(first.postId);
  });

  it('threads an exmh reply under the id, not the quoted sender’s address', async () => {
    const parent = await ingestRaw(
      mail({ id: '202611250840.5AP8e2Xq012345@corp.test', from: 'Alice Example <alice@corp.test>', to: 'Carol <carol@corp.test>, status@example.test', subject: 'Build farm outage', body: 'The build farm is down since 08:30.' }),
      at(3),
    );
    expect(parent.state).toBe('posted');
    const reply = await ingestRaw(fixture('exmh-reply-in-reply-to-phrase.eml'), at(4));
    expect(reply).toMatchObject({ state: 'commented', postId: parent.postId });
  });
});

describe('ingest: the subject fallback on list mail', () => {
  const at = (m: number) => new Date(Date.UTC(2026, 10, 25, 10, m));

  it('does not join two mails that only share the list address, but joins one that names the thread’s author', async () => {
    // The list's posting address is known as a person (a directory that lists distribution lists).
    const list = (await upsertPerson(t.db, { email: 'dev@lists.example.org', name: 'Developers' })).person.id;
    const subject = 'Release 2.0 schedule';
    const first = await ingestRaw(mail({ id: 'rel-1@corp.test', from: 'Alice Example <alice@corp.test>', to: 'dev@lists.example.org', cc: 'status@example.test', subject, body: 'Freeze on Friday.' }), at(1));
    expect(first.state).toBe('posted');
    const participants = await t.db.select().from(schema.threadParticipants).where(eq(schema.threadParticipants.postId, first.postId!));
    expect(participants.map((p) => p.personId)).toContain(list);

    // Dan writes to the list with the same subject: nothing but the list address is shared.
    const stranger = await ingestRaw(mail({ id: 'rel-2@corp.test', from: 'Dan <dan@corp.test>', to: 'dev@lists.example.org', cc: 'status@example.test', subject: `Re: ${subject}`, body: 'Our 2.0 ships in May.' }), at(2));
    expect(stranger.state).toBe('posted');
    expect(stranger.postId).not.toBe(first.postId);

    // Bob's client dropped the threading headers, but he wrote to Alice, who started the thread.
    const reply = await ingestRaw(
      mail({ id: 'rel-3@corp.test', from: 'Bob <bob@corp.test>', to: 'dev@lists.example.org', cc: 'Alice Example <alice@corp.test>, status@example.test', subject: `Re: ${subject}`, body: 'Friday works.' }),
      at(3),
    );
    expect(reply).toMatchObject({ state: 'commented', postId: first.postId });
  });
});
