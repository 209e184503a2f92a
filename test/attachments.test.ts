import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { count, eq } from 'drizzle-orm';
import MailComposer from 'nodemailer/lib/mail-composer';
import { ensureGroup, erasePerson, getInbound, issueApiToken, schema, storeFetched, tombstonePost, upsertPerson, type EsnPostView } from '@blend/db';
import { clamdScanner, ScannerUnavailableError } from '@blend/mail';
import { ingest, type IngestDeps } from '@blend/worker';
import { EICAR, startFakeClamd } from './support/clamd';
import { ingestDeps } from './support/ingest';
import { sessionCookie, startTestApi, type TestApi } from './support/api';

// Files that come with mail: stored once by content, listed on the post, served with a safe
// type and Content-Disposition, within the size limits; winmail.dat kept with a note.
let api: TestApi;
let token: string;
let uid = 0;
let aliceId: string;
const KB = 1024;
// A 1×1 PNG.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');
const PDF = Buffer.from('%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n');

const deps = (): IngestDeps =>
  ingestDeps(api.t.db, {
    attachmentLimits: { maxFileBytes: 64 * KB, maxTotalBytes: 100 * KB, maxFiles: 50 },
    activity: { receiptsFirst: 0 },
  });

async function mail(opts: { id: string; subject: string; html?: string; text?: string; attachments: object[] }): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    new MailComposer({
      from: 'Alice <alice@corp.test>',
      to: 'status@example.test',
      subject: opts.subject,
      messageId: `<${opts.id}>`,
      date: new Date(Date.UTC(2026, 10, 1, 9, uid)),
      ...(opts.text ? { text: opts.text } : {}),
      ...(opts.html ? { html: opts.html } : {}),
      attachments: opts.attachments,
    })
      .compile()
      .build((err, msg) => (err ? reject(err) : resolve(msg))),
  );
}

async function ingestRaw(raw: Buffer, more: Partial<IngestDeps> = {}) {
  const [row] = await storeFetched(api.t.db, 'imap://test', 1, [{ uid: ++uid, size: raw.length, raw, internalDate: new Date(Date.UTC(2026, 10, 1, 9, uid)) }]);
  await ingest({ inboundId: row!.id }, { ...deps(), ...more });
  return (await getInbound(api.t.db, row!.id))!;
}
const get = (url: string, auth = true) => api.app.inject({ method: 'GET', url, headers: auth ? { authorization: `Bearer ${token}` } : {} });
const view = async (postId: string) => (await get(`/api/v1/posts/${postId}`)).json() as EsnPostView;
const blobs = async () => (await api.t.db.select({ n: count() }).from(schema.attachmentBlobs))[0]!.n;

beforeAll(async () => {
  api = await startTestApi({ addressing: { mode: 'domain', domain: 'example.test' } });
  await ensureGroup(api.t.db, 'general');
  const { person } = await upsertPerson(api.t.db, { email: 'alice@corp.test', name: 'Alice', optIn: true });
  aliceId = person.id;
  token = await issueApiToken(api.t.db, person.id);
});
afterAll(async () => api?.close());

let postId: string;

