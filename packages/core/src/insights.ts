import { CellBook, MIN_PEOPLE, type Cell } from './insights-cells';
import { concentration, isoWeek, weeksBetween, type Concentration } from './insights-measures';

/**
 * Participation insights: who takes part, through which channel, per ISO week and per group.
 * Aggregate only: the report holds counts and shares, never a row per person, and every cell
 * describing fewer than `minPeople` people is withheld (docs/SECURITY.md B35;
 * the rule is in insights-cells.ts).
 */

/** Where a post or comment came from: a mail, or the web UI / API. */
export type Channel = 'email' | 'web';

/** One post or comment: who, how, where and when. */
export interface ContributionFact {
  personId: string;
  channel: Channel;
  kind: 'post' | 'comment';
  groupId: string;
  at: Date;
}

/** A person's first contribution ever, for those whose first one falls in the range. */
export interface FirstContributionFact {
  personId: string;
  at: Date;
  channel: Channel;
  groupId: string;
  /** Their first web contribution after it, if any (up to the end of the range). */
  laterWebAt: Date | null;
}

/** Digests, and notification mails about threads (mentions, replies, mirrored comments). */
export type MailKind = 'digest' | 'notification';

/** A mail sent to someone, or a reply to one that became a comment. */
export interface ReachFact {
  kind: MailKind;
  event: 'sent' | 'reply';
  personId: string;
  at: Date;
}

export interface InsightsGroup {
  id: string;
  slug: string;
  name: string;
}

export interface InsightsInput {
  /** [from, to) */
  from: Date;
  to: Date;
  groups: InsightsGroup[];
  contributions: ContributionFact[];
  firsts: FirstContributionFact[];
  reach: ReachFact[];
  /** False when the report is about one group: digests span groups, so their cells are null. */
  digestsApply: boolean;
  minPeople?: number;
}

export interface ChannelCounts {
  email: Cell;
  web: Cell;
  total: Cell;
  /** email ÷ total, when both are shown. */
  emailShare: number | null;
}

export interface Participation {
  activePeople: { emailOnly: Cell; webOnly: Cell; both: Cell; total: Cell };
  posts: ChannelCounts;
  comments: ChannelCounts;
  /** People whose first contribution ever came by mail; of them, who later also used the web. */
  newVoices: { total: Cell; laterWeb: Cell; emailOnlySince: Cell };
  concentration: Concentration & { contributors: Cell };
}

export interface Reach {
  digest: { sent: Cell; replies: Cell };
  notification: { sent: Cell; replies: Cell };
}

export interface WeekInsights extends Participation {
  week: string;
  start: string;
  reach: Reach;
}

export interface GroupInsights extends Participation {
  slug: string;
  name: string;
}

export interface InsightsReport {
  /** First and last day covered (`YYYY-MM-DD`, both included). */
  from: string;
  to: string;
  minPeople: number;
  weeks: WeekInsights[];
  groups: GroupInsights[];
  total: Participation & { reach: Reach };
}

type Handles<T> = { [K in keyof T]: T[K] extends Cell ? number : T[K] extends object ? Handles<T[K]> : T[K] };
type ParticipationHandles = { activePeople: Handles<Participation['activePeople']>; posts: Omit<Handles<ChannelCounts>, 'emailShare'>; comments: Omit<Handles<ChannelCounts>, 'emailShare'>; newVoices: Handles<Participation['newVoices']>; contributors: number; concentration: Concentration };
type ReachHandles = Handles<Reach>;

const distinct = <T>(xs: T[], key: (x: T) => string) => new Set(xs.map(key)).size;

/** Facts by a key (week, group), in one pass. */
function bucket<T>(xs: T[], key: (x: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const x of xs) {
    const k = key(x);
    const list = out.get(k);
    if (list) list.push(x);
    else out.set(k, [x]);
  }
  return out;
}

function participationCells(book: CellBook, cs: ContributionFact[], firsts: FirstContributionFact[], minPeople: number): ParticipationHandles {
  const channels = new Map<string, number>(); // bit 1: email, bit 2: web
  const perPerson = new Map<string, number>();
  const counts = { post: { email: [0, new Set<string>()], web: [0, new Set<string>()] }, comment: { email: [0, new Set<string>()], web: [0, new Set<string>()] } } as Record<'post' | 'comment', Record<Channel, [number, Set<string>]>>;
  for (const c of cs) {
    channels.set(c.personId, (channels.get(c.personId) ?? 0) | (c.channel === 'email' ? 1 : 2));
    perPerson.set(c.personId, (perPerson.get(c.personId) ?? 0) + 1);
    const k = counts[c.kind][c.channel];
    k[0]++;
    k[1].add(c.personId);
  }
  let emailOnly = 0;
  let webOnly = 0;
  let both = 0;
  for (const bits of channels.values()) {
    if (bits === 1) emailOnly++;
    else if (bits === 2) webOnly++;
    else both++;
  }
  const people = (n: number) => book.add(n, n);
  const active = { emailOnly: people(emailOnly), webOnly: people(webOnly), both: people(both), total: people(channels.size) };
  book.line([active.emailOnly, active.webOnly, active.both], active.total);
  const byChannel = (kind: 'post' | 'comment') => {
    const { email, web } = counts[kind];
    const h = { email: book.add(email[0], email[1].size), web: book.add(web[0], web[1].size), total: book.add(email[0] + web[0], new Set([...email[1], ...web[1]]).size) };
    book.line([h.email, h.web], h.total);
    return h;
  };
  const voices = firsts.filter((f) => f.channel === 'email');
  const later = voices.filter((f) => f.laterWebAt !== null).length;
  const newVoices = { total: people(voices.length), laterWeb: people(later), emailOnlySince: people(voices.length - later) };
  book.line([newVoices.laterWeb, newVoices.emailOnlySince], newVoices.total);
  return { activePeople: active, posts: byChannel('post'), comments: byChannel('comment'), newVoices, contributors: people(perPerson.size), concentration: concentration([...perPerson.values()], minPeople) };
}

