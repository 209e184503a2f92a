import type { Catalogue, Namespace } from '../catalogue';
import type { Language } from '../languages';
import commandDe from './command/de';
import commandEn from './command/en';
import commandEs from './command/es';
import commandFr from './command/fr';
import commandJa from './command/ja';
import mailDe from './mail/de';
import mailEn from './mail/en';
import mailEs from './mail/es';
import mailFr from './mail/fr';
import mailJa from './mail/ja';
import webDe from './web/de';
import webEn from './web/en';
import webEs from './web/es';
import webFr from './web/fr';
import webJa from './web/ja';

/** Every bundled catalogue, by language and namespace. */
export const CATALOGUES: Readonly<Record<Language, Readonly<Record<Namespace, Catalogue>>>> = {
  en: { mail: mailEn, web: webEn, command: commandEn },
  de: { mail: mailDe, web: webDe, command: commandDe },
  fr: { mail: mailFr, web: webFr, command: commandFr },
  es: { mail: mailEs, web: webEs, command: commandEs },
  ja: { mail: mailJa, web: webJa, command: commandJa },
};
