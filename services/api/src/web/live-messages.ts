import type { PageContext } from './layout';

/**
 * What the live-updates script (static/live.js) says, in the page's language: a JSON object
 * for the `data-messages` attribute of the page's `#live` region (escaped there by `html`, so
 * no message can open an element). Plural messages go by Intl.PluralRules category, which the
 * script picks for its count; `{{count}}` and `{{name}}` it fills in itself, as text.
 */
export function liveMessages(ctx: PageContext): string {
  const { t, lang } = ctx;
  const categories = new Intl.PluralRules(lang).resolvedOptions().pluralCategories;
  return JSON.stringify({
    someone: t('live.someone'),
    justNow: t('live.justNow'),
    newComment: t('live.newComment'),
    newPosts: Object.fromEntries(categories.map((c) => [c, t(`live.newPosts_${c}`)])),
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
  const { t, lang } = ctx;
  const categories = new Intl.PluralRules(lang).resolvedOptions().pluralCategories;
  return JSON.stringify({
    preview: t('composer.preview'),
    previewFailed: t('composer.previewFailed'),
    mentionList: t('composer.mentionList'),
    found: Object.fromEntries(categories.map((c) => [c, t(`composer.found_${c}`)])),
    nobody: t('composer.nobody'),
  });
}
