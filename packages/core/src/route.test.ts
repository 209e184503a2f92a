import { describe, expect, it } from 'vitest';
import { pickBridgeRoute, routeRecipient, type Route } from './route';
import type { Address, MailInput } from './types';

const D = 'blend.example.test';
const TOKEN = 'v1abcdefghijklmnopqrstuvwxyz';

describe('routeRecipient', () => {
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
    expect(routeRecipient(address, D)).toEqual(expected);
  });

  it.each([` ${D.toUpperCase()} `, D])('accepts bridge domain spelled %j', (bridge) => {
    expect(routeRecipient(`status@${D}`, bridge)).toEqual({ kind: 'status' });
  });

  it('never matches an empty bridge domain', () => {
    expect(routeRecipient('status@', '')).toEqual({ kind: 'foreign' });
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

describe('pickBridgeRoute', () => {
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
    expect(pickBridgeRoute(input, D)).toEqual(expected);
  });
});
