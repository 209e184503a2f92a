import { describe, expect, it } from 'vitest';
import type { Translate } from '@blend/core';
import { html } from './html';
import { tHtml } from './layout';

/** A catalogue of three messages, interpolating as i18next does (values once, never again). */
const MESSAGES: Record<string, string> = {
  link: 'To post, {{optIn}} & say <hi>.',
  count_one: '{{count}} like by {{who}}',
  count_other: '{{count}} likes by {{who}}',
};
const t: Translate = (key, vars = {}) => {
  const count = vars.count;
  const msg = MESSAGES[typeof count === 'number' ? `${key}_${count === 1 ? 'one' : 'other'}` : key] ?? key;
  return msg.replace(/\{\{(\w+)\}\}/g, (m, name: string) => (name in vars ? String(vars[name]) : m));
};

describe('tHtml', () => {
  it.each<[string, string, Record<string, Parameters<typeof tHtml>[2][string]>, number | undefined, string]>([
    ['markup only through its placeholder, the message itself escaped', 'link', { optIn: html`<a href="/web/preferences">opt in</a>` }, undefined, 'To post, <a href="/web/preferences">opt in</a> &amp; say &lt;hi&gt;.'],
    ['text given for a placeholder is escaped too', 'link', { optIn: '<script>x</script>' }, undefined, 'To post, &lt;script&gt;x&lt;/script&gt; &amp; say &lt;hi&gt;.'],
    ['a value that looks like a placeholder stays text', 'link', { optIn: '{{optIn}}' }, undefined, 'To post, {{optIn}} &amp; say &lt;hi&gt;.'],
    ['count picks the plural form: one', 'count', { who: html`<b>Ann</b>` }, 1, '1 like by <b>Ann</b>'],
    ['count picks the plural form: other', 'count', { who: 'Bo & Cy' }, 3, '3 likes by Bo &amp; Cy'],
  ])('%s', (_name, key, parts, count, expected) => {
    expect(tHtml(t, key, parts, count).value).toBe(expected);
  });
});
