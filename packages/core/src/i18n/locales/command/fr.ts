import type { Catalogue } from '../../catalogue';

export default {
  optIn: "s'inscrire | m'inscrire | je m'inscris",
  optOut: 'se désinscrire | me désinscrire | désinscription | je me désinscris',
  unsubscribe: 'se désabonner | me désabonner | désabonner | désabonnement',
  help: 'aide | commandes',
  digest: 'résumé | résumés | récapitulatif',
  'digest.hourly': 'toutes les heures | horaire',
  'digest.daily': 'quotidien | chaque jour',
  'digest.weekly': 'hebdomadaire | chaque semaine',
  'digest.off': 'désactivé | aucun | jamais',
  like: "j'aime",
} satisfies Catalogue;
