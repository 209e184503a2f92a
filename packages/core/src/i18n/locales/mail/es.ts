import type { Catalogue } from '../../catalogue';

export default {
  'footer.sentBy': 'Enviado por Blend, el puente entre tu correo y el muro de la empresa.',
  'footer.preferences': 'Preferencias',
  'footer.unsubscribe': 'Darse de baja',
} satisfies Catalogue;
