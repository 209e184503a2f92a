// Blend's outgoing mail is DKIM-signed (BLEND_DKIM_*): sent by the worker through the real
// Postfix, read back from Dovecot, and verified with mailauth against the public key as a DNS
// resolver serves it. DMARC passes on the aligned signature alone (SPF is set to fail), which
// is what keeps mirrors, notifications and digests out of spam (docs/SECURITY.md B32).
import { generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { authenticate } from 'mailauth';
import { addressingFrom, dkimTxtRecord } from '@blend/config';
import { newMessageId } from '@blend/core';
import { addOutbound } from '@blend/db';
import { staticResolver } from '@blend/mail';
import { createProducerRedis, createQueues, enqueueSend, type Queues } from '@blend/queue';
import { waitFor } from './support/database';
import { fetchRawMessages, headerValues } from './support/mail-server';
import { startStack, type Stack } from './support/stack';

const SELECTOR = 'blend2026';
const pem = (k: KeyObject) => k.export({ type: 'pkcs8', format: 'pem' }).toString();
const key = pem(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey);
const otherKey = pem(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey);

let s: Stack;
let redis: Redis;
let queues: Queues;

beforeAll(async () => {
  // The key as Kubernetes or Docker mounts it: a file, named by BLEND_DKIM_PRIVATE_KEY_FILE.
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'blend-dkim-')), 'dkim.pem');
  writeFileSync(file, key, { mode: 0o600 });
  s = await startStack({ BLEND_DKIM_SELECTOR: SELECTOR, BLEND_DKIM_PRIVATE_KEY_FILE: file });
  redis = createProducerRedis(s.config.REDIS_URL);
  redis.on('error', () => undefined);
  queues = createQueues(redis, s.config.BLEND_QUEUE_PREFIX);
  await s.startWorker();
}, 60_000);

afterAll(async () => {
  await queues?.close();
  redis?.disconnect();
  await s?.stop();
}, 60_000);

/** The bridge domain's DNS: the DKIM key at SELECTOR._domainkey, DMARC p=reject, SPF that allows nobody. */
function bridgeDns(publishedKey: string) {
  const d = s.mail.domain;
  return staticResolver({
    [d]: { TXT: ['v=spf1 -all'] },
    [`_dmarc.${d}`]: { TXT: ['v=DMARC1; p=reject; adkim=s'] },
    [`${SELECTOR}._domainkey.${d}`]: { TXT: [dkimTxtRecord(publishedKey)] },
  });
}

/** One outbox row sent by the worker to a person; its copy as Dovecot stores it. */
async function sendAndReceive(subject: string): Promise<Buffer> {
  const id = randomUUID();
  const messageId = newMessageId(id, addressingFrom(s.config));
  const to = `reader-${id.slice(0, 8)}@${s.people.domain}`;
  await addOutbound(s.db.db, { id, kind: 'test', toAddress: to, messageId, subject, textBody: `${subject}\n\nA line of text, and an ümlaut.\n` });
  await enqueueSend(queues.send, id);
  const got = await waitFor(async () => (await fetchRawMessages(s.people.imapUrl)).find((m) => headerValues(m.source, 'Message-ID').includes(`<${messageId}>`)), 'the mail in the reader\'s mailbox');
  return got.source;
}

const verify = (raw: Buffer, publishedKey: string) =>
  authenticate(raw, {
    ip: '127.0.0.1',
    helo: 'localhost',
    sender: headerValues(raw, 'Return-Path')[0]!.replace(/^<|>$/g, ''),
    mta: 'test',
    resolver: bridgeDns(publishedKey) as never,
    disableArc: true,
    disableBimi: true,
  });

describe('DKIM signing of outgoing mail', () => {
  it('signs with the bridge domain and the selector; mailauth verifies it and DMARC passes on it alone', async () => {
    const raw = await sendAndReceive('Signed by Blend');
    const [signature] = headerValues(raw, 'DKIM-Signature');
    expect(signature).toMatch(new RegExp(`\\bd=${s.mail.domain.replace(/\./g, '\\.')};`));
    expect(signature).toMatch(new RegExp(`\\bs=${SELECTOR};`));
    expect(signature).toMatch(/\ba=rsa-sha256;/);
    const res = await verify(raw, key);
    expect(res.dkim.results).toHaveLength(1);
    expect(res.dkim.results[0]).toMatchObject({ signingDomain: s.mail.domain, status: { result: 'pass' } });
    expect(res.spf && res.spf.status.result).toBe('fail');
    expect(res.dmarc && res.dmarc.status.result).toBe('pass');
  });

  it('does not verify against another key, nor once the mail was altered', async () => {
    const raw = await sendAndReceive('Signed, then checked against the wrong key');
    expect((await verify(raw, otherKey)).dkim.results[0]?.status.result).toBe('fail');
    const altered = Buffer.from(raw.toString('latin1').replace('A line of text', 'A line of test'), 'latin1');
    expect(altered.equals(raw)).toBe(false);
    const res = await verify(altered, key);
    // mailauth says `neutral` for a body hash that no longer matches (RFC 6376 section 6.3).
    expect(res.dkim.results[0]?.status.result).not.toBe('pass');
    expect(res.dmarc && res.dmarc.status.result).toBe('fail');
  });
});
