import { describe, expect, it } from 'vitest';
import { htmlToPlainText } from '../html';
import { extractVisibleHtml, stripHtmlQuotes, stripHtmlSignature } from './html-quotes';

const text = (html: string) => htmlToPlainText(html);

const GMAIL_ATTR = '<div dir="ltr" class="gmail_attr">On Tue, 24 Nov 2026 at 09:00, Jane &lt;<a href="mailto:jane@x.test">jane@x.test</a>&gt; wrote:<br></div>';
const GMAIL_BQ = '<blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex;border-left:1px solid rgb(204,204,204);padding-left:1ex">';

describe('stripHtmlQuotes', () => {
  it.each<[string, string, string]>([
    [
      'Gmail gmail_quote',
      `<div dir="ltr">Yes.</div><br><div class="gmail_quote">${GMAIL_ATTR}${GMAIL_BQ}<div>QUOTED</div></blockquote></div>`,
      'Yes.',
    ],
    [
      'Gmail forward in gmail_quote',
      '<div dir="ltr">FYI<br><br><div class="gmail_quote"><div dir="ltr" class="gmail_attr">---------- Forwarded message ---------<br>From: Dana &lt;d@x.test&gt;<br>Date: Mon<br></div><br><div>QUOTED</div></div></div>',
      'FYI',
    ],
    [
      'Apple blockquote type=cite with attribution inside',
      '<div dir="ltr">Yes.</div><div dir="ltr"><br><blockquote type="cite">On 24 Nov 2026, at 09:00, Jane &lt;jane@x.test&gt; wrote:<br><br></blockquote></div><blockquote type="cite"><div dir="ltr">QUOTED</div></blockquote>',
      'Yes.',
    ],
    [
      'Thunderbird moz-cite-prefix',
      '<p>Yes.</p><div class="moz-cite-prefix">On 24.11.26 09:00, Jane wrote:<br></div><blockquote type="cite" cite="mid:x@y"><p>QUOTED</p></blockquote>',
      'Yes.',
    ],
    [
      'Outlook web divRplyFwdMsg after appendonsend and hr',
      '<div>Yes.</div><div id="appendonsend"></div><hr style="display:inline-block;width:98%"><div id="divRplyFwdMsg" dir="ltr"><b>From:</b> Jane<br><b>Sent:</b> Monday</div><div>QUOTED</div>',
      'Yes.',
    ],
    [
      'Outlook web re-quoted x_divRplyFwdMsg',
      '<div>Yes.</div><div id="x_divRplyFwdMsg"><b>From:</b> Jane</div><div>QUOTED</div>',
      'Yes.',
    ],
    [
      'Outlook desktop border-top header block',
      '<div class=WordSection1><p class=MsoNormal>Yes.<o:p></o:p></p><p class=MsoNormal><o:p>&nbsp;</o:p></p><div><div style="border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm"><p class=MsoNormal><b>From:</b> Jane &lt;jane@x.test&gt;<br><b>Sent:</b> Monday<br><b>Subject:</b> x</p></div></div><p class=MsoNormal>QUOTED</p></div>',
      'Yes.',
    ],
    [
      'Outlook German header block',
      '<p class=MsoNormal>Ja.</p><div style="border:none;border-top:solid #E1E1E1 1.0pt"><p class=MsoNormal><b>Von:</b> Max<br><b>Gesendet:</b> Montag<br><b>Betreff:</b> x</p></div><p class=MsoNormal>QUOTED</p>',
      'Ja.',
    ],
    [
      'hr then a From/Sent block without ids',
      '<div>Yes.</div><hr><div><b>From:</b> Jane<br><b>Date:</b> Monday<br><b>To:</b> Bob</div><div>QUOTED</div>',
      'Yes.',
    ],
    ['Yahoo yahoo_quoted', '<div>Yes.</div><div id="yahoo_quoted_1" class="yahoo_quoted"><div>On Monday, Jane wrote:</div><div>QUOTED</div></div>', 'Yes.'],
    [
      'Samsung Original message',
      '<div dir="auto">Yes.</div><div dir="auto"><br></div><div align="left"><div>-------- Original message --------</div><div>From: Jane </div><div>Date: 24/11/2026 </div></div>QUOTED<br>',
      'Yes.',
    ],
    ['Android div.quote', '<div>Yes.</div><div class="quote"><div>Jane wrote:</div><div>QUOTED</div></div>', 'Yes.'],
    ['Notes Original Message div', '<font size=2>Yes.</font><br><br><div>----- Original Message -----</div><div>From: Jane</div>QUOTED', 'Yes.'],
    [
      'Notes Von: table',
      '<font size=2>Ja.</font><br><br><table><tr valign=top><td><font size=1 color=#5f5f5f>Von: </font><td><font size=1>Anna/ACME@ACME</font><tr><td>An: <td>Max<tr><td>Datum: <td>24.11.2026<tr><td>Betreff: <td>x</table><hr noshade><tt>QUOTED</tt>',
      'Ja.',
    ],
    ['Outlook for Mac bordered blockquote', '<div>Yes.</div><blockquote style="border-left: #B5C4DF solid 1.5pt; padding:0 0 0 4pt"><div>QUOTED</div></blockquote>', 'Yes.'],
    ['Gmail indentation is not a quote', '<div>Yes.</div><blockquote style="margin:0 0 0 40px;border:none;padding:0px"><div>indented</div></blockquote>', 'Yes.\n> indented'],
    ['history inside an unknown element is still read', '<div>Yes.</div><xml><div>-----Original Message-----</div><div>QUOTED</div></xml>', 'Yes.'],
    ['nothing to strip', '<p>Hello <b>world</b></p>', 'Hello world'],
  ])('%s', (_name, html, expected) => {
    const out = stripHtmlQuotes(html);
    expect(text(out.html)).toBe(expected);
    expect(out.html).not.toContain('QUOTED');
    expect(out.removed).toBe(html.includes('QUOTED'));
  });

  it('keeps only the answers of an inline reply: quotes, attribution and trailing quote go', () => {
    const html = `<div class="gmail_quote">${GMAIL_ATTR}${GMAIL_BQ}Q1?</blockquote><div>A1.</div>${GMAIL_BQ}Q2?</blockquote><div>A2.</div>${GMAIL_BQ}REST</blockquote></div>`;
    const out = stripHtmlQuotes(html);
    expect(text(out.html)).toBe('A1.\nA2.');
    expect(out.html).not.toMatch(/Q1|Q2|REST|wrote/);
    expect(out.inline).toBe(true);
  });

  it('keeps the signature: that is stripHtmlSignature', () => {
    const out = stripHtmlQuotes('<div>Yes.</div><div>Best regards,</div><div>Jane</div>');
    expect(text(out.html)).toBe('Yes.\nBest regards,\nJane');
  });

  it('returns a document deeper than it walks unchanged, with low confidence', () => {
    const deep = `${'<div>'.repeat(5_000)}x`;
    expect(stripHtmlQuotes(deep)).toEqual({ html: deep, removed: false, inline: false, confidence: 'low' });
  });

  // A guard against work that grows with depth times width, not a speed test: such a walk on
  // these documents runs for minutes and hits the timeout.
  it('finishes on a deep or wide document', { timeout: 30_000 }, () => {
    expect(stripHtmlQuotes(`${'<div>'.repeat(5_000)}x${'</div>'.repeat(5_000)}`).confidence).toBe('low');
    expect(stripHtmlQuotes(`${'<blockquote type="cite">a</blockquote><p>b</p>'.repeat(20_000)}`).removed).toBe(true);
  });
});

