import { describe, expect, it } from 'vitest';
import { sanitiseHtml } from '../html';
import type { MailInput } from '../types';
import { clipBody, convertMail, MAX_BODY_PART_CHARS, type ConvertedMail } from './convert';

const l = (...lines: string[]) => lines.join('\n');

function mail(part: Partial<MailInput>): MailInput {
  return {
    messageId: 'm1@corp.test', inReplyTo: [], references: [], subject: 'Re: Plan',
    from: { address: 'bob@corp.test', name: 'Bob' },
    to: [{ address: 'alice@corp.test', name: 'Alice' }, { address: 'status@example.test', name: '' }],
    cc: [{ address: 'carol@corp.test', name: 'Carol' }, { address: 'mallory@elsewhere.test', name: '' }],
    deliveredTo: [], date: null, headers: {}, text: null, html: null,
    ...part,
  };
}

const GMAIL_QUOTE =
  '<div class="gmail_quote"><div class="gmail_attr">On Tue, 24 Nov 2026 at 09:00, Alice &lt;alice@corp.test&gt; wrote:<br></div><blockquote class="gmail_quote">QUOTED history</blockquote></div>';

describe('convertMail', () => {
  it.each<[string, Partial<MailInput>, Partial<ConvertedMail>]>([
    [
      'HTML part decides the cut (quote, signature), the text part gives the lines of the same words',
      {
        text: l('Same words, wrapped', 'by the client.', '', '-- ', 'Bob', '', 'On Tue, Alice <alice@corp.test> wrote:', '> QUOTED history'),
        html: `<div>Same <b>words</b>, wrapped by the client.</div><span class="gmail_signature_prefix">-- </span><br><div class="gmail_signature">Bob</div>${GMAIL_QUOTE}`,
      },
      { bodyText: 'Same words, wrapped\nby the client.', bodyHtml: '<div>Same <b>words</b>, wrapped by the client.</div>', source: 'html', confidence: 'high', inline: false },
    ],
    [
      'a signature the HTML marks goes with its sign-off; the text part alone could not tell',
      {
        text: l('Agreed, Thursday.', '', 'Kind regards,', 'Rachel Thompson', 'Service Desk'),
        html: '<div>Agreed, Thursday.</div><div><br></div><div id="Signature"><div>Kind regards,</div><div>Rachel Thompson</div><div>Service Desk</div></div>',
      },
      { bodyText: 'Agreed, Thursday.', source: 'html' },
    ],
    [
      'the parts say different things: the text part, the client\'s own text rendering',
      {
        text: l('Plain version.', '', 'On Tue, Alice <alice@corp.test> wrote:', '> QUOTED history'),
        html: `<div>HTML <b>version</b>.</div>${GMAIL_QUOTE}`,
      },
      { bodyText: 'Plain version.', bodyHtml: '<p>Plain version.</p>', source: 'text' },
    ],
    [
      'a stub text part gives way to the HTML',
      {
        text: 'View this mail in a browser.',
        html: '<div>The quarterly figures are in: revenue is up four percent, costs are flat, and the hiring plan for the second half stands as agreed.</div>',
      },
      { bodyText: 'The quarterly figures are in: revenue is up four percent, costs are flat, and the hiring plan for the second half stands as agreed.', source: 'html' },
    ],
    [
      'text part only',
      { text: l('Yes.', '', 'On Tue, Alice <alice@corp.test> wrote:', '> QUOTED history') },
      { bodyText: 'Yes.', bodyHtml: '<p>Yes.</p>', source: 'text' },
    ],
    [
      'HTML too deep for the DOM walk: the text part',
      { text: 'From the text part.', html: `${'<div>'.repeat(300)}Deep text${'</div>'.repeat(300)}` },
      { bodyText: 'From the text part.', source: 'text', confidence: 'high' },
    ],
    [
      'HTML too deep for the DOM walk and no text part: held',
      { html: `${'<div>'.repeat(300)}Deep text${'</div>'.repeat(300)}` },
      { source: 'html', confidence: 'low' },
    ],
    [
      'HTML without visible text falls back to the text part',
      { text: 'From the text part.', html: '<div><img src="https://x.test/a.png"></div>' },
      { bodyText: 'From the text part.', source: 'text' },
    ],
    [
      'the text rules catch what the DOM walk kept: HTML rebuilt from the trimmed text',
      { html: '<div>Done.</div><blockquote style="margin:0 0 0 40px;border:none">QUOTED history</blockquote>' },
      { bodyText: 'Done.', bodyHtml: '<p>Done.</p>', source: 'html' },
    ],
    [
      'inline answers in HTML: only the answers, in order, quotes dropped',
      {
        html: '<div class="gmail_quote"><div class="gmail_attr">On Tue, 24 Nov 2026 at 09:00, Alice &lt;alice@corp.test&gt; wrote:<br></div><blockquote class="gmail_quote">Ship Thursday?</blockquote><div>Yes.</div><blockquote class="gmail_quote">Who tells QA?</blockquote><div>I do.</div><blockquote class="gmail_quote">QUOTED history</blockquote></div>',
      },
      { bodyText: 'Yes.\nI do.', bodyHtml: '<div><div>Yes.</div><div>I do.</div></div>', inline: true, source: 'html' },
    ],
    [
      'only quoted history gives an empty body (docs/SECURITY.md B20)',
      { html: GMAIL_QUOTE, text: l('On Tue, Alice <alice@corp.test> wrote:', '> QUOTED history') },
      { bodyText: '', bodyHtml: '', source: 'html' },
    ],
    ['no body at all', {}, { bodyText: '', bodyHtml: '', source: 'text', forwarded: [] }],
    [
      'unsafe markup in the author part is sanitised',
      { html: '<div onclick="x()">Hi<script>alert(1)</script><img src=x onerror=alert(1)><a href="javascript:alert(1)">link</a></div>' },
      { bodyText: 'Hilink', bodyHtml: '<div>Hi<a>link</a></div>' },
    ],
    [
      'UTF-7 text body is decoded before trimming',
      { headers: { 'content-type': ['text/plain; charset=UTF-7'] }, text: 'Gr+APwA3w-e +ADw-b+AD4-\n\nOn Tue, Alice +ADw-alice+AEA-corp.test+AD4- wrote:\n+AD4- QUOTED history' },
      { bodyText: 'Grüße <b>', bodyHtml: '<p>Grüße &lt;b&gt;</p>' },
    ],
    [
      'UTF-7 HTML body: decoded markup goes through the sanitiser',
      { headers: { 'content-type': ['text/html; charset="utf-7"'] }, html: '+ADw-div+AD4-Hallo+ADw-script+AD4-alert(1)+ADw-/script+AD4-+ADw-/div+AD4-' },
      { bodyText: 'Hallo', bodyHtml: '<div>Hallo</div>' },
    ],
    [
      'the first line keeps its indentation like the others (an ideographic space starts a Japanese paragraph)',
      { html: '<div><br></div><div>\u3000今なら無料です。</div><div>\u3000ご検討ください。</div>' },
      { bodyText: '\u3000今なら無料です。\n\u3000ご検討ください。' },
    ],
    [
      'Word spacer paragraphs do not leave blank-looking lines',
      { html: '<p class=MsoNormal>Hello,<o:p></o:p></p><p class=MsoNormal><o:p>&nbsp;</o:p></p><p class=MsoNormal><o:p>&nbsp;</o:p></p><p class=MsoNormal>done.</p>' },
      { bodyText: 'Hello,\n\ndone.' },
    ],
  ])('%s', (_name, input, expected) => {
    const out = convertMail(mail(input));
    expect(out).toMatchObject(expected);
    expect(`${out.bodyText}${out.bodyHtml}`).not.toContain('QUOTED');
    expect(sanitiseHtml(out.bodyHtml)).toBe(out.bodyHtml);
  });

  it.each<[string, Partial<MailInput>, ConvertedMail['confidenceReason']]>([
    ['well-formed reply', { text: l('Yes.', '', 'On Tue, Alice <alice@corp.test> wrote:', '> QUOTED history') }, null],
    ['HTML beyond the DOM walk, no text part', { html: `${'<div>'.repeat(300)}Deep text${'</div>'.repeat(300)}` }, 'html_unreadable'],
    ['HTML beyond the DOM walk, but a text part', { text: 'From the text part.', html: `${'<div>'.repeat(300)}Deep text${'</div>'.repeat(300)}` }, null],
    ['an unknown separator kept', { text: l('Ano.', '', '-------- Thread archive 7 --------', 'Old text?') }, 'unrecognised_history'],
    ['what the parser guessed', { text: 'Plain words.', doubt: 'no_mime_parts' }, 'no_mime_parts'],
    ['a charset guessed', { text: 'Привет.', doubt: 'charset_guessed' }, 'charset_guessed'],
  ])('confidence reason: %s', (_name, input, reason) => {
    const out = convertMail(mail(input));
    expect(out.confidenceReason).toBe(reason);
    expect(out.confidence).toBe(reason === null ? 'high' : 'low');
  });

  it('an unknown separator is kept but flags low confidence: the caller must fail closed', () => {
    const out = convertMail(mail({ text: l('Ano.', '', '-------- Původní zpráva --------', 'Od: Alice', 'Old text?') }));
    expect(out.confidence).toBe('low');
    expect(out.bodyText).toContain('Old text?');
  });

  it('splits a forward: note as body, forward apart, nothing of it in the body', () => {
    const out = convertMail(mail({
      subject: 'Fwd: Contract',
      text: l('FYI #contracts', '', '---------- Forwarded message ---------', 'From: Dana <dana@supplier.test>', 'Date: Mon', 'Subject: Contract', '', 'Signed.'),
    }));
    expect(out).toMatchObject({
      bodyText: 'FYI #contracts',
      tags: ['contracts'],
      forwarded: [{ from: 'Dana <dana@supplier.test>', date: 'Mon', subject: 'Contract', text: 'Signed.' }],
    });
    expect(out.bodyHtml).not.toMatch(/Dana|Signed/);
  });

  it('mentions: @names in the text and known people among To/Cc, never the sender or strangers', () => {
    const out = convertMail(
      mail({ text: 'Thanks @dave, see @erin@corp.test. #ship' }),
      { knownAddresses: new Set(['alice@corp.test', 'carol@corp.test', 'bob@corp.test']) },
    );
    expect(out.mentions).toEqual({ names: ['dave'], emails: ['erin@corp.test', 'alice@corp.test', 'carol@corp.test'] });
    expect(out.tags).toEqual(['ship']);
  });

  it('mentions and tags in quoted lines are ignored', () => {
    const out = convertMail(mail({ text: l('> @alice #old', 'Answer to @bob #new') }));
    expect(out.mentions.names).toEqual(['bob']);
    expect(out.tags).toEqual(['new']);
  });

  it.each<[string, Partial<MailInput>]>([
    ['text', { text: l('Done.', '', 'ACME Corp, registered in Ruritania.') }],
    ['html', { html: '<p>Done.</p><p>ACME Corp, registered in Ruritania.</p>' }],
  ])('operator disclaimer patterns apply to the %s path', (_name, input) => {
    expect(convertMail(mail(input), { disclaimerPatterns: [/registered in Ruritania/i] }).bodyText).toBe('Done.');
  });

  it('counts what was trimmed', () => {
    const out = convertMail(mail({ text: l('Yes.', '', '> a') }));
    expect(out.trimmedChars).toBe(5);
  });
});

