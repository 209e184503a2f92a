import { createServer, type Server } from 'node:net';

/**
 * `n` distinct TCP ports on 127.0.0.1 that nothing listens on right now, chosen by the
 * kernel. A port picked at random can be one the kernel has just handed out as the local
 * end of another connection (20000-40000 overlaps Linux's ephemeral range) or another
 * test's server, and a service started on it then dies with EADDRINUSE.
 */
export async function freePorts(n: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const server = createServer();
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', resolve);
      });
    }
    return servers.map((s) => (s.address() as { port: number }).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  }
}

export async function freePort(): Promise<number> {
  return (await freePorts(1))[0]!;
}
