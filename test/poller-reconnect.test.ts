import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PostView } from '@blend/db';
import { waitFor } from './support/database';
import { mailRoot, swaks } from './support/mail-server';
import { startStack, type Stack } from './support/stack';

// The IMAP server drops the poller's connection: the poller replaces the client after a
// backoff and goes on picking up mail without a restart.
const run = promisify(execFile);
let s: Stack;
let token: string;
beforeAll(async () => {
  s = await startStack({ BLEND_POLL_INTERVAL_MS: '600000' });
  token = await s.person('alice@corp.test');
});
afterAll(async () => s?.stop());

describe('poller reconnect', () => {
  it('reconnects after the server kicks it and keeps receiving mail via IDLE', async () => {
    await waitFor(async () => s.poller().state === 'connected', 'the first connection');
    const conf = path.join(mailRoot(), 'etc/dovecot.conf');
    await run('doveadm', ['-c', conf, 'kick', s.mail.user]);
    await waitFor(async () => s.poller().reconnects >= 1 && s.poller().state === 'connected', 'a new connection', 15_000);

    await swaks(['--to', `status@${s.mail.domain}`, '--from', 'alice@corp.test', '--header', 'Subject: After the reconnect', '--body', 'Still here.']);
    const post = await waitFor(async () => {
      const res = await s.get<{ items: PostView[] }>('/api/v1/feed', token);
      return res.body.items.find((p) => p.title === 'After the reconnect');
    }, 'the post sent after the reconnect');
    expect(post.body_text).toBe('Still here.');
  });
});
