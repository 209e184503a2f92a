import { describe, expect, it } from 'vitest';
import { classify, type Classification, type ClassifyContext } from './classify';
import type { MailInput } from './types';

const ctx: ClassifyContext = { addressing: { mode: 'domain', domain: 'blend.example.test' } };
/** One mailbox, bridge@corp.com, in the staff's own domain. */
const plusCtx: ClassifyContext = { addressing: { mode: 'plus', mailbox: 'bridge', domain: 'corp.com' } };
const UUID = '0f8fad5b-d9cb-469f-a165-70867728950e';

interface Spec {
  from?: string | null;
  subject?: string;
  messageId?: string | null;
  inReplyTo?: string[];
  references?: string[];
  headers?: Record<string, string | string[]>;
}

/** A plain person-to-bridge mail, changed only where a case says so. */
function mail(spec: Spec = {}): MailInput {
  const headers: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(spec.headers ?? {})) {
    headers[name] = Array.isArray(value) ? value : [value];
  }
  const from = spec.from === undefined ? 'jane@corp.com' : spec.from;
  return {
    messageId: spec.messageId === undefined ? 'abc123@mail.corp.com' : spec.messageId,
    inReplyTo: spec.inReplyTo ?? [],
    references: spec.references ?? [],
    subject: spec.subject ?? 'Quarterly numbers',
    from: from === null ? null : { address: from, name: '' },
    to: [{ address: 'status@blend.example.test', name: '' }],
    cc: [],
    deliveredTo: ['status@blend.example.test'],
    date: new Date('2025-01-02T03:04:05Z'),
    headers,
    text: 'Hello',
    html: null,
  };
}

const DSN = 'multipart/report; report-type=delivery-status; boundary="x"';

