/**
 * Postgres backend messages as the server sends them (protocol v3), for the tests of what reads
 * them: a type byte, a 4-byte length (itself included), the body.
 */
export const backendMessage = (type: string, body: string | Buffer = ''): Buffer => {
  const b = typeof body === 'string' ? Buffer.from(body, 'latin1') : body;
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeUInt32BE(4 + b.length, 1);
  return Buffer.concat([head, b]);
};
