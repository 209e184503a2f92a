/**
 * Which events a webhook gets: its event types, then its filter (groups by slug, channel of
 * origin). An event outside any group (`person.erased`) passes a group filter only when the
 * hook also takes that event type by name, since it concerns every group.
 */
export interface WebhookFilter {
  groups?: string[];
  origin?: 'email' | 'esn';
}

export interface EventFacts {
  type: string;
  /** The slug of the thread's group; null for an event of no thread. */
  groupSlug: string | null;
  origin: 'email' | 'esn';
}

export function eventPassesFilter(hook: { events: readonly string[]; filter: WebhookFilter | null | undefined }, e: EventFacts): boolean {
  if (!hook.events.includes(e.type)) return false;
  const f = hook.filter ?? {};
  if (f.groups && f.groups.length > 0 && e.groupSlug !== null && !f.groups.includes(e.groupSlug)) return false;
  if (f.origin && e.groupSlug !== null && f.origin !== e.origin) return false;
  return true;
}
