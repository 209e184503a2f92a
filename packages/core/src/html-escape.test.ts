import { describe, expect, it } from 'vitest';
import { escapeHtml, escapeHtmlAttribute, escapeHtmlText } from './html-escape';

describe('HTML escaping', () => {
  it.each<[string, string, string, string, string]>([
    ['plain text is unchanged', 'Q3 plan', 'Q3 plan', 'Q3 plan', 'Q3 plan'],
    ['markup', '<b>&amp;</b>', '&lt;b&gt;&amp;amp;&lt;/b&gt;', '&lt;b&gt;&amp;amp;&lt;/b&gt;', '&lt;b&gt;&amp;amp;&lt;/b&gt;'],
    ['quotes', `"it's"`, '&quot;it&#39;s&quot;', `"it's"`, `&quot;it's&quot;`],
    ['an attribute break-out', `x" onclick='y'`, 'x&quot; onclick=&#39;y&#39;', `x" onclick='y'`, `x&quot; onclick='y'`],
  ])('%s', (_name, given, all, text, attribute) => {
    expect(escapeHtml(given)).toBe(all);
    expect(escapeHtmlText(given)).toBe(text);
    expect(escapeHtmlAttribute(given)).toBe(attribute);
  });
});
