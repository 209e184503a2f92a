// planer (Mailgun talon's quotation rules, ported to JavaScript) ships no types; only the
// plain-text entry point is used here (its HTML one needs a DOM).
declare module 'planer' {
  export function extractFromPlain(msgBody: string): string;
  export function extractFrom(msgBody: string, contentType: string, dom?: unknown): string;
}
