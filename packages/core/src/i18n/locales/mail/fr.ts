import type { Catalogue } from '../../catalogue';

export default {
  'footer.sentBy': 'Envoyé par Blend, le pont entre votre messagerie et le fil de l’entreprise.',
  'footer.preferences': 'Préférences',
  'footer.unsubscribe': 'Se désabonner',
} satisfies Catalogue;