describe('stripHtmlSignature', () => {
  it.each<[string, string, string]>([
    ['Gmail', '<div>Yes.</div><span class="gmail_signature_prefix">-- </span><br><div class="gmail_signature">SIG</div>', 'Yes.'],
    ['Outlook web', '<div>Yes.</div><div id="Signature"><p>SIG</p></div>', 'Yes.'],
    ['Thunderbird', '<p>Yes.</p><pre class="moz-signature" cols="72">-- \nSIG</pre>', 'Yes.'],
    ['iOS', '<div>Yes.</div><div id="AppleMailSignature">SIG</div>', 'Yes.'],
    ['Outlook mobile', '<div>Yes.</div><div id="ms-outlook-mobile-signature">SIG</div>', 'Yes.'],
    ['Samsung', '<div>Yes.</div><div id="composer_signature"><div>SIG</div></div>', 'Yes.'],
    ['a long "signature" holds the text', `<div id="AppleMailSignature">${'word '.repeat(300)}</div>`, 'word '.repeat(300).trim()],
  ])('%s', (_name, html, expected) => {
    const out = stripHtmlSignature(html);
    expect(text(out.html).replace(/\s+/g, ' ').trim()).toBe(expected);
    expect(out.removed).toBe(html.includes('SIG'));
  });
});

