import type { BodyDoubt } from './body-doubt';

/** An address as it appeared in a header, already reduced to its addr-spec. */
export interface Address {
  /** Canonical addr-spec: trimmed, lower-cased. Never taken from a display name. */
  address: string;
  /** Display name with control, bidi and zero-width characters removed. */
  name: string;
}

/**
 * The normalised view of one inbound mail that the pure domain logic works on.
 * Built by packages/mail from mailparser output; nothing here is raw MIME.
 */
export interface MailInput {
  /** Message-ID without angle brackets, or null when missing/unusable. */
  messageId: string | null;
  /** In-Reply-To ids, normalised, without angle brackets. */
  inReplyTo: string[];
  /** References ids in header order, normalised, capped. */
  references: string[];
  subject: string;
  from: Address | null;
  to: Address[];
  cc: Address[];
  /** Envelope recipients named by the delivery headers (see envelope-recipients.ts), lower-cased. */
  deliveredTo: string[];
  date: Date | null;
  /** Lower-cased header name -> every value of that header, as text. */
  headers: Record<string, string[]>;
  /**
   * Every header field as `[lower-cased name, value]`, topmost first: the order across names,
   * which `headers` loses, for rules that depend on where a field sits (received-path.ts).
   * Absent in hand-built inputs; a rule that needs it then finds nothing to trust.
   */
  headerFields?: ReadonlyArray<readonly [string, string]>;
  /** The text/plain body, if any. */
  text: string | null;
  /** The text/html body, if any (unsanitised: never show it as is). */
  html: string | null;
  /** What the parser had to guess about the body (no part boundaries, an undeclared charset). */
  doubt?: BodyDoubt | null;
}
