import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { DISCORD_LIMITS } from '@blend/core';

// Checks of what Blend sends to Teams and Discord, shared by the format tests and the
// end-to-end webhook test.
const dir = path.resolve(import.meta.dirname, '../fixtures/adaptive-card');
const load = (name: string) => JSON.parse(readFileSync(path.join(dir, name), 'utf8')) as object;
const ajv = addFormats(new Ajv({ strict: true, allErrors: true }));
ajv.addSchema(load('adaptive-card-1.4-subset.schema.json'));
const teams = ajv.compile(load('teams-message.schema.json'));

/** The schema errors of a Teams message with an Adaptive Card, or [] when it is valid. */
export function teamsProblems(body: unknown): string[] {
  return teams(body) ? [] : (teams.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''}`);
}

/** What breaks Discord's documented limits for a webhook message, or [] when nothing does. */
export function discordProblems(body: unknown): string[] {
  const m = body as { content?: unknown; embeds?: { title?: string; description?: string; author?: { name: string }; footer?: { text: string } }[]; allowed_mentions?: { parse?: unknown[] } };
  const problems: string[] = [];
  const content = typeof m.content === 'string' ? m.content : '';
  const embeds = Array.isArray(m.embeds) ? m.embeds : [];
  if (!content && embeds.length === 0) problems.push('neither content nor embeds');
  if (content.length > DISCORD_LIMITS.content) problems.push(`content of ${content.length} > ${DISCORD_LIMITS.content}`);
  if (embeds.length > DISCORD_LIMITS.embeds) problems.push(`${embeds.length} embeds > ${DISCORD_LIMITS.embeds}`);
  let total = 0;
  for (const e of embeds) {
    const title = e.title ?? '';
    const description = e.description ?? '';
    const author = e.author?.name ?? '';
    const footer = e.footer?.text ?? '';
    if (title.length > DISCORD_LIMITS.title) problems.push(`title of ${title.length}`);
    if (description.length > DISCORD_LIMITS.description) problems.push(`description of ${description.length}`);
    if (author.length > DISCORD_LIMITS.authorName) problems.push(`author name of ${author.length}`);
    if (footer.length > DISCORD_LIMITS.footerText) problems.push(`footer of ${footer.length}`);
    total += title.length + description.length + author.length + footer.length;
  }
  if (total > DISCORD_LIMITS.embedTotal) problems.push(`embeds total ${total} > ${DISCORD_LIMITS.embedTotal}`);
  if (!Array.isArray(m.allowed_mentions?.parse) || m.allowed_mentions.parse.length > 0) problems.push('mentions are not switched off');
  return problems;
}
