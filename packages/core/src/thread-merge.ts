/**
 * Merging threads that a later mail proves to be one conversation (docs/ARCHITECTURE.md
 * "Threads and merges", docs/SECURITY.md B25).
 *
 * A reply's References can name messages of two posts: the conversation was split because a
 * mail in the middle reached Blend late, or never. The mail lands in one thread (`target`, the
 * post its best candidate id maps to); the other posts its ids lead to are `linked`. This
 * decides which of them join, and which post stays: the earliest, so the thread reads in the
 * order it was written and the first post keeps its place in the feed.
 */

/** A post as the merge decision sees it. */
export interface MergeCandidate {
  id: string;
  createdAt: Date;
  groupId: string;
  /** Retracted or un-mirrored (a tombstone): its readers were told it is gone. */
  deleted: boolean;
  /** The new mail's sender wrote in the thread or was on To/Cc of one of its mails. */
  senderTookPart: boolean;
}

/** Why a linked post stays a thread of its own. */
export type MergeRefusal = 'other_group' | 'retracted' | 'not_participant' | 'over_cap';

export interface ThreadMergePlan {
  /** The post the mail's comment goes to: the earliest of the target and the posts merged. */
  survivor: string;
  /** Posts that become comments of the survivor, oldest first (the target, when it is not the survivor). */
  merged: string[];
  /** Linked posts left alone, with the reason, in the order they were linked. */
  refused: { id: string; reason: MergeRefusal }[];
}

/**
 * How many posts one mail may merge. A References header holds up to 100 ids (20 are looked
 * up): without a cap one mail could fold a whole feed into one thread.
 */
export const THREAD_MERGE_MAX = 5;

const earlier = (a: Pick<MergeCandidate, 'id' | 'createdAt'>, b: Pick<MergeCandidate, 'id' | 'createdAt'>) => a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * Which posts a mail joins into one thread, and which survives.
 *
 * A linked post joins only when readers of the target already see it (same group, not
 * retracted) and the sender took part in it, as in the target: a Message-ID is no secret, so
 * naming one proves nothing by itself, and a merge moves each thread's participants into the
 * other's mail conversation. At most `max` linked posts join, the nearest first (`linked` is in
 * the mail's lookup order: In-Reply-To, then References from the newest); the target itself is
 * never merged into itself, and a post linked twice counts once.
 * @param max @defaultValue THREAD_MERGE_MAX
 */
export function planThreadMerge(target: MergeCandidate, linked: MergeCandidate[], max: number = THREAD_MERGE_MAX): ThreadMergePlan {
  const refused: ThreadMergePlan['refused'] = [];
  const joining: MergeCandidate[] = [];
  const seen = new Set<string>([target.id]);
  for (const post of linked) {
    if (seen.has(post.id)) continue;
    seen.add(post.id);
    const reason: MergeRefusal | null =
      post.deleted || target.deleted
        ? 'retracted'
        : post.groupId !== target.groupId
          ? 'other_group'
          : !post.senderTookPart || !target.senderTookPart
            ? 'not_participant'
            : joining.length >= max
              ? 'over_cap'
              : null;
    if (reason) refused.push({ id: post.id, reason });
    else joining.push(post);
  }
  const all = [target, ...joining].sort(earlier);
  return { survivor: all[0]!.id, merged: all.slice(1).map((p) => p.id), refused };
}

/** A post as the adoption decision sees it: a parent's, or one an early reply started. */
export type AdoptionCandidate = Omit<MergeCandidate, 'senderTookPart'>;

/** Why an early reply stays a post of its own. */
export type AdoptionRefusal = Exclude<MergeRefusal, 'not_participant'>;

export interface AdoptionPlan {
  /** Early replies' posts that become comments of the parent's thread, oldest first. */
  adopted: string[];
  /** Those left alone, with the reason, oldest first. */
  refused: { id: string; reason: AdoptionRefusal }[];
}

/**
 * Which posts started by replies that reached Blend before their parent join the parent's
 * thread once both are known (docs/ARCHITECTURE.md "Threads and merges"). The parent's post
 * always stays: it opens the conversation, and an early reply reads as its first comment.
 *
 * The rules are a merge's, except the participant rule: in order, a reply naming its parent's
 * Message-ID would have joined the thread by that alone, so arriving first changes nothing
 * about who may join. A reply stays apart when it or the parent's thread is retracted (its
 * readers were told it is gone), or when it was published in another group (moving it would
 * show it to other readers, perhaps outside a private group); at most `max` join per mail.
 * @param early - the early replies' posts, in any order; the parent's own post is skipped.
 * @param max @defaultValue THREAD_MERGE_MAX
 */
export function planAdoption(parent: AdoptionCandidate, early: AdoptionCandidate[], max: number = THREAD_MERGE_MAX): AdoptionPlan {
  const adopted: string[] = [];
  const refused: AdoptionPlan['refused'] = [];
  const seen = new Set<string>([parent.id]);
  for (const post of [...early].sort(earlier)) {
    if (seen.has(post.id)) continue;
    seen.add(post.id);
    const reason: AdoptionRefusal | null =
      post.deleted || parent.deleted ? 'retracted' : post.groupId !== parent.groupId ? 'other_group' : adopted.length >= max ? 'over_cap' : null;
    if (reason) refused.push({ id: post.id, reason });
    else adopted.push(post.id);
  }
  return { adopted, refused };
}
