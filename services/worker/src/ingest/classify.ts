import {
  classify,
  dedupeKey,
  detectConfidential,
  parseCommand,
  pickBridgeRoute,
  readBounce,
  splitParticipants,
  type BounceEvidence,
  type Classification,
  type Command,
  type Participants,
  type Route,
} from '@blend/core';
import type { IngestDeps } from './deps';
import type { ParsedInbound } from './parse';

/** What a mail is, read from its headers and converted text alone: no I/O, no clock. */
export interface ClassifiedInbound {
  /** Natural id of the mail across copies (docs/ARCHITECTURE.md invariant 2). */
  dedupeKey: string;
  classification: Classification;
  /** The bridge address the mail came through, or null when none of ours was used. */
  route: Route | null;
  /** A mail command in the subject or first line, for mail to the status or command address. */
  command: Command | null;
  confidential: ReturnType<typeof detectConfidential>;
  /** Who is on the mail besides Blend, split once for every later stage. */
  participants: Participants;
  /** Which of Blend's mails a bounce is about (a real DSN only), or null. */
  bounce: BounceEvidence | null;
  /**
   * A reply or a new thread: mail that could be published, so its sender is authenticated and
   * its files are scanned. Loops, bounces, auto-replies and list mail are refused on headers alone.
   */
  publishable: boolean;
}

/** The classify stage: the pure rules of core applied to one parsed mail. */
export function classifyInbound(
  raw: Buffer,
  parsed: ParsedInbound,
  deps: Pick<IngestDeps, 'addressing' | 'confidentialMarkers' | 'senderAuth' | 'secret' | 'previousSecret'>,
): ClassifiedInbound {
  const { mail, content } = parsed;
  const classification = classify(mail, { addressing: deps.addressing });
  const route = pickBridgeRoute(mail, deps.addressing)?.route ?? null;
  return {
    dedupeKey: dedupeKey(mail, raw),
    classification,
    route,
    command: route && (route.kind === 'status' || route.kind === 'command') ? parseCommand(mail.subject, content.firstLine) : null,
    confidential: detectConfidential(mail, { subjectMarkers: deps.confidentialMarkers }),
    participants: splitParticipants(mail, deps.addressing, deps.senderAuth.orgDomains),
    bounce: readBounce({
      mail,
      source: () => raw.toString('latin1'),
      route,
      classification,
      secrets: [deps.secret, ...(deps.previousSecret ? [deps.previousSecret] : [])],
    }),
    publishable: classification.kind === 'reply' || classification.kind === 'new_thread',
  };
}
