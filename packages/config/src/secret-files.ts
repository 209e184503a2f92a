import { readFileSync } from 'node:fs';

/**
 * Secret settings that may instead be given as a file, `NAME_FILE=/run/secrets/…` (the
 * Docker and Kubernetes convention: a mounted secret, never in the process environment,
 * `docker inspect` or a shell history). docs/SECURITY.md B32.
 */
export const FILE_SETTINGS = [
  'BLEND_SECRET',
  'BLEND_SECRET_PREVIOUS',
  'DATABASE_URL',
  'REDIS_URL',
  'BLEND_IMAP_URL',
  'BLEND_SMTP_URL',
  'BLEND_METRICS_TOKEN',
  'BLEND_OAUTH_CLIENT_SECRET',
  'BLEND_OAUTH_REFRESH_TOKEN',
  'BLEND_OIDC_CLIENT_SECRET',
  'BLEND_DKIM_PRIVATE_KEY',
  'BLEND_SLACK_SIGNING_SECRET',
  'BLEND_MATTERMOST_TOKEN',
  'BLEND_ROCKETCHAT_TOKEN',
  'BLEND_INBOUND_SECRET',
] as const;

export type Env = Record<string, string | undefined>;
export type Issue = { variable: string; message: string };

/** Reads one file as text; `readFileSync` in production, a table in tests. */
export type ReadText = (file: string) => string;

/**
 * The environment with every `NAME_FILE` of `names` replaced by `NAME` holding the file's
 * content (trailing line breaks removed: editors and `echo` add one, no secret ends in one).
 * Setting both, or naming a file that cannot be read or is empty, is an issue naming the
 * variable; an issue never carries the file's content.
 */
export function resolveFileSettings(
  env: Env,
  names: readonly string[] = FILE_SETTINGS,
  read: ReadText = (file) => readFileSync(file, 'utf8'),
): { env: Env; issues: Issue[] } {
  const out: Env = { ...env };
  const issues: Issue[] = [];
  for (const name of names) {
    const fileVar = `${name}_FILE`;
    const file = env[fileVar];
    delete out[fileVar];
    if (file === undefined || file === '') continue;
    if (env[name] !== undefined && env[name] !== '') {
      issues.push({ variable: fileVar, message: `cannot be set together with ${name}: give the value or the file, not both` });
      continue;
    }
    let text: string;
    try {
      text = read(file);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      issues.push({ variable: fileVar, message: `cannot read ${file} (${code})` });
      continue;
    }
    const value = text.replace(/[\r\n]+$/, '');
    if (value === '') {
      issues.push({ variable: fileVar, message: `${file} is empty` });
      continue;
    }
    out[name] = value;
  }
  return { env: out, issues };
}
