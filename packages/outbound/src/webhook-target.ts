import { lookup } from 'node:dns/promises';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { egressAddressProblem } from '@blend/core';

/** A webhook URL that may not be called: the reason is shown to the admin and in the delivery log. */
export class WebhookTargetError extends Error {
  readonly code = 'WEBHOOK_TARGET';
  /** `unresolved`: the name has no address (yet); `refused`: an address is not allowed. */
  constructor(
    message: string,
    readonly kind: 'unresolved' | 'refused',
  ) {
    super(message);
    this.name = 'WebhookTargetError';
  }
}

/** Where a webhook request goes: the URL, and the one address checked for it. */
export interface WebhookTarget {
  url: URL;
  address: string;
  family: 4 | 6;
}

/** Resolves a name to every address it has (dns.lookup with `all`; tests pass their own). */
export type ResolveAll = (host: string) => Promise<{ address: string; family: number }[]>;

const systemResolve: ResolveAll = (host) => lookup(host, { all: true, verbatim: true });

/**
 * Resolves a webhook URL's host and checks every address it has (`egressAddressProblem`):
 * one private address among public ones is enough to refuse, since the connection could go to
 * either. Unless `allowPrivate` (BLEND_WEBHOOK_ALLOW_PRIVATE, for receivers on the local
 * network and tests). The caller then connects to the returned address only, so a name that
 * resolves differently a moment later (DNS rebinding) cannot move the request
 * (docs/SECURITY.md, B26).
 * @throws WebhookTargetError when the name does not resolve or an address is refused.
 */
export async function resolveWebhookTarget(url: string, opts: { allowPrivate: boolean; resolve?: ResolveAll }): Promise<WebhookTarget> {
  const u = new URL(url);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  let addresses: { address: string; family: number }[];
  if (isIP(host) !== 0) addresses = [{ address: host, family: isIP(host) }];
  else {
    try {
      addresses = await (opts.resolve ?? systemResolve)(host);
    } catch (err) {
      throw new WebhookTargetError(`${host} does not resolve (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, 'unresolved');
    }
  }
  if (addresses.length === 0) throw new WebhookTargetError(`${host} has no address`, 'unresolved');
  if (!opts.allowPrivate) {
    for (const a of addresses) {
      const problem = egressAddressProblem(a.address);
      if (problem) throw new WebhookTargetError(`${host}: ${problem}; set BLEND_WEBHOOK_ALLOW_PRIVATE=true to allow receivers inside your network`, 'refused');
    }
  }
  const first = addresses[0]!;
  return { url: u, address: first.address, family: first.family === 6 ? 6 : 4 };
}

/**
 * Sends one request to `target`, connecting to its checked address whatever the name resolves
 * to now; TLS still verifies the certificate against the host name. No redirects are followed.
 * @returns the response status.
 */
export function requestPinned(
  target: WebhookTarget,
  req: { method: string; headers: Record<string, string>; body: string },
  timeoutMs: number,
): Promise<number> {
  const pinned: LookupFunction = (_host, options, callback) => {
    if ((options as { all?: boolean }).all) (callback as (e: null, a: { address: string; family: number }[]) => void)(null, [{ address: target.address, family: target.family }]);
    else callback(null, target.address, target.family);
  };
  const client = target.url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const r = client.request(target.url, { method: req.method, headers: req.headers, lookup: pinned, timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    r.on('timeout', () => r.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    r.on('error', reject);
    r.end(req.body);
  });
}
