// BLEND_SENDER_AUTH=trusted-mta with BLEND_TRUSTED_RECEIVED_BY, end to end through the real
// Postfix and Dovecot (docs/SECURITY.md, B8): an Authentication-Results header with the
// organisation's authserv-id counts only when it was added above the Received header where the
// mail entered the organisation. Here the local Postfix is that entry hop and adds no stamp of
// its own (as a milter that skipped a message or failed open), so whatever stamp a sender
// writes is below it and is not believed; a mail stamped inside the organisation is.
import { execFileSync } from 'node:child_process';
import { hostname } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseImapUrl } from '@blend/mail';
import { sendRaw, withImap } from './support/mail-server';
import { buildMessage, finalRow } from './support/messages';
import { startStack, type Stack } from './support/stack';

const AUTHSERV = 'mx.corp.test';
const PASS = `${AUTHSERV}; spf=pass smtp.mailfrom=corp.test; dkim=pass header.d=corp.test; dmarc=pass header.from=corp.test`;

/** The names the local Postfix and Dovecot write in their Received headers' `by` clause. */
function localMtaNames(): string[] {
  let postfix = '';
  try {
    postfix = execFileSync('postconf', ['-h', 'myhostname'], { encoding: 'utf8' }).trim();
  } catch {
    // postconf not on PATH: Postfix's default myhostname is the machine's name.
  }
  return [...new Set([postfix, hostname()].filter(Boolean).map((h) => h.toLowerCase()))];
}

let s: Stack;
let bridge: string;

beforeAll(async () => {
  s = await startStack({
    BLEND_POLL_INTERVAL_MS: '1000',
    BLEND_SENDER_AUTH: 'trusted-mta',
    BLEND_AUTHSERV_ID: AUTHSERV,
    BLEND_TRUSTED_RECEIVED_BY: [...localMtaNames(), AUTHSERV].join(','),
  });
  bridge = `status@${s.mail.domain}`;
  await s.person('alice@corp.test', { name: 'Alice' });
});
afterAll(async () => s?.stop());

describe('trusted-mta with BLEND_TRUSTED_RECEIVED_BY', () => {
  it('does not believe a passing stamp the sender wrote under the entry hop', async () => {
    const m = buildMessage({ from: 'Alice <alice@corp.test>', to: bridge, subject: 'Forged stamp', headers: { 'Authentication-Results': PASS } });
    await sendRaw(m.raw, { from: 'alice@corp.test', to: bridge });
    const row = await finalRow(s.db.db, m.messageId);
    expect({ state: row.state, reason: row.reason, postId: row.postId }).toEqual({ state: 'rejected', reason: 'unauthenticated', postId: null });
  });

  it('does not believe a stamp above a Received header naming the MTA that the sender forged too', async () => {
    const m = buildMessage({
      from: 'Alice <alice@corp.test>',
      to: bridge,
      subject: 'Forged stamp and forged hop',
      headers: {
        'Authentication-Results': PASS,
        Received: `from mail.corp.test (mail.corp.test [10.0.0.5]) by ${AUTHSERV} (Postfix) with ESMTPS id 4F1A2; ${new Date().toUTCString()}`,
      },
    });
    await sendRaw(m.raw, { from: 'alice@corp.test', to: bridge });
    const row = await finalRow(s.db.db, m.messageId);
    expect({ state: row.state, reason: row.reason }).toEqual({ state: 'rejected', reason: 'unauthenticated' });
  });

  it('publishes a mail the organisation stamped above its entry hop', async () => {
    const m = buildMessage({ from: 'Alice <alice@corp.test>', to: bridge, subject: 'Stamped inside the organisation' });
    const stamped =
      `Authentication-Results: ${PASS}\r\n` +
      `Received: from mail.corp.test (mail.corp.test [10.0.0.5]) by ${AUTHSERV} (Postfix) with ESMTPS id 5B2C3; ${new Date().toUTCString()}\r\n` +
      m.raw;
    // Delivered into the mailbox as the organisation's MTA left it (IMAP APPEND adds no header).
    await withImap(s.mail.imapUrl, async (client) => {
      await client.append(parseImapUrl(s.mail.imapUrl).folder, stamped);
    });
    const row = await finalRow(s.db.db, m.messageId);
    expect(row.state).toBe('posted');
    expect(row.postId).not.toBeNull();
  });
});
