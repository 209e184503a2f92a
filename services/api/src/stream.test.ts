import { describe, expect, it } from 'vitest';
import type { Database } from '@blend/db';
import { sseFrame, StreamHub, StreamLimitError, type StreamClient } from './stream';

const log = { warn: () => undefined } as never;
const client = (personId: string): StreamClient => ({ personId, send: () => true, close: () => undefined });

describe('StreamHub caps', () => {
  it.each([
    { max: 3, perPerson: 10, people: ['a', 'b', 'c', 'd'], refused: 'total' },
    { max: 100, perPerson: 2, people: ['a', 'a', 'b', 'a'], refused: 'person' },
  ])('max $max, per person $perPerson: the last of $people is refused ($refused)', ({ max, perPerson, people, refused }) => {
    const hub = new StreamHub({ db: {} as Database, log }, { maxConnections: max, perPerson });
    const removals = people.slice(0, -1).map((p) => hub.add(client(p)));
    const last = people[people.length - 1]!;
    expect(() => hub.add(client(last))).toThrow(StreamLimitError);
    try {
      hub.add(client(last));
    } catch (err) {
      expect((err as StreamLimitError).scope).toBe(refused);
    }
    // A closed connection frees its place, once however often it is closed.
    const gone = removals[people.indexOf(last)] ?? removals[0]!;
    gone();
    gone();
    expect(hub.size).toBe(people.length - 2);
    const again = hub.add(client(last));
    expect(hub.size).toBe(people.length - 1);
    again();
    for (const r of removals) r();
    expect(hub.size).toBe(0);
    hub.close();
  });

  it('frames an event with its id and type, the payload as one data line', () => {
    expect(sseFrame({ id: 'e1', position: 7, type: 'post.deleted', payload: { post: { id: 'p', title: 'a\nb' } } })).toBe(
      'id: e1\nevent: post.deleted\ndata: {"post":{"id":"p","title":"a\\nb"}}\n\n',
    );
  });
});
