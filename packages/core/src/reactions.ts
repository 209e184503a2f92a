/**
 * The reactions a reader may give a post: a short fixed list, so a reaction is one word in the
 * database and the API, and every client shows the same few. `like` is the like that mail
 * replies ("+1") and older clients give; mail shows every reaction as a like.
 */
export const REACTION_KINDS = ['like', 'heart', 'tada', 'smile', 'thinking'] as const;

export type ReactionKind = (typeof REACTION_KINDS)[number];

/** The emoji and the words for each reaction (the words are what a screen reader says). */
export const REACTION_EMOJI: Readonly<Record<ReactionKind, { emoji: string; label: string }>> = {
  like: { emoji: '👍', label: 'Like' },
  heart: { emoji: '❤️', label: 'Love' },
  tada: { emoji: '🎉', label: 'Celebrate' },
  smile: { emoji: '😄', label: 'Funny' },
  thinking: { emoji: '🤔', label: 'Thinking' },
};

export function isReactionKind(s: string): s is ReactionKind {
  return (REACTION_KINDS as readonly string[]).includes(s);
}