describe('classify', () => {
  it.each<[string, Spec, Classification]>([
    // new thread and reply
    ['plain new mail', {}, { kind: 'new_thread' }],
    ['no sender, no ids', { from: null, messageId: null }, { kind: 'new_thread' }],
    ['reply via In-Reply-To', { inReplyTo: ['p@x.com'] }, { kind: 'reply', parentIds: ['p@x.com'] }],
    ['reply via References', { references: ['r0@x.com', 'r1@x.com'] }, { kind: 'reply', parentIds: ['r1@x.com', 'r0@x.com'] }],
    ['references to itself only', { messageId: 'self@x.com', references: ['self@x.com'] }, { kind: 'new_thread' }],
    ['X-Auto-Response-Suppress alone is a person', { headers: { 'x-auto-response-suppress': 'All' } }, { kind: 'new_thread' }],
    ['Auto-Submitted: no is a person', { headers: { 'auto-submitted': 'no' } }, { kind: 'new_thread' }],
    ['Precedence: normal', { headers: { precedence: 'normal' } }, { kind: 'new_thread' }],
    ['X-Autoreply: no', { headers: { 'x-autoreply': 'no' } }, { kind: 'new_thread' }],
    ['a person answering an out-of-office', { subject: 'Re: Out of Office: Budget', inReplyTo: ['o@x.com'] }, { kind: 'reply', parentIds: ['o@x.com'] }],
    ['human subject starting like OOO', { subject: 'Out of office party on Friday' }, { kind: 'new_thread' }],
    ['human subject about absence', { subject: 'Absence policy update' }, { kind: 'new_thread' }],
    ['sender named like noreply but is not', { from: 'noreplyjane@corp.com' }, { kind: 'new_thread' }],
    ['report-free content type', { headers: { 'content-type': 'multipart/mixed; boundary="x"' } }, { kind: 'new_thread' }],

    // own mail: loop prevention comes first
    ['from the bridge domain', { from: 'digest@blend.example.test' }, { kind: 'own_mail', reason: 'from_bridge_domain' }],
    ['from the bridge domain, case', { from: 'Digest@BLEND.Example.Test' }, { kind: 'own_mail', reason: 'from_bridge_domain' }],
    ['origin header', { headers: { 'x-blend-origin': 'v1.abc' } }, { kind: 'own_mail', reason: 'origin_header' }],
    ['own message-id', { messageId: `blend.${UUID}@BLEND.example.test` }, { kind: 'own_mail', reason: 'own_message_id' }],
    [
      'own mail even when auto-submitted and bounced back',
      { from: 'digest@blend.example.test', headers: { 'auto-submitted': 'auto-generated', 'return-path': '<>' } },
      { kind: 'own_mail', reason: 'from_bridge_domain' },
    ],
    ['look-alike bridge domain is not own', { from: 'digest@blend.example.test.evil.io' }, { kind: 'new_thread' }],
    ['sub-domain message-id is not own', { messageId: `blend.${UUID}@evil.blend.example.test` }, { kind: 'new_thread' }],
    ['another id at the bridge domain is not own', { messageId: `${UUID}@blend.example.test` }, { kind: 'new_thread' }],

    // bounces
    ['DSN', { headers: { 'content-type': DSN } }, { kind: 'bounce', reason: 'delivery_status' }],
    ['DSN, quoted and spaced', { headers: { 'content-type': 'Multipart/Report; Report-Type = "delivery-status"' } }, { kind: 'bounce', reason: 'delivery_status' }],
    ['MDN', { headers: { 'content-type': 'multipart/report; report-type=disposition-notification' } }, { kind: 'bounce', reason: 'disposition_notification' }],
    ['Exim failed recipients', { headers: { 'x-failed-recipients': 'bob@corp.com' } }, { kind: 'bounce', reason: 'failed_recipients' }],
    ['from MAILER-DAEMON', { from: 'MAILER-DAEMON@mx.corp.com' }, { kind: 'bounce', reason: 'mailer_daemon' }],
    ['from postmaster', { from: 'postmaster@corp.com' }, { kind: 'bounce', reason: 'mailer_daemon' }],
    ['null return path', { headers: { 'return-path': '<>' } }, { kind: 'bounce', reason: 'null_return_path' }],
    ['null return path with space', { headers: { 'return-path': ' < > ' } }, { kind: 'bounce', reason: 'null_return_path' }],
    ['return path MAILER-DAEMON', { headers: { 'return-path': '<MAILER-DAEMON>' } }, { kind: 'bounce', reason: 'mailer_daemon' }],
    [
      'bounce wins over auto-submitted',
      { headers: { 'content-type': DSN, 'auto-submitted': 'auto-replied' } },
      { kind: 'bounce', reason: 'delivery_status' },
    ],

    // auto-generated: headers
    ['Auto-Submitted auto-replied', { headers: { 'auto-submitted': 'auto-replied' } }, { kind: 'auto_generated', reason: 'auto_submitted' }],
    ['Auto-Submitted auto-generated', { headers: { 'auto-submitted': 'Auto-Generated' } }, { kind: 'auto_generated', reason: 'auto_submitted' }],
    ['Auto-Submitted with parameters', { headers: { 'auto-submitted': 'auto-notified; owner-email="a@b"' } }, { kind: 'auto_generated', reason: 'auto_submitted' }],
    ['Auto-Submitted repeated', { headers: { 'auto-submitted': ['no', 'auto-replied'] } }, { kind: 'auto_generated', reason: 'auto_submitted' }],
    ['Precedence bulk', { headers: { precedence: 'bulk' } }, { kind: 'auto_generated', reason: 'precedence' }],
    ['Precedence junk', { headers: { precedence: ' Junk ' } }, { kind: 'auto_generated', reason: 'precedence' }],
    ['Precedence list', { headers: { precedence: 'list', 'list-id': '<team.lists.corp.com>' } }, { kind: 'auto_generated', reason: 'precedence' }],
    ['Precedence auto_reply', { headers: { precedence: 'auto_reply' } }, { kind: 'auto_generated', reason: 'precedence' }],
    ['X-Autoreply', { headers: { 'x-autoreply': 'yes' } }, { kind: 'auto_generated', reason: 'autoreply_header' }],
    ['X-Autorespond', { headers: { 'x-autorespond': 'Vacation' } }, { kind: 'auto_generated', reason: 'autoreply_header' }],
    ['X-Autogenerated', { headers: { 'x-autogenerated': 'Reply' } }, { kind: 'auto_generated', reason: 'autoreply_header' }],
    [
      'X-Auto-Response-Suppress with a real signal',
      { headers: { 'x-auto-response-suppress': 'All', 'auto-submitted': 'auto-replied' } },
      { kind: 'auto_generated', reason: 'auto_submitted' },
    ],
    ['ARF feedback report', { headers: { 'content-type': 'multipart/report; report-type=feedback-report' } }, { kind: 'auto_generated', reason: 'report' }],
    ['report without a type', { headers: { 'content-type': 'multipart/report; boundary=x' } }, { kind: 'auto_generated', reason: 'report' }],

    // auto-generated: out-of-office subjects in several languages
    ...[
      'Out of Office: Quarterly numbers',
      'Out of Office AutoReply: Quarterly numbers',
      'out of office',
      'Automatic reply: Quarterly numbers',
      'Auto-Reply: Quarterly numbers',
      'Automatische Antwort: Quarterly numbers',
      'Abwesenheitsnotiz: Quarterly numbers',
      'Réponse automatique : Quarterly numbers',
      'Absence : Quarterly numbers',
      'Respuesta automática: Quarterly numbers',
      'Risposta automatica: Quarterly numbers',
      'Automatisch antwoord: Quarterly numbers',
      'Resposta automática: Quarterly numbers',
      'Autosvar: Quarterly numbers',
      'Automatyczna odpowiedź: Quarterly numbers',
      '[EXT] Automatic reply: Quarterly numbers',
      'Automatic reply：Quarterly numbers',
      'Out of office - back on Monday',
      'Out of office (until 5 May)',
    ].map((subject): [string, Spec, Classification] => [
      `OOO subject ${subject}`,
      { subject, inReplyTo: ['p@x.com'] },
      { kind: 'auto_generated', reason: 'out_of_office_subject' },
    ]),

    // auto-generated: senders and bulk
    ...['noreply@corp.com', 'no-reply@corp.com', 'No_Reply@corp.com', 'do-not-reply@corp.com', 'donotreply@corp.com', 'noreply+bounces@corp.com', 'no-reply-notifications@corp.com'].map(
      (from): [string, Spec, Classification] => [`sender ${from}`, { from }, { kind: 'auto_generated', reason: 'noreply_sender' }],
    ),
    ['List-Unsubscribe without a list', { headers: { 'list-unsubscribe': '<https://news.example/u>' } }, { kind: 'auto_generated', reason: 'bulk_unsubscribe' }],

    // mailing lists
    ['List-Id', { headers: { 'list-id': 'Team list <Team.Lists.Corp.COM>' } }, { kind: 'mailing_list', listId: 'team.lists.corp.com' }],
    ['List-Id without brackets', { headers: { 'list-id': 'team.lists.corp.com' } }, { kind: 'mailing_list', listId: 'team.lists.corp.com' }],
    [
      'List-Id with List-Unsubscribe is a list',
      { headers: { 'list-id': '<team.lists.corp.com>', 'list-unsubscribe': '<mailto:leave@corp.com>' } },
      { kind: 'mailing_list', listId: 'team.lists.corp.com' },
    ],
    ['List-Post only', { headers: { 'list-post': '<mailto:team@lists.corp.com>' } }, { kind: 'mailing_list', listId: null }],
    [
      'list reply is still a list',
      { inReplyTo: ['p@x.com'], headers: { 'list-id': '<team.lists.corp.com>' } },
      { kind: 'mailing_list', listId: 'team.lists.corp.com' },
    ],
  ])('%s', (_name, spec, expected) => {
    expect(classify(mail(spec), ctx)).toEqual(expected);
  });

});

