import { describe, expect, it } from 'vitest';
import { suppressCells, type RawCell } from './insights-cells';
import { concentration, insightsRange, isoWeek, weeksBetween } from './insights-measures';
import { computeInsights, type ContributionFact, type FirstContributionFact } from './insights';
import { insightsCsv } from './insights-csv';

const c = (value: number, people = value): RawCell => ({ value, people });

describe('suppressCells', () => {
  it.each<[string, RawCell[], number[][], boolean[]]>([
    ['nothing small', [c(5), c(7), c(12)], [[0, 1, 2]], [false, false, false]],
    ['zero is shown', [c(0), c(7), c(7)], [[0, 1, 2]], [false, false, false]],
    ['one small part takes the next smallest with it', [c(3), c(6), c(9), c(18)], [[0, 1, 2, 3]], [true, true, false, false]],
    ['two small parts are enough', [c(3), c(4), c(9), c(16)], [[0, 1, 2, 3]], [true, true, false, false]],
    ['a small total hides a part too', [c(2), c(2), c(4)], [[0, 1, 2]], [true, true, true]],
    ['a zero part is the cheapest companion', [c(3), c(0), c(9), c(12)], [[0, 1, 2, 3]], [true, true, false, false]],
    ['people, not the value, decide', [c(40, 3), c(10, 10), c(50, 13)], [[0, 1, 2]], [true, true, false]],
    // Cell 1 becomes the companion in line A, leaving line B with one hidden cell: 3 follows.
    ['spreads across lines', [c(2), c(6), c(8), c(20), c(26)], [[0, 1, 2], [1, 3, 4]], [true, true, false, true, false]],
    ['total taken only when no part is left', [c(3), c(8)], [[0, 1]], [true, true]],
  ])('%s', (_name, cells, lines, expected) => {
    expect(suppressCells(cells, lines)).toEqual(expected);
  });

  it('no line is left with exactly one withheld cell', () => {
    const cells = [c(1), c(9), c(6), c(16), c(4), c(5), c(11), c(20), c(5), c(14), c(22), c(41)];
    const lines = [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10], [0, 4, 8], [3, 7, 11]];
    const out = suppressCells(cells, lines);
    for (const line of lines) expect(line.filter((i) => out[i]).length).not.toBe(1);
  });
});

describe('isoWeek', () => {
  it.each([
    ['2026-12-06T23:59:59Z', '2026-W49', '2026-11-30'],
    ['2026-12-07T00:00:00Z', '2026-W50', '2026-12-07'],
    ['2027-01-01T12:00:00Z', '2026-W53', '2026-12-28'],
    ['2025-12-29T00:00:00Z', '2026-W01', '2025-12-29'],
    ['2021-01-03T00:00:00Z', '2020-W53', '2020-12-28'],
  ])('%s -> %s', (at, key, start) => {
    expect(isoWeek(new Date(at))).toEqual({ key, start });
  });

  it('weeksBetween lists every week touched, partial ones too', () => {
    expect(weeksBetween(new Date('2026-11-04T00:00:00Z'), new Date('2026-11-17T00:00:00Z')).map((w) => w.key)).toEqual(['2026-W45', '2026-W46', '2026-W47']);
  });
});

describe('concentration', () => {
  const ones = (n: number) => Array.from({ length: n }, () => 1);
  it.each<[string, number[], number | null, number]>([
    ['nobody', [], null, 0],
    // 27 people: the top 15 % is ceil(4.05) = 5 people, the rest 22.
    ['27 people, 5 write 10 each', [...ones(22), ...Array.from({ length: 5 }, () => 10)], 50 / 72, 6],
    ['26 people: the top group would be 4', [...ones(21), 10, 10, 10, 10, 10], null, 6],
    ['equal counts', ones(40), 6 / 40, 9],
  ])('%s', (_name, counts, top, lorenzPoints) => {
    const r = concentration(counts, 5);
    expect(r.top15Share).toBe(top === null ? null : Math.round(top * 10_000) / 10_000);
    expect(r.lorenz?.length ?? 0).toBe(lorenzPoints);
  });

  it('Lorenz steps hold at least 5 people each and end at (1, 1)', () => {
    const r = concentration([1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 3, 3, 3, 3, 14], 5);
    expect(r.lorenz).toEqual([
      { people: 0, content: 0 },
      { people: 0.3333, content: 0.122 },
      { people: 0.6667, content: 0.3659 },
      { people: 1, content: 1 },
    ]);
    expect(r.top15Share).toBeNull();
  });
});

describe('insightsRange', () => {
  const now = new Date('2026-12-06T16:00:00Z');
  it.each<[string, { from?: string; to?: string }, string | [string, string]]>([
    ['default: 12 weeks to today', {}, ['2026-09-14', '2026-12-07']],
    ['explicit', { from: '2026-11-01', to: '2026-11-30' }, ['2026-11-01', '2026-12-01']],
    ['one day', { from: '2026-11-01', to: '2026-11-01' }, ['2026-11-01', '2026-11-02']],
    ['bad from', { from: '2026-13-01' }, 'from must be a date as YYYY-MM-DD, got "2026-13-01"'],
    ['bad to', { to: 'yesterday' }, 'to must be a date as YYYY-MM-DD, got "yesterday"'],
    ['reversed', { from: '2026-11-02', to: '2026-11-01' }, 'from must be on or before to'],
    ['too long', { from: '2024-01-01', to: '2026-01-01' }, 'the range may span at most 366 days'],
  ])('%s', (_name, q, expected) => {
    const r = insightsRange(q, now);
    if (typeof expected === 'string') expect(r).toEqual({ ok: false, message: expected });
    else expect(r.ok && [r.from.toISOString().slice(0, 10), r.to.toISOString().slice(0, 10)]).toEqual(expected);
  });
});

