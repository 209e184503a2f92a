import type { Catalogue } from '../../catalogue';

export default {
  'footer.sentBy': 'Sent by Blend, the bridge between your mail and the company feed.',
  'footer.preferences': 'Preferences',
  'footer.unsubscribe': 'Unsubscribe',
} satisfies Catalogue;
