import { describe, expect, it } from 'vitest';
import { htmlToPlainText, sanitisedToPlainText, sanitiseHtml, textToSafeHtml } from './html';

const ALLOWED_TAGS = new Set(
  'p br b i strong em u s a ul ol li blockquote pre code h1 h2 h3 h4 h5 h6 table thead tbody tr th td hr span div'.split(' '),
);
const ALLOWED_ATTRS: Record<string, string[]> = { a: ['href', 'rel', 'target'], td: ['colspan', 'rowspan'], th: ['colspan', 'rowspan'] };
const REL = 'rel="nofollow noopener noreferrer" target="_blank"';

/**
 * Asserts that sanitised output has no markup beyond the allow-list: every `<`
 * opens an allowed tag whose attributes are allowed, links are absolute
 * http/https/mailto, and nothing else looks like a tag.
 */
function expectOnlyAllowedMarkup(html: string): void {
  const tag = /<(\/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[a-z-]+="[^"<>]*")*)\s*(\/?)>/g;
  for (const m of html.matchAll(tag)) {
    const name = (m[2] ?? '').toLowerCase();
    expect(ALLOWED_TAGS, `tag <${name}> in ${html}`).toContain(name);
    for (const a of (m[3] ?? '').matchAll(/([a-z-]+)="([^"]*)"/g)) {
      expect(ALLOWED_ATTRS[name] ?? [], `attribute ${a[1]} on <${name}>`).toContain(a[1]);
      if (a[1] === 'href') expect(a[2]).toMatch(/^(?:https?:\/\/|mailto:)/i);
    }
  }
  const rest = html.replace(tag, '');
  expect(rest, `stray markup in ${html}`).not.toMatch(/[<>]/);
}

