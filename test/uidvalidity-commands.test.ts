import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { and, count, eq } from 'drizzle-orm';
import { schema } from '@blend/db';
import { waitFor } from './support/database';
import { asDelivered, withImap } from './support/mail-server';
import { buildMessage } from './support/messages';
import { startStack, type Stack } from './support/stack';

// A new UIDVALIDITY makes the poller read the whole mailbox again (RFC 3501 2.3.1.1). Mail whose
// effect is an action, not a post — commands and likes — must not act a second time on the copies
// (docs/SECURITY.md B29), and mail that arrived meanwhile must still go through.
let s: Stack | undefined;
afterEach(async () => {
  await s?.stop();
  s = undefined;
}, 120_000);

const fast = { BLEND_POLL_INTERVAL_MS: '1000', BLEND_RECONCILE_INTERVAL_MS: '2000', BLEND_RATE_SENDER_PER_MINUTE: '0', BLEND_RATE_SENDER_PER_HOUR: '0', BLEND_RATE_THREAD_PER_MINUTE: '0', BLEND_RATE_ORG_PER_MINUTE: '0' };

const states = async (stack: Stack) => {
  const rows = await stack.db.db.select({ state: schema.inboundMessages.state, n: count() }).from(schema.inboundMessages).groupBy(schema.inboundMessages.state);
  return Object.fromEntries(rows.map((r) => [r.state, r.n])) as Record<string, number>;
};
const allFinal = (stack: Stack, n: number) =>
  waitFor(
    async () => {
      const by = await states(stack);
      const total = Object.values(by).reduce((a, b) => a + b, 0);
      return total === n && !by.received ? by : undefined;
    },
    `${n} rows in a final state`,
    45_000,
    200,
  );

