import { describe, expect, it } from 'vitest';
import type { Translate } from '@blend/core';
import type { PageContext } from './layout';
import { composeMessages, liveMessages } from './live-messages';

/** Answers every key with itself, so the test sees which message each entry names. */
const t: Translate = (key) => key;
const ctx = (lang: string): PageContext => ({ me: null, csrf: null, lang: lang as PageContext['lang'], t });

describe('plural messages for the page scripts', () => {
  it.each<[string, string[]]>([
    ['en', ['one', 'other']],
    ['fr', ['one', 'many', 'other']],
    ['ja', ['other']],
  ])('%s: one message per plural category of the language', (lang, categories) => {
    const live = JSON.parse(liveMessages(ctx(lang))) as { newPosts: Record<string, string> };
    const compose = JSON.parse(composeMessages(ctx(lang))) as { found: Record<string, string> };
    expect(Object.keys(live.newPosts).sort()).toEqual([...categories].sort());
    expect(Object.keys(compose.found).sort()).toEqual([...categories].sort());
    for (const c of categories) {
      expect(live.newPosts[c]).toBe(`live.newPosts_${c}`);
      expect(compose.found[c]).toBe(`composer.found_${c}`);
    }
  });
});
