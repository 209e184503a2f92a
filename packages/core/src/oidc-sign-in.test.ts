import { describe, expect, it } from 'vitest';
import { decideOidcSignIn, type OidcClaims } from './oidc-sign-in';

const known = new Set(['ann@corp.test']);
const ctx = (createPeople: boolean) => ({ personExists: (e: string) => known.has(e), createPeople, orgDomains: ['corp.test'] });

describe('decideOidcSignIn', () => {
  it.each<[string, OidcClaims, boolean, ReturnType<typeof decideOidcSignIn>]>([
    ['a known person with a verified address', { sub: '1', email: 'Ann@Corp.test', email_verified: true }, false, { kind: 'sign_in', email: 'ann@corp.test' }],
    ['no email claim', { sub: '1' }, true, { kind: 'refused', reason: 'no_email', email: null }],
    ['an email that is no address', { sub: '1', email: 'ann', email_verified: true }, true, { kind: 'refused', reason: 'no_email', email: null }],
    ['an unverified address', { sub: '1', email: 'ann@corp.test', email_verified: false }, true, { kind: 'refused', reason: 'email_unverified', email: 'ann@corp.test' }],
    ['no email_verified claim', { sub: '1', email: 'ann@corp.test' }, true, { kind: 'refused', reason: 'email_unverified', email: 'ann@corp.test' }],
    ['email_verified as a string', { sub: '1', email: 'ann@corp.test', email_verified: 'true' }, true, { kind: 'refused', reason: 'email_unverified', email: 'ann@corp.test' }],
    ['a stranger, creation off', { sub: '2', email: 'new@corp.test', email_verified: true }, false, { kind: 'refused', reason: 'unknown_person', email: 'new@corp.test' }],
    ['a stranger, creation on', { sub: '2', email: 'new@corp.test', email_verified: true, name: 'New\u0007 Person ' }, true, { kind: 'create', email: 'new@corp.test', name: 'New Person' }],
    ['a stranger in a sub-domain', { sub: '2', email: 'new@eu.corp.test', email_verified: true }, true, { kind: 'create', email: 'new@eu.corp.test', name: '' }],
    ['a stranger outside the organisation', { sub: '3', email: 'x@corp.test.evil.test', email_verified: true }, true, { kind: 'refused', reason: 'not_org_domain', email: 'x@corp.test.evil.test' }],
  ])('%s', (_name, claims, createPeople, expected) => {
    expect(decideOidcSignIn(claims, ctx(createPeople))).toEqual(expected);
  });
});