describe('mailed commands across a UIDVALIDITY resync', () => {
  it('the copies re-read after the mailbox is recreated do not opt people out again, re-like or reset digests; new mail still goes through', async () => {
    const folder = `Cmd${randomBytes(3).toString('hex')}`;
    s = await startStack({ ...fast }, { poller: false });
    const stack = s;
    const url = new URL(s.mail.imapUrl);
    url.pathname = `/${folder}`;
    await withImap(s.mail.imapUrl, (c) => c.mailboxCreate(folder).then(() => undefined));
    s.config.BLEND_IMAP_URL = url.toString();
    const bridge = `status@${s.mail.domain}`;
    const tokens = {
      alice: await s.person('alice@corp.test'),
      bob: await s.person('bob@corp.test'),
      carol: await s.person('carol@corp.test'),
      dave: await s.person('dave@corp.test'),
    };
    const tag = randomBytes(3).toString('hex');
    const post = buildMessage({ from: 'alice@corp.test', to: bridge, subject: 'Quarterly numbers', body: 'They are in.', messageId: `post-${tag}@corp.test` });
    const like = buildMessage({ from: 'bob@corp.test', to: bridge, subject: 'Re: Quarterly numbers', body: '+1', inReplyTo: post.messageId, messageId: `like-${tag}@corp.test` });
    const optOut = buildMessage({ from: 'carol@corp.test', to: bridge, subject: 'opt out', body: 'opt out', messageId: `optout-${tag}@corp.test` });
    const digest = buildMessage({ from: 'alice@corp.test', to: bridge, subject: 'digest weekly', body: 'digest weekly', messageId: `digest-${tag}@corp.test` });
    // No Message-ID at all: the copy is known by its content digest (I2).
    const bare = buildMessage({ from: 'dave@corp.test', to: bridge, subject: 'Opt-Out', body: 'please' }).raw.replace(/^Message-ID: .*\r\n/m, '');
    const append = (raws: { raw: string; from: string }[]) =>
      withImap(url.toString(), async (c) => {
        for (const m of raws) await c.append(folder, asDelivered(m.raw, m.from));
      });
    await append([{ raw: post.raw, from: 'alice@corp.test' }]);
    await s.startPoller();
    await allFinal(s, 1);
    await append([
      { raw: like.raw, from: 'bob@corp.test' },
      { raw: optOut.raw, from: 'carol@corp.test' },
      { raw: digest.raw, from: 'alice@corp.test' },
      { raw: bare, from: 'dave@corp.test' },
    ]);
    expect(await allFinal(s, 5)).toEqual({ posted: 1, liked: 1, command: 3 });
    const postId = (await s.db.db.select({ id: schema.posts.id }).from(schema.posts))[0]!.id;
    const person = async (email: string) => (await stack.db.db.select().from(schema.people).where(eq(schema.people.email, email)))[0]!;
    const likes = async () => (await stack.db.db.select({ n: count() }).from(schema.reactions).where(eq(schema.reactions.postId, postId)))[0]!.n;
    expect((await person('carol@corp.test')).optIn).toBe('opted_out');
    expect((await person('dave@corp.test')).optIn).toBe('opted_out');
    expect((await person('alice@corp.test')).digestFrequency).toBe('weekly');
    expect(await likes()).toBe(1);

    // Later, each person changes their mind on the ESN side.
    const call = async (method: 'PUT' | 'DELETE', path: string, token: string, payload?: object) => {
      const res = await stack.app.inject({ method, url: path, headers: { authorization: `Bearer ${token}` }, ...(payload ? { payload } : {}) });
      expect(res.statusCode, `${method} ${path}: ${res.body}`).toBe(200);
    };
    await call('PUT', '/api/v1/me/opt-in', tokens.carol, { state: 'opted_in' });
    await call('PUT', '/api/v1/me/opt-in', tokens.dave, { state: 'opted_in' });
    await call('DELETE', `/api/v1/posts/${postId}/reactions`, tokens.bob);
    await call('PUT', '/api/v1/me/preferences', tokens.alice, { digest_frequency: 'daily' });
    expect(await likes()).toBe(0);

    // The mailbox is recreated with the same mail (a new UIDVALIDITY), and new mail arrives.
    await s.stopPoller();
    const uidValidity = () => withImap(url.toString(), async (c) => Number((await c.mailboxOpen(folder)).uidValidity));
    const before = await uidValidity();
    await withImap(url.toString(), async (c) => {
      await c.mailboxRename(folder, `${folder}-old`);
      await c.mailboxCreate(folder);
      await c.mailboxOpen(`${folder}-old`);
      await c.messageCopy('1:*', folder);
    });
    expect(await uidValidity()).not.toBe(before);
    const fresh = buildMessage({ from: 'bob@corp.test', to: bridge, subject: 'After the move', body: 'Still here.', messageId: `fresh-${tag}@corp.test` });
    const freshLike = buildMessage({ from: 'carol@corp.test', to: bridge, subject: 'Re: Quarterly numbers', body: '+1', inReplyTo: post.messageId, messageId: `like2-${tag}@corp.test` });
    await append([
      { raw: fresh.raw, from: 'bob@corp.test' },
      { raw: freshLike.raw, from: 'carol@corp.test' },
    ]);
    await s.startPoller();

    // Every copy ends as a duplicate of the mail it copies; the new post and the new like go through.
    expect(await allFinal(s, 12)).toEqual({ posted: 2, liked: 2, command: 3, duplicate: 5 });
    expect((await person('carol@corp.test')).optIn).toBe('opted_in');
    expect((await person('dave@corp.test')).optIn).toBe('opted_in');
    expect((await person('alice@corp.test')).digestFrequency).toBe('daily');
    const likers = await s.db.db
      .select({ email: schema.people.email })
      .from(schema.reactions)
      .innerJoin(schema.people, eq(schema.people.id, schema.reactions.personId))
      .where(eq(schema.reactions.postId, postId));
    expect(likers.map((l) => l.email)).toEqual(['carol@corp.test']);
    const copies = await s.db.db
      .select({ duplicateOf: schema.inboundMessages.duplicateOf })
      .from(schema.inboundMessages)
      .where(and(eq(schema.inboundMessages.state, 'duplicate')));
    expect(copies.every((c) => c.duplicateOf !== null)).toBe(true);
  }, 120_000);
});
