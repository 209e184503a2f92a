import { describe, expect, it } from 'vitest';
import { htmlToPlainText } from '../html';
import { forwardedMessages, splitForwarded, type ForwardedMessage } from './forwarded';

const l = (...lines: string[]) => lines.join('\n');
const fwd = (from: string, date: string | null, subject: string, text: string): ForwardedMessage => ({ from, date, subject, text });

describe('splitForwarded', () => {
  it.each<[string, string, string, string, ForwardedMessage[]]>([
    [
      'Gmail',
      '',
      l('FYI', '', '---------- Forwarded message ---------', 'From: Jane <jane@x.test>', 'Date: Mon, 23 Nov 2026 at 17:45', 'Subject: Plan', 'To: Bob <bob@x.test>', '', '', 'The plan.', '', '-- ', 'Jane'),
      'FYI',
      [fwd('Jane <jane@x.test>', 'Mon, 23 Nov 2026 at 17:45', 'Plan', 'The plan.')],
    ],
    [
      'Apple',
      '',
      l('See below.', '', 'Begin forwarded message:', '', 'From: Jane <jane@x.test>', 'Subject: Plan', 'Date: 23 November 2026 at 17:45:00 CET', 'To: Bob', '', 'The plan.'),
      'See below.',
      [fwd('Jane <jane@x.test>', '23 November 2026 at 17:45:00 CET', 'Plan', 'The plan.')],
    ],
    [
      'Thunderbird German',
      '',
      l('Zur Info', '', '-------- Weitergeleitete Nachricht --------', 'Betreff: \tPlan', 'Datum: \tMon, 23 Nov 2026 17:45:00 +0100', 'Von: \tJane <jane@x.test>', 'An: \tBob', '', 'Der Plan.'),
      'Zur Info',
      [fwd('Jane <jane@x.test>', 'Mon, 23 Nov 2026 17:45:00 +0100', 'Plan', 'Der Plan.')],
    ],
    [
      'Thunderbird old German forward (Original-Nachricht)',
      'WG: Plan',
      l('Zur Info', '', '-------- Original-Nachricht --------', 'Betreff: Plan', 'Von: Jane', '', 'Der Plan.'),
      'Zur Info',
      [fwd('Jane', null, 'Plan', 'Der Plan.')],
    ],
    [
      'French',
      '',
      l('Pour info', '-------- Message transféré --------', 'Sujet :\tBudget', 'Date :\tMon, 23 Nov 2026 17:45:00 +0100', 'De :\tJean <jean@x.test>', 'Pour :\tBob', '', 'Le budget.'),
      'Pour info',
      [fwd('Jean <jean@x.test>', 'Mon, 23 Nov 2026 17:45:00 +0100', 'Budget', 'Le budget.')],
    ],
    [
      'Spanish Gmail',
      '',
      l('Para revisar', '', '---------- Mensaje reenviado ---------', 'De: Ana <ana@x.test>', 'Date: lun, 23 nov 2026 a las 17:45', 'Subject: Plan', '', 'El plan.'),
      'Para revisar',
      [fwd('Ana <ana@x.test>', 'lun, 23 nov 2026 a las 17:45', 'Plan', 'El plan.')],
    ],
    [
      'Outlook FW: with rule and header block',
      'FW: Invoice',
      l('Please pay.', '', '________________________________', 'From: Dana <dana@x.test>', 'Sent: Monday, November 23, 2026 5:45 PM', 'To: Bob', 'Subject: Invoice', '', 'Invoice attached.', '', 'From: Bob', 'Sent: Friday', 'Subject: older', '', 'Older mail.'),
      'Please pay.',
      [fwd('Dana <dana@x.test>', 'Monday, November 23, 2026 5:45 PM', 'Invoice', 'Invoice attached.')],
    ],
    [
      'Outlook German WG: with Original Message separator',
      'WG: Rechnung',
      l('Bitte zahlen.', '', '-----Ursprüngliche Nachricht-----', 'Von: Dana <dana@x.test>', 'Gesendet: Montag, 23. November 2026 17:45', 'Betreff: Rechnung', '', 'Rechnung anbei.'),
      'Bitte zahlen.',
      [fwd('Dana <dana@x.test>', 'Montag, 23. November 2026 17:45', 'Rechnung', 'Rechnung anbei.')],
    ],
    [
      'Italian Outlook I:',
      'I: Fattura',
      l('Da pagare.', 'Da: Dana <dana@x.test>', 'Inviato: lunedì', 'Oggetto: Fattura', '', 'Fattura allegata.'),
      'Da pagare.',
      [fwd('Dana <dana@x.test>', 'lunedì', 'Fattura', 'Fattura allegata.')],
    ],
    [
      'a reply header block is not a forward',
      'RE: Invoice',
      l('Paid.', '', 'From: Dana <dana@x.test>', 'Sent: Monday', 'Subject: Invoice', '', 'Please pay.'),
      'Paid.',
      [],
    ],
    [
      'Re: Fwd: is a reply',
      'Re: Fwd: Invoice',
      l('Paid.', '', 'From: Dana <dana@x.test>', 'Sent: Monday', '', 'Please pay.'),
      'Paid.',
      [],
    ],
    [
      'forward without a note',
      'Fwd: x',
      l('---------- Forwarded message ---------', 'From: Jane', 'Subject: x', '', 'Body.'),
      '',
      [fwd('Jane', null, 'x', 'Body.')],
    ],
    [
      'nested forwards become the next entries',
      '',
      l('FYI', '---------- Forwarded message ---------', 'From: Bob', '', 'Look at this.', '', '---------- Forwarded message ---------', 'From: Jane', '', 'Original.'),
      'FYI',
      [fwd('Bob', null, '', 'Look at this.'), fwd('Jane', null, '', 'Original.')],
    ],
    [
      "the forwarded message's own quotes and signature are trimmed",
      '',
      l('FYI', 'Begin forwarded message:', 'From: Jane', '', 'Agreed.', '', 'Best regards,', 'Jane Doe', '', 'On Mon, Bob <bob@x.test> wrote:', '> Agree?'),
      'FYI',
      [fwd('Jane', null, '', l('Agreed.', '', 'Best regards,'))],
    ],
    ['a quoted forward caption is not a forward', '', l('Yes.', '> ---------- Forwarded message ---------', '> From: Jane'), 'Yes.', []],
    ['plain mail', '', 'Hello', 'Hello', []],
  ])('%s', (_name, subject, text, note, forwarded) => {
    expect(splitForwarded(text, { subject })).toEqual({ note, forwarded });
    expect(forwardedMessages(text, { subject })).toEqual(forwarded);
  });

  it('splits a Gmail HTML forward after htmlToPlainText', () => {
    const html =
      '<div dir="ltr">FYI<br><br><div class="gmail_quote"><div dir="ltr" class="gmail_attr">---------- Forwarded message ---------<br>From: <strong class="gmail_sendername" dir="auto">Dana</strong> <span dir="auto">&lt;<a href="mailto:dana@x.test">dana@x.test</a>&gt;</span><br>Date: Mon, 23 Nov 2026 at 17:45<br>Subject: Contract<br>To: Bob &lt;<a href="mailto:bob@x.test">bob@x.test</a>&gt;<br></div><br><br><div dir="ltr">Signed.</div></div></div>';
    expect(splitForwarded(htmlToPlainText(html))).toEqual({
      note: 'FYI',
      forwarded: [fwd('Dana <dana@x.test>', 'Mon, 23 Nov 2026 at 17:45', 'Contract', 'Signed.')],
    });
  });

  it('caps the number of forwarded blocks', () => {
    const text = '---------- Forwarded message ---------\nFrom: x\n\nbody\n'.repeat(100);
    expect(splitForwarded(text).forwarded).toHaveLength(20);
  });
});
