import { describe, expect, it } from 'vitest';
import { egressAddressProblem } from './egress-address';

describe('egressAddressProblem', () => {
  it.each<[string, string | null]>([
    ['93.184.215.14', null],
    ['2606:2800:21f:cb07:6820:80da:af6b:8b2c', null],
    ['127.0.0.1', '127.0.0.1 is a loopback address'],
    ['127.8.9.1', '127.8.9.1 is a loopback address'],
    ['::1', '::1 is a loopback address'],
    ['10.0.0.5', '10.0.0.5 is a private address'],
    ['172.16.4.4', '172.16.4.4 is a private address'],
    ['192.168.1.1', '192.168.1.1 is a private address'],
    ['169.254.169.254', '169.254.169.254 is a link-local address'],
    ['fe80::1', 'fe80::1 is a link-local address'],
    ['fd12:3456::1', 'fd12:3456::1 is a private (unique local) address'],
    ['100.64.0.1', '100.64.0.1 is a carrier-grade NAT address'],
    ['0.0.0.0', '0.0.0.0 is an unspecified address'],
    ['::', ':: is an unspecified address'],
    ['224.0.0.1', '224.0.0.1 is a multicast address'],
    ['::ffff:127.0.0.1', '::ffff:127.0.0.1 is an IPv4-mapped address'],
    ['64:ff9b::a00:5', '64:ff9b::a00:5 is a NAT64 address'],
    ['2002:a00:5::1', '2002:a00:5::1 is a 6to4 address'],
    ['240.0.0.1', '240.0.0.1 is a reserved address'],
    ['example.com', 'example.com is not an IP address'],
  ])('%s', (address, problem) => expect(egressAddressProblem(address)).toBe(problem));
});
