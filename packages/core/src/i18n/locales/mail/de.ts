import type { Catalogue } from '../../catalogue';

export default {
  'footer.sentBy': 'Gesendet von Blend, der Brücke zwischen Ihrer Mail und dem Firmen-Feed.',
  'footer.preferences': 'Einstellungen',
  'footer.unsubscribe': 'Abbestellen',
} satisfies Catalogue;