describe('clipBody', () => {
  it.each<[string, string | null, '<' | '\n', number, string | null]>([
    ['no body', null, '<', 10, null],
    ['within the limit', '<p>short</p>', '<', 20, '<p>short</p>'],
    ['HTML cut before the last tag that starts within the limit', '<p>one</p><p>two</p>', '<', 12, '<p>one</p>'],
    ['text cut at the last line break within the limit', 'line one\nline two\nline three', '\n', 20, 'line one\nline two'],
    ['no boundary within the limit: cut at the limit', 'x'.repeat(30), '\n', 10, 'x'.repeat(10)],
  ])('%s', (_name, body, boundary, max, expected) => {
    expect(clipBody(body, boundary, max)).toBe(expected);
  });

  it('keeps the start of a huge HTML part, so the post shows the author\'s text', { timeout: 30_000 }, () => {
    const para = '<p>Numbers for the team, reply by Friday.</p>\n';
    const out = convertMail(mail({ html: `<html><body><p>The new text.</p>${para.repeat(Math.ceil((MAX_BODY_PART_CHARS * 1.5) / para.length))}</body></html>`, text: null }));
    expect(out.bodyText.startsWith('The new text.')).toBe(true);
    expect(out.bodyText.length).toBeLessThan(MAX_BODY_PART_CHARS);
  });
});
