/**
 * Which events a webhook gets: its event types, then its filter (groups by slug, channel of
 * origin). An event outside any group (`person.erased`) passes the group and origin filters,
 * since it concerns every group. Nothing of a private group goes to any hook: receivers are
 * outside Blend's access rules, a chat channel is read by people who may not be its members
 * (docs/SECURITY.md B37, B39).
 */
export interface WebhookFilter {
  groups?: string[];
  origin?: 'email' | 'esn';
}

export interface EventFacts {
  type: string;
  /** The slug of the thread's group; null for an event of no thread. */
  groupSlug: string | null;
  /** The group is private (members only). @defaultValue false */
  groupPrivate?: boolean;
  origin: 'email' | 'esn';
}

export function eventPassesFilter(hook: { events: readonly string[]; filter: WebhookFilter | null | undefined }, e: EventFacts): boolean {
  if (!hook.events.includes(e.type)) return false;
  const f = hook.filter ?? {};
  if (e.groupPrivate) return false;
  if (f.groups && f.groups.length > 0 && e.groupSlug !== null && !f.groups.includes(e.groupSlug)) return false;
  if (f.origin && e.groupSlug !== null && f.origin !== e.origin) return false;
  return true;
}
