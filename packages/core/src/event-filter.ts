/**
 * Which events a webhook gets: its event types, then its filter (groups by slug, channel of
 * origin). An event outside any group (`person.erased`) passes the group and origin filters,
 * since it concerns every group. Nothing of a private group goes to any hook: receivers are
 * outside Blend's access rules, a chat channel is read by people who may not be its members
 * (docs/SECURITY.md B37, B39).
 *
 * A reply written in a chat tool (its event carries `via`) is not sent back to a hook of that
 * tool's format: a Slack-format hook (Slack, Mattermost and Rocket.Chat all take it) gets no
 * event via `slack`, `mattermost` or `rocketchat`, since the reply is already there
 * (docs/ARCHITECTURE.md "Chat tools"). Mail participants and hooks of other formats still get it.
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
  /** The chat tool a reply was written in (`slack`, `mattermost`, `rocketchat`, `generic`); absent otherwise. */
  via?: string | null;
}

/** The chat tools whose replies come back through each hook format (see above). */
const ECHO_TOOLS: Readonly<Record<string, readonly string[]>> = { slack: ['slack', 'mattermost', 'rocketchat'] };

/** Would delivering an event written via `via` to a hook of `format` post it back where it was written? */
export function isChatEcho(format: string | undefined, via: string | null | undefined): boolean {
  return !!format && !!via && (ECHO_TOOLS[format]?.includes(via) ?? false);
}

export function eventPassesFilter(hook: { events: readonly string[]; filter: WebhookFilter | null | undefined; format?: string }, e: EventFacts): boolean {
  if (!hook.events.includes(e.type)) return false;
  if (isChatEcho(hook.format, e.via)) return false;
  const f = hook.filter ?? {};
  if (e.groupPrivate) return false;
  if (f.groups && f.groups.length > 0 && e.groupSlug !== null && !f.groups.includes(e.groupSlug)) return false;
  if (f.origin && e.groupSlug !== null && f.origin !== e.origin) return false;
  return true;
}
