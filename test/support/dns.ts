import { generateKeyPairSync } from 'node:crypto';
import { staticResolver, type DnsResolver } from '@blend/mail';

/**
 * The DNS the tests' sender authentication sees, so no test needs the internet.
 * - `corp.test`: SPF allows 127.0.0.1 (every test mail is relayed by the local Postfix), so
 *   its mail passes DMARC through aligned SPF.
 * - `partner.test`: SPF allows nothing, so only DKIM-signed mail (with `PARTNER_DKIM`) passes
 *   DMARC; unsigned mail claiming to be from it is a spoof and fails.
 */
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });

export const PARTNER_DKIM = {
  signingDomain: 'partner.test',
  selector: 'sel',
  privateKey: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
};

/** The resolver, with `extraDomains` (e.g. a test's own people domain) set up like corp.test. */
export function testResolver(extraDomains: string[] = []): DnsResolver {
  const zone: Record<string, { TXT: string[] }> = {
    'corp.test': { TXT: ['v=spf1 ip4:127.0.0.1 -all'] },
    '_dmarc.corp.test': { TXT: ['v=DMARC1; p=reject'] },
    'partner.test': { TXT: ['v=spf1 -all'] },
    '_dmarc.partner.test': { TXT: ['v=DMARC1; p=reject'] },
    'sel._domainkey.partner.test': { TXT: [`v=DKIM1; k=rsa; p=${publicKey.export({ type: 'spki', format: 'der' }).toString('base64')}`] },
  };
  for (const d of extraDomains) {
    zone[d] = { TXT: ['v=spf1 ip4:127.0.0.1 -all'] };
    zone[`_dmarc.${d}`] = { TXT: ['v=DMARC1; p=reject'] };
  }
  return staticResolver(zone);
}

export const TEST_ORG_DOMAINS = 'corp.test,partner.test';