describe('sanitiseHtml', () => {
  // docs/SECURITY.md B13, including the DOMPurify mXSS regression vectors.
  it.each([
    '<script>alert(1)</script>',
    '<SCRIPT SRC=http://evil.example/x.js></SCRIPT>',
    '<img src=x onerror=alert(1)>',
    '<body onload=alert(1)>text</body>',
    '<p onclick="alert(1)" onmouseover=alert(1)>x</p>',
    '<iframe src="javascript:alert(1)"></iframe>',
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    '<a href="javascript:alert(1)">x</a>',
    '<a href="JaVaScRiPt:alert(1)">x</a>',
    '<a href="&#x6A;avascript:alert(1)">x</a>',
    '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">x</a>',
    '<a href=" javascript:alert(1)">x</a>',
    '<a href="java&#x09;script:alert(1)">x</a>',
    '<a href="java\nscript:alert(1)">x</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    '<a href="vbscript:msgbox(1)">x</a>',
    '<a href="//evil.example/">x</a>',
    '<a href="/admin/delete">x</a>',
    '<img src="data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=">',
    '<svg onload=alert(1)>',
    '<svg><script>alert(1)</script></svg>',
    '<svg><a xlink:href="javascript:alert(1)"><text>x</text></a></svg>',
    '<math><maction actiontype="statusline" xlink:href="javascript:alert(1)">x</maction></math>',
    '<base href="https://evil.example/">',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<form action="https://evil.example/"><input name="x"><button formaction="javascript:alert(1)">go</button></form>',
    '<div style="width: expression(alert(1))">x</div>',
    '<p style="background:url(javascript:alert(1))">x</p>',
    '<style>@import "https://evil.example/x.css"; p { x: expression(alert(1)) }</style>',
    '<link rel="stylesheet" href="https://evil.example/x.css">',
    '<object data="javascript:alert(1)"></object><embed src="javascript:alert(1)">',
    '<template><script>alert(1)</script></template>',
    '<svg><p><style><img src=x onerror=alert(1)>',
    '<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>',
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    '<form><math><mtext></form><form><mglyph><style></math><img src onerror=alert(1)>',
    '<math><mtext><h1><a><h6></a></h6><mglyph><svg><mtext><style><a title="</style><img src onerror=alert(1)>">',
    '<svg></p><style><a id="</style><img src=1 onerror=alert(1)>">',
    '<xmp><p title="</xmp><img src=x onerror=alert(1)>">',
    '<noembed><img title="</noembed><img src onerror=alert(1)>"></noembed>',
    '<!--<img src="--><img src=x onerror=alert(1)//">',
    '<a title="&lt;/a&gt;&lt;img src=x onerror=alert(1)&gt;" href="https://ok.example/">x</a>',
    '<a href="https://ok.example/" onmouseover="alert(1)" target="_self" rel="opener">x</a>',
    '<p class="x" id="y" data-x="1" dir="rtl">x</p>',
    '<textarea><img src=x onerror=alert(1)></textarea>',
    '<select><option><img src=x onerror=alert(1)></option></select>',
    '<div>\u0000<scr\u0000ipt>alert(1)</script></div>',
  ])('neutralises %s', (vector) => {
    const out = sanitiseHtml(vector);
    expectOnlyAllowedMarkup(out);
    expect(out).not.toMatch(/<(?:script|img|svg|math|iframe|style|base|meta|form|object|embed|link)\b/i);
    expect(out).not.toMatch(/\son[a-z]+=/i);
    expect(out).not.toMatch(/(?:javascript|vbscript|data):/i);
    expect(sanitiseHtml(out)).toBe(out);
  });

  it.each([
    ['<p>Hello <b>bold</b> <i>it</i></p>', '<p>Hello <b>bold</b> <i>it</i></p>'],
    ['<a href="https://ok.example/a?b=1&amp;c=2">ok</a>', `<a href="https://ok.example/a?b=1&amp;c=2" ${REL}>ok</a>`],
    ['<a href="mailto:jane@corp.example.com">Jane</a>', `<a href="mailto:jane@corp.example.com" ${REL}>Jane</a>`],
    ['<a href="javascript:alert(1)">text kept</a>', '<a>text kept</a>'],
    ['<p>line<br>next</p>', '<p>line<br />next</p>'],
    ['<ul><li>a</li></ul><ol><li>b</li></ol>', '<ul><li>a</li></ul><ol><li>b</li></ol>'],
    ['<table><thead><tr><th colspan="2" style="x">h</th></tr></thead><tbody><tr><td rowspan="1">c</td></tr></tbody></table>', '<table><thead><tr><th colspan="2">h</th></tr></thead><tbody><tr><td rowspan="1">c</td></tr></tbody></table>'],
    ['<blockquote><pre><code>x &lt; y</code></pre></blockquote>', '<blockquote><pre><code>x &lt; y</code></pre></blockquote>'],
    ['<h1>T</h1><hr><span>s</span><div>d</div>', '<h1>T</h1><hr /><span>s</span><div>d</div>'],
    ['<font color="red">kept text</font><center>c</center>', 'kept text<div>c</div>'],
    ['<p>a</p><img src="http://169.254.169.254/latest" alt="x"><p>b</p>', '<p>a</p><p>b</p>'],
    ['<html><head><title>T</title><style>p{}</style></head><body><p>x</p></body></html>', '<p>x</p>'],
    ['<!--[if mso]><p>mso only</p><![endif]--><p>all</p>', '<p>all</p>'],
    ['', ''],
  ])('%s -> %s', (input, expected) => {
    expect(sanitiseHtml(input)).toBe(expected);
  });
});

describe('htmlToPlainText', () => {
  it.each([
    ['<p>Hello</p><p>World</p>', 'Hello\n\nWorld'],
    ['<p>a<br>b</p>', 'a\nb'],
    ['<a href="https://x.example/">https://x.example/</a>', 'https://x.example/'],
    ['<a href="https://x.example/">the site</a>', 'the site (https://x.example/)'],
    ['<a href="mailto:jane@corp.example.com">jane@corp.example.com</a>', 'jane@corp.example.com'],
    ['<a href="mailto:jane@corp.example.com">Jane</a>', 'Jane (jane@corp.example.com)'],
    ['<p>pic <img src="x.png" alt="tracking"></p>', 'pic'],
    ['<html><head><title>T</title><style>p{color:red}</style></head><body><p>x</p></body></html>', 'x'],
    ['<style>p{color:red}</style><p>x</p>', 'x'],
    ['<h1>Title</h1><p>x</p>', 'Title\n\nx'],
    ['<blockquote>quoted</blockquote>', '> quoted'],
    ['<ul><li>one</li><li>two</li></ul>', ' * one\n * two'],
    [`<p>${'word '.repeat(40)}</p>`, 'word '.repeat(40).trim()],
    // Block elements outside the allow-list still break lines, as a browser shows them.
    ['<center>Contact form</center>Sent on Thursday', 'Contact form\nSent on Thursday'],
    ['<dl><dt>Name</dt><dd>Peter</dd></dl>', 'Name\nPeter'],
    // A layout table's cell is not re-wrapped: the client shows the line as the browser does.
    [`<table><tr><td>${'word '.repeat(40)}</td></tr></table>`, 'word '.repeat(40).trim()],
    ['<p>a&nbsp;&amp;&lt;b&gt;</p>', 'a\u00A0&<b>'],
    ['<p>nul\u0000</p>', 'nul'],
  ])('%s -> %j', (input, expected) => {
    expect(htmlToPlainText(input)).toBe(expected);
    // The same text from HTML a caller has already sanitised (and keeps).
    expect(sanitisedToPlainText(sanitiseHtml(input))).toBe(expected);
  });

  it('survives deep nesting', () => {
    expect(htmlToPlainText(`${'<div>'.repeat(5000)}deep${'</div>'.repeat(5000)}`)).not.toContain('<');
  });
});

