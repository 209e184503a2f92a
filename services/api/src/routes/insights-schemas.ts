/**
 * Response schema of `GET /api/v1/admin/insights` (for /docs and the serializer). Every number
 * is a cell: `value` null and `suppressed` true when fewer than `min_people` people stand behind
 * it, or when it would let such a cell be recomputed (docs/SECURITY.md B35).
 */
const cell = {
  type: 'object',
  required: ['value', 'suppressed'],
  properties: {
    value: { type: ['integer', 'null'], description: 'null when withheld (or, for digests in a one-group report, not applicable)' },
    suppressed: { type: 'boolean', description: 'withheld: it describes fewer than min_people people, or would give such a number away' },
  },
} as const;
const share = { type: ['number', 'null'], description: 'a fraction from 0 to 1; null when a number it comes from is withheld or zero' } as const;
const obj = (properties: Record<string, object>, description?: string) => ({ type: 'object', required: Object.keys(properties), properties, ...(description ? { description } : {}) }) as const;
const channels = (what: string) => obj({ email: cell, web: cell, total: cell, email_share: share }, `${what} by channel of origin: by mail, or on the web UI / API`);

const participation = {
  active_people: obj({ email_only: cell, web_only: cell, both: cell, total: cell }, 'people who wrote a post or comment, by the channels they used'),
  posts: channels('posts'),
  comments: channels('comments'),
  new_voices: obj(
    { total: cell, later_web: cell, email_only_since: cell },
    'people whose first contribution ever came by mail, in this period; of them, who later also wrote on the web (before the end of the range)',
  ),
  concentration: obj(
    {
      contributors: cell,
      top15_share: { ...share, description: 'share of the content written by the most active 15 % of contributors; null with fewer than 27 contributors' },
      lorenz: {
        type: ['array', 'null'],
        description: 'Lorenz curve: the least active `people` share wrote `content` share; each step holds at least min_people people; null with fewer than 2 steps',
        items: obj({ people: { type: 'number' }, content: { type: 'number' } }),
      },
    },
    'how concentrated writing is among the people who wrote',
  ),
} as const;

const reach = obj(
  {
    digest: obj({ sent: cell, replies: cell }),
    notification: obj({ sent: cell, replies: cell }),
  },
  'mails sent (digests; mentions, replies and mirrored comments) and replies to them that became comments',
);

export const insightsReportSchema = obj(
  {
    from: { type: 'string', format: 'date', description: 'first day covered' },
    to: { type: 'string', format: 'date', description: 'last day covered' },
    group: { type: ['string', 'null'], description: 'the group reported on; null for all groups' },
    min_people: { type: 'integer', description: 'cells describing fewer people than this are withheld' },
    weeks: { type: 'array', items: obj({ week: { type: 'string', description: 'ISO week, e.g. 2026-W49' }, start: { type: 'string', format: 'date' }, ...participation, reach }) },
    groups: { type: 'array', items: obj({ slug: { type: 'string' }, name: { type: 'string' }, ...participation }) },
    total: obj({ ...participation, reach }),
  },
  'Participation insights: aggregates only, never a row per person',
);
