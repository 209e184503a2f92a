/**
 * Line classifiers for quoted history, forwarded mail and reply boilerplate.
 *
 * Every predicate takes one trimmed line (or a few) and is anchored, so a long
 * hostile line costs one linear scan. Callers skip lines over
 * {@link MARKER_LINE_MAX} before asking: a real attribution or separator is short.
 * The wordings come from the clients' own templates (Gmail, Outlook desktop/web/
 * mobile, Apple Mail/iOS, Thunderbird, K-9/Samsung, Yahoo, HCL Notes, Foxmail).
 */

/** Lines longer than this are body text, never an attribution, separator or header. */
export const MARKER_LINE_MAX = 300;

/**
 * Reply verbs that end an attribution line, in every language we support.
 * German, Dutch and Swedish put the author after the verb ("schrieb Max <…>:"),
 * Notes after "wrote on <date>", Japanese and Chinese use a full-width colon.
 * `\b` only stands next to ASCII letters: it does not see Cyrillic or CJK words.
 */
const VERB_END = new RegExp(
  '(?:\\bwrote(?: on\\b.*)?|\\bschrieb\\b.*|\\bgeschrieben|\\bgeschreven|\\ba écrit|\\bescribió|\\bha scritto|\\bschreef\\b.*' +
    '|\\bescreveu|\\bskrev\\b.*|\\bnapisał(?:\\(a\\)|a)?|\\bpisze|пишет|написал(?:\\(а\\)|а)?' +
    '|\\bkirjoitti|đã viết|пише|написав(?:\\(ла\\)|ла)?|\\bnapsal(?:\\(a\\)|a)?|\\byazdı|írta' +
    '|写道|寫道|さんは書きました|は書きました|のメッセージ|のメール)\\s*[:：]$',
  'i',
);

/** Words an attribution starts with ("On …", "Am …", "Le …", "W dniu …"). */
const LEAD = /^(?:On|Am|Le|El|Il|Op|Em|Den|W dniu|Dnia|在)(?:\s|$)/i;

/** A date, time or address in the line: what tells "On Monday Jane wrote:" apart from prose. */
const EVIDENCE = /@|\d/;

/** Gmail's Japanese and Russian attributions have no verb: "2024年6月3日(月) 10:00 山田 <t@x.jp>:". */
/**
 * Also Gmail's date-first form ("2016-10-24 15:36 GMT+02:00 Jane <jane@x.test>:"), and the
 * address as a plain-text rendering mangles it ("<jane@x.test<mailto:jane@x.test>>", "[mailto:…]").
 */
const DATE_AND_ADDRESS = /\d.*[<[(]\s?(?:mailto:)?[^<>[\]()\s@]+@[^\s]*[>\])]\s*[:：]$/;

/** Apple Mail's Polish attribution puts the verb first: "Wiadomość napisana przez Jan <…> w dniu 15.01.2027, o godz. 08:05:". */
const WRITTEN_BY = /^Wiadomość napisana przez\s.*\d.*[:：]$/i;

/** True when `line` introduces quoted history ("On … wrote:", "Am … schrieb …:", "…写道："). */
export function isAttribution(line: string): boolean {
  if (line.length > MARKER_LINE_MAX) return false;
  if (VERB_END.test(line)) return LEAD.test(line) || EVIDENCE.test(line);
  return DATE_AND_ADDRESS.test(line) || WRITTEN_BY.test(line);
}

/** A clock time ("09:17", "14:00:54"), and a year or an address beside it. */
const CLOCK = /(?<![\d:])\d{1,2}:\d{2}(?::\d{2})?(?![\d:])/;
const YEAR_OR_ADDRESS = /(?<!\d)(?:19|20)\d{2}(?!\d)|\S@[^\s@]+\.\w/;

/**
 * A line that ends in a colon and carries a date stamp (a clock time with a year or an
 * address): the shape of an attribution whatever its wording, such as sup's "Excerpts from
 * Jane's message of Thu Nov 26 09:17:15 +0100 2009:" or a Gnus/supercite lead-in. Only
 * trusted directly above a `>` quote, which is the rest of the evidence.
 */
export function isDatedLeadIn(line: string): boolean {
  return line.length <= MARKER_LINE_MAX && /[:：]$/.test(line) && CLOCK.test(line) && YEAR_OR_ADDRESS.test(line);
}

/** The line opens like an attribution ("On …", "Am …"): the first half of a wrapped one. */
export function startsLikeAttribution(line: string): boolean {
  return LEAD.test(line);
}

