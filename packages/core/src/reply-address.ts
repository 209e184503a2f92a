import { bridgeAddress, type Addressing } from './addressing';
import { DEFAULT_REPLY_TOKEN_MAX_USES, DEFAULT_REPLY_TOKEN_TTL_DAYS, generateReplyToken, hashReplyToken } from './reply-token';

/** A reply token as stored: only its HMAC (docs/ARCHITECTURE.md invariant 6). */
export interface ReplyTokenRecord {
  tokenHash: string;
  personId: string;
  postId: string;
  /** The outbox row that carries the address. */
  outboundId: string;
  expiresAt: Date;
  maxUses: number;
}

/** A reply-by-email address and the record that makes it work. */
export interface IssuedReplyAddress {
  address: string;
  record: ReplyTokenRecord;
}

/**
 * A new reply-by-email address for one person and one thread, carried by one outbox row: a
 * fresh random token in the address, its keyed hash in the record to store, expiring after
 * {@link DEFAULT_REPLY_TOKEN_TTL_DAYS}. Every mail Blend sends with a reply address gets it
 * here.
 */
export function newReplyAddress(p: {
  addressing: Addressing;
  /** BLEND_SECRET: the key of the token's hash. */
  secret: string;
  personId: string;
  postId: string;
  outboundId: string;
  now: Date;
  random: (n: number) => Uint8Array;
}): IssuedReplyAddress {
  const token = generateReplyToken(p.random);
  return {
    address: bridgeAddress(p.addressing, { kind: 'reply', token }),
    record: {
      tokenHash: hashReplyToken(token, p.secret),
      personId: p.personId,
      postId: p.postId,
      outboundId: p.outboundId,
      expiresAt: new Date(p.now.getTime() + DEFAULT_REPLY_TOKEN_TTL_DAYS * 86_400_000),
      maxUses: DEFAULT_REPLY_TOKEN_MAX_USES,
    },
  };
}
