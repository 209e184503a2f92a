import ipaddr from 'ipaddr.js';

/**
 * Whether Blend may open a connection to `address` on an admin's behalf (webhooks): only to
 * public unicast addresses. Loopback, private (RFC 1918, unique local), link-local (which
 * holds cloud metadata services at 169.254.169.254), carrier-grade NAT, multicast, reserved
 * and unspecified addresses are refused, and so are the IPv6 forms that embed an IPv4 address
 * (mapped, NAT64, 6to4, Teredo), whose embedded address could be any of those. Otherwise an
 * admin-registered URL would reach services inside the network, and the delivery log would
 * report which ports answer (docs/SECURITY.md, B26). ipaddr.js keeps the IANA special-purpose
 * registries.
 * @returns null when allowed, else why not (`"10.0.0.5 is a private address"`).
 */
export function egressAddressProblem(address: string): string | null {
  if (!ipaddr.isValid(address)) return `${address} is not an IP address`;
  const parsed = ipaddr.parse(address);
  const range = parsed.range();
  if (range === 'unicast') return null;
  return `${address} is ${RANGE_WORDS[range] ?? `a reserved (${range})`} address`;
}

const RANGE_WORDS: Record<string, string> = {
  private: 'a private',
  uniqueLocal: 'a private (unique local)',
  loopback: 'a loopback',
  linkLocal: 'a link-local',
  carrierGradeNat: 'a carrier-grade NAT',
  multicast: 'a multicast',
  unspecified: 'an unspecified',
  broadcast: 'a broadcast',
  ipv4Mapped: 'an IPv4-mapped',
  rfc6052: 'a NAT64',
  '6to4': 'a 6to4',
  teredo: 'a Teredo',
  reserved: 'a reserved',
};
