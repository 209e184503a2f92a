import { describe, expect, it } from 'vitest';
import { bridgeAddress, type Addressing, type AddressRole } from './addressing';
import { pickBridgeRoute, routeRecipient, type Route } from './route';
import type { Address, MailInput } from './types';

const D = 'blend.example.test';
const TOKEN = 'v1abcdefghijklmnopqrstuvwxyz';
const HEX = '0123456789abcdef0123456789abcdef';
/** A catch-all domain of Blend's own. */
const DOMAIN: Addressing = { mode: 'domain', domain: D };
/** One mailbox, bridge@example.test, in a domain shared with staff. */
const P = 'example.test';
const PLUS: Addressing = { mode: 'plus', mailbox: 'bridge', domain: P };

describe('routeRecipient, domain mode', () => {
  it.each<[string, Route]>([
    // status and command
    [`status@${D}`, { kind: 'status' }],
    [`STATUS@${D}`, { kind: 'status' }],
    [`Status@BLEND.Example.TEST`, { kind: 'status' }],
    [` <status@${D}> `, { kind: 'status' }],
    [`help@${D}`, { kind: 'command' }],
    [`blend@${D}`, { kind: 'group', slug: 'blend' }],
    // reply and bounce tokens
    [`reply+${TOKEN}@${D}`, { kind: 'reply', token: TOKEN }],
    [`REPLY+${TOKEN.toUpperCase()}@${D}`, { kind: 'reply', token: TOKEN }],
    [`reply+0123456789abcdef0123456789abcdef@${D}`, { kind: 'reply', token: '0123456789abcdef0123456789abcdef' }],
    [`reply+abcdefgh@${D}`, { kind: 'reply', token: 'abcdefgh' }],
    [`reply+abcdefg@${D}`, { kind: 'foreign' }],
    [`reply+${'a'.repeat(60)}@${D}`, { kind: 'reply', token: 'a'.repeat(60) }],
    [`reply+${'a'.repeat(61)}@${D}`, { kind: 'foreign' }],
    [`reply+abc-defgh@${D}`, { kind: 'foreign' }],
    [`reply+abc=defgh@${D}`, { kind: 'foreign' }],
    [`reply+@${D}`, { kind: 'foreign' }],
    [`reply@${D}`, { kind: 'group', slug: 'reply' }],
    [`bounce+${TOKEN}@${D}`, { kind: 'bounce', token: TOKEN }],
    [`Bounce+${TOKEN.toUpperCase()}@${D}`, { kind: 'bounce', token: TOKEN }],
    [`bounce+x@${D}`, { kind: 'foreign' }],
    // groups
    [`team@${D}`, { kind: 'group', slug: 'team' }],
    [`Sales-EMEA@${D}`, { kind: 'group', slug: 'sales-emea' }],
    [`dev.ops_2@${D}`, { kind: 'group', slug: 'dev.ops_2' }],
    [`0team@${D}`, { kind: 'group', slug: '0team' }],
    [`${'a'.repeat(63)}@${D}`, { kind: 'group', slug: 'a'.repeat(63) }],
    [`${'a'.repeat(64)}@${D}`, { kind: 'foreign' }],
    [`-team@${D}`, { kind: 'foreign' }],
    [`.team@${D}`, { kind: 'foreign' }],
    [`team+x@${D}`, { kind: 'foreign' }],
    [`"team"@${D}`, { kind: 'foreign' }],
    [`té@${D}`, { kind: 'foreign' }],
    [`\u212Aelvin@${D}`, { kind: 'foreign' }],
    // reserved role addresses
    [`postmaster@${D}`, { kind: 'foreign' }],
    [`Abuse@${D}`, { kind: 'foreign' }],
    [`MAILER-DAEMON@${D}`, { kind: 'foreign' }],
    [`noreply@${D}`, { kind: 'foreign' }],
    [`no-reply@${D}`, { kind: 'foreign' }],
    [`bounce@${D}`, { kind: 'foreign' }],
    [`bounces@${D}`, { kind: 'foreign' }],
    // other domains and look-alikes
    ['status@example.test', { kind: 'foreign' }],
    [`status@${D}.evil.io`, { kind: 'foreign' }],
    [`status@evil-${D}`, { kind: 'foreign' }],
    [`status@sub.${D}`, { kind: 'foreign' }],
    [`status@${D}.`, { kind: 'foreign' }],
    ['status@blend.example.tеst', { kind: 'foreign' }], // Cyrillic е
    ['status@blend.example.\u212Aest', { kind: 'foreign' }],
    [`status@evil.io@${D}`, { kind: 'foreign' }],
    [`status`, { kind: 'foreign' }],
    [`@${D}`, { kind: 'foreign' }],
    ['', { kind: 'foreign' }],
  ])('%s -> %o', (address, expected) => {
    expect(routeRecipient(address, DOMAIN)).toEqual(expected);
  });

  it.each([` ${D.toUpperCase()} `, D])('accepts bridge domain spelled %j', (bridge) => {
    expect(routeRecipient(`status@${D}`, { mode: 'domain', domain: bridge })).toEqual({ kind: 'status' });
  });

  it('never matches an empty bridge domain', () => {
    expect(routeRecipient('status@', { mode: 'domain', domain: '' })).toEqual({ kind: 'foreign' });
  });
});

