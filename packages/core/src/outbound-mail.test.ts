import { describe, expect, it } from 'vitest';
import { answering, outboundRow, type OutboundMail } from './outbound-mail';

const ID = '0b9c2f4e-6a1d-4c3b-9e8f-7a6b5c4d3e2f';
const addressing = { mode: 'domain', domain: 'blend.corp.test' } as const;
const minimal: OutboundMail = { kind: 'help', to: 'ann@corp.test', subject: 'Blend commands', text: 'Mail "opt in"…' };

describe('outboundRow', () => {
  it.each<[string, OutboundMail, Record<string, unknown>]>([
    [
      'a minimal notice: nulls, no headers, auto-generated, our Message-ID',
      minimal,
      {
        id: ID, kind: 'help', toAddress: 'ann@corp.test', personId: null, postId: null, commentId: null,
        messageId: `blend.${ID}@blend.corp.test`, subject: 'Blend commands', textBody: 'Mail "opt in"…', htmlBody: null,
        fromName: null, replyTo: null, inReplyTo: null, references: [], headers: {}, autoSubmitted: 'auto-generated', dedupeKey: null,
      },
    ],
    [
      'an answer to a mail',
      { ...minimal, ...answering('m1@corp.test'), dedupeKey: 'help:ann@corp.test:2026-12-06' },
      { inReplyTo: 'm1@corp.test', references: ['m1@corp.test'], autoSubmitted: 'auto-replied', dedupeKey: 'help:ann@corp.test:2026-12-06' },
    ],
    ['nothing to answer', { ...minimal, ...answering(null) }, { inReplyTo: null, references: [], autoSubmitted: 'auto-generated' }],
    [
      'the language becomes Content-Language, beside the other headers',
      { ...minimal, language: 'de', headers: { Precedence: 'bulk' } },
      { headers: { Precedence: 'bulk', 'Content-Language': 'de' } },
    ],
    [
      'a thread mail keeps what it was given',
      { ...minimal, kind: 'mirror', personId: 'p', postId: 'q', commentId: 'c', html: '<p>x</p>', fromName: 'Al via Blend', replyTo: 'reply+t@blend.corp.test', inReplyTo: 'b', references: ['a', 'b'] },
      { kind: 'mirror', personId: 'p', postId: 'q', commentId: 'c', htmlBody: '<p>x</p>', fromName: 'Al via Blend', replyTo: 'reply+t@blend.corp.test', inReplyTo: 'b', references: ['a', 'b'] },
    ],
  ])('%s', (_name, mail, expected) => {
    expect(outboundRow(mail, ID, addressing)).toMatchObject(expected);
  });
});
