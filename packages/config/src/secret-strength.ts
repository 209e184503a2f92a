/**
 * Values of BLEND_SECRET that were published (in an example, a compose file, the docs) and so
 * protect nothing: anyone can sign links and tokens with them (docs/SECURITY.md B32).
 */
export const PUBLISHED_SECRETS: readonly string[] = [
  // docker-compose.yml's default until the stack refused to start without a key.
  'change-me-to-64-hex-characters-from-openssl-rand-hex-32',
];

/** Why `value` cannot be Blend's key, or undefined when it can (its length is checked apart). */
export function publishedSecretProblem(value: string): string | undefined {
  if (PUBLISHED_SECRETS.includes(value) || /(?<![a-z])(?:change|replace)[-_ ]?me(?![a-z])/i.test(value)) {
    return 'is a placeholder, not a key of your own: make one with `openssl rand -hex 32`';
  }
  return undefined;
}
