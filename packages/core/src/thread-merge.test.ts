import { describe, expect, it } from 'vitest';
import { planAdoption, planThreadMerge, THREAD_MERGE_MAX, type AdoptionCandidate, type AdoptionPlan, type MergeCandidate, type ThreadMergePlan } from './thread-merge';

// Posts by minute of creation; all in group g1, live, with the sender taking part, unless changed.
const post = (id: string, minute: number, over: Partial<MergeCandidate> = {}): MergeCandidate => ({
  id,
  createdAt: new Date(Date.UTC(2026, 10, 25, 9, minute)),
  groupId: 'g1',
  deleted: false,
  senderTookPart: true,
  ...over,
});

describe('planThreadMerge', () => {
  it.each<[string, MergeCandidate, MergeCandidate[], ThreadMergePlan]>([
    ['nothing linked: the target stays', post('b', 5), [], { survivor: 'b', merged: [], refused: [] }],
    ['an earlier linked post survives; the target joins it', post('b', 5), [post('a', 1)], { survivor: 'a', merged: ['b'], refused: [] }],
    ['a later linked post joins the target', post('a', 1), [post('b', 5)], { survivor: 'a', merged: ['b'], refused: [] }],
    ['several: the earliest survives, the rest join oldest first', post('c', 3), [post('e', 9), post('a', 1), post('d', 4)], { survivor: 'a', merged: ['c', 'd', 'e'], refused: [] }],
    ['the same time: the smaller id survives', post('y', 2), [post('x', 2)], { survivor: 'x', merged: ['y'], refused: [] }],
    ['the target linked again is not merged into itself', post('a', 1), [post('a', 1), post('b', 2), post('b', 2)], { survivor: 'a', merged: ['b'], refused: [] }],
    ['another group stays apart', post('b', 5), [post('a', 1, { groupId: 'g2' })], { survivor: 'b', merged: [], refused: [{ id: 'a', reason: 'other_group' }] }],
    ['a retracted post stays apart', post('b', 5), [post('a', 1, { deleted: true })], { survivor: 'b', merged: [], refused: [{ id: 'a', reason: 'retracted' }] }],
    ['a retracted target takes nothing', post('b', 5, { deleted: true }), [post('a', 1)], { survivor: 'b', merged: [], refused: [{ id: 'a', reason: 'retracted' }] }],
    ['a thread the sender had no part in stays apart', post('b', 5), [post('a', 1, { senderTookPart: false }), post('c', 7)], { survivor: 'b', merged: ['c'], refused: [{ id: 'a', reason: 'not_participant' }] }],
    ['a sender new to the target merges nothing', post('b', 5, { senderTookPart: false }), [post('a', 1)], { survivor: 'b', merged: [], refused: [{ id: 'a', reason: 'not_participant' }] }],
    [
      'refused posts do not use up the cap',
      post('t', 30),
      [post('g', 1, { groupId: 'g2' }), ...[1, 2, 3, 4, 5].map((i) => post(`p${i}`, 30 + i))],
      { survivor: 't', merged: ['p1', 'p2', 'p3', 'p4', 'p5'], refused: [{ id: 'g', reason: 'other_group' }] },
    ],
    [
      'over the cap: the nearest linked join, the rest stay apart',
      post('t', 30),
      [7, 6, 5, 4, 3, 2, 1].map((i) => post(`p${i}`, i)),
      {
        survivor: 'p3',
        merged: ['p4', 'p5', 'p6', 'p7', 't'],
        refused: [
          { id: 'p2', reason: 'over_cap' },
          { id: 'p1', reason: 'over_cap' },
        ],
      },
    ],
  ])('%s', (_, target, linked, expected) => {
    expect(planThreadMerge(target, linked)).toEqual(expected);
  });

  it('merges at most THREAD_MERGE_MAX linked posts, or the cap given', () => {
    const linked = Array.from({ length: 20 }, (_, i) => post(`p${String(i).padStart(2, '0')}`, i + 1));
    expect(planThreadMerge(post('t', 0), linked).merged).toHaveLength(THREAD_MERGE_MAX);
    expect(planThreadMerge(post('t', 0), linked, 2)).toEqual({
      survivor: 't',
      merged: ['p00', 'p01'],
      refused: linked.slice(2).map((p) => ({ id: p.id, reason: 'over_cap' })),
    });
  });
});

describe('planAdoption', () => {
  const p = (id: string, minute: number, over: Partial<AdoptionCandidate> = {}): AdoptionCandidate => ({ id, createdAt: new Date(Date.UTC(2026, 10, 25, 9, minute)), groupId: 'g1', deleted: false, ...over });
  it.each<[string, AdoptionCandidate, AdoptionCandidate[], AdoptionPlan]>([
    ['no early reply: nothing moves', p('parent', 5), [], { adopted: [], refused: [] }],
    ['an early reply joins the parent, which stays although it is later', p('parent', 5), [p('r', 1)], { adopted: ['r'], refused: [] }],
    ['several join oldest first, each once; the parent is not adopted by itself', p('parent', 9), [p('r3', 3), p('r1', 1), p('parent', 9), p('r1', 1)], { adopted: ['r1', 'r3'], refused: [] }],
    ['another group stays apart', p('parent', 5), [p('r', 1, { groupId: 'g2' })], { adopted: [], refused: [{ id: 'r', reason: 'other_group' }] }],
    ['a retracted early reply stays apart', p('parent', 5), [p('r', 1, { deleted: true })], { adopted: [], refused: [{ id: 'r', reason: 'retracted' }] }],
    ['a retracted parent takes nothing', p('parent', 5, { deleted: true }), [p('r', 1)], { adopted: [], refused: [{ id: 'r', reason: 'retracted' }] }],
    [
      'over the cap: the oldest join, refusals do not count',
      p('parent', 30),
      [p('g', 0, { groupId: 'g2' }), ...[1, 2, 3, 4, 5, 6, 7].map((i) => p(`r${i}`, i))],
      {
        adopted: ['r1', 'r2', 'r3', 'r4', 'r5'],
        refused: [
          { id: 'g', reason: 'other_group' },
          { id: 'r6', reason: 'over_cap' },
          { id: 'r7', reason: 'over_cap' },
        ],
      },
    ],
  ])('%s', (_, parent, early, expected) => {
    expect(planAdoption(parent, early)).toEqual(expected);
  });
});
