import type { PageContext } from './layout';

/** Every plural form of `key` in the page's language, by Intl.PluralRules category (`key_one`, `key_other`…). */
function pluralForms({ t, lang }: PageContext, key: string): Record<string, string> {
  const categories = new Intl.PluralRules(lang).resolvedOptions().pluralCategories;
  return Object.fromEntries(categories.map((c) => [c, t(`${key}_${c}`)]));
}

/**
 * What the live-updates script (static/live.js) says, in the page's language: a JSON object
 * for the `data-messages` attribute of the page's `#live` region (escaped there by `html`, so
 * no message can open an element). Plural messages go by Intl.PluralRules category, which the
 * script picks for its count; `{{count}}` and `{{name}}` it fills in itself, as text.
 */
export function liveMessages(ctx: PageContext): string {
  const { t } = ctx;
  return JSON.stringify({
    someone: t('live.someone'),
    justNow: t('live.justNow'),
    newComment: t('live.newComment'),
    newPosts: pluralForms(ctx, 'live.newPosts'),
    show: t('live.show'),
    postRemoved: t('live.postRemoved'),
    commentEdited: t('live.commentEdited'),
    commentRemoved: t('live.commentRemoved'),
    removed: t('live.removed'),
    thisPostRemoved: t('live.thisPostRemoved'),
    back: t('error.back'),
  });
}

/** What the composer's script (static/compose.js) says, for the composer form's `data-messages`; as {@link liveMessages}. */
export function composeMessages(ctx: PageContext): string {
  const { t } = ctx;
  return JSON.stringify({
    preview: t('composer.preview'),
    previewFailed: t('composer.previewFailed'),
    mentionList: t('composer.mentionList'),
    found: pluralForms(ctx, 'composer.found'),
    nobody: t('composer.nobody'),
  });
}