describe('attachments', () => {
  it('stores an inline image, a PDF and winmail.dat, lists a web page and an oversized file without content', async () => {
    const raw = await mail({
      id: 'att-1@corp.test',
      subject: 'Floor plan',
      html: '<p>See the plan:</p><img src="cid:plan@corp.test"><p>Thanks</p>',
      attachments: [
        { filename: 'plan.png', content: PNG, contentType: 'image/png', cid: 'plan@corp.test' },
        { filename: 'Grüße.pdf', content: PDF, contentType: 'application/pdf' },
        { filename: 'winmail.dat', content: Buffer.from('x\u0000tnef'), contentType: 'application/ms-tnef' },
        { filename: 'page.html', content: Buffer.from('<script>alert(1)</script>'), contentType: 'text/html' },
        { filename: 'huge.pdf', content: Buffer.alloc(80 * KB, 1), contentType: 'application/pdf' },
      ],
    });
    const row = await ingestRaw(raw);
    expect(row.state).toBe('posted');
    postId = row.postId!;
    const p = await view(postId);
    expect(p.body_text).toContain('See the plan:');
    expect(p.body_html).not.toContain('cid:');
    expect(p.attachments.map((a) => [a.name, a.content_type, a.inline, a.url !== null, a.omitted])).toEqual([
      ['plan.png', 'image/png', true, true, null],
      ['Grüße.pdf', 'application/pdf', false, true, null],
      ['winmail.dat', 'application/ms-tnef', false, true, null],
      ['page.html', 'text/html', false, false, 'type_not_allowed'],
      ['huge.pdf', 'application/pdf', false, false, 'too_large'],
    ]);
    expect(p.attachments[2]!.note).toMatch(/winmail\.dat/);
    expect(p.attachments[3]).toMatchObject({ note: expect.stringMatching(/not accepted/) });
    expect(p.attachments[4]).toMatchObject({ size: 80 * KB, note: expect.stringMatching(/limit/) });
  });

  it('serves each file with a safe type and Content-Disposition, to signed-in people only', async () => {
    const [png, pdf] = (await view(postId)).attachments;
    const img = await get(png!.url!);
    expect(img.statusCode).toBe(200);
    expect(img.headers['content-type']).toBe('image/png');
    expect(img.headers['content-disposition']).toBe(`inline; filename="plan.png"; filename*=UTF-8''plan.png`);
    expect(img.headers['x-content-type-options']).toBe('nosniff');
    expect(img.rawPayload.equals(PNG)).toBe(true);
    const doc = await get(pdf!.url!);
    expect(doc.headers['content-type']).toBe('application/pdf');
    expect(doc.headers['content-disposition']).toMatch(/^attachment; filename="Gr__e.pdf"; filename\*=UTF-8''Gr%C3%BC%C3%9Fe\.pdf$/);
    expect(doc.headers['content-security-policy']).toContain('sandbox');
    expect((await get(png!.url!, false)).statusCode).toBe(401);
    expect((await get('/api/v1/attachments/00000000-0000-4000-8000-000000000000')).statusCode).toBe(404);
  });

  it('shows the inline image and the files on the thread page, served from Blend itself', async () => {
    const cookie = await sessionCookie(api.t.db, token);
    const web = (url: string) => api.app.inject({ method: 'GET', url, headers: { cookie } });
    const [png, pdf, tnef, , huge] = (await view(postId)).attachments;
    const page = (await web(`/web/posts/${postId}`)).body;
    expect(page).toContain(`<img src="/web/attachments/${png!.id}" alt="plan.png" loading="lazy">`);
    expect(page).toContain(`<a href="/web/attachments/${pdf!.id}" download>Grüße.pdf</a>`);
    expect(page).toContain(`/web/attachments/${tnef!.id}`);
    expect(page).toContain('most mail programs cannot open it');
    expect(page).not.toContain(`/web/attachments/${huge!.id}`);
    const img = await web(`/web/attachments/${png!.id}`);
    expect(img.statusCode).toBe(200);
    expect(img.headers['content-type']).toBe('image/png');
    expect((await api.app.inject({ method: 'GET', url: `/web/attachments/${png!.id}` })).statusCode).toBe(303);
  });

  it('reads a mail attached as a file as a forward: published only if its author opted in, never stored as a file', async () => {
    // Outlook's "Forward as attachment": a colleague's whole mail, with its own file, as message/rfc822.
    const inner = async (from: string, id: string) =>
      new Promise<Buffer>((resolve, reject) =>
        new MailComposer({
          from,
          to: 'alice@corp.test',
          subject: 'Salaries 2027',
          messageId: `<${id}>`,
          text: 'The numbers for next year are attached.',
          attachments: [{ filename: 'salaries.pdf', content: PDF, contentType: 'application/pdf' }],
        })
          .compile()
          .build((err, msg) => (err ? reject(err) : resolve(msg))),
      );
    await upsertPerson(api.t.db, { email: 'olga@corp.test', name: 'Olga', optIn: true });
    const raw = await mail({
      id: 'att-fwd@corp.test',
      subject: 'FW: two mails',
      text: 'Have a look at these two.',
      attachments: [
        { filename: 'Salaries 2027.eml', content: await inner('Carol <carol@corp.test>', 'carol-1@corp.test'), contentType: 'message/rfc822' },
        { filename: 'Rota.eml', content: await inner('Olga <olga@corp.test>', 'olga-1@corp.test'), contentType: 'message/rfc822' },
      ],
    });
    const before = await blobs();
    const row = await ingestRaw(raw);
    expect(row.state).toBe('posted');
    const p = await view(row.postId!);
    expect(p.body_text).toContain('Have a look at these two.');
    expect(p.attachments).toEqual([]);
    expect(await blobs()).toBe(before);
    const forwarded = (p as unknown as { forwarded: { from: string; text: string }[] }).forwarded;
    // Carol never opted in: her words are not shown, nor is her file; Olga's are.
    expect(forwarded.map((f) => f.text)).toEqual([
      '(a forwarded message whose author has not opted in is not shown)',
      'The numbers for next year are attached.',
    ]);
    expect(forwarded[1]!.from).toContain('olga@corp.test');
    expect(JSON.stringify(p)).not.toContain('carol@corp.test');
  });

  it('scans every file with clamd before storing it: a virus is listed, not stored; no answer, no publishing', async () => {
    const clamd = await startFakeClamd();
    try {
      const scanner = clamdScanner(clamd.url, 5_000);
      const raw = await mail({
        id: 'att-scan@corp.test',
        subject: 'Invoice',
        text: 'Invoice attached.',
        attachments: [
          { filename: 'invoice.pdf', content: Buffer.concat([PDF, Buffer.from(EICAR)]), contentType: 'application/pdf' },
          { filename: 'plan.png', content: PNG, contentType: 'image/png' },
        ],
      });
      const row = await ingestRaw(raw, { scanner });
      expect(row.state).toBe('posted');
      expect(clamd.scanned()).toBe(2);
      const p = await view(row.postId!);
      expect(p.attachments.map((a) => [a.name, a.url !== null, a.omitted])).toEqual([
        ['invoice.pdf', false, 'infected'],
        ['plan.png', true, null],
      ]);
      expect(p.attachments[0]!.note).toBe('Not stored: the virus scanner found Eicar-Test-Signature in it.');

      // The scanner is down: the job fails (and is retried later); nothing is published unscanned.
      const down = clamdScanner('tcp://127.0.0.1:9', 2_000);
      const again = await mail({ id: 'att-scan-down@corp.test', subject: 'Plan', text: 'Plan attached.', attachments: [{ filename: 'plan2.png', content: PNG, contentType: 'image/png' }] });
      const [stored] = await storeFetched(api.t.db, 'imap://test', 1, [{ uid: ++uid, size: again.length, raw: again, internalDate: new Date() }]);
      await expect(ingest({ inboundId: stored!.id }, { ...deps(), scanner: down })).rejects.toBeInstanceOf(ScannerUnavailableError);
      expect((await getInbound(api.t.db, stored!.id))!.state).toBe('received');
    } finally {
      await clamd.close();
    }
  });

  it('stores a file mailed twice once', async () => {
    const before = await blobs();
    const row = await ingestRaw(await mail({ id: 'att-2@corp.test', subject: 'Plan again', text: 'Same plan', attachments: [{ filename: 'plan-copy.png', content: PNG, contentType: 'image/png' }] }));
    expect(row.state).toBe('posted');
    expect(await blobs()).toBe(before);
    expect((await view(row.postId!)).attachments.map((a) => a.name)).toEqual(['plan-copy.png']);
  });

  it('stops serving the files of a retracted post, and erasing the author deletes them', async () => {
    const [png] = (await view(postId)).attachments;
    await tombstonePost(api.t.db, postId, false);
    expect((await get(png!.url!)).statusCode).toBe(404);
    await api.t.db.transaction((tx) => erasePerson(tx, aliceId, 'test'));
    expect(await api.t.db.select().from(schema.attachments).where(eq(schema.attachments.postId, postId))).toEqual([]);
    expect(await blobs()).toBe(0);
  });
});