/**
 * The verb alone ("Jane wrote:"). Only trusted directly above a trailing `>`
 * block, where the quote itself is the evidence.
 */
export function isWeakAttribution(line: string): boolean {
  return line.length <= MARKER_LINE_MAX && (VERB_END.test(line) || DATE_AND_ADDRESS.test(line));
}

const FORWARD_CAPTIONS =
  'Forwarded message|Forwarded e-?mail|Weitergeleitete Nachricht|Message transféré|Mensaje reenviado|Messaggio inoltrato' +
  '|Doorgestuurd bericht|Mensagem encaminhada|Mensagem reencaminhada|Vidarebefordrat meddelande|Wiadomość przekazana' +
  '|Przekazana wiadomość|Пересланное сообщение|转发的邮件|轉寄的郵件|転送されたメッセージ';

const ORIGINAL_CAPTIONS =
  "Original Message|Ursprüngliche Nachricht|Original-Nachricht|Original Nachricht|Originalnachricht|Message d'origine|Message original" +
  '|Mensaje original|Messaggio originale|Oorspronkelijk bericht|Origineel bericht|Mensagem original|Ursprungligt meddelande' +
  '|Originalmeddelande|Oryginalna wiadomość|Wiadomość oryginalna|Исходное сообщение|原始邮件|原始郵件|原始信件|元のメッセージ|Reply message';

/** Dashes (or underscores, Foxmail uses no-break spaces) around a caption. */
const caption = (words: string) => new RegExp(`^[-_=*]{2,}\\s*(?:${words})\\s*[-_=*]{2,}$`, 'i');

const FORWARD_CAPTION = caption(FORWARD_CAPTIONS);
const ORIGINAL_CAPTION = caption(ORIGINAL_CAPTIONS);

/** Apple Mail's "Begin forwarded message:" in its localisations, and Notes' "Forwarded by". */
const FORWARD_INTRO = new RegExp(
  '^(?:Begin forwarded message|Anfang der weitergeleiteten Nachricht|Début du message (?:réexpédié|transféré)' +
    '|Inicio del mensaje reenviado|Inizio messaggio inoltrato|Begin doorgestuurd bericht' +
    '|Início da mensagem (?:reencaminhada|encaminhada)|Vidarebefordrat mejl|Początek przekazywanej wiadomości' +
    '|以下为转发的邮件|开始转发的邮件|開始轉寄的郵件|転送メッセージ)\\s*[:：]$' +
    '|^-{3,}\\s*(?:Forwarded by|Weitergeleitet von|Transféré par)\\b.*-{3,}$',
  'i',
);

/** Notes' "-----Jane Doe/ACME wrote: -----" header above quoted history. */
const NOTES_WROTE = /^-{3,}.{1,200}\b(?:wrote|schrieb|a écrit)\s*:?\s*-{3,}$/i;

/** A separator that starts a forwarded message, whatever the subject says. */
export function isForwardSeparator(line: string): boolean {
  return line.length <= MARKER_LINE_MAX && (FORWARD_CAPTION.test(line) || FORWARD_INTRO.test(line));
}

/** Any separator before quoted or forwarded mail ("-----Original Message-----", Gmail, Apple, Notes). */
/**
 * HCL Notes 9's one-line summary above a quoted memo: "Name---01/15/2027 08:05:00 AM---first
 * words of the memo" (the date as the Notes client's locale writes it).
 */
const NOTES_SUMMARY = /^[^\n-][^\n]{0,79}?---\d{1,4}[./-]\d{1,2}[./-]\d{1,4}\s+\d{1,2}[:.]\d{2}(?:[:.]\d{2})?(?:\s*[AP]M)?---/i;

export function isSeparator(line: string): boolean {
  if (line.length > MARKER_LINE_MAX) return false;
  return isForwardSeparator(line) || ORIGINAL_CAPTION.test(line) || NOTES_WROTE.test(line) || NOTES_SUMMARY.test(line);
}

/**
 * Helpdesk and ticket systems' reply markers (GLPI, Zendesk, Jira, OTRS…): the reply goes above
 * "write above this line"; GLPI also takes text under a closing "write under this line".
 */
