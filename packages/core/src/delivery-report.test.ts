import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readDeliveryReport, type DeliveryReport } from './delivery-report';

const FIXTURES = new URL('../../../test/fixtures/mail/', import.meta.url);
const fixture = (name: string) => readFileSync(new URL(name, FIXTURES)).toString('latin1');

/** A minimal RFC 6522 report around the given parts. */
const report = (...parts: string[]) =>
  ['From: MAILER-DAEMON@mx.corp.test', 'Content-Type: multipart/report; report-type=delivery-status; boundary="b1"', '', ...parts.flatMap((p) => ['--b1', p]), '--b1--', ''].join(
    '\r\n',
  );
const status = (fields: string) => `Content-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.corp.test\r\n\r\n${fields}\r\n`;
const returned = 'Content-Type: message/rfc822\r\n\r\nFrom: Blend <status@example.test>\r\nMessage-ID: <blend.1@Example.TEST>\r\n\r\nHello\r\n';

describe('readDeliveryReport', () => {
  it.each<[string, string, DeliveryReport]>([
    [
      'Postfix, headers only (text/rfc822-headers), folded Diagnostic-Code',
      fixture('postfix-dsn-unknown-user.eml'),
      {
        isDsn: true,
        status: '5.1.1',
        permanent: true,
        diagnostic: 'smtp; 550 5.1.1 <gone@elsewhere.test>: Recipient address rejected: User unknown in virtual mailbox table',
        originalMessageId: 'blend.6f1c2a4e-8b3d-4c5e-9a7f-0d1e2f3a4b5c@example.test',
      },
    ],
    [
      'Exchange Online NDR (returned message/rfc822)',
      fixture('exchange-ndr-recipient-not-found.eml'),
      {
        isDsn: true,
        status: '5.1.10',
        permanent: true,
        diagnostic: 'smtp;550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient gone@elsewhere.test not found by SMTP address lookup',
        originalMessageId: 'blend.0b7d9f1a-3c5e-4f7a-8b9c-1d3e5f7a9b1c@example.test',
      },
    ],
    [
      'Gmail DSN (nested multipart/related before the report)',
      fixture('gmail-dsn-no-such-user.eml'),
      {
        isDsn: true,
        status: '5.1.1',
        permanent: true,
        diagnostic: 'smtp; 550 5.1.1 <gone@elsewhere.test>: Recipient address rejected: User unknown in virtual mailbox table',
        originalMessageId: 'blend.3e5a7c9e-1f2a-4b4c-8d6e-0f2a4c6e8a0b@example.test',
      },
    ],
    [
      'a delay (4.x.x)',
      report(status('Final-Recipient: rfc822; slow@elsewhere.test\r\nAction: delayed\r\nStatus: 4.4.1\r\nDiagnostic-Code: smtp; 421 4.4.1 Connection timed out'), returned),
      { isDsn: true, status: '4.4.1', permanent: false, diagnostic: 'smtp; 421 4.4.1 Connection timed out', originalMessageId: 'blend.1@example.test' },
    ],
    [
      'the failed recipient first, whatever the order',
      report(status('Final-Recipient: rfc822; a@x.test\r\nAction: delivered\r\nStatus: 2.0.0\r\n\r\nFinal-Recipient: rfc822; b@x.test\r\nAction: failed\r\nStatus: 5.2.2 (mailbox full)')),
      { isDsn: true, status: '5.2.2', permanent: true, diagnostic: null, originalMessageId: null },
    ],
    [
      // Seen from Gmail: the report part came without fields; the returned message still names the mail.
      'an empty delivery-status part',
      report('Content-Type: message/delivery-status\r\n', returned),
      { isDsn: true, status: null, permanent: false, diagnostic: null, originalMessageId: 'blend.1@example.test' },
    ],
    [
      'only the per-message X-Original-Message-ID (Gmail)',
      report(status('Final-Recipient: rfc822; b@x.test\r\nAction: failed\r\nStatus: 5.1.1').replace('Reporting-MTA: dns; mx.corp.test', 'Reporting-MTA: dns; googlemail.com\r\nX-Original-Message-ID: <blend.2@example.test>')),
      { isDsn: true, status: '5.1.1', permanent: true, diagnostic: null, originalMessageId: 'blend.2@example.test' },
    ],
    [
      'an internationalised report (RFC 6533), returned message in base64',
      report(
        'Content-Type: message/global-delivery-status\r\n\r\nReporting-MTA: dns; mx.corp.test\r\n\r\nFinal-Recipient: utf-8; b@x.test\r\nAction: failed\r\nStatus: 5.1.1\r\n',
        `Content-Type: message/global\r\nContent-Transfer-Encoding: base64\r\n\r\n${Buffer.from('Subject: x\r\nMessage-ID: <blend.3@example.test>\r\n\r\nbody\r\n').toString('base64')}\r\n`,
      ),
      { isDsn: true, status: '5.1.1', permanent: true, diagnostic: null, originalMessageId: 'blend.3@example.test' },
    ],
    [
      // Anyone can write these lines: without a delivery-status part nothing is read.
      'a plain-text bounce without report parts',
      'From: MAILER-DAEMON@old.test\r\nSubject: failure notice\r\n\r\nSorry.\r\nStatus: 5.0.0\r\nDiagnostic-Code: X-Unix; no such user\r\n',
      { isDsn: false, status: null, permanent: false, diagnostic: null, originalMessageId: null },
    ],
    ['not a report at all', 'From: a@b.test\r\nSubject: hi\r\n\r\nStatus: fine, thanks\r\n', { isDsn: false, status: null, permanent: false, diagnostic: null, originalMessageId: null }],
    [
      'a delivery-status part inside multipart/mixed is not a DSN',
      report(status('Final-Recipient: rfc822; b@x.test\r\nAction: failed\r\nStatus: 5.1.1'), returned).replace('multipart/report; report-type=delivery-status', 'multipart/mixed'),
      { isDsn: false, status: '5.1.1', permanent: true, diagnostic: null, originalMessageId: 'blend.1@example.test' },
    ],
    [
      'a read receipt (report-type=disposition-notification) is not a DSN',
      report('Content-Type: message/disposition-notification\r\n\r\nFinal-Recipient: rfc822; b@x.test\r\nDisposition: manual-action/MDN-sent-manually; displayed\r\n', returned).replace(
        'report-type=delivery-status',
        'report-type=disposition-notification',
      ),
      { isDsn: false, status: null, permanent: false, diagnostic: null, originalMessageId: 'blend.1@example.test' },
    ],
  ])('%s', (_what, source, expected) => {
    expect(readDeliveryReport(source)).toEqual(expected);
  });
});