describe('routeRecipient, plus mode', () => {
  it.each<[string, Route]>([
    // the bare mailbox and status, command
    [`bridge@${P}`, { kind: 'status' }],
    [`Bridge@EXAMPLE.Test`, { kind: 'status' }],
    [` <bridge@${P}> `, { kind: 'status' }],
    [`bridge+status@${P}`, { kind: 'status' }],
    [`BRIDGE+STATUS@${P}`, { kind: 'status' }],
    [`bridge+help@${P}`, { kind: 'command' }],
    // reply and bounce sub-addresses: `-` joins kind and token
    [`bridge+reply-${TOKEN}@${P}`, { kind: 'reply', token: TOKEN }],
    [`Bridge+Reply-${TOKEN.toUpperCase()}@${P}`, { kind: 'reply', token: TOKEN }],
    [`bridge+bounce-${HEX}@${P}`, { kind: 'bounce', token: HEX }],
    [`bridge+reply-abcdefg@${P}`, { kind: 'foreign' }],
    [`bridge+reply-${'a'.repeat(61)}@${P}`, { kind: 'foreign' }],
    [`bridge+reply-abc-defgh@${P}`, { kind: 'foreign' }],
    [`bridge+reply-@${P}`, { kind: 'foreign' }],
    [`bridge+bounce-x@${P}`, { kind: 'foreign' }],
    [`bridge+reply+${TOKEN}@${P}`, { kind: 'foreign' }],
    [`bridge+bounce+${HEX}@${P}`, { kind: 'foreign' }],
    // groups
    [`bridge+team@${P}`, { kind: 'group', slug: 'team' }],
    [`bridge+Sales-EMEA@${P}`, { kind: 'group', slug: 'sales-emea' }],
    [`bridge+dev.ops_2@${P}`, { kind: 'group', slug: 'dev.ops_2' }],
    [`bridge+reply@${P}`, { kind: 'group', slug: 'reply' }],
    [`bridge+team+x@${P}`, { kind: 'foreign' }],
    [`bridge+-team@${P}`, { kind: 'foreign' }],
    [`bridge+@${P}`, { kind: 'foreign' }],
    [`bridge+${'a'.repeat(64)}@${P}`, { kind: 'foreign' }],
    [`bridge+postmaster@${P}`, { kind: 'foreign' }],
    [`bridge+bounce@${P}`, { kind: 'foreign' }],
    [`bridge+\u212Aelvin@${P}`, { kind: 'foreign' }],
    // the rest of the domain belongs to staff
    [`status@${P}`, { kind: 'foreign' }],
    [`help@${P}`, { kind: 'foreign' }],
    [`team@${P}`, { kind: 'foreign' }],
    [`alice@${P}`, { kind: 'foreign' }],
    [`reply+${TOKEN}@${P}`, { kind: 'foreign' }],
    [`bounce+${HEX}@${P}`, { kind: 'foreign' }],
    [`bridges@${P}`, { kind: 'foreign' }],
    [`xbridge+status@${P}`, { kind: 'foreign' }],
    [`bridge-status@${P}`, { kind: 'foreign' }],
    [`bridge.status@${P}`, { kind: 'foreign' }],
    [`"bridge"@${P}`, { kind: 'foreign' }],
    [`"bridge+status"@${P}`, { kind: 'foreign' }],
    // other domains and look-alikes
    [`bridge+status@${D}`, { kind: 'foreign' }],
    [`bridge@sub.${P}`, { kind: 'foreign' }],
    [`bridge@${P}.evil.io`, { kind: 'foreign' }],
    [`bridge@evil-${P}`, { kind: 'foreign' }],
    [`bridge@${P}.`, { kind: 'foreign' }],
    ['bridge@example.tеst', { kind: 'foreign' }], // Cyrillic е
    [`bridge+status@evil.io@${P}`, { kind: 'foreign' }],
    ['bridge', { kind: 'foreign' }],
  ])('%s -> %o', (address, expected) => {
    expect(routeRecipient(address, PLUS)).toEqual(expected);
  });

  it('never matches an empty mailbox or domain', () => {
    expect(routeRecipient(`+status@${P}`, { mode: 'plus', mailbox: '', domain: P })).toEqual({ kind: 'foreign' });
    expect(routeRecipient('bridge@', { mode: 'plus', mailbox: 'bridge', domain: '' })).toEqual({ kind: 'foreign' });
  });
});