const REPLY_ABOVE = /\b(?:write|reply|respond|answer|type your (?:reply|response))\b.{0,40}\babove (?:this|the) line\b|\bdo not (?:write|reply|type) below (?:this|the) line\b|oberhalb dieser (?:Linie|Zeile)|au-dessus de cette ligne/i;
const REPLY_BELOW = /\b(?:write|reply|answer)\b.{0,40}\b(?:under|below) (?:this|the) line\b/i;

/** A ticket system's "reply above this line" marker. */
export function isReplyAboveMarker(line: string): boolean {
  return line.length <= 200 && REPLY_ABOVE.test(line);
}

/** GLPI's closing "write under this line" marker: the author's text may go on below it. */
export function isReplyBelowMarker(line: string): boolean {
  return line.length <= 200 && !/\bdo not\b/i.test(line) && REPLY_BELOW.test(line);
}

/** An image placeholder a client leaves in the text part: "[cid:image001.png@01D2…]", "[image: Logo]". */
const IMAGE_PLACEHOLDER = /^\[(?:cid:|image:?|Image|Logo|Bild|Grafik)[^\]]{0,200}\]$/i;

/** True for an image placeholder line (see {@link IMAGE_PLACEHOLDER}). */
export function isImagePlaceholder(line: string): boolean {
  return IMAGE_PLACEHOLDER.test(line);
}

