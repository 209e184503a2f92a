import { composeDigest, type ActivityItem } from '@blend/core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  convertTemplates,
  renderCorrectionMail,
  renderDigestMail,
  renderMirrorMail,
  renderNotificationMail,
  renderReceiptMail,
  warmTemplates,
  type DigestMailInput,
} from './index';

const PREFS = 'https://blend.example/preferences';
const POST = 'https://blend.example/posts/p1?x=1&y=2';
const XSS = '<script>alert("x")</script>';

beforeAll(async () => {
  await warmTemplates();
}, 60_000);

let seq = 0;
const activity = (postId: string, at: string, over: Partial<ActivityItem> = {}): ActivityItem => ({
  kind: 'comment',
  postId,
  commentId: `c${++seq}`,
  threadTitle: `Thread ${postId}`,
  groupName: 'Engineering',
  authorName: 'Alice Example',
  authorEmail: 'alice@example.com',
  source: 'esn',
  text: `Comment ${seq}`,
  at: new Date(at),
  mentionsMe: false,
  ...over,
});

function digestInput(items: ActivityItem[], opts?: Parameters<typeof composeDigest>[1]): DigestMailInput {
  const d = composeDigest(items, opts);
  return {
    recipientName: 'Bob',
    frequency: 'daily',
    digest: {
      ...d,
      threads: d.threads.map((t) => ({ ...t, url: `https://blend.example/posts/${t.postId}`, replyAddress: `reply+tok-${t.postId}@blend.example` })),
    },
    preferencesUrl: PREFS,
    unsubscribeUrl: 'https://blend.example/unsubscribe?t=abc',
    timezone: 'Europe/Berlin',
  };
}

const allMails = () => [
  renderMirrorMail({ authorName: 'Alice', text: 'Hi', postTitle: 'T', postUrl: POST, preferencesUrl: PREFS }),
  renderCorrectionMail({ authorName: 'Alice', change: 'deleted', text: '', postTitle: 'T', postUrl: POST, preferencesUrl: PREFS }),
  renderNotificationMail({ recipientName: 'Bob', threadTitle: 'T', postUrl: POST, items: [{ kind: 'reply', authorName: 'A', text: 'x', at: new Date() }], preferencesUrl: PREFS, timezone: 'UTC' }),
  renderReceiptMail({ outcome: 'rejected', subject: 'S', reason: 'too_large', preferencesUrl: PREFS }),
  renderDigestMail(digestInput([activity('p1', '2026-01-01T10:00:00Z')])),
];

describe('all mails', () => {
  it('have Outlook conditional comments, a Preferences link, the Blend line, single-line subjects', () => {
    for (const m of allMails()) {
      expect(m.html).toContain('<!--[if mso');
      expect(m.html).toContain(`href="${PREFS}"`);
      expect(m.html).toContain('Sent by Blend');
      expect(m.text).toContain(`Preferences: ${PREFS}`);
      expect(m.text).toContain('\n-- \n');
      expect(m.subject).not.toMatch(/[\r\n]/);
    }
  });
});

