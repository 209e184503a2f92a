/**
 * An SMTP submission server that takes only SASL XOAUTH2 and checks every token it is offered
 * against an OAuth 2.0 introspection endpoint (RFC 7662), as Exchange Online and Gmail check
 * theirs. The mail it accepts is kept in memory for the test to read.
 */
import { SMTPServer } from 'smtp-server';

export interface AcceptedMail {
  /** The user the token was issued for, as the introspection endpoint said. */
  user: string;
  from: string;
  to: string[];
  raw: string;
}

export interface OAuthSmtp {
  /** `smtp://USER@127.0.0.1:PORT` for BLEND_SMTP_URL (the user percent-encoded, no password). */
  url(user: string): string;
  accepted: AcceptedMail[];
  /** Logins refused so far (a token the endpoint called inactive, or for another user). */
  refused: number;
  close(): Promise<void>;
}

export async function startOAuthSmtp(introspectionUrl: string): Promise<OAuthSmtp> {
  const state = { accepted: [] as AcceptedMail[], refused: 0 };
  const server = new SMTPServer({
    authMethods: ['XOAUTH2'],
    allowInsecureAuth: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    // Idle sessions are closed after a second (real servers wait minutes), so a test's next mail
    // opens a new session and must log in again with a token.
    socketTimeout: 1_000,
    onAuth(auth, _session, cb) {
      void (async () => {
        const res = await fetch(introspectionUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ token: auth.accessToken ?? '' }),
        });
        const info = (await res.json()) as { active?: boolean; username?: string };
        if (info.active === true && info.username?.toLowerCase() === auth.username?.toLowerCase()) return cb(null, { user: info.username });
        state.refused++;
        // The XOAUTH2 failure of RFC 7628 section 3.2.2: a JSON status, then 535 after the client's empty reply.
        cb(null, { data: { status: '401', schemes: 'bearer', scope: 'https://mail.google.com/' } });
      })().catch((err: unknown) => cb(err as Error));
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        state.accepted.push({
          user: String(session.user),
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        cb();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.server.address() as { port: number }).port;
  return {
    url: (user) => `smtp://${encodeURIComponent(user)}@127.0.0.1:${port}`,
    get accepted() {
      return state.accepted;
    },
    get refused() {
      return state.refused;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
