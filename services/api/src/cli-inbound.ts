import { parseArgs } from 'node:util';
import { desc, eq } from 'drizzle-orm';
import { schema, type DbHandle } from '@blend/db';

const STATES = ['received', 'posted', 'commented', 'command', 'withheld', 'rejected', 'failed', 'duplicate'] as const;
type State = (typeof STATES)[number];

/** `blend inbound list`: what happened to each inbound mail, for IT. */
export async function listInbound(dbh: DbHandle, args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { state: { type: 'string' }, limit: { type: 'string', default: '50' }, json: { type: 'boolean', default: false } },
  });
  const state = values.state as State | undefined;
  if (state && !STATES.includes(state)) throw new Error(`--state must be one of ${STATES.join(', ')}`);
  const limit = Math.min(1000, Math.max(1, Number(values.limit) || 50));
  const t = schema.inboundMessages;
  const rows = await dbh.db
    .select({
      id: t.id,
      uid: t.uid,
      state: t.state,
      reason: t.reason,
      size: t.size,
      receivedAt: t.receivedAt,
      postId: t.postId,
      commentId: t.commentId,
    })
    .from(t)
    .where(state ? eq(t.state, state) : undefined)
    .orderBy(desc(t.receivedAt))
    .limit(limit);
  if (values.json) {
    console.log(JSON.stringify(rows));
    return 0;
  }
  for (const r of rows) {
    console.log(
      [r.receivedAt.toISOString(), r.id, `uid=${r.uid}`, r.state, r.reason ?? '', r.postId ? `post=${r.postId}` : ''].join('  ').trimEnd(),
    );
  }
  if (rows.length === 0) console.log('no inbound mail');
  return 0;
}
