import type { Catalogue } from '../../catalogue';

export default {
  optIn: 'anmelden | abonnieren | einwilligen',
  optOut: 'abmelden | austragen',
  unsubscribe: 'abbestellen | stopp',
  help: 'hilfe | befehle',
  digest: 'Zusammenfassung | Zusammenfassungen',
  'digest.hourly': 'stündlich | stuendlich',
  'digest.daily': 'täglich | taeglich',
  'digest.weekly': 'wöchentlich | woechentlich',
  'digest.off': 'aus | nie | keine',
  like: 'gefällt mir | gefaellt mir | daumen hoch',
} satisfies Catalogue;