describe('classify, plus mode: own mail is the mailbox, not the domain', () => {
  it.each<[string, Spec, Classification]>([
    ['staff mail from the same domain', {}, { kind: 'new_thread' }],
    ['staff named like a bridge address', { from: 'status@corp.com' }, { kind: 'new_thread' }],
    ['from the bare mailbox', { from: 'bridge@corp.com' }, { kind: 'own_mail', reason: 'from_bridge_address' }],
    ['from a sub-address, case', { from: 'Bridge+Status@CORP.com' }, { kind: 'own_mail', reason: 'from_bridge_address' }],
    ['from a reply sub-address', { from: 'bridge+reply-v1abcdefghijklmnopqrstuvwxyz@corp.com' }, { kind: 'own_mail', reason: 'from_bridge_address' }],
    ['a longer local part is staff', { from: 'bridges@corp.com' }, { kind: 'new_thread' }],
    ['look-alike domain', { from: 'bridge@corp.com.evil.io' }, { kind: 'new_thread' }],
    ['origin header', { headers: { 'x-blend-origin': 'v1.abc' } }, { kind: 'own_mail', reason: 'origin_header' }],
    ['own message-id', { messageId: `blend.${UUID}@corp.com` }, { kind: 'own_mail', reason: 'own_message_id' }],
    // Some clients make ids of a UUID and the sender's domain: that alone is not ours.
    ['staff message-id at the shared domain', { messageId: `${UUID}@corp.com` }, { kind: 'new_thread' }],
    ['staff message-id starting blend.', { messageId: 'blend.notes.2026@corp.com' }, { kind: 'new_thread' }],
  ])('%s', (_name, spec, expected) => {
    expect(classify(mail(spec), plusCtx)).toEqual(expected);
  });
});