/** A divider or artifact line: only dashes, underscores, equals signs, stars, dots or bullets. */
export function isDividerLine(line: string): boolean {
  return line.length >= 2 && line.length <= MARKER_LINE_MAX && /^[-_=*~#.•·+\s]+$/.test(line) && !/^--\s?$/.test(line);
}

/** Outlook's rule above its header block. */
export const UNDERSCORES = /^_{10,}$/;

const FROM_LABELS =
  'From|Von|De|Van|Da|Od|Fra|Från|Lähettäjä|От|Від|Từ|Kimden|差出人|发件人|發件人|寄件者|寄件人';
const SENT_LABELS =
  "Sent|Date|Gesendet|Datum|Envoyé|Date d'envoi|Enviado el|Enviado|Enviada|Enviada em|Fecha|Inviato|Data|Verzonden|Skickat|Sendt" +
  '|Wysłano|Wysłane|Data wysłania|Lähetetty|Päivämäärä|Отправлено|Надіслано|Дата|Đã gửi|Ngày|Odesláno|Gönderildi|Tarih' +
  '|送信日時|日付|发送时间|發送時間|时间|日期|寄件日期|傳送時間';

/**
 * Outlook header-block field names, optionally bold in plain text ("*From:*").
 * French puts a (no-break) space before the colon; CJK uses a full-width colon
 * with no space after it.
 */
export const HEADER_FROM = new RegExp(`^\\*?(?:${FROM_LABELS})\\s*[:：]\\*?(?:\\s|$|(?<=：))`, 'i');
export const HEADER_SENT = new RegExp(`^\\*?(?:${SENT_LABELS})\\s*[:：]\\*?(?:\\s|$|(?<=：))`, 'i');

/** Forwarded-header field labels, mapped to the field they fill. */
export const HEADER_FIELDS: readonly [field: 'from' | 'date' | 'subject' | 'to', labels: RegExp][] = [
  ['from', new RegExp(`^\\*?(?:${FROM_LABELS})\\s*[:：]\\*?\\s*`, 'i')],
  ['date', new RegExp(`^\\*?(?:${SENT_LABELS})\\s*[:：]\\*?\\s*`, 'i')],
  [
    'subject',
    /^\*?(?:Subject|Betreff|Objet|Sujet|Asunto|Oggetto|Onderwerp|Assunto|Ämne|Emne|Temat|Aihe|Тема|Chủ đề|Předmět|Konu|件名|主题|主旨|主題)\s*[:：]\*?\s*/i,
  ],
  [
    'to',
    /^\*?(?:To|Cc|An|Kopie|À|Pour|Para|A|Aan|Till|Til|Kopi|Kopia|Do|DW|Kenelle|Vastaanottaja|Kopio|Кому|Копия|Копія|Đến|Tới|Komu|Kime|宛先|收件人|收件者|抄送|副本)\s*[:：]\*?\s*/i,
  ],
];

/**
 * Mobile and webmail footers that carry nothing of the author's, dropped only
 * at the end of the text.
 */
export const FOOTER = new RegExp(
  '^(?:Sent (?:from|with|via|using) \\S|Get (?:Outlook|TypeApp|BlueMail|Spark) for |Von meinem .*gesendet' +
    '|Gesendet (?:von|vom|mit|über) \\S|Holen Sie sich Outlook für |Envoyé (?:de|depuis|avec|à partir de) \\S' +
    '|Télécharger Outlook pour |Obtenir Outlook pour |Enviado (?:desde|con|do|de|pelo|via) \\S' +
    '|Obtener Outlook para |Inviato da(?:l mio)? |Scarica Outlook per |(?:Verzonden|Verstuurd) (?:vanaf|met|van) |Download Outlook voor ' +
    '|Skickat från \\S|Hämta Outlook för |Sendt fra \\S|Hent Outlook til |Wysłane z \\S|Wysłano z \\S|Pobierz Outlook dla ' +
    '|Lähetetty (?:iPhonesta|iPadista|Outlook|Samsung|Android|Huawei|Galaxy|mobiilista|puhelimesta)|Odesláno z ' +
    '|(?:Được )?[Gg]ửi từ |Отправлено (?:с|из) |Надіслано (?:з|із) ' +
    '|iPhoneから送信|iPadから送信|Androidから送信|从我的\\S+发送|發自我的 ?\\S+|来自我的\\S+|寄件者為我的)',
  'i',
);

/** A footer line: short, and one of {@link FOOTER}. */
export function isFooter(line: string): boolean {
  return line.length <= 120 && FOOTER.test(line);
}

const CLOSINGS =
  'best regards|kind regards|warm regards|warmest regards|many regards|regards|best wishes|all the best|many thanks|thanks again' +
  '|thanks|thank you|cheers|best|sincerely|yours sincerely|yours truly|respectfully|br|rgds|brgds' +
  '|mit freundlichen grüßen|mit freundlichen grüssen|freundliche grüße|freundliche grüsse|viele grüße|viele grüsse|beste grüße' +
  '|liebe grüße|herzliche grüße|schöne grüße|grüße|gruß|lg|vg|mfg|danke|vielen dank|besten dank' +
  '|mit freundlichen gruessen|freundliche gruesse|viele gruesse|beste gruesse|liebe gruesse|gruesse|gruss' +
  '|cordialement|bien cordialement|bien à vous|salutations|meilleures salutations|sincères salutations|merci|amicalement|bises' +
  '|bonne journée|bonne soirée|belle journée|excellente journée' +
  '|saludos|un saludo|saludos cordiales|atentamente|cordialmente|gracias|muchas gracias|un abrazo' +
  '|cordiali saluti|distinti saluti|saluti|un saluto|grazie|grazie mille' +
  '|atenciosamente|cumprimentos|melhores cumprimentos|abraços|abraço|obrigado|obrigada|att|abs' +
  '|met vriendelijke groet|met vriendelijke groeten|vriendelijke groet|vriendelijke groeten|hartelijke groet|hartelijke groeten|groeten|groet|mvg|bedankt' +
  '|med vänliga hälsningar|vänliga hälsningar|hälsningar|mvh|tack' +
  '|pozdrawiam|serdecznie pozdrawiam|pozdrawiam serdecznie|z poważaniem|pozdrowienia|dziękuję' +
  '|с уважением|спасибо|всего доброго' +
  '|(?:以上、?)?(?:よろしくお願いします|よろしくお願いいたします|よろしくお願い致します|宜しくお願いします|宜しくお願い致します)' +
  '|此致敬礼|此致|敬礼|祝好|谢谢|謝謝|顺祝商祺|順祝商祺|敬祝\\s*商祺|顺颂商祺|順頌商祺|敬上';

const CLOSING = new RegExp(`^(?:${CLOSINGS})\\s*[,.!、。，！]*$`, 'iu');
const CLOSING_WITH_NAME = new RegExp(`^(?:${CLOSINGS})\\s*[,，]\\s*(.{1,60})$`, 'iu');
/** Capitalised words: the "Jane" in "Thanks, Jane" (case-sensitive on purpose). */
const NAME = /^\p{Lu}[\p{L}.'’-]*(?:\s\p{Lu}[\p{L}.'’-]*){0,3}$/u;

/** A sign-off such as "Best regards,", "Mit freundlichen Grüßen" or "Thanks, Jane". */
export function isClosing(line: string): boolean {
  return line.length <= 80 && (CLOSING.test(line) || isClosingWithName(line));
}

/** A sign-off and the author's name on one line: "Thanks, Jane", "Cheers, Bob Smith". */
export function isClosingWithName(line: string): boolean {
  if (line.length > 80) return false;
  const name = CLOSING_WITH_NAME.exec(line)?.[1];
  return name !== undefined && NAME.test(name.trim());
}