function reachCells(book: CellBook, rs: ReachFact[], digestsApply: boolean): ReachHandles {
  const cell = (kind: MailKind, event: 'sent' | 'reply') => {
    const xs = rs.filter((r) => r.kind === kind && r.event === event);
    return book.add(xs.length, distinct(xs, (x) => x.personId));
  };
  const digest = { sent: cell('digest', 'sent'), replies: cell('digest', 'reply') };
  return { digest: digestsApply ? digest : { sent: -1, replies: -1 }, notification: { sent: cell('notification', 'sent'), replies: cell('notification', 'reply') } };
}

/** Each cell of a sum over rows (weeks, groups) is a part of the matching cell of the total. */
function sumLines(book: CellBook, rows: number[][], total: number[]): void {
  total.forEach((t, i) => {
    if (t >= 0) book.line(rows.map((r) => r[i]!), t);
  });
}

const additive = (h: ParticipationHandles) => [h.posts.email, h.posts.web, h.posts.total, h.comments.email, h.comments.web, h.comments.total, h.newVoices.total, h.newVoices.laterWeb, h.newVoices.emailOnlySince];
const reachList = (h: ReachHandles) => [h.digest.sent, h.digest.replies, h.notification.sent, h.notification.replies];

/** The report for a range, from the facts the database gave (anything outside the range is ignored). */
export function computeInsights(input: InsightsInput): InsightsReport {
  const minPeople = input.minPeople ?? MIN_PEOPLE;
  const book = new CellBook(minPeople);
  const inRange = <T extends { at: Date }>(xs: T[]) => xs.filter((x) => x.at >= input.from && x.at < input.to);
  const cs = inRange(input.contributions);
  const firsts = inRange(input.firsts).map((f) => ({ ...f, laterWebAt: f.laterWebAt && f.laterWebAt < input.to ? f.laterWebAt : null }));
  const reach = inRange(input.reach);
  // isoWeek per fact once: a year of a large ESN is hundreds of thousands of facts.
  const weekOf = <T extends { at: Date }>(xs: T[]) => bucket(xs, (x) => isoWeek(x.at).key);
  const [csByWeek, firstsByWeek, reachByWeek] = [weekOf(cs), weekOf(firsts), weekOf(reach)];
  const [csByGroup, firstsByGroup] = [bucket(cs, (c) => c.groupId), bucket(firsts, (f) => f.groupId)];

  const weeks = weeksBetween(input.from, input.to).map((w) => ({
    w,
    p: participationCells(book, csByWeek.get(w.key) ?? [], firstsByWeek.get(w.key) ?? [], minPeople),
    r: reachCells(book, reachByWeek.get(w.key) ?? [], input.digestsApply),
  }));
  const groups = input.groups.map((g) => ({
    g,
    p: participationCells(book, csByGroup.get(g.id) ?? [], firstsByGroup.get(g.id) ?? [], minPeople),
  }));
  const total = { p: participationCells(book, cs, firsts, minPeople), r: reachCells(book, reach, input.digestsApply) };
  sumLines(book, weeks.map((x) => additive(x.p)), additive(total.p));
  sumLines(book, groups.map((x) => additive(x.p)), additive(total.p));
  sumLines(book, weeks.map((x) => reachList(x.r)), reachList(total.r));

  const cell = (h: number): Cell => (h < 0 ? { value: null, suppressed: false } : book.cell(h));
  const channel = (h: ParticipationHandles['posts']): ChannelCounts => {
    const [email, web, all] = [cell(h.email), cell(h.web), cell(h.total)];
    return { email, web, total: all, emailShare: email.value !== null && all.value ? Math.round((email.value / all.value) * 10_000) / 10_000 : null };
  };
  const participation = (h: ParticipationHandles): Participation => {
    const contributors = cell(h.contributors);
    return {
      activePeople: { emailOnly: cell(h.activePeople.emailOnly), webOnly: cell(h.activePeople.webOnly), both: cell(h.activePeople.both), total: cell(h.activePeople.total) },
      posts: channel(h.posts),
      comments: channel(h.comments),
      newVoices: { total: cell(h.newVoices.total), laterWeb: cell(h.newVoices.laterWeb), emailOnlySince: cell(h.newVoices.emailOnlySince) },
      concentration: contributors.suppressed ? { contributors, top15Share: null, lorenz: null } : { contributors, ...h.concentration },
    };
  };
  const reachOf = (h: ReachHandles): Reach => ({ digest: { sent: cell(h.digest.sent), replies: cell(h.digest.replies) }, notification: { sent: cell(h.notification.sent), replies: cell(h.notification.replies) } });
  return {
    from: input.from.toISOString().slice(0, 10),
    to: new Date(input.to.getTime() - 86_400_000).toISOString().slice(0, 10),
    minPeople,
    weeks: weeks.map((x) => ({ week: x.w.key, start: x.w.start, ...participation(x.p), reach: reachOf(x.r) })),
    groups: groups.map((x) => ({ slug: x.g.slug, name: x.g.name, ...participation(x.p) })),
    total: { ...participation(total.p), reach: reachOf(total.r) },
  };
}
