import { describe, expect, it } from 'vitest';
import { sanitiseHtml } from './html';
import { markdownToSafeHtml } from './markdown';

describe('markdownToSafeHtml', () => {
  it.each([
    ['**bold** and *it*', '<p><strong>bold</strong> and <em>it</em></p>\n'],
    ['- one\n- two', '<ul>\n<li>one</li>\n<li>two</li>\n</ul>\n'],
    ['line one\nline two', '<p>line one<br />\nline two</p>\n'],
    ['`code`', '<p><code>code</code></p>\n'],
    ['> quoted', '<blockquote>\n<p>quoted</p>\n</blockquote>\n'],
    // Raw HTML is text, not markup.
    ['<script>alert(1)</script>', '<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>\n'],
    ['<b onclick="x()">hi</b>', '<p>&lt;b onclick="x()"&gt;hi&lt;/b&gt;</p>\n'],
    // Links: only absolute http(s) and mailto survive, with rel and target.
    ['[site](https://example.com)', '<p><a href="https://example.com" rel="nofollow noopener noreferrer" target="_blank">site</a></p>\n'],
    ['[x](javascript:alert(1))', '<p>[x](javascript:alert(1))</p>\n'],
    ['[x](JaVaScRiPt:alert(1))', '<p>[x](JaVaScRiPt:alert(1))</p>\n'],
    ['[x](data:text/html;base64,PHNjcmlwdD4=)', '<p>[x](data:text/html;base64,PHNjcmlwdD4=)</p>\n'],
    ['[x](/web/admin)', '<p><a>x</a></p>\n'],
    ['<javascript:alert(1)>', '<p>&lt;javascript:alert(1)&gt;</p>\n'],
    // Images are never fetched: the sanitiser drops them.
    ['![pic](https://tracker.example/p.png)', '<p></p>\n'],
    ['see https://example.org', '<p>see <a href="https://example.org" rel="nofollow noopener noreferrer" target="_blank">https://example.org</a></p>\n'],
  ])('%j', (markdown, expected) => {
    expect(markdownToSafeHtml(markdown)).toBe(expected);
  });

  it('gives what the mail sanitiser gives: its output is a fixed point of sanitiseHtml', () => {
    for (const m of ['# Title\n\n| a | b |\n|---|---|\n| 1 | 2 |', '[x](javascript:void(0)) **y**', '1. a\n2. b\n\n---\n\n~~gone~~']) {
      const out = markdownToSafeHtml(m);
      expect(sanitiseHtml(out)).toBe(out);
      expect(out).not.toMatch(/href="(?!https?:|mailto:)|<script|\son\w+=/i);
    }
  });
});
