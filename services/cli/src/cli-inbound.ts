import { parseArgs } from 'node:util';
import { listInboundRows, schema, type DbHandle, type InboundState } from '@blend/db';

const STATES = schema.inboundState.enumValues;

/** `blend inbound list`: what happened to each inbound mail, for IT. */
export async function listInbound(dbh: DbHandle, args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { state: { type: 'string' }, limit: { type: 'string', default: '50' }, json: { type: 'boolean', default: false } },
  });
  const state = values.state as InboundState | undefined;
  if (state && !(STATES as readonly string[]).includes(state)) throw new Error(`--state must be one of ${STATES.join(', ')}`);
  const limit = Math.min(1000, Math.max(1, Number(values.limit) || 50));
  const rows = await listInboundRows(dbh.db, { ...(state ? { state } : {}), limit });
  if (values.json) {
    console.log(JSON.stringify(rows));
    return 0;
  }
  for (const r of rows) {
    console.log(
      [
        r.received_at,
        r.id,
        r.state.padEnd(9),
        (r.reason ?? '').padEnd(22),
        r.sender ?? '-',
        JSON.stringify(r.subject ?? ''),
        r.message_id ? `<${r.message_id}>` : '',
        r.post_id ? `post=${r.post_id}` : '',
        r.comment_id ? `comment=${r.comment_id}` : '',
      ]
        .join('  ')
        .trimEnd(),
    );
  }
  if (rows.length === 0) console.log('no inbound mail');
  return 0;
}
