import { isIP } from 'node:net';
import { z } from 'zod';

/** What Fastify's `trustProxy` option takes from BLEND_TRUST_PROXY. */
export type TrustProxy = boolean | number | string[];

/** One address or CIDR block (`10.0.0.0/8`, `fd00::/8`). */
function addressOrCidr(v: string): boolean {
  const [addr, bits, ...rest] = v.split('/');
  if (rest.length > 0 || !addr) return false;
  const family = isIP(addr);
  if (family === 0) return false;
  if (bits === undefined) return true;
  const n = Number(bits);
  return /^\d{1,3}$/.test(bits) && n <= (family === 4 ? 32 : 128);
}

/**
 * BLEND_TRUST_PROXY: whose `X-Forwarded-For`/`-Proto`/`-Host` the API believes, so that the
 * client address, https and the host are the ones the reverse proxy saw (docs/SECURITY.md S1).
 * `false` (default: nobody, the headers are ignored), `true` (any peer: only when nothing but
 * the proxy can reach the API), a hop count, or comma-separated addresses and CIDR blocks.
 */
export const trustProxySetting = z
  .string()
  .trim()
  .default('false')
  .transform((v, ctx): TrustProxy => {
    const lower = v.toLowerCase();
    if (lower === 'false' || lower === '0' || lower === 'no') return false;
    if (lower === 'true' || lower === 'yes') return true;
    if (/^\d+$/.test(v)) return Number(v);
    const list = v.split(',').map((s) => s.trim()).filter(Boolean);
    const bad = list.filter((a) => !addressOrCidr(a));
    if (list.length === 0 || bad.length > 0) {
      ctx.addIssue({ code: 'custom', message: `must be true, false, a number of proxy hops, or comma-separated addresses/CIDR blocks (not: ${bad.join(', ') || v})` });
      return z.NEVER;
    }
    return list;
  });
