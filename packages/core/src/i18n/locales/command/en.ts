import type { Catalogue } from '../../catalogue';

/**
 * The words of mailed commands (docs/ARCHITECTURE.md "Addresses"): each message lists the
 * phrases understood, separated by `|`, the first being the one Blend's mails suggest.
 * Commands are recognised in every language at once, so a phrase must not mean anything
 * else as a whole subject in another one. Matching folds case, accents and width; a space
 * also matches `-`, `_` or nothing ("opt in", "opt-in", "optin").
 */
export default {
  optIn: 'opt in',
  optOut: 'opt out',
  unsubscribe: 'unsubscribe | unsub | stop',
  help: 'help | commands',
  digest: 'digest | digests',
  'digest.hourly': 'hourly',
  'digest.daily': 'daily',
  'digest.weekly': 'weekly',
  'digest.off': 'off | none | never',
  like: 'like | liked',
} satisfies Catalogue;
