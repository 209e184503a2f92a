import net from 'node:net';

/**
 * A TCP proxy on 127.0.0.1 in front of a real server, so a test can make that server
 * unreachable (`cut`: open connections are destroyed, new ones refused) and bring it back
 * (`restore`) without stopping the server the other tests use.
 *
 * `opts.tap` sees every chunk before it is forwarded (`up`: client to server, `down`: server
 * to client), so a test can `cut()` at an exact point of a protocol exchange, e.g. in the
 * middle of an IMAP FETCH literal; a chunk seen by a tap that cut is not forwarded.
 */
export async function startTcpProxy(
  targetPort: number,
  opts: { tap?: (direction: 'up' | 'down', chunk: Buffer) => void } = {},
): Promise<{ port: number; cut(): void; restore(): void; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  let down = false;
  const server = net.createServer((client) => {
    if (down) return client.destroy();
    const upstream = net.connect(targetPort, '127.0.0.1');
    sockets.add(client);
    sockets.add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    // Registered before pipe(), so a tap runs before the chunk is written on.
    const tap = opts.tap;
    if (tap) {
      client.on('data', (chunk: Buffer) => tap('up', chunk));
      upstream.on('data', (chunk: Buffer) => tap('down', chunk));
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    cut: () => {
      down = true;
      for (const s of sockets) s.destroy();
      sockets.clear();
    },
    restore: () => {
      down = false;
    },
    close: async () => {
      down = true;
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