const PHONE = /(?:^|[\s:(])(?:\+|00)\d[\d\s()./-]{6,}\d|\b(?:tel|phone|mobile|mob|cell|fax|telefon|tél|handy|móvil|cel|tfn|tlf|puh|gsm|direct|office|direkt|mobil|telefono|telefone|telefoon|kom)\b\.?\s*[:.]?\s*\+?[\d(]|(?:^|\s)(?:Тел|Моб|Факс|電話|电话|手机|携帯|FAX)\.?\s*[:.：]?\s*\+?[\d(]|^[TMFPD]\s?[:.]?\s*\+?[\d(][\d\s()./-]{6,}\d$/i;
/** A line that is only a phone number in national form: "030 1234 5678", "(617) 555-0142". */
const BARE_PHONE = /^\+?\(?\d[\d\s()./-]{5,18}\d$/;
const WEB_OR_MAIL = /\bwww\.|https?:\/\/|\S@\S+\.\S|^(?:skype|linkedin|twitter|xing|wechat|weixin|qq|whatsapp|teams|signal)\s*[:：]/i;

/**
 * A company name: a short line ending in a legal form ("ACME GmbH", "Northwind Logistics Inc.",
 * "Janssen Logistiek B.V.", "Zielińska Logistyka Sp. z o.o.") or opening with one (株式会社, ООО).
 */
const COMPANY =
  /^[^.!?]{1,50}\s(?:GmbH(?: & Co\. KG)?|AG|KG|SE|e\.V\.|Inc\.?|LLC|Ltd\.?|Limited|plc|Corp\.?|Co\.|S\.A\.?|SAS|SARL|S\.L\.|S\.r\.l\.|S\.p\.A\.|B\.V\.|N\.V\.|AB|ASA|A\/S|Oy|Ltda\.?|Sp\. z o\.o\.|S\.A\.|s\.r\.o\.)$|^(?:株式会社|有限会社|ООО|АО|ПАО|ТОВ)\s?\S|(?:株式会社|有限公司|股份有限公司)$/u;

function isBarePhone(line: string): boolean {
  if (!BARE_PHONE.test(line)) return false;
  const digits = line.replace(/\D/g, '').length;
  // Seven to fifteen digits (ITU-T E.164), and not a date or an amount ("24.11.2026", "1.234.567").
  return digits >= 7 && digits <= 15 && !/^\d{1,2}[./-]\d{1,2}[./-]\d{2,4}$/.test(line) && !/^\d{1,3}(?:[.,]\d{3})+$/.test(line);
}

/** A line of a contact block: phone, fax, web or mail address, company, or "Name | Title | Company". */
export function isContactLine(line: string): boolean {
  return (
    line.length <= 100 &&
    (PHONE.test(line) || isBarePhone(line) || WEB_OR_MAIL.test(line) || (line.includes(' | ') && line.length <= 80) || (line.length <= 60 && COMPANY.test(line)))
  );
}

/**
 * Built-in legal-disclaimer phrases. Matched against a whole paragraph joined
 * into one line, and only for trailing paragraphs, so a sentence that merely
 * mentions confidentiality in the middle of a reply is never cut.
 */
const DISCLAIMERS: readonly RegExp[] = [
  /\b(?:this|the) (?:e-?mail|message|communication|transmission)\b[^.]{0,150}\b(?:confidential|privileged|intended (?:solely|only) for)/i,
  /\bif you (?:are not|have received this)\b[^.]{0,100}\b(?:intended recipient|in error)/i,
  /^(?:confidentiality notice|disclaimer|legal notice|important notice)\b/i,
  /\bplease consider the environment before printing\b/i,
  /\bthe information (?:contained )?in this (?:e-?mail|message)\b/i,
  /\bdiese (?:e-?mail|nachricht)\b[^.]{0,150}\bvertraulich/i,
  /\bwenn sie nicht der (?:richtige|beabsichtigte|vorgesehene) (?:adressat|empfänger)/i,
  /\b(?:falls|sollten) sie diese (?:e-?mail|nachricht) (?:irrtümlich|versehentlich|fälschlicherweise)/i,
  /\bbitte denken sie an die umwelt/i,
  /\b(?:Sitz der Gesellschaft|Registergericht|Amtsgericht)\b.*\b(?:HRB|HRA|Geschäftsführ)/i,
  /\bce (?:message|courriel|mail|e-mail)\b[^.]{0,150}\bconfidenti/i,
  /\bsi vous (?:n'êtes pas|n’êtes pas|avez reçu ce)\b[^.]{0,100}\b(?:destinataire|par erreur)/i,
  /\beste (?:mensaje|correo(?: electrónico)?|e-?mail)\b[^.]{0,150}\bconfidencial/i,
  /\bsi (?:usted )?(?:no es|ha recibido este)\b[^.]{0,100}\b(?:destinatario|por error)/i,
  /\bquest[oa] (?:messaggio|e-?mail|comunicazione)\b[^.]{0,150}\b(?:riservat|confidenzial)/i,
  /\bdit (?:e-?mail)?bericht\b[^.]{0,150}\bvertrouwelijk/i,
  /\bindien u niet de (?:beoogde )?(?:geadresseerde|ontvanger)/i,
  /\besta (?:mensagem|e-?mail)\b[^.]{0,150}\bconfiden/i,
  /\bdetta (?:e-?post(?:meddelande)?|meddelande|mejl)\b[^.]{0,150}\bkonfidentiell/i,
  // \b is ASCII-only in JavaScript: it never sees the end of "wiadomość".
  /(?<!\p{L})ta wiadomość(?!\p{L})[^.]{0,150}(?:poufn|zastrzeżon)/iu,
  /\b(?:denne|dette) (?:e-?mail|e-?post|meddelelse|melding)\b[^.]{0,150}\bfortrolig/i,
  /\btämä (?:sähköposti(?:viesti)?|viesti)\b[^.]{0,150}\bluottamuksellinen/i,
  /\btento (?:e-?mail|email)\b[^.]{0,150}\bdůvěrn/i,
  /(?<!\p{L})(?:это|данное) (?:сообщение|письмо)(?!\p{L})[^.]{0,150}конфиденциальн/iu,
  /(?<!\p{L})(?:це|цей|даний) (?:повідомлення|лист)(?!\p{L})[^.]{0,150}конфіденційн/iu,
  /この(?:電子)?メール.{0,60}(?:機密|秘密)/,
  /(?:此|本)(?:电子|電子)?(?:邮件|郵件).{0,60}(?:保密|机密|機密)/,
];

/**
 * {@link DISCLAIMERS} joined into one alternation per set of flags (three): one scan of the
 * paragraph finds a match of any of them, where testing them one by one scans it 27 times.
 */
const DISCLAIMER_SCAN: readonly RegExp[] = (() => {
  const byFlags = new Map<string, string[]>();
  for (const re of DISCLAIMERS) byFlags.set(re.flags, [...(byFlags.get(re.flags) ?? []), `(?:${re.source})`]);
  return [...byFlags].map(([flags, sources]) => new RegExp(sources.join('|'), flags));
})();

/** Longest paragraph text a disclaimer pattern is run on (characters). */
const DISCLAIMER_SCAN_MAX = 4_000;

/** True when the paragraph text is a legal disclaimer, built-in or configured. */
export function isDisclaimer(paragraph: string, extra: readonly RegExp[] = []): boolean {
  const s = paragraph.slice(0, DISCLAIMER_SCAN_MAX);
  return DISCLAIMER_SCAN.some((re) => re.test(s)) || extra.some((re) => re.test(s));
}

/** Copies operator patterns without `g`/`y`, whose `lastIndex` would make `test` stateful. */
export function statelessPatterns(patterns: readonly RegExp[] | undefined): RegExp[] {
  return (patterns ?? []).map((re) => (re.global || re.sticky ? new RegExp(re.source, re.flags.replace(/[gy]/g, '')) : re));
}

/**
 * Leftovers that suggest quoted history we did not recognise: a caption between
 * dashes in a language we do not know, or an attribution-like line ending in an
 * address and a colon. They lower the trimmer's confidence (docs/SECURITY.md B12, B21).
 */
export function looksLikeUnknownMarker(line: string): boolean {
  if (line.length > MARKER_LINE_MAX) return false;
  return (
    /^[-_=]{3,}\s*\S.{0,60}\S\s*[-_=]{3,}$/.test(line) ||
    /[<(]?[^\s<>()@]+@[^\s<>()]+[>)]?\s*[:：]$/.test(line) ||
    /<[^\s<>@]+@[^\s<>]+>.{0,60}[:：]$/.test(line)
  );
}