describe('extractVisibleHtml', () => {
  it.each<[string, string, string]>([
    ['sign-off block in Outlook lines', '<p class=MsoNormal>Done.</p><p class=MsoNormal>&nbsp;</p><p class=MsoNormal>Best regards,</p><p class=MsoNormal>Jane Doe</p><p class=MsoNormal>+49 30 1234 5678</p>', 'Done.\n\u00a0\nBest regards,'],
    ['footer and disclaimer', '<div>Done.</div><div><br></div><div>Sent from my iPhone</div><div><br></div><div>This e-mail is confidential and intended solely for the addressee.</div>', 'Done.'],
    ['Gmail signature and quote', `<div>Done.</div><br><span class="gmail_signature_prefix">-- </span><br><div class="gmail_signature">Jane</div><div class="gmail_quote">${GMAIL_ATTR}${GMAIL_BQ}QUOTED</blockquote></div>`, 'Done.'],
    ['<pre> body is cut inside its text node', '<pre>Done.\n\nOn Tue, 24 Nov 2026 at 09:00, Jane &lt;j@x.test&gt; wrote:\n&gt; QUOTED</pre>', 'Done.'],
    ['signature known only by its class', '<div>Done.</div><div class="gmail_signature">Jane Doe<br>Product Owner at ACME</div>', 'Done.'],
    ['only quoted history', `<div class="gmail_quote">${GMAIL_ATTR}${GMAIL_BQ}QUOTED</blockquote></div>`, ''],
    ['Outlook mobile reply section', '<div name="messageBodySection"><div>Done.</div></div><div name="messageReplySection">On 24/11/2026, 09:00, "Jane" wrote:<br><blockquote>QUOTED</blockquote></div>', 'Done.'],
    ['a reply section without a body section is the text', '<div name="messageReplySection"><p>Done.</p></div>', 'Done.'],
    [
      'Apple Mail inline answers: the attribution inside the quote goes with the quotes',
      '<div>Hi Jane,</div><blockquote type="cite"><div>On 15 Jan 2027, at 08:05, Katrin &lt;k@x.test&gt; wrote:</div><div><br></div><div>QUOTED first?</div></blockquote><div>Yes.</div><blockquote type="cite"><div>QUOTED second?</div></blockquote><div>No.</div>',
      'Hi Jane,\nYes.\nNo.',
    ],
    ['<pre> answers between quotes: the dropped lines leave no blank lines', '<pre>On Tue, Jane &lt;j@x.test&gt; wrote:\n&gt; QUOTED 1?\nA1.\n\n&gt; QUOTED 2?\n&gt; QUOTED more\nA2.\n</pre>', 'A1.\n\nA2.'],
  ])('%s', (_name, html, expected) => {
    const out = extractVisibleHtml(html);
    expect(out).not.toBeNull();
    expect(text(out?.html ?? '')).toBe(expected);
    expect(out?.html).not.toContain('QUOTED');
  });

  it('gives up (null) on a document deeper than it walks', () => {
    expect(extractVisibleHtml(`${'<div>'.repeat(300)}x`)).toBeNull();
  });
});