describe('textToSafeHtml', () => {
  it.each([
    ['Hello', '<p>Hello</p>'],
    ['', ''],
    ['a\nb', '<p>a<br />b</p>'],
    ['a\r\nb', '<p>a<br />b</p>'],
    ['a\n\nb', '<p>a</p><p>b</p>'],
    ['a\n \n\n\nb', '<p>a</p><p>b</p>'],
    ['<script>alert(1)</script> & "q"', '<p>&lt;script&gt;alert(1)&lt;/script&gt; &amp; "q"</p>'],
    ['&amp;', '<p>&amp;amp;</p>'],
    ['see https://x.example/a?b=1&c=2 now', `<p>see <a href="https://x.example/a?b=1&amp;c=2" ${REL}>https://x.example/a?b=1&amp;c=2</a> now</p>`],
    ['http://x.example', `<p><a href="http://x.example" ${REL}>http://x.example</a></p>`],
    ['mail jane@corp.example.com', `<p>mail <a href="mailto:jane@corp.example.com" ${REL}>jane@corp.example.com</a></p>`],
    ['mailto:jane@corp.example.com', `<p><a href="mailto:jane@corp.example.com" ${REL}>mailto:jane@corp.example.com</a></p>`],
    ['bare example.com stays text', '<p>bare example.com stays text</p>'],
    ['javascript:alert(1)', '<p>javascript:alert(1)</p>'],
    ['ftp://x.example/file', '<p>ftp://x.example/file</p>'],
    ['https://x.example/"onmouseover="alert(1)', `<p><a href="https://x.example/&quot;onmouseover=&quot;alert(1)" ${REL}>https://x.example/"onmouseover="alert(1)</a></p>`],
    ['> quoted', '<blockquote><p>quoted</p></blockquote>'],
    ['> a\n> b\nmine', '<blockquote><p>a<br />b</p></blockquote><p>mine</p>'],
    ['> a\n>\n> b', '<blockquote><p>a</p><p>b</p></blockquote>'],
    ['> a\n> > b\n> c', '<blockquote><p>a</p><blockquote><p>b</p></blockquote><p>c</p></blockquote>'],
    ['>> deep', '<blockquote><blockquote><p>deep</p></blockquote></blockquote>'],
    ['  > indented', '<blockquote><p>indented</p></blockquote>'],
    ['a > b', '<p>a &gt; b</p>'],
  ])('%j -> %s', (input, expected) => {
    expect(textToSafeHtml(input)).toBe(expected);
  });

  it('caps quote nesting', () => {
    const out = textToSafeHtml(`${'>'.repeat(1000)} x`);
    expect(out.match(/<blockquote>/g)).toHaveLength(8);
    expect(out).toContain('&gt;'.repeat(992));
  });

  it.each([
    'plain',
    'a\nb\n\nc',
    '<b>not bold</b> & https://x.example/?a=<1>&b="2" jane@corp.example.com',
    '> q\n> > qq\n\nanswer https://x.example',
    '&lt;script&gt; &#106;avascript:',
    `${'>'.repeat(50)} deep`,
  ])('is a fixed point of sanitiseHtml: %j', (text) => {
    const html = textToSafeHtml(text);
    expect(sanitiseHtml(html)).toBe(html);
    expectOnlyAllowedMarkup(html);
  });
});
