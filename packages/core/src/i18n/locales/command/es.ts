import type { Catalogue } from '../../catalogue';

export default {
  optIn: 'suscribirse | suscribirme | darse de alta | darme de alta',
  optOut: 'darse de baja | darme de baja',
  unsubscribe: 'cancelar suscripción | anular suscripción | desuscribirse | desuscribirme | baja',
  help: 'ayuda | comandos',
  digest: 'resumen | resúmenes',
  'digest.hourly': 'cada hora | por hora',
  'digest.daily': 'diario | cada día',
  'digest.weekly': 'semanal | cada semana',
  'digest.off': 'desactivado | ninguno | nunca',
  like: 'me gusta',
} satisfies Catalogue;
