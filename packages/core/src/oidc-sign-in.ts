import { isOrgDomain } from './sender-policy';

/** The claims Blend reads from the IdP (ID token, completed by the UserInfo answer). */
export interface OidcClaims {
  sub: string;
  email?: unknown;
  email_verified?: unknown;
  name?: unknown;
}

/** Why a company-account sign-in was refused; each has its own page. */
export type OidcRefusal = 'no_email' | 'email_unverified' | 'unknown_person' | 'not_org_domain';

export type OidcSignIn =
  | { kind: 'sign_in'; email: string }
  | { kind: 'create'; email: string; name: string }
  | { kind: 'refused'; reason: OidcRefusal; email: string | null };

/** A plain addr-spec, lower-cased; anything else is no usable address. */
function canonicalEmail(v: unknown): string | null {
  if (typeof v !== 'string') return null;
  const e = v.trim().toLowerCase();
  return /^[^\s@"<>()\\,;:]+@[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?$/.test(e) && e.length <= 254 ? e : null;
}

/**
 * Who a company-account sign-in is (docs/SECURITY.md S3). A person is found by email address
 * only, and only when the IdP says it has verified that address (`email_verified` is exactly
 * `true`: a missing claim or the string "true" is not proof). Someone not yet known is
 * created only when IT allows it (BLEND_OIDC_CREATE_PEOPLE) and the address is in one of the
 * organisation's domains; otherwise they are told to ask IT.
 */
export function decideOidcSignIn(
  claims: OidcClaims,
  ctx: { personExists: (email: string) => boolean; createPeople: boolean; orgDomains: string[] },
): OidcSignIn {
  const email = canonicalEmail(claims.email);
  if (!email) return { kind: 'refused', reason: 'no_email', email: null };
  if (claims.email_verified !== true) return { kind: 'refused', reason: 'email_unverified', email };
  if (ctx.personExists(email)) return { kind: 'sign_in', email };
  if (!ctx.createPeople) return { kind: 'refused', reason: 'unknown_person', email };
  if (!isOrgDomain(email.slice(email.lastIndexOf('@') + 1), ctx.orgDomains)) return { kind: 'refused', reason: 'not_org_domain', email };
  const name = typeof claims.name === 'string' ? claims.name.replace(/[\u0000-\u001f\u007f]/g, '').trim().slice(0, 200) : '';
  return { kind: 'create', email, name };
}
