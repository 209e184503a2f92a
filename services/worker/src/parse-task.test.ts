import { transferableSymbol, valueSymbol } from 'piscina';
import { describe, expect, it } from 'vitest';
import runParseTask, { type ParseResult } from './parse-task';

/** A mail with one file of `bytes` bytes (base64). */
const withFile = (content: Buffer) =>
  Buffer.from(
    `From: alice@corp.test\r\nSubject: Figures\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nThe figures.\r\n--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=figures.bin\r\nContent-Transfer-Encoding: base64\r\n\r\n${content.toString('base64').replace(/.{76}/g, '$&\r\n')}\r\n--b--\r\n`,
  );

type Moved = { [transferableSymbol]: ArrayBuffer[]; [valueSymbol]: ParseResult };

describe('runParseTask (a parse thread\'s entry)', () => {
  it('moves a file\'s bytes to the main thread instead of copying them: its memory block is in the transfer list', async () => {
    const content = Buffer.alloc(200_000);
    for (let i = 0; i < content.length; i++) content[i] = (i * 13) & 0xff;
    const out = (await runParseTask({ raw: withFile(content), settings: { redact: '' } })) as unknown as Moved;
    expect(transferableSymbol in out).toBe(true);
    const result = out[valueSymbol];
    if (!result.ok) throw new Error(`not parsed: ${result.message}`);
    const file = result.files[0]!.content;
    expect(Buffer.from(file).equals(content)).toBe(true);
    expect(out[transferableSymbol]).toEqual([file.buffer]);
  });

  it('reads a source in shared memory as it reads any other', async () => {
    const raw = withFile(Buffer.from('%PDF-1.4\n'));
    const shared = Buffer.from(new SharedArrayBuffer(raw.length));
    raw.copy(shared);
    const plain = await runParseTask({ raw, settings: { redact: '' } });
    const fromShared = await runParseTask({ raw: shared, settings: { redact: '' } });
    const unwrap = (r: ParseResult | Moved) => (valueSymbol in r ? r[valueSymbol] : r) as ParseResult;
    expect(unwrap(fromShared)).toEqual(unwrap(plain));
    expect(unwrap(fromShared).ok).toBe(true);
  });
});
