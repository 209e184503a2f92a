import { randomBytes, randomUUID } from 'node:crypto';
import { pipeline, Readable, Transform } from 'node:stream';
import { eq } from 'drizzle-orm';
import nodemailer, { type Transporter } from 'nodemailer';
import type Mail from 'nodemailer/lib/mailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newMessageId, planAttachments, type Addressing } from '@blend/core';
import { addOutbound, deleteAttachmentsOf, ensureGroup, filesForMail, insertComment, insertPost, schema, storeAttachments, upsertPerson, type StoredFileSlices } from '@blend/db';
import { composeOutbound, createSmtpTransport, FILE_READ_BYTES, parseMail } from '@blend/mail';
import { createLogger } from '@blend/runtime';
import { send } from '@blend/worker';
import { createTestDatabase, type TestDatabase } from './support/database';
import { createMailDomain, fetchRawMessages, waitForMailboxCount, type MailDomain } from './support/mail-server';

// A mirror's large stored file is read from Postgres slice by slice as nodemailer writes the
// mail, not whole before it (docs/ARCHITECTURE.md "Outbound mail"); a file erased meanwhile
// fails the attempt, and the retry sends what is stored then.
let t: TestDatabase;
let mail: MailDomain;
let transport: Transporter;
let addressing: Addressing;
const secret = 'x'.repeat(32);
const size = 6 * FILE_READ_BYTES + 12_345;

/** A comment of a new thread carrying one stored file of `size` random bytes. */
async function commentWithFile(name: string): Promise<{ postId: string; commentId: string; content: Buffer }> {
  const group = await ensureGroup(t.db, 'general');
  const { person: alice } = await upsertPerson(t.db, { email: 'alice@corp.test', name: 'Alice', optIn: true });
  const post = await insertPost(t.db, { groupId: group.id, authorId: alice.id, title: name, bodyText: name, bodyHtml: `<p>${name}</p>`, source: 'esn' });
  const comment = await insertComment(t.db, { postId: post.id, authorId: alice.id, bodyText: 'the figures', bodyHtml: '<p>the figures</p>', source: 'esn' });
  const content = randomBytes(size);
  const plan = planAttachments([{ filename: `${name}.pdf`, contentType: 'application/pdf', size, inline: false }])[0]!;
  await storeAttachments(t.db, { postId: post.id, commentId: comment.id }, [{ plan, content }]);
  return { postId: post.id, commentId: comment.id, content };
}

async function mirror(target: { postId: string; commentId: string }, to: string): Promise<string> {
  const id = randomUUID();
  await addOutbound(t.db, { id, kind: 'mirror', toAddress: to, messageId: newMessageId(id, addressing), subject: 'the figures', textBody: 'the figures\n', postId: target.postId, commentId: target.commentId });
  return id;
}

const deps = (via: Transporter) => ({ db: t.db, log: createLogger('test', 'silent'), transport: via, addressing, secret });
const rowOf = async (id: string) => (await t.db.select().from(schema.outboundMessages).where(eq(schema.outboundMessages.id, id)))[0]!;

beforeAll(async () => {
  t = await createTestDatabase();
  mail = await createMailDomain();
  addressing = { mode: 'domain', domain: mail.domain };
  transport = createSmtpTransport(mail.smtpUrl);
});
afterAll(async () => {
  transport?.close();
  await t?.drop();
});

describe('a mirror of a large stored file', () => {
  it('reads the file a slice at a time as the mail is written, and the mail carries it byte for byte', async () => {
    const target = await commentWithFile('lazy');
    const [file] = await filesForMail(t.db, target, 25 * 1024 * 1024);
    expect(file && !Buffer.isBuffer(file.content)).toBe(true);
    const slices = file!.content as StoredFileSlices;
    let reads = 0;
    let read = 0;
    const counted = {
      size: slices.size,
      async read(at: number, count: number) {
        reads++;
        const bytes = await slices.read(at, count);
        read += bytes?.length ?? 0;
        return bytes;
      },
    };
    const row = { id: randomUUID(), toAddress: 'bob@corp.test', messageId: 'm@x.test', subject: 'the figures', textBody: 'the figures\n', htmlBody: null, inReplyTo: null, references: [], autoSubmitted: 'auto-generated', replyTo: null };
    const composed = composeOutbound(row, { addressing, secret }, [{ filename: 'lazy.pdf', contentType: 'application/pdf', content: counted }]);
    expect(reads).toBe(0);
    const info = await nodemailer.createTransport({ streamTransport: true, buffer: false }).sendMail(composed);
    const chunks: Buffer[] = [];
    let consumed = 0;
    let ahead = 0;
    for await (const chunk of info.message as Readable) {
      chunks.push(chunk as Buffer);
      consumed += (chunk as Buffer).length;
      // Base64 in lines of 76 carries at most 3/4 of the mail's bytes as file bytes: what was
      // read past that is waiting in the streams, at most about a read or two.
      ahead = Math.max(ahead, read - consumed * 0.75);
    }
    expect(reads).toBe(Math.ceil(size / FILE_READ_BYTES));
    expect(read).toBe(size);
    expect(ahead).toBeLessThanOrEqual(2 * FILE_READ_BYTES);
    const parsed = await parseMail(Buffer.concat(chunks));
    expect(parsed.attachments.map((a) => [a.filename, a.content.equals(target.content)])).toEqual([['lazy.pdf', true]]);
  });

  it('goes through the SMTP server intact', async () => {
    const target = await commentWithFile('through');
    const id = await mirror(target, `bob@${mail.domain}`);
    expect(await send({ outboundId: id }, deps(transport))).toEqual({ state: 'sent' });
    await waitForMailboxCount(mail.imapUrl, 1);
    const [delivered] = await fetchRawMessages(mail.imapUrl);
    const parsed = await parseMail(delivered!.source);
    expect(parsed.attachments.map((a) => [a.filename, a.content.length, a.content.equals(target.content)])).toEqual([['through.pdf', size, true]]);
    expect((await rowOf(id)).state).toBe('sent');
  });

  it('fails the attempt when the file is erased while the mail is written; the retry sends the mail without it', async () => {
    const own = await createMailDomain();
    const target = await commentWithFile('erased');
    const id = await mirror(target, `carol@${own.domain}`);
    // The first bytes of the file reach nodemailer, then the comment's files are erased.
    const erasing = {
      options: { maxConnections: 5 },
      sendMail(m: Mail.Options) {
        for (const a of m.attachments ?? []) {
          if (!(a.content instanceof Readable)) continue;
          let first = true;
          const erase = new Transform({
            transform(chunk: Buffer, _enc, done) {
              if (!first) return done(null, chunk);
              first = false;
              t.db.transaction((tx) => deleteAttachmentsOf(tx, { postIds: [], commentIds: [target.commentId] })).then(() => done(null, chunk), done);
            },
          });
          a.content = pipeline(a.content, erase, () => undefined);
        }
        return transport.sendMail(m);
      },
    } as unknown as Transporter;

    await expect(send({ outboundId: id }, deps(erasing))).rejects.toThrow(/no longer stored/);
    const failed = await rowOf(id);
    expect([failed.state, failed.attempts]).toEqual(['pending', 1]);

    expect(await send({ outboundId: id }, deps(transport))).toEqual({ state: 'sent' });
    await waitForMailboxCount(own.imapUrl, 1);
    // The cut-off attempt never became a mail: only the retry's is there.
    const delivered = await fetchRawMessages(own.imapUrl);
    expect(delivered).toHaveLength(1);
    expect((await parseMail(delivered[0]!.source)).attachments).toEqual([]);
  });
});