describe('routeRecipient(bridgeAddress(role))', () => {
  const roles: AddressRole[] = [
    { kind: 'status' },
    { kind: 'command' },
    { kind: 'group', slug: 'sales-emea' },
    { kind: 'reply', token: TOKEN },
    { kind: 'bounce', token: HEX },
  ];
  const longest: Addressing = { mode: 'plus', mailbox: 'x'.repeat(24), domain: P };
  it.each(roles.flatMap((role) => [DOMAIN, PLUS, longest].map((a) => [a.mode, a, role] as const)))('%s: %o round-trips', (_mode, addressing, role) => {
    const address = bridgeAddress(addressing, role);
    expect(routeRecipient(address, addressing)).toEqual(role);
    expect(routeRecipient(address.toUpperCase(), addressing)).toEqual(role);
    // RFC 5321 section 4.5.3.1.1
    expect(address.lastIndexOf('@')).toBeLessThanOrEqual(64);
  });
});

const addr = (address: string): Address => ({ address, name: '' });
const mail = (deliveredTo: string[], to: string[] = [], cc: string[] = []): MailInput => ({
  messageId: 'm@x',
  inReplyTo: [],
  references: [],
  subject: '',
  from: addr('jane@corp.com'),
  to: to.map(addr),
  cc: cc.map(addr),
  deliveredTo,
  date: null,
  headers: {},
  text: null,
  html: null,
});

describe('pickBridgeRoute, domain mode', () => {
  const reply = `reply+${TOKEN}@${D}`;

  it.each<[string, MailInput, ReturnType<typeof pickBridgeRoute>]>([
    ['nothing of ours', mail(['jane@corp.com'], ['bob@corp.com'], ['carol@corp.com']), null],
    ['only foreign bridge addresses', mail([`postmaster@${D}`], [`team+x@${D}`]), null],
    ['delivered-to status', mail([`status@${D}`]), { route: { kind: 'status' }, address: `status@${D}` }],
    ['to only', mail([], ['bob@corp.com', `team@${D}`]), { route: { kind: 'group', slug: 'team' }, address: `team@${D}` }],
    ['cc only', mail([], ['bob@corp.com'], [`Status@${D}`]), { route: { kind: 'status' }, address: `status@${D}` }],
    [
      'delivered-to wins over to (bcc to a group)',
      mail([`team@${D}`], [`status@${D}`]),
      { route: { kind: 'group', slug: 'team' }, address: `team@${D}` },
    ],
    [
      'foreign delivered-to falls through to to',
      mail(['jane@corp.com'], [`status@${D}`]),
      { route: { kind: 'status' }, address: `status@${D}` },
    ],
    [
      'to wins over cc',
      mail([], [`team@${D}`], [reply]),
      { route: { kind: 'group', slug: 'team' }, address: `team@${D}` },
    ],
    [
      'reply beats status and group in one source',
      mail([`team@${D}`, `status@${D}`, reply]),
      { route: { kind: 'reply', token: TOKEN }, address: reply },
    ],
    [
      'status beats group',
      mail([], [`team@${D}`, `status@${D}`]),
      { route: { kind: 'status' }, address: `status@${D}` },
    ],
    [
      'first group in header order',
      mail([], [`team@${D}`, `sales@${D}`]),
      { route: { kind: 'group', slug: 'team' }, address: `team@${D}` },
    ],
    [
      'bounce beats reply',
      mail([reply, `bounce+${TOKEN}@${D}`]),
      { route: { kind: 'bounce', token: TOKEN }, address: `bounce+${TOKEN}@${D}` },
    ],
    [
      'address reported lower-cased',
      mail([`REPLY+${TOKEN.toUpperCase()}@${D.toUpperCase()}`]),
      { route: { kind: 'reply', token: TOKEN }, address: reply },
    ],
  ])('%s', (_name, input, expected) => {
    expect(pickBridgeRoute(input, DOMAIN)).toEqual(expected);
  });
});

describe('pickBridgeRoute, plus mode', () => {
  const reply = `bridge+reply-${TOKEN}@${P}`;

  it.each<[string, MailInput, ReturnType<typeof pickBridgeRoute>]>([
    ['staff mail in the same domain', mail([`alice@${P}`], [`bob@${P}`], [`status@${P}`]), null],
    ['delivered-to a sub-address', mail([`bridge+team@${P}`]), { route: { kind: 'group', slug: 'team' }, address: `bridge+team@${P}` }],
    ['bare mailbox in cc', mail([], [`bob@${P}`], [`Bridge@${P}`]), { route: { kind: 'status' }, address: `bridge@${P}` }],
    ['reply beats the bare mailbox in one source', mail([], [`bridge@${P}`, reply]), { route: { kind: 'reply', token: TOKEN }, address: reply }],
    [
      'delivered-to wins over to (bcc to a group)',
      mail([`bridge+team@${P}`], [`bridge+status@${P}`]),
      { route: { kind: 'group', slug: 'team' }, address: `bridge+team@${P}` },
    ],
    [
      'bounce beats reply',
      mail([reply, `bridge+bounce-${HEX}@${P}`]),
      { route: { kind: 'bounce', token: HEX }, address: `bridge+bounce-${HEX}@${P}` },
    ],
  ])('%s', (_name, input, expected) => {
    expect(pickBridgeRoute(input, PLUS)).toEqual(expected);
  });
});