describe('computeInsights', () => {
  const G1 = { id: 'g1', slug: 'general', name: 'General' };
  const G2 = { id: 'g2', slug: 'small', name: 'Small' };
  const w1 = new Date('2026-11-02T10:00:00Z'); // 2026-W45
  const w2 = new Date('2026-11-10T10:00:00Z'); // 2026-W46
  const fact = (personId: string, channel: 'email' | 'web', at: Date, kind: 'post' | 'comment' = 'post', groupId = 'g1'): ContributionFact => ({ personId, channel, kind, groupId, at });
  // Week 45: e1..e6 by mail only, w1..w5 on the web only, b1..b2 both. Week 46: e1..e5 by mail, one
  // web comment in the small group by s1.
  const contributions = [
    ...['e1', 'e2', 'e3', 'e4', 'e5', 'e6'].map((p) => fact(p, 'email', w1)),
    ...['w1', 'w2', 'w3', 'w4', 'w5'].map((p) => fact(p, 'web', w1, 'comment')),
    ...['b1', 'b2'].flatMap((p) => [fact(p, 'email', w1), fact(p, 'web', w1, 'comment')]),
    ...['e1', 'e2', 'e3', 'e4', 'e5'].map((p) => fact(p, 'email', w2, 'comment')),
    fact('s1', 'web', w2, 'comment', 'g2'),
  ];
  const first = (personId: string, laterWebAt: Date | null): FirstContributionFact => ({ personId, at: w1, channel: 'email', groupId: 'g1', laterWebAt });
  const firsts = [...['e1', 'e2', 'e3', 'e4', 'e5', 'e6'].map((p) => first(p, null)), first('b1', w1), first('b2', w1)];
  const report = computeInsights({
    from: new Date('2026-11-02T00:00:00Z'),
    to: new Date('2026-11-16T00:00:00Z'),
    groups: [G1, G2],
    contributions,
    firsts,
    reach: [
      ...['e1', 'e2', 'e3', 'e4', 'e5', 'e6'].map((p) => ({ kind: 'digest' as const, event: 'sent' as const, personId: p, at: w1 })),
      { kind: 'digest' as const, event: 'reply' as const, personId: 'e1', at: w2 },
    ],
    digestsApply: true,
  });
  const [a, b] = report.weeks;

  it('counts active people by channel, withholding the small "both" with its cheapest companion', () => {
    expect(report.weeks.map((w) => w.week)).toEqual(['2026-W45', '2026-W46']);
    // 6 / 5 / 2 / 13: "both" (2) is small, web-only (5) follows it.
    expect(a!.activePeople).toEqual({
      emailOnly: { value: 6, suppressed: false },
      webOnly: { value: null, suppressed: true },
      both: { value: null, suppressed: true },
      total: { value: 13, suppressed: false },
    });
  });

  it('counts posts and comments by channel of origin, with shares', () => {
    expect(a!.posts).toEqual({ email: { value: 8, suppressed: false }, web: { value: 0, suppressed: false }, total: { value: 8, suppressed: false }, emailShare: 1 });
    // Week 45's 7 web comments are withheld because of week 46 (below); the week's total is not.
    expect(a!.comments.total).toEqual({ value: 7, suppressed: false });
    expect(report.total.comments.total).toEqual({ value: 13, suppressed: false });
  });

  it('withholds a week cell that the range total would give away', () => {
    // Week 46 web comments: 1 person. The total (8) minus week 45 (7) would be 1, so week 45 goes too.
    expect(b!.comments.web).toEqual({ value: null, suppressed: true });
    expect(a!.comments.web).toEqual({ value: null, suppressed: true });
    // ... and then its companion in the week's line (0 comments by mail), so 7 - web stays unknown.
    expect(a!.comments.email).toEqual({ value: null, suppressed: true });
    expect(report.groups.find((g) => g.slug === 'small')!.comments.web).toEqual({ value: null, suppressed: true });
  });

  it('new voices: first contribution by mail, and who later used the web', () => {
    // 8 new voices, 2 of whom later used the web: 2 is small, so it and 6 are withheld.
    expect(a!.newVoices).toEqual({ total: { value: 8, suppressed: false }, laterWeb: { value: null, suppressed: true }, emailOnlySince: { value: null, suppressed: true } });
    expect(b!.newVoices.total).toEqual({ value: 0, suppressed: false });
  });

  it('reach: mails sent and replies, small ones withheld', () => {
    expect(a!.reach.digest.sent).toEqual({ value: 6, suppressed: false });
    expect(report.total.reach.digest.replies).toEqual({ value: null, suppressed: true });
  });

  it('concentration is withheld with fewer than 27 contributors', () => {
    expect(report.total.concentration).toMatchObject({ contributors: { value: 14, suppressed: false }, top15Share: null });
  });

  it('holds no person id anywhere', () => {
    const json = JSON.stringify(report);
    for (const id of ['e1', 'w1', 'b1', 's1']) expect(json).not.toContain(`"${id}"`);
  });

  it('CSV: a header, one number a row, withheld cells empty', () => {
    const csv = insightsCsv(report).split('\r\n');
    expect(csv[0]).toBe('scope,week,week_start,group,metric,value,suppressed');
    expect(csv).toContain('week,2026-W45,2026-11-02,,active_both,,true');
    expect(csv).toContain('week,2026-W45,2026-11-02,,active_total,13,false');
    expect(csv).toContain('group,,,small,comments_web,,true');
  });
});