describe('renderMirrorMail', () => {
  const mirror = () =>
    renderMirrorMail({
      authorName: 'Alice',
      text: `Looks good ${XSS}\nsecond line`,
      postTitle: 'Budget 2026',
      postUrl: POST,
      preferencesUrl: PREFS,
    });

  it('escapes the comment in HTML and keeps line breaks', () => {
    const m = mirror();
    expect(m.html).not.toContain('<script>');
    expect(m.html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;<br>');
    expect(m.html).toContain('href="https://blend.example/posts/p1?x=1&amp;y=2"');
  });

  it('text part: the comment first, then "-- " and the footer', () => {
    const m = mirror();
    expect(m.text.startsWith(`Looks good ${XSS}\nsecond line\n\n-- \n`)).toBe(true);
    expect(m.text).toContain('Alice commented on Blend.');
    expect(m.text).toContain(`View the thread: ${POST}`);
    expect(m.text).toContain('Reply to this mail to answer in the thread.');
  });

  it.each([
    ['Budget 2026', 'Re: Budget 2026'],
    ['Re: Budget', 'Re: Budget'],
    ['RE:Budget', 'RE:Budget'],
    ['Line one\r\nBcc: evil@example.com', 'Re: Line one Bcc: evil@example.com'],
    ['', 'Re: (no subject)'],
  ])('subject of %j is %j', (postTitle, subject) => {
    expect(renderMirrorMail({ authorName: 'A', text: 'x', postTitle, postUrl: POST, preferencesUrl: PREFS }).subject).toBe(subject);
  });
});

describe('renderCorrectionMail', () => {
  it('edited: the new text, escaped', () => {
    const m = renderCorrectionMail({ authorName: 'Alice', change: 'edited', text: `New ${XSS}`, postTitle: 'Budget', postUrl: POST, preferencesUrl: PREFS });
    expect(m.subject).toBe('Re: Budget');
    expect(m.text.startsWith(`Alice edited their comment:\n\nNew ${XSS}\n`)).toBe(true);
    expect(m.html).toContain('Alice edited their comment:');
    expect(m.html).toContain('New &lt;script&gt;');
    expect(m.html).not.toContain('<script>');
  });

  it('deleted: one line', () => {
    const m = renderCorrectionMail({ authorName: 'Alice', change: 'deleted', text: '', postTitle: 'Re: Budget', postUrl: POST, preferencesUrl: PREFS });
    expect(m.subject).toBe('Re: Budget');
    expect(m.text.startsWith('Alice deleted their comment.\n\n-- \n')).toBe(true);
  });
});

describe('renderNotificationMail', () => {
  const at = new Date('2026-07-01T12:00:00Z');
  const base = { recipientName: 'Bob', threadTitle: 'Budget', postUrl: POST, preferencesUrl: PREFS, timezone: 'Europe/Berlin' };

  it.each<[string, { kind: 'mention' | 'reply'; authorName: string }[], string]>([
    ['mention', [{ kind: 'mention', authorName: 'Alice' }], 'Alice mentioned you in “Budget”'],
    ['reply', [{ kind: 'reply', authorName: 'Alice' }], 'Alice replied to “Budget”'],
    ['no name', [{ kind: 'reply', authorName: '' }], 'Someone replied to “Budget”'],
    ['several', [{ kind: 'reply', authorName: 'A' }, { kind: 'mention', authorName: 'B' }, { kind: 'reply', authorName: 'C' }], '3 new updates in “Budget”'],
  ])('subject: %s', (_name, items, subject) => {
    const m = renderNotificationMail({ ...base, items: items.map((i) => ({ ...i, text: 'x', at })) });
    expect(m.subject).toBe(subject);
  });

  it('shows times in the recipient zone and escapes the text', () => {
    const m = renderNotificationMail({ ...base, items: [{ kind: 'mention', authorName: 'Alice', text: `Hey @bob ${XSS}`, at }] });
    expect(m.text).toContain('Alice mentioned you, Wed 1 Jul, 14:00:');
    expect(m.text).toContain(`Hey @bob ${XSS}`);
    expect(m.text).toContain(`View the thread: ${POST}`);
    expect(m.html).toContain('Wed 1 Jul, 14:00');
    expect(m.html).not.toContain('<script>');
  });

  it('an unknown zone shows UTC', () => {
    const m = renderNotificationMail({ ...base, timezone: 'Not/AZone', items: [{ kind: 'reply', authorName: 'A', text: 'x', at }] });
    expect(m.text).toContain('Wed 1 Jul, 12:00');
  });
});

describe('renderReceiptMail', () => {
  const published = {
    title: 'Budget',
    text: `Exactly this ${XSS}`,
    postUrl: POST,
    undoUrl: 'https://blend.example/undo?t=1',
    fixUrl: 'https://blend.example/fix?t=1',
    validMinutes: 30,
    preferencesUrl: PREFS,
  };

  it('posted: subject, the exact text, Undo and Fix with their validity', () => {
    const m = renderReceiptMail({ outcome: 'posted', ...published });
    expect(m.subject).toBe('Published: Budget');
    expect(m.text).toContain(`This is exactly what was published:\n\nExactly this ${XSS}\n`);
    expect(m.text).toContain('Undo (remove it): https://blend.example/undo?t=1');
    expect(m.text).toContain('Fix (edit it): https://blend.example/fix?t=1');
    expect(m.text).toContain('30 minutes');
    expect(m.html).toContain('href="https://blend.example/undo?t=1"');
    expect(m.html).toContain('href="https://blend.example/fix?t=1"');
    expect(m.html).toContain('Exactly this &lt;script&gt;');
    expect(m.text).not.toContain('Reply to this mail');
  });

  it('commented: subject', () => {
    const m = renderReceiptMail({ outcome: 'commented', ...published, validMinutes: 90 });
    expect(m.subject).toBe('Your comment on “Budget” was published');
    expect(m.text).toContain('1 hour and 30 minutes');
  });

  it('not published: subject and the plain-English reason', () => {
    const m = renderReceiptMail({ outcome: 'held', subject: 'Q3 numbers\r\nX-Evil: 1', reason: 'unclear_quote', preferencesUrl: PREFS });
    expect(m.subject).toBe('Not published: Q3 numbers X-Evil: 1');
    expect(m.text).toContain('Why: Blend could not tell your new text apart from the quoted conversation, so it published nothing.');
    expect(m.text).toContain('What you can do: Reply again with your text above the quoted mail, or ask IT to release it.');
    expect(m.html).toContain('What you can do:');
  });

  it('a javascript: link is neutralised', () => {
    const m = renderReceiptMail({ outcome: 'posted', ...published, undoUrl: 'javascript:alert(1)' });
    expect(m.html).not.toContain('javascript:');
    expect(m.html).toContain('href="#"');
  });
});

describe('renderDigestMail', () => {
  const items = [
    activity('p1', '2026-01-01T08:00:00Z', { text: `Old ${XSS}` }),
    activity('p2', '2026-01-01T09:00:00Z', { authorName: '', authorEmail: 'carol@example.com', source: 'email' }),
    activity('p3', '2026-01-01T10:00:00Z', { mentionsMe: true }),
    ...Array.from({ length: 7 }, (_, i) => activity('p1', `2026-01-01T07:0${i}:00Z`)),
  ];

  it('subject counts threads and updates', () => {
    expect(renderDigestMail(digestInput(items)).subject).toBe('Your daily Blend digest: 3 threads, 10 updates');
    const one = renderDigestMail({ ...digestInput([activity('p9', '2026-01-01T08:00:00Z')]), frequency: 'weekly' });
    expect(one.subject).toBe('Your weekly Blend digest: 1 thread, 1 update');
  });

  it('lists threads in the given order with their reply addresses', () => {
    const m = renderDigestMail(digestInput(items));
    const order = ['p3', 'p2', 'p1'];
    const htmlPos = order.map((p) => m.html.indexOf(`mailto:reply+tok-${p}@blend.example`));
    const textPos = order.map((p) => m.text.indexOf(`Reply to this thread: reply+tok-${p}@blend.example`));
    for (const pos of [htmlPos, textPos]) {
      expect(pos.every((p) => p >= 0)).toBe(true);
      expect([...pos].sort((a, b) => a - b)).toEqual(pos);
    }
    expect(m.html).toContain('mailto:reply+tok-p3@blend.example?subject=Re%3A%20Thread%20p3');
    expect(m.html).toContain('Reply to this thread');
    expect(m.html).toContain('href="https://blend.example/unsubscribe?t=abc"');
    expect(m.text).toContain('Unsubscribe: https://blend.example/unsubscribe?t=abc');
  });

  it('shows authors (email when no name), times in the zone, counts and escapes', () => {
    const m = renderDigestMail(digestInput(items));
    expect(m.text).toContain('carol@example.com, Thu 1 Jan, 10:00 (by mail):');
    expect(m.text).toContain('3 earlier updates not shown');
    expect(m.text).toContain('You were mentioned');
    expect(m.text).toContain('Times are in Europe/Berlin.');
    expect(m.html).toContain('Old &lt;script&gt;');
    expect(m.html).not.toContain('<script>');
  });

  it('says how many threads were left out', () => {
    const m = renderDigestMail(digestInput(items, { maxThreads: 2 }));
    expect(m.text).toContain('1 more thread not shown');
    expect(m.html).toContain('1 more thread not shown');
    expect(m.subject).toBe('Your daily Blend digest: 3 threads, 10 updates');
  });

  it('render speed (printed, not asserted)', () => {
    const twenty = Array.from({ length: 20 }, (_, i) =>
      activity(`t${i}`, `2026-01-01T${String(i).padStart(2, '0')}:00:00Z`, { text: 'word '.repeat(120) }),
    );
    const input = digestInput(twenty);
    for (let i = 0; i < 200; i++) renderDigestMail(input);
    const n = 2000;
    const t0 = performance.now();
    for (let i = 0; i < n; i++) renderDigestMail(input);
    const perMail = (performance.now() - t0) / n;
    const size = renderDigestMail(input).html.length;
    console.log(`20-item digest: ${(perMail * 1000).toFixed(0)} µs per render, ${(size / 1024).toFixed(1)} KiB HTML`);
  });
});

describe('convertTemplates (what `pnpm build` saves as dist/mail-templates.json)', () => {
  it('converts every template once, and takes the ones it is given instead of converting them', async () => {
    const all = await convertTemplates();
    const keys = Object.keys(all);
    expect(keys.length).toBeGreaterThanOrEqual(5);
    for (const key of keys) expect(key).toMatch(/^[0-9a-f]{64}$/);
    const [first, ...rest] = keys;
    const again = await convertTemplates({ [first!]: '<!doctype html><p>saved</p>', ['0'.repeat(64)]: 'a template that no longer exists' });
    expect(again[first!]).toBe('<!doctype html><p>saved</p>');
    for (const key of rest) expect(again[key]).toBe(all[key]);
    expect(Object.keys(again).sort()).toEqual([...keys].sort());
  });
});
