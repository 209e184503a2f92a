import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';

/** The EICAR anti-virus test file: harmless, and every scanner reports it. */
export const EICAR = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*';

/**
 * A stand-in for ClamAV's clamd on loopback, speaking its INSTREAM protocol (clamd(8)): it
 * reassembles the length-prefixed chunks and answers `stream: OK` or, for content holding the
 * EICAR string, `stream: Eicar-Test-Signature FOUND`. ClamAV itself needs signature downloads
 * that these machines cannot make, so the protocol is what is tested here, against the real
 * client (services/worker/src/clamd.ts).
 */
export async function startFakeClamd(): Promise<{ url: string; scanned: () => number; close: () => Promise<void> }> {
  let count = 0;
  const server: Server = createServer((socket) => {
    let buf = Buffer.alloc(0);
    socket.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      const cmd = 'zINSTREAM\0';
      if (buf.length < cmd.length) return;
      if (buf.subarray(0, cmd.length).toString('latin1') !== cmd) return void socket.end('UNKNOWN COMMAND\0');
      let at = cmd.length;
      const chunks: Buffer[] = [];
      for (;;) {
        if (buf.length < at + 4) return;
        const n = buf.readUInt32BE(at);
        if (n === 0) break;
        if (buf.length < at + 4 + n) return;
        chunks.push(buf.subarray(at + 4, at + 4 + n));
        at += 4 + n;
      }
      count++;
      const content = Buffer.concat(chunks).toString('latin1');
      socket.end(content.includes(EICAR) ? 'stream: Eicar-Test-Signature FOUND\0' : 'stream: OK\0');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `tcp://127.0.0.1:${(server.address() as AddressInfo).port}`,
    scanned: () => count,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
